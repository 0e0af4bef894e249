/*
 * The text layer of keepalived's configuration language: files and includes, comments,
 * `$NAME=value` definitions and their expansion, `@id` / `@^id` conditional lines, quoting,
 * and braces split into statements of their own. What it returns is a stream of statements
 * for ctl_kaconf.c to interpret. Control only.
 */
#ifndef XVS_CTL_KACONF_READ_H
#define XVS_CTL_KACONF_READ_H

#include <stddef.h>

#define XVS_KACONF_MAX_TOKENS 64

/* One statement: a keyword line, or a lone "{" or "}". Valid until the next call. */
struct xvs_kaconf_stmt {
	unsigned nb_tok;
	char *tok[XVS_KACONF_MAX_TOKENS]; /* words; a "quoted string" is one word, quotes removed */
	const char *text; /* the whole statement, for keywords that re-read it (scripts) */
	const char *file; /* valid until the reader is closed */
	unsigned line;
};

struct xvs_kaconf_reader;

/* Open path (a glob pattern, like an include) with config_id for the `@` lines. Returns the
 * reader, or NULL with a message in err. */
struct xvs_kaconf_reader *xvs_kaconf_reader_open(const char *path, const char *config_id,
						 char *err, size_t errlen);

/* The next statement: 1, 0 at the end of the input, -1 with "FILE:LINE: message" in err. */
int xvs_kaconf_reader_next(struct xvs_kaconf_reader *r, struct xvs_kaconf_stmt *s, char *err,
			   size_t errlen);

void xvs_kaconf_reader_close(struct xvs_kaconf_reader *r);

/*
 * Split text into words as keepalived does for scripts: "..." and '...' quote, backslash
 * escapes (\n, \t, \xHH, \ooo, ...). Returns the number of words (at most max, each
 * malloc'd into words[]) or -1 with a message in err (unterminated quote, too many).
 */
int xvs_kaconf_split_escaped(const char *text, char **words, unsigned max, char *err,
			     size_t errlen);

#endif
