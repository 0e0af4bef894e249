/*
 * Connection sync in a real worker (dataplane/dp_worker.c): a backup's entries make, refresh
 * and replace connections and templates as IPVS's backup does, and the connections it made
 * forward the client's next segment; a master queues a connection at the packets where IPVS
 * syncs it (a closing state at once, ESTABLISHED at the 3rd, 53rd, ... packet) and its
 * template with it. The generation is built by control's code and checked by the dataplane's.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

#include "ctl_model.h"
#include "ctl_publish.h"
#include "dp_sync.h"
#include "dp_worker.h"
#include "xvs/gen.h"

#define POOL_SIZE 255
#define CONN_MAX  1024
#define TSC_HZ    1000000000ULL

#define LB_IP  "198.18.0.1"
#define VIP    "198.18.0.100"
#define CLIENT "198.18.0.10"
#define RS1    "198.18.0.21"
#define RS2    "198.18.0.22"

static const struct rte_ether_addr LB_MAC = { .addr_bytes = { 0x02, 0, 0, 0, 0, 0x01 } };
static const struct rte_ether_addr CLIENT_MAC = { .addr_bytes = { 0x02, 0, 0, 0, 0, 0x0a } };

static struct xvs_dp dp;
static struct rte_mempool *pool;
static struct xvs_gen *gen;
static struct xvs_worker *w;
static char eal_prefix[64];
static unsigned nb_sent;

static uint32_t ip4(const char *s)
{
	uint32_t a;
	cr_assert_eq(inet_pton(AF_INET, s, &a), 1, "address %s", s);
	return a;
}

static union xvs_ip ipx(const char *s)
{
	union xvs_ip a = { .d = { 0, 0 } };
	if (strchr(s, ':'))
		cr_assert_eq(inet_pton(AF_INET6, s, a.v6), 1);
	else
		a.v4 = ip4(s);
	return a;
}

static void *alloc64(size_t size)
{
	void *p = NULL;
	cr_assert_eq(posix_memalign(&p, 64, size), 0);
	memset(p, 0, size);
	return p;
}

static void remove_runtime_dir(void)
{
	char dir[128];
	snprintf(dir, sizeof(dir), "/var/run/dpdk/%s", eal_prefix);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		char f[512];
		if (e->d_name[0] == '.')
			continue;
		snprintf(f, sizeof(f), "%s/%s", dir, e->d_name);
		unlink(f);
	}
	closedir(d);
	rmdir(dir);
}

static void start_eal(void)
{
	static char lcores[32];
	cpu_set_t set;
	int cpu = 0;
	cr_assert_eq(sched_getaffinity(0, sizeof(set), &set), 0);
	while (cpu < CPU_SETSIZE - 1 && !CPU_ISSET(cpu, &set))
		cpu++;
	snprintf(lcores, sizeof(lcores), "0@%d", cpu);
	snprintf(eal_prefix, sizeof(eal_prefix), "xvs-unit-sync-%d", (int)getpid());
	char *av[] = { "test_sync_worker", "--no-huge", "--no-shconf", "-m", "64", "--no-pci",
		       "--no-telemetry", "--file-prefix", eal_prefix, "--lcores", lcores,
		       "--log-level=lib.eal:error", NULL };
	cr_assert_geq(rte_eal_init((int)(sizeof(av) / sizeof(av[0])) - 1, av), 0, "EAL: %s",
		      rte_strerror(rte_errno));
	remove_runtime_dir();
}

static struct xvs_ctl_op svc_op(uint8_t proto, uint16_t port, uint32_t persist)
{
	struct xvs_ctl_op op;
	xvs_ctl_op_init(&op, XVS_CTL_OP_ADD_SVC);
	op.svc.proto = proto;
	op.svc.addr.v4 = ip4(VIP);
	op.svc.port = port;
	op.svc.persistent = persist;
	snprintf(op.svc.sched, sizeof(op.svc.sched), "rr");
	return op;
}

static struct xvs_ctl_op dest_op(uint8_t proto, uint16_t vport, const char *addr, uint8_t fwd)
{
	struct xvs_ctl_op op = svc_op(proto, vport, 0);
	op.type = XVS_CTL_OP_ADD_DEST;
	op.has_svc = true;
	op.dest.addr.v4 = ip4(addr);
	op.dest.port = vport;
	op.dest.fwd = fwd;
	return op;
}

/* TCP VIP:80 DR to RS1 and RS2; TCP VIP:81 NAT to RS1; UDP VIP:53 persistent 60 s, DR to RS1. */
static struct xvs_gen *build_gen(void)
{
	struct xvs_ctl_op ops[] = {
		svc_op(IPPROTO_TCP, 80, 0), dest_op(IPPROTO_TCP, 80, RS1, XVS_FWD_DROUTE),
		dest_op(IPPROTO_TCP, 80, RS2, XVS_FWD_DROUTE),
		svc_op(IPPROTO_TCP, 81, 0), dest_op(IPPROTO_TCP, 81, RS1, XVS_FWD_MASQ),
		svc_op(IPPROTO_UDP, 53, 60), dest_op(IPPROTO_UDP, 53, RS1, XVS_FWD_DROUTE),
	};
	struct xvs_ctl_model *m = xvs_ctl_model_new(NULL);
	struct xvs_ctl_err err;
	cr_assert_not_null(m);
	cr_assert_eq(xvs_ctl_model_apply(m, ops, sizeof(ops) / sizeof(ops[0]), &err), 0,
		     "op %d: %s", err.index, err.msg);
	struct xvs_gen *g = malloc(sizeof(*g));
	char msg[256];
	cr_assert_not_null(g);
	cr_assert_geq(xvs_ctl_build_gen(m, g, msg, sizeof(msg)), 0, "%s", msg);
	xvs_ctl_model_free(m);
	g->gen = 3;
	g->sync[XVS_SYNC_MASTER] = (struct xvs_sync_daemon){
		.on = 1, .ttl = 1, .group_af = XVS_AF_INET, .port = 8848, .maxlen = 1472,
		.ifname = "sync", .group = ipx("224.0.0.81"),
	};
	xvs_gen_seal(g);
	cr_assert_eq(xvs_gen_validate(g, msg, sizeof(msg)), 0, "%s", msg);
	return g;
}

