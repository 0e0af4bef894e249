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
 * build its table generation, as xvs-control would on a fresh start. Returns that model (the
 * caller frees it), or NULL with "FILE:LINE: message" in err.
 */
struct xvs_ctl_model *xvs_kaconf_check(const struct xvs_kaconf *conf,
				       const struct xvs_sched_params *params, char *err,
				       size_t errlen);

/*
 * Make the daemon's configuration that of the file at path: read it, and commit the diff as
 * one transaction (published and saved). A file with an error changes nothing; the reason,
 * with FILE:LINE, is logged. On success the loaded configuration replaces *held (the
 * previous one is freed) and goes to xvs_kaconf_health_handoff. Returns 0 or a negative
 * errno.
 */
int xvs_kaconf_reload(struct xvs_ctl *ctl, const char *path, const struct xvs_kaconf_opts *opts,
		      struct xvs_kaconf **held);

/*
 * The hook where the health engine takes the checkers of the file just applied: every
 * service's xvs_svc_health_cfg and delay_loop, every real server's xvs_dest_health_cfg (the
 * services of one virtual_server_group share those objects). conf stays valid until the next
 * successful reload calls this again. Called with the daemon's lock held, right after the
 * commit; the real servers it names are in the model as the file configures them (all in,
 * at their weights). Today no engine is attached: it logs what it was handed.
 */
void xvs_kaconf_health_handoff(struct xvs_ctl *ctl, const struct xvs_kaconf *conf);

/* Print a model's services as `xvsadm -S -n` (ipvsadm -S -n) lines. 0 or a negative errno. */
int xvs_kaconf_print_rules(FILE *f, const struct xvs_ctl_model *m);

#endif
