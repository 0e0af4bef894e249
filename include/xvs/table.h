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
/* Open-addressing VIP lookup table, a power of two at least 2 * XVS_MAX_SVCS. */
#define XVS_VIP_HASH_SIZE (4 * XVS_MAX_SVCS)

#define XVS_GEN_MAGIC 0x4e45475356580001ULL /* "XVSGEN" + layout 1 */

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

/* Scheduler ids; the names live with each scheduler (sched/xvs_sched_*.c). */
enum xvs_sched_id {
	XVS_SCHED_RR = 1,
	XVS_SCHED_WRR = 2,
	XVS_SCHED_LC = 3,
	XVS_SCHED_WLC = 4,
	XVS_SCHED_MAX
};

/* Service flags (IP_VS_SVC_F_*). */
#define XVS_SVC_F_PERSISTENT 0x0001
#define XVS_SVC_F_HASHED     0x0002
#define XVS_SVC_F_ONEPACKET  0x0004
#define XVS_SVC_F_SCHED1     0x0008
#define XVS_SVC_F_SCHED2     0x0010
#define XVS_SVC_F_SCHED3     0x0020

/* Scheduler data that control computes and the dataplane half reads. */
union xvs_sched_data {
	struct {
		int32_t mw; /* largest weight */
		int32_t di; /* gcd of the positive weights */
	} wrr;
	uint8_t raw[32];
};

struct xvs_svc {
	uint8_t state;    /* XVS_SLOT_* */
	uint8_t af;       /* XVS_AF_* */
	uint8_t proto;    /* XVS_PROTO_* */
	uint8_t sched;    /* enum xvs_sched_id */
	uint16_t port_be; /* virtual port, network order */
	uint16_t flags;   /* XVS_SVC_F_* */
	union xvs_ip addr;
	uint32_t persist_timeout; /* seconds, when XVS_SVC_F_PERSISTENT */
	uint32_t netmask;         /* IPv4 mask (network order) or IPv6 prefix length */
	uint16_t dest_first;      /* first entry of this service's list in svc_dests[] */
	uint16_t nb_dests;        /* live destinations in scheduling order */
	uint32_t sched_epoch;     /* bumped by control whenever scheduler state must reset */
	union xvs_sched_data sd;
};

struct xvs_dest {
	uint8_t state;    /* XVS_SLOT_* */
	uint8_t af;       /* XVS_AF_* */
	uint8_t fwd;      /* XVS_FWD_* */
	uint8_t tun_type; /* XVS_TUN_TYPE_* */
	uint16_t port_be; /* real-server port, network order */
	uint16_t svc;     /* owning service slot */
	int32_t weight;   /* 0 = quiescent */
	uint32_t u_thresh;
	uint32_t l_thresh;
	uint16_t tun_port_be; /* GUE destination port, network order */
	uint16_t tun_flags;   /* XVS_TUN_F_* */
	union xvs_ip addr;
};

/* Connection timeouts in seconds (IPVS: tcp 900, tcpfin 120, udp 300). */
struct xvs_timeouts {
	uint32_t tcp;
	uint32_t tcpfin;
	uint32_t udp;
};

struct xvs_gen {
	uint64_t magic;     /* XVS_GEN_MAGIC */
	uint64_t gen;       /* generation number, > 0, increasing */
	uint32_t crc;       /* zlib crc32 of everything after this header */
	uint32_t nb_svcs;   /* slots [0, nb_svcs) may be used */
	uint32_t nb_dests;  /* slots [0, nb_dests) may be used */
	uint32_t nb_svc_dests;
	struct xvs_timeouts timeouts;
	uint32_t pad;
	/* --- covered by crc from here --- */
	uint16_t vip_hash[XVS_VIP_HASH_SIZE]; /* 0 = empty, else service slot + 1 */
	struct xvs_svc svcs[XVS_MAX_SVCS];
	struct xvs_dest dests[XVS_MAX_DESTS];
	uint16_t svc_dests[XVS_MAX_DESTS]; /* per-service ordered destination slots */
};

#define XVS_GEN_BODY_OFF offsetof(struct xvs_gen, vip_hash)

#endif
