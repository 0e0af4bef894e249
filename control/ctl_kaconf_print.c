/*
 * --check-config's listing: the model as `xvsadm -S -n` prints it, through the same JSON
 * document (GET /v1/services) and the same printer as xvsadm, so the lines cannot drift.
 */
#include <errno.h>
#include <jansson.h>

#include "ctl_json.h"
#include "ctl_kaconf_apply.h"
#include "xvsadm_json.h"
#include "xvsadm_print.h"

int xvs_kaconf_print_rules(FILE *f, const struct xvs_ctl_model *m)
{
	struct xvs_xvsadm_table t;
	json_t *doc = xvs_ctl_json_services(m, NULL, NULL);
	if (!doc)
		return -ENOMEM;
	int rc = xvs_xvsadm_json_table(doc, &t);
	json_decref(doc);
	if (rc)
		return rc;
	rc = xvs_xvsadm_print_table(f, &t, XVSADM_FMT_RULE | XVSADM_FMT_NUMERIC);
	xvs_xvsadm_table_free(&t);
	return rc;
}
