/*
 * IPv4/IPv6 neighbour table shared by all workers, without locks: an entry is claimed once
 * (compare-and-swap on its state, then its key is written and the state published as ready)
 * and never moves; its link-layer address and flags live in one 64-bit word (MAC in the low
 * 48 bits, XVS_NEIGH_VALID in bit 63) written atomically. Entries are never removed (a full
 * table is counted); static entries are never relearned. Two workers claiming the same new
 * address at once may create two entries: lookups then use the first, which is harmless.
 */
#ifndef XVS_DP_NEIGH_H
#define XVS_DP_NEIGH_H

#include <stdatomic.h>
#include <stdint.h>

#include <rte_ether.h>

#include "xvs/addr.h"

#ifndef XVS_NEIGH_SIZE
#define XVS_NEIGH_SIZE 4096 /* power of two */
#endif

/* Slots a lookup probes: a table filled by hostile ARP stays cheap to miss in. */
#define XVS_NEIGH_MAX_PROBE 16

#define XVS_NEIGH_VALID  (1ULL << 63)
#define XVS_NEIGH_STATIC (1ULL << 62)

#define XVS_NEIGH_FREE     0
#define XVS_NEIGH_CLAIMING 1
#define XVS_NEIGH_READY    2

struct xvs_neigh {
	_Atomic uint32_t state;      /* XVS_NEIGH_FREE/CLAIMING/READY */
	uint8_t af;                  /* XVS_AF_* */
	uint8_t pad[3];
	union xvs_ip ip;
	_Atomic uint64_t lladdr;     /* MAC | flags */
	_Atomic uint64_t probe_tsc;  /* last ARP request / neighbour solicitation sent */
} __attribute__((aligned(64)));

struct xvs_neigh_table {
	struct xvs_neigh e[XVS_NEIGH_SIZE];
	_Atomic uint32_t nb_used; /* entries claimed */
};

/*
 * Learning from what others send (ARP, solicitations) creates entries only while the table is
 * under this mark: the rest is kept for the next hops xvs itself needs, so a LAN host cannot
 * crowd out real servers and gateways.
 */
#define XVS_NEIGH_LEARN_MAX (XVS_NEIGH_SIZE / 4 * 3)

/* Find the entry of (af, ip), or NULL. Any lcore. */
struct xvs_neigh *xvs_neigh_find_ip(struct xvs_neigh_table *t, uint8_t af, const union xvs_ip *ip);

/* Find or claim the entry of (af, ip); NULL when the table is full. Any lcore. */
struct xvs_neigh *xvs_neigh_get_ip(struct xvs_neigh_table *t, uint8_t af, const union xvs_ip *ip);

/*
 * Learn (af, ip) -> mac (not over a static entry). A new dynamic entry is created only under
 * XVS_NEIGH_LEARN_MAX. Returns 0 or -ENOSPC. Any lcore.
 */
int xvs_neigh_learn_ip(struct xvs_neigh_table *t, uint8_t af, const union xvs_ip *ip,
		       const struct rte_ether_addr *mac, int is_static);

/* IPv4 shorthands. */
static inline struct xvs_neigh *xvs_neigh_find(struct xvs_neigh_table *t, uint32_t ip)
{
	union xvs_ip a = { .d = { ip, 0 } }; /* v4 lives in the low 32 bits (little endian) */
	return xvs_neigh_find_ip(t, XVS_AF_INET, &a);
}

static inline struct xvs_neigh *xvs_neigh_get(struct xvs_neigh_table *t, uint32_t ip)
{
	union xvs_ip a = { .d = { ip, 0 } }; /* v4 lives in the low 32 bits (little endian) */
	return xvs_neigh_get_ip(t, XVS_AF_INET, &a);
}

static inline int xvs_neigh_learn(struct xvs_neigh_table *t, uint32_t ip,
				  const struct rte_ether_addr *mac, int is_static)
{
	union xvs_ip a = { .d = { ip, 0 } }; /* v4 lives in the low 32 bits (little endian) */
	return xvs_neigh_learn_ip(t, XVS_AF_INET, &a, mac, is_static);
}

/* Copy a valid entry's MAC into *mac; 0 if resolved, -1 if not. */
static inline int xvs_neigh_mac(const struct xvs_neigh *n, struct rte_ether_addr *mac)
{
	uint64_t v = atomic_load_explicit(&n->lladdr, memory_order_acquire);
	if (!(v & XVS_NEIGH_VALID))
		return -1;
	for (int i = 0; i < 6; i++)
		mac->addr_bytes[i] = (uint8_t)(v >> (8 * i));
	return 0;
}

/*
 * Should a resolution request for n go out now? At most one per interval_tsc per neighbour,
 * across all workers (the winner of a compare-and-swap sends it).
 */
int xvs_neigh_probe_due(struct xvs_neigh *n, uint64_t now_tsc, uint64_t interval_tsc);

#endif
