/*
 * Unit tests of the schedulers, both halves, through the ops table: exact pick sequences in
 * IPVS's list order (rr, wrr, fo, ovf), choices on crafted connection counts (lc, wlc, sed,
 * nq, twos), bucket layouts and fallback (sh, dh), caches and overload (lblc, lblcr). Maglev
 * (mh) has its own file, test_sched_mh.c.
 */
#include <arpa/inet.h>
#include <errno.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "sched_harness.h"

/* ---- the registry ---------------------------------------------------------------------- */

Test(sched, registry)
{
	static const char *const ipvs[] = { "rr", "wrr", "lc", "wlc", "sed", "nq", "fo", "ovf",
					    "sh", "dh", "mh", "lblc", "lblcr", "twos" };
	for (unsigned i = 0; i < sizeof(ipvs) / sizeof(ipvs[0]); i++)
		cr_assert_not_null(xvs_sched_find(ipvs[i]), "IPVS scheduler %s missing", ipvs[i]);
	cr_assert_eq(xvs_sched_find("rr"), xvs_sched_all[XVS_SCHED_RR]);
	cr_assert_eq(xvs_sched_id("wrr"), XVS_SCHED_WRR);
	cr_assert_eq(xvs_sched_id("mh"), XVS_SCHED_MH);
	cr_assert_null(xvs_sched_find("no-such-scheduler"));
	cr_assert_null(xvs_sched_find(""));
	cr_assert_eq(xvs_sched_id("RR"), -1, "names are case-sensitive, as in IPVS");
	cr_assert_null(xvs_sched_all[XVS_SCHED_NONE]);
	/* every registered scheduler sits at its own id, is found by its name, has one control
	 * half (plain or table) and a dataplane half */
	for (unsigned i = 1; i < XVS_SCHED_MAX; i++) {
		const struct xvs_sched_ops *o = xvs_sched_all[i];
		cr_assert_not_null(o, "id %u", i);
		cr_assert_eq(xvs_sched_id(o->name), (int)i);
		cr_assert_eq(xvs_sched_find(o->name), o);
		cr_assert(o->pick);
		cr_assert((o->build != NULL) != (o->build_tab != NULL), "%s", o->name);
		cr_assert(!o->build_tab || (o->tab_size && o->check), "%s", o->name);
		cr_assert_not_null(strstr(xvs_sched_names(), o->name));
	}
	cr_assert_eq(XVS_SCHED_MAX - 1, 14);
	cr_assert_eq(xvs_sched_registry_id(), xvs_sched_registry_id());
}

Test(sched, params_check)
{
	char msg[160];
	struct xvs_sched_params p = { .mh_size = 65537 };
	cr_assert_eq(xvs_sched_params_check(&p, msg, sizeof(msg)), 0);
	p.mh_size = 655373;
	cr_assert_eq(xvs_sched_params_check(&p, msg, sizeof(msg)), 0);
	p.mh_size = 251;
	cr_assert_eq(xvs_sched_params_check(&p, msg, sizeof(msg)), 0);
	const uint32_t bad[] = { 0, 1, 2, 65536, 65535, 241, XVS_SCHED_TAB_POOL + 1, 4294967291u };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p.mh_size = bad[i];
		cr_assert_eq(xvs_sched_params_check(&p, msg, sizeof(msg)), -EINVAL, "%u", bad[i]);
		cr_assert_not_null(strstr(msg, "prime"));
	}
}

/* ---- rr -------------------------------------------------------------------------------- */

Test(sched, rr_cycles_in_list_order)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 1, 5, 1, 100 }; /* rr ignores weights above zero */
	setup_svc(g, XVS_SCHED_RR, w, 4);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "ABCDABCDABCDABCD");
	free(g);
}

Test(sched, rr_skips_weight_zero)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 1, 0, 1, 0, 1 };
	setup_svc(g, XVS_SCHED_RR, w, 5);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "ACEACEACE");
	free(g);
}

Test(sched, rr_all_weight_zero_or_empty)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 0, 0, 0 };
	setup_svc(g, XVS_SCHED_RR, w, 3);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "-----");
	setup_svc(g, XVS_SCHED_RR, w, 0);
	expect_sequence(g, &st, "-");
	free(g);
}

Test(sched, rr_trash_dest_skipped)
{
	struct xvs_gen *g = gen_new();
	setup_svc(g, XVS_SCHED_RR, NULL, 3);
	server(g, 'B')->state = XVS_SLOT_TRASH;
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "ACACAC");
	free(g);
}

/* Quiescing a server continues the rotation from where it was, without that server. */
Test(sched, rr_quiesce_mid_rotation)
{
	struct xvs_gen *g = gen_new();
	setup_svc(g, XVS_SCHED_RR, NULL, 4);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "AB");
	server(g, 'C')->weight = 0;
	expect_sequence(g, &st, "DABDABD");
	server(g, 'C')->weight = 1;
	expect_sequence(g, &st, "ABCD");
	free(g);
}

