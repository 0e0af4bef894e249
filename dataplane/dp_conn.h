/*
 * Per-worker connection table. Each worker owns one (no sharing, no locks). Memory is an
 * array of 32-byte cells: an IPv4 connection (client, VIP and real server all IPv4) takes
 * one cell, an IPv6 or mixed-family connection takes an aligned pair ("wide": the second
 * cell holds the client and virtual addresses). A connection is indexed by up to two keys
 * in a bucketised hash: the original direction (client -> VIP) and, for NAT, the reply
 * direction (real server -> client).
 *
 * Buckets are one cache line: 15 slots of 32 bits (a signature in the high bits, key index
 * in the low bits: cell << 1 | direction, 0 = empty) and a count of keys that spilled from
 * this home bucket into the following ones. Lookups of a burst are pipelined by the caller:
 * hash + prefetch bucket, then scan + prefetch entry, then compare.
 *
 * The bucket hash is keyed with a per-table secret and is not linear (two 64x64->128-bit
 * multiplies, folded): without the secret nobody can compute keys that share a bucket.
 *
 * Free cells are kept as a buddy pair allocator: a stack of free aligned pairs and a
 * doubly linked list of free single cells; a freed cell whose buddy is free rejoins it as
 * a pair, so wide connections find room after narrow ones leave. Memory per cell: 32 bytes
 * + 16 of buckets + 4 of the embryonic ring = 52 bytes per IPv4 connection of capacity.
 *
 * Embryonic connections (TCP before the client's handshake ACK, UDP before a reply or a
 * second packet) go into a ring in creation order. When free cells run low, a new
 * connection evicts the oldest that is still embryonic (as IPVS's drop_entry drops
 * SYN_RECV entries under memory pressure); established ones are never evicted.
 */
#ifndef XVS_DP_CONN_H
#define XVS_DP_CONN_H

#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_hash_crc.h>
#include <rte_prefetch.h>

#include "xvs/addr.h"

#define XVS_CONN_BUCKET_SLOTS 15
#define XVS_CONN_MAX_PROBE    8 /* buckets a spilled key may travel */
#define XVS_CONN_NIL          UINT32_MAX

#define XVS_CONN_DIR_ORIG  0
#define XVS_CONN_DIR_REPLY 1

/* TCP states, IPVS's numbering (IP_VS_TCP_S_*). */
enum xvs_tcp_state {
	XVS_TCP_NONE = 0,
	XVS_TCP_ESTABLISHED,
	XVS_TCP_SYN_SENT,
	XVS_TCP_SYN_RECV,
	XVS_TCP_FIN_WAIT,
	XVS_TCP_TIME_WAIT,
	XVS_TCP_CLOSE,
	XVS_TCP_CLOSE_WAIT,
	XVS_TCP_LAST_ACK,
	XVS_TCP_LISTEN,
	XVS_TCP_SYNACK,
	XVS_TCP_STATE_MAX
};

#define XVS_CONN_F_FWD_MASK  0x03 /* XVS_FWD_* */
#define XVS_CONN_F_ACTIVE    0x04 /* counted in the destination's active connections */
#define XVS_CONN_F_REPLY     0x08 /* reply key inserted */
#define XVS_CONN_F_WIDE      0x10 /* two cells: an address is IPv6 */
#define XVS_CONN_F_CONFIRMED 0x20 /* no longer embryonic (never evicted) */
#define XVS_CONN_F_CONTROLLED 0x40 /* a persistence template counts this connection */

/*
 * A persistence template is an entry whose protocol has this bit set: its key (client address
 * masked, port 0, VIP, virtual port or 0) never matches a packet's. Its real-server port and
 * TCP state hold the number of connections it controls (24 bits).
 */
#define XVS_CONN_PROTO_TPL 0x80
/* A cell handed out by xvs_conn_alloc and not written yet: it reads as live (proto not 0), so
 * freeing its buddy first never takes it for a free single. */
#define XVS_CONN_PROTO_CLAIMED 0xfe
/* SCTP (132) has that bit already: its templates take this protocol instead (IPPROTO_RAW,
 * never a packet's here). */
#define XVS_CONN_TPL_SCTP 0xff

