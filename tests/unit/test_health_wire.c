/* Unit tests of the health checks' wire formats: MD5 (RFC 1321's test suite) and DNS. */
#include <criterion/criterion.h>
#include <string.h>

#include "ctl_dns.h"
#include "ctl_md5.h"

static const struct {
	const char *in, *hex;
} md5_suite[] = {
	{"", "d41d8cd98f00b204e9800998ecf8427e"},
	{"a", "0cc175b9c0f1b6a831c399e269772661"},
	{"abc", "900150983cd24fb0d6963f7d28e17f72"},
	{"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
	{"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
	{"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
	 "d174ab98d277d9f5a5611c2c9f419d9f"},
	{"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
	 "57edf4a22be3c955ac49da2e2107b67a"},
};

Test(md5, rfc1321_suite_whole_and_byte_by_byte)
{
	for (unsigned i = 0; i < sizeof(md5_suite) / sizeof(md5_suite[0]); i++) {
		struct xvs_md5 m;
		char hex[33];
		xvs_md5_init(&m);
		xvs_md5_update(&m, md5_suite[i].in, strlen(md5_suite[i].in));
		xvs_md5_hex(&m, hex);
		cr_expect_str_eq(hex, md5_suite[i].hex, "\"%s\"", md5_suite[i].in);
		xvs_md5_init(&m);
		for (const char *p = md5_suite[i].in; *p; p++)
			xvs_md5_update(&m, p, 1);
		xvs_md5_hex(&m, hex);
		cr_expect_str_eq(hex, md5_suite[i].hex, "\"%s\" byte by byte", md5_suite[i].in);
	}
}

Test(md5, chunking_does_not_matter)
{
	static uint8_t buf[10000];
	char one[33], many[33];
	struct xvs_md5 m;
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + i / 251);
	xvs_md5_init(&m);
	xvs_md5_update(&m, buf, sizeof(buf));
	xvs_md5_hex(&m, one);
	xvs_md5_init(&m);
	for (size_t off = 0, n = 1; off < sizeof(buf); off += n, n = n * 3 % 97 + 1)
		xvs_md5_update(&m, buf + off, off + n > sizeof(buf) ? sizeof(buf) - off : n);
	xvs_md5_hex(&m, many);
	cr_expect_str_eq(one, many);
}

/* ---- DNS ----------------------------------------------------------------------------- */

Test(dns, query_bytes)
{
	uint8_t q[XVS_DNS_MSG_MAX];
	static const uint8_t want[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
				       3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
				       3, 'c', 'o', 'm', 0, 0, 1, 0, 1};
	int n = xvs_dns_query(q, sizeof(q), 0x1234, "www.example.com", 1);
	cr_assert_eq(n, (int)sizeof(want));
	cr_expect_eq(memcmp(q, want, sizeof(want)), 0);
	n = xvs_dns_query(q, sizeof(q), 1, "www.example.com.", 1);
	cr_expect_eq(n, (int)sizeof(want), "a trailing dot is the same name");
	static const uint8_t root[] = {0, 0, 6, 0, 1};
	n = xvs_dns_query(q, sizeof(q), 7, ".", 6);
	cr_assert_eq(n, 12 + 5);
	cr_expect_eq(memcmp(q + 12, root, 5), 0);
	cr_expect_lt(xvs_dns_query(q, sizeof(q), 7, "a..b", 1), 0);
	cr_expect_lt(xvs_dns_query(q, 20, 7, "www.example.com", 1), 0);
}

/* An answer to query q (qlen bytes): the question, then records appended by the caller. */
static size_t answer(const uint8_t *q, size_t qlen, uint8_t *r, uint16_t flags, uint16_t an)
{
	memcpy(r, q, qlen);
	r[2] = (uint8_t)(flags >> 8);
	r[3] = (uint8_t)flags;
	r[7] = (uint8_t)an;
	return qlen;
}

/* An A record for the name at offset 12, 198.18.0.1. */
static size_t a_record(uint8_t *r, size_t at)
{
	static const uint8_t rr[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 0, 1};
	memcpy(r + at, rr, sizeof(rr));
	return at + sizeof(rr);
}

Test(dns, judging_answers)
{
	uint8_t q[XVS_DNS_MSG_MAX], r[XVS_DNS_MSG_MAX];
	char why[96];
	size_t qlen = (size_t)xvs_dns_query(q, sizeof(q), 0xbeef, "svc.example", 1), n;

	n = a_record(r, answer(q, qlen, r, 0x8180, 1));
	cr_expect_eq(xvs_dns_judge(q, qlen, r, n, why, sizeof(why)), XVS_DNS_ANSWER, "%s", why);
	n = answer(q, qlen, r, 0x8180, 0);
	cr_expect_eq(xvs_dns_judge(q, qlen, r, n, why, sizeof(why)), XVS_DNS_ANSWER,
		     "no records, RCODE 0: an answer (%s)", why);
	r[13] = 'S'; /* the question echoed in upper case */
	cr_expect_eq(xvs_dns_judge(q, qlen, r, n, why, sizeof(why)), XVS_DNS_ANSWER, "%s", why);

	n = a_record(r, answer(q, qlen, r, 0x8180, 1));
	r[1] ^= 1;
	cr_expect_eq(xvs_dns_judge(q, qlen, r, n, why, sizeof(why)), XVS_DNS_FOREIGN, "another id");
	n = answer(q, qlen, r, 0x0100, 0);
	cr_expect_eq(xvs_dns_judge(q, qlen, r, n, why, sizeof(why)), XVS_DNS_FOREIGN, "a query");
	cr_expect_eq(xvs_dns_judge(q, qlen, r, 11, why, sizeof(why)), XVS_DNS_FOREIGN, "short");

	n = answer(q, qlen, r, 0x8183, 0);
	cr_expect_eq(xvs_dns_judge(q, qlen, r, n, why, sizeof(why)), XVS_DNS_BAD);
	cr_expect_str_eq(why, "answer with RCODE 3");
	n = answer(q, qlen, r, 0x8180, 2);
	n = a_record(r, n);
	cr_expect_eq(xvs_dns_judge(q, qlen, r, n, why, sizeof(why)), XVS_DNS_BAD, "one record short");
	n = a_record(r, answer(q, qlen, r, 0x8180, 1));
	cr_expect_eq(xvs_dns_judge(q, qlen, r, n - 1, why, sizeof(why)), XVS_DNS_BAD, "rdata cut");
	n = a_record(r, answer(q, qlen, r, 0x8180, 1));
	r[qlen] = 0xc0;
	r[qlen + 1] = (uint8_t)qlen; /* a pointer to itself */
	cr_expect_eq(xvs_dns_judge(q, qlen, r, n, why, sizeof(why)), XVS_DNS_BAD, "pointer loop");
	n = a_record(r, answer(q, qlen, r, 0x8180, 1));
	r[qlen - 3] = 28; /* the question's type: AAAA */
	cr_expect_eq(xvs_dns_judge(q, qlen, r, n, why, sizeof(why)), XVS_DNS_BAD, "another question");
	n = answer(q, qlen, r, 0x8180, 0);
	r[5] = 0; /* no question */
	cr_expect_eq(xvs_dns_judge(q, qlen, r, n, why, sizeof(why)), XVS_DNS_BAD);
}
