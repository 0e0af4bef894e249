/*
 * The dataplane's process-wide context and per-worker state. Built by main() at start-up
 * (dp_config, dp_port), then read-only for the workers, except for the lock-free neighbour
 * table, the generation hand-over (dp_adopt) and each worker's own counters.
 */
#ifndef XVS_DP_H
#define XVS_DP_H

#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dp_adopt.h"
#include "dp_conn.h"
#include "dp_neigh.h"
#include "dp_route.h"
#include "dp_steer.h"
#include "xvs/sched.h"
#include "xvs/shm.h"

#ifndef XVS_MAX_PORTS
#define XVS_MAX_PORTS 8
#endif
#define XVS_MAX_PORT_ADDRS 8
#define XVS_BURST 32

struct xvs_port {
	char name[32];
	char dev[512];          /* vdev spec or PCI address */
	uint16_t port_id;       /* DPDK port id */
	struct rte_ether_addr mac;
	int mac_set;            /* mac given in the config */
	uint32_t addr[XVS_MAX_PORT_ADDRS];  /* network order */
	uint8_t plen[XVS_MAX_PORT_ADDRS];
	unsigned nb_addrs;
	union xvs_ip addr6[XVS_MAX_PORT_ADDRS];
	uint8_t plen6[XVS_MAX_PORT_ADDRS];
	unsigned nb_addrs6;
	uint16_t rxq_size;
	uint16_t txq_size;
	int node;               /* NUMA node from sysfs (PCI device or kernel interface); -1: none */
	struct rte_mempool *rx_pool; /* its RX queues' mbufs: the pool of its node */
	uint16_t mtu;           /* IP MTU of the link; 0 = ask the device */
	uint8_t faces;          /* enum xvs_faces (dp_rss.h): which side's traffic comes in here */
	uint32_t tun_src;       /* outer source prefix for tunnels leaving here (network order) */
	uint8_t tun_src_len;    /* 0 with tun_src 0: use the port's address */
	/* the exception path to the kernel (dp_exc.c), set from the configuration */
	int exc;                /* exception = yes: a kernel interface takes what xvs does not */
	char exc_name[16];      /* its name in the kernel (IFNAMSIZ) */
	int vip_neigh_kernel;   /* vip_neigh = kernel: the kernel interface answers ARP/ND for the VIPs */
	uint32_t exc_rate;      /* frames per second towards the kernel, on average */
	uint32_t exc_burst;     /* and back to back */
	uint16_t exc_port_id;   /* the net_tap's DPDK port id, once created */
};

struct xvs_dp_config {
	char lcores[128];       /* EAL --lcores, unless lcores_auto */
	int lcores_auto;        /* lcores = auto: dp_numa plans them */
	unsigned workers;       /* with lcores = auto: how many workers; 0 = as many as fit */
	int numa_force;         /* run a cross-node plan, with a warning, instead of refusing it */
	int steering;           /* enum xvs_steering_cfg (dp_rss.h) */
	int steering_seed_set;  /* the owner hash's secret comes from steering_seed, not rte_rand */
	uint64_t steering_seed;
	char file_prefix[64];
	char huge_dir[256];
	unsigned memory_mb;
	int in_memory;
	char shm_path[256];
	uint32_t conn_max;
	uint32_t neigh_reachable_ms; /* base_reachable_time of the neighbours; 0: 30000 */
	int conn_persist;       /* connection tables in files that outlive the process */
	char conn_dir[256];     /* where those files go; "" = huge_dir if hugetlbfs, else /dev/shm */
	unsigned idle_sleep_us; /* workers sleep this long after an empty poll; 0 = never */
	int sloppy_tcp;         /* any TCP segment but RST may create a connection (IPVS sloppy_tcp) */
	int sloppy_sctp;        /* any SCTP packet may create an association (IPVS sloppy_sctp) */
	int consistent_midflow; /* mh/sh/dh, DR/TUN: a TCP segment without a connection is scheduled */
	int expire_nodest_conn; /* a packet of a deleted server's connection expires it (IPVS) */
	int expire_quiescent_template; /* templates of weight-0 servers are not followed (IPVS) */
	char eal_args[512];
};

/* Exception path defaults (docs/dataplane-config.md). */
#define XVS_EXC_RATE_DEFAULT  10000
#define XVS_EXC_BURST_DEFAULT 256
#define XVS_EXC_RATE_MAX      10000000
#define XVS_EXC_BURST_MAX     65536

struct xvs_worker;
struct xvs_vip_set;
/* Transmit a burst on (port, queue); returns how many were taken. Replaced by xvs-bench. */
typedef uint16_t (*xvs_tx_fn)(struct xvs_worker *w, uint16_t port, struct rte_mbuf **pkts, uint16_t n);

struct xvs_dp {
	struct xvs_dp_config cfg;
	struct xvs_port ports[XVS_MAX_PORTS];
	unsigned nb_ports;
	struct xvs_route_table routes;
	struct xvs_route6_table routes6;
	struct xvs_neigh_table *neigh;
	struct xvs_nud_cfg nud;   /* the neighbour table's timers, in TSC cycles */
	struct xvs_shm shm;
	struct xvs_dp_gens gens;
	struct xvs_steer steer;
	unsigned nb_workers;
	uint64_t tsc_hz;
};

