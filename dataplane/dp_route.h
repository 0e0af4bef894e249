/* Static IPv4 routes with longest-prefix match over a small, read-mostly list. */
#ifndef XVS_DP_ROUTE_H
#define XVS_DP_ROUTE_H

#include <stdint.h>

#ifndef XVS_MAX_ROUTES
#define XVS_MAX_ROUTES 64
#endif

struct xvs_route {
	uint32_t prefix;  /* network order, masked */
	uint32_t mask;    /* network order */
	uint32_t gw;      /* network order; 0 = connected (the destination is the next hop) */
	uint16_t port;    /* index into the dataplane's ports */
	uint8_t len;
};

/* Sorted longest prefix first; built at start-up, read-only afterwards. */
struct xvs_route_table {
	struct xvs_route r[XVS_MAX_ROUTES];
	unsigned nb;
};

/* Add a route (start-up only). Returns 0, -ENOSPC or -EINVAL. */
int xvs_route_add(struct xvs_route_table *t, uint32_t prefix, uint8_t len, uint32_t gw, uint16_t port);

/* Longest match for dst; NULL if none. Any lcore. */
static inline const struct xvs_route *xvs_route_lookup(const struct xvs_route_table *t, uint32_t dst)
{
	for (unsigned i = 0; i < t->nb; i++)
		if ((dst & t->r[i].mask) == t->r[i].prefix)
			return &t->r[i];
	return NULL;
}

#endif
