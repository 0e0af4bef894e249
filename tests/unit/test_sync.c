/*
 * Connection sync: IPVS's version-1 messages byte for byte (the layout of Linux's
 * struct ip_vs_sync_mesg, ip_vs_sync_v4 and ip_vs_sync_v6 written out field by field), the
 * reader's refusals, the generation's bounds, the control ops and xvsadm's -L --daemon lines.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_json.h"
#include "ctl_model.h"
#include "ctl_sync.h"
#include "xvs/gen.h"
#include "xvs/sync.h"
#include "xvsadm_parse.h"
#include "xvsadm_sync.h"

/* ---- the kernel's layout, offset by offset ---------------------------------------------- */

/* struct ip_vs_sync_mesg (8 bytes) */
#define M_RESERVED 0 /* __u8, must be 0 */
#define M_SYNCID   1 /* __u8 */
#define M_SIZE     2 /* __be16 */
#define M_NR_CONNS 4 /* __u8 */
#define M_VERSION  5 /* __s8, SYNC_PROTO_VER 1 */
#define M_SPARE    6 /* __u16 */
#define M_LEN      8
/* struct ip_vs_sync_v4 (36 bytes) and ip_vs_sync_v6 (72 bytes) share the first 24 */
#define E_TYPE     0  /* __u8: STYPE_F_INET6 = 1 */
#define E_PROTOCOL 1  /* __u8 */
#define E_VER_SIZE 2  /* __be16: version << 12 | size */
#define E_FLAGS    4  /* __be32 */
#define E_STATE    8  /* __be16 */
#define E_CPORT    10 /* __be16 */
#define E_VPORT    12
#define E_DPORT    14
#define E_FWMARK   16 /* __be32 */
#define E_TIMEOUT  20 /* __be32, seconds */
#define E_CADDR    24 /* v4: 24, 28, 32; v6: 24, 40, 56 */
#define V4_LEN     36
#define V6_LEN     72
/* IP_VS_CONN_F_* and IP_VS_TCP_S_* */
#define F_DROUTE   0x0003
#define F_MASQ     0x0000
#define F_TUNNEL   0x0002
#define F_INACTIVE 0x0100
#define F_TEMPLATE 0x1000
#define F_IN_SEQ   0x0400
#define TCP_S_ESTABLISHED 1
#define TCP_S_FIN_WAIT    4

static void be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static union xvs_ip ip(const char *s)
{
	union xvs_ip a = { .d = { 0, 0 } };
	if (strchr(s, ':'))
		cr_assert_eq(inet_pton(AF_INET6, s, a.v6), 1);
	else
		cr_assert_eq(inet_pton(AF_INET, s, &a.v4), 1);
	return a;
}

static void hdr(uint8_t *m, uint8_t syncid, uint16_t size, uint8_t nr)
{
	m[M_RESERVED] = 0;
	m[M_SYNCID] = syncid;
	be16(m + M_SIZE, size);
	m[M_NR_CONNS] = nr;
	m[M_VERSION] = 1;
	be16(m + M_SPARE, 0);
}

static struct xvs_sync_conn conn4(void)
{
	return (struct xvs_sync_conn){
		.af = XVS_AF_INET, .proto = 6, .state = TCP_S_ESTABLISHED, .flags = F_DROUTE,
		.cport = htons(43210), .vport = htons(80), .dport = htons(8080), .fwmark = 0,
		.timeout = 900, .caddr = ip("198.18.0.2"), .vaddr = ip("198.18.0.100"),
		.daddr = ip("198.19.0.11"),
	};
}

/* An IPv4 entry at p (the kernel's ip_vs_sync_v4), size `size` (options included). */
static void entry4(uint8_t *p, uint8_t proto, uint16_t size, uint32_t flags, uint16_t state,
		   uint16_t cport, uint16_t vport, uint16_t dport, uint32_t fwmark, uint32_t timeout,
		   const char *c, const char *v, const char *d)
{
	p[E_TYPE] = 0;
	p[E_PROTOCOL] = proto;
	be16(p + E_VER_SIZE, size); /* version 0 */
	be32(p + E_FLAGS, flags);
	be16(p + E_STATE, state);
	be16(p + E_CPORT, cport);
	be16(p + E_VPORT, vport);
	be16(p + E_DPORT, dport);
	be32(p + E_FWMARK, fwmark);
	be32(p + E_TIMEOUT, timeout);
	union xvs_ip a = ip(c), b = ip(v), e = ip(d);
	memcpy(p + E_CADDR, &a.v4, 4);
	memcpy(p + E_CADDR + 4, &b.v4, 4);
	memcpy(p + E_CADDR + 8, &e.v4, 4);
}

