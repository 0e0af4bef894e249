/*
 * Unit tests of the health checks' logic: the checker state machine with a fake clock
 * (retries, delay_before_retry, rise, fall, alpha, interval scheduling), a real server's
 * state from its checkers, and the health overlay on the model (removal, inhibit, dynamic
 * weights, quorum with hysteresis, the sorry server) as the generation shows it, the
 * health ops and their errors, the state file, the loader's replace interface.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_health_cfg.h"
#include "ctl_hsm.h"
#include "ctl_json.h"
#include "ctl_model.h"
#include "ctl_overlay.h"
#include "ctl_persist.h"
#include "ctl_publish.h"
#include "xvs/gen.h"

#define MS 1000000ULL

/* ---- the state machine --------------------------------------------------------------- */

/* One attempt: its result, when it ends (fake clock, ms), what must follow. */
struct step {
	bool ok;
	uint64_t at_ms;
	enum xvs_hsm_event ev;
	bool up;
	uint64_t next_ms;  /* when the next attempt is due */
};

static void run_steps(const char *name, const struct xvs_hsm_cfg *c, bool up, bool announce,
		      const struct step *s, unsigned nb)
{
	struct xvs_hsm sm;
	xvs_hsm_start(&sm, up, announce, 0, 0);
	cr_assert_eq(sm.next_ns, 0, "%s: the first attempt is due at once", name);
	for (unsigned i = 0; i < nb; i++) {
		enum xvs_hsm_event ev = xvs_hsm_result(&sm, c, s[i].ok, s[i].at_ms * MS);
		cr_expect_eq(ev, s[i].ev, "%s step %u: event %d, want %d", name, i, ev, s[i].ev);
		cr_expect_eq(sm.up, s[i].up, "%s step %u: up %d", name, i, sm.up);
		cr_expect_eq(sm.next_ns, s[i].next_ms * MS, "%s step %u: next at %llu ms, want %llu",
			     name, i, (unsigned long long)(sm.next_ns / MS),
			     (unsigned long long)s[i].next_ms);
	}
}

#define NB(a) (sizeof(a) / sizeof((a)[0]))

/* interval 1000 ms, retry 2, delay_before_retry 100 ms, rise 1, fall 1 */
static const struct xvs_hsm_cfg base = {1000, 2, 100, 1, 1};

Test(hsm, success_keeps_up_and_waits_an_interval)
{
	const struct step s[] = {
		{true, 10, XVS_HSM_NONE, true, 1010},
		{true, 1020, XVS_HSM_NONE, true, 2020},
	};
	run_steps("up", &base, true, false, s, NB(s));
}

Test(hsm, first_failure_is_enough_without_alpha)
{
	/* keepalived: retry_it = retry at start-up, so no retries before the first verdict */
	const struct step s[] = {
		{false, 5, XVS_HSM_DOWN, false, 1005},
		{false, 1010, XVS_HSM_NONE, false, 2010}, /* down: no retries, interval spacing */
		{true, 2020, XVS_HSM_UP, true, 3020},
	};
	run_steps("first failure", &base, true, false, s, NB(s));
}

Test(hsm, retries_spaced_by_delay_before_retry)
{
	const struct step s[] = {
		{true, 0, XVS_HSM_NONE, true, 1000},
		{false, 1000, XVS_HSM_NONE, true, 1100},  /* retry 1 */
		{false, 1100, XVS_HSM_NONE, true, 1200},  /* retry 2 */
		{false, 1200, XVS_HSM_DOWN, false, 2200}, /* retries spent: down */
		{false, 2200, XVS_HSM_NONE, false, 3200},
	};
	run_steps("retries", &base, true, false, s, NB(s));
}

Test(hsm, a_retry_that_succeeds_ends_the_check)
{
	struct xvs_hsm sm;
	const struct step s[] = {
		{true, 0, XVS_HSM_NONE, true, 1000},
		{false, 1000, XVS_HSM_NONE, true, 1100},
		{true, 1100, XVS_HSM_NONE, true, 2100},
		{false, 2100, XVS_HSM_NONE, true, 2200}, /* a new check: retries from 0 again */
		{false, 2200, XVS_HSM_NONE, true, 2300},
		{true, 2300, XVS_HSM_NONE, true, 3300},
	};
	run_steps("retry ok", &base, true, false, s, NB(s));
	xvs_hsm_start(&sm, true, false, 0, 0);
	xvs_hsm_result(&sm, &base, true, 0);
	xvs_hsm_result(&sm, &base, false, 1);
	cr_expect(xvs_hsm_retrying(&sm));
	cr_expect_eq(sm.retry_it, 1);
}

Test(hsm, fall_counts_failed_checks)
{
	const struct xvs_hsm_cfg c = {500, 1, 50, 1, 2};
	const struct step s[] = {
		{true, 0, XVS_HSM_NONE, true, 500},
		{false, 500, XVS_HSM_NONE, true, 550},
		{false, 550, XVS_HSM_NONE, true, 1050}, /* first failed check: fall 1 of 2 */
		{false, 1050, XVS_HSM_NONE, true, 1100},
		{false, 1100, XVS_HSM_DOWN, false, 1600},
	};
	run_steps("fall 2", &c, true, false, s, NB(s));
}

