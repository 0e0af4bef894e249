/* Shared by the fuzz targets (fuzz_common.h). */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_json.h"
#include "ctl_kaconf_apply.h"
#include "fuzz_common.h"
#include "xvsadm_json.h"

void fuzz_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("fuzz: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

/* One -R line through xvsadm's own reader (xvs_xvsadm_restore_cmd), then its op. */
int fuzz_xvsadm_line_op(const char *line, json_t **op, struct xvs_xvsadm_err *err)
{
	struct xvs_xvsadm_cmd cmd;
	int blank;

	*op = NULL;
	memset(err, 0, sizeof(*err));
	int rc = xvs_xvsadm_restore_cmd(line, &cmd, &blank, err);
	if (rc || blank)
		return rc;
	/* a change command xvsadm accepted always has its op (xvsadm would fail the line with
	 * strerror(), as if memory had run out) */
	rc = xvs_xvsadm_json_op(&cmd, op);
	if (rc)
		fuzz_die("no op for the accepted line '%s': %s", line, strerror(-rc));
	return rc;
}

int fuzz_rules_apply(struct xvs_ctl_model *m, const char *const *rules, char *msg, size_t len)
{
	json_t *arr = json_array();
	struct xvs_xvsadm_err xerr;
	struct xvs_ctl_err err;
	struct xvs_ctl_op *ops = NULL;
	unsigned nb = 0;
	int rc = arr ? 0 : -ENOMEM;

	for (unsigned i = 0; rules[i] && rc == 0; i++) {
		json_t *op;
		rc = fuzz_xvsadm_line_op(rules[i], &op, &xerr);
		if (rc)
			snprintf(msg, len, "%s: %s", rules[i], xerr.msg);
		else if (op)
			json_array_append_new(arr, op);
	}
	json_t *body = rc ? NULL : json_pack("{sO}", "ops", arr);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	if (rc == 0 && !text) {
		snprintf(msg, len, "out of memory");
		rc = -ENOMEM;
	}
	if (rc == 0 && (rc = xvs_ctl_json_parse_ops(text, strlen(text), &ops, &nb, &err)) != 0)
		snprintf(msg, len, "the API refused xvsadm's ops: %s", err.msg);
	if (rc == 0 && (rc = xvs_ctl_model_apply_ops(m, ops, nb, &err)) != 0)
		snprintf(msg, len, "op %d: %s", err.index, err.msg);
	xvs_ctl_ops_free(ops, nb);
	free(text);
	json_decref(body);
	json_decref(arr);
	return rc;
}

struct xvs_ctl_model *fuzz_model_new(const char *const *rules)
{
	char msg[512];
	struct xvs_ctl_model *m = xvs_ctl_model_new(NULL);
	if (!m)
		fuzz_die("no memory for a model");
	if (fuzz_rules_apply(m, rules, msg, sizeof(msg)) < 0)
		fuzz_die("the set-up rules fail: %s", msg);
	return m;
}

struct xvs_ctl_model *fuzz_model_scratch(unsigned i, const struct xvs_ctl_model *from)
{
	static struct xvs_ctl_model *empty, *scratch[FUZZ_SCRATCH];
	if (i >= FUZZ_SCRATCH)
		fuzz_die("no scratch model %u", i);
	if (!empty && !(empty = xvs_ctl_model_new(NULL)))
		fuzz_die("no memory for a model");
	if (!scratch[i] && !(scratch[i] = calloc(1, sizeof(*scratch[i]))))
		fuzz_die("no memory for a model");
	xvs_ctl_model_copy(scratch[i], from ? from : empty); /* with the health references */
	return scratch[i];
}

/* ---- -S, then -R ------------------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The JSON texts of the members of array a, sorted, one per line (malloc'd). */
static char *sorted_members(const json_t *a)
{
	size_t n = json_array_size(a), len = 1, i;
	char **v = calloc(n ? n : 1, sizeof(*v)), *out;
	json_t *e;
	json_array_foreach(a, i, e) {
		if (!v || !(v[i] = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)))
			fuzz_die("cannot dump a service");
		len += strlen(v[i]) + 1;
	}
	qsort(v, n, sizeof(*v), cmp_str);
	if (!(out = malloc(len)))
		fuzz_die("no memory");
	out[0] = 0;
	for (i = 0; i < n; i++) {
		strcat(strcat(out, v[i]), "\n");
		free(v[i]);
	}
	free(v);
	return out;
}

