/*
 * keepalived.conf's keywords (ctl_kaconf.h): global_defs, virtual_server_group,
 * virtual_server, real_server and the checkers, interpreted as keepalived 2.2 does, over the
 * statements of ctl_kaconf_read.c.
 *
 * Where keepalived corrects a configuration and goes on (no scheduler: wlc; no protocol:
 * UDP; a DR real server on another port: the service's port; a duplicate real server:
 * dropped), xvs makes the same correction and records a warning. Where keepalived ignores a
 * line it finds wrong, or where xvs cannot do what a keyword asks, the whole file is refused
 * with FILE:LINE. The VRRP side (vrrp_instance and its friends) stays keepalived's: those
 * blocks are skipped with one warning.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>

#include "ctl_kaconf.h"
#include "ctl_kaconf_read.h"
#include "xvs/gen.h"
#include "xvs/sched.h"
#include "xvs/table.h"

#define UNSET (-1)
#define DEFAULT_DELAY_MS  60000u  /* keepalived's delay_loop */
#define DEFAULT_CONNECT_MS 5000u
#define PERSIST_DEFAULT   360u   /* persistence_timeout without a value */
#define PERSIST_MAX       2678400u
#define WEIGHT_MAX        65535   /* xvs's and ipvsadm's; keepalived allows up to INT32_MAX */

/* ---- the configuration as it is read ------------------------------------------------- */

struct kc_check {
	struct xvs_check_cfg c;
	char where[XVS_KACONF_WHERE_MAX];
	int alpha;                 /* -1: the real server's */
	int64_t retry;             /* -1: the real server's, else the checker type's default */
	int64_t connect_timeout_ms, delay_loop_ms, warmup_ms, delay_before_retry_ms;
	bool misc_timeout_set;
	bool user_set;
	bool status_set;
};

struct kc_rs {
	char where[XVS_KACONF_WHERE_MAX];
	uint8_t af;
	union xvs_ip addr;
	uint16_t port;
	int fwd;                   /* -1: the virtual server's */
	uint8_t tun_type;
	uint16_t tun_port, tun_flags;
	int64_t weight;            /* -1: the virtual server's `weight` */
	int64_t uthr, lthr;
	int inhibit, alpha;        /* -1: the virtual server's */
	int64_t retry, connect_timeout_ms, delay_loop_ms, warmup_ms, delay_before_retry_ms;
	char virtualhost[XVS_CHECK_HOST_MAX];
	char notify_up[XVS_CHECK_SCRIPT_MAX], notify_down[XVS_CHECK_SCRIPT_MAX];
	unsigned nb_checks;
	struct kc_check checks[XVS_CHECK_MAX_PER_DEST];
	bool dropped;              /* a duplicate */
	struct xvs_dest_health_cfg *health;
};

enum kc_vs_kind { VS_ADDR, VS_FWMARK, VS_GROUP };

struct kc_sorry {
	bool set;
	char where[XVS_KACONF_WHERE_MAX];
	uint8_t af;
	union xvs_ip addr;
	uint16_t port;
	int fwd;
	uint8_t tun_type;
	uint16_t tun_port, tun_flags;
	bool inhibit;
};

struct kc_vs {
	char where[XVS_KACONF_WHERE_MAX];
	enum kc_vs_kind kind;
	uint8_t af;                /* 0 until known */
	union xvs_ip addr;
	uint16_t port;
	uint32_t fwmark;
	char group[XVS_KACONF_GROUP_MAX];
	uint8_t proto;             /* 0 until given */
	char sched[XVS_CTL_SCHED_NAME_MAX];
	uint16_t flags;
	bool ops;
	int fwd;                   /* -1 until given */
	uint8_t tun_type;
	uint16_t tun_port, tun_flags;
	uint32_t persistent;
	uint8_t gran_af;           /* 0: no persistence_granularity */
	union xvs_ip gran;
	char gran_where[XVS_KACONF_WHERE_MAX];
	uint32_t quorum, hysteresis;
	bool alpha, omega, inhibit;
	int64_t weight;
	char quorum_up[XVS_CHECK_SCRIPT_MAX], quorum_down[XVS_CHECK_SCRIPT_MAX];
	int64_t delay_loop_ms, connect_timeout_ms, retry, delay_before_retry_ms, warmup_ms;
	char virtualhost[XVS_CHECK_HOST_MAX];
	struct kc_sorry sorry;
	unsigned nb_rs;
	struct kc_rs *rs;
};

struct kc_gentry {
	char where[XVS_KACONF_WHERE_MAX];
	bool is_fwmark;
	uint32_t mark;
	uint8_t af;                /* the fwmark's family, 0 if not given */
	union xvs_ip lo, hi;       /* an address range */
	uint16_t port;
};

struct kc_group {
	char name[XVS_KACONF_GROUP_MAX];
	char where[XVS_KACONF_WHERE_MAX];
	unsigned nb;
	struct kc_gentry *e;
};

/* A statement owned by the parser (the reader's is overwritten by the next one). */
struct kc_stmt {
	unsigned n;
	char *tok[XVS_KACONF_MAX_TOKENS];
	char *text;
	char *mem;
	const char *file;
	unsigned line;
};

struct kc {
	struct xvs_kaconf_reader *r;
	struct kc_stmt cur, ahead;
	bool have_ahead;
	int ahead_rc;
	char *err;
	size_t errlen;
	struct xvs_kaconf *out;
	unsigned nb_vs;
	struct kc_vs *vs;
	unsigned nb_groups;
	struct kc_group *groups;
	bool warned_vrrp;
	char script_user[XVS_CHECK_USER_MAX];
	bool script_user_set;
	char script_user_where[XVS_KACONF_WHERE_MAX];
};

/* ---- messages ------------------------------------------------------------------------ */

