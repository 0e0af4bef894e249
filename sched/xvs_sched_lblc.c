/*
 * Locality-based least connection, with IPVS's semantics (net/netfilter/ipvs/ip_vs_lblc.c),
 * for cache clusters: a destination address sticks to one server, so that server's cache
 * holds what that destination serves.
 *
 * A cache maps the packet's destination address to the server chosen for it. The cached
 * server is used again unless it is gone, quiesced, or overloaded in lblc's sense: more
 * active connections than its weight while some server has fewer than half its weight. Then
 * (and for an address not in the cache) wlc chooses, and the cache remembers the choice.
 * Entries unused for 24 hours are forgotten (IPVS's lblc_expiration).
 *
 * Where xvs differs: IPVS keeps one table per service for all CPUs, unbounded in practice
 * (16384 entries before idle ones are collected). Here each worker keeps its own cache per
 * service, LBLC_WAYS entries in its per-worker scheduler state (no allocation, no lock on the
 * packet path); when it is full the least recently used entry makes room. For a service on a
 * VIP every packet has the VIP as destination, so one entry is all the cache ever holds;
 * more would matter for firewall-mark services, which xvs does not have. With several
 * workers each worker decides for its own clients: they agree as long as wlc does (it sees
 * the node's counts), but two workers may place the same destination on two servers where
 * IPVS would keep one. Changes to the service keep the cache, as in IPVS. Like IPVS, the
 * cached server is not checked against the connection thresholds (-x), only wlc's choice is.
 * Nothing to build in control.
 */
#include "xvs/sched.h"

#define LBLC_WAYS     4
#define LBLC_EXPIRE_S (24u * 60 * 60)

struct lblc_entry {
	union xvs_ip daddr;
	uint32_t lastuse; /* key->now of the last use */
	uint16_t dest;    /* slot + 1; 0 = empty */
};

struct lblc_priv {
	struct lblc_entry e[LBLC_WAYS];
};
XVS_SCHED_PRIV_FITS(struct lblc_priv);

int xvs_sched_lblc_overloaded(const struct xvs_gen *g, const struct xvs_svc *svc, uint16_t slot,
			      const struct xvs_sched_key *key)
{
	if (xvs_sched_active(key, slot) <= g->dests[slot].weight)
		return 0;
	for (unsigned i = 0; i < svc->nb_dests; i++) {
		uint16_t s = xvs_sched_slot(g, svc, i);
		if (xvs_sched_active(key, s) * 2 < g->dests[s].weight)
			return 1;
	}
	return 0;
}

static int live(const struct lblc_entry *e, uint32_t now)
{
	return e->dest && now - e->lastuse < LBLC_EXPIRE_S;
}

/* The entry for daddr (*hit = 1), or the one to replace: an unused one, else the LRU. */
static struct lblc_entry *lblc_slot(struct lblc_priv *c, const union xvs_ip *daddr, uint32_t now,
				    int *hit)
{
	struct lblc_entry *victim = &c->e[0];
	*hit = 0;
	for (unsigned i = 0; i < LBLC_WAYS; i++) {
		struct lblc_entry *e = &c->e[i];
		if (live(e, now) && xvs_ip_eq(&e->daddr, daddr)) {
			*hit = 1;
			return e;
		}
		if (live(victim, now) && (!live(e, now) || now - e->lastuse > now - victim->lastuse))
			victim = e;
	}
	return victim;
}

static int lblc_pick(const struct xvs_gen *g, const struct xvs_svc *svc, struct xvs_sched_state *st,
		     const struct xvs_sched_key *key)
{
	struct lblc_priv *c = XVS_SCHED_PRIV(st, struct lblc_priv);
	xvs_sched_state_sync(st, svc);
	int hit;
	struct lblc_entry *e = lblc_slot(c, &key->daddr, key->now, &hit);
	if (hit) {
		e->lastuse = key->now;
		uint16_t slot = (uint16_t)(e->dest - 1);
		if (xvs_sched_dest_of(g, svc, slot) && g->dests[slot].weight > 0 &&
		    !xvs_sched_lblc_overloaded(g, svc, slot, key))
			return slot;
	}
	int slot = xvs_sched_wlc_pick(g, svc, key);
	if (slot < 0)
		return -1;
	*e = (struct lblc_entry){ .daddr = key->daddr, .lastuse = key->now, .dest = (uint16_t)(slot + 1) };
	return slot;
}

const struct xvs_sched_ops xvs_sched_lblc = {
	.name = "lblc",
	.build = xvs_sched_build_none,
	.pick = lblc_pick,
};
