/*
 * Tunnel encapsulation: for every inner/outer family, tunnel type and checksum mode, the outer
 * headers are right and their checksums verify from scratch; the inner packet is untouched.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "dp_tunnel.h"

#define L2 14

struct tcase {
	uint8_t inner_af, outer_af, type;
	uint16_t flags;
};

static const struct tcase cases[] = {
	{ XVS_AF_INET, XVS_AF_INET, XVS_TUN_TYPE_IPIP, XVS_TUN_F_NOCSUM },
	{ XVS_AF_INET, XVS_AF_INET, XVS_TUN_TYPE_GUE, XVS_TUN_F_NOCSUM },
	{ XVS_AF_INET, XVS_AF_INET, XVS_TUN_TYPE_GUE, XVS_TUN_F_CSUM },
	{ XVS_AF_INET6, XVS_AF_INET6, XVS_TUN_TYPE_IPIP, XVS_TUN_F_NOCSUM },
	{ XVS_AF_INET6, XVS_AF_INET6, XVS_TUN_TYPE_GUE, XVS_TUN_F_NOCSUM },
	{ XVS_AF_INET6, XVS_AF_INET6, XVS_TUN_TYPE_GUE, XVS_TUN_F_CSUM },
	{ XVS_AF_INET, XVS_AF_INET6, XVS_TUN_TYPE_IPIP, XVS_TUN_F_NOCSUM },
	{ XVS_AF_INET, XVS_AF_INET6, XVS_TUN_TYPE_GUE, XVS_TUN_F_CSUM },
	{ XVS_AF_INET6, XVS_AF_INET, XVS_TUN_TYPE_IPIP, XVS_TUN_F_NOCSUM },
	{ XVS_AF_INET6, XVS_AF_INET, XVS_TUN_TYPE_GUE, XVS_TUN_F_NOCSUM },
	{ XVS_AF_INET6, XVS_AF_INET, XVS_TUN_TYPE_GUE, XVS_TUN_F_CSUM },
};

/* An mbuf over a static buffer: prepend/trim/mtod need nothing else. */
static uint8_t buf[2048];
static struct rte_mbuf mb;

static void mbuf_init(uint32_t len)
{
	memset(&mb, 0, sizeof(mb));
	mb.buf_addr = buf;
	mb.buf_len = sizeof(buf);
	mb.data_off = RTE_PKTMBUF_HEADROOM;
	mb.data_len = (uint16_t)len;
	mb.pkt_len = len;
	mb.nb_segs = 1;
}

