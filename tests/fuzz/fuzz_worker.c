/*
 * Fuzz target: the whole packet path of a worker (dataplane/dp_worker.c and what it calls:
 * parsing, the connection table, NAT, direct routing, IPIP and GUE tunnels, ARP and
 * neighbour discovery, ICMP errors, hand-off between workers) on frames from the input.
 *
 * The dataplane is set up as xvs-bench sets it up (bench/bench_dp.c): EAL in ordinary
 * memory, two ports with addresses, routes and static neighbours, and table generations
 * that control's own code built from xvsadm rules and the dataplane's validator accepted.
 * Transmitted frames are checked and freed. The network is the golden cases' (p0:
 * 198.18.0.1/24 and 2001:db8::1/64, VIP 198.18.0.100 and 2001:db8::100, real servers .21
 * to .23), so their frames are the seed corpus; p1 (198.19.0.1/24, 2001:db8:1::1/64) holds
 * the default routes.
 *
 * Input:
 *   byte 0: bits 0-3 the scenario (the services, below; modulo their number), bit 4 two
 *           workers that hand packets to each other, bit 5 sloppy TCP and SCTP, bit 6
 *           expire_nodest_conn and expire_quiescent_template, bit 7 frames in buffers with
 *           a NIC's tailroom (else the frame ends where the buffer does, so a read past it
 *           is an ASan report)
 *   byte 1: bits 0-1 the ports' MTU (1500, 1400, 1280, 9000), bit 2 tunnels leave p0 from
 *           198.19.254.0/23 (tunnel_src), bit 3 connection tables of the smallest size (16
 *           entries: a few frames fill them, and new connections evict old ones)
 *   then up to 64 frames, each: a control byte, a 16-bit big-endian length, the bytes.
 *     control bit 0: the input port; bit 1: the worker that receives it (with two); bits
 *     2-3: first the clock moves 0, 1, 10 or 1000 s and the workers tick; bit 4: its IPv4
 *     header checksum and its ICMP or ICMPv6 checksum are made right; bit 5: it joins the
 *     previous frame's burst (same port and worker, up to a full burst); bit 6: from this
 *     frame on, the workers run the scenario's second generation, the same table after
 *     changes (each service's first real server deleted, its second quiesced, shorter
 *     timeouts), as a running dataplane adopts one.
 *   A frame is cut to the MTU, as a NIC would not deliver more.
 *
 * XVS_FUZZ_TRACE set in the environment: each input says what it sent and dropped.
 *
 * Checked: every frame sent is one well-formed segment within its buffer, from the port's
 * MAC, within the port's MTU, with a valid outer IPv4 header checksum and lengths that fit;
 * and after each input, once queues, hand-off rings and held frames are flushed, every
 * mbuf is back in its pool and every frame buffer freed.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "ctl_publish.h"
#include "dp_worker.h"
#include "fuzz_common.h"
#include "inproc_eal.h"
#include "xvs/gen.h"

#define NB_WORKERS  2
#define CONN_MAX    1024
#define CONN_MIN    16
#define POOL_SIZE   1023
#define MAX_FRAMES  64
#define HEADROOM    RTE_PKTMBUF_HEADROOM
#define NIC_TAIL    2048
#define TSC_HZ      1000000000ULL
#define FILL        0xa5

/* ---- the services ------------------------------------------------------------------------ */

#define VIP4 "198.18.0.100"
#define VIP6 "[2001:db8::100]"

static const char *const sc_nat[] = {
	"-A -t " VIP4 ":80 -s rr", "-a -t " VIP4 ":80 -r 198.18.0.23:8080 -m",
	"-a -t " VIP4 ":80 -r 198.18.0.22:8080 -m", "-a -t " VIP4 ":80 -r 198.18.0.21:8080 -m",
	"-A -u " VIP4 ":53 -s rr", "-a -u " VIP4 ":53 -r 198.18.0.22:5353 -m",
	"-a -u " VIP4 ":53 -r 198.18.0.21:5353 -m",
	"-A --sctp-service " VIP4 ":3868 -s rr",
	"-a --sctp-service " VIP4 ":3868 -r 198.18.0.22:3869 -m",
	"-a --sctp-service " VIP4 ":3868 -r 198.18.0.21:3869 -m",
	"-A -t " VIP4 ":81 -s rr", "-a -t " VIP4 ":81 -r 198.18.0.22:81 -g",
	"-A -t " VIP4 ":82 -s rr", "-a -t " VIP4 ":82 -r 198.18.0.23:82 -i",
	"-A -t " VIP6 ":80 -s rr", "-a -t " VIP6 ":80 -r [2001:db8::23]:8080 -m",
	"-a -t " VIP6 ":80 -r [2001:db8::22]:8080 -m", "-a -t " VIP6 ":80 -r [2001:db8::21]:8080 -m",
	"-A -u " VIP6 ":53 -s rr", "-a -u " VIP6 ":53 -r [2001:db8::22]:5353 -m",
	"-a -u " VIP6 ":53 -r [2001:db8::21]:5353 -m",
	"-A --sctp-service " VIP6 ":3868 -s rr",
	"-a --sctp-service " VIP6 ":3868 -r [2001:db8::22]:3869 -m",
	"-a --sctp-service " VIP6 ":3868 -r [2001:db8::21]:3869 -m",
	"-A -t " VIP6 ":81 -s rr", "-a -t " VIP6 ":81 -r [2001:db8::22]:81 -g",
	"-A -t " VIP6 ":82 -s rr", "-a -t " VIP6 ":82 -r [2001:db8::23]:82 -i",
	NULL,
};

