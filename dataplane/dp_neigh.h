/*
 * IPv4/IPv6 neighbour table shared by all workers, without locks. An entry is keyed by port,
 * family and address, as Linux keeps neighbours per interface: what arrives on one port never
 * changes how another port reaches its hosts.
 *
 * An entry is claimed with a compare-and-swap on its state; its key is written while a
 * sequence number is odd, so a reader that compared the key of an entry being recycled sees
 * the number move and looks on (xvs_neigh_lookup). The link-layer address and flags live in
 * one 64-bit word (MAC in the low 48 bits, XVS_NEIGH_VALID in bit 63) written atomically.
 *
 * Dynamic entries follow Linux's neighbour unreachability detection (NUD): REACHABLE for a
 * while after a confirmation (an ARP reply, a solicited advertisement), then STALE (still
 * used); a STALE entry that carries traffic goes to DELAY, then PROBE (unicast requests to the
 * known address, one a second), and to FAILED when none is answered: its address is no longer
 * used and frames wait for a broadcast resolution again. INCOMPLETE and FAILED entries nobody
 * asks for, and STALE ones unused for a minute, are evicted. The main lcore runs these timers
 * (xvs_neigh_nud_step); workers only mark a STALE entry they send through. Static entries
 * (PERMANENT) never change.
 *
 * Room: learning from what others send (ARP requests, solicitations, unsolicited
 * advertisements) creates entries only under XVS_NEIGH_LEARN_MAX, and a next hop xvs needs
 * may take the place of such a learned entry that is not in use: a LAN that floods ARP cannot
 * keep a real server or gateway from resolving. Two workers claiming the same new address at
 * once may create two entries: lookups use the first, the other ages out.
 */
#ifndef XVS_DP_NEIGH_H
#define XVS_DP_NEIGH_H

#include <stdatomic.h>
#include <stdint.h>

#include <rte_ether.h>

#include "xvs/addr.h"

#ifndef XVS_NEIGH_SIZE
/* power of two: room for the real servers' next hops (XVS_MAX_DESTS), half as many again
 * for gateways and the clients xvs answers on a connected subnet, and the learned share
 * (a quarter), with the table still under two thirds full */
#define XVS_NEIGH_SIZE 32768
#endif

/* Slots a lookup probes: a table filled by hostile ARP stays cheap to miss in. */
#define XVS_NEIGH_MAX_PROBE 16

#define XVS_NEIGH_VALID  (1ULL << 63)
#define XVS_NEIGH_STATIC (1ULL << 62)

#define XVS_NEIGH_FREE     0
#define XVS_NEIGH_CLAIMING 1
#define XVS_NEIGH_READY    2
#define XVS_NEIGH_DEAD     3 /* evicted: lookups pass over it, a claim may take it again */

enum xvs_nud {
	XVS_NUD_INCOMPLETE = 0, /* claimed, being resolved by broadcast */
	XVS_NUD_REACHABLE,
	XVS_NUD_STALE,
	XVS_NUD_DELAY,
	XVS_NUD_PROBE,
	XVS_NUD_FAILED,
	XVS_NUD_PERMANENT,
};

/* How an address came to be known (xvs_neigh_learn_ip). */
enum xvs_neigh_src {
	XVS_NEIGH_SEEN,      /* a peer's request or unsolicited advertisement: STALE if new or moved */
	XVS_NEIGH_CONFIRMED, /* an answer to a request: REACHABLE */
	XVS_NEIGH_CONFIG,    /* the configuration: PERMANENT */
};

struct xvs_neigh {
	_Atomic uint32_t state;      /* XVS_NEIGH_FREE/CLAIMING/READY/DEAD */
	_Atomic uint32_t seq;        /* odd while the key changes */
	uint16_t port;
	uint8_t af;                  /* XVS_AF_* */
	_Atomic uint8_t nud;         /* enum xvs_nud */
	uint8_t probes;              /* unicast probes sent in PROBE (main lcore) */
	uint8_t learned;             /* created from what a peer sent; none of xvs's next hops */
	uint8_t pad[2];
	union xvs_ip ip;
	_Atomic uint64_t lladdr;     /* MAC | flags */
	_Atomic uint64_t probe_tsc;  /* last broadcast ARP request / multicast solicitation */
	_Atomic uint64_t confirmed_tsc;
	_Atomic uint64_t nud_tsc;    /* when nud last changed */
} __attribute__((aligned(64)));

struct xvs_neigh_table {
	struct xvs_neigh e[XVS_NEIGH_SIZE];
	_Atomic uint32_t nb_used;    /* entries live (READY) */
	_Atomic uint32_t nb_learned; /* of those, learned */
};

/* Learned entries are created only while fewer than this many are live. */
#define XVS_NEIGH_LEARN_MAX (XVS_NEIGH_SIZE / 4)

/* Linux's defaults (net.ipv4.neigh.default.*), in TSC cycles once scaled by xvs_nud_cfg_init. */
struct xvs_nud_cfg {
	uint64_t reachable;     /* base_reachable_time 30 s (each entry: 0.5 to 1.5 times) */
	uint64_t delay;         /* delay_first_probe_time 5 s */
	uint64_t retrans;       /* retrans_time 1 s */
	uint64_t gc_stale;      /* gc_stale_time 60 s */
	uint64_t gc_incomplete; /* an unresolved entry nobody asked for in 3 s (3 x retrans) */
	uint8_t ucast_solicit;  /* 3 */
};

