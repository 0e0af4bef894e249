/* Static IPv4 routes with longest-prefix match over a small, read-mostly list. */
#ifndef XVS_DP_ROUTE_H
#define XVS_DP_ROUTE_H

#include <stdint.h>

#include "xvs/addr.h"

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

/* IPv6 routes: the same, with 128-bit prefixes. */
struct xvs_route6 {
	union xvs_ip prefix; /* masked */
	union xvs_ip mask;
	union xvs_ip gw;     /* :: = connected */
	uint16_t port;
	uint8_t len;
	uint8_t has_gw;
};

struct xvs_route6_table {
	struct xvs_route6 r[XVS_MAX_ROUTES];
	unsigned nb;
};

int xvs_route6_add(struct xvs_route6_table *t, const union xvs_ip *prefix, uint8_t len,
		   const union xvs_ip *gw, uint16_t port);

/* The mask of an IPv6 prefix length. */
void xvs_ip6_mask(union xvs_ip *mask, uint8_t len);

static inline const struct xvs_route6 *xvs_route6_lookup(const struct xvs_route6_table *t,
							 const union xvs_ip *dst)
{
	for (unsigned i = 0; i < t->nb; i++)
		if ((dst->d[0] & t->r[i].mask.d[0]) == t->r[i].prefix.d[0] &&
		    (dst->d[1] & t->r[i].mask.d[1]) == t->r[i].prefix.d[1])
			return &t->r[i];
	return NULL;
}

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