static const char *const sc_dr[] = {
	"-A -t " VIP4 ":80 -s rr", "-a -t " VIP4 ":80 -r 198.18.0.22:80 -g",
	"-a -t " VIP4 ":80 -r 198.18.0.21:80 -g",
	"-A -t " VIP6 ":80 -s rr", "-a -t " VIP6 ":80 -r [2001:db8::22]:80 -g",
	"-a -t " VIP6 ":80 -r [2001:db8::21]:80 -g",
	"-A -u " VIP4 ":53 -s wlc", "-a -u " VIP4 ":53 -r 198.18.0.21:53 -g",
	NULL,
};

static const char *const sc_ipip[] = {
	"-A -t " VIP4 ":80 -s rr", "-a -t " VIP4 ":80 -r 198.18.0.22:80 -i",
	"-a -t " VIP4 ":80 -r 198.18.0.21:80 -i", "-a -t " VIP4 ":80 -r [2001:db8::22]:80 -i",
	"-A -t " VIP6 ":80 -s rr", "-a -t " VIP6 ":80 -r [2001:db8::22]:80 -i",
	"-a -t " VIP6 ":80 -r [2001:db8::21]:80 -i", "-a -t " VIP6 ":80 -r 198.18.0.23:80 -i",
	"-A -t " VIP4 ":443 -s rr",
	"-a -t " VIP4 ":443 -r 198.18.0.22:443 -i --tun-type gue --tun-port 6080",
	"-A -u " VIP4 ":53 -s rr", "-a -u " VIP4 ":53 -r 198.18.0.21:53 -i",
	"-A -t 203.0.113.1:80 -s rr", "-a -t 203.0.113.1:80 -r 192.0.2.7:80 -i",
	NULL,
};

static const char *const sc_gue[] = {
	"-A -t " VIP4 ":80 -s rr",
	"-a -t " VIP4 ":80 -r 198.18.0.23:80 -i --tun-type gue --tun-port 6080",
	"-a -t " VIP4 ":80 -r 198.18.0.22:80 -i --tun-type gue --tun-port 6080",
	"-a -t " VIP4 ":80 -r 198.18.0.21:80 -i --tun-type gue --tun-port 6080",
	"-A -t " VIP4 ":81 -s rr",
	"-a -t " VIP4 ":81 -r 198.18.0.22:81 -i --tun-type gue --tun-port 6080 --tun-csum",
	"-A -t " VIP4 ":443 -s rr",
	"-a -t " VIP4 ":443 -r [2001:db8::23]:443 -i --tun-type gue --tun-port 6080",
	"-A -t " VIP6 ":80 -s rr",
	"-a -t " VIP6 ":80 -r [2001:db8::22]:80 -i --tun-type gue --tun-port 6080",
	"-a -t " VIP6 ":80 -r 198.18.0.21:80 -i --tun-type gue --tun-port 6080",
	"-A -t " VIP6 ":443 -s rr",
	"-a -t " VIP6 ":443 -r 198.18.0.23:443 -i --tun-type gue --tun-port 6080 --tun-csum",
	"-A -u " VIP4 ":53 -s rr", "-a -u " VIP4 ":53 -r 198.18.0.21:53 -i",
	NULL,
};

static const char *const sc_persist[] = {
	"-A -t " VIP4 ":80 -s rr -p 360", "-a -t " VIP4 ":80 -r 198.18.0.23:8080 -m",
	"-a -t " VIP4 ":80 -r 198.18.0.22:8080 -m", "-a -t " VIP4 ":80 -r 198.18.0.21:8080 -m",
	"-A -t " VIP4 ":81 -s rr -p 360 -M 255.255.255.252",
	"-a -t " VIP4 ":81 -r 198.18.0.22:8080 -m", "-a -t " VIP4 ":81 -r 198.18.0.21:8081 -g",
	"-A -t " VIP4 ":0 -s rr -p 600", "-a -t " VIP4 ":0 -r 198.18.0.22:0 -m",
	"-a -t " VIP4 ":0 -r 198.18.0.21:0 -m",
	"-A -t " VIP6 ":80 -s rr -p 360 -M 125", "-a -t " VIP6 ":80 -r [2001:db8::23]:8080 -m",
	"-a -t " VIP6 ":80 -r [2001:db8::22]:8080 -m",
	"-A -u " VIP4 ":53 -s rr -o", "-a -u " VIP4 ":53 -r 198.18.0.23:5353 -m",
	"-a -u " VIP4 ":53 -r 198.18.0.22:5353 -m",
	NULL,
};