Test(hsm, a_success_resets_fall)
{
	const struct xvs_hsm_cfg c = {500, 0, 50, 1, 2};
	const struct step s[] = {
		{true, 0, XVS_HSM_NONE, true, 500},
		{false, 500, XVS_HSM_NONE, true, 1000},
		{true, 1000, XVS_HSM_NONE, true, 1500},
		{false, 1500, XVS_HSM_NONE, true, 2000}, /* one failed check again, not two */
		{false, 2000, XVS_HSM_DOWN, false, 2500},
	};
	run_steps("fall reset", &c, true, false, s, NB(s));
}

Test(hsm, rise_needs_consecutive_successes)
{
	const struct xvs_hsm_cfg c = {200, 3, 50, 3, 1};
	const struct step s[] = {
		{false, 0, XVS_HSM_DOWN, false, 200},
		{true, 200, XVS_HSM_NONE, false, 400},
		{true, 400, XVS_HSM_NONE, false, 600},
		{false, 600, XVS_HSM_NONE, false, 800}, /* down: a failure restarts the count */
		{true, 800, XVS_HSM_NONE, false, 1000},
		{true, 1000, XVS_HSM_NONE, false, 1200},
		{true, 1200, XVS_HSM_UP, true, 1400},
	};
	run_steps("rise 3", &c, true, false, s, NB(s));
}

Test(hsm, alpha_starts_down_and_announces_the_first_failure)
{
	const struct step s[] = {
		{false, 0, XVS_HSM_ANNOUNCE, false, 1000},
		{false, 1000, XVS_HSM_NONE, false, 2000},
		{true, 2000, XVS_HSM_UP, true, 3000},
	};
	run_steps("alpha", &base, false, true, s, NB(s));
	const struct step quiet[] = {
		{false, 0, XVS_HSM_NONE, false, 1000},
	};
	run_steps("alpha restored", &base, false, false, quiet, NB(quiet));
	const struct step ok[] = {
		{true, 0, XVS_HSM_UP, true, 1000},
	};
	run_steps("alpha success", &base, false, true, ok, NB(ok));
}

Test(hsm, warmup_delays_the_first_attempt)
{
	struct xvs_hsm sm;
	xvs_hsm_start(&sm, true, false, 5000 * MS, 250 * MS);
	cr_expect_eq(sm.next_ns, 5250 * MS);
	cr_expect(sm.up);
	cr_expect(!sm.has_run);
}

Test(hsm, dest_state_from_checkers)
{
	struct xvs_hsm a = {.up = true}, b = {.up = true}, c = {.up = false};
	const struct xvs_hsm *all_up[] = {&a, &b}, *one_down[] = {&a, &c, &b};
	cr_expect(xvs_hsm_dest_alive(all_up, 2));
	cr_expect(!xvs_hsm_dest_alive(one_down, 3));
	cr_expect(xvs_hsm_dest_alive(NULL, 0), "no checker: alive");
	const int32_t none[] = {-1, -1}, some[] = {-1, 7, 3};
	cr_expect_eq(xvs_hsm_dest_weight(none, 2), -1);
	cr_expect_eq(xvs_hsm_dest_weight(some, 3), 3);
}

/* ---- the overlay --------------------------------------------------------------------- */

#define SVC "\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.100\",\"port\":80}"
#define DEST(a) "\"dest\":{\"addr\":\"" a "\",\"port\":80}"
#define TCPCHK "{\"interval_ms\":200,\"checks\":[{\"type\":\"TCP_CHECK\"}]"

static struct xvs_ctl_hevents events;

/* Apply an op list (the API's JSON) as the daemon's commit does: events into `events`. */
static int run(struct xvs_ctl_model *m, const char *json, struct xvs_ctl_err *err)
{
	struct xvs_ctl_op *ops;
	unsigned nb;
	int rc = xvs_ctl_json_parse_ops(json, strlen(json), &ops, &nb, err);
	if (rc)
		return rc;
	m->sink = &events;
	rc = xvs_ctl_model_apply(m, ops, nb, err);
	m->sink = NULL;
	xvs_ctl_ops_free(ops, nb);
	return rc;
}

static void run_ok(struct xvs_ctl_model *m, const char *json)
{
	struct xvs_ctl_err err;
	int rc = run(m, json, &err);
	cr_assert_eq(rc, 0, "%s: %s", json, err.msg);
}

static int dest_slot(const struct xvs_ctl_model *m, const char *addr)
{
	struct xvs_ctl_dest_cfg k;
	xvs_ctl_dest_cfg_default(&k);
	inet_pton(AF_INET, addr, &k.addr.v4);
	k.port = 80;
	return xvs_ctl_model_find_dest(m, 0, &k);
}

/* The health engine's verdict on a real server, applied as the applier's commit does. */
static void verdict(struct xvs_ctl_model *m, const char *addr, bool alive, int32_t weight)
{
	int slot = dest_slot(m, addr);
	cr_assert_geq(slot, 0);
	struct xvs_ctl_op op;
	struct xvs_ctl_err err;
	xvs_ctl_op_init(&op, XVS_CTL_OP_HEALTH_RESULT);
	op.result = (struct xvs_ctl_health_result){.slot = (uint16_t)slot,
						   .epoch = m->dests[slot].hc_epoch, .alive = alive,
						   .weight = weight, .when_ms = 1};
	snprintf(op.result.why, sizeof(op.result.why), "test");
	m->sink = &events;
	cr_assert_eq(xvs_ctl_model_apply(m, &op, 1, &err), 0, "%s", err.msg);
	m->sink = NULL;
}

