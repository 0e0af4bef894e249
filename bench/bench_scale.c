/*
 * The worker and driver sections (bench_scale.h): for each table size and worker count,
 * lanes are built, then measured over prebuilt mbufs (logic) and behind net_ring ports
 * (driver); a summary holds the figures against the targets of docs/performance.md.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_lcore.h>

#include "bench_driver.h"
#include "bench_lanes.h"
#include "bench_scale.h"

volatile sig_atomic_t bench_interrupted;

enum fig { FIG_NAT_CS, FIG_NAT_SC, FIG_NAT_SC_HO, FIG_FILL, FIG_IO, NB_FIGS };
enum { MODE_LOGIC, MODE_DRIVER, NB_MODES };

static const struct {
	const char *id, *what;
	enum dir dir;
	int mixed;
} figs[NB_FIGS] = {
	[FIG_NAT_CS] = { "nat-cs", "NAT established c->s", DIR_CS, 0 },
	[FIG_NAT_SC] = { "nat-sc", "NAT established s->c", DIR_SC, 0 },
	[FIG_NAT_SC_HO] = { "nat-sc-ho", "NAT s->c, replies on any worker", DIR_SC, 1 },
	[FIG_FILL] = { "fill", "new conns: SYN fill [Mconn/s]", DIR_CS, 0 },
	[FIG_IO] = { "io-fwd", "io forwarding (the limit)", DIR_CS, 0 },
};
static const char *const mode_name[NB_MODES] = { "logic", "driver" };

/* Medians so far, by mode, table size, worker count and figure (0: not measured). */
static double medians[NB_MODES][BENCH_MAX_SIZES][XVS_MAX_LCORES + 1][NB_FIGS];
static double on_cpus[NB_MODES][BENCH_MAX_SIZES][XVS_MAX_LCORES + 1][NB_FIGS]; /* the lowest */
static double shares[BENCH_MAX_SIZES][NB_FIGS]; /* driver, one worker */

static int selected(const struct bench_env *env, enum fig f)
{
	return !env->o->only || !strcmp(env->o->only, figs[f].id);
}

/* A worker count of --workers; "all" is one per CPU (logic) or per two CPUs (driver). */
static unsigned workers_of(const struct bench_env *env, unsigned i, int driver)
{
	unsigned k = env->o->workers[i];
	if (k != BENCH_WORKERS_ALL)
		return k;
	k = driver ? env->cpus->nb / 2 : env->cpus->nb;
	return RTE_MIN(RTE_MAX(k, 1u), (unsigned)XVS_MAX_LCORES);
}

/* An earlier entry of --workers gives the same count in this mode. */
static int seen_before(const struct bench_env *env, unsigned i, int driver)
{
	for (unsigned j = 0; j < i; j++)
		if (workers_of(env, j, driver) == workers_of(env, i, driver))
			return 1;
	return 0;
}

size_t bench_scale_memsize(const struct bench_opts *o, const struct bench_cpus *cpus)
{
	size_t most = 0;
	struct bench_env env = { .o = o, .cpus = cpus };
	if (!(o->sections & (BENCH_SEC_WORKERS | BENCH_SEC_DRIVER)))
		return 0;
	for (unsigned s = 0; s < o->nb_scale_flows; s++) {
		for (unsigned i = 0; i < o->nb_workers; i++) {
			size_t sz = bench_lanes_memsize(workers_of(&env, i, 0), o->scale_flows[s]);
			most = RTE_MAX(most, sz);
		}
	}
	return most + (192u << 20); /* mbuf pools, rings, lane structures */
}

/* ---- rows ---------------------------------------------------------------------------- */

/* The "vs 1" figure: over the one-worker median of the same figure (nat-sc-ho: of nat-sc). */
static double speedup(int mode, unsigned si, unsigned k, enum fig f, double med)
{
	double one = medians[mode][si][1][f == FIG_NAT_SC_HO ? FIG_NAT_SC : f];
	return k > 1 && one > 0 ? med / one : -1;
}

