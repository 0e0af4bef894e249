/* The neighbour table: learning, its limits against hostile traffic, IPv6 spread. */
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

Test(neigh, learn_and_find)
{
	struct xvs_neigh_table *t = table();
	cr_assert_null(xvs_neigh_find(t, 0x0a00a8c0));
	cr_assert_eq(xvs_neigh_learn(t, 0x0a00a8c0, &MAC, 0), 0);
	struct xvs_neigh *n = xvs_neigh_find(t, 0x0a00a8c0);
	cr_assert_not_null(n);
	struct rte_ether_addr got;
	cr_assert_eq(xvs_neigh_mac(n, &got), 0);
	cr_assert(rte_is_same_ether_addr(&got, &MAC));
	/* a static entry is not relearned */
	struct rte_ether_addr other = { .addr_bytes = { 2, 0, 0, 0, 0, 7 } };
	cr_assert_eq(xvs_neigh_learn(t, 0x0b00a8c0, &MAC, 1), 0);
	cr_assert_eq(xvs_neigh_learn(t, 0x0b00a8c0, &other, 0), 0);
	cr_assert_eq(xvs_neigh_mac(xvs_neigh_find(t, 0x0b00a8c0), &got), 0);
	cr_assert(rte_is_same_ether_addr(&got, &MAC));
	free(t);
}

/* Learning from others stops at the mark; next hops xvs needs can still be claimed. */
Test(neigh, hostile_learning_leaves_room)
{
	struct xvs_neigh_table *t = table();
	unsigned learned = 0;
	for (uint32_t i = 1; i <= XVS_NEIGH_SIZE; i++)
		if (xvs_neigh_learn(t, rte_cpu_to_be_32(0x0a000000 + i), &MAC, 0) == 0)
			learned++;
	cr_assert_leq(learned, XVS_NEIGH_LEARN_MAX);
	cr_assert_geq(learned, XVS_NEIGH_LEARN_MAX - 64, "learning stopped early: %u", learned);
	unsigned needed = 0;
	for (uint32_t i = 1; i <= 64; i++)
		if (xvs_neigh_get(t, rte_cpu_to_be_32(0xc6130000 + i)))
			needed++;
	cr_assert_geq(needed, 60, "next hops crowded out: %u of 64", needed);
	free(t);
}

/* IPv6 addresses that differ only in their last byte all fit and are found. */
Test(neigh, ipv6_last_byte)
{
	struct xvs_neigh_table *t = table();
	for (unsigned i = 0; i < 256; i++) {
		union xvs_ip a = { .v6 = { 0x20, 0x01, 0x0d, 0xb8, [15] = (uint8_t)i } };
		cr_assert_eq(xvs_neigh_learn_ip(t, XVS_AF_INET6, &a, &MAC, 1), 0, "entry %u", i);
	}
	for (unsigned i = 0; i < 256; i++) {
		union xvs_ip a = { .v6 = { 0x20, 0x01, 0x0d, 0xb8, [15] = (uint8_t)i } };
		cr_assert_not_null(xvs_neigh_find_ip(t, XVS_AF_INET6, &a), "entry %u", i);
	}
	/* an IPv4 address whose bytes equal an IPv6 one's start is another key */
	union xvs_ip v4 = { .d = { 0xb80d0120, 0 } };
	cr_assert_null(xvs_neigh_find_ip(t, XVS_AF_INET, &v4));
	free(t);
}

/* Probes due at most once per interval. */
Test(neigh, probe_rate)
{
	struct xvs_neigh_table *t = table();
	struct xvs_neigh *n = xvs_neigh_get(t, 0x01020304);
	cr_assert(xvs_neigh_probe_due(n, 1000, 500));
	cr_assert_not(xvs_neigh_probe_due(n, 1200, 500));
	cr_assert(xvs_neigh_probe_due(n, 1600, 500));
	free(t);
}
