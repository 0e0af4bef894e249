/*
 * The health engine of xvs-control: it runs every real server's checks (keepalived's
 * TCP_CHECK, HTTP_GET, SSL_GET, UDP_CHECK, DNS_CHECK, PING_CHECK and MISC_CHECK; see
 * docs/health-checks.md) in its own threads, outside the API's, so that a slow, hanging,
 * resetting or flooding target delays neither a request nor another check.
 *
 * Two threads: the check loop (epoll over every check's socket, libcurl's multi interface
 * for HTTP and HTTPS, pidfds for scripts, a timer heap; never blocks on one check) and the
 * applier, which hands verdicts to the daemon's callback in batches, in order; the callback
 * takes the model's lock and commits them (ctl_publish.c). The check loop never takes the
 * model's lock: what it runs comes from xvs_health_sync, called under that lock.
 * Lock order: the model's lock, then the engine's own.
 */
#ifndef XVS_CTL_HEALTH_H
#define XVS_CTL_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_check.h"
#include "ctl_model.h"
#include "ctl_overlay.h"

struct xvs_health;

/* Verdicts to commit, in the order they happened; called on the applier thread. Returns 0,
 * or a negative errno to have the same batch offered again a second later. */
typedef int (*xvs_health_apply_fn)(void *arg, const struct xvs_ctl_health_result *r,
				   unsigned nb);

/*
 * Start both threads (and libcurl; call before any other thread uses it). apply may be
 * NULL (then verdicts are only kept as status). Returns the engine, or NULL with a message.
 */
struct xvs_health *xvs_health_start(xvs_health_apply_fn apply, void *arg, char *msg,
				    size_t msglen);

/* Stop and join both threads, kill running check scripts (their process groups), free. */
void xvs_health_stop(struct xvs_health *h);

/*
 * Make the checks match m: real servers whose checks are new or changed (another hc_epoch)
 * start afresh from the verdict m holds; checks that are gone stop (their attempt in
 * flight is abandoned). Call under the model's lock after every change. 0 or -ENOMEM.
 */
int xvs_health_sync(struct xvs_health *h, const struct xvs_ctl_model *m);

/* The live state of one checker. */
struct xvs_health_check_status {
	enum xvs_check_type type;
	bool up;
	bool known;          /* a check has ended since it started */
	uint32_t nb_ok;      /* successful attempts in a row */
	uint32_t nb_fail;    /* failed checks in a row */
	uint32_t retries;    /* retries made in the check under way */
	int32_t dyn_weight;  /* misc_dynamic weight, -1 = none */
	int64_t last_ms;     /* realtime of the last attempt's end, 0 = none yet */
	char last[96];       /* what that attempt found */
};

struct xvs_health_status {
	unsigned nb_checks;
	struct xvs_health_check_status c[XVS_CHECK_MAX_PER_DEST];
};

/* The checks of destination slot under hc_epoch, false when the engine runs none (yet).
 * Any thread; h may be NULL. */
bool xvs_health_get_status(struct xvs_health *h, unsigned slot, uint32_t epoch,
			   struct xvs_health_status *st);

/*
 * Run the scripts of committed events without waiting for them: notify_up / notify_down
 * of DEST_UP / DEST_DOWN, quorum_up / quorum_down of QUORUM_*. Each runs as `/bin/sh -c
 * CMD` in its own process group with XVS_EVENT, XVS_SERVICE and XVS_REAL_SERVER in its
 * environment. Any thread; h may be NULL (nothing runs).
 */
void xvs_health_run_events(struct xvs_health *h, const struct xvs_ctl_hevents *ev);

/*
 * One attempt of check c against real server (af, addr, port), run to its end on the
 * calling thread with a private loop: ok, a text of what it found, and (MISC_CHECK) the
 * exit code. For tests and diagnostics. Returns 0, or a negative errno when it could not
 * run at all.
 */
int xvs_health_probe_once(const struct xvs_check_cfg *c, uint8_t af, const union xvs_ip *addr,
			  uint16_t port, uint32_t interval_ms, bool *ok, int *exit_code,
			  char *text, size_t textlen);

#endif
