/*
 * Unit tests of the frame parser (dataplane/dp_parse.h): hand-built frames, one per drop
 * reason, and fuzzing. Every frame is copied into a heap buffer of exactly its length, so
 * under AddressSanitizer a read past the frame fails the test.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "dp_parse.h"

#define ETH_LEN 14
#define IP_OFF  ETH_LEN
#define L4_OFF  (ETH_LEN + 20)

struct frame {
	uint8_t b[256];
	uint32_t len;
};

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Internet checksum of len bytes, big-endian words, written independently of DPDK's. */
static uint16_t csum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		s += rd16(p + i);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint8_t *ip(struct frame *f) { return f->b + IP_OFF; }
static uint8_t *l4(struct frame *f) { return f->b + IP_OFF + (ip(f)[0] & 0xf) * 4; }

static void ip_fix_csum(struct frame *f)
{
	unsigned ihl = (ip(f)[0] & 0xf) * 4u;
	wr16(ip(f) + 10, 0);
	wr16(ip(f) + 10, csum(ip(f), ihl));
}

static void set_tot(struct frame *f, uint16_t tot)
{
	wr16(ip(f) + 2, tot);
	ip_fix_csum(f);
}

/* Ethernet + IPv4 (no options) + an L4 header of l4_len bytes (TCP 20, UDP 8, ICMP 8). */
static void build(struct frame *f, uint8_t proto, uint32_t l4_len, uint32_t payload)
{
	memset(f, 0, sizeof(*f));
	static const uint8_t dmac[6] = { 0x02, 0, 0, 0, 0, 1 }, smac[6] = { 0x02, 0, 0, 0, 0, 2 };
	memcpy(f->b, dmac, 6);
	memcpy(f->b + 6, smac, 6);
	wr16(f->b + 12, 0x0800);
	uint8_t *h = ip(f);
	uint16_t tot = (uint16_t)(20 + l4_len + payload);
	h[0] = 0x45;
	wr16(h + 2, tot);
	wr16(h + 4, 0x1234);
	wr16(h + 6, 0x4000); /* DF: allowed */
	h[8] = 64;
	h[9] = proto;
	memcpy(h + 12, (uint8_t[]){ 198, 51, 100, 7 }, 4);
	memcpy(h + 16, (uint8_t[]){ 203, 0, 113, 1 }, 4);
	ip_fix_csum(f);
	uint8_t *t = h + 20;
	if (proto == IPPROTO_TCP) {
		wr16(t, 40000);
		wr16(t + 2, 80);
		t[12] = (uint8_t)((l4_len / 4) << 4);
		t[13] = RTE_TCP_SYN_FLAG;
	} else if (proto == IPPROTO_UDP) {
		wr16(t, 5353);
		wr16(t + 2, 53);
		wr16(t + 4, (uint16_t)(l4_len + payload));
	} else if (proto == IPPROTO_ICMP) {
		t[0] = 8; /* echo request */
	}
	for (uint32_t i = 0; i < payload; i++)
		t[l4_len + i] = (uint8_t)(i * 7);
	f->len = ETH_LEN + tot;
}

static void build_arp(struct frame *f)
{
	memset(f, 0, sizeof(*f));
	memset(f->b, 0xff, 6);
	wr16(f->b + 12, 0x0806);
	uint8_t *a = f->b + ETH_LEN;
	wr16(a, 1);
	wr16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	wr16(a + 6, 1);
	f->len = ETH_LEN + 28;
}

/* Parse a copy of exactly len bytes of f. */
static int parse_exact(const uint8_t *b, uint32_t len, struct xvs_pkt *p)
{
	uint8_t *copy = malloc(len ? len : 1);
	cr_assert_not_null(copy);
	memcpy(copy, b, len);
	memset(p, 0xee, sizeof(*p));
	int rc = xvs_parse(p, copy, len);
	free(copy);
	return rc;
}

/* ---- the table ---------------------------------------------------------------------------- */

enum { OK_IP4 = 100, OK_ARP };

struct pcase {
	const char *name;
	void (*make)(struct frame *f);
	int want; /* OK_IP4, OK_ARP or an enum xvs_drop */
};

static void m_tcp(struct frame *f) { build(f, IPPROTO_TCP, 20, 10); }
static void m_tcp_opts(struct frame *f) { build(f, IPPROTO_TCP, 40, 0); }
static void m_tcp_nodata(struct frame *f) { build(f, IPPROTO_TCP, 20, 0); }
static void m_udp(struct frame *f) { build(f, IPPROTO_UDP, 8, 33); }
static void m_udp_empty(struct frame *f) { build(f, IPPROTO_UDP, 8, 0); }
static void m_icmp(struct frame *f) { build(f, IPPROTO_ICMP, 8, 56); }
static void m_arp(struct frame *f) { build_arp(f); }

