/*
 * The neighbour protocols (dp_neighproto.c): ARP and neighbour discovery received and sent,
 * the hold queue, next-hop probing and the NUD tick over dp_neigh.h's table. Worker lcores.
 */
#ifndef XVS_DP_NEIGHPROTO_H
#define XVS_DP_NEIGHPROTO_H

#include "dp_parse.h"
#include "dp_worker.h"

struct xvs_gen;

/* An ARP request or reply received on in_port: answered when for an owned address, learned from. */
void xvs_handle_arp(struct xvs_worker *w, const struct xvs_gen *g, uint16_t in_port, struct rte_mbuf *m);
/* A neighbour solicitation from src: an advertisement when its target is ours. */
void xvs_handle_nd(struct xvs_worker *w, const struct xvs_gen *g, uint16_t in_port,
		   struct rte_mbuf *m, const struct xvs_pkt *p, const union xvs_ip *src);
/* A neighbour advertisement: it updates what the table knows of its target. */
void xvs_handle_na(struct xvs_worker *w, const struct xvs_gen *g, uint16_t in_port,
		   struct rte_mbuf *m, const struct xvs_pkt *p);
/* Next hop nh (af) of port unresolved: ask for it and hold m until it is known. */
void xvs_hold_unresolved(struct xvs_worker *w, struct rte_mbuf *m, uint16_t port, uint8_t af,
			 const union xvs_ip *nh);
/* Send the held frames whose next hop is now known, drop those held too long. */
void xvs_release_held(struct xvs_worker *w);
/* Resolve every real server's next hop ahead of its first packet. */
void xvs_probe_dests(struct xvs_worker *w, const struct xvs_gen *g);
/* Run the neighbour table's timers over a share of it and send the unicast probes due. */
void xvs_neigh_tick(struct xvs_worker *w);

#endif