static uint16_t tx_count(struct xvs_worker *wk, uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	(void)wk;
	(void)port;
	for (uint16_t i = 0; i < n; i++)
		rte_pktmbuf_free(pkts[i]);
	nb_sent += n;
	return n;
}

static void setup(void)
{
	start_eal();
	pool = rte_pktmbuf_pool_create("unit_pool", POOL_SIZE, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	cr_assert_not_null(pool, "mbuf pool: %s", rte_strerror(rte_errno));
	xvs_rt.pool = pool;
	char shm_path[128];
	snprintf(shm_path, sizeof(shm_path), "/dev/shm/xvs-unit-sync-%d", (int)getpid());
	int rc = xvs_shm_open(&dp.shm, shm_path, 1);
	unlink(shm_path);
	cr_assert_eq(rc, 0, "shared region: %s", strerror(-rc));
	dp.cfg.conn_max = CONN_MAX;
	dp.tsc_hz = TSC_HZ;
	xvs_nud_cfg_init(&dp.nud, TSC_HZ, 0);
	struct xvs_port *pt = &dp.ports[0];
	snprintf(pt->name, sizeof(pt->name), "p0");
	pt->mac = LB_MAC;
	pt->mac_set = 1;
	pt->addr[0] = ip4(LB_IP);
	pt->plen[0] = 24;
	pt->nb_addrs = 1;
	pt->mtu = 1500;
	dp.nb_ports = 1;
	cr_assert_geq(xvs_route_add(&dp.routes, pt->addr[0], 24, 0, 0), 0);
	dp.neigh = alloc64(sizeof(*dp.neigh));
	static const char *const hosts[] = { CLIENT, RS1, RS2 };
	for (unsigned i = 0; i < 3; i++) {
		struct rte_ether_addr mac = { .addr_bytes = { 0x02, 0, 0, 0, 1, (uint8_t)i } };
		union xvs_ip a = ipx(hosts[i]);
		cr_assert_geq(xvs_neigh_learn_ip(dp.neigh, 0, XVS_AF_INET, &a, &mac, XVS_NEIGH_CONFIG, 0), 0);
	}
	dp.nb_workers = 1;
	gen = build_gen();
	w = alloc64(sizeof(*w));
	cr_assert_eq(xvs_worker_init(w, &dp, 0, alloc64(xvs_conn_table_memsize(CONN_MAX))), 0);
	w->tx = tx_count;
	w->sync_out = alloc64(xvs_sync_ring_memsize(XVS_SYNC_RING));
	w->sync_in = alloc64(xvs_sync_ring_memsize(XVS_SYNC_RING));
	xvs_sync_ring_init(w->sync_out, XVS_SYNC_RING);
	xvs_sync_ring_init(w->sync_in, XVS_SYNC_RING);
	w->sync_cells = alloc64(sizeof(struct xvs_sync_cell) * w->conns.capacity);
	w->now = 100;
}

TestSuite(sync_worker, .init = setup, .timeout = 60);

/* ---- helpers ------------------------------------------------------------------------------ */

static struct xvs_sync_conn entry(uint8_t proto, uint16_t cport, uint16_t vport, const char *rs,
				  uint16_t state, uint32_t flags, uint32_t timeout)
{
	return (struct xvs_sync_conn){
		.af = XVS_AF_INET, .proto = proto, .state = state, .flags = flags,
		.cport = htons(cport), .vport = htons(vport), .dport = htons(vport),
		.timeout = timeout, .caddr = ipx(CLIENT), .vaddr = ipx(VIP), .daddr = ipx(rs),
	};
}

/* The connection (or template) with this original key, or NULL. */
static struct xvs_conn *find(uint8_t proto, const char *src, uint16_t sport, const char *dst,
			     uint16_t dport)
{
	struct xvs_conn_key k = { .src = ip4(src), .dst = ip4(dst), .sport = htons(sport),
				  .dport = htons(dport), .proto = proto };
	uint32_t v = xvs_conn_find(&w->conns, &k, xvs_conn_hash(&w->conns, &k));
	return v ? &w->conns.conns[(v - 1) >> 1] : NULL;
}

static int dest_slot(const char *rs, uint16_t vport)
{
	for (uint32_t i = 0; i < gen->nb_dests; i++)
		if (gen->dests[i].state == XVS_SLOT_USED && gen->dests[i].addr.v4 == ip4(rs) &&
		    gen->dests[i].port_be == htons(vport))
			return (int)i;
	cr_assert_fail("no destination %s:%u", rs, vport);
	return -1;
}

static uint16_t csum(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i < n; i += 2)
		s += (uint32_t)p[i] << 8 | (i + 1 < n ? p[i + 1] : 0);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* A TCP segment CLIENT:cport -> VIP:dport with these flags, in an mbuf, through the worker. */
static void segment(uint16_t cport, uint16_t dport, uint8_t flags)
{
	uint8_t f[54] = {0};
	memcpy(f, &LB_MAC, 6);
	memcpy(f + 6, &CLIENT_MAC, 6);
	f[12] = 0x08;
	uint8_t *ip = f + 14, *tcp = ip + 20;
	ip[0] = 0x45;
	ip[3] = 40;
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	uint32_t s = ip4(CLIENT), d = ip4(VIP);
	memcpy(ip + 12, &s, 4);
	memcpy(ip + 16, &d, 4);
	uint16_t c = csum(ip, 20, 0);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	tcp[0] = (uint8_t)(cport >> 8);
	tcp[1] = (uint8_t)cport;
	tcp[2] = (uint8_t)(dport >> 8);
	tcp[3] = (uint8_t)dport;
	tcp[12] = 0x50;
	tcp[13] = flags;
	tcp[14] = 0xfa;
	uint32_t ph = csum(ip + 12, 8, 0);
	ph = (uint16_t)~ph + IPPROTO_TCP + 20;
	c = csum(tcp, 20, ph);
	tcp[16] = (uint8_t)(c >> 8);
	tcp[17] = (uint8_t)c;
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	cr_assert_not_null(m);
	m->data_len = m->pkt_len = sizeof(f);
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), f, sizeof(f));
	xvs_worker_process(w, gen, 0, &m, 1);
	xvs_worker_flush(w);
}

