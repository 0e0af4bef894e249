/*
 * Unit tests of the NAT rewrites (dataplane/dp_nat.h, dp_csum.h). The property: a packet
 * rewritten in place with incremental checksum updates is byte for byte the packet built
 * from scratch with the new address and port, checksums computed by this file's own
 * routine (which shares no code with the one under test).
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "dp_nat.h"

#define ETH_LEN 14
#define MAX_PAYLOAD 64

struct spec {
	uint8_t proto;
	uint32_t src, dst; /* host order */
	uint16_t sport, dport;
	int udp_nocsum;    /* UDP sent without checksum (0) */
	uint8_t tos, ttl;
	uint16_t id;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t plen;
	uint8_t payload[MAX_PAYLOAD];
};

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* One's complement sum of big-endian words, folded; the caller complements it. */
static uint32_t sum_be(uint32_t s, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		s += rd16(p + i);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* TCP/UDP checksum with the IPv4 pseudo header, of an l4 segment whose field is zeroed. */
static uint16_t l4_csum(const uint8_t *ip, const uint8_t *l4, uint16_t l4_len)
{
	uint32_t s = sum_be(0, ip + 12, 8); /* source and destination */
	s += ip[9];
	s += l4_len;
	s = sum_be(s, l4, l4_len);
	return (uint16_t)~fold(s);
}

/* Ethernet + IPv4 + TCP/UDP + payload with correct checksums; returns the frame length. */
static uint32_t build(uint8_t *b, const struct spec *s)
{
	uint16_t l4_len = (uint16_t)((s->proto == IPPROTO_TCP ? 20 : 8) + s->plen);
	memset(b, 0, ETH_LEN + 20 + l4_len);
	wr16(b + 12, 0x0800);
	uint8_t *ip = b + ETH_LEN, *l4 = ip + 20;
	ip[0] = 0x45;
	ip[1] = s->tos;
	wr16(ip + 2, (uint16_t)(20 + l4_len));
	wr16(ip + 4, s->id);
	ip[8] = s->ttl;
	ip[9] = s->proto;
	wr32(ip + 12, s->src);
	wr32(ip + 16, s->dst);
	wr16(ip + 10, (uint16_t)~fold(sum_be(0, ip, 20)));
	wr16(l4, s->sport);
	wr16(l4 + 2, s->dport);
	if (s->proto == IPPROTO_TCP) {
		wr32(l4 + 4, s->seq);
		wr32(l4 + 8, s->ack);
		l4[12] = 5 << 4;
		l4[13] = s->flags;
		wr16(l4 + 14, 0xffff);
		memcpy(l4 + 20, s->payload, s->plen);
		wr16(l4 + 16, l4_csum(ip, l4, l4_len));
	} else {
		wr16(l4 + 4, l4_len);
		memcpy(l4 + 8, s->payload, s->plen);
		if (!s->udp_nocsum) {
			uint16_t c = l4_csum(ip, l4, l4_len);
			wr16(l4 + 6, c ? c : 0xffff);
		}
	}
	return ETH_LEN + 20u + l4_len;
}

/* Checks that do not rely on the builder: every checksum in the frame verifies. */
static void verify_from_scratch(const uint8_t *b)
{
	const uint8_t *ip = b + ETH_LEN, *l4 = ip + 20;
	uint16_t l4_len = (uint16_t)(rd16(ip + 2) - 20);
	cr_assert_eq(fold(sum_be(0, ip, 20)), 0xffff, "IPv4 header checksum");
	if (ip[9] == IPPROTO_UDP && rd16(l4 + 6) == 0)
		return;
	uint32_t s = sum_be(0, ip + 12, 8) + ip[9] + l4_len;
	cr_assert_eq(fold(sum_be(s, l4, l4_len)), 0xffff, "L4 checksum");
}

static void dnat(uint8_t *b, uint32_t addr, uint16_t port)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(b + ETH_LEN);
	void *l4 = b + ETH_LEN + 20;
	uint16_t old = ((struct rte_udp_hdr *)l4)->dst_port; /* same offset in TCP */
	xvs_nat_dnat4(ip, l4, rte_cpu_to_be_32(addr), rte_cpu_to_be_16(port), old);
}

