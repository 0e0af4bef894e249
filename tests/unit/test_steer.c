/*
 * Owner of a connection across workers (dataplane/dp_steer.h, dp_path.h): both directions of
 * a NAT flow name the same owner, owners spread evenly, and the split depends on the secret.
 */
#include <math.h>

#include <criterion/criterion.h>

#include <errno.h>
#include <string.h>

#include <rte_ethdev.h>

#include "dp_path.h"
#include "dp_rss.h"

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

/* ---- steering by the NIC (dp_rss.h) ----------------------------------------------------- */

/* The RSS key of Microsoft's verification suite, and its IPv4 results. */
static const uint8_t ms_key[XVS_RSS_KEY_MAX] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

/* Toeplitz bit by bit, as the definition reads: each set input bit XORs in the key window. */
static uint32_t toeplitz_ref(const uint8_t *key, const uint8_t *in, unsigned len)
{
	uint32_t h = 0;
	for (unsigned i = 0; i < len * 8; i++) {
		if (!(in[i / 8] & (0x80u >> (i % 8))))
			continue;
		uint32_t w = 0;
		for (unsigned j = 0; j < 32; j++)
			w = w << 1 | ((key[(i + j) / 8] >> (7 - (i + j) % 8)) & 1);
		h ^= w;
	}
	return h;
}

static struct xvs_steer *nic_steer(const uint8_t *key, unsigned reta, unsigned nb)
{
	static struct xvs_steer s;
	memset(&s, 0, sizeof(s));
	s.nb_workers = nb;
	xvs_rss_model_init(&s, key, reta, nb);
	return &s;
}

Test(rss, microsoft_vectors)
{
	struct xvs_steer *s = nic_steer(ms_key, 128, 4);
	/* src, dst, sport, dport -> hash over the addresses, hash over addresses and ports */
	static const struct { uint8_t in[12]; uint32_t ip, tcp; } v[] = {
		{ { 66, 9, 149, 187, 161, 142, 100, 80, 0x0a, 0xea, 0x06, 0xe6 }, 0x323e8fc2, 0x51ccc178 },
		{ { 199, 92, 111, 2, 65, 69, 140, 83, 0x37, 0x96, 0x12, 0x83 }, 0xd718262a, 0xc626b0ea },
		{ { 24, 19, 198, 95, 12, 22, 207, 184, 0x32, 0x62, 0x94, 0x88 }, 0xd2d0a5de, 0x5c2b394a },
		{ { 38, 27, 205, 30, 209, 142, 163, 6, 0xbc, 0x64, 0x08, 0xa9 }, 0x82989176, 0xafc7327f },
		{ { 153, 39, 163, 191, 202, 188, 127, 2, 0xac, 0xdb, 0x05, 0x17 }, 0x5d1809c5, 0x10e828a2 },
	};
	for (unsigned i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		cr_assert_eq(xvs_rss_hash(s->tab, v[i].in, 8), v[i].ip, "vector %u (IP)", i);
		cr_assert_eq(xvs_rss_hash(s->tab, v[i].in, 12), v[i].tcp, "vector %u (TCP)", i);
	}
}

/* The tables give the bitwise hash for any key and input. */
Test(rss, tables_equal_definition)
{
	uint8_t key[XVS_RSS_KEY_MAX], in[XVS_RSS_IN_MAX];
	for (int round = 0; round < 20; round++) {
		for (unsigned i = 0; i < sizeof(key); i++)
			key[i] = (uint8_t)next();
		struct xvs_steer *s = nic_steer(key, 64, 3);
		for (int k = 0; k < 200; k++) {
			unsigned len = 1 + (unsigned)(next() % XVS_RSS_IN_MAX);
			for (unsigned i = 0; i < len; i++)
				in[i] = (uint8_t)next();
			cr_assert_eq(xvs_rss_hash(s->tab, in, len), toeplitz_ref(key, in, len));
		}
	}
}

/*
 * The NIC hashes a client's packet on its source (address, port) and the real server's reply
 * on its destination: the same bytes. The model's owner is that queue, from either direction.
 */
Test(rss, owner_is_the_nics_queue)
{
	uint8_t key[XVS_RSS_KEY_MAX];
	for (unsigned i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)next();
	struct xvs_steer *s = nic_steer(key, 128, 3);
	unsigned count[3] = { 0 };
	for (int i = 0; i < 30000; i++) {
		uint32_t client = (uint32_t)next(), rs = (uint32_t)next();
		uint16_t cport = (uint16_t)next();
		struct xvs_conn_key orig = { .af = XVS_AF_INET, .proto = 6, .src = client,
					     .dst = 0x640012c6, .sport = cport, .dport = htons(80) };
		struct xvs_conn_key reply = { .af = XVS_AF_INET, .proto = 6, .src = rs, .dst = client,
					      .sport = htons(8080), .dport = cport };
		uint8_t in[6];
		memcpy(in, &client, 4);
		memcpy(in + 4, &cport, 2);
		unsigned q = (toeplitz_ref(key, in, 6) & 127) % 3;
		cr_assert_eq(xvs_steer_owner_of(s, &orig, 0), q);
		cr_assert_eq(xvs_steer_owner_of(s, &reply, 1), q);
		count[q]++;
	}
	for (unsigned q = 0; q < 3; q++)
		cr_expect(count[q] > 9000 && count[q] < 11000, "queue %u: %u of 30000", q, count[q]);
}