/* A shrunken list (state from a longer one, same epoch) must not index past the list. */
Test(sched, rr_list_shrinks)
{
	struct xvs_gen *g = gen_new();
	setup_svc(g, XVS_SCHED_RR, NULL, 5);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "ABCDE");
	g->svcs[SVC].nb_dests = 2;
	expect_sequence(g, &st, "ABAB");
	free(g);
}

/* IPVS's rr has no state to reset when the service changes: the cursor stays on its server. */
Test(sched, rr_change_keeps_cursor)
{
	struct xvs_gen *g = gen_new();
	setup_svc(g, XVS_SCHED_RR, NULL, 3);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "AB");
	server(g, 'A')->weight = 7; /* an edit */
	rebuild(g);
	expect_sequence(g, &st, "CAB");
	cr_assert_eq(st.epoch, g->svcs[SVC].sched_epoch);
	free(g);
}

/* A new server goes to the head of the list; the cursor stays, so it comes after the tail. */
Test(sched, rr_new_server_at_head)
{
	struct xvs_gen *g = gen_new();
	setup_svc(g, XVS_SCHED_RR, NULL, 3);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "AB");
	set_list(g, "DABC", NULL);
	expect_sequence(g, &st, "CDAB" "CDAB");
	free(g);
}

/* Removing the server under the cursor: the next pick is its successor (IPVS's del_dest). */
Test(sched, rr_removed_cursor_server)
{
	struct xvs_gen *g = gen_new();
	setup_svc(g, XVS_SCHED_RR, NULL, 4);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "AB");
	set_list(g, "ACD", NULL);
	expect_sequence(g, &st, "CDA" "CDA");
	/* the tail under the cursor: the next pick wraps to the head */
	setup_svc(g, XVS_SCHED_RR, NULL, 3);
	struct xvs_sched_state s2 = { 0 };
	expect_sequence(g, &s2, "ABC");
	set_list(g, "AB", NULL);
	expect_sequence(g, &s2, "ABAB");
	/* the cursor's server and its successor both gone: from the head */
	setup_svc(g, XVS_SCHED_RR, NULL, 4);
	struct xvs_sched_state s3 = { 0 };
	expect_sequence(g, &s3, "AB");
	set_list(g, "AD", NULL);
	expect_sequence(g, &s3, "ADAD");
	free(g);
}

/*
 * IPVS order end to end: -a A, -a B, -a C makes the list C B A, and rr on the fresh service
 * visits the newest first; -d B then -a B moves B to the front.
 */
Test(sched, rr_ipvs_order)
{
	struct xvs_gen *g = gen_new();
	setup_svc(g, XVS_SCHED_RR, NULL, 0);
	set_list(g, "CBA", NULL);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "CBA" "CBA");
	set_list(g, "CA", NULL);  /* -d B */
	set_list(g, "BCA", NULL); /* -a B */
	expect_sequence(g, &st, "BCA" "BCA");
	struct xvs_sched_state fresh = { 0 };
	expect_sequence(g, &fresh, "BCA");
	free(g);
}

/* A scheduler bound afresh (another scheduler, a new service) starts over at the head. */
Test(sched, rr_bind_resets)
{
	struct xvs_gen *g = gen_new();
	setup_svc(g, XVS_SCHED_RR, NULL, 3);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "AB");
	g->svcs[SVC].sched_bind++;
	expect_sequence(g, &st, "ABC");
	free(g);
}

/* ---- wrr ------------------------------------------------------------------------------- */

Test(sched, wrr_build_computes_max_and_gcd)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 100, 0, 200, 300 };
	setup_svc(g, XVS_SCHED_WRR, w, 4);
	cr_assert_eq(g->svcs[SVC].sd.i32[0], 300);
	cr_assert_eq(g->svcs[SVC].sd.i32[1], 100);
	const int32_t w2[] = { 6, 10, 15 };
	setup_svc(g, XVS_SCHED_WRR, w2, 3);
	cr_assert_eq(g->svcs[SVC].sd.i32[0], 15);
	cr_assert_eq(g->svcs[SVC].sd.i32[1], 1);
	const int32_t w3[] = { 0, 0 };
	setup_svc(g, XVS_SCHED_WRR, w3, 2);
	cr_assert_eq(g->svcs[SVC].sd.i32[0], 0);
	cr_assert_gt(g->svcs[SVC].sd.i32[1], 0, "di must stay a valid divisor");
	/* the dataplane refuses data that does not match the weights */
	setup_svc(g, XVS_SCHED_WRR, w2, 3);
	g->svcs[SVC].sd.i32[1] = 3;
	cr_assert_eq(xvs_sched_all[XVS_SCHED_WRR]->check(g, &g->svcs[SVC]), -EINVAL);
	free(g);
}

struct wrr_case {
	int32_t w[6];
	unsigned n;
	char seq[24]; /* two full cycles; an array: parameters are copied into the test process */
};

