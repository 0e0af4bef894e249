/*
 * xvs-bench's traffic: the addresses of the bench network, frame templates, the restore step
 * that stands in for a NIC writing a received frame, and the checks of forwarded frames.
 * Everything here is read-only once the templates are built, so any lcore may use it.
 */
#ifndef XVS_BENCH_FRAMES_H
#define XVS_BENCH_FRAMES_H

#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "dp_csum.h"
#include "xvs/addr.h"

#define FRAME_LEN 60      /* minimum Ethernet frame without FCS: 54 bytes of headers + pad */
#define TMPL_LEN 64       /* bytes restored before every pass: the headers and the pad */
#define FRAME6_LEN 74     /* IPv6: 14 + 40 + 20, no pad */
#define TMPL6_LEN 80      /* IPv6 bytes restored (a multiple of 16 covering the frame) */
#define L3_OFF 14
#define L4_OFF 34
#define L4_OFF6 54
#define NB_DESTS 16

/* Addresses (host order): clients behind a router on port 0, real servers on port 1. */
#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define VIP IP4(203, 0, 113, 10) /* the NAT service's; service k has VIP + k */
#define VPORT 80
#define RS_PORT 8080 /* NAT; DR and tunnels keep the virtual port */
#define GUE_PORT 6080
#define TUN_SRC IP4(172, 17, 0, 0) /* /16: tunnels' outer sources, one per flow */
#define TUN_SRC_LEN 16
#define PORT_MTU 1500
#define PORT0_ADDR IP4(198, 18, 0, 1)
#define GW_ADDR IP4(198, 18, 0, 254)
#define PORT1_ADDR IP4(172, 16, 0, 1)
#define RS_BASE IP4(172, 16, 1, 0)
#define CLIENT_NET IP4(10, 64, 0, 0) /* /10, routed via GW_ADDR */
#define CLIENT_HOSTS ((1u << 22) - 2)
#define CLIENT_PORTS 16384           /* client ports per address: 1024.. */
/*
 * IPv6 (2001:db8:G::L, see ip6()): port 0 2001:db8:1::1/64 with the gateway ::fe, port 1
 * 2001:db8:2::1/64 with the real servers, clients in 2001:db8:40::/64 via the gateway (the
 * low 32 bits of a client are its IPv4 twin's address), service k's VIP 2001:db8:10::1k.
 */
#define NET6_PORT0 1
#define NET6_PORT1 2
#define NET6_VIP 0x10
#define NET6_CLIENT 0x40
#define HOST6_GW 0xfe
#define HOST6_RS 0x100

/* Order entries: flow id and its destination slot, so a timed loop reads one array in sequence. */
#define ORDER_FLOW(e) ((e) & 0xffffff)
#define ORDER_DEST(e) ((e) >> 24)
#define ORDER_ENTRY(flow, slot) ((uint32_t)(flow) | (uint32_t)(slot) << 24)
#define ORDER_MAX_FLOWS (1u << 24)

enum dir { DIR_CS, DIR_SC }; /* client -> server (port 0 in), server -> client (port 1 in) */
/* The services, one per forwarding method and family; service k owns destination slots
 * k * NB_DESTS.. (a slot fits the 8 bits of ORDER_DEST) */
enum svc_kind { SVC_NAT, SVC_DR, SVC_IPIP, SVC_GUE, SVC_NAT6, SVC_DR6, SVC_IPIP6, SVC_GUE6, NB_SVCS };
_Static_assert(NB_SVCS * NB_DESTS <= 256, "destination slots must fit ORDER_DEST");

/*
 * A frame's first TMPL_LEN (IPv6: TMPL6_LEN) bytes with the client's address (IPv6: its low
 * 32 bits) and port zero; flows patch them in.
 */
struct tmpl {
	uint8_t hdr[TMPL6_LEN];
	uint8_t ip_off;   /* where the client's address goes */
	uint8_t port_off; /* where the client's port goes */
	uint16_t ip_csum; /* checksums as computed with both zero (IPv6: no header checksum) */
	uint16_t l4_csum;
	uint8_t is6;
};

extern const struct rte_ether_addr bench_port_mac[2];
extern const struct rte_ether_addr bench_gw_mac;

static inline int svc_is6(enum svc_kind k)
{
	return k >= SVC_NAT6;
}

static inline struct rte_ether_addr rs_mac(unsigned i)
{
	return (struct rte_ether_addr){ .addr_bytes = { 0x02, 0, 0, 0, 0x02, (uint8_t)i } };
}

static inline uint32_t rs_addr(unsigned i)
{
	return rte_cpu_to_be_32(RS_BASE + 1 + i);
}

