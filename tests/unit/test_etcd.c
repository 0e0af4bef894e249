/* xvs-control's etcd source, its pure parts (control/ctl_etcd.c): endpoints, the prefix's
 * range end, and the configuration text of a range answer. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_etcd.h"

Test(etcd, endpoints)
{
	char msg[160];
	cr_assert_eq(xvs_etcd_check_endpoints("http://127.0.0.1:2379", msg, sizeof(msg)), 0);
	cr_assert_eq(xvs_etcd_check_endpoints("http://a:2379,https://b:2379", msg, sizeof(msg)), 0);
	cr_assert_lt(xvs_etcd_check_endpoints("", msg, sizeof(msg)), 0);
	cr_assert_lt(xvs_etcd_check_endpoints("127.0.0.1:2379", msg, sizeof(msg)), 0);
	cr_assert(strstr(msg, "not an http:// or https:// URL"), "%s", msg);
	cr_assert_lt(xvs_etcd_check_endpoints("http://a:1,", msg, sizeof(msg)), 0);
	cr_assert_lt(xvs_etcd_check_endpoints("ftp://a", msg, sizeof(msg)), 0);
	cr_assert_lt(xvs_etcd_check_endpoints("http://", msg, sizeof(msg)), 0);
	cr_assert_lt(xvs_etcd_check_endpoints("http://a,http://b,http://c,http://d,http://e,"
					      "http://f,http://g,http://h,http://i", msg, sizeof(msg)), 0);
	cr_assert(strstr(msg, "more than 8"), "%s", msg);
}

Test(etcd, range_end)
{
	char end[16];
	size_t n = xvs_etcd_range_end("/xvs/", 5, end);
	cr_assert_eq(n, 5);
	cr_assert_eq(memcmp(end, "/xvs0", 5), 0);
	n = xvs_etcd_range_end("a\xff\xff", 3, end);
	cr_assert_eq(n, 1);
	cr_assert_eq(end[0], 'b');
	n = xvs_etcd_range_end("\xff\xff", 2, end);
	cr_assert_eq(n, 1);
	cr_assert_eq(end[0], 0); /* every key from the prefix on */
}

Test(etcd, range_text)
{
	/* keys "/xvs/a" and "/xvs/b", values "virtual_server ..." (no final newline) and "x\n" */
	const char *json = "{\"header\":{\"revision\":\"42\"},\"kvs\":["
			   "{\"key\":\"L3h2cy9h\",\"value\":\"dmlydHVhbF9zZXJ2ZXIgMS4yLjMuNCA4MCB7fQ==\"},"
			   "{\"key\":\"L3h2cy9i\",\"value\":\"eAo=\"}],\"count\":\"2\"}";
	char msg[160];
	long long rev = 0;
	unsigned nb = 0;
	char *t = xvs_etcd_range_text(json, strlen(json), &rev, &nb, msg, sizeof(msg));
	cr_assert(t, "%s", msg);
	cr_assert_eq(rev, 42);
	cr_assert_eq(nb, 2);
	cr_assert_str_eq(t, "# etcd key /xvs/a\nvirtual_server 1.2.3.4 80 {}\n# etcd key /xvs/b\nx\n");
	free(t);
	/* no key at all: empty text, the revision */
	const char *none = "{\"header\":{\"revision\":\"7\"}}";
	t = xvs_etcd_range_text(none, strlen(none), &rev, &nb, msg, sizeof(msg));
	cr_assert(t, "%s", msg);
	cr_assert_eq(nb, 0);
	cr_assert_eq(rev, 7);
	cr_assert_str_eq(t, "");
	free(t);
}

Test(etcd, range_text_refusals)
{
	static const struct {
		const char *json, *why;
	} bad[] = {
		{"not json", "not an etcd range answer"},
		{"{\"kvs\":[]}", "not an etcd range answer"},
		{"{\"header\":{\"revision\":\"x1\"}}", "bad revision"},
		{"{\"header\":{\"revision\":\"1\"},\"kvs\":{}}", "not an etcd range answer"},
		{"{\"header\":{\"revision\":\"1\"},\"kvs\":[{\"key\":\"@@@@\",\"value\":\"\"}]}",
		 "not base64"},
		{"{\"header\":{\"revision\":\"1\"},\"kvs\":[{\"value\":\"eAo=\"}]}", "not base64"},
		/* "a\0b" */
		{"{\"header\":{\"revision\":\"1\"},\"kvs\":[{\"key\":\"YQ==\",\"value\":\"YQBi\"}]}",
		 "not text"},
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char msg[160] = "";
		long long rev;
		unsigned nb;
		char *t = xvs_etcd_range_text(bad[i].json, strlen(bad[i].json), &rev, &nb, msg,
					      sizeof(msg));
		cr_assert_null(t, "case %u accepted", i);
		cr_assert(strstr(msg, bad[i].why), "case %u: %s", i, msg);
	}
}

Test(etcd, key_bytes_escaped)
{
	/* key "k\n" (base64 awo=) is printed k\x0a on its comment line */
	const char *json = "{\"header\":{\"revision\":\"1\"},\"kvs\":[{\"key\":\"awo=\",\"value\":\"\"}]}";
	char msg[160];
	long long rev;
	unsigned nb;
	char *t = xvs_etcd_range_text(json, strlen(json), &rev, &nb, msg, sizeof(msg));
	cr_assert(t, "%s", msg);
	cr_assert_str_eq(t, "# etcd key k\\x0a\n");
	free(t);
}
