/* Names of the drop reasons, from the one list in xvs/drop.h. */
#include "xvs/drop.h"

const char *const xvs_drop_names[XVS_DROP_MAX] = {
#define XVS_DROP_NAME(e, n) [XVS_DROP_##e] = n,
	XVS_FOREACH_DROP(XVS_DROP_NAME)
#undef XVS_DROP_NAME
};