/*
 * Finish and print a row whose caller filled in the measured fields (s, per, on_cpu,
 * feeder_on_cpu, wall_rate, handoff, and for driver rows limit, the io forwarding median).
 */
static void report(const struct lanes *ls, int mode, unsigned si, enum fig f, struct bench_row *r)
{
	double med = median(r->s);
	medians[mode][si][ls->nb][f] = med;
	on_cpus[mode][si][ls->nb][f] = r->feeder_on_cpu >= 0 ? RTE_MIN(r->on_cpu, r->feeder_on_cpu)
							      : r->on_cpu;
	r->id = figs[f].id;
	r->what = figs[f].what;
	r->mode = mode_name[mode];
	r->unit = f == FIG_FILL ? "Mconn/s" : "Mpps";
	r->workers = ls->nb;
	r->flows = ls->nb_flows;
	r->conn_max = ls->conn_max;
	r->speedup = speedup(mode, si, ls->nb, f, med);
	r->shared_cpus = ls->env->cpus->shared;
	r->share = mode == MODE_DRIVER && r->limit > 0 ? med / r->limit : -1;
	if (mode == MODE_DRIVER && ls->nb == 1)
		shares[si][f] = r->share;
	bench_scale_row(r);
}

/* ---- logic --------------------------------------------------------------------------- */

/* After a flows job: every frame left by the other port, every hand-off arrived, no drops. */
static int check_flows(struct lanes *ls, enum fig f, const uint64_t *tx0)
{
	unsigned out = figs[f].dir == DIR_CS ? 1 : 0;
	uint64_t in = 0, sent = 0, ho_out = 0, ho_in = 0;
	for (unsigned k = 0; k < ls->nb; k++) {
		const struct lane *l = ls->lane[k];
		if (bench_lane_drops(l))
			return bench_lanes_report_drops(ls, figs[f].what);
		in += l->res.count;
		sent += l->tx[out] - tx0[k];
		ho_out += l->w.st->handoff_out;
		ho_in += l->w.st->handoff_in;
	}
	if (sent != in || ho_out != ho_in) {
		fprintf(stderr, "xvs-bench: %s, %u workers: %llu frames in, %llu out of port %u, "
			"%llu handed over, %llu taken over\n", figs[f].what, ls->nb,
			(unsigned long long)in, (unsigned long long)sent, out,
			(unsigned long long)ho_out, (unsigned long long)ho_in);
		return -EIO;
	}
	return 0;
}

static uint64_t handoffs(const struct lanes *ls)
{
	uint64_t n = 0;
	for (unsigned k = 0; k < ls->nb; k++)
		n += ls->lane[k]->w.st->handoff_in;
	return n;
}

/* Run job f on all lanes once; add each lane's rate (per CPU second) and the sum. */
static int logic_run(struct lanes *ls, enum fig f, struct sample *all, struct sample *per,
		     struct sample *wall_rate, uint64_t *frames, uint64_t *run, uint64_t *wait)
{
	uint64_t tx0[XVS_MAX_LCORES], count = 0;
	double sum = 0, longest = 0, cpu_run = 0, wall_run = 0, lowest = 1;
	for (unsigned k = 0; k < ls->nb; k++)
		tx0[k] = ls->lane[k]->tx[figs[f].dir == DIR_CS ? 1 : 0];
	int rc = bench_lanes_launch(ls, f == FIG_FILL ? bench_lane_fill : bench_lane_flows);
	if (rc == 0)
		rc = bench_lanes_wait(ls);
	if (rc == 0 && f != FIG_FILL)
		rc = check_flows(ls, f, tx0);
	if (rc < 0)
		return rc;
	for (unsigned k = 0; k < ls->nb; k++) {
		const struct lane *l = ls->lane[k];
		double rate = (double)l->res.count / l->res.r.cpu / 1e6;
		per[k].v[per[k].n++] = rate;
		sum += rate;
		count += l->res.count;
		longest = RTE_MAX(longest, l->res.r.wall);
		*run += l->res.run_tsc;
		*wait += l->res.wait_tsc;
		all->preempt += l->res.r.preempt;
		cpu_run += l->res.r.cpu;
		wall_run += l->res.r.wall;
		lowest = RTE_MIN(lowest, l->res.r.cpu / l->res.r.wall);
	}
	all->share[all->n] = lowest;
	all->cpu += cpu_run;
	all->wall += wall_run;
	all->v[all->n++] = sum;
	wall_rate->v[wall_rate->n++] = (double)count / longest / 1e6;
	*frames += count;
	return 0;
}

