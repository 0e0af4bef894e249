/* The dataplane around xvs-bench's workers (bench_dp.h). Main lcore, at start. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_malloc.h>

#include "bench_dp.h"
#include "bench_frames.h"
#include "inproc_eal.h"
#include "xvs/gen.h"
#include "xvs/sched.h"

static void setup_port(struct xvs_dp *dp, unsigned i, const char *name, uint32_t addr, uint8_t plen)
{
	struct xvs_port *pt = &dp->ports[i];
	snprintf(pt->name, sizeof(pt->name), "%s", name);
	pt->port_id = (uint16_t)i;
	pt->mac = bench_port_mac[i];
	pt->mac_set = 1;
	pt->addr[0] = rte_cpu_to_be_32(addr);
	pt->plen[0] = plen;
	pt->nb_addrs = 1;
	pt->mtu = PORT_MTU; /* what dp_port.c fills in from the device */
}

/* The IPv6 half of setup_network: port addresses, connected routes, the clients' route. */
static int setup_network6(struct xvs_dp *dp)
{
	union xvs_ip p0 = ip6(NET6_PORT0, rte_cpu_to_be_32(1)), p1 = ip6(NET6_PORT1, rte_cpu_to_be_32(1));
	union xvs_ip gw = ip6(NET6_PORT0, rte_cpu_to_be_32(HOST6_GW)), cl = ip6(NET6_CLIENT, 0);
	dp->ports[0].addr6[0] = p0;
	dp->ports[0].plen6[0] = 64;
	dp->ports[0].nb_addrs6 = 1;
	dp->ports[1].addr6[0] = p1;
	dp->ports[1].plen6[0] = 64;
	dp->ports[1].nb_addrs6 = 1;
	if (xvs_route6_add(&dp->routes6, &p0, 64, NULL, 0) < 0 ||
	    xvs_route6_add(&dp->routes6, &p1, 64, NULL, 1) < 0 ||
	    xvs_route6_add(&dp->routes6, &cl, 64, &gw, 0) < 0)
		return -ENOSPC;
	int rc = xvs_neigh_learn_ip(dp->neigh, 0, XVS_AF_INET6, &gw, &bench_gw_mac, XVS_NEIGH_CONFIG, 0);
	for (unsigned i = 0; i < NB_DESTS && rc == 0; i++) {
		struct rte_ether_addr m = rs_mac(i);
		union xvs_ip a = rs_addr6(i);
		rc = xvs_neigh_learn_ip(dp->neigh, 1, XVS_AF_INET6, &a, &m, XVS_NEIGH_CONFIG, 0);
	}
	return rc;
}

/* Ports, connected routes, the route to the clients and static neighbours, as main() does. */
static int setup_network(struct xvs_dp *dp)
{
	setup_port(dp, 0, "client", PORT0_ADDR, 24);
	setup_port(dp, 1, "server", PORT1_ADDR, 16);
	/* Tunnels take their outer source per flow from a prefix, as deployed for RSS. */
	dp->ports[1].tun_src = rte_cpu_to_be_32(TUN_SRC);
	dp->ports[1].tun_src_len = TUN_SRC_LEN;
	dp->nb_ports = 2;
	if (xvs_route_add(&dp->routes, rte_cpu_to_be_32(PORT0_ADDR), 24, 0, 0) < 0 ||
	    xvs_route_add(&dp->routes, rte_cpu_to_be_32(PORT1_ADDR), 16, 0, 1) < 0 ||
	    xvs_route_add(&dp->routes, rte_cpu_to_be_32(CLIENT_NET), 10, rte_cpu_to_be_32(GW_ADDR), 0) < 0)
		return -ENOSPC;
	dp->neigh = rte_zmalloc("bench_neigh", sizeof(*dp->neigh), 64);
	if (!dp->neigh)
		return -ENOMEM;
	int rc = xvs_neigh_learn(dp->neigh, 0, rte_cpu_to_be_32(GW_ADDR), &bench_gw_mac, XVS_NEIGH_CONFIG, 0);
	for (unsigned i = 0; i < NB_DESTS && rc == 0; i++) {
		struct rte_ether_addr m = rs_mac(i);
		rc = xvs_neigh_learn(dp->neigh, 1, rs_addr(i), &m, XVS_NEIGH_CONFIG, 0);
	}
	return rc == 0 ? setup_network6(dp) : rc;
}

