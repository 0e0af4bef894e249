/*
 * Unit tests of the per-worker connection table (dataplane/dp_conn.h, dp_conn.c): keys of
 * both directions, a full table, the buddy cell allocator, wide (IPv6) entries, collisions
 * that spill into the following buckets, the keyed hash, the embryonic ring, and memory per
 * connection. Tables live in exactly sized heap buffers (ASan).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "dp_conn.h"

static uint64_t rng_state;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16) ^ (uint32_t)(rng_state << 16);
}

struct table {
	struct xvs_conn_table t;
	void *mem;
};

static void table_new(struct table *tb, uint32_t capacity)
{
	size_t sz = xvs_conn_table_memsize(capacity);
	cr_assert_eq(sz % 64, 0);
	tb->mem = aligned_alloc(64, sz);
	cr_assert_not_null(tb->mem);
	memset(tb->mem, 0, sz);
	cr_assert_eq(xvs_conn_table_init(&tb->t, tb->mem, capacity, 0x5eed), 0);
}

static void table_free(struct table *tb)
{
	free(tb->mem);
}

static uint32_t nb_buckets(const struct xvs_conn_table *t)
{
	return t->bucket_mask + 1;
}

/* Nothing left: every slot empty, every spill count back to 0, every cell back in a pair. */
static void assert_empty(const struct xvs_conn_table *t)
{
	cr_assert_eq(t->nb_free, t->capacity);
	cr_assert_eq(t->free_ones, XVS_CONN_NIL, "free cells rejoined their buddies");
	for (uint32_t i = 0; i < t->capacity; i++)
		cr_assert_null(xvs_conn_live(t, i), "cell %u", i);
	for (uint32_t b = 0; b < nb_buckets(t); b++) {
		cr_assert_eq(t->buckets[b].spilled, 0, "bucket %u spilled", b);
		for (unsigned i = 0; i < XVS_CONN_BUCKET_SLOTS; i++)
			cr_assert_eq(t->buckets[b].slot[i], 0, "bucket %u slot %u", b, i);
	}
}

struct tuple {
	uint32_t caddr, vaddr, daddr;
	uint16_t cport, vport, dport;
	uint8_t proto;
};

/* Take an entry for tu and insert its original key, and its reply key if `reply`. */
static int64_t conn_add(struct xvs_conn_table *t, const struct tuple *tu, int reply)
{
	int64_t idx = xvs_conn_alloc(t, 0);
	if (idx < 0)
		return idx;
	struct xvs_conn *c = &t->conns[idx];
	*c = (struct xvs_conn){ .a4 = { .caddr = tu->caddr, .vaddr = tu->vaddr, .daddr = tu->daddr },
				.cport = tu->cport, .vport = tu->vport, .dport = tu->dport,
				.proto = tu->proto, .af = XVS_AF_INET };
	struct xvs_conn_key ko, kr;
	xvs_conn_keys(c, &ko, &kr);
	cr_assert_eq(xvs_conn_insert_key(t, xvs_conn_hash(t, &ko), (uint32_t)idx, XVS_CONN_DIR_ORIG), 0);
	if (reply) {
		cr_assert_eq(xvs_conn_insert_key(t, xvs_conn_hash(t, &kr), (uint32_t)idx,
						 XVS_CONN_DIR_REPLY), 0);
		c->flags |= XVS_CONN_F_REPLY;
	}
	return idx;
}

/* Keys as packets carry them: client -> VIP, and real server -> client. */
static struct xvs_conn_key key_orig(const struct tuple *tu)
{
	return (struct xvs_conn_key){ .src = tu->caddr, .dst = tu->vaddr, .sport = tu->cport,
				      .dport = tu->vport, .proto = tu->proto };
}

static struct xvs_conn_key key_reply(const struct tuple *tu)
{
	return (struct xvs_conn_key){ .src = tu->daddr, .dst = tu->caddr, .sport = tu->dport,
				      .dport = tu->cport, .proto = tu->proto };
}

static uint32_t find(const struct xvs_conn_table *t, const struct xvs_conn_key *k)
{
	return xvs_conn_find(t, k, xvs_conn_hash(t, k));
}

/* find()'s result for entry idx seen in direction dir. */
static uint32_t hit(int64_t idx, unsigned dir)
{
	return ((uint32_t)idx << 1 | dir) + 1;
}

/* Distinct tuples: the client address is unique per i. */
static void tuple_of(uint32_t i, struct tuple *tu)
{
	*tu = (struct tuple){ .caddr = 0x0a000000u + i, .vaddr = 0xc0000201u + rnd() % 4,
			      .daddr = 0xac100000u + rnd() % 64, .cport = (uint16_t)rnd(),
			      .vport = (uint16_t)(80 + rnd() % 2), .dport = (uint16_t)rnd(),
			      .proto = rnd() % 2 ? XVS_PROTO_TCP : XVS_PROTO_UDP };
}

Test(conn, init_rejects_bad_capacity)
{
	struct xvs_conn_table t;
	static uint8_t mem[64] __attribute__((aligned(64)));
	cr_assert_eq(xvs_conn_table_init(&t, mem, 0, 1), -EINVAL);
	cr_assert_eq(xvs_conn_table_init(&t, mem, 8, 1), -EINVAL);
	cr_assert_eq(xvs_conn_table_init(&t, mem, 100, 1), -EINVAL);
	cr_assert_eq(xvs_conn_table_init(&t, mem, 1u << 25, 1), -EINVAL);
	cr_assert_eq(xvs_conn_table_init(&t, mem, 0x80000000u, 1), -EINVAL);
}