/* The golden case fwmark's. */
static const char *const sc_fwmark[] = {
	"-A -f 1 -s rr -p 600", "-a -f 1 -r 198.18.0.22 -m", "-a -f 1 -r 198.18.0.21 -m",
	"-A -f 2 -s rr", "-a -f 2 -r 198.18.0.23:8080 -m",
	"-A -t " VIP4 ":81 -s rr", "-a -t " VIP4 ":81 -r 198.18.0.23:8081 -m",
	"-A -f 4 -6 -s rr", "-a -f 4 -6 -r [2001:db8::22]:0 -m",
	"--add-mark --proto tcp --dst 198.18.0.100/32 --dport 80:81 --mark 1",
	"--add-mark --proto udp --dst 198.18.0.100 --dport 53 --mark 1",
	"--add-mark --proto tcp --dst 198.18.0.96/29 --dport 8000:8999 --mark 2",
	"--add-mark --dst 198.18.0.100/32 --dport 9000 --mark 3",
	"--add-mark --dst 2001:db8::100/128 --dport 80:90 --mark 4",
	NULL,
};

static const char *const sc_sched[] = {
	"-A -t " VIP4 ":80 -s wrr", "-a -t " VIP4 ":80 -r 198.18.0.23:8080 -m -w 2",
	"-a -t " VIP4 ":80 -r 198.18.0.22:8080 -m -w 3", "-a -t " VIP4 ":80 -r 198.18.0.21:8080 -m -w 4",
	"-A -t " VIP4 ":81 -s sh -b sh-port,sh-fallback", "-a -t " VIP4 ":81 -r 198.18.0.21:81 -m",
	"-a -t " VIP4 ":81 -r 198.18.0.22:81 -m -w 0",
	"-A -t " VIP4 ":82 -s mh -b mh-fallback", "-a -t " VIP4 ":82 -r 198.18.0.21:82 -m",
	"-a -t " VIP4 ":82 -r 198.18.0.22:82 -m",
	"-A -t " VIP4 ":83 -s dh", "-a -t " VIP4 ":83 -r 198.18.0.23:83 -g",
	"-A -t " VIP4 ":84 -s lc", "-a -t " VIP4 ":84 -r 198.18.0.21:84 -m -x 2 -y 1",
	"-a -t " VIP4 ":84 -r 198.18.0.22:84 -m -x 1",
	"-A -t " VIP4 ":85 -s wlc", "-a -t " VIP4 ":85 -r 198.18.0.21:85 -m -w 2",
	"-A -t " VIP4 ":86 -s lblc", "-a -t " VIP4 ":86 -r 198.18.0.22:86 -m",
	"-A -t " VIP4 ":87 -s lblcr", "-a -t " VIP4 ":87 -r 198.18.0.23:87 -m",
	"-a -t " VIP4 ":87 -r 198.18.0.21:87 -m",
	"-A -t " VIP4 ":88 -s sed", "-a -t " VIP4 ":88 -r 198.18.0.21:88 -m",
	"-A -t " VIP4 ":89 -s nq", "-a -t " VIP4 ":89 -r 198.18.0.22:89 -m",
	"-A -t " VIP4 ":90 -s fo", "-a -t " VIP4 ":90 -r 198.18.0.21:90 -m -w 5",
	"-a -t " VIP4 ":90 -r 198.18.0.22:90 -m -w 6",
	"-A -t " VIP4 ":91 -s ovf", "-a -t " VIP4 ":91 -r 198.18.0.23:91 -m",
	"-A -t " VIP4 ":92 -s twos", "-a -t " VIP4 ":92 -r 198.18.0.21:92 -m",
	"-a -t " VIP4 ":92 -r 198.18.0.23:92 -m",
	"-A -u " VIP6 ":53 -s mh -b mh-port", "-a -u " VIP6 ":53 -r [2001:db8::21]:53 -m",
	"-a -u " VIP6 ":53 -r [2001:db8::22]:53 -m",
	NULL,
};

/*
 * Real servers whose neighbours nobody configured: ARP and ND resolve them. In this
 * scenario .21 and ::21 are not static neighbours (as in the golden cases arp_resolve and
 * nd_resolve).
 */
static const char *const sc_resolve[] = {
	"-A -t " VIP4 ":80 -s rr", "-a -t " VIP4 ":80 -r 198.18.0.21:8080 -m",
	"-A -t " VIP4 ":83 -s rr", "-a -t " VIP4 ":83 -r 198.18.0.32:8080 -m",
	"-A -t " VIP4 ":81 -s rr", "-a -t " VIP4 ":81 -r 198.18.0.33:81 -g",
	"-A -t " VIP4 ":82 -s rr", "-a -t " VIP4 ":82 -r 198.19.0.40:82 -i",
	"-A -t " VIP6 ":80 -s rr", "-a -t " VIP6 ":80 -r [2001:db8::21]:8080 -m",
	"-A -t " VIP6 ":81 -s rr", "-a -t " VIP6 ":81 -r [2001:db8:1::40]:81 -g",
	NULL,
};

