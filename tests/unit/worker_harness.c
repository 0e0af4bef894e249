/* A real dataplane worker on real mbufs, for unit tests (worker_harness.h). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>

#include "ctl_publish.h"
#include "inproc_eal.h"
#include "worker_harness.h"

const struct rte_ether_addr wh_lb_mac = { .addr_bytes = { 0x02, 0, 0, 0, 0, 0x01 } };
const struct rte_ether_addr wh_client_mac = { .addr_bytes = { 0x02, 0, 0, 0, 0, 0x0a } };

struct xvs_dp wh_dp;
struct rte_mempool *wh_pool;
unsigned wh_nb_sent;
unsigned wh_tx_room = ~0u;

static unsigned pool_size;
static char eal_prefix[XVS_INPROC_PREFIX_MAX];

uint32_t wh_ip4(const char *s)
{
	uint32_t a;
	cr_assert_eq(inet_pton(AF_INET, s, &a), 1, "address %s", s);
	return a;
}

void *wh_alloc64(size_t size)
{
	void *p = NULL;
	cr_assert_eq(posix_memalign(&p, 64, size), 0);
	memset(p, 0, size);
	return p;
}

/* ---- set-up ------------------------------------------------------------------------------ */

/* EAL in ordinary memory, no devices, its one lcore free on any of our CPUs. */
static void start_eal(const char *name)
{
	char argv0[64], prefix_name[64];
	snprintf(argv0, sizeof(argv0), "test_%s", name);
	snprintf(prefix_name, sizeof(prefix_name), "unit-%s", name);
	const struct xvs_inproc_eal c = { .prog = argv0, .name = prefix_name, .mem_mb = 64 };
	int rc = xvs_inproc_eal_start(&c, eal_prefix);
	cr_assert_geq(rc, 0, "EAL: %s", rte_strerror(-rc));
}

/* Port p0: LB_IP/24, its MAC, MTU 1500, the connected route. */
static void add_port(void)
{
	struct xvs_port *pt = &wh_dp.ports[0];
	snprintf(pt->name, sizeof(pt->name), "p0");
	pt->mac = wh_lb_mac;
	pt->mac_set = 1;
	pt->addr[0] = wh_ip4(WH_LB_IP);
	pt->plen[0] = 24;
	pt->nb_addrs = 1;
	pt->mtu = 1500;
	wh_dp.nb_ports = 1;
	cr_assert_geq(xvs_route_add(&wh_dp.routes, pt->addr[0], 24, 0, 0), 0);
}

void wh_start(const char *name, unsigned size)
{
	start_eal(name);
	pool_size = size;
	wh_pool = xvs_inproc_pool_create("unit_pool", size, 0, SOCKET_ID_ANY);
	cr_assert_not_null(wh_pool, "mbuf pool: %s", rte_strerror(rte_errno));
	int rc = xvs_inproc_shm_open(&wh_dp.shm, eal_prefix);
	cr_assert_eq(rc, 0, "shared region: %s", strerror(-rc));
	wh_dp.cfg.conn_max = WH_CONN_MAX;
	wh_dp.tsc_hz = WH_TSC_HZ;
	xvs_nud_cfg_init(&wh_dp.nud, WH_TSC_HZ, 0);
	add_port();
	wh_dp.neigh = wh_alloc64(sizeof(*wh_dp.neigh));
}

void wh_neigh(const char *addr, uint16_t id)
{
	struct rte_ether_addr mac = { .addr_bytes = { 0x02, 0, 0, 0, (uint8_t)(id >> 8), (uint8_t)id } };
	union xvs_ip a = { .d = { wh_ip4(addr), 0 } };
	cr_assert_geq(xvs_neigh_learn_ip(wh_dp.neigh, 0, XVS_AF_INET, &a, &mac, XVS_NEIGH_CONFIG, 0), 0,
		      "neighbour %s", addr);
}

/* ---- the generation ---------------------------------------------------------------------- */

struct xvs_ctl_op wh_svc_op(uint8_t proto, uint16_t port, uint32_t persist)
{
	struct xvs_ctl_op op;
	xvs_ctl_op_init(&op, XVS_CTL_OP_ADD_SVC);
	op.svc.proto = proto;
	op.svc.addr.v4 = wh_ip4(WH_VIP);
	op.svc.port = port;
	op.svc.persistent = persist;
	snprintf(op.svc.sched, sizeof(op.svc.sched), "rr");
	return op;
}

struct xvs_ctl_op wh_dest_op(uint8_t proto, uint16_t vport, const char *addr, uint16_t port,
			     uint8_t fwd)
{
	struct xvs_ctl_op op = wh_svc_op(proto, vport, 0);
	op.type = XVS_CTL_OP_ADD_DEST;
	op.has_svc = true;
	op.dest.addr.v4 = wh_ip4(addr);
	op.dest.port = port;
	op.dest.fwd = fwd;
	return op;
}