/* The service's list in the generation, IPVS's order, as "addr:weight" words. */
static void gen_list(const struct xvs_ctl_model *m, char *out, size_t len)
{
	struct xvs_gen *g = malloc(sizeof(*g));
	char msg[256] = "", a[INET_ADDRSTRLEN];
	cr_assert_not_null(g);
	cr_assert_eq(xvs_ctl_build_gen(m, g, msg, sizeof(msg)), 0, "%s", msg);
	out[0] = '\0';
	const struct xvs_svc *s = &g->svcs[0];
	for (unsigned i = 0; i < s->nb_dests; i++) {
		const struct xvs_dest *d = &g->dests[g->svc_dests[s->dest_first + i]];
		cr_expect_eq(d->state, XVS_SLOT_USED);
		inet_ntop(AF_INET, &d->addr.v4, a, sizeof(a));
		snprintf(out + strlen(out), len - strlen(out), "%s%s:%d", i ? " " : "", a, d->weight);
	}
	free(g);
}

/* The state of a destination slot in the generation. */
static int gen_state(const struct xvs_ctl_model *m, int slot)
{
	struct xvs_gen *g = malloc(sizeof(*g));
	char msg[256] = "";
	cr_assert_not_null(g);
	cr_assert_eq(xvs_ctl_build_gen(m, g, msg, sizeof(msg)), 0, "%s", msg);
	int st = g->dests[slot].state;
	free(g);
	return st;
}

/* How many events of type t are queued; with clear, forget them all afterwards. */
static unsigned count_events(enum xvs_ctl_hev_type t)
{
	unsigned n = 0;
	for (unsigned i = 0; i < events.nb; i++)
		n += events.v[i].type == t;
	return n;
}

/* rr service 198.18.0.100:80 with .1 .2 .3 added in that order (IPVS list .3 .2 .1). */
static struct xvs_ctl_model *three(void)
{
	struct xvs_ctl_model *m = xvs_ctl_model_new(NULL);
	cr_assert_not_null(m);
	run_ok(m, "{\"ops\":[{\"op\":\"add-service\",\"service\":{\"proto\":\"tcp\","
		  "\"addr\":\"198.18.0.100\",\"port\":80,\"sched\":\"rr\"}},"
		  "{\"op\":\"add-dest\"," SVC "," DEST("10.0.0.1") "},"
		  "{\"op\":\"add-dest\"," SVC "," DEST("10.0.0.2") "},"
		  "{\"op\":\"add-dest\"," SVC "," DEST("10.0.0.3") "}]}");
	xvs_ctl_hevents_clear(&events);
	return m;
}

static void fini(void)
{
	xvs_ctl_hevents_free(&events);
}

TestSuite(overlay, .fini = fini);

Test(overlay, down_server_leaves_ipvs_and_comes_back_at_the_head)
{
	struct xvs_ctl_model *m = three();
	char list[256];
	run_ok(m, "{\"ops\":[{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.2") ",\"health\":" TCPCHK "}}]}");
	gen_list(m, list, sizeof(list));
	cr_expect_str_eq(list, "10.0.0.3:1 10.0.0.2:1 10.0.0.1:1", "checks start from up");
	uint32_t epoch = m->svcs[0].sched_epoch;

	verdict(m, "10.0.0.2", false, -1);
	gen_list(m, list, sizeof(list));
	cr_expect_str_eq(list, "10.0.0.3:1 10.0.0.1:1");
	cr_expect_eq(gen_state(m, dest_slot(m, "10.0.0.2")), XVS_SLOT_TRASH,
		     "a removed server is a deleted one in the generation");
	cr_expect_eq(m->dests[dest_slot(m, "10.0.0.2")].state, XVS_SLOT_USED, "still configured");
	cr_expect_neq(m->svcs[0].sched_epoch, epoch, "the scheduler sees the change");
	cr_expect_eq(count_events(XVS_CTL_HEV_DEST_DOWN), 1);
	cr_expect_eq(count_events(XVS_CTL_HEV_VIEW), 1);

	verdict(m, "10.0.0.2", true, -1);
	gen_list(m, list, sizeof(list));
	cr_expect_str_eq(list, "10.0.0.2:1 10.0.0.3:1 10.0.0.1:1", "re-added at the head, as IPVS does");
	cr_expect_eq(count_events(XVS_CTL_HEV_DEST_UP), 1);
	xvs_ctl_model_free(m);
}

Test(overlay, inhibit_on_failure_keeps_it_at_weight_zero)
{
	struct xvs_ctl_model *m = three();
	char list[256];
	run_ok(m, "{\"ops\":[{\"op\":\"edit-dest\"," SVC ",\"dest\":{\"addr\":\"10.0.0.1\",\"port\":80,"
		  "\"weight\":5}},{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.1") ",\"health\":"
		  "{\"inhibit_on_failure\":true,\"checks\":[{\"type\":\"TCP_CHECK\"}]}}]}");
	verdict(m, "10.0.0.1", false, -1);
	gen_list(m, list, sizeof(list));
	cr_expect_str_eq(list, "10.0.0.3:1 10.0.0.2:1 10.0.0.1:0");
	int d = dest_slot(m, "10.0.0.1");
	cr_expect_eq(m->dests[d].cfg.weight, 5, "the configured weight stays");
	cr_expect_eq(m->dests[d].last_weight, 5, "IPVS keeps the last weight > 0");
	verdict(m, "10.0.0.1", true, -1);
	gen_list(m, list, sizeof(list));
	cr_expect_str_eq(list, "10.0.0.3:1 10.0.0.2:1 10.0.0.1:5", "an edit: no move");
	xvs_ctl_model_free(m);
}

