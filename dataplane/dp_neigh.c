/* Lock-free IPv4 neighbour table (any lcore). */
#include <errno.h>

#include "dp_neigh.h"

static inline uint32_t slot_of(uint32_t ip)
{
	return (ip * 2654435761u) >> 20 & (XVS_NEIGH_SIZE - 1);
}

struct xvs_neigh *xvs_neigh_find(struct xvs_neigh_table *t, uint32_t ip)
{
	uint32_t s = slot_of(ip);
	for (unsigned n = 0; n < XVS_NEIGH_SIZE; n++, s = (s + 1) & (XVS_NEIGH_SIZE - 1)) {
		uint32_t k = atomic_load_explicit(&t->e[s].ip, memory_order_acquire);
		if (k == ip)
			return &t->e[s];
		if (k == 0)
			return NULL;
	}
	return NULL;
}

struct xvs_neigh *xvs_neigh_get(struct xvs_neigh_table *t, uint32_t ip)
{
	if (ip == 0)
		return NULL;
	uint32_t s = slot_of(ip);
	for (unsigned n = 0; n < XVS_NEIGH_SIZE; n++, s = (s + 1) & (XVS_NEIGH_SIZE - 1)) {
		uint32_t k = atomic_load_explicit(&t->e[s].ip, memory_order_acquire);
		if (k == ip)
			return &t->e[s];
		if (k == 0) {
			uint32_t expect = 0;
			if (atomic_compare_exchange_strong(&t->e[s].ip, &expect, ip) || expect == ip)
				return &t->e[s];
		}
	}
	return NULL;
}

int xvs_neigh_learn(struct xvs_neigh_table *t, uint32_t ip, const struct rte_ether_addr *mac,
		    int is_static)
{
	struct xvs_neigh *n = xvs_neigh_get(t, ip);
	if (!n)
		return -ENOSPC;
	uint64_t old = atomic_load_explicit(&n->lladdr, memory_order_relaxed);
	if ((old & XVS_NEIGH_STATIC) && !is_static)
		return 0;
	uint64_t v = XVS_NEIGH_VALID | (is_static ? XVS_NEIGH_STATIC : 0);
	for (int i = 0; i < 6; i++)
		v |= (uint64_t)mac->addr_bytes[i] << (8 * i);
	if (v != old)
		atomic_store_explicit(&n->lladdr, v, memory_order_release);
	return 0;
}

int xvs_neigh_probe_due(struct xvs_neigh *n, uint64_t now_tsc, uint64_t interval_tsc)
{
	uint64_t last = atomic_load_explicit(&n->probe_tsc, memory_order_relaxed);
	if (last && now_tsc - last < interval_tsc)
		return 0;
	return atomic_compare_exchange_strong(&n->probe_tsc, &last, now_tsc);
}
