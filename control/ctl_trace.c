/*
 * The tracer: POST /v1/trace (docs/api.md). See ctl_trace.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_conns.h"
#include "ctl_json.h"
#include "ctl_json_priv.h"
#include "ctl_trace.h"
#include "xvs/gen.h"
#include "xvs/sched.h"
#include "xvs/wire.h"

/* ---- the request ----------------------------------------------------------------------- */

int xvs_ctl_trace_parse(const char *body, size_t len, struct xvs_ctl_trace_req *rq, char *msg,
			size_t msglen)
{
	static const char *const keys[] = {XVS_WIRE_PROTO, XVS_WIRE_VADDR, XVS_WIRE_VPORT,
					   XVS_WIRE_CADDR, XVS_WIRE_CPORT, NULL};
	json_error_t jerr;
	json_t *o = json_loadb(body, len, 0, &jerr);
	const char *proto = NULL;
	int64_t vport = -1, cport = 0;
	uint8_t caf = 0;
	int rc;

	memset(rq, 0, sizeof(*rq));
	if (!json_is_object(o)) {
		json_decref(o);
		return xvs_ctl_bad(msg, msglen, "trace: the body must be a JSON object");
	}
	rc = xvs_ctl_json_keys(o, "trace", keys, NULL, msg, msglen);
	if (rc == 0)
		rc = xvs_ctl_json_str(o, XVS_WIRE_PROTO, "trace", &proto, msg, msglen);
	if (rc == 0 && proto == NULL)
		rc = xvs_ctl_bad(msg, msglen, "trace.proto: missing");
	if (rc == 0) {
		int p;
		if (xvs_wire_value(xvs_wire_protos, proto, &p) == 0)
			rq->proto = (uint8_t)p;
		else
			rc = xvs_ctl_bad(msg, msglen, "trace.proto: '%s' is not tcp, udp or sctp", proto);
	}
	if (rc == 0 && (!json_object_get(o, XVS_WIRE_VADDR) ||
			!json_object_get(o, XVS_WIRE_CADDR) || !json_object_get(o, XVS_WIRE_VPORT)))
		rc = xvs_ctl_bad(msg, msglen, "trace: vaddr, vport and caddr are required");
	if (rc == 0)
		rc = xvs_ctl_json_ip(o, XVS_WIRE_VADDR, "trace", &rq->af, &rq->vaddr, msg, msglen);
	if (rc == 0)
		rc = xvs_ctl_json_ip(o, XVS_WIRE_CADDR, "trace", &caf, &rq->caddr, msg, msglen);
	if (rc == 0)
		rc = xvs_ctl_json_int(o, XVS_WIRE_VPORT, "trace", 1, 65535, &vport, msg, msglen);
	if (rc == 0)
		rc = xvs_ctl_json_int(o, XVS_WIRE_CPORT, "trace", 1, 65535, &cport, msg, msglen);
	if (rc == 0 && caf != rq->af)
		rc = xvs_ctl_bad(msg, msglen, "trace: caddr and vaddr are of different families");
	json_decref(o);
	if (rc)
		return rc;
	rq->vport = (uint16_t)vport;
	rq->cport = (uint16_t)cport;
	return 0;
}

/* ---- the service ----------------------------------------------------------------------- */

int xvs_ctl_trace_service(const struct xvs_gen *g, const struct xvs_ctl_trace_req *rq,
			  const char **via)
{
	uint16_t port = htons(rq->vport);
	int svc = xvs_gen_vip_lookup(g, rq->proto, &rq->vaddr, port);

	*via = "address";
	if (svc < 0) {
		svc = xvs_gen_vip_lookup(g, rq->proto, &rq->vaddr, 0);
		*via = "port 0";
	}
	if (svc >= 0 && g->svcs[svc].af != rq->af)
		svc = -1;
	if (svc < 0 && rq->proto != XVS_PROTO_SCTP) { /* mark rules see TCP and UDP only */
		svc = xvs_gen_mark_lookup(g, rq->af, rq->proto, &rq->vaddr, port);
		*via = "mark rule";
	}
	if (svc < 0 || (uint32_t)svc >= g->nb_svcs || g->svcs[svc].state != XVS_SLOT_USED)
		return -1;
	return svc;
}

/* ---- the tables ------------------------------------------------------------------------ */