/* The golden case tun6_too_big's: tunnels of every kind and family behind a small MTU. */
static const char *const sc_too_big[] = {
	"-A -t " VIP6 ":80 -s rr", "-a -t " VIP6 ":80 -r [2001:db8::21]:80 -i",
	"-A -t " VIP6 ":443 -s rr",
	"-a -t " VIP6 ":443 -r [2001:db8::22]:443 -i --tun-type gue --tun-port 6080",
	"-A -t " VIP6 ":8443 -s rr",
	"-a -t " VIP6 ":8443 -r 198.18.0.23:8443 -i --tun-type gue --tun-port 6080",
	"-A -t " VIP4 ":80 -s rr", "-a -t " VIP4 ":80 -r [2001:db8::23]:80 -i",
	"-A -t " VIP4 ":443 -s rr",
	"-a -t " VIP4 ":443 -r 198.18.0.22:443 -i --tun-type gue --tun-port 6080 --tun-csum",
	NULL,
};

static const char *const sc_empty[] = { NULL };

/* The last scenario runs without a generation, as workers do before the first one. */
static const char *const *const scenarios[] = {
	sc_nat, sc_dr, sc_ipip, sc_gue, sc_persist, sc_fwmark, sc_sched, sc_resolve, sc_too_big,
	sc_empty, NULL,
};
#define SC_RESOLVE 7
#define NB_SCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

/* ---- the dataplane ---------------------------------------------------------------------- */

static struct xvs_dp dp;
static struct xvs_worker *workers[NB_WORKERS];
static void *conn_mem[NB_WORKERS];
static struct xvs_dest_load *loads[NB_WORKERS];
static struct rte_ring *rings[NB_WORKERS]; /* rings[i]: from worker i to the other */
static struct rte_mempool *pool;
static struct xvs_gen *gens[NB_SCENARIOS][2]; /* as configured, then changed (churn) */
static struct xvs_neigh_table *neigh_static[2]; /* the static neighbours; [1] without .21 */
static long nb_bufs;                           /* frame buffers not yet freed */
static unsigned nb_sent;                       /* frames transmitted by this input */
static int trace;                              /* XVS_FUZZ_TRACE: say what each input did */
static const uint16_t mtus[4] = { 1500, 1400, 1280, 9000 };

static const struct rte_ether_addr port_mac[2] = {
	{ .addr_bytes = { 0x02, 0, 0, 0, 0, 0x01 } },
	{ .addr_bytes = { 0x02, 0, 0, 0, 0, 0x02 } },
};

static uint32_t ip4(const char *s)
{
	union xvs_ip a;
	if (inet_pton(AF_INET, s, &a.v4) != 1)
		fuzz_die("bad address %s", s);
	return a.v4;
}

static union xvs_ip ip6(const char *s)
{
	union xvs_ip a;
	if (inet_pton(AF_INET6, s, a.v6) != 1)
		fuzz_die("bad address %s", s);
	return a;
}

static void setup_port(unsigned i, const char *name, const char *a4, uint8_t l4, const char *a6)
{
	struct xvs_port *pt = &dp.ports[i];
	snprintf(pt->name, sizeof(pt->name), "%s", name);
	pt->port_id = (uint16_t)i;
	pt->mac = port_mac[i];
	pt->mac_set = 1;
	pt->addr[0] = ip4(a4);
	pt->plen[0] = l4;
	pt->nb_addrs = 1;
	pt->addr6[0] = ip6(a6);
	pt->plen6[0] = 64;
	pt->nb_addrs6 = 1;
	pt->mtu = 1500;
	union xvs_ip p6 = pt->addr6[0];
	if (xvs_route_add(&dp.routes, pt->addr[0], l4, 0, (uint16_t)i) < 0 ||
	    xvs_route6_add(&dp.routes6, &p6, 64, NULL, (uint16_t)i) < 0)
		fuzz_die("connected routes of %s", name);
}

static void *alloc64(size_t size)
{
	void *p = NULL;
	return posix_memalign(&p, 64, size) == 0 ? p : NULL;
}

