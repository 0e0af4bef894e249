/*
 * Fuzz target: the keepalived.conf reader (control/ctl_kaconf*.c) on the input as files.
 *
 * The input, split on NUL bytes, is keepalived.conf and then a.conf, b.conf and c.conf, all
 * in a sandbox directory of this process: includes may name each other (and themselves),
 * and a pattern that reaches outside the sandbox matches nothing (fuzz_common.c's glob).
 * A file that loads is then put to work as xvs-control would:
 * - --check-config: applied to an empty model and built into a table generation;
 * - its `xvsadm -S -n` listing, read back by xvsadm's -R and the API into a fresh model,
 *   gives the same services (fuzz_check_save_restore);
 * - a reload over a running model (a diff, applied as one transaction) must succeed and
 *   leave nothing more to change, and a model already equal to the file needs no op.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_kaconf.h"
#include "ctl_kaconf_apply.h"
#include "fuzz_common.h"

#define NB_FILES 4

static const char *const file_names[NB_FILES] = { "keepalived.conf", "a.conf", "b.conf", "c.conf" };
static char dir[64];
static char paths[NB_FILES][128];
static struct xvs_ctl_model *running; /* the model a reload starts from */

static const char *const running_rules[] = {
	"-A -t 192.168.200.100:443 -s rr -p 50",
	"-a -t 192.168.200.100:443 -r 192.168.201.100:443 -m -w 1",
	"-A -t 10.10.10.2:1358 -s rr",
	"-a -t 10.10.10.2:1358 -r 192.168.200.2:1358 -m -w 1",
	"-A -f 1 -s wlc",
	"-a -f 1 -r 10.0.0.1 -g -w 2",
	NULL,
};

static void cleanup(void)
{
	for (unsigned i = 0; i < NB_FILES; i++)
		unlink(paths[i]);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/xvs-fuzz-kaconf-XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(dir))
		fuzz_die("mkdtemp: %s", strerror(errno));
	for (unsigned i = 0; i < NB_FILES; i++)
		snprintf(paths[i], sizeof(paths[i]), "%s/%s", dir, file_names[i]);
	atexit(cleanup);
	fuzz_sandbox_set(dir);
	running = fuzz_model_new(running_rules);
	return 0;
}

static void write_files(const uint8_t *data, size_t size)
{
	size_t at = 0;
	int more = 1;
	for (unsigned i = 0; i < NB_FILES; i++) {
		if (!more) {
			unlink(paths[i]); /* not in this input: an include of it finds nothing */
			continue;
		}
		const uint8_t *nul = at < size ? memchr(data + at, 0, size - at) : NULL;
		size_t end = nul ? (size_t)(nul - data) : size;
		FILE *f = fopen(paths[i], "w");
		if (!f || (end > at && fwrite(data + at, 1, end - at, f) != end - at) || fclose(f) != 0)
			fuzz_die("cannot write %s", paths[i]);
		more = nul != NULL;
		at = end + 1;
	}
}

static unsigned diff_count(const struct xvs_ctl_model *m, const struct xvs_kaconf *conf,
			   struct xvs_ctl_op **ops, const char ***where)
{
	unsigned nb = 0;
	if (xvs_kaconf_diff(m, conf, ops, where, &nb) < 0)
		fuzz_die("diff: out of memory");
	return nb;
}

/* SIGHUP's reload over the running model: one transaction, then nothing left to do. */
static void check_reload(const struct xvs_kaconf *conf)
{
	struct xvs_ctl_model *m = xvs_ctl_model_dup(running);
	struct xvs_ctl_op *ops = NULL;
	const char **where = NULL;
	struct xvs_ctl_err e;
	if (!m)
		fuzz_die("no memory");
	unsigned nb = diff_count(m, conf, &ops, &where);
	if (xvs_ctl_model_apply_ops(m, ops, nb, &e) < 0) /* m is a copy: no transaction needed */
		fuzz_die("reload refused a file --check-config accepts: op %d (%s): %s", e.index,
			 e.index >= 0 && where[e.index] ? where[e.index] : "-", e.msg);
	free(ops);
	free(where);
	if ((nb = diff_count(m, conf, &ops, &where)) != 0)
		fuzz_die("after a reload, %u changes are still due", nb);
	free(ops);
	free(where);
	xvs_ctl_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[XVS_KACONF_ERR_MAX];
	struct xvs_kaconf_opts opts = { .config_id = "lb1" };
	struct xvs_kaconf *conf = NULL;

	write_files(data, size);
	if (xvs_kaconf_load(paths[0], &opts, &conf, err, sizeof(err)) < 0) {
		if (conf)
			fuzz_die("a refused file returned a configuration");
		if (!err[0])
			fuzz_die("a refused file has no message");
		return 0;
	}
	struct xvs_ctl_model *m = xvs_kaconf_check(conf, NULL, err, sizeof(err));
	if (m) {
		struct xvs_ctl_op *ops = NULL;
		const char **where = NULL;
		unsigned nb = diff_count(m, conf, &ops, &where);
		if (nb)
			fuzz_die("the model built from the file differs from it (%u ops)", nb);
		free(ops);
		free(where);
		fuzz_check_save_restore(m);
		check_reload(conf);
		xvs_ctl_model_free(m);
	}
	xvs_kaconf_free(conf);
	return 0;
}