/*
 * The services of m as the API lists them, to compare with what -S saved: in no particular
 * order (-S sorts services and real servers, as ipvsadm's). Left out: the thresholds, which
 * -S does not save (as ipvsadm's), the netmask of a service that is not persistent (-S
 * writes -M only with -p, as ipvsadm's; nothing uses it then), and the port of a
 * direct-routing or tunnel real server: a model may hold 0 or any port there
 * (keepalived's real_server without one, the API), ipvsadm's -R (and so xvsadm's) always
 * takes the service's, and forwarding never uses it.
 */
static char *services_text(const struct xvs_ctl_model *m)
{
	json_t *doc = xvs_ctl_json_services(m, NULL, NULL), *svc, *d;
	size_t i, j;
	if (!doc)
		fuzz_die("no services document");
	json_t *svcs = json_object_get(doc, "services");
	json_array_foreach(svcs, i, svc) {
		json_t *dests = json_object_get(svc, "dests");
		if (json_integer_value(json_object_get(svc, "persistent")) == 0)
			json_object_del(svc, "netmask");
		json_array_foreach(dests, j, d) {
			json_object_del(d, "u_threshold");
			json_object_del(d, "l_threshold");
			if (strcmp(json_string_value(json_object_get(d, "fwd")) ?: "", "masq") != 0)
				json_object_del(d, "port");
		}
		char *ds = sorted_members(dests);
		json_object_set_new(svc, "dests", json_string(ds));
		free(ds);
	}
	char *s = sorted_members(svcs);
	json_decref(doc);
	return s;
}

/* Whether any service or real server has health settings: -S lists the IPVS view then
 * (servers that checks took out are not in it) and carries no health settings, by design. */
static bool has_health(const struct xvs_ctl_model *m)
{
	for (unsigned i = 0; i < XVS_MAX_SVCS; i++)
		if (m->svcs[i].hc)
			return true;
	for (unsigned i = 0; i < XVS_MAX_DESTS; i++)
		if (m->dests[i].hc)
			return true;
	return false;
}

void fuzz_check_save_restore(const struct xvs_ctl_model *m)
{
	if (has_health(m))
		return;
	char *text = NULL, msg[512];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f || xvs_kaconf_print_rules(f, m) < 0 || fclose(f) != 0)
		fuzz_die("cannot print the rules");
	const char *lines[2 * XVS_MAX_DESTS + 2 * XVS_MAX_SVCS + 1];
	unsigned n = 0;
	for (char *save, *l = strtok_r(text, "\n", &save); l && n + 1 < sizeof(lines) / sizeof(*lines);
	     l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	lines[n] = NULL;
	struct xvs_ctl_model *back = fuzz_model_scratch(FUZZ_SCRATCH - 1, NULL);
	back->timeouts = m->timeouts; /* -S does not list timeouts */
	memcpy(back->sync, m->sync, sizeof(back->sync)); /* nor the sync daemons (ipvsadm) */
	if (fuzz_rules_apply(back, lines, msg, sizeof(msg)) < 0)
		fuzz_die("the -S listing does not restore: %s", msg);
	char *a = services_text(m), *b = services_text(back);
	if (strcmp(a, b) != 0)
		fuzz_die("the -S listing restores other services:\n%s\n%s", a, b);
	free(a);
	free(b);
	free(text);
}

/* ---- private directories ------------------------------------------------------------------ */

static char tmpdirs[4][96];
static unsigned nb_tmpdirs;

/* Remove dir and the files in it (no subdirectories: the targets make none). */
static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char f[PATH_MAX];
	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(f, sizeof(f), "%s/%s", dir, e->d_name);
		unlink(f);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static void remove_tmpdirs(void)
{
	for (unsigned i = 0; i < nb_tmpdirs; i++)
		remove_dir(tmpdirs[i]);
}

/* Directories base/xvs-fuzz-<what>-<pid>-* whose process is gone. */
static void remove_stale(const char *base, const char *what)
{
	char prefix[64], dir[PATH_MAX];
	DIR *d = opendir(base);
	struct dirent *e;
	int n = snprintf(prefix, sizeof(prefix), "xvs-fuzz-%s-", what);
	while (d && (e = readdir(d))) {
		char *end;
		if (strncmp(e->d_name, prefix, (size_t)n) != 0)
			continue;
		long pid = strtol(e->d_name + n, &end, 10);
		if (end == e->d_name + n || *end != '-' || pid <= 0 || pid == getpid() ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", base, e->d_name);
		remove_dir(dir);
	}
	if (d)
		closedir(d);
}

const char *fuzz_tmpdir(const char *what)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	if (nb_tmpdirs == sizeof(tmpdirs) / sizeof(tmpdirs[0]))
		fuzz_die("too many directories");
	remove_stale(base, what);
	char *dir = tmpdirs[nb_tmpdirs];
	snprintf(dir, sizeof(tmpdirs[0]), "%s/xvs-fuzz-%s-%d-XXXXXX", base, what, (int)getpid());
	if (!mkdtemp(dir))
		fuzz_die("mkdtemp %s: %s", dir, strerror(errno));
	if (nb_tmpdirs++ == 0)
		atexit(remove_tmpdirs);
	return dir;
}