static union xvs_ip masked_client(const struct xvs_svc *s, const union xvs_ip *c)
{
	union xvs_ip m = *c;

	if (s->af == XVS_AF_INET6) {
		unsigned plen = s->netmask > 128 ? 128 : s->netmask;
		for (unsigned i = 0; i < 16; i++) {
			unsigned keep = plen >= 8 * (i + 1) ? 8 : plen > 8 * i ? plen - 8 * i : 0;
			m.v6[i] &= (uint8_t)(0xff00u >> keep);
		}
	} else {
		m.v4 &= s->netmask;
	}
	return m;
}

void xvs_ctl_trace_match(const struct xvs_ctl_trace_req *rq, struct xvs_ctl_trace_found *f,
			 const struct xvs_conn_dump_entry *e, uint32_t nb, unsigned w)
{
	for (uint32_t i = 0; i < nb; i++) {
		const struct xvs_conn_dump_entry *x = &e[i];

		if (x->af != rq->af)
			continue;
		if (x->cport == 0) { /* a persistence template: client port 0 */
			if (f->persistent && !f->has_tpl && x->svc == f->svc &&
			    xvs_ip_eq(&x->caddr, &f->tpl_caddr)) {
				f->tpl = *x;
				f->tpl_worker = w;
				f->has_tpl = true;
			}
			continue;
		}
		if (x->proto != rq->proto || ntohs(x->vport) != rq->vport ||
		    !xvs_ip_eq(&x->vaddr, &rq->vaddr) || !xvs_ip_eq(&x->caddr, &rq->caddr) ||
		    (rq->cport && ntohs(x->cport) != rq->cport))
			continue;
		if (f->nb_conns == XVS_CTL_TRACE_MAX_CONNS) {
			f->more_conns = true;
			continue;
		}
		f->conns[f->nb_conns] = *x;
		f->conn_worker[f->nb_conns++] = w;
	}
}

/* ---- the answer ------------------------------------------------------------------------ */

static json_t *addr_json(uint8_t af, const union xvs_ip *a, uint16_t port_host)
{
	char buf[INET6_ADDRSTRLEN];

	xvs_ctl_json_ip_str(af, a, buf, sizeof(buf));
	return json_pack("{ss si}", XVS_WIRE_ADDR, buf, XVS_WIRE_PORT, (int)port_host);
}

static json_t *service_json(const struct xvs_gen *g, int slot, const char *via)
{
	const struct xvs_svc *s = &g->svcs[slot];
	const struct xvs_sched_ops *ops = s->sched < XVS_SCHED_MAX ? xvs_sched_all[s->sched] : NULL;
	json_t *o = json_pack("{ss ss si}", XVS_WIRE_VIA, via, XVS_WIRE_SCHED,
			      ops ? ops->name : "none", XVS_WIRE_SLOT, slot);
	char buf[INET6_ADDRSTRLEN];

	if (!o)
		return NULL;
	if (s->fwmark) {
		int af = s->af == XVS_AF_INET6 ? XVS_AF_INET6 : XVS_AF_INET;
		json_object_set_new(o, XVS_WIRE_FWMARK, json_integer(s->fwmark));
		json_object_set_new(o, XVS_WIRE_AF, json_string(xvs_wire_name_of(xvs_wire_afs, af)));
	} else {
		xvs_ctl_json_ip_str(s->af, &s->addr, buf, sizeof(buf));
		json_object_set_new(o, XVS_WIRE_PROTO, json_string(xvs_ctl_proto_name(s->proto)));
		json_object_set_new(o, XVS_WIRE_ADDR, json_string(buf));
		json_object_set_new(o, XVS_WIRE_PORT, json_integer(ntohs(s->port_be)));
	}
	if (s->flags & XVS_SVC_F_PERSISTENT) {
		json_object_set_new(o, XVS_WIRE_PERSISTENT, json_integer(s->persist_timeout));
		if (s->af == XVS_AF_INET6) {
			json_object_set_new(o, XVS_WIRE_NETMASK, json_integer(s->netmask));
		} else {
			union xvs_ip m = { .v4 = s->netmask };
			xvs_ctl_json_ip_str(XVS_AF_INET, &m, buf, sizeof(buf));
			json_object_set_new(o, XVS_WIRE_NETMASK, json_string(buf));
		}
	}
	return o;
}