/* 2001:db8:<group>::<low>, low as the address's last 32 bits. */
static inline union xvs_ip ip6(uint16_t group, uint32_t low_be)
{
	union xvs_ip a = { .d = { 0, 0 } };
	a.v6[0] = 0x20;
	a.v6[1] = 0x01;
	a.v6[2] = 0x0d;
	a.v6[3] = 0xb8;
	a.v6[4] = (uint8_t)(group >> 8);
	a.v6[5] = (uint8_t)group;
	memcpy(&a.v6[12], &low_be, 4);
	return a;
}

static inline union xvs_ip rs_addr6(unsigned i)
{
	return ip6(NET6_PORT1, rte_cpu_to_be_32(HOST6_RS + 1 + i));
}

static inline uint32_t svc_vip(enum svc_kind k)
{
	return rte_cpu_to_be_32(VIP + k);
}

static inline union xvs_ip svc_vip6(enum svc_kind k)
{
	return ip6(NET6_VIP, rte_cpu_to_be_32(0x10 + k));
}

/* Flow ids map to distinct (client address, client port) pairs: 16384 ports per address. */
static inline uint32_t flow_ip(uint64_t f)
{
	return rte_cpu_to_be_32(CLIENT_NET + 1 + (uint32_t)((f / CLIENT_PORTS) % CLIENT_HOSTS));
}

static inline uint16_t flow_port(uint64_t f)
{
	return rte_cpu_to_be_16((uint16_t)(1024 + (f % CLIENT_PORTS)));
}

static inline union xvs_ip flow_ip6(uint64_t f)
{
	return ip6(NET6_CLIENT, flow_ip(f));
}

/* What the NIC would have done: frame bytes and the mbuf's lengths. The restore cost. */
static inline void restore(struct rte_mbuf *m, const struct tmpl *t, uint64_t flow)
{
	m->data_off = RTE_PKTMBUF_HEADROOM; /* a tunnel prepended its headers last time */
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t ip = flow_ip(flow);
	uint16_t port = flow_port(flow);
	uint16_t l4c = xvs_csum_replace2(xvs_csum_replace4(t->l4_csum, 0, ip), 0, port);
	if (unlikely(t->is6)) {
		memcpy(d, t->hdr, TMPL6_LEN);
		memcpy(d + t->ip_off, &ip, sizeof(ip));
		memcpy(d + t->port_off, &port, sizeof(port));
		memcpy(d + L4_OFF6 + offsetof(struct rte_tcp_hdr, cksum), &l4c, sizeof(l4c));
		m->data_len = FRAME6_LEN;
		m->pkt_len = FRAME6_LEN;
		return;
	}
	memcpy(d, t->hdr, TMPL_LEN);
	memcpy(d + t->ip_off, &ip, sizeof(ip));
	memcpy(d + t->port_off, &port, sizeof(port));
	uint16_t ipc = xvs_csum_replace4(t->ip_csum, 0, ip);
	memcpy(d + L3_OFF + offsetof(struct rte_ipv4_hdr, hdr_checksum), &ipc, sizeof(ipc));
	memcpy(d + L4_OFF + offsetof(struct rte_tcp_hdr, cksum), &l4c, sizeof(l4c));
	m->data_len = FRAME_LEN;
	m->pkt_len = FRAME_LEN;
}

/* TCP segment without payload from the client's side (dir DIR_CS) or a real server's reply. */
void bench_tmpl_build(struct tmpl *t, enum dir dir, enum svc_kind k, unsigned dest, uint8_t flags);
void bench_tmpl_build6(struct tmpl *t, enum dir dir, enum svc_kind k, unsigned dest, uint8_t flags);

/* Checksums, addresses, ports and MACs of a rewritten IPv4 frame leaving by `port`. */
int bench_frame_ok(const struct rte_mbuf *m, const struct rte_ether_addr *dmac, uint16_t port,
		   uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport);
/* The same for IPv6 (the hop limit one less). */
int bench_frame6_ok(const struct rte_mbuf *m, const struct rte_ether_addr *dmac, uint16_t port,
		    const union xvs_ip *src, uint16_t sport, const union xvs_ip *dst, uint16_t dport);
/* Flow 0's frame tunnelled to real server d by service kind (IPIP or GUE, either family). */
int bench_tun_frame_ok(const struct rte_mbuf *m, unsigned d, enum svc_kind kind);
int bench_tun6_frame_ok(const struct rte_mbuf *m, unsigned d, enum svc_kind kind);

/*
 * Flow f of the NAT service leaving for real server d (c->s) or for the client (s->c),
 * rewritten as NAT must.
 */
int bench_nat_frame_ok(const struct rte_mbuf *m, enum dir dir, uint64_t f, unsigned d);

/*
 * A NAT c->s frame as sent to a real server: its flow id and destination (0..NB_DESTS-1).
 * Returns 0, or -EINVAL when the frame is not one of ours.
 */
int bench_nat_frame_flow(const struct rte_mbuf *m, uint32_t *flow, unsigned *dest);

#endif
