/* The scheduler registry: one line per scheduler. */
#include <string.h>

#include "xvs/sched.h"

extern const struct xvs_sched_ops xvs_sched_rr;
extern const struct xvs_sched_ops xvs_sched_wrr;

const struct xvs_sched_ops *const xvs_sched_all[XVS_SCHED_MAX] = {
	[XVS_SCHED_RR] = &xvs_sched_rr,
	[XVS_SCHED_WRR] = &xvs_sched_wrr,
};

const struct xvs_sched_ops *xvs_sched_find(const char *name)
{
	for (unsigned i = 0; i < XVS_SCHED_MAX; i++)
		if (xvs_sched_all[i] && strcmp(xvs_sched_all[i]->name, name) == 0)
			return xvs_sched_all[i];
	return NULL;
}
