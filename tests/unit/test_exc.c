/*
 * The exception path's pure parts (dataplane/dp_exc.h): which frames go to the kernel, the
 * rate limit in front of it, and the VIP set the classification asks. Frames are parsed with
 * the packet path's own parser, so the cases read as what arrives on the wire. Then its
 * configuration keys (dataplane/dp_config.c): what is accepted, and what is refused and why.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dp_config.h"
#include "dp_exc.h"
#include "dp_parse.h"

/* ---- classification by reason -------------------------------------------------------------- */

/* The reasons that may lead to the kernel; everything else never does. */
static int kernel_reason(enum xvs_drop d)
{
	switch (d) {
	case XVS_DROP_L2_NOT_OURS: case XVS_DROP_L2_UNSUPPORTED: case XVS_DROP_ARP_NOT_OURS:
	case XVS_DROP_IP_OPTIONS: case XVS_DROP_IP_FRAGMENT: case XVS_DROP_L4_UNSUPPORTED:
	case XVS_DROP_ICMP_UNSUPPORTED: case XVS_DROP_NO_VIP: case XVS_DROP_ICMP_QUOTE_NO_CONN:
		return 1;
	default:
		return 0;
	}
}

Test(exc, every_reason_and_fact)
{
	for (unsigned d = 0; d < XVS_DROP_MAX; d++) {
		for (unsigned f = 0; f < 8; f++) {
			int want;
			if (f & XVS_EXC_F_ANSWER)
				want = 1; /* learned from, then the kernel's: its own requests' answers */
			else if (f & XVS_EXC_F_VIP)
				want = 0; /* a VIP's traffic stays with the services */
			else if (d == XVS_DROP_L2_NOT_OURS)
				want = !!(f & XVS_EXC_F_GROUP); /* another host's unicast: never */
			else
				want = kernel_reason(d);
			cr_assert_eq(xvs_exc_to_kernel(d, f), want, "%s with facts %u: got %d, want %d",
				     xvs_drop_names[d], f, xvs_exc_to_kernel(d, f), want);
		}
		cr_assert_eq(xvs_exc_candidate(d), kernel_reason(d), "%s", xvs_drop_names[d]);
	}
}

Test(exc, malformed_and_dataplane_reasons_stay)
{
	static const enum xvs_drop stay[] = {
		XVS_DROP_RUNT, XVS_DROP_ARP_MALFORMED, XVS_DROP_IP_TRUNCATED, XVS_DROP_IP_BAD_CSUM,
		XVS_DROP_IP_BAD_ADDR, XVS_DROP_IP6_BAD_EXT, XVS_DROP_ND_MALFORMED,
		XVS_DROP_L4_TRUNCATED, XVS_DROP_UDP6_NO_CSUM, XVS_DROP_NOT_SYN, XVS_DROP_NO_DEST,
		XVS_DROP_CONN_FULL, XVS_DROP_DEST_GONE, XVS_DROP_NO_ROUTE, XVS_DROP_ICMP_QUOTE_BAD,
		XVS_DROP_ICMP_BAD_CSUM, XVS_DROP_HANDOFF_FULL, XVS_DROP_TX_FULL, XVS_DROP_EXC_FULL,
		XVS_DROP_EXC_RATE, XVS_DROP_EXC_KERNEL,
	};
	for (size_t i = 0; i < sizeof(stay) / sizeof(stay[0]); i++)
		cr_assert_not(xvs_exc_to_kernel(stay[i], XVS_EXC_F_GROUP), "%s", xvs_drop_names[stay[i]]);
}

/* ---- classification of frames as they arrive -------------------------------------------------- */

static const uint8_t PORT_MAC[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t PEER_MAC[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static size_t eth(uint8_t *f, const uint8_t *dst, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, PEER_MAC, 6);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
	return 14;
}

static uint16_t cksum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i < n; i += 2)
		s += (uint32_t)p[i] << 8 | (i + 1 < n ? p[i + 1] : 0);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* IPv4 header (ihl words, options zero-filled except a router alert when ihl is 6) at f + 14. */