static unsigned queued(struct xvs_sync_conn *last)
{
	unsigned n = 0;
	struct xvs_sync_conn c;
	while (xvs_sync_ring_get(w->sync_out, &c)) {
		if (last)
			*last = c;
		n++;
	}
	return n;
}

/* ---- a backup's entries ------------------------------------------------------------------ */

Test(sync_worker, backup_makes_refreshes_and_replaces)
{
	int rs1 = dest_slot(RS1, 80), rs2 = dest_slot(RS2, 80);
	struct xvs_sync_conn e = entry(IPPROTO_TCP, 40000, 80, RS1, XVS_TCP_ESTABLISHED,
				       XVS_FWD_DROUTE, 900);
	xvs_sync_apply(w, gen, &e);
	struct xvs_conn *c = find(IPPROTO_TCP, CLIENT, 40000, VIP, 80);
	cr_assert_not_null(c);
	cr_expect_eq(c->dest, rs1);
	cr_expect_eq(c->state, XVS_TCP_ESTABLISHED);
	cr_expect_eq(c->expire, w->now + 900);
	cr_expect(c->flags & XVS_CONN_F_ACTIVE);
	cr_expect(c->flags & XVS_CONN_F_CONFIRMED);
	cr_expect_eq(w->st->dest[rs1].active, 1);
	cr_expect_eq(w->st->conns_cur, 1);
	cr_expect_eq(w->st->conns_new, 0); /* no packet made it */
	cr_expect_eq(w->st->sync.applied, 1);

	/* refreshed: FIN_WAIT, inactive, another timeout */
	e.state = XVS_TCP_FIN_WAIT;
	e.flags |= XVS_SYNC_F_INACTIVE;
	e.timeout = 120;
	xvs_sync_apply(w, gen, &e);
	cr_assert_eq(find(IPPROTO_TCP, CLIENT, 40000, VIP, 80), c);
	cr_expect_eq(c->state, XVS_TCP_FIN_WAIT);
	cr_expect_eq(c->expire, w->now + 120);
	cr_expect_eq(w->st->dest[rs1].active, 0);
	cr_expect_eq(w->st->dest[rs1].inactive, 1);
	cr_expect_eq(w->st->conns_cur, 1);

	/* an inactive entry naming another server: the end of a replaced one, nothing changes */
	struct xvs_sync_conn other = entry(IPPROTO_TCP, 40000, 80, RS2, XVS_TCP_CLOSE,
					   XVS_FWD_DROUTE | XVS_SYNC_F_INACTIVE, 10);
	xvs_sync_apply(w, gen, &other);
	cr_expect_eq(find(IPPROTO_TCP, CLIENT, 40000, VIP, 80)->dest, rs1);
	/* an active one replaces it */
	other.state = XVS_TCP_ESTABLISHED;
	other.flags = XVS_FWD_DROUTE;
	other.timeout = 900;
	xvs_sync_apply(w, gen, &other);
	c = find(IPPROTO_TCP, CLIENT, 40000, VIP, 80);
	cr_assert_not_null(c);
	cr_expect_eq(c->dest, rs2);
	cr_expect_eq(w->st->dest[rs1].inactive, 0);
	cr_expect_eq(w->st->dest[rs2].active, 1);
	cr_expect_eq(w->st->conns_cur, 1);

	/* the client's next segment goes to RS2 on this node */
	unsigned sent = nb_sent;
	segment(40000, 80, 0x10 /* ACK */);
	cr_expect_eq(nb_sent, sent + 1);
	cr_expect_eq(w->st->drops[XVS_DROP_NOT_SYN], 0);
	cr_expect_eq(w->st->dest[rs2].inpkts, 1);
}

