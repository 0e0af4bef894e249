/*
 * The health overlay on the configuration model (see ctl_overlay.h): the health ops, the
 * quorum and sorry-server rules, and the refresh that turns verdicts into the IPVS view.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_model_priv.h"
#include "ctl_overlay.h"

/* ---- events -------------------------------------------------------------------------- */

static void ev_drop(struct xvs_ctl_hevent *ev)
{
	xvs_ctl_dest_hc_put(ev->dest_hc);
	xvs_ctl_svc_hc_put(ev->svc_hc);
}

void xvs_ctl_hevents_clear(struct xvs_ctl_hevents *e)
{
	for (unsigned i = 0; i < e->nb; i++)
		ev_drop(&e->v[i]);
	e->nb = 0;
	e->lost = 0;
}

void xvs_ctl_hevents_free(struct xvs_ctl_hevents *e)
{
	xvs_ctl_hevents_clear(e);
	free(e->v);
	memset(e, 0, sizeof(*e));
}

void xvs_ctl_svc_name(const struct xvs_ctl_svc_cfg *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	if (c->fwmark) {
		snprintf(buf, len, "FWM %u%s", c->fwmark, c->af == XVS_AF_INET6 ? " IPv6" : "");
		return;
	}
	const char *p = c->proto == XVS_PROTO_UDP ? "UDP" : c->proto == XVS_PROTO_TCP ? "TCP" : "SCTP";
	inet_ntop(c->af == XVS_AF_INET6 ? AF_INET6 : AF_INET, c->addr.v6, a, sizeof(a));
	snprintf(buf, len, c->af == XVS_AF_INET6 ? "%s [%s]:%u" : "%s %s:%u", p, a, c->port);
}

void xvs_ctl_dest_name(const struct xvs_ctl_dest_cfg *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	inet_ntop(c->af == XVS_AF_INET6 ? AF_INET6 : AF_INET, c->addr.v6, a, sizeof(a));
	snprintf(buf, len, c->af == XVS_AF_INET6 ? "[%s]:%u" : "%s:%u", a, c->port);
}

/* A new event about service svc (and destination dest, -1 for none), or NULL. */
static struct xvs_ctl_hevent *push(struct xvs_ctl_model *m, enum xvs_ctl_hev_type t,
				   unsigned svc, int dest)
{
	struct xvs_ctl_hevents *e = m->sink;
	if (!e)
		return NULL;
	if (e->nb == e->cap) {
		unsigned cap = e->cap ? 2 * e->cap : 16;
		struct xvs_ctl_hevent *v = realloc(e->v, cap * sizeof(*v));
		if (!v) {
			e->lost++;
			return NULL;
		}
		e->v = v;
		e->cap = cap;
	}
	struct xvs_ctl_hevent *ev = &e->v[e->nb++];
	memset(ev, 0, sizeof(*ev));
	ev->type = t;
	xvs_ctl_svc_name(&m->svcs[svc].cfg, ev->svc, sizeof(ev->svc));
	if (dest >= 0)
		xvs_ctl_dest_name(&m->dests[dest].cfg, ev->dest, sizeof(ev->dest));
	return ev;
}

static void view_text(const struct xvs_ctl_hevent *ev, const char *what, char *buf, size_t len)
{
	if (!ev->in_ipvs)
		snprintf(buf, len, "%s: %s %s removed from IPVS", ev->svc, what, ev->dest);
	else if (!ev->was_in)
		snprintf(buf, len, "%s: %s %s added to IPVS with weight %d", ev->svc, what, ev->dest,
			 ev->weight);
	else
		snprintf(buf, len, "%s: %s %s weight %d -> %d", ev->svc, what, ev->dest,
			 ev->was_weight, ev->weight);
}