/* Sequences worked out by hand from IPVS's pass walk (cw = mw - (di - 1), ..., 1). */
ParameterizedTestParameters(sched, wrr_sequence)
{
	static struct wrr_case cases[] = {
		{ { 4, 3, 2 }, 3, "AABABCABC" "AABABCABC" },
		{ { 100, 200, 300 }, 3, "CBCABC" "CBCABC" },
		{ { 1, 2, 3 }, 3, "CBCABC" "CBCABC" },
		{ { 5, 5, 5 }, 3, "ABC" "ABC" },
		{ { 2, 0, 1 }, 3, "AAC" "AAC" },
		{ { 0, 3, 0, 1 }, 4, "BBBD" "BBBD" },
		{ { 1 }, 1, "AAAA" },
		{ { 3, 1 }, 2, "AAAB" "AAAB" },
	};
	return cr_make_param_array(struct wrr_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct wrr_case *c, sched, wrr_sequence)
{
	struct xvs_gen *g = gen_new();
	setup_svc(g, XVS_SCHED_WRR, c->w, c->n);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, c->seq);
	/* a fresh worker state gives the same sequence */
	struct xvs_sched_state st2 = { 0 };
	expect_sequence(g, &st2, c->seq);
	free(g);
}

/* -a A -w 3, -a B -w 2, -a C -w 1 lists C B A: IPVS's sequence follows that list. */
Test(sched, wrr_ipvs_order)
{
	struct xvs_gen *g = gen_new();
	setup_svc(g, XVS_SCHED_WRR, NULL, 0);
	const int32_t w[] = { 1, 2, 3 };
	set_list(g, "CBA", w);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "ABACBA" "ABACBA");
	free(g);
}

static int32_t gcd(int32_t a, int32_t b)
{
	while (b) {
		int32_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/*
 * Property: over each full cycle of sum(w)/gcd picks, every server is picked exactly
 * w/gcd times, and weight-0 servers never; several cycles in a row, random weight sets.
 */
Test(sched, wrr_ratio_per_cycle)
{
	struct xvs_gen *g = gen_new();
	rng_state = 0x9e3779b97f4a7c15ULL;
	for (int iter = 0; iter < 200; iter++) {
		unsigned n = 1 + rnd() % 12;
		int32_t w[26];
		int32_t mult = 1 + (int32_t)(rnd() % 4) * 25; /* gcd > 1 often */
		int64_t sum = 0;
		int32_t di = 0;
		for (unsigned i = 0; i < n; i++) {
			w[i] = rnd() % 5 == 0 ? 0 : (int32_t)(1 + rnd() % 20) * mult;
			sum += w[i];
			if (w[i])
				di = di ? gcd(di, w[i]) : w[i];
		}
		setup_svc(g, XVS_SCHED_WRR, w, n);
		struct xvs_sched_state st = { 0 };
		if (sum == 0) {
			cr_assert_eq(pick(g, &st), -1);
			continue;
		}
		int64_t cycle = sum / di;
		for (int c = 0; c < 3; c++) {
			unsigned count[26] = { 0 };
			for (int64_t k = 0; k < cycle; k++) {
				char p = letter_of(pick(g, &st));
				cr_assert(p >= 'A' && p < 'A' + (int)n, "iteration %d: bad pick", iter);
				count[p - 'A']++;
			}
			for (unsigned i = 0; i < n; i++)
				cr_assert_eq(count[i], (unsigned)(w[i] / di),
					     "iteration %d cycle %d: server %u of weight %d picked %u "
					     "times, want %d", iter, c, i, w[i], count[i], w[i] / di);
		}
	}
	free(g);
}

/* Scaling every weight by a constant does not change the sequence. */
Test(sched, wrr_scale_invariant)
{
	struct xvs_gen *a = gen_new(), *b = gen_new();
	rng_state = 12345;
	for (int iter = 0; iter < 100; iter++) {
		unsigned n = 1 + rnd() % 8;
		int32_t wa[26], wb[26];
		int32_t k = 2 + (int32_t)(rnd() % 50);
		for (unsigned i = 0; i < n; i++) {
			wa[i] = (int32_t)(rnd() % 7);
			wb[i] = wa[i] * k;
		}
		setup_svc(a, XVS_SCHED_WRR, wa, n);
		setup_svc(b, XVS_SCHED_WRR, wb, n);
		struct xvs_sched_state sa = { 0 }, sb = { 0 };
		for (int i = 0; i < 100; i++)
			cr_assert_eq(pick(a, &sa), pick(b, &sb), "iteration %d pick %d", iter, i);
	}
	free(a);
	free(b);
}

Test(sched, wrr_all_weight_zero_or_empty)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 0, 0, 0 };
	setup_svc(g, XVS_SCHED_WRR, w, 3);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "-----");
	setup_svc(g, XVS_SCHED_WRR, w, 0);
	expect_sequence(g, &st, "-");
	free(g);
}

/* Quiesced after the scheduler data was built (control has not rebuilt yet): still skipped. */
Test(sched, wrr_weight_zero_without_rebuild)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 4, 3, 2 };
	setup_svc(g, XVS_SCHED_WRR, w, 3);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "AAB");
	server(g, 'A')->weight = 0; /* the heaviest one */
	for (int i = 0; i < 50; i++) {
		char p = letter_of(pick(g, &st));
		cr_assert(p == 'B' || p == 'C', "pick %d went to %c", i, p);
	}
	server(g, 'B')->weight = 0;
	server(g, 'C')->weight = 0;
	cr_assert_eq(pick(g, &st), -1);
	free(g);
}

