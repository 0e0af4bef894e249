/*
 * The text layer of keepalived.conf (see ctl_kaconf_read.h), with keepalived 2.2's rules:
 *
 * - A line loses its comment ('#' or '!' outside "...", "\#" and "\!" are literal) and its
 *   surrounding blanks; a trailing '\' only continues a `$NAME=` definition.
 * - `@id LINE` keeps LINE only when the config id is id, `@^id LINE` only when it is not.
 * - `$NAME=value` defines NAME (no blank before '='); a value ending in '\' goes on over the
 *   next lines, up to one without '\' or an empty line. `$NAME` (followed by a blank, ',',
 *   ')' or the end) and `${NAME}` expand anywhere, expansions expand again, and a multi-line
 *   value expands only at the end of a line, into several lines. Unknown names stay as they
 *   are. Built in: _PWD (the directory of the current file), _INSTANCE (the config id),
 *   _HASH, _BANG, `${_ENV NAME}`.
 * - `include PATTERN` (and includer, includem, includew, includeb, includea) reads the files
 *   the glob matches, in order; a relative pattern is relative to the including file's
 *   directory, where keepalived would have changed directory to.
 * - '{' and '}' outside "..." are statements of their own, wherever they are on a line.
 */
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl_kaconf.h"
#include "ctl_kaconf_read.h"

#define KR_LINE_MAX      65536 /* longest line read from a file */
#define KR_EXPAND_MAX    1000  /* expansions in one line: more means a definition loop */
#define KR_RECHECK_MAX   16
#define KR_PENDING_MAX   100000 /* lines multi-line values give one file line: more is a loop */

struct kr_def {
	struct kr_def *next;
	char *name;
	char *value;
	bool multiline; /* value lines are separated by '\n' */
};

/* One include (or the main file): the files its pattern matched, one open at a time. */
struct kr_frame {
	struct kr_frame *up;
	glob_t g;
	size_t next;      /* next match to open */
	FILE *f;
	const char *path; /* the open file's name (in r->names) */
	unsigned line;
};

/* A line queued by a multi-line expansion, read before the files go on. */
struct kr_pending {
	struct kr_pending *next;
	char *text;
	const char *file;
	unsigned line;
};

struct xvs_kaconf_reader {
	struct kr_frame *top;
	unsigned depth;
	char *config_id;
	struct kr_def *defs;
	struct kr_def *collecting; /* a multi-line definition still reading lines */
	struct kr_pending *pending;
	unsigned nb_expanded;      /* pending lines read since the last line of a file */
	char *residue;             /* the rest of a line after a brace */
	const char *res_file;
	unsigned res_line;
	char **names;              /* every file name handed out, freed at close */
	unsigned nb_names;
	char *buf;                 /* the current line */
	char *stmt;                /* the current statement */
	char *words;               /* its words */
	const char *file;          /* where the current line comes from */
	unsigned line;
};

