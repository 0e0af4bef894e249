/*
 * The exception path to the kernel: per port, a net_tap interface with the port's MAC and MTU
 * takes every frame the dataplane does not consume (dp_exc.h says which), and the kernel's
 * frames leave through the port. docs/dataplane.md, "The exception path to the kernel".
 *
 *   worker i ──(exc_ring i, SP/SC)──▶ main lcore ──rate limit──▶ rte_eth_tx_burst(tap)
 *   port ◀── main lcore's TX queue (or worker 0's, through exc_tx) ◀── rte_eth_rx_burst(tap)
 *
 * Workers only stage frames and enqueue them on their ring once per burst: no system call,
 * no lock. The main lcore does the rest: the tap's reads and writes are system calls.
 * Worker functions say so; everything else is main lcore only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_bus_vdev.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "dp_exc.h"
#include "dp_path.h"

RTE_LOG_REGISTER(xvs_exc_logtype, xvs.exc, INFO);
#define EXC_LOG(level, ...) rte_log(RTE_LOG_##level, xvs_exc_logtype, "xvs.exc: " __VA_ARGS__)

#define XVS_EXC_RING     1024 /* frames a worker may have on their way to the main lcore */
#define XVS_EXC_PASS     64   /* frames the main lcore takes from a ring or a tap per pass */
#define XVS_EXC_TAP_DESC 64   /* the tap's receive buffers (net_tap: mbufs it holds) */

/* ---- workers ------------------------------------------------------------------------------ */

/*
 * Facts for the classification, from the frame itself: its L2 destination, and whether its
 * IPv4/IPv6 destination is a VIP of generation g (the worker's VIP set, rebuilt once per
 * generation). Worker lcore.
 */
static unsigned exc_facts(struct xvs_worker *w, const struct xvs_gen *g, const struct rte_mbuf *m)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	unsigned facts = (d[0] & 1) ? XVS_EXC_F_GROUP : 0; /* the group bit: broadcast too */
	union xvs_ip dst = { .d = { 0, 0 } };
	uint8_t af;
	uint16_t et;
	memcpy(&et, d + 12, 2);
	if (!g || !w->vips)
		return facts;
	if (et == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) && m->data_len >= RTE_ETHER_HDR_LEN + 20) {
		memcpy(&dst.v4, d + RTE_ETHER_HDR_LEN + 16, 4);
		af = XVS_AF_INET;
	} else if (et == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6) &&
		   m->data_len >= RTE_ETHER_HDR_LEN + XVS_IP6_HLEN) {
		memcpy(dst.v6, d + RTE_ETHER_HDR_LEN + XVS_IP6_DST_OFF, 16);
		af = XVS_AF_INET6;
	} else {
		return facts;
	}
	if (w->vips->gen != g->gen)
		xvs_vip_set_build(w->vips, g);
	if (xvs_vip_set_has(w->vips, af, &dst))
		facts |= XVS_EXC_F_VIP;
	return facts;
}

void xvs_exc_flush(struct xvs_worker *w)
{
	struct xvs_handoff_buf *b = &w->exc;
	unsigned n = b->n;
	b->n = 0;
	unsigned sent = rte_ring_sp_enqueue_burst(w->exc_ring, (void **)b->pkts, n, NULL);
	for (unsigned i = sent; i < n; i++)
		drop(w, b->pkts[i], XVS_DROP_EXC_FULL);
}

void xvs_exc_queue(struct xvs_worker *w, uint16_t in_port, struct rte_mbuf *m)
{
	struct xvs_handoff_buf *b = &w->exc;
	m->hash.usr = in_port; /* the main lcore needs the port whose kernel interface takes it */
	b->pkts[b->n++] = m;
	if (b->n == XVS_BURST)
		xvs_exc_flush(w);
}

void xvs_exc_offer(struct xvs_worker *w, const struct xvs_gen *g, uint16_t in_port,
		   struct rte_mbuf *m, enum xvs_drop why)
{
	if (!w->exc_ring || !xvs_exc_candidate(why) || !xvs_exc_to_kernel(why, exc_facts(w, g, m)))
		return drop(w, m, why);
	xvs_exc_queue(w, in_port, m);
}

