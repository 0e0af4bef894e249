/*
 * The checker state machine of the health engine: one checker's verdict from its attempts
 * (retries with delay_before_retry, rise and fall, alpha, when the next attempt is due) and
 * a real server's state from its checkers. Pure: no I/O, the clock is the caller's (now_ns
 * on every call), so tests drive it with a fake one. Health loop thread only.
 *
 * keepalived's rules (check_tcp.c, check_misc.c, ipwrapper.c), with rise and fall added:
 *  - A check is one attempt plus up to `retry` more, delay_before_retry apart, made only
 *    while the checker is up; it fails when its last attempt fails. The next check starts
 *    `interval` after the previous one ended (keepalived's delay_loop timer).
 *  - Up, `fall` failed checks in a row take it down; down, `rise` successful attempts in a
 *    row bring it up (a down checker does not retry). keepalived has rise = fall = 1.
 *  - Before its first result a checker is up (or down with alpha). Without alpha the first
 *    failed attempt takes it down at once, as keepalived's "one failure is enough
 *    initially"; with alpha the first failure only announces the down state.
 *  - A real server is alive when all its checkers are up.
 */
#ifndef XVS_CTL_HSM_H
#define XVS_CTL_HSM_H

#include <stdbool.h>
#include <stdint.h>

struct xvs_hsm_cfg {
	uint32_t interval_ms;           /* delay_loop */
	uint32_t retry;
	uint32_t delay_before_retry_ms;
	uint32_t rise;                  /* >= 1 */
	uint32_t fall;                  /* >= 1 */
};

enum xvs_hsm_event {
	XVS_HSM_NONE,
	XVS_HSM_UP,         /* the checker came up */
	XVS_HSM_DOWN,       /* the checker went down */
	XVS_HSM_ANNOUNCE,   /* alpha: the first check failed, the checker stays down (notify) */
};

struct xvs_hsm {
	bool up;            /* the checker's verdict */
	bool has_run;       /* a check has ended since start-up */
	bool announce;      /* alpha start: a first failure is announced */
	uint32_t retry_it;  /* attempts repeated so far in the current check */
	uint32_t nb_ok;     /* successful attempts in a row */
	uint32_t nb_fail;   /* failed checks in a row (each after its retries) */
	uint64_t next_ns;   /* when the next attempt is due */
};

/*
 * Start a checker at now_ns: up (or down), no result yet; the first attempt is due after
 * first_delay_ns (warmup). announce: a first failure of a down checker is announced (a
 * fresh alpha start, not a restart of xvs-control).
 */
void xvs_hsm_start(struct xvs_hsm *s, bool up, bool announce, uint64_t now_ns,
		   uint64_t first_delay_ns);

/* The attempt that ended at now_ns succeeded (ok) or failed: the new verdict's event, with
 * s->next_ns set for the next attempt. */
enum xvs_hsm_event xvs_hsm_result(struct xvs_hsm *s, const struct xvs_hsm_cfg *c, bool ok,
				  uint64_t now_ns);

/* Whether the last xvs_hsm_result was a failure that will be retried (for messages). */
bool xvs_hsm_retrying(const struct xvs_hsm *s);

/*
 * A real server's state from its nb checkers: alive when all are up (no checker: alive).
 * weight: the smallest dynamic weight (MISC_CHECK misc_dynamic, >= 0) among them, -1 when
 * none has one, which means "the configured weight".
 */
bool xvs_hsm_dest_alive(const struct xvs_hsm *const *checks, unsigned nb);
int32_t xvs_hsm_dest_weight(const int32_t *dyn_weights, unsigned nb);

#endif