Test(overlay, alpha_starts_out_and_dynamic_weight_applies)
{
	struct xvs_ctl_model *m = three();
	char list[256];
	run_ok(m, "{\"ops\":[{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.3") ",\"health\":"
		  "{\"alpha\":true,\"checks\":[{\"type\":\"MISC_CHECK\",\"script\":\"exit 5\","
		  "\"misc_dynamic\":true}]}}]}");
	gen_list(m, list, sizeof(list));
	cr_expect_str_eq(list, "10.0.0.2:1 10.0.0.1:1", "alpha: out until a check passes");
	verdict(m, "10.0.0.3", true, 3);
	gen_list(m, list, sizeof(list));
	cr_expect_str_eq(list, "10.0.0.3:3 10.0.0.2:1 10.0.0.1:1");
	verdict(m, "10.0.0.3", true, 0);
	gen_list(m, list, sizeof(list));
	cr_expect_str_eq(list, "10.0.0.3:0 10.0.0.2:1 10.0.0.1:1", "exit 2: weight 0");
	cr_expect_eq(m->dests[dest_slot(m, "10.0.0.3")].last_weight, 3);
	verdict(m, "10.0.0.3", true, -1);
	gen_list(m, list, sizeof(list));
	cr_expect_str_eq(list, "10.0.0.3:1 10.0.0.2:1 10.0.0.1:1", "exit 0: the configured weight");
	xvs_ctl_model_free(m);
}

Test(overlay, stale_verdicts_are_ignored)
{
	struct xvs_ctl_model *m = three();
	char list[256];
	run_ok(m, "{\"ops\":[{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.1") ",\"health\":" TCPCHK "}}]}");
	int d = dest_slot(m, "10.0.0.1");
	uint32_t old = m->dests[d].hc_epoch;
	run_ok(m, "{\"ops\":[{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.1") ",\"health\":"
		  "{\"interval_ms\":300,\"checks\":[{\"type\":\"TCP_CHECK\"}]}}]}");
	cr_expect_neq(m->dests[d].hc_epoch, old, "new settings, new epoch");
	uint32_t now = m->dests[d].hc_epoch;
	run_ok(m, "{\"ops\":[{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.1") ",\"health\":"
		  "{\"interval_ms\":300,\"checks\":[{\"type\":\"TCP_CHECK\"}]}}]}");
	cr_expect_eq(m->dests[d].hc_epoch, now, "the same settings keep the checks' state");
	struct xvs_ctl_op op;
	struct xvs_ctl_err err;
	xvs_ctl_op_init(&op, XVS_CTL_OP_HEALTH_RESULT);
	op.result = (struct xvs_ctl_health_result){.slot = (uint16_t)d, .epoch = old, .alive = false,
						   .weight = -1};
	cr_assert_eq(xvs_ctl_model_apply(m, &op, 1, &err), 0);
	gen_list(m, list, sizeof(list));
	cr_expect_str_eq(list, "10.0.0.3:1 10.0.0.2:1 10.0.0.1:1");
	xvs_ctl_model_free(m);
}

#define SORRY_HEALTH(q, h) "{\"op\":\"set-service-health\"," SVC ",\"health\":{\"quorum\":" #q \
	",\"hysteresis\":" #h ",\"quorum_up\":\"echo up\",\"quorum_down\":\"echo down\"," \
	"\"sorry_server\":{\"addr\":\"10.0.9.9\",\"port\":8080,\"fwd\":\"masq\"}}}"

static void check_all(struct xvs_ctl_model *m)
{
	run_ok(m, "{\"ops\":[{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.1") ",\"health\":" TCPCHK "}},"
		  "{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.2") ",\"health\":" TCPCHK "}},"
		  "{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.3") ",\"health\":"
		  "{\"inhibit_on_failure\":true,\"checks\":[{\"type\":\"TCP_CHECK\"}]}}]}");
}

