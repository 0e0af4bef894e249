/*
 * One table generation: the complete forwarding configuration that xvs-control builds and
 * xvs-dataplane adopts. Types only. Written by control (single writer) into an inactive
 * shared-memory slot; the dataplane copies it out, validates the copy (xvs_gen_validate)
 * and only then lets workers read it. Nothing in here is trusted before validation.
 *
 * Services and destinations live in stable slots: a slot index never changes while the
 * object exists, so connections and statistics can refer to it across generations.
 */
#ifndef XVS_TABLE_H
#define XVS_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#ifndef XVS_MAX_SVCS
#define XVS_MAX_SVCS 1024
#endif
#ifndef XVS_MAX_DESTS
#define XVS_MAX_DESTS 8192
#endif
/* Firewall-mark rules a generation holds, evaluated in order (xvs's stand-in for iptables MARK). */
#ifndef XVS_MAX_MARKS
#define XVS_MAX_MARKS 256
#endif
/* Open-addressing VIP lookup table, a power of two at least 2 * XVS_MAX_SVCS. */
#define XVS_VIP_HASH_SIZE (4 * XVS_MAX_SVCS)

/*
 * Lookup tables of the table schedulers (sh, dh: 256 buckets; mh: the Maglev table, 65537 by
 * default) share one pool in the generation, so its size stays fixed whatever the
 * configuration: 2^21 entries (4 MiB) hold 31 Maglev tables of 65537 entries, or 3 of 655373.
 * Control refuses a configuration that needs more (ENOSPC).
 */
#ifndef XVS_SCHED_TAB_POOL
#define XVS_SCHED_TAB_POOL (1u << 21)
#endif
#define XVS_SCHED_TAB_NONE 0xffff /* a table entry that names no destination */

#define XVS_GEN_MAGIC 0x4e45475356580004ULL /* "XVSGEN" + layout 4 */

/* Slot states. */
#define XVS_SLOT_FREE  0
#define XVS_SLOT_USED  1 /* live */
#define XVS_SLOT_TRASH 2 /* deleted destination kept for its connections */

/* Forwarding methods, IPVS's values (IP_VS_CONN_F_*). */
#define XVS_FWD_MASQ   0
#define XVS_FWD_LOCAL  1
#define XVS_FWD_TUNNEL 2
#define XVS_FWD_DROUTE 3

/* Tunnel types (dest tun_type) and checksum modes (dest tun_flags), IPVS's values. */
#define XVS_TUN_TYPE_IPIP 0
#define XVS_TUN_TYPE_GUE  1
#define XVS_TUN_TYPE_GRE  2
#define XVS_TUN_F_NOCSUM  0
#define XVS_TUN_F_CSUM    1
#define XVS_TUN_F_REMCSUM 2

/* Bounds a generation's fields are checked against (xvs_gen_validate): what ipvsadm accepts,
 * and what the dataplane's arithmetic relies on (wlc and friends multiply 16-bit weights). */
#define XVS_MAX_WEIGHT  65535
#define XVS_MAX_THRESH  0x7fffffffu
#define XVS_MAX_TIMEOUT 2678400u /* 31 days, ipvsadm's limit, for timeouts and -p */

/* Service flags (IP_VS_SVC_F_*). */
#define XVS_SVC_F_PERSISTENT 0x0001
#define XVS_SVC_F_HASHED     0x0002
#define XVS_SVC_F_ONEPACKET  0x0004
#define XVS_SVC_F_SCHED1     0x0008
#define XVS_SVC_F_SCHED2     0x0010
#define XVS_SVC_F_SCHED3     0x0020
#define XVS_SVC_F_ALL        0x003f

/*
 * Scheduler data that control computes and the dataplane half reads; each scheduler gives it
 * its own meaning (sched/xvs_sched_<name>.c) and checks it (its ops' check).
 */
union xvs_sched_data {
	struct {
		uint32_t off;  /* first entry in g->sched_tab[] */
		uint32_t size; /* entries */
	} tab;                 /* table schedulers: entries are positions in the service's list */
	int32_t i32[8];
	uint8_t raw[32];
};

struct xvs_svc {
	uint8_t state;    /* XVS_SLOT_* */
	uint8_t af;       /* XVS_AF_* */
	uint8_t proto;    /* XVS_PROTO_* */
	uint8_t sched;    /* enum xvs_sched_id (xvs/sched.h) */
	uint16_t port_be; /* virtual port, network order */
	uint16_t flags;   /* XVS_SVC_F_* */
	union xvs_ip addr;
	uint32_t persist_timeout; /* seconds, when XVS_SVC_F_PERSISTENT */
	uint32_t netmask;         /* IPv4 mask (network order) or IPv6 prefix length */
	uint16_t dest_first;      /* first entry of this service's list in svc_dests[] */
	uint16_t nb_dests;        /* live destinations in scheduling order (IPVS's: newest first) */
	uint32_t sched_epoch;     /* changes whenever the destinations or their settings change */
	uint32_t sched_bind;      /* changes when the scheduler is bound afresh (new service,
				   * another scheduler): workers drop their state */
	union xvs_sched_data sd;
	uint32_t fwmark;          /* > 0: a firewall-mark service (proto 0, no address or port,
				   * not in the VIP hash; packets reach it through g->marks) */
	uint32_t pad;
};

