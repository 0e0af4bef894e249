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
