/* Meters, the table and the --json list (bench_report.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

#include <rte_cycles.h>

#include "bench_report.h"

/* The JSON objects so far, written out at the end so a failed run prints no half list. */
static struct {
	FILE *f;   /* into buf */
	FILE *out; /* the process's stdout as it was given */
	char *buf;
	size_t len;
	unsigned nb;
} J;

/* ---- meters -------------------------------------------------------------------------- */

/* Involuntary context switches of this thread so far. */
static long preemptions(void)
{
	struct rusage ru;
	return getrusage(RUSAGE_THREAD, &ru) == 0 ? ru.ru_nivcsw : 0;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void meter_start(struct meter *m)
{
	m->preempt = preemptions();
	m->cpu_ns = thread_cpu_ns();
	m->tsc = rte_rdtsc();
}

void meter_read(const struct meter *m, struct meter_reading *r)
{
	r->wall = (double)(rte_rdtsc() - m->tsc) / (double)rte_get_tsc_hz();
	r->cpu = (double)(thread_cpu_ns() - m->cpu_ns) / 1e9;
	r->preempt = preemptions() - m->preempt;
}

/*
 * CPU time, not wall time, because this VM's other processes take turns on our core: the
 * rate is what the packet path does while it runs.
 */
void meter_stop(const struct meter *m, uint64_t count, struct sample *s)
{
	struct meter_reading r;
	meter_read(m, &r);
	s->preempt += r.preempt;
	s->wall += r.wall;
	s->cpu += r.cpu;
	s->share[s->n] = r.wall > 0 ? r.cpu / r.wall : 0;
	s->v[s->n++] = (double)count / (r.cpu > 0 ? r.cpu : r.wall) / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The runs in order: min, median, max. */
static double sorted(const struct sample *s, double *min, double *max)
{
	double v[BENCH_MAX_RUNS];
	memcpy(v, s->v, s->n * sizeof(v[0]));
	qsort(v, s->n, sizeof(v[0]), cmp_double);
	if (min)
		*min = v[0];
	if (max)
		*max = v[s->n - 1];
	return s->n % 2 ? v[s->n / 2] : (v[s->n / 2 - 1] + v[s->n / 2]) / 2;
}

double median(const struct sample *s)
{
	return sorted(s, NULL, NULL);
}

/* ---- JSON ---------------------------------------------------------------------------- */

/*
 * With --json, the table (printf throughout xvs-bench, and EAL's messages) goes to stderr:
 * descriptor 1 becomes a copy of 2, and the JSON list goes to what stdout was.
 */
int bench_report_open(int json)
{
	if (!json)
		return 0;
	fflush(stdout);
	int fd = dup(STDOUT_FILENO);
	J.out = fd < 0 ? NULL : fdopen(fd, "w");
	if (!J.out || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
		return -errno;
	J.f = open_memstream(&J.buf, &J.len);
	return J.f ? 0 : -errno;
}

void bench_report_close(int ok)
{
	if (!J.f)
		return;
	fclose(J.f);
	if (ok)
		fprintf(J.out, "[\n%s\n]\n", J.buf ? J.buf : "");
	fclose(J.out);
	free(J.buf);
	J.f = NULL;
}

/* Start an object with the fields every row has. Figure names and labels need no escaping. */
static void json_begin(const char *section, const char *id, const char *what, const char *mode,
		       unsigned workers, uint32_t flows, const char *unit, struct sample *s)
{
	double min, max, med = sorted(s, &min, &max);
	fprintf(J.f, "%s  {\"section\": \"%s\", \"figure\": \"%s\", \"label\": \"%s\", "
		"\"mode\": \"%s\", \"workers\": %u, \"flows\": %u, \"unit\": \"%s\", \"median\": %.4f, "
		"\"min\": %.4f, \"max\": %.4f, \"ns_per_unit\": %.2f, \"runs\": [", J.nb++ ? ",\n" : "",
		section, id, what, mode, workers, flows, unit, med, min, max, 1e3 / med);
	for (unsigned i = 0; i < s->n; i++)
		fprintf(J.f, "%s%.4f", i ? ", " : "", s->v[i]);
	fprintf(J.f, "], \"runs_on_cpu\": [");
	for (unsigned i = 0; i < s->n; i++)
		fprintf(J.f, "%s%.3f", i ? ", " : "", s->share[i]);
	fprintf(J.f, "]");
}

static void json_opt(const char *key, double v)
{
	if (v >= 0)
		fprintf(J.f, ", \"%s\": %.4f", key, v);
}

/* ---- the table ----------------------------------------------------------------------- */

void print_row(const char *id, const char *what, uint32_t flows, struct sample *s, double base_ns)
{
	double min, max, med = sorted(s, &min, &max), ns = 1e3 / med;
	double on_cpu = s->wall > 0 ? s->cpu / s->wall : 0;
	printf("%-40s %8u %8.2f %8.2f %8.2f %8.1f", what, flows, min, med, max, ns);
	if (base_ns > 0)
		printf(" %+9.1f", ns - base_ns);
	else
		printf(" %9s", "");
	printf(" %9ld %6.0f%%\n", s->preempt, 100 * on_cpu);
	fflush(stdout);
	if (!J.f)
		return;
	const char *unit = strstr(what, "[Mconn/s]") ? "Mconn/s" : "Mpps";
	json_begin("core", id, what, "logic", 1, flows, unit, s);
	json_opt("vs_pass_ns", base_ns > 0 ? ns - base_ns : -1);
	fprintf(J.f, ", \"preempted\": %ld, \"on_cpu\": %.3f}", s->preempt, on_cpu);
}

void bench_scale_header(void)
{
	printf("%-36s %-6s %3s %9s %8s %8s %8s  %-19s %6s %8s %6s\n", "figure [Mpps unless noted]",
	       "mode", "wkr", "flows", "min", "median", "max", "per worker", "vs 1", "on-cpu", "share");
}

/* "7.91 8.06" for the workers' medians, as many as fit. */
static void per_worker_text(const struct bench_row *r, char *buf, size_t len)
{
	size_t at = 0;
	buf[0] = 0;
	for (unsigned i = 0; r->per && i < r->workers && at < len; i++) {
		int n = snprintf(buf + at, len - at, "%s%.2f", i ? " " : "", median(&r->per[i]));
		if (n < 0 || (size_t)n >= len - at) {
			snprintf(buf + (at < len - 4 ? at : len - 4), 4, " ..");
			return;
		}
		at += (size_t)n;
	}
}

static void scale_row_json(const struct bench_row *r)
{
	const char *section = strcmp(r->mode, "driver") ? "workers" : "driver";
	json_begin(section, r->id, r->what, r->mode, r->workers, r->flows, r->unit, r->s);
	fprintf(J.f, ", \"conn_max\": %u", r->conn_max);
	if (r->per) {
		fprintf(J.f, ", \"per_worker\": [");
		for (unsigned i = 0; i < r->workers; i++)
			fprintf(J.f, "%s%.4f", i ? ", " : "", median(&r->per[i]));
		fprintf(J.f, "]");
	}
	json_opt("wall_rate", r->wall_rate);
	json_opt("on_cpu", r->on_cpu);
	json_opt("feeder_on_cpu", r->feeder_on_cpu);
	json_opt("share_of_limit", r->share);
	json_opt("limit_mpps", r->limit);
	json_opt("speedup_vs_1_worker", r->speedup);
	json_opt("handoff_share", r->handoff);
	json_opt("rx_ring_fill", r->rx_fill);
	json_opt("paused_share", r->paused);
	fprintf(J.f, ", \"preempted\": %ld, \"shared_cpus\": %s}", r->s->preempt,
		r->shared_cpus ? "true" : "false");
}

void bench_scale_row(const struct bench_row *r)
{
	char per[20], vs1[16] = "", cpu[16] = "", share[16] = "";
	double min, max, med = sorted(r->s, &min, &max);
	per_worker_text(r, per, sizeof(per));
	if (r->speedup >= 0)
		snprintf(vs1, sizeof(vs1), "x%.2f", r->speedup);
	if (r->feeder_on_cpu >= 0)
		snprintf(cpu, sizeof(cpu), "%.0f/%.0f%%", 100 * r->on_cpu, 100 * r->feeder_on_cpu);
	else if (r->on_cpu >= 0)
		snprintf(cpu, sizeof(cpu), "%.0f%%", 100 * r->on_cpu);
	if (r->share >= 0)
		snprintf(share, sizeof(share), "%.0f%%", 100 * r->share);
	printf("%-36s %-6s %3u %9u %8.2f %8.2f %8.2f  %-19s %6s %8s %6s%s\n", r->what,
		r->mode, r->workers, r->flows, min, med, max, per, vs1, cpu,
		share, r->shared_cpus ? "  (shared CPUs)" : "");
	fflush(stdout);
	if (J.f)
		scale_row_json(r);
}

void bench_note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}