void xvs_ctl_hevent_text(const struct xvs_ctl_hevent *ev, char *buf, size_t len)
{
	switch (ev->type) {
	case XVS_CTL_HEV_DEST_UP:
	case XVS_CTL_HEV_DEST_DOWN:
		snprintf(buf, len, "%s: real server %s is %s (%s)", ev->svc, ev->dest,
			 ev->type == XVS_CTL_HEV_DEST_UP ? "up" : "down", ev->why);
		break;
	case XVS_CTL_HEV_VIEW:
		view_text(ev, "real server", buf, len);
		break;
	case XVS_CTL_HEV_SORRY:
		view_text(ev, "sorry server", buf, len);
		break;
	case XVS_CTL_HEV_QUORUM_UP:
		snprintf(buf, len, "%s: gained quorum (live weight %lld >= %lld)", ev->svc,
			 (long long)ev->sum, (long long)ev->threshold);
		break;
	case XVS_CTL_HEV_QUORUM_DOWN:
		snprintf(buf, len, "%s: %s (live weight %lld, threshold %lld)", ev->svc, ev->why,
			 (long long)ev->sum, (long long)ev->threshold);
		break;
	}
}

/* ---- the view ------------------------------------------------------------------------ */

static bool alive(const struct xvs_ctl_dest *d)
{
	return !d->hc || d->hc_alive;
}

static int32_t eff_weight(const struct xvs_ctl_dest *d)
{
	return d->hc && d->hc_weight >= 0 ? d->hc_weight : (int32_t)d->cfg.weight;
}

static bool has_sorry(const struct xvs_ctl_svc *s)
{
	return s->hc && s->hc->cfg.has_sorry;
}

/* Without quorum, a service with a sorry server runs on it alone. */
static bool sorry_in(const struct xvs_ctl_svc *s)
{
	return has_sorry(s) && !s->quorum_up;
}

bool xvs_ctl_overlay_view(const struct xvs_ctl_model *m, unsigned slot, int32_t *weight)
{
	const struct xvs_ctl_dest *d = &m->dests[slot];
	const struct xvs_ctl_svc *s = &m->svcs[d->svc];
	*weight = 0;
	if (d->state != XVS_SLOT_USED)
		return false;
	if (d->role == XVS_CTL_DEST_SORRY) {
		if (sorry_in(s)) {
			*weight = (int32_t)d->cfg.weight;
			return true;
		}
		return has_sorry(s) && s->hc->cfg.sorry_inhibit;
	}
	if (!sorry_in(s) && alive(d)) {
		*weight = eff_weight(d);
		return true;
	}
	return d->hc && d->hc->cfg.inhibit_on_failure;
}

/* The destination IPVS gets for service s's sorry server (keepalived: weight 1; DR and TUN
 * take the service's port, NAT the given one or the service's). */
static void sorry_cfg(const struct xvs_ctl_svc_cfg *svc, const struct xvs_svc_health_cfg *h,
		      struct xvs_ctl_dest_cfg *d)
{
	xvs_ctl_dest_cfg_default(d);
	d->af = h->sorry_af;
	d->addr = h->sorry_addr;
	d->fwd = h->sorry_fwd;
	d->weight = 1;
	d->port = h->sorry_fwd == XVS_FWD_MASQ && h->sorry_port ? h->sorry_port : svc->port;
}

static bool same_dest(const struct xvs_ctl_dest_cfg *a, const struct xvs_ctl_dest_cfg *b)
{
	return a->af == b->af && a->port == b->port && a->fwd == b->fwd && a->weight == b->weight &&
	       xvs_ip_eq(&a->addr, &b->addr);
}

bool xvs_ctl_overlay_is_sorry(const struct xvs_ctl_model *m, unsigned svc,
			      const struct xvs_ctl_dest_cfg *key)
{
	const struct xvs_ctl_svc *s = &m->svcs[svc];
	struct xvs_ctl_dest_cfg d;
	if (!has_sorry(s))
		return false;
	sorry_cfg(&s->cfg, &s->hc->cfg, &d);
	return d.af == key->af && d.port == key->port && xvs_ip_eq(&d.addr, &key->addr);
}