struct xvs_tx_buf {
	uint16_t n;
	struct rte_mbuf *pkts[2 * XVS_BURST];
};

/* Frames waiting for their next hop's ARP reply (Linux's arp_queue), per worker. */
#ifndef XVS_NEIGH_HOLD
#define XVS_NEIGH_HOLD 32
#endif
struct xvs_held {
	struct rte_mbuf *m;
	uint64_t tsc;   /* when it was held */
	union xvs_ip nh; /* next hop */
	uint8_t af;
	uint16_t port;
};

/* Packets on their way to the worker that owns their connection (dp_steer.h). */
struct xvs_handoff_buf {
	uint16_t n;
	struct rte_mbuf *pkts[XVS_BURST];
};

#define XVS_WORKER_MAIN (~0u) /* idx of the main lcore's context: probes, no forwarding */

/*
 * Rate limits of the ICMP errors that Linux limits (time exceeded; not fragmentation needed
 * nor packet too big): a token bucket per destination, as the kernel's inet_peer buckets
 * (icmp_ratelimit 1000 ms, burst 6), in a direct-mapped cache of recent destinations, and
 * one bucket for all (icmp_msgs_per_sec 1000, burst 50). Per worker.
 */
#define XVS_ICMP_LIMIT_SLOTS 256
struct xvs_icmp_peer {
	union xvs_ip addr;
	uint64_t last_ms; /* 0: empty */
	uint32_t tokens_ms;
};
struct xvs_icmp_limit {
	uint64_t last_ms;
	uint32_t tokens;   /* in thousandths of a message */
	struct xvs_icmp_peer peer[XVS_ICMP_LIMIT_SLOTS];
};

/* Per connection-table cell, for connection sync: IPVS's in_pkts (mod sync_period) and old_state. */
struct xvs_sync_cell {
	uint8_t pkts;
	uint8_t old_state;
};

struct xvs_sync_ring;

struct xvs_worker {
	struct xvs_dp *dp;
	unsigned idx;             /* worker index: shm lcore record, rx queue; or XVS_WORKER_MAIN */
	uint16_t txq;             /* tx queue on every port */
	uint8_t handed;           /* processing packets another worker handed over */
	uint8_t hop;              /* of those, which owner candidate this worker is (dp_path.h) */
	uint8_t probes;           /* this loop probes the real servers' next hops */
	unsigned lcore;
	struct xvs_lcore_stats *st;
	struct rte_ring *ho_ring[XVS_MAX_LCORES]; /* to worker i (NULL: self or one worker) */
	struct rte_ring *hi_ring[XVS_MAX_LCORES]; /* from worker i */
	uint32_t ho_mask;                          /* ho[i] holds packets */
	struct xvs_handoff_buf ho[XVS_MAX_LCORES];
	struct xvs_dest_load *others; /* other workers' load by destination; NULL: one worker */
	/* the exception path (dp_exc.c); NULL rings: no port has one */
	struct rte_ring *exc_ring;    /* frames for the kernel, to the main lcore */
	struct xvs_handoff_buf exc;   /* staged for exc_ring, flushed at the end of each burst */
	struct rte_ring *exc_tx;      /* worker 0, when the main lcore has no TX queue: the
				       * kernel's frames to send (port index in hash.usr) */
	struct xvs_vip_set *vips;     /* VIP addresses of the classification (dp_exc.h) */
	struct rte_mempool *pool; /* for the frames it originates (probes, ICMP errors): its node's */
	struct xvs_conn_table conns;
	/* the distinct persistence granularities of the generation pm_gen (reply steering) */
	uint64_t pm_gen;
	uint8_t nb_pm4, nb_pm6;
	uint32_t pm4[XVS_STEER_MASKS]; /* IPv4 netmasks, network order */
	uint8_t pm6[XVS_STEER_MASKS];  /* IPv6 prefix lengths */
	xvs_tx_fn tx;
	uint32_t now;             /* seconds since start, worker clock */
	uint64_t now_tsc;
	uint64_t start_tsc;
	uint64_t next_tick_tsc;
	uint64_t next_probe_tsc;
	struct xvs_tx_buf txb[XVS_MAX_PORTS];
	unsigned nb_held;
	struct xvs_held held[XVS_NEIGH_HOLD];
	struct xvs_sched_state sched[XVS_MAX_SVCS];
	uint8_t overload[XVS_MAX_DESTS]; /* OVERLOAD flags (thresholds), this worker's view */
	struct xvs_icmp_limit icmp_limit; /* time exceeded: per destination and overall (dp_icmp.c) */
	uint32_t nud_pos;         /* the probing loop: where its neighbour timer scan goes on */
	/* connection synchronisation (dp_sync.h); NULL: none (the main lcore's context) */
	struct xvs_sync_ring *sync_out;   /* master: entries for the main lcore to send */
	struct xvs_sync_ring *sync_in;    /* backup: entries the main lcore received */
	struct xvs_sync_cell *sync_cells; /* one per cell of conns */
};

#endif
