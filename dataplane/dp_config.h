/* Reading xvs-dataplane's INI configuration file (docs/dataplane-config.md). Start-up only. */
#ifndef XVS_DP_CONFIG_H
#define XVS_DP_CONFIG_H

#include "dp.h"

/* A static neighbour from the file, applied once the neighbour table exists. */
struct xvs_cfg_neigh {
	uint8_t af;
	union xvs_ip ip;
	struct rte_ether_addr mac;
};

#define XVS_MAX_CFG_NEIGH 256

struct xvs_cfg_extra {
	struct xvs_cfg_neigh neigh[XVS_MAX_CFG_NEIGH];
	unsigned nb_neigh;
	/* routes by port name, resolved once ports exist */
	struct {
		uint8_t af;
		union xvs_ip prefix;
		uint8_t len;
		union xvs_ip gw;
	} routes[XVS_MAX_ROUTES];
	unsigned nb_routes;
};

/*
 * Parse path into dp->cfg, dp->ports and *extra. Returns 0, or a negative errno with a
 * message ("file:line: ...") in err.
 */
int xvs_config_load(const char *path, struct xvs_dp *dp, struct xvs_cfg_extra *extra, char *err,
		    size_t errlen);

/* Parse "a.b.c.d/len" (len optional: 32). Returns 0 or -EINVAL. */
int xvs_config_parse_prefix(const char *s, uint32_t *addr, uint8_t *len);

/* Parse an IPv4 or IPv6 "addr[/len]" (len defaults to the full length); *af gets the family. */
int xvs_config_parse_prefix_any(const char *s, uint8_t *af, union xvs_ip *addr, uint8_t *len);

#endif
