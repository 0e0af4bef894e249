/* xvs-bench's command line: parsing, the --quick defaults and the checks (main lcore). */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_opts.h"
#include "dp.h"

/* What the options default to, and what --quick makes of those not given. */
static const struct bench_opts defaults = {
	.flows = 1000000, .seconds = 1.0, .burst = XVS_BURST, .runs = 3, .conn_max = 1u << 21,
	.huge = -1, .core = -1, .sections = BENCH_SEC_CORE | BENCH_SEC_WORKERS | BENCH_SEC_DRIVER,
	.scale_flows = { 1000, 1000000, 10000000 }, .nb_scale_flows = 3,
	.workers = { 1, 2, BENCH_WORKERS_ALL }, .nb_workers = 3, .handoff_pct = 50,
};
static const struct bench_opts quick = {
	.flows = 100000, .seconds = 0.1, .runs = 1,
	.scale_flows = { 1000, 100000 }, .nb_scale_flows = 2,
	.workers = { 1, 2 }, .nb_workers = 2,
};

enum { GIVEN_FLOWS = 1, GIVEN_SECONDS = 2, GIVEN_RUNS = 4, GIVEN_SCALE = 8, GIVEN_WORKERS = 16 };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xvs-bench [--flows N] [--seconds S] [--runs R] [--burst B] [--conn-max N]\n"
		"                 [--huge | --no-huge] [--core C] [--cpus LIST] [--only NAME]\n"
		"                 [--sections LIST] [--scale-flows LIST] [--workers LIST]\n"
		"                 [--handoff-share P] [--quick] [--json]\n"
		"  --flows N     connections of the one-core large case (default 1000000; 1 flow is\n"
		"                always run)\n"
		"  --seconds S   seconds per measurement (default 1)\n"
		"  --runs R      measurements per figure, shown as min/median/max (default 3)\n"
		"  --burst B     frames per burst, 1..%u (default %u)\n"
		"  --conn-max N  one-core table capacity, a power of two (default 2097152)\n"
		"  --huge        take memory from hugepages in %s (default: when enough are free)\n"
		"  --no-huge     take memory from ordinary pages\n"
		"  --core C      the main lcore's CPU: one-core figures and the driver's feeder\n"
		"                (default: the CPU it starts on)\n"
		"  --cpus LIST   CPUs for workers and feeders, e.g. 0-3,6 (default: all it may use);\n"
		"                a CPU given twice is shared, and rates on it mean nothing\n"
		"  --only NAME   just one figure, for profiling: restore, pass-cs, nat-cs, pass-sc,\n"
		"                nat-sc, churn, dr-cs, ipip-cs, gue-cs, and over IPv6 pass6-cs,\n"
		"                nat6-cs, pass6-sc, nat6-sc, dr6-cs, ipip6-cs, gue6-cs, and the\n"
		"                hand-off between two workers nat-cs-ho, nat-sc-ho; in the worker\n"
		"                and driver sections nat-cs, nat-sc, nat-sc-ho, fill, io-fwd; the\n"
		"                one-core ones on the --flows table only (the fill is always run)\n"
		"  --sections L  which parts to run, of core, workers, driver (default: all three)\n"
		"  --scale-flows L  flows of the worker and driver figures, at most %u each\n"
		"                (default 1k,1M,10M; k and M are 10^3 and 10^6)\n"
		"  --workers L   worker counts, numbers or \"all\" (one per CPU; default 1,2,all)\n"
		"  --handoff-share P  percent of replies arriving at a worker that does not own\n"
		"                their connection in nat-sc-ho (default 50)\n"
		"  --quick       a short pass for CI: 100k flows, 0.1 s, 1 run, scale flows 1k,100k,\n"
		"                workers 1,2 (options given explicitly win)\n"
		"  --json        print the figures as a JSON list on stdout, the table on stderr\n",
		XVS_BURST, XVS_BURST, BENCH_HUGE_DIR, BENCH_MAX_SCALE_FLOWS);
}

/* A count with an optional k (10^3) or M (10^6) suffix; -EINVAL on anything else. */
static int parse_count(const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	if (*end == 'k' || *end == 'K')
		n *= 1000, end++;
	else if (*end == 'M')
		n *= 1000000, end++;
	if (*end)
		return -EINVAL;
	*v = n;
	return 0;
}

/* Comma-separated counts (or "all" where all_ok) into out[]; returns how many, or -EINVAL. */
static int parse_list(const char *arg, uint32_t *out, unsigned max, int all_ok)
{
	char buf[256];
	unsigned n = 0;
	snprintf(buf, sizeof(buf), "%s", arg);
	for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		uint64_t v;
		if (n == max)
			return -EINVAL;
		if (all_ok && !strcmp(t, "all"))
			v = BENCH_WORKERS_ALL;
		else if (parse_count(t, &v) < 0 || v == 0 || v > UINT32_MAX)
			return -EINVAL;
		out[n++] = (uint32_t)v;
	}
	return n ? (int)n : -EINVAL;
}

/* "0-3,6" into o->cpus. */
static int parse_cpus(const char *arg, struct bench_opts *o)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", arg);
	o->nb_cpus = 0;
	for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		unsigned a, b;
		int k = sscanf(t, "%u-%u", &a, &b);
		if (k == 1)
			b = a;
		if (k < 1 || b < a || b >= CPU_SETSIZE)
			return -EINVAL;
		for (unsigned c = a; c <= b; c++) {
			if (o->nb_cpus == RTE_MAX_LCORE - 1)
				return -EINVAL;
			o->cpus[o->nb_cpus++] = (int)c;
		}
	}
	return o->nb_cpus ? 0 : -EINVAL;
}

