/* A text that grows as it is written (ctl_text.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctl_text.h"

void xvs_text_put(struct xvs_text *t, const char *fmt, ...)
{
	while (!t->oom) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(t->p ? t->p + t->len : NULL, t->p ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->oom = true;
			return;
		}
		if (t->p && (size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = (t->cap ? t->cap : 256) * 2 + (size_t)n;
		char *p = realloc(t->p, cap);
		if (!p) {
			t->oom = true;
			return;
		}
		t->p = p;
		t->cap = cap;
	}
}