/*
 * Quiesced and rebuilt: IPVS's dest_changed puts the position at the head and rounds cw to
 * the new di: after A A B A B (cw 2), B at 0 gives mw 4 - (2 - 1) = 3, di 2, cw 2 / 2 * 2 + 1.
 */
Test(sched, wrr_weight_zero_rebuilt)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 4, 3, 2 };
	setup_svc(g, XVS_SCHED_WRR, w, 3);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "AABAB");
	server(g, 'B')->weight = 0;
	rebuild(g);
	expect_sequence(g, &st, "AAC" "AAC" "AAC");
	free(g);
}

/* A change keeps the pass's cw and restarts the pass at the head (IPVS's dest_changed). */
Test(sched, wrr_change_keeps_cw)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 4, 3, 2 };
	setup_svc(g, XVS_SCHED_WRR, w, 3);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "AABAB");
	rebuild(g);
	expect_sequence(g, &st, "ABC" "ABC" "AABABCABC");
	/* cw above the new mw: the walk starts over at the new mw */
	g->svcs[SVC].sched_bind++;
	expect_sequence(g, &st, "A"); /* cw 4 */
	server(g, 'A')->weight = 1;
	rebuild(g); /* mw 3 */
	expect_sequence(g, &st, "BBCABC" "BBCABC");
	free(g);
}

/* Each worker keeps its own state: two workers interleaving do not disturb each other. */
Test(sched, wrr_states_independent)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 4, 3, 2 };
	setup_svc(g, XVS_SCHED_WRR, w, 3);
	struct xvs_sched_state s1 = { 0 }, s2 = { 0 };
	const char *seq = "AABABCABC";
	for (int i = 0; seq[i]; i++) {
		cr_assert_eq(letter_of(pick(g, &s1)), seq[i]);
		cr_assert_eq(letter_of(pick(g, &s2)), seq[i]);
	}
	free(g);
}

/* A list that shrank under the same epoch keeps picks inside the list. */
Test(sched, wrr_list_shrinks)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 1, 1, 1, 1, 5 };
	setup_svc(g, XVS_SCHED_WRR, w, 5);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "EEEEABCDE");
	g->svcs[SVC].nb_dests = 2;
	for (int i = 0; i < 20; i++) {
		char p = letter_of(pick(g, &st));
		cr_assert(p == 'A' || p == 'B', "pick %d went to %c", i, p);
	}
	free(g);
}

/* ---- least connection: lc, wlc, sed, nq ------------------------------------------------ */

/* lc: active * 256 + inactive, the first in list order on a tie, weight 0 skipped. */
Test(sched, lc_overhead)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 1, 9, 1, 0 };
	setup_svc(g, XVS_SCHED_LC, w, 4);
	struct xvs_sched_state st = { 0 };
	set_conns('A', 1, 0);   /* 256 */
	set_conns('B', 0, 300); /* 300 */
	set_conns('C', 0, 255); /* 255 */
	expect_sequence(g, &st, "CC");
	set_conns('C', 0, 256);
	expect_sequence(g, &st, "A"); /* tie with A: the first */
	set_conns('D', 0, 0);         /* idle but quiesced */
	expect_sequence(g, &st, "A");
	/* the other workers' counts are the node's too */
	struct xvs_dest_load others[XVS_MAX_DESTS] = { 0 };
	others[DEST_SLOT(0)].active = 2;
	struct xvs_sched_key k = test_key;
	k.others = others;
	cr_assert_eq(letter_of(pick_key(g, &st, &k)), 'C');
	free(g);
}

/* wlc: overhead / weight by cross-multiplication. */
Test(sched, wlc_overhead_per_weight)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 1, 3, 2 };
	setup_svc(g, XVS_SCHED_WLC, w, 3);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "AA"); /* all idle: the first */
	set_conns('A', 1, 0);          /* 256 / 1 */
	set_conns('B', 2, 100);        /* 612 / 3 = 204 */
	set_conns('C', 2, 0);          /* 512 / 2 = 256 */
	expect_sequence(g, &st, "B");
	set_conns('B', 3, 0); /* 768 / 3 = 256: three-way tie, the first */
	expect_sequence(g, &st, "A");
	server(g, 'A')->weight = 0;
	expect_sequence(g, &st, "B");
	free(g);
}

/* sed: (active + 1) / weight; inactive connections do not count. */
Test(sched, sed_expected_delay)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 1, 3, 2 };
	setup_svc(g, XVS_SCHED_SED, w, 3);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "B"); /* 1/1, 1/3, 1/2 */
	set_conns('B', 2, 0);         /* 3/3 */
	set_conns('C', 1, 0);         /* 2/2 */
	set_conns('A', 0, 1000);      /* 1/1: inactive ones do not count; a tie, the first */
	expect_sequence(g, &st, "A");
	set_conns('C', 0, 0); /* 1/2 */
	set_conns('A', 1, 0); /* 2/1 */
	expect_sequence(g, &st, "C");
	set_conns('C', 1, 0); /* 2/2 = 1, B 3/3 = 1: B comes first */
	expect_sequence(g, &st, "B");
	free(g);
}