Test(sync_msg, ipv4_entry_byte_exact)
{
	uint8_t buf[1500], want[M_LEN + V4_LEN] = {0};
	struct xvs_sync_builder b;
	struct xvs_sync_conn c = conn4();

	xvs_sync_build_init(&b, buf, sizeof(buf), 5);
	cr_assert_eq(xvs_sync_build_add(&b, &c, NULL), 0);
	hdr(want, 5, M_LEN + V4_LEN, 1);
	entry4(want + M_LEN, 6, V4_LEN, F_DROUTE, TCP_S_ESTABLISHED, 43210, 80, 8080, 0, 900,
	       "198.18.0.2", "198.18.0.100", "198.19.0.11");
	cr_assert_eq(b.len, sizeof(want));
	cr_assert_arr_eq(buf, want, sizeof(want));
}

Test(sync_msg, ipv6_entry_and_padding_byte_exact)
{
	/* an IPv4 entry with the sequence option (36 + 26 = 62 bytes, then 2 of padding),
	 * then an IPv6 one: the kernel aligns every entry after the first on 4 bytes */
	uint8_t buf[1500], want[M_LEN + 62 + 2 + V6_LEN] = {0};
	struct xvs_sync_builder b;
	struct xvs_sync_conn c4 = conn4();
	c4.flags = F_MASQ | F_IN_SEQ;
	struct xvs_sync_seq seq = { .in = { 1000, 5, 2 }, .out = { 7000, 0, 0xffffffff } };
	struct xvs_sync_conn c6 = {
		.af = XVS_AF_INET6, .proto = 17, .state = 0, .flags = F_TUNNEL | F_INACTIVE,
		.cport = htons(5353), .vport = htons(53), .dport = htons(53), .fwmark = 7,
		.timeout = 300, .caddr = ip("2001:db8::abc"), .vaddr = ip("2001:db8::53"),
		.daddr = ip("2001:db8:1::5"),
	};

	xvs_sync_build_init(&b, buf, sizeof(buf), 0);
	cr_assert_eq(xvs_sync_build_add(&b, &c4, &seq), 0);
	cr_assert_eq(xvs_sync_build_add(&b, &c6, NULL), 0);
	hdr(want, 0, sizeof(want), 2);
	uint8_t *p = want + M_LEN;
	entry4(p, 6, 62, F_MASQ | F_IN_SEQ, TCP_S_ESTABLISHED, 43210, 80, 8080, 0, 900,
	       "198.18.0.2", "198.18.0.100", "198.19.0.11");
	/* IPVS_OPT_SEQ_DATA, sizeof(struct ip_vs_sync_conn_options), in_seq, out_seq */
	p[V4_LEN] = 1;
	p[V4_LEN + 1] = 24;
	be32(p + V4_LEN + 2, 1000);
	be32(p + V4_LEN + 6, 5);
	be32(p + V4_LEN + 10, 2);
	be32(p + V4_LEN + 14, 7000);
	be32(p + V4_LEN + 18, 0);
	be32(p + V4_LEN + 22, 0xffffffff);
	p = want + M_LEN + 64; /* 62 + 2 bytes of padding */
	p[E_TYPE] = 1;       /* STYPE_F_INET6 */
	p[E_PROTOCOL] = 17;
	be16(p + E_VER_SIZE, V6_LEN);
	be32(p + E_FLAGS, F_TUNNEL | F_INACTIVE);
	be16(p + E_STATE, 0);
	be16(p + E_CPORT, 5353);
	be16(p + E_VPORT, 53);
	be16(p + E_DPORT, 53);
	be32(p + E_FWMARK, 7);
	be32(p + E_TIMEOUT, 300);
	union xvs_ip a = ip("2001:db8::abc"), v = ip("2001:db8::53"), d = ip("2001:db8:1::5");
	memcpy(p + 24, a.v6, 16);
	memcpy(p + 40, v.v6, 16);
	memcpy(p + 56, d.v6, 16);
	cr_assert_eq(b.len, sizeof(want));
	cr_assert_arr_eq(buf, want, sizeof(want));

	/* and it reads back as written */
	struct xvs_sync_reader r;
	struct xvs_sync_conn out;
	struct xvs_sync_seq oseq;
	enum xvs_sync_err why;
	int has_seq;
	cr_assert_eq(xvs_sync_read_init(&r, buf, b.len, 0), XVS_SYNC_OK);
	cr_assert_eq(xvs_sync_read_next(&r, &out, &oseq, &has_seq, &why), 1);
	cr_assert_eq(why, XVS_SYNC_OK);
	cr_assert_eq(has_seq, 1);
	cr_assert_eq(memcmp(&out, &c4, sizeof(out)), 0);
	cr_assert_eq(memcmp(&oseq, &seq, sizeof(seq)), 0);
	cr_assert_eq(xvs_sync_read_next(&r, &out, &oseq, &has_seq, &why), 1);
	cr_assert_eq(why, XVS_SYNC_OK);
	cr_assert_eq(has_seq, 0);
	cr_assert_eq(memcmp(&out, &c6, sizeof(out)), 0);
	cr_assert_eq(xvs_sync_read_next(&r, &out, &oseq, &has_seq, &why), 0);
}

