/* Lock-free IPv4/IPv6 neighbour table (any lcore). */
#include <errno.h>

#include "dp_neigh.h"

/* A full 64-bit mix: IPv6 neighbours often differ only in their last bytes. */
static inline uint32_t slot_of(uint8_t af, const union xvs_ip *ip)
{
	uint64_t h = ip->d[0] * 0x9e3779b97f4a7c15ULL ^ ip->d[1] * 0xc2b2ae3d27d4eb4fULL ^ af;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (uint32_t)h & (XVS_NEIGH_SIZE - 1);
}

static inline int same(const struct xvs_neigh *e, uint8_t af, const union xvs_ip *ip)
{
	return e->af == af && xvs_ip_eq(&e->ip, ip);
}

struct xvs_neigh *xvs_neigh_find_ip(struct xvs_neigh_table *t, uint8_t af, const union xvs_ip *ip)
{
	uint32_t s = slot_of(af, ip);
	for (unsigned n = 0; n < XVS_NEIGH_MAX_PROBE; n++, s = (s + 1) & (XVS_NEIGH_SIZE - 1)) {
		struct xvs_neigh *e = &t->e[s];
		uint32_t st = atomic_load_explicit(&e->state, memory_order_acquire);
		if (st == XVS_NEIGH_FREE)
			return NULL;
		if (st == XVS_NEIGH_READY && same(e, af, ip))
			return e;
	}
	return NULL;
}

struct xvs_neigh *xvs_neigh_get_ip(struct xvs_neigh_table *t, uint8_t af, const union xvs_ip *ip)
{
	if (ip->d[0] == 0 && ip->d[1] == 0)
		return NULL;
	uint32_t s = slot_of(af, ip);
	for (unsigned n = 0; n < XVS_NEIGH_MAX_PROBE; n++, s = (s + 1) & (XVS_NEIGH_SIZE - 1)) {
		struct xvs_neigh *e = &t->e[s];
		uint32_t st = atomic_load_explicit(&e->state, memory_order_acquire);
		if (st == XVS_NEIGH_READY && same(e, af, ip))
			return e;
		if (st != XVS_NEIGH_FREE)
			continue;
		uint32_t expect = XVS_NEIGH_FREE;
		if (!atomic_compare_exchange_strong(&e->state, &expect, XVS_NEIGH_CLAIMING))
			continue; /* somebody else took it: look further */
		e->af = af;
		e->ip = *ip;
		atomic_store_explicit(&e->state, XVS_NEIGH_READY, memory_order_release);
		atomic_fetch_add_explicit(&t->nb_used, 1, memory_order_relaxed);
		return e;
	}
	return NULL;
}

int xvs_neigh_learn_ip(struct xvs_neigh_table *t, uint8_t af, const union xvs_ip *ip,
		       const struct rte_ether_addr *mac, int is_static)
{
	if (!is_static && !rte_is_valid_assigned_ether_addr(mac))
		return -EINVAL; /* zero, multicast or broadcast: no station's */
	struct xvs_neigh *n = xvs_neigh_find_ip(t, af, ip);
	if (!n && (is_static ||
		   atomic_load_explicit(&t->nb_used, memory_order_relaxed) < XVS_NEIGH_LEARN_MAX))
		n = xvs_neigh_get_ip(t, af, ip);
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