/* Ethernet padding after a short IP packet is not part of it. */
static void m_tcp_padded(struct frame *f)
{
	build(f, IPPROTO_TCP, 20, 0);
	f->len = 60;
}

static void m_df(struct frame *f)
{
	build(f, IPPROTO_UDP, 8, 4);
	wr16(ip(f) + 6, 0x4000);
	ip_fix_csum(f);
}

/* A UDP length shorter than the IP payload (trailing bytes): accepted. */
static void m_udp_short_len(struct frame *f)
{
	build(f, IPPROTO_UDP, 8, 20);
	wr16(l4(f) + 4, 12);
}

static void m_runt0(struct frame *f) { build(f, IPPROTO_TCP, 20, 0); f->len = 0; }
static void m_runt13(struct frame *f) { build(f, IPPROTO_TCP, 20, 0); f->len = 13; }
static void m_eth_only(struct frame *f) { build(f, IPPROTO_TCP, 20, 0); f->len = ETH_LEN; }
static void m_ipv6(struct frame *f) { build(f, IPPROTO_TCP, 20, 0); wr16(f->b + 12, 0x86dd); }
static void m_vlan(struct frame *f) { build(f, IPPROTO_TCP, 20, 0); wr16(f->b + 12, 0x8100); }
static void m_arp_short(struct frame *f) { build_arp(f); f->len--; }
static void m_ip_short(struct frame *f) { build(f, IPPROTO_TCP, 20, 0); f->len = ETH_LEN + 19; }

static void m_version6(struct frame *f)
{
	build(f, IPPROTO_TCP, 20, 0);
	ip(f)[0] = 0x65;
	ip_fix_csum(f);
}

static void m_version0(struct frame *f)
{
	build(f, IPPROTO_TCP, 20, 0);
	ip(f)[0] = 0x05;
	ip_fix_csum(f);
}

static void m_ihl4(struct frame *f)
{
	build(f, IPPROTO_TCP, 20, 0);
	ip(f)[0] = 0x44;
}

static void m_ihl0(struct frame *f)
{
	build(f, IPPROTO_TCP, 20, 0);
	ip(f)[0] = 0x40;
}

/* IHL 15 (60 bytes) in a frame with 40 bytes of IP. */
static void m_ihl_beyond(struct frame *f)
{
	build(f, IPPROTO_TCP, 20, 0);
	ip(f)[0] = 0x4f;
}

static void m_tot_lt_ihl(struct frame *f) { build(f, IPPROTO_TCP, 20, 0); set_tot(f, 19); }
static void m_tot_zero(struct frame *f) { build(f, IPPROTO_TCP, 20, 0); set_tot(f, 0); }
static void m_tot_gt_frame(struct frame *f) { build(f, IPPROTO_TCP, 20, 0); set_tot(f, 41); }

/* The frame cut short of what the IP header announces. */
static void m_frame_cut(struct frame *f)
{
	build(f, IPPROTO_TCP, 20, 100);
	f->len -= 1;
}

static void m_bad_csum(struct frame *f)
{
	build(f, IPPROTO_TCP, 20, 0);
	ip(f)[10] ^= 0x01;
}

static void m_bad_csum_field(struct frame *f)
{
	build(f, IPPROTO_TCP, 20, 0);
	ip(f)[8] = 63; /* ttl changed, checksum not updated */
}

/* IHL 6 with a NOP option, checksum right. */
static void m_options(struct frame *f)
{
	build(f, IPPROTO_UDP, 8, 0);
	uint8_t *h = ip(f);
	memmove(h + 24, h + 20, 8);
	memset(h + 20, 1, 4);
	h[0] = 0x46;
	f->len += 4;
	set_tot(f, 32);
}

static void m_mf(struct frame *f)
{
	build(f, IPPROTO_UDP, 8, 8);
	wr16(ip(f) + 6, 0x2000);
	ip_fix_csum(f);
}

static void m_offset(struct frame *f)
{
	build(f, IPPROTO_UDP, 8, 8);
	wr16(ip(f) + 6, 0x0001);
	ip_fix_csum(f);
}

static void m_offset_max(struct frame *f)
{
	build(f, IPPROTO_UDP, 8, 8);
	wr16(ip(f) + 6, 0x5fff); /* DF + offset: still a fragment */
	ip_fix_csum(f);
}

