/*
 * Turning the configuration model into a table generation and publishing it to the
 * dataplane through the shared region (the protocol is described at the top of xvs/shm.h).
 */
#ifndef XVS_CTL_PUBLISH_H
#define XVS_CTL_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_health.h"
#include "ctl_model.h"
#include "ctl_overlay.h"
#include "xvs/shm.h"
#include "xvs/table.h"

struct xvs_bgp;

enum xvs_pub_result { XVS_PUB_ADOPTED, XVS_PUB_ABSENT, XVS_PUB_REFUSED, XVS_PUB_TIMEOUT };

/* How long control waits for the dataplane to adopt or refuse a generation. */
#define XVS_CTL_PUBLISH_TIMEOUT_MS 2000u

/*
 * Fill g (heap-allocated by the caller: it is large) from the model: services and
 * destinations at their slots, each service's list of live destinations in IPVS's order
 * (newest first), scheduler data and tables, timeouts, the VIP hash; then check it the way
 * the dataplane will. g->gen
 * is set to m->last_gen, the floor for the next generation number. Control only.
 * Returns 0 or a negative errno with a message in msg.
 */
int xvs_ctl_build_gen(const struct xvs_ctl_model *m, struct xvs_gen *g, char *msg, size_t msglen);

/*
 * Seal g with the next generation number, write it into the free slot and publish it; wait up
 * to timeout_ms for the dataplane. Control only, single writer. Returns an enum xvs_pub_result
 * or a negative errno; msg gets a human-readable status.
 *
 * The next number is one above the largest of g->gen on entry (callers pass the last number
 * they persisted, or 0) and every generation number found in the region; g->gen holds it on
 * return.
 */
int xvs_ctl_publish(struct xvs_shm *shm, struct xvs_gen *g, unsigned timeout_ms, char *msg,
		    size_t msglen);

/* "adopted", "absent", "refused", "timeout" (the API's words), or "error". */
const char *xvs_ctl_pub_result_name(int result);

/*
 * The daemon's state around the model: the shared region it publishes into, the state file
 * it saves to, and what it last published. Control only; the caller serializes every call
 * (the API thread and the housekeeping tick share one mutex).
 */
struct xvs_ctl {
	struct xvs_ctl_model *model;
	struct xvs_shm *shm;
	const char *shm_path;
	const char *state_path;
	struct xvs_gen *gen;   /* scratch for building, heap */
	struct xvs_ctl_rates *rates;
	uint64_t last_word;    /* published word of our last publication */
	uint64_t dp_pid;       /* dataplane last seen attached */
	uint64_t dp_since_ns;  /* when it was first seen */
	bool dp_checked;       /* its adoption of our generation was checked */
	unsigned timeout_ms;
	struct xvs_health *health;    /* the health engine, NULL when none runs (set after
				       * xvs_ctl_init) */
	struct xvs_bgp *bgp;          /* VIP announcement (ctl_bgp.h), NULL without
				       * --bird-include; set after xvs_ctl_init */
	struct xvs_ctl_hevents events; /* scratch: health events of the commit under way */
};

/* Outcome of a commit: an enum xvs_pub_result, the generation, a message for the client. */
struct xvs_ctl_result {
	int pub;
	uint64_t gen;
	char msg[384];
};

/*
 * Load the state file (a missing file is an empty configuration), then publish it. shm is
 * mapped by the caller; shm_path is used to notice that the region file was recreated;
 * params are the scheduler options (NULL: the defaults), already checked
 * (xvs_sched_params_check). Returns 0 or a negative errno with a message.
 */
int xvs_ctl_init(struct xvs_ctl *c, struct xvs_shm *shm, const char *shm_path,
		 const char *state_path, const struct xvs_sched_params *params, char *msg,
		 size_t msglen);
void xvs_ctl_fini(struct xvs_ctl *c);

/*
 * Apply ops as one transaction, refresh the IPVS view (ctl_overlay.h), publish the result
 * and save it; then log the health events it caused, run their scripts and bring the
 * health engine's checks up to date. Nothing changes on error: returns a negative errno
 * with err filled (index -1 when no single op is at fault).
 */
int xvs_ctl_commit(struct xvs_ctl *c, const struct xvs_ctl_op *ops, unsigned nb,
		   struct xvs_ctl_err *err, struct xvs_ctl_result *res);

/*
 * Commit the health engine's verdicts (in order) the same way: a new generation when the
 * IPVS view changed, the state file saved, every change logged, notify and quorum scripts
 * started. Verdicts on checks replaced meanwhile are ignored. Returns 0 or a negative errno
 * (nothing changed; logged). Under the daemon's lock, like xvs_ctl_commit.
 */
int xvs_ctl_health_commit(struct xvs_ctl *c, const struct xvs_ctl_health_result *r, unsigned nb);

/*
 * Housekeeping, about once a second: follow a recreated region file, republish when the
 * region lost our generation or a newly attached dataplane did not adopt it, forget counter
 * baselines of a dataplane that went away, purge the trash, feed the rate estimators.
 */
void xvs_ctl_tick(struct xvs_ctl *c, uint64_t now_ns);

#endif