/* ---- hooks of the model's ops -------------------------------------------------------- */

static void dest_health_reset(struct xvs_ctl_dest *d)
{
	xvs_ctl_dest_hc_put(d->hc);
	d->hc = NULL;
	d->hc_alive = true;
	d->hc_fresh = false;
	d->hc_weight = -1;
	d->hc_epoch = 0;
	d->hc_since_ms = 0;
}

void xvs_ctl_overlay_dest_added(struct xvs_ctl_model *m, unsigned slot)
{
	struct xvs_ctl_dest *d = &m->dests[slot];
	dest_health_reset(d);
	d->role = XVS_CTL_DEST_REAL;
	d->in_ipvs = true; /* IPVS lists what is added; a refresh may take it out again */
	d->ipvs_weight = (int32_t)d->cfg.weight;
}

void xvs_ctl_overlay_dest_removed(struct xvs_ctl_model *m, unsigned slot)
{
	struct xvs_ctl_dest *d = &m->dests[slot];
	/* keepalived runs notify_down for a live server it removes (a reload without it) */
	if (d->role == XVS_CTL_DEST_REAL && d->hc && d->hc_alive) {
		struct xvs_ctl_hevent *ev = push(m, XVS_CTL_HEV_DEST_DOWN, d->svc, (int)slot);
		if (ev) {
			snprintf(ev->why, sizeof(ev->why), "deleted");
			ev->dest_hc = xvs_ctl_dest_hc_get(d->hc);
		}
	}
	dest_health_reset(d);
	d->in_ipvs = false;
	d->ipvs_weight = 0;
}

void xvs_ctl_overlay_svc_removed(struct xvs_ctl_model *m, unsigned slot)
{
	struct xvs_ctl_svc *s = &m->svcs[slot];
	if (s->hc && s->hc->cfg.omega && s->quorum_up && s->q_valid) {
		struct xvs_ctl_hevent *ev = push(m, XVS_CTL_HEV_QUORUM_DOWN, slot, -1);
		if (ev) {
			snprintf(ev->why, sizeof(ev->why), "deleted (omega)");
			ev->sum = s->alive_weight;
			ev->svc_hc = xvs_ctl_svc_hc_get(s->hc);
		}
	}
	xvs_ctl_svc_hc_put(s->hc);
	s->hc = NULL;
	s->q_valid = false;
	s->quorum_up = false;
	s->sorry_hint = 0;
}

/* ---- ops ----------------------------------------------------------------------------- */

static int64_t realtime_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A check that binds without naming where it connects binds in the server's family. */
static int check_dest_families(const struct xvs_dest_health_cfg *h, uint8_t af,
			       struct xvs_ctl_err *err)
{
	for (unsigned i = 0; i < h->nb_checks; i++) {
		const struct xvs_check_cfg *c = &h->checks[i];
		if (!c->connect_af && c->bind_af && c->bind_af != af)
			return xvs_ctl_model_fail(err, EINVAL, "check %u: bind_ip is not of the real "
						  "server's address family", i);
	}
	return 0;
}

