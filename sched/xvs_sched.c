/* The scheduler registry: one line per scheduler. */
#include <string.h>

#include "xvs/sched.h"

extern const struct xvs_sched_ops xvs_sched_rr;
extern const struct xvs_sched_ops xvs_sched_wrr;
extern const struct xvs_sched_ops xvs_sched_lc;
extern const struct xvs_sched_ops xvs_sched_wlc;

const struct xvs_sched_ops *const xvs_sched_all[XVS_SCHED_MAX] = {
	[XVS_SCHED_RR] = &xvs_sched_rr,
	[XVS_SCHED_WRR] = &xvs_sched_wrr,
	[XVS_SCHED_LC] = &xvs_sched_lc,
	[XVS_SCHED_WLC] = &xvs_sched_wlc,
};

const struct xvs_sched_ops *xvs_sched_find(const char *name)
{
	for (unsigned i = 0; i < XVS_SCHED_MAX; i++)
		if (xvs_sched_all[i] && strcmp(xvs_sched_all[i]->name, name) == 0)
			return xvs_sched_all[i];
	return NULL;
}