Test(conn, memory_per_connection)
{
	cr_assert_eq(sizeof(struct xvs_conn), 32);
	cr_assert_eq(sizeof(struct xvs_conn_ext), 32);
	cr_assert_eq(sizeof(struct xvs_conn_bucket), 64);
	/* an IPv4 connection is one cell: at most 64 bytes each, buckets and ring included */
	for (uint32_t cap = 64; cap <= (1u << 24); cap <<= 1) {
		size_t sz = xvs_conn_table_memsize(cap);
		cr_assert_leq(sz, (size_t)cap * 52, "capacity %u: %.1f bytes per connection", cap,
			      (double)sz / cap);
		cr_assert_geq(sz, (size_t)cap * (sizeof(struct xvs_conn) + sizeof(uint32_t)));
	}
}

Test(conn, both_directions)
{
	struct table tb;
	table_new(&tb, 1024);
	struct xvs_conn_table *t = &tb.t;
	const struct tuple tu = { .caddr = 0x0a000001, .vaddr = 0xc0000201, .daddr = 0xac100005,
				  .cport = 0x1234, .vport = 0x5000, .dport = 0x1f90,
				  .proto = XVS_PROTO_TCP };
	int64_t idx = conn_add(t, &tu, 1);
	cr_assert_geq(idx, 0);
	struct xvs_conn_key ko = key_orig(&tu), kr = key_reply(&tu);
	cr_assert_eq(find(t, &ko), hit(idx, XVS_CONN_DIR_ORIG));
	cr_assert_eq(find(t, &kr), hit(idx, XVS_CONN_DIR_REPLY));

	/* near misses are not found */
	struct xvs_conn_key k = ko;
	k.proto = XVS_PROTO_UDP;
	cr_assert_eq(find(t, &k), 0);
	k = ko;
	k.sport ^= 1;
	cr_assert_eq(find(t, &k), 0);
	k = ko;
	k.dst ^= 1;
	cr_assert_eq(find(t, &k), 0);
	/* the original key read backwards is not the reply key */
	k = (struct xvs_conn_key){ .src = ko.dst, .dst = ko.src, .sport = ko.dport,
				   .dport = ko.sport, .proto = ko.proto };
	cr_assert_eq(find(t, &k), 0);
	/* a client talking to the real server directly is not this connection */
	k = (struct xvs_conn_key){ .src = tu.caddr, .dst = tu.daddr, .sport = tu.cport,
				   .dport = tu.dport, .proto = tu.proto };
	cr_assert_eq(find(t, &k), 0);

	xvs_conn_free(t, (uint32_t)idx);
	cr_assert_eq(find(t, &ko), 0);
	cr_assert_eq(find(t, &kr), 0);
	cr_assert_eq(t->conns[idx].proto, 0);
	assert_empty(t);
	table_free(&tb);
}

/* Direct routing keeps no reply key: freeing must not touch what it never inserted. */
Test(conn, orig_only)
{
	struct table tb;
	table_new(&tb, 64);
	struct xvs_conn_table *t = &tb.t;
	const struct tuple tu = { .caddr = 1, .vaddr = 2, .daddr = 3, .cport = 4, .vport = 5,
				  .dport = 6, .proto = XVS_PROTO_UDP };
	int64_t idx = conn_add(t, &tu, 0);
	struct xvs_conn_key ko = key_orig(&tu), kr = key_reply(&tu);
	cr_assert_eq(find(t, &ko), hit(idx, XVS_CONN_DIR_ORIG));
	cr_assert_eq(find(t, &kr), 0);
	xvs_conn_free(t, (uint32_t)idx);
	assert_empty(t);
	table_free(&tb);
}

/* A full table of 64K connections with two keys each: all found; after freeing, none. */
Test(conn, full_table_two_keys_each, .timeout = 60)
{
	enum { CAP = 65536 };
	struct table tb;
	table_new(&tb, CAP);
	struct xvs_conn_table *t = &tb.t;
	struct tuple *tu = calloc(CAP, sizeof(*tu));
	int64_t *idx = calloc(CAP, sizeof(*idx));
	cr_assert(tu && idx);
	rng_state = 0x600df00d;
	for (uint32_t i = 0; i < CAP; i++) {
		tuple_of(i, &tu[i]);
		idx[i] = conn_add(t, &tu[i], 1);
		cr_assert_geq(idx[i], 0, "entry %u", i);
	}
	cr_assert_eq(t->nb_free, 0);
	cr_assert_eq(xvs_conn_alloc(t, 0), -1, "full");
	cr_assert_eq(xvs_conn_alloc(t, 1), -1, "full");
	for (uint32_t i = 0; i < CAP; i++) {
		struct xvs_conn_key ko = key_orig(&tu[i]), kr = key_reply(&tu[i]);
		cr_assert_eq(find(t, &ko), hit(idx[i], XVS_CONN_DIR_ORIG), "entry %u", i);
		cr_assert_eq(find(t, &kr), hit(idx[i], XVS_CONN_DIR_REPLY), "entry %u", i);
	}
	/* free every other one: the rest are still found */
	for (uint32_t i = 0; i < CAP; i += 2)
		xvs_conn_free(t, (uint32_t)idx[i]);
	for (uint32_t i = 0; i < CAP; i++) {
		struct xvs_conn_key ko = key_orig(&tu[i]), kr = key_reply(&tu[i]);
		uint32_t want_o = i % 2 ? hit(idx[i], XVS_CONN_DIR_ORIG) : 0;
		uint32_t want_r = i % 2 ? hit(idx[i], XVS_CONN_DIR_REPLY) : 0;
		cr_assert_eq(find(t, &ko), want_o, "entry %u", i);
		cr_assert_eq(find(t, &kr), want_r, "entry %u", i);
	}
	for (uint32_t i = 1; i < CAP; i += 2)
		xvs_conn_free(t, (uint32_t)idx[i]);
	for (uint32_t i = 0; i < CAP; i++) {
		struct xvs_conn_key ko = key_orig(&tu[i]), kr = key_reply(&tu[i]);
		cr_assert_eq(find(t, &ko), 0);
		cr_assert_eq(find(t, &kr), 0);
	}
	assert_empty(t);
	free(tu);
	free(idx);
	table_free(&tb);
}