unsigned xvs_exc_worker_tx(struct xvs_worker *w)
{
	struct rte_mbuf *pkts[XVS_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(w->exc_tx, (void **)pkts, XVS_BURST, NULL);
	for (unsigned i = 0; i < n; i++)
		enqueue(w, (uint16_t)pkts[i]->hash.usr, pkts[i]);
	return n;
}

/* ---- the main lcore ------------------------------------------------------------------------ */

struct exc_port {
	uint16_t port;                    /* index in dp->ports */
	uint16_t tap;                     /* DPDK port id of its net_tap */
	struct xvs_exc_bucket tb;         /* exception_rate / exception_burst */
	uint16_t n;                       /* frames staged for the tap */
	struct rte_mbuf *out[XVS_BURST];
};

static struct {
	struct xvs_dp *dp;
	struct xvs_lcore_stats *st;       /* the main lcore's record */
	struct xvs_worker *tx;            /* sends the kernel's frames on the ports, or NULL */
	struct rte_ring *to_w0;           /* with tx NULL: the kernel's frames to worker 0 */
	struct rte_ring *from[XVS_MAX_LCORES];
	unsigned nb_from;
	struct exc_port ports[XVS_MAX_PORTS];
	unsigned nb_ports;
	int8_t of_port[XVS_MAX_PORTS];    /* dp port index -> ports[] index, -1: none */
	unsigned started;                 /* taps started */
} X;

unsigned xvs_exc_nb_mbufs(const struct xvs_dp *dp)
{
	unsigned nb = 0;
	for (unsigned i = 0; i < dp->nb_ports; i++)
		nb += dp->ports[i].exc ? 1 : 0;
	if (!nb)
		return 0;
	return dp->nb_workers * (XVS_EXC_RING + XVS_BURST) + XVS_EXC_RING + XVS_EXC_PASS +
	       nb * (XVS_EXC_TAP_DESC + XVS_BURST);
}

/*
 * The MTU of port p's kernel interface: the port's, but no more than one of the port's
 * receive buffers holds (with a VLAN tag): the kernel advertises its MSS from it, and a peer's
 * frame that the port cannot receive would stall the host's sessions.
 */
static uint16_t tap_mtu(const struct xvs_port *p)
{
	uint32_t room = (uint32_t)rte_pktmbuf_data_room_size(p->rx_pool) - RTE_PKTMBUF_HEADROOM;
	uint32_t fits = room - RTE_ETHER_HDR_LEN - RTE_VLAN_HLEN;
	return (uint16_t)RTE_MIN((uint32_t)p->mtu, fits);
}

/*
 * The kernel interface of port i: a net_tap vdev named after it, with the port's MAC and
 * MTU (tap_mtu), one queue each way (receive buffers from pool, which holds frames as large
 * as the port's). The ports must be set up already: their MAC and MTU are known then.
 */
static int tap_create(struct xvs_dp *dp, unsigned i, struct rte_mempool *pool, struct exc_port *ep,
		      char *err, size_t errlen)
{
	struct xvs_port *p = &dp->ports[i];
	char name[RTE_DEV_NAME_MAX_LEN], args[128];
	snprintf(name, sizeof(name), "net_tap_xvs%u", i);
	snprintf(args, sizeof(args), "iface=%s,mac=" RTE_ETHER_ADDR_PRT_FMT, p->exc_name,
		 RTE_ETHER_ADDR_BYTES(&p->mac));
	int rc = rte_vdev_init(name, args);
	if (rc < 0) {
		snprintf(err, errlen, "port %s: cannot create the exception interface %s (net_tap: "
			 "needs /dev/net/tun and CAP_NET_ADMIN, and a name no other interface has)",
			 p->name, p->exc_name);
		return rc;
	}
	uint16_t id, mtu = tap_mtu(p);
	struct rte_eth_conf conf = { 0 };
	if ((rc = rte_eth_dev_get_port_by_name(name, &id)) < 0)
		goto fail;
	int socket = rte_eth_dev_socket_id(id);
	if ((rc = rte_eth_dev_configure(id, 1, 1, &conf)) < 0 ||
	    (rc = rte_eth_rx_queue_setup(id, 0, XVS_EXC_TAP_DESC, (unsigned)socket, NULL, pool)) < 0 ||
	    (rc = rte_eth_tx_queue_setup(id, 0, XVS_EXC_TAP_DESC, (unsigned)socket, NULL)) < 0 ||
	    (rc = rte_eth_dev_set_mtu(id, mtu)) < 0)
		goto fail;
	if (mtu < p->mtu)
		EXC_LOG(WARNING, "port %s: exception interface %s gets mtu %u, not the port's %u: the "
			"port's receive buffers hold no larger frame\n", p->name, p->exc_name, mtu, p->mtu);
	p->exc_port_id = id;
	*ep = (struct exc_port){ .port = (uint16_t)i, .tap = id };
	xvs_exc_bucket_init(&ep->tb, p->exc_rate, p->exc_burst, dp->tsc_hz);
	return 0;
fail:
	snprintf(err, errlen, "port %s: exception interface %s: %s", p->name, p->exc_name,
		 rte_strerror(-rc));
	return rc;
}

static struct rte_ring *ring_new(const char *name, int node)
{
	return rte_ring_create(name, XVS_EXC_RING, node, RING_F_SP_ENQ | RING_F_SC_DEQ);
}

int xvs_exc_setup(struct xvs_dp *dp, struct xvs_worker *const *workers, struct xvs_worker *tx,
		  struct rte_mempool *pool, int node, char *err, size_t errlen)
{
	memset(&X, 0, sizeof(X));
	memset(X.of_port, -1, sizeof(X.of_port));
	X.dp = dp;
	X.st = xvs_shm_stats(&dp->shm, XVS_SHM_MAIN_STATS);
	X.tx = tx;
	for (unsigned i = 0; i < dp->nb_ports; i++) {
		if (!dp->ports[i].exc)
			continue;
		int rc = tap_create(dp, i, pool, &X.ports[X.nb_ports], err, errlen);
		if (rc < 0)
			return rc;
		X.of_port[i] = (int8_t)X.nb_ports++;
	}
	if (!X.nb_ports)
		return 0;
	for (unsigned i = 0; i < dp->nb_workers; i++) {
		struct xvs_worker *w = workers[i];
		char name[RTE_RING_NAMESIZE];
		snprintf(name, sizeof(name), "xvs_exc_%u", i);
		int wnode = w->pool ? w->pool->socket_id : node; /* the worker's node: its pool's */
		w->exc_ring = X.from[X.nb_from++] = ring_new(name, node);
		if (!w->vips)
			w->vips = rte_zmalloc_socket("xvs_vips", sizeof(*w->vips), 64, wnode);
		if (!w->exc_ring || !w->vips)
			goto nomem;
	}
	if (!tx) {
		X.to_w0 = workers[0]->exc_tx = ring_new("xvs_exc_tx", workers[0]->pool->socket_id);
		if (!X.to_w0)
			goto nomem;
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory for the exception path's rings");
	return -ENOMEM;
}

int xvs_exc_start(char *err, size_t errlen)
{
	for (unsigned i = 0; i < X.nb_ports; i++) {
		const struct exc_port *ep = &X.ports[i];
		const struct xvs_port *p = &X.dp->ports[ep->port];
		int rc = rte_eth_dev_start(ep->tap); /* brings the kernel interface up */
		if (rc < 0) {
			snprintf(err, errlen, "port %s: exception interface %s: start: %s", p->name,
				 p->exc_name, rte_strerror(-rc));
			return rc;
		}
		X.started = i + 1;
		EXC_LOG(INFO, "port %s: exception interface %s (dpdk port %u, mtu %u), %u packets/s, "
			"burst %u, kernel frames sent by %s\n", p->name, p->exc_name, ep->tap, tap_mtu(p),
			p->exc_rate, p->exc_burst, X.tx ? "the main lcore" : "worker 0");
	}
	return 0;
}

/* Hand the staged frames of ep to its tap; what the kernel does not take is counted. */
static void tap_flush(struct exc_port *ep)
{
	uint64_t bytes = 0;
	uint16_t n = ep->n;
	ep->n = 0;
	for (uint16_t i = 0; i < n; i++)
		bytes += ep->out[i]->pkt_len;
	/* the tap frees what it takes: count before */
	uint16_t sent = rte_eth_tx_burst(ep->tap, 0, ep->out, n);
	for (uint16_t i = sent; i < n; i++) {
		bytes -= ep->out[i]->pkt_len;
		X.st->drops[XVS_DROP_EXC_KERNEL]++;
		rte_pktmbuf_free(ep->out[i]);
	}
	X.st->exc_to_kernel += sent;
	X.st->exc_to_kernel_bytes += bytes;
}

/* A frame from a worker: through the port's rate limit into its staging buffer. */
static void to_kernel(struct rte_mbuf *m, uint64_t now)
{
	uint32_t port = m->hash.usr;
	int k = port < XVS_MAX_PORTS ? X.of_port[port] : -1;
	if (k < 0 || !xvs_exc_bucket_take(&X.ports[k].tb, now)) {
		X.st->drops[XVS_DROP_EXC_RATE]++;
		rte_pktmbuf_free(m);
		return;
	}
	struct exc_port *ep = &X.ports[k];
	ep->out[ep->n++] = m;
	if (ep->n == XVS_BURST)
		tap_flush(ep);
}

/* The kernel's frames, out on its port: by the main lcore's TX queue, or through worker 0. */
static void from_kernel(const struct exc_port *ep, struct rte_mbuf **pkts, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		X.st->exc_from_kernel_bytes += pkts[i]->pkt_len;
		pkts[i]->hash.usr = ep->port;
	}
	X.st->exc_from_kernel += n;
	if (X.tx) {
		for (unsigned i = 0; i < n; i++)
			enqueue(X.tx, ep->port, pkts[i]);
		return;
	}
	unsigned sent = rte_ring_sp_enqueue_burst(X.to_w0, (void **)pkts, n, NULL);
	for (unsigned i = sent; i < n; i++) {
		X.st->drops[XVS_DROP_EXC_FULL]++;
		rte_pktmbuf_free(pkts[i]);
	}
}

unsigned xvs_exc_poll(uint64_t now)
{
	struct rte_mbuf *pkts[XVS_EXC_PASS];
	unsigned moved = 0;
	if (X.started < X.nb_ports || !X.nb_ports)
		return 0;
	for (unsigned r = 0; r < X.nb_from; r++) {
		unsigned n = rte_ring_sc_dequeue_burst(X.from[r], (void **)pkts, XVS_EXC_PASS, NULL);
		for (unsigned i = 0; i < n; i++)
			to_kernel(pkts[i], now);
		moved += n;
	}
	for (unsigned i = 0; i < X.nb_ports; i++)
		if (X.ports[i].n)
			tap_flush(&X.ports[i]);
	unsigned back = 0;
	for (unsigned i = 0; i < X.nb_ports; i++) {
		uint16_t n = rte_eth_rx_burst(X.ports[i].tap, 0, pkts, XVS_EXC_PASS);
		if (n)
			from_kernel(&X.ports[i], pkts, n);
		back += n;
	}
	if (back && X.tx)
		xvs_worker_flush(X.tx);
	return moved + back;
}

void xvs_exc_stop(void)
{
	void *m;
	for (unsigned r = 0; r < X.nb_from; r++) {
		while (rte_ring_sc_dequeue(X.from[r], &m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(X.from[r]);
	}
	while (X.to_w0 && rte_ring_sc_dequeue(X.to_w0, &m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(X.to_w0);
	for (unsigned i = 0; i < X.nb_ports; i++) {
		struct exc_port *ep = &X.ports[i];
		for (uint16_t j = 0; j < ep->n; j++)
			rte_pktmbuf_free(ep->out[j]);
		ep->n = 0;
		if (i < X.started)
			rte_eth_dev_stop(ep->tap);
		rte_eth_dev_close(ep->tap); /* the kernel interface goes with it */
	}
	X.nb_from = X.nb_ports = X.started = 0;
	X.to_w0 = NULL;
}
