/*
 * Connection sync in a real worker (dataplane/dp_worker.c): a backup's entries make, refresh
 * and replace connections and templates as IPVS's backup does, and the connections it made
 * forward the client's next segment; a master queues a connection at the packets where IPVS
 * syncs it (a closing state at once, ESTABLISHED at the 3rd, 53rd, ... packet) and its
 * template with it. The generation is built by control's code and checked by the dataplane's.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "dp_sync.h"
#include "worker_harness.h"

#define POOL_SIZE 255

#define RS1 "198.18.0.21"
#define RS2 "198.18.0.22"

static struct xvs_gen *gen;
static struct xvs_worker *w;

static union xvs_ip ipx(const char *s)
{
	union xvs_ip a = { .d = { 0, 0 } };
	if (strchr(s, ':'))
		cr_assert_eq(inet_pton(AF_INET6, s, a.v6), 1);
	else
		a.v4 = wh_ip4(s);
	return a;
}

/* TCP VIP:80 DR to RS1 and RS2; TCP VIP:81 NAT to RS1; UDP VIP:53 persistent 60 s, DR to RS1. */
static struct xvs_gen *build_gen(void)
{
	struct xvs_ctl_op ops[] = {
		wh_svc_op(IPPROTO_TCP, 80, 0), wh_dest_op(IPPROTO_TCP, 80, RS1, 80, XVS_FWD_DROUTE),
		wh_dest_op(IPPROTO_TCP, 80, RS2, 80, XVS_FWD_DROUTE),
		wh_svc_op(IPPROTO_TCP, 81, 0), wh_dest_op(IPPROTO_TCP, 81, RS1, 81, XVS_FWD_MASQ),
		wh_svc_op(IPPROTO_UDP, 53, 60), wh_dest_op(IPPROTO_UDP, 53, RS1, 53, XVS_FWD_DROUTE),
	};
	struct xvs_gen *g = wh_gen_build(ops, sizeof(ops) / sizeof(ops[0]));
	g->gen = 3;
	g->sync[XVS_SYNC_MASTER] = (struct xvs_sync_daemon){
		.on = 1, .ttl = 1, .group_af = XVS_AF_INET, .port = 8848, .maxlen = 1472,
		.ifname = "sync", .group = ipx("224.0.0.81"),
	};
	wh_gen_seal(g);
	return g;
}

static void setup(void)
{
	wh_start("sync_worker", POOL_SIZE);
	wh_neigh(WH_CLIENT, 0x100);
	wh_neigh(RS1, 0x101);
	wh_neigh(RS2, 0x102);
	wh_dp.nb_workers = 1;
	gen = build_gen();
	w = wh_worker(0);
	w->sync_out = wh_alloc64(xvs_sync_ring_memsize(XVS_SYNC_RING));
	w->sync_in = wh_alloc64(xvs_sync_ring_memsize(XVS_SYNC_RING));
	xvs_sync_ring_init(w->sync_out, XVS_SYNC_RING);
	xvs_sync_ring_init(w->sync_in, XVS_SYNC_RING);
	w->sync_cells = wh_alloc64(sizeof(struct xvs_sync_cell) * w->conns.capacity);
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
		.timeout = timeout, .caddr = ipx(WH_CLIENT), .vaddr = ipx(WH_VIP), .daddr = ipx(rs),
	};
}

/* The connection (or template) with this original key, or NULL. */
static struct xvs_conn *find(uint8_t proto, const char *src, uint16_t sport, const char *dst,
			     uint16_t dport)
{
	struct xvs_conn_key k = { .src = wh_ip4(src), .dst = wh_ip4(dst), .sport = htons(sport),
				  .dport = htons(dport), .proto = proto };
	uint32_t v = xvs_conn_find(&w->conns, &k, xvs_conn_hash(&w->conns, &k));
	return v ? &w->conns.conns[(v - 1) >> 1] : NULL;
}

static int dest_slot(const char *rs, uint16_t vport)
{
	for (uint32_t i = 0; i < gen->nb_dests; i++)
		if (gen->dests[i].state == XVS_SLOT_USED && gen->dests[i].addr.v4 == wh_ip4(rs) &&
		    gen->dests[i].port_be == htons(vport))
			return (int)i;
	cr_assert_fail("no destination %s:%u", rs, vport);
	return -1;
}