Test(sync_msg, template_byte_exact)
{
	/* a persistent service's template: client 10.0.1.0 (masked), port 0, state NONE */
	uint8_t buf[1500], want[M_LEN + V4_LEN] = {0};
	struct xvs_sync_builder b;
	struct xvs_sync_conn t = {
		.af = XVS_AF_INET, .proto = 6, .flags = F_TEMPLATE | F_INACTIVE | F_DROUTE,
		.vport = htons(443), .dport = htons(443), .timeout = 360,
		.caddr = ip("10.0.1.0"), .vaddr = ip("10.0.0.1"), .daddr = ip("10.0.0.11"),
	};

	xvs_sync_build_init(&b, buf, sizeof(buf), 200);
	cr_assert_eq(xvs_sync_build_add(&b, &t, NULL), 0);
	hdr(want, 200, sizeof(want), 1);
	entry4(want + M_LEN, 6, V4_LEN, F_TEMPLATE | F_INACTIVE | F_DROUTE, 0, 0, 443, 443, 0, 360,
	       "10.0.1.0", "10.0.0.1", "10.0.0.11");
	cr_assert_arr_eq(buf, want, sizeof(want));
}

Test(sync_msg, maxlen_and_255_entries)
{
	uint8_t buf[65535];
	struct xvs_sync_builder b;
	struct xvs_sync_conn c = conn4();
	unsigned n = 0;

	/* 1472 bytes (1500 - 28): 8 + 40 * 36 = 1448 leaves no room for another 36 + 0 */
	xvs_sync_build_init(&b, buf, 1472, 1);
	while (xvs_sync_build_add(&b, &c, NULL) == 0)
		n++;
	cr_expect_eq(n, 40);
	cr_expect_eq(b.len, 8 + 40 * 36);
	xvs_sync_build_init(&b, buf, sizeof(buf), 1);
	for (n = 0; xvs_sync_build_add(&b, &c, NULL) == 0; n++)
		;
	cr_expect_eq(n, 255); /* nr_conns is one byte */
	c.af = 3;
	xvs_sync_build_init(&b, buf, sizeof(buf), 1);
	cr_expect_eq(xvs_sync_build_add(&b, &c, NULL), -EINVAL);
}

/* ---- the reader's refusals ------------------------------------------------------------- */

static enum xvs_sync_err read_all(const uint8_t *m, size_t len, uint8_t syncid, unsigned *ok,
				  unsigned *skipped)
{
	struct xvs_sync_reader r;
	struct xvs_sync_conn c;
	struct xvs_sync_seq seq;
	enum xvs_sync_err why = xvs_sync_read_init(&r, m, len, syncid), last = XVS_SYNC_OK;
	int has_seq, rc;
	*ok = *skipped = 0;
	if (why != XVS_SYNC_OK)
		return why;
	while ((rc = xvs_sync_read_next(&r, &c, &seq, &has_seq, &why)) > 0) {
		if (why == XVS_SYNC_OK)
			(*ok)++;
		else
			(*skipped)++, last = why;
	}
	return rc < 0 ? why : last;
}

