/*
 * Fuzz target: the keepalived.conf reader (control/ctl_kaconf*.c) on the input as files.
 *
 * The input, split on NUL bytes, is keepalived.conf and then a.conf, b.conf and c.conf, all
 * in a sandbox directory of this process: includes may name each other (and themselves),
 * and a pattern that reaches outside the sandbox matches nothing (fuzz_common.c's glob).
 * A file that loads is then put to work as xvs-control would:
 * - --check-config (xvs_kaconf_check's steps, on buffers this process reuses: a model and
 *   a generation are megabytes): the diff from an empty model, applied, built into a table
 *   generation; the model then equals the file (no op is due);
 * - its `xvsadm -S -n` listing, read back by xvsadm's -R and the API into a fresh model,
 *   gives the same services (fuzz_check_save_restore);
 * - a reload over a running model (the diff, applied) must succeed and leave nothing to do.
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
static const char *dir;
static char paths[NB_FILES][128];
static struct xvs_ctl_model *running; /* the model a reload starts from */
static struct xvs_gen *gen;

static const char *const running_rules[] = {
	"-A -t 192.168.200.100:443 -s rr -p 50",
	"-a -t 192.168.200.100:443 -r 192.168.201.100:443 -m -w 1",
	"-A -t 10.10.10.2:1358 -s rr",
	"-a -t 10.10.10.2:1358 -r 192.168.200.2:1358 -m -w 1",
	"-A -f 1 -s wlc",
	"-a -f 1 -r 10.0.0.1 -g -w 2",
	NULL,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dir = fuzz_tmpdir("kaconf");
	for (unsigned i = 0; i < NB_FILES; i++)
		snprintf(paths[i], sizeof(paths[i]), "%s/%s", dir, file_names[i]);
	fuzz_sandbox_set(dir);
	running = fuzz_model_new(running_rules);
	if (!(gen = malloc(sizeof(*gen))))
		fuzz_die("no memory");
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

/*
 * Make m the file's configuration as a reload does (the diff, applied); then no op is due.
 * Returns 0, or -1 when the model refuses an op (what was applied stays: m is scratch).
 */
static int apply_file(struct xvs_ctl_model *m, const struct xvs_kaconf *conf, const char *what,
		      int must)
{
	struct xvs_ctl_op *ops = NULL;
	const char **where = NULL;
	struct xvs_ctl_err e;
	unsigned nb = diff_count(m, conf, &ops, &where);
	int rc = xvs_ctl_model_apply_ops(m, ops, nb, &e);
	if (rc < 0 && must)
		fuzz_die("%s refused a file --check-config accepts: op %d (%s): %s", what, e.index,
			 e.index >= 0 && where[e.index] ? where[e.index] : "-", e.msg);
	free(ops);
	free(where);
	if (rc == 0 && (nb = diff_count(m, conf, &ops, &where)) != 0)
		fuzz_die("after %s, %u changes are still due", what, nb);
	if (rc == 0) {
		free(ops);
		free(where);
	}
	return rc < 0 ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[XVS_KACONF_ERR_MAX], msg[256];
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
	struct xvs_ctl_model *m = fuzz_model_scratch(0, NULL);
	if (apply_file(m, conf, "--check-config", 0) == 0) {
		int rc = xvs_ctl_build_gen(m, gen, msg, sizeof(msg));
		if (rc == -EINVAL || (rc < 0 && strstr(msg, "internal error")))
			fuzz_die("an accepted file builds no valid generation: %s", msg);
		if (rc == 0) {
			fuzz_check_save_restore(m);
			apply_file(fuzz_model_scratch(1, running), conf, "a reload", 1);
		}
	}
	xvs_kaconf_free(conf);
	return 0;
}