Test(conn, cells_low_first_and_reused)
{
	struct table tb;
	table_new(&tb, 16);
	struct xvs_conn_table *t = &tb.t;
	int seen[16] = { 0 };
	for (int i = 0; i < 16; i++) {
		int64_t e = xvs_conn_alloc(t, 0);
		cr_assert(e >= 0 && e < 16);
		cr_assert_eq(e, i, "low cells first");
		cr_assert_not(seen[e]++, "cell %lld handed out twice", (long long)e);
		t->conns[e].proto = XVS_PROTO_TCP;
	}
	cr_assert_eq(xvs_conn_alloc(t, 0), -1);
	cr_assert_eq(xvs_conn_alloc(t, 1), -1, "still full");
	/* freed cells come back, last freed first; buddies 5 and 9 are in use: no pair */
	xvs_conn_free(t, 5);
	xvs_conn_free(t, 9);
	cr_assert_eq(t->nb_free, 2);
	cr_assert_eq(xvs_conn_alloc(t, 1), -1, "two free cells, but not a pair");
	cr_assert_eq(xvs_conn_alloc(t, 0), 9);
	t->conns[9].proto = XVS_PROTO_TCP;
	cr_assert_eq(xvs_conn_alloc(t, 0), 5);
	t->conns[5].proto = XVS_PROTO_TCP;
	cr_assert_eq(xvs_conn_alloc(t, 0), -1);
	/* 6 and 7 free: they rejoin as a pair, which a wide entry can take */
	xvs_conn_free(t, 6);
	cr_assert_eq(xvs_conn_alloc(t, 1), -1);
	xvs_conn_free(t, 7);
	cr_assert_eq(t->free_ones, XVS_CONN_NIL);
	cr_assert_eq(xvs_conn_alloc(t, 1), 6);
	table_free(&tb);
}

/* Narrow and wide entries mixed at random: the allocator never hands out a cell twice. */
Test(conn, buddy_allocator_churn)
{
	enum { CAP = 256 };
	struct table tb;
	table_new(&tb, CAP);
	struct xvs_conn_table *t = &tb.t;
	uint8_t owner[CAP] = { 0 }; /* 0 free, 1 narrow head, 2 wide head, 3 wide second */
	int64_t live[CAP];
	unsigned nb_live = 0;
	rng_state = 0xb0dd;
	for (int step = 0; step < 100000; step++) {
		if (nb_live && (rnd() % 2 || t->nb_free < 2)) {
			unsigned k = rnd() % nb_live;
			uint32_t i = (uint32_t)live[k];
			live[k] = live[--nb_live];
			owner[i] = 0;
			if (t->conns[i].flags & XVS_CONN_F_WIDE)
				owner[i + 1] = 0;
			xvs_conn_unalloc(t, i);
			continue;
		}
		int wide = rnd() % 3 == 0;
		int64_t e = xvs_conn_alloc(t, wide);
		if (e < 0) {
			cr_assert(wide || t->nb_free == 0, "a free cell was not found");
			continue;
		}
		cr_assert_eq(owner[e], 0, "cell %lld handed out twice", (long long)e);
		cr_assert(!wide || (e % 2 == 0 && owner[e + 1] == 0));
		owner[e] = wide ? 2 : 1;
		if (wide)
			owner[e + 1] = 3;
		t->conns[e] = (struct xvs_conn){ .proto = XVS_PROTO_UDP,
						 .flags = wide ? XVS_CONN_F_WIDE : 0 };
		if (wide) /* the second cell holds addresses: any bytes at all */
			memset(&t->conns[e + 1], 0xa5, sizeof(t->conns[e + 1]));
		live[nb_live++] = e;
		uint32_t used = 0;
		for (uint32_t i = 0; i < CAP; i++) {
			used += owner[i] != 0;
			cr_assert_eq(xvs_conn_live(t, i) != NULL, owner[i] == 1 || owner[i] == 2,
				     "step %d cell %u", step, i);
		}
		cr_assert_eq(t->nb_free, CAP - used);
	}
	while (nb_live)
		xvs_conn_unalloc(t, (uint32_t)live[--nb_live]);
	cr_assert_eq(t->nb_free, CAP);
	cr_assert_eq(t->free_ones, XVS_CONN_NIL);
	table_free(&tb);
}