static int op_set_dest_health(struct xvs_ctl_model *m, const struct xvs_ctl_op *op,
			      struct xvs_ctl_err *err)
{
	int svc = xvs_ctl_model_dest_svc(m, op, err);
	if (svc < 0)
		return svc;
	int slot = xvs_ctl_model_find_dest(m, (unsigned)svc, &op->dest);
	if (slot < 0)
		return xvs_ctl_model_fail(err, ENOENT, "No such destination");
	struct xvs_ctl_dest *d = &m->dests[slot];
	const struct xvs_ctl_dest_hc *h = op->dest_hc;
	if (d->hc_cleared) { /* cleared earlier in this transaction: the same settings keep */
		d->hc_cleared = false;
		if (h && memcmp(&d->hc->cfg, &h->cfg, sizeof(h->cfg)) == 0 &&
		    check_dest_families(&h->cfg, d->cfg.af, err) == 0)
			return 0;
		dest_health_reset(d);
	}
	if (h) {
		int rc = xvs_dest_health_cfg_check(&h->cfg, err->msg, sizeof(err->msg));
		if (rc) {
			err->err = EINVAL;
			return rc;
		}
		if ((rc = check_dest_families(&h->cfg, d->cfg.af, err)))
			return rc;
		if (d->hc && memcmp(&d->hc->cfg, &h->cfg, sizeof(h->cfg)) == 0)
			return 0;
	} else if (!d->hc) {
		return 0;
	}
	dest_health_reset(d);
	if (!h)
		return 0;
	d->hc = xvs_ctl_dest_hc_get(op->dest_hc);
	if (++m->hc_epoch_counter == 0)
		m->hc_epoch_counter = 1;
	d->hc_epoch = m->hc_epoch_counter;
	d->hc_alive = !h->cfg.alpha;
	d->hc_fresh = true;
	d->hc_since_ms = realtime_ms();
	return 0;
}

static int check_sorry(const struct xvs_ctl_model *m, unsigned svc,
		       const struct xvs_svc_health_cfg *h, struct xvs_ctl_err *err)
{
	struct xvs_ctl_dest_cfg d;
	char name[56], why[sizeof(err->msg)];
	sorry_cfg(&m->svcs[svc].cfg, h, &d);
	int rc = xvs_ctl_model_check_dest(&d, err);
	if (rc) {
		memcpy(why, err->msg, sizeof(why));
		return xvs_ctl_model_fail(err, err->err, "sorry server: %.200s", why);
	}
	if (d.af != m->svcs[svc].cfg.af && d.fwd != XVS_FWD_TUNNEL)
		return xvs_ctl_model_fail(err, EAFNOSUPPORT, "sorry server: Different address "
					  "family is allowed only for tunneling servers");
	if (xvs_ctl_model_find_dest(m, svc, &d) >= 0) {
		xvs_ctl_dest_name(&d, name, sizeof(name));
		return xvs_ctl_model_fail(err, EEXIST, "sorry server %s is a real server of this "
					  "service", name);
	}
	return 0;
}

static int op_set_svc_health(struct xvs_ctl_model *m, const struct xvs_ctl_op *op,
			     struct xvs_ctl_err *err)
{
	int slot = xvs_ctl_model_find_svc(m, &op->svc);
	if (slot < 0)
		return xvs_ctl_model_fail(err, ESRCH, "No such service");
	struct xvs_ctl_svc *s = &m->svcs[slot];
	const struct xvs_ctl_svc_hc *h = op->svc_hc;
	if (s->hc_cleared) { /* cleared earlier in this transaction: the same settings keep */
		s->hc_cleared = false;
		if (h && memcmp(&s->hc->cfg, &h->cfg, sizeof(h->cfg)) == 0 &&
		    (!h->cfg.has_sorry || check_sorry(m, (unsigned)slot, &h->cfg, err) == 0))
			return 0;
		xvs_ctl_svc_hc_put(s->hc);
		s->hc = NULL;
		s->q_valid = false;
	}
	if (h) {
		int rc = xvs_svc_health_cfg_check(&h->cfg, err->msg, sizeof(err->msg));
		if (rc) {
			err->err = EINVAL;
			return rc;
		}
		if (h->cfg.has_sorry && (rc = check_sorry(m, (unsigned)slot, &h->cfg, err)))
			return rc;
		if (s->hc && memcmp(&s->hc->cfg, &h->cfg, sizeof(h->cfg)) == 0)
			return 0;
	} else if (!s->hc) {
		return 0;
	}
	xvs_ctl_svc_hc_put(s->hc);
	s->hc = xvs_ctl_svc_hc_get(op->svc_hc);
	s->q_valid = false; /* keepalived's start-up rules for the new settings */
	return 0;
}

