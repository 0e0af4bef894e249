/*
 * Owner of a connection across workers (dataplane/dp_steer.h, dp_path.h): both directions of
 * a NAT flow name the same owner, owners spread evenly, and the split depends on the secret.
 */
#include <math.h>

#include <criterion/criterion.h>

#include "dp_path.h"

static struct xvs_steer steer(uint32_t nb, uint64_t k0, uint64_t k1)
{
	return (struct xvs_steer){ .key = { k0, k1 }, .nb_workers = nb };
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A client's packet to the VIP and the real server's NAT reply to it: one owner. */
Test(steer, both_directions_one_owner)
{
	struct xvs_steer s = steer(4, 0x1234, 0x5678);
	for (int i = 0; i < 10000; i++) {
		uint32_t client = (uint32_t)next(), vip = 0x640012c6, rs = (uint32_t)next();
		uint16_t cport = (uint16_t)next(), rport = (uint16_t)next();
		struct xvs_conn_key orig = { .src = client, .dst = vip, .sport = cport, .dport = 0x5000,
					     .proto = IPPROTO_TCP };
		struct xvs_conn_key reply = { .src = rs, .dst = client, .sport = rport, .dport = cport,
					      .proto = IPPROTO_TCP };
		unsigned o = xvs_steer_owner_of(&s, &orig, 0);
		cr_assert_lt(o, 4);
		cr_assert_eq(o, xvs_steer_owner_of(&s, &reply, 1));
	}
}

Test(steer, both_directions_one_owner_v6)
{
	struct xvs_steer s = steer(3, 0xabc, 0xdef);
	for (int i = 0; i < 10000; i++) {
		struct xvs_conn_key orig = { .af = XVS_AF_INET6, .proto = IPPROTO_UDP,
					     .sport = (uint16_t)next(), .dport = 0x3500 };
		orig.src6.d[0] = next();
		orig.src6.d[1] = next();
		orig.dst6.d[0] = next();
		struct xvs_conn_key reply = { .af = XVS_AF_INET6, .proto = IPPROTO_UDP, .src6 = orig.dst6,
					      .dst6 = orig.src6, .sport = 0x3500, .dport = orig.sport };
		unsigned o = xvs_steer_owner_of(&s, &orig, 0);
		cr_assert_lt(o, 3);
		cr_assert_eq(o, xvs_steer_owner_of(&s, &reply, 1));
	}
}

/*
 * Every worker owns its share, within five standard deviations of a uniform draw, for random
 * clients and for one address with every port.
 */
static void check_spread(uint32_t nb, int ports_only)
{
	const unsigned n = ports_only ? 65536 : 200000;
	unsigned count[XVS_MAX_LCORES] = { 0 };
	struct xvs_steer s = steer(nb, next(), next());
	uint32_t one = (uint32_t)next();
	for (unsigned i = 0; i < n; i++) {
		uint32_t a = ports_only ? one : (uint32_t)next();
		uint16_t p = ports_only ? (uint16_t)i : (uint16_t)next();
		count[xvs_steer_owner4(&s, a, p)]++;
	}
	double share = (double)n / nb, tol = 5 * sqrt(share);
	for (unsigned w = 0; w < nb; w++)
		cr_expect(count[w] > share - tol && count[w] < share + tol,
			  "%u workers: worker %u owns %u of %u", nb, w, count[w], n);
}

Test(steer, even_spread)
{
	for (uint32_t nb = 2; nb <= XVS_MAX_LCORES; nb++) {
		check_spread(nb, 0);
		check_spread(nb, 1);
	}
}

/* Another secret, another split: a client cannot know which worker owns it. */
Test(steer, split_depends_on_the_secret)
{
	struct xvs_steer a = steer(2, 1, 2), b = steer(2, 3, 4);
	unsigned differ = 0;
	for (unsigned i = 0; i < 10000; i++) {
		uint32_t addr = (uint32_t)next();
		uint16_t port = (uint16_t)next();
		differ += xvs_steer_owner4(&a, addr, port) != xvs_steer_owner4(&b, addr, port);
	}
	cr_expect(differ > 4500 && differ < 5500, "%u of 10000 owners moved", differ);
}

/* One worker: everything is its own. */
Test(steer, one_worker)
{
	struct xvs_steer s = steer(1, next(), next());
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(xvs_steer_owner4(&s, (uint32_t)next(), (uint16_t)next()), 0);
}