static size_t ip4(uint8_t *f, uint8_t ihl, uint8_t proto, uint16_t frag, const uint8_t dst[4],
		  size_t payload)
{
	uint8_t *h = f + 14;
	size_t hl = ihl * 4u, tot = hl + payload;
	memset(h, 0, tot);
	h[0] = (uint8_t)(0x40 | ihl);
	h[2] = (uint8_t)(tot >> 8);
	h[3] = (uint8_t)tot;
	h[6] = (uint8_t)(frag >> 8);
	h[7] = (uint8_t)frag;
	h[8] = 1;
	h[9] = proto;
	h[12] = 198, h[13] = 18, h[14] = 0, h[15] = 2;
	memcpy(h + 16, dst, 4);
	if (ihl == 6)
		h[20] = 0x94, h[21] = 4; /* router alert */
	uint16_t c = cksum(h, hl);
	h[10] = (uint8_t)(c >> 8);
	h[11] = (uint8_t)c;
	return 14 + tot;
}

enum exp { KERNEL, STAYS };

struct frame_case {
	char what[64]; /* inline: each case runs in another process (Criterion) */
	uint8_t dst_mac_kind;  /* 0 ours, 1 broadcast, 2 IPv4 multicast, 3 another host */
	uint16_t type;
	uint8_t ihl, proto;
	uint16_t frag;
	uint8_t dst[4];
	int dst_is_vip;
	size_t payload;
	enum exp want;
};

/*
 * The packet path's order for a frame that parsing already ends: an L2 destination that is
 * not the port's is "l2-not-ours" unless it is a group address (then the parser's reason), and
 * the parser's reason otherwise (dp_worker.c).
 */
static int classify_frame(const struct frame_case *c)
{
	static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0, 0, 0x12 };
	static const uint8_t other[6] = { 0x02, 0, 0, 0, 0, 0x09 };
	const uint8_t *dmac = c->dst_mac_kind == 0 ? PORT_MAC : c->dst_mac_kind == 1 ? BCAST :
			      c->dst_mac_kind == 2 ? mcast : other;
	uint8_t f[256];
	size_t len = eth(f, dmac, c->type);
	if (c->type == 0x0800)
		len = ip4(f, c->ihl, c->proto, c->frag, c->dst, c->payload);
	else
		len += 46;
	struct xvs_pkt p;
	int rc = xvs_parse(&p, f, (uint32_t)len);
	cr_assert_eq(rc, -1, "%s: the parser takes it, the case is wrong", c->what);
	unsigned facts = (dmac[0] & 1) ? XVS_EXC_F_GROUP : 0;
	if (c->dst_is_vip)
		facts |= XVS_EXC_F_VIP;
	enum xvs_drop why = c->dst_mac_kind == 3 ? XVS_DROP_L2_NOT_OURS : (enum xvs_drop)p.drop;
	return xvs_exc_to_kernel(why, facts);
}

