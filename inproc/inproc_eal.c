/* EAL for a program that runs the dataplane's code in its own process (inproc_eal.h). */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "dp_worker.h"
#include "inproc_eal.h"

#define MAX_ARGS 32

/* EAL makes its runtime directory (under /var/run/dpdk for root, else under
 * $XDG_RUNTIME_DIR or /tmp) even when it puts no file there. */
static void remove_runtime_dir(void)
{
	const char *dir = rte_eal_get_runtime_dir();
	if (!dir || !*dir)
		return;
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

/* "0@(c0,c1,...)": lcore 0 on every CPU of our affinity, the scheduler picking among them. */
static int lcores_any(char *buf, size_t len)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return -errno;
	size_t at = (size_t)snprintf(buf, len, "0@(");
	for (int c = 0, first = 1; c < CPU_SETSIZE && at < len; c++)
		if (CPU_ISSET(c, &set)) {
			at += (size_t)snprintf(buf + at, len - at, "%s%d", first ? "" : ",", c);
			first = 0;
		}
	if (at < len)
		at += (size_t)snprintf(buf + at, len - at, ")");
	return at < len ? 0 : -E2BIG;
}

int xvs_inproc_eal_start(const struct xvs_inproc_eal *c, char *prefix)
{
	/* EAL keeps pointers into its arguments */
	static char lcores[8 * CPU_SETSIZE], mem[16], prefix_arg[XVS_INPROC_PREFIX_MAX];
	char *av[MAX_ARGS];
	int ac = 0, rc;

	if (!c->lcores && (rc = lcores_any(lcores, sizeof(lcores))) < 0)
		return rc;
	snprintf(prefix_arg, sizeof(prefix_arg), "xvs-%s-%d", c->name, (int)getpid());
	snprintf(mem, sizeof(mem), "%u", c->mem_mb);
	av[ac++] = (char *)c->prog;
	av[ac++] = "--lcores";
	av[ac++] = c->lcores ? (char *)c->lcores : lcores;
	av[ac++] = "--no-pci";
	av[ac++] = "--no-telemetry";
	av[ac++] = "--file-prefix";
	av[ac++] = prefix_arg;
	av[ac++] = "--log-level=lib.eal:error";
	if (c->huge_dir) {
		av[ac++] = "--huge-dir";
		av[ac++] = (char *)c->huge_dir;
		av[ac++] = "--in-memory";
	} else {
		/* DPDK refuses --in-memory with --no-huge; --no-shconf keeps the files away */
		av[ac++] = "--no-huge";
		av[ac++] = "--no-shconf";
		av[ac++] = "-m";
		av[ac++] = mem;
	}
	for (const char *const *a = c->args; a && *a; a++) {
		if (ac == MAX_ARGS - 1)
			return -E2BIG;
		av[ac++] = (char *)*a;
	}
	av[ac] = NULL;
	snprintf(prefix, XVS_INPROC_PREFIX_MAX, "%s", prefix_arg);
	/* EAL logs to stdout by default, which may carry the program's own output */
	rte_openlog_stream(stderr);
	rc = rte_eal_init(ac, av) < 0 ? (rte_errno > 0 ? -rte_errno : -EINVAL) : 0;
	remove_runtime_dir();
	return rc;
}

struct rte_mempool *xvs_inproc_pool_create(const char *name, unsigned n, unsigned cache,
					   int socket)
{
	struct rte_mempool *p = rte_pktmbuf_pool_create(name, n, cache, 0,
							RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (p)
		xvs_rt.pool = p;
	return p;
}

int xvs_inproc_shm_open(struct xvs_shm *shm, const char *prefix)
{
	char path[128];
	snprintf(path, sizeof(path), "/dev/shm/%s", prefix);
	int rc = xvs_shm_open(shm, path, 1);
	unlink(path);
	return rc;
}
