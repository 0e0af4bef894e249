/* Neighbour Discovery messages: what xvs builds parses back, checksums verify, bad ones are refused. */
#include <criterion/criterion.h>
#include <string.h>

#include "dp_nd.h"

static const union xvs_ip A = { .v6 = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } };
static const union xvs_ip B = { .v6 = { 0x20, 0x01, 0x0d, 0xb8, [13] = 0xab, [14] = 0xcd, [15] = 2 } };
static const struct rte_ether_addr MAC = { .addr_bytes = { 0x02, 0, 0, 0, 0, 0x42 } };

/* Independent ICMPv6 checksum check: the sum over pseudo-header and message must be 0xffff. */
static int cksum_ok(const union xvs_ip *src, const union xvs_ip *dst, const uint8_t *msg, uint32_t len)
{
	uint32_t s = 0;
	for (int i = 0; i < 16; i += 2) {
		s += (uint32_t)src->v6[i] << 8 | src->v6[i + 1];
		s += (uint32_t)dst->v6[i] << 8 | dst->v6[i + 1];
	}
	s += len + 58;
	for (uint32_t i = 0; i < len; i += 2)
		s += (uint32_t)msg[i] << 8 | (i + 1 < len ? msg[i + 1] : 0);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s == 0xffff;
}

Test(nd, solicitation_round_trip)
{
	uint8_t msg[XVS_ND_MSG_LEN];
	union xvs_ip mc;
	struct rte_ether_addr mmac;
	xvs_nd_solicited_node(&B, &mc, &mmac);
	cr_assert_eq(mc.v6[0], 0xff);
	cr_assert_eq(mc.v6[1], 0x02);
	cr_assert_eq(mc.v6[11], 1);
	cr_assert_eq(mc.v6[12], 0xff);
	cr_assert_eq(memcmp(mc.v6 + 13, B.v6 + 13, 3), 0);
	cr_assert_eq(mmac.addr_bytes[0], 0x33);
	cr_assert_eq(memcmp(mmac.addr_bytes + 2, mc.v6 + 12, 4), 0);

	xvs_nd_build(msg, XVS_ND_NS, 0, &B, &MAC, &A, &mc);
	cr_assert(cksum_ok(&A, &mc, msg, sizeof(msg)));
	struct xvs_nd_info nd;
	cr_assert_eq(xvs_nd_parse(msg, sizeof(msg), 255, &nd), 0);
	cr_assert_eq(nd.type, XVS_ND_NS);
	cr_assert(xvs_ip_eq(&nd.target, &B));
	cr_assert(nd.has_lladdr);
	cr_assert(rte_is_same_ether_addr(&nd.lladdr, &MAC));
}

Test(nd, advertisement_round_trip)
{
	uint8_t msg[XVS_ND_MSG_LEN];
	xvs_nd_build(msg, XVS_ND_NA, XVS_ND_NA_S | XVS_ND_NA_O, &A, &MAC, &A, &B);
	cr_assert(cksum_ok(&A, &B, msg, sizeof(msg)));
	cr_assert_eq(msg[24], XVS_ND_OPT_TLL);
	struct xvs_nd_info nd;
	cr_assert_eq(xvs_nd_parse(msg, sizeof(msg), 255, &nd), 0);
	cr_assert_eq(nd.type, XVS_ND_NA);
	cr_assert_eq(nd.flags, XVS_ND_NA_S | XVS_ND_NA_O);
	cr_assert(nd.has_lladdr);
}

/* RFC 4861 §7.1.1: what a node must silently discard. */
Test(nd, refused)
{
	uint8_t msg[XVS_ND_MSG_LEN + 8];
	struct xvs_nd_info nd;
	xvs_nd_build(msg, XVS_ND_NS, 0, &B, &MAC, &A, &B);
	cr_assert_eq(xvs_nd_parse(msg, XVS_ND_MSG_LEN, 254, &nd), -1, "hop limit below 255");
	cr_assert_eq(xvs_nd_parse(msg, 23, 255, &nd), -1, "shorter than 24 bytes");
	msg[1] = 1;
	cr_assert_eq(xvs_nd_parse(msg, XVS_ND_MSG_LEN, 255, &nd), -1, "code not 0");
	msg[1] = 0;
	msg[25] = 0;
	cr_assert_eq(xvs_nd_parse(msg, XVS_ND_MSG_LEN, 255, &nd), -1, "option of length 0");
	msg[25] = 2;
	cr_assert_eq(xvs_nd_parse(msg, XVS_ND_MSG_LEN, 255, &nd), -1, "option past the end");
	msg[25] = 1;
	msg[8] = 0xff;
	cr_assert_eq(xvs_nd_parse(msg, XVS_ND_MSG_LEN, 255, &nd), -1, "multicast target");
	msg[8] = 0x20;
	msg[0] = 134;
	cr_assert_eq(xvs_nd_parse(msg, XVS_ND_MSG_LEN, 255, &nd), -1, "not NS/NA");
}

/* Options are walked whatever they hold; the one wanted is found after others. */
Test(nd, options_walk)
{
	uint8_t msg[24 + 16 + 8];
	memset(msg, 0, sizeof(msg));
	msg[0] = XVS_ND_NS;
	memcpy(msg + 8, B.v6, 16);
	msg[24] = 14; /* nonce option, 16 bytes */
	msg[25] = 2;
	msg[40] = XVS_ND_OPT_SLL;
	msg[41] = 1;
	memcpy(msg + 42, MAC.addr_bytes, 6);
	struct xvs_nd_info nd;
	cr_assert_eq(xvs_nd_parse(msg, sizeof(msg), 255, &nd), 0);
	cr_assert(nd.has_lladdr);
	cr_assert(rte_is_same_ether_addr(&nd.lladdr, &MAC));
	/* every truncation of it is either refused or still consistent */
	for (uint32_t len = 0; len < sizeof(msg); len++) {
		uint8_t *exact = malloc(len ? len : 1);
		memcpy(exact, msg, len);
		if (xvs_nd_parse(exact, len, 255, &nd) == 0)
			cr_assert(len >= 24 && (len == 24 || len == 40));
		free(exact);
	}
}
