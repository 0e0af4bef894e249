/* EAL start-up for xvs-bench: pages and the lcore-to-CPU map. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>

#include "bench_eal.h"

#define HUGETLBFS_MAGIC 0x958458f6

static long free_hugepage_bytes(void)
{
	struct statfs sf;
	if (statfs(BENCH_HUGE_DIR, &sf) < 0 || (unsigned long)sf.f_type != HUGETLBFS_MAGIC)
		return -1;
	FILE *f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "r");
	long n = -1;
	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n < 0 ? -1 : n * 2 * 1024 * 1024;
}

int bench_eal_layout(struct bench_opts *o, struct bench_cpus *c)
{
	if (o->core < 0)
		o->core = sched_getcpu();
	int main_cpu = o->core;
	int list[RTE_MAX_LCORE];
	unsigned n = 0, moved = 0;
	if (o->nb_cpus) {
		memcpy(list, o->cpus, o->nb_cpus * sizeof(int));
		n = o->nb_cpus;
	} else {
		cpu_set_t set;
		if (sched_getaffinity(0, sizeof(set), &set) < 0)
			return -errno;
		for (int i = 0; i < CPU_SETSIZE && n < RTE_MAX_LCORE - 1; i++)
			if (CPU_ISSET(i, &set))
				list[n++] = i;
	}
	c->nb = 0;
	for (unsigned i = 0; i < n; i++) {
		if (list[i] == main_cpu && !moved)
			moved = 1;
		else
			c->cpu[c->nb++] = list[i];
	}
	c->cpu[c->nb++] = main_cpu;
	c->shared = 0;
	for (unsigned i = 0; i < c->nb; i++)
		for (unsigned j = i + 1; j < c->nb; j++)
			c->shared |= c->cpu[i] == c->cpu[j];
	return 0;
}

/* "0@M,1@c0,2@c1,..." */
static int lcores_arg(const struct bench_cpus *c, int main_cpu, char *buf, size_t len)
{
	size_t at = (size_t)snprintf(buf, len, "0@%d", main_cpu);
	for (unsigned i = 0; i < c->nb && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, ",%u@%d", i + 1, c->cpu[i]);
	return at < len ? 0 : -E2BIG;
}

int bench_eal_start(const char *prog, struct bench_opts *o, size_t need,
		    const struct bench_cpus *c, char *prefix)
{
	static char lcores[4096];
	/* the driver ports' bring-up is no news */
	static const char *const more[] = { "--log-level=xvs.port:warning", NULL };
	int rc;

	if ((rc = lcores_arg(c, o->core, lcores, sizeof(lcores))) < 0)
		return rc;
	if (o->huge < 0)
		o->huge = free_hugepage_bytes() >= (long)need;
	const struct xvs_inproc_eal eal = {
		.prog = prog, .name = "bench", .lcores = lcores,
		.huge_dir = o->huge ? BENCH_HUGE_DIR : NULL, .mem_mb = (unsigned)(need >> 20),
		.args = more,
	};
	return xvs_inproc_eal_start(&eal, prefix);
}
