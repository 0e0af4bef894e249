/*
 * The health engine (see ctl_health.h): real servers' checks on the check loop thread,
 * verdicts handed to the daemon by the applier thread, scripts of committed events.
 *
 * Shared state and who touches it:
 *  - targets[] (one per real server with checks): created, run and freed by the loop
 *    thread; the pointer swaps and the status fields happen under mu, so that
 *    xvs_health_get_status may read them from any thread.
 *  - pending (the checks to run, from xvs_health_sync), results (verdicts for the
 *    applier), notify_pids (scripts to reap): under mu.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl_health.h"
#include "ctl_hsm.h"
#include "ctl_probe.h"

#define MS 1000000ULL
#define HLOG(fmt, ...) fprintf(stderr, "xvs-control: health: " fmt "\n", ##__VA_ARGS__)

/* What xvs_health_sync hands the loop for one real server. */
struct hc_desc {
	uint16_t slot;
	uint32_t epoch;
	uint8_t af;
	union xvs_ip addr;
	uint16_t port;
	bool alive;
	bool announce;
	int32_t weight;
	struct xvs_ctl_dest_hc *hc; /* a reference */
};

struct hc_target;

struct hc_check {
	struct hc_target *t;
	unsigned idx;
	struct xvs_hsm_cfg smc;
	struct xvs_hsm sm;
	struct hc_timer timer; /* the next attempt */
	struct hc_probe probe;
	int32_t dyn_weight;    /* misc_dynamic, -1 = none */
};

struct hc_target {
	struct xvs_health *h;
	uint16_t slot;
	uint32_t epoch;
	bool seen;              /* in the last sync */
	bool alive;             /* last verdict handed to the applier */
	int32_t weight;
	struct xvs_ctl_dest_hc *hc;
	unsigned nb;
	struct hc_check c[XVS_CHECK_MAX_PER_DEST];
	struct xvs_health_status st; /* under h->mu */
};

struct xvs_health {
	pthread_t loop_tid, apply_tid;
	bool loop_started, apply_started;
	struct hc_loop loop;
	struct hc_watch wake;
	xvs_health_apply_fn apply;
	void *arg;
	struct hc_target **targets; /* [XVS_MAX_DESTS] */
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool stop;                  /* under mu */
	bool sync_pending;          /* under mu */
	struct hc_desc *pending;    /* under mu */
	unsigned nb_pending;
	struct xvs_ctl_health_result *results; /* under mu */
	unsigned nb_results, cap_results;
	pid_t *notify_pids;         /* under mu */
	unsigned nb_notify, cap_notify;
};

static int64_t realtime_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wake_loop(struct xvs_health *h)
{
	uint64_t one = 1;
	if (write(h->wake.fd, &one, sizeof(one)) < 0) {
		/* the counter is non-zero already: the loop wakes anyway */
	}
}

/* ---- verdicts ------------------------------------------------------------------------ */

static int push_result(struct xvs_health *h, const struct xvs_ctl_health_result *r)
{
	if (h->nb_results == h->cap_results) {
		unsigned cap = h->cap_results ? 2 * h->cap_results : 64;
		struct xvs_ctl_health_result *v = realloc(h->results, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		h->results = v;
		h->cap_results = cap;
	}
	h->results[h->nb_results++] = *r;
	return 0;
}

/* The real server's state from its checkers; hand a change (or an announce) to the applier. */
static void target_verdict(struct hc_target *t, struct hc_check *c, bool announce, const char *text)
{
	const struct xvs_hsm *sms[XVS_CHECK_MAX_PER_DEST];
	int32_t dyn[XVS_CHECK_MAX_PER_DEST];
	for (unsigned i = 0; i < t->nb; i++) {
		sms[i] = &t->c[i].sm;
		dyn[i] = t->c[i].dyn_weight;
	}
	bool alive = xvs_hsm_dest_alive(sms, t->nb);
	int32_t weight = xvs_hsm_dest_weight(dyn, t->nb);
	if (alive == t->alive && weight == t->weight && !announce)
		return;
	struct xvs_ctl_health_result r = {.slot = t->slot, .epoch = t->epoch, .alive = alive,
					  .announce = announce, .weight = weight,
					  .when_ms = realtime_ms()};
	const char *kw = xvs_check_type_keyword(c->probe.cfg->type);
	snprintf(r.why, sizeof(r.why), "%s: %s", kw ? kw : "?", text);
	t->alive = alive;
	t->weight = weight;
	struct xvs_health *h = t->h;
	pthread_mutex_lock(&h->mu);
	if (push_result(h, &r) < 0)
		HLOG("verdict on slot %u lost: out of memory", t->slot);
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->mu);
}

