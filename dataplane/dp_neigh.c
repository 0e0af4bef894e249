/* Lock-free IPv4/IPv6 neighbour table with Linux's NUD timers (any lcore; timers: main). */
#include <errno.h>

#include "dp_neigh.h"

/* A full 64-bit mix: IPv6 neighbours often differ only in their last bytes. */
static inline uint64_t mix_of(uint16_t port, uint8_t af, const union xvs_ip *ip)
{
	uint64_t h = ip->d[0] * 0x9e3779b97f4a7c15ULL ^ ip->d[1] * 0xc2b2ae3d27d4eb4fULL ^
		     ((uint64_t)port << 8 | af);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static inline uint32_t slot_of(uint16_t port, uint8_t af, const union xvs_ip *ip)
{
	return (uint32_t)mix_of(port, af, ip) & (XVS_NEIGH_SIZE - 1);
}

static inline int same(const struct xvs_neigh *e, uint16_t port, uint8_t af, const union xvs_ip *ip)
{
	return e->port == port && e->af == af && xvs_ip_eq(&e->ip, ip);
}

void xvs_nud_cfg_init(struct xvs_nud_cfg *c, uint64_t tsc_hz, uint32_t reachable_ms)
{
	uint64_t ms = tsc_hz / 1000 ? tsc_hz / 1000 : 1;
	*c = (struct xvs_nud_cfg){
		.reachable = ms * (reachable_ms ? reachable_ms : 30000),
		.delay = ms * 5000,
		.retrans = ms * 1000,
		.gc_stale = ms * 60000,
		.gc_incomplete = ms * 3000,
		.ucast_solicit = 3,
	};
}

const char *xvs_nud_name(unsigned nud)
{
	static const char *const names[] = { "INCOMPLETE", "REACHABLE", "STALE", "DELAY",
					     "PROBE", "FAILED", "PERMANENT" };
	return nud < sizeof(names) / sizeof(names[0]) ? names[nud] : "?";
}

struct xvs_neigh *xvs_neigh_lookup(struct xvs_neigh_table *t, uint16_t port, uint8_t af,
				   const union xvs_ip *ip, uint64_t *lladdr)
{
	uint32_t s = slot_of(port, af, ip);
	for (unsigned n = 0; n < XVS_NEIGH_MAX_PROBE; n++, s = (s + 1) & (XVS_NEIGH_SIZE - 1)) {
		struct xvs_neigh *e = &t->e[s];
		uint32_t st = atomic_load_explicit(&e->state, memory_order_acquire);
		if (st == XVS_NEIGH_FREE)
			return NULL;
		if (st != XVS_NEIGH_READY)
			continue;
		uint32_t seq = atomic_load_explicit(&e->seq, memory_order_acquire);
		if ((seq & 1) || !same(e, port, af, ip))
			continue;
		uint64_t v = atomic_load_explicit(&e->lladdr, memory_order_acquire);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&e->seq, memory_order_relaxed) != seq)
			continue; /* recycled while we looked: not the entry we compared */
		*lladdr = v;
		return e;
	}
	return NULL;
}

/* Write a claimed entry's key and reset it (state CLAIMING: nobody else writes it). */
static void entry_init(struct xvs_neigh *e, uint16_t port, uint8_t af, const union xvs_ip *ip,
		       int learned, uint64_t now_tsc)
{
	atomic_fetch_add_explicit(&e->seq, 1, memory_order_relaxed); /* odd */
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&e->lladdr, 0, memory_order_relaxed);
	e->port = port;
	e->af = af;
	e->ip = *ip;
	e->probes = 0;
	e->learned = (uint8_t)learned;
	atomic_store_explicit(&e->nud, XVS_NUD_INCOMPLETE, memory_order_relaxed);
	atomic_store_explicit(&e->probe_tsc, 0, memory_order_relaxed);
	atomic_store_explicit(&e->confirmed_tsc, 0, memory_order_relaxed);
	atomic_store_explicit(&e->nud_tsc, now_tsc, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_fetch_add_explicit(&e->seq, 1, memory_order_relaxed); /* even */
}

/* Whether a live learned entry may give way to a next hop xvs needs: not in use right now. */
static int yieldable(const struct xvs_neigh *e)
{
	if (!e->learned)
		return 0;
	uint8_t nud = atomic_load_explicit(&e->nud, memory_order_relaxed);
	return nud == XVS_NUD_STALE || nud == XVS_NUD_INCOMPLETE || nud == XVS_NUD_FAILED;
}