/* TCP header of 19 bytes inside the IP packet (the frame has more: padding). */
static void m_tcp_trunc(struct frame *f)
{
	build(f, IPPROTO_TCP, 20, 0);
	set_tot(f, 39);
}

static void m_tcp_doff4(struct frame *f)
{
	build(f, IPPROTO_TCP, 20, 8);
	l4(f)[12] = 4 << 4;
}

static void m_tcp_doff0(struct frame *f)
{
	build(f, IPPROTO_TCP, 20, 8);
	l4(f)[12] = 0;
}

static void m_tcp_doff_beyond(struct frame *f)
{
	build(f, IPPROTO_TCP, 20, 8); /* 28 bytes of L4 */
	l4(f)[12] = 8 << 4;           /* header of 32 */
}

static void m_udp_trunc(struct frame *f)
{
	build(f, IPPROTO_UDP, 8, 0);
	set_tot(f, 27);
}

static void m_udp_len_small(struct frame *f)
{
	build(f, IPPROTO_UDP, 8, 4);
	wr16(l4(f) + 4, 7);
}

static void m_udp_len_big(struct frame *f)
{
	build(f, IPPROTO_UDP, 8, 4);
	wr16(l4(f) + 4, 13);
}

static void m_icmp_trunc(struct frame *f)
{
	build(f, IPPROTO_ICMP, 8, 0);
	set_tot(f, 27);
}

static void m_gre(struct frame *f) { build(f, 47, 8, 0); }
static void m_sctp(struct frame *f) { build(f, 132, 12, 0); }
static void m_proto0(struct frame *f) { build(f, 0, 8, 0); }

static const struct pcase cases[] = {
	{ "tcp", m_tcp, OK_IP4 },
	{ "tcp_options", m_tcp_opts, OK_IP4 },
	{ "tcp_no_data", m_tcp_nodata, OK_IP4 },
	{ "tcp_eth_padding", m_tcp_padded, OK_IP4 },
	{ "udp", m_udp, OK_IP4 },
	{ "udp_empty", m_udp_empty, OK_IP4 },
	{ "udp_len_below_ip", m_udp_short_len, XVS_DROP_UDP_BAD_LEN }, /* bytes its checksum misses */
	{ "icmp", m_icmp, OK_IP4 },
	{ "df", m_df, OK_IP4 },
	{ "arp", m_arp, OK_ARP },
	{ "runt_empty", m_runt0, XVS_DROP_RUNT },
	{ "runt_13", m_runt13, XVS_DROP_RUNT },
	{ "eth_only", m_eth_only, XVS_DROP_IP_TRUNCATED },
	{ "ipv6_ethertype_v4_header", m_ipv6, XVS_DROP_IP_BAD_VERSION },
	{ "vlan", m_vlan, XVS_DROP_L2_UNSUPPORTED },
	{ "arp_short", m_arp_short, XVS_DROP_ARP_MALFORMED },
	{ "ip_short", m_ip_short, XVS_DROP_IP_TRUNCATED },
	{ "version6", m_version6, XVS_DROP_IP_BAD_VERSION },
	{ "version0", m_version0, XVS_DROP_IP_BAD_VERSION },
	{ "ihl4", m_ihl4, XVS_DROP_IP_BAD_IHL },
	{ "ihl0", m_ihl0, XVS_DROP_IP_BAD_IHL },
	{ "ihl_beyond_frame", m_ihl_beyond, XVS_DROP_IP_TRUNCATED },
	{ "tot_below_ihl", m_tot_lt_ihl, XVS_DROP_IP_BAD_LEN },
	{ "tot_zero", m_tot_zero, XVS_DROP_IP_BAD_LEN },
	{ "tot_beyond_frame", m_tot_gt_frame, XVS_DROP_IP_BAD_LEN },
	{ "frame_cut", m_frame_cut, XVS_DROP_IP_BAD_LEN },
	{ "bad_csum", m_bad_csum, XVS_DROP_IP_BAD_CSUM },
	{ "bad_csum_field", m_bad_csum_field, XVS_DROP_IP_BAD_CSUM },
	{ "options", m_options, XVS_DROP_IP_OPTIONS },
	{ "fragment_mf", m_mf, XVS_DROP_IP_FRAGMENT },
	{ "fragment_offset", m_offset, XVS_DROP_IP_FRAGMENT },
	{ "fragment_offset_max", m_offset_max, XVS_DROP_IP_FRAGMENT },
	{ "tcp_truncated", m_tcp_trunc, XVS_DROP_L4_TRUNCATED },
	{ "tcp_doff4", m_tcp_doff4, XVS_DROP_L4_TRUNCATED },
	{ "tcp_doff0", m_tcp_doff0, XVS_DROP_L4_TRUNCATED },
	{ "tcp_doff_beyond", m_tcp_doff_beyond, XVS_DROP_L4_TRUNCATED },
	{ "udp_truncated", m_udp_trunc, XVS_DROP_L4_TRUNCATED },
	{ "udp_len_below_8", m_udp_len_small, XVS_DROP_L4_TRUNCATED },
	{ "udp_len_beyond_ip", m_udp_len_big, XVS_DROP_L4_TRUNCATED },
	{ "icmp_truncated", m_icmp_trunc, XVS_DROP_L4_TRUNCATED },
	{ "gre", m_gre, XVS_DROP_L4_UNSUPPORTED },
	{ "sctp_without_a_chunk", m_sctp, XVS_DROP_L4_TRUNCATED },
	{ "proto0", m_proto0, XVS_DROP_L4_UNSUPPORTED },
};
#define NB_CASES (sizeof(cases) / sizeof(cases[0]))

