/*
 * The connection-sync daemons (IPVS's --start-daemon / --stop-daemon) in xvs-control: their
 * ops, their JSON form (the API's "daemon" object, GET /v1/services' "daemons", the state
 * file) and the model change. The dataplane runs them from the generation's sync[] fields.
 */
#ifndef XVS_CTL_SYNC_H
#define XVS_CTL_SYNC_H

#include <jansson.h>

#include "ctl_model.h"

/* start-daemon / stop-daemon: {"op", "daemon": {...}} into op. */
int xvs_ctl_json_parse_daemon_op(const json_t *o, int start, struct xvs_ctl_op *op, char *msg,
				 size_t msglen);

/* The running daemons, master first: [{"state": "master", "mcast_ifn", ...}, ...]. */
json_t *xvs_ctl_json_daemons(const struct xvs_ctl_model *m);

/* Apply a start-daemon or stop-daemon op: EEXIST when it runs already, ESRCH when it does not. */
int xvs_ctl_model_daemon_op(struct xvs_ctl_model *m, const struct xvs_ctl_op *op,
			    struct xvs_ctl_err *err);

/* Connection-sync counters: sum b into a; as JSON ({"queued", ..., "refused": {reason: n}}). */
void xvs_ctl_sync_stats_add(struct xvs_sync_stats *a, const struct xvs_sync_stats *b);
json_t *xvs_ctl_json_sync_stats(const struct xvs_sync_stats *s);

#endif