Test(sync_worker, backup_nat_reply_key_and_no_dest)
{
	struct xvs_sync_conn e = entry(IPPROTO_TCP, 40001, 81, RS1, XVS_TCP_ESTABLISHED,
				       XVS_FWD_MASQ, 900);
	xvs_sync_apply(w, gen, &e);
	cr_assert_not_null(find(IPPROTO_TCP, CLIENT, 40001, VIP, 81));
	/* the real server's reply finds it (NAT) */
	struct xvs_conn_key k = { .src = ip4(RS1), .dst = ip4(CLIENT), .sport = htons(81),
				  .dport = htons(40001), .proto = IPPROTO_TCP };
	uint32_t v = xvs_conn_find(&w->conns, &k, xvs_conn_hash(&w->conns, &k));
	cr_expect(v && ((v - 1) & 1) == XVS_CONN_DIR_REPLY);
	/* no such service, no such server here: counted, nothing made */
	struct xvs_sync_conn bad = entry(IPPROTO_TCP, 40002, 8080, RS1, 1, 0, 900);
	xvs_sync_apply(w, gen, &bad);
	bad = entry(IPPROTO_TCP, 40002, 80, "198.18.0.99", 1, 0, 900);
	xvs_sync_apply(w, gen, &bad);
	cr_expect_eq(w->st->sync.no_dest, 2);
	cr_expect_null(find(IPPROTO_TCP, CLIENT, 40002, VIP, 80));
	cr_expect_eq(w->st->conns_cur, 1);
}

Test(sync_worker, backup_template)
{
	int rs1 = dest_slot(RS1, 53);
	struct xvs_sync_conn t = entry(IPPROTO_UDP, 0, 53, RS1, 0,
				       XVS_SYNC_F_TEMPLATE | XVS_SYNC_F_INACTIVE | XVS_FWD_DROUTE, 60);
	xvs_sync_apply(w, gen, &t);
	struct xvs_conn *c = find(xvs_conn_tpl_proto(IPPROTO_UDP), CLIENT, 0, VIP, 53);
	cr_assert_not_null(c);
	cr_expect_eq(c->dest, rs1);
	cr_expect_eq(c->expire, w->now + 60);
	cr_expect_eq(w->st->dest[rs1].persist, 1);
	cr_expect_eq(w->st->conns_cur, 0); /* a template is no connection */
	w->now += 30;
	xvs_sync_apply(w, gen, &t);
	cr_expect_eq(c->expire, w->now + 60);
	cr_expect_eq(w->st->dest[rs1].persist, 1);
}

