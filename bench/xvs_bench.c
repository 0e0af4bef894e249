/*
 * xvs-bench: throughput of the packet path without a NIC. This file holds the one-core
 * figures, their checks and their report, and main(). The figures run the real worker
 * pipeline (xvs_worker_process + xvs_worker_flush, generation hand-over, ticks) over prebuilt
 * mbufs: the dataplane around the worker is set up in bench_core_setup.c, the loops that feed
 * it are in bench_core_traffic.c. One service per forwarding method (NAT, DR, IPIP and GUE
 * tunnels) and family (IPv4, IPv6), each measured on a table of its own flows, after a check
 * that the worker forwards flow 0 as expected. Several workers on CPUs of their own, and
 * workers behind net_ring ports, are in bench_scale.c. docs/performance.md says how to read
 * the figures.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "bench_core.h"
#include "bench_eal.h"
#include "bench_report.h"
#include "bench_scale.h"

static void on_signal(int sig)
{
	(void)sig;
	bench_interrupted = 1;
	xvs_quit = 1;
}

/* ---- checks --------------------------------------------------------------------------- */

static uint64_t drops_total(void)
{
	uint64_t s = 0;
	for (unsigned i = 0; i < XVS_DROP_MAX; i++)
		s += B.w->st->drops[i] + (B.w2 ? B.w2->st->drops[i] : 0);
	return s;
}

static int report_drops(const char *what)
{
	fprintf(stderr, "xvs-bench: %s: frames were dropped:", what);
	for (unsigned i = 0; i < XVS_DROP_MAX; i++) {
		uint64_t d = B.w->st->drops[i] + (B.w2 ? B.w2->st->drops[i] : 0);
		if (d)
			fprintf(stderr, " %s=%llu", xvs_drop_names[i], (unsigned long long)d);
	}
	fprintf(stderr, "\n");
	return -EIO;
}

/* Flow 0's frame of a DR or tunnel service (either family) as sent, checked. */
static int direct_frame_ok(const struct rte_mbuf *m, unsigned d)
{
	struct rte_ether_addr dmac = rs_mac(d);
	union xvs_ip c6 = flow_ip6(0), v6 = svc_vip6(SVC_DR6);
	switch (B.cur) {
	case SVC_DR:
		return bench_frame_ok(m, &dmac, 1, flow_ip(0), flow_port(0), svc_vip(SVC_DR),
				      rte_cpu_to_be_16(VPORT));
	case SVC_DR6:
		return bench_frame6_ok(m, &dmac, 1, &c6, flow_port(0), &v6, rte_cpu_to_be_16(VPORT));
	case SVC_IPIP6:
	case SVC_GUE6:
		return bench_tun6_frame_ok(m, d, B.cur);
	default:
		return bench_tun_frame_ok(m, d, B.cur);
	}
}

/* Flow 0 of a DR or tunnel service, client to server. */
static int verify_direct(void)
{
	uint16_t out;
	unsigned d = B.dest_of[0] % NB_DESTS;
	struct rte_mbuf *m = bench_core_process_one(&B.ack[B.cur], 0, 0, &out);
	if (!m || out != 1 || !direct_frame_ok(m, d)) {
		fprintf(stderr, "xvs-bench: %s frame not as expected\n",
			B.cur == SVC_DR || B.cur == SVC_DR6 ? "DR" : "tunnelled");
		return -EIO;
	}
	return drops_total() ? report_drops("verify") : 0;
}