struct xvs_gen *wh_gen_build(const struct xvs_ctl_op *ops, size_t n)
{
	struct xvs_ctl_model *m = xvs_ctl_model_new(NULL);
	struct xvs_ctl_err err;
	cr_assert_not_null(m);
	cr_assert_eq(xvs_ctl_model_apply(m, ops, n, &err), 0, "op %d: %s", err.index, err.msg);
	struct xvs_gen *g = malloc(sizeof(*g));
	char msg[256];
	cr_assert_not_null(g);
	cr_assert_geq(xvs_ctl_build_gen(m, g, msg, sizeof(msg)), 0, "%s", msg);
	xvs_ctl_model_free(m);
	return g;
}

void wh_gen_seal(struct xvs_gen *g)
{
	char msg[256];
	xvs_gen_seal(g);
	cr_assert_eq(xvs_gen_validate(g, msg, sizeof(msg)), 0, "%s", msg);
}

/* ---- workers ----------------------------------------------------------------------------- */

/* Frees what it takes, as a NIC's completion does; takes at most wh_tx_room. */
static uint16_t tx_counted(struct xvs_worker *w, uint16_t port, struct rte_mbuf **pkts,
			   uint16_t n)
{
	(void)w;
	(void)port;
	uint16_t take = n < wh_tx_room ? n : (uint16_t)wh_tx_room;
	for (uint16_t i = 0; i < take; i++)
		rte_pktmbuf_free(pkts[i]);
	wh_nb_sent += take;
	return take;
}

struct xvs_worker *wh_worker(unsigned idx)
{
	struct xvs_worker *w = wh_alloc64(sizeof(*w));
	void *conn_mem = wh_alloc64(xvs_conn_table_memsize(WH_CONN_MAX));
	cr_assert_eq(xvs_worker_init(w, &wh_dp, idx, conn_mem), 0);
	w->tx = tx_counted;
	return w;
}

/* ---- frames ------------------------------------------------------------------------------ */

static uint16_t csum(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i < n; i += 2)
		s += (uint32_t)p[i] << 8 | (i + 1 < n ? p[i + 1] : 0);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

uint8_t *wh_ip4_frame(uint8_t *f, uint8_t proto, const char *dst, uint16_t l4len, uint16_t id,
		      int df)
{
	memset(f, 0, 34);
	memcpy(f, &wh_lb_mac, 6);
	memcpy(f + 6, &wh_client_mac, 6);
	f[12] = 0x08;
	uint8_t *ip = f + 14;
	uint16_t len = (uint16_t)(20 + l4len);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(len >> 8);
	ip[3] = (uint8_t)len;
	ip[4] = (uint8_t)(id >> 8);
	ip[5] = (uint8_t)id;
	ip[6] = df ? 0x40 : 0;
	ip[8] = 64;
	ip[9] = proto;
	uint32_t s = wh_ip4(WH_CLIENT), d = wh_ip4(dst);
	memcpy(ip + 12, &s, 4);
	memcpy(ip + 16, &d, 4);
	uint16_t c = csum(ip, 20, 0);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	return ip + 20;
}

size_t wh_tcp_frame(uint8_t *f, const struct wh_tcp *t)
{
	uint8_t *tcp = wh_ip4_frame(f, IPPROTO_TCP, t->dst, 20, t->ip_id, t->df);
	memset(tcp, 0, 20);
	tcp[0] = (uint8_t)(t->cport >> 8);
	tcp[1] = (uint8_t)t->cport;
	tcp[2] = (uint8_t)(t->dport >> 8);
	tcp[3] = (uint8_t)t->dport;
	tcp[4] = (uint8_t)(t->seq >> 24);
	tcp[5] = (uint8_t)(t->seq >> 16);
	tcp[6] = (uint8_t)(t->seq >> 8);
	tcp[7] = (uint8_t)t->seq;
	tcp[12] = 0x50;
	tcp[13] = t->flags;
	tcp[14] = (uint8_t)(t->win >> 8);
	tcp[15] = (uint8_t)t->win;
	uint32_t ph = csum(tcp - 8, 8, 0); /* the addresses */
	ph = (uint16_t)~ph + IPPROTO_TCP + 20;
	uint16_t c = csum(tcp, 20, ph);
	tcp[16] = (uint8_t)(c >> 8);
	tcp[17] = (uint8_t)c;
	return 54;
}

struct rte_mbuf *wh_mbuf(const uint8_t *f, size_t len, uint16_t headroom)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(wh_pool);
	cr_assert_not_null(m);
	m->data_off = headroom;
	m->data_len = m->pkt_len = (uint16_t)len;
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), f, len);
	m->port = 0;
	return m;
}

void wh_all_mbufs_back(void)
{
	cr_assert_eq(rte_mempool_avail_count(wh_pool), pool_size, "%u of %u mbufs in the pool",
		     rte_mempool_avail_count(wh_pool), pool_size);
}
