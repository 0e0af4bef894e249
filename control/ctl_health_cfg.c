/* Replacing the whole health configuration (see ctl_health_cfg.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_health_cfg.h"

int xvs_ctl_health_ops(const struct xvs_health_svc_entry *svcs, unsigned nb_svcs,
		       const struct xvs_health_dest_entry *dests, unsigned nb_dests,
		       struct xvs_ctl_op **ops, unsigned *nb)
{
	unsigned total = *nb + 1 + nb_svcs + nb_dests, n = *nb;
	struct xvs_ctl_op *v = realloc(*ops, total * sizeof(*v));
	if (!v)
		return -ENOMEM;
	xvs_ctl_op_init(&v[n++], XVS_CTL_OP_CLEAR_HEALTH);
	for (unsigned i = 0; i < nb_svcs; i++, n++) {
		xvs_ctl_op_init(&v[n], XVS_CTL_OP_SET_SVC_HEALTH);
		v[n].svc = svcs[i].svc;
		v[n].has_svc = true;
		if (svcs[i].cfg && !(v[n].svc_hc = xvs_ctl_svc_hc_new(svcs[i].cfg)))
			goto nomem;
	}
	for (unsigned i = 0; i < nb_dests; i++, n++) {
		xvs_ctl_op_init(&v[n], XVS_CTL_OP_SET_DEST_HEALTH);
		v[n].svc = dests[i].svc;
		v[n].has_svc = true;
		v[n].dest = dests[i].dest;
		if (dests[i].cfg && !(v[n].dest_hc = xvs_ctl_dest_hc_new(dests[i].cfg)))
			goto nomem;
	}
	*ops = v;
	*nb = n;
	return 0;
nomem:
	/* only the ops added here: the caller's stay as they were */
	for (unsigned i = *nb; i <= n && i < total; i++) {
		xvs_ctl_svc_hc_put(v[i].svc_hc);
		xvs_ctl_dest_hc_put(v[i].dest_hc);
		v[i].svc_hc = NULL;
		v[i].dest_hc = NULL;
	}
	*ops = v; /* realloc may have moved them */
	return -ENOMEM;
}

int xvs_ctl_health_replace(struct xvs_ctl *c, const struct xvs_health_svc_entry *svcs,
			   unsigned nb_svcs, const struct xvs_health_dest_entry *dests,
			   unsigned nb_dests, struct xvs_ctl_err *err, struct xvs_ctl_result *res)
{
	struct xvs_ctl_op *ops = NULL;
	unsigned nb = 0;
	memset(err, 0, sizeof(*err));
	err->index = -1;
	if (xvs_ctl_health_ops(svcs, nb_svcs, dests, nb_dests, &ops, &nb) < 0) {
		free(ops);
		snprintf(err->msg, sizeof(err->msg), "Memory allocation problem");
		err->err = ENOMEM;
		return -ENOMEM;
	}
	int rc = xvs_ctl_commit(c, ops, nb, err, res);
	if (rc && err->index >= 0)
		err->index--; /* op 0 is the clear-health */
	xvs_ctl_ops_free(ops, nb);
	return rc;
}