/* The golden cases' neighbours on p0 (clients .10-.18, servers .21-.23), the gateways on p1. */
static struct xvs_neigh_table *static_neighbours(int without_21)
{
	static const unsigned hosts[] = { 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
					  0x21, 0x22, 0x23 };
	struct xvs_neigh_table *t = alloc64(sizeof(*t));
	if (!t)
		fuzz_die("no memory for the neighbour table");
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		unsigned h = hosts[i] >> 4 == 1 ? 10 + (hosts[i] & 0xf) : 20 + (hosts[i] & 0xf);
		struct rte_ether_addr mac = { .addr_bytes = { 0x02, 0, 0, 0, 0, (uint8_t)h } };
		char a[64];
		if (without_21 && h == 21)
			continue;
		snprintf(a, sizeof(a), "198.18.0.%u", h);
		union xvs_ip v4 = { .d = { ip4(a), 0 } };
		snprintf(a, sizeof(a), "2001:db8::%x", hosts[i]);
		union xvs_ip v6 = ip6(a);
		if (xvs_neigh_learn_ip(t, 0, XVS_AF_INET, &v4, &mac, XVS_NEIGH_CONFIG, 0) < 0 ||
		    xvs_neigh_learn_ip(t, 0, XVS_AF_INET6, &v6, &mac, XVS_NEIGH_CONFIG, 0) < 0)
			fuzz_die("static neighbours");
	}
	struct rte_ether_addr gw = { .addr_bytes = { 0x02, 0, 0, 0, 0x01, 0xfe } };
	union xvs_ip g4 = { .d = { ip4("198.19.0.254"), 0 } }, g6 = ip6("2001:db8:1::fe");
	if (xvs_neigh_learn_ip(t, 1, XVS_AF_INET, &g4, &gw, XVS_NEIGH_CONFIG, 0) < 0 ||
	    xvs_neigh_learn_ip(t, 1, XVS_AF_INET6, &g6, &gw, XVS_NEIGH_CONFIG, 0) < 0)
		fuzz_die("static neighbours");
	return t;
}

static void setup_network(void)
{
	setup_port(0, "p0", "198.18.0.1", 24, "2001:db8::1");
	setup_port(1, "p1", "198.19.0.1", 24, "2001:db8:1::1");
	dp.nb_ports = 2;
	union xvs_ip any6 = { .d = { 0, 0 } }, gw6 = ip6("2001:db8:1::fe");
	if (xvs_route_add(&dp.routes, 0, 0, ip4("198.19.0.254"), 1) < 0 ||
	    xvs_route6_add(&dp.routes6, &any6, 0, &gw6, 1) < 0)
		fuzz_die("default routes");
	neigh_static[0] = static_neighbours(0);
	neigh_static[1] = static_neighbours(1);
	if (!(dp.neigh = alloc64(sizeof(*dp.neigh))))
		fuzz_die("no memory for the neighbour table");
}

/*
 * What changes between a scenario's two generations, as operators change a running table:
 * each service's first real server is deleted (its slot stays, in the trash, for the
 * connections it has) and its second quiesced (weight 0); the timeouts get shorter.
 */
static void churn(struct xvs_ctl_model *m, unsigned sc)
{
	struct xvs_ctl_op *ops = calloc(2 * XVS_MAX_SVCS + 1, sizeof(*ops));
	struct xvs_ctl_err err;
	unsigned nb = 0;
	if (!ops)
		fuzz_die("no memory");
	for (uint32_t i = 0; i < m->nb_svc_order; i++) {
		unsigned svc = m->svc_order[i], seen = 0;
		for (uint32_t j = 0; j < m->nb_dest_order && seen < 2; j++) {
			const struct xvs_ctl_dest *d = &m->dests[m->dest_order[j]];
			if (d->state != XVS_SLOT_USED || d->svc != svc)
				continue;
			struct xvs_ctl_op *op = &ops[nb++];
			xvs_ctl_op_init(op, seen++ ? XVS_CTL_OP_EDIT_DEST : XVS_CTL_OP_DEL_DEST);
			op->has_svc = true;
			op->svc = m->svcs[svc].cfg;
			op->dest = d->cfg;
			op->dest.weight = 0;
		}
	}
	xvs_ctl_op_init(&ops[nb], XVS_CTL_OP_SET_TIMEOUTS);
	ops[nb].timeouts[0] = 60;
	ops[nb].timeouts[1] = 10;
	ops[nb++].timeouts[2] = 30;
	if (xvs_ctl_model_apply(m, ops, nb, &err) < 0)
		fuzz_die("scenario %u, changes: op %d: %s", sc, err.index, err.msg);
	free(ops);
}

/* A generation of model m, built by control's code and accepted by the dataplane's check. */
static struct xvs_gen *build_gen(const struct xvs_ctl_model *m, unsigned sc, uint64_t nr)
{
	char msg[256];
	struct xvs_gen *g = malloc(sizeof(*g));
	if (!g || xvs_ctl_build_gen(m, g, msg, sizeof(msg)) < 0)
		fuzz_die("scenario %u: %s", sc, g ? msg : "no memory");
	g->gen = nr;
	xvs_gen_seal(g);
	if (xvs_gen_validate(g, msg, sizeof(msg)) < 0)
		fuzz_die("scenario %u is refused: %s", sc, msg);
	return g;
}

