/* Unit tests of table generations: VIP hash, seal, and validation of every corruption. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "xvs/gen.h"
#include "xvs/sched.h"

#define NB_SVCS      900 /* used services; a few slots among them stay free */
#define DESTS_PER    4
#define NB_CLUSTER   6   /* services forced into one hash bucket */

static uint64_t rng_state;

static uint64_t rnd64(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint32_t rnd(void)
{
	return (uint32_t)(rnd64() >> 17);
}

static struct xvs_gen *gen_alloc(void)
{
	struct xvs_gen *g = calloc(1, sizeof(*g));
	cr_assert_not_null(g);
	return g;
}

static int slot_is_free(uint32_t i)
{
	return i % 97 == 13; /* holes among the used slots */
}

static void svc_key(uint32_t i, struct xvs_svc *s)
{
	memset(&s->addr, 0, sizeof(s->addr));
	if (i % 5 == 4) {
		s->af = XVS_AF_INET6;
		s->addr.v6[0] = 0x20;
		s->addr.v6[1] = 0x01;
		s->addr.w[3] = i * 2654435761u;
	} else {
		s->af = XVS_AF_INET;
		s->addr.v4 = 0x0a000000u | (i / 3);
	}
	s->proto = i % 2 ? XVS_PROTO_UDP : XVS_PROTO_TCP;
	s->port_be = (uint16_t)(80 + i % 3);
}

/*
 * Give the last NB_CLUSTER used services keys that all hash to the same bucket, so lookups
 * must walk a collision chain. Keys are searched for deterministically.
 */
static void make_cluster(struct xvs_gen *g, uint32_t first)
{
	union xvs_ip a = { 0 };
	uint32_t want = 0, found = 0;
	for (uint32_t n = 1; found < NB_CLUSTER; n++) {
		a.v4 = 0xc0a80000u + n;
		uint32_t h = xvs_vip_hash(XVS_PROTO_TCP, &a, 443);
		if (found == 0)
			want = h;
		if (h != want)
			continue;
		struct xvs_svc *s = &g->svcs[first + found++];
		s->af = XVS_AF_INET;
		s->addr = a;
		s->proto = XVS_PROTO_TCP;
		s->port_be = 443;
	}
}

/* Fill services, destinations and lists as control would; build scheduler data and hash. */
static struct xvs_gen *make_gen(void)
{
	struct xvs_gen *g = gen_alloc();
	uint32_t nd = 0;
	g->gen = 7;
	g->timeouts = (struct xvs_timeouts){ 900, 120, 300 };
	for (uint32_t i = 0; i < NB_SVCS; i++) {
		struct xvs_svc *s = &g->svcs[i];
		if (slot_is_free(i))
			continue;
		s->state = XVS_SLOT_USED;
		svc_key(i, s);
		/* every scheduler, Maglev once (its table is big) */
		s->sched = i == 2 ? XVS_SCHED_MH : (uint8_t)(1 + i % (XVS_SCHED_MAX - 1));
		if (s->sched == XVS_SCHED_MH && i != 2)
			s->sched = XVS_SCHED_SH;
		s->sched_epoch = i + 1;
		s->flags = i % 4 == 1 ? XVS_SVC_F_SCHED1 : 0;
	}
	make_cluster(g, NB_SVCS - NB_CLUSTER);
	for (uint32_t i = 0; i < NB_SVCS; i++) {
		struct xvs_svc *s = &g->svcs[i];
		if (s->state != XVS_SLOT_USED)
			continue;
		const struct xvs_dest *dp[DESTS_PER];
		const struct xvs_sched_ops *ops = xvs_sched_all[s->sched];
		s->dest_first = (uint16_t)nd;
		s->nb_dests = DESTS_PER;
		for (uint32_t k = 0; k < DESTS_PER; k++, nd++) {
			/* list order differs from slot order */
			uint32_t slot = nd ^ 1;
			g->dests[slot] = (struct xvs_dest){ .state = XVS_SLOT_USED, .af = XVS_AF_INET,
							    .fwd = k % 2 ? XVS_FWD_DROUTE : XVS_FWD_MASQ,
							    .svc = (uint16_t)i,
							    .weight = (int32_t)(k + 1) * 2,
							    .last_weight = (int32_t)(k + 1) * 2 };
			if (s->af == XVS_AF_INET6) { /* NAT and DR keep the service's family */
				g->dests[slot].af = XVS_AF_INET6;
				g->dests[slot].addr.v6[0] = 0x20;
				g->dests[slot].addr.v6[1] = 0x01;
				g->dests[slot].addr.w[3] = 0x0b000000u + slot;
			} else {
				g->dests[slot].addr.v4 = 0x0b000000u + slot;
			}
			g->svc_dests[nd] = (uint16_t)slot;
			dp[k] = &g->dests[slot];
		}
		if (ops->build_tab) {
			char msg[128] = "";
			struct xvs_sched_tab_build tb = { .g = g, .msg = msg, .msglen = sizeof(msg),
							  .params = { .mh_size = XVS_MH_SIZE_DEFAULT } };
			cr_assert_eq(ops->build_tab(&tb, s, dp, DESTS_PER), 0, "%s", msg);
		} else {
			cr_assert_eq(ops->build(s, dp, DESTS_PER), 0);
		}
	}
	/* a deleted destination kept for its connections */
	g->dests[nd] = (struct xvs_dest){ .state = XVS_SLOT_TRASH, .af = XVS_AF_INET6, .svc = 0,
					  .fwd = XVS_FWD_TUNNEL };
	nd++;
	g->nb_svcs = NB_SVCS;
	g->nb_dests = nd;
	g->nb_svc_dests = nd - 1;
	cr_assert_eq(xvs_gen_build_vip_hash(g), 0);
	xvs_gen_seal(g);
	return g;
}

static void assert_valid(const struct xvs_gen *g)
{
	char err[256] = "";
	int rc = xvs_gen_validate(g, err, sizeof(err));
	cr_assert_eq(rc, 0, "refused: %s", err);
}

static void assert_refused(const struct xvs_gen *g, const char *why)
{
	char err[256] = "";
	cr_assert_eq(xvs_gen_validate(g, err, sizeof(err)), -EINVAL, "accepted, want '%s'", why);
	cr_assert_not_null(strstr(err, why), "reason '%s', want '%s'", err, why);
	/* the reason is optional */
	cr_assert_eq(xvs_gen_validate(g, NULL, 0), -EINVAL);
}

/* First used service whose dests are where make_gen put them. */
static uint32_t a_svc(const struct xvs_gen *g)
{
	for (uint32_t i = 0; i < g->nb_svcs; i++)
		if (g->svcs[i].state == XVS_SLOT_USED)
			return i;
	cr_assert_fail("no service");
	return 0;
}

Test(gen, built_generation_validates)
{
	struct xvs_gen *g = make_gen();
	cr_assert_eq(g->magic, XVS_GEN_MAGIC);
	assert_valid(g);
	free(g);
}

Test(gen, lookup_finds_every_service)
{
	struct xvs_gen *g = make_gen();
	for (uint32_t i = 0; i < g->nb_svcs; i++) {
		const struct xvs_svc *s = &g->svcs[i];
		if (s->state != XVS_SLOT_USED)
			continue;
		cr_assert_eq(xvs_gen_vip_lookup(g, s->proto, &s->addr, s->port_be), (int)i,
			     "service %u", i);
		/* same address and port, other protocol / port: another service or none */
		uint8_t other = s->proto == XVS_PROTO_TCP ? XVS_PROTO_UDP : XVS_PROTO_TCP;
		int r = xvs_gen_vip_lookup(g, other, &s->addr, s->port_be);
		cr_assert(r == -1 || (g->svcs[r].proto == other && xvs_ip_eq(&g->svcs[r].addr, &s->addr)));
		cr_assert_eq(xvs_gen_vip_lookup(g, s->proto, &s->addr, 9999), -1);
	}
	free(g);
}

Test(gen, lookup_walks_collision_chain)
{
	struct xvs_gen *g = make_gen();
	const struct xvs_svc *c0 = &g->svcs[NB_SVCS - NB_CLUSTER];
	uint32_t h = xvs_vip_hash(c0->proto, &c0->addr, c0->port_be);
	for (uint32_t k = 0; k < NB_CLUSTER; k++) {
		const struct xvs_svc *s = &g->svcs[NB_SVCS - NB_CLUSTER + k];
		cr_assert_eq(xvs_vip_hash(s->proto, &s->addr, s->port_be), h);
		cr_assert_eq(xvs_gen_vip_lookup(g, s->proto, &s->addr, s->port_be),
			     (int)(NB_SVCS - NB_CLUSTER + k));
	}
	free(g);
}

Test(gen, hash_in_range_and_spread)
{
	static unsigned hits[XVS_VIP_HASH_SIZE];
	union xvs_ip a = { 0 };
	unsigned max = 0;
	for (uint32_t i = 0; i < 64 * XVS_VIP_HASH_SIZE; i++) {
		a.v4 = 0x0a000000u + i / 4;
		uint32_t h = xvs_vip_hash(XVS_PROTO_TCP, &a, (uint16_t)(i % 4));
		cr_assert_lt(h, XVS_VIP_HASH_SIZE);
		if (++hits[h] > max)
			max = hits[h];
	}
	/* 64 keys per bucket on average: a decent hash stays well below 4x that */
	cr_assert_lt(max, 256, "worst bucket %u", max);
}

/* A table with more used services than the hash holds cannot exist; a full hash is refused. */
Test(gen, build_vip_hash_max_services)
{
	struct xvs_gen *g = gen_alloc();
	g->gen = 1;
	g->timeouts = (struct xvs_timeouts){ 1, 1, 1 };
	for (uint32_t i = 0; i < XVS_MAX_SVCS; i++) {
		struct xvs_svc *s = &g->svcs[i];
		s->state = XVS_SLOT_USED;
		s->af = XVS_AF_INET;
		s->proto = XVS_PROTO_TCP;
		s->sched = XVS_SCHED_RR;
		s->addr.v4 = 0x01000000u + i;
		s->port_be = 80;
	}
	g->nb_svcs = XVS_MAX_SVCS;
	cr_assert_eq(xvs_gen_build_vip_hash(g), 0);
	xvs_gen_seal(g);
	assert_valid(g);
	free(g);
}

/* ---- corruptions --------------------------------------------------------------------- */

enum reseal { KEEP_CRC, RESEAL };

struct corruption {
	const char *name;
	void (*apply)(struct xvs_gen *g);
	enum reseal reseal;
	const char *why;
};

static void c_magic(struct xvs_gen *g) { g->magic ^= 1; }
static void c_gen0(struct xvs_gen *g) { g->gen = 0; }
static void c_nb_svcs(struct xvs_gen *g) { g->nb_svcs = XVS_MAX_SVCS + 1; }
static void c_nb_dests(struct xvs_gen *g) { g->nb_dests = XVS_MAX_DESTS + 1; }
static void c_nb_list(struct xvs_gen *g) { g->nb_svc_dests = 0xffffffffu; }
static void c_body_first(struct xvs_gen *g) { ((uint8_t *)g)[XVS_GEN_BODY_OFF] ^= 0x01; }
static void c_body_last(struct xvs_gen *g)
{
	((uint8_t *)g)[XVS_GEN_BODY_OFF + xvs_gen_crc_len(g) - 1] ^= 0x80;
}
static void c_crc(struct xvs_gen *g) { g->crc++; }
static void c_timeout(struct xvs_gen *g) { g->timeouts.udp = 0; }

static void c_dest_index(struct xvs_gen *g)
{
	struct xvs_svc *s = &g->svcs[a_svc(g)];
	g->svc_dests[s->dest_first + 1] = (uint16_t)g->nb_dests;
}

static void c_dest_index_max(struct xvs_gen *g)
{
	struct xvs_svc *s = &g->svcs[a_svc(g)];
	g->svc_dests[s->dest_first] = 0xffff;
}

static void c_list_bounds(struct xvs_gen *g)
{
	struct xvs_svc *s = &g->svcs[g->nb_svcs - 1];
	s->nb_dests = (uint16_t)(g->nb_svc_dests - s->dest_first + 1);
}

static void c_list_first(struct xvs_gen *g)
{
	g->svcs[a_svc(g)].dest_first = 0xffff;
}

static void c_hash_free_svc(struct xvs_gen *g)
{
	for (uint32_t h = 0; h < XVS_VIP_HASH_SIZE; h++)
		if (!g->vip_hash[h]) {
			g->vip_hash[h] = 13 + 1; /* slot 13 is a hole */
			return;
		}
}

static void c_hash_beyond(struct xvs_gen *g)
{
	for (uint32_t h = 0; h < XVS_VIP_HASH_SIZE; h++)
		if (!g->vip_hash[h]) {
			g->vip_hash[h] = (uint16_t)(g->nb_svcs + 1);
			return;
		}
}

static void c_hash_max(struct xvs_gen *g)
{
	g->vip_hash[XVS_VIP_HASH_SIZE - 1] = 0xffff;
}

/* Drop the bucket of a service with no collision: nothing else moves, it just vanishes. */
static void c_hash_missing(struct xvs_gen *g)
{
	const struct xvs_svc *s = &g->svcs[a_svc(g)];
	uint32_t h = xvs_vip_hash(s->proto, &s->addr, s->port_be);
	cr_assert_eq(g->vip_hash[h], a_svc(g) + 1, "test assumes no collision for service 0");
	g->vip_hash[h] = 0;
}

/* A bucket of a collision chain emptied: the services behind it become unreachable. */
static void c_hash_chain_cut(struct xvs_gen *g)
{
	const struct xvs_svc *s = &g->svcs[NB_SVCS - NB_CLUSTER];
	g->vip_hash[xvs_vip_hash(s->proto, &s->addr, s->port_be)] = 0;
}

static void c_hash_full(struct xvs_gen *g)
{
	for (uint32_t h = 0; h < XVS_VIP_HASH_SIZE; h++)
		if (!g->vip_hash[h])
			g->vip_hash[h] = (uint16_t)(a_svc(g) + 1);
}

static void c_sched0(struct xvs_gen *g) { g->svcs[a_svc(g)].sched = 0; }
static void c_sched_max(struct xvs_gen *g) { g->svcs[a_svc(g)].sched = XVS_SCHED_MAX; }
static void c_sched_255(struct xvs_gen *g) { g->svcs[a_svc(g)].sched = 255; }
static void c_svc_af(struct xvs_gen *g) { g->svcs[a_svc(g)].af = 2; }
static void c_svc_proto(struct xvs_gen *g) { g->svcs[a_svc(g)].proto = 1; }
static void c_svc_state(struct xvs_gen *g) { g->svcs[13].state = 3; } /* a hole: not hashed */
static void c_svc_v4_junk(struct xvs_gen *g) { g->svcs[a_svc(g)].addr.v6[15] = 1; }
static void c_wrr_di(struct xvs_gen *g) { g->svcs[1].sd.i32[1] = 0; }
static void c_wrr_mw(struct xvs_gen *g) { g->svcs[1].sd.i32[0] = -1; }
static void c_registry(struct xvs_gen *g) { g->sched_registry ^= 1; }
static void c_nb_tab(struct xvs_gen *g) { g->nb_sched_tab = XVS_SCHED_TAB_POOL + 1; }
static void c_mh_off(struct xvs_gen *g) { g->svcs[2].sd.tab.off = g->nb_sched_tab; }
static void c_mh_size(struct xvs_gen *g) { g->svcs[2].sd.tab.size++; }
static void c_mh_beyond(struct xvs_gen *g)
{
	g->svcs[2].sd.tab.size = g->nb_sched_tab - g->svcs[2].sd.tab.off + 1;
}
static void c_mh_entry(struct xvs_gen *g) { g->sched_tab[g->svcs[2].sd.tab.off + 7] = DESTS_PER; }

/* The first sh service (make_gen gives them ids from its pattern). */
static struct xvs_svc *an_sh(struct xvs_gen *g)
{
	for (uint32_t i = 0; i < g->nb_svcs; i++)
		if (g->svcs[i].state == XVS_SLOT_USED && g->svcs[i].sched == XVS_SCHED_SH)
			return &g->svcs[i];
	cr_assert_fail("no sh service");
	return NULL;
}

static void c_sh_size(struct xvs_gen *g) { an_sh(g)->sd.tab.size = 255; }
static void c_sh_entry(struct xvs_gen *g) { g->sched_tab[an_sh(g)->sd.tab.off + 255] = 0xfffe; }

static struct xvs_dest *first_dest(struct xvs_gen *g)
{
	const struct xvs_svc *s = &g->svcs[a_svc(g)];
	return &g->dests[g->svc_dests[s->dest_first]];
}

static void c_dest_af(struct xvs_gen *g) { first_dest(g)->af = 0; }
static void c_dest_state(struct xvs_gen *g) { first_dest(g)->state = 9; }
static void c_dest_fwd(struct xvs_gen *g) { first_dest(g)->fwd = XVS_FWD_LOCAL; }
static void c_dest_fwd_junk(struct xvs_gen *g) { first_dest(g)->fwd = 77; }
static void c_dest_weight(struct xvs_gen *g) { first_dest(g)->weight = -5; }
static void c_dest_last_weight(struct xvs_gen *g) { first_dest(g)->last_weight = -1; }
static void c_dest_v4_junk(struct xvs_gen *g) { first_dest(g)->addr.w[2] = 1; }
static void c_dest_weight_big(struct xvs_gen *g) { first_dest(g)->weight = XVS_MAX_WEIGHT + 1; }
static void c_dest_last_weight_big(struct xvs_gen *g) { first_dest(g)->last_weight = 1 << 20; }
static void c_dest_thresh(struct xvs_gen *g) { first_dest(g)->u_thresh = 0x80000000u; }
static void c_svc_flags(struct xvs_gen *g) { g->svcs[a_svc(g)].flags |= 0x4000; }
static void c_svc_persist0(struct xvs_gen *g)
{
	g->svcs[a_svc(g)].flags |= XVS_SVC_F_PERSISTENT;
	g->svcs[a_svc(g)].persist_timeout = 0;
}
static void c_svc_persist_big(struct xvs_gen *g)
{
	g->svcs[a_svc(g)].flags |= XVS_SVC_F_PERSISTENT;
	g->svcs[a_svc(g)].persist_timeout = XVS_MAX_TIMEOUT + 1;
}
static void c_svc_ops_tcp(struct xvs_gen *g)
{
	struct xvs_svc *s = &g->svcs[a_svc(g)];
	cr_assert_neq(s->proto, XVS_PROTO_UDP);
	s->flags |= XVS_SVC_F_ONEPACKET;
}
static void c_timeout_big(struct xvs_gen *g) { g->timeouts.udp = XVS_MAX_TIMEOUT + 1; }
static void c_dest_svc_oob(struct xvs_gen *g) { first_dest(g)->svc = 0xffff; }
static void c_dest_svc_free(struct xvs_gen *g) { first_dest(g)->svc = 13; }
static void c_dest_trash_listed(struct xvs_gen *g) { first_dest(g)->state = XVS_SLOT_TRASH; }

static void c_dest_other_svc(struct xvs_gen *g)
{
	uint32_t mine = a_svc(g);
	first_dest(g)->svc = (uint16_t)(mine + 1);
	cr_assert_eq(g->svcs[mine + 1].state, XVS_SLOT_USED);
}

/* A destination listed by two services: one of them does not own it. */
static void c_dest_listed_twice(struct xvs_gen *g)
{
	const struct xvs_svc *s0 = &g->svcs[0], *s1 = &g->svcs[1];
	g->svc_dests[s1->dest_first] = g->svc_dests[s0->dest_first];
}

/* Indexed with ParameterizedTest by position: function pointers do not survive the copy. */
static const struct corruption corruptions[] = {
	{ "magic", c_magic, KEEP_CRC, "bad magic" },
	{ "gen0", c_gen0, KEEP_CRC, "generation 0" },
	{ "nb_svcs", c_nb_svcs, KEEP_CRC, "counts out of bounds" },
	{ "nb_dests", c_nb_dests, KEEP_CRC, "counts out of bounds" },
	{ "nb_svc_dests", c_nb_list, KEEP_CRC, "counts out of bounds" },
	{ "body_first_byte", c_body_first, KEEP_CRC, "crc" },
	{ "body_last_byte", c_body_last, KEEP_CRC, "crc" },
	{ "crc", c_crc, KEEP_CRC, "crc" },
	{ "zero_timeout", c_timeout, RESEAL, "zero timeout" },
	{ "dest_index", c_dest_index, RESEAL, "out of bounds" },
	{ "dest_index_max", c_dest_index_max, RESEAL, "out of bounds" },
	{ "list_bounds", c_list_bounds, RESEAL, "destination list out of bounds" },
	{ "list_first", c_list_first, RESEAL, "destination list out of bounds" },
	{ "hash_free_svc", c_hash_free_svc, RESEAL, "VIP hash bucket" },
	{ "hash_beyond", c_hash_beyond, RESEAL, "VIP hash bucket" },
	{ "hash_max", c_hash_max, RESEAL, "VIP hash bucket" },
	{ "hash_missing", c_hash_missing, RESEAL, "not found through the VIP hash" },
	{ "hash_chain_cut", c_hash_chain_cut, RESEAL, "not found through the VIP hash" },
	{ "hash_full", c_hash_full, RESEAL, "no empty bucket" },
	{ "sched0", c_sched0, RESEAL, "unknown scheduler" },
	{ "sched_max", c_sched_max, RESEAL, "unknown scheduler" },
	{ "sched_255", c_sched_255, RESEAL, "unknown scheduler" },
	{ "svc_af", c_svc_af, RESEAL, "bad address family" },
	{ "svc_proto", c_svc_proto, RESEAL, "bad protocol" },
	{ "svc_state", c_svc_state, RESEAL, "bad state" },
	{ "svc_v4_junk", c_svc_v4_junk, RESEAL, "bad address" },
	{ "wrr_di", c_wrr_di, RESEAL, "bad wrr data" },
	{ "wrr_mw", c_wrr_mw, RESEAL, "bad wrr data" },
	{ "sched_registry", c_registry, KEEP_CRC, "another list of schedulers" },
	{ "nb_sched_tab", c_nb_tab, KEEP_CRC, "counts out of bounds" },
	{ "mh_tab_off", c_mh_off, RESEAL, "bad mh data" },
	{ "mh_tab_size", c_mh_size, RESEAL, "bad mh data" },
	{ "mh_tab_beyond", c_mh_beyond, RESEAL, "bad mh data" },
	{ "mh_tab_entry", c_mh_entry, RESEAL, "bad mh data" },
	{ "sh_tab_size", c_sh_size, RESEAL, "bad sh data" },
	{ "sh_tab_entry", c_sh_entry, RESEAL, "bad sh data" },
	{ "dest_af", c_dest_af, RESEAL, "bad address family" },
	{ "dest_state", c_dest_state, RESEAL, "bad state" },
	{ "dest_fwd_local", c_dest_fwd, RESEAL, "bad forwarding method" },
	{ "dest_fwd_junk", c_dest_fwd_junk, RESEAL, "bad forwarding method" },
	{ "dest_weight", c_dest_weight, RESEAL, "negative weight" },
	{ "dest_last_weight", c_dest_last_weight, RESEAL, "negative weight" },
	{ "dest_v4_junk", c_dest_v4_junk, RESEAL, "bad address" },
	{ "dest_weight_big", c_dest_weight_big, RESEAL, "weight above 65535" },
	{ "dest_last_weight_big", c_dest_last_weight_big, RESEAL, "weight above 65535" },
	{ "dest_thresh", c_dest_thresh, RESEAL, "threshold above" },
	{ "svc_flags", c_svc_flags, RESEAL, "unknown flags" },
	{ "svc_persist0", c_svc_persist0, RESEAL, "persistence timeout 0" },
	{ "svc_persist_big", c_svc_persist_big, RESEAL, "persistence timeout 2678401" },
	{ "svc_ops_tcp", c_svc_ops_tcp, RESEAL, "one-packet scheduling" },
	{ "timeout_big", c_timeout_big, RESEAL, "timeout above" },
	{ "dest_svc_oob", c_dest_svc_oob, RESEAL, "out of bounds" },
	{ "dest_svc_free", c_dest_svc_free, RESEAL, "not in use" },
	{ "dest_trash_listed", c_dest_trash_listed, RESEAL, "not its own" },
	{ "dest_other_svc", c_dest_other_svc, RESEAL, "not its own" },
	{ "dest_listed_twice", c_dest_listed_twice, RESEAL, "not its own" },
};
#define NB_CORRUPTIONS (sizeof(corruptions) / sizeof(corruptions[0]))

ParameterizedTestParameters(gen, refused)
{
	static int idx[NB_CORRUPTIONS];
	for (unsigned i = 0; i < NB_CORRUPTIONS; i++)
		idx[i] = (int)i;
	return cr_make_param_array(int, idx, NB_CORRUPTIONS);
}

ParameterizedTest(int *i, gen, refused)
{
	const struct corruption *c = &corruptions[*i];
	struct xvs_gen *g = make_gen();
	c->apply(g);
	if (c->reseal == RESEAL)
		xvs_gen_seal(g);
	cr_log_info("corruption %s", c->name);
	assert_refused(g, c->why);
	free(g);
}

/* A single bit flipped anywhere in the body (or in the crc) is caught by the crc. */
Test(gen, any_flipped_byte_fails_crc)
{
	struct xvs_gen *g = make_gen();
	const size_t body = xvs_gen_crc_len(g);
	rng_state = 0xfeedULL;
	for (int i = 0; i < 3000; i++) {
		size_t off = XVS_GEN_BODY_OFF + (i < 64 ? (size_t)i * (body / 64) : rnd() % body);
		uint8_t bit = (uint8_t)(1u << (rnd() % 8));
		((uint8_t *)g)[off] ^= bit;
		assert_refused(g, "crc");
		((uint8_t *)g)[off] ^= bit;
	}
	assert_valid(g);
	free(g);
}

/* ---- random generations ---------------------------------------------------------------- */

/*
 * What a worker does with an accepted generation: look every service up and pick from it.
 * The picks must land on the service's own live destinations. Picks are skipped when the
 * wrr data would make one pick walk more than 2^16 passes (see wrr_pick's budget).
 */
static void exercise(const struct xvs_gen *g)
{
	for (uint32_t i = 0; i < g->nb_svcs; i++) {
		const struct xvs_svc *s = &g->svcs[i];
		if (s->state != XVS_SLOT_USED)
			continue;
		cr_assert_eq(xvs_gen_vip_lookup(g, s->proto, &s->addr, s->port_be), (int)i);
		if (s->sched == XVS_SCHED_WRR && s->sd.i32[0] / s->sd.i32[1] > 65536)
			continue;
		struct xvs_sched_state st = { 0 };
		const struct xvs_sched_key key = { 0 };
		for (int k = 0; k < 8; k++) {
			int d = xvs_sched_all[s->sched]->pick(g, s, &st, &key);
			if (d < 0)
				break;
			cr_assert_lt((uint32_t)d, g->nb_dests);
			cr_assert_eq(g->dests[d].svc, i);
			cr_assert_eq(g->dests[d].state, XVS_SLOT_USED);
			cr_assert_gt(g->dests[d].weight, 0);
		}
	}
	/* lookups of random keys stay bounded and in range */
	for (int k = 0; k < 64; k++) {
		union xvs_ip a = { .d = { rnd64(), k % 2 ? 0 : rnd64() } };
		int r = xvs_gen_vip_lookup(g, (uint8_t)rnd(), &a, (uint16_t)rnd());
		cr_assert(r == -1 || ((uint32_t)r < g->nb_svcs && g->svcs[r].state == XVS_SLOT_USED));
	}
}

static void fill_random(void *p, size_t len)
{
	uint8_t *b = p;
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)rnd64();
}

