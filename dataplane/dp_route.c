/* Route table construction (start-up, main lcore). */
#include <errno.h>

#include <rte_byteorder.h>

#include "dp_route.h"

int xvs_route_add(struct xvs_route_table *t, uint32_t prefix, uint8_t len, uint32_t gw, uint16_t port)
{
	if (len > 32)
		return -EINVAL;
	if (t->nb >= XVS_MAX_ROUTES)
		return -ENOSPC;
	uint32_t mask = len ? rte_cpu_to_be_32(~0u << (32 - len)) : 0;
	struct xvs_route nr = { .prefix = prefix & mask, .mask = mask, .gw = gw, .port = port, .len = len };
	unsigned i = t->nb;
	/* keep longest prefixes first; among equals, the first added wins */
	while (i > 0 && t->r[i - 1].len < len) {
		t->r[i] = t->r[i - 1];
		i--;
	}
	t->r[i] = nr;
	t->nb++;
	return 0;
}

void xvs_ip6_mask(union xvs_ip *mask, uint8_t len)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = len > 8 * i ? len - 8 * i : 0;
		mask->v6[i] = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
	}
}

int xvs_route6_add(struct xvs_route6_table *t, const union xvs_ip *prefix, uint8_t len,
		   const union xvs_ip *gw, uint16_t port)
{
	if (len > 128)
		return -EINVAL;
	if (t->nb >= XVS_MAX_ROUTES)
		return -ENOSPC;
	struct xvs_route6 nr = { .port = port, .len = len };
	xvs_ip6_mask(&nr.mask, len);
	nr.prefix.d[0] = prefix->d[0] & nr.mask.d[0];
	nr.prefix.d[1] = prefix->d[1] & nr.mask.d[1];
	if (gw && (gw->d[0] || gw->d[1])) {
		nr.gw = *gw;
		nr.has_gw = 1;
	}
	unsigned i = t->nb;
	while (i > 0 && t->r[i - 1].len < len) {
		t->r[i] = t->r[i - 1];
		i--;
	}
	t->r[i] = nr;
	t->nb++;
	return 0;
}