Test(overlay, quorum_lost_brings_in_the_sorry_server)
{
	struct xvs_ctl_model *m = three();
	char list[256];
	check_all(m);
	run_ok(m, "{\"ops\":[" SORRY_HEALTH(2, 0) "]}");
	cr_expect(m->svcs[0].quorum_up);
	xvs_ctl_hevents_clear(&events);
	verdict(m, "10.0.0.1", false, -1);
	cr_expect(m->svcs[0].quorum_up, "2 of weight 2 still live");
	verdict(m, "10.0.0.2", false, -1);
	cr_expect(!m->svcs[0].quorum_up);
	cr_expect_eq(count_events(XVS_CTL_HEV_QUORUM_DOWN), 1);
	cr_expect_eq(count_events(XVS_CTL_HEV_SORRY), 1);
	gen_list(m, list, sizeof(list));
	/* the live inhibited .3 goes to weight 0, the sorry server comes in at the head */
	cr_expect_str_eq(list, "10.0.9.9:1 10.0.0.3:0");
	struct xvs_ctl_dest_cfg sk;
	xvs_ctl_dest_cfg_default(&sk);
	inet_pton(AF_INET, "10.0.9.9", &sk.addr.v4);
	sk.port = 8080;
	cr_expect_eq(xvs_ctl_model_find_dest(m, 0, &sk), -1, "a sorry server is not configured");
	int sorry = -1;
	for (unsigned i = 0; i < m->nb_dest_order; i++)
		if (m->dests[m->dest_order[i]].role == XVS_CTL_DEST_SORRY)
			sorry = m->dest_order[i];
	cr_assert_geq(sorry, 0);
	cr_expect_eq(m->dests[sorry].cfg.fwd, XVS_FWD_MASQ);

	xvs_ctl_hevents_clear(&events);
	verdict(m, "10.0.0.1", true, -1);
	cr_expect(m->svcs[0].quorum_up, "hysteresis 0: back at 2");
	cr_expect_eq(count_events(XVS_CTL_HEV_QUORUM_UP), 1);
	gen_list(m, list, sizeof(list));
	cr_expect_str_eq(list, "10.0.0.1:1 10.0.0.3:1");
	cr_expect_eq(m->dests[sorry].state, XVS_SLOT_TRASH, "removed like a deleted server");
	verdict(m, "10.0.0.2", false, -1);
	verdict(m, "10.0.0.1", false, -1);
	cr_expect_eq(m->dests[sorry].state, XVS_SLOT_USED, "revived from the trash, same slot");
	xvs_ctl_model_free(m);
}

Test(overlay, quorum_hysteresis)
{
	struct xvs_ctl_model *m = three();
	check_all(m);
	run_ok(m, "{\"ops\":[{\"op\":\"edit-dest\"," SVC ",\"dest\":{\"addr\":\"10.0.0.1\",\"port\":80,"
		  "\"weight\":3}}," SORRY_HEALTH(4, 1) "]}");
	/* weights 3+1+1 = 5 >= 4+1: up; lost below 4-1 = 3, regained at 5 */
	cr_expect(m->svcs[0].quorum_up);
	verdict(m, "10.0.0.2", false, -1);
	cr_expect(m->svcs[0].quorum_up, "4 is not below 3");
	verdict(m, "10.0.0.3", false, -1);
	cr_expect(m->svcs[0].quorum_up, "3 is not below 3");
	verdict(m, "10.0.0.1", false, -1);
	cr_expect(!m->svcs[0].quorum_up);
	verdict(m, "10.0.0.1", true, -1);
	verdict(m, "10.0.0.2", true, -1);
	cr_expect(!m->svcs[0].quorum_up, "4 is not 5 yet");
	verdict(m, "10.0.0.3", true, -1);
	cr_expect(m->svcs[0].quorum_up);
	cr_expect_eq(m->svcs[0].alive_weight, 5);
	xvs_ctl_model_free(m);
}

Test(overlay, starting_without_quorum_runs_quorum_down)
{
	struct xvs_ctl_model *m = three();
	char list[256];
	run_ok(m, "{\"ops\":[{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.1") ",\"health\":"
		  "{\"alpha\":true,\"checks\":[{\"type\":\"TCP_CHECK\"}]}}," SORRY_HEALTH(10, 0) "]}");
	cr_expect(!m->svcs[0].quorum_up);
	cr_expect_eq(count_events(XVS_CTL_HEV_QUORUM_DOWN), 1);
	gen_list(m, list, sizeof(list));
	cr_expect_str_eq(list, "10.0.9.9:1");
	run_ok(m, "{\"ops\":[{\"op\":\"clear-service-health\"," SVC "}]}");
	gen_list(m, list, sizeof(list));
	cr_expect_str_eq(list, "10.0.0.3:1 10.0.0.2:1", "no sorry server, alpha .1 still out");
	xvs_ctl_model_free(m);
}

Test(overlay, deleting_a_live_checked_server_notifies_down)
{
	struct xvs_ctl_model *m = three();
	run_ok(m, "{\"ops\":[{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.1") ",\"health\":"
		  "{\"notify_down\":\"true\",\"checks\":[{\"type\":\"TCP_CHECK\"}]}}]}");
	xvs_ctl_hevents_clear(&events);
	run_ok(m, "{\"ops\":[{\"op\":\"delete-dest\"," SVC "," DEST("10.0.0.1") "}]}");
	cr_assert_eq(count_events(XVS_CTL_HEV_DEST_DOWN), 1);
	cr_expect_not_null(events.v[0].dest_hc);
	cr_expect_str_eq(events.v[0].dest_hc->cfg.notify_down, "true");
	xvs_ctl_model_free(m);
}

struct bad_case {
	const char *ops;
	int err;
};

