/* keepalived.conf applied to the model and to the daemon (see ctl_kaconf_apply.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_health_cfg.h"
#include "ctl_kaconf_apply.h"

#define KA_LOG(fmt, ...) fprintf(stderr, "xvs-control: keepalived.conf: " fmt "\n", ##__VA_ARGS__)

/* ---- the diff ------------------------------------------------------------------------ */

struct op_list {
	struct xvs_ctl_op *ops;
	const char **where;
	unsigned nb, cap;
};

static struct xvs_ctl_op *push(struct op_list *l, enum xvs_ctl_op_type type, const char *where)
{
	if (l->nb == l->cap) {
		unsigned cap = l->cap ? 2 * l->cap : 64;
		struct xvs_ctl_op *o = realloc(l->ops, cap * sizeof(*o));
		if (!o)
			return NULL;
		l->ops = o;
		const char **w = realloc(l->where, cap * sizeof(*w));
		if (!w)
			return NULL;
		l->where = w;
		l->cap = cap;
	}
	struct xvs_ctl_op *op = &l->ops[l->nb];
	xvs_ctl_op_init(op, type);
	l->where[l->nb++] = where;
	return op;
}

static bool svc_same(const struct xvs_ctl_svc_cfg *a, const struct xvs_ctl_svc_cfg *b)
{
	return strcmp(a->sched, b->sched) == 0 && a->persistent == b->persistent &&
	       xvs_ip_eq(&a->netmask, &b->netmask) && a->flags == b->flags && a->ops == b->ops;
}

static bool dest_same(const struct xvs_ctl_dest_cfg *a, const struct xvs_ctl_dest_cfg *b)
{
	return a->fwd == b->fwd && a->tun_type == b->tun_type && a->tun_port == b->tun_port &&
	       a->tun_flags == b->tun_flags && a->weight == b->weight &&
	       a->u_thresh == b->u_thresh && a->l_thresh == b->l_thresh;
}

static bool dest_key_eq(const struct xvs_ctl_dest_cfg *a, const struct xvs_ctl_dest_cfg *b)
{
	return a->af == b->af && a->port == b->port && xvs_ip_eq(&a->addr, &b->addr);
}

static const struct xvs_kaconf_svc *conf_svc(const struct xvs_kaconf *conf,
					     const struct xvs_ctl_svc_cfg *key)
{
	for (unsigned i = 0; i < conf->nb_svcs; i++) {
		const struct xvs_ctl_svc_cfg *c = &conf->svcs[i].cfg;
		if (c->af == key->af && c->fwmark == key->fwmark && c->proto == key->proto &&
		    c->port == key->port && xvs_ip_eq(&c->addr, &key->addr))
			return &conf->svcs[i];
	}
	return NULL;
}

static bool conf_has_dest(const struct xvs_kaconf_svc *s, const struct xvs_ctl_dest_cfg *key)
{
	for (unsigned i = 0; i < s->nb_dests; i++)
		if (dest_key_eq(&s->dests[i].cfg, key))
			return true;
	return false;
}

/* Deletions: services the file no longer has, then real servers it no longer has. */
static int diff_deletes(const struct xvs_ctl_model *m, const struct xvs_kaconf *conf,
			struct op_list *l)
{
	struct xvs_ctl_op *op;
	for (uint32_t i = 0; i < m->nb_svc_order; i++) {
		const struct xvs_ctl_svc_cfg *c = &m->svcs[m->svc_order[i]].cfg;
		if (conf_svc(conf, c))
			continue;
		if (!(op = push(l, XVS_CTL_OP_DEL_SVC, NULL)))
			return -ENOMEM;
		op->svc = *c;
	}
	for (uint32_t i = 0; i < m->nb_dest_order; i++) {
		const struct xvs_ctl_dest *d = &m->dests[m->dest_order[i]];
		const struct xvs_ctl_svc_cfg *c = &m->svcs[d->svc].cfg;
		const struct xvs_kaconf_svc *s = conf_svc(conf, c);
		if (!s || conf_has_dest(s, &d->cfg))
			continue;
		if (!(op = push(l, XVS_CTL_OP_DEL_DEST, NULL)))
			return -ENOMEM;
		op->svc = *c;
		op->dest = d->cfg;
	}
	return 0;
}