/* nq: the first idle server at once, even a slow one; all busy: sed's choice. */
Test(sched, nq_idle_first)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 10, 1, 5, 0 };
	setup_svc(g, XVS_SCHED_NQ, w, 4);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "A");
	set_conns('A', 1, 0);
	expect_sequence(g, &st, "B"); /* sed would say A: 2/10 < 1/1 */
	set_conns('B', 1, 5);
	expect_sequence(g, &st, "C");
	set_conns('C', 3, 0); /* all busy; D idle but quiesced: A 2/10, B 2/1, C 4/5 */
	expect_sequence(g, &st, "A");
	set_conns('B', 0, 50); /* inactive only: idle */
	expect_sequence(g, &st, "B");
	free(g);
}

/* ---- fo, ovf --------------------------------------------------------------------------- */

Test(sched, fo_highest_weight)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 2, 5, 5, 1 };
	setup_svc(g, XVS_SCHED_FO, w, 4);
	struct xvs_sched_state st = { 0 };
	set_conns('B', 1000, 0); /* load does not matter */
	expect_sequence(g, &st, "BBBB");
	server(g, 'B')->weight = 0;
	expect_sequence(g, &st, "CCC");
	server(g, 'C')->state = XVS_SLOT_TRASH;
	expect_sequence(g, &st, "AA");
	server(g, 'A')->weight = 0;
	expect_sequence(g, &st, "D");
	server(g, 'D')->weight = 0;
	expect_sequence(g, &st, "-");
	free(g);
}

/* ovf: the highest weight while its active connections do not exceed its weight. */
Test(sched, ovf_overflows_by_weight)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 2, 3, 3, 1 };
	setup_svc(g, XVS_SCHED_OVF, w, 4);
	struct xvs_sched_state st = { 0 };
	/* a dataplane's counts as new connections become active, one by one */
	const char *seq = "BBBBCCCCAAADD-";
	for (unsigned i = 0; seq[i]; i++) {
		char c = letter_of(pick(g, &st));
		cr_assert_eq(c, seq[i], "connection %u: got %c, want %c", i, c, seq[i]);
		if (c != '-')
			test_ctr[DEST_SLOT(c - 'A')].active++;
	}
	test_ctr[DEST_SLOT(0)].active = 0; /* A's connections closed */
	expect_sequence(g, &st, "A");
	set_conns('B', 0, 500); /* inactive ones do not count */
	expect_sequence(g, &st, "B");
	free(g);
}

/* ---- twos ------------------------------------------------------------------------------ */

static double twos_share(struct xvs_gen *g, char c, int n)
{
	struct xvs_sched_state st = { 0 };
	int hits = 0;
	for (int i = 0; i < n; i++) {
		struct xvs_sched_key k = test_key;
		k.caddr.v4 = (uint32_t)i;
		int s = pick_key(g, &st, &k);
		cr_assert_neq(s, -1);
		hits += letter_of(s) == c;
	}
	return (double)hits / n;
}

/*
 * Two weighted draws r in [0, total], the server where r walks down to 0 or below; the less
 * loaded (overhead / weight) of the two wins, the first draw on a tie. With weights 1/1 a draw
 * gives A for r = 0 or 1, B for r = 2: A with 2/3.
 */
Test(sched, twos_two_weighted_choices)
{
	struct xvs_gen *g = gen_new();
	setup_svc(g, XVS_SCHED_TWOS, NULL, 2);
	double a = twos_share(g, 'A', 30000);
	cr_assert(a > 0.64 && a < 0.69, "idle: A took %.3f, want 2/3", a);
	set_conns('A', 100, 0); /* B wins unless both draws are A (4/9) */
	double b = twos_share(g, 'B', 30000);
	cr_assert(b > 0.53 && b < 0.58, "A loaded: B took %.3f, want 5/9", b);
	const int32_t w[] = { 3, 1 };
	setup_svc(g, XVS_SCHED_TWOS, w, 2);
	set_conns('A', 0, 0);
	a = twos_share(g, 'A', 30000);
	cr_assert(a > 0.77 && a < 0.83, "weights 3/1: A took %.3f, want 4/5", a);
	server(g, 'A')->weight = 0;
	cr_assert_eq(twos_share(g, 'B', 100), 1.0);
	server(g, 'B')->weight = 0;
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "--");
	free(g);
}

/* ---- sh -------------------------------------------------------------------------------- */

static uint16_t bucket_pos(const struct xvs_gen *g, unsigned i)
{
	return g->sched_tab[g->svcs[SVC].sd.tab.off + i];
}

/* The kernel's hash_32(v, 8), computed here independently. */
static uint32_t kernel_hash8(uint32_t v)
{
	return (uint32_t)(v * 0x61c88647u) >> 24;
}