static const struct bad_case bad[] = {
	{"{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.9") ",\"health\":" TCPCHK "}}", ENOENT},
	{"{\"op\":\"set-dest-health\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.1\",\"port\":80}," DEST("10.0.0.1") ",\"health\":" TCPCHK "}}", ESRCH},
	{"{\"op\":\"set-dest-health\"," SVC ",\"dest\":{\"addr\":\"10.0.0.1\",\"port\":80,\"weight\":2},\"health\":" TCPCHK "}}", EINVAL},
	{"{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.1") "}", EINVAL},
	{"{\"op\":\"clear-dest-health\"," SVC "," DEST("10.0.0.1") ",\"health\":" TCPCHK "}}", EINVAL},
	{"{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.1") ",\"health\":{\"checks\":[{\"type\":\"TCP_CHECK\",\"urls\":[]}]}}", EINVAL},
	{"{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.1") ",\"health\":{\"checks\":[{\"type\":\"HTTP_GET\"}]}}", EINVAL},
	{"{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.1") ",\"health\":{\"checks\":[{\"type\":\"HTTP_GET\",\"urls\":[{\"path\":\"/a b\"}]}]}}", EINVAL},
	{"{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.1") ",\"health\":{\"checks\":[{\"type\":\"HTTP_GET\",\"urls\":[{\"path\":\"/\",\"digest\":\"abc\"}]}]}}", EINVAL},
	{"{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.1") ",\"health\":{\"checks\":[{\"type\":\"HTTP_GET\",\"urls\":[{\"path\":\"/\",\"status_lo\":300,\"status_hi\":200}]}]}}", EINVAL},
	{"{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.1") ",\"health\":{\"checks\":[{\"type\":\"HTTP_GET\",\"ssl_verify\":true,\"urls\":[{\"path\":\"/\"}]}]}}", EINVAL},
	{"{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.1") ",\"health\":{\"checks\":[{\"type\":\"MISC_CHECK\"}]}}", EINVAL},
	{"{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.1") ",\"health\":{\"checks\":[{\"type\":\"MISC_CHECK\",\"script\":\"true\",\"user\":\"no-such-user-xvs\"}]}}", EINVAL},
	{"{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.1") ",\"health\":{\"checks\":[{\"type\":\"MISC_CHECK\",\"script\":\"true\",\"connect_timeout_ms\":5}]}}", EINVAL},
	{"{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.1") ",\"health\":{\"checks\":[{\"type\":\"PING_CHECK\",\"connect_port\":80}]}}", EINVAL},
	{"{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.1") ",\"health\":{\"checks\":[{\"type\":\"DNS_CHECK\",\"name\":\"a..b\"}]}}", EINVAL},
	{"{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.1") ",\"health\":{\"checks\":[{\"type\":\"DNS_CHECK\",\"query_type\":\"BOGUS\"}]}}", EINVAL},
	{"{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.1") ",\"health\":{\"checks\":[{\"type\":\"UDP_CHECK\",\"payload\":\"abc\"}]}}", EINVAL},
	{"{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.1") ",\"health\":{\"checks\":[{\"type\":\"TCP_CHECK\",\"bind_ip\":\"2001:db8::1\"}]}}", EINVAL},
	{"{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.1") ",\"health\":{\"checks\":[{\"type\":\"TCP_CHECK\",\"connect_timeout_ms\":0}]}}", EINVAL},
	{"{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.1") ",\"health\":{\"interval_ms\":0}}", EINVAL},
	{"{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.1") ",\"health\":{\"rise\":0}}", EINVAL},
	{"{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.1") ",\"health\":{\"checks\":[{\"type\":\"SMTP_CHECK\"}]}}", EINVAL},
	{"{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.1") ",\"health\":{\"checks\":[{},{},{},{},{}]}}", EINVAL},
	{"{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.1") ",\"health\":{\"colour\":1}}", EINVAL},
	{"{\"op\":\"set-service-health\"," SVC ",\"health\":{\"quorum\":0}}", EINVAL},
	{"{\"op\":\"set-service-health\"," SVC ",\"health\":{\"sorry_server\":{\"addr\":\"10.0.0.1\",\"port\":80}}}", EEXIST},
	{"{\"op\":\"set-service-health\"," SVC ",\"health\":{\"sorry_server\":{\"addr\":\"2001:db8::9\",\"port\":80}}}", EAFNOSUPPORT},
	{"{\"op\":\"set-service-health\"," SVC ",\"health\":{\"sorry_server\":{\"addr\":\"224.0.0.1\",\"port\":80}}}", EINVAL},
	{"{\"op\":\"set-service-health\"," SVC ",\"health\":{\"sorry_server\":{\"port\":80}}}", EINVAL},
	{"{\"op\":\"set-service-health\"," SVC ",\"health\":{\"sorry_server\":{\"addr\":\"10.0.9.9\",\"fwd\":\"nat\"}}}", EINVAL},
	{"{\"op\":\"set-service-health\",\"service\":{\"proto\":\"udp\",\"addr\":\"198.18.0.100\",\"port\":80},\"health\":{}}", ESRCH},
	{"{\"op\":\"clear-health\",\"service\":{}}", EINVAL},
};

Test(overlay, bad_health_ops_change_nothing)
{
	struct xvs_ctl_model *m = three();
	struct xvs_ctl_model *before = xvs_ctl_model_dup(m);
	for (size_t i = 0; i < NB(bad); i++) {
		char json[2048];
		struct xvs_ctl_err err;
		snprintf(json, sizeof(json), "{\"ops\":[%s]}", bad[i].ops);
		int rc = run(m, json, &err);
		cr_expect_eq(rc, -bad[i].err, "%s: got %d (%s), want %d", bad[i].ops, rc, err.msg,
			     -bad[i].err);
		cr_expect_neq(err.msg[0], '\0', "%s: no message", bad[i].ops);
		cr_expect_eq(memcmp(m, before, sizeof(*m)), 0, "%s changed the model", bad[i].ops);
	}
	xvs_ctl_model_free(before);
	xvs_ctl_model_free(m);
}