/* verify_rewrite for IPv6 NAT. */
static int verify_rewrite6(void)
{
	uint16_t out;
	unsigned slot = B.dest_of[0], d = slot % NB_DESTS;
	struct rte_ether_addr dmac = rs_mac(d);
	union xvs_ip c6 = flow_ip6(0), rs = rs_addr6(d), vip = svc_vip6(SVC_NAT6);
	struct rte_mbuf *m = bench_core_process_one(&B.ack[SVC_NAT6], 0, 0, &out);
	if (!m || out != 1 ||
	    !bench_frame6_ok(m, &dmac, 1, &c6, flow_port(0), &rs, rte_cpu_to_be_16(RS_PORT))) {
		fprintf(stderr, "xvs-bench: IPv6 client->server frame not rewritten as expected\n");
		return -EIO;
	}
	m = bench_core_process_one(&B.reply[slot], 1, 0, &out);
	if (!m || out != 0 ||
	    !bench_frame6_ok(m, &bench_gw_mac, 0, &vip, rte_cpu_to_be_16(VPORT), &c6, flow_port(0))) {
		fprintf(stderr, "xvs-bench: IPv6 server->client frame not rewritten as expected\n");
		return -EIO;
	}
	return drops_total() ? report_drops("verify") : 0;
}

/* Flow 0 (both ways for NAT): the benchmark measures forwarding, so first check that it forwards. */
static int verify_rewrite(void)
{
	if (B.cur == SVC_NAT6)
		return verify_rewrite6();
	if (B.cur != SVC_NAT)
		return verify_direct();
	uint16_t out;
	unsigned d = B.dest_of[0];
	struct rte_mbuf *m = bench_core_process_one(&B.ack[SVC_NAT], 0, 0, &out);
	if (!m || out != 1 || !bench_nat_frame_ok(m, DIR_CS, 0, d)) {
		fprintf(stderr, "xvs-bench: client->server frame not rewritten as expected\n");
		return -EIO;
	}
	m = bench_core_process_one(&B.reply[d], 1, 0, &out);
	if (!m || out != 0 || !bench_nat_frame_ok(m, DIR_SC, 0, d)) {
		fprintf(stderr, "xvs-bench: server->client frame not rewritten as expected\n");
		return -EIO;
	}
	return drops_total() ? report_drops("verify") : 0;
}

/* ---- output ------------------------------------------------------------------------------ */

static int selected(const char *name)
{
	return !B.o.only || !strcmp(B.o.only, name);
}

/* Measure one figure o.runs times; stop the program on drops or missing frames. */
static int figure(const char *name, const char *what, uint32_t flows, enum mode mode, enum dir dir)
{
	struct sample s = { .n = 0 };
	if (!selected(name))
		return 0;
	uint64_t d0 = drops_total();
	const struct xvs_lcore_stats *rs = mode == MODE_HANDOFF ? B.w2->st : B.w->st;
	bench_core_handoff(mode == MODE_HANDOFF);
	for (unsigned r = 0; r < B.o.runs && !xvs_quit; r++) {
		unsigned out = dir == DIR_CS ? 1 : 0; /* every frame leaves by the other port */
		uint64_t tx0 = B.tx[out], rx0 = rs->rx_pkts;
		uint64_t hin0 = B.w->st->handoff_in, hout0 = B.w2->st->handoff_out;
		struct meter m;
		meter_start(&m);
		meter_stop(&m, bench_core_run_flows(mode, dir, flows), &s);
		uint64_t txd = B.tx[out] - tx0, rxd = rs->rx_pkts - rx0;
		if (mode == MODE_HANDOFF && (B.w->st->handoff_in - hin0 != rxd ||
					     B.w2->st->handoff_out - hout0 != rxd)) {
			fprintf(stderr, "xvs-bench: %s: not every frame was handed over\n", what);
			return -EIO;
		}
		if ((mode == MODE_WORKER || mode == MODE_HANDOFF) && txd != rxd) {
			fprintf(stderr, "xvs-bench: %s: %llu frames in, %llu out of port %u\n", what,
				(unsigned long long)rxd, (unsigned long long)txd, out);
			return -EIO;
		}
	}
	bench_core_handoff(0);
	if (drops_total() != d0)
		return report_drops(what);
	double base = mode == MODE_WORKER || mode == MODE_HANDOFF ? B.pass_ns[dir] : 0;
	if (mode == MODE_PASS)
		B.pass_ns[dir] = 1e3 / median(&s);
	print_row(name, what, flows, &s, base);
	return 0;
}

