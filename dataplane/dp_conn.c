/* Connection table layout, key insertion and removal (worker lcore that owns the table). */
#include <errno.h>

#include <rte_common.h>

#include "dp_conn.h"

/* Four entries per bucket line: keys load buckets to at most half of their slots. */
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

int xvs_conn_table_init(struct xvs_conn_table *t, void *mem, uint32_t capacity)
{
	if (capacity < 16 || !rte_is_power_of_2(capacity) || capacity > (1u << 24))
		return -EINVAL;
	uint32_t nb_buckets = nb_buckets_for(capacity);
	char *p = mem;
	t->buckets = (struct xvs_conn_bucket *)p;
	p += (size_t)nb_buckets * sizeof(struct xvs_conn_bucket);
	t->conns = (struct xvs_conn *)p;
	p += (size_t)capacity * sizeof(struct xvs_conn);
	t->free_stack = (uint32_t *)p;
	t->capacity = capacity;
	t->bucket_mask = nb_buckets - 1;
	t->idx_bits = (uint32_t)rte_log2_u32(capacity) + 2;
	t->sig_mask = ~((1u << t->idx_bits) - 1);
	t->sweep_pos = 0;
	/* Hand out low indices first: the table's start stays warm in cache. */
	for (uint32_t i = 0; i < capacity; i++)
		t->free_stack[i] = capacity - 1 - i;
	t->nb_free = capacity;
	return 0;
}

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
	xvs_conn_remove_key(t, xvs_conn_hash(&ko), idx, XVS_CONN_DIR_ORIG);
	if (c->flags & XVS_CONN_F_REPLY)
		xvs_conn_remove_key(t, xvs_conn_hash(&kr), idx, XVS_CONN_DIR_REPLY);
	xvs_conn_unalloc(t, idx);
}