void xvs_nud_cfg_init(struct xvs_nud_cfg *c, uint64_t tsc_hz, uint32_t reachable_ms);

/*
 * The entry of (port, af, ip) and its link-layer word, or NULL. Any lcore. A recycled entry
 * is never returned under its old key.
 */
struct xvs_neigh *xvs_neigh_lookup(struct xvs_neigh_table *t, uint16_t port, uint8_t af,
				   const union xvs_ip *ip, uint64_t *lladdr);

static inline struct xvs_neigh *xvs_neigh_find_ip(struct xvs_neigh_table *t, uint16_t port,
						  uint8_t af, const union xvs_ip *ip)
{
	uint64_t ll;
	return xvs_neigh_lookup(t, port, af, ip, &ll);
}

/*
 * Find or claim the entry of a next hop xvs needs, (port, af, ip); NULL when its slots are
 * all taken by entries in use. Any lcore.
 */
struct xvs_neigh *xvs_neigh_get_ip(struct xvs_neigh_table *t, uint16_t port, uint8_t af,
				   const union xvs_ip *ip, uint64_t now_tsc);

/*
 * Learn (port, af, ip) -> mac as src says (never over a static entry, never a zero, multicast
 * or broadcast MAC). An address with no entry yet is learned as SEEN, in the learned share
 * (only under XVS_NEIGH_LEARN_MAX). Returns 0, -EINVAL or -ENOSPC. Any lcore.
 */
int xvs_neigh_learn_ip(struct xvs_neigh_table *t, uint16_t port, uint8_t af,
		       const union xvs_ip *ip, const struct rte_ether_addr *mac,
		       enum xvs_neigh_src src, uint64_t now_tsc);

/* IPv4 shorthands. */
static inline struct xvs_neigh *xvs_neigh_find(struct xvs_neigh_table *t, uint16_t port, uint32_t ip)
{
	union xvs_ip a = { .d = { ip, 0 } }; /* v4 lives in the low 32 bits (little endian) */
	return xvs_neigh_find_ip(t, port, XVS_AF_INET, &a);
}

static inline struct xvs_neigh *xvs_neigh_get(struct xvs_neigh_table *t, uint16_t port, uint32_t ip,
					      uint64_t now_tsc)
{
	union xvs_ip a = { .d = { ip, 0 } };
	return xvs_neigh_get_ip(t, port, XVS_AF_INET, &a, now_tsc);
}

static inline int xvs_neigh_learn(struct xvs_neigh_table *t, uint16_t port, uint32_t ip,
				  const struct rte_ether_addr *mac, enum xvs_neigh_src src,
				  uint64_t now_tsc)
{
	union xvs_ip a = { .d = { ip, 0 } };
	return xvs_neigh_learn_ip(t, port, XVS_AF_INET, &a, mac, src, now_tsc);
}

/* The MAC of a link-layer word. */
static inline void xvs_neigh_ll_mac(uint64_t v, struct rte_ether_addr *mac)
{
	for (int i = 0; i < 6; i++)
		mac->addr_bytes[i] = (uint8_t)(v >> (8 * i));
}

/* Copy a valid entry's MAC into *mac; 0 if resolved, -1 if not. */
static inline int xvs_neigh_mac(const struct xvs_neigh *n, struct rte_ether_addr *mac)
{
	uint64_t v = atomic_load_explicit(&n->lladdr, memory_order_acquire);
	if (!(v & XVS_NEIGH_VALID))
		return -1;
	xvs_neigh_ll_mac(v, mac);
	return 0;
}

/* A worker sends through n: a STALE entry starts its DELAY (Linux's neigh_event_send). */
static inline void xvs_neigh_used(struct xvs_neigh *n, uint64_t now_tsc)
{
	uint8_t st = XVS_NUD_STALE;
	if (__builtin_expect(atomic_load_explicit(&n->nud, memory_order_relaxed) == XVS_NUD_STALE, 0) &&
	    atomic_compare_exchange_strong(&n->nud, &st, XVS_NUD_DELAY))
		atomic_store_explicit(&n->nud_tsc, now_tsc, memory_order_relaxed);
}

/*
 * Should a resolution request for n go out now? At most one per interval_tsc per neighbour,
 * across all workers (the winner of a compare-and-swap sends it).
 */
int xvs_neigh_probe_due(struct xvs_neigh *n, uint64_t now_tsc, uint64_t interval_tsc);

enum xvs_nud_act {
	XVS_NUD_ACT_NONE,
	XVS_NUD_ACT_PROBE,   /* send a unicast request to the entry's MAC */
	XVS_NUD_ACT_EVICT,   /* done by xvs_neigh_nud_step itself; for the caller's counters */
};

/* Run n's timers at now_tsc (main lcore only). */
enum xvs_nud_act xvs_neigh_nud_step(struct xvs_neigh_table *t, struct xvs_neigh *n,
				    uint64_t now_tsc, const struct xvs_nud_cfg *c);

/* Name of a NUD state, for logs and tests. */
const char *xvs_nud_name(unsigned nud);

#endif
