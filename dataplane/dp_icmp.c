/*
 * ICMP and ICMPv6: echo for owned addresses, the errors xvs sends itself (fragmentation
 * needed, packet too big, time exceeded with its rate limit), the relaying of errors that
 * quote a connection, and the exception path's dispatch of what is neither a connection's
 * packet nor a service's (ND to dp_neighproto.c; what nothing consumes to the port's kernel
 * interface where there is one, dp_exc.c, else dropped). Worker lcores.
 */
#include <rte_icmp.h>
#include <rte_ip.h>

#include "dp_addr.h"
#include "dp_csum.h"
#include "dp_icmp.h"
#include "dp_nat.h"
#include "dp_nd.h"
#include "dp_neighproto.h"
#include "dp_xmit.h"
#include "xvs/gen.h"

#define XVS_ICMP_DEST_UNREACH 3
#define XVS_ICMP_FRAG_NEEDED 4

/* ---- ICMP to owned addresses ---------------------------------------------------------- */

static void handle_icmp_local(struct xvs_worker *w, const struct xvs_gen *g, uint16_t in_port,
			      struct rte_mbuf *m, const struct xvs_pkt *p)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, p->l3_off);
	struct rte_icmp_hdr *ic = rte_pktmbuf_mtod_offset(m, struct rte_icmp_hdr *, p->l4_off);
	if (ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || ic->icmp_code != 0)
		return xvs_unconsumed(w, g, in_port, m, XVS_DROP_ICMP_UNSUPPORTED);
	ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	ic->icmp_cksum = xvs_csum_replace2(ic->icmp_cksum, rte_cpu_to_be_16(RTE_IP_ICMP_ECHO_REQUEST << 8),
					   rte_cpu_to_be_16(RTE_IP_ICMP_ECHO_REPLY << 8));
	uint32_t s = ip->src_addr;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = s;
	ip->time_to_live = 64;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	eth->dst_addr = eth->src_addr;
	eth->src_addr = w->dp->ports[in_port].mac;
	w->st->icmp_echo_replies++;
	enqueue(w, in_port, m);
}

/*
 * An ICMP error (type, code, the 4 bytes after the checksum in rest_be) from src to the
 * sender of orig, quoting qlen bytes of it from its IP header. No mbuf left: none is sent.
 */
static void icmp4_error(struct xvs_worker *w, const struct rte_mbuf *orig, const struct xvs_pkt *p,
			uint32_t src, uint8_t tos, uint8_t type, uint8_t code, uint32_t rest_be,
			uint32_t qlen)
{
	const struct rte_ipv4_hdr *oip = rte_pktmbuf_mtod_offset(orig, const struct rte_ipv4_hdr *, p->l3_off);
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);
	char *d = m ? rte_pktmbuf_append(m, (uint16_t)(RTE_ETHER_HDR_LEN + 28 + qlen)) : NULL;
	if (!d) {
		rte_pktmbuf_free(m);
		return;
	}
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)d;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)(ip + 1);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	*ip = (struct rte_ipv4_hdr){
		.version_ihl = RTE_IPV4_VHL_DEF, .type_of_service = tos,
		.total_length = rte_cpu_to_be_16((uint16_t)(28 + qlen)),
		.time_to_live = 64, .next_proto_id = IPPROTO_ICMP,
		.src_addr = src, .dst_addr = oip->src_addr,
	};
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	*ic = (struct rte_icmp_hdr){ .icmp_type = type, .icmp_code = code };
	memcpy(&ic->icmp_ident, &rest_be, 4);
	memcpy(ic + 1, oip, qlen);
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, sizeof(*ic) + qlen);
	xmit4(w, m, oip->src_addr);
}

/*
 * The ICMPv6 counterpart, from src, quoting as much of orig as keeps the error within the
 * minimum MTU (RFC 4443 2.4 c).
 */