static uint32_t sum16(const uint8_t *p, uint32_t len, uint32_t s)
{
	for (uint32_t i = 0; i < len; i += 2)
		s += (uint32_t)p[i] << 8 | (i + 1 < len ? p[i + 1] : 0);
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Inner TCP packet with a payload, at L2 in a frame; returns the frame length. */
static uint32_t build_inner(uint8_t *f, uint8_t af, uint8_t tos)
{
	memset(f, 0, 512);
	uint8_t *l3 = f + L2;
	uint32_t l4 = af == XVS_AF_INET ? 20 : 40, len = l4 + 20 + 100;
	if (af == XVS_AF_INET) {
		f[12] = 0x08;
		l3[0] = 0x45;
		l3[1] = tos;
		l3[2] = (uint8_t)(len >> 8);
		l3[3] = (uint8_t)len;
		l3[6] = 0x40; /* DF */
		l3[8] = 64;
		l3[9] = IPPROTO_TCP;
		memcpy(l3 + 12, (uint8_t[]){ 198, 18, 0, 10, 198, 18, 0, 100 }, 8);
	} else {
		f[12] = 0x86;
		f[13] = 0xdd;
		l3[0] = (uint8_t)(0x60 | tos >> 4);
		l3[1] = (uint8_t)(tos << 4);
		l3[5] = (uint8_t)(len - 40);
		l3[6] = IPPROTO_TCP;
		l3[7] = 64;
		l3[8] = 0x20, l3[9] = 0x01, l3[10] = 0x0d, l3[11] = 0xb8, l3[23] = 0x10;
		l3[24] = 0x20, l3[25] = 0x01, l3[26] = 0x0d, l3[27] = 0xb8, l3[39] = 0x01;
	}
	for (uint32_t i = l4; i < len; i++)
		l3[i] = (uint8_t)(i * 7);
	if (af == XVS_AF_INET) { /* the parser let only valid IPv4 headers in */
		uint16_t hc = (uint16_t)~fold(sum16(l3, 20, 0));
		l3[10] = (uint8_t)(hc >> 8);
		l3[11] = (uint8_t)hc;
	}
	/* a valid TCP checksum: the outer GUE checksum may be derived from it */
	uint8_t *t = l3 + l4;
	t[16] = t[17] = 0;
	uint32_t seg = len - l4, ps = IPPROTO_TCP + seg;
	ps = af == XVS_AF_INET ? sum16(l3 + 12, 8, ps) : sum16(l3 + 8, 32, ps);
	uint16_t ck = (uint16_t)~fold(sum16(t, seg, ps));
	t[16] = (uint8_t)(ck >> 8);
	t[17] = (uint8_t)ck;
	return L2 + len;
}

ParameterizedTestParameters(tunnel, encap)
{
	return cr_make_param_array(struct tcase, (void *)cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(const struct tcase *c, tunnel, encap)
{
	uint8_t inner[512];
	const uint8_t tos = 0xb8;
	uint32_t flen = build_inner(inner, c->inner_af, tos);
	uint32_t ilen = flen - L2;
	mbuf_init(flen + 4); /* Ethernet padding that must be trimmed */
	memcpy(buf + RTE_PKTMBUF_HEADROOM, inner, flen);

	union xvs_ip src = { .d = { 0, 0 } }, dst = { .d = { 0, 0 } };
	if (c->outer_af == XVS_AF_INET) {
		src.v4 = rte_cpu_to_be_32(0xc6130a05); /* 198.19.10.5 */
		dst.v4 = rte_cpu_to_be_32(0xc6130016); /* 198.19.0.22 */
	} else {
		src.v6[0] = 0x20, src.v6[1] = 0x01, src.v6[15] = 0x05;
		dst.v6[0] = 0x20, dst.v6[1] = 0x01, dst.v6[15] = 0x22;
	}
	uint32_t h = 0x9abcdef1;
	uint16_t dport = rte_cpu_to_be_16(6080), sport = xvs_tun_gue_sport(h);
	cr_assert_eq(xvs_tun_encap(&mb, L2, c->inner_af, c->outer_af, c->type, c->flags, &src, &dst,
				   dport, sport, h), 0);

	uint16_t add = xvs_tun_overhead_af(c->outer_af, c->type);
	cr_assert_eq(mb.pkt_len, flen + add, "padding trimmed, headers added");
	uint8_t *f = rte_pktmbuf_mtod(&mb, uint8_t *);
	uint8_t *o = f + L2;
	uint32_t ohl = c->outer_af == XVS_AF_INET ? 20 : 40;
	uint8_t want_proto = c->type == XVS_TUN_TYPE_GUE ? IPPROTO_UDP
				: (c->inner_af == XVS_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6);
	if (c->outer_af == XVS_AF_INET) {
		cr_assert_eq(f[12] << 8 | f[13], 0x0800);
		cr_assert_eq(o[0], 0x45);
		cr_assert_eq(o[1], tos, "TOS copied");
		cr_assert_eq((uint32_t)(o[2] << 8 | o[3]), ilen + add);
		cr_assert_eq(o[6] & 0x40, c->inner_af == XVS_AF_INET ? 0x40 : 0, "DF copied from IPv4");
		cr_assert_eq(o[8], 64);
		cr_assert_eq(o[9], want_proto);
		cr_assert_eq(fold(sum16(o, 20, 0)), 0xffff, "outer IPv4 checksum verifies");
		cr_assert_eq(memcmp(o + 12, &src.v4, 4), 0);
		cr_assert_eq(memcmp(o + 16, &dst.v4, 4), 0);
	} else {
		cr_assert_eq(f[12] << 8 | f[13], 0x86dd);
		cr_assert_eq(o[0] >> 4, 6);
		cr_assert_eq((uint8_t)(o[0] << 4 | o[1] >> 4), tos, "traffic class copied");
		cr_assert_eq((uint32_t)((o[1] & 0xf) << 16 | o[2] << 8 | o[3]), h & 0xfffff, "flow label");
		cr_assert_eq((uint32_t)(o[4] << 8 | o[5]), ilen + add - 40);
		cr_assert_eq(o[6], want_proto);
		cr_assert_eq(o[7], 64);
		cr_assert_eq(memcmp(o + 8, src.v6, 16), 0);
		cr_assert_eq(memcmp(o + 24, dst.v6, 16), 0);
	}
	uint8_t *in = o + ohl;
	if (c->type == XVS_TUN_TYPE_GUE) {
		uint8_t *u = o + ohl;
		cr_assert_eq(memcmp(u, &sport, 2), 0);
		cr_assert_eq(memcmp(u + 2, &dport, 2), 0);
		uint32_t ulen = (uint32_t)(u[4] << 8 | u[5]);
		cr_assert_eq(ulen, ilen + 12);
		cr_assert_eq(u[8], 0, "GUE version 0, no options");
		cr_assert_eq(u[9], c->inner_af == XVS_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6);
		uint16_t ck = (uint16_t)(u[6] << 8 | u[7]);
		if (c->outer_af == XVS_AF_INET && c->flags == XVS_TUN_F_NOCSUM) {
			cr_assert_eq(ck, 0, "no UDP checksum asked for");
		} else {
			uint32_t s = c->outer_af == XVS_AF_INET ? sum16(o + 12, 8, 0) : sum16(o + 8, 32, 0);
			s += IPPROTO_UDP + ulen;
			cr_assert_neq(ck, 0);
			cr_assert_eq(fold(sum16(u, ulen, s)), 0xffff, "UDP checksum verifies");
		}
		in = u + 12;
	}
	cr_assert_eq(memcmp(in, inner + L2, ilen), 0, "inner packet untouched");
}

/* No headroom: refused, the packet left as it was. */
Test(tunnel, no_headroom)
{
	uint8_t inner[512];
	uint32_t flen = build_inner(inner, XVS_AF_INET, 0);
	mbuf_init(flen);
	mb.data_off = 10;
	memcpy(buf + 10, inner, flen);
	union xvs_ip a = { .d = { 1, 0 } };
	cr_assert_eq(xvs_tun_encap(&mb, L2, XVS_AF_INET, XVS_AF_INET, XVS_TUN_TYPE_IPIP, 0, &a, &a, 0, 0, 0), -1);
	cr_assert_eq(mb.pkt_len, flen);
	cr_assert_eq(memcmp(buf + 10, inner, flen), 0);
}

/* Outer sources stay inside the prefix, never its network or broadcast address, and spread. */
Test(tunnel, source_prefix)
{
	for (uint8_t len = 8; len <= 32; len++) {
		uint32_t pfx = 0xc6130000u & (len ? ~0u << (32 - len) : 0);
		uint32_t hosts = len >= 32 ? 1 : 1u << (32 - len);
		uint32_t seen_lo = UINT32_MAX, seen_hi = 0;
		for (uint32_t i = 0; i < 20000; i++) {
			uint32_t h = i * 0x9e3779b1u;
			uint32_t a = rte_be_to_cpu_32(xvs_tun_src(rte_cpu_to_be_32(pfx), len, h));
			cr_assert_eq(a & (len ? ~0u << (32 - len) : 0), pfx, "/%u: outside the prefix", len);
			uint32_t host = a - pfx;
			if (hosts > 2)
				cr_assert(host != 0 && host != hosts - 1, "/%u: network or broadcast", len);
			seen_lo = host < seen_lo ? host : seen_lo;
			seen_hi = host > seen_hi ? host : seen_hi;
		}
		if (hosts > 2 && hosts <= 256)
			cr_assert(seen_lo == 1 && seen_hi == hosts - 2, "/%u: not spread", len);
	}
}

/* Where the inner checksum cannot stand in for the payload (UDP without one), it is summed. */
Test(tunnel, gue_checksum_without_inner_checksum)
{
	uint8_t inner[512];
	uint32_t flen = build_inner(inner, XVS_AF_INET, 0);
	uint8_t *l3 = inner + L2;
	l3[9] = IPPROTO_UDP; /* same bytes, now a UDP datagram without checksum */
	l3[10] = l3[11] = 0;
	uint16_t hc = (uint16_t)~fold(sum16(l3, 20, 0));
	l3[10] = (uint8_t)(hc >> 8);
	l3[11] = (uint8_t)hc;
	uint32_t ilen = flen - L2;
	l3[20 + 4] = (uint8_t)((ilen - 20) >> 8);
	l3[20 + 5] = (uint8_t)(ilen - 20);
	l3[20 + 6] = l3[20 + 7] = 0;
	mbuf_init(flen);
	memcpy(buf + RTE_PKTMBUF_HEADROOM, inner, flen);
	union xvs_ip src = { .d = { 0, 0 } }, dst = { .d = { 0, 0 } };
	src.v6[0] = 0x20, src.v6[15] = 5;
	dst.v6[0] = 0x20, dst.v6[15] = 6;
	cr_assert_eq(xvs_tun_encap(&mb, L2, XVS_AF_INET, XVS_AF_INET6, XVS_TUN_TYPE_GUE, XVS_TUN_F_NOCSUM,
				   &src, &dst, rte_cpu_to_be_16(6080), rte_cpu_to_be_16(50000), 7), 0);
	uint8_t *o = rte_pktmbuf_mtod(&mb, uint8_t *) + L2, *u = o + 40;
	uint32_t ulen = (uint32_t)(u[4] << 8 | u[5]);
	uint32_t s = sum16(o + 8, 32, IPPROTO_UDP + ulen);
	cr_assert_eq(fold(sum16(u, ulen, s)), 0xffff, "UDP checksum verifies");
}
