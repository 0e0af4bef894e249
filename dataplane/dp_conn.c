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

/* Point t at the parts of mem; the cells, buckets and ring are left as they are. */
static int table_layout(struct xvs_conn_table *t, void *mem, uint32_t capacity)
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
	return 0;
}

uint32_t xvs_conn_table_nb_buckets(uint32_t capacity)
{
	return nb_buckets_for(capacity);
}

int xvs_conn_table_init(struct xvs_conn_table *t, void *mem, uint32_t capacity, uint64_t seed)
{
	if (table_layout(t, mem, capacity) < 0)
		return -EINVAL;
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
		t->conns[i].proto = XVS_CONN_PROTO_CLAIMED;
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
	t->conns[i].proto = XVS_CONN_PROTO_CLAIMED;
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

/* ---- a table that outlived its process (docs/dataplane.md, "Restarting ...") ---------- */

int xvs_conn_table_attach(struct xvs_conn_table *t, void *mem, uint32_t capacity,
			  const uint64_t key[4])
{
	if (table_layout(t, mem, capacity) < 0)
		return -EINVAL;
	memcpy(t->key, key, sizeof(t->key));
	return 0;
}

/* Why the entry whose head is cell i cannot be one this code writes, or NULL. */
static const char *cell_invalid(const struct xvs_conn_table *t, uint32_t i, uint32_t nb_dests)
{
	const struct xvs_conn *c = &t->conns[i];
	switch (c->proto) {
	case XVS_PROTO_TCP:
	case XVS_PROTO_UDP:
	case XVS_PROTO_SCTP:
	case XVS_CONN_PROTO_TPL: /* a fwmark service's template */
	case XVS_CONN_PROTO_TPL | XVS_PROTO_TCP:
	case XVS_CONN_PROTO_TPL | XVS_PROTO_UDP:
	case XVS_CONN_TPL_SCTP:
		break;
	default:
		return "unknown protocol";
	}
	if (c->af != XVS_AF_INET && c->af != XVS_AF_INET6)
		return "unknown family";
	if (c->flags & ~(XVS_CONN_F_FWD_MASK | XVS_CONN_F_ACTIVE | XVS_CONN_F_REPLY | XVS_CONN_F_WIDE |
			 XVS_CONN_F_CONFIRMED | XVS_CONN_F_CONTROLLED))
		return "unknown flags";
	if (c->af == XVS_AF_INET6 && !(c->flags & XVS_CONN_F_WIDE))
		return "an IPv6 entry in one cell";
	if ((c->flags & XVS_CONN_F_WIDE) && ((i & 1) || i + 1 >= t->capacity))
		return "a two-cell entry on an odd cell";
	if (c->proto == XVS_PROTO_TCP && c->state >= XVS_TCP_STATE_MAX)
		return "unknown TCP state";
	if (c->dest >= nb_dests)
		return "destination slot out of range";
	return NULL;
}

/* Insert the keys of the valid entry at cell i; a duplicate or a full bucket run refuses it. */
static int index_entry(struct xvs_conn_table *t, uint32_t i, struct xvs_conn_rebuild *r)
{
	const struct xvs_conn *c = &t->conns[i];
	struct xvs_conn_key ko, kr;
	xvs_conn_keys(c, &ko, &kr);
	uint32_t ho = xvs_conn_hash(t, &ko);
	if (xvs_conn_find(t, &ko, ho)) {
		r->nb_dup++;
		return -EEXIST;
	}
	if (xvs_conn_insert_key(t, ho, i, XVS_CONN_DIR_ORIG) < 0) {
		r->nb_full++;
		return -ENOSPC;
	}
	if (!(c->flags & XVS_CONN_F_REPLY))
		return 0;
	uint32_t hr = xvs_conn_hash(t, &kr);
	int rc = xvs_conn_find(t, &kr, hr) ? -EEXIST : xvs_conn_insert_key(t, hr, i, XVS_CONN_DIR_REPLY);
	if (rc < 0) {
		xvs_conn_remove_key(t, ho, i, XVS_CONN_DIR_ORIG);
		if (rc == -EEXIST)
			r->nb_dup++;
		else
			r->nb_full++;
	}
	return rc;
}

/* Free lists from the cells (proto 0 = free), low cells on top as at init. */
static void rebuild_free(struct xvs_conn_table *t)
{
	t->free_ones = XVS_CONN_NIL;
	t->free_pairs = XVS_CONN_NIL;
	t->nb_free = 0;
	for (uint32_t i = t->capacity; i >= 2; i -= 2) {
		uint32_t p = i - 2;
		const struct xvs_conn *a = &t->conns[p];
		if (a->proto && (a->flags & XVS_CONN_F_WIDE))
			continue;
		int fa = !a->proto, fb = !a[1].proto;
		if (fa && fb) {
			pairs_push(t, p);
			t->nb_free += 2;
		} else if (fa || fb) {
			ones_push(t, fa ? p : p + 1);
			t->nb_free++;
		}
	}
}

int xvs_conn_table_rebuild(struct xvs_conn_table *t, uint32_t nb_dests, int strict,
			   struct xvs_conn_rebuild *r)
{
	memset(r, 0, sizeof(*r));
	memset(t->buckets, 0, (size_t)(t->bucket_mask + 1) * sizeof(*t->buckets));
	for (uint32_t i = 0; i < t->capacity; i++) {
		struct xvs_conn *c = &t->conns[i];
		if (!c->proto)
			continue;
		const char *why = cell_invalid(t, i, nb_dests);
		if (why) {
			if (!r->nb_invalid++) {
				r->why = why;
				r->cell = i;
			}
			if (strict)
				return -EBADMSG;
			memset(c, 0, sizeof(*c)); /* the next cell is then judged as a head of its own */
			continue;
		}
		int wide = !!(c->flags & XVS_CONN_F_WIDE);
		if (index_entry(t, i, r) < 0) {
			memset(c, 0, (size_t)(1 + wide) * sizeof(*c));
		} else if (xvs_conn_proto_is_tpl(c->proto)) {
			r->nb_tpl++;
		} else {
			r->nb_conns++;
		}
		i += (uint32_t)wide;
	}
	rebuild_free(t);
	/* the ring's order is lost: the still embryonic entries, in cell order */
	t->embryo_head = t->embryo_tail = t->sweep_pos = 0;
	for (uint32_t i = 0; i < t->capacity; i++) {
		const struct xvs_conn *c = xvs_conn_live(t, i);
		if (c && !xvs_conn_proto_is_tpl(c->proto) && !(c->flags & XVS_CONN_F_CONFIRMED))
			xvs_conn_embryo_push(t, i);
	}
	return 0;
}