ParameterizedTestParameters(exc, frames)
{
	static struct frame_case cases[] = {
		{ "VRRP advertisement (proto 112, 224.0.0.18)", 2, 0x0800, 5, 112, 0,
		  { 224, 0, 0, 18 }, 0, 20, KERNEL },
		{ "OSPF hello (proto 89, 224.0.0.5)", 2, 0x0800, 5, 89, 0, { 224, 0, 0, 5 }, 0, 44, KERNEL },
		{ "IGMP report with router alert (IPv4 options)", 2, 0x0800, 6, 2, 0,
		  { 224, 0, 0, 22 }, 0, 8, KERNEL },
		{ "GRE to the host (proto 47)", 0, 0x0800, 5, 47, 0, { 198, 18, 0, 3 }, 0, 24, KERNEL },
		{ "a fragment to the host", 0, 0x0800, 5, 17, 0x2000, { 198, 18, 0, 3 }, 0, 64, KERNEL },
		{ "a fragment to a VIP", 0, 0x0800, 5, 17, 0x2000, { 198, 18, 0, 100 }, 1, 64, STAYS },
		{ "GRE to a VIP", 0, 0x0800, 5, 47, 0, { 198, 18, 0, 100 }, 1, 24, STAYS },
		{ "LLDP (ethertype 88cc, multicast)", 2, 0x88cc, 0, 0, 0, { 0 }, 0, 0, KERNEL },
		{ "802.1Q tagged to the port", 0, 0x8100, 0, 0, 0, { 0 }, 0, 0, KERNEL },
		{ "VRRP unicast to another host's MAC", 3, 0x0800, 5, 112, 0, { 198, 18, 0, 7 }, 0, 20,
		  STAYS },
	};
	return cr_make_param_array(struct frame_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct frame_case *c, exc, frames)
{
	int got = classify_frame(c);
	cr_assert_eq(got, c->want == KERNEL, "%s: %s", c->what, got ? "to the kernel" : "stays");
}

Test(exc, malformed_frame_stays)
{
	static const uint8_t host[4] = { 198, 18, 0, 3 };
	uint8_t f[64];
	eth(f, BCAST, 0x0800);
	ip4(f, 5, 112, 0, host, 20);
	f[14 + 10] ^= 0xff; /* a broken header checksum, even broadcast */
	struct xvs_pkt p;
	cr_assert_eq(xvs_parse(&p, f, 14 + 40), -1);
	cr_assert_eq(p.drop, XVS_DROP_IP_BAD_CSUM);
	cr_assert_not(xvs_exc_to_kernel((enum xvs_drop)p.drop, XVS_EXC_F_GROUP));
}

/* ---- rate limit ------------------------------------------------------------------------------ */

#define HZ 1000000000ULL /* a 1 GHz TSC: one cycle per ns */

Test(exc, bucket_burst_then_rate)
{
	struct xvs_exc_bucket b;
	xvs_exc_bucket_init(&b, 100, 5, HZ); /* one per 10 ms, 5 back to back */
	uint64_t t = 5 * HZ;
	for (int i = 0; i < 5; i++)
		cr_assert(xvs_exc_bucket_take(&b, t), "frame %d of the burst", i);
	cr_assert_not(xvs_exc_bucket_take(&b, t), "over the burst");
	cr_assert_not(xvs_exc_bucket_take(&b, t + HZ / 100 - 1), "before an interval");
	cr_assert(xvs_exc_bucket_take(&b, t + HZ / 100), "after an interval");
	cr_assert_not(xvs_exc_bucket_take(&b, t + HZ / 100));
	/* idle for a long time: the burst again, not more */
	t += 100 * HZ;
	int n = 0;
	while (xvs_exc_bucket_take(&b, t))
		n++;
	cr_assert_eq(n, 5);
}

Test(exc, bucket_long_run_average)
{
	struct xvs_exc_bucket b;
	xvs_exc_bucket_init(&b, 1000, 50, HZ);
	/* 10 s of offers at 5000/s: rate * 10 s plus the burst pass */
	unsigned passed = 0;
	for (uint64_t i = 0; i < 50000; i++)
		passed += (unsigned)xvs_exc_bucket_take(&b, HZ + i * (HZ / 5000));
	cr_assert(passed >= 10000 && passed <= 10000 + 50, "passed %u", passed);
	/* offers under the rate all pass */
	xvs_exc_bucket_init(&b, 1000, 1, HZ);
	for (uint64_t i = 0; i < 1000; i++)
		cr_assert(xvs_exc_bucket_take(&b, HZ + i * (HZ / 500)));
}

Test(exc, bucket_extremes)
{
	struct xvs_exc_bucket b;
	xvs_exc_bucket_init(&b, 10000000, 1, 1000); /* a rate above the clock's */
	cr_assert_eq(b.interval, 1);
	cr_assert(xvs_exc_bucket_take(&b, 1));
	xvs_exc_bucket_init(&b, 1, 65536, HZ);
	cr_assert_eq(b.tau, HZ * 65535);
	for (int i = 0; i < 65536; i++)
		cr_assert(xvs_exc_bucket_take(&b, 7 * HZ));
	cr_assert_not(xvs_exc_bucket_take(&b, 7 * HZ));
}

/* ---- the VIP set ------------------------------------------------------------------------------ */

static struct xvs_gen *gen_new(uint64_t n)
{
	struct xvs_gen *g = calloc(1, sizeof(*g));
	cr_assert_not_null(g);
	g->gen = n;
	return g;
}

static union xvs_ip v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	union xvs_ip x = { .d = { 0, 0 } };
	uint8_t *p = (uint8_t *)&x.v4;
	p[0] = a, p[1] = b, p[2] = c, p[3] = d;
	return x;
}

static void svc(struct xvs_gen *g, uint8_t af, union xvs_ip a, uint8_t state, uint32_t fwmark)
{
	struct xvs_svc *s = &g->svcs[g->nb_svcs++];
	s->state = state;
	s->af = af;
	s->addr = a;
	s->fwmark = fwmark;
}

static void mark(struct xvs_gen *g, uint8_t af, union xvs_ip prefix, uint8_t plen, uint16_t svc_plus1)
{
	struct xvs_mark_rule *r = &g->marks[g->nb_marks++];
	r->af = af;
	r->prefix = prefix;
	r->plen = plen;
	r->svc = svc_plus1;
}

static int has4(const struct xvs_vip_set *s, unsigned a, unsigned b, unsigned c, unsigned d)
{
	union xvs_ip x = v4((uint8_t)a, (uint8_t)b, (uint8_t)c, (uint8_t)d);
	return xvs_vip_set_has(s, XVS_AF_INET, &x);
}