/* The protocol of a template for service protocol proto (0: a fwmark service's). */
static inline uint8_t xvs_conn_tpl_proto(uint8_t proto)
{
	return proto == XVS_PROTO_SCTP ? XVS_CONN_TPL_SCTP : (uint8_t)(proto | XVS_CONN_PROTO_TPL);
}

/* Whether an entry's protocol is a template's. */
static inline int xvs_conn_proto_is_tpl(uint8_t proto)
{
	return (proto & XVS_CONN_PROTO_TPL) && proto != XVS_PROTO_SCTP;
}

/* The service protocol of a connection's or template's protocol. */
static inline uint8_t xvs_conn_proto_base(uint8_t proto)
{
	if (proto == XVS_CONN_TPL_SCTP)
		return XVS_PROTO_SCTP;
	return xvs_conn_proto_is_tpl(proto) ? (uint8_t)(proto & ~XVS_CONN_PROTO_TPL) : proto;
}

/* One cell: a connection's head, or a free cell. */
struct xvs_conn {
	union {
		struct {
			uint32_t caddr; /* client */
			uint32_t vaddr; /* virtual address */
			uint32_t daddr; /* real server */
			uint32_t spare;
		} a4;                   /* one cell: every address IPv4 */
		union xvs_ip daddr;     /* wide: the real server, either family */
		struct {
			uint32_t next;
			uint32_t prev;
		} free;                 /* a free cell's links */
	};
	uint16_t cport;     /* network order */
	uint16_t vport;
	uint16_t dport;
	uint8_t proto;      /* 0 = cell free (or a wide connection's second cell) */
	uint8_t state;      /* enum xvs_tcp_state; UDP: 0 */
	uint8_t af;         /* the service's family */
	uint8_t flags;      /* XVS_CONN_F_* */
	uint16_t dest;      /* destination slot */
	uint32_t expire;    /* worker clock, seconds */
} __attribute__((aligned(32)));

/* The second cell of a wide connection. */
struct xvs_conn_ext {
	union xvs_ip caddr;
	union xvs_ip vaddr;
} __attribute__((aligned(32)));

struct xvs_conn_bucket {
	uint32_t slot[XVS_CONN_BUCKET_SLOTS];
	uint32_t spilled; /* keys whose home is this bucket, stored further on */
} __attribute__((aligned(64)));

struct xvs_conn_table {
	struct xvs_conn_bucket *buckets;
	struct xvs_conn *conns; /* cells */
	uint32_t *embryo;       /* ring of cells, oldest at tail */
	uint32_t capacity;      /* cells, power of two */
	uint32_t bucket_mask;
	uint32_t idx_bits;      /* bits of a slot holding cell << 1 | dir */
	uint32_t sig_mask;      /* slot bits holding the signature */
	uint32_t free_pairs;    /* stack of free pairs (first cell), XVS_CONN_NIL = none */
	uint32_t free_ones;     /* list of free single cells */
	uint32_t nb_free;       /* free cells */
	uint32_t low_water;     /* fewer free cells: new connections evict embryonic ones */
	uint32_t embryo_mask;
	uint32_t embryo_head;
	uint32_t embryo_tail;
	uint32_t sweep_pos;
	uint64_t key[4];        /* the bucket hash's secret */
};

/* Lookup key: the packet's own addresses and ports. */
struct xvs_conn_key {
	uint32_t src;       /* IPv4 (af 0 or XVS_AF_INET) */
	uint32_t dst;
	uint16_t sport;
	uint16_t dport;
	uint8_t proto;
	uint8_t af;         /* 0 = XVS_AF_INET; XVS_AF_INET6 uses src6/dst6 */
	union xvs_ip src6;
	union xvs_ip dst6;
};

/* Bytes of memory needed for a table of `capacity` cells (power of two). */
size_t xvs_conn_table_memsize(uint32_t capacity);

/*
 * Lay a table out in `mem` (zeroed, xvs_conn_table_memsize bytes, cache aligned); `seed`
 * keys the bucket hash (a per-process secret).
 */
int xvs_conn_table_init(struct xvs_conn_table *t, void *mem, uint32_t capacity, uint64_t seed);