/* One logic figure, o.runs times: every lane on its CPU at once; rates per CPU second. */
static int logic_figure(struct lanes *ls, unsigned si, enum fig f)
{
	static struct sample per[XVS_MAX_LCORES];
	struct sample all = { .n = 0 }, wall_rate = { .n = 0 };
	uint64_t frames = 0, ho0 = handoffs(ls), run = 0, wait = 0;
	memset(per, 0, sizeof(per));
	ls->dir = figs[f].dir;
	ls->mixed = figs[f].mixed;
	for (unsigned r = 0; r < ls->env->o->runs && !xvs_quit; r++) {
		int rc = logic_run(ls, f, &all, per, &wall_rate, &frames, &run, &wait);
		if (rc < 0)
			return rc;
	}
	if (!all.n)
		return -EINTR;
	struct bench_row row = {
		.s = &all, .per = ls->nb > 1 ? per : NULL, .wall_rate = median(&wall_rate),
		.on_cpu = all.wall > 0 ? all.cpu / all.wall : -1, .feeder_on_cpu = -1, .limit = -1,
		.rx_fill = -1, .handoff = -1, .paused = figs[f].mixed && run ? (double)wait / (double)run : -1,
	};
	if (figs[f].mixed && frames)
		row.handoff = (double)(handoffs(ls) - ho0) / (double)frames;
	report(ls, MODE_LOGIC, si, f, &row);
	return 0;
}

static int logic_figures(struct lanes *ls, unsigned si)
{
	static const enum fig order[] = { FIG_NAT_CS, FIG_NAT_SC, FIG_NAT_SC_HO };
	int rc = 0;
	for (unsigned i = 0; i < RTE_DIM(order) && rc == 0; i++) {
		enum fig f = order[i];
		if (!selected(ls->env, f) || (figs[f].mixed && ls->nb < 2))
			continue;
		if (figs[f].mixed && (rc = bench_lanes_mix(ls, ls->env->o->handoff_pct)) < 0)
			return rc;
		rc = logic_figure(ls, si, f);
	}
	return rc;
}

/* ---- driver -------------------------------------------------------------------------- */

static int driver_figure(struct lanes *ls, unsigned si, enum fig f, double limit)
{
	static struct drv_figure d;
	enum drv_engine eng = f == FIG_IO ? DRV_IO : DRV_XVS;
	int rc = bench_driver_figure(ls, eng, figs[f].dir, figs[f].mixed, &d);
	if (rc < 0)
		return rc;
	struct bench_row row = {
		.s = &d.all, .per = ls->nb > 1 ? d.per : NULL, .wall_rate = -1, .on_cpu = d.on_cpu,
		.feeder_on_cpu = d.feeder_on_cpu, .limit = f == FIG_IO ? median(&d.all) : limit,
		.handoff = figs[f].mixed ? d.handoff : -1, .rx_fill = d.rx_fill, .paused = -1,
	};
	report(ls, MODE_DRIVER, si, f, &row);
	return 0;
}

/* io forwarding first: the limit the xvs rows are a share of. */
static int driver_figures(struct lanes *ls, unsigned si)
{
	static const enum fig order[] = { FIG_NAT_CS, FIG_NAT_SC, FIG_NAT_SC_HO };
	int rc = driver_figure(ls, si, FIG_IO, 0);
	double limit = medians[MODE_DRIVER][si][ls->nb][FIG_IO];
	for (unsigned i = 0; i < RTE_DIM(order) && rc == 0; i++) {
		enum fig f = order[i];
		if (!selected(ls->env, f) || (figs[f].mixed && ls->nb < 2))
			continue;
		if (figs[f].mixed && (rc = bench_lanes_mix(ls, ls->env->o->handoff_pct)) < 0)
			return rc;
		rc = driver_figure(ls, si, f, limit);
	}
	return rc;
}