/* The node's connection counts per destination slot: every worker's, summed. */
static void node_counts(const struct xvs_shm *shm, const struct xvs_gen *g, const struct xvs_svc *s,
			struct xvs_stats_ctr *ctr)
{
	unsigned nw;

	if (!shm || !shm->hdr || !xvs_shm_dataplane_alive(shm))
		return;
	nw = atomic_load(&shm->hdr->nb_workers);
	if (nw > XVS_MAX_LCORES)
		nw = XVS_MAX_LCORES;
	for (unsigned i = 0; i < s->nb_dests; i++) {
		uint16_t slot = xvs_sched_slot(g, s, i);
		for (unsigned w = 0; w < nw; w++) {
			const struct xvs_stats_ctr *c = &xvs_shm_stats(shm, w)->dest[slot];
			ctr[slot].active += c->active;
			ctr[slot].inactive += c->inactive;
		}
	}
}

static const char *health_of(const struct xvs_ctl_model *m, uint16_t slot)
{
	const struct xvs_ctl_dest *d = m && slot < XVS_MAX_DESTS ? &m->dests[slot] : NULL;

	if (!d || d->state != XVS_SLOT_USED)
		return "unknown";
	if (d->role == XVS_CTL_DEST_SORRY)
		return "sorry server";
	if (!d->hc)
		return "unchecked";
	return d->hc_alive ? "up" : "down";
}

/* The configured servers of the service that the IPVS view leaves out (health checks). */
static json_t *left_out_json(const struct xvs_ctl_model *m, int svc)
{
	json_t *a = json_array();

	for (unsigned i = 0; a && m && i < m->nb_dest_order; i++) {
		const struct xvs_ctl_dest *d = &m->dests[m->dest_order[i]];
		if (d->state != XVS_SLOT_USED || d->svc != svc || d->role != XVS_CTL_DEST_REAL ||
		    d->in_ipvs)
			continue;
		json_t *o = addr_json(d->cfg.af, &d->cfg.addr, d->cfg.port);
		if (o)
			json_object_set_new(o, XVS_WIRE_HEALTH,
					    json_string(d->hc_alive ? "up" : "down"));
		json_array_append_new(a, o);
	}
	return a;
}

/* How far the control side's run of the scheduler speaks for the workers. */
static const char *sched_scope(uint8_t id)
{
	switch (id) {
	case XVS_SCHED_SH: case XVS_SCHED_DH: case XVS_SCHED_MH:
		return XVS_WIRE_SCOPE_HASH; /* every worker picks the same */
	case XVS_SCHED_RR: case XVS_SCHED_WRR: case XVS_SCHED_LBLC: case XVS_SCHED_LBLCR:
	case XVS_SCHED_TWOS:
		/* a position, cache or random state of each worker's own */
		return XVS_WIRE_SCOPE_PER_WORKER;
	default:
		return XVS_WIRE_SCOPE_COUNTS; /* the node's connection counts decide */
	}
}

