/* Entry points of the real-server decapsulator (IPIP and GUE), for tc ingress and XDP. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xvs_decap_consts.h"
#include "xvs_decap_maps.h"
#include "xvs_decap_parse.h"
#include "xvs_decap.h"

/* The kernel requires a GPL-compatible license string for some helpers. */
char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* tc clsact ingress, direct action: always TC_ACT_OK, decapsulated or not. */
SEC("tc")
int xvs_decap_tc_in(struct __sk_buff *skb)
{
	struct xvs_decap_req req = {};
	__u32 want;
	int verdict;

	verdict = xvs_decap_parse((void *)(long)skb->data, (void *)(long)skb->data_end,
				  skb->len, &req);
	if (verdict == XVS_DECAP_V_SHORT) {
		/* Headers in the skb's pages: make them linear once and look again. */
		want = skb->len < XVS_DECAP_PULL_LEN ? skb->len : XVS_DECAP_PULL_LEN;
		verdict = XVS_DECAP_V_MALFORMED;
		if (!bpf_skb_pull_data(skb, want))
			verdict = xvs_decap_parse((void *)(long)skb->data,
						  (void *)(long)skb->data_end, skb->len, &req);
		if (verdict == XVS_DECAP_V_SHORT)
			verdict = XVS_DECAP_V_MALFORMED;
	}
	return xvs_decap_tc(skb, verdict, &req);
}

/* XDP: the frame is linear, so a header that does not fit is truncated. */
SEC("xdp")
int xvs_decap_xdp_in(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xvs_decap_req req = {};
	int verdict;

	verdict = xvs_decap_parse(data, data_end, (__u32)(data_end - data), &req);
	return xvs_decap_xdp(ctx, verdict, &req);
}