Test(overlay, a_real_server_cannot_take_the_sorry_servers_key)
{
	struct xvs_ctl_model *m = three();
	struct xvs_ctl_err err;
	run_ok(m, "{\"ops\":[" SORRY_HEALTH(1, 0) "]}");
	int rc = run(m, "{\"ops\":[{\"op\":\"add-dest\"," SVC ",\"dest\":{\"addr\":\"10.0.9.9\","
		     "\"port\":8080,\"fwd\":\"masq\"}}]}", &err);
	cr_expect_eq(rc, -EEXIST, "%s", err.msg);
	xvs_ctl_model_free(m);
}

/* ---- the state file ------------------------------------------------------------------ */

Test(overlay, state_file_keeps_settings_and_verdicts)
{
	char dir[] = "/tmp/xvs-health-test.XXXXXX", path[64], list[256], msg[256];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state.json", dir);
	struct xvs_ctl_model *m = three();
	check_all(m);
	run_ok(m, "{\"ops\":[" SORRY_HEALTH(3, 0) "]}");
	verdict(m, "10.0.0.2", false, -1);
	cr_expect(!m->svcs[0].quorum_up);
	gen_list(m, list, sizeof(list));
	cr_expect_str_eq(list, "10.0.9.9:1 10.0.0.3:0");
	cr_assert_eq(xvs_ctl_persist_save(m, path, msg, sizeof(msg)), 0, "%s", msg);

	struct xvs_ctl_model *l = xvs_ctl_model_new(NULL);
	l->sink = &events;
	xvs_ctl_hevents_clear(&events);
	cr_assert_eq(xvs_ctl_persist_load(l, path, msg, sizeof(msg)), 0, "%s", msg);
	l->sink = NULL;
	cr_expect_eq(events.nb, 0, "a restart runs no scripts");
	char list2[256];
	gen_list(l, list2, sizeof(list2));
	cr_expect_str_eq(list2, list, "the same IPVS view after a restart");
	int d = dest_slot(l, "10.0.0.2");
	cr_assert_not_null(l->dests[d].hc);
	cr_expect(!l->dests[d].hc_alive);
	cr_expect(!l->dests[d].hc_fresh);
	cr_expect_eq(l->dests[d].hc->cfg.interval_ms, 200);
	cr_assert_not_null(l->svcs[0].hc);
	cr_expect_str_eq(l->svcs[0].hc->cfg.quorum_down, "echo down");
	for (unsigned i = 0; i < XVS_MAX_DESTS; i++)
		if (m->dests[i].role == XVS_CTL_DEST_SORRY && m->dests[i].state == XVS_SLOT_USED)
			cr_expect_eq(l->dests[i].role, XVS_CTL_DEST_SORRY, "the sorry server keeps slot %u", i);
	xvs_ctl_model_free(l);
	xvs_ctl_model_free(m);
	unlink(path);
	rmdir(dir);
}

/* ---- the loader's interface ---------------------------------------------------------- */

Test(overlay, replace_ops_set_every_health_setting_at_once)
{
	struct xvs_ctl_model *m = three();
	check_all(m);
	struct xvs_health_dest_entry de = {0};
	struct xvs_dest_health_cfg dc;
	xvs_dest_health_cfg_default(&dc);
	dc.nb_checks = 1;
	xvs_check_cfg_default(&dc.checks[0], XVS_CHECK_ICMP);
	xvs_ctl_svc_cfg_default(&de.svc);
	inet_pton(AF_INET, "198.18.0.100", &de.svc.addr.v4);
	de.svc.port = 80;
	xvs_ctl_dest_cfg_default(&de.dest);
	inet_pton(AF_INET, "10.0.0.2", &de.dest.addr.v4);
	de.dest.port = 80;
	de.cfg = &dc;
	struct xvs_ctl_op *ops = NULL;
	unsigned nb = 0;
	cr_assert_eq(xvs_ctl_health_ops(NULL, 0, &de, 1, &ops, &nb), 0);
	cr_assert_eq(nb, 2);
	struct xvs_ctl_err err;
	cr_assert_eq(xvs_ctl_model_apply(m, ops, nb, &err), 0, "%s", err.msg);
	xvs_ctl_ops_free(ops, nb);
	cr_expect_null(m->dests[dest_slot(m, "10.0.0.1")].hc, "cleared");
	cr_expect_null(m->dests[dest_slot(m, "10.0.0.3")].hc, "cleared");
	const struct xvs_ctl_dest *d = &m->dests[dest_slot(m, "10.0.0.2")];
	cr_assert_not_null(d->hc);
	cr_expect_eq(d->hc->cfg.checks[0].type, XVS_CHECK_ICMP);
	xvs_ctl_model_free(m);
}

/* A reload gives every setting again (clear-health, then set ops): unchanged settings keep
 * their verdicts, so a server that is down stays out; changed ones start afresh. */
