/*
 * Building table generations from the model and publishing them to the dataplane.
 *
 * Publication is a seqlock per slot plus one release store of the published word: the
 * dataplane copies a slot out and re-checks slot_gen, so a copy that raced with our writing
 * is retried rather than trusted. We only ever write the slot the dataplane does not run.
 *
 * Also the daemon's cycle around it: a committed change is built, published, then saved;
 * the housekeeping tick republishes whenever the region or the dataplane lost track of it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl_overlay.h"
#include "ctl_persist.h"
#include "ctl_publish.h"
#include "xvs/gen.h"
#include "xvs/sched.h"
#include "xvs/wire.h"

/* ---- building ------------------------------------------------------------------------ */

static void fill_svc(struct xvs_svc *s, const struct xvs_ctl_svc *c)
{
	s->state = XVS_SLOT_USED;
	s->af = c->cfg.af;
	s->proto = c->cfg.proto;
	s->sched = c->sched_id;
	s->port_be = htons(c->cfg.port);
	s->flags = c->cfg.flags | (c->cfg.persistent ? XVS_SVC_F_PERSISTENT : 0) |
		   (c->cfg.ops ? XVS_SVC_F_ONEPACKET : 0);
	s->addr = c->cfg.addr;
	s->persist_timeout = c->cfg.persistent;
	s->netmask = c->cfg.netmask.w[0];
	s->sched_epoch = c->sched_epoch;
	s->sched_bind = c->sched_bind;
	s->fwmark = c->cfg.fwmark;
}

/* A destination as IPVS would hold it: one that health checks (or a missing quorum) took
 * out is there as a deleted one (TRASH), an inhibited one at weight 0. */
static void fill_dest(struct xvs_dest *d, const struct xvs_ctl_model *m, unsigned slot)
{
	const struct xvs_ctl_dest *c = &m->dests[slot];
	int32_t weight = (int32_t)c->cfg.weight;
	bool in = c->state == XVS_SLOT_USED && xvs_ctl_overlay_view(m, slot, &weight);
	d->last_weight = c->last_weight;
	d->state = c->state == XVS_SLOT_USED && !in ? XVS_SLOT_TRASH : c->state;
	d->af = c->cfg.af;
	d->fwd = c->cfg.fwd;
	d->tun_type = c->cfg.tun_type;
	d->port_be = htons(c->cfg.port);
	d->svc = c->svc;
	d->weight = weight;
	d->u_thresh = (uint32_t)c->cfg.u_thresh;
	d->l_thresh = (uint32_t)c->cfg.l_thresh;
	d->tun_port_be = htons(c->cfg.tun_port);
	d->tun_flags = c->cfg.tun_flags;
	d->addr = c->cfg.addr;
}

/* Copy services and destinations to their slots; a held (trash) service slot counts in
 * nb_svcs so that its trashed destinations still name a slot in range. */
static void fill_slots(const struct xvs_ctl_model *m, struct xvs_gen *g)
{
	for (unsigned i = 0; i < XVS_MAX_SVCS; i++) {
		if (m->svcs[i].state == XVS_SLOT_FREE)
			continue;
		g->nb_svcs = i + 1;
		if (m->svcs[i].state == XVS_SLOT_USED)
			fill_svc(&g->svcs[i], &m->svcs[i]);
	}
	for (unsigned i = 0; i < XVS_MAX_DESTS; i++) {
		if (m->dests[i].state == XVS_SLOT_FREE)
			continue;
		g->nb_dests = i + 1;
		fill_dest(&g->dests[i], m, i);
	}
}

/*
 * Each service's live destinations, contiguous in svc_dests[], in IPVS's order: the newest
 * first (IPVS adds a destination at the head of the service's list), so the reverse of the
 * insertion order. Only those in the IPVS view (fill_dest marked the others TRASH).
 */
