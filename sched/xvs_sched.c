/*
 * The scheduler registry, generated from xvs/sched_list.h, and what the schedulers share:
 * lookup by name, the registry's fingerprint, the table pool of a generation.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "xvs/sched.h"

#define XVS_SCHED(ID, name) extern const struct xvs_sched_ops xvs_sched_##name;
#include "xvs/sched_list.h"
#undef XVS_SCHED

const struct xvs_sched_ops *const xvs_sched_all[XVS_SCHED_MAX] = {
#define XVS_SCHED(ID, name) [XVS_SCHED_##ID] = &xvs_sched_##name,
#include "xvs/sched_list.h"
#undef XVS_SCHED
};

int xvs_sched_id(const char *name)
{
	for (unsigned i = 1; i < XVS_SCHED_MAX; i++)
		if (strcmp(xvs_sched_all[i]->name, name) == 0)
			return (int)i;
	return -1;
}

const struct xvs_sched_ops *xvs_sched_find(const char *name)
{
	int id = xvs_sched_id(name);
	return id < 0 ? NULL : xvs_sched_all[id];
}

const char *xvs_sched_names(void)
{
	static char names[256];
	if (names[0])
		return names;
	size_t off = 0;
	for (unsigned i = 1; i < XVS_SCHED_MAX && off < sizeof(names); i++)
		off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s", i > 1 ? ", " : "",
					xvs_sched_all[i]->name);
	return names;
}

/* FNV-1a over "name\0" of every scheduler in id order. */
uint32_t xvs_sched_registry_id(void)
{
	uint32_t h = 2166136261u;
	for (unsigned i = 1; i < XVS_SCHED_MAX; i++) {
		const char *p = xvs_sched_all[i]->name;
		do {
			h ^= (uint8_t)*p;
			h *= 16777619u;
		} while (*p++);
	}
	return h;
}

int xvs_sched_build_none(struct xvs_svc *svc, const struct xvs_dest *const *dests, unsigned nb_dests)
{
	(void)dests;
	(void)nb_dests;
	svc->sd = (union xvs_sched_data){0};
	return 0;
}

uint16_t *xvs_sched_tab_alloc(struct xvs_sched_tab_build *b, struct xvs_svc *svc, uint32_t size)
{
	struct xvs_gen *g = b->g;
	if (size == 0 || size > XVS_SCHED_TAB_POOL - g->nb_sched_tab) {
		snprintf(b->msg, b->msglen, "no room for a scheduler table of %u entries: the "
			 "generation's pool holds %u, %u are taken", size, XVS_SCHED_TAB_POOL,
			 g->nb_sched_tab);
		return NULL;
	}
	svc->sd = (union xvs_sched_data){0};
	svc->sd.tab.off = g->nb_sched_tab;
	svc->sd.tab.size = size;
	g->nb_sched_tab += size;
	uint16_t *t = &g->sched_tab[svc->sd.tab.off];
	for (uint32_t i = 0; i < size; i++)
		t[i] = XVS_SCHED_TAB_NONE;
	return t;
}

int xvs_sched_tab_check(const struct xvs_gen *g, const struct xvs_svc *svc, uint32_t size)
{
	uint32_t off = svc->sd.tab.off, n = svc->sd.tab.size;
	if (n == 0 || (size && n != size) || off > g->nb_sched_tab || n > g->nb_sched_tab - off)
		return -EINVAL;
	const uint16_t *t = &g->sched_tab[off];
	for (uint32_t i = 0; i < n; i++)
		if (t[i] != XVS_SCHED_TAB_NONE && t[i] >= svc->nb_dests)
			return -EINVAL;
	return 0;
}

int xvs_sched_params_check(const struct xvs_sched_params *p, char *msg, size_t msglen)
{
	uint32_t m = p->mh_size;
	int prime = m >= 2;
	for (uint32_t d = 2; prime && (uint64_t)d * d <= m; d++)
		prime = m % d != 0;
	if (prime && m >= XVS_MH_SIZE_MIN && m <= XVS_SCHED_TAB_POOL)
		return 0;
	snprintf(msg, msglen, "Maglev table size %u: it must be a prime in %u..%u (65537 and 655373 "
		 "are)", m, XVS_MH_SIZE_MIN, XVS_SCHED_TAB_POOL);
	return -EINVAL;
}