static void icmp6_error(struct xvs_worker *w, const struct rte_mbuf *orig, const struct xvs_pkt *p,
			const union xvs_ip *src, uint8_t type, uint32_t rest_be)
{
	const uint8_t *oip = rte_pktmbuf_mtod_offset(orig, const uint8_t *, p->l3_off);
	uint32_t qlen = RTE_MIN((uint32_t)p->ip_len, 1280u - XVS_IP6_HLEN - 8u);
	qlen = RTE_MIN(qlen, (uint32_t)rte_pktmbuf_data_len(orig) - p->l3_off);
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);
	uint8_t *d = m ? (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(RTE_ETHER_HDR_LEN + XVS_IP6_HLEN + 8 + qlen)) : NULL;
	if (!d) {
		rte_pktmbuf_free(m);
		return;
	}
	union xvs_ip dst;
	memcpy(dst.v6, oip + XVS_IP6_SRC_OFF, 16);
	((struct rte_ether_hdr *)d)->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
	uint8_t *l3 = d + RTE_ETHER_HDR_LEN, *ic = l3 + XVS_IP6_HLEN;
	ip6_fill(l3, (uint16_t)(8 + qlen), IPPROTO_ICMPV6, 64, src, &dst);
	memset(ic, 0, 8);
	ic[0] = type;
	memcpy(ic + 4, &rest_be, 4);
	memcpy(ic + 8, oip, qlen);
	uint16_t ck = xvs_icmp6_cksum(src, &dst, ic, 8 + qlen, IPPROTO_ICMPV6);
	memcpy(ic + 2, &ck, 2);
	xmit6(w, m, &dst);
}

/*
 * ICMP "fragmentation needed" (RFC 792/1191) to the sender of orig, which does not fit a
 * tunnel towards the real server, from the address it was sent to, quoting its IP header and
 * 8 bytes; orig is dropped. Never about ICMP.
 */
void xvs_send_frag_needed(struct xvs_worker *w, struct rte_mbuf *orig, const struct xvs_pkt *p,
			  uint16_t mtu)
{
	const struct rte_ipv4_hdr *oip = rte_pktmbuf_mtod_offset(orig, const struct rte_ipv4_hdr *, p->l3_off);
	if (p->proto != IPPROTO_ICMP)
		icmp4_error(w, orig, p, oip->dst_addr, 0xc0, XVS_ICMP_DEST_UNREACH, XVS_ICMP_FRAG_NEEDED,
			    rte_cpu_to_be_32(mtu), sizeof(*oip) + 8);
	drop(w, orig, XVS_DROP_TOO_BIG);
}

/*
 * ICMPv6 "packet too big" (RFC 4443 §3.2) to the sender of orig, from the address it sent to;
 * orig is dropped. Never about ICMPv6.
 */
void xvs_send_pkt_too_big(struct xvs_worker *w, struct rte_mbuf *orig, const struct xvs_pkt *p,
			  uint32_t mtu)
{
	if (p->proto != IPPROTO_ICMPV6) {
		union xvs_ip src;
		memcpy(src.v6, rte_pktmbuf_mtod_offset(orig, const uint8_t *, p->l3_off + XVS_IP6_DST_OFF), 16);
		icmp6_error(w, orig, p, &src, XVS_ICMP6_PKT_TOO_BIG, rte_cpu_to_be_32(mtu));
	}
	drop(w, orig, XVS_DROP_TOO_BIG);
}

/* ---- time exceeded ------------------------------------------------------------------- */

#define XVS_ICMP_TIME_EXCEEDED 11
#define ICMP_PEER_COST_MS  1000u /* Linux's icmp_ratelimit / icmpv6 ratelimit */
#define ICMP_PEER_BURST_MS 6000u /* its XRLIM_BURST_FACTOR of 6 */
#define ICMP_ALL_BURST     50u   /* icmp_msgs_burst; icmp_msgs_per_sec 1000: one per ms */

/*
 * Whether one more rate-limited ICMP error may go to dst now: the bucket of all of this
 * worker's errors, then dst's own, as Linux checks icmp_global_allow, then the inet_peer's.
 */