/* ---- the sections -------------------------------------------------------------------- */

static int any_selected(const struct bench_env *env, int logic, int driver)
{
	for (unsigned f = 0; f < NB_FIGS; f++)
		if (selected(env, (enum fig)f) && (f == FIG_IO ? driver : logic || driver))
			return 1;
	return 0;
}

/* Lanes for k workers over the si-th table size: logic figures, driver figures, then the fill. */
static int run_case(const struct bench_env *env, unsigned si, unsigned k, int logic, int driver)
{
	struct lanes ls;
	uint32_t n = env->o->scale_flows[si];
	uint64_t t0 = rte_rdtsc();
	int rc = bench_lanes_create(&ls, env, k, n);
	if (rc == -ERANGE) {
		bench_note("  %u workers, %u flows: a worker got no flow, skipped", k, n);
		bench_lanes_free(&ls);
		return 0;
	}
	if (rc < 0)
		fprintf(stderr, "xvs-bench: %u workers, %u flows: %s\n", k, n, strerror(-rc));
	if (rc == 0 && (double)(rte_rdtsc() - t0) / (double)rte_get_tsc_hz() > 2)
		bench_note("  (%u workers, %u flows: tables built in %.1f s)", k, n,
			   (double)(rte_rdtsc() - t0) / (double)rte_get_tsc_hz());
	if (rc == 0 && logic)
		rc = logic_figures(&ls, si);
	if (rc == 0 && driver)
		rc = driver_figures(&ls, si);
	if (rc == 0 && logic && selected(env, FIG_FILL))
		rc = logic_figure(&ls, si, FIG_FILL); /* last: it empties the tables */
	bench_lanes_free(&ls);
	return rc;
}

/*
 * Which modes the i-th worker count runs in: none when an earlier entry of --workers gave
 * the same count, or when the CPUs are too few (with the reason printed).
 */
static void modes_of(const struct bench_env *env, unsigned si, unsigned i, int *logic, int *driver)
{
	const struct bench_opts *o = env->o;
	unsigned kl = workers_of(env, i, 0), kd = workers_of(env, i, 1), nb = env->cpus->nb;
	*logic = (o->sections & BENCH_SEC_WORKERS) && !seen_before(env, i, 0);
	*driver = (o->sections & BENCH_SEC_DRIVER) && !seen_before(env, i, 1);
	if (o->workers[i] == BENCH_WORKERS_ALL && !*logic && !*driver && si == 0)
		bench_note("  all workers: %u (logic), %u (driver): the rows above", kl, kd);
	if (*logic && kl > nb) {
		bench_note("  logic, %u workers: needs %u CPUs, %u here: skipped", kl, kl, nb);
		*logic = 0;
	}
	if (*driver && 2 * kd > nb) {
		bench_note("  driver, %u workers: needs %u CPUs (a feeder per worker), %u here: "
			   "skipped", kd, 2 * kd, nb);
		*driver = 0;
	}
}

