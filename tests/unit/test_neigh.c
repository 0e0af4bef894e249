/*
 * The neighbour table: learning per port, its limits against hostile traffic, IPv6 spread,
 * and the NUD life cycle (REACHABLE, STALE, DELAY, PROBE, FAILED, eviction) on a fake clock.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "dp_neigh.h"

static struct xvs_neigh_table *table(void)
{
	struct xvs_neigh_table *t = aligned_alloc(64, sizeof(*t));
	cr_assert_not_null(t);
	memset(t, 0, sizeof(*t));
	return t;
}

static const struct rte_ether_addr MAC = { .addr_bytes = { 2, 0, 0, 0, 0, 9 } };
static const struct rte_ether_addr MAC2 = { .addr_bytes = { 2, 0, 0, 0, 0, 10 } };

#define HZ 1000000ULL /* a 1 MHz fake TSC: one tick a microsecond */
#define S(x) ((uint64_t)(x) * HZ)

static struct xvs_nud_cfg cfg(void)
{
	struct xvs_nud_cfg c;
	xvs_nud_cfg_init(&c, HZ, 30000);
	return c;
}

static unsigned nud_of(struct xvs_neigh *n)
{
	return atomic_load(&n->nud);
}

Test(neigh, learn_and_find)
{
	struct xvs_neigh_table *t = table();
	cr_assert_null(xvs_neigh_find(t, 0, 0x0a00a8c0));
	cr_assert_eq(xvs_neigh_learn(t, 0, 0x0a00a8c0, &MAC, XVS_NEIGH_SEEN, 1), 0);
	struct xvs_neigh *n = xvs_neigh_find(t, 0, 0x0a00a8c0);
	cr_assert_not_null(n);
	struct rte_ether_addr got;
	cr_assert_eq(xvs_neigh_mac(n, &got), 0);
	cr_assert(rte_is_same_ether_addr(&got, &MAC));
	cr_assert_eq(nud_of(n), XVS_NUD_STALE, "learned from a request: STALE, as Linux");

	/* a static entry is not overwritten by learning */
	struct rte_ether_addr other = { .addr_bytes = { 2, 0, 0, 0, 0, 7 } };
	cr_assert_eq(xvs_neigh_learn(t, 0, 0x0b00a8c0, &MAC, XVS_NEIGH_CONFIG, 0), 0);
	cr_assert_eq(xvs_neigh_learn(t, 0, 0x0b00a8c0, &other, XVS_NEIGH_CONFIRMED, 1), 0);
	cr_assert_eq(xvs_neigh_mac(xvs_neigh_find(t, 0, 0x0b00a8c0), &got), 0);
	cr_assert(rte_is_same_ether_addr(&got, &MAC));
	cr_assert_eq(nud_of(xvs_neigh_find(t, 0, 0x0b00a8c0)), XVS_NUD_PERMANENT);
	free(t);
}

Test(neigh, ports_apart)
{
	/* what one port learns never changes how another reaches the same address */
	struct xvs_neigh_table *t = table();
	cr_assert_eq(xvs_neigh_learn(t, 1, 0x1500a8c0, &MAC, XVS_NEIGH_CONFIG, 0), 0);
	cr_assert_eq(xvs_neigh_learn(t, 0, 0x1500a8c0, &MAC2, XVS_NEIGH_SEEN, 1), 0);
	struct rte_ether_addr got;
	cr_assert_eq(xvs_neigh_mac(xvs_neigh_find(t, 1, 0x1500a8c0), &got), 0);
	cr_assert(rte_is_same_ether_addr(&got, &MAC), "port 1's entry kept its MAC");
	cr_assert_eq(xvs_neigh_mac(xvs_neigh_find(t, 0, 0x1500a8c0), &got), 0);
	cr_assert(rte_is_same_ether_addr(&got, &MAC2));
	cr_assert_null(xvs_neigh_find(t, 2, 0x1500a8c0));
	free(t);
}

Test(neigh, no_station_macs)
{
	struct xvs_neigh_table *t = table();
	struct rte_ether_addr zero = { 0 }, bcast, mcast = { .addr_bytes = { 1, 0, 0x5e, 0, 0, 1 } };
	memset(&bcast, 0xff, sizeof(bcast));
	cr_assert_eq(xvs_neigh_learn(t, 0, 0x0a00a8c0, &zero, XVS_NEIGH_SEEN, 1), -EINVAL);
	cr_assert_eq(xvs_neigh_learn(t, 0, 0x0a00a8c0, &bcast, XVS_NEIGH_CONFIRMED, 1), -EINVAL);
	cr_assert_eq(xvs_neigh_learn(t, 0, 0x0a00a8c0, &mcast, XVS_NEIGH_SEEN, 1), -EINVAL);
	cr_assert_null(xvs_neigh_find(t, 0, 0x0a00a8c0));
	free(t);
}