/* Scenario sc's generations: as configured, then after churn(). */
static void build_gens(unsigned sc)
{
	struct xvs_ctl_model *m = fuzz_model_new(scenarios[sc]);
	gens[sc][0] = build_gen(m, sc, 100 + 2 * sc);
	churn(m, sc);
	gens[sc][1] = build_gen(m, sc, 101 + 2 * sc);
	xvs_ctl_model_free(m);
}

static uint16_t capture_tx(struct xvs_worker *w, uint16_t port, struct rte_mbuf **pkts, uint16_t n);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	/* EAL in ordinary memory, no devices, the main lcore free to run on any of our CPUs */
	const struct xvs_inproc_eal eal = { .prog = (*argv)[0], .name = "fuzz", .mem_mb = 64 };
	char prefix[XVS_INPROC_PREFIX_MAX];
	int rc = xvs_inproc_eal_start(&eal, prefix);
	if (rc < 0)
		fuzz_die("EAL: %s", rte_strerror(-rc));
	pool = xvs_inproc_pool_create("fuzz_pool", POOL_SIZE, 0, SOCKET_ID_ANY);
	if (!pool)
		fuzz_die("mbuf pool: %s", rte_strerror(rte_errno));
	if ((rc = xvs_inproc_shm_open(&dp.shm, prefix)) < 0)
		fuzz_die("shared region: %s", strerror(-rc));
	dp.cfg.conn_max = CONN_MAX;
	dp.tsc_hz = TSC_HZ;
	xvs_nud_cfg_init(&dp.nud, TSC_HZ, 0);
	dp.steer.key[0] = 0x9e3779b97f4a7c15ULL;
	dp.steer.key[1] = 0x632be59bd9b4e019ULL;
	setup_network();
	for (unsigned i = 0; i < NB_WORKERS; i++) {
		char name[32];
		workers[i] = alloc64(sizeof(struct xvs_worker));
		conn_mem[i] = alloc64(xvs_conn_table_memsize(CONN_MAX));
		loads[i] = calloc(XVS_MAX_DESTS, sizeof(*loads[i]));
		snprintf(name, sizeof(name), "fuzz_ho_%u", i);
		rings[i] = rte_ring_create(name, XVS_HANDOFF_RING, SOCKET_ID_ANY,
					   RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!workers[i] || !conn_mem[i] || !loads[i] || !rings[i])
			fuzz_die("no memory for worker %u", i);
	}
	if (scenarios[SC_RESOLVE] != sc_resolve)
		fuzz_die("SC_RESOLVE does not name sc_resolve");
	for (unsigned i = 0; i + 1 < NB_SCENARIOS; i++)
		build_gens(i);
	trace = getenv("XVS_FUZZ_TRACE") != NULL;
	return 0;
}

/* ---- frames ------------------------------------------------------------------------------ */

struct fbuf {
	struct rte_mbuf_ext_shared_info shinfo;
	uint8_t data[];
};

static void fbuf_free(void *addr, void *opaque)
{
	(void)addr;
	free(opaque);
	nb_bufs--;
}

/* An mbuf whose data lives in a heap buffer of its own, sized to the frame (+ tail). */
static struct rte_mbuf *frame_mbuf(const uint8_t *p, uint16_t len, uint16_t tail, uint16_t port)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint16_t buf_len = (uint16_t)(HEADROOM + len + tail);
	struct fbuf *fb = m ? malloc(sizeof(*fb) + buf_len) : NULL;
	if (!fb)
		fuzz_die("no mbuf or buffer for a frame");
	nb_bufs++;
	memset(fb->data, FILL, buf_len);
	fb->shinfo.free_cb = fbuf_free;
	fb->shinfo.fcb_opaque = fb;
	rte_mbuf_ext_refcnt_set(&fb->shinfo, 1);
	rte_pktmbuf_attach_extbuf(m, fb->data, (rte_iova_t)(uintptr_t)fb->data, buf_len, &fb->shinfo);
	m->data_off = HEADROOM;
	memcpy(fb->data + HEADROOM, p, len);
	m->data_len = m->pkt_len = len;
	m->port = port;
	return m;
}

static uint16_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The checksums a fuzzer cannot compute: IPv4 header, ICMP, ICMPv6 (no extension headers). */
static void fix_checksums(uint8_t *f, size_t len)
{
	if (len >= 34 && f[12] == 0x08 && f[13] == 0x00) {
		uint8_t *ip = f + 14;
		size_t ihl = (size_t)(ip[0] & 0xf) * 4, tot = (size_t)ip[2] << 8 | ip[3];
		if (ihl < 20 || 14 + ihl > len)
			return;
		put16(ip + 10, 0);
		put16(ip + 10, (uint16_t)~sum16(ip, ihl, 0));
		if (ip[9] != IPPROTO_ICMP || tot < ihl + 4 || 14 + tot > len || (ip[6] & 0x3f) || ip[7])
			return;
		put16(ip + ihl + 2, 0);
		put16(ip + ihl + 2, (uint16_t)~sum16(ip + ihl, tot - ihl, 0));
	} else if (len >= 58 && f[12] == 0x86 && f[13] == 0xdd && f[20] == IPPROTO_ICMPV6) {
		uint8_t *ip = f + 14;
		size_t plen = (size_t)ip[4] << 8 | ip[5];
		if (plen < 4 || 54 + plen > len)
			return;
		uint32_t s = sum16(ip + 8, 32, 0) + (uint32_t)plen + IPPROTO_ICMPV6;
		put16(ip + 42, 0);
		put16(ip + 42, (uint16_t)~sum16(ip + 40, plen, s));
	}
}