/* Buckets of a table of `capacity` cells. */
uint32_t xvs_conn_table_nb_buckets(uint32_t capacity);

/*
 * Take over a table that another process laid out in `mem` (xvs_conn_table_memsize bytes)
 * with bucket-hash secret `key`: only the cells are trusted; xvs_conn_table_rebuild must run
 * before any other use.
 */
int xvs_conn_table_attach(struct xvs_conn_table *t, void *mem, uint32_t capacity,
			  const uint64_t key[4]);

/* What xvs_conn_table_rebuild found. */
struct xvs_conn_rebuild {
	uint32_t nb_conns;   /* connections kept */
	uint32_t nb_tpl;     /* persistence templates kept */
	uint32_t nb_invalid; /* cells that no xvs could have written, cleared */
	uint32_t nb_dup;     /* entries whose key another entry already has, dropped */
	uint32_t nb_full;    /* entries whose keys found no bucket room, dropped */
	uint32_t cell;       /* the first invalid cell */
	const char *why;     /* and what is wrong with it */
};

/*
 * Rebuild an attached table's index from its cells: every entry is checked (protocol,
 * family, flags, cell alignment, TCP state, destination slot below nb_dests), its keys are
 * inserted again, and the free lists and the embryonic ring are made anew. An invalid cell
 * fails the whole table with -EBADMSG when strict (the table is then unusable: initialise it
 * again), else it is cleared and counted. Start-up only, before the owning worker runs.
 */
int xvs_conn_table_rebuild(struct xvs_conn_table *t, uint32_t nb_dests, int strict,
			   struct xvs_conn_rebuild *r);