/* The buckets are dealt round-robin, `weight` consecutive ones per server, at least one. */
Test(sched, sh_bucket_layout)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 2, 1, 3 };
	setup_svc(g, XVS_SCHED_SH, w, 3);
	cr_assert_eq(g->svcs[SVC].sd.tab.size, 256);
	static const uint16_t period[] = { 0, 0, 1, 2, 2, 2 };
	for (unsigned i = 0; i < 256; i++)
		cr_assert_eq(bucket_pos(g, i), period[i % 6], "bucket %u", i);
	const int32_t w0[] = { 0, 2 };
	setup_svc(g, XVS_SCHED_SH, w0, 2);
	for (unsigned i = 0; i < 256; i++)
		cr_assert_eq(bucket_pos(g, i), i % 3 == 0 ? 0 : 1, "bucket %u", i);
	const int32_t big[] = { 300, 1 };
	setup_svc(g, XVS_SCHED_SH, big, 2);
	for (unsigned i = 0; i < 256; i++)
		cr_assert_eq(bucket_pos(g, i), 0);
	setup_svc(g, XVS_SCHED_SH, NULL, 0);
	for (unsigned i = 0; i < 256; i++)
		cr_assert_eq(bucket_pos(g, i), XVS_SCHED_TAB_NONE);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "-");
	free(g);
}

/* A client's bucket is hash_32(port + address, 8); the port only with sh-port. */
Test(sched, sh_client_bucket)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 1, 2, 3, 1, 1 };
	setup_svc(g, XVS_SCHED_SH, w, 5);
	struct xvs_sched_state st = { 0 };
	rng_state = 777;
	for (int flags = 0; flags < 2; flags++) {
		g->svcs[SVC].flags = flags ? XVS_SVC_F_SCHED2 : 0;
		for (int i = 0; i < 2000; i++) {
			struct xvs_sched_key k = test_key;
			k.caddr.v4 = rnd() ^ rnd() << 16;
			k.cport_be = (uint16_t)rnd();
			uint32_t v = ntohl(k.caddr.v4) + (flags ? ntohs(k.cport_be) : 0);
			char want = (char)('A' + bucket_pos(g, kernel_hash8(v)));
			cr_assert_eq(letter_of(pick_key(g, &st, &k)), want, "flags %d client %#x", flags,
				     k.caddr.v4);
			/* the same client always lands on the same server */
			cr_assert_eq(letter_of(pick_key(g, &st, &k)), want);
		}
	}
	free(g);
}

/* IPv6 clients: the address folded by xor of its four words. */
Test(sched, sh_ipv6_fold)
{
	struct xvs_gen *g = gen_new();
	setup_svc(g, XVS_SCHED_SH, NULL, 7);
	g->svcs[SVC].af = XVS_AF_INET6;
	struct xvs_sched_state st = { 0 };
	rng_state = 4242;
	for (int i = 0; i < 1000; i++) {
		struct xvs_sched_key k = test_key;
		for (int j = 0; j < 4; j++)
			k.caddr.w[j] = rnd() ^ rnd() << 16;
		uint32_t fold = ntohl(k.caddr.w[0] ^ k.caddr.w[1] ^ k.caddr.w[2] ^ k.caddr.w[3]);
		char want = (char)('A' + bucket_pos(g, kernel_hash8(fold)));
		cr_assert_eq(letter_of(pick_key(g, &st, &k)), want);
	}
	free(g);
}

/* The bucket's server unavailable: no destination, or with sh-fallback IPVS's probe order. */
Test(sched, sh_fallback)
{
	struct xvs_gen *g = gen_new();
	setup_svc(g, XVS_SCHED_SH, NULL, 4);
	struct xvs_sched_state st = { 0 };
	server(g, 'B')->weight = 0;
	server(g, 'C')->weight = 0;
	rng_state = 99;
	int fell_back = 0;
	for (int i = 0; i < 2000; i++) {
		struct xvs_sched_key k = test_key;
		k.caddr.v4 = rnd() ^ rnd() << 16;
		uint32_t ihash = kernel_hash8(ntohl(k.caddr.v4));
		char own = (char)('A' + bucket_pos(g, ihash));
		g->svcs[SVC].flags = 0;
		char got = letter_of(pick_key(g, &st, &k));
		cr_assert_eq(got, own == 'A' || own == 'D' ? own : '-');
		g->svcs[SVC].flags = XVS_SVC_F_SCHED1;
		got = letter_of(pick_key(g, &st, &k));
		char want = own;
		for (uint32_t off = 0; want != 'A' && want != 'D' && off < 256; off++)
			want = (char)('A' + bucket_pos(g, (((off + ihash) % 256) + ihash) & 255));
		cr_assert_eq(got, want, "client %#x", k.caddr.v4);
		fell_back += own != want;
	}
	cr_assert_gt(fell_back, 500);
	for (char c = 'A'; c <= 'D'; c++)
		server(g, c)->weight = 0;
	expect_sequence(g, &st, "---");
	free(g);
}

/* ---- dh -------------------------------------------------------------------------------- */

