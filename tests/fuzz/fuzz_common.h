/*
 * What the fuzz targets of tests/fuzz share (docs/fuzzing.md): configurations written as
 * xvsadm rule lines and taken through the same layers as `xvsadm -R` and xvs-control
 * (xvsadm's parser, its JSON op, the API's op parser, the model), a hard failure that
 * libFuzzer records as a finding, and hermetic name lookups and file globs.
 */
#ifndef XVS_FUZZ_COMMON_H
#define XVS_FUZZ_COMMON_H

#include <jansson.h>
#include <stddef.h>

#include "ctl_model.h"
#include "xvsadm_parse.h"

/* Print "fuzz: <what>" and abort(): libFuzzer saves the input as a crash. */
void fuzz_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * One -R line as xvsadm's restore reads it: split, parse, the support check, and for a
 * change command its API op (*op, a new reference; NULL for a blank line). Returns 0, or
 * a negative errno with err->msg set (a line xvsadm would refuse). A line that parses but
 * gets no op aborts: xvsadm would fail it for no reason the user can fix.
 */
int fuzz_xvsadm_line_op(const char *line, json_t **op, struct xvs_xvsadm_err *err);

/*
 * Apply rule lines (NULL-terminated) to m, through xvsadm's op and the API's parser. On
 * failure m is left half changed (xvs_ctl_model_apply_ops): give it a model to throw away.
 * Returns 0 or a negative errno with a message in msg.
 */
int fuzz_rules_apply(struct xvs_ctl_model *m, const char *const *rules, char *msg, size_t len);

/* A new model with rules applied; aborts when they fail (for a target's fixed set-up). */
struct xvs_ctl_model *fuzz_model_new(const char *const *rules);

/*
 * Scratch model i (0..FUZZ_SCRATCH-1) of this process made a copy of `from`, or empty (as
 * xvs_ctl_model_new makes one) when from is NULL. A model is over a megabyte: inputs reuse
 * these instead of allocating (and faulting in) new ones. Never freed.
 */
#define FUZZ_SCRATCH 3
struct xvs_ctl_model *fuzz_model_scratch(unsigned i, const struct xvs_ctl_model *from);

/*
 * m's `xvsadm -S -n` listing, read back line by line as `xvsadm -R` reads it into a fresh
 * model with m's timeouts, gives the same services and real servers: -S is a faithful save.
 * Compared in no particular order, without what -S does not save (as ipvsadm's: thresholds,
 * the netmask of a service that is not persistent, and the port of a direct-routing or
 * tunnel server, which -R takes from the service).
 * Aborts when it does not hold. Uses the last scratch model.
 */
void fuzz_check_save_restore(const struct xvs_ctl_model *m);

/*
 * A directory of this process's own, /dev/shm/xvs-fuzz-<what>-<pid>-XXXXXX (or in /tmp),
 * emptied and removed at exit. Those of processes that are gone (a crash skips the exit)
 * are removed first. Returns its path; aborts when it cannot be made.
 */
const char *fuzz_tmpdir(const char *what);

/*
 * Name lookups and globs never leave the process: fuzz_common.c defines getaddrinfo
 * (numeric addresses and "localhost" only: no DNS), getnameinfo (numbers only) and glob
 * (with a sandbox directory set, patterns that could reach outside it match nothing, and
 * so do matches that resolve outside it). NULL: globs are not restricted.
 */
void fuzz_sandbox_set(const char *dir);

#endif
