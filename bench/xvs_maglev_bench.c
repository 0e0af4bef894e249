/*
 * xvs-maglev-bench: how long xvs-control takes to build one Maglev table (the mh scheduler's
 * control half), for N servers at each table size M; the Maglev paper reports about 1.8 ms
 * for 1000 servers at M = 65537. Also prints what the table gives: the worst server's
 * distance from its share, and the entries that move when one server leaves. Plain C on one
 * core: no DPDK, no dataplane.
 *
 *   xvs-maglev-bench [--servers N] [--runs R] [--weights equal|mixed] [M ...]
 *
 * Default: 1000 servers, 21 runs, equal weights, M = 65537 and 655373. Build times are the
 * median and the best of the runs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xvs/sched.h"

#define SVC 0

struct opts {
	unsigned servers;
	unsigned runs;
	int mixed;
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Service 0 with servers 0..n-1 (10.0.0.0/16, port 80), weights 1 or 1..100. */
static void make_service(struct xvs_gen *g, const struct opts *o, const struct xvs_dest **list)
{
	struct xvs_svc *s = &g->svcs[SVC];
	*s = (struct xvs_svc){ .state = XVS_SLOT_USED, .af = XVS_AF_INET, .proto = XVS_PROTO_TCP,
			       .sched = XVS_SCHED_MH, .nb_dests = (uint16_t)o->servers };
	uint64_t r = 88172645463325252ULL;
	for (unsigned i = 0; i < o->servers; i++) {
		r ^= r << 13, r ^= r >> 7, r ^= r << 17;
		int32_t w = o->mixed ? (int32_t)(1 + r % 100) : 1;
		g->dests[i] = (struct xvs_dest){ .state = XVS_SLOT_USED, .af = XVS_AF_INET,
						 .fwd = XVS_FWD_MASQ, .weight = w, .last_weight = w,
						 .port_be = htons(80) };
		g->dests[i].addr.v4 = htonl(0x0a000000u + i + 1);
		g->svc_dests[i] = (uint16_t)i;
		list[i] = &g->dests[i];
	}
}

static int build(struct xvs_gen *g, uint32_t m, const struct xvs_dest **list, unsigned n)
{
	char msg[256] = "";
	struct xvs_sched_tab_build b = { .g = g, .params = { .mh_size = m }, .msg = msg,
					 .msglen = sizeof(msg) };
	g->nb_sched_tab = 0;
	int rc = xvs_sched_all[XVS_SCHED_MH]->build_tab(&b, &g->svcs[SVC], list, n);
	if (rc)
		fprintf(stderr, "xvs-maglev-bench: M = %u: %s\n", m, msg);
	return rc;
}

/* The worst server's distance from its share, in entries. */
static double worst_share(const struct xvs_gen *g, uint32_t m, unsigned n, unsigned *count)
{
	double total = 0, worst = 0;
	memset(count, 0, n * sizeof(*count));
	for (uint32_t i = 0; i < m; i++)
		count[g->sched_tab[i]]++;
	for (unsigned i = 0; i < n; i++)
		total += g->dests[i].last_weight;
	for (unsigned i = 0; i < n; i++) {
		double share = m * g->dests[i].last_weight / total, d = count[i] - share;
		worst = d < 0 ? (-d > worst ? -d : worst) : (d > worst ? d : worst);
	}
	return worst;
}

static int run_size(struct xvs_gen *g, const struct opts *o, uint32_t m, const struct xvs_dest **list)
{
	double *t = calloc(o->runs, sizeof(*t));
	uint16_t *before = malloc(m * sizeof(*before));
	unsigned *count = calloc(o->servers, sizeof(*count));
	if (!t || !before || !count)
		return -ENOMEM;
	int rc = 0;
	for (unsigned r = 0; r < o->runs && rc == 0; r++) {
		double t0 = now_ms();
		rc = build(g, m, list, o->servers);
		t[r] = now_ms() - t0;
	}
	if (rc == 0) {
		qsort(t, o->runs, sizeof(*t), cmp_double);
		double worst = worst_share(g, m, o->servers, count);
		memcpy(before, g->sched_tab, m * sizeof(*before));
		/* one server leaves: the list without its last entry (list order does not matter) */
		rc = build(g, m, list, o->servers - 1);
		uint32_t moved = 0;
		for (uint32_t i = 0; rc == 0 && i < m; i++)
			moved += g->sched_tab[i] != before[i];
		if (rc == 0)
			printf("%7u servers  M %7u  build %8.3f ms median %8.3f ms best   worst share "
			       "%+.2f entries   one server leaves: %.3f%% of the entries move (1/N %.3f%%)\n",
			       o->servers, m, t[o->runs / 2], t[0], worst, 100.0 * moved / m,
			       100.0 / o->servers);
	}
	free(t);
	free(before);
	free(count);
	return rc;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "servers", required_argument, NULL, 's' },
		{ "runs", required_argument, NULL, 'r' },
		{ "weights", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	*o = (struct opts){ .servers = 1000, .runs = 21 };
	int c;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's': o->servers = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': o->runs = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'w': o->mixed = strcmp(optarg, "mixed") == 0; break;
		default:
			fprintf(c == 'h' ? stdout : stderr, "usage: xvs-maglev-bench [--servers N] "
				"[--runs R] [--weights equal|mixed] [M ...]\n");
			return c == 'h' ? 1 : -1;
		}
	}
	if (o->servers < 2 || o->servers > XVS_MAX_DESTS || o->runs == 0) {
		fprintf(stderr, "xvs-maglev-bench: 2..%d servers, at least one run\n", XVS_MAX_DESTS);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	int rc = parse(argc, argv, &o);
	if (rc)
		return rc > 0 ? 0 : 2;
	struct xvs_gen *g = calloc(1, sizeof(*g));
	const struct xvs_dest **list = calloc(o.servers, sizeof(*list));
	if (!g || !list)
		return 1;
	make_service(g, &o, list);
	static const uint32_t dflt[] = { 65537, 655373 };
	int nb = argc - optind;
	for (int i = 0; i < (nb ? nb : 2) && rc == 0; i++) {
		uint32_t m = nb ? (uint32_t)strtoul(argv[optind + i], NULL, 10) : dflt[i];
		rc = run_size(g, &o, m, list);
	}
	free(list);
	free(g);
	return rc ? 1 : 0;
}