static json_t *scheduler_json(const struct xvs_ctl_model *m, const struct xvs_gen *g,
			      const struct xvs_shm *shm, const struct xvs_ctl_trace_req *rq, int slot,
			      json_t **servers, int *picked)
{
	const struct xvs_svc *s = &g->svcs[slot];
	const struct xvs_sched_ops *ops = s->sched < XVS_SCHED_MAX ? xvs_sched_all[s->sched] : NULL;
	struct xvs_stats_ctr *ctr = calloc(XVS_MAX_DESTS, sizeof(*ctr));
	uint8_t *ov = calloc(XVS_MAX_DESTS, 1), *ov2 = calloc(XVS_MAX_DESTS, 1);
	struct xvs_sched_state st;
	json_t *o = NULL;

	*servers = json_array();
	*picked = -1;
	if (!ctr || !ov || !ov2 || !*servers)
		goto out;
	node_counts(shm, g, s, ctr);
	struct xvs_sched_key key = {
		.caddr = rq->caddr, .daddr = rq->vaddr, .cport_be = htons(rq->cport),
		.dest_ctr = ctr, .overload = ov,
	};
	struct xvs_sched_key key2 = key;
	key2.overload = ov2;
	memset(&st, 0, sizeof(st));
	*picked = ops && ops->pick && s->nb_dests ? ops->pick(g, s, &st, &key) : -1;
	o = json_pack("{ss ss}", XVS_WIRE_SCHED_NAME, ops ? ops->name : "none", XVS_WIRE_SCOPE,
		      sched_scope(s->sched));
	if (!o)
		goto out;
	for (unsigned i = 0; i < s->nb_dests; i++) {
		uint16_t d = xvs_sched_slot(g, s, i);
		const struct xvs_dest *dd = &g->dests[d];
		json_t *so = addr_json(dd->af, &dd->addr, ntohs(dd->port_be));
		int over = xvs_sched_overloaded(g, d, &key2);
		if (!so)
			continue;
		json_object_set_new(so, XVS_WIRE_WEIGHT, json_integer(dd->weight));
		json_object_set_new(so, XVS_WIRE_ACTIVE, json_integer(ctr[d].active));
		json_object_set_new(so, XVS_WIRE_INACTIVE, json_integer(ctr[d].inactive));
		json_object_set_new(so, XVS_WIRE_OVERLOADED, json_boolean(over));
		json_object_set_new(so, XVS_WIRE_AVAILABLE,
				    json_boolean(dd->weight > 0 && !over && dd->state == XVS_SLOT_USED));
		json_object_set_new(so, XVS_WIRE_HEALTH, json_string(health_of(m, d)));
		json_array_append_new(*servers, so);
	}
	if (ops && ops->bucket && s->nb_dests && s->sd.tab.size) {
		uint32_t b = ops->bucket(s, &key);
		uint16_t e = b < s->sd.tab.size ? g->sched_tab[s->sd.tab.off + b] : XVS_SCHED_TAB_NONE;
		json_object_set_new(o, XVS_WIRE_BUCKET, json_integer(b));
		json_object_set_new(o, XVS_WIRE_BUCKETS, json_integer(s->sd.tab.size));
		if (e != XVS_SCHED_TAB_NONE && e < s->nb_dests) {
			const struct xvs_dest *dd = &g->dests[xvs_sched_slot(g, s, e)];
			json_object_set_new(o, XVS_WIRE_BUCKET_SERVER,
					    addr_json(dd->af, &dd->addr, ntohs(dd->port_be)));
		} else {
			json_object_set_new(o, XVS_WIRE_BUCKET_SERVER, json_null());
		}
	}
	if (*picked >= 0) {
		const struct xvs_dest *dd = &g->dests[*picked];
		json_object_set_new(o, XVS_WIRE_SERVER,
				    addr_json(dd->af, &dd->addr, ntohs(dd->port_be)));
	} else {
		json_object_set_new(o, XVS_WIRE_SERVER, json_null());
	}
out:
	free(ctr);
	free(ov);
	free(ov2);
	return o;
}

static json_t *conn_json(const struct xvs_conn_dump_entry *e, unsigned w)
{
	json_t *o = addr_json(e->af, &e->daddr, ntohs(e->dport));

	if (!o)
		return NULL;
	json_object_set_new(o, XVS_WIRE_WORKER, json_integer(w));
	json_object_set_new(o, XVS_WIRE_STATE,
			    json_string(xvs_ctl_conn_state_name(e->proto, e->state)));
	json_object_set_new(o, XVS_WIRE_EXPIRE, json_integer(e->expire));
	json_object_set_new(o, XVS_WIRE_CPORT, json_integer(ntohs(e->cport)));
	json_object_set_new(o, XVS_WIRE_FWD, json_string(xvs_ctl_fwd_name(e->fwd)));
	return o;
}

