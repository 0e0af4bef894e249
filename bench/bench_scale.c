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

/* Tables of all worker counts of a size up to this size are built at once (run_together). */
#define BENCH_INTERLEAVE_MAX ((size_t)1 << 30)

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

/* What runs for one table size: each worker count once, with the modes it runs in. */
struct plan {
	unsigned nb;
	struct {
		unsigned k;
		int logic, driver;
	} e[2 * BENCH_MAX_COUNTS];
};

static void plan_add(struct plan *p, unsigned k, int logic, int driver)
{
	for (unsigned i = 0; i < p->nb; i++) {
		if (p->e[i].k == k) {
			p->e[i].logic |= logic;
			p->e[i].driver |= driver;
			return;
		}
	}
	p->e[p->nb].k = k;
	p->e[p->nb].logic = logic;
	p->e[p->nb++].driver = driver;
}

/*
 * The worker counts of --workers ("all": one per CPU for logic rows, one per two CPUs for
 * driver rows, a feeder each) that the CPUs carry; the others said (when say is set).
 */
static void plan_size(const struct bench_env *env, int say, struct plan *p)
{
	const struct bench_opts *o = env->o;
	unsigned nb = env->cpus->nb;
	p->nb = 0;
	for (unsigned i = 0; i < o->nb_workers; i++) {
		unsigned kl = workers_of(env, i, 0), kd = workers_of(env, i, 1);
		int logic = (o->sections & BENCH_SEC_WORKERS) != 0;
		int driver = (o->sections & BENCH_SEC_DRIVER) != 0;
		if (logic && kl > nb) {
			if (say)
				bench_note("  logic, %u workers: needs %u CPUs, %u here: skipped", kl, kl, nb);
			logic = 0;
		}
		if (driver && 2 * kd > nb) {
			if (say)
				bench_note("  driver, %u workers: needs %u CPUs (a feeder per worker), %u "
					   "here: skipped", kd, 2 * kd, nb);
			driver = 0;
		}
		if (say && o->workers[i] == BENCH_WORKERS_ALL)
			bench_note("  all workers: %u (logic), %u (driver) here", kl, kd);
		if (logic)
			plan_add(p, kl, 1, 0);
		if (driver)
			plan_add(p, kd, 0, 1);
	}
}

/* All worker counts' tables of a size fit together: the logic runs take turns (run_size). */
static int interleaved(const struct plan *p, uint32_t nb_flows, size_t *total)
{
	size_t sum = 0;
	for (unsigned i = 0; i < p->nb; i++)
		sum += bench_lanes_memsize(p->e[i].k, nb_flows);
	*total = sum;
	return sum <= BENCH_INTERLEAVE_MAX;
}