/* ---- a master's queue ---------------------------------------------------------------------- */

Test(sync_worker, master_queues_as_ipvs)
{
	struct xvs_sync_conn last;
	segment(41000, 80, 0x02); /* SYN: SYN_RECV, not synced */
	cr_expect_eq(queued(NULL), 0);
	segment(41000, 80, 0x10); /* ACK, 2nd packet: ESTABLISHED, waits for the 3rd */
	cr_expect_eq(queued(NULL), 0);
	segment(41000, 80, 0x18); /* 3rd */
	cr_assert_eq(queued(&last), 1);
	cr_expect_eq(last.state, XVS_TCP_ESTABLISHED);
	cr_expect_eq(last.cport, htons(41000));
	cr_expect_eq(last.vport, htons(80));
	cr_expect_eq(last.caddr.v4, ip4(CLIENT));
	cr_expect_eq(last.vaddr.v4, ip4(VIP));
	cr_expect_eq(last.flags & XVS_SYNC_F_FWD_MASK, XVS_FWD_DROUTE);
	cr_expect_eq(last.flags & XVS_SYNC_F_INACTIVE, 0);
	cr_expect_eq(last.timeout, 900);
	unsigned n = 0;
	for (unsigned i = 4; i <= 53; i++) {
		segment(41000, 80, 0x10);
		n += queued(NULL);
		cr_expect_eq(n, i == 53 ? 1u : 0u, "packet %u", i);
	}
	segment(41000, 80, 0x11); /* FIN: FIN_WAIT, sent at once */
	cr_assert_eq(queued(&last), 1);
	cr_expect_eq(last.state, XVS_TCP_FIN_WAIT);
	cr_expect(last.flags & XVS_SYNC_F_INACTIVE);
	segment(41000, 80, 0x10);
	cr_expect_eq(queued(NULL), 0);
	cr_expect_eq(w->st->sync.queued, 3);
}

Test(sync_worker, master_sends_the_template_with_its_connection)
{
	/* UDP to the persistent service: the 3rd datagram sends the connection and its template */
	uint8_t f[64] = {0};
	memcpy(f, &LB_MAC, 6);
	memcpy(f + 6, &CLIENT_MAC, 6);
	f[12] = 0x08;
	uint8_t *ip = f + 14, *udp = ip + 20;
	ip[0] = 0x45;
	ip[3] = 28 + 4;
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	uint32_t s = ip4(CLIENT), d = ip4(VIP);
	memcpy(ip + 12, &s, 4);
	memcpy(ip + 16, &d, 4);
	uint16_t c = csum(ip, 20, 0);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	udp[0] = 0xa0;
	udp[1] = 0x00; /* 40960 */
	udp[3] = 53;
	udp[5] = 12;
	memcpy(udp + 8, "ping", 4);
	struct xvs_sync_conn e[2];
	unsigned n = 0;
	for (unsigned i = 1; i <= 3; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		cr_assert_not_null(m);
		m->data_len = m->pkt_len = 14 + 32;
		memcpy(rte_pktmbuf_mtod(m, uint8_t *), f, 14 + 32);
		xvs_worker_process(w, gen, 0, &m, 1);
		xvs_worker_flush(w);
		struct xvs_sync_conn x;
		while (xvs_sync_ring_get(w->sync_out, &x)) {
			cr_assert_lt(n, 2);
			e[n++] = x;
		}
		cr_expect_eq(n, i == 3 ? 2u : 0u, "datagram %u", i);
	}
	cr_assert_eq(n, 2);
	cr_expect_eq(e[0].proto, IPPROTO_UDP);
	cr_expect_eq(e[0].flags & XVS_SYNC_F_TEMPLATE, 0);
	cr_expect_eq(e[0].cport, htons(40960));
	cr_expect_eq(e[0].timeout, 300);
	cr_expect_eq(e[1].flags & XVS_SYNC_F_TEMPLATE, XVS_SYNC_F_TEMPLATE);
	cr_expect_eq(e[1].proto, IPPROTO_UDP);
	cr_expect_eq(e[1].cport, 0);
	cr_expect_eq(e[1].vport, htons(53));
	cr_expect_eq(e[1].dport, htons(53));
	cr_expect_eq(e[1].daddr.v4, ip4(RS1));
	cr_expect_eq(e[1].timeout, 60);
}
