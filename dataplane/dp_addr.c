/*
 * The addresses the dataplane owns (its ports', its VIPs') and which of a port's addresses it
 * speaks from. Worker lcores.
 */
#include <rte_byteorder.h>

#include "dp_addr.h"
#include "xvs/gen.h"

static int is_port_addr(const struct xvs_dp *dp, uint32_t ip)
{
	for (unsigned p = 0; p < dp->nb_ports; p++)
		for (unsigned i = 0; i < dp->ports[p].nb_addrs; i++)
			if (dp->ports[p].addr[i] == ip)
				return 1;
	return 0;
}

/*
 * A host mark rule (/32, /128) that leads to a fwmark service names a VIP as a service does;
 * wider prefixes are routed to the node, as IPVS users route them to the director.
 */
static int is_mark_host(const struct xvs_gen *g, uint8_t af, const union xvs_ip *ip)
{
	for (uint32_t i = 0; i < g->nb_marks; i++) {
		const struct xvs_mark_rule *r = &g->marks[i];
		if (r->svc && r->af == af && r->plen == (af == XVS_AF_INET6 ? 128 : 32) &&
		    xvs_ip_eq(&r->prefix, ip))
			return 1;
	}
	return 0;
}

static int is_vip_addr(const struct xvs_gen *g, uint32_t ip)
{
	if (!g)
		return 0;
	for (uint32_t i = 0; i < g->nb_svcs; i++)
		if (g->svcs[i].state == XVS_SLOT_USED && g->svcs[i].af == XVS_AF_INET &&
		    !g->svcs[i].fwmark && g->svcs[i].addr.v4 == ip)
			return 1;
	union xvs_ip a = { .d = { ip, 0 } };
	return is_mark_host(g, XVS_AF_INET, &a);
}

int xvs_owned4(const struct xvs_dp *dp, const struct xvs_gen *g, uint32_t ip)
{
	return is_port_addr(dp, ip) || is_vip_addr(g, ip);
}

static int is_port_addr6(const struct xvs_dp *dp, const union xvs_ip *ip)
{
	for (unsigned p = 0; p < dp->nb_ports; p++)
		for (unsigned i = 0; i < dp->ports[p].nb_addrs6; i++)
			if (xvs_ip_eq(&dp->ports[p].addr6[i], ip))
				return 1;
	return 0;
}

static int is_vip_addr6(const struct xvs_gen *g, const union xvs_ip *ip)
{
	if (!g)
		return 0;
	for (uint32_t i = 0; i < g->nb_svcs; i++)
		if (g->svcs[i].state == XVS_SLOT_USED && g->svcs[i].af == XVS_AF_INET6 &&
		    !g->svcs[i].fwmark && xvs_ip_eq(&g->svcs[i].addr, ip))
			return 1;
	return is_mark_host(g, XVS_AF_INET6, ip);
}

int xvs_owned6(const struct xvs_dp *dp, const struct xvs_gen *g, const union xvs_ip *ip)
{
	return is_port_addr6(dp, ip) || is_vip_addr6(g, ip);
}

/* The port's IPv6 address to speak from towards ip: same prefix if any, else the first. */
const union xvs_ip *xvs_port_src6(const struct xvs_port *pt, const union xvs_ip *ip)
{
	static const union xvs_ip none;
	for (unsigned i = 0; i < pt->nb_addrs6; i++) {
		union xvs_ip mask;
		xvs_ip6_mask(&mask, pt->plen6[i]);
		if (((pt->addr6[i].d[0] ^ ip->d[0]) & mask.d[0]) == 0 &&
		    ((pt->addr6[i].d[1] ^ ip->d[1]) & mask.d[1]) == 0)
			return &pt->addr6[i];
	}
	return pt->nb_addrs6 ? &pt->addr6[0] : &none;
}

/* The port's address to speak from towards ip: the one whose prefix holds ip, else the first. */
uint32_t xvs_port_src4(const struct xvs_port *pt, uint32_t ip)
{
	for (unsigned i = 0; i < pt->nb_addrs; i++) {
		uint32_t mask = pt->plen[i] ? rte_cpu_to_be_32(~0u << (32 - pt->plen[i])) : 0;
		if ((pt->addr[i] & mask) == (ip & mask))
			return pt->addr[i];
	}
	return pt->nb_addrs ? pt->addr[0] : 0;
}

int xvs_port_on_link4(const struct xvs_port *pt, uint32_t ip)
{
	for (unsigned i = 0; i < pt->nb_addrs; i++) {
		uint32_t mask = pt->plen[i] ? rte_cpu_to_be_32(~0u << (32 - pt->plen[i])) : 0;
		if ((pt->addr[i] & mask) == (ip & mask))
			return 1;
	}
	return 0;
}

int xvs_port_on_link6(const struct xvs_port *pt, const union xvs_ip *ip)
{
	if (ip->v6[0] == 0xfe && (ip->v6[1] & 0xc0) == 0x80)
		return 1; /* fe80::/10 is on every link */
	for (unsigned i = 0; i < pt->nb_addrs6; i++) {
		union xvs_ip mask;
		xvs_ip6_mask(&mask, pt->plen6[i]);
		if (((pt->addr6[i].d[0] ^ ip->d[0]) & mask.d[0]) == 0 &&
		    ((pt->addr6[i].d[1] ^ ip->d[1]) & mask.d[1]) == 0)
			return 1;
	}
	return 0;
}
