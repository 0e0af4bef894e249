/*
 * Fuzz target: xvs-control's reading of an etcd range answer (control/ctl_etcd.c), the input
 * as the HTTP body etcd's gateway sent.
 *
 * - Refused: NULL with a message.
 * - Accepted: text with no NUL byte inside, at most XVS_ETCD_MAX_BYTES, holding one
 *   "# etcd key " line per key and ending with a newline when it is not empty; a second read
 *   of the same answer gives the same text, revision and count.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_etcd.h"
#include "fuzz_common.h"

#define CHECK(cond, ...) ((cond) ? (void)0 : fuzz_die(__VA_ARGS__))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char msg[256] = "";
	long long rev = -1, rev2 = -1;
	unsigned nb = 0, nb2 = 0;
	char *t = xvs_etcd_range_text((const char *)data, size, &rev, &nb, msg, sizeof(msg));
	if (!t) {
		CHECK(msg[0], "a refusal without a message");
		return 0;
	}
	size_t len = strlen(t);
	CHECK(len <= XVS_ETCD_MAX_BYTES, "text of %zu bytes", len);
	CHECK(rev >= 0, "revision %lld", rev);
	CHECK(len == 0 || t[len - 1] == '\n', "text without a final newline");
	unsigned lines = 0;
	for (const char *p = t; (p = strstr(p, "# etcd key ")); p++)
		lines += p == t || p[-1] == '\n';
	CHECK(lines >= nb, "%u key lines for %u keys", lines, nb);
	char *t2 = xvs_etcd_range_text((const char *)data, size, &rev2, &nb2, msg, sizeof(msg));
	CHECK(t2 && !strcmp(t, t2) && rev == rev2 && nb == nb2, "a second read differs");
	free(t);
	free(t2);
	return 0;
}