/* A sound message of two IPv4 entries. */
static size_t two(uint8_t *m)
{
	memset(m, 0, 256);
	hdr(m, 9, M_LEN + 2 * V4_LEN, 2);
	entry4(m + M_LEN, 6, V4_LEN, F_DROUTE, 1, 1, 80, 80, 0, 900, "1.1.1.1", "2.2.2.2", "3.3.3.3");
	entry4(m + M_LEN + V4_LEN, 17, V4_LEN, F_MASQ, 0, 2, 53, 53, 0, 300, "1.1.1.1", "2.2.2.3",
	       "3.3.3.3");
	return M_LEN + 2 * V4_LEN;
}

Test(sync_msg, refusals)
{
	uint8_t m[256];
	unsigned ok, sk;
	size_t len = two(m);

	cr_assert_eq(read_all(m, len, 0, &ok, &sk), XVS_SYNC_OK);
	cr_assert_eq(ok, 2);
	cr_expect_eq(read_all(m, len, 9, &ok, &sk), XVS_SYNC_OK);
	cr_expect_eq(read_all(m, len, 8, &ok, &sk), XVS_SYNC_E_SYNCID);
	cr_expect_eq(read_all(m, 7, 0, &ok, &sk), XVS_SYNC_E_SHORT);
	cr_expect_eq(read_all(m, len - 1, 0, &ok, &sk), XVS_SYNC_E_SIZE);
	m[M_VERSION] = 0;
	cr_expect_eq(read_all(m, len, 0, &ok, &sk), XVS_SYNC_E_VERSION);
	len = two(m);
	m[M_RESERVED] = 2; /* a version-0 message */
	cr_expect_eq(read_all(m, len, 0, &ok, &sk), XVS_SYNC_E_VERSION);
	len = two(m);
	m[M_SPARE + 1] = 1;
	cr_expect_eq(read_all(m, len, 0, &ok, &sk), XVS_SYNC_E_VERSION);
	len = two(m);
	m[M_NR_CONNS] = 3; /* more entries than bytes */
	cr_expect_eq(read_all(m, len, 0, &ok, &sk), XVS_SYNC_E_TRUNCATED);
	cr_expect_eq(ok, 2); /* those read before stand, as in IPVS */
	m[M_NR_CONNS] = 1; /* fewer: bytes left over */
	cr_expect_eq(read_all(m, len, 0, &ok, &sk), XVS_SYNC_E_COUNT);
	m[M_NR_CONNS] = 0;
	cr_expect_eq(read_all(m, len, 0, &ok, &sk), XVS_SYNC_E_COUNT);
	len = two(m);
	be16(m + M_LEN + E_VER_SIZE, 1u << 12 | V4_LEN); /* entry version 1 */
	cr_expect_eq(read_all(m, len, 0, &ok, &sk), XVS_SYNC_E_ENTRY_VER);
	len = two(m);
	be16(m + M_LEN + E_VER_SIZE, V4_LEN - 1); /* shorter than its type */
	cr_expect_eq(read_all(m, len, 0, &ok, &sk), XVS_SYNC_E_TRUNCATED);
	len = two(m);
	be16(m + M_LEN + V4_LEN + E_VER_SIZE, V4_LEN + 4); /* past the message */
	cr_expect_eq(read_all(m, len, 0, &ok, &sk), XVS_SYNC_E_TRUNCATED);
	cr_expect_eq(ok, 1);
	len = two(m);
	m[M_LEN + E_TYPE] = 2;
	cr_expect_eq(read_all(m, len, 0, &ok, &sk), XVS_SYNC_E_TYPE);
	len = two(m);
	m[M_LEN + E_TYPE] = 1; /* IPv6 type, but 36 bytes */
	cr_expect_eq(read_all(m, len, 0, &ok, &sk), XVS_SYNC_E_TRUNCATED);
	/* entry-level: skipped, the rest read */
	len = two(m);
	m[M_LEN + E_PROTOCOL] = 47;
	cr_expect_eq(read_all(m, len, 0, &ok, &sk), XVS_SYNC_E_PROTO);
	cr_expect_eq(ok, 1);
	cr_expect_eq(sk, 1);
	len = two(m);
	be16(m + M_LEN + E_STATE, 11); /* IP_VS_TCP_S_LAST */
	cr_expect_eq(read_all(m, len, 0, &ok, &sk), XVS_SYNC_E_STATE);
	be32(m + M_LEN + E_FLAGS, F_TEMPLATE); /* templates' states are not checked (IPVS) */
	cr_expect_eq(read_all(m, len, 0, &ok, &sk), XVS_SYNC_OK);
	len = two(m);
	be16(m + M_LEN + V4_LEN + E_STATE, 1); /* UDP has one state */
	cr_expect_eq(read_all(m, len, 0, &ok, &sk), XVS_SYNC_E_STATE);
}