/*
 * Every health setting goes, at the end of the transaction (xvs_ctl_overlay_finish): a set op
 * later in the same transaction that gives a service or real server its settings back keeps
 * them and their state, so that a loader can replace the whole health configuration without
 * resetting the checks it did not change.
 */
static int op_clear_health(struct xvs_ctl_model *m)
{
	for (uint32_t i = 0; i < m->nb_svc_order; i++) {
		struct xvs_ctl_svc *s = &m->svcs[m->svc_order[i]];
		s->hc_cleared = s->hc != NULL;
	}
	for (uint32_t i = 0; i < m->nb_dest_order; i++) {
		struct xvs_ctl_dest *d = &m->dests[m->dest_order[i]];
		d->hc_cleared = d->role == XVS_CTL_DEST_REAL && d->hc;
	}
	return 0;
}

void xvs_ctl_overlay_finish(struct xvs_ctl_model *m)
{
	for (unsigned i = 0; i < XVS_MAX_SVCS; i++) {
		struct xvs_ctl_svc *s = &m->svcs[i];
		if (!s->hc_cleared)
			continue;
		s->hc_cleared = false;
		xvs_ctl_svc_hc_put(s->hc);
		s->hc = NULL;
		s->q_valid = false;
	}
	for (unsigned i = 0; i < XVS_MAX_DESTS; i++) {
		struct xvs_ctl_dest *d = &m->dests[i];
		if (!d->hc_cleared)
			continue;
		d->hc_cleared = false;
		dest_health_reset(d);
	}
}

static int op_health_result(struct xvs_ctl_model *m, const struct xvs_ctl_health_result *r)
{
	if (r->slot >= XVS_MAX_DESTS)
		return 0;
	struct xvs_ctl_dest *d = &m->dests[r->slot];
	if (d->state != XVS_SLOT_USED || d->role != XVS_CTL_DEST_REAL || !d->hc ||
	    d->hc_epoch != r->epoch)
		return 0; /* checks that are gone or were replaced meanwhile */
	bool changed = d->hc_alive != r->alive;
	if (changed || (r->announce && !r->alive)) {
		struct xvs_ctl_hevent *ev = push(m, r->alive ? XVS_CTL_HEV_DEST_UP :
						 XVS_CTL_HEV_DEST_DOWN, d->svc, r->slot);
		if (ev) {
			snprintf(ev->why, sizeof(ev->why), "%s", r->why);
			ev->dest_hc = xvs_ctl_dest_hc_get(d->hc);
		}
	}
	if (changed)
		d->hc_since_ms = r->when_ms;
	d->hc_alive = r->alive;
	d->hc_weight = r->weight < 0 ? -1 : r->weight > 65535 ? 65535 : r->weight;
	return 0;
}

int xvs_ctl_overlay_op(struct xvs_ctl_model *m, const struct xvs_ctl_op *op,
		       struct xvs_ctl_err *err)
{
	switch (op->type) {
	case XVS_CTL_OP_SET_DEST_HEALTH:
		return op_set_dest_health(m, op, err);
	case XVS_CTL_OP_SET_SVC_HEALTH:
		return op_set_svc_health(m, op, err);
	case XVS_CTL_OP_CLEAR_HEALTH:
		return op_clear_health(m);
	case XVS_CTL_OP_HEALTH_RESULT:
		return op_health_result(m, &op->result);
	default:
		return xvs_ctl_model_fail(err, EINVAL, "not a health op: %d", (int)op->type);
	}
}

/* ---- refresh ------------------------------------------------------------------------- */