static void evict(struct xvs_neigh_table *t, struct xvs_neigh *e, uint32_t to_state)
{
	atomic_fetch_add_explicit(&e->seq, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&e->lladdr, 0, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_fetch_add_explicit(&e->seq, 1, memory_order_relaxed);
	if (e->learned)
		atomic_fetch_sub_explicit(&t->nb_learned, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&t->nb_used, 1, memory_order_relaxed);
	atomic_store_explicit(&e->state, to_state, memory_order_release);
}

/*
 * Find (port, af, ip) or claim a slot for it: a free or evicted one in its window, else, for a
 * next hop xvs needs (learned 0), a learned entry not in use, which gives way.
 */
static struct xvs_neigh *get_or_claim(struct xvs_neigh_table *t, uint16_t port, uint8_t af,
				      const union xvs_ip *ip, int learned, uint64_t now_tsc)
{
	if (ip->d[0] == 0 && ip->d[1] == 0)
		return NULL;
	uint32_t home = slot_of(port, af, ip);
	for (int attempt = 0; attempt < 4; attempt++) {
		struct xvs_neigh *room = NULL, *victim = NULL;
		uint32_t room_st = 0;
		uint32_t s = home;
		for (unsigned n = 0; n < XVS_NEIGH_MAX_PROBE; n++, s = (s + 1) & (XVS_NEIGH_SIZE - 1)) {
			struct xvs_neigh *e = &t->e[s];
			uint32_t st = atomic_load_explicit(&e->state, memory_order_acquire);
			if (st == XVS_NEIGH_READY) {
				uint32_t seq = atomic_load_explicit(&e->seq, memory_order_acquire);
				if (!(seq & 1) && same(e, port, af, ip))
					return e;
				if (!victim && !learned && yieldable(e))
					victim = e;
				continue;
			}
			if ((st == XVS_NEIGH_FREE || st == XVS_NEIGH_DEAD) && !room) {
				room = e;
				room_st = st;
			}
			if (st == XVS_NEIGH_FREE)
				break; /* the key cannot be further on */
		}
		if (!room && victim) {
			uint32_t expect = XVS_NEIGH_READY;
			if (!atomic_compare_exchange_strong(&victim->state, &expect, XVS_NEIGH_CLAIMING))
				continue;
			if (!yieldable(victim)) { /* it was just confirmed: leave it */
				atomic_store_explicit(&victim->state, XVS_NEIGH_READY, memory_order_release);
				continue;
			}
			evict(t, victim, XVS_NEIGH_CLAIMING);
			room = victim;
			room_st = XVS_NEIGH_CLAIMING;
		} else if (room) {
			uint32_t expect = room_st;
			if (!atomic_compare_exchange_strong(&room->state, &expect, XVS_NEIGH_CLAIMING))
				continue; /* somebody else took it: look again */
		} else {
			return NULL;
		}
		entry_init(room, port, af, ip, learned, now_tsc);
		if (learned)
			atomic_fetch_add_explicit(&t->nb_learned, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&t->nb_used, 1, memory_order_relaxed);
		atomic_store_explicit(&room->state, XVS_NEIGH_READY, memory_order_release);
		return room;
	}
	return NULL;
}

struct xvs_neigh *xvs_neigh_get_ip(struct xvs_neigh_table *t, uint16_t port, uint8_t af,
				   const union xvs_ip *ip, uint64_t now_tsc)
{
	struct xvs_neigh *e = get_or_claim(t, port, af, ip, 0, now_tsc);
	if (e && e->learned) {
		/* xvs needs it now: it no longer counts against the learned share, nor yields */
		e->learned = 0;
		atomic_fetch_sub_explicit(&t->nb_learned, 1, memory_order_relaxed);
	}
	return e;
}

int xvs_neigh_learn_ip(struct xvs_neigh_table *t, uint16_t port, uint8_t af,
		       const union xvs_ip *ip, const struct rte_ether_addr *mac,
		       enum xvs_neigh_src src, uint64_t now_tsc)
{
	int is_static = src == XVS_NEIGH_CONFIG;
	if (!is_static && !rte_is_valid_assigned_ether_addr(mac))
		return -EINVAL; /* zero, multicast or broadcast: no station's */
	uint64_t old;
	struct xvs_neigh *n = xvs_neigh_lookup(t, port, af, ip, &old);
	if (!n) {
		/* nobody asked for it: an answer nobody asked for counts as seen (Linux creates no
		 * entry for it without arp_accept; xvs keeps it, in the learned share) */
		if (!is_static) {
			src = XVS_NEIGH_SEEN;
			if (atomic_load_explicit(&t->nb_learned, memory_order_relaxed) >= XVS_NEIGH_LEARN_MAX)
				return -ENOSPC;
		}
		n = get_or_claim(t, port, af, ip, !is_static, now_tsc);
		if (!n)
			return -ENOSPC;
		old = atomic_load_explicit(&n->lladdr, memory_order_relaxed);
	}
	if ((old & XVS_NEIGH_STATIC) && !is_static)
		return 0;
	uint64_t v = XVS_NEIGH_VALID | (is_static ? XVS_NEIGH_STATIC : 0);
	for (int i = 0; i < 6; i++)
		v |= (uint64_t)mac->addr_bytes[i] << (8 * i);
	switch (src) {
	case XVS_NEIGH_CONFIG:
		atomic_store_explicit(&n->nud, XVS_NUD_PERMANENT, memory_order_relaxed);
		break;
	case XVS_NEIGH_CONFIRMED:
		atomic_store_explicit(&n->confirmed_tsc, now_tsc, memory_order_relaxed);
		atomic_store_explicit(&n->nud_tsc, now_tsc, memory_order_relaxed);
		atomic_store_explicit(&n->nud, XVS_NUD_REACHABLE, memory_order_relaxed);
		break;
	case XVS_NEIGH_SEEN:
		/* as Linux: a new or moved address is STALE until confirmed; the same one as
		 * before changes nothing, and brings a FAILED or unresolved entry back as STALE */
		if (v == old)
			return 0;
		atomic_store_explicit(&n->nud_tsc, now_tsc, memory_order_relaxed);
		atomic_store_explicit(&n->nud, XVS_NUD_STALE, memory_order_relaxed);
		break;
	}
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

/* Each entry's reachable time: 0.5 to 1.5 times the base, fixed per address. */
static uint64_t reachable_of(const struct xvs_neigh *n, const struct xvs_nud_cfg *c)
{
	uint64_t r = mix_of(n->port, n->af, &n->ip) >> 40; /* 24 bits */
	return c->reachable / 2 + (uint64_t)(((__uint128_t)c->reachable * r) >> 24);
}

static int nud_move(struct xvs_neigh *n, uint8_t from, uint8_t to, uint64_t now_tsc)
{
	if (!atomic_compare_exchange_strong(&n->nud, &from, to))
		return 0; /* a worker or a learner changed it first: next round */
	atomic_store_explicit(&n->nud_tsc, now_tsc, memory_order_relaxed);
	return 1;
}

enum xvs_nud_act xvs_neigh_nud_step(struct xvs_neigh_table *t, struct xvs_neigh *n,
				    uint64_t now_tsc, const struct xvs_nud_cfg *c)
{
	if (atomic_load_explicit(&n->state, memory_order_acquire) != XVS_NEIGH_READY)
		return XVS_NUD_ACT_NONE;
	uint8_t nud = atomic_load_explicit(&n->nud, memory_order_relaxed);
	uint64_t since = atomic_load_explicit(&n->nud_tsc, memory_order_relaxed);
	switch (nud) {
	case XVS_NUD_INCOMPLETE:
	case XVS_NUD_FAILED: {
		/* nobody has asked for it lately (a held frame or a real server probes it) */
		uint64_t last = atomic_load_explicit(&n->probe_tsc, memory_order_relaxed);
		if (last < since)
			last = since;
		if (now_tsc - last < c->gc_incomplete)
			return XVS_NUD_ACT_NONE;
		break;
	}
	case XVS_NUD_REACHABLE:
		if (now_tsc - atomic_load_explicit(&n->confirmed_tsc, memory_order_relaxed) >= reachable_of(n, c))
			nud_move(n, XVS_NUD_REACHABLE, XVS_NUD_STALE, now_tsc);
		return XVS_NUD_ACT_NONE;
	case XVS_NUD_STALE:
		if (now_tsc - since < c->gc_stale)
			return XVS_NUD_ACT_NONE;
		break;
	case XVS_NUD_DELAY:
		if (now_tsc - since < c->delay)
			return XVS_NUD_ACT_NONE;
		if (!nud_move(n, XVS_NUD_DELAY, XVS_NUD_PROBE, now_tsc))
			return XVS_NUD_ACT_NONE;
		n->probes = 1;
		return XVS_NUD_ACT_PROBE;
	case XVS_NUD_PROBE:
		if (now_tsc - since < c->retrans)
			return XVS_NUD_ACT_NONE;
		if (n->probes >= c->ucast_solicit) {
			/* unanswered: the address is no longer used; frames wait for a broadcast
			 * resolution, and the entry goes if nobody asks within gc_incomplete */
			if (nud_move(n, XVS_NUD_PROBE, XVS_NUD_FAILED, now_tsc))
				atomic_fetch_and_explicit(&n->lladdr, ~XVS_NEIGH_VALID, memory_order_release);
			return XVS_NUD_ACT_NONE;
		}
		atomic_store_explicit(&n->nud_tsc, now_tsc, memory_order_relaxed);
		n->probes++;
		return XVS_NUD_ACT_PROBE;
	default: /* PERMANENT */
		return XVS_NUD_ACT_NONE;
	}
	uint32_t expect = XVS_NEIGH_READY;
	if (!atomic_compare_exchange_strong(&n->state, &expect, XVS_NEIGH_CLAIMING))
		return XVS_NUD_ACT_NONE;
	evict(t, n, XVS_NEIGH_DEAD);
	return XVS_NUD_ACT_EVICT;
}