/* One table size: every worker count that the CPUs allow, in each mode asked for. */
static int run_size(const struct bench_env *env, unsigned si)
{
	for (unsigned i = 0; i < env->o->nb_workers && !xvs_quit; i++) {
		unsigned kl = workers_of(env, i, 0), kd = workers_of(env, i, 1);
		int logic, driver, rc = 0;
		modes_of(env, si, i, &logic, &driver);
		if (logic && driver && kl == kd) {
			rc = any_selected(env, 1, 1) ? run_case(env, si, kl, 1, 1) : 0;
		} else {
			if (logic && any_selected(env, 1, 0))
				rc = run_case(env, si, kl, 1, 0);
			if (rc == 0 && driver && any_selected(env, 0, 1))
				rc = run_case(env, si, kd, 0, 1);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static const char *met(int ok)
{
	return ok ? "met" : "NOT met";
}

/* The 1M-flow case, or the largest one run. */
static unsigned target_size(const struct bench_opts *o)
{
	unsigned si = 0;
	for (unsigned s = 1; s < o->nb_scale_flows; s++)
		if (o->scale_flows[si] != 1000000 &&
		    (o->scale_flows[s] == 1000000 || o->scale_flows[s] > o->scale_flows[si]))
			si = s;
	return si;
}

/* Busy neighbours: a row whose threads ran less than 90% of the time is not a figure. */
static const char *load_note(double on_cpu)
{
	return on_cpu < 0.9 ? " [other load: CPU share below 90%]" : "";
}

/* The targets of docs/performance.md. */
static void print_targets(const struct bench_env *env)
{
	const struct bench_opts *o = env->o;
	unsigned si = target_size(o);
	bench_note("\ntargets, %u flows%s:", o->scale_flows[si],
		   env->cpus->shared ? " (shared CPUs: not figures)" : "");
	for (unsigned f = FIG_NAT_CS; f <= FIG_NAT_SC; f++) {
		double d = medians[MODE_DRIVER][si][1][f], sh = shares[si][f];
		if (d > 0)
			bench_note("  driver, 1 worker, %s: %.2f Mpps (>= 12: %s), %.0f%% of io "
				   "forwarding (>= 50%%: %s)%s", figs[f].id, d, met(d >= 12), 100 * sh,
				   met(sh >= 0.5), load_note(on_cpus[MODE_DRIVER][si][1][f]));
	}
	for (unsigned f = FIG_NAT_CS; f <= FIG_NAT_SC_HO; f++) {
		enum fig base = f == FIG_NAT_SC_HO ? FIG_NAT_SC : f;
		double one = medians[MODE_LOGIC][si][1][base], two = medians[MODE_LOGIC][si][2][f];
		double want = f == FIG_NAT_SC_HO ? 1.6 : 1.9;
		double cpu = RTE_MIN(on_cpus[MODE_LOGIC][si][1][base], on_cpus[MODE_LOGIC][si][2][f]);
		if (one > 0 && two > 0)
			bench_note("  logic, 2 workers over 1, %s%s: x%.2f (>= %.1f%s: %s)%s", figs[f].id,
				   base != f ? " over nat-sc" : "", two / one, want,
				   base != f && o->handoff_pct != 50 ? " at 50% handed over" : "",
				   met(two / one >= want), load_note(cpu));
	}
}

int bench_scale_run(const struct bench_env *env)
{
	const struct bench_opts *o = env->o;
	const struct bench_cpus *c = env->cpus;
	int rc = 0;
	char cpus[256];
	size_t at = 0;
	for (unsigned i = 0; i < c->nb && at < sizeof(cpus); i++)
		at += (size_t)snprintf(cpus + at, sizeof(cpus) - at, "%s%d", i ? "," : "", c->cpu[i]);
	bench_note("\nseveral workers, each on a CPU of its own. logic: prebuilt mbufs, rates per CPU "
		   "second;\ndriver: net_ring ports fed from other CPUs, rates per wall second.");
	bench_note("CPUs for workers and feeders: %s (the main lcore's, %d, last)%s", cpus, o->core,
		   c->shared ? "; some are shared: rates are not figures" : "");
	bench_scale_header();
	if ((o->sections & BENCH_SEC_DRIVER) && c->nb >= 2) {
		rc = bench_driver_init(env->dp, RTE_MIN(c->nb / 2, (unsigned)XVS_MAX_LCORES));
		if (rc < 0) {
			fprintf(stderr, "xvs-bench: driver ports: %s\n", strerror(-rc));
			return rc;
		}
	}
	for (unsigned s = 0; s < o->nb_scale_flows && rc == 0 && !xvs_quit; s++)
		rc = run_size(env, s);
	if (rc == 0 && !xvs_quit)
		print_targets(env);
	bench_driver_close(env->dp);
	return rc;
}