static void fill_lists(const struct xvs_ctl_model *m, struct xvs_gen *g)
{
	uint32_t pos = 0;
	for (uint32_t i = 0; i < m->nb_svc_order; i++) {
		unsigned s = m->svc_order[i];
		g->svcs[s].dest_first = 0; /* counted below, placed after */
		g->svcs[s].nb_dests = 0;
	}
	for (uint32_t i = 0; i < m->nb_dest_order; i++)
		if (g->dests[m->dest_order[i]].state == XVS_SLOT_USED)
			g->svcs[m->dests[m->dest_order[i]].svc].nb_dests++;
	for (uint32_t i = 0; i < m->nb_svc_order; i++) {
		struct xvs_svc *s = &g->svcs[m->svc_order[i]];
		s->dest_first = (uint16_t)pos;
		pos += s->nb_dests;
		s->nb_dests = 0;
	}
	for (uint32_t i = m->nb_dest_order; i-- > 0;) {
		unsigned d = m->dest_order[i];
		struct xvs_svc *s = &g->svcs[m->dests[d].svc];
		if (g->dests[d].state == XVS_SLOT_USED)
			g->svc_dests[s->dest_first + s->nb_dests++] = (uint16_t)d;
	}
	g->nb_svc_dests = pos;
}

/* The mark rules in order, each tied to the fwmark service of its mark and family (if any). */
static void fill_marks(const struct xvs_ctl_model *m, struct xvs_gen *g)
{
	for (uint32_t i = 0; i < m->nb_marks && i < XVS_MAX_MARKS; i++) {
		const struct xvs_ctl_mark_cfg *c = &m->marks[i];
		int svc = xvs_ctl_model_find_fwmark(m, c->mark, c->af);
		g->marks[i] = (struct xvs_mark_rule){
			.af = c->af, .proto = c->proto, .plen = c->plen, .port_lo = c->port_lo,
			.port_hi = c->port_hi, .mark = c->mark, .svc = (uint16_t)(svc + 1),
			.prefix = c->prefix, .mask = xvs_gen_prefix_mask(c->af, c->plen),
		};
	}
	g->nb_marks = m->nb_marks;
}

/* Every service's scheduler data, tables into g's pool. */
static int build_sched(const struct xvs_ctl_model *m, struct xvs_gen *g, char *msg, size_t msglen)
{
	const struct xvs_dest **list = malloc(XVS_MAX_DESTS * sizeof(*list));
	if (!list)
		return -ENOMEM;
	char why[256] = "";
	struct xvs_sched_tab_build tb = { .g = g, .params = m->sched_params, .msg = why,
					  .msglen = sizeof(why) };
	int rc = 0;
	for (uint32_t i = 0; i < m->nb_svc_order && rc == 0; i++) {
		struct xvs_svc *s = &g->svcs[m->svc_order[i]];
		const struct xvs_sched_ops *ops = s->sched < XVS_SCHED_MAX ? xvs_sched_all[s->sched] : NULL;
		if (!ops) {
			snprintf(msg, msglen, "service slot %u: no scheduler %u", m->svc_order[i], s->sched);
			rc = -EINVAL;
			break;
		}
		for (unsigned k = 0; k < s->nb_dests; k++)
			list[k] = &g->dests[g->svc_dests[s->dest_first + k]];
		rc = ops->build_tab ? ops->build_tab(&tb, s, list, s->nb_dests)
				    : ops->build(s, list, s->nb_dests);
		if (rc)
			snprintf(msg, msglen, "scheduler %s failed on service slot %u: %s", ops->name,
				 m->svc_order[i], why[0] ? why : strerror(-rc));
	}
	free(list);
	return rc;
}

int xvs_ctl_build_gen(const struct xvs_ctl_model *m, struct xvs_gen *g, char *msg, size_t msglen)
{
	memset(g, 0, sizeof(*g));
	g->timeouts = m->timeouts;
	memcpy(g->sync, m->sync, sizeof(g->sync));
	fill_slots(m, g);
	fill_lists(m, g);
	fill_marks(m, g);
	int rc = build_sched(m, g, msg, msglen);
	if (rc)
		return rc;
	if (xvs_gen_build_vip_hash(g) < 0) {
		snprintf(msg, msglen, "VIP hash table full");
		return -ENOSPC;
	}
	/* Check it as the dataplane will, so that a bug here is reported to the client rather
	 * than found as a refusal; publication re-seals with the real number. */
	g->gen = 1;
	xvs_gen_seal(g);
	char why[160];
	if (xvs_gen_validate(g, why, sizeof(why)) < 0) {
		snprintf(msg, msglen, "internal error, generation invalid: %s", why);
		return -EINVAL;
	}
	g->gen = m->last_gen;
	return 0;
}