/* keepalived's update_quorum_state, with its start-up case when q_valid is false. */
static void quorum(struct xvs_ctl_model *m, unsigned slot, int64_t sum)
{
	struct xvs_ctl_svc *s = &m->svcs[slot];
	int64_t q = s->hc ? s->hc->cfg.quorum : 1, h = s->hc ? s->hc->cfg.hysteresis : 0;
	bool init = !s->q_valid;
	if (init) {
		s->quorum_up = sum >= q + h;
		s->q_valid = true;
	}
	s->alive_weight = sum;
	int64_t thr = s->quorum_up ? q - h : q + h;
	enum xvs_ctl_hev_type t;
	const char *why = "lost quorum";
	if (!s->quorum_up && sum >= thr) {
		s->quorum_up = true;
		t = XVS_CTL_HEV_QUORUM_UP;
	} else if (s->quorum_up && (sum == 0 || sum < thr)) {
		s->quorum_up = false;
		t = XVS_CTL_HEV_QUORUM_DOWN;
	} else if (init && !s->quorum_up && has_sorry(s)) {
		t = XVS_CTL_HEV_QUORUM_DOWN;
		why = "starting with quorum down";
	} else {
		return;
	}
	if (!s->hc)
		return; /* no health settings: nothing to run, nothing to tell */
	struct xvs_ctl_hevent *ev = push(m, t, slot, -1);
	if (ev) {
		ev->sum = sum;
		ev->threshold = thr;
		snprintf(ev->why, sizeof(ev->why), "%s", why);
		ev->svc_hc = xvs_ctl_svc_hc_get(s->hc);
	}
}

static void sorry_out(struct xvs_ctl_model *m, unsigned svc, int slot)
{
	struct xvs_ctl_dest *d = &m->dests[slot];
	if (d->in_ipvs) {
		struct xvs_ctl_hevent *ev = push(m, XVS_CTL_HEV_SORRY, svc, slot);
		if (ev) {
			ev->was_in = true;
			ev->was_weight = d->ipvs_weight;
		}
	}
	xvs_ctl_model_trash_dest(m, (unsigned)slot, xvs_now_ns());
	xvs_ctl_model_bump_epoch(m, svc);
}

/* A destination slot for the sorry server: its trashed self (IPVS revives it), else a free
 * one, the saved one first. -1 when the table is full. */
static int sorry_slot(struct xvs_ctl_model *m, unsigned svc, const struct xvs_ctl_dest_cfg *c)
{
	int slot = xvs_ctl_model_find_dest_state(m, svc, c, XVS_SLOT_TRASH);
	if (slot >= 0) {
		m->svcs[svc].nb_trash--;
		return slot;
	}
	slot = xvs_ctl_model_alloc_dest(m, (int)m->svcs[svc].sorry_hint - 1);
	if (slot >= 0)
		xvs_ctl_model_take_base(m, true, (unsigned)slot, &m->dests[slot].base);
	return slot;
}

static void sorry_add(struct xvs_ctl_model *m, unsigned svc, const struct xvs_ctl_dest_cfg *c)
{
	int slot = sorry_slot(m, svc, c);
	if (slot < 0) {
		struct xvs_ctl_hevent *ev = push(m, XVS_CTL_HEV_QUORUM_DOWN, svc, -1);
		if (ev)
			snprintf(ev->why, sizeof(ev->why), "no free destination slot for the "
				 "sorry server");
		return;
	}
	struct xvs_ctl_dest *d = &m->dests[slot];
	d->state = XVS_SLOT_USED;
	d->role = XVS_CTL_DEST_SORRY;
	d->svc = (uint16_t)svc;
	d->cfg = *c;
	d->trash_since_ns = 0;
	dest_health_reset(d);
	d->in_ipvs = false; /* the view pass below adds it */
	d->ipvs_weight = 0;
	m->dest_order[m->nb_dest_order++] = (uint16_t)slot;
	m->svcs[svc].sorry_hint = (uint16_t)(slot + 1);
}

/* The sorry server of service svc (slot cur, or -1) as its settings and quorum want it. */
static void sorry_sync(struct xvs_ctl_model *m, unsigned svc, int cur)
{
	const struct xvs_ctl_svc *s = &m->svcs[svc];
	bool want = has_sorry(s) && (sorry_in(s) || s->hc->cfg.sorry_inhibit);
	struct xvs_ctl_dest_cfg c;
	if (want)
		sorry_cfg(&s->cfg, &s->hc->cfg, &c);
	if (cur >= 0 && (!want || !same_dest(&m->dests[cur].cfg, &c))) {
		sorry_out(m, svc, cur);
		cur = -1;
	}
	if (want && cur < 0)
		sorry_add(m, svc, &c);
}