static void snat(uint8_t *b, uint32_t addr, uint16_t port)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(b + ETH_LEN);
	void *l4 = b + ETH_LEN + 20;
	uint16_t old = ((struct rte_udp_hdr *)l4)->src_port;
	xvs_nat_snat4(ip, l4, rte_cpu_to_be_32(addr), rte_cpu_to_be_16(port), old);
}

/* Rewrite spec s both ways and compare against packets built with the new values. */
static void check_rewrites(const struct spec *s, uint32_t naddr, uint16_t nport)
{
	uint8_t got[128], want[128];
	struct spec w = *s;

	uint32_t len = build(got, s);
	dnat(got, naddr, nport);
	w.dst = naddr;
	w.dport = nport;
	cr_assert_eq(build(want, &w), len);
	verify_from_scratch(got);
	cr_assert_eq(memcmp(got, want, len), 0,
		     "dnat proto %u: ip csum %04x want %04x, l4 csum %04x want %04x", s->proto,
		     rd16(got + 24), rd16(want + 24), rd16(got + 34 + (s->proto == 6 ? 16 : 6)),
		     rd16(want + 34 + (s->proto == 6 ? 16 : 6)));

	len = build(got, s);
	snat(got, naddr, nport);
	w = *s;
	w.src = naddr;
	w.sport = nport;
	build(want, &w);
	verify_from_scratch(got);
	cr_assert_eq(memcmp(got, want, len), 0, "snat proto %u", s->proto);
}

static uint64_t rng_state;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static void random_spec(struct spec *s, uint8_t proto)
{
	memset(s, 0, sizeof(*s));
	s->proto = proto;
	s->src = rnd() << 16 ^ rnd();
	s->dst = rnd() << 16 ^ rnd();
	s->sport = (uint16_t)rnd();
	s->dport = (uint16_t)rnd();
	s->tos = (uint8_t)rnd();
	s->ttl = (uint8_t)rnd();
	s->id = (uint16_t)rnd();
	s->seq = rnd() << 16 ^ rnd();
	s->ack = rnd() << 16 ^ rnd();
	s->flags = (uint8_t)rnd();
	s->plen = (uint16_t)(rnd() % (MAX_PAYLOAD + 1));
	for (unsigned i = 0; i < s->plen; i++)
		s->payload[i] = (uint8_t)rnd();
}

Test(nat, builder_checksums_verify)
{
	uint8_t b[128];
	struct spec s;
	rng_state = 1;
	for (int i = 0; i < 1000; i++) {
		random_spec(&s, i % 2 ? IPPROTO_TCP : IPPROTO_UDP);
		build(b, &s);
		verify_from_scratch(b);
	}
}

Test(nat, random_tcp)
{
	struct spec s;
	rng_state = 0x1111;
	for (int i = 0; i < 100000; i++) {
		random_spec(&s, IPPROTO_TCP);
		check_rewrites(&s, rnd() << 16 ^ rnd(), (uint16_t)rnd());
	}
}

Test(nat, random_udp)
{
	struct spec s;
	rng_state = 0x2222;
	for (int i = 0; i < 100000; i++) {
		random_spec(&s, IPPROTO_UDP);
		s.udp_nocsum = i % 8 == 0;
		check_rewrites(&s, rnd() << 16 ^ rnd(), (uint16_t)rnd());
	}
}