Test(rss, owner_is_the_nics_queue_v6)
{
	struct xvs_steer *s = nic_steer(ms_key, 512, 4);
	for (int i = 0; i < 5000; i++) {
		union xvs_ip client = { .d = { next(), next() } };
		uint16_t cport = (uint16_t)next();
		uint8_t in[18];
		memcpy(in, client.v6, 16);
		memcpy(in + 16, &cport, 2);
		unsigned q = (toeplitz_ref(ms_key, in, 18) & 511) % 4;
		cr_assert_eq(xvs_steer_owner6(s, &client, cport), q);
	}
}

/* Ports as a two-port NIC that can hash on either side's fields alone describes itself. */
#define FULL (RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV4_UDP | \
	      RTE_ETH_RSS_NONFRAG_IPV6_TCP | RTE_ETH_RSS_NONFRAG_IPV6_UDP | RTE_ETH_RSS_L3_SRC_ONLY | \
	      RTE_ETH_RSS_L4_SRC_ONLY | RTE_ETH_RSS_L3_DST_ONLY | RTE_ETH_RSS_L4_DST_ONLY)

static void two_ports(struct xvs_rss_port p[2])
{
	p[0] = (struct xvs_rss_port){ "cli", FULL, 512, 52, XVS_FACES_CLIENTS };
	p[1] = (struct xvs_rss_port){ "srv", FULL, 512, 52, XVS_FACES_SERVERS };
}

Test(rss, plan_two_armed_nic)
{
	struct xvs_rss_port p[2];
	char msg[256];
	two_ports(p);
	cr_assert_eq(xvs_rss_plan(p, 2, 4, XVS_STEERING_AUTO, msg, sizeof(msg)), 1);
	cr_assert_eq(xvs_rss_plan(p, 2, 4, XVS_STEERING_NIC, msg, sizeof(msg)), 1);
	cr_assert_eq(xvs_rss_plan(p, 2, 1, XVS_STEERING_NIC, msg, sizeof(msg)), 0, "one worker");
	cr_assert_eq(xvs_rss_plan(p, 2, 4, XVS_STEERING_SOFTWARE, msg, sizeof(msg)), 0);
	cr_assert_str_eq(msg, "steering = software");
	cr_assert_eq(xvs_rss_hf(XVS_FACES_CLIENTS) & (RTE_ETH_RSS_L3_DST_ONLY | RTE_ETH_RSS_L4_DST_ONLY), 0);
	cr_assert_eq(xvs_rss_hf(XVS_FACES_SERVERS) & (RTE_ETH_RSS_L3_SRC_ONLY | RTE_ETH_RSS_L4_SRC_ONLY), 0);
}

/* Each reason for software names the port and why; steering = nic refuses instead. */
Test(rss, plan_falls_back_with_reason)
{
	struct xvs_rss_port p[2];
	char msg[256];
	static const struct { const char *why; } cases[] = {
		{ "cannot hash on the destination fields alone" }, { "no 'faces'" },
		{ "faces both sides" }, { "redirection table size differs" },
		{ "fewer redirection entries than workers" }, { "hash key size" },
	};
	for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		two_ports(p);
		switch (c) {
		case 0: p[1].offloads &= ~RTE_ETH_RSS_L4_DST_ONLY; break;
		case 1: p[1].faces = XVS_FACES_UNSET; break;
		case 2: p[1].faces = XVS_FACES_BOTH; break;
		case 3: p[1].reta_size = 128; break;
		case 4: p[0].reta_size = p[1].reta_size = 4; break;
		case 5: p[1].key_size = 16; break;
		}
		unsigned workers = c == 4 ? 8 : 4;
		cr_assert_eq(xvs_rss_plan(p, 2, workers, XVS_STEERING_AUTO, msg, sizeof(msg)), 0, "case %u", c);
		cr_assert(strstr(msg, "port srv: ") == msg || (c == 4 && strstr(msg, "port cli: ") == msg),
			  "case %u: %s", c, msg);
		cr_assert(strstr(msg, cases[c].why), "case %u: %s", c, msg);
		cr_assert_eq(xvs_rss_plan(p, 2, workers, XVS_STEERING_NIC, msg, sizeof(msg)), -EINVAL);
	}
	/* a virtual device: no field selection at all */
	two_ports(p);
	p[0].offloads = RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP;
	cr_assert_eq(xvs_rss_plan(p, 2, 2, XVS_STEERING_AUTO, msg, sizeof(msg)), 0);
	cr_assert(strstr(msg, "port cli: it cannot hash on the source fields alone"), "%s", msg);
}