static int icmp_limit_ok(struct xvs_worker *w, const union xvs_ip *dst)
{
	struct xvs_icmp_limit *l = &w->icmp_limit;
	uint64_t hz_ms = w->dp->tsc_hz / 1000 ? w->dp->tsc_hz / 1000 : 1;
	uint64_t now = (w->now_tsc - w->start_tsc) / hz_ms + 1; /* 0 marks an empty peer */
	uint64_t all = l->tokens + (now - l->last_ms);
	l->last_ms = now;
	l->tokens = (uint32_t)RTE_MIN(all, (uint64_t)ICMP_ALL_BURST);
	if (l->tokens < 1)
		return 0;
	struct xvs_icmp_peer *e = &l->peer[rte_hash_crc(dst, sizeof(*dst), 0) % XVS_ICMP_LIMIT_SLOTS];
	uint64_t t = ICMP_PEER_BURST_MS; /* a destination not seen lately starts with a full burst */
	if (e->last_ms && xvs_ip_eq(&e->addr, dst))
		t = RTE_MIN((uint64_t)e->tokens_ms + (now - e->last_ms), (uint64_t)ICMP_PEER_BURST_MS);
	e->addr = *dst;
	e->last_ms = now;
	if (t < ICMP_PEER_COST_MS) {
		e->tokens_ms = (uint32_t)t;
		return 0;
	}
	e->tokens_ms = (uint32_t)(t - ICMP_PEER_COST_MS);
	l->tokens--;
	return 1;
}

/* ICMP "time exceeded in transit" (RFC 792) to the sender of orig, from the address it was
 * sent to when that is ours (a VIP), else from the port's address towards the sender, quoting
 * as much of it as fits in 576 bytes, as Linux does. */
static void time_exceeded4(struct xvs_worker *w, const struct xvs_gen *g, struct rte_mbuf *orig,
			   const struct xvs_pkt *p)
{
	const struct rte_ipv4_hdr *oip = rte_pktmbuf_mtod_offset(orig, const struct rte_ipv4_hdr *, p->l3_off);
	uint32_t src = oip->dst_addr;
	if (!g || !xvs_owned4(w->dp, g, src)) {
		const struct xvs_route *r = xvs_route_lookup(&w->dp->routes, oip->src_addr);
		if (!r)
			return;
		src = xvs_port_src4(&w->dp->ports[r->port], oip->src_addr);
	}
	union xvs_ip to = { .d = { oip->src_addr, 0 } };
	if (!icmp_limit_ok(w, &to))
		return;
	uint32_t qlen = RTE_MIN((uint32_t)p->ip_len, 576u - 28u);
	qlen = RTE_MIN(qlen, (uint32_t)rte_pktmbuf_data_len(orig) - p->l3_off);
	icmp4_error(w, orig, p, src, (uint8_t)(0xc0 | (oip->type_of_service & 0x1e)),
		    XVS_ICMP_TIME_EXCEEDED, 0, 0, qlen);
}

/* The ICMPv6 "time exceeded" (RFC 4443 §3.3, code 0), chosen and limited as time_exceeded4. */
static void time_exceeded6(struct xvs_worker *w, const struct xvs_gen *g, struct rte_mbuf *orig,
			   const struct xvs_pkt *p)
{
	const uint8_t *oip = rte_pktmbuf_mtod_offset(orig, const uint8_t *, p->l3_off);
	union xvs_ip src, dst;
	memcpy(src.v6, oip + XVS_IP6_DST_OFF, 16);
	memcpy(dst.v6, oip + XVS_IP6_SRC_OFF, 16);
	if (!g || !xvs_owned6(w->dp, g, &src)) {
		const struct xvs_route6 *r = xvs_route6_lookup(&w->dp->routes6, &dst);
		if (!r)
			return;
		src = *xvs_port_src6(&w->dp->ports[r->port], &dst);
	}
	if (icmp_limit_ok(w, &dst))
		icmp6_error(w, orig, p, &src, XVS_ICMP6_TIME_EXCEEDED, 0);
}

void xvs_ttl_expired(struct xvs_worker *w, const struct xvs_gen *g, struct rte_mbuf *m,
		     const struct xvs_pkt *p)
{
	/* no error about an ICMP error (RFC 1122 3.2.2, RFC 4443 2.4): xvs forwards no other ICMP */
	int v6 = (*rte_pktmbuf_mtod_offset(m, const uint8_t *, p->l3_off) >> 4) == 6;
	if (p->proto != IPPROTO_ICMP && p->proto != IPPROTO_ICMPV6) {
		if (v6)
			time_exceeded6(w, g, m, p);
		else
			time_exceeded4(w, g, m, p);
	}
	drop(w, m, XVS_DROP_TTL_EXCEEDED);
}

/*
 * With several workers, a quote that finds no connection here may belong to another worker's:
 * hand the error to the owner. The quote's reversed key k is a client's packet when its
 * destination is a service, else a real server's reply. Returns 1 if it handed m over.
 */