Test(nat, udp_zero_checksum_stays_zero)
{
	uint8_t b[128];
	struct spec s;
	rng_state = 0x3333;
	for (int i = 0; i < 1000; i++) {
		random_spec(&s, IPPROTO_UDP);
		s.udp_nocsum = 1;
		build(b, &s);
		if (i % 2)
			dnat(b, rnd() << 16 ^ rnd(), (uint16_t)rnd());
		else
			snat(b, rnd() << 16 ^ rnd(), (uint16_t)rnd());
		cr_assert_eq(rd16(b + ETH_LEN + 26), 0);
		verify_from_scratch(b);
	}
}

/* The raw checksum the packet would get, before UDP's zero substitution. */
static uint16_t raw_udp_csum(const struct spec *s)
{
	uint8_t b[128];
	struct spec t = *s;
	t.udp_nocsum = 1;
	build(b, &t);
	return l4_csum(b + ETH_LEN, b + ETH_LEN + 20, (uint16_t)(rd16(b + ETH_LEN + 2) - 20));
}

/* A rewrite whose UDP checksum computes to 0 sends 0xffff (0 would mean "no checksum"). */
Test(nat, udp_checksum_becoming_zero_sent_as_ffff)
{
	struct spec s;
	rng_state = 0x4444;
	for (int i = 0; i < 5000; i++) {
		random_spec(&s, IPPROTO_UDP);
		struct spec w = s;
		uint32_t naddr = rnd() << 16 ^ rnd();
		w.dst = naddr;
		/* the port that completes the sum to 0xffff is the checksum computed with port 0 */
		w.dport = 0;
		uint16_t p = raw_udp_csum(&w);
		w.dport = p;
		cr_assert_eq(raw_udp_csum(&w), 0);
		uint8_t b[128];
		build(b, &s);
		cr_assert_neq(rd16(b + ETH_LEN + 26), 0);
		dnat(b, naddr, p);
		cr_assert_eq(rd16(b + ETH_LEN + 26), 0xffff, "iteration %d", i);
		verify_from_scratch(b);
		/* and back: from a 0xffff checksum to an ordinary one */
		dnat(b, s.dst, s.dport);
		uint8_t orig[128];
		uint32_t len = build(orig, &s);
		cr_assert_eq(memcmp(b, orig, len), 0);
	}
}

/* A TCP checksum of 0x0000 (sum 0xffff) rewritten, and rewritten back. */
Test(nat, tcp_checksum_zero_edges)
{
	struct spec s;
	rng_state = 0x5555;
	for (int i = 0; i < 5000; i++) {
		random_spec(&s, IPPROTO_TCP);
		uint8_t b[128];
		s.sport = 0;
		build(b, &s);
		s.sport = rd16(b + ETH_LEN + 36); /* completes the sum to 0xffff */
		build(b, &s);
		cr_assert_eq(rd16(b + ETH_LEN + 36), 0);
		check_rewrites(&s, rnd() << 16 ^ rnd(), (uint16_t)rnd());
		/* and a rewrite that lands on 0x0000 */
		struct spec w = s;
		w.sport = (uint16_t)rnd();
		check_rewrites(&w, s.src, s.sport);
	}
}

Test(nat, edge_values)
{
	static const uint32_t addrs[] = { 0, 0xffffffffu, 1, 0x80000000u, 0x0000ffffu, 0xffff0000u,
					  0x7f000001u };
	static const uint16_t ports[] = { 0, 0xffff, 1, 0x8000, 0x00ff, 0xff00 };
	static const uint8_t fills[] = { 0x00, 0xff };
	struct spec s;
	unsigned n = 0;
	for (unsigned proto = 0; proto < 2; proto++)
		for (unsigned a = 0; a < 7; a++)
			for (unsigned na = 0; na < 7; na++)
				for (unsigned pt = 0; pt < 6; pt++)
					for (unsigned f = 0; f < 2; f++) {
						memset(&s, 0, sizeof(s));
						s.proto = proto ? IPPROTO_TCP : IPPROTO_UDP;
						s.src = addrs[a];
						s.dst = addrs[(a + 3) % 7];
						s.sport = ports[pt];
						s.dport = ports[(pt + 1) % 6];
						s.ttl = fills[f];
						s.id = fills[f] * 0x101u;
						s.seq = s.ack = fills[f] * 0x1010101u;
						s.plen = (uint16_t)(f ? 17 : 16);
						memset(s.payload, fills[f], s.plen);
						check_rewrites(&s, addrs[na], ports[(pt + 3) % 6]);
						n++;
					}
	cr_assert_eq(n, 2 * 7 * 7 * 6 * 2);
}