/* What every frame xvs sends must be. */
static void check_sent(uint16_t port, const struct rte_mbuf *m)
{
	if (port >= dp.nb_ports)
		fuzz_die("a frame sent on port %u of %u", port, dp.nb_ports);
	if (m->nb_segs != 1 || m->pkt_len != m->data_len || m->data_len < RTE_ETHER_HDR_LEN ||
	    (uint32_t)m->data_off + m->data_len > m->buf_len)
		fuzz_die("a malformed mbuf sent: %u segments, lengths %u/%u, %u bytes at %u of %u",
			 m->nb_segs, m->pkt_len, m->data_len, m->data_len, m->data_off, m->buf_len);
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	size_t len = m->data_len, l3 = len - RTE_ETHER_HDR_LEN;
	if (memcmp(f + 6, &dp.ports[port].mac, 6) != 0)
		fuzz_die("a frame sent on port %u not from its MAC", port);
	if (l3 > dp.ports[port].mtu)
		fuzz_die("a frame of %zu bytes of IP sent on a port of MTU %u", l3, dp.ports[port].mtu);
	if (f[12] == 0x08 && f[13] == 0x00) {
		const uint8_t *ip = f + 14;
		size_t ihl = l3 ? (size_t)(ip[0] & 0xf) * 4 : 0, tot = l3 >= 4 ? (size_t)ip[2] << 8 | ip[3] : 0;
		if (l3 < 20 || ip[0] >> 4 != 4 || ihl < 20 || ihl > l3 || tot < ihl || tot > l3)
			fuzz_die("an IPv4 frame sent with a bad header (%zu bytes, ihl %zu, length %zu)",
				 l3, ihl, tot);
		if (sum16(ip, ihl, 0) != 0xffff)
			fuzz_die("an IPv4 frame sent with a bad header checksum");
	} else if (f[12] == 0x86 && f[13] == 0xdd) {
		const uint8_t *ip = f + 14;
		if (l3 < 40 || ip[0] >> 4 != 6 || 40 + ((size_t)ip[4] << 8 | ip[5]) > l3)
			fuzz_die("an IPv6 frame sent with a bad header (%zu bytes)", l3);
	}
}

/* The transmit hook: check what the worker sends, then free it as a NIC's completion. */
static uint16_t capture_tx(struct xvs_worker *w, uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	(void)w;
	for (uint16_t i = 0; i < n; i++) {
		check_sent(port, pkts[i]);
		if (trace)
			fprintf(stderr, "  sent on p%u: %u bytes\n", port, pkts[i]->data_len);
		rte_pktmbuf_free(pkts[i]);
		nb_sent++;
	}
	return n;
}

/* ---- one input --------------------------------------------------------------------------- */

static unsigned nb_workers;

static void reset(uint8_t setup, uint8_t ports)
{
	unsigned sc = (setup & 0xf) % NB_SCENARIOS;
	nb_workers = setup & 0x10 ? 2 : 1;
	dp.cfg.sloppy_tcp = dp.cfg.sloppy_sctp = !!(setup & 0x20);
	dp.cfg.expire_nodest_conn = dp.cfg.expire_quiescent_template = !!(setup & 0x40);
	for (unsigned p = 0; p < dp.nb_ports; p++)
		dp.ports[p].mtu = mtus[ports & 3];
	dp.ports[0].tun_src = ports & 4 ? ip4("198.19.254.0") : 0;
	dp.ports[0].tun_src_len = ports & 4 ? 23 : 0;
	dp.nb_workers = nb_workers;
	dp.steer.nb_workers = nb_workers;
	dp.cfg.conn_max = ports & 8 ? CONN_MIN : CONN_MAX;
	dp.cfg.consistent_midflow = !(ports & 0x10);
	memcpy(dp.neigh, neigh_static[sc == SC_RESOLVE], sizeof(*dp.neigh));
	for (unsigned i = 0; i < nb_workers; i++) {
		struct xvs_worker *w = workers[i];
		memset(conn_mem[i], 0, xvs_conn_table_memsize(dp.cfg.conn_max));
		if (xvs_worker_init(w, &dp, i, conn_mem[i]) < 0 ||
		    xvs_conn_table_init(&w->conns, conn_mem[i], dp.cfg.conn_max, 0x5eed + i) < 0)
			fuzz_die("worker %u", i);
		w->tx = capture_tx;
		w->start_tsc = w->now_tsc = TSC_HZ; /* a fixed clock: inputs replay exactly */
		if (nb_workers > 1) {
			memset(loads[i], 0, XVS_MAX_DESTS * sizeof(*loads[i]));
			w->others = loads[i];
			w->ho_ring[1 - i] = rings[i];
			w->hi_ring[1 - i] = rings[1 - i];
		}
	}
}