/* A TCP segment CLIENT:cport -> VIP:dport with these flags, in an mbuf, through the worker. */
static void segment(uint16_t cport, uint16_t dport, uint8_t flags)
{
	uint8_t f[54];
	size_t len = wh_tcp_frame(f, &(struct wh_tcp){ .dst = WH_VIP, .cport = cport, .dport = dport,
						       .flags = flags, .win = 0xfa00 });
	struct rte_mbuf *m = wh_mbuf(f, len, RTE_PKTMBUF_HEADROOM);
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
	struct xvs_conn *c = find(IPPROTO_TCP, WH_CLIENT, 40000, WH_VIP, 80);
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
	cr_assert_eq(find(IPPROTO_TCP, WH_CLIENT, 40000, WH_VIP, 80), c);
	cr_expect_eq(c->state, XVS_TCP_FIN_WAIT);
	cr_expect_eq(c->expire, w->now + 120);
	cr_expect_eq(w->st->dest[rs1].active, 0);
	cr_expect_eq(w->st->dest[rs1].inactive, 1);
	cr_expect_eq(w->st->conns_cur, 1);

	/* an inactive entry naming another server: the end of a replaced one, nothing changes */
	struct xvs_sync_conn other = entry(IPPROTO_TCP, 40000, 80, RS2, XVS_TCP_CLOSE,
					   XVS_FWD_DROUTE | XVS_SYNC_F_INACTIVE, 10);
	xvs_sync_apply(w, gen, &other);
	cr_expect_eq(find(IPPROTO_TCP, WH_CLIENT, 40000, WH_VIP, 80)->dest, rs1);
	/* an active one replaces it */
	other.state = XVS_TCP_ESTABLISHED;
	other.flags = XVS_FWD_DROUTE;
	other.timeout = 900;
	xvs_sync_apply(w, gen, &other);
	c = find(IPPROTO_TCP, WH_CLIENT, 40000, WH_VIP, 80);
	cr_assert_not_null(c);
	cr_expect_eq(c->dest, rs2);
	cr_expect_eq(w->st->dest[rs1].inactive, 0);
	cr_expect_eq(w->st->dest[rs2].active, 1);
	cr_expect_eq(w->st->conns_cur, 1);

	/* the client's next segment goes to RS2 on this node */
	unsigned sent = wh_nb_sent;
	segment(40000, 80, 0x10 /* ACK */);
	cr_expect_eq(wh_nb_sent, sent + 1);
	cr_expect_eq(w->st->drops[XVS_DROP_NOT_SYN], 0);
	cr_expect_eq(w->st->dest[rs2].inpkts, 1);
}

Test(sync_worker, backup_nat_reply_key_and_no_dest)
{
	struct xvs_sync_conn e = entry(IPPROTO_TCP, 40001, 81, RS1, XVS_TCP_ESTABLISHED,
				       XVS_FWD_MASQ, 900);
	xvs_sync_apply(w, gen, &e);
	struct xvs_conn *synced = find(IPPROTO_TCP, WH_CLIENT, 40001, WH_VIP, 81);
	cr_assert_not_null(synced);
	/* the real server's reply finds it (NAT), the same connection */
	struct xvs_conn_key k = { .src = wh_ip4(RS1), .dst = wh_ip4(WH_CLIENT), .sport = htons(81),
				  .dport = htons(40001), .proto = IPPROTO_TCP };
	uint32_t v = xvs_conn_find(&w->conns, &k, xvs_conn_hash(&w->conns, &k));
	cr_expect(v && ((v - 1) & 1) == XVS_CONN_DIR_REPLY);
	cr_expect(v && &w->conns.conns[(v - 1) >> 1] == synced, "the reply key leads elsewhere");
	/* no such service, no such server here: counted, nothing made */
	struct xvs_sync_conn bad = entry(IPPROTO_TCP, 40002, 8080, RS1, 1, 0, 900);
	xvs_sync_apply(w, gen, &bad);
	bad = entry(IPPROTO_TCP, 40002, 80, "198.18.0.99", 1, 0, 900);
	xvs_sync_apply(w, gen, &bad);
	cr_expect_eq(w->st->sync.no_dest, 2);
	cr_expect_null(find(IPPROTO_TCP, WH_CLIENT, 40002, WH_VIP, 80));
	cr_expect_eq(w->st->conns_cur, 1);
}

Test(sync_worker, backup_template)
{
	int rs1 = dest_slot(RS1, 53);
	struct xvs_sync_conn t = entry(IPPROTO_UDP, 0, 53, RS1, 0,
				       XVS_SYNC_F_TEMPLATE | XVS_SYNC_F_INACTIVE | XVS_FWD_DROUTE, 60);
	xvs_sync_apply(w, gen, &t);
	struct xvs_conn *c = find(xvs_conn_tpl_proto(IPPROTO_UDP), WH_CLIENT, 0, WH_VIP, 53);
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
	cr_expect_eq(last.caddr.v4, wh_ip4(WH_CLIENT));
	cr_expect_eq(last.vaddr.v4, wh_ip4(WH_VIP));
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
	uint8_t *udp = wh_ip4_frame(f, IPPROTO_UDP, WH_VIP, 8 + 4, 0, 0);
	udp[0] = 0xa0;
	udp[1] = 0x00; /* 40960 */
	udp[3] = 53;
	udp[5] = 12;
	memcpy(udp + 8, "ping", 4);
	struct xvs_sync_conn e[2];
	unsigned n = 0;
	for (unsigned i = 1; i <= 3; i++) {
		struct rte_mbuf *m = wh_mbuf(f, 14 + 32, RTE_PKTMBUF_HEADROOM);
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
	cr_expect_eq(e[1].daddr.v4, wh_ip4(RS1));
	cr_expect_eq(e[1].timeout, 60);
}