Test(neigh, hostile_fill_cannot_block_next_hops)
{
	/* a LAN floods ARP from every address it can: learning stops at its share, and every
	 * next hop xvs needs (say 8192 real servers, XVS_MAX_DESTS) still gets an entry */
	struct xvs_neigh_table *t = table();
	unsigned learned = 0;
	for (uint32_t i = 0; i < XVS_NEIGH_SIZE; i++)
		if (xvs_neigh_learn(t, 0, rte_cpu_to_be_32(0x0a000000 + i), &MAC, XVS_NEIGH_SEEN, 1) == 0)
			learned++;
	cr_assert_eq(learned, XVS_NEIGH_LEARN_MAX, "learned %u", learned);
	unsigned got = 0;
	for (uint32_t i = 0; i < 8192; i++)
		if (xvs_neigh_get(t, 0, rte_cpu_to_be_32(0xc6130000 + i), 2))
			got++;
	cr_assert_eq(got, 8192, "only %u next hops found room", got);
	/* and where the flood sits in a next hop's slots it gives way: on top of it,
	 * XVS_MAX_DESTS next hops on one port and a share more on another all find room */
	struct xvs_neigh_table *u = table();
	for (uint32_t i = 0; i < XVS_NEIGH_SIZE; i++)
		xvs_neigh_learn(u, 0, rte_cpu_to_be_32(0x0a000000 + i), &MAC, XVS_NEIGH_SEEN, 1);
	for (uint32_t i = 0; i < 8192; i++)
		cr_assert_not_null(xvs_neigh_get(u, 1, rte_cpu_to_be_32(0xac100000 + i), 2), "hop %u", i);
	for (uint32_t i = 0; i < 4096; i++)
		cr_assert_not_null(xvs_neigh_get(u, 2, rte_cpu_to_be_32(0xc0a80000 + i), 3), "late %u", i);
	free(t);
	free(u);
}

Test(neigh, ipv6_spread)
{
	/* addresses that differ only in their last bytes must not pile up in one window */
	struct xvs_neigh_table *t = table();
	for (unsigned i = 0; i < 1024; i++) {
		union xvs_ip a = { .v6 = { 0x20, 0x01, 0x0d, 0xb8, [14] = (uint8_t)(i >> 8), [15] = (uint8_t)i } };
		cr_assert_eq(xvs_neigh_learn_ip(t, 0, XVS_AF_INET6, &a, &MAC, XVS_NEIGH_CONFIG, 0), 0, "entry %u", i);
	}
	for (unsigned i = 0; i < 1024; i++) {
		union xvs_ip a = { .v6 = { 0x20, 0x01, 0x0d, 0xb8, [14] = (uint8_t)(i >> 8), [15] = (uint8_t)i } };
		cr_assert_not_null(xvs_neigh_find_ip(t, 0, XVS_AF_INET6, &a), "entry %u", i);
	}
	union xvs_ip v4 = { .d = { 0x0100a8c0, 0 } };
	cr_assert_null(xvs_neigh_find_ip(t, 0, XVS_AF_INET, &v4));
	free(t);
}

Test(neigh, probe_due_once_per_interval)
{
	struct xvs_neigh_table *t = table();
	struct xvs_neigh *n = xvs_neigh_get(t, 0, 0x01020304, 1);
	cr_assert(xvs_neigh_probe_due(n, 1000, 500));
	cr_assert_not(xvs_neigh_probe_due(n, 1200, 500));
	cr_assert(xvs_neigh_probe_due(n, 1600, 500));
	free(t);
}

Test(nud, reachable_stale_delay_probe_failed_evicted)
{
	struct xvs_neigh_table *t = table();
	struct xvs_nud_cfg c = cfg();
	uint64_t now = S(100);
	struct xvs_neigh *n = xvs_neigh_get(t, 0, 0x1500a8c0, now);
	cr_assert_eq(nud_of(n), XVS_NUD_INCOMPLETE);
	cr_assert_eq(xvs_neigh_learn(t, 0, 0x1500a8c0, &MAC, XVS_NEIGH_CONFIRMED, now), 0);
	cr_assert_eq(nud_of(n), XVS_NUD_REACHABLE, "an answer confirms");
	/* reachable between 15 and 45 s, then STALE, still usable */
	cr_assert_eq(xvs_neigh_nud_step(t, n, now + S(14), &c), XVS_NUD_ACT_NONE);
	cr_assert_eq(nud_of(n), XVS_NUD_REACHABLE);
	xvs_neigh_nud_step(t, n, now + S(46), &c);
	cr_assert_eq(nud_of(n), XVS_NUD_STALE);
	struct rte_ether_addr got;
	cr_assert_eq(xvs_neigh_mac(n, &got), 0);
	now += S(46);
	/* traffic through it: DELAY; 5 s later the first unicast probe, then one a second */
	xvs_neigh_used(n, now);
	cr_assert_eq(nud_of(n), XVS_NUD_DELAY);
	cr_assert_eq(xvs_neigh_nud_step(t, n, now + S(4), &c), XVS_NUD_ACT_NONE);
	cr_assert_eq(xvs_neigh_nud_step(t, n, now + S(5), &c), XVS_NUD_ACT_PROBE);
	cr_assert_eq(nud_of(n), XVS_NUD_PROBE);
	cr_assert_eq(xvs_neigh_nud_step(t, n, now + S(5) + HZ / 2, &c), XVS_NUD_ACT_NONE);
	cr_assert_eq(xvs_neigh_nud_step(t, n, now + S(6), &c), XVS_NUD_ACT_PROBE);
	cr_assert_eq(xvs_neigh_nud_step(t, n, now + S(7), &c), XVS_NUD_ACT_PROBE);
	/* three unanswered: FAILED, its address no longer used */
	cr_assert_eq(xvs_neigh_nud_step(t, n, now + S(8), &c), XVS_NUD_ACT_NONE);
	cr_assert_eq(nud_of(n), XVS_NUD_FAILED);
	cr_assert_eq(xvs_neigh_mac(n, &got), -1);
	/* nobody asks for it for 3 s: evicted, found no more, the slot reusable */
	cr_assert_eq(xvs_neigh_nud_step(t, n, now + S(10), &c), XVS_NUD_ACT_NONE);
	cr_assert_eq(xvs_neigh_nud_step(t, n, now + S(11), &c), XVS_NUD_ACT_EVICT);
	cr_assert_null(xvs_neigh_find(t, 0, 0x1500a8c0));
	cr_assert_eq(atomic_load(&t->nb_used), 0);
	cr_assert_not_null(xvs_neigh_get(t, 0, 0x1500a8c0, now + S(12)));
	free(t);
}