static void tick(const struct xvs_gen *g, unsigned step)
{
	static const uint64_t secs[4] = { 0, 1, 10, 1000 };
	if (!step)
		return;
	for (unsigned i = 0; i < nb_workers; i++) {
		workers[i]->now_tsc += secs[step] * TSC_HZ;
		xvs_worker_tick(workers[i], g);
	}
}

/* Hand-offs until nothing moves, the transmit queues, then what the rings still hold. */
static void settle(const struct xvs_gen *g)
{
	for (unsigned round = 0; round < 64; round++) {
		unsigned moved = 0;
		for (unsigned i = 0; i < nb_workers; i++)
			if (nb_workers > 1)
				moved += xvs_worker_drain(workers[i], g);
		for (unsigned i = 0; i < nb_workers; i++)
			xvs_worker_flush(workers[i]);
		if (!moved)
			break;
	}
	void *m;
	for (unsigned i = 0; i < NB_WORKERS; i++)
		while (rte_ring_sc_dequeue(rings[i], &m) == 0)
			rte_pktmbuf_free(m);
}

/* As a worker stops (xvs_worker_loop): frames still waiting for a neighbour are freed. */
static void stop(const struct xvs_gen *g)
{
	settle(g);
	for (unsigned i = 0; i < nb_workers; i++) {
		struct xvs_worker *w = workers[i];
		if (trace && w->nb_held)
			fprintf(stderr, "fuzz_worker: worker %u still holds %u frames\n", i, w->nb_held);
		for (unsigned k = 0; k < w->nb_held; k++)
			rte_pktmbuf_free(w->held[k].m);
		w->nb_held = 0;
		xvs_worker_flush(w);
	}
	if (trace) {
		fprintf(stderr, "fuzz_worker: %u frames sent; drops:", nb_sent);
		for (unsigned i = 0; i < nb_workers; i++)
			for (unsigned d = 0; d < XVS_DROP_MAX; d++)
				if (workers[i]->st->drops[d])
					fprintf(stderr, " %s %llu", xvs_drop_names[d],
						(unsigned long long)workers[i]->st->drops[d]);
		fputc('\n', stderr);
	}
	unsigned avail = rte_mempool_avail_count(pool);
	if (avail != POOL_SIZE || nb_bufs != 0)
		fuzz_die("mbufs leaked: %u of %u in the pool, %ld frame buffers not freed", avail,
			 POOL_SIZE, nb_bufs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	unsigned sc = (data[0] & 0xf) % NB_SCENARIOS;
	const struct xvs_gen *g = gens[sc][0];
	uint16_t tail = data[0] & 0x80 ? NIC_TAIL : 0;
	reset(data[0], data[1]);
	nb_sent = 0;
	struct rte_mbuf *burst[XVS_BURST];
	unsigned nb = 0, port = 0, wk = 0;
	uint8_t scratch[9014 + 1];
	size_t at = 2;
	for (unsigned f = 0; f < MAX_FRAMES && at + 3 <= size; f++) {
		uint8_t ctl = data[at];
		size_t len = (size_t)data[at + 1] << 8 | data[at + 2];
		at += 3;
		if (len > size - at)
			len = size - at;
		const uint8_t *p = data + at;
		at += len;
		unsigned in_port = ctl & 1, in_wk = nb_workers > 1 ? (ctl >> 1) & 1 : 0;
		/* a NIC delivers no more than the MTU (and the Ethernet header) */
		if (len > (size_t)dp.ports[in_port].mtu + RTE_ETHER_HDR_LEN)
			len = (size_t)dp.ports[in_port].mtu + RTE_ETHER_HDR_LEN;
		if (ctl & 0x10) {
			memcpy(scratch, p, len);
			fix_checksums(scratch, len);
			p = scratch;
		}
		int next_gen = (ctl & 0x40) && g == gens[sc][0] && g;
		int join = (ctl & 0x20) && nb && in_port == port && in_wk == wk && nb < XVS_BURST &&
			   !(ctl & 0x0c) && !next_gen;
		if (nb && !join) {
			xvs_worker_process(workers[wk], g, (uint16_t)port, burst, (uint16_t)nb);
			settle(g);
			nb = 0;
		}
		if (next_gen)
			g = gens[sc][1];
		tick(g, (ctl >> 2) & 3);
		port = in_port;
		wk = in_wk;
		burst[nb++] = frame_mbuf(p, (uint16_t)len, tail, (uint16_t)in_port);
	}
	if (nb) {
		xvs_worker_process(workers[wk], g, (uint16_t)port, burst, (uint16_t)nb);
		settle(g);
	}
	stop(g);
	return 0;
}
