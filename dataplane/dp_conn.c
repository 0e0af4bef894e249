/* Connection table layout, cells, keys and the embryonic ring (the worker that owns it). */
#include <errno.h>

#include <rte_common.h>

#include "dp_conn.h"

/* Four cells per bucket line: two keys per cell load buckets to at most 53% of their slots. */
static uint32_t nb_buckets_for(uint32_t capacity)
{
	uint32_t n = capacity / 4;
	return n < 16 ? 16 : n;
}

size_t xvs_conn_table_memsize(uint32_t capacity)
{
	return (size_t)nb_buckets_for(capacity) * sizeof(struct xvs_conn_bucket) +
	       (size_t)capacity * sizeof(struct xvs_conn) +
	       RTE_ALIGN_CEIL((size_t)capacity * sizeof(uint32_t), 64);
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

int xvs_conn_table_init(struct xvs_conn_table *t, void *mem, uint32_t capacity, uint64_t seed)
{
	if (capacity < 16 || !rte_is_power_of_2(capacity) || capacity > (1u << 24))
		return -EINVAL;
	uint32_t nb_buckets = nb_buckets_for(capacity);
	char *p = mem;
	memset(t, 0, sizeof(*t));
	t->buckets = (struct xvs_conn_bucket *)p;
	p += (size_t)nb_buckets * sizeof(struct xvs_conn_bucket);
	t->conns = (struct xvs_conn *)p;
	p += (size_t)capacity * sizeof(struct xvs_conn);
	t->embryo = (uint32_t *)p;
	t->capacity = capacity;
	t->bucket_mask = nb_buckets - 1;
	t->idx_bits = (uint32_t)rte_log2_u32(capacity) + 2;
	t->sig_mask = ~((1u << t->idx_bits) - 1);
	t->embryo_mask = capacity - 1;
	t->low_water = capacity / 8;
	for (unsigned i = 0; i < 4; i++)
		t->key[i] = splitmix(&seed) | 1;
	/* every pair free, low cells on top of the stack: the table's start stays warm */
	t->free_ones = XVS_CONN_NIL;
	t->free_pairs = XVS_CONN_NIL;
	for (uint32_t i = capacity; i >= 2; i -= 2) {
		t->conns[i - 2].free.next = t->free_pairs;
		t->free_pairs = i - 2;
	}
	t->nb_free = capacity;
	return 0;
}

/* ---- cells ---------------------------------------------------------------------------- */

static void ones_push(struct xvs_conn_table *t, uint32_t i)
{
	struct xvs_conn *c = &t->conns[i];
	c->proto = 0;
	c->flags = 0;
	c->free.prev = XVS_CONN_NIL;
	c->free.next = t->free_ones;
	if (t->free_ones != XVS_CONN_NIL)
		t->conns[t->free_ones].free.prev = i;
	t->free_ones = i;
}

static void ones_unlink(struct xvs_conn_table *t, uint32_t i)
{
	struct xvs_conn *c = &t->conns[i];
	if (c->free.prev == XVS_CONN_NIL)
		t->free_ones = c->free.next;
	else
		t->conns[c->free.prev].free.next = c->free.next;
	if (c->free.next != XVS_CONN_NIL)
		t->conns[c->free.next].free.prev = c->free.prev;
}

static void pairs_push(struct xvs_conn_table *t, uint32_t i)
{
	/* both cells read as free: proto 0 (the sweep and xvs_conn_live look at them) */
	memset(&t->conns[i], 0, 2 * sizeof(struct xvs_conn));
	t->conns[i].free.next = t->free_pairs;
	t->free_pairs = i;
}

int64_t xvs_conn_alloc(struct xvs_conn_table *t, int wide)
{
	if (!wide && t->free_ones != XVS_CONN_NIL) {
		uint32_t i = t->free_ones;
		ones_unlink(t, i);
		t->nb_free--;
		return i;
	}
	if (t->free_pairs == XVS_CONN_NIL)
		return -1;
	uint32_t i = t->free_pairs;
	t->free_pairs = t->conns[i].free.next;
	t->nb_free -= 2;
	if (!wide) {
		ones_push(t, i + 1);
		t->nb_free++;
	}
	return i;
}

void xvs_conn_unalloc(struct xvs_conn_table *t, uint32_t idx)
{
	struct xvs_conn *c = &t->conns[idx];
	if (c->flags & XVS_CONN_F_WIDE) {
		pairs_push(t, idx);
		t->nb_free += 2;
		return;
	}
	t->nb_free++;
	uint32_t buddy = idx ^ 1;
	if (t->conns[buddy].proto == 0) {
		/* the buddy is a free single (never half of a wide entry or of a free pair) */
		ones_unlink(t, buddy);
		pairs_push(t, idx & ~1u);
		return;
	}
	ones_push(t, idx);
}

/* ---- keys ----------------------------------------------------------------------------- */

int xvs_conn_insert_key(struct xvs_conn_table *t, uint32_t h, uint32_t idx, unsigned dir)
{
	uint32_t b = h & t->bucket_mask;
	uint32_t val = xvs_conn_sig(t, h) | (((idx << 1) | dir) + 1);
	for (unsigned probe = 0; probe < XVS_CONN_MAX_PROBE; probe++) {
		struct xvs_conn_bucket *bk = &t->buckets[(b + probe) & t->bucket_mask];
		for (unsigned i = 0; i < XVS_CONN_BUCKET_SLOTS; i++) {
			if (bk->slot[i] == 0) {
				bk->slot[i] = val;
				if (probe)
					t->buckets[b].spilled++;
				return 0;
			}
		}
	}
	return -ENOSPC;
}

void xvs_conn_remove_key(struct xvs_conn_table *t, uint32_t h, uint32_t idx, unsigned dir)
{
	uint32_t b = h & t->bucket_mask;
	uint32_t val = xvs_conn_sig(t, h) | (((idx << 1) | dir) + 1);
	for (unsigned probe = 0; probe < XVS_CONN_MAX_PROBE; probe++) {
		struct xvs_conn_bucket *bk = &t->buckets[(b + probe) & t->bucket_mask];
		for (unsigned i = 0; i < XVS_CONN_BUCKET_SLOTS; i++) {
			if (bk->slot[i] == val) {
				bk->slot[i] = 0;
				if (probe)
					t->buckets[b].spilled--;
				return;
			}
		}
	}
}

void xvs_conn_free(struct xvs_conn_table *t, uint32_t idx)
{
	struct xvs_conn *c = &t->conns[idx];
	struct xvs_conn_key ko, kr;
	xvs_conn_keys(c, &ko, &kr);
	xvs_conn_remove_key(t, xvs_conn_hash(t, &ko), idx, XVS_CONN_DIR_ORIG);
	if (c->flags & XVS_CONN_F_REPLY)
		xvs_conn_remove_key(t, xvs_conn_hash(t, &kr), idx, XVS_CONN_DIR_REPLY);
	xvs_conn_unalloc(t, idx);
}