/* One bucket per server round-robin, weights ignored; the key is the destination address. */
Test(sched, dh_layout_and_key)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 5, 1, 9 };
	setup_svc(g, XVS_SCHED_DH, w, 3);
	for (unsigned i = 0; i < 256; i++)
		cr_assert_eq(bucket_pos(g, i), i % 3, "bucket %u", i);
	struct xvs_sched_state st = { 0 };
	rng_state = 5;
	for (int i = 0; i < 1000; i++) {
		struct xvs_sched_key k = test_key;
		k.daddr.v4 = rnd() ^ rnd() << 16;
		k.caddr.v4 = rnd(); /* does not matter */
		char want = (char)('A' + bucket_pos(g, kernel_hash8(ntohl(k.daddr.v4))));
		cr_assert_eq(letter_of(pick_key(g, &st, &k)), want);
		/* unavailable: no destination (dh has no fallback) */
		server(g, want)->weight = 0;
		cr_assert_eq(pick_key(g, &st, &k), -1);
		server(g, want)->weight = 1;
	}
	free(g);
}

/* ---- lblc ------------------------------------------------------------------------------ */

static struct xvs_sched_key to_dest(uint32_t daddr, uint32_t now)
{
	struct xvs_sched_key k = test_key;
	k.daddr.v4 = daddr;
	k.now = now;
	return k;
}

static char pick_to(struct xvs_gen *g, struct xvs_sched_state *st, uint32_t daddr, uint32_t now)
{
	struct xvs_sched_key k = to_dest(daddr, now);
	return letter_of(pick_key(g, st, &k));
}

/* A destination sticks to wlc's first choice while that server is not overloaded. */
Test(sched, lblc_sticks_until_overloaded)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 4, 4, 4 };
	setup_svc(g, XVS_SCHED_LBLC, w, 3);
	struct xvs_sched_state st = { 0 };
	set_conns('A', 1, 0);
	cr_assert_eq(pick_to(g, &st, 1, 0), 'B'); /* wlc: B, the first idle */
	set_conns('B', 4, 0);                      /* busier than A and C now, but not > weight */
	cr_assert_eq(pick_to(g, &st, 1, 10), 'B');
	cr_assert_eq(pick_to(g, &st, 2, 10), 'C'); /* another destination: wlc again */
	set_conns('B', 5, 0); /* > weight 4, and C has 0 * 2 < 4: overloaded */
	cr_assert_eq(pick_to(g, &st, 1, 20), 'C');
	set_conns('C', 9, 0);
	set_conns('B', 0, 0);
	cr_assert_eq(pick_to(g, &st, 1, 20), 'B', "C overloaded in turn: rescheduled to wlc's B");
	/* over its weight, but no server below half its weight: stays */
	set_conns('A', 2, 0);
	set_conns('B', 6, 0);
	set_conns('C', 2, 0);
	cr_assert_eq(pick_to(g, &st, 1, 30), 'B');
	/* quiesced or removed: rescheduled */
	server(g, 'B')->weight = 0;
	cr_assert_eq(pick_to(g, &st, 1, 40), 'A');
	set_list(g, "BC", NULL);
	server(g, 'B')->weight = 4;
	cr_assert_eq(pick_to(g, &st, 1, 50), 'C');
	free(g);
}

/* The cache keeps LBLC_WAYS (4) destinations, forgets the least recently used one and any
 * unused for 24 hours. */
Test(sched, lblc_cache_bounds)
{
	struct xvs_gen *g = gen_new();
	setup_svc(g, XVS_SCHED_LBLC, NULL, 2);
	struct xvs_sched_state st = { 0 };
	cr_assert_eq(pick_to(g, &st, 1, 100), 'A');
	set_conns('A', 1, 0); /* wlc now says B, the cache says A */
	cr_assert_eq(pick_to(g, &st, 1, 101), 'A');
	for (uint32_t d = 2; d <= 4; d++)
		cr_assert_eq(pick_to(g, &st, d, 102), 'B');
	cr_assert_eq(pick_to(g, &st, 1, 103), 'A', "4 destinations fit");
	pick_to(g, &st, 5, 104); /* evicts 2, the least recently used */
	cr_assert_eq(pick_to(g, &st, 1, 105), 'A');
	for (uint32_t d = 6; d <= 8; d++) /* evict 3, 4, 5 */
		pick_to(g, &st, d, 100 + d);
	cr_assert_eq(pick_to(g, &st, 1, 109), 'A');
	for (uint32_t d = 9; d <= 12; d++) /* 1 is the least recently used by the 4th */
		pick_to(g, &st, d, 101 + d);
	cr_assert_eq(pick_to(g, &st, 1, 114), 'B', "evicted: scheduled again");
	cr_assert_eq(pick_to(g, &st, 1, 114 + 24 * 3600 - 1), 'B');
	set_conns('A', 0, 0);
	set_conns('B', 1, 0);
	cr_assert_eq(pick_to(g, &st, 1, 114 + 2 * 24 * 3600 - 1), 'A', "expired after 24 h unused");
	/* a scheduler bound afresh forgets everything */
	g->svcs[SVC].sched_bind++;
	set_conns('A', 1, 0);
	set_conns('B', 0, 0);
	cr_assert_eq(pick_to(g, &st, 1, 114 + 2 * 24 * 3600), 'B');
	free(g);
}

/* ---- lblcr ----------------------------------------------------------------------------- */