Test(exc, vip_set_members)
{
	static struct xvs_vip_set s;
	struct xvs_gen *g = gen_new(7);
	union xvs_ip v6 = { .v6 = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x64 } };
	svc(g, XVS_AF_INET, v4(198, 18, 0, 100), XVS_SLOT_USED, 0);
	svc(g, XVS_AF_INET6, v6, XVS_SLOT_USED, 0);
	svc(g, XVS_AF_INET, v4(198, 18, 0, 101), XVS_SLOT_FREE, 0);  /* deleted service */
	svc(g, XVS_AF_INET, v4(0, 0, 0, 0), XVS_SLOT_USED, 5);       /* fwmark service */
	mark(g, XVS_AF_INET, v4(198, 18, 0, 102), 32, 4);             /* host rule to it */
	mark(g, XVS_AF_INET, v4(198, 18, 7, 0), 24, 4);               /* a routed prefix */
	mark(g, XVS_AF_INET, v4(198, 18, 0, 103), 32, 0);             /* no service */
	xvs_vip_set_build(&s, g);
	cr_assert_eq(s.gen, 7);
	cr_assert(has4(&s, 198, 18, 0, 100));
	cr_assert(xvs_vip_set_has(&s, XVS_AF_INET6, &v6));
	cr_assert(has4(&s, 198, 18, 0, 102));
	cr_assert_not(has4(&s, 198, 18, 0, 101));
	cr_assert_not(has4(&s, 198, 18, 7, 0));
	cr_assert_not(has4(&s, 198, 18, 0, 103));
	cr_assert_not(has4(&s, 198, 18, 0, 3));
	cr_assert_not(has4(&s, 0, 0, 0, 0));
	/* the family counts: the IPv6 VIP's bits are no IPv4 VIP */
	cr_assert_not(xvs_vip_set_has(&s, XVS_AF_INET, &v6));
	/* a new generation without the service: rebuilt, it is gone */
	struct xvs_gen *g2 = gen_new(8);
	svc(g2, XVS_AF_INET, v4(198, 18, 0, 110), XVS_SLOT_USED, 0);
	xvs_vip_set_build(&s, g2);
	cr_assert_not(has4(&s, 198, 18, 0, 100));
	cr_assert(has4(&s, 198, 18, 0, 110));
	free(g);
	free(g2);
}

Test(exc, vip_set_full_generation)
{
	static struct xvs_vip_set s;
	struct xvs_gen *g = gen_new(1);
	for (unsigned i = 0; i < XVS_MAX_SVCS; i++)
		svc(g, XVS_AF_INET, v4(198, 18, (uint8_t)(i >> 8), (uint8_t)i), XVS_SLOT_USED, 0);
	for (unsigned i = 0; i < XVS_MAX_MARKS; i++)
		mark(g, XVS_AF_INET, v4(198, 19, 200, (uint8_t)i), 32, 1);
	xvs_vip_set_build(&s, g);
	for (unsigned i = 0; i < XVS_MAX_SVCS; i++)
		cr_assert(has4(&s, 198, 18, (uint8_t)(i >> 8), (uint8_t)i));
	for (unsigned i = 0; i < XVS_MAX_MARKS; i++)
		cr_assert(has4(&s, 198, 19, 200, (uint8_t)i));
	for (unsigned i = 0; i < 256; i++)
		cr_assert_not(has4(&s, 198, 19, 100, (uint8_t)i));
	free(g);
}

/* ---- configuration keys (dataplane/dp_config.c) ------------------------------------------- */

static struct xvs_dp cfg_dp;
static struct xvs_cfg_extra cfg_extra;
static char cfg_msg[512];

/* Load a file with the given port sections (after a minimal [dataplane]). */
static int load_ports(const char *ports)
{
	char path[] = "/tmp/xvs-exc-cfg-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fprintf(f, "[dataplane]\nlcores = 0\n%s\n", ports);
	fclose(f);
	cfg_msg[0] = 0;
	int rc = xvs_config_load(path, &cfg_dp, &cfg_extra, cfg_msg, sizeof(cfg_msg));
	unlink(path);
	return rc;
}

#define LAN "[port lan]\ndev = net_af_packet0,iface=lan\n"

