/* The addresses the dataplane owns and those it speaks from (dp_addr.c). Worker lcores. */
#ifndef XVS_DP_ADDR_H
#define XVS_DP_ADDR_H

#include <stdint.h>

#include "dp.h"

struct xvs_gen;

/* Whether ip is one of ours: a port's address, a VIP, or a host mark rule's (g may be NULL). */
int xvs_owned4(const struct xvs_dp *dp, const struct xvs_gen *g, uint32_t ip);
int xvs_owned6(const struct xvs_dp *dp, const struct xvs_gen *g, const union xvs_ip *ip);
/* Whether ip is on one of pt's connected subnets (IPv6: or link-local): only there does what
 * arrives on pt teach xvs a neighbour. */
int xvs_port_on_link4(const struct xvs_port *pt, uint32_t ip);
int xvs_port_on_link6(const struct xvs_port *pt, const union xvs_ip *ip);
/* The port's address to speak from towards ip: the one whose prefix holds ip, else the first. */
uint32_t xvs_port_src4(const struct xvs_port *pt, uint32_t ip);
const union xvs_ip *xvs_port_src6(const struct xvs_port *pt, const union xvs_ip *ip);

#endif