/* One IPv4 entry followed by the options in opt (olen bytes). */
static size_t with_options(uint8_t *m, const uint8_t *opt, size_t olen)
{
	memset(m, 0, 256);
	size_t size = V4_LEN + olen;
	hdr(m, 0, (uint16_t)(M_LEN + size), 1);
	entry4(m + M_LEN, 6, (uint16_t)size, F_DROUTE, 1, 1, 80, 80, 0, 900, "1.1.1.1", "2.2.2.2",
	       "3.3.3.3");
	memcpy(m + M_LEN + V4_LEN, opt, olen);
	return M_LEN + size;
}

Test(sync_msg, options)
{
	uint8_t m[256], seq[26] = { 1, 24 };
	unsigned ok, sk;

	cr_expect_eq(read_all(m, with_options(m, seq, 26), 0, &ok, &sk), XVS_SYNC_OK);
	cr_expect_eq(ok, 1);
	seq[1] = 23; /* wrong length */
	cr_expect_eq(read_all(m, with_options(m, seq, 25), 0, &ok, &sk), XVS_SYNC_E_OPTION);
	const uint8_t twice[52] = { 1, 24, [26] = 1, 24 };
	cr_expect_eq(read_all(m, with_options(m, twice, 52), 0, &ok, &sk), XVS_SYNC_E_OPTION);
	const uint8_t zero[4] = { 0x45, 0, 0, 0 };
	cr_expect_eq(read_all(m, with_options(m, zero, 4), 0, &ok, &sk), XVS_SYNC_E_OPTION);
	const uint8_t past[4] = { 0x45, 9, 0, 0 };
	cr_expect_eq(read_all(m, with_options(m, past, 4), 0, &ok, &sk), XVS_SYNC_E_OPTION);
	const uint8_t lone[1] = { 0x45 };
	cr_expect_eq(read_all(m, with_options(m, lone, 1), 0, &ok, &sk), XVS_SYNC_E_OPTION);
	const uint8_t optional[4] = { 0x45, 2, 9, 9 }; /* unknown, optional: skipped */
	cr_expect_eq(read_all(m, with_options(m, optional, 4), 0, &ok, &sk), XVS_SYNC_OK);
	cr_expect_eq(ok, 1);
	const uint8_t mandatory[4] = { 5, 2, 9, 9 }; /* unknown, mandatory: the entry goes */
	cr_expect_eq(read_all(m, with_options(m, mandatory, 4), 0, &ok, &sk), XVS_SYNC_E_PARAM);
	cr_expect_eq(sk, 1);
	const uint8_t pe[8] = { 2, 2, 1, 2, 3, 2, 's', 'i' }; /* pe data and name */
	cr_expect_eq(read_all(m, with_options(m, pe, 8), 0, &ok, &sk), XVS_SYNC_E_PE);
	const uint8_t name[19] = { 3, 17 }; /* a name longer than IP_VS_PENAME_MAXLEN */
	cr_expect_eq(read_all(m, with_options(m, name, 19), 0, &ok, &sk), XVS_SYNC_E_OPTION);
}

Test(sync_msg, error_names)
{
	for (int e = 0; e < XVS_SYNC_E_MAX; e++)
		cr_expect(strcmp(xvs_sync_err_name((enum xvs_sync_err)e), "?") != 0);
	cr_expect_str_eq(xvs_sync_err_name(XVS_SYNC_E_SYNCID), "syncid");
}

Test(sync_msg, ring)
{
	size_t sz = xvs_sync_ring_memsize(4);
	struct xvs_sync_ring *r = calloc(1, sz);
	struct xvs_sync_conn c = conn4(), out;
	xvs_sync_ring_init(r, 4);
	for (unsigned i = 0; i < 4; i++) {
		c.timeout = i;
		cr_assert_eq(xvs_sync_ring_put(r, &c), 0);
	}
	cr_expect_eq(xvs_sync_ring_put(r, &c), -1); /* full: refused, nothing overwritten */
	for (unsigned i = 0; i < 4; i++) {
		cr_assert_eq(xvs_sync_ring_get(r, &out), 1);
		cr_expect_eq(out.timeout, i);
	}
	cr_expect_eq(xvs_sync_ring_get(r, &out), 0);
	free(r);
}

