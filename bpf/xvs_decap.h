/* The decapsulation stage: strip the outer headers the parser measured, tc and XDP flavours. */
#ifndef XVS_DECAP_H
#define XVS_DECAP_H

#include "xvs_decap_consts.h"
#include "xvs_decap_maps.h"
#include "xvs_decap_parse.h"

static __always_inline void xvs_decap_count(__u32 counter)
{
	__u64 *c = bpf_map_lookup_elem(&decap_stats, &counter);

	if (c)
		*c += 1; /* per-CPU slot: no other writer */
}

/* Count a verdict other than DECAP; the packet goes on untouched. */
static __always_inline void xvs_decap_count_verdict(int verdict)
{
	if (verdict == XVS_DECAP_V_FRAGMENT)
		xvs_decap_count(XVS_DECAP_CNT_FRAGMENT);
	else if (verdict == XVS_DECAP_V_PASS)
		xvs_decap_count(XVS_DECAP_CNT_PASSED);
	else
		xvs_decap_count(XVS_DECAP_CNT_MALFORMED);
}

/*
 * tc ingress: remove req->strip bytes after the MAC header. The inner packet keeps the
 * skb's GSO size (FIXED_GSO: the payload per segment did not change); a different inner
 * family is announced to the stack through skb->protocol (DECAP_L3 flag) and to anyone
 * reading the frame through the Ethernet type. Removing an outer UDP header also removes
 * one checksum the NIC may have verified, so the verified level drops by one.
 */
static __always_inline int xvs_decap_tc(struct __sk_buff *skb, int verdict,
					const struct xvs_decap_req *req)
{
	__u64 flags = XVS_ADJ_ROOM_FIXED_GSO;
	__be16 proto;

	if (verdict != XVS_DECAP_V_DECAP) {
		xvs_decap_count_verdict(verdict);
		return XVS_TC_ACT_OK;
	}
	if (req->inner_proto != req->outer_proto)
		flags |= req->inner_proto == XVS_ETH_P_IP ? XVS_ADJ_ROOM_DECAP_L3_IPV4 :
							    XVS_ADJ_ROOM_DECAP_L3_IPV6;
	if (bpf_skb_adjust_room(skb, -(__s32)req->strip, BPF_ADJ_ROOM_MAC, flags)) {
		xvs_decap_count(XVS_DECAP_CNT_ERROR);
		return XVS_TC_ACT_OK;
	}
	if (req->counter == XVS_DECAP_CNT_DECAP_GUE)
		bpf_csum_level(skb, XVS_CSUM_LEVEL_DEC);
	if (req->inner_proto != req->outer_proto) {
		proto = bpf_htons(req->inner_proto);
		bpf_skb_store_bytes(skb, __builtin_offsetof(struct ethhdr, h_proto), &proto,
				    sizeof(proto), 0);
	}
	xvs_decap_count(req->counter);
	return XVS_TC_ACT_OK;
}

/*
 * XDP: move the frame start past the outer headers and write the saved Ethernet header
 * in front of the inner packet; the driver builds the skb from that frame.
 */
static __always_inline int xvs_decap_xdp(struct xdp_md *ctx, int verdict,
					 const struct xvs_decap_req *req)
{
	struct ethhdr eth, *neth;
	void *data, *data_end;

	if (verdict != XVS_DECAP_V_DECAP) {
		xvs_decap_count_verdict(verdict);
		return XDP_PASS;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + sizeof(eth) > data_end) /* checked by the parser; the verifier wants it here */
		return XDP_PASS;
	__builtin_memcpy(&eth, data, sizeof(eth));
	if (bpf_xdp_adjust_head(ctx, (int)req->strip)) {
		xvs_decap_count(XVS_DECAP_CNT_ERROR);
		return XDP_PASS;
	}
	neth = (void *)(long)ctx->data;
	if ((void *)(neth + 1) > (void *)(long)ctx->data_end) {
		/* Cannot happen (the inner header was checked), but the frame is now cut. */
		xvs_decap_count(XVS_DECAP_CNT_ERROR);
		return XDP_DROP;
	}
	__builtin_memcpy(neth, &eth, sizeof(eth));
	neth->h_proto = bpf_htons(req->inner_proto);
	xvs_decap_count(req->counter);
	return XDP_PASS;
}

#endif