/* Fill an empty table with nb flows (timed: new connections into an empty table), map them. */
static int fill(uint32_t nb, struct sample *s)
{
	int rc = bench_core_reset();
	if (rc < 0)
		return rc;
	struct meter m;
	meter_start(&m);
	bench_core_send_syns(0, nb);
	if (s)
		meter_stop(&m, nb, s);
	if (drops_total())
		return report_drops("fill");
	return bench_core_map_flows(nb);
}

/*
 * Build a table of nb flows of the service B.cur (several times when the fill itself is
 * measured: NAT tables of 1024 flows or more), establish them.
 */
static int build_flows(uint32_t nb)
{
	struct sample s = { .n = 0 };
	int measured = nb >= 1024 && B.cur == SVC_NAT;
	for (unsigned r = 0; r < (measured ? B.o.runs : 1); r++) {
		int rc = fill(nb, measured ? &s : NULL);
		if (rc < 0)
			return rc;
	}
	if (measured)
		print_row("fill", "new conns: SYN fill, empty->N [Mconn/s]", nb, &s, 0);
	bench_core_shuffle(nb);
	/* One ACK per flow moves them to ESTABLISHED before any timed pass. */
	int rc = bench_core_establish(nb);
	if (rc < 0)
		return rc;
	return drops_total() ? report_drops("establish") : verify_rewrite();
}

static int churn_figure(uint32_t nb)
{
	struct sample s = { .n = 0 };
	if (!selected("churn"))
		return 0;
	uint64_t new0 = B.w->st->conns_new, d0 = drops_total(), made = B.next_id;
	B.ring_size = nb + B.o.burst;
	B.ring_head = 0;
	for (uint32_t i = 0; i < B.ring_size; i++)
		B.ring[i] = i < nb ? B.conn_of[i] : EMPTY_SLOT;
	for (unsigned r = 0; r < B.o.runs && !xvs_quit; r++) {
		struct meter m;
		meter_start(&m);
		meter_stop(&m, bench_core_run_churn(), &s);
	}
	if (drops_total() != d0)
		return report_drops("churn");
	if (B.w->st->conns_new - new0 != B.next_id - made) {
		fprintf(stderr, "xvs-bench: churn: not every SYN made a connection\n");
		return -EIO;
	}
	print_row("churn", "new conns: SYN churn, N live [Mconn/s]", nb, &s, 0);
	return 0;
}

/*
 * The SYN-flood mix on a fresh table of nb established flows: the established rate while
 * spoofed SYNs take half the frames, and proof afterwards that no established connection
 * was evicted (every flow still finds its entry).
 */
static int synflood_figure(uint32_t nb)
{
	struct sample s = { .n = 0 };
	if (!selected("synflood") || nb < 1024)
		return 0;
	int rc = build_flows(nb);
	if (rc < 0)
		return rc;
	uint64_t ev0 = B.w->st->conns_evicted, d0 = drops_total(), syns = 0;
	for (unsigned r = 0; r < B.o.runs && !xvs_quit; r++) {
		struct meter m;
		meter_start(&m);
		meter_stop(&m, bench_core_run_synflood(nb, &syns), &s);
	}
	if (drops_total() != d0)
		return report_drops("synflood");
	if (bench_core_map_flows(nb) < 0) {
		fprintf(stderr, "xvs-bench: synflood: an established connection was evicted\n");
		return -EIO;
	}
	print_row("synflood", "NAT c->s established, 1 SYN flood per frame", nb, &s, 0);
	printf("        (%.1fM spoofed SYNs, %llu embryonic connections evicted, none of the %u "
	       "established ones)\n", (double)syns / 1e6,
	       (unsigned long long)(B.w->st->conns_evicted - ev0), nb);
	return 0;
}