Test(overlay, replacing_with_the_same_settings_keeps_verdicts)
{
	struct xvs_ctl_model *m = three();
	char list[256];
	const char *set2 = "{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.2") ",\"health\":" TCPCHK "}}";
	const char *set3 = "{\"op\":\"set-dest-health\"," SVC "," DEST("10.0.0.3") ",\"health\":" TCPCHK "}}";
	char ops[1024];
	snprintf(ops, sizeof(ops), "{\"ops\":[%s,%s]}", set2, set3);
	run_ok(m, ops);
	verdict(m, "10.0.0.2", false, -1);
	uint32_t epoch = m->dests[dest_slot(m, "10.0.0.2")].hc_epoch;
	snprintf(ops, sizeof(ops), "{\"ops\":[{\"op\":\"clear-health\"},%s,%s]}", set2, set3);
	run_ok(m, ops);
	const struct xvs_ctl_dest *d2 = &m->dests[dest_slot(m, "10.0.0.2")];
	cr_assert_not_null(d2->hc);
	cr_expect_eq(d2->hc_epoch, epoch, "the same check goes on");
	cr_expect_not(d2->hc_alive, "still down");
	gen_list(m, list, sizeof(list));
	cr_expect_str_eq(list, "10.0.0.3:1 10.0.0.1:1", "the reload does not bring it back");
	/* without .3 in the new settings, .3's check goes; .2's stays */
	snprintf(ops, sizeof(ops), "{\"ops\":[{\"op\":\"clear-health\"},%s]}", set2);
	run_ok(m, ops);
	cr_expect_null(m->dests[dest_slot(m, "10.0.0.3")].hc);
	cr_expect_eq(m->dests[dest_slot(m, "10.0.0.2")].hc_epoch, epoch);
	xvs_ctl_model_free(m);
}

Test(check, keepalived_defaults_per_checker)
{
	struct xvs_check_cfg c;
	xvs_check_cfg_default(&c, XVS_CHECK_HTTP);
	cr_expect_eq(c.delay_before_retry_ms, 3000);
	cr_expect_eq(c.retry, 1);
	xvs_check_cfg_default(&c, XVS_CHECK_DNS);
	cr_expect_eq(c.retry, 3);
	cr_expect_str_eq(c.dns_name, ".");
	cr_expect_eq(c.dns_type, 6);
	xvs_check_cfg_default(&c, XVS_CHECK_SCRIPT);
	cr_expect_eq(c.retry, 0);
	xvs_check_cfg_default(&c, XVS_CHECK_TCP);
	cr_expect_eq(c.connect_timeout_ms, 5000);
	cr_expect_eq(c.delay_before_retry_ms, 1000);
}

/* keepalived's status_code lists: codes and ranges; one range stays a range. */
Test(check, status_code_lists)
{
	struct xvs_check_url u;
	char err[160], text[XVS_CHECK_STATUS_TEXT];
	memset(&u, 0, sizeof(u));
	cr_expect(xvs_check_url_status_ok(&u, 200) && xvs_check_url_status_ok(&u, 299));
	cr_expect(!xvs_check_url_status_ok(&u, 300) && !xvs_check_url_status_ok(&u, 199),
		  "the default is 2xx");
	cr_assert_eq(xvs_check_url_status_parse(&u, "200-299 400-499 503 505", err, sizeof(err)), 0, "%s", err);
	cr_expect(u.status_set);
	cr_expect_eq(u.status_lo, 200);
	cr_expect_eq(u.status_hi, 505);
	for (long c = 100; c < 600; c++)
		cr_expect_eq(xvs_check_url_status_ok(&u, c),
			     (c >= 200 && c <= 299) || (c >= 400 && c <= 499) || c == 503 || c == 505,
			     "code %ld", c);
	cr_expect(!xvs_check_url_status_ok(&u, -1) && !xvs_check_url_status_ok(&u, 700));
	xvs_check_url_status_format(&u, text, sizeof(text));
	cr_expect_str_eq(text, "200-299 400-499 503 505");
	char msg[256];
	struct xvs_check_cfg c;
	xvs_check_cfg_default(&c, XVS_CHECK_HTTP);
	c.nb_urls = 1;
	c.urls[0] = u;
	strcpy(c.urls[0].path, "/");
	cr_expect_eq(xvs_check_cfg_check(&c, msg, sizeof(msg)), 0, "%s", msg);
	c.urls[0].status_mask[0] = 1; /* code 0 in the set: refused */
	cr_expect_neq(xvs_check_cfg_check(&c, msg, sizeof(msg)), 0);

	cr_assert_eq(xvs_check_url_status_parse(&u, "200 201-204", err, sizeof(err)), 0);
	cr_expect(!u.status_set, "adjacent codes make one range");
	cr_expect_eq(u.status_lo, 200);
	cr_expect_eq(u.status_hi, 204);
	xvs_check_url_status_format(&u, text, sizeof(text));
	cr_expect_str_eq(text, "200-204");
	static const char *const bad[] = {"", "abc", "99", "600", "299-200", "200-", "-200",
					  "200--300", "2x0", "200-29x"};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(xvs_check_url_status_parse(&u, bad[i], err, sizeof(err)), -EINVAL,
			     "'%s'", bad[i]);
	cr_expect_eq(u.status_lo, 200, "a refused list changes nothing");
}
