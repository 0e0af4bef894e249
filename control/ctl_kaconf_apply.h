/*
 * A loaded keepalived.conf (ctl_kaconf.h) put to work: the ops that turn the model's
 * services into the file's, the check of a file against an empty model (--check-config),
 * and the daemon's load and SIGHUP reload as one transaction. Control only; callers hold the
 * daemon's lock around everything that touches struct xvs_ctl.
 */
#ifndef XVS_CTL_KACONF_APPLY_H
#define XVS_CTL_KACONF_APPLY_H

#include <stdio.h>

#include "ctl_kaconf.h"
#include "ctl_model.h"
#include "ctl_publish.h"

/*
 * The ops that make m's services, their real servers and (with lvs_timeouts) the timeouts
 * those of conf, in this order: services that are gone, real servers that are gone, edits
 * of what changed, then what is new (in file order). What did not change gets no op, so its
 * slot, connections and counters stay. Mark rules are left alone. *ops (malloc'd) and
 * *where (malloc'd; where[i] is the "FILE:LINE" behind op i, NULL for deletions) are
 * the caller's to free. Returns 0 or -ENOMEM.
 */
int xvs_kaconf_diff(const struct xvs_ctl_model *m, const struct xvs_kaconf *conf,
		    struct xvs_ctl_op **ops, const char ***where, unsigned *nb);

/*
 * Apply conf to a new empty model with the scheduler options params (NULL: defaults) and
 * build its table generation, as xvs-control would on a fresh start; the health settings are
 * checked too, on a copy, so that the model returned is the configured table (every real
 * server in, at its weight) rather than the view before any check has run. Returns that model
 * (the caller frees it), or NULL with "FILE:LINE: message" in err.
 */
struct xvs_ctl_model *xvs_kaconf_check(const struct xvs_kaconf *conf,
				       const struct xvs_sched_params *params, char *err,
				       size_t errlen);

/*
 * Make the daemon's configuration that of the file at path: read it, and commit the diff as
 * one transaction (published and saved). A file with an error changes nothing; the reason,
 * with FILE:LINE, is logged. The file's health settings are part of that transaction
 * (xvs_kaconf_health_append). On success the loaded configuration replaces *held (the
 * previous one is freed). Returns 0 or a negative errno.
 */
int xvs_kaconf_reload(struct xvs_ctl *ctl, const char *path, const struct xvs_kaconf_opts *opts,
		      struct xvs_kaconf **held);

/*
 * Append to the ops of xvs_kaconf_diff (same arrays, same where[] convention) those that make
 * every health setting the file's: one clear-health, a set-service-health per service
 * (quorum, hysteresis, scripts, sorry server) and a set-dest-health per real server with
 * checkers (ctl_health_cfg.h). The services of one virtual_server_group get the same
 * settings for their real servers, each run as its own check. Free the ops with
 * xvs_ctl_ops_free. Returns 0 or -ENOMEM (*ops may have moved, *nb is unchanged).
 */
int xvs_kaconf_health_append(const struct xvs_kaconf *conf, struct xvs_ctl_op **ops,
			     const char ***where, unsigned *nb);

/* Print a model's services as `xvsadm -S -n` (ipvsadm -S -n) lines. 0 or a negative errno. */
int xvs_kaconf_print_rules(FILE *f, const struct xvs_ctl_model *m);

#endif