/* IPv6 and mixed-family connections take a pair and are found in both directions. */
Test(conn, wide_entries)
{
	struct table tb;
	table_new(&tb, 64);
	struct xvs_conn_table *t = &tb.t;
	union xvs_ip cl = { .v6 = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } };
	union xvs_ip vip = { .v6 = { 0x20, 0x01, 0x0d, 0xb8, [14] = 1, [15] = 0x80 } };
	union xvs_ip rs = { .v6 = { 0xfd, 0x00, [15] = 5 } };
	xvs_conn_alloc(t, 0); /* cell 0 narrow: the pair comes from further on */
	int64_t e = xvs_conn_alloc(t, 1);
	cr_assert_eq(e, 2);
	struct xvs_conn *c = &t->conns[e];
	*c = (struct xvs_conn){ .cport = 0x1111, .vport = 0x5000, .dport = 0x1f90, .proto = XVS_PROTO_TCP,
				.af = XVS_AF_INET6, .flags = XVS_CONN_F_WIDE | XVS_CONN_F_REPLY };
	c->daddr = rs;
	xvs_conn_ext(c)->caddr = cl;
	xvs_conn_ext(c)->vaddr = vip;
	struct xvs_conn_key ko, kr;
	xvs_conn_keys(c, &ko, &kr);
	cr_assert_eq(ko.af, XVS_AF_INET6);
	cr_assert(xvs_ip_eq(&ko.src6, &cl) && xvs_ip_eq(&ko.dst6, &vip) && xvs_ip_eq(&kr.src6, &rs));
	cr_assert_eq(xvs_conn_insert_key(t, xvs_conn_hash(t, &ko), (uint32_t)e, XVS_CONN_DIR_ORIG), 0);
	cr_assert_eq(xvs_conn_insert_key(t, xvs_conn_hash(t, &kr), (uint32_t)e, XVS_CONN_DIR_REPLY), 0);
	cr_assert_eq(find(t, &ko), hit(e, XVS_CONN_DIR_ORIG));
	cr_assert_eq(find(t, &kr), hit(e, XVS_CONN_DIR_REPLY));
	union xvs_ip a = xvs_conn_caddr(c), v = xvs_conn_vaddr(c), d = xvs_conn_daddr(c);
	cr_assert(xvs_ip_eq(&a, &cl) && xvs_ip_eq(&v, &vip) && xvs_ip_eq(&d, &rs));
	cr_assert_not_null(xvs_conn_live(t, 2));
	cr_assert_null(xvs_conn_live(t, 3), "the second cell is not a connection");
	/* an IPv4 key with the same low bytes is not this connection */
	struct xvs_conn_key k4 = { .src = cl.v4, .dst = vip.v4, .sport = ko.sport, .dport = ko.dport,
				   .proto = ko.proto };
	cr_assert_eq(find(t, &k4), 0);

	/* an IPv4 service with an IPv6 tunnel server: wide, found by its IPv4 key */
	int64_t m = xvs_conn_alloc(t, 1);
	struct xvs_conn *mc = &t->conns[m];
	*mc = (struct xvs_conn){ .cport = 0x2222, .vport = 0x5000, .proto = XVS_PROTO_UDP,
				 .af = XVS_AF_INET, .flags = XVS_CONN_F_WIDE };
	mc->daddr = rs;
	xvs_conn_ext(mc)->caddr = (union xvs_ip){ .d = { 0x0100000a, 0 } };
	xvs_conn_ext(mc)->vaddr = (union xvs_ip){ .d = { 0x010200c0, 0 } };
	xvs_conn_keys(mc, &ko, &kr);
	cr_assert_eq(ko.af, 0);
	cr_assert_eq(ko.src, 0x0100000a);
	cr_assert_eq(xvs_conn_insert_key(t, xvs_conn_hash(t, &ko), (uint32_t)m, XVS_CONN_DIR_ORIG), 0);
	cr_assert_eq(find(t, &ko), hit(m, XVS_CONN_DIR_ORIG));
	xvs_conn_free(t, (uint32_t)m);
	xvs_conn_free(t, (uint32_t)e);
	cr_assert_eq(find(t, &ko), 0);
	cr_assert_eq(t->nb_free, 63);
	table_free(&tb);
}

/* The ring hands back the oldest connection still embryonic, skipping confirmed and freed ones. */
Test(conn, embryonic_ring)
{
	struct table tb;
	table_new(&tb, 16);
	struct xvs_conn_table *t = &tb.t;
	cr_assert_eq(xvs_conn_embryo_pop(t, 16), -1, "empty");
	for (int i = 0; i < 6; i++) {
		int64_t e = xvs_conn_alloc(t, 0);
		t->conns[e].proto = XVS_PROTO_TCP;
		xvs_conn_embryo_push(t, (uint32_t)e);
	}
	t->conns[0].flags |= XVS_CONN_F_CONFIRMED; /* established: never handed back */
	xvs_conn_unalloc(t, 1);                    /* gone */
	cr_assert_eq(xvs_conn_embryo_pop(t, 16), 2);
	cr_assert_eq(xvs_conn_embryo_pop(t, 16), 3);
	/* the look-ahead is bounded */
	t->conns[4].flags |= XVS_CONN_F_CONFIRMED;
	cr_assert_eq(xvs_conn_embryo_pop(t, 1), -1);
	cr_assert_eq(xvs_conn_embryo_pop(t, 1), 5);
	cr_assert_eq(xvs_conn_embryo_pop(t, 16), -1);
	/* a full ring forgets its oldest entry */
	for (uint32_t i = 0; i < 20; i++)
		xvs_conn_embryo_push(t, 6 + i % 10);
	cr_assert_eq(t->embryo_head - t->embryo_tail, 16);
	table_free(&tb);
}

/* The bucket hash depends on the secret and is not affine as CRC32-C is. */
Test(conn, keyed_nonlinear_hash)
{
	struct table ta, tb2;
	table_new(&ta, 1024);
	tb2.mem = aligned_alloc(64, xvs_conn_table_memsize(1024));
	memset(tb2.mem, 0, xvs_conn_table_memsize(1024));
	cr_assert_eq(xvs_conn_table_init(&tb2.t, tb2.mem, 1024, 0x5eee), 0);
	rng_state = 0xfeed;
	unsigned same = 0, affine = 0;
	for (int i = 0; i < 1000; i++) {
		struct xvs_conn_key k[4];
		for (int j = 0; j < 3; j++)
			k[j] = (struct xvs_conn_key){ .src = rnd(), .dst = rnd(), .sport = (uint16_t)rnd(),
						      .dport = (uint16_t)rnd(), .proto = XVS_PROTO_TCP };
		k[3] = (struct xvs_conn_key){ .src = k[0].src ^ k[1].src ^ k[2].src,
					      .dst = k[0].dst ^ k[1].dst ^ k[2].dst,
					      .sport = k[0].sport ^ k[1].sport ^ k[2].sport,
					      .dport = k[0].dport ^ k[1].dport ^ k[2].dport,
					      .proto = XVS_PROTO_TCP };
		same += xvs_conn_hash(&ta.t, &k[0]) == xvs_conn_hash(&tb2.t, &k[0]);
		/* an affine hash gives h(a) ^ h(b) ^ h(c) == h(a ^ b ^ c) for every triple */
		affine += (xvs_conn_hash(&ta.t, &k[0]) ^ xvs_conn_hash(&ta.t, &k[1]) ^
			   xvs_conn_hash(&ta.t, &k[2])) == xvs_conn_hash(&ta.t, &k[3]);
		cr_assert_eq(xvs_flow_hash(&k[0]) ^ xvs_flow_hash(&k[1]) ^ xvs_flow_hash(&k[2]),
			     xvs_flow_hash(&k[3]), "CRC32-C is affine (the check itself works)");
	}
	cr_assert_leq(same, 2, "another secret, another hash");
	cr_assert_leq(affine, 2);
	free(tb2.mem);
	table_free(&ta);
}