static int kc_fail(struct kc *k, const struct kc_stmt *st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int kc_fail(struct kc *k, const struct kc_stmt *st, const char *fmt, ...)
{
	char msg[XVS_KACONF_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(k->err, k->errlen, "%s:%u: %s", st->file, st->line, msg);
	return -1;
}

/* The same for a place recorded as "FILE:LINE". */
static int kc_fail_at(struct kc *k, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int kc_fail_at(struct kc *k, const char *where, const char *fmt, ...)
{
	char msg[XVS_KACONF_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(k->err, k->errlen, "%s: %s", where, msg);
	return -1;
}

static void kc_warn(struct kc *k, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void kc_warn(struct kc *k, const char *where, const char *fmt, ...)
{
	char msg[XVS_KACONF_ERR_MAX], *w;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	char **a = realloc(k->out->warnings, (k->out->nb_warnings + 1) * sizeof(*a));
	if (!a)
		return;
	k->out->warnings = a;
	if (asprintf(&w, "%s: warning: %s", where, msg) >= 0)
		a[k->out->nb_warnings++] = w;
}

static void set_where(char *where, const struct kc_stmt *st)
{
	snprintf(where, XVS_KACONF_WHERE_MAX, "%s:%u", st->file, st->line);
}

/* ---- statements ---------------------------------------------------------------------- */

static int stmt_copy(struct kc_stmt *d, const struct xvs_kaconf_stmt *s)
{
	size_t need = strlen(s->text) + 1;
	for (unsigned i = 0; i < s->nb_tok; i++)
		need += strlen(s->tok[i]) + 1;
	free(d->mem);
	d->mem = malloc(need);
	if (!d->mem)
		return -1;
	char *p = d->mem;
	d->n = s->nb_tok;
	for (unsigned i = 0; i < s->nb_tok; i++) {
		d->tok[i] = strcpy(p, s->tok[i]);
		p += strlen(p) + 1;
	}
	d->text = strcpy(p, s->text);
	d->file = s->file;
	d->line = s->line;
	return 0;
}

static int read_stmt(struct kc *k, struct kc_stmt *d)
{
	struct xvs_kaconf_stmt s;
	int rc = xvs_kaconf_reader_next(k->r, &s, k->err, k->errlen);
	if (rc <= 0)
		return rc;
	if (stmt_copy(d, &s) < 0) {
		snprintf(k->err, k->errlen, "%s:%u: out of memory", s.file, s.line);
		return -1;
	}
	return 1;
}

/* The next statement into k->cur: 1, 0 at the end, -1. */
static int next_stmt(struct kc *k)
{
	if (k->have_ahead) {
		struct kc_stmt t = k->cur;
		k->cur = k->ahead;
		k->ahead = t;
		k->have_ahead = false;
		return k->ahead_rc;
	}
	return read_stmt(k, &k->cur);
}

/* The statement after k->cur without consuming it (k->ahead): 1, 0, -1. */
static int peek_stmt(struct kc *k)
{
	if (!k->have_ahead) {
		k->ahead_rc = read_stmt(k, &k->ahead);
		k->have_ahead = true;
	}
	return k->ahead_rc;
}

static bool is_tok(const struct kc_stmt *st, const char *s)
{
	return st->n == 1 && strcmp(st->tok[0], s) == 0;
}

/* The '{' that must follow the block keyword kw (copied: k->cur changes). */
static int open_block(struct kc *k, const struct kc_stmt *kw, char *where)
{
	set_where(where, kw);
	char name[64];
	snprintf(name, sizeof(name), "%s", kw->tok[0]);
	int rc = peek_stmt(k);
	if (rc < 0)
		return -1;
	if (rc == 0 || !is_tok(&k->ahead, "{"))
		return kc_fail_at(k, where, "'%s' needs a { } block", name);
	return next_stmt(k) < 0 ? -1 : 0;
}

/* The next statement of a block opened at where: 1, 0 at its '}', -1. */
static int block_next(struct kc *k, const char *where, const char *name)
{
	int rc = next_stmt(k);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return kc_fail_at(k, where, "the '%s' block has no closing '}'", name);
	if (is_tok(&k->cur, "}"))
		return 0;
	if (is_tok(&k->cur, "{"))
		return kc_fail(k, &k->cur, "unexpected '{'");
	return 1;
}

/* After a keyword: skip its { } block if one follows. */
static int skip_block(struct kc *k)
{
	char where[XVS_KACONF_WHERE_MAX];
	int rc = peek_stmt(k);
	if (rc <= 0 || !is_tok(&k->ahead, "{"))
		return rc < 0 ? -1 : 0;
	set_where(where, &k->cur);
	next_stmt(k);
	for (unsigned depth = 1; depth;) {
		rc = next_stmt(k);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return kc_fail_at(k, where, "the block has no closing '}'");
		if (is_tok(&k->cur, "{"))
			depth++;
		else if (is_tok(&k->cur, "}"))
			depth--;
	}
	return 0;
}

static int want_args(struct kc *k, const struct kc_stmt *st, unsigned min, unsigned max)
{
	unsigned n = st->n - 1;
	if (n < min)
		return kc_fail(k, st, "'%s' needs %s%u argument%s", st->tok[0], min == max ? "" : "at least ",
			       min, min == 1 ? "" : "s");
	if (n > max)
		return kc_fail(k, st, "'%s': unexpected '%s'", st->tok[0], st->tok[max + 1]);
	return 0;
}

/* ---- values -------------------------------------------------------------------------- */

static int parse_u64(const char *s, uint64_t max, uint64_t *v)
{
	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 20)
		return -1;
	errno = 0;
	unsigned long long n = strtoull(s, NULL, 10);
	if (errno || n > max)
		return -1;
	*v = n;
	return 0;
}

static int read_uint(struct kc *k, const struct kc_stmt *st, unsigned i, uint64_t min, uint64_t max,
		     uint64_t *v)
{
	/* -1 stated here, not kc_fail()'s: callers read *v on 0, which must mean it was set */
	if (parse_u64(st->tok[i], max, v) < 0 || *v < min) {
		kc_fail(k, st, "%s: '%s' is not a number in %llu..%llu", st->tok[0], st->tok[i],
			(unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	return 0;
}

/* A time in seconds with up to 6 decimals (keepalived's timers), into milliseconds. */
static int read_time(struct kc *k, const struct kc_stmt *st, unsigned i, bool zero_ok, int64_t *ms)
{
	const char *s = st->tok[i], *dot = strchr(s, '.');
	char whole[24] = "", frac[8] = "000000";
	size_t wl = dot ? (size_t)(dot - s) : strlen(s), fl = dot ? strlen(dot + 1) : 0;
	uint64_t w = 0, f = 0;
	bool ok = wl > 0 && wl < sizeof(whole) && fl <= 6 && (!dot || fl > 0);
	if (ok) {
		memcpy(whole, s, wl);
		memcpy(frac, dot ? dot + 1 : "", fl);
		ok = parse_u64(whole, UINT32_MAX / 1000, &w) == 0 && parse_u64(frac, 999999, &f) == 0;
	}
	if (!ok)
		return kc_fail(k, st, "%s: '%s' is not a time in seconds", st->tok[0], s);
	if (f % 1000)
		return kc_fail(k, st, "%s: %s: xvs keeps times to the millisecond", st->tok[0], s);
	*ms = (int64_t)(w * 1000 + f / 1000);
	if (!zero_ok && *ms == 0)
		return kc_fail(k, st, "%s: must be above 0", st->tok[0]);
	return 0;
}

/* An optional yes/no argument (keepalived's check_true_false); no argument means true. */
static int read_bool(struct kc *k, const struct kc_stmt *st, bool *v)
{
	static const char *const yes[] = {"true", "on", "yes"}, *const no[] = {"false", "off", "no"};
	if (want_args(k, st, 0, 1) < 0)
		return -1;
	if (st->n == 1) {
		*v = true;
		return 0;
	}
	for (unsigned i = 0; i < 3; i++) {
		if (strcmp(st->tok[1], yes[i]) == 0)
			return *v = true, 0;
		if (strcmp(st->tok[1], no[i]) == 0)
			return *v = false, 0;
	}
	return kc_fail(k, st, "%s: '%s' is not yes/no, on/off or true/false", st->tok[0], st->tok[1]);
}

static int parse_ip(const char *s, uint8_t *af, union xvs_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (strchr(s, ':')) {
		*af = XVS_AF_INET6;
		return inet_pton(AF_INET6, s, ip->v6) == 1 ? 0 : -1;
	}
	*af = XVS_AF_INET;
	return inet_pton(AF_INET, s, &ip->v4) == 1 ? 0 : -1;
}

static int read_ip(struct kc *k, const struct kc_stmt *st, unsigned i, uint8_t *af, union xvs_ip *ip)
{
	if (parse_ip(st->tok[i], af, ip) < 0)
		return kc_fail(k, st, "%s: '%s' is not an IPv4 or IPv6 address", st->tok[0], st->tok[i]);
	return 0;
}

/* "IP [PORT]": port 0 or none means no port, as in keepalived. */
static int read_ip_port(struct kc *k, const struct kc_stmt *st, uint8_t *af, union xvs_ip *ip,
			uint16_t *port)
{
	uint64_t p = 0;
	if (read_ip(k, st, 1, af, ip) < 0)
		return -1;
	if (st->n > 2 && read_uint(k, st, 2, 0, 65535, &p) < 0)
		return -1;
	*port = (uint16_t)p;
	return 0;
}

static int copy_str(struct kc *k, const struct kc_stmt *st, const char *s, char *dst, size_t len)
{
	if (strlen(s) >= len)
		return kc_fail(k, st, "%s: too long (at most %zu characters)", st->tok[0], len - 1);
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

/* ---- scripts ------------------------------------------------------------------------- */

static bool shell_safe(const char *s)
{
	return *s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			       "@%+=:,./-_") == strlen(s);
}

/* Append word to out as one /bin/sh word. */
static int shell_append(char *out, size_t len, const char *word)
{
	size_t n = strlen(out);
	char *o = out + n;
	size_t left = len - n;
	if (n && left > 1) {
		*o++ = ' ';
		*o = '\0';
		left--;
	}
	if (shell_safe(word))
		return (size_t)snprintf(o, left, "%s", word) < left ? 0 : -1;
	size_t need = 3;
	for (const char *p = word; *p; p++)
		need += *p == '\'' ? 4 : 1;
	if (need >= left)
		return -1;
	*o++ = '\'';
	for (const char *p = word; *p; p++) {
		if (*p == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *p;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return 0;
}

static void free_words(char **w, int n)
{
	while (n > 0)
		free(w[--n]);
}

/*
 * A script keyword: `kw "script and its arguments" [user [group]]`, the line re-read with
 * keepalived's quoting and escapes, the script split again into its words. out gets a
 * /bin/sh command line that runs the same words; *nb_extra the number of words after the
 * script (user, group), copied to extra when it is not NULL.
 */
static int read_script(struct kc *k, const struct kc_stmt *st, char *out, size_t len,
		       unsigned *nb_extra, char extra[2][XVS_CHECK_USER_MAX])
{
	char *line[8], *args[XVS_KACONF_MAX_TOKENS], msg[128];
	int nl = xvs_kaconf_split_escaped(st->text, line, 8, msg, sizeof(msg));
	if (nl < 0)
		return kc_fail(k, st, "%s: %s", st->tok[0], msg);
	if (nl < 2) {
		free_words(line, nl);
		return kc_fail(k, st, "'%s' needs a script", st->tok[0]);
	}
	int na = xvs_kaconf_split_escaped(line[1], args, XVS_KACONF_MAX_TOKENS, msg, sizeof(msg));
	int rc = 0;
	if (na <= 0) {
		rc = kc_fail(k, st, "%s: %s", st->tok[0], na < 0 ? msg : "empty script");
	} else {
		out[0] = '\0';
		for (int i = 0; i < na && rc == 0; i++)
			if (shell_append(out, len, args[i]) < 0)
				rc = kc_fail(k, st, "%s: the command line is too long (at most %zu "
					     "characters)", st->tok[0], len - 1);
		free_words(args, na);
	}
	*nb_extra = (unsigned)nl - 2;
	for (int i = 2; rc == 0 && extra && i < nl && i < 4; i++)
		if (strlen(line[i]) >= XVS_CHECK_USER_MAX)
			rc = kc_fail(k, st, "%s: user or group name too long", st->tok[0]);
		else
			strcpy(extra[i - 2], line[i]);
	free_words(line, nl);
	return rc;
}

/* A notify_up/notify_down/quorum_up/quorum_down script: run as root, like xvs-control. */
static int read_notify(struct kc *k, const struct kc_stmt *st, char *out)
{
	unsigned extra;
	if (out[0])
		return kc_fail(k, st, "%s given twice", st->tok[0]);
	if (read_script(k, st, out, XVS_CHECK_SCRIPT_MAX, &extra, NULL) < 0)
		return -1;
	if (extra)
		return kc_fail(k, st, "%s: a user to run the script as is not supported (xvs runs "
			       "notify scripts as root)", st->tok[0]);
	return 0;
}

static int check_user(struct kc *k, const struct kc_stmt *st, const char *user)
{
	struct passwd pw, *res = NULL;
	char buf[1024];
	if (getpwnam_r(user, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return kc_fail(k, st, "%s: no user '%s'", st->tok[0], user);
	return 0;
}

/* ---- keyword tables ------------------------------------------------------------------ */

struct kc_ctx {
	struct kc_vs *vs;
	struct kc_rs *rs;
	struct kc_check *chk;
	struct xvs_check_url *url;
};

typedef int (*kc_fn)(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c);

struct kc_kw {
	const char *name;
	kc_fn fn;
	uint8_t min, max; /* arguments */
	const char *refused; /* why xvs refuses it, or NULL */
};

#define KW(n, f, lo, hi) {n, f, lo, hi, NULL}
#define NO(n, why) {n, NULL, 0, 0, why}

static int dispatch(struct kc *k, const struct kc_kw *tab, struct kc_ctx *c, const char *block)
{
	const struct kc_stmt *st = &k->cur;
	for (const struct kc_kw *w = tab; w->name; w++) {
		if (strcmp(w->name, st->tok[0]) != 0)
			continue;
		if (w->refused)
			return kc_fail(k, st, "'%s' is not supported: %s", w->name, w->refused);
		if (want_args(k, st, w->min, w->max) < 0)
			return -1;
		return w->fn(k, st, c);
	}
	return kc_fail(k, st, "unknown keyword '%s' in %s", st->tok[0], block);
}

/* Read a block's statements through tab; the keyword statement is k->cur. */
static int walk_block(struct kc *k, const struct kc_kw *tab, struct kc_ctx *c)
{
	char where[XVS_KACONF_WHERE_MAX], name[64];
	snprintf(name, sizeof(name), "%s", k->cur.tok[0]);
	if (open_block(k, &k->cur, where) < 0)
		return -1;
	int rc;
	while ((rc = block_next(k, where, name)) > 0)
		if (dispatch(k, tab, c, name) < 0)
			return -1;
	return rc;
}

/* ---- checkers ------------------------------------------------------------------------ */

static int ck_connect_ip(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	struct xvs_check_cfg *x = &c->chk->c;
	if (read_ip(k, st, 1, &x->connect_af, &x->connect_ip) < 0)
		return -1;
	if (x->bind_af && x->bind_af != x->connect_af)
		return kc_fail(k, st, "connect_ip %s: not the family of bindto", st->tok[1]);
	return 0;
}

static int ck_bindto(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	struct xvs_check_cfg *x = &c->chk->c;
	if (read_ip(k, st, 1, &x->bind_af, &x->bind_ip) < 0)
		return -1;
	if (x->connect_af && x->bind_af != x->connect_af)
		return kc_fail(k, st, "bindto %s: not the family of connect_ip", st->tok[1]);
	return 0;
}

static int ck_port(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	uint64_t v;
	if (read_uint(k, st, 1, 1, 65535, &v) < 0)
		return -1;
	if (strcmp(st->tok[0], "connect_port") == 0)
		c->chk->c.connect_port = (uint16_t)v;
	else
		c->chk->c.bind_port = (uint16_t)v;
	return 0;
}

static int ck_fwmark(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	uint64_t v;
	if (read_uint(k, st, 1, 0, UINT32_MAX, &v) < 0)
		return -1;
	c->chk->c.fwmark = (uint32_t)v;
	return 0;
}

static int ck_time(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	struct kc_check *x = c->chk;
	const char *n = st->tok[0];
	int64_t *dst = strcmp(n, "connect_timeout") == 0 ? &x->connect_timeout_ms
		       : strcmp(n, "delay_loop") == 0   ? &x->delay_loop_ms
		       : strcmp(n, "warmup") == 0       ? &x->warmup_ms
							: &x->delay_before_retry_ms;
	bool zero_ok = dst == &x->warmup_ms || dst == &x->delay_before_retry_ms;
	return read_time(k, st, 1, zero_ok, dst);
}

static int ck_retry(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	uint64_t v;
	if (read_uint(k, st, 1, 0, UINT32_MAX, &v) < 0)
		return -1;
	if (strcmp(st->tok[0], "nb_get_retry") == 0) {
		char where[XVS_KACONF_WHERE_MAX];
		set_where(where, st);
		kc_warn(k, where, "nb_get_retry is deprecated, use retry");
	}
	c->chk->retry = (int64_t)v;
	return 0;
}

static int ck_alpha(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	bool v;
	if (read_bool(k, st, &v) < 0)
		return -1;
	c->chk->alpha = v;
	return 0;
}

/* log_all_failures: what is logged only. */
static int ck_log(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	bool v;
	(void)c;
	return read_bool(k, st, &v);
}

static int ck_virtualhost(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	char *dst = c->url ? c->url->virtualhost : c->chk->c.virtualhost;
	return copy_str(k, st, st->tok[1], dst, XVS_CHECK_HOST_MAX);
}

static int ck_http_protocol(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	if (strcmp(st->tok[1], "1.0") == 0 || strcmp(st->tok[1], "1.1") == 0) {
		c->chk->c.http_1_1 = st->tok[1][2] == '1';
		return 0;
	}
	if (strcasecmp(st->tok[1], "1.0C") == 0)
		return kc_fail(k, st, "http_protocol 1.0C is not supported (1.0 and 1.1 are)");
	return kc_fail(k, st, "http_protocol: '%s' is not 1.0 or 1.1", st->tok[1]);
}

/* enable_sni, fast_recovery: only "off" can be honoured. */
static int ck_only_off(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	bool v;
	(void)c;
	if (read_bool(k, st, &v) < 0)
		return -1;
	return v ? kc_fail(k, st, "'%s' is not supported by xvs's checkers", st->tok[0]) : 0;
}

static int url_path(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	return copy_str(k, st, st->tok[1], c->url->path, XVS_CHECK_PATH_MAX);
}

static int url_digest(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	const char *d = st->tok[1];
	if (c->url->digest[0])
		return kc_fail(k, st, "digest given twice");
	if (strlen(d) != 32 || strspn(d, "0123456789abcdefABCDEF") != 32)
		return kc_fail(k, st, "digest: '%s' is not an MD5 sum (32 hex digits)", d);
	for (unsigned i = 0; i < 32; i++)
		c->url->digest[i] = (char)tolower((unsigned char)d[i]);
	c->url->digest[32] = '\0';
	return 0;
}

/* status_code CODE|LO-HI...: codes and ranges, as many as keepalived takes. */
static int url_status(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	char text[XVS_CHECK_STATUS_TEXT] = "", why[160];
	size_t n = 0;
	for (unsigned i = 1; i < st->n; i++) {
		size_t l = strlen(st->tok[i]);
		if (n + l + 2 > sizeof(text))
			return kc_fail(k, st, "status_code: too many codes");
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%s", i > 1 ? " " : "", st->tok[i]);
	}
	if (xvs_check_url_status_parse(c->url, text, why, sizeof(why)) < 0)
		return kc_fail(k, st, "status_code: %s", why);
	return 0;
}

static const struct kc_kw url_kw[] = {
	KW("path", url_path, 1, 1),
	KW("digest", url_digest, 1, 1),
	KW("status_code", url_status, 1, XVS_KACONF_MAX_TOKENS - 1),
	KW("virtualhost", ck_virtualhost, 1, 1),
	NO("regex", "xvs's HTTP checker matches the status code and the digest only"),
	NO("regex_no_match", "xvs's HTTP checker matches the status code and the digest only"),
	NO("regex_options", "xvs's HTTP checker matches the status code and the digest only"),
	NO("regex_min_offset", "xvs's HTTP checker matches the status code and the digest only"),
	NO("regex_max_offset", "xvs's HTTP checker matches the status code and the digest only"),
	NO("regex_stack", "xvs's HTTP checker matches the status code and the digest only"),
	{NULL, NULL, 0, 0, NULL},
};

static int ck_url(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	struct xvs_check_cfg *x = &c->chk->c;
	char where[XVS_KACONF_WHERE_MAX];
	set_where(where, st);
	if (x->nb_urls == XVS_CHECK_MAX_URLS)
		return kc_fail(k, st, "more than %d url blocks in one checker", XVS_CHECK_MAX_URLS);
	struct xvs_check_url *u = &x->urls[x->nb_urls++];
	memset(u, 0, sizeof(*u));
	c->url = u;
	int rc = walk_block(k, url_kw, c) < 0 ? -1 : 0;
	c->url = NULL;
	if (rc == 0 && !u->path[0])
		return kc_fail_at(k, where, "url without a path");
	if (rc == 0 && !u->status_lo) { /* keepalived's default: 2xx */
		u->status_lo = 200;
		u->status_hi = 299;
	}
	return rc;
}

static int ck_misc_path(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	unsigned extra;
	if (c->chk->c.script[0])
		return kc_fail(k, st, "misc_path given twice");
	if (read_script(k, st, c->chk->c.script, XVS_CHECK_SCRIPT_MAX, &extra, NULL) < 0)
		return -1;
	if (extra)
		return kc_fail(k, st, "misc_path: words after the script (keepalived ignores them); "
			       "quote the whole command line");
	return 0;
}

static int ck_misc_timeout(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	uint64_t v;
	if (read_uint(k, st, 1, 0, UINT32_MAX / 1000, &v) < 0)
		return -1;
	c->chk->c.script_timeout_ms = (uint32_t)v * 1000;
	c->chk->misc_timeout_set = v > 0; /* 0: keepalived's default, the delay_loop */
	return 0;
}

static int ck_misc_dynamic(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	(void)k;
	(void)st;
	c->chk->c.misc_dynamic = true;
	return 0;
}

static int ck_user(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	if (st->n > 2)
		return kc_fail(k, st, "user: a group is not supported (the user's own is used)");
	if (copy_str(k, st, st->tok[1], c->chk->c.user, XVS_CHECK_USER_MAX) < 0 ||
	    check_user(k, st, st->tok[1]) < 0)
		return -1;
	c->chk->user_set = true;
	return 0;
}

static const struct {
	const char *name;
	uint16_t type;
} dns_types[] = {{"A", 1}, {"NS", 2}, {"CNAME", 5}, {"SOA", 6}, {"MX", 15}, {"TXT", 16},
		 {"AAAA", 28}, {"RRSIG", 46}, {"DNSKEY", 48}};

static int ck_dns_type(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	for (unsigned i = 0; i < sizeof(dns_types) / sizeof(dns_types[0]); i++)
		if (strcasecmp(dns_types[i].name, st->tok[1]) == 0) {
			c->chk->c.dns_type = dns_types[i].type;
			return 0;
		}
	return kc_fail(k, st, "type: unknown DNS type '%s' (A, NS, CNAME, SOA, MX, TXT, AAAA, "
		       "RRSIG, DNSKEY)", st->tok[1]);
}

static int ck_dns_name(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	const char *n = st->tok[1];
	if ((n[0] == '.' && n[1]) || strstr(n, ".."))
		return kc_fail(k, st, "name: '%s' has an empty label", n);
	return copy_str(k, st, n, c->chk->c.dns_name, XVS_CHECK_HOST_MAX);
}

static int hex_digit(char c)
{
	return isdigit((unsigned char)c) ? c - '0'
	       : isxdigit((unsigned char)c) ? tolower((unsigned char)c) - 'a' + 10 : -1;
}

/* payload HEX...: pairs of hex digits, blanks between groups (keepalived's read_hex_str). */
static int ck_payload(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	struct xvs_check_cfg *x = &c->chk->c;
	x->payload_len = 0;
	for (unsigned i = 1; i < st->n; i++) {
		const char *p = st->tok[i];
		while (*p) {
			int hi = hex_digit(*p++), lo = *p ? hex_digit(*p) : 0;
			if (*p)
				p++;
			else
				lo = hi, hi = 0;
			if (hi < 0 || lo < 0)
				return kc_fail(k, st, "payload: '%s' is not hex", st->tok[i]);
			if (x->payload_len == XVS_CHECK_PAYLOAD_MAX)
				return kc_fail(k, st, "payload: more than %d bytes", XVS_CHECK_PAYLOAD_MAX);
			x->payload[x->payload_len++] = (uint8_t)(hi << 4 | lo);
		}
	}
	return 0;
}

static int ck_require_reply(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	if (st->n > 1)
		return kc_fail(k, st, "require_reply with reply data is not supported (any reply "
			       "counts)");
	c->chk->c.require_reply = true;
	return 0;
}

#define CK_COMMON \
	KW("retry", ck_retry, 1, 1), KW("delay_before_retry", ck_time, 1, 1), \
	KW("warmup", ck_time, 1, 1), KW("delay_loop", ck_time, 1, 1), KW("alpha", ck_alpha, 0, 1), \
	KW("log_all_failures", ck_log, 0, 1)
#define CK_CONN \
	KW("connect_ip", ck_connect_ip, 1, 1), KW("connect_port", ck_port, 1, 1), \
	KW("bindto", ck_bindto, 1, 1), KW("bind_port", ck_port, 1, 1), \
	KW("connect_timeout", ck_time, 1, 1), KW("fwmark", ck_fwmark, 1, 1), \
	NO("bind_if", "xvs's checkers cannot bind to an interface")
#define KW_END {NULL, NULL, 0, 0, NULL}

static const struct kc_kw tcp_kw[] = {CK_COMMON, CK_CONN, KW_END};
static const struct kc_kw ping_kw[] = {CK_COMMON, CK_CONN, KW_END};
static const struct kc_kw http_kw[] = {
	CK_COMMON, CK_CONN,
	KW("nb_get_retry", ck_retry, 1, 1),
	KW("virtualhost", ck_virtualhost, 1, 1),
	KW("http_protocol", ck_http_protocol, 1, 1),
	KW("enable_sni", ck_only_off, 0, 1),
	KW("fast_recovery", ck_only_off, 0, 1),
	KW("url", ck_url, 0, 0),
	KW_END,
};
static const struct kc_kw misc_kw[] = {
	CK_COMMON,
	KW("misc_path", ck_misc_path, 1, XVS_KACONF_MAX_TOKENS - 1),
	KW("misc_timeout", ck_misc_timeout, 1, 1),
	KW("misc_dynamic", ck_misc_dynamic, 0, 0),
	KW("user", ck_user, 1, 2),
	KW_END,
};
static const struct kc_kw dns_kw[] = {
	CK_COMMON, CK_CONN, KW("type", ck_dns_type, 1, 1), KW("name", ck_dns_name, 1, 1), KW_END,
};
static const struct kc_kw udp_kw[] = {
	CK_COMMON, CK_CONN,
	KW("payload", ck_payload, 1, XVS_KACONF_MAX_TOKENS - 1),
	KW("require_reply", ck_require_reply, 0, XVS_KACONF_MAX_TOKENS - 1),
	NO("min_reply_length", "xvs's UDP checker does not look at the reply's length"),
	NO("max_reply_length", "xvs's UDP checker does not look at the reply's length"),
	KW_END,
};

static int rs_checker(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	enum xvs_check_type t = xvs_check_type_from_keyword(st->tok[0]);
	const struct kc_kw *tab = t == XVS_CHECK_TCP ? tcp_kw : t == XVS_CHECK_ICMP ? ping_kw
				  : t == XVS_CHECK_SCRIPT ? misc_kw : t == XVS_CHECK_DNS ? dns_kw
				  : t == XVS_CHECK_UDP ? udp_kw : http_kw;
	struct kc_rs *rs = c->rs;
	if (rs->nb_checks == XVS_CHECK_MAX_PER_DEST)
		return kc_fail(k, st, "more than %d checkers on one real server", XVS_CHECK_MAX_PER_DEST);
	char name[16];
	snprintf(name, sizeof(name), "%s", st->tok[0]); /* st is k->cur: the block moves it */
	struct kc_check *x = &rs->checks[rs->nb_checks++];
	memset(x, 0, sizeof(*x));
	xvs_check_cfg_default(&x->c, t);
	set_where(x->where, st);
	x->alpha = UNSET;
	x->retry = x->connect_timeout_ms = x->delay_loop_ms = UNSET;
	x->warmup_ms = x->delay_before_retry_ms = UNSET;
	c->chk = x;
	int rc = walk_block(k, tab, c);
	c->chk = NULL;
	if (rc < 0)
		return -1;
	if ((t == XVS_CHECK_HTTP || t == XVS_CHECK_HTTPS) && x->c.nb_urls == 0)
		return kc_fail_at(k, x->where, "%s without a url block", name);
	if (t == XVS_CHECK_SCRIPT && !x->c.script[0])
		return kc_fail_at(k, x->where, "MISC_CHECK without misc_path");
	return 0;
}

/* ---- real servers -------------------------------------------------------------------- */

/* lvs_method NAT|DR|TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum] */
static int read_method(struct kc *k, const struct kc_stmt *st, int *fwd, uint8_t *tun_type,
		       uint16_t *tun_port, uint16_t *tun_flags)
{
	int f = strcmp(st->tok[1], "NAT") == 0 ? XVS_FWD_MASQ : strcmp(st->tok[1], "DR") == 0
		? XVS_FWD_DROUTE : strcmp(st->tok[1], "TUN") == 0 ? XVS_FWD_TUNNEL : -1;
	uint64_t port = 0;
	int type = 0, csum = XVS_TUN_F_NOCSUM;
	if (f < 0)
		return kc_fail(k, st, "%s: unknown method '%s' (NAT, DR or TUN)", st->tok[0], st->tok[1]);
	for (unsigned i = 2; i < st->n; i++) {
		const char *o = st->tok[i];
		if ((strcmp(o, "type") == 0 || strcmp(o, "port") == 0) && i + 1 == st->n)
			return kc_fail(k, st, "%s: '%s' needs a value", st->tok[0], o);
		if (strcmp(o, "type") == 0) {
			const char *v = st->tok[++i];
			type = strcmp(v, "ipip") == 0 ? 0 : strcmp(v, "gue") == 0 ? 1
			       : strcmp(v, "gre") == 0 ? 2 : -1;
			if (type < 0)
				return kc_fail(k, st, "%s: unknown tunnel type '%s'", st->tok[0], v);
		} else if (strcmp(o, "port") == 0) {
			if (read_uint(k, st, ++i, 1, 65535, &port) < 0)
				return -1;
		} else if (strcmp(o, "nocsum") == 0 || strcmp(o, "csum") == 0 ||
			   strcmp(o, "remcsum") == 0) {
			csum = o[0] == 'n' ? XVS_TUN_F_NOCSUM : o[0] == 'c' ? XVS_TUN_F_CSUM
									: XVS_TUN_F_REMCSUM;
		} else {
			return kc_fail(k, st, "%s: unknown tunnel option '%s'", st->tok[0], o);
		}
	}
	if (st->n > 2 && f != XVS_FWD_TUNNEL)
		return kc_fail(k, st, "%s: tunnel options with %s", st->tok[0], st->tok[1]);
	if ((type == 1) != (port != 0))
		return kc_fail(k, st, "%s: gue tunnels need a port, other tunnels take none", st->tok[0]);
	if (type == 0 && csum != XVS_TUN_F_NOCSUM)
		return kc_fail(k, st, "%s: ipip tunnels take no checksum option", st->tok[0]);
	if (type == 2)
		return kc_fail(k, st, "%s: GRE tunnels are not supported by xvs (ipip and gue are)",
			       st->tok[0]);
	if (csum == XVS_TUN_F_REMCSUM)
		return kc_fail(k, st, "%s: remote checksum offload (remcsum) is not supported by xvs",
			       st->tok[0]);
	*fwd = f;
	*tun_type = (uint8_t)type;
	*tun_port = (uint16_t)port;
	*tun_flags = (uint16_t)csum;
	return 0;
}

static int rs_weight(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	uint64_t v;
	if (read_uint(k, st, 1, 0, WEIGHT_MAX, &v) < 0)
		return -1;
	c->rs->weight = (int64_t)v;
	return 0;
}

static int rs_method(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	struct kc_rs *r = c->rs;
	return read_method(k, st, &r->fwd, &r->tun_type, &r->tun_port, &r->tun_flags);
}

static int rs_threshold(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	uint64_t v;
	if (read_uint(k, st, 1, 0, INT32_MAX, &v) < 0)
		return -1;
	if (st->tok[0][0] == 'u')
		c->rs->uthr = (int64_t)v;
	else
		c->rs->lthr = (int64_t)v;
	return 0;
}

static int rs_bool(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	bool v;
	if (read_bool(k, st, &v) < 0)
		return -1;
	if (strcmp(st->tok[0], "alpha") == 0)
		c->rs->alpha = v;
	else
		c->rs->inhibit = v;
	return 0;
}

static int rs_notify(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	return read_notify(k, st, strcmp(st->tok[0], "notify_up") == 0 ? c->rs->notify_up
									: c->rs->notify_down);
}

static int rs_retry(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	uint64_t v;
	if (read_uint(k, st, 1, 1, UINT32_MAX, &v) < 0)
		return -1;
	if (c->rs)
		c->rs->retry = (int64_t)v;
	else
		c->vs->retry = (int64_t)v;
	return 0;
}

/* connect_timeout, delay_loop, warmup, delay_before_retry of a real or virtual server. */
static int rs_time(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	const char *n = st->tok[0];
	int64_t *ct = c->rs ? &c->rs->connect_timeout_ms : &c->vs->connect_timeout_ms;
	int64_t *dl = c->rs ? &c->rs->delay_loop_ms : &c->vs->delay_loop_ms;
	int64_t *wu = c->rs ? &c->rs->warmup_ms : &c->vs->warmup_ms;
	int64_t *dbr = c->rs ? &c->rs->delay_before_retry_ms : &c->vs->delay_before_retry_ms;
	int64_t *dst = strcmp(n, "connect_timeout") == 0 ? ct : strcmp(n, "delay_loop") == 0 ? dl
		       : strcmp(n, "warmup") == 0 ? wu : dbr;
	return read_time(k, st, 1, dst == wu || dst == dbr, dst);
}

static int rs_virtualhost(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	return copy_str(k, st, st->tok[1], c->rs ? c->rs->virtualhost : c->vs->virtualhost,
			XVS_CHECK_HOST_MAX);
}

/* snmp_name: a name for keepalived's SNMP agent; xvs has none, so it changes nothing. */
static int kw_noop(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	(void)k;
	(void)st;
	(void)c;
	return 0;
}

static const struct kc_kw rs_kw[] = {
	KW("weight", rs_weight, 1, 1),
	KW("lvs_method", rs_method, 1, 6),
	KW("uthreshold", rs_threshold, 1, 1),
	KW("lthreshold", rs_threshold, 1, 1),
	KW("inhibit_on_failure", rs_bool, 0, 1),
	KW("alpha", rs_bool, 0, 1),
	KW("notify_up", rs_notify, 1, XVS_KACONF_MAX_TOKENS - 1),
	KW("notify_down", rs_notify, 1, XVS_KACONF_MAX_TOKENS - 1),
	KW("retry", rs_retry, 1, 1),
	KW("delay_before_retry", rs_time, 1, 1),
	KW("warmup", rs_time, 1, 1),
	KW("connect_timeout", rs_time, 1, 1),
	KW("delay_loop", rs_time, 1, 1),
	KW("virtualhost", rs_virtualhost, 1, 1),
	KW("snmp_name", kw_noop, 1, 1),
	NO("smtp_alert", "xvs sends no e-mail alerts"),
	KW("TCP_CHECK", rs_checker, 0, 0),
	KW("HTTP_GET", rs_checker, 0, 0),
	KW("SSL_GET", rs_checker, 0, 0),
	KW("MISC_CHECK", rs_checker, 0, 0),
	KW("DNS_CHECK", rs_checker, 0, 0),
	KW("UDP_CHECK", rs_checker, 0, 0),
	KW("PING_CHECK", rs_checker, 0, 0),
	NO("SMTP_CHECK", "xvs has no SMTP checker"),
	NO("FILE_CHECK", "xvs has no file checker"),
	NO("BFD_CHECK", "xvs has no BFD checker"),
	KW_END,
};

static int vs_real_server(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	struct kc_vs *vs = c->vs;
	struct kc_rs *a = realloc(vs->rs, (vs->nb_rs + 1) * sizeof(*a));
	if (!a)
		return kc_fail(k, st, "out of memory");
	vs->rs = a;
	struct kc_rs *rs = &a[vs->nb_rs];
	memset(rs, 0, sizeof(*rs));
	set_where(rs->where, st);
	if (read_ip_port(k, st, &rs->af, &rs->addr, &rs->port) < 0)
		return -1;
	vs->nb_rs++;
	/* keepalived takes the virtual server's method as it stands when the block starts */
	rs->fwd = vs->fwd;
	rs->tun_type = vs->tun_type;
	rs->tun_port = vs->tun_port;
	rs->tun_flags = vs->tun_flags;
	rs->weight = rs->inhibit = rs->alpha = UNSET;
	rs->retry = rs->connect_timeout_ms = rs->delay_loop_ms = UNSET;
	rs->warmup_ms = rs->delay_before_retry_ms = UNSET;
	c->rs = rs;
	int rc = walk_block(k, rs_kw, c);
	c->rs = NULL;
	return rc;
}

/* ---- virtual servers ----------------------------------------------------------------- */

static int vs_ip_family(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	uint8_t af = strcmp(st->tok[1], "inet") == 0 ? XVS_AF_INET
		     : strcmp(st->tok[1], "inet6") == 0 ? XVS_AF_INET6 : 0;
	if (!af)
		return kc_fail(k, st, "ip_family: '%s' is not inet or inet6", st->tok[1]);
	if (c->vs->af && c->vs->af != af)
		return kc_fail(k, st, "ip_family %s conflicts with the virtual server's address",
			       st->tok[1]);
	c->vs->af = af;
	return 0;
}

static int vs_sched(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	if (xvs_sched_id(st->tok[1]) < 0 || strlen(st->tok[1]) >= XVS_CTL_SCHED_NAME_MAX)
		return kc_fail(k, st, "%s: unknown scheduler '%s' (%s)", st->tok[0], st->tok[1],
			       xvs_sched_names());
	strcpy(c->vs->sched, st->tok[1]);
	return 0;
}

/* ops, flag-1..3, sh-port, sh-fallback, mh-port, mh-fallback; sh-* and mh-* only after the
 * scheduler they belong to, as keepalived reads them. */
static int vs_flag(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	const char *f = st->tok[0];
	struct kc_vs *vs = c->vs;
	if (strcmp(f, "ops") == 0) {
		vs->ops = true;
		return 0;
	}
	if (strcmp(f, "hashed") == 0)
		return 0; /* sets nothing in keepalived either */
	if (strncmp(f, "flag-", 5) == 0) {
		vs->flags |= f[5] == '1' ? XVS_SVC_F_SCHED1 : f[5] == '2' ? XVS_SVC_F_SCHED2
									 : XVS_SVC_F_SCHED3;
		return 0;
	}
	if (strncmp(f, vs->sched, 2) != 0 || strlen(vs->sched) != 2)
		return kc_fail(k, st, "%s applies to the %.2s scheduler only (lvs_sched %.2s must "
			       "come first)", f, f, f);
	vs->flags |= strcmp(f + 3, "port") == 0 ? XVS_SVC_F_SCHED2 : XVS_SVC_F_SCHED1;
	return 0;
}

static int vs_method(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	struct kc_vs *v = c->vs;
	return read_method(k, st, &v->fwd, &v->tun_type, &v->tun_port, &v->tun_flags);
}

static int vs_persistence(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	uint64_t v = PERSIST_DEFAULT;
	if (st->n > 1 && read_uint(k, st, 1, 1, PERSIST_MAX, &v) < 0)
		return -1;
	c->vs->persistent = (uint32_t)v;
	return 0;
}

static int vs_granularity(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	struct kc_vs *vs = c->vs;
	uint8_t af = vs->af ? vs->af : strchr(st->tok[1], '.') ? XVS_AF_INET : XVS_AF_INET6;
	uint64_t plen;
	memset(&vs->gran, 0, sizeof(vs->gran));
	if (af == XVS_AF_INET6) {
		if (read_uint(k, st, 1, 1, 128, &plen) < 0)
			return -1;
		vs->gran.w[0] = (uint32_t)plen;
	} else if (inet_pton(AF_INET, st->tok[1], &vs->gran.v4) != 1) {
		return kc_fail(k, st, "persistence_granularity: '%s' is not an IPv4 mask", st->tok[1]);
	}
	vs->gran_af = af;
	if (!vs->af)
		vs->af = af;
	set_where(vs->gran_where, st);
	if (!vs->persistent)
		vs->persistent = PERSIST_DEFAULT;
	return 0;
}

static int vs_protocol(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	const char *p = st->tok[1];
	c->vs->proto = strcasecmp(p, "TCP") == 0 ? XVS_PROTO_TCP : strcasecmp(p, "UDP") == 0
		       ? XVS_PROTO_UDP : strcasecmp(p, "SCTP") == 0 ? XVS_PROTO_SCTP : 0;
	return c->vs->proto ? 0 : kc_fail(k, st, "protocol: '%s' is not TCP, UDP or SCTP", p);
}

static int vs_bool(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	const char *n = st->tok[0];
	bool *dst = strcmp(n, "alpha") == 0 ? &c->vs->alpha : strcmp(n, "omega") == 0
		    ? &c->vs->omega : &c->vs->inhibit;
	(void)k;
	*dst = true;
	return 0;
}

static int vs_quorum(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	uint64_t v;
	bool q = strcmp(st->tok[0], "quorum") == 0;
	if (read_uint(k, st, 1, q ? 1 : 0, UINT32_MAX, &v) < 0)
		return -1;
	*(q ? &c->vs->quorum : &c->vs->hysteresis) = (uint32_t)v;
	return 0;
}

static int vs_quorum_script(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	return read_notify(k, st, strcmp(st->tok[0], "quorum_up") == 0 ? c->vs->quorum_up
									: c->vs->quorum_down);
}

static int vs_weight(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	uint64_t v;
	if (read_uint(k, st, 1, 1, WEIGHT_MAX, &v) < 0)
		return -1;
	c->vs->weight = (int64_t)v;
	return 0;
}

static int vs_sorry(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	struct kc_sorry *s = &c->vs->sorry;
	if (read_ip_port(k, st, &s->af, &s->addr, &s->port) < 0)
		return -1;
	s->set = true;
	set_where(s->where, st);
	s->fwd = c->vs->fwd;
	s->tun_type = c->vs->tun_type;
	s->tun_port = c->vs->tun_port;
	s->tun_flags = c->vs->tun_flags;
	return 0;
}

static int vs_sorry_inhibit(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	if (!c->vs->sorry.set)
		return kc_fail(k, st, "sorry_server_inhibit before or without sorry_server");
	c->vs->sorry.inhibit = true;
	return 0;
}

static int vs_sorry_method(struct kc *k, const struct kc_stmt *st, struct kc_ctx *c)
{
	struct kc_sorry *s = &c->vs->sorry;
	if (!s->set)
		return kc_fail(k, st, "sorry_server_lvs_method before or without sorry_server");
	return read_method(k, st, &s->fwd, &s->tun_type, &s->tun_port, &s->tun_flags);
}

static const struct kc_kw vs_kw[] = {
	KW("ip_family", vs_ip_family, 1, 1),
	KW("retry", rs_retry, 1, 1),
	KW("delay_before_retry", rs_time, 1, 1),
	KW("warmup", rs_time, 1, 1),
	KW("connect_timeout", rs_time, 1, 1),
	KW("delay_loop", rs_time, 1, 1),
	KW("inhibit_on_failure", vs_bool, 0, 0),
	KW("lb_algo", vs_sched, 1, 1),
	KW("lvs_sched", vs_sched, 1, 1),
	KW("hashed", vs_flag, 0, 0),
	KW("ops", vs_flag, 0, 0),
	KW("flag-1", vs_flag, 0, 0),
	KW("flag-2", vs_flag, 0, 0),
	KW("flag-3", vs_flag, 0, 0),
	KW("sh-port", vs_flag, 0, 0),
	KW("sh-fallback", vs_flag, 0, 0),
	KW("mh-port", vs_flag, 0, 0),
	KW("mh-fallback", vs_flag, 0, 0),
	KW("lb_kind", vs_method, 1, 6),
	KW("lvs_method", vs_method, 1, 6),
	NO("persistence_engine", "xvs has no persistence engines"),
	KW("persistence_timeout", vs_persistence, 0, 1),
	KW("persistence_granularity", vs_granularity, 1, 1),
	KW("protocol", vs_protocol, 1, 1),
	NO("ha_suspend", "xvs-control's checkers do not follow the VRRP state"),
	NO("smtp_alert", "xvs sends no e-mail alerts"),
	KW("virtualhost", rs_virtualhost, 1, 1),
	KW("snmp_name", kw_noop, 1, 1),
	KW("alpha", vs_bool, 0, 0),
	KW("omega", vs_bool, 0, 0),
	KW("quorum_up", vs_quorum_script, 1, XVS_KACONF_MAX_TOKENS - 1),
	KW("quorum_down", vs_quorum_script, 1, XVS_KACONF_MAX_TOKENS - 1),
	KW("quorum", vs_quorum, 1, 1),
	KW("hysteresis", vs_quorum, 1, 1),
	KW("weight", vs_weight, 1, 1),
	KW("sorry_server", vs_sorry, 1, 2),
	KW("sorry_server_inhibit", vs_sorry_inhibit, 0, 0),
	KW("sorry_server_lvs_method", vs_sorry_method, 1, 6),
	KW("real_server", vs_real_server, 1, 2),
	KW_END,
};

static int root_virtual_server(struct kc *k, const struct kc_stmt *st)
{
	struct kc_vs *a = realloc(k->vs, (k->nb_vs + 1) * sizeof(*a));
	uint64_t v;
	if (!a)
		return kc_fail(k, st, "out of memory");
	k->vs = a;
	struct kc_vs *vs = &a[k->nb_vs];
	memset(vs, 0, sizeof(*vs));
	set_where(vs->where, st);
	vs->fwd = UNSET;
	vs->quorum = 1;
	vs->weight = 1;
	vs->delay_loop_ms = DEFAULT_DELAY_MS;
	vs->connect_timeout_ms = DEFAULT_CONNECT_MS;
	vs->retry = vs->delay_before_retry_ms = vs->warmup_ms = UNSET;
	if (want_args(k, st, 1, 2) < 0)
		return -1;
	if (strcmp(st->tok[1], "group") == 0 || strcmp(st->tok[1], "fwmark") == 0) {
		if (st->n != 3)
			return kc_fail(k, st, "virtual_server %s needs a %s", st->tok[1],
				       st->tok[1][0] == 'g' ? "group name" : "mark");
		if (st->tok[1][0] == 'g') {
			vs->kind = VS_GROUP;
			if (copy_str(k, st, st->tok[2], vs->group, sizeof(vs->group)) < 0)
				return -1;
		} else {
			vs->kind = VS_FWMARK;
			if (read_uint(k, st, 2, 1, UINT32_MAX, &v) < 0)
				return -1;
			vs->fwmark = (uint32_t)v;
		}
	} else {
		vs->kind = VS_ADDR;
		if (read_ip_port(k, st, &vs->af, &vs->addr, &vs->port) < 0)
			return -1;
	}
	k->nb_vs++;
	struct kc_ctx c = {.vs = vs};
	return walk_block(k, vs_kw, &c);
}

/* ---- virtual_server_group ------------------------------------------------------------ */

static void ip_add(uint8_t af, union xvs_ip *ip, uint64_t n)
{
	if (af == XVS_AF_INET) {
		ip->v4 = htonl(ntohl(ip->v4) + (uint32_t)n);
		return;
	}
	for (int i = 15; i >= 0 && n; i--) {
		uint64_t s = ip->v6[i] + (n & 0xff);
		ip->v6[i] = (uint8_t)s;
		n = (n >> 8) + (s >> 8);
	}
}

static int ip_cmp(uint8_t af, const union xvs_ip *a, const union xvs_ip *b)
{
	if (af == XVS_AF_INET)
		return ntohl(a->v4) < ntohl(b->v4) ? -1 : ntohl(a->v4) > ntohl(b->v4);
	return memcmp(a->v6, b->v6, 16);
}

/* How many addresses lo..hi holds, capped at cap + 1. */
static uint64_t range_size(uint8_t af, const union xvs_ip *lo, const union xvs_ip *hi, uint64_t cap)
{
	if (af == XVS_AF_INET)
		return (uint64_t)(ntohl(hi->v4) - ntohl(lo->v4)) + 1;
	for (int i = 0; i < 8; i++)
		if (lo->v6[i] != hi->v6[i])
			return cap + 1;
	uint64_t a = 0, b = 0;
	for (int i = 8; i < 16; i++) {
		a = a << 8 | lo->v6[i];
		b = b << 8 | hi->v6[i];
	}
	return b - a >= cap ? cap + 1 : b - a + 1;
}

/* ADDR, ADDR/LEN, ADDR-ADDR or ADDR-N (the last byte, or the last 16 bits in hex for IPv6). */
static int read_range(struct kc *k, const struct kc_stmt *st, struct kc_gentry *e)
{
	char a[INET6_ADDRSTRLEN + 8];
	const char *s = st->tok[0], *sep = strpbrk(s, "-/");
	uint8_t af, af2;
	size_t n = sep ? (size_t)(sep - s) : strlen(s);
	if (n >= sizeof(a))
		return kc_fail(k, st, "'%s' is not an address or range", s);
	memcpy(a, s, n);
	a[n] = '\0';
	if (parse_ip(a, &af, &e->lo) < 0)
		return kc_fail(k, st, "'%s' is not an address or range", s);
	e->af = af;
	e->hi = e->lo;
	if (!sep)
		return 0;
	const char *t = sep + 1;
	if (*sep == '/') {
		uint64_t plen;
		unsigned bits = af == XVS_AF_INET ? 32 : 128;
		if (parse_u64(t, bits, &plen) < 0 || plen == 0)
			return kc_fail(k, st, "'%s': bad prefix length", s);
		union xvs_ip m = xvs_gen_prefix_mask(af, (uint8_t)plen);
		if ((e->lo.d[0] & ~m.d[0]) || (e->lo.d[1] & ~m.d[1]))
			return kc_fail(k, st, "'%s': host bits set", s);
		e->hi.d[0] = e->lo.d[0] | ~m.d[0];
		e->hi.d[1] = e->lo.d[1] | ~m.d[1];
		if (af == XVS_AF_INET)
			e->hi.d[0] &= 0xffffffffu, e->hi.d[1] = 0;
		return 0;
	}
	if (strchr(t, af == XVS_AF_INET ? '.' : ':')) {
		if (parse_ip(t, &af2, &e->hi) < 0 || af2 != af)
			return kc_fail(k, st, "'%s': bad range end", s);
	} else {
		uint64_t end;
		char *x;
		errno = 0;
		end = strtoull(t, &x, af == XVS_AF_INET ? 10 : 16);
		if (!*t || *x || errno || end > (af == XVS_AF_INET ? 255u : 0xffffu))
			return kc_fail(k, st, "'%s': bad range end", s);
		if (af == XVS_AF_INET) {
			e->hi.v4 = htonl((ntohl(e->lo.v4) & ~0xffu) | (uint32_t)end);
		} else {
			e->hi.v6[14] = (uint8_t)(end >> 8);
			e->hi.v6[15] = (uint8_t)end;
		}
		if (ip_cmp(af, &e->hi, &e->lo) <= 0)
			return kc_fail(k, st, "'%s': the range end is not above its start", s);
	}
	if (ip_cmp(af, &e->hi, &e->lo) < 0)
		return kc_fail(k, st, "'%s': the range end is below its start", s);
	return 0;
}

static int group_entry(struct kc *k, struct kc_group *g)
{
	const struct kc_stmt *st = &k->cur;
	struct kc_gentry *a = realloc(g->e, (g->nb + 1) * sizeof(*a));
	uint64_t v;
	if (!a)
		return kc_fail(k, st, "out of memory");
	g->e = a;
	struct kc_gentry *e = &a[g->nb];
	memset(e, 0, sizeof(*e));
	set_where(e->where, st);
	if (strcmp(st->tok[0], "fwmark") == 0) {
		if (st->n < 2 || st->n > 3)
			return kc_fail(k, st, "fwmark needs a mark and at most a family");
		if (read_uint(k, st, 1, 1, UINT32_MAX, &v) < 0)
			return -1;
		e->is_fwmark = true;
		e->mark = (uint32_t)v;
		if (st->n == 3) {
			e->af = strcmp(st->tok[2], "inet") == 0 ? XVS_AF_INET
				: strcmp(st->tok[2], "inet6") == 0 ? XVS_AF_INET6 : 0;
			if (!e->af)
				return kc_fail(k, st, "fwmark %s: '%s' is not inet or inet6", st->tok[1],
					       st->tok[2]);
		}
	} else {
		if (st->n > 2)
			return kc_fail(k, st, "unexpected '%s'", st->tok[2]);
		if (read_range(k, st, e) < 0)
			return -1;
		if (st->n == 2 && read_uint(k, st, 1, 0, 65535, &v) < 0)
			return -1;
		e->port = st->n == 2 ? (uint16_t)v : 0;
	}
	g->nb++;
	return 0;
}

static int root_group(struct kc *k, const struct kc_stmt *st)
{
	char where[XVS_KACONF_WHERE_MAX];
	if (want_args(k, st, 1, 1) < 0)
		return -1;
	for (unsigned i = 0; i < k->nb_groups; i++)
		if (strcmp(k->groups[i].name, st->tok[1]) == 0)
			return kc_fail(k, st, "virtual_server_group %s is already defined at %s",
				       st->tok[1], k->groups[i].where);
	struct kc_group *a = realloc(k->groups, (k->nb_groups + 1) * sizeof(*a));
	if (!a)
		return kc_fail(k, st, "out of memory");
	k->groups = a;
	struct kc_group *g = &a[k->nb_groups];
	memset(g, 0, sizeof(*g));
	if (copy_str(k, st, st->tok[1], g->name, sizeof(g->name)) < 0)
		return -1;
	set_where(g->where, st);
	k->nb_groups++;
	if (open_block(k, st, where) < 0)
		return -1;
	int rc;
	while ((rc = block_next(k, where, "virtual_server_group")) > 0)
		if (group_entry(k, g) < 0)
			return -1;
	if (rc == 0 && g->nb == 0)
		return kc_fail_at(k, g->where, "virtual_server_group %s has no entries", g->name);
	return rc;
}

/* ---- global_defs --------------------------------------------------------------------- */

static int global_timeouts(struct kc *k, const struct kc_stmt *st)
{
	static const char *const names[3] = {"tcp", "tcpfin", "udp"};
	uint64_t v;
	for (unsigned i = 1; i < st->n; i += 2) {
		unsigned j = 0;
		while (j < 3 && strcmp(st->tok[i], names[j]) != 0)
			j++;
		if (j == 3)
			return kc_fail(k, st, "lvs_timeouts: unknown option '%s' (tcp, tcpfin, udp)",
				       st->tok[i]);
		if (i + 1 == st->n)
			return kc_fail(k, st, "lvs_timeouts: %s needs a value", names[j]);
		if (read_uint(k, st, i + 1, 0, PERSIST_MAX, &v) < 0)
			return -1;
		k->out->timeouts[j] = (uint32_t)v;
	}
	k->out->has_timeouts = true;
	set_where(k->out->timeouts_where, st);
	return 0;
}

static int global_script_user(struct kc *k, const struct kc_stmt *st)
{
	if (st->n > 2)
		return kc_fail(k, st, "script_user: a group is not supported (the user's own is used)");
	if (copy_str(k, st, st->tok[1], k->script_user, sizeof(k->script_user)) < 0 ||
	    check_user(k, st, st->tok[1]) < 0)
		return -1;
	k->script_user_set = true;
	set_where(k->script_user_where, st);
	return 0;
}

/* global_defs: the few keywords that concern the checker or IPVS; the rest is keepalived's. */
static int root_global_defs(struct kc *k, const struct kc_stmt *st)
{
	static const struct { const char *kw, *why; } refused[] = {
		{"lvs_sync_daemon", "start the sync daemon with xvsadm --start-daemon"},
		{"lvs_flush_onstop", "xvs keeps forwarding when xvs-control stops"},
		{"lvs_flush_on_stop", "xvs keeps forwarding when xvs-control stops"},
		{"lvs_notify_fifo", "xvs writes no checker events to a FIFO"},
		{"lvs_notify_fifo_script", "xvs writes no checker events to a FIFO"},
	};
	char where[XVS_KACONF_WHERE_MAX];
	int rc;
	if (want_args(k, st, 0, 0) < 0 || open_block(k, st, where) < 0)
		return -1;
	while ((rc = block_next(k, where, "global_defs")) > 0) {
		const struct kc_stmt *s = &k->cur;
		for (unsigned i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
			if (strcmp(s->tok[0], refused[i].kw) == 0)
				return kc_fail(k, s, "'%s' is not supported: %s", s->tok[0], refused[i].why);
		if (strcmp(s->tok[0], "lvs_timeouts") == 0) {
			if (want_args(k, s, 2, 6) < 0 || global_timeouts(k, s) < 0)
				return -1;
		} else if (strcmp(s->tok[0], "script_user") == 0) {
			if (want_args(k, s, 1, 2) < 0 || global_script_user(k, s) < 0)
				return -1;
		} else if (skip_block(k) < 0) {
			return -1;
		}
	}
	return rc;
}

/* ---- the top level ------------------------------------------------------------------- */

/* keepalived's own business: VRRP, BFD, trackers, static addresses and routes. */
static const char *const vrrp_roots[] = {
	"vrrp_instance", "vrrp_sync_group", "vrrp_script", "vrrp_track_process", "track_group",
	"static_ipaddress", "static_routes", "static_rules", "garp_group", "linkbeat_interfaces",
	"interface_up_down_delays", "track_file", "vrrp_track_file", "bfd_instance", NULL,
};

/* Settings of keepalived's own processes (pid files, names): nothing for xvs to do. */
static const char *const process_roots[] = {
	"instance", "use_pid_dir", "child_wait_time", "linkbeat_use_polling",
	"namespace_with_ipsets", NULL,
};

static bool in_list(const char *const *l, const char *s)
{
	for (; *l; l++)
		if (strcmp(*l, s) == 0)
			return true;
	return false;
}

static int root_stmt(struct kc *k)
{
	const struct kc_stmt *st = &k->cur;
	const char *kw = st->tok[0];
	char where[XVS_KACONF_WHERE_MAX];
	if (is_tok(st, "{") || is_tok(st, "}"))
		return kc_fail(k, st, "unexpected '%s'", kw);
	if (strcmp(kw, "global_defs") == 0)
		return root_global_defs(k, st);
	if (strcmp(kw, "virtual_server") == 0)
		return root_virtual_server(k, st);
	if (strcmp(kw, "virtual_server_group") == 0)
		return root_group(k, st);
	if (in_list(vrrp_roots, kw)) {
		set_where(where, st);
		if (!k->warned_vrrp)
			kc_warn(k, where, "%s and the other VRRP, BFD and tracking blocks are skipped: "
				"they stay keepalived's (run keepalived for VRRP)", kw);
		k->warned_vrrp = true;
		return skip_block(k);
	}
	if (in_list(process_roots, kw))
		return skip_block(k);
	if (strcmp(kw, "net_namespace") == 0 || strcmp(kw, "net_namespace_ipvs") == 0)
		return kc_fail(k, st, "'%s' is not supported: run xvs-control in the namespace "
			       "instead", kw);
	if (strcmp(kw, "SSL") == 0)
		return kc_fail(k, st, "'SSL' is not supported: xvs's SSL_GET presents no client "
			       "certificate");
	return kc_fail(k, st, "unknown keyword '%s'", kw);
}

/* ---- checks and defaults of a virtual server (keepalived's validate_check_config) ----- */

static int64_t pick(int64_t a, int64_t b)
{
	return a != UNSET ? a : b;
}

static uint8_t vs_family(const struct kc_vs *vs)
{
	if (vs->af)
		return vs->af;
	if (vs->sorry.set && vs->sorry.fwd != XVS_FWD_TUNNEL)
		return vs->sorry.af;
	for (unsigned i = 0; i < vs->nb_rs; i++)
		if (vs->rs[i].fwd != XVS_FWD_TUNNEL)
			return vs->rs[i].af;
	/* only tunnels: their family if they all share one, else IPv4 */
	uint8_t af = vs->sorry.set ? vs->sorry.af : 0;
	for (unsigned i = 0; i < vs->nb_rs; i++) {
		if (af && vs->rs[i].af != af)
			return XVS_AF_INET;
		af = vs->rs[i].af;
	}
	return af ? af : XVS_AF_INET;
}

static const struct kc_group *find_group(const struct kc *k, const char *name)
{
	for (unsigned i = 0; i < k->nb_groups; i++)
		if (strcmp(k->groups[i].name, name) == 0)
			return &k->groups[i];
	return NULL;
}

/* What keepalived checks on the service's own settings. */
static void vs_fix_service(struct kc *k, struct kc_vs *vs, const struct kc_group *g)
{
	bool has_addr = vs->kind == VS_ADDR, has_mark = vs->kind == VS_FWMARK;
	for (unsigned i = 0; g && i < g->nb; i++)
		*(g->e[i].is_fwmark ? &has_mark : &has_addr) = true;
	if (has_addr && !vs->proto) {
		kc_warn(k, vs->where, "no protocol: UDP, as keepalived defaults to");
		vs->proto = XVS_PROTO_UDP;
	}
	if (has_addr && vs->ops && vs->proto != XVS_PROTO_UDP) {
		kc_warn(k, vs->where, "ops (one-packet scheduling) needs UDP: turned off, as "
			"keepalived does");
		vs->ops = false;
	}
	bool zero_port = vs->kind == VS_ADDR && vs->port == 0;
	for (unsigned i = 0; g && i < g->nb; i++)
		zero_port |= !g->e[i].is_fwmark && g->e[i].port == 0;
	if (!vs->persistent && zero_port) {
		kc_warn(k, vs->where, "port 0 is for persistent services: persistence_timeout 360, "
			"as keepalived sets");
		vs->persistent = PERSIST_DEFAULT;
	}
	if (vs->proto && !has_addr) {
		kc_warn(k, vs->where, "protocol is ignored for a fwmark service");
		vs->proto = 0;
	}
	if (!vs->sched[0]) {
		kc_warn(k, vs->where, "no lvs_sched: wlc, as keepalived defaults to");
		strcpy(vs->sched, "wlc");
	}
}

static bool rs_same(const struct kc_rs *a, const struct kc_rs *b)
{
	return a->af == b->af && a->port == b->port && xvs_ip_eq(&a->addr, &b->addr);
}

/* The forwarding method of the real servers that have none, NAT when nothing says. */
static void vs_fix_methods(struct kc *k, struct kc_vs *vs)
{
	bool need = false;
	for (unsigned i = 0; i < vs->nb_rs; i++)
		need |= vs->rs[i].fwd == UNSET;
	need |= vs->sorry.set && vs->sorry.fwd == UNSET;
	if (need && vs->fwd == UNSET) {
		kc_warn(k, vs->where, "no lvs_method: NAT, as keepalived defaults to");
		vs->fwd = XVS_FWD_MASQ;
		vs->tun_type = 0;
		vs->tun_port = vs->tun_flags = 0;
	}
	for (unsigned i = 0; i < vs->nb_rs; i++) {
		struct kc_rs *r = &vs->rs[i];
		if (r->fwd != UNSET)
			continue;
		r->fwd = vs->fwd;
		r->tun_type = vs->tun_type;
		r->tun_port = vs->tun_port;
		r->tun_flags = vs->tun_flags;
	}
	if (vs->sorry.set && vs->sorry.fwd == UNSET) {
		vs->sorry.fwd = vs->fwd;
		vs->sorry.tun_type = vs->tun_type;
		vs->sorry.tun_port = vs->tun_port;
		vs->sorry.tun_flags = vs->tun_flags;
	}
}

/* Ports as keepalived sets them on a virtual server that is not a group. */
static void fix_port(struct kc *k, const struct kc_vs *vs, const char *where, const char *what,
		     int fwd, uint16_t *port)
{
	if (fwd == XVS_FWD_MASQ) {
		if (vs->kind == VS_ADDR && !*port && strcmp(what, "real server") == 0)
			*port = vs->port;
		return;
	}
	if (vs->kind == VS_FWMARK) {
		if (*port)
			kc_warn(k, where, "%s of a fwmark service with a port: cleared, as keepalived "
				"does", what);
		*port = 0;
		return;
	}
	if (*port && *port != vs->port)
		kc_warn(k, where, "%s port %u differs from the virtual server's %u: reset, as "
			"keepalived does (DR and TUN keep the port)", what, *port, vs->port);
	*port = vs->port;
}

static int vs_fix_servers(struct kc *k, struct kc_vs *vs)
{
	uint64_t weight_sum = 0;
	for (unsigned i = 0; i < vs->nb_rs; i++) /* duplicates as written, before port fixes */
		for (unsigned j = 0; j < i && !vs->rs[i].dropped; j++)
			if (!vs->rs[j].dropped && rs_same(&vs->rs[i], &vs->rs[j])) {
				kc_warn(k, vs->rs[i].where, "duplicate real server: dropped, as "
					"keepalived does");
				vs->rs[i].dropped = true;
			}
	for (unsigned i = 0; i < vs->nb_rs; i++) {
		struct kc_rs *r = &vs->rs[i];
		if (r->dropped)
			continue;
		if (r->weight == UNSET)
			r->weight = vs->weight;
		weight_sum += (uint64_t)r->weight;
		if (vs->kind != VS_GROUP)
			fix_port(k, vs, r->where, "real server", r->fwd, &r->port);
		if (vs->sorry.set && r->af == vs->sorry.af && r->port == vs->sorry.port &&
		    xvs_ip_eq(&r->addr, &vs->sorry.addr))
			return kc_fail_at(k, r->where, "the real server is also the sorry server (not "
					  "supported)");
	}
	if (vs->sorry.set && vs->kind != VS_GROUP)
		fix_port(k, vs, vs->sorry.where, "sorry server", vs->sorry.fwd, &vs->sorry.port);
	if (vs->quorum > weight_sum) {
		kc_warn(k, vs->where, "quorum %u exceeds the real servers' total weight %llu: "
			"lowered to it, as keepalived does", vs->quorum, (unsigned long long)weight_sum);
		vs->quorum = (uint32_t)weight_sum;
	}
	if (vs->hysteresis && vs->hysteresis >= vs->quorum) {
		uint32_t h = vs->quorum ? vs->quorum - 1 : 0;
		kc_warn(k, vs->where, "hysteresis %u is not below quorum %u: %u, as keepalived sets",
			vs->hysteresis, vs->quorum, h);
		vs->hysteresis = h;
	}
	return 0;
}

/* ---- health settings ----------------------------------------------------------------- */

static int ms32(struct kc *k, const char *where, int64_t ms, uint32_t *out)
{
	if (ms < 0 || ms > UINT32_MAX)
		return kc_fail_at(k, where, "time out of range");
	*out = (uint32_t)ms;
	return 0;
}

/* The default user of scripts: script_user, else keepalived_script when it exists, else root. */
static void default_user(const struct kc *k, char *user)
{
	struct passwd pw, *res = NULL;
	char buf[1024];
	if (k->script_user_set)
		strcpy(user, k->script_user);
	else if (getpwnam_r("keepalived_script", &pw, buf, sizeof(buf), &res) == 0 && res)
		strcpy(user, "keepalived_script");
	else
		user[0] = '\0';
}

/* One checker's times and retries, from itself, its real server, its virtual server. */
static int resolve_check(struct kc *k, const struct kc_vs *vs, const struct kc_rs *r,
			 struct kc_check *x, int64_t *delay_loop, bool *alpha)
{
	struct xvs_check_cfg *c = &x->c;
	enum xvs_check_type t = c->type;
	int64_t dl = pick(x->delay_loop_ms, pick(r->delay_loop_ms, vs->delay_loop_ms));
	int64_t rs_retry = pick(r->retry, vs->retry);
	int64_t def_retry = t == XVS_CHECK_DNS ? 3 : t == XVS_CHECK_SCRIPT ? 0 : 1;
	int64_t def_dbr = t == XVS_CHECK_HTTP || t == XVS_CHECK_HTTPS ? 3000
			  : t == XVS_CHECK_DNS ? dl : 1000;
	int64_t retry = pick(x->retry, pick(rs_retry, def_retry));
	int64_t ct = pick(x->connect_timeout_ms, pick(r->connect_timeout_ms, vs->connect_timeout_ms));
	int64_t wu = pick(x->warmup_ms, pick(pick(r->warmup_ms, vs->warmup_ms), dl));
	int64_t dbr = pick(x->delay_before_retry_ms,
			   pick(pick(r->delay_before_retry_ms, vs->delay_before_retry_ms), def_dbr));
	*delay_loop = dl;
	*alpha = x->alpha != UNSET ? x->alpha : r->alpha != UNSET ? r->alpha : vs->alpha;
	c->retry = (uint32_t)retry;
	if (ms32(k, x->where, ct, &c->connect_timeout_ms) < 0 || ms32(k, x->where, wu, &c->warmup_ms) < 0 ||
	    ms32(k, x->where, dbr, &c->delay_before_retry_ms) < 0)
		return -1;
	if (t == XVS_CHECK_SCRIPT && !x->misc_timeout_set && ms32(k, x->where, dl, &c->script_timeout_ms) < 0)
		return -1;
	if (t == XVS_CHECK_SCRIPT && !x->user_set)
		default_user(k, c->user);
	if ((t == XVS_CHECK_HTTP || t == XVS_CHECK_HTTPS) && !c->virtualhost[0])
		strcpy(c->virtualhost, r->virtualhost[0] ? r->virtualhost : vs->virtualhost);
	return 0;
}

static int build_health(struct kc *k, const struct kc_vs *vs, struct kc_rs *r)
{
	struct xvs_dest_health_cfg *h = calloc(1, sizeof(*h));
	struct xvs_kaconf *o = k->out;
	struct xvs_dest_health_cfg **a = realloc(o->healths, (o->nb_healths + 1) * sizeof(*a));
	if (!h || !a) {
		free(h);
		return kc_fail_at(k, r->where, "out of memory");
	}
	o->healths = a;
	a[o->nb_healths++] = h;
	r->health = h;
	xvs_dest_health_cfg_default(h);
	int64_t interval = pick(r->delay_loop_ms, vs->delay_loop_ms), dl;
	bool alpha = false, a1;
	for (unsigned i = 0; i < r->nb_checks; i++) {
		if (resolve_check(k, vs, r, &r->checks[i], &dl, &a1) < 0)
			return -1;
		if (i > 0 && dl != interval)
			return kc_fail_at(k, r->checks[i].where, "the checkers of one real server "
					  "with different delay_loop are not supported");
		interval = dl;
		alpha |= a1;
		h->checks[h->nb_checks++] = r->checks[i].c;
	}
	if (ms32(k, r->where, interval, &h->interval_ms) < 0)
		return -1;
	h->alpha = r->nb_checks && alpha;
	h->inhibit_on_failure = r->inhibit != UNSET ? r->inhibit : vs->inhibit;
	strcpy(h->notify_up, r->notify_up);
	strcpy(h->notify_down, r->notify_down);
	return 0;
}

static int build_svc_health(struct kc *k, const struct kc_vs *vs, struct xvs_kaconf_svc *s)
{
	struct xvs_svc_health_cfg *h = &s->health;
	xvs_svc_health_cfg_default(h);
	h->quorum = vs->quorum;
	h->hysteresis = vs->hysteresis;
	h->omega = vs->omega;
	strcpy(h->quorum_up, vs->quorum_up);
	strcpy(h->quorum_down, vs->quorum_down);
	if (ms32(k, vs->where, vs->delay_loop_ms, &s->delay_loop_ms) < 0)
		return -1;
	if (!vs->sorry.set)
		return 0;
	const struct kc_sorry *so = &vs->sorry;
	if (so->fwd == XVS_FWD_TUNNEL && (so->tun_type != 0 || so->tun_flags != XVS_TUN_F_NOCSUM))
		return kc_fail_at(k, so->where, "a sorry server behind a gue tunnel is not supported "
				  "(ipip is)");
	if (so->fwd != XVS_FWD_TUNNEL && so->af != s->cfg.af)
		return kc_fail_at(k, so->where, "the sorry server's address family differs from the "
				  "virtual server's (only tunnels may differ)");
	h->has_sorry = true;
	h->sorry_inhibit = so->inhibit;
	h->sorry_af = so->af;
	h->sorry_fwd = (uint8_t)so->fwd;
	h->sorry_port = so->port;
	h->sorry_addr = so->addr;
	return 0;
}

/* ---- services ------------------------------------------------------------------------ */

static bool key_eq(const struct xvs_ctl_svc_cfg *a, const struct xvs_ctl_svc_cfg *b)
{
	return a->af == b->af && a->fwmark == b->fwmark && a->proto == b->proto &&
	       a->port == b->port && xvs_ip_eq(&a->addr, &b->addr);
}

static void svc_name(const struct xvs_ctl_svc_cfg *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	if (c->fwmark) {
		snprintf(buf, len, "FWM %u%s", c->fwmark, c->af == XVS_AF_INET6 ? " IPv6" : "");
		return;
	}
	inet_ntop(c->af == XVS_AF_INET6 ? AF_INET6 : AF_INET, c->addr.v6, a, sizeof(a));
	snprintf(buf, len, "%s %s%s%s:%u", c->proto == XVS_PROTO_TCP ? "TCP" : c->proto ==
		 XVS_PROTO_UDP ? "UDP" : "SCTP", c->af == XVS_AF_INET6 ? "[" : "", a,
		 c->af == XVS_AF_INET6 ? "]" : "", c->port);
}

/* Append one service of vs with key cfg (the rest filled here) and its real servers. */
static int add_svc(struct kc *k, const struct kc_vs *vs, struct xvs_ctl_svc_cfg *cfg)
{
	struct xvs_kaconf *o = k->out;
	char name[96];
	for (unsigned i = 0; i < o->nb_svcs; i++)
		if (key_eq(&o->svcs[i].cfg, cfg)) {
			svc_name(cfg, name, sizeof(name));
			return kc_fail_at(k, vs->where, "%s is already defined at %s", name,
					  o->svcs[i].where);
		}
	if (o->nb_svcs >= XVS_MAX_SVCS)
		return kc_fail_at(k, vs->where, "more than %d services", XVS_MAX_SVCS);
	strcpy(cfg->sched, vs->sched);
	cfg->persistent = vs->persistent;
	cfg->flags = vs->flags;
	cfg->ops = vs->ops;
	memset(&cfg->netmask, 0, sizeof(cfg->netmask));
	if (cfg->af == XVS_AF_INET)
		cfg->netmask.v4 = 0xffffffffu;
	else
		cfg->netmask.w[0] = 128;
	if (vs->gran_af && vs->gran_af != cfg->af)
		return kc_fail_at(k, vs->gran_where, "persistence_granularity is not of the family of "
				  "the service");
	if (vs->gran_af)
		cfg->netmask = vs->gran;
	struct xvs_kaconf_svc *a = realloc(o->svcs, (o->nb_svcs + 1) * sizeof(*a));
	if (!a)
		return kc_fail_at(k, vs->where, "out of memory");
	o->svcs = a;
	struct xvs_kaconf_svc *s = &a[o->nb_svcs++];
	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	strcpy(s->where, vs->where);
	strcpy(s->group, vs->group);
	if (build_svc_health(k, vs, s) < 0)
		return -1;
	s->dests = calloc(vs->nb_rs ? vs->nb_rs : 1, sizeof(*s->dests));
	if (!s->dests)
		return kc_fail_at(k, vs->where, "out of memory");
	for (unsigned i = 0; i < vs->nb_rs; i++) {
		const struct kc_rs *r = &vs->rs[i];
		if (r->dropped)
			continue;
		if (r->fwd != XVS_FWD_TUNNEL && r->af != cfg->af) {
			svc_name(cfg, name, sizeof(name));
			return kc_fail_at(k, r->where, "the real server's address family differs from "
					  "%s's (only tunnels may differ)", name);
		}
		struct xvs_kaconf_dest *d = &s->dests[s->nb_dests++];
		xvs_ctl_dest_cfg_default(&d->cfg);
		d->cfg.af = r->af;
		d->cfg.addr = r->addr;
		d->cfg.port = r->port;
		d->cfg.fwd = (uint8_t)r->fwd;
		d->cfg.tun_type = r->tun_type;
		d->cfg.tun_port = r->tun_port;
		d->cfg.tun_flags = r->tun_flags;
		d->cfg.weight = r->weight;
		d->cfg.u_thresh = r->uthr;
		d->cfg.l_thresh = r->lthr;
		d->health = r->health;
		strcpy(d->where, r->where);
	}
	return 0;
}

static int expand_group(struct kc *k, const struct kc_vs *vs, const struct kc_group *g,
			uint8_t vs_af)
{
	bool have4 = false, have6 = false, mark_nofam = false;
	for (unsigned i = 0; i < g->nb; i++) {
		const struct kc_gentry *e = &g->e[i];
		have4 |= e->af == XVS_AF_INET;
		have6 |= e->af == XVS_AF_INET6;
		mark_nofam |= e->is_fwmark && !e->af;
	}
	if (have4 && have6 && mark_nofam)
		return kc_fail_at(k, g->where, "virtual_server_group %s has IPv4, IPv6 and a fwmark "
				  "without a family", g->name);
	for (unsigned i = 0; i < g->nb; i++) {
		const struct kc_gentry *e = &g->e[i];
		struct xvs_ctl_svc_cfg cfg;
		memset(&cfg, 0, sizeof(cfg));
		if (e->is_fwmark) {
			cfg.af = e->af ? e->af : vs_af;
			cfg.fwmark = e->mark;
			if (add_svc(k, vs, &cfg) < 0)
				return -1;
			continue;
		}
		uint64_t n = range_size(e->af, &e->lo, &e->hi, XVS_MAX_SVCS);
		if (n > XVS_MAX_SVCS)
			return kc_fail_at(k, e->where, "the range holds more than %d addresses",
					  XVS_MAX_SVCS);
		for (uint64_t j = 0; j < n; j++) {
			memset(&cfg, 0, sizeof(cfg));
			cfg.af = e->af;
			cfg.proto = vs->proto;
			cfg.port = e->port;
			cfg.addr = e->lo;
			ip_add(e->af, &cfg.addr, j);
			if (add_svc(k, vs, &cfg) < 0)
				return -1;
		}
	}
	return 0;
}

static int finish_vs(struct kc *k, struct kc_vs *vs)
{
	const struct kc_group *g = NULL;
	if (vs->kind == VS_GROUP && !(g = find_group(k, vs->group)))
		return kc_fail_at(k, vs->where, "virtual_server_group %s is not defined", vs->group);
	if (vs->nb_rs == 0) {
		kc_warn(k, vs->where, "no real_server: the virtual server is left out, as keepalived "
			"does");
		return 0;
	}
	vs_fix_service(k, vs, g);
	vs_fix_methods(k, vs);
	if (vs_fix_servers(k, vs) < 0)
		return -1;
	for (unsigned i = 0; i < vs->nb_rs; i++)
		if (!vs->rs[i].dropped && build_health(k, vs, &vs->rs[i]) < 0)
			return -1;
	uint8_t af = vs_family(vs);
	if (g)
		return expand_group(k, vs, g, af);
	struct xvs_ctl_svc_cfg cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.af = af;
	if (vs->kind == VS_FWMARK) {
		cfg.fwmark = vs->fwmark;
	} else {
		cfg.proto = vs->proto;
		cfg.addr = vs->addr;
		cfg.port = vs->port;
	}
	return add_svc(k, vs, &cfg);
}

/* Scripts run as script_user only where xvs has a place for a user (MISC_CHECK). */
static int check_script_user(struct kc *k)
{
	if (!k->script_user_set)
		return 0;
	for (unsigned i = 0; i < k->nb_vs; i++) {
		const struct kc_vs *vs = &k->vs[i];
		bool notify = vs->quorum_up[0] || vs->quorum_down[0];
		for (unsigned j = 0; j < vs->nb_rs; j++)
			notify |= vs->rs[j].notify_up[0] || vs->rs[j].notify_down[0];
		if (notify)
			return kc_fail_at(k, k->script_user_where, "script_user with notify or quorum "
					  "scripts is not supported (xvs runs those as root)");
	}
	return 0;
}

/* ---- entry points -------------------------------------------------------------------- */

void xvs_kaconf_default_id(char *buf, size_t len)
{
	struct utsname u;
	if (uname(&u) < 0) {
		snprintf(buf, len, "%s", "");
		return;
	}
	snprintf(buf, len, "%.*s", (int)strcspn(u.nodename, "."), u.nodename);
}

static void kc_free(struct kc *k)
{
	for (unsigned i = 0; i < k->nb_vs; i++)
		free(k->vs[i].rs);
	free(k->vs);
	for (unsigned i = 0; i < k->nb_groups; i++)
		free(k->groups[i].e);
	free(k->groups);
	free(k->cur.mem);
	free(k->ahead.mem);
	xvs_kaconf_reader_close(k->r);
}

int xvs_kaconf_load(const char *path, const struct xvs_kaconf_opts *opts, struct xvs_kaconf **out,
		    char *err, size_t errlen)
{
	char id[256];
	struct kc k = {.err = err, .errlen = errlen};
	int rc;
	*out = NULL;
	if (opts && opts->config_id)
		snprintf(id, sizeof(id), "%s", opts->config_id);
	else
		xvs_kaconf_default_id(id, sizeof(id));
	k.out = calloc(1, sizeof(*k.out));
	if (!k.out) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	k.r = xvs_kaconf_reader_open(path, id, err, errlen);
	if (!k.r) {
		xvs_kaconf_free(k.out);
		return -EINVAL;
	}
	while ((rc = next_stmt(&k)) > 0)
		if (root_stmt(&k) < 0) {
			rc = -1;
			break;
		}
	for (unsigned i = 0; rc == 0 && i < k.nb_vs; i++)
		if (finish_vs(&k, &k.vs[i]) < 0)
			rc = -1;
	if (rc == 0)
		rc = check_script_user(&k);
	kc_free(&k);
	if (rc < 0) {
		xvs_kaconf_free(k.out);
		return -EINVAL;
	}
	*out = k.out;
	return 0;
}

void xvs_kaconf_free(struct xvs_kaconf *conf)
{
	if (!conf)
		return;
	for (unsigned i = 0; i < conf->nb_svcs; i++)
		free(conf->svcs[i].dests);
	free(conf->svcs);
	for (unsigned i = 0; i < conf->nb_warnings; i++)
		free(conf->warnings[i]);
	free(conf->warnings);
	for (unsigned i = 0; i < conf->nb_healths; i++)
		free(conf->healths[i]);
	free(conf->healths);
	free(conf);
}