/* ---- hermetic libc ---------------------------------------------------------------------- */

static char sandbox[PATH_MAX];

void fuzz_sandbox_set(const char *dir)
{
	if (!dir || !realpath(dir, sandbox))
		sandbox[0] = 0;
}

/*
 * A pattern that can only match below the sandbox: it starts there, has no ".." and no
 * backslash, and brace expansion cannot make a "..": two dots only meet if one has brace
 * syntax ('{', ',', '}') right after it and the other right before it. A bracket expression
 * naming '.' is refused too.
 */
static int pattern_inside(const char *p)
{
	size_t n = strlen(sandbox);
	if (strncmp(p, sandbox, n) != 0 || p[n] != '/' || strstr(p, "..") || strchr(p, '\\'))
		return 0;
	int dot_before = 0, dot_after = 0, bracket = 0;
	for (const char *q = p; *q; q++) {
		bracket = *q == '[' ? 1 : *q == ']' ? 0 : bracket;
		if (*q != '.')
			continue;
		if (bracket)
			return 0;
		dot_before |= q[1] && strchr("{,}", q[1]);
		dot_after |= q > p && strchr("{,}", q[-1]);
	}
	return !(dot_before && dot_after);
}

static int path_inside(const char *path)
{
	char real[PATH_MAX];
	size_t n = strlen(sandbox);
	return realpath(path, real) && strncmp(real, sandbox, n) == 0 && real[n] == '/';
}

typedef int (*glob_fn)(const char *, int, int (*)(const char *, int), glob_t *);

int glob(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *pglob)
{
	static glob_fn real;
	if (!real && !(real = (glob_fn)dlsym(RTLD_NEXT, "glob")))
		fuzz_die("no glob in libc");
	if (sandbox[0] && !pattern_inside(pattern)) {
		if (!(flags & GLOB_APPEND))
			memset(pglob, 0, sizeof(*pglob));
		return GLOB_NOMATCH;
	}
	int rc = real(pattern, flags, errfunc, pglob);
	if (rc != 0 || !sandbox[0])
		return rc;
	/* belt and braces: what a match resolves to stays inside too */
	char **v = pglob->gl_pathv + ((flags & GLOB_DOOFFS) ? pglob->gl_offs : 0);
	size_t keep = 0;
	for (size_t i = 0; i < pglob->gl_pathc; i++) {
		if (path_inside(v[i]))
			v[keep++] = v[i];
		else
			free(v[i]);
	}
	v[keep] = NULL;
	pglob->gl_pathc = keep;
	return keep ? 0 : GLOB_NOMATCH;
}

typedef int (*gai_fn)(const char *, const char *, const struct addrinfo *, struct addrinfo **);

/* Numeric hosts and services only ("localhost" is 127.0.0.1): no resolver, no network. */
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		struct addrinfo **res)
{
	static gai_fn real;
	if (!real && !(real = (gai_fn)dlsym(RTLD_NEXT, "getaddrinfo")))
		fuzz_die("no getaddrinfo in libc");
	struct addrinfo h = { 0 };
	if (hints)
		h = *hints;
	h.ai_flags |= AI_NUMERICHOST | AI_NUMERICSERV;
	if (node && strcmp(node, "localhost") == 0)
		node = h.ai_family == AF_INET6 ? "::1" : "127.0.0.1";
	return real(node, service, &h, res);
}

typedef int (*gni_fn)(const struct sockaddr *, socklen_t, char *, socklen_t, char *, socklen_t,
		      int);

/* Numbers only: a name required is a name not found (no reverse lookups). */
int getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host, socklen_t hostlen,
		char *serv, socklen_t servlen, int flags)
{
	static gni_fn real;
	if (!real && !(real = (gni_fn)dlsym(RTLD_NEXT, "getnameinfo")))
		fuzz_die("no getnameinfo in libc");
	if (flags & NI_NAMEREQD)
		return EAI_NONAME;
	return real(sa, salen, host, hostlen, serv, servlen, flags | NI_NUMERICHOST | NI_NUMERICSERV);
}
