/*
 * Locality-based least connection with replication, with IPVS's semantics
 * (net/netfilter/ipvs/ip_vs_lblcr.c): like lblc, but a destination address maps to a set of
 * servers, so a busy destination can be served by several caches.
 *
 * A new connection goes to the set's least loaded member by wlc's measure (the first in the
 * set, newest first, on a tie). If that member is overloaded in lblc's sense (more active
 * connections than its weight while some server has fewer than half its weight) or no member
 * is available, wlc chooses among all servers and the choice joins the set. A set with more
 * than one member that has not changed for 24 hours (IPVS's lblcr_expiration) loses its most
 * loaded member. An address unused for 24 hours is forgotten.
 *
 * Where xvs differs: IPVS keeps one table per service for all CPUs and sets of any size. Here
 * each worker keeps its own cache per service in its scheduler state, LBLCR_WAYS addresses with
 * at most LBLCR_SET servers each (no allocation, no lock on the packet path): a full cache
 * replaces its least recently used address, a full set drops its oldest member to admit a new
 * one. A member that left the service is dropped from the set. For a service on a VIP the
 * destination is always the VIP, so one address is all the cache holds. With several
 * workers, each builds its own set for an address (see xvs_sched_lblc.c). Nothing to build in
 * control.
 */
#include "xvs/sched.h"

#define LBLCR_WAYS     2
#define LBLCR_SET      8
#define LBLCR_EXPIRE_S (24u * 60 * 60)

struct lblcr_entry {
	union xvs_ip daddr;
	uint32_t lastuse;         /* key->now of the last use; */
	uint32_t lastmod;         /* ... of the last change of the set */
	uint16_t set[LBLCR_SET];  /* slots, newest first */
	uint8_t nb;               /* members; 0 = empty entry */
};

struct lblcr_priv {
	struct lblcr_entry e[LBLCR_WAYS];
};
XVS_SCHED_PRIV_FITS(struct lblcr_priv);

static int live(const struct lblcr_entry *e, uint32_t now)
{
	return e->nb && now - e->lastuse < LBLCR_EXPIRE_S;
}

/* The entry for daddr (*hit = 1), or the one to replace: an unused one, else the LRU. */
static struct lblcr_entry *lblcr_slot(struct lblcr_priv *c, const union xvs_ip *daddr,
				      uint32_t now, int *hit)
{
	struct lblcr_entry *victim = &c->e[0];
	*hit = 0;
	for (unsigned i = 0; i < LBLCR_WAYS; i++) {
		struct lblcr_entry *e = &c->e[i];
		if (live(e, now) && xvs_ip_eq(&e->daddr, daddr)) {
			*hit = 1;
			return e;
		}
		if (live(victim, now) && (!live(e, now) || now - e->lastuse > now - victim->lastuse))
			victim = e;
	}
	return victim;
}

static void set_erase(struct lblcr_entry *e, unsigned i)
{
	for (; i + 1 < e->nb; i++)
		e->set[i] = e->set[i + 1];
	e->nb--;
}

/* Members that left the service (their slot may serve another one by now) go. */
static void set_prune(struct lblcr_entry *e, const struct xvs_gen *g, const struct xvs_svc *svc)
{
	for (unsigned i = 0; i < e->nb;) {
		if (xvs_sched_dest_of(g, svc, e->set[i]))
			i++;
		else
			set_erase(e, i);
	}
}

/* The available member with the least overhead / weight, or -1 (IPVS's ip_vs_dest_set_min). */
static int set_min(const struct lblcr_entry *e, const struct xvs_gen *g,
		   const struct xvs_sched_key *key)
{
	int best = -1;
	uint64_t best_oh = 0, best_w = 1;
	for (unsigned i = 0; i < e->nb; i++) {
		uint16_t s = e->set[i];
		if (!xvs_sched_available(g, s, key))
			continue;
		uint64_t oh = xvs_sched_overhead(key, s), w = (uint64_t)g->dests[s].weight;
		if (best < 0 || best_oh * w > oh * best_w) {
			best = s;
			best_oh = oh;
			best_w = w;
		}
	}
	return best;
}

/* The position of the member with weight > 0 and the most overhead / weight, or -1. */
static int set_max(const struct lblcr_entry *e, const struct xvs_gen *g,
		   const struct xvs_sched_key *key)
{
	int most = -1;
	uint64_t most_oh = 0, most_w = 1;
	for (unsigned i = 0; i < e->nb; i++) {
		uint16_t s = e->set[i];
		uint64_t w = g->dests[s].weight > 0 ? (uint64_t)g->dests[s].weight : 0;
		if (w == 0)
			continue;
		uint64_t oh = xvs_sched_overhead(key, s);
		if (most < 0 || most_oh * w < oh * most_w) {
			most = (int)i;
			most_oh = oh;
			most_w = w;
		}
	}
	return most;
}

/* Add slot as the newest member (a full set drops its oldest); the set changed now. */
static void set_insert(struct lblcr_entry *e, uint16_t slot, uint32_t now)
{
	for (unsigned i = 0; i < e->nb; i++)
		if (e->set[i] == slot)
			return;
	if (e->nb == LBLCR_SET)
		e->nb--;
	for (unsigned i = e->nb; i > 0; i--)
		e->set[i] = e->set[i - 1];
	e->set[0] = slot;
	e->nb++;
	e->lastmod = now;
}

static int lblcr_pick(const struct xvs_gen *g, const struct xvs_svc *svc, struct xvs_sched_state *st,
		      const struct xvs_sched_key *key)
{
	struct lblcr_priv *c = XVS_SCHED_PRIV(st, struct lblcr_priv);
	xvs_sched_state_sync(st, svc);
	int hit;
	struct lblcr_entry *e = lblcr_slot(c, &key->daddr, key->now, &hit);
	if (hit) {
		e->lastuse = key->now;
		set_prune(e, g, svc);
		int dest = set_min(e, g, key);
		if (e->nb > 1 && key->now - e->lastmod > LBLCR_EXPIRE_S) {
			int m = set_max(e, g, key);
			if (m >= 0) {
				set_erase(e, (unsigned)m);
				e->lastmod = key->now;
			}
		}
		if (dest >= 0 && !xvs_sched_lblc_overloaded(g, svc, (uint16_t)dest, key))
			return dest;
	}
	int slot = xvs_sched_wlc_pick(g, svc, key);
	if (slot < 0)
		return -1;
	if (!hit)
		*e = (struct lblcr_entry){ .daddr = key->daddr, .lastuse = key->now };
	set_insert(e, (uint16_t)slot, key->now);
	return slot;
}

const struct xvs_sched_ops xvs_sched_lblcr = {
	.name = "lblcr",
	.build = xvs_sched_build_none,
	.pick = lblcr_pick,
};