static void update_status(struct hc_check *c, bool ok, const char *text)
{
	struct xvs_health *h = c->t->h;
	struct xvs_health_check_status *s = &c->t->st.c[c->idx];
	pthread_mutex_lock(&h->mu);
	s->up = c->sm.up;
	s->known = c->sm.has_run;
	s->nb_ok = c->sm.nb_ok;
	s->nb_fail = c->sm.nb_fail;
	s->retries = c->sm.retry_it;
	s->dyn_weight = c->dyn_weight;
	s->last_ms = realtime_ms();
	snprintf(s->last, sizeof(s->last), "%s%s", ok ? "" : "failed: ", text);
	pthread_mutex_unlock(&h->mu);
}

static void on_probe_done(struct hc_probe *p, bool ok, int code, const char *text)
{
	struct hc_check *c = (struct hc_check *)((char *)p - offsetof(struct hc_check, probe));
	struct hc_target *t = c->t;
	enum xvs_hsm_event ev = xvs_hsm_result(&c->sm, &c->smc, ok, hc_now());
	if (p->cfg->type == XVS_CHECK_SCRIPT && p->cfg->misc_dynamic) {
		/* keepalived: exit 2..255 sets weight code - 2, exit 0 the configured one; a
		 * failed check (its retries spent) drops the dynamic weight */
		if (ok)
			c->dyn_weight = code >= 2 ? code - 2 : -1;
		else if (!xvs_hsm_retrying(&c->sm))
			c->dyn_weight = -1;
	}
	hc_timer_arm(&t->h->loop, &c->timer, c->sm.next_ns);
	update_status(c, ok, text);
	target_verdict(t, c, ev == XVS_HSM_ANNOUNCE, text);
}

static void on_check_timer(struct hc_loop *l, struct hc_timer *tm)
{
	(void)l;
	struct hc_check *c = (struct hc_check *)((char *)tm - offsetof(struct hc_check, timer));
	if (!c->probe.running)
		hc_probe_start(&c->probe);
}

/* ---- targets ------------------------------------------------------------------------- */

static struct hc_target *target_new(struct xvs_health *h, struct hc_desc *d)
{
	struct hc_target *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	const struct xvs_dest_health_cfg *cfg = &d->hc->cfg;
	uint64_t now = hc_now();
	t->h = h;
	t->slot = d->slot;
	t->epoch = d->epoch;
	t->alive = d->alive;
	t->weight = d->weight;
	t->hc = d->hc;
	d->hc = NULL; /* the target owns the reference now */
	t->nb = cfg->nb_checks;
	t->st.nb_checks = t->nb;
	for (unsigned i = 0; i < t->nb; i++) {
		struct hc_check *c = &t->c[i];
		const struct xvs_check_cfg *cc = &cfg->checks[i];
		c->t = t;
		c->idx = i;
		c->smc = (struct xvs_hsm_cfg){cfg->interval_ms, cc->retry, cc->delay_before_retry_ms,
					      cfg->rise, cfg->fall};
		c->dyn_weight = -1;
		uint64_t warmup = cc->warmup_ms ? (uint64_t)(random() % (cc->warmup_ms + 1)) * MS : 0;
		xvs_hsm_start(&c->sm, d->alive, d->announce, now, warmup);
		c->probe = (struct hc_probe){.loop = &h->loop, .cfg = cc, .af = d->af, .addr = d->addr,
					     .port = d->port, .interval_ms = cfg->interval_ms,
					     .done = on_probe_done, .w.fd = -1, .deadline.idx = -1};
		c->timer = (struct hc_timer){.idx = -1, .fire = on_check_timer};
		t->st.c[i] = (struct xvs_health_check_status){.type = cc->type, .up = d->alive,
							      .dyn_weight = -1};
		hc_timer_arm(&h->loop, &c->timer, c->sm.next_ns);
	}
	/* a restored dynamic weight belongs to the first misc_dynamic checker */
	for (unsigned i = 0; d->weight >= 0 && i < t->nb; i++) {
		if (cfg->checks[i].type == XVS_CHECK_SCRIPT && cfg->checks[i].misc_dynamic) {
			t->c[i].dyn_weight = d->weight;
			break;
		}
	}
	return t;
}