static const char *want_name(int w)
{
	if (w == OK_IP4)
		return "ip4";
	if (w == OK_ARP)
		return "arp";
	return xvs_drop_names[w];
}

ParameterizedTestParameters(parse, frame)
{
	static int idx[NB_CASES];
	for (unsigned i = 0; i < NB_CASES; i++)
		idx[i] = (int)i;
	return cr_make_param_array(int, idx, NB_CASES);
}

ParameterizedTest(int *i, parse, frame)
{
	const struct pcase *c = &cases[*i];
	struct frame f;
	struct xvs_pkt p;
	c->make(&f);
	int rc = parse_exact(f.b, f.len, &p);
	const char *got = p.kind == XVS_PKT_IP4 ? "ip4" : p.kind == XVS_PKT_ARP ? "arp" :
			  p.drop < XVS_DROP_MAX ? xvs_drop_names[p.drop] : "?";
	cr_assert_str_eq(got, want_name(c->want), "case %s", c->name);
	if (c->want >= OK_IP4) {
		cr_assert_eq(rc, 0);
	} else {
		cr_assert_eq(rc, -1);
		cr_assert_eq(p.kind, XVS_PKT_DROP);
	}
}

/* ---- fields of accepted frames ------------------------------------------------------------- */

Test(parse, tcp_fields)
{
	struct frame f;
	struct xvs_pkt p;
	build(&f, IPPROTO_TCP, 20, 10);
	l4(&f)[13] = RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG;
	cr_assert_eq(parse_exact(f.b, f.len, &p), 0);
	cr_assert_eq(p.kind, XVS_PKT_IP4);
	cr_assert_eq(p.proto, IPPROTO_TCP);
	cr_assert_eq(p.l3_off, IP_OFF);
	cr_assert_eq(p.l4_off, L4_OFF);
	cr_assert_eq(p.ip_len, 50);
	cr_assert_eq(p.tcp_flags, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	cr_assert_eq(rte_be_to_cpu_16(p.sport), 40000);
	cr_assert_eq(rte_be_to_cpu_16(p.dport), 80);
	cr_assert_eq(memcmp(&p.src, ip(&f) + 12, 4), 0, "addresses stay in network order");
	cr_assert_eq(memcmp(&p.dst, ip(&f) + 16, 4), 0);
}

Test(parse, udp_and_icmp_fields)
{
	struct frame f;
	struct xvs_pkt p;
	build(&f, IPPROTO_UDP, 8, 3);
	cr_assert_eq(parse_exact(f.b, f.len, &p), 0);
	cr_assert_eq(p.proto, IPPROTO_UDP);
	cr_assert_eq(rte_be_to_cpu_16(p.sport), 5353);
	cr_assert_eq(rte_be_to_cpu_16(p.dport), 53);
	cr_assert_eq(p.tcp_flags, 0);
	cr_assert_eq(p.ip_len, 31);
	build(&f, IPPROTO_ICMP, 8, 0);
	cr_assert_eq(parse_exact(f.b, f.len, &p), 0);
	cr_assert_eq(p.proto, IPPROTO_ICMP);
	cr_assert_eq(p.sport, 0);
	cr_assert_eq(p.dport, 0);
	cr_assert_eq(p.tcp_flags, 0);
}

/* Every IP header checksum value but the right one is refused. */
Test(parse, every_wrong_checksum_refused)
{
	struct frame f;
	struct xvs_pkt p;
	build(&f, IPPROTO_UDP, 8, 0);
	uint16_t good = rd16(ip(&f) + 10);
	for (uint32_t c = 0; c <= 0xffff; c++) {
		wr16(ip(&f) + 10, (uint16_t)c);
		int rc = xvs_parse(&p, f.b, f.len);
		/* 0 and 0xffff are the same number in one's complement */
		if (c == good || (good == 0 && c == 0xffff))
			cr_assert_eq(rc, 0);
		else
			cr_assert(rc == -1 && p.drop == XVS_DROP_IP_BAD_CSUM, "checksum %#x", c);
	}
}

/* ---- fuzzing -------------------------------------------------------------------------------- */

static uint64_t rng_state;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/* What an accepted frame promises the packet path. */
static void check_accepted(const uint8_t *b, uint32_t len, const struct xvs_pkt *p)
{
	cr_assert(p->kind == XVS_PKT_IP4 || p->kind == XVS_PKT_ARP || p->kind == XVS_PKT_IP6);
	if (p->kind == XVS_PKT_IP6) {
		cr_assert_eq(b[IP_OFF] >> 4, 6);
		cr_assert_leq((uint32_t)IP_OFF + p->ip_len, len);
		cr_assert_eq(40u + rd16(b + IP_OFF + 4), p->ip_len);
		cr_assert_geq(p->l4_off, IP_OFF + 40);
		cr_assert(p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP || p->proto == IPPROTO_SCTP ||
			  p->proto == IPPROTO_ICMPV6);
		cr_assert_leq(p->l4_off + 8u, (uint32_t)IP_OFF + p->ip_len);
		return;
	}
	if (p->kind == XVS_PKT_ARP) {
		cr_assert_geq(len, ETH_LEN + 28);
		return;
	}
	cr_assert_eq(p->l3_off, IP_OFF);
	cr_assert_eq(p->l4_off, L4_OFF, "options are refused");
	cr_assert_leq((uint32_t)IP_OFF + p->ip_len, len);
	cr_assert_eq(rd16(b + IP_OFF + 2), p->ip_len);
	cr_assert_eq(csum(b + IP_OFF, 20), 0, "header checksum verifies");
	cr_assert_eq(b[IP_OFF] >> 4, 4);
	cr_assert_eq(rd16(b + IP_OFF + 6) & 0x3fff, 0, "not a fragment");
	uint32_t l4_len = p->ip_len - 20u;
	switch (p->proto) {
	case IPPROTO_TCP:
		cr_assert_geq(l4_len, 20);
		cr_assert_geq(b[L4_OFF + 12] >> 4, 5);
		cr_assert_leq((b[L4_OFF + 12] >> 4) * 4u, l4_len);
		break;
	case IPPROTO_UDP:
		cr_assert_geq(rd16(b + L4_OFF + 4), 8);
		cr_assert_leq(rd16(b + L4_OFF + 4), l4_len);
		break;
	case IPPROTO_ICMP:
		cr_assert_geq(l4_len, 8);
		break;
	case IPPROTO_SCTP:
		cr_assert_geq(l4_len, 16, "SCTP: common header and a chunk header");
		break;
	default:
		cr_assert_fail("protocol %u accepted", p->proto);
	}
}

static void parse_and_check(const uint8_t *b, uint32_t len)
{
	struct xvs_pkt p;
	int rc = parse_exact(b, len, &p);
	if (rc == 0)
		check_accepted(b, len, &p);
	else
		cr_assert(rc == -1 && p.kind == XVS_PKT_DROP && p.drop < XVS_DROP_MAX);
}

Test(parse, fuzz_random_bytes)
{
	uint8_t b[128];
	rng_state = 0x5eed;
	for (int i = 0; i < 200000; i++) {
		uint32_t len = rnd() % sizeof(b);
		for (uint32_t k = 0; k < len; k++)
			b[k] = (uint8_t)rnd();
		/* make the deeper layers reachable most of the time */
		if (len >= 34 && i % 4) {
			wr16(b + 12, i % 16 ? 0x0800 : 0x0806);
			b[IP_OFF] = i % 8 ? 0x45 : (uint8_t)(0x40 | (rnd() & 0xf));
			if (i % 3) {
				wr16(b + IP_OFF + 2, (uint16_t)(rnd() % (len - IP_OFF + 8)));
				wr16(b + IP_OFF + 6, 0);
				b[IP_OFF + 9] = (uint8_t)(i % 5 == 0 ? rnd() : (uint32_t[]){ 6, 17, 1 }[i % 3]);
			}
			unsigned ihl = (b[IP_OFF] & 0xf) * 4u;
			if (ihl >= 20 && IP_OFF + ihl <= len && i % 7) {
				wr16(b + IP_OFF + 10, 0);
				wr16(b + IP_OFF + 10, csum(b + IP_OFF, ihl));
			}
		}
		parse_and_check(b, len);
	}
}

/* Every prefix of every valid frame: never read past it; a cut IP packet is never accepted. */
Test(parse, truncations_of_valid_frames)
{
	void (*const valid[])(struct frame *) = { m_tcp, m_tcp_opts, m_tcp_nodata, m_udp, m_udp_empty,
						  m_icmp, m_arp, m_tcp_padded };
	for (unsigned v = 0; v < sizeof(valid) / sizeof(valid[0]); v++) {
		struct frame f;
		valid[v](&f);
		uint32_t need = f.b[13] == 0x06 ? ETH_LEN + 28 : IP_OFF + rd16(ip(&f) + 2);
		for (uint32_t len = 0; len <= f.len; len++) {
			struct xvs_pkt p;
			int rc = parse_exact(f.b, len, &p);
			if (len < ETH_LEN)
				cr_assert(rc == -1 && p.drop == XVS_DROP_RUNT);
			else if (len < need)
				cr_assert_eq(rc, -1, "frame %u cut at %u accepted", v, len);
			else
				cr_assert_eq(rc, 0, "frame %u at %u refused (%s)", v, len,
					     xvs_drop_names[p.drop]);
		}
	}
}

/* Random bytes of valid frames changed (checksum refreshed or not): safe either way. */
Test(parse, fuzz_mutated_valid_frames)
{
	void (*const valid[])(struct frame *) = { m_tcp, m_tcp_opts, m_udp, m_icmp, m_arp, m_options };
	rng_state = 0xfacade;
	for (int i = 0; i < 100000; i++) {
		struct frame f;
		valid[rnd() % (sizeof(valid) / sizeof(valid[0]))](&f);
		int nmut = 1 + (int)(rnd() % 3);
		for (int m = 0; m < nmut; m++)
			f.b[rnd() % f.len] = (uint8_t)rnd();
		if (rnd() % 2 && (ip(&f)[0] & 0xf) >= 5)
			ip_fix_csum(&f);
		if (rnd() % 4 == 0)
			f.len = rnd() % (f.len + 1);
		parse_and_check(f.b, f.len);
	}
}

/* ---- IPv6 and extension headers ------------------------------------------------------------ */

/* An IPv6 frame: header, the chain of extension headers given as (type, length in bytes), TCP. */
static void build6(struct frame *f, const uint8_t (*ext)[2], unsigned nb_ext, uint8_t l4proto)
{
	memset(f, 0, sizeof(*f));
	wr16(f->b + 12, 0x86dd);
	uint8_t *h = ip(f);
	h[0] = 0x60;
	h[7] = 64;
	h[8] = 0x20; h[9] = 0x01; h[10] = 0x0d; h[11] = 0xb8; h[23] = 1;  /* 2001:db8::1 */
	h[24] = 0x20; h[25] = 0x01; h[26] = 0x0d; h[27] = 0xb8; h[39] = 2; /* 2001:db8::2 */
	uint32_t off = 40;
	uint8_t *nh = h + 6;
	for (unsigned i = 0; i < nb_ext; i++) {
		*nh = ext[i][0];
		uint8_t *e = h + off;
		e[1] = (uint8_t)(ext[i][1] / 8 - 1);
		nh = e;
		off += ext[i][1];
	}
	*nh = l4proto;
	uint8_t *t = h + off;
	wr16(t, 40000);
	wr16(t + 2, 80);
	t[12] = 5 << 4;
	t[13] = RTE_TCP_SYN_FLAG;
	wr16(h + 4, (uint16_t)(off - 40 + 20));
	f->len = ETH_LEN + off + 20;
}

struct ext_case {
	const char *name;
	uint8_t ext[12][2];
	unsigned nb_ext;
	int trunc;           /* bytes cut off the end */
	int expect;          /* -1: accepted, else the drop reason */
};

static const struct ext_case ext_cases[] = {
	{ "no_ext", { { 0 } }, 0, 0, -1 },
	{ "hop_by_hop", { { IPPROTO_HOPOPTS, 8 } }, 1, 0, -1 },
	{ "hop_dst_dst", { { IPPROTO_HOPOPTS, 8 }, { IPPROTO_DSTOPTS, 16 }, { IPPROTO_DSTOPTS, 8 } }, 3, 0, -1 },
	{ "routing_done", { { IPPROTO_ROUTING, 8 } }, 1, 0, -1 },
	{ "hop_not_first", { { IPPROTO_DSTOPTS, 8 }, { IPPROTO_HOPOPTS, 8 } }, 2, 0, XVS_DROP_IP6_BAD_EXT },
	{ "fragment", { { IPPROTO_FRAGMENT, 8 } }, 1, 0, XVS_DROP_IP_FRAGMENT },
	{ "too_many", { { IPPROTO_DSTOPTS, 8 }, { IPPROTO_DSTOPTS, 8 }, { IPPROTO_DSTOPTS, 8 },
			{ IPPROTO_DSTOPTS, 8 }, { IPPROTO_DSTOPTS, 8 }, { IPPROTO_DSTOPTS, 8 },
			{ IPPROTO_DSTOPTS, 8 }, { IPPROTO_DSTOPTS, 8 }, { IPPROTO_DSTOPTS, 8 } }, 9, 0,
	  XVS_DROP_IP6_BAD_EXT },
	{ "truncated_l4", { { IPPROTO_DSTOPTS, 8 } }, 1, 10, XVS_DROP_IP_BAD_LEN },
};

ParameterizedTestParameters(parse6, ext_chain)
{
	return cr_make_param_array(struct ext_case, (void *)ext_cases,
				   sizeof(ext_cases) / sizeof(ext_cases[0]));
}

ParameterizedTest(const struct ext_case *c, parse6, ext_chain)
{
	struct frame f;
	struct xvs_pkt p = { 0 };
	build6(&f, c->ext, c->nb_ext, IPPROTO_TCP);
	f.len -= (uint32_t)c->trunc;
	int rc = xvs_parse(&p, f.b, f.len);
	if (c->expect < 0) {
		cr_assert_eq(rc, 0, "%s: dropped as %u", c->name, p.drop);
		cr_assert_eq(p.kind, XVS_PKT_IP6);
		cr_assert_eq(p.proto, IPPROTO_TCP);
		check_accepted(f.b, f.len, &p);
	} else {
		cr_assert_eq(rc, -1, "%s accepted", c->name);
		cr_assert_eq(p.drop, c->expect, "%s: %u", c->name, p.drop);
	}
}

/* An extension header whose length runs past the payload, however it is stated, is refused. */
Test(parse6, ext_length_past_payload)
{
	static const uint8_t one[1][2] = { { IPPROTO_DSTOPTS, 8 } };
	for (unsigned hl = 1; hl < 256; hl++) {
		struct frame f;
		struct xvs_pkt p;
		build6(&f, one, 1, IPPROTO_TCP);
		ip(&f)[40 + 1] = (uint8_t)hl; /* claims (hl + 1) * 8 bytes */
		int rc = xvs_parse(&p, f.b, f.len);
		cr_assert(rc == -1, "length %u accepted", hl);
	}
}

/* A routing header with segments left is not ours to skip. */
Test(parse6, routing_segments_left)
{
	static const uint8_t one[1][2] = { { IPPROTO_ROUTING, 8 } };
	struct frame f;
	struct xvs_pkt p;
	build6(&f, one, 1, IPPROTO_TCP);
	ip(&f)[40 + 3] = 1;
	cr_assert_eq(xvs_parse(&p, f.b, f.len), -1);
	cr_assert_eq(p.drop, XVS_DROP_IP6_BAD_EXT);
}

/* Multicast or loopback sources are martians; :: only for ICMPv6 (DAD). */
Test(parse6, martian_sources)
{
	struct frame f;
	struct xvs_pkt p;
	build6(&f, NULL, 0, IPPROTO_TCP);
	ip(&f)[8] = 0xff;
	cr_assert_eq(xvs_parse(&p, f.b, f.len), -1);
	cr_assert_eq(p.drop, XVS_DROP_IP_BAD_ADDR);
	build6(&f, NULL, 0, IPPROTO_TCP);
	memset(ip(&f) + 8, 0, 16);
	ip(&f)[23] = 1;
	cr_assert_eq(xvs_parse(&p, f.b, f.len), -1);
	cr_assert_eq(p.drop, XVS_DROP_IP_BAD_ADDR);
	build6(&f, NULL, 0, IPPROTO_TCP);
	memset(ip(&f) + 8, 0, 16);
	cr_assert_eq(xvs_parse(&p, f.b, f.len), -1, ":: opens no connection");
	cr_assert_eq(p.drop, XVS_DROP_IP_BAD_ADDR);
	/* ... but may send ICMPv6 (duplicate-address probes) */
	build6(&f, NULL, 0, IPPROTO_ICMPV6);
	memset(ip(&f) + 8, 0, 16);
	cr_assert_eq(xvs_parse(&p, f.b, f.len), 0);
	cr_assert_eq(p.proto, IPPROTO_ICMPV6);
}

/* Random extension chains and lengths never read past the frame (run under ASan). */
Test(parse6, fuzz_chains)
{
	static const uint8_t kinds[] = { IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING,
					 IPPROTO_FRAGMENT, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMPV6, 99 };
	rng_state = 0x6a09e667f3bcc909ULL;
	for (unsigned iter = 0; iter < 100000; iter++) {
		struct frame f;
		build6(&f, NULL, 0, IPPROTO_TCP);
		uint8_t *h = ip(&f);
		uint32_t n = 40 + rnd() % 160;
		for (uint32_t i = 40; i < n; i++)
			h[i] = (uint8_t)rnd();
		for (uint32_t i = 40; i + 1 < n; i += 8)
			if (rnd() % 2)
				h[i] = kinds[rnd() % sizeof(kinds)];
		h[6] = kinds[rnd() % sizeof(kinds)];
		wr16(h + 4, (uint16_t)(rnd() % 2 ? n - 40 : rnd() % 256));
		f.len = ETH_LEN + n;
		uint8_t *exact = malloc(f.len);
		memcpy(exact, f.b, f.len);
		struct xvs_pkt p;
		if (xvs_parse(&p, exact, f.len) == 0)
			check_accepted(exact, f.len, &p);
		free(exact);
	}
}

/* UDP over IPv6 must carry a checksum (RFC 8200): a zero one is refused. */
Test(parse6, udp_zero_checksum)
{
	struct frame f;
	struct xvs_pkt p = { 0 };
	build6(&f, NULL, 0, IPPROTO_UDP);
	uint8_t *u = ip(&f) + 40;
	wr16(u + 4, 20); /* UDP length: the 20 bytes build6 laid down */
	wr16(u + 6, 0x1234);
	cr_assert_eq(xvs_parse(&p, f.b, f.len), 0);
	wr16(u + 6, 0);
	cr_assert_eq(xvs_parse(&p, f.b, f.len), -1);
	cr_assert_eq(p.drop, XVS_DROP_UDP6_NO_CSUM);
}

/* The 20-byte header check agrees with the general sum, for good and for damaged headers. */
Test(parse, ip4_header_sum_fast_path)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	uint8_t h[20];
	unsigned good = 0;
	for (int i = 0; i < 200000; i++) {
		for (unsigned k = 0; k < sizeof(h); k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			h[k] = (uint8_t)x;
		}
		if (i & 1) { /* a valid checksum, then maybe one flipped bit */
			h[10] = h[11] = 0;
			uint16_t c = (uint16_t)~rte_raw_cksum(h, 20);
			memcpy(h + 10, &c, 2);
			if (i & 2)
				h[x % 20] ^= (uint8_t)(1u << (x >> 8) % 8);
		}
		int want = rte_raw_cksum(h, 20) == 0xffff;
		good += (unsigned)want;
		cr_assert_eq(xvs_ip4_hdr_sum_ok(h), want, "header %d", i);
	}
	cr_assert_gt(good, 40000u, "good headers tried: %u", good);
}

/* A NIC's receive checksum verdicts: bad ones drop under their reason, the rest let the parser
 * decide (no flag: the NIC did not check). */
Test(parse, nic_checksum_verdicts)
{
	cr_expect_eq(xvs_rx_csum_verdict(0), XVS_DROP_MAX);
	cr_expect_eq(xvs_rx_csum_verdict(RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD),
		     XVS_DROP_MAX);
	cr_expect_eq(xvs_rx_csum_verdict(RTE_MBUF_F_RX_IP_CKSUM_BAD), XVS_DROP_IP_BAD_CSUM);
	cr_expect_eq(xvs_rx_csum_verdict(RTE_MBUF_F_RX_IP_CKSUM_BAD | RTE_MBUF_F_RX_L4_CKSUM_BAD),
		     XVS_DROP_IP_BAD_CSUM);
	cr_expect_eq(xvs_rx_csum_verdict(RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_BAD),
		     XVS_DROP_L4_BAD_CSUM);
	cr_expect_eq(xvs_rx_csum_verdict(RTE_MBUF_F_RX_IP_CKSUM_NONE | RTE_MBUF_F_RX_L4_CKSUM_NONE),
		     XVS_DROP_MAX, "not checked: the parser's own check stands");
}