/* Service k: TCP VIP+k:80 (or its IPv6 VIP) -> NB_DESTS real servers with method k, rr. */
static int build_svc(struct xvs_gen *g, enum svc_kind k)
{
	static const uint8_t fwd[NB_SVCS] = { XVS_FWD_MASQ, XVS_FWD_DROUTE, XVS_FWD_TUNNEL,
					      XVS_FWD_TUNNEL, XVS_FWD_MASQ, XVS_FWD_DROUTE,
					      XVS_FWD_TUNNEL, XVS_FWD_TUNNEL };
	struct xvs_svc *s = &g->svcs[k];
	uint16_t first = (uint16_t)(k * NB_DESTS);
	uint8_t af = svc_is6(k) ? XVS_AF_INET6 : XVS_AF_INET;
	*s = (struct xvs_svc){ .state = XVS_SLOT_USED, .af = af, .proto = XVS_PROTO_TCP,
			       .sched = XVS_SCHED_RR, .port_be = rte_cpu_to_be_16(VPORT),
			       .dest_first = first, .nb_dests = NB_DESTS, .sched_epoch = 1 };
	if (svc_is6(k))
		s->addr = svc_vip6(k);
	else
		s->addr.v4 = svc_vip(k);
	const struct xvs_dest *list[NB_DESTS];
	for (unsigned i = 0; i < NB_DESTS; i++) {
		struct xvs_dest *d = &g->dests[first + i];
		int nat = k == SVC_NAT || k == SVC_NAT6;
		*d = (struct xvs_dest){ .state = XVS_SLOT_USED, .af = af, .fwd = fwd[k],
					.port_be = rte_cpu_to_be_16(nat ? RS_PORT : VPORT),
					.svc = (uint16_t)k, .weight = 1 };
		if (svc_is6(k))
			d->addr = rs_addr6(i);
		else
			d->addr.v4 = rs_addr(i);
		if (k == SVC_GUE || k == SVC_GUE6) {
			d->tun_type = XVS_TUN_TYPE_GUE;
			d->tun_port_be = rte_cpu_to_be_16(GUE_PORT);
		}
		g->svc_dests[first + i] = (uint16_t)(first + i);
		list[i] = d;
	}
	return xvs_sched_all[XVS_SCHED_RR]->build(s, list, NB_DESTS);
}

static int build_gen(struct xvs_gen *g)
{
	memset(g, 0, sizeof(*g));
	g->gen = 1;
	g->nb_svcs = NB_SVCS;
	g->nb_dests = g->nb_svc_dests = NB_SVCS * NB_DESTS;
	g->timeouts = (struct xvs_timeouts){ .tcp = 900, .tcpfin = 120, .udp = 300 };
	int rc = 0;
	for (unsigned k = 0; k < NB_SVCS && rc == 0; k++)
		rc = build_svc(g, (enum svc_kind)k);
	if (rc == 0)
		rc = xvs_gen_build_vip_hash(g);
	xvs_gen_seal(g);
	return rc;
}

/* Publish the generation in a shared region as control does, and adopt it as main does. */
static int adopt_gen(struct xvs_dp *dp, const char *prefix)
{
	int rc = xvs_inproc_shm_open(&dp->shm, prefix);
	if (rc < 0)
		return rc;
	struct xvs_gen *mine = rte_zmalloc("bench_gen", sizeof(*mine), 64);
	struct xvs_gen *g0 = rte_zmalloc("bench_gen0", sizeof(*g0), 64);
	struct xvs_gen *g1 = rte_zmalloc("bench_gen1", sizeof(*g1), 64);
	if (!mine || !g0 || !g1)
		return -ENOMEM;
	if ((rc = build_gen(mine)) < 0)
		return rc;
	struct xvs_shm_hdr *h = dp->shm.hdr;
	memcpy(xvs_shm_slot(&dp->shm, 0), mine, sizeof(*mine));
	atomic_store(&h->slot_gen[0], mine->gen);
	atomic_store(&h->published, XVS_PUB(mine->gen, 0));
	rte_free(mine);
	xvs_dp_adopt_init(&dp->gens, &dp->shm, g0, g1, 1);
	if (xvs_dp_adopt_poll(&dp->gens) != 1) {
		fprintf(stderr, "xvs-bench: generation refused: %s\n", dp->gens.reason);
		return -EINVAL;
	}
	xvs_dp_gen_get(&dp->gens, 0); /* the worker's quiescent state */
	xvs_dp_adopt_poll(&dp->gens);
	return atomic_load(&h->adopted) == atomic_load(&h->published) ? 0 : -EAGAIN;
}

int bench_dp_setup(struct xvs_dp *dp, const char *prefix)
{
	int rc = setup_network(dp);
	return rc < 0 ? rc : adopt_gen(dp, prefix);
}