/* Rewriting to the same address and port changes nothing at all. */
Test(nat, identity_rewrite)
{
	struct spec s;
	rng_state = 0x6666;
	for (int i = 0; i < 1000; i++) {
		random_spec(&s, i % 2 ? IPPROTO_TCP : IPPROTO_UDP);
		uint8_t b[128], orig[128];
		uint32_t len = build(orig, &s);
		memcpy(b, orig, len);
		dnat(b, s.dst, s.dport);
		snat(b, s.src, s.sport);
		cr_assert_eq(memcmp(b, orig, len), 0, "iteration %d", i);
	}
}

/* A connection's life: DNAT there, SNAT back, the reverse path restores the original. */
Test(nat, dnat_then_reverse_restores)
{
	struct spec s;
	rng_state = 0x7777;
	for (int i = 0; i < 10000; i++) {
		random_spec(&s, i % 2 ? IPPROTO_TCP : IPPROTO_UDP);
		uint8_t b[128], orig[128];
		uint32_t len = build(orig, &s);
		memcpy(b, orig, len);
		dnat(b, rnd() << 16 ^ rnd(), (uint16_t)rnd());
		verify_from_scratch(b);
		dnat(b, s.dst, s.dport);
		cr_assert_eq(memcmp(b, orig, len), 0, "iteration %d", i);
	}
}

/* The helpers on their own, against values worked out by hand (RFC 1624's example). */
Test(nat, csum_helpers)
{
	/* RFC 1624 section 4: HC 0xdd2f, m 0x5555 -> m' 0x3285 gives HC' 0x0000 */
	cr_assert_eq(xvs_csum_replace2(rte_cpu_to_be_16(0xdd2f), rte_cpu_to_be_16(0x5555),
				       rte_cpu_to_be_16(0x3285)), 0x0000);
	cr_assert_eq(xvs_csum_fold(0x1fffe), 0xffff);
	cr_assert_eq(xvs_csum_fold(0xffff), 0xffff);
	cr_assert_eq(xvs_csum_fold(0x2fffd), 0xffff);
	cr_assert_eq(xvs_csum_udp_fix(0, 0x1234), 0);
	cr_assert_eq(xvs_csum_udp_fix(0x1111, 0), 0xffff);
	cr_assert_eq(xvs_csum_udp_fix(0x1111, 0x4321), 0x4321);
	/* replacing a value by itself is the identity for any checksum but 0xffff */
	for (uint32_t c = 0; c < 0xffff; c++)
		cr_assert_eq(xvs_csum_replace4((uint16_t)c, 0x12345678, 0x12345678), c);
}

/* SCTP: a CRC32c that xvs_sctp_csum wrote verifies; any flipped bit, anywhere, does not. */
Test(nat, sctp_crc_check_before_redo)
{
	uint8_t pkt[64];
	uint64_t x = 0x2545f4914f6cdd1dULL;
	for (unsigned len = 16; len <= sizeof(pkt); len += 3) {
		for (unsigned i = 0; i < len; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			pkt[i] = (uint8_t)x;
		}
		xvs_sctp_csum(pkt, len);
		cr_assert(xvs_sctp_csum_ok(pkt, len), "length %u", len);
		for (unsigned bit = 0; bit < len * 8; bit += 5) {
			pkt[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			cr_assert(!xvs_sctp_csum_ok(pkt, len), "length %u, bit %u flipped", len, bit);
			pkt[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
	}
}