/* Churn: random adds and frees against a reference of what is live. */
Test(conn, churn_against_reference)
{
	enum { CAP = 4096, N = 3000 };
	struct table tb;
	table_new(&tb, CAP);
	struct xvs_conn_table *t = &tb.t;
	static struct tuple tu[N];
	static int64_t idx[N];
	rng_state = 0xc0ffee;
	for (uint32_t i = 0; i < N; i++) {
		tuple_of(i, &tu[i]);
		idx[i] = -1;
	}
	for (int step = 0; step < 200000; step++) {
		uint32_t i = rnd() % N;
		if (idx[i] < 0) {
			idx[i] = conn_add(t, &tu[i], (int)(i % 3));
			cr_assert_geq(idx[i], 0);
		} else {
			xvs_conn_free(t, (uint32_t)idx[i]);
			idx[i] = -1;
		}
		/* check a few random tuples each step */
		for (int k = 0; k < 3; k++) {
			uint32_t j = rnd() % N;
			struct xvs_conn_key ko = key_orig(&tu[j]), kr = key_reply(&tu[j]);
			uint32_t wo = idx[j] < 0 ? 0 : hit(idx[j], XVS_CONN_DIR_ORIG);
			uint32_t wr = idx[j] < 0 || j % 3 == 0 ? 0 : hit(idx[j], XVS_CONN_DIR_REPLY);
			cr_assert_eq(find(t, &ko), wo, "step %d tuple %u", step, j);
			cr_assert_eq(find(t, &kr), wr, "step %d tuple %u", step, j);
		}
	}
	for (uint32_t i = 0; i < N; i++)
		if (idx[i] >= 0)
			xvs_conn_free(t, (uint32_t)idx[i]);
	assert_empty(t);
	table_free(&tb);
}

/* ---- collisions ------------------------------------------------------------------------------ */

/* n distinct tuples whose original key's home bucket is b (deterministic search). */
static void colliding(const struct xvs_conn_table *t, uint32_t b, struct tuple *out, unsigned n)
{
	uint32_t seq = 0;
	for (unsigned found = 0; found < n; seq++) {
		struct tuple tu = { .caddr = 0x64000000u + seq, .vaddr = 0xc0000201, .daddr = 7,
				    .cport = (uint16_t)(seq * 31), .vport = 80, .dport = 8080,
				    .proto = XVS_PROTO_TCP };
		struct xvs_conn_key k = key_orig(&tu);
		if ((xvs_conn_hash(t, &k) & t->bucket_mask) == b)
			out[found++] = tu;
	}
}

static void collisions_in_bucket(uint32_t b)
{
	enum { N = 40 };
	struct table tb;
	table_new(&tb, 1024); /* 256 buckets */
	struct xvs_conn_table *t = &tb.t;
	b &= t->bucket_mask;
	struct tuple tu[N];
	int64_t idx[N];
	colliding(t, b, tu, N);
	for (unsigned i = 0; i < N; i++) {
		idx[i] = conn_add(t, &tu[i], 0);
		cr_assert_geq(idx[i], 0);
	}
	cr_assert_eq(t->buckets[b].spilled, N - XVS_CONN_BUCKET_SLOTS, "15 at home, the rest spill");
	/* a key at home in the next bucket finds it full of spills and spills too */
	struct tuple nb;
	colliding(t, (b + 1) & t->bucket_mask, &nb, 1);
	int64_t nbi = conn_add(t, &nb, 0);
	struct xvs_conn_key nk = key_orig(&nb);
	cr_assert_eq(find(t, &nk), hit(nbi, XVS_CONN_DIR_ORIG));
	cr_assert_eq(t->buckets[(b + 1) & t->bucket_mask].spilled, 1);

	for (unsigned i = 0; i < N; i++) {
		struct xvs_conn_key k = key_orig(&tu[i]);
		cr_assert_eq(find(t, &k), hit(idx[i], XVS_CONN_DIR_ORIG), "key %u", i);
	}
	/* remove in a scrambled order; the others stay reachable after each removal */
	unsigned order[N];
	for (unsigned i = 0; i < N; i++)
		order[i] = (i * 17) % N;
	for (unsigned r = 0; r < N; r++) {
		unsigned gone = order[r];
		xvs_conn_free(t, (uint32_t)idx[gone]);
		idx[gone] = -1;
		for (unsigned i = 0; i < N; i++) {
			struct xvs_conn_key k = key_orig(&tu[i]);
			cr_assert_eq(find(t, &k), idx[i] < 0 ? 0 : hit(idx[i], XVS_CONN_DIR_ORIG),
				     "after %u removals, key %u", r + 1, i);
		}
		cr_assert_eq(find(t, &nk), hit(nbi, XVS_CONN_DIR_ORIG));
	}
	cr_assert_eq(t->buckets[b].spilled, 0);
	xvs_conn_free(t, (uint32_t)nbi);
	assert_empty(t);
	table_free(&tb);
}