Test(exc, config_defaults_and_values)
{
	cr_assert_eq(load_ports(LAN), 0, "%s", cfg_msg);
	cr_assert_not(cfg_dp.ports[0].exc, "off unless asked for");
	cr_assert_eq(load_ports(LAN "exception = yes\n"), 0, "%s", cfg_msg);
	cr_assert(cfg_dp.ports[0].exc);
	cr_assert_str_eq(cfg_dp.ports[0].exc_name, "xvs-lan");
	cr_assert_eq(cfg_dp.ports[0].exc_rate, XVS_EXC_RATE_DEFAULT);
	cr_assert_eq(cfg_dp.ports[0].exc_burst, XVS_EXC_BURST_DEFAULT);
	cr_assert_eq(load_ports(LAN "exception_name = xvs0\nexception_rate = 20\nexception_burst = 5\n"
				    "exception = yes\n"), 0, "%s", cfg_msg); /* any order */
	cr_assert_str_eq(cfg_dp.ports[0].exc_name, "xvs0");
	cr_assert_eq(cfg_dp.ports[0].exc_rate, 20);
	cr_assert_eq(cfg_dp.ports[0].exc_burst, 5);
	cr_assert_eq(load_ports(LAN "exception = yes\nexception_name = abcdefghijklmno\n"
				    "exception_rate = 10000000\nexception_burst = 65536\n"), 0, "%s", cfg_msg);
	cr_assert_eq(load_ports("[port a-very-long]\ndev = net_ring0\nexception = yes\n"), 0, "%s", cfg_msg);
	cr_assert_str_eq(cfg_dp.ports[0].exc_name, "xvs-a-very-long"); /* 15: the most there is */
	cr_assert_eq(load_ports(LAN "exception = no\n"), 0, "%s", cfg_msg);
	cr_assert_not(cfg_dp.ports[0].exc);
}

/* Inline strings: Criterion runs each case in another process, where pointers into this one mean nothing. */
struct bad_cfg {
	char ports[256];
	char msg[128];
};

ParameterizedTestParameters(exc, config_refused)
{
	static struct bad_cfg cases[] = {
		{ LAN "exception = maybe\n", "exception 'maybe' must be yes or no" },
		{ LAN "exception = yes\nexception_name = a,b\n", "bad exception_name 'a,b' on port lan" },
		{ LAN "exception = yes\nexception_name = x=1\n", "bad exception_name" },
		{ LAN "exception = yes\nexception_name = abcdefghijklmnop\n", "bad exception_name" },
		{ LAN "exception = yes\nexception_name = ..\n", "bad exception_name" },
		{ LAN "exception = yes\nexception_name = a/b\n", "bad exception_name" },
		{ LAN "exception = yes\nexception_rate = 0\n", "bad exception_rate '0' on port lan" },
		{ LAN "exception = yes\nexception_rate = 10000001\n", "bad exception_rate" },
		{ LAN "exception = yes\nexception_rate = 5k\n", "bad exception_rate" },
		{ LAN "exception = yes\nexception_burst = 0\n", "bad exception_burst '0' on port lan" },
		{ LAN "exception = yes\nexception_burst = 65537\n", "bad exception_burst" },
		{ LAN "exception_name = xvs0\n", "port lan: exception_name, exception_rate, "
						  "exception_burst and vip_neigh = kernel need exception = yes" },
		{ LAN "exception_rate = 10\n", "need exception = yes" },
		{ LAN "vip_neigh = kernel\n", "need exception = yes" },
		{ LAN "exception = yes\nvip_neigh = maybe\n", "must be xvs or kernel" },
		{ LAN "exception = no\nexception_burst = 10\n", "need exception = yes" },
		{ LAN "exception = yes\nexception_name = lan\n",
		  "exception_name lan is already the interface of port lan" },
		{ LAN "exception = yes\nexception_name = xvs0\n"
		      "[port srv]\ndev = net_af_packet1,iface=srv\nexception = yes\nexception_name = xvs0\n",
		  "exception_name xvs0 is already the exception interface of port" },
		{ LAN "[port srv]\ndev = net_af_packet1,iface=xvs-lan\n" "[port lan]\nexception = yes\n",
		  "exception_name xvs-lan is already the interface of port srv" },
		{ "[port averylongname]\ndev = net_ring0\nexception = yes\n",
		  "the default exception_name xvs-averylongname is too long for the kernel: set exception_name" },
	};
	return cr_make_param_array(struct bad_cfg, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_cfg *c, exc, config_refused)
{
	cr_assert_eq(load_ports(c->ports), -EINVAL, "accepted: %s", c->ports);
	cr_assert(strstr(cfg_msg, c->msg), "message '%s', want '%s'", cfg_msg, c->msg);
}