/* ---- publishing ---------------------------------------------------------------------- */

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t next_gen(const struct xvs_shm_hdr *h, uint64_t floor)
{
	uint64_t n = floor;
	n = max_u64(n, XVS_PUB_GEN(atomic_load_explicit(&h->published, memory_order_acquire)));
	n = max_u64(n, XVS_PUB_GEN(atomic_load_explicit(&h->adopted, memory_order_acquire)));
	n = max_u64(n, atomic_load_explicit(&h->slot_gen[0], memory_order_acquire));
	n = max_u64(n, atomic_load_explicit(&h->slot_gen[1], memory_order_acquire));
	n = max_u64(n, atomic_load_explicit(&h->refused_gen, memory_order_acquire));
	return n + 1;
}

/* Outcome of word (generation gen) so far: adopted, refused, or -1 while pending. */
static int outcome(const struct xvs_shm_hdr *h, uint64_t word)
{
	if (atomic_load_explicit(&h->adopted, memory_order_acquire) == word)
		return XVS_PUB_ADOPTED;
	if (atomic_load_explicit(&h->refused_gen, memory_order_acquire) == XVS_PUB_GEN(word))
		return XVS_PUB_REFUSED;
	return -1;
}

/* Wait until word is adopted or refused, the dataplane goes away, or timeout_ms passes. */
static int wait_outcome(const struct xvs_shm *shm, uint64_t word, unsigned timeout_ms)
{
	uint64_t deadline = xvs_now_ns() + (uint64_t)timeout_ms * 1000000ULL;
	for (;;) {
		int r = outcome(shm->hdr, word);
		if (r >= 0)
			return r;
		if (!xvs_shm_dataplane_alive(shm))
			return XVS_PUB_ABSENT;
		if (xvs_now_ns() >= deadline)
			return XVS_PUB_TIMEOUT;
		sleep_ms(1);
	}
}