Test(conn, collisions_spill_and_are_removed) { collisions_in_bucket(37); }

/* The last bucket spills into bucket 0. */
Test(conn, collisions_wrap_around) { collisions_in_bucket(0xffffffffu); }

/* A freed home slot is reused by the next key while spilled keys stay reachable. */
Test(conn, home_slot_reused_after_spill)
{
	enum { N = 20 };
	struct table tb;
	table_new(&tb, 1024);
	struct xvs_conn_table *t = &tb.t;
	struct tuple tu[N + 1];
	int64_t idx[N + 1];
	colliding(t, 3, tu, N + 1);
	for (unsigned i = 0; i < N; i++)
		idx[i] = conn_add(t, &tu[i], 0);
	cr_assert_eq(t->buckets[3].spilled, N - XVS_CONN_BUCKET_SLOTS);
	xvs_conn_free(t, (uint32_t)idx[0]); /* was at home */
	cr_assert_eq(t->buckets[3].spilled, N - XVS_CONN_BUCKET_SLOTS);
	idx[N] = conn_add(t, &tu[N], 0);
	cr_assert_eq(t->buckets[3].spilled, N - XVS_CONN_BUCKET_SLOTS, "went into the free home slot");
	for (unsigned i = 1; i <= N; i++) {
		struct xvs_conn_key k = key_orig(&tu[i]);
		cr_assert_eq(find(t, &k), hit(idx[i], XVS_CONN_DIR_ORIG), "key %u", i);
	}
	for (unsigned i = 1; i <= N; i++)
		xvs_conn_free(t, (uint32_t)idx[i]);
	assert_empty(t);
	table_free(&tb);
}

