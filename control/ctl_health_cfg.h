/*
 * Replacing the whole health configuration at once, for configuration loaders (a
 * keepalived.conf reader): every service's and real server's health settings, keyed by the
 * model's service and destination keys. Control only, under the daemon's lock.
 */
#ifndef XVS_CTL_HEALTH_CFG_H
#define XVS_CTL_HEALTH_CFG_H

#include "ctl_check.h"
#include "ctl_model.h"
#include "ctl_publish.h"

/* A real server's checks: svc's key (af, proto, addr, port; or fwmark and af), dest's key
 * (af, addr, port); the other fields of svc and dest are not looked at. */
struct xvs_health_dest_entry {
	struct xvs_ctl_svc_cfg svc;
	struct xvs_ctl_dest_cfg dest;
	const struct xvs_dest_health_cfg *cfg;
};

/* A service's quorum, hysteresis, scripts and sorry server. */
struct xvs_health_svc_entry {
	struct xvs_ctl_svc_cfg svc;
	const struct xvs_svc_health_cfg *cfg;
};

/*
 * The ops that replace every health setting with these: one clear-health, then a
 * set-service-health per service entry and a set-dest-health per real server entry.
 * They are appended to *ops (a malloc'd array of *nb ops, NULL/0 for a new one), so a
 * loader can put them after its own add-service / add-dest ops and commit everything as one
 * transaction with xvs_ctl_commit (free with xvs_ctl_ops_free). Settings equal to the ones
 * in place change nothing: their checks keep running with their state. Returns 0 or
 * -ENOMEM (*ops and *nb unchanged).
 */
int xvs_ctl_health_ops(const struct xvs_health_svc_entry *svcs, unsigned nb_svcs,
		       const struct xvs_health_dest_entry *dests, unsigned nb_dests,
		       struct xvs_ctl_op **ops, unsigned *nb);

/*
 * xvs_ctl_health_ops and xvs_ctl_commit in one: the whole health configuration replaced in
 * one generation, or nothing changed (a negative errno with err filled: err->index names
 * the failing entry, service entries first, counted from 0).
 */
int xvs_ctl_health_replace(struct xvs_ctl *c, const struct xvs_health_svc_entry *svcs,
			   unsigned nb_svcs, const struct xvs_health_dest_entry *dests,
			   unsigned nb_dests, struct xvs_ctl_err *err, struct xvs_ctl_result *res);

#endif