static int quote_steer_away(struct xvs_worker *w, const struct xvs_gen *g,
			    const struct xvs_conn_key *k, uint16_t in_port, struct rte_mbuf *m)
{
	union xvs_ip dst = k->af == XVS_AF_INET6 ? k->dst6 : (union xvs_ip){ .d = { k->dst, 0 } };
	uint8_t af = k->af == XVS_AF_INET6 ? XVS_AF_INET6 : XVS_AF_INET;
	int svc = xvs_svc_lookup(g, k->proto, &dst, k->dport);
	if (svc >= 0 && g->svcs[svc].af != af)
		svc = -1;
	if (svc < 0)
		svc = xvs_fwmark_lookup(g, af, k->proto, &dst, k->dport);
	return xvs_steer(w, g, k, svc, in_port, m);
}

/*
 * The live connection that a quoted packet's reversed key k finds, and the direction it
 * matched; NULL once m is dealt with: handed to the worker that owns the quote's connection,
 * else left unconsumed (no connection, or its server is gone).
 */
static struct xvs_conn *quote_conn(struct xvs_worker *w, const struct xvs_gen *g,
				   const struct xvs_conn_key *k, uint16_t in_port,
				   struct rte_mbuf *m, unsigned *dir)
{
	uint32_t v = xvs_conn_find(&w->conns, k, xvs_conn_hash(&w->conns, k));
	struct xvs_conn *c = v ? &w->conns.conns[(v - 1) >> 1] : NULL;
	if (!c || conn_expired(w, c)) {
		if (!quote_steer_away(w, g, k, in_port, m))
			xvs_unconsumed(w, g, in_port, m, XVS_DROP_ICMP_QUOTE_NO_CONN);
		return NULL;
	}
	if (dest_gone(g, c)) {
		xvs_unconsumed(w, g, in_port, m, XVS_DROP_DEST_GONE);
		return NULL;
	}
	*dir = (v - 1) & 1;
	return c;
}

static inline int icmp_is_error(uint8_t type)
{
	return type == XVS_ICMP_DEST_UNREACH || type == 11 /* time exceeded */ ||
	       type == 12 /* parameter problem */ || type == 4 /* source quench */;
}

/*
 * Rewrite one address and port of the quoted packet (is_dst: its destination) and keep its
 * IPv4 checksum and, where the quote holds it, its L4 checksum right. qlen: bytes quoted.
 */
static void quote_rewrite(struct rte_ipv4_hdr *in, uint8_t *l4, uint32_t qlen, uint32_t addr,
			  uint16_t port, int is_dst)
{
	uint32_t old = is_dst ? in->dst_addr : in->src_addr;
	uint16_t oldp, ck;
	unsigned poff = is_dst ? 2 : 0, ckoff = 0;
	uint32_t l4_len = qlen - sizeof(*in);
	memcpy(&oldp, l4 + poff, 2);
	if (in->next_proto_id == IPPROTO_UDP && l4_len >= 8)
		ckoff = 6;
	else if (in->next_proto_id == IPPROTO_TCP && l4_len >= 18)
		ckoff = 16;
	if (ckoff) {
		memcpy(&ck, l4 + ckoff, 2);
		if (ck || in->next_proto_id == IPPROTO_TCP) {
			ck = xvs_csum_replace2(xvs_csum_replace4(ck, old, addr), oldp, port);
			memcpy(l4 + ckoff, &ck, 2);
		}
	}
	in->hdr_checksum = xvs_csum_replace4(in->hdr_checksum, old, addr);
	if (is_dst)
		in->dst_addr = addr;
	else
		in->src_addr = addr;
	memcpy(l4 + poff, &port, 2);
}

/*
 * An ICMP error that quotes a packet of a known connection goes to the right party with the
 * quote rewritten consistently: from the real-server side towards the client (NAT replies),
 * or from the client side (a router quoting our reply to the client) towards the real server
 * by the connection's method. That keeps path-MTU discovery working through xvs.
 */