static int parse_sections(const char *arg, unsigned *sections)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%s", arg);
	*sections = 0;
	for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!strcmp(t, "core"))
			*sections |= BENCH_SEC_CORE;
		else if (!strcmp(t, "workers"))
			*sections |= BENCH_SEC_WORKERS;
		else if (!strcmp(t, "driver"))
			*sections |= BENCH_SEC_DRIVER;
		else
			return -EINVAL;
	}
	return *sections ? 0 : -EINVAL;
}

/* --quick fills in what was not given explicitly. */
static void apply_quick(struct bench_opts *o, unsigned given)
{
	if (!(given & GIVEN_FLOWS))
		o->flows = quick.flows;
	if (!(given & GIVEN_SECONDS))
		o->seconds = quick.seconds;
	if (!(given & GIVEN_RUNS))
		o->runs = quick.runs;
	if (!(given & GIVEN_SCALE)) {
		memcpy(o->scale_flows, quick.scale_flows, sizeof(o->scale_flows));
		o->nb_scale_flows = quick.nb_scale_flows;
	}
	if (!(given & GIVEN_WORKERS)) {
		memcpy(o->workers, quick.workers, sizeof(o->workers));
		o->nb_workers = quick.nb_workers;
	}
}

static int check(const struct bench_opts *o)
{
	if (o->flows < 1 || o->seconds <= 0 || o->runs < 1 || o->runs > BENCH_MAX_RUNS ||
	    o->burst < 1 || o->burst > XVS_BURST || o->conn_max < 64 || o->conn_max > (1u << 24) ||
	    (o->conn_max & (o->conn_max - 1)) || o->flows > o->conn_max - 2 * XVS_BURST) {
		fprintf(stderr, "xvs-bench: bad options (flows must stay below conn-max - %u)\n",
			2 * XVS_BURST);
		return -EINVAL;
	}
	for (unsigned i = 0; i < o->nb_scale_flows; i++) {
		if (o->scale_flows[i] > BENCH_MAX_SCALE_FLOWS) {
			fprintf(stderr, "xvs-bench: --scale-flows: at most %u\n", BENCH_MAX_SCALE_FLOWS);
			return -EINVAL;
		}
	}
	for (unsigned i = 0; i < o->nb_workers; i++) {
		if (o->workers[i] > XVS_MAX_LCORES) {
			fprintf(stderr, "xvs-bench: --workers: at most %u\n", XVS_MAX_LCORES);
			return -EINVAL;
		}
	}
	if (o->handoff_pct > 100) {
		fprintf(stderr, "xvs-bench: --handoff-share: a percentage\n");
		return -EINVAL;
	}
	return 0;
}

int bench_opts_parse(int argc, char **argv, struct bench_opts *o)
{
	static const struct option lo[] = {
		{ "flows", required_argument, NULL, 'f' }, { "seconds", required_argument, NULL, 's' },
		{ "runs", required_argument, NULL, 'r' }, { "burst", required_argument, NULL, 'b' },
		{ "conn-max", required_argument, NULL, 'c' }, { "huge", no_argument, NULL, 'H' },
		{ "no-huge", no_argument, NULL, 'N' }, { "core", required_argument, NULL, 'C' },
		{ "only", required_argument, NULL, 'O' }, { "cpus", required_argument, NULL, 'P' },
		{ "sections", required_argument, NULL, 'S' },
		{ "scale-flows", required_argument, NULL, 'F' },
		{ "workers", required_argument, NULL, 'W' },
		{ "handoff-share", required_argument, NULL, 'x' },
		{ "quick", no_argument, NULL, 'q' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	unsigned given = 0;
	int c, n, bad = 0;
	*o = defaults;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'f': o->flows = (uint32_t)strtoul(optarg, NULL, 0); given |= GIVEN_FLOWS; break;
		case 's': o->seconds = strtod(optarg, NULL); given |= GIVEN_SECONDS; break;
		case 'r': o->runs = (unsigned)strtoul(optarg, NULL, 0); given |= GIVEN_RUNS; break;
		case 'b': o->burst = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'c': o->conn_max = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'H': o->huge = 1; break;
		case 'N': o->huge = 0; break;
		case 'C': o->core = atoi(optarg); break;
		case 'O': o->only = optarg; break;
		case 'P': bad |= parse_cpus(optarg, o) < 0; break;
		case 'S': bad |= parse_sections(optarg, &o->sections) < 0; break;
		case 'F':
			n = parse_list(optarg, o->scale_flows, BENCH_MAX_SIZES, 0);
			bad |= n < 0;
			o->nb_scale_flows = n < 0 ? 0 : (unsigned)n;
			given |= GIVEN_SCALE;
			break;
		case 'W':
			n = parse_list(optarg, o->workers, BENCH_MAX_COUNTS, 1);
			bad |= n < 0;
			o->nb_workers = n < 0 ? 0 : (unsigned)n;
			given |= GIVEN_WORKERS;
			break;
		case 'x': o->handoff_pct = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'q': o->quick = 1; break;
		case 'j': o->json = 1; break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -EINVAL;
		}
	}
	if (bad || optind != argc) {
		usage(stderr);
		return -EINVAL;
	}
	if (o->quick)
		apply_quick(o, given);
	return check(o);
}
