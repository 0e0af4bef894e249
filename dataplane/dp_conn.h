/*
 * Per-worker connection table. Each worker owns one (no sharing, no locks). A connection is
 * one 64-byte entry; it is indexed by up to two keys in a bucketised hash: the original
 * direction (client -> VIP) and, for NAT, the reply direction (real server -> client).
 *
 * Buckets are one cache line: 15 slots of 32 bits (a signature in the high bits, key index
 * in the low bits: entry << 1 | direction, 0 = empty) and a count of keys that spilled from
 * this home bucket into the following ones. Lookups of a burst are pipelined by the caller:
 * hash + prefetch bucket, then scan + prefetch entry, then compare (xvs_conn_*_stage).
 */
#ifndef XVS_DP_CONN_H
#define XVS_DP_CONN_H

#include <stdint.h>
#include <string.h>

#include <rte_hash_crc.h>
#include <rte_branch_prediction.h>
#include <rte_prefetch.h>

#include "xvs/addr.h"

#define XVS_CONN_BUCKET_SLOTS 15
#define XVS_CONN_MAX_PROBE    8 /* buckets a spilled key may travel */

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

#define XVS_CONN_F_FWD_MASK 0x03 /* XVS_FWD_* */
#define XVS_CONN_F_ACTIVE   0x04 /* counted in the destination's active connections */
#define XVS_CONN_F_REPLY    0x08 /* reply key inserted */

struct xvs_conn {
	union xvs_ip caddr; /* client */
	union xvs_ip vaddr; /* virtual address */
	union xvs_ip daddr; /* real server */
	uint16_t cport;     /* network order */
	uint16_t vport;
	uint16_t dport;
	uint8_t proto;      /* 0 = entry free */
	uint8_t state;      /* enum xvs_tcp_state; UDP: 0 */
	uint8_t af;
	uint8_t flags;      /* XVS_CONN_F_* */
	uint16_t dest;      /* destination slot */
	uint32_t expire;    /* worker clock, seconds */
} __attribute__((aligned(64)));

struct xvs_conn_bucket {
	uint32_t slot[XVS_CONN_BUCKET_SLOTS];
	uint32_t spilled; /* keys whose home is this bucket, stored further on */
} __attribute__((aligned(64)));

struct xvs_conn_table {
	struct xvs_conn_bucket *buckets;
	struct xvs_conn *conns;
	uint32_t *free_stack;
	uint32_t nb_free;
	uint32_t capacity;    /* entries, power of two */
	uint32_t bucket_mask;
	uint32_t idx_bits;    /* bits of a slot holding entry << 1 | dir */
	uint32_t sig_mask;    /* slot bits holding the signature */
	uint32_t sweep_pos;
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

/* Bytes of memory needed for a table of `capacity` entries (power of two). */
size_t xvs_conn_table_memsize(uint32_t capacity);

/* Lay a table out in `mem` (zeroed, xvs_conn_table_memsize bytes, cache aligned). */
int xvs_conn_table_init(struct xvs_conn_table *t, void *mem, uint32_t capacity);

static inline uint32_t xvs_conn_hash(const struct xvs_conn_key *k)
{
	uint64_t b = (uint64_t)k->sport << 32 | (uint32_t)k->dport << 16 | k->proto;
	if (unlikely(k->af == XVS_AF_INET6)) {
		uint32_t h = rte_hash_crc_8byte(k->src6.d[0], 0x6a17c0de);
		h = rte_hash_crc_8byte(k->src6.d[1], h);
		h = rte_hash_crc_8byte(k->dst6.d[0], h);
		h = rte_hash_crc_8byte(k->dst6.d[1], h);
		return rte_hash_crc_8byte(b, h);
	}
	uint64_t a = (uint64_t)k->src << 32 | k->dst;
	return rte_hash_crc_8byte(b, rte_hash_crc_8byte(a, 0x5a17c0de));
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

/* Does entry c match key k seen in direction dir? */
static inline int xvs_conn_match(const struct xvs_conn *c, const struct xvs_conn_key *k, unsigned dir)
{
	if (c->proto != k->proto)
		return 0;
	if (unlikely(k->af == XVS_AF_INET6 || c->af == XVS_AF_INET6)) {
		if (k->af != c->af)
			return 0;
		if (dir == XVS_CONN_DIR_ORIG)
			return xvs_ip_eq(&c->caddr, &k->src6) && c->cport == k->sport &&
			       xvs_ip_eq(&c->vaddr, &k->dst6) && c->vport == k->dport;
		return xvs_ip_eq(&c->daddr, &k->src6) && c->dport == k->sport &&
		       xvs_ip_eq(&c->caddr, &k->dst6) && c->cport == k->dport;
	}
	if (dir == XVS_CONN_DIR_ORIG)
		return c->caddr.v4 == k->src && c->cport == k->sport && c->vaddr.v4 == k->dst &&
		       c->vport == k->dport;
	return c->daddr.v4 == k->src && c->dport == k->sport && c->caddr.v4 == k->dst &&
	       c->cport == k->dport;
}

/*
 * Scan for key k with hash h. Returns the slot value (entry << 1 | dir) + 1 of the match,
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

/* Insert key (hash h) for entry idx in direction dir. Returns 0 or -ENOSPC. */
int xvs_conn_insert_key(struct xvs_conn_table *t, uint32_t h, uint32_t idx, unsigned dir);

/* Remove the key (hash h) pointing at entry idx in direction dir. */
void xvs_conn_remove_key(struct xvs_conn_table *t, uint32_t h, uint32_t idx, unsigned dir);

/* Take a free entry, or -1 when the table is full. */
static inline int64_t xvs_conn_alloc(struct xvs_conn_table *t)
{
	if (t->nb_free == 0)
		return -1;
	return t->free_stack[--t->nb_free];
}

/* Return an entry that has no keys in the table to the free stack. */
static inline void xvs_conn_unalloc(struct xvs_conn_table *t, uint32_t idx)
{
	t->conns[idx].proto = 0;
	t->conns[idx].flags = 0;
	t->free_stack[t->nb_free++] = idx;
}

/* Remove an entry's keys and return it to the free stack. */
void xvs_conn_free(struct xvs_conn_table *t, uint32_t idx);

/* Keys of an entry, for insertion and removal. */
static inline void xvs_conn_keys(const struct xvs_conn *c, struct xvs_conn_key *orig,
				 struct xvs_conn_key *reply)
{
	if (c->af == XVS_AF_INET6) {
		*orig = (struct xvs_conn_key){ .src6 = c->caddr, .dst6 = c->vaddr, .sport = c->cport,
					       .dport = c->vport, .proto = c->proto, .af = XVS_AF_INET6 };
		*reply = (struct xvs_conn_key){ .src6 = c->daddr, .dst6 = c->caddr, .sport = c->dport,
						.dport = c->cport, .proto = c->proto, .af = XVS_AF_INET6 };
		return;
	}
	*orig = (struct xvs_conn_key){ .src = c->caddr.v4, .dst = c->vaddr.v4, .sport = c->cport,
				       .dport = c->vport, .proto = c->proto };
	*reply = (struct xvs_conn_key){ .src = c->daddr.v4, .dst = c->caddr.v4, .sport = c->dport,
					.dport = c->cport, .proto = c->proto };
}

#endif