static void handle_icmp_error(struct xvs_worker *w, const struct xvs_gen *g, uint16_t in_port,
			      struct rte_mbuf *m, const struct xvs_pkt *p)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, p->l3_off);
	struct rte_icmp_hdr *ic = rte_pktmbuf_mtod_offset(m, struct rte_icmp_hdr *, p->l4_off);
	uint32_t icmp_len = p->ip_len - (uint32_t)(p->l4_off - p->l3_off);
	struct rte_ipv4_hdr *in = (struct rte_ipv4_hdr *)(ic + 1);
	if (icmp_len < sizeof(*ic) + sizeof(*in) + 8 || in->version_ihl != RTE_IPV4_VHL_DEF)
		return drop(w, m, XVS_DROP_ICMP_QUOTE_BAD);
	/* the checksum is recomputed after the rewrite: check it first, or corruption would pass */
	if (rte_raw_cksum(ic, icmp_len) != 0xffff)
		return drop(w, m, XVS_DROP_ICMP_BAD_CSUM);
	uint32_t qlen = icmp_len - sizeof(*ic);
	uint8_t *l4 = (uint8_t *)(in + 1);
	if (!g || (in->next_proto_id != IPPROTO_TCP && in->next_proto_id != IPPROTO_UDP))
		return xvs_unconsumed(w, g, in_port, m, XVS_DROP_ICMP_QUOTE_NO_CONN);
	uint16_t qs, qd;
	memcpy(&qs, l4, 2);
	memcpy(&qd, l4 + 2, 2);
	struct xvs_conn_key k = { .src = in->dst_addr, .dst = in->src_addr, .sport = qd, .dport = qs,
				  .proto = in->next_proto_id };
	unsigned dir;
	struct xvs_conn *c = quote_conn(w, g, &k, in_port, m, &dir);
	if (!c)
		return;
	unsigned fwd = c->flags & XVS_CONN_F_FWD_MASK;
	uint32_t caddr = xvs_conn_caddr(c).v4, vaddr = xvs_conn_vaddr(c).v4;
	/* The error must be on its way to the party the quote names (the client, or the VIP):
	 * anything else would turn xvs into a relay for spoofed packets. */
	if (ip->dst_addr != (dir == XVS_CONN_DIR_REPLY ? caddr : vaddr))
		return drop(w, m, XVS_DROP_ICMP_QUOTE_BAD);
	if (unlikely(xvs_ttl_dec(w, g, m, p) < 0))
		return;
	if (fwd == XVS_FWD_TUNNEL && dir == XVS_CONN_DIR_ORIG)
		return xvs_tun_forward(w, g, m, p, c);
	/* NAT and DR keep the service's family: the real server is IPv4 too */
	uint32_t daddr = xvs_conn_daddr(c).v4;
	if (dir == XVS_CONN_DIR_REPLY) {
		/* quotes client -> real server as sent by us: show the client the VIP instead */
		quote_rewrite(in, l4, qlen, vaddr, c->vport, 1);
		if (ip->src_addr == daddr) {
			ip->hdr_checksum = xvs_csum_replace4(ip->hdr_checksum, ip->src_addr, vaddr);
			ip->src_addr = vaddr;
		}
		ic->icmp_cksum = 0;
		ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, icmp_len);
		return xmit4(w, m, caddr);
	}
	/* quotes VIP -> client: the real server sent it (DR) or we did (NAT) */
	if (fwd == XVS_FWD_MASQ) {
		quote_rewrite(in, l4, qlen, daddr, c->dport, 0);
		ip->hdr_checksum = xvs_csum_replace4(ip->hdr_checksum, ip->dst_addr, daddr);
		ip->dst_addr = daddr;
		ic->icmp_cksum = 0;
		ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, icmp_len);
	}
	xmit4(w, m, daddr);
}

/* Not a connection's packet and no service: ICMP to us, the kernel's (dp_exc.h), or a drop. */
static void exception_ip4(struct xvs_worker *w, const struct xvs_gen *g, uint16_t in_port,
			  struct rte_mbuf *m, const struct xvs_pkt *p)
{
	if (p->proto == IPPROTO_ICMP) {
		const struct rte_icmp_hdr *ic = rte_pktmbuf_mtod_offset(m, const struct rte_icmp_hdr *, p->l4_off);
		if (icmp_is_error(ic->icmp_type))
			return handle_icmp_error(w, g, in_port, m, p);
		if (xvs_owned4(w->dp, g, p->dst))
			return handle_icmp_local(w, g, in_port, m, p);
	}
	xvs_unconsumed(w, g, in_port, m, XVS_DROP_NO_VIP);
}