static void view_event(struct xvs_ctl_model *m, const struct xvs_ctl_dest *d, unsigned slot,
		       bool in, int32_t w)
{
	struct xvs_ctl_hevent *ev = push(m, d->role == XVS_CTL_DEST_SORRY ? XVS_CTL_HEV_SORRY :
					 XVS_CTL_HEV_VIEW, d->svc, (int)slot);
	if (!ev)
		return;
	ev->was_in = d->in_ipvs;
	ev->was_weight = d->ipvs_weight;
	ev->in_ipvs = in;
	ev->weight = w;
}

/* Compare each destination's place with the one it had; returns the changes. moves gets
 * the real servers that come back (IPVS adds them at the head of its list). */
static unsigned views(struct xvs_ctl_model *m, uint16_t *moves, unsigned *nb_moves)
{
	unsigned changes = 0;
	for (uint32_t i = 0; i < m->nb_dest_order; i++) {
		unsigned slot = m->dest_order[i];
		struct xvs_ctl_dest *d = &m->dests[slot];
		int32_t w;
		bool in = xvs_ctl_overlay_view(m, slot, &w);
		if (in == d->in_ipvs && (!in || w == d->ipvs_weight))
			continue;
		view_event(m, d, slot, in, w);
		if (in && !d->in_ipvs) {
			d->last_weight = w; /* IPVS's add */
			if (d->role == XVS_CTL_DEST_REAL)
				moves[(*nb_moves)++] = (uint16_t)slot;
		} else if (in && w > 0) {
			d->last_weight = w; /* IPVS's edit keeps the last weight > 0 */
		}
		d->in_ipvs = in;
		d->ipvs_weight = in ? w : 0;
		xvs_ctl_model_bump_epoch(m, d->svc);
		changes++;
	}
	return changes;
}

unsigned xvs_ctl_overlay_refresh(struct xvs_ctl_model *m, unsigned flags)
{
	/* Scratch sized by the tables (28 KiB): per thread, as the API and the applier refresh
	 * (one at a time, under the daemon's lock) and unit tests refresh on their own. */
	static _Thread_local int64_t sum[XVS_MAX_SVCS];
	static _Thread_local int32_t sorry[XVS_MAX_SVCS];
	static _Thread_local uint16_t moves[XVS_MAX_DESTS];
	unsigned nb_moves = 0;
	for (uint32_t i = 0; i < m->nb_svc_order; i++) {
		sum[m->svc_order[i]] = 0;
		sorry[m->svc_order[i]] = -1;
	}
	for (uint32_t i = 0; i < m->nb_dest_order; i++) {
		unsigned slot = m->dest_order[i];
		const struct xvs_ctl_dest *d = &m->dests[slot];
		if (d->role == XVS_CTL_DEST_SORRY)
			sorry[d->svc] = (int32_t)slot;
		else if (alive(d))
			sum[d->svc] += eff_weight(d);
	}
	for (uint32_t i = 0; i < m->nb_svc_order; i++)
		quorum(m, m->svc_order[i], sum[m->svc_order[i]]);
	for (uint32_t i = 0; i < m->nb_svc_order; i++)
		sorry_sync(m, m->svc_order[i], sorry[m->svc_order[i]]);
	unsigned changes = views(m, moves, &nb_moves);
	for (unsigned i = 0; i < nb_moves && !(flags & XVS_CTL_OVERLAY_KEEP_ORDER); i++) {
		xvs_ctl_model_order_remove(m->dest_order, &m->nb_dest_order, moves[i]);
		m->dest_order[m->nb_dest_order++] = moves[i];
	}
	return changes;
}
