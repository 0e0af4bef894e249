/* Header parsing of the decapsulator, shared by the tc and XDP entry points. */
#ifndef XVS_DECAP_PARSE_H
#define XVS_DECAP_PARSE_H

#include "xvs_decap_consts.h"
#include "xvs_decap_maps.h"

enum xvs_decap_verdict {
	XVS_DECAP_V_DECAP,     /* ours and well formed: strip req->strip bytes */
	XVS_DECAP_V_PASS,      /* not ours: leave untouched */
	XVS_DECAP_V_MALFORMED, /* ours (or unparseable) but inconsistent: leave to the kernel */
	XVS_DECAP_V_FRAGMENT,  /* an outer fragment of a tunnel packet */
	XVS_DECAP_V_SHORT,     /* a header lies past the linear data: pull and parse again */
};

/* What the parser found, for the decap stage. */
struct xvs_decap_req {
	__u32 strip;       /* bytes between the Ethernet header and the inner IP header */
	__u16 outer_proto; /* XVS_ETH_P_* of the outer header */
	__u16 inner_proto; /* XVS_ETH_P_* of the inner header */
	__u32 counter;     /* XVS_DECAP_CNT_DECAP_IPIP or XVS_DECAP_CNT_DECAP_GUE */
};

/*
 * A header did not fit in [data, data_end). An skb whose length (pkt_len) is larger than
 * its linear part may hold it in its pages; otherwise the packet really is truncated.
 */
static __always_inline int xvs_decap_short(void *data, void *data_end, __u32 pkt_len)
{
	return (__u32)(data_end - data) < pkt_len ? XVS_DECAP_V_SHORT : XVS_DECAP_V_MALFORMED;
}

static __always_inline int xvs_decap_is_tunnel_proto(__u8 proto)
{
	return proto == XVS_IPPROTO_IPIP || proto == XVS_IPPROTO_IPV6 || proto == XVS_IPPROTO_UDP;
}

static __always_inline int xvs_decap_is_local_v4(__u32 daddr)
{
	struct xvs_decap_addr key = { .family = XVS_DECAP_FAMILY_V4 };

	key.addr[0] = daddr;
	return bpf_map_lookup_elem(&decap_locals, &key) != NULL;
}

static __always_inline int xvs_decap_is_local_v6(const struct in6_addr *daddr)
{
	struct xvs_decap_addr key = { .family = XVS_DECAP_FAMILY_V6 };

	__builtin_memcpy(key.addr, daddr, sizeof(key.addr));
	return bpf_map_lookup_elem(&decap_locals, &key) != NULL;
}

/*
 * The inner header starts `off` bytes after the Ethernet header and the outer header
 * says `avail` bytes are there: it must be whole and of the announced family.
 */
static __always_inline int xvs_decap_check_inner(void *data, void *data_end, __u32 pkt_len,
						 __u32 off, __u32 avail, struct xvs_decap_req *req)
{
	__u8 *inner;

	if (off > XVS_DECAP_PULL_LEN) /* also bounds the offset for the verifier */
		return XVS_DECAP_V_MALFORMED;
	inner = data + XVS_ETH_HLEN + off;
	if (req->inner_proto == XVS_ETH_P_IP) {
		if ((void *)(inner + XVS_IPV4_HLEN_MIN) > data_end)
			return xvs_decap_short(data, data_end, pkt_len);
		if (avail < XVS_IPV4_HLEN_MIN || (inner[0] >> 4) != 4)
			return XVS_DECAP_V_MALFORMED;
	} else {
		if ((void *)(inner + XVS_IPV6_HLEN) > data_end)
			return xvs_decap_short(data, data_end, pkt_len);
		if (avail < XVS_IPV6_HLEN || (inner[0] >> 4) != 6)
			return XVS_DECAP_V_MALFORMED;
	}
	req->strip = off;
	return XVS_DECAP_V_DECAP;
}

/*
 * GUE in the UDP datagram after an outer header of `hl` bytes; `len` bytes follow that
 * header by its own length field. Only the configured destination port is GUE; the
 * source port varies per flow (it carries the flow's entropy) and is not looked at.
 */
static __always_inline int xvs_decap_parse_gue(void *data, void *data_end, __u32 pkt_len,
					       __u32 hl, __u32 len, struct xvs_decap_req *req)
{
	struct xvs_decap_config *cfg;
	struct udphdr *udp;
	__u32 zero = 0, ulen, ghl;
	__u8 *gue;

	udp = data + XVS_ETH_HLEN + hl;
	if ((void *)(udp + 1) > data_end)
		return xvs_decap_short(data, data_end, pkt_len);
	cfg = bpf_map_lookup_elem(&decap_config, &zero);
	if (!cfg || !cfg->gue_port || udp->dest != cfg->gue_port)
		return XVS_DECAP_V_PASS;
	ulen = bpf_ntohs(udp->len);
	if (ulen <= XVS_UDP_HLEN || ulen > len)
		return XVS_DECAP_V_MALFORMED;
	gue = (__u8 *)(udp + 1);
	if ((void *)(gue + 1) > data_end)
		return xvs_decap_short(data, data_end, pkt_len);
	req->counter = XVS_DECAP_CNT_DECAP_GUE;
	switch (gue[0] >> XVS_GUE_VARIANT_SHIFT) {
	case 1: /* direct IP: the payload is the inner packet */
		req->inner_proto = (gue[0] >> 4) == 6 ? XVS_ETH_P_IPV6 : XVS_ETH_P_IP;
		return xvs_decap_check_inner(data, data_end, pkt_len, hl + XVS_UDP_HLEN,
					     ulen - XVS_UDP_HLEN, req);
	case 0:
		if ((void *)(gue + XVS_GUE_HLEN) > data_end)
			return xvs_decap_short(data, data_end, pkt_len);
		/* Control messages and payloads other than IP are not ours to deliver. */
		if ((gue[0] & XVS_GUE_C_BIT) ||
		    (gue[1] != XVS_IPPROTO_IPIP && gue[1] != XVS_IPPROTO_IPV6))
			return XVS_DECAP_V_PASS;
		ghl = XVS_GUE_HLEN + (gue[0] & XVS_GUE_HLEN_MASK) * 4;
		if (ulen < XVS_UDP_HLEN + ghl)
			return XVS_DECAP_V_MALFORMED;
		req->inner_proto = gue[1] == XVS_IPPROTO_IPIP ? XVS_ETH_P_IP : XVS_ETH_P_IPV6;
		return xvs_decap_check_inner(data, data_end, pkt_len, hl + XVS_UDP_HLEN + ghl,
					     ulen - XVS_UDP_HLEN - ghl, req);
	default:
		return XVS_DECAP_V_MALFORMED;
	}
}