/* ---- IPv6 exception path: ICMPv6 echo and errors, ND (dp_neighproto.c) ---------------- */

static void echo_reply6(struct xvs_worker *w, uint16_t in_port, struct rte_mbuf *m,
			const struct xvs_pkt *p)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	uint8_t *l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, p->l3_off);
	uint8_t *ic = rte_pktmbuf_mtod_offset(m, uint8_t *, p->l4_off);
	uint8_t tmp[16];
	uint16_t ck;
	memcpy(tmp, l3 + XVS_IP6_SRC_OFF, 16);
	memcpy(l3 + XVS_IP6_SRC_OFF, l3 + XVS_IP6_DST_OFF, 16);
	memcpy(l3 + XVS_IP6_DST_OFF, tmp, 16);
	l3[7] = 64;
	ic[0] = XVS_ICMP6_ECHO_REPLY;
	memcpy(&ck, ic + 2, 2);
	ck = xvs_csum_replace2(ck, rte_cpu_to_be_16(XVS_ICMP6_ECHO_REQUEST << 8),
			       rte_cpu_to_be_16(XVS_ICMP6_ECHO_REPLY << 8));
	memcpy(ic + 2, &ck, 2);
	eth->dst_addr = eth->src_addr;
	eth->src_addr = w->dp->ports[in_port].mac;
	w->st->icmp_echo_replies++;
	enqueue(w, in_port, m);
}

/* Rewrite one address and port of a quoted IPv6 packet, its L4 checksum too where quoted. */
static void quote_rewrite6(uint8_t *in, uint8_t *l4, uint32_t l4_len, const union xvs_ip *addr,
			   uint16_t port, int is_dst)
{
	unsigned ckoff = in[6] == IPPROTO_TCP ? 16 : 6;
	if (l4_len >= ckoff + 2) {
		uint16_t old;
		memcpy(&old, l4 + (is_dst ? 2 : 0), 2);
		xvs_nat_rewrite6(in, is_dst ? XVS_IP6_DST_OFF : XVS_IP6_SRC_OFF, in[6], l4, addr, old, port, is_dst);
		return;
	}
	memcpy(in + (is_dst ? XVS_IP6_DST_OFF : XVS_IP6_SRC_OFF), addr->v6, 16);
	memcpy(l4 + (is_dst ? 2 : 0), &port, 2);
}