/* The NAT figures and the baselines for one table size. */
static int bench_nat(uint32_t nb)
{
	static const char *const names[] = { "restore", "pass-cs", "nat-cs", "pass-sc", "nat-sc",
					     "nat-cs-ho", "nat-sc-ho", "churn", "synflood" };
	int any = 0;
	for (unsigned i = 0; i < RTE_DIM(names); i++)
		any |= selected(names[i]);
	if (!any)
		return 0;
	B.cur = SVC_NAT;
	int rc = build_flows(nb);
	if (rc == 0)
		rc = figure("restore", "header restore only", nb, MODE_RESTORE, DIR_CS);
	if (rc == 0)
		rc = figure("pass-cs", "pass-through c->s (restore + tx)", nb, MODE_PASS, DIR_CS);
	if (rc == 0)
		rc = figure("nat-cs", "NAT established c->s", nb, MODE_WORKER, DIR_CS);
	if (rc == 0)
		rc = figure("pass-sc", "pass-through s->c (restore + tx)", nb, MODE_PASS, DIR_SC);
	if (rc == 0)
		rc = figure("nat-sc", "NAT established s->c", nb, MODE_WORKER, DIR_SC);
	if (rc == 0)
		rc = figure("nat-cs-ho", "NAT c->s, all handed to the owner", nb, MODE_HANDOFF, DIR_CS);
	if (rc == 0)
		rc = figure("nat-sc-ho", "NAT s->c, all handed to the owner", nb, MODE_HANDOFF, DIR_SC);
	if (rc == 0)
		rc = churn_figure(nb);
	if (rc == 0)
		rc = synflood_figure(nb); /* last: it leaves the table full of embryonic entries */
	return rc;
}

/* NAT over IPv6, both ways, with its own pass-through baselines (the frames are longer). */
static int bench_nat6(uint32_t nb)
{
	static const char *const names[] = { "pass6-cs", "nat6-cs", "pass6-sc", "nat6-sc" };
	int any = 0;
	for (unsigned i = 0; i < RTE_DIM(names); i++)
		any |= selected(names[i]);
	if (!any)
		return 0;
	B.cur = SVC_NAT6;
	int rc = build_flows(nb);
	if (rc == 0)
		rc = figure("pass6-cs", "pass-through IPv6 c->s (restore + tx)", nb, MODE_PASS, DIR_CS);
	if (rc == 0)
		rc = figure("nat6-cs", "NAT IPv6 established c->s", nb, MODE_WORKER, DIR_CS);
	if (rc == 0)
		rc = figure("pass6-sc", "pass-through IPv6 s->c (restore + tx)", nb, MODE_PASS, DIR_SC);
	if (rc == 0)
		rc = figure("nat6-sc", "NAT IPv6 established s->c", nb, MODE_WORKER, DIR_SC);
	return rc;
}

/*
 * DR and tunnels, client to server (their replies never pass the LB), on a table of their own;
 * "vs pass" is against the last pass-through measured (IPv4 rows come before bench_nat6).
 */
static int bench_direct(uint32_t nb, int v6)
{
	static const struct {
		enum svc_kind kind;
		const char *name, *what;
	} rows[] = {
		{ SVC_DR, "dr-cs", "DR established c->s" },
		{ SVC_IPIP, "ipip-cs", "TUN ipip established c->s" },
		{ SVC_GUE, "gue-cs", "TUN gue established c->s" },
		{ SVC_DR6, "dr6-cs", "DR IPv6 established c->s" },
		{ SVC_IPIP6, "ipip6-cs", "TUN ipip 6in6 established c->s" },
		{ SVC_GUE6, "gue6-cs", "TUN gue 6in6 established c->s" },
	};
	int rc = 0;
	for (unsigned i = 0; i < RTE_DIM(rows) && rc == 0 && !xvs_quit; i++) {
		if (svc_is6(rows[i].kind) != v6)
			continue;
		if (!selected(rows[i].name))
			continue;
		B.cur = rows[i].kind;
		rc = build_flows(nb);
		if (rc == 0)
			rc = figure(rows[i].name, rows[i].what, nb, MODE_WORKER, DIR_CS);
	}
	return rc;
}

/* Every figure for one table size: IPv4, then IPv6. */
static int bench_size(uint32_t nb)
{
	int rc = bench_nat(nb);
	if (rc == 0)
		rc = bench_direct(nb, 0);
	if (rc == 0)
		rc = bench_nat6(nb);
	return rc == 0 ? bench_direct(nb, 1) : rc;
}