/* Pure garbage, and garbage with a correct magic and crc: refused, never a crash. */
Test(gen, random_garbage_refused)
{
	struct xvs_gen *g = gen_alloc();
	rng_state = 0x1234567ULL;
	for (int i = 0; i < 300; i++) {
		/* all but most of the table pool, whose unused end nothing reads */
		fill_random(g, offsetof(struct xvs_gen, sched_tab) + 8192);
		cr_assert_eq(xvs_gen_validate(g, NULL, 0), -EINVAL, "iteration %d", i);
		/* the header made plausible: magic, gen, counts in bounds, crc right */
		g->gen = 1 + rnd() % 100;
		g->nb_svcs = rnd() % (XVS_MAX_SVCS + 1);
		g->nb_dests = rnd() % (XVS_MAX_DESTS + 1);
		g->nb_svc_dests = rnd() % (XVS_MAX_DESTS + 1);
		g->nb_sched_tab = rnd() % 4096;
		if (i % 2)
			memset(g->vip_hash, 0, sizeof(g->vip_hash)); /* get past the hash check */
		xvs_gen_seal(g);
		char err[128];
		int rc = xvs_gen_validate(g, err, sizeof(err));
		if (rc == 0)
			exercise(g);
		else
			cr_assert_eq(rc, -EINVAL);
	}
	free(g);
}