json_t *xvs_ctl_trace_answer(const struct xvs_ctl_model *m, const struct xvs_gen *g,
			     const struct xvs_shm *shm, const struct xvs_ctl_trace_req *rq,
			     const struct xvs_ctl_trace_found *f, const char *via)
{
	json_t *servers = NULL, *conns = json_array(), *o;
	int picked;
	json_t *sched = scheduler_json(m, g, shm, rq, f->svc, &servers, &picked);
	json_t *final = NULL;
	const char *verdict;
	char c[INET6_ADDRSTRLEN], v[INET6_ADDRSTRLEN];

	xvs_ctl_json_ip_str(rq->af, &rq->caddr, c, sizeof(c));
	xvs_ctl_json_ip_str(rq->af, &rq->vaddr, v, sizeof(v));
	o = json_pack("{s{ss ss si ss si}}", XVS_WIRE_PACKET,
		      XVS_WIRE_PROTO, xvs_ctl_proto_name(rq->proto), XVS_WIRE_CADDR, c,
		      XVS_WIRE_CPORT, (int)rq->cport, XVS_WIRE_VADDR, v, XVS_WIRE_VPORT, (int)rq->vport);
	if (!o || !sched || !servers || !conns) {
		json_decref(o);
		json_decref(sched);
		json_decref(servers);
		json_decref(conns);
		return NULL;
	}
	json_object_set_new(o, XVS_WIRE_SERVICE, service_json(g, f->svc, via));
	json_object_set_new(o, XVS_WIRE_SCHEDULER, sched);
	json_object_set_new(o, XVS_WIRE_SERVERS, servers);
	json_object_set_new(o, XVS_WIRE_LEFT_OUT, left_out_json(m, f->svc));
	for (unsigned i = 0; i < f->nb_conns; i++)
		json_array_append_new(conns, conn_json(&f->conns[i], f->conn_worker[i]));
	json_object_set_new(o, XVS_WIRE_CONNECTIONS, conns);
	json_object_set_new(o, XVS_WIRE_MORE_CONNECTIONS, json_boolean(f->more_conns));
	if (f->has_tpl) {
		json_t *t = conn_json(&f->tpl, f->tpl_worker);
		xvs_ctl_json_ip_str(rq->af, &f->tpl.caddr, c, sizeof(c));
		if (t) {
			json_object_set_new(t, XVS_WIRE_CLIENT, json_string(c));
			json_object_del(t, XVS_WIRE_STATE);
			json_object_del(t, XVS_WIRE_CPORT);
		}
		json_object_set_new(o, XVS_WIRE_TEMPLATE, t);
	} else {
		json_object_set_new(o, XVS_WIRE_TEMPLATE, json_null());
	}
	/* What a packet with this tuple meets first: its connection, else the client's
	 * template, else the scheduler. Without a client port only the template and the
	 * scheduler speak for a new connection. */
	if (rq->cport && f->nb_conns) {
		verdict = XVS_WIRE_VERDICT_CONN;
		final = addr_json(f->conns[0].af, &f->conns[0].daddr, ntohs(f->conns[0].dport));
	} else if (f->has_tpl) {
		verdict = XVS_WIRE_VERDICT_TEMPLATE;
		final = addr_json(f->tpl.af, &f->tpl.daddr, ntohs(f->tpl.dport));
	} else if (picked >= 0) {
		verdict = XVS_WIRE_VERDICT_SCHED;
		final = addr_json(g->dests[picked].af, &g->dests[picked].addr,
				  ntohs(g->dests[picked].port_be));
	} else {
		verdict = XVS_WIRE_VERDICT_NONE;
	}
	json_object_set_new(o, XVS_WIRE_VERDICT, json_string(verdict));
	json_object_set_new(o, XVS_WIRE_SERVER, final ? final : json_null());
	return o;
}

/* ---- the whole trace ------------------------------------------------------------------- */

/* The generation the dataplane runs: the published slot, else one built from the model. */
static const struct xvs_gen *current_gen(struct xvs_ctl *c, struct xvs_gen **built)
{
	uint64_t pub = c->shm && c->shm->hdr ? atomic_load(&c->shm->hdr->published) : 0;
	char msg[256];

	*built = NULL;
	if (pub && c->last_word == pub)
		return xvs_shm_slot(c->shm, XVS_PUB_SLOT(pub));
	*built = malloc(sizeof(**built));
	if (!*built || xvs_ctl_build_gen(c->model, *built, msg, sizeof(msg)) != 0) {
		free(*built);
		*built = NULL;
		return NULL;
	}
	return *built;
}

static int fail(struct xvs_ctl_err *err, int e, const char *msg)
{
	err->err = e;
	err->index = -1;
	snprintf(err->msg, sizeof(err->msg), "%s", msg);
	return -e;
}

/* Walk every worker's table for f; "" when complete, else why not in why. */
static void walk(struct xvs_ctl *c, pthread_mutex_t *lock, const struct xvs_ctl_trace_req *rq,
		 struct xvs_ctl_trace_found *f, unsigned nw, char *why, size_t whylen)
{
	struct xvs_conn_dump_entry *page = malloc(XVS_CONN_DUMP_MAX * sizeof(*page));
	uint64_t deadline = xvs_now_ns() + (uint64_t)XVS_CTL_TRACE_WALK_MS * 1000000ULL;