struct xvs_dest {
	uint8_t state;    /* XVS_SLOT_* */
	uint8_t af;       /* XVS_AF_* */
	uint8_t fwd;      /* XVS_FWD_* */
	uint8_t tun_type; /* XVS_TUN_TYPE_* */
	uint16_t port_be; /* real-server port, network order */
	uint16_t svc;     /* owning service slot */
	int32_t weight;   /* 0 = quiescent */
	int32_t last_weight; /* the last weight > 0 set by an edit, or the weight it was added
			      * with (IPVS's last_weight; mh keeps quiesced servers in its table) */
	uint32_t u_thresh;
	uint32_t l_thresh;
	uint16_t tun_port_be; /* GUE destination port, network order */
	uint16_t tun_flags;   /* XVS_TUN_F_* */
	union xvs_ip addr;
};

/*
 * A mark rule: a packet of family af, protocol proto (0: TCP or UDP) to an address in
 * prefix/mask and a destination port in [port_lo, port_hi] gets mark `mark`; the first rule
 * that matches decides. svc is the slot + 1 of the firewall-mark service for (mark, af), or 0
 * when there is none (the packet then goes on as one for no service).
 */
struct xvs_mark_rule {
	uint8_t af;        /* XVS_AF_* */
	uint8_t proto;     /* 0 (TCP and UDP), XVS_PROTO_TCP or XVS_PROTO_UDP */
	uint8_t plen;      /* prefix length */
	uint8_t pad;
	uint16_t port_lo;  /* host order, inclusive */
	uint16_t port_hi;
	uint32_t mark;     /* > 0 */
	uint16_t svc;      /* service slot + 1, 0 = no fwmark service with this mark */
	uint16_t pad2;
	union xvs_ip prefix; /* masked */
	union xvs_ip mask;   /* plen leading one bits (IPv4: in v4, the rest zero) */
};

/* Connection timeouts in seconds (IPVS: tcp 900, tcpfin 120, udp 300). */
struct xvs_timeouts {
	uint32_t tcp;
	uint32_t tcpfin;
	uint32_t udp;
};

/*
 * A connection-sync daemon (IPVS's --start-daemon; docs/dataplane.md, "Connection
 * synchronisation"): sync[XVS_SYNC_MASTER] sends this node's connections, sync[XVS_SYNC_BACKUP]
 * takes in those of others. Both may run at once. All zero when off.
 */
#define XVS_SYNC_MASTER 0
#define XVS_SYNC_BACKUP 1
#define XVS_SYNC_IFNAMSIZ 16
struct xvs_sync_daemon {
	uint8_t on;       /* 1: running */
	uint8_t syncid;   /* 0..255; a backup with 0 takes every syncid */
	uint8_t ttl;      /* multicast TTL (hop limit), 1..255 */
	uint8_t group_af; /* XVS_AF_INET or XVS_AF_INET6 */
	uint16_t port;    /* UDP port, host order, > 0 */
	uint16_t maxlen;  /* message size limit in bytes (IPVS's sync_maxlen) */
	char ifname[XVS_SYNC_IFNAMSIZ]; /* the kernel interface, NUL-terminated, not empty */
	union xvs_ip group; /* multicast group */
};

struct xvs_gen {
	uint64_t magic;     /* XVS_GEN_MAGIC */
	uint64_t gen;       /* generation number, > 0, increasing */
	uint32_t crc;       /* zlib crc32 of the body (xvs_gen_crc_len bytes after this header) */
	uint32_t nb_svcs;   /* slots [0, nb_svcs) may be used */
	uint32_t nb_dests;  /* slots [0, nb_dests) may be used */
	uint32_t nb_svc_dests;
	struct xvs_timeouts timeouts;
	uint32_t sched_registry; /* xvs_sched_registry_id() of the writer (set by xvs_gen_seal) */
	/* --- covered by crc from here (to the used end of sched_tab: xvs_gen_crc_len) --- */
	uint16_t vip_hash[XVS_VIP_HASH_SIZE]; /* 0 = empty, else service slot + 1 */
	struct xvs_svc svcs[XVS_MAX_SVCS];
	struct xvs_dest dests[XVS_MAX_DESTS];
	uint16_t svc_dests[XVS_MAX_DESTS]; /* per-service ordered destination slots */
	uint32_t nb_marks;                  /* rules of marks[] in use, in order */
	uint32_t pad;
	struct xvs_mark_rule marks[XVS_MAX_MARKS];
	struct xvs_sync_daemon sync[2];     /* XVS_SYNC_MASTER, XVS_SYNC_BACKUP */
	uint32_t nb_sched_tab;              /* entries of sched_tab[] in use */
	uint32_t pad2;
	uint16_t sched_tab[XVS_SCHED_TAB_POOL]; /* scheduler lookup tables (svc->sd.tab) */
};

#define XVS_GEN_BODY_OFF offsetof(struct xvs_gen, vip_hash)

#endif
