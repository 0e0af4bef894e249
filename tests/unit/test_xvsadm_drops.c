/* Unit tests of xvsadm -L --stats --drops: the section's exact lines. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xvs/drop.h"
#include "xvsadm_drops.h"
#include "xvsadm_parse.h"

static char *print(const char *doc, unsigned fmt, int *rc)
{
	json_error_t err;
	json_t *stats = json_loads(doc, 0, &err);
	cr_assert_not_null(stats, "%s", err.text);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cr_assert_not_null(f);
	*rc = xvs_xvsadm_print_drops(f, stats, fmt);
	fclose(f);
	json_decref(stats);
	return buf;
}

#define DOC "{\"drops\": {\"no-vip\": 123456789, \"runt\": 0, \"tcp-not-syn\": 5}," \
	"\"per_worker\": [{\"drops\": {\"no-vip\": 123456780, \"tcp-not-syn\": 2}}," \
	"{\"drops\": {\"no-vip\": 9, \"tcp-not-syn\": 3}}]," \
	"\"main_lcore\": {\"drops\": {\"exception-rate\": 7}}}"

Test(xvsadm_drops, every_reason_with_workers)
{
	int rc;
	char *out = print(DOC, 0, &rc);
	cr_assert_eq(rc, 0);
	cr_assert(strncmp(out, "\nDrops (xvs)                 Total  Worker0  Worker1     Main\n",
			  strlen("\nDrops (xvs)                 Total  Worker0  Worker1     Main\n")) == 0,
		  "%s", out);
	cr_assert_not_null(strstr(out, "\n  no-vip                  123456K  123456K        9        0\n"),
			   "%s", out);
	cr_assert_not_null(strstr(out, "\n  tcp-not-syn                   5        2        3        0\n"));
	cr_assert_not_null(strstr(out, "\n  exception-rate                0        0        0        7\n"));
	/* every reason once, in drop.h order, zeros included */
	const char *at = out;
	for (unsigned d = 0; d < XVS_DROP_MAX; d++) {
		char want[64];
		snprintf(want, sizeof(want), "\n  %-22s", xvs_drop_names[d]);
		const char *p = strstr(at, want);
		cr_assert_not_null(p, "%s missing or out of order", xvs_drop_names[d]);
		at = p + 1;
	}
	unsigned lines = 0;
	for (const char *p = out; *p; p++)
		lines += *p == '\n';
	cr_assert_eq(lines, XVS_DROP_MAX + 2);
	free(out);
}

Test(xvsadm_drops, exact)
{
	int rc;
	char *out = print(DOC, XVSADM_FMT_EXACT, &rc);
	cr_assert_eq(rc, 0);
	cr_assert_not_null(strstr(out, "\n  no-vip                 123456789 123456780        9        0\n"),
			   "%s", out);
	free(out);
}

Test(xvsadm_drops, malformed)
{
	int rc;
	free(print("{\"drops\": {}}", 0, &rc));
	cr_assert_eq(rc, -EPROTO);
	free(print("{\"drops\": {}, \"per_worker\": {}, \"main_lcore\": {}}", 0, &rc));
	cr_assert_eq(rc, -EPROTO);
}