Test(nud, probe_answered_is_reachable_again)
{
	struct xvs_neigh_table *t = table();
	struct xvs_nud_cfg c = cfg();
	struct xvs_neigh *n = xvs_neigh_get(t, 0, 0x1600a8c0, 1);
	xvs_neigh_learn(t, 0, 0x1600a8c0, &MAC, XVS_NEIGH_CONFIRMED, 1);
	xvs_neigh_nud_step(t, n, S(50), &c);
	xvs_neigh_used(n, S(50));
	cr_assert_eq(xvs_neigh_nud_step(t, n, S(55), &c), XVS_NUD_ACT_PROBE);
	/* the host answered from a new MAC (a replaced machine): REACHABLE with it */
	xvs_neigh_learn(t, 0, 0x1600a8c0, &MAC2, XVS_NEIGH_CONFIRMED, S(55) + 10);
	cr_assert_eq(nud_of(n), XVS_NUD_REACHABLE);
	struct rte_ether_addr got;
	cr_assert_eq(xvs_neigh_mac(n, &got), 0);
	cr_assert(rte_is_same_ether_addr(&got, &MAC2));
	cr_assert_eq(xvs_neigh_nud_step(t, n, S(56), &c), XVS_NUD_ACT_NONE);
	free(t);
}

Test(nud, stale_unused_is_evicted_static_never)
{
	struct xvs_neigh_table *t = table();
	struct xvs_nud_cfg c = cfg();
	xvs_neigh_learn(t, 0, 0x1700a8c0, &MAC, XVS_NEIGH_SEEN, S(1));
	xvs_neigh_learn(t, 0, 0x1800a8c0, &MAC, XVS_NEIGH_CONFIG, 0);
	struct xvs_neigh *a = xvs_neigh_find(t, 0, 0x1700a8c0), *s = xvs_neigh_find(t, 0, 0x1800a8c0);
	cr_assert_eq(xvs_neigh_nud_step(t, a, S(60), &c), XVS_NUD_ACT_NONE);
	cr_assert_eq(xvs_neigh_nud_step(t, a, S(62), &c), XVS_NUD_ACT_EVICT);
	cr_assert_eq(atomic_load(&t->nb_learned), 0);
	for (unsigned i = 1; i < 10; i++)
		cr_assert_eq(xvs_neigh_nud_step(t, s, S(3600 * i), &c), XVS_NUD_ACT_NONE);
	cr_assert_not_null(xvs_neigh_find(t, 0, 0x1800a8c0));
	/* the same MAC seen again changes nothing; another one makes it STALE with that MAC */
	xvs_neigh_learn(t, 0, 0x1900a8c0, &MAC, XVS_NEIGH_CONFIRMED, S(1));
	struct xvs_neigh *b = xvs_neigh_find(t, 0, 0x1900a8c0);
	xvs_neigh_learn(t, 0, 0x1900a8c0, &MAC, XVS_NEIGH_SEEN, S(2));
	cr_assert_eq(nud_of(b), XVS_NUD_STALE, "an unasked-for reply is only seen");
	free(t);
}

Test(nud, incomplete_kept_while_asked_for)
{
	struct xvs_neigh_table *t = table();
	struct xvs_nud_cfg c = cfg();
	struct xvs_neigh *n = xvs_neigh_get(t, 0, 0x1a00a8c0, S(1));
	for (unsigned i = 1; i < 20; i++) {
		xvs_neigh_probe_due(n, S(i), S(1)); /* a real server's next hop, probed each second */
		cr_assert_eq(xvs_neigh_nud_step(t, n, S(i) + 10, &c), XVS_NUD_ACT_NONE, "second %u", i);
	}
	cr_assert_eq(xvs_neigh_nud_step(t, n, S(23), &c), XVS_NUD_ACT_EVICT);
	free(t);
}