/* One service of the file: added with its servers, or edited where it differs. */
static int diff_svc(const struct xvs_ctl_model *m, const struct xvs_kaconf_svc *s,
		    struct op_list *l)
{
	int slot = xvs_ctl_model_find_svc(m, &s->cfg);
	struct xvs_ctl_op *op;
	if (slot < 0 || !svc_same(&m->svcs[slot].cfg, &s->cfg)) {
		op = push(l, slot < 0 ? XVS_CTL_OP_ADD_SVC : XVS_CTL_OP_EDIT_SVC, s->where);
		if (!op)
			return -ENOMEM;
		op->svc = s->cfg;
	}
	for (unsigned i = 0; i < s->nb_dests; i++) {
		const struct xvs_kaconf_dest *d = &s->dests[i];
		int ds = slot < 0 ? -1 : xvs_ctl_model_find_dest(m, (unsigned)slot, &d->cfg);
		if (ds >= 0 && dest_same(&m->dests[ds].cfg, &d->cfg))
			continue;
		op = push(l, ds < 0 ? XVS_CTL_OP_ADD_DEST : XVS_CTL_OP_EDIT_DEST, d->where);
		if (!op)
			return -ENOMEM;
		op->svc = s->cfg;
		op->dest = d->cfg;
	}
	return 0;
}

/*
 * The file's health settings, after its other ops: one clear-health, then every service's
 * quorum, scripts and sorry server and every checked real server's checkers
 * (ctl_health_cfg.h). Settings equal to those in place keep their checks' state.
 */
static int append_health(const struct xvs_kaconf *conf, struct op_list *l)
{
	l->cap = l->nb;
	unsigned nb_dests = 0, k = 0;
	for (unsigned i = 0; i < conf->nb_svcs; i++)
		for (unsigned j = 0; j < conf->svcs[i].nb_dests; j++)
			nb_dests += conf->svcs[i].dests[j].health != NULL;
	struct xvs_health_svc_entry *sv = calloc(conf->nb_svcs + 1, sizeof(*sv));
	struct xvs_health_dest_entry *dv = calloc(nb_dests + 1, sizeof(*dv));
	const char **where = NULL;
	int rc = sv && dv ? 0 : -ENOMEM;
	for (unsigned i = 0; rc == 0 && i < conf->nb_svcs; i++) {
		const struct xvs_kaconf_svc *s = &conf->svcs[i];
		sv[i] = (struct xvs_health_svc_entry){.svc = s->cfg, .cfg = &s->health};
		for (unsigned j = 0; j < s->nb_dests; j++)
			if (s->dests[j].health)
				dv[k++] = (struct xvs_health_dest_entry){
					.svc = s->cfg, .dest = s->dests[j].cfg,
					.cfg = s->dests[j].health};
	}
	unsigned before = l->nb, nb = l->nb;
	if (rc == 0)
		rc = xvs_ctl_health_ops(sv, conf->nb_svcs, dv, nb_dests, &l->ops, &nb);
	if (rc == 0 && !(where = realloc(l->where, (nb + 1) * sizeof(*where))))
		rc = -ENOMEM;
	if (rc == 0) {
		/* the clear-health, then the services' lines, then the real servers' */
		/* the ops' order: the clear-health, the services, the checked real servers */
		unsigned o = before;
		where[o++] = NULL;
		for (unsigned i = 0; i < conf->nb_svcs; i++)
			where[o++] = conf->svcs[i].where;
		for (unsigned i = 0; i < conf->nb_svcs; i++)
			for (unsigned j = 0; j < conf->svcs[i].nb_dests; j++)
				if (conf->svcs[i].dests[j].health)
					where[o++] = conf->svcs[i].dests[j].where;
		l->where = where;
		l->nb = l->cap = nb;
	}
	free(sv);
	free(dv);
	return rc;
}

int xvs_kaconf_diff(const struct xvs_ctl_model *m, const struct xvs_kaconf *conf,
		    struct xvs_ctl_op **ops, const char ***where, unsigned *nb)
{
	struct op_list l = {0};
	int rc = diff_deletes(m, conf, &l);
	for (unsigned i = 0; rc == 0 && i < conf->nb_svcs; i++)
		rc = diff_svc(m, &conf->svcs[i], &l);
	const uint32_t now[3] = {m->timeouts.tcp, m->timeouts.tcpfin, m->timeouts.udp};
	bool change = false;
	for (unsigned i = 0; conf->has_timeouts && i < 3; i++)
		change |= conf->timeouts[i] && conf->timeouts[i] != now[i];
	if (rc == 0 && change) {
		struct xvs_ctl_op *op = push(&l, XVS_CTL_OP_SET_TIMEOUTS, conf->timeouts_where);
		if (!op)
			rc = -ENOMEM;
		for (unsigned i = 0; op && i < 3; i++)
			op->timeouts[i] = conf->timeouts[i];
	}
	if (rc) {
		free(l.ops);
		free(l.where);
		return rc;
	}
	*ops = l.ops;
	*where = l.where;
	*nb = l.nb;
	return 0;
}

int xvs_kaconf_health_append(const struct xvs_kaconf *conf, struct xvs_ctl_op **ops,
			     const char ***where, unsigned *nb)
{
	struct op_list l = {*ops, *where, *nb, *nb};
	int rc = append_health(conf, &l);
	*ops = l.ops; /* moved by realloc even when it failed later */
	if (rc == 0) {
		*where = l.where;
		*nb = l.nb;
	}
	return rc;
}