/* ---- the generation's bounds ------------------------------------------------------------ */

Test(sync_gen, validator_bounds_every_field)
{
	struct xvs_gen *g = calloc(1, sizeof(*g));
	char err[256];
	g->gen = 1;
	g->timeouts = (struct xvs_timeouts){ 900, 120, 300 };
	cr_assert_eq(xvs_gen_build_vip_hash(g), 0);
	struct xvs_sync_daemon good = { .on = 1, .syncid = 3, .ttl = 1, .group_af = XVS_AF_INET,
					.port = 8848, .maxlen = 1472, .ifname = "eth0",
					.group = ip("224.0.0.81") };
	g->sync[XVS_SYNC_MASTER] = good;
	g->sync[XVS_SYNC_BACKUP] = good;
	xvs_gen_seal(g);
	cr_assert_eq(xvs_gen_validate(g, err, sizeof(err)), 0, "%s", err);
	struct xvs_sync_daemon cases[8];
	for (unsigned i = 0; i < 8; i++)
		cases[i] = good;
	cases[0].ttl = 0;
	cases[1].port = 0;
	cases[2].ifname[0] = 0;
	memset(cases[3].ifname, 'a', sizeof(cases[3].ifname)); /* no NUL */
	cases[4].ifname[6] = 'x';                               /* bytes after the NUL */
	cases[5].group = ip("10.0.0.1");
	cases[6].maxlen = 1000; /* below a backup's 1024 */
	cases[7].on = 2;
	for (unsigned i = 0; i < 8; i++) {
		g->sync[XVS_SYNC_BACKUP] = cases[i];
		xvs_gen_seal(g);
		cr_expect_eq(xvs_gen_validate(g, err, sizeof(err)), -EINVAL, "case %u", i);
	}
	g->sync[XVS_SYNC_BACKUP] = (struct xvs_sync_daemon){ .syncid = 1 }; /* off, not zero */
	xvs_gen_seal(g);
	cr_expect_eq(xvs_gen_validate(g, err, sizeof(err)), -EINVAL);
	g->sync[XVS_SYNC_BACKUP] = (struct xvs_sync_daemon){ 0 };
	g->sync[XVS_SYNC_MASTER].maxlen = 1; /* a master takes 1 up, as IPVS */
	xvs_gen_seal(g);
	cr_expect_eq(xvs_gen_validate(g, err, sizeof(err)), 0, "%s", err);
	free(g);
}

/* ---- xvs-control: the ops, their defaults and errors ------------------------------------ */

static int apply_json(struct xvs_ctl_model *m, const char *body, struct xvs_ctl_err *err)
{
	struct xvs_ctl_op *ops;
	unsigned nb;
	int rc = xvs_ctl_json_parse_ops(body, strlen(body), &ops, &nb, err);
	if (rc)
		return rc;
	rc = xvs_ctl_model_apply_ops(m, ops, nb, err);
	xvs_ctl_ops_free(ops, nb);
	return rc;
}

static char *daemons_text(const struct xvs_ctl_model *m)
{
	json_t *a = xvs_ctl_json_daemons(m);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cr_assert_eq(xvs_xvsadm_print_daemons(f, a), 0);
	fclose(f);
	json_decref(a);
	return buf;
}