/* Seqlock write of one slot: readers that overlap see slot_gen 0 or a changed value. */
static void write_slot(struct xvs_shm *shm, unsigned slot, const struct xvs_gen *g)
{
	struct xvs_shm_hdr *h = shm->hdr;
	atomic_store_explicit(&h->slot_gen[slot], 0, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	memcpy(xvs_shm_slot(shm, slot), g, sizeof(*g));
	atomic_store_explicit(&h->slot_gen[slot], g->gen, memory_order_release);
}

static void report(int r, const struct xvs_shm_hdr *h, uint64_t gen, unsigned timeout_ms,
		   char *msg, size_t msglen)
{
	char reason[sizeof(h->refuse_reason) + 1];
	switch (r) {
	case XVS_PUB_ADOPTED:
		snprintf(msg, msglen, "generation %llu adopted by the dataplane (pid %llu)",
			 (unsigned long long)gen, (unsigned long long)atomic_load(&h->dp_pid));
		break;
	case XVS_PUB_ABSENT:
		snprintf(msg, msglen, "no dataplane is running; generation %llu will be applied "
				      "when one attaches", (unsigned long long)gen);
		break;
	case XVS_PUB_REFUSED:
		memcpy(reason, h->refuse_reason, sizeof(h->refuse_reason));
		reason[sizeof(h->refuse_reason)] = '\0';
		snprintf(msg, msglen, "the dataplane refused generation %llu: %s",
			 (unsigned long long)gen, reason);
		break;
	default:
		snprintf(msg, msglen, "the dataplane did not adopt generation %llu within %u ms",
			 (unsigned long long)gen, timeout_ms);
		break;
	}
}

int xvs_ctl_publish(struct xvs_shm *shm, struct xvs_gen *g, unsigned timeout_ms, char *msg,
		    size_t msglen)
{
	if (!shm || !shm->hdr || !g)
		return -EINVAL;
	struct xvs_shm_hdr *h = shm->hdr;
	atomic_store_explicit(&h->control_pid, (uint64_t)getpid(), memory_order_relaxed);

	/* One generation in flight at a time: let the previous one land first. Past the
	 * timeout we go on anyway; the seqlock keeps a late reader from trusting a torn copy. */
	uint64_t prev = atomic_load_explicit(&h->published, memory_order_acquire);
	if (prev && xvs_shm_dataplane_alive(shm) && outcome(h, prev) < 0)
		wait_outcome(shm, prev, timeout_ms);

	uint64_t adopted = atomic_load_explicit(&h->adopted, memory_order_acquire);
	unsigned slot = XVS_PUB_SLOT(adopted) ^ 1u;
	g->gen = next_gen(h, g->gen);
	xvs_gen_seal(g);
	write_slot(shm, slot, g);
	uint64_t word = XVS_PUB(g->gen, slot);
	atomic_store_explicit(&h->published, word, memory_order_release);

	int r = xvs_shm_dataplane_alive(shm) ? wait_outcome(shm, word, timeout_ms) : XVS_PUB_ABSENT;
	report(r, h, g->gen, timeout_ms, msg, msglen);
	return r;
}

const char *xvs_ctl_pub_result_name(int result)
{
	switch (result) {
	case XVS_PUB_ADOPTED:
		return XVS_WIRE_DP_ADOPTED;
	case XVS_PUB_ABSENT:
		return XVS_WIRE_DP_ABSENT;
	case XVS_PUB_REFUSED:
		return XVS_WIRE_DP_REFUSED;
	case XVS_PUB_TIMEOUT:
		return XVS_WIRE_DP_TIMEOUT;
	}
	return XVS_WIRE_DP_ERROR;
}

/* ---- the daemon's model, published and saved ----------------------------------------- */

#define CTL_LOG(fmt, ...) fprintf(stderr, "xvs-control: " fmt "\n", ##__VA_ARGS__)

/* Build m into c->gen and publish it; on success m->last_gen is its number. */
static int publish_model(struct xvs_ctl *c, struct xvs_ctl_model *m, struct xvs_ctl_result *res,
			 struct xvs_ctl_err *err)
{
	int rc = xvs_ctl_build_gen(m, c->gen, err->msg, sizeof(err->msg));
	if (rc) {
		err->err = -rc;
		return rc;
	}
	int r = xvs_ctl_publish(c->shm, c->gen, c->timeout_ms, res->msg, sizeof(res->msg));
	if (r < 0) {
		snprintf(err->msg, sizeof(err->msg), "publication failed: %s", strerror(-r));
		err->err = -r;
		return r;
	}
	m->last_gen = c->gen->gen;
	c->last_word = atomic_load_explicit(&c->shm->hdr->published, memory_order_acquire);
	res->pub = r;
	res->gen = m->last_gen;
	return 0;
}

/* A failed save is reported, not undone: the dataplane already runs the change. */
static void save(struct xvs_ctl *c, struct xvs_ctl_result *res)
{
	char msg[256];
	if (xvs_ctl_persist_save(c->model, c->state_path, msg, sizeof(msg)) == 0)
		return;
	CTL_LOG("%s", msg);
	if (res) {
		size_t n = strlen(res->msg);
		snprintf(res->msg + n, sizeof(res->msg) - n, "; NOT SAVED: %s", msg);
	}
}

/* Log what a committed change did to health and the IPVS view, and run its scripts. */
static void health_aftermath(struct xvs_ctl *c, struct xvs_ctl_hevents *ev)
{
	char line[512];
	for (unsigned i = 0; i < ev->nb; i++) {
		xvs_ctl_hevent_text(&ev->v[i], line, sizeof(line));
		CTL_LOG("%s", line);
	}
	if (ev->lost)
		CTL_LOG("%u more health events lost (out of memory)", ev->lost);
	xvs_health_run_events(c->health, ev);
	xvs_ctl_hevents_clear(ev);
}

/*
 * Apply ops to a copy of the model and refresh its IPVS view; events go to c->events.
 * Returns the copy (NULL with err filled) and in *changes how many places in the view moved.
 */
static struct xvs_ctl_model *apply_copy(struct xvs_ctl *c, const struct xvs_ctl_op *ops,
					unsigned nb, struct xvs_ctl_err *err, unsigned *changes)
{
	struct xvs_ctl_model *copy = xvs_ctl_model_dup(c->model);
	if (!copy) {
		snprintf(err->msg, sizeof(err->msg), "Memory allocation problem");
		err->err = ENOMEM;
		return NULL;
	}
	copy->sink = &c->events;
	int rc = xvs_ctl_model_apply_ops(copy, ops, nb, err);
	if (rc == 0)
		*changes = xvs_ctl_overlay_refresh(copy, 0);
	copy->sink = NULL;
	if (rc) {
		xvs_ctl_hevents_clear(&c->events);
		xvs_ctl_model_free(copy);
		return NULL;
	}
	return copy;
}

int xvs_ctl_commit(struct xvs_ctl *c, const struct xvs_ctl_op *ops, unsigned nb,
		   struct xvs_ctl_err *err, struct xvs_ctl_result *res)
{
	unsigned changes = 0;
	memset(res, 0, sizeof(*res));
	memset(err, 0, sizeof(*err));
	err->index = -1;
	struct xvs_ctl_model *copy = apply_copy(c, ops, nb, err, &changes);
	if (!copy)
		return -err->err;
	int rc = publish_model(c, copy, res, err);
	if (rc) {
		xvs_ctl_hevents_clear(&c->events);
		xvs_ctl_model_free(copy);
		return rc;
	}
	xvs_ctl_model_free(c->model);
	c->model = copy;
	save(c, res);
	health_aftermath(c, &c->events);
	if (xvs_health_sync(c->health, c->model) < 0)
		CTL_LOG("health checks not updated: out of memory");
	return 0;
}

int xvs_ctl_health_commit(struct xvs_ctl *c, const struct xvs_ctl_health_result *r, unsigned nb)
{
	struct xvs_ctl_err err = {.index = -1};
	struct xvs_ctl_result res = {0};
	unsigned changes = 0;
	struct xvs_ctl_op *ops = calloc(nb ? nb : 1, sizeof(*ops));
	if (!ops)
		return -ENOMEM;
	for (unsigned i = 0; i < nb; i++) {
		xvs_ctl_op_init(&ops[i], XVS_CTL_OP_HEALTH_RESULT);
		ops[i].result = r[i];
	}
	struct xvs_ctl_model *copy = apply_copy(c, ops, nb, &err, &changes);
	xvs_ctl_ops_free(ops, nb);
	if (!copy) {
		CTL_LOG("health results not applied: %s", err.msg);
		return -err.err;
	}
	/* Verdicts that leave the IPVS view as it is need no generation. */
	int rc = changes ? publish_model(c, copy, &res, &err) : 0;
	if (rc) {
		CTL_LOG("health results not published: %s", err.msg);
		xvs_ctl_hevents_clear(&c->events);
		xvs_ctl_model_free(copy);
		return rc;
	}
	xvs_ctl_model_free(c->model);
	c->model = copy;
	save(c, NULL);
	health_aftermath(c, &c->events);
	if (changes)
		CTL_LOG("%s", res.msg);
	return 0;
}

static int republish(struct xvs_ctl *c, const char *why)
{
	struct xvs_ctl_result res = {0};
	struct xvs_ctl_err err = {0};
	CTL_LOG("publishing the configuration: %s", why);
	int rc = publish_model(c, c->model, &res, &err);
	if (rc) {
		CTL_LOG("%s", err.msg);
		return rc;
	}
	CTL_LOG("%s", res.msg);
	save(c, NULL);
	return 0;
}

int xvs_ctl_init(struct xvs_ctl *c, struct xvs_shm *shm, const char *shm_path,
		 const char *state_path, const struct xvs_sched_params *params, char *msg,
		 size_t msglen)
{
	memset(c, 0, sizeof(*c));
	c->shm = shm;
	c->shm_path = shm_path;
	c->state_path = state_path;
	c->timeout_ms = XVS_CTL_PUBLISH_TIMEOUT_MS;
	c->gen = malloc(sizeof(*c->gen));
	c->rates = calloc(1, sizeof(*c->rates));
	c->model = xvs_ctl_model_new(shm);
	if (!c->gen || !c->rates || !c->model) {
		xvs_ctl_fini(c);
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	if (params)
		c->model->sched_params = *params;
	int rc = xvs_ctl_persist_load(c->model, state_path, msg, msglen);
	if (rc && rc != -ENOENT) {
		xvs_ctl_fini(c);
		return rc;
	}
	if (rc == -ENOENT)
		CTL_LOG("%s: starting with an empty configuration", msg);
	else
		CTL_LOG("restored %u services from %s (generation %llu)", c->model->nb_svc_order,
			state_path, (unsigned long long)c->model->last_gen);
	rc = republish(c, "start");
	if (rc < 0) {
		snprintf(msg, msglen, "cannot publish the configuration: %s", strerror(-rc));
		xvs_ctl_fini(c);
		return rc;
	}
	return 0;
}

void xvs_ctl_fini(struct xvs_ctl *c)
{
	xvs_ctl_hevents_free(&c->events);
	xvs_ctl_model_free(c->model);
	free(c->gen);
	free(c->rates);
	c->model = NULL;
	c->gen = NULL;
	c->rates = NULL;
}

/* The region file was replaced (a dataplane recreated it): map the new one. */
static void follow_region(struct xvs_ctl *c)
{
	struct stat now, ours;
	int gone = stat(c->shm_path, &now) < 0;
	if (fstat(c->shm->fd, &ours) < 0)
		return;
	if (gone ? xvs_shm_dataplane_alive(c->shm)
		 : now.st_ino == ours.st_ino && now.st_dev == ours.st_dev)
		return;
	struct xvs_shm fresh;
	int rc = xvs_shm_open(&fresh, c->shm_path, 0);
	if (rc < 0) {
		CTL_LOG("cannot map the new region %s: %s%s", c->shm_path, strerror(-rc),
			xvs_shm_open_hint(rc));
		return;
	}
	if ((rc = xvs_shm_lock_writer(&fresh)) < 0) {
		CTL_LOG("the new region %s: %s", c->shm_path,
			rc == -EBUSY ? "another xvs-control writes to it" : strerror(-rc));
		xvs_shm_close(&fresh);
		return;
	}
	CTL_LOG("region %s was %s; mapped it again", c->shm_path, gone ? "removed" : "recreated");
	xvs_shm_close(c->shm);
	*c->shm = fresh;
	c->dp_pid = 0;
	xvs_ctl_model_reset_baselines(c->model, 0);
	republish(c, "the region is new");
}

/* A dataplane that attached since the last tick must come to run our generation. */
static void follow_dataplane(struct xvs_ctl *c, uint64_t now_ns)
{
	const struct xvs_shm_hdr *h = c->shm->hdr;
	uint64_t pid = atomic_load_explicit(&h->dp_pid, memory_order_acquire);
	if (pid != c->dp_pid) {
		CTL_LOG("dataplane pid %llu attached", (unsigned long long)pid);
		c->dp_pid = pid;
		c->dp_since_ns = now_ns;
		c->dp_checked = false;
		if (pid != c->model->base_dp_pid) {
			/* Its counters start from zero: old baselines would hide them. */
			xvs_ctl_model_reset_baselines(c->model, pid);
			save(c, NULL);
		}
	}
	if (c->dp_checked)
		return;
	uint64_t adopted = atomic_load_explicit(&h->adopted, memory_order_acquire);
	uint64_t refused = atomic_load_explicit(&h->refused_gen, memory_order_acquire);
	if (adopted == c->last_word || refused == XVS_PUB_GEN(c->last_word)) {
		c->dp_checked = true;
	} else if (now_ns - c->dp_since_ns >= 2ULL * 1000000000ULL) {
		c->dp_checked = true;
		republish(c, "the dataplane did not pick up the current generation");
	}
}

void xvs_ctl_tick(struct xvs_ctl *c, uint64_t now_ns)
{
	follow_region(c);
	bool alive = xvs_shm_dataplane_alive(c->shm);
	if (atomic_load_explicit(&c->shm->hdr->published, memory_order_acquire) != c->last_word)
		republish(c, "the region does not hold our generation");
	else if (alive)
		follow_dataplane(c, now_ns);
	xvs_ctl_rates_update(c->rates, c->model, now_ns);
	unsigned n = xvs_ctl_model_purge(c->model, now_ns, alive);
	if (n)
		CTL_LOG("purged %u destinations from the trash", n);
}