size_t bench_scale_memsize(const struct bench_opts *o, const struct bench_cpus *cpus)
{
	size_t most = 0;
	struct bench_env env = { .o = o, .cpus = cpus };
	struct plan p;
	if (!(o->sections & (BENCH_SEC_WORKERS | BENCH_SEC_DRIVER)))
		return 0;
	plan_size(&env, 0, &p);
	for (unsigned s = 0; s < o->nb_scale_flows; s++) {
		size_t together;
		if (interleaved(&p, o->scale_flows[s], &together))
			most = RTE_MAX(most, together);
		for (unsigned i = 0; i < p.nb; i++)
			most = RTE_MAX(most, bench_lanes_memsize(p.e[i].k, o->scale_flows[s]));
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

/* A logic figure's runs so far on one set of lanes. */
struct logic_acc {
	struct sample all, wall_rate, per[XVS_MAX_LCORES];
	uint64_t frames, handed; /* handed over: counted around each run, as sets share counters */
	uint64_t run_tsc, wait_tsc;
};

/* Run job f on all lanes once; add each lane's rate (per CPU second) and the sum. */
static int logic_run(struct lanes *ls, enum fig f, struct logic_acc *a)
{
	uint64_t tx0[XVS_MAX_LCORES], count = 0, ho0 = handoffs(ls);
	double sum = 0, longest = 0, cpu_run = 0, wall_run = 0, lowest = 1;
	bench_lanes_select(ls);
	ls->dir = figs[f].dir;
	ls->mixed = figs[f].mixed;
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
		a->per[k].v[a->per[k].n++] = rate;
		sum += rate;
		count += l->res.count;
		longest = RTE_MAX(longest, l->res.r.wall);
		a->run_tsc += l->res.run_tsc;
		a->wait_tsc += l->res.wait_tsc;
		a->all.preempt += l->res.r.preempt;
		cpu_run += l->res.r.cpu;
		wall_run += l->res.r.wall;
		lowest = RTE_MIN(lowest, l->res.r.cpu / l->res.r.wall);
	}
	a->all.share[a->all.n] = lowest;
	a->all.cpu += cpu_run;
	a->all.wall += wall_run;
	a->all.v[a->all.n++] = sum;
	a->wall_rate.v[a->wall_rate.n++] = (double)count / longest / 1e6;
	a->frames += count;
	a->handed += handoffs(ls) - ho0;
	return 0;
}

static void logic_report(struct lanes *ls, unsigned si, enum fig f, struct logic_acc *a)
{
	struct bench_row row = {
		.s = &a->all, .per = ls->nb > 1 ? a->per : NULL, .wall_rate = median(&a->wall_rate),
		.on_cpu = a->all.wall > 0 ? a->all.cpu / a->all.wall : -1, .feeder_on_cpu = -1,
		.limit = -1, .rx_fill = -1, .handoff = -1, .paused = -1,
	};
	if (figs[f].mixed && a->frames)
		row.handoff = (double)a->handed / (double)a->frames;
	if (figs[f].mixed && a->run_tsc)
		row.paused = (double)a->wait_tsc / (double)a->run_tsc;
	report(ls, MODE_LOGIC, si, f, &row);
}

/*
 * One logic figure on nb sets of lanes (worker counts), o.runs times: run r of every set
 * before run r + 1 of any, so that sets compare under the same load from elsewhere; every
 * lane on its CPU at once; rates per CPU second. Sets too small for the figure sit out.
 */
static int logic_figure(struct lanes **sets, unsigned nb, unsigned si, enum fig f)
{
	static struct logic_acc acc[2 * BENCH_MAX_COUNTS];
	const struct bench_opts *o = sets[0]->env->o;
	int rc = 0;
	for (unsigned i = 0; i < nb; i++) {
		memset(&acc[i], 0, sizeof(acc[i]));
		if (figs[f].mixed && sets[i]->nb > 1 && (rc = bench_lanes_mix(sets[i], o->handoff_pct)) < 0)
			return rc;
	}
	for (unsigned r = 0; r < o->runs && !xvs_quit; r++)
		for (unsigned i = 0; i < nb && rc == 0; i++)
			if (!figs[f].mixed || sets[i]->nb > 1)
				rc = logic_run(sets[i], f, &acc[i]);
	if (rc < 0 || xvs_quit)
		return rc < 0 ? rc : -EINTR;
	for (unsigned i = 0; i < nb; i++)
		if (acc[i].all.n)
			logic_report(sets[i], si, f, &acc[i]);
	return 0;
}

/* The established figures, each over all sets; the fill comes last (it empties the tables). */
static int logic_figures(struct lanes **sets, unsigned nb, unsigned si, int fill)
{
	static const enum fig order[] = { FIG_NAT_CS, FIG_NAT_SC, FIG_NAT_SC_HO, FIG_FILL };
	int rc = 0;
	for (unsigned i = 0; i < RTE_DIM(order) && rc == 0; i++)
		if (selected(sets[0]->env, order[i]) && (order[i] != FIG_FILL) != fill)
			rc = logic_figure(sets, nb, si, order[i]);
	return rc;
}

/* ---- driver -------------------------------------------------------------------------- */

static int driver_figure(struct lanes *ls, unsigned si, enum fig f, double limit)
{
	static struct drv_figure d;
	enum drv_engine eng = f == FIG_IO ? DRV_IO : DRV_XVS;
	bench_lanes_select(ls);
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

/* Lanes for k workers over the si-th table size; 0 when a worker would have no flow. */
static int make_lanes(const struct bench_env *env, unsigned si, unsigned k, struct lanes *ls)
{
	uint32_t n = env->o->scale_flows[si];
	uint64_t t0 = rte_rdtsc();
	int rc = bench_lanes_create(ls, env, k, n);
	double took = (double)(rte_rdtsc() - t0) / (double)rte_get_tsc_hz();
	if (rc == -ERANGE)
		bench_note("  %u workers, %u flows: a worker got no flow, skipped", k, n);
	else if (rc < 0)
		fprintf(stderr, "xvs-bench: %u workers, %u flows: %s\n", k, n, strerror(-rc));
	else if (took > 2)
		bench_note("  (%u workers, %u flows: tables built in %.1f s)", k, n, took);
	if (rc < 0)
		bench_lanes_free(ls);
	return rc == -ERANGE ? 0 : rc < 0 ? rc : 1;
}

/*
 * One worker count at a time: lanes, logic figures, driver figures, the fill (last: it
 * empties the tables), free. For table sizes whose sets do not fit together.
 */
static int run_one_by_one(const struct bench_env *env, unsigned si, const struct plan *p)
{
	static struct lanes ls;
	int rc = 0;
	for (unsigned i = 0; i < p->nb && rc >= 0 && !xvs_quit; i++) {
		struct lanes *set = &ls;
		if (!any_selected(env, p->e[i].logic, p->e[i].driver))
			continue;
		if ((rc = make_lanes(env, si, p->e[i].k, &ls)) <= 0)
			continue;
		rc = p->e[i].logic ? logic_figures(&set, 1, si, 0) : 0;
		if (rc == 0 && p->e[i].driver)
			rc = driver_figures(&ls, si);
		if (rc == 0 && p->e[i].logic)
			rc = logic_figures(&set, 1, si, 1);
		bench_lanes_free(&ls);
	}
	return rc < 0 ? rc : 0;
}

/*
 * Every worker count's lanes at once, so that the logic figures' runs take turns between
 * worker counts; then the driver figures set by set, and the fills.
 */
static int run_together(const struct bench_env *env, unsigned si, const struct plan *p)
{
	static struct lanes ls[2 * BENCH_MAX_COUNTS];
	struct lanes *logic[2 * BENCH_MAX_COUNTS];
	unsigned nb = 0, nl = 0;
	int driver[2 * BENCH_MAX_COUNTS], rc = 0;
	for (unsigned i = 0; i < p->nb && rc >= 0; i++) {
		if (!any_selected(env, p->e[i].logic, p->e[i].driver))
			continue;
		if ((rc = make_lanes(env, si, p->e[i].k, &ls[nb])) <= 0)
			continue;
		driver[nb] = p->e[i].driver;
		if (p->e[i].logic) /* by worker count: the one-worker rows come first ("vs 1") */
			for (unsigned j = nl++; ; j--) {
				if (j == 0 || logic[j - 1]->nb < ls[nb].nb) {
					logic[j] = &ls[nb];
					break;
				}
				logic[j] = logic[j - 1];
			}
		nb++;
	}
	rc = rc < 0 || !nl ? RTE_MIN(rc, 0) : logic_figures(logic, nl, si, 0);
	for (unsigned i = 0; i < nb && rc == 0; i++)
		if (driver[i])
			rc = driver_figures(&ls[i], si);
	if (rc == 0 && nl)
		rc = logic_figures(logic, nl, si, 1);
	while (nb)
		bench_lanes_free(&ls[--nb]);
	return rc;
}

/* One table size: every worker count that the CPUs allow, in each mode asked for. */
static int run_size(const struct bench_env *env, unsigned si)
{
	struct plan p;
	size_t together;
	plan_size(env, si == 0, &p);
	if (interleaved(&p, env->o->scale_flows[si], &together))
		return run_together(env, si, &p);
	if (si == 0 || !interleaved(&p, env->o->scale_flows[si - 1], &together))
		bench_note("  (%u flows: %.1f GB of tables for all worker counts: one count at a time)",
			   env->o->scale_flows[si], (double)together / 1e9);
	return run_one_by_one(env, si, &p);
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
	uint32_t conn_max = env->dp->cfg.conn_max; /* lanes set theirs */
	for (unsigned s = 0; s < o->nb_scale_flows && rc == 0 && !xvs_quit; s++)
		rc = run_size(env, s);
	env->dp->cfg.conn_max = conn_max;
	if (rc == 0 && !xvs_quit)
		print_targets(env);
	bench_driver_close(env->dp);
	return rc;
}