static int kr_fail(char *err, size_t errlen, const char *file, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int kr_fail(char *err, size_t errlen, const char *file, unsigned line, const char *fmt, ...)
{
	char msg[XVS_KACONF_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		snprintf(err, errlen, "%s:%u: %s", file, line, msg);
	else
		snprintf(err, errlen, "%s: %s", file, msg);
	return -1;
}

static const char *keep_name(struct xvs_kaconf_reader *r, const char *name)
{
	char **n = realloc(r->names, (r->nb_names + 1) * sizeof(*n));
	if (!n)
		return NULL;
	r->names = n;
	n[r->nb_names] = strdup(name);
	return n[r->nb_names] ? n[r->nb_names++] : NULL;
}

/* ---- comments ------------------------------------------------------------------------ */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void trim_right(char *s)
{
	size_t n = strlen(s);
	while (n && (is_blank(s[n - 1]) || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
}

/*
 * Strip blanks and the comment; *cont tells whether the line ended in a '\' (kept as the
 * last character). -1 on a quote left open.
 */
static int decomment(char *s, bool *cont)
{
	size_t lead = strspn(s, " \t");
	bool quote = false;
	char *p;
	memmove(s, s + lead, strlen(s + lead) + 1);
	*cont = false;
	for (p = s; (p = strpbrk(p, "!#\"\\"));) {
		if (*p == '"') {
			quote = !quote;
			p++;
		} else if (*p == '\\' && p[1]) {
			if (!quote && (p[1] == '#' || p[1] == '!')) {
				memmove(p, p + 1, strlen(p + 1) + 1);
				p++;
			} else {
				p += 2;
			}
		} else if (*p == '\\') {
			*p = '\0';
			*cont = true;
			break;
		} else if (!quote) {
			*p = '\0';
			break;
		} else {
			p++;
		}
	}
	trim_right(s);
	if (*cont)
		strcat(s, "\\"); /* there is room: the '\' was there */
	return quote ? -1 : 0;
}

/* ---- files --------------------------------------------------------------------------- */

static bool has_wildcard(const char *s)
{
	return strpbrk(s, "*?[{") != NULL;
}

/* Open the next file a frame matched; 0 when the frame has no more, -1 on an error. */
static int frame_open_next(struct xvs_kaconf_reader *r, struct kr_frame *fr, char *err,
			   size_t errlen, const char *from, unsigned from_line)
{
	struct stat st;
	while (fr->next < fr->g.gl_pathc) {
		const char *p = fr->g.gl_pathv[fr->next++];
		size_t n = strlen(p);
		if (n && p[n - 1] == '/')
			return kr_fail(err, errlen, from, from_line, "%s is a directory", p);
		if (stat(p, &st) < 0)
			return kr_fail(err, errlen, from, from_line, "%s: %s", p, strerror(errno));
		if (!S_ISREG(st.st_mode) || (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
			return kr_fail(err, errlen, from, from_line, "%s is not a regular "
				       "non-executable file (keepalived would skip it)", p);
		fr->f = fopen(p, "re");
		if (!fr->f)
			return kr_fail(err, errlen, from, from_line, "%s: %s", p, strerror(errno));
		fr->path = keep_name(r, p);
		fr->line = 0;
		if (!fr->path)
			return kr_fail(err, errlen, from, from_line, "out of memory");
		return 1;
	}
	return 0;
}

static void frame_pop(struct xvs_kaconf_reader *r)
{
	struct kr_frame *fr = r->top;
	if (fr->f)
		fclose(fr->f);
	globfree(&fr->g);
	r->top = fr->up;
	r->depth--;
	free(fr);
}

/*
 * Push the files pattern matches. A relative pattern is taken from the directory of `from`
 * (the including file). strict: a pattern with wildcards must match (includew, includea,
 * the main file). A pattern without wildcards must always name a file.
 */
static int push_glob(struct xvs_kaconf_reader *r, const char *pattern, bool strict,
		     const char *from, unsigned from_line, char *err, size_t errlen)
{
	char full[PATH_MAX];
	const char *slash = from ? strrchr(from, '/') : NULL;
	const char *efile = from ? from : pattern;
	if (pattern[0] != '/' && slash) {
		if (snprintf(full, sizeof(full), "%.*s/%s", (int)(slash - from), from, pattern) >=
		    (int)sizeof(full))
			return kr_fail(err, errlen, efile, from_line, "include path too long");
	} else if (snprintf(full, sizeof(full), "%s", pattern) >= (int)sizeof(full)) {
		return kr_fail(err, errlen, efile, from_line, "path too long");
	}
	if (r->depth >= XVS_KACONF_INCLUDE_DEPTH)
		return kr_fail(err, errlen, efile, from_line, "includes nested more than %d deep "
			       "(does a file include itself?)", XVS_KACONF_INCLUDE_DEPTH);
	struct kr_frame *fr = calloc(1, sizeof(*fr));
	if (!fr)
		return kr_fail(err, errlen, efile, from_line, "out of memory");
	int rc = glob(full, GLOB_MARK | GLOB_BRACE, NULL, &fr->g);
	if (rc == GLOB_NOMATCH) {
		globfree(&fr->g);
		free(fr);
		if (!has_wildcard(full) && !from)
			return kr_fail(err, errlen, full, 0, "%s", strerror(ENOENT));
		if (!has_wildcard(full))
			return kr_fail(err, errlen, efile, from_line, "%s: %s", full, strerror(ENOENT));
		if (strict)
			return kr_fail(err, errlen, efile, from_line, "no file matches %s", full);
		return 0;
	}
	if (rc) {
		globfree(&fr->g);
		free(fr);
		return kr_fail(err, errlen, efile, from_line, "cannot read %s (glob error %d)", full, rc);
	}
	fr->up = r->top;
	r->top = fr;
	r->depth++;
	rc = frame_open_next(r, fr, err, errlen, efile, from_line);
	if (rc <= 0)
		frame_pop(r);
	return rc < 0 ? -1 : 0;
}

/* The next raw line of the files (r->buf, r->file, r->line): 1, 0 at the end, -1. */
static int read_file_line(struct xvs_kaconf_reader *r, char *err, size_t errlen)
{
	size_t cap = 0;
	char *line = NULL;
	while (r->top) {
		struct kr_frame *fr = r->top;
		ssize_t n = fr->f ? getline(&line, &cap, fr->f) : -1;
		if (n < 0) {
			const char *prev = fr->path;
			unsigned prev_line = fr->line;
			fclose(fr->f);
			fr->f = NULL;
			int rc = frame_open_next(r, fr, err, errlen, prev, prev_line);
			if (rc < 0) {
				free(line);
				return -1;
			}
			if (rc == 0)
				frame_pop(r);
			continue;
		}
		fr->line++;
		if ((size_t)n > KR_LINE_MAX || strlen(line) != (size_t)n) {
			free(line);
			return kr_fail(err, errlen, fr->path, fr->line, "%s",
				       (size_t)n > KR_LINE_MAX ? "line too long" : "the line holds a NUL byte");
		}
		free(r->buf);
		r->buf = line;
		r->file = fr->path;
		r->line = fr->line;
		return 1;
	}
	free(line);
	return 0;
}

/* ---- definitions --------------------------------------------------------------------- */

static struct kr_def *find_def(const struct xvs_kaconf_reader *r, const char *name, size_t len)
{
	for (struct kr_def *d = r->defs; d; d = d->next)
		if (strlen(d->name) == len && strncmp(d->name, name, len) == 0)
			return d;
	return NULL;
}

/* `$NAME=value`: define it (replacing an older value). Returns 1 when line is one. */
static int check_definition(struct xvs_kaconf_reader *r, const char *line)
{
	const char *p = line + 2;
	if (line[0] != '$' || (!isalpha((unsigned char)line[1]) && line[1] != '_'))
		return 0;
	while (*p && *p != '=') {
		if (!isalnum((unsigned char)*p) && *p != '_')
			return 0;
		p++;
	}
	if (*p != '=')
		return 0;
	size_t len = (size_t)(p - line - 1);
	struct kr_def *d = find_def(r, line + 1, len);
	if (!d) {
		d = calloc(1, sizeof(*d));
		if (!d || !(d->name = strndup(line + 1, len))) {
			free(d);
			return -1;
		}
		d->next = r->defs;
		r->defs = d;
	}
	p++;
	p += strspn(p, " \t");
	char *v = strdup(p);
	if (!v)
		return -1;
	size_t n = strlen(v);
	d->multiline = n && v[n - 1] == '\\';
	if (d->multiline) {
		/* the '\' becomes the end of the first line (none when nothing precedes it) */
		v[--n] = '\0';
		while (n && is_blank(v[n - 1]))
			v[--n] = '\0';
		if (n)
			v[n] = '\n', v[n + 1] = '\0';
		r->collecting = d;
	}
	free(d->value);
	d->value = v;
	return 1;
}

/* One more line of the definition being collected (already without its comment). */
static int collect_line(struct xvs_kaconf_reader *r, char *s)
{
	struct kr_def *d = r->collecting;
	size_t n = strlen(s);
	bool more = n && s[n - 1] == '\\';
	if (more) {
		s[--n] = '\0';
		while (n && is_blank(s[n - 1]))
			s[--n] = '\0';
	}
	if (!more)
		r->collecting = NULL;
	if (n == 0)
		return 0; /* blank lines are not added */
	size_t old = strlen(d->value);
	char *v = realloc(d->value, old + n + 2);
	if (!v)
		return -1;
	memcpy(v + old, s, n);
	if (more)
		v[old + n++] = '\n';
	v[old + n] = '\0';
	d->value = v;
	return 0;
}

/* ---- expansion ----------------------------------------------------------------------- */

/* A reference at p ('$'): its name, parameters and end; false when p starts none. */
struct kr_ref {
	const char *name;
	size_t len;
	const char *params; /* ${NAME params}: the parameters, or NULL */
	size_t params_len;
	const char *end;    /* one past the reference */
};

static bool parse_ref(const char *p, struct kr_ref *ref)
{
	const char *n = p + 1;
	bool braces = *n == '{';
	memset(ref, 0, sizeof(*ref));
	if (braces)
		n++;
	if (!isalpha((unsigned char)*n) && *n != '_')
		return false;
	const char *q = n;
	while (isalnum((unsigned char)*q) || *q == '_')
		q++;
	ref->name = n;
	ref->len = (size_t)(q - n);
	if (!braces) {
		if (*q && !strchr(" \t,)", *q))
			return false;
		ref->end = q;
		return true;
	}
	const char *ps = NULL, *pe = NULL;
	while (is_blank(*q) || isalnum((unsigned char)*q) || *q == '_') {
		if (!is_blank(*q)) {
			if (!ps)
				ps = q;
			pe = q;
		}
		q++;
	}
	if (*q != '}' || (ps && pe + 1 != q))
		return false;
	ref->params = ps;
	ref->params_len = ps ? (size_t)(pe - ps + 1) : 0;
	ref->end = q + 1;
	return true;
}

/* The value of a built-in name, malloc'd; NULL with *known false when it is none. */
static char *builtin_value(const struct xvs_kaconf_reader *r, const struct kr_ref *ref,
			   bool *known, bool *bad)
{
	char name[16], dir[PATH_MAX];
	*known = true;
	*bad = false;
	snprintf(name, sizeof(name), "%.*s", (int)(ref->len < 15 ? ref->len : 15), ref->name);
	if (ref->len >= 15)
		name[0] = '\0';
	if (strcmp(name, "_ENV") == 0) {
		if (!ref->params) {
			*known = false;
			return NULL;
		}
		char var[256];
		snprintf(var, sizeof(var), "%.*s", (int)ref->params_len, ref->params);
		const char *v = getenv(var);
		return strdup(v ? v : "");
	}
	if (ref->params) {
		*known = false;
		return NULL;
	}
	if (strcmp(name, "_HASH") == 0)
		return strdup("#");
	if (strcmp(name, "_BANG") == 0)
		return strdup("!");
	if (strcmp(name, "_INSTANCE") == 0)
		return strdup(r->config_id);
	if (strcmp(name, "_RANDOM") == 0) {
		*bad = true;
		return NULL;
	}
	if (strcmp(name, "_PWD") == 0) {
		const char *slash = strrchr(r->file, '/');
		char rel[PATH_MAX];
		snprintf(rel, sizeof(rel), "%.*s", slash ? (int)(slash - r->file) : 1,
			 slash ? r->file : ".");
		if (slash == r->file)
			snprintf(rel, sizeof(rel), "/");
		return strdup(realpath(rel, dir) ? dir : rel);
	}
	*known = false;
	return NULL;
}

/* Queue the lines after the first of a multi-line value, before anything pending. */
static int queue_lines(struct xvs_kaconf_reader *r, const char *rest)
{
	struct kr_pending *head = NULL, **tail = &head;
	while (rest) {
		const char *nl = strchr(rest, '\n');
		struct kr_pending *p = calloc(1, sizeof(*p));
		if (!p || !(p->text = nl ? strndup(rest, (size_t)(nl - rest)) : strdup(rest))) {
			free(p);
			return -1;
		}
		p->file = r->file;
		p->line = r->line;
		*tail = p;
		tail = &p->next;
		rest = nl ? nl + 1 : NULL;
	}
	*tail = r->pending;
	r->pending = head;
	return 0;
}

/* Replace [at, at+len) of r->buf with val (vlen bytes). */
static int splice(struct xvs_kaconf_reader *r, size_t at, size_t len, const char *val, size_t vlen)
{
	size_t old = strlen(r->buf);
	char *b = malloc(old - len + vlen + 1);
	if (!b)
		return -1;
	memcpy(b, r->buf, at);
	memcpy(b + at, val, vlen);
	memcpy(b + at + vlen, r->buf + at + len, old - at - len + 1);
	free(r->buf);
	r->buf = b;
	return 0;
}

/* Expand every reference in r->buf; 1 when something changed, 0 when not, -1. */
static int expand(struct xvs_kaconf_reader *r, char *err, size_t errlen)
{
	size_t pos = 0;
	unsigned count = 0;
	char *p;
	while ((p = strchr(r->buf + pos, '$')) && p[1]) {
		struct kr_ref ref;
		size_t at = (size_t)(p - r->buf);
		bool known = false, bad = false;
		char *val = NULL;
		if (!parse_ref(p, &ref)) {
			pos = at + 1;
			continue;
		}
		struct kr_def *d = ref.params ? NULL : find_def(r, ref.name, ref.len);
		if (d && d->multiline && *ref.end != '\0')
			d = NULL; /* a multi-line value only expands at the end of a line */
		if (d)
			val = strdup(d->value);
		else
			val = builtin_value(r, &ref, &known, &bad);
		if (bad)
			return kr_fail(err, errlen, r->file, r->line, "${_RANDOM} is not supported: "
				       "xvs reloads would pick other values");
		if (!d && !known) {
			pos = at + 1;
			continue;
		}
		if (!val)
			return kr_fail(err, errlen, r->file, r->line, "out of memory");
		if (++count > KR_EXPAND_MAX) {
			free(val);
			return kr_fail(err, errlen, r->file, r->line, "$%.*s: the definitions expand "
				       "without end", (int)ref.len, ref.name);
		}
		char *nl = d && d->multiline ? strchr(val, '\n') : NULL;
		size_t vlen = nl ? (size_t)(nl - val) : strlen(val);
		int rc = splice(r, at, (size_t)(ref.end - p), val, vlen);
		if (rc == 0 && nl)
			rc = queue_lines(r, nl + 1);
		bool tilde = val[strspn(val, " \t")] == '~';
		free(val);
		if (rc)
			return kr_fail(err, errlen, r->file, r->line, "out of memory");
		pos = at; /* the value may hold references itself */
		if (tilde)
			break;
	}
	return count > 0;
}

/* ---- lines --------------------------------------------------------------------------- */

/* `@id` / `@^id`: drop the line (r->buf = "") or strip the prefix. */
static void conditional(struct xvs_kaconf_reader *r)
{
	char *b = r->buf;
	bool rev = b[1] == '^';
	const char *id = b + (rev ? 2 : 1);
	const char *sp = strpbrk(id, " \t");
	if (!sp) {
		b[0] = '\0';
		return;
	}
	size_t len = (size_t)(sp - id);
	bool match = strlen(r->config_id) == len && strncmp(id, r->config_id, len) == 0;
	if (match == rev) {
		b[0] = '\0';
		return;
	}
	sp += strspn(sp, " \t");
	memmove(b, sp, strlen(sp) + 1);
}

/* The include keywords: 0 none, 1 include, 2 one that wants its wildcards to match. */
static int include_kind(const char *b)
{
	if (strncmp(b, "include", 7) != 0 || !b[7])
		return 0;
	if (is_blank(b[7]))
		return 1;
	if (is_blank(b[8]) && strchr("rmwba", b[7]))
		return b[7] == 'w' || b[7] == 'a' ? 2 : 1;
	return 0;
}

/*
 * After the comment is gone: conditionals, definitions and expansions. Leaves the line in
 * r->buf ("" when nothing is left of it). 0 or -1.
 */
static int process_line(struct xvs_kaconf_reader *r, char *err, size_t errlen)
{
	bool cont;
	for (unsigned round = 0;; round++) {
		if (round > KR_RECHECK_MAX)
			return kr_fail(err, errlen, r->file, r->line, "the definitions expand without end");
		if (r->buf[0] == '@')
			conditional(r);
		int d = check_definition(r, r->buf);
		if (d < 0)
			return kr_fail(err, errlen, r->file, r->line, "out of memory");
		if (d) {
			r->buf[0] = '\0';
			return 0;
		}
		if (strncmp(r->buf, "~SEQ", 4) == 0 || strncmp(r->buf, "~LST", 4) == 0)
			return kr_fail(err, errlen, r->file, r->line, "%.4s is not supported", r->buf);
		if (r->buf[0] == '~' || !strchr(r->buf, '$'))
			return 0;
		int rc = expand(r, err, errlen);
		if (rc <= 0)
			return rc;
		if (decomment(r->buf, &cont) < 0)
			return kr_fail(err, errlen, r->file, r->line, "unterminated quote");
		if (r->buf[0] != '@' && r->buf[0] != '$')
			return 0;
	}
}

/* The next logical line, processed, in r->buf: 1, 0 at the end, -1. */
static int next_line(struct xvs_kaconf_reader *r, char *err, size_t errlen)
{
	bool cont;
	for (;;) {
		if (r->pending) {
			struct kr_pending *p = r->pending;
			r->pending = p->next;
			free(r->buf);
			r->buf = p->text;
			r->file = p->file;
			r->line = p->line;
			free(p);
			/* a multi-line value that names itself, directly or not, never ends */
			if (++r->nb_expanded > KR_PENDING_MAX)
				return kr_fail(err, errlen, r->file, r->line, "the multi-line definitions "
					       "expand without end");
		} else {
			int rc = read_file_line(r, err, errlen);
			if (rc <= 0)
				return rc;
			r->nb_expanded = 0;
			trim_right(r->buf);
			if (!r->buf[0] && r->collecting) {
				r->collecting = NULL; /* an empty line ends a multi-line definition */
				continue;
			}
			if (decomment(r->buf, &cont) < 0)
				return kr_fail(err, errlen, r->file, r->line, "unterminated quote");
		}
		if (!r->buf[0])
			continue;
		if (r->collecting) {
			if (collect_line(r, r->buf) < 0)
				return kr_fail(err, errlen, r->file, r->line, "out of memory");
			continue;
		}
		if (process_line(r, err, errlen) < 0)
			return -1;
		if (!r->buf[0])
			continue;
		int inc = include_kind(r->buf);
		if (inc) {
			const char *pat = r->buf + (inc && is_blank(r->buf[7]) ? 8 : 9);
			pat += strspn(pat, " \t");
			if (!*pat)
				return kr_fail(err, errlen, r->file, r->line, "include: no file named");
			if (push_glob(r, pat, inc == 2, r->file, r->line, err, errlen) < 0)
				return -1;
			continue;
		}
		return 1;
	}
}

/* ---- statements ---------------------------------------------------------------------- */

/* The first '{' or '}' outside "..." in s, or NULL. */
static char *find_brace(char *s)
{
	if (*s == '{' || *s == '}')
		return s;
	for (char *p = s; (p = strpbrk(p, "{}\""));) {
		if (*p != '"')
			return p;
		p = strchr(p + 1, '"');
		if (!p)
			return NULL;
		p++;
	}
	return NULL;
}

/* Split the words of s ("..." is one word) into st, copied into out (2 * strlen(s) + 1
 * bytes). A word ends at a blank or a quote. 0 or -1. */
static int tokenize(const char *s, char *out, struct xvs_kaconf_stmt *st, char *err, size_t errlen)
{
	const char *p = s;
	st->nb_tok = 0;
	for (;;) {
		p += strspn(p, " \t");
		if (!*p)
			return 0;
		if (st->nb_tok == XVS_KACONF_MAX_TOKENS)
			return kr_fail(err, errlen, st->file, st->line, "more than %d words on one line",
				       XVS_KACONF_MAX_TOKENS);
		size_t n;
		if (*p == '"') {
			const char *q = strchr(++p, '"');
			if (!q)
				return kr_fail(err, errlen, st->file, st->line, "unmatched quote");
			n = (size_t)(q - p);
			memcpy(out, p, n);
			p = q + 1;
		} else {
			n = strcspn(p, " \t\"");
			memcpy(out, p, n);
			p += n;
		}
		out[n] = '\0';
		st->tok[st->nb_tok++] = out;
		out += n + 1;
	}
}

int xvs_kaconf_reader_next(struct xvs_kaconf_reader *r, struct xvs_kaconf_stmt *s, char *err,
			   size_t errlen)
{
	char *text;
	if (r->residue) {
		free(r->buf);
		r->buf = r->residue;
		r->residue = NULL;
		r->file = r->res_file;
		r->line = r->res_line;
	} else {
		int rc = next_line(r, err, errlen);
		if (rc <= 0)
			return rc;
	}
	text = r->buf;
	char *b = find_brace(text);
	if (b) {
		char *rest = b == text ? b + 1 : b;
		rest += strspn(rest, " \t");
		if (*rest) {
			r->residue = strdup(rest);
			if (!r->residue)
				return kr_fail(err, errlen, r->file, r->line, "out of memory");
			trim_right(r->residue);
			r->res_file = r->file;
			r->res_line = r->line;
		}
		if (b == text)
			b[1] = '\0';
		else
			*b = '\0';
		trim_right(text);
	}
	free(r->stmt);
	free(r->words);
	r->stmt = strdup(text);
	r->words = malloc(2 * strlen(text) + 1);
	if (!r->stmt || !r->words)
		return kr_fail(err, errlen, r->file, r->line, "out of memory");
	s->text = r->stmt;
	s->file = r->file;
	s->line = r->line;
	if (tokenize(text, r->words, s, err, errlen) < 0)
		return -1;
	if (s->nb_tok == 0)
		return xvs_kaconf_reader_next(r, s, err, errlen);
	return 1;
}

struct xvs_kaconf_reader *xvs_kaconf_reader_open(const char *path, const char *config_id,
						 char *err, size_t errlen)
{
	struct xvs_kaconf_reader *r = calloc(1, sizeof(*r));
	if (!r || !(r->config_id = strdup(config_id))) {
		free(r);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	if (push_glob(r, path, true, NULL, 0, err, errlen) < 0) {
		xvs_kaconf_reader_close(r);
		return NULL;
	}
	return r;
}

void xvs_kaconf_reader_close(struct xvs_kaconf_reader *r)
{
	if (!r)
		return;
	while (r->top)
		frame_pop(r);
	while (r->defs) {
		struct kr_def *d = r->defs;
		r->defs = d->next;
		free(d->name);
		free(d->value);
		free(d);
	}
	while (r->pending) {
		struct kr_pending *p = r->pending;
		r->pending = p->next;
		free(p->text);
		free(p);
	}
	for (unsigned i = 0; i < r->nb_names; i++)
		free(r->names[i]);
	free(r->names);
	free(r->residue);
	free(r->buf);
	free(r->stmt);
	free(r->words);
	free(r->config_id);
	free(r);
}

/* ---- script words -------------------------------------------------------------------- */

static int hexval(int c)
{
	return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

/* One escape after a '\' at *pp (advanced past it); the byte it stands for. */
static char unescape(const char **pp)
{
	const char *p = *pp;
	char c;
	if (*p == 'x' && isxdigit((unsigned char)p[1])) {
		c = 0;
		p++;
		for (int i = 0; i < 2 && isxdigit((unsigned char)*p); i++, p++)
			c = (char)((c << 4) | hexval((unsigned char)*p));
	} else if (*p == 'c' && p[1]) {
		c = (char)(p[1] & 0x1f);
		p += 2;
	} else if (*p >= '0' && *p <= '7') {
		c = 0;
		for (int i = 0; i < 3 && *p >= '0' && *p <= '7'; i++, p++)
			c = (char)((c << 3) + (*p - '0'));
	} else {
		static const char from[] = "abEfnrtv", to[] = "\a\b\x1b\f\n\r\t\v";
		const char *k = strchr(from, *p);
		c = k && *p ? to[k - from] : *p;
		p++;
	}
	*pp = p;
	return c;
}

int xvs_kaconf_split_escaped(const char *text, char **words, unsigned max, char *err,
			     size_t errlen)
{
	const char *p = text;
	unsigned n = 0;
	char *w = malloc(strlen(text) + 1);
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (;;) {
		p += strspn(p, " \t");
		if (!*p)
			break;
		char quote = 0, *o = w;
		while (*p) {
			if (*p == '\\') {
				if (!p[1]) {
					snprintf(err, errlen, "a '\\' ends the line");
					goto fail;
				}
				p++;
				*o++ = unescape(&p);
			} else if (quote) {
				if (*p == quote)
					quote = 0;
				else
					*o++ = *p;
				p++;
			} else if (*p == '"' || *p == '\'') {
				quote = *p++;
			} else if (is_blank(*p)) {
				break;
			} else {
				*o++ = *p++;
			}
		}
		if (quote) {
			snprintf(err, errlen, "missing terminating %c", quote);
			goto fail;
		}
		if (n == max) {
			snprintf(err, errlen, "more than %u words", max);
			goto fail;
		}
		*o = '\0';
		words[n] = strdup(w);
		if (!words[n]) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		n++;
	}
	free(w);
	return (int)n;
fail:
	while (n)
		free(words[--n]);
	free(w);
	return -1;
}