static void target_free(struct xvs_health *h, struct hc_target *t)
{
	for (unsigned i = 0; i < t->nb; i++) {
		hc_probe_abort(&t->c[i].probe);
		hc_timer_disarm(&h->loop, &t->c[i].timer);
	}
	xvs_ctl_dest_hc_put(t->hc);
	free(t);
}

static void set_target(struct xvs_health *h, unsigned slot, struct hc_target *t)
{
	pthread_mutex_lock(&h->mu);
	struct hc_target *old = h->targets[slot];
	h->targets[slot] = t;
	pthread_mutex_unlock(&h->mu);
	if (old)
		target_free(h, old);
}

static void free_descs(struct hc_desc *v, unsigned nb)
{
	for (unsigned i = 0; v && i < nb; i++)
		xvs_ctl_dest_hc_put(v[i].hc);
	free(v);
}

/* Make the targets what the last sync asked for. Loop thread. */
static void reconcile(struct xvs_health *h)
{
	pthread_mutex_lock(&h->mu);
	struct hc_desc *v = h->pending;
	unsigned nb = h->nb_pending;
	bool any = h->sync_pending;
	h->pending = NULL;
	h->nb_pending = 0;
	h->sync_pending = false;
	pthread_mutex_unlock(&h->mu);
	if (!any)
		return;
	for (unsigned s = 0; s < XVS_MAX_DESTS; s++)
		if (h->targets[s])
			h->targets[s]->seen = false;
	for (unsigned i = 0; i < nb; i++) {
		struct hc_target *t = h->targets[v[i].slot];
		if (t && t->epoch == v[i].epoch) {
			t->seen = true;
			continue;
		}
		t = target_new(h, &v[i]);
		if (!t)
			HLOG("no memory for the checks of destination slot %u", v[i].slot);
		else
			t->seen = true;
		set_target(h, v[i].slot, t);
	}
	for (unsigned s = 0; s < XVS_MAX_DESTS; s++)
		if (h->targets[s] && !h->targets[s]->seen)
			set_target(h, s, NULL);
	free_descs(v, nb);
}