/* The ICMPv6 counterpart of handle_icmp_error(): same directions, same rewrites. */
static void handle_icmp6_error(struct xvs_worker *w, const struct xvs_gen *g, uint16_t in_port,
			       struct rte_mbuf *m, const struct xvs_pkt *p)
{
	uint8_t *l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, p->l3_off);
	uint8_t *ic = rte_pktmbuf_mtod_offset(m, uint8_t *, p->l4_off);
	uint32_t icmp_len = p->ip_len - (uint32_t)(p->l4_off - p->l3_off);
	uint8_t *in = ic + 8, *l4 = in + XVS_IP6_HLEN;
	if (icmp_len < 8 + XVS_IP6_HLEN + 8 || (in[0] >> 4) != 6)
		return drop(w, m, XVS_DROP_ICMP_QUOTE_BAD);
	union xvs_ip osrc, odst;
	memcpy(osrc.v6, l3 + XVS_IP6_SRC_OFF, 16);
	memcpy(odst.v6, l3 + XVS_IP6_DST_OFF, 16);
	if (xvs_icmp6_cksum(&osrc, &odst, ic, icmp_len, IPPROTO_ICMPV6) != 0)
		return drop(w, m, XVS_DROP_ICMP_BAD_CSUM);
	if (!g || (in[6] != IPPROTO_TCP && in[6] != IPPROTO_UDP))
		return xvs_unconsumed(w, g, in_port, m, XVS_DROP_ICMP_QUOTE_NO_CONN);
	struct xvs_conn_key k = { .af = XVS_AF_INET6, .proto = in[6] };
	memcpy(k.src6.v6, in + XVS_IP6_DST_OFF, 16);
	memcpy(k.dst6.v6, in + XVS_IP6_SRC_OFF, 16);
	memcpy(&k.sport, l4 + 2, 2);
	memcpy(&k.dport, l4, 2);
	unsigned dir;
	struct xvs_conn *c = quote_conn(w, g, &k, in_port, m, &dir);
	if (!c)
		return;
	unsigned fwd = c->flags & XVS_CONN_F_FWD_MASK;
	uint32_t l4_len = icmp_len - 8 - XVS_IP6_HLEN;
	union xvs_ip caddr = xvs_conn_caddr(c), vaddr = xvs_conn_vaddr(c), daddr = xvs_conn_daddr(c);
	/* on its way to the party the quote names, or it is not ours to relay (see IPv4) */
	if (!xvs_ip_eq(&odst, dir == XVS_CONN_DIR_REPLY ? &caddr : &vaddr))
		return drop(w, m, XVS_DROP_ICMP_QUOTE_BAD);
	if (unlikely(xvs_ttl_dec(w, g, m, p) < 0))
		return;
	if (dir == XVS_CONN_DIR_REPLY) {
		quote_rewrite6(in, l4, l4_len, &vaddr, c->vport, 1);
		if (memcmp(l3 + XVS_IP6_SRC_OFF, daddr.v6, 16) == 0)
			memcpy(l3 + XVS_IP6_SRC_OFF, vaddr.v6, 16);
	} else if (fwd == XVS_FWD_MASQ) {
		quote_rewrite6(in, l4, l4_len, &daddr, c->dport, 0);
		memcpy(l3 + XVS_IP6_DST_OFF, daddr.v6, 16);
	}
	memcpy(osrc.v6, l3 + XVS_IP6_SRC_OFF, 16);
	memcpy(odst.v6, l3 + XVS_IP6_DST_OFF, 16);
	if (dir == XVS_CONN_DIR_REPLY || fwd == XVS_FWD_MASQ) {
		memset(ic + 2, 0, 2);
		uint16_t ck = xvs_icmp6_cksum(&osrc, &odst, ic, icmp_len, IPPROTO_ICMPV6);
		memcpy(ic + 2, &ck, 2);
	}
	if (dir == XVS_CONN_DIR_REPLY)
		return xmit6(w, m, &caddr);
	if (fwd == XVS_FWD_TUNNEL)
		return xvs_tun_forward(w, g, m, p, c);
	xmit6(w, m, &daddr);
}

static void exception_ip6(struct xvs_worker *w, const struct xvs_gen *g, uint16_t in_port,
			  struct rte_mbuf *m, const struct xvs_pkt *p)
{
	union xvs_ip src, dst;
	memcpy(src.v6, rte_pktmbuf_mtod_offset(m, uint8_t *, p->l3_off + XVS_IP6_SRC_OFF), 16);
	memcpy(dst.v6, rte_pktmbuf_mtod_offset(m, uint8_t *, p->l3_off + XVS_IP6_DST_OFF), 16);
	if (p->proto != IPPROTO_ICMPV6)
		return xvs_unconsumed(w, g, in_port, m, XVS_DROP_NO_VIP);
	const uint8_t *ic = rte_pktmbuf_mtod_offset(m, const uint8_t *, p->l4_off);
	if (ic[0] == XVS_ND_NS)
		return xvs_handle_nd(w, g, in_port, m, p, &src);
	if (ic[0] == XVS_ND_NA)
		return xvs_handle_na(w, g, in_port, m, p);
	if (ic[0] >= XVS_ICMP6_DEST_UNREACH && ic[0] <= XVS_ICMP6_PARAM_PROBLEM)
		return handle_icmp6_error(w, g, in_port, m, p);
	if (!xvs_owned6(w->dp, g, &dst))
		return xvs_unconsumed(w, g, in_port, m, XVS_DROP_NO_VIP);
	if (ic[0] == XVS_ICMP6_ECHO_REQUEST && ic[1] == 0)
		return echo_reply6(w, in_port, m, p);
	xvs_unconsumed(w, g, in_port, m, XVS_DROP_ICMP_UNSUPPORTED);
}

void xvs_exception_ip(struct xvs_worker *w, const struct xvs_gen *g, uint16_t in_port,
				struct rte_mbuf *m, const struct xvs_pkt *p)
{
	if (p->kind == XVS_PKT_IP6)
		return exception_ip6(w, g, in_port, m, p);
	exception_ip4(w, g, in_port, m, p);
}