/* ---- check --------------------------------------------------------------------------- */

/* "FILE:LINE: message" for a failed op. */
static void op_error(char *err, size_t errlen, const char *const *where, const struct xvs_ctl_err *e)
{
	const char *w = e->index >= 0 && where ? where[e->index] : NULL;
	snprintf(err, errlen, "%s%s%s", w ? w : "", w ? ": " : "", e->msg);
}

/*
 * The file's health settings checked against m by applying them to a copy: the model
 * returned stays the configured table (every real server in at its weight), not the view
 * after checks that have not run.
 */
static int check_health(const struct xvs_ctl_model *m, const struct xvs_kaconf *conf, char *err,
			size_t errlen)
{
	struct xvs_ctl_model *copy = xvs_ctl_model_dup(m);
	struct xvs_ctl_op *ops = NULL;
	const char **where = NULL;
	struct xvs_ctl_err e;
	unsigned nb = 0;
	int rc = copy ? xvs_kaconf_health_append(conf, &ops, &where, &nb) : -ENOMEM;
	if (rc)
		snprintf(err, errlen, "out of memory");
	else if ((rc = xvs_ctl_model_apply(copy, ops, nb, &e)) < 0)
		op_error(err, errlen, where, &e);
	xvs_ctl_ops_free(ops, nb);
	free(where);
	xvs_ctl_model_free(copy);
	return rc;
}

struct xvs_ctl_model *xvs_kaconf_check(const struct xvs_kaconf *conf,
				       const struct xvs_sched_params *params, char *err,
				       size_t errlen)
{
	struct xvs_ctl_model *m = xvs_ctl_model_new(NULL);
	struct xvs_gen *g = malloc(sizeof(*g));
	struct xvs_ctl_op *ops = NULL;
	const char **where = NULL;
	struct xvs_ctl_err e;
	unsigned nb = 0;
	int rc = !m || !g ? -ENOMEM : 0;
	if (rc == 0 && params)
		m->sched_params = *params;
	if (rc == 0)
		rc = xvs_kaconf_diff(m, conf, &ops, &where, &nb);
	if (rc)
		snprintf(err, errlen, "out of memory");
	if (rc == 0 && (rc = xvs_ctl_model_apply(m, ops, nb, &e)) < 0)
		op_error(err, errlen, where, &e);
	if (rc == 0)
		rc = check_health(m, conf, err, errlen);
	if (rc == 0 && (rc = xvs_ctl_build_gen(m, g, e.msg, sizeof(e.msg))) < 0)
		snprintf(err, errlen, "%s", e.msg);
	xvs_ctl_ops_free(ops, nb);
	free(where);
	free(g);
	if (rc) {
		xvs_ctl_model_free(m);
		return NULL;
	}
	return m;
}

/* ---- the daemon ---------------------------------------------------------------------- */

int xvs_kaconf_reload(struct xvs_ctl *ctl, const char *path, const struct xvs_kaconf_opts *opts,
		      struct xvs_kaconf **held)
{
	char err[XVS_KACONF_ERR_MAX];
	struct xvs_kaconf *conf;
	struct xvs_ctl_op *ops = NULL;
	const char **where = NULL;
	struct xvs_ctl_err e;
	struct xvs_ctl_result res;
	unsigned nb = 0;
	int rc = xvs_kaconf_load(path, opts, &conf, err, sizeof(err));
	if (rc < 0) {
		KA_LOG("%s refused, the configuration is unchanged: %s", path, err);
		return rc;
	}
	for (unsigned i = 0; i < conf->nb_warnings; i++)
		KA_LOG("%s", conf->warnings[i]);
	rc = xvs_kaconf_diff(ctl->model, conf, &ops, &where, &nb);
	unsigned changes = nb;
	/* the health settings go in the same transaction: checks start with their servers */
	if (rc == 0)
		rc = xvs_kaconf_health_append(conf, &ops, &where, &nb);
	if (rc == 0) {
		rc = xvs_ctl_commit(ctl, ops, nb, &e, &res);
		if (rc < 0) {
			op_error(err, sizeof(err), where, &e);
			KA_LOG("%s refused, the configuration is unchanged: %s", path, err);
		} else if (changes == 0) {
			KA_LOG("%s: %u services, no change", path, conf->nb_svcs);
		} else {
			KA_LOG("%s: %u services, %u changes applied: %s", path, conf->nb_svcs, changes,
			       res.msg);
		}
	}
	if (rc == -ENOMEM)
		KA_LOG("%s: out of memory", path);
	xvs_ctl_ops_free(ops, nb);
	free(where);
	if (rc < 0) {
		xvs_kaconf_free(conf);
		return rc;
	}
	xvs_kaconf_free(*held);
	*held = conf;
	return 0;
}