/* The payload of a local outer header of `hl` bytes, `len` bytes long, protocol `proto`. */
static __always_inline int xvs_decap_parse_l4(void *data, void *data_end, __u32 pkt_len,
					      __u8 proto, __u32 hl, __u32 len,
					      struct xvs_decap_req *req)
{
	if (proto == XVS_IPPROTO_UDP)
		return xvs_decap_parse_gue(data, data_end, pkt_len, hl, len, req);
	req->counter = XVS_DECAP_CNT_DECAP_IPIP;
	req->inner_proto = proto == XVS_IPPROTO_IPIP ? XVS_ETH_P_IP : XVS_ETH_P_IPV6;
	return xvs_decap_check_inner(data, data_end, pkt_len, hl, len, req);
}

static __always_inline int xvs_decap_parse_v4(void *data, void *data_end, __u32 pkt_len,
					      struct xvs_decap_req *req)
{
	struct iphdr *iph = data + XVS_ETH_HLEN;
	__u32 hl, tot;

	if ((void *)(iph + 1) > data_end)
		return xvs_decap_short(data, data_end, pkt_len);
	if (iph->version != 4 || iph->ihl < 5)
		return XVS_DECAP_V_MALFORMED;
	if (!xvs_decap_is_tunnel_proto(iph->protocol) || !xvs_decap_is_local_v4(iph->daddr))
		return XVS_DECAP_V_PASS;
	hl = iph->ihl * 4;
	tot = bpf_ntohs(iph->tot_len);
	if (tot < hl || tot + XVS_ETH_HLEN > pkt_len)
		return XVS_DECAP_V_MALFORMED;
	if (iph->frag_off & bpf_htons(XVS_IP_MF | XVS_IP_OFFSET))
		return XVS_DECAP_V_FRAGMENT;
	req->outer_proto = XVS_ETH_P_IP;
	return xvs_decap_parse_l4(data, data_end, pkt_len, iph->protocol, hl, tot - hl, req);
}

/* Extension headers are not walked: LVS-TUN senders put the tunnel payload right after. */
static __always_inline int xvs_decap_parse_v6(void *data, void *data_end, __u32 pkt_len,
					      struct xvs_decap_req *req)
{
	struct ipv6hdr *ip6h = data + XVS_ETH_HLEN;
	__u8 nexthdr;
	__u32 plen;

	if ((void *)(ip6h + 1) > data_end)
		return xvs_decap_short(data, data_end, pkt_len);
	if (ip6h->version != 6)
		return XVS_DECAP_V_MALFORMED;
	nexthdr = ip6h->nexthdr;
	if (!xvs_decap_is_tunnel_proto(nexthdr) && nexthdr != XVS_IPPROTO_FRAGMENT)
		return XVS_DECAP_V_PASS;
	if (!xvs_decap_is_local_v6(&ip6h->daddr))
		return XVS_DECAP_V_PASS;
	if (nexthdr == XVS_IPPROTO_FRAGMENT) {
		__u8 *frag = (__u8 *)(ip6h + 1);

		if ((void *)(frag + 8) > data_end)
			return xvs_decap_short(data, data_end, pkt_len);
		return xvs_decap_is_tunnel_proto(frag[0]) ? XVS_DECAP_V_FRAGMENT : XVS_DECAP_V_PASS;
	}
	plen = bpf_ntohs(ip6h->payload_len);
	if (XVS_ETH_HLEN + XVS_IPV6_HLEN + plen > pkt_len)
		return XVS_DECAP_V_MALFORMED;
	req->outer_proto = XVS_ETH_P_IPV6;
	return xvs_decap_parse_l4(data, data_end, pkt_len, nexthdr, XVS_IPV6_HLEN, plen, req);
}

/*
 * Classify the frame in [data, data_end); pkt_len is its full length (larger than the
 * span for a non-linear skb). Fills req when the verdict is XVS_DECAP_V_DECAP.
 */
static __always_inline int xvs_decap_parse(void *data, void *data_end, __u32 pkt_len,
					   struct xvs_decap_req *req)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return xvs_decap_short(data, data_end, pkt_len);
	if (eth->h_proto == bpf_htons(XVS_ETH_P_IP))
		return xvs_decap_parse_v4(data, data_end, pkt_len, req);
	if (eth->h_proto == bpf_htons(XVS_ETH_P_IPV6))
		return xvs_decap_parse_v6(data, data_end, pkt_len, req);
	return XVS_DECAP_V_PASS;
}

#endif