/* A home bucket's neighbourhood holds MAX_PROBE buckets of keys; one more is refused. */
Test(conn, probe_limit)
{
	enum { N = XVS_CONN_MAX_PROBE * XVS_CONN_BUCKET_SLOTS };
	struct table tb;
	table_new(&tb, 1024);
	struct xvs_conn_table *t = &tb.t;
	static struct tuple tu[N + 1];
	colliding(t, 100, tu, N + 1);
	for (unsigned i = 0; i < N; i++)
		cr_assert_geq(conn_add(t, &tu[i], 0), 0, "key %u", i);
	int64_t e = xvs_conn_alloc(t, 0);
	struct xvs_conn_key k = key_orig(&tu[N]);
	cr_assert_eq(xvs_conn_insert_key(t, xvs_conn_hash(t, &k), (uint32_t)e, XVS_CONN_DIR_ORIG),
		     -ENOSPC);
	cr_assert_eq(find(t, &k), 0);
	for (unsigned i = 0; i < N; i++) {
		struct xvs_conn_key ki = key_orig(&tu[i]);
		cr_assert_neq(find(t, &ki), 0, "key %u", i);
	}
	table_free(&tb);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Keys that share both the bucket and the signature are told apart by the entry compare. */
Test(conn, same_signature_different_keys, .timeout = 60)
{
	enum { M = 1 << 20 };
	struct table tb;
	table_new(&tb, 1024);
	struct xvs_conn_table *t = &tb.t;
	const uint32_t mask = t->bucket_mask | t->sig_mask;
	uint64_t *v = malloc(M * sizeof(*v));
	cr_assert_not_null(v);
	/* vary the client address and port (48 bits); the port is a function of i */
	rng_state = 0x516;
	uint32_t *caddr = malloc(M * sizeof(*caddr));
	cr_assert_not_null(caddr);
	for (uint32_t i = 0; i < M; i++) {
		caddr[i] = rnd();
		struct tuple tu = { .caddr = caddr[i], .cport = (uint16_t)(i * 40503u), .vaddr = 1,
				    .proto = XVS_PROTO_UDP };
		struct xvs_conn_key k = key_orig(&tu);
		v[i] = (uint64_t)(xvs_conn_hash(t, &k) & mask) << 32 | i;
	}
	qsort(v, M, sizeof(*v), cmp_u64);
	unsigned pairs = 0;
	for (uint32_t i = 1; i < M && pairs < 20; i++) {
		if (v[i] >> 32 != v[i - 1] >> 32)
			continue;
		uint32_t ja = (uint32_t)v[i - 1], jb = (uint32_t)v[i];
		struct tuple a = { .caddr = caddr[ja], .cport = (uint16_t)(ja * 40503u), .vaddr = 1,
				   .proto = XVS_PROTO_UDP };
		struct tuple b = { .caddr = caddr[jb], .cport = (uint16_t)(jb * 40503u), .vaddr = 1,
				   .proto = XVS_PROTO_UDP };
		if (a.caddr == b.caddr && a.cport == b.cport)
			continue; /* the same key twice */
		struct xvs_conn_key ka = key_orig(&a), kb = key_orig(&b);
		/* only a: b must not be mistaken for it */
		int64_t ia = conn_add(t, &a, 0);
		cr_assert_eq(find(t, &ka), hit(ia, XVS_CONN_DIR_ORIG));
		cr_assert_eq(find(t, &kb), 0);
		int64_t ib = conn_add(t, &b, 0);
		cr_assert_eq(find(t, &kb), hit(ib, XVS_CONN_DIR_ORIG));
		xvs_conn_free(t, (uint32_t)ia);
		cr_assert_eq(find(t, &ka), 0);
		cr_assert_eq(find(t, &kb), hit(ib, XVS_CONN_DIR_ORIG));
		xvs_conn_free(t, (uint32_t)ib);
		pairs++;
	}
	cr_assert_gt(pairs, 0, "no signature collision found among %u keys", M);
	assert_empty(t);
	free(caddr);
	free(v);
	table_free(&tb);
}

/* Slot values never read as empty and the signature never overlaps the index bits. */
Test(conn, layout_invariants)
{
	for (uint32_t cap = 16; cap <= (1u << 20); cap <<= 1) {
		struct table tb;
		table_new(&tb, cap);
		const struct xvs_conn_table *t = &tb.t;
		cr_assert_eq(t->capacity, cap);
		cr_assert_eq(t->bucket_mask & t->sig_mask, 0, "capacity %u", cap);
		uint32_t max_val = ((cap - 1) << 1 | 1) + 1;
		cr_assert_eq(max_val & t->sig_mask, 0, "capacity %u: index runs into the signature", cap);
		cr_assert_geq((size_t)nb_buckets(t) * XVS_CONN_BUCKET_SLOTS, (size_t)cap * 2 + cap / 2,
			      "room for two keys per entry, with slack");
		cr_assert_eq((uintptr_t)t->buckets % 64, 0);
		cr_assert_eq((uintptr_t)t->conns % 64, 0);
		cr_assert_eq(t->nb_free, cap);
		table_free(&tb);
	}
}

/* ---- a table taken over by another process (xvs_conn_table_attach, _rebuild) ---------- */

/* A copy of tb's memory, as the next process finds it in the file. */
static void *mem_copy(const struct table *tb)
{
	size_t sz = xvs_conn_table_memsize(tb->t.capacity);
	void *m = aligned_alloc(64, sz);
	cr_assert_not_null(m);
	memcpy(m, tb->mem, sz);
	return m;
}

Test(conn, rebuild_finds_every_key_again)
{
	struct table tb;
	struct tuple tu[300];
	int64_t idx[300];
	rng_state = 0x1234;
	table_new(&tb, 1024);
	for (uint32_t i = 0; i < 300; i++) {
		tuple_of(i, &tu[i]);
		idx[i] = conn_add(&tb.t, &tu[i], i % 3 != 0);
		cr_assert_geq(idx[i], 0);
		if (i % 4 == 0)
			tb.t.conns[idx[i]].flags |= XVS_CONN_F_CONFIRMED;
	}
	for (uint32_t i = 0; i < 300; i += 5) /* holes: single free cells */
		xvs_conn_free(&tb.t, (uint32_t)idx[i]);
	uint32_t nb_free = tb.t.nb_free;

	struct xvs_conn_table t2;
	void *m2 = mem_copy(&tb);
	memset(m2, 0xa5, (size_t)nb_buckets(&tb.t) * sizeof(struct xvs_conn_bucket)); /* stale index */
	cr_assert_eq(xvs_conn_table_attach(&t2, m2, 1024, tb.t.key), 0);
	struct xvs_conn_rebuild r;
	cr_assert_eq(xvs_conn_table_rebuild(&t2, 8192, 1, &r), 0);
	cr_assert_eq(r.nb_conns, 240);
	cr_assert_eq(r.nb_invalid + r.nb_dup + r.nb_full + r.nb_tpl, 0);
	cr_assert_eq(t2.nb_free, nb_free);
	for (uint32_t i = 0; i < 300; i++) {
		struct xvs_conn_key ko = key_orig(&tu[i]), kr = key_reply(&tu[i]);
		if (i % 5 == 0) {
			cr_assert_eq(find(&t2, &ko), 0, "freed %u", i);
			continue;
		}
		cr_assert_eq(find(&t2, &ko), hit(idx[i], XVS_CONN_DIR_ORIG), "orig %u", i);
		cr_assert_eq(find(&t2, &kr), i % 3 ? hit(idx[i], XVS_CONN_DIR_REPLY) : 0, "reply %u", i);
	}
	/* the embryonic ring holds the unconfirmed ones only */
	uint32_t embryos = 0;
	while (xvs_conn_embryo_pop(&t2, 1) >= 0)
		embryos++;
	cr_assert_eq(embryos, 180, "the kept ones not confirmed (i %% 4 != 0)");
	/* the free lists work: fill the table up and empty it */
	uint32_t added = 0;
	for (;;) {
		int wide = added % 2;
		int64_t more = xvs_conn_alloc(&t2, wide);
		if (more < 0 && wide)
			more = xvs_conn_alloc(&t2, wide = 0);
		if (more < 0)
			break;
		t2.conns[more] = (struct xvs_conn){ .proto = XVS_PROTO_UDP, .af = XVS_AF_INET,
						    .flags = (uint8_t)(wide ? XVS_CONN_F_WIDE : 0),
						    .cport = (uint16_t)added, .a4 = { .caddr = 7 } };
		if (wide)
			xvs_conn_ext(&t2.conns[more])->caddr = (union xvs_ip){ .d = { 7, 0 } };
		struct xvs_conn_key ko, kr;
		xvs_conn_keys(&t2.conns[more], &ko, &kr);
		cr_assert_eq(xvs_conn_insert_key(&t2, xvs_conn_hash(&t2, &ko), (uint32_t)more, 0), 0);
		added++;
	}
	cr_assert_eq(t2.nb_free, 0);
	for (uint32_t i = 0; i < t2.capacity; i++)
		if (xvs_conn_live(&t2, i))
			xvs_conn_free(&t2, i);
	assert_empty(&t2);
	free(m2);
	table_free(&tb);
}

/* Spoil cell c of a table the way case k says; returns what rebuild must say. */
static const char *spoil(struct xvs_conn_table *t, uint32_t c, unsigned k)
{
	struct xvs_conn *e = &t->conns[c];
	switch (k) {
	case 0: e->proto = 1; return "unknown protocol";
	case 1: e->af = 5; return "unknown family";
	case 2: e->flags |= 0x80; return "unknown flags";
	case 3: e->af = XVS_AF_INET6; return "an IPv6 entry in one cell";
	case 4: e->state = XVS_TCP_STATE_MAX; e->proto = XVS_PROTO_TCP; return "unknown TCP state";
	default: e->dest = 9000; return "destination slot out of range";
	}
}

Test(conn, rebuild_refuses_or_clears_a_bad_cell)
{
	for (unsigned k = 0; k < 6; k++) {
		for (int strict = 0; strict < 2; strict++) {
			struct table tb;
			struct tuple tu[8];
			int64_t idx[8];
			rng_state = 99;
			table_new(&tb, 64);
			for (uint32_t i = 0; i < 8; i++) {
				tuple_of(i, &tu[i]);
				idx[i] = conn_add(&tb.t, &tu[i], 1);
			}
			const char *why = spoil(&tb.t, (uint32_t)idx[3], k);
			struct xvs_conn_table t2;
			struct xvs_conn_rebuild r;
			void *m2 = mem_copy(&tb);
			cr_assert_eq(xvs_conn_table_attach(&t2, m2, 64, tb.t.key), 0);
			int rc = xvs_conn_table_rebuild(&t2, 8192, strict, &r);
			cr_assert_eq(r.nb_invalid, 1, "case %u", k);
			cr_assert_str_eq(r.why, why);
			cr_assert_eq(r.cell, (uint32_t)idx[3]);
			if (strict) {
				cr_assert_eq(rc, -EBADMSG, "case %u: a clean table with a bad cell is refused", k);
			} else {
				cr_assert_eq(rc, 0);
				cr_assert_eq(r.nb_conns, 7, "case %u: the others are kept", k);
				cr_assert_null(xvs_conn_live(&t2, (uint32_t)idx[3]));
				cr_assert_eq(t2.nb_free, 64 - 7);
				for (uint32_t i = 0; i < 8; i++) {
					struct xvs_conn_key ko = key_orig(&tu[i]);
					cr_assert_eq(find(&t2, &ko), i == 3 ? 0 : hit(idx[i], XVS_CONN_DIR_ORIG));
				}
			}
			free(m2);
			table_free(&tb);
		}
	}
}

Test(conn, rebuild_drops_a_duplicate_and_keeps_templates)
{
	struct table tb;
	struct tuple tu = { .caddr = 1, .vaddr = 2, .daddr = 3, .cport = 4, .vport = 5, .dport = 6,
			    .proto = XVS_PROTO_TCP };
	table_new(&tb, 64);
	int64_t a = conn_add(&tb.t, &tu, 1);
	/* the same connection in a second cell, as a crash between two writes could leave */
	int64_t b = xvs_conn_alloc(&tb.t, 0);
	tb.t.conns[b] = tb.t.conns[a];
	struct tuple tp = tu;
	tp.cport = 0;
	tp.proto = XVS_CONN_PROTO_TPL | XVS_PROTO_TCP;
	int64_t t = conn_add(&tb.t, &tp, 0);
	struct xvs_conn_table t2;
	struct xvs_conn_rebuild r;
	void *m2 = mem_copy(&tb);
	cr_assert_eq(xvs_conn_table_attach(&t2, m2, 64, tb.t.key), 0);
	cr_assert_eq(xvs_conn_table_rebuild(&t2, 8192, 1, &r), 0);
	cr_assert_eq(r.nb_conns, 1);
	cr_assert_eq(r.nb_tpl, 1);
	cr_assert_eq(r.nb_dup, 1);
	struct xvs_conn_key ko = key_orig(&tu), kt = key_orig(&tp);
	cr_assert_eq(find(&t2, &ko), hit(a, XVS_CONN_DIR_ORIG));
	cr_assert_eq(find(&t2, &kt), hit(t, XVS_CONN_DIR_ORIG));
	cr_assert_null(xvs_conn_live(&t2, (uint32_t)b));
	free(m2);
	table_free(&tb);
}

Test(conn, sctp_is_no_template)
{
	/* SCTP's protocol number (132) has the template bit: its connections must not read as
	 * templates, nor show as protocol 4 in a dump */
	cr_assert_not(xvs_conn_proto_is_tpl(XVS_PROTO_SCTP));
	cr_assert_eq(xvs_conn_proto_base(XVS_PROTO_SCTP), XVS_PROTO_SCTP);
	uint8_t protos[] = { 0, XVS_PROTO_TCP, XVS_PROTO_UDP, XVS_PROTO_SCTP };
	for (unsigned i = 0; i < sizeof(protos); i++) {
		uint8_t t = xvs_conn_tpl_proto(protos[i]);
		cr_assert(xvs_conn_proto_is_tpl(t), "template of %u", protos[i]);
		cr_assert_eq(xvs_conn_proto_base(t), protos[i]);
		for (unsigned j = 0; j < sizeof(protos); j++)
			cr_assert_neq(t, protos[j], "a template key never matches a packet's");
	}
}

Test(conn, claimed_cell_is_no_free_single)
{
	/* a cell handed out but not written yet, whose buddy is freed first (a persistence
	 * template rebound into the cell beside the old one): it must stay out of the free lists */
	struct table tb;
	table_new(&tb, 16);
	struct xvs_conn_table *t = &tb.t;
	int64_t a = xvs_conn_alloc(t, 0);
	cr_assert_geq(a, 0);
	t->conns[a].proto = XVS_PROTO_TCP;
	int64_t b = xvs_conn_alloc(t, 0);
	cr_assert_eq(b, a ^ 1, "the buddy comes next");
	xvs_conn_unalloc(t, (uint32_t)a);
	cr_assert_eq(t->nb_free, 15);
	for (int64_t i; (i = xvs_conn_alloc(t, 0)) >= 0;) {
		cr_assert_neq(i, b, "the claimed cell was handed out again");
		t->conns[i].proto = XVS_PROTO_TCP;
	}
	cr_assert_eq(t->nb_free, 0);
	table_free(&tb);
}