	why[0] = '\0';
	if (!page) {
		snprintf(why, whylen, "out of memory");
		return;
	}
	for (unsigned w = 0; w < nw && !why[0]; w++) {
		uint64_t cursor = 0, next = 0;
		while (next != UINT64_MAX) {
			uint32_t nb = 0;
			int rc;
			if (xvs_now_ns() >= deadline) {
				snprintf(why, whylen, "the tables were not read within %u ms (worker %u)",
					 XVS_CTL_TRACE_WALK_MS, w);
				break;
			}
			pthread_mutex_lock(lock);
			rc = xvs_shm_dataplane_alive(c->shm)
				? xvs_ctl_conns_page(c->shm, w, cursor, XVS_CTL_CONNS_PAGE_TIMEOUT_MS,
						     page, &nb, &next)
				: -ENODEV;
			pthread_mutex_unlock(lock);
			if (rc) {
				snprintf(why, whylen, rc == -ENODEV ? "the dataplane went away (worker %u)"
					 : rc == -ETIMEDOUT ? "worker %u did not answer in time"
							    : "worker %u gave a malformed page", w);
				break;
			}
			xvs_ctl_trace_match(rq, f, page, nb, w);
			cursor = next;
		}
	}
	free(page);
}

json_t *xvs_ctl_trace(struct xvs_ctl *c, pthread_mutex_t *lock, const struct xvs_ctl_trace_req *rq,
		      struct xvs_ctl_err *err)
{
	struct xvs_ctl_trace_found *f = calloc(1, sizeof(*f));
	struct xvs_gen *built = NULL;
	const struct xvs_gen *g;
	const char *via = "";
	unsigned nw = 0;
	char why[160] = "";
	json_t *o = NULL;

	memset(err, 0, sizeof(*err));
	if (!f) {
		fail(err, ENOMEM, "Memory allocation problem");
		return NULL;
	}
	/* 1. The service, under the lock: the slot it has in the tables. */
	pthread_mutex_lock(lock);
	if (!c->model) {
		pthread_mutex_unlock(lock);
		fail(err, EAGAIN, "xvs-control has no configuration loaded");
		goto out;
	}
	g = current_gen(c, &built);
	f->svc = g ? xvs_ctl_trace_service(g, rq, &via) : -1;
	if (g && f->svc >= 0) {
		const struct xvs_svc *s = &g->svcs[f->svc];
		f->persistent = s->flags & XVS_SVC_F_PERSISTENT;
		/* templates are found by their service's slot, a fwmark service's too */
		f->tpl_caddr = masked_client(s, &rq->caddr);
	}
	if (xvs_shm_dataplane_alive(c->shm)) {
		nw = atomic_load(&c->shm->hdr->nb_workers);
		if (nw > XVS_MAX_LCORES)
			nw = XVS_MAX_LCORES;
	}
	pthread_mutex_unlock(lock);
	free(built);
	built = NULL;
	if (!g) {
		fail(err, ENOMEM, "Memory allocation problem");
		goto out;
	}
	if (f->svc < 0) {
		fail(err, ESRCH, "No such service");
		goto out;
	}
	/* 2. The workers' tables, a bounded page at a time. */
	walk(c, lock, rq, f, nw, why, sizeof(why));
	/* 3. The answer, on the tables as they are now. */
	pthread_mutex_lock(lock);
	g = c->model ? current_gen(c, &built) : NULL;
	int again = g ? xvs_ctl_trace_service(g, rq, &via) : -1;
	if (again != f->svc) {
		pthread_mutex_unlock(lock);
		fail(err, EAGAIN, "the configuration changed during the trace; try again");
		goto out;
	}
	o = xvs_ctl_trace_answer(c->model, g, c->shm, rq, f, via);
	pthread_mutex_unlock(lock);
	if (!o) {
		fail(err, ENOMEM, "Memory allocation problem");
		goto out;
	}
	json_object_set_new(o, XVS_WIRE_WORKERS, json_integer(nw));
	json_object_set_new(o, XVS_WIRE_COMPLETE, json_boolean(why[0] == '\0'));
	if (why[0])
		json_object_set_new(o, XVS_WIRE_ERROR, json_string(why));
out:
	free(built);
	free(f);
	return o;
}