/* The high and low halves of a 64x64-bit product, folded. */
static inline uint64_t xvs_conn_mum(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* The bucket hash of a key (keyed, not linear). */
static inline uint32_t xvs_conn_hash(const struct xvs_conn_table *t, const struct xvs_conn_key *k)
{
	uint64_t b = (uint64_t)k->sport << 32 | (uint32_t)k->dport << 16 | k->proto;
	uint64_t h;
	if (unlikely(k->af == XVS_AF_INET6)) {
		uint64_t x = xvs_conn_mum(k->src6.d[0] ^ t->key[0], k->src6.d[1] ^ t->key[1]);
		uint64_t y = xvs_conn_mum(k->dst6.d[0] ^ t->key[2], k->dst6.d[1] ^ t->key[3]);
		h = xvs_conn_mum(x ^ b ^ t->key[1], y ^ t->key[0]);
	} else {
		uint64_t a = (uint64_t)k->src << 32 | k->dst;
		h = xvs_conn_mum(xvs_conn_mum(a ^ t->key[0], b ^ t->key[1]) ^ t->key[2], t->key[3]);
	}
	return (uint32_t)h ^ (uint32_t)(h >> 32);
}

static inline struct xvs_conn_bucket *xvs_conn_bucket_of(const struct xvs_conn_table *t, uint32_t h)
{
	return &t->buckets[h & t->bucket_mask];
}

static inline uint32_t xvs_conn_sig(const struct xvs_conn_table *t, uint32_t h)
{
	/* top bits of the hash; the low bits pick the bucket */
	return h & t->sig_mask;
}

static inline struct xvs_conn_ext *xvs_conn_ext(const struct xvs_conn *c)
{
	return (struct xvs_conn_ext *)(uintptr_t)(c + 1);
}

/* A connection's addresses, either layout. */
static inline union xvs_ip xvs_conn_caddr(const struct xvs_conn *c)
{
	if (c->flags & XVS_CONN_F_WIDE)
		return xvs_conn_ext(c)->caddr;
	return (union xvs_ip){ .d = { c->a4.caddr, 0 } };
}

static inline union xvs_ip xvs_conn_vaddr(const struct xvs_conn *c)
{
	if (c->flags & XVS_CONN_F_WIDE)
		return xvs_conn_ext(c)->vaddr;
	return (union xvs_ip){ .d = { c->a4.vaddr, 0 } };
}

static inline union xvs_ip xvs_conn_daddr(const struct xvs_conn *c)
{
	if (c->flags & XVS_CONN_F_WIDE)
		return c->daddr;
	return (union xvs_ip){ .d = { c->a4.daddr, 0 } };
}

/* Does connection c match key k seen in direction dir? */
static inline int xvs_conn_match(const struct xvs_conn *c, const struct xvs_conn_key *k, unsigned dir)
{
	if (c->proto != k->proto)
		return 0;
	if (likely(!(c->flags & XVS_CONN_F_WIDE))) {
		if (unlikely(k->af == XVS_AF_INET6))
			return 0;
		if (dir == XVS_CONN_DIR_ORIG)
			return c->a4.caddr == k->src && c->cport == k->sport && c->a4.vaddr == k->dst &&
			       c->vport == k->dport;
		return c->a4.daddr == k->src && c->dport == k->sport && c->a4.caddr == k->dst &&
		       c->cport == k->dport;
	}
	/* wide: the key's addresses as the connection stores them */
	const struct xvs_conn_ext *e = xvs_conn_ext(c);
	union xvs_ip src = k->src6, dst = k->dst6;
	if (k->af != XVS_AF_INET6) {
		src = (union xvs_ip){ .d = { k->src, 0 } };
		dst = (union xvs_ip){ .d = { k->dst, 0 } };
	}
	if (dir == XVS_CONN_DIR_ORIG)
		return (k->af == XVS_AF_INET6) == (c->af == XVS_AF_INET6) && xvs_ip_eq(&e->caddr, &src) &&
		       c->cport == k->sport && xvs_ip_eq(&e->vaddr, &dst) && c->vport == k->dport;
	/* replies come from the real server in the client's family (NAT keeps the family) */
	return xvs_ip_eq(&c->daddr, &src) && c->dport == k->sport && xvs_ip_eq(&e->caddr, &dst) &&
	       c->cport == k->dport && (k->af == XVS_AF_INET6) == (c->af == XVS_AF_INET6);
}

/*
 * Scan for key k with hash h. Returns the slot value (cell << 1 | dir) + 1 of the match,
 * or 0. Prefetching the candidate entry is the caller's business.
 */
static inline uint32_t xvs_conn_find(const struct xvs_conn_table *t, const struct xvs_conn_key *k,
				     uint32_t h)
{
	uint32_t sig = xvs_conn_sig(t, h), idx_mask = ~t->sig_mask;
	uint32_t b = h & t->bucket_mask;
	const struct xvs_conn_bucket *home = &t->buckets[b];
	uint32_t spilled = home->spilled;
	for (unsigned probe = 0; probe < XVS_CONN_MAX_PROBE; probe++) {
		const struct xvs_conn_bucket *bk = &t->buckets[(b + probe) & t->bucket_mask];
		for (unsigned i = 0; i < XVS_CONN_BUCKET_SLOTS; i++) {
			uint32_t s = bk->slot[i];
			if (s == 0 || (s & t->sig_mask) != sig)
				continue;
			uint32_t v = (s & idx_mask) - 1;
			if (xvs_conn_match(&t->conns[v >> 1], k, v & 1))
				return v + 1;
		}
		if (!spilled)
			break;
	}
	return 0;
}

/* Insert key (hash h) for cell idx in direction dir. Returns 0 or -ENOSPC. */
int xvs_conn_insert_key(struct xvs_conn_table *t, uint32_t h, uint32_t idx, unsigned dir);

/* Remove the key (hash h) pointing at cell idx in direction dir. */
void xvs_conn_remove_key(struct xvs_conn_table *t, uint32_t h, uint32_t idx, unsigned dir);

/*
 * Take a free cell (wide = 0) or an aligned pair of cells (wide = 1); returns the first
 * cell, or -1 when there is no room. The caller fills the entry, setting XVS_CONN_F_WIDE
 * for a pair.
 */
int64_t xvs_conn_alloc(struct xvs_conn_table *t, int wide);

/* Give back the cell(s) of an entry that has no keys in the table. */
void xvs_conn_unalloc(struct xvs_conn_table *t, uint32_t idx);

/* Remove an entry's keys and give its cells back. */
void xvs_conn_free(struct xvs_conn_table *t, uint32_t idx);

/* The live connection whose head is cell i, or NULL (free, or a wide one's second cell). */
static inline struct xvs_conn *xvs_conn_live(const struct xvs_conn_table *t, uint32_t i)
{
	struct xvs_conn *c = &t->conns[i];
	if ((i & 1) && c[-1].proto && (c[-1].flags & XVS_CONN_F_WIDE))
		return NULL;
	return c->proto ? c : NULL;
}

/* Note a new connection in the embryonic ring (the oldest entry is forgotten when full). */
static inline void xvs_conn_embryo_push(struct xvs_conn_table *t, uint32_t idx)
{
	if (t->embryo_head - t->embryo_tail > t->embryo_mask)
		t->embryo_tail++;
	t->embryo[t->embryo_head++ & t->embryo_mask] = idx;
}

/*
 * The oldest connection of the ring that is still embryonic, taken off the ring, or -1;
 * looks at most `budget` entries (the others have been confirmed or freed since).
 */
static inline int64_t xvs_conn_embryo_pop(struct xvs_conn_table *t, unsigned budget)
{
	while (budget-- && t->embryo_tail != t->embryo_head) {
		uint32_t idx = t->embryo[t->embryo_tail++ & t->embryo_mask];
		const struct xvs_conn *c = xvs_conn_live(t, idx);
		if (c && !(c->flags & XVS_CONN_F_CONFIRMED))
			return idx;
	}
	return -1;
}

/* Cells the expiry sweep visits per millisecond: a whole pass in at most about 4 s. */
static inline uint32_t xvs_conn_sweep_step(const struct xvs_conn_table *t)
{
	uint32_t n = t->capacity >> 12;
	return n < 256 ? 256 : n;
}

/* Keys of an entry, for insertion and removal. */
static inline void xvs_conn_keys(const struct xvs_conn *c, struct xvs_conn_key *orig,
				 struct xvs_conn_key *reply)
{
	*orig = (struct xvs_conn_key){ .sport = c->cport, .dport = c->vport, .proto = c->proto };
	*reply = (struct xvs_conn_key){ .sport = c->dport, .dport = c->cport, .proto = c->proto };
	if (!(c->flags & XVS_CONN_F_WIDE)) {
		orig->src = c->a4.caddr;
		orig->dst = c->a4.vaddr;
		reply->src = c->a4.daddr;
		reply->dst = c->a4.caddr;
		return;
	}
	const struct xvs_conn_ext *e = xvs_conn_ext(c);
	if (c->af == XVS_AF_INET6) {
		orig->af = reply->af = XVS_AF_INET6;
		orig->src6 = e->caddr;
		orig->dst6 = e->vaddr;
		reply->src6 = c->daddr;
		reply->dst6 = e->caddr;
		return;
	}
	/* an IPv4 service with an IPv6 tunnel real server: no reply key is ever inserted */
	orig->src = e->caddr.v4;
	orig->dst = e->vaddr.v4;
	reply->src = c->daddr.v4;
	reply->dst = e->caddr.v4;
}

/*
 * The flow hash of a client -> VIP key: CRC32-C (docs/dataplane.md, "Forwarding"). Tunnels
 * spread their outer source address, GUE source port and IPv6 flow label with it; unlike the
 * connection table's keyed hash it is the same on every node and across restarts.
 */
static inline uint32_t xvs_flow_hash(const struct xvs_conn_key *k)
{
	uint64_t b = (uint64_t)k->sport << 32 | (uint32_t)k->dport << 16 | k->proto;
	if (k->af == XVS_AF_INET6) {
		uint32_t h = rte_hash_crc_8byte(k->src6.d[0], 0x6a17c0de);
		h = rte_hash_crc_8byte(k->src6.d[1], h);
		h = rte_hash_crc_8byte(k->dst6.d[0], h);
		h = rte_hash_crc_8byte(k->dst6.d[1], h);
		return rte_hash_crc_8byte(b, h);
	}
	uint64_t a = (uint64_t)k->src << 32 | k->dst;
	return rte_hash_crc_8byte(b, rte_hash_crc_8byte(a, 0x5a17c0de));
}

static inline uint32_t xvs_conn_flow_hash(const struct xvs_conn *c)
{
	struct xvs_conn_key k, r;
	xvs_conn_keys(c, &k, &r);
	return xvs_flow_hash(&k);
}

#endif