/* A destination's set grows when its least loaded member is overloaded; the set's wlc
 * choice serves it. */
Test(sched, lblcr_set_grows_under_overload)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 2, 2, 2, 2 };
	setup_svc(g, XVS_SCHED_LBLCR, w, 4);
	struct xvs_sched_state st = { 0 };
	cr_assert_eq(pick_to(g, &st, 9, 0), 'A');
	set_conns('A', 3, 0); /* > 2, and B is idle: overloaded */
	cr_assert_eq(pick_to(g, &st, 9, 1), 'B', "wlc adds B to the set");
	set_conns('B', 1, 0);
	cr_assert_eq(pick_to(g, &st, 9, 2), 'B', "the set's least loaded: B (256/2 < 768/2)");
	set_conns('B', 4, 0); /* overloaded too: wlc over all adds C */
	cr_assert_eq(pick_to(g, &st, 9, 3), 'C');
	/* the set is {C, B, A}: D, outside it, is never chosen while a member is fine */
	set_conns('C', 1, 0);
	set_conns('D', 0, 0);
	set_conns('A', 2, 0);
	cr_assert_eq(pick_to(g, &st, 9, 4), 'C');
	set_conns('C', 2, 0); /* A 512/2, C 512/2: the newest member first */
	cr_assert_eq(pick_to(g, &st, 9, 5), 'C');
	free(g);
}

/* A set of several members unchanged for 24 hours loses its most loaded member. */
Test(sched, lblcr_set_shrinks_after_expiration)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 2, 2, 2 };
	setup_svc(g, XVS_SCHED_LBLCR, w, 3);
	struct xvs_sched_state st = { 0 };
	cr_assert_eq(pick_to(g, &st, 9, 0), 'A');
	set_conns('A', 3, 0);
	cr_assert_eq(pick_to(g, &st, 9, 1), 'B'); /* the set is {B, A}, changed at 1 */
	set_conns('A', 1, 0);                      /* 256 / 2 */
	set_conns('B', 1, 1);                      /* 257 / 2 */
	for (uint32_t t = 2; t < 24 * 3600; t += 3600) /* used every hour, never changed */
		cr_assert_eq(pick_to(g, &st, 9, t), 'A');
	set_conns('B', 0, 0);
	cr_assert_eq(pick_to(g, &st, 9, 24 * 3600 + 1), 'B', "B is still a member");
	set_conns('B', 1, 1);
	cr_assert_eq(pick_to(g, &st, 9, 24 * 3600 + 2), 'A', "a day and more: B, the most loaded, "
							   "leaves");
	set_conns('B', 0, 0);
	cr_assert_eq(pick_to(g, &st, 9, 24 * 3600 + 3), 'A', "B idle, but no longer in the set");
	/* a member that left the service leaves the set */
	set_list(g, "BC", NULL);
	cr_assert_eq(pick_to(g, &st, 9, 24 * 3600 + 4), 'B');
	free(g);
}

/* Thresholds (-x/-y): OVERLOAD set at the upper one, cleared below the lower one (IPVS). */
Test(sched, thresholds_hysteresis)
{
	struct xvs_gen *g = gen_new();
	static uint8_t overload[XVS_MAX_DESTS];
	memset(overload, 0, sizeof(overload));
	test_key.overload = overload;
	setup_svc(g, XVS_SCHED_RR, NULL, 2);
	server(g, 'A')->u_thresh = 3;
	server(g, 'A')->l_thresh = 1;
	struct xvs_sched_state st = { 0 };
	set_conns('A', 2, 0);
	expect_sequence(g, &st, "ABAB");
	set_conns('A', 1, 2); /* 3 in all, inactive ones count too */
	expect_sequence(g, &st, "BBB");
	set_conns('A', 1, 0); /* below -x but not below -y: still overloaded */
	expect_sequence(g, &st, "BB");
	set_conns('A', 0, 0); /* below -y: back */
	expect_sequence(g, &st, "ABAB");
	/* without -y, the flag clears below 3/4 of -x */
	server(g, 'A')->l_thresh = 0;
	server(g, 'A')->u_thresh = 8;
	set_conns('A', 8, 0);
	expect_sequence(g, &st, "BB");
	set_conns('A', 6, 0); /* 24 = 8 * 3: not below */
	expect_sequence(g, &st, "BB");
	set_conns('A', 5, 0);
	expect_sequence(g, &st, "ABAB");
	/* the other workers' counts make the node's */
	static struct xvs_dest_load others[XVS_MAX_DESTS];
	memset(others, 0, sizeof(others));
	test_key.others = others;
	set_conns('A', 4, 0);
	others[DEST_SLOT(0)].inactive = 4;
	expect_sequence(g, &st, "BB");
	/* without -x, never overloaded */
	server(g, 'A')->u_thresh = 0;
	expect_sequence(g, &st, "ABAB");
	/* all overloaded: no destination */
	server(g, 'A')->u_thresh = 1;
	server(g, 'B')->u_thresh = 1;
	set_conns('B', 1, 0);
	expect_sequence(g, &st, "--");
	free(g);
}