/*
 * Valid generations with a few random fields smashed and the crc recomputed: whatever the
 * validator accepts must be safe for workers (checked by exercise(), and by ASan on the
 * exactly sized heap buffer).
 */
Test(gen, mutated_generations_safe)
{
	struct xvs_gen *base = make_gen();
	struct xvs_gen *g = gen_alloc();
	const size_t body = sizeof(*g) - XVS_GEN_BODY_OFF;
	/* the used part of the body, where mutations matter */
	const size_t used[][2] = {
		{ offsetof(struct xvs_gen, vip_hash), sizeof(g->vip_hash) },
		{ offsetof(struct xvs_gen, svcs), NB_SVCS * sizeof(struct xvs_svc) },
		{ offsetof(struct xvs_gen, dests), (NB_SVCS * DESTS_PER + 1) * sizeof(struct xvs_dest) },
		{ offsetof(struct xvs_gen, svc_dests), NB_SVCS * DESTS_PER * sizeof(uint16_t) },
		{ offsetof(struct xvs_gen, sched_tab), base->nb_sched_tab * sizeof(uint16_t) },
	};
	unsigned accepted = 0;
	rng_state = 0xabcdefULL;
	for (int i = 0; i < 1500; i++) {
		memcpy(g, base, sizeof(*g));
		int nmut = 1 + (int)(rnd() % 4);
		for (int m = 0; m < nmut; m++) {
			const size_t *r = used[rnd() % 5];
			size_t off = r[0] + rnd() % r[1];
			cr_assert_lt(off - XVS_GEN_BODY_OFF, body);
			((uint8_t *)g)[off] = (uint8_t)rnd();
		}
		if (rnd() % 8 == 0)
			g->nb_dests = rnd() % (XVS_MAX_DESTS + 1);
		if (rnd() % 8 == 0)
			g->nb_svc_dests = rnd() % (XVS_MAX_DESTS + 1);
		if (rnd() % 8 == 0)
			g->nb_svcs = rnd() % (XVS_MAX_SVCS + 1);
		if (rnd() % 8 == 0)
			g->nb_sched_tab = rnd() % (base->nb_sched_tab + 1);
		xvs_gen_seal(g);
		if (xvs_gen_validate(g, NULL, 0) == 0) {
			accepted++;
			exercise(g);
		}
	}
	/* some mutations are harmless (weights, ports of unused keys): both outcomes occur */
	cr_log_info("%u of 1500 mutated generations accepted", accepted);
	cr_assert_gt(accepted, 0);
	cr_assert_lt(accepted, 1500);
	free(g);
	free(base);
}
