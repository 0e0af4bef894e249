/*
 * ICMP and ICMPv6 (dp_icmp.c): echo for owned addresses, the errors xvs sends, the errors it
 * relays for a connection, and the exception path's dispatch. Worker lcores.
 */
#ifndef XVS_DP_ICMP_H
#define XVS_DP_ICMP_H

#include "dp_path.h"

/* m's TTL or hop limit ran out here: a time exceeded to its sender (rate-limited; never for
 * an ICMP error), and m is dropped as ttl-exceeded. */
void xvs_ttl_expired(struct xvs_worker *w, const struct xvs_gen *g, struct rte_mbuf *m,
		     const struct xvs_pkt *p);

/* Not a connection's packet and no service: ICMP to us, ICMP errors, ND (dp_neighproto.c), drops. */
void xvs_exception_ip(struct xvs_worker *w, const struct xvs_gen *g, uint16_t in_port,
		      struct rte_mbuf *m, const struct xvs_pkt *p);
void xvs_send_frag_needed(struct xvs_worker *w, struct rte_mbuf *orig, const struct xvs_pkt *p,
			  uint16_t mtu);
void xvs_send_pkt_too_big(struct xvs_worker *w, struct rte_mbuf *orig, const struct xvs_pkt *p,
			  uint32_t mtu);

#endif
