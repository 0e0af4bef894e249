/*
 * keepalived.conf as an input of xvs-control: the virtual_server part of keepalived's
 * configuration language (docs/keepalived.md) read into plain data, the services and real
 * servers of the model (ctl_model.h) with their health-check settings (ctl_check.h).
 * Control only; no global state, so several configurations may be loaded at once.
 */
#ifndef XVS_CTL_KACONF_H
#define XVS_CTL_KACONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_check.h"
#include "ctl_model.h"

#define XVS_KACONF_WHERE_MAX 320 /* "FILE:LINE" */
#define XVS_KACONF_GROUP_MAX 64
#define XVS_KACONF_ERR_MAX   640 /* "FILE:LINE: message" */
#define XVS_KACONF_INCLUDE_DEPTH 32

/* One real server of one service. */
struct xvs_kaconf_dest {
	struct xvs_ctl_dest_cfg cfg;
	/*
	 * Its health settings. The services a virtual_server_group makes share their real
	 * servers' checkers, as in keepalived: their dests point at the same object (owned by
	 * the configuration), so the health engine runs each checker once.
	 */
	const struct xvs_dest_health_cfg *health;
	char where[XVS_KACONF_WHERE_MAX]; /* the real_server line */
};

/* One virtual service: a virtual_server block, or one address or fwmark of its group. */
struct xvs_kaconf_svc {
	struct xvs_ctl_svc_cfg cfg;
	struct xvs_svc_health_cfg health;
	uint32_t delay_loop_ms;            /* the virtual_server's delay_loop */
	char group[XVS_KACONF_GROUP_MAX]; /* virtual_server_group name, "" for none */
	char where[XVS_KACONF_WHERE_MAX]; /* the virtual_server line */
	unsigned nb_dests;
	struct xvs_kaconf_dest *dests;     /* in file order (the order keepalived adds them) */
};

/* A whole configuration: services in file order, and the global settings xvs applies. */
struct xvs_kaconf {
	unsigned nb_svcs;
	struct xvs_kaconf_svc *svcs;
	bool has_timeouts;     /* global_defs lvs_timeouts */
	uint32_t timeouts[3];  /* tcp, tcpfin, udp seconds; 0 = leave unchanged */
	char timeouts_where[XVS_KACONF_WHERE_MAX];
	unsigned nb_warnings;  /* what keepalived would also correct or skip, "FILE:LINE: ..." */
	char **warnings;
	/* internal: the health objects the dests point at */
	unsigned nb_healths;
	struct xvs_dest_health_cfg **healths;
};

struct xvs_kaconf_opts {
	/* The id `@id` / `@^id` lines are matched against (keepalived -i); NULL: the host
	 * name up to its first dot, as keepalived takes it. */
	const char *config_id;
};

/*
 * Read the configuration file at path (a glob, as keepalived reads it) with its includes.
 * Returns 0 and a new configuration in *out, or a negative errno with "FILE:LINE: message"
 * in err (just "FILE: message" when no line is at fault); nothing is returned then.
 */
int xvs_kaconf_load(const char *path, const struct xvs_kaconf_opts *opts, struct xvs_kaconf **out,
		    char *err, size_t errlen);

void xvs_kaconf_free(struct xvs_kaconf *conf);

/* The default config id: the host name up to its first dot. */
void xvs_kaconf_default_id(char *buf, size_t len);

#endif