int xvs_health_sync(struct xvs_health *h, const struct xvs_ctl_model *m)
{
	if (!h)
		return 0;
	unsigned nb = 0;
	for (uint32_t i = 0; i < m->nb_dest_order; i++)
		nb += m->dests[m->dest_order[i]].hc != NULL;
	struct hc_desc *v = calloc(nb ? nb : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	nb = 0;
	for (uint32_t i = 0; i < m->nb_dest_order; i++) {
		unsigned slot = m->dest_order[i];
		const struct xvs_ctl_dest *d = &m->dests[slot];
		if (!d->hc)
			continue;
		v[nb++] = (struct hc_desc){.slot = (uint16_t)slot, .epoch = d->hc_epoch,
					   .af = d->cfg.af, .addr = d->cfg.addr, .port = d->cfg.port,
					   .alive = d->hc_alive,
					   .announce = d->hc_fresh && d->hc->cfg.alpha,
					   .weight = d->hc_weight,
					   .hc = xvs_ctl_dest_hc_get(d->hc)};
	}
	pthread_mutex_lock(&h->mu);
	free_descs(h->pending, h->nb_pending);
	h->pending = v;
	h->nb_pending = nb;
	h->sync_pending = true;
	pthread_mutex_unlock(&h->mu);
	wake_loop(h);
	return 0;
}

bool xvs_health_get_status(struct xvs_health *h, unsigned slot, uint32_t epoch,
			   struct xvs_health_status *st)
{
	bool found = false;
	if (!h || slot >= XVS_MAX_DESTS)
		return false;
	pthread_mutex_lock(&h->mu);
	const struct hc_target *t = h->targets[slot];
	if (t && t->epoch == epoch) {
		*st = t->st;
		found = true;
	}
	pthread_mutex_unlock(&h->mu);
	return found;
}

/* ---- threads ------------------------------------------------------------------------- */

static void on_wake(struct hc_loop *l, struct hc_watch *w, uint32_t events)
{
	(void)l;
	(void)events;
	uint64_t n;
	if (read(w->fd, &n, sizeof(n)) < 0) {
		/* nothing to read: another wake-up took it */
	}
}

/* Reap finished notify scripts (never waited for: they may run as long as they like). */
static void reap_notify(struct xvs_health *h)
{
	pthread_mutex_lock(&h->mu);
	for (unsigned i = 0; i < h->nb_notify;) {
		if (waitpid(h->notify_pids[i], NULL, WNOHANG) == 0)
			i++;
		else
			h->notify_pids[i] = h->notify_pids[--h->nb_notify];
	}
	pthread_mutex_unlock(&h->mu);
}

static void *loop_main(void *arg)
{
	struct xvs_health *h = arg;
	for (;;) {
		pthread_mutex_lock(&h->mu);
		bool stop = h->stop;
		bool reap = h->nb_notify > 0;
		pthread_mutex_unlock(&h->mu);
		if (stop)
			break;
		reconcile(h);
		if (reap)
			reap_notify(h);
		hc_loop_run_once(&h->loop, reap ? 100 : 1000);
	}
	for (unsigned s = 0; s < XVS_MAX_DESTS; s++)
		if (h->targets[s])
			set_target(h, s, NULL);
	return NULL;
}

/* Take the whole queue of verdicts, or NULL once stopping. Under mu. */
static struct xvs_ctl_health_result *take_results(struct xvs_health *h, unsigned *nb)
{
	while (!h->stop && h->nb_results == 0)
		pthread_cond_wait(&h->cond, &h->mu);
	if (h->stop)
		return NULL;
	struct xvs_ctl_health_result *v = h->results;
	*nb = h->nb_results;
	h->results = NULL;
	h->nb_results = h->cap_results = 0;
	return v;
}

/* A batch the daemon could not commit goes back in front of newer verdicts. Under mu. */
static void requeue(struct xvs_health *h, struct xvs_ctl_health_result *v, unsigned nb)
{
	struct xvs_ctl_health_result *all = malloc((nb + h->nb_results) * sizeof(*all));
	if (!all) {
		HLOG("%u verdicts lost: out of memory", nb);
		free(v);
		return;
	}
	memcpy(all, v, nb * sizeof(*all));
	if (h->nb_results)
		memcpy(all + nb, h->results, h->nb_results * sizeof(*all));
	free(h->results);
	free(v);
	h->results = all;
	h->nb_results += nb;
	h->cap_results = h->nb_results;
}

static void *apply_main(void *arg)
{
	struct xvs_health *h = arg;
	unsigned nb;
	pthread_mutex_lock(&h->mu);
	for (;;) {
		struct xvs_ctl_health_result *v = take_results(h, &nb);
		if (!v)
			break;
		pthread_mutex_unlock(&h->mu);
		int rc = h->apply ? h->apply(h->arg, v, nb) : 0;
		pthread_mutex_lock(&h->mu);
		if (rc == 0) {
			free(v);
			continue;
		}
		requeue(h, v, nb);
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		if (!h->stop)
			pthread_cond_timedwait(&h->cond, &h->mu, &until);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_start(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct xvs_health *xvs_health_start(xvs_health_apply_fn apply, void *arg, char *msg,
				    size_t msglen)
{
	struct xvs_health *h = calloc(1, sizeof(*h));
	if (h)
		h->targets = calloc(XVS_MAX_DESTS, sizeof(*h->targets));
	if (!h || !h->targets) {
		free(h);
		snprintf(msg, msglen, "health checks: out of memory");
		return NULL;
	}
	pthread_once(&curl_once, curl_start);
	h->apply = apply;
	h->arg = arg;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cond, NULL);
	h->wake = (struct hc_watch){.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), .on_event = on_wake};
	int rc = h->wake.fd < 0 ? -errno : hc_loop_init(&h->loop);
	if (rc == 0)
		rc = hc_watch_add(&h->loop, &h->wake, EPOLLIN);
	if (rc == 0 && (rc = -pthread_create(&h->loop_tid, NULL, loop_main, h)) == 0)
		h->loop_started = true;
	if (rc == 0 && (rc = -pthread_create(&h->apply_tid, NULL, apply_main, h)) == 0)
		h->apply_started = true;
	if (rc) {
		snprintf(msg, msglen, "health checks: cannot start: %s", strerror(-rc));
		xvs_health_stop(h);
		return NULL;
	}
	return h;
}

void xvs_health_stop(struct xvs_health *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	h->stop = true;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->mu);
	if (h->wake.fd >= 0)
		wake_loop(h);
	if (h->loop_started)
		pthread_join(h->loop_tid, NULL);
	if (h->apply_started)
		pthread_join(h->apply_tid, NULL);
	if (h->loop.epfd > 0)
		hc_loop_fini(&h->loop);
	if (h->wake.fd >= 0)
		close(h->wake.fd);
	free_descs(h->pending, h->nb_pending);
	free(h->results);
	free(h->notify_pids); /* left running: they were never ours to stop */
	free(h->targets);
	pthread_cond_destroy(&h->cond);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

/* ---- scripts of events --------------------------------------------------------------- */

static void run_script(struct xvs_health *h, const char *cmd, const char *event,
		       const struct xvs_ctl_hevent *ev)
{
	char e_event[64], e_svc[96], e_rs[80], e_why[160], err[160];
	const char *extra[] = {e_event, e_svc, e_rs, e_why, NULL};
	if (!cmd || !cmd[0])
		return;
	snprintf(e_event, sizeof(e_event), "XVS_EVENT=%s", event);
	snprintf(e_svc, sizeof(e_svc), "XVS_SERVICE=%s", ev->svc);
	snprintf(e_rs, sizeof(e_rs), "XVS_REAL_SERVER=%s", ev->dest);
	snprintf(e_why, sizeof(e_why), "XVS_REASON=%s", ev->why);
	pid_t pid = hc_spawn(cmd, NULL, extra, err, sizeof(err));
	if (pid < 0) {
		HLOG("%s of %s%s%s: cannot run '%s': %s", event, ev->svc, ev->dest[0] ? " " : "",
		     ev->dest, cmd, err);
		return;
	}
	pthread_mutex_lock(&h->mu);
	if (h->nb_notify == h->cap_notify) {
		unsigned cap = h->cap_notify ? 2 * h->cap_notify : 16;
		pid_t *v = realloc(h->notify_pids, cap * sizeof(*v));
		if (v) {
			h->notify_pids = v;
			h->cap_notify = cap;
		}
	}
	if (h->nb_notify < h->cap_notify)
		h->notify_pids[h->nb_notify++] = pid;
	pthread_mutex_unlock(&h->mu);
	wake_loop(h);
}

void xvs_health_run_events(struct xvs_health *h, const struct xvs_ctl_hevents *evs)
{
	for (unsigned i = 0; h && i < evs->nb; i++) {
		const struct xvs_ctl_hevent *ev = &evs->v[i];
		switch (ev->type) {
		case XVS_CTL_HEV_DEST_UP:
			if (ev->dest_hc)
				run_script(h, ev->dest_hc->cfg.notify_up, "notify_up", ev);
			break;
		case XVS_CTL_HEV_DEST_DOWN:
			if (ev->dest_hc)
				run_script(h, ev->dest_hc->cfg.notify_down, "notify_down", ev);
			break;
		case XVS_CTL_HEV_QUORUM_UP:
			if (ev->svc_hc)
				run_script(h, ev->svc_hc->cfg.quorum_up, "quorum_up", ev);
			break;
		case XVS_CTL_HEV_QUORUM_DOWN:
			if (ev->svc_hc)
				run_script(h, ev->svc_hc->cfg.quorum_down, "quorum_down", ev);
			break;
		default:
			break;
		}
	}
}

/* ---- one attempt on its own loop ----------------------------------------------------- */

struct once {
	struct hc_probe p;
	bool done, ok;
	int code;
	char text[160];
};

static void once_done(struct hc_probe *p, bool ok, int code, const char *text)
{
	struct once *o = (struct once *)((char *)p - offsetof(struct once, p));
	o->done = true;
	o->ok = ok;
	o->code = code;
	snprintf(o->text, sizeof(o->text), "%s", text);
}

int xvs_health_probe_once(const struct xvs_check_cfg *c, uint8_t af, const union xvs_ip *addr,
			  uint16_t port, uint32_t interval_ms, bool *ok, int *exit_code,
			  char *text, size_t textlen)
{
	struct hc_loop l;
	pthread_once(&curl_once, curl_start);
	int rc = hc_loop_init(&l);
	if (rc)
		return rc;
	struct once *o = calloc(1, sizeof(*o));
	if (!o) {
		hc_loop_fini(&l);
		return -ENOMEM;
	}
	o->p = (struct hc_probe){.loop = &l, .cfg = c, .af = af, .addr = *addr, .port = port,
				 .interval_ms = interval_ms, .done = once_done, .w.fd = -1,
				 .deadline.idx = -1};
	hc_probe_start(&o->p);
	while (!o->done)
		hc_loop_run_once(&l, 100);
	*ok = o->ok;
	*exit_code = o->code;
	snprintf(text, textlen, "%s", o->text);
	free(o);
	hc_loop_fini(&l);
	return 0;
}
