/*
 * What the scheduler tests share: one service in a zeroed generation, built by the control
 * half through the ops table, picked by the dataplane half with crafted connection counts.
 *
 * The service lives in slot 3, its list starts at svc_dests[5] and server 'A' + i sits in
 * slot 10 + 3 * i, so a scheduler that confuses list positions with slots fails. Servers are
 * letters; a list is a string of them in IPVS's order (position 0 is the head).
 */
#ifndef XVS_TEST_SCHED_HARNESS_H
#define XVS_TEST_SCHED_HARNESS_H

#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "xvs/sched.h"

#define SVC          3
#define LIST_FIRST   5
#define DEST_SLOT(i) (10 + 3 * (i))

/* Connection counts the dataplane would have: this worker's, by slot. */
static struct xvs_stats_ctr test_ctr[XVS_MAX_DESTS];
static struct xvs_sched_key test_key = { .cport_be = 0x1234, .dest_ctr = test_ctr };
static struct xvs_sched_params test_params = { .mh_size = XVS_MH_SIZE_DEFAULT };

static inline struct xvs_gen *gen_new(void)
{
	struct xvs_gen *g = calloc(1, sizeof(*g));
	cr_assert_not_null(g);
	memset(test_ctr, 0, sizeof(test_ctr));
	test_key = (struct xvs_sched_key){ .cport_be = 0x1234, .dest_ctr = test_ctr };
	return g;
}

/* Run the control half over the service's list, as control does before publishing; the
 * service's epoch moves on (its destinations changed). */
static inline void rebuild(struct xvs_gen *g)
{
	struct xvs_svc *s = &g->svcs[SVC];
	static const struct xvs_dest *d[XVS_MAX_DESTS];
	for (unsigned i = 0; i < s->nb_dests; i++)
		d[i] = &g->dests[g->svc_dests[s->dest_first + i]];
	const struct xvs_sched_ops *ops = xvs_sched_all[s->sched];
	if (ops->build_tab) {
		char msg[256] = "";
		struct xvs_sched_tab_build tb = { .g = g, .params = test_params, .msg = msg,
						  .msglen = sizeof(msg) };
		g->nb_sched_tab = 0;
		cr_assert_eq(ops->build_tab(&tb, s, d, s->nb_dests), 0, "%s", msg);
		cr_assert_eq(ops->check(g, s), 0);
	} else {
		cr_assert_eq(ops->build(s, d, s->nb_dests), 0);
		cr_assert(!ops->check || ops->check(g, s) == 0);
	}
	s->sched_epoch++;
}

static inline struct xvs_dest *server(struct xvs_gen *g, char c)
{
	return &g->dests[DEST_SLOT(c - 'A')];
}

/*
 * The service's list becomes `list` (letters, IPVS order); w[i] is the weight (and last
 * weight) of list[i] when the server is new to the list. Servers not in the list are trashed.
 */
static inline void set_list(struct xvs_gen *g, const char *list, const int32_t *w)
{
	struct xvs_svc *s = &g->svcs[SVC];
	unsigned n = (unsigned)strlen(list);
	for (unsigned i = 0; i < 26; i++)
		if (g->dests[DEST_SLOT(i)].state == XVS_SLOT_USED)
			g->dests[DEST_SLOT(i)].state = XVS_SLOT_TRASH;
	for (unsigned i = 0; i < n; i++) {
		struct xvs_dest *d = server(g, list[i]);
		if (d->state == XVS_SLOT_FREE || w)
			*d = (struct xvs_dest){ .af = XVS_AF_INET, .fwd = XVS_FWD_MASQ, .svc = SVC,
						.weight = w ? w[i] : 1, .last_weight = w ? w[i] : 1 };
		d->state = XVS_SLOT_USED;
		d->addr.v4 = 0x0a000000u | (uint32_t)(list[i] - 'A' + 1) << 24; /* 10.0.0.n */
		d->port_be = 0x5000;
		g->svc_dests[LIST_FIRST + i] = (uint16_t)DEST_SLOT(list[i] - 'A');
	}
	s->nb_dests = (uint16_t)n;
	g->nb_dests = DEST_SLOT(26);
	g->nb_svc_dests = LIST_FIRST + n;
	rebuild(g);
}

/* A fresh service with scheduler id over n servers A, B, ... of weights w (NULL: all 1). */
static inline void setup_svc(struct xvs_gen *g, enum xvs_sched_id id, const int32_t *w, unsigned n)
{
	cr_assert(n <= 26);
	struct xvs_svc *s = &g->svcs[SVC];
	*s = (struct xvs_svc){ .state = XVS_SLOT_USED, .af = XVS_AF_INET, .proto = XVS_PROTO_TCP,
			       .sched = (uint8_t)id, .port_be = 0x5000, .dest_first = LIST_FIRST,
			       .sched_epoch = 1, .sched_bind = 1 };
	s->addr.v4 = 0x640012c6; /* 198.18.0.100 */
	g->nb_svcs = SVC + 1;
	for (unsigned i = 0; i < 26; i++)
		g->dests[DEST_SLOT(i)] = (struct xvs_dest){ 0 };
	char list[27] = "";
	for (unsigned i = 0; i < n; i++)
		list[i] = (char)('A' + i);
	set_list(g, list, w);
}

static inline int pick_key(const struct xvs_gen *g, struct xvs_sched_state *st,
			   const struct xvs_sched_key *key)
{
	const struct xvs_svc *s = &g->svcs[SVC];
	return xvs_sched_all[s->sched]->pick(g, s, st, key);
}

static inline int pick(const struct xvs_gen *g, struct xvs_sched_state *st)
{
	return pick_key(g, st, &test_key);
}

/* The letter of a picked slot ('A'...), or '-' for none or a slot that is no server. */
static inline char letter_of(int slot)
{
	if (slot < 10 || (slot - 10) % 3 || (slot - 10) / 3 >= 26)
		return '-';
	return (char)('A' + (slot - 10) / 3);
}

/* Picks give the servers of seq in order ('-': no destination). */
static inline void expect_sequence(struct xvs_gen *g, struct xvs_sched_state *st, const char *seq)
{
	for (unsigned i = 0; seq[i]; i++) {
		char c = letter_of(pick(g, st));
		cr_assert_eq(c, seq[i], "pick %u: got %c, want %c (sequence %s)", i, c, seq[i], seq);
	}
}

/* Set a server's connection counts (this worker's). */
static inline void set_conns(char c, int64_t active, int64_t inactive)
{
	test_ctr[DEST_SLOT(c - 'A')].active = active;
	test_ctr[DEST_SLOT(c - 'A')].inactive = inactive;
}

static uint64_t rng_state;

static inline uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

#endif
