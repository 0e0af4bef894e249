/* A text that grows as it is written, printf-style (the metrics page, BIRD's include file),
 * and a text file replaced atomically. */
#ifndef XVS_CTL_TEXT_H
#define XVS_CTL_TEXT_H

#include <stdbool.h>
#include <stddef.h>

struct xvs_text {
	char *p;    /* NUL-terminated once anything was written; the caller frees it */
	size_t len, cap;
	bool oom;   /* a write failed (memory): the text is incomplete, later writes do nothing */
};

/* Append printf(fmt, ...) to t. */
void xvs_text_put(struct xvs_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Write text to path atomically (path.tmp, fsync, rename), mode 0644. 0 or a negative errno
 * with a message. */
int xvs_text_write_file(const char *path, const char *text, char *msg, size_t msglen);

#endif