Test(sync_ctl, start_stop_defaults_and_errors)
{
	struct xvs_ctl_model *m = xvs_ctl_model_new(NULL);
	struct xvs_ctl_err err;
	cr_assert_not_null(m);
	cr_assert_eq(apply_json(m, "{\"ops\":[{\"op\":\"start-daemon\",\"daemon\":"
				   "{\"state\":\"master\",\"syncid\":5}}]}", &err), 0, "%s", err.msg);
	char *t = daemons_text(m);
	cr_expect_str_eq(t, "master sync daemon (mcast=eth0, syncid=5, maxlen=1472, "
			    "group=224.0.0.81, port=8848, ttl=1)\n");
	free(t);
	/* both at once, as IPVS; a backup's maxlen is at least 1024 */
	cr_assert_eq(apply_json(m, "{\"ops\":[{\"op\":\"start-daemon\",\"daemon\":"
				   "{\"state\":\"backup\",\"mcast_ifn\":\"veth1\",\"sync_maxlen\":100,"
				   "\"mcast_group\":\"239.0.0.9\",\"mcast_port\":9000,\"mcast_ttl\":3}}]}",
				   &err), 0, "%s", err.msg);
	t = daemons_text(m);
	cr_expect_str_eq(t, "master sync daemon (mcast=eth0, syncid=5, maxlen=1472, "
			    "group=224.0.0.81, port=8848, ttl=1)\n"
			    "backup sync daemon (mcast=veth1, syncid=0, maxlen=1024, "
			    "group=239.0.0.9, port=9000, ttl=3)\n");
	free(t);
	cr_expect_eq(apply_json(m, "{\"ops\":[{\"op\":\"start-daemon\",\"daemon\":"
				   "{\"state\":\"master\"}}]}", &err), -EEXIST);
	cr_expect_str_eq(err.msg, "Daemon has already run");
	cr_assert_eq(apply_json(m, "{\"ops\":[{\"op\":\"stop-daemon\",\"daemon\":"
				   "{\"state\":\"master\"}}]}", &err), 0);
	cr_expect_eq(apply_json(m, "{\"ops\":[{\"op\":\"stop-daemon\",\"daemon\":"
				   "{\"state\":\"master\"}}]}", &err), -ESRCH);
	cr_expect_str_eq(err.msg, "No daemon is running");
	cr_expect_eq(m->sync[XVS_SYNC_MASTER].on, 0);
	cr_expect_eq(m->sync[XVS_SYNC_BACKUP].on, 1);
	/* refused: nothing stored */
	static const char *const bad[] = {
		"{\"ops\":[{\"op\":\"start-daemon\"}]}",
		"{\"ops\":[{\"op\":\"start-daemon\",\"daemon\":{\"state\":\"both\"}}]}",
		"{\"ops\":[{\"op\":\"start-daemon\",\"daemon\":{\"state\":\"master\",\"syncid\":256}}]}",
		"{\"ops\":[{\"op\":\"start-daemon\",\"daemon\":{\"state\":\"master\",\"mcast_group\":\"10.0.0.1\"}}]}",
		"{\"ops\":[{\"op\":\"start-daemon\",\"daemon\":{\"state\":\"master\",\"mcast_ifn\":\"abcdefghijklmnop\"}}]}",
		"{\"ops\":[{\"op\":\"start-daemon\",\"daemon\":{\"state\":\"master\",\"mcast_port\":0}}]}",
		"{\"ops\":[{\"op\":\"start-daemon\",\"daemon\":{\"state\":\"master\",\"foo\":1}}]}",
		"{\"ops\":[{\"op\":\"stop-daemon\",\"daemon\":{\"state\":\"backup\",\"syncid\":1}}]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(apply_json(m, bad[i], &err), -EINVAL, "%s", bad[i]);
	cr_expect_eq(m->sync[XVS_SYNC_MASTER].on, 0);
	xvs_ctl_model_free(m);
}

Test(sync_xvsadm, op_of_the_command_line)
{
	const char *argv[] = { "xvsadm", "--start-daemon", "backup", "--mcast-interface", "eth1",
			       "--syncid", "9", "--mcast-ttl", "2" };
	struct xvs_xvsadm_cmd cmd;
	struct xvs_xvsadm_err err;
	json_t *op;
	cr_assert_eq(xvs_xvsadm_parse(9, argv, &cmd, &err), 0, "%s", err.msg);
	cr_assert_eq(xvs_xvsadm_daemon_op(&cmd, &op), 0);
	char *s = json_dumps(op, JSON_SORT_KEYS | JSON_COMPACT);
	cr_expect_str_eq(s, "{\"daemon\":{\"mcast_ifn\":\"eth1\",\"mcast_ttl\":2,\"state\":\"backup\","
			    "\"syncid\":9},\"op\":\"start-daemon\"}");
	free(s);
	json_decref(op);
	/* nothing running: -L --daemon prints nothing */
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_t *empty = json_array();
	cr_expect_eq(xvs_xvsadm_print_daemons(f, empty), 0);
	cr_expect_eq(xvs_xvsadm_print_daemons(f, NULL), 0);
	fclose(f);
	cr_expect_eq(len, 0);
	free(buf);
	json_t *junk = json_pack("[{s:s}]", "state", "master");
	cr_expect_eq(xvs_xvsadm_print_daemons(stdout, junk), -EPROTO);
	json_decref(junk);
	json_decref(empty);
}