static void print_header(void)
{
	printf("xvs-bench: core %d, burst %u, %u x %.2f s per figure, %s pages, conn_max %u, "
	       "TSC %.0f MHz\n", B.o.core, B.o.burst, B.o.runs, B.o.seconds,
	       B.o.huge ? "2 MiB huge" : "4 KiB", B.o.conn_max, (double)B.dp.tsc_hz / 1e6);
	printf("%-40s %8s %8s %8s %8s %8s %9s %9s %7s\n", "figure [Mpps unless noted]", "flows",
	       "min", "median", "max", "ns/unit", "vs pass", "preempted", "on-cpu");
}

static void print_memory(void)
{
	size_t sz = B.conn_size;
	uint32_t cap = B.o.conn_max, nb = B.o.flows;
	size_t own = xvs_conn_table_memsize(rte_align32pow2(nb));
	printf("\nmemory: %zu bytes for %u entries = %.1f bytes per connection of capacity\n", sz, cap,
	       (double)sz / cap);
	printf("        (cell %zu + bucket share %.1f + embryonic ring slot 4; IPv6 takes two cells)\n",
	       sizeof(struct xvs_conn),
	       (double)(sz - (size_t)cap * sizeof(struct xvs_conn) - (size_t)cap * 4) / cap);
	printf("        %u flows: %.1f bytes per flow at conn_max %u, %.1f with conn_max %u\n", nb,
	       (double)sz / nb, cap, (double)own / nb, rte_align32pow2(nb));
}

/* Memory for the largest of the one-core table and the worker figures' tables, and mbufs. */
static size_t memory_need(void)
{
	size_t core = xvs_conn_table_memsize(B.o.conn_max);
	size_t scale = bench_scale_memsize(&B.o, &B.cpus);
	return (core > scale ? core : scale) + (256u << 20);
}

/* Every one-core figure: the 1-flow table, then the --flows one. */
static int bench_core(void)
{
	print_header();
	/* --only profiles one figure: on the large table alone, unless that is the 1-flow one */
	int rc = B.o.only && B.o.flows > 1 ? 0 : bench_size(1);
	if (rc == 0 && B.o.flows > 1)
		rc = bench_size(B.o.flows);
	if (rc == 0)
		print_memory();
	return rc;
}

static int bench_scale(void)
{
	const struct bench_env env = {
		.o = &B.o, .cpus = &B.cpus, .dp = &B.dp, .syn = &B.syn[SVC_NAT], .ack = &B.ack[SVC_NAT],
		.reply = &B.reply[SVC_NAT * NB_DESTS],
	};
	/* the one-core table is done with: its memory goes to the workers' tables */
	rte_free(B.conn_mem);
	B.conn_mem = NULL;
	return bench_scale_run(&env);
}

int main(int argc, char **argv)
{
	int rc = bench_opts_parse(argc, argv, &B.o);
	if (rc)
		return rc > 0 ? 0 : 2;
	if ((rc = bench_eal_layout(&B.o, &B.cpus)) < 0 ||
	    (rc = bench_eal_start(argv[0], &B.o, memory_need(), &B.cpus, B.prefix)) < 0) {
		fprintf(stderr, "xvs-bench: EAL init failed: %s\n", rte_strerror(-rc));
		return 1;
	}
	/* every way out below goes through the cleanup */
	if ((rc = bench_report_open(B.o.json)) < 0) {
		fprintf(stderr, "xvs-bench: --json: %s\n", strerror(-rc));
	} else {
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		if ((rc = bench_core_setup()) < 0) {
			fprintf(stderr, "xvs-bench: setup: %s\n", strerror(-rc));
		} else {
			rc = B.o.sections & BENCH_SEC_CORE ? bench_core() : 0;
			if (rc == 0 && (B.o.sections & (BENCH_SEC_WORKERS | BENCH_SEC_DRIVER)))
				rc = bench_scale();
		}
		bench_report_close(rc == 0 && !xvs_quit);
	}
	bench_core_teardown();
	rte_eal_cleanup();
	return rc == 0 && !xvs_quit ? 0 : 1;
}
