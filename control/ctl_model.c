/*
 * The configuration model: services and destinations in stable slots, the ops of the
 * control API, the trash of deleted destinations and the statistics baselines.
 *
 * Slots never move while an object lives, because the dataplane's connections and its
 * per-lcore counters name destinations and services by slot across generations. A deleted
 * destination keeps its slot in the trash (XVS_SLOT_TRASH) so its connections still resolve
 * (the dataplane drops their packets) and so that adding the same server back revives the
 * same slot, as IPVS does. A deleted service whose destinations sit in the trash keeps its
 * slot too (TRASH here, FREE in the generation), so re-adding it revives them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_model.h"
#include "ctl_model_priv.h"
#include "ctl_overlay.h"
#include "ctl_sync.h"
#include "xvs/gen.h"
#include "xvs/sched.h"

int xvs_ctl_model_fail(struct xvs_ctl_err *err, int e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	err->err = e;
	return -e;
}

/* The short name every op below uses. */
#define fail xvs_ctl_model_fail

/* ---- counters ------------------------------------------------------------------------ */

/* Sum one object's counters over every lcore's share. */
static void shm_sum(const struct xvs_shm *shm, bool dest, unsigned slot, struct xvs_ctl_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!shm || !shm->hdr)
		return;
	for (unsigned i = 0; i < XVS_SHM_NB_STATS; i++) {
		const struct xvs_lcore_stats *ls = xvs_shm_stats(shm, i);
		const struct xvs_stats_ctr *c = dest ? &ls->dest[slot] : &ls->svc[slot];
		st->c.conns += c->conns;
		st->c.inpkts += c->inpkts;
		st->c.outpkts += c->outpkts;
		st->c.inbytes += c->inbytes;
		st->c.outbytes += c->outbytes;
		st->active += c->active;
		st->inactive += c->inactive;
		st->persist += c->persist;
	}
}

static uint64_t minus(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static void apply_base(struct xvs_ctl_stats *st, const struct xvs_ctl_ctr *b)
{
	st->c.conns = minus(st->c.conns, b->conns);
	st->c.inpkts = minus(st->c.inpkts, b->inpkts);
	st->c.outpkts = minus(st->c.outpkts, b->outpkts);
	st->c.inbytes = minus(st->c.inbytes, b->inbytes);
	st->c.outbytes = minus(st->c.outbytes, b->outbytes);
}

void xvs_ctl_model_svc_stats(const struct xvs_ctl_model *m, unsigned slot, struct xvs_ctl_stats *st)
{
	shm_sum(m->shm, false, slot, st);
	apply_base(st, &m->svcs[slot].base);
}

void xvs_ctl_model_dest_stats(const struct xvs_ctl_model *m, unsigned slot, struct xvs_ctl_stats *st)
{
	shm_sum(m->shm, true, slot, st);
	apply_base(st, &m->dests[slot].base);
}

static void rate_feed(struct xvs_ctl_rate *r, const struct xvs_ctl_ctr *c, double secs)
{
	const uint64_t now[5] = {c->conns, c->inpkts, c->outpkts, c->inbytes, c->outbytes};
	for (unsigned k = 0; k < 5; k++) {
		/* A restarted dataplane counts from zero again: that period says nothing. */
		double rate = r->primed && now[k] >= r->last[k] ? (double)(now[k] - r->last[k]) / secs : 0;
		r->avg[k] += r->primed ? (rate - r->avg[k]) / 4 : 0;
		r->last[k] = now[k];
	}
	r->primed = 1;
}

void xvs_ctl_rates_update(struct xvs_ctl_rates *r, const struct xvs_ctl_model *m, uint64_t now_ns)
{
	if (r->last_ns && now_ns - r->last_ns < XVS_CTL_RATE_PERIOD_NS)
		return;
	double secs = r->last_ns ? (double)(now_ns - r->last_ns) / 1e9 : 1;
	struct xvs_ctl_stats st;
	r->last_ns = now_ns;
	for (unsigned i = 0; i < XVS_MAX_SVCS; i++) {
		if (m->svcs[i].state != XVS_SLOT_USED) {
			r->svc[i] = (struct xvs_ctl_rate){0};
			continue;
		}
		shm_sum(m->shm, false, i, &st);
		rate_feed(&r->svc[i], &st.c, secs);
	}
	for (unsigned i = 0; i < XVS_MAX_DESTS; i++) {
		if (m->dests[i].state != XVS_SLOT_USED) {
			r->dest[i] = (struct xvs_ctl_rate){0};
			continue;
		}
		shm_sum(m->shm, true, i, &st);
		rate_feed(&r->dest[i], &st.c, secs);
	}
}

void xvs_ctl_model_take_base(const struct xvs_ctl_model *m, bool dest, unsigned slot,
			     struct xvs_ctl_ctr *b)
{
	struct xvs_ctl_stats st;
	shm_sum(m->shm, dest, slot, &st);
	*b = st.c;
}

void xvs_ctl_model_reset_baselines(struct xvs_ctl_model *m, uint64_t dp_pid)
{
	for (unsigned i = 0; i < XVS_MAX_SVCS; i++)
		m->svcs[i].base = (struct xvs_ctl_ctr){0};
	for (unsigned i = 0; i < XVS_MAX_DESTS; i++)
		m->dests[i].base = (struct xvs_ctl_ctr){0};
	m->base_dp_pid = dp_pid;
}

/* ---- life cycle ---------------------------------------------------------------------- */

struct xvs_ctl_model *xvs_ctl_model_new(const struct xvs_shm *shm)
{
	struct xvs_ctl_model *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->timeouts = (struct xvs_timeouts){.tcp = 900, .tcpfin = 120, .udp = 300};
	m->sched_params = (struct xvs_sched_params){.mh_size = XVS_MH_SIZE_DEFAULT};
	m->shm = shm;
	return m;
}

/* ---- health settings, shared by reference --------------------------------------------- */

struct xvs_ctl_dest_hc *xvs_ctl_dest_hc_new(const struct xvs_dest_health_cfg *cfg)
{
	struct xvs_ctl_dest_hc *h = malloc(sizeof(*h));
	if (h) {
		atomic_init(&h->ref, 1);
		h->cfg = *cfg;
	}
	return h;
}

struct xvs_ctl_svc_hc *xvs_ctl_svc_hc_new(const struct xvs_svc_health_cfg *cfg)
{
	struct xvs_ctl_svc_hc *h = malloc(sizeof(*h));
	if (h) {
		atomic_init(&h->ref, 1);
		h->cfg = *cfg;
	}
	return h;
}

struct xvs_ctl_dest_hc *xvs_ctl_dest_hc_get(struct xvs_ctl_dest_hc *h)
{
	if (h)
		atomic_fetch_add_explicit(&h->ref, 1, memory_order_relaxed);
	return h;
}

struct xvs_ctl_svc_hc *xvs_ctl_svc_hc_get(struct xvs_ctl_svc_hc *h)
{
	if (h)
		atomic_fetch_add_explicit(&h->ref, 1, memory_order_relaxed);
	return h;
}

void xvs_ctl_dest_hc_put(struct xvs_ctl_dest_hc *h)
{
	if (h && atomic_fetch_sub_explicit(&h->ref, 1, memory_order_acq_rel) == 1)
		free(h);
}

void xvs_ctl_svc_hc_put(struct xvs_ctl_svc_hc *h)
{
	if (h && atomic_fetch_sub_explicit(&h->ref, 1, memory_order_acq_rel) == 1)
		free(h);
}

void xvs_ctl_ops_free(struct xvs_ctl_op *ops, unsigned nb)
{
	for (unsigned i = 0; ops && i < nb; i++) {
		xvs_ctl_dest_hc_put(ops[i].dest_hc);
		xvs_ctl_svc_hc_put(ops[i].svc_hc);
	}
	free(ops);
}

/* Every reference a model holds: taken by a copy, dropped by a free. */
static void model_refs(const struct xvs_ctl_model *m, bool take)
{
	for (unsigned i = 0; i < XVS_MAX_SVCS; i++) {
		if (!m->svcs[i].hc)
			continue;
		if (take)
			xvs_ctl_svc_hc_get(m->svcs[i].hc);
		else
			xvs_ctl_svc_hc_put(m->svcs[i].hc);
	}
	for (unsigned i = 0; i < XVS_MAX_DESTS; i++) {
		if (!m->dests[i].hc)
			continue;
		if (take)
			xvs_ctl_dest_hc_get(m->dests[i].hc);
		else
			xvs_ctl_dest_hc_put(m->dests[i].hc);
	}
}

struct xvs_ctl_model *xvs_ctl_model_dup(const struct xvs_ctl_model *m)
{
	struct xvs_ctl_model *c = malloc(sizeof(*c));
	if (c) {
		memcpy(c, m, sizeof(*c));
		model_refs(c, true);
	}
	return c;
}

void xvs_ctl_model_copy(struct xvs_ctl_model *dst, const struct xvs_ctl_model *src)
{
	if (dst == src)
		return;
	model_refs(dst, false);
	memcpy(dst, src, sizeof(*dst));
	model_refs(dst, true);
}

void xvs_ctl_model_free(struct xvs_ctl_model *m)
{
	if (!m)
		return;
	model_refs(m, false);
	free(m);
}

void xvs_ctl_model_replace(struct xvs_ctl_model *dst, struct xvs_ctl_model *src)
{
	model_refs(dst, false);
	memcpy(dst, src, sizeof(*dst));
	free(src); /* its references now belong to dst */
}

void xvs_ctl_svc_cfg_default(struct xvs_ctl_svc_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->af = XVS_AF_INET;
	c->proto = XVS_PROTO_TCP;
	snprintf(c->sched, sizeof(c->sched), "wlc");
	c->netmask.v4 = 0xffffffffu;
}

void xvs_ctl_dest_cfg_default(struct xvs_ctl_dest_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->af = XVS_AF_INET;
	c->fwd = XVS_FWD_DROUTE;
	c->weight = 1;
}

void xvs_ctl_mark_cfg_default(struct xvs_ctl_mark_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->af = XVS_AF_INET;
	c->port_hi = 65535;
}

void xvs_ctl_op_init(struct xvs_ctl_op *op, enum xvs_ctl_op_type type)
{
	memset(op, 0, sizeof(*op));
	op->type = type;
	op->slot = -1;
	xvs_ctl_svc_cfg_default(&op->svc);
	xvs_ctl_dest_cfg_default(&op->dest);
	xvs_ctl_mark_cfg_default(&op->mark);
}

/* ---- lookups ------------------------------------------------------------------------- */

static bool svc_key_eq(const struct xvs_ctl_svc_cfg *a, const struct xvs_ctl_svc_cfg *b)
{
	return a->af == b->af && a->fwmark == b->fwmark && a->proto == b->proto &&
	       a->port == b->port && xvs_ip_eq(&a->addr, &b->addr);
}

static bool dest_key_eq(const struct xvs_ctl_dest_cfg *a, const struct xvs_ctl_dest_cfg *b)
{
	return a->af == b->af && a->port == b->port && xvs_ip_eq(&a->addr, &b->addr);
}

static int find_svc_state(const struct xvs_ctl_model *m, const struct xvs_ctl_svc_cfg *key,
			  uint8_t state)
{
	for (unsigned i = 0; i < XVS_MAX_SVCS; i++)
		if (m->svcs[i].state == state && svc_key_eq(&m->svcs[i].cfg, key))
			return (int)i;
	return -1;
}

int xvs_ctl_model_find_svc(const struct xvs_ctl_model *m, const struct xvs_ctl_svc_cfg *key)
{
	for (unsigned i = 0; i < m->nb_svc_order; i++)
		if (svc_key_eq(&m->svcs[m->svc_order[i]].cfg, key))
			return m->svc_order[i];
	return -1;
}

int xvs_ctl_model_find_fwmark(const struct xvs_ctl_model *m, uint32_t mark, uint8_t af)
{
	for (unsigned i = 0; mark && i < m->nb_svc_order; i++) {
		const struct xvs_ctl_svc_cfg *c = &m->svcs[m->svc_order[i]].cfg;
		if (c->fwmark == mark && c->af == af)
			return m->svc_order[i];
	}
	return -1;
}

static int find_dest_state(const struct xvs_ctl_model *m, unsigned svc,
			   const struct xvs_ctl_dest_cfg *key, uint8_t state)
{
	for (unsigned i = 0; i < XVS_MAX_DESTS; i++) {
		const struct xvs_ctl_dest *d = &m->dests[i];
		if (d->state == state && d->svc == svc && dest_key_eq(&d->cfg, key))
			return (int)i;
	}
	return -1;
}

int xvs_ctl_model_find_dest(const struct xvs_ctl_model *m, unsigned svc,
			    const struct xvs_ctl_dest_cfg *key)
{
	for (unsigned i = 0; i < m->nb_dest_order; i++) {
		unsigned s = m->dest_order[i];
		if (m->dests[s].svc == svc && m->dests[s].role == XVS_CTL_DEST_REAL &&
		    dest_key_eq(&m->dests[s].cfg, key))
			return (int)s;
	}
	return -1;
}

int xvs_ctl_model_find_dest_state(const struct xvs_ctl_model *m, unsigned svc,
				  const struct xvs_ctl_dest_cfg *key, uint8_t state)
{
	return find_dest_state(m, svc, key, state);
}

/* ---- validation ---------------------------------------------------------------------- */

static bool ipv4_unicast(uint32_t be)
{
	uint32_t a = ntohl(be);
	return a != 0 && a != 0xffffffffu && (a >> 28) != 0xe;
}

static bool ipv6_unicast(const union xvs_ip *a)
{
	static const union xvs_ip loop = { .v6 = { [15] = 1 } };
	return a->v6[0] != 0xff && (a->d[0] || a->d[1]) && !xvs_ip_eq(a, &loop);
}

static int check_af(uint8_t af, struct xvs_ctl_err *err)
{
	if (af != XVS_AF_INET && af != XVS_AF_INET6)
		return fail(err, EINVAL, "bad address family %u", af);
	return 0;
}

/* Unicast in its family; the text form goes to name for messages. */
static bool addr_unicast(uint8_t af, const union xvs_ip *a, char *name, size_t len)
{
	if (af == XVS_AF_INET6) {
		inet_ntop(AF_INET6, a->v6, name, (socklen_t)len);
		return ipv6_unicast(a);
	}
	inet_ntop(AF_INET, &a->v4, name, (socklen_t)len);
	return ipv4_unicast(a->v4);
}

/* A firewall-mark service has no address, port or protocol: it takes TCP and UDP. */
static int check_fwmark_key(const struct xvs_ctl_svc_cfg *c, struct xvs_ctl_err *err)
{
	static const union xvs_ip zero;
	if (c->proto != 0 || c->port != 0 || !xvs_ip_eq(&c->addr, &zero))
		return fail(err, EINVAL, "a fwmark service has no protocol, address or port");
	return 0;
}

static int check_svc_cfg(const struct xvs_ctl_svc_cfg *c, struct xvs_ctl_err *err)
{
	char a[INET6_ADDRSTRLEN];
	int rc = check_af(c->af, err);
	if (rc)
		return rc;
	if (c->persistent > XVS_CTL_PERSIST_MAX)
		return fail(err, EINVAL, "persistence timeout %u out of range 1..%u", c->persistent,
			    XVS_CTL_PERSIST_MAX);
	if (c->flags & ~(XVS_SVC_F_SCHED1 | XVS_SVC_F_SCHED2 | XVS_SVC_F_SCHED3))
		return fail(err, EINVAL, "bad scheduler flags %#x", c->flags);
	if (c->fwmark)
		return check_fwmark_key(c, err);
	if (!addr_unicast(c->af, &c->addr, a, sizeof(a)))
		return fail(err, EINVAL, "virtual address %s is not a unicast address", a);
	if (c->proto != XVS_PROTO_TCP && c->proto != XVS_PROTO_UDP && c->proto != XVS_CTL_PROTO_SCTP)
		return fail(err, EINVAL, "bad protocol %u", c->proto);
	if (c->port == 0 && !c->persistent)
		return fail(err, EINVAL, "Zero port specified for non-persistent service");
	return 0;
}

int xvs_ctl_model_check_dest(const struct xvs_ctl_dest_cfg *c, struct xvs_ctl_err *err)
{
	char a[INET6_ADDRSTRLEN];
	int rc = check_af(c->af, err);
	if (rc)
		return rc;
	if (!addr_unicast(c->af, &c->addr, a, sizeof(a)))
		return fail(err, EINVAL, "real server address %s is not a unicast address", a);
	/* IPVS refuses link-local IPv6 real servers (fe80::/10) with EINVAL */
	if (c->af == XVS_AF_INET6 && c->addr.v6[0] == 0xfe && (c->addr.v6[1] & 0xc0) == 0x80)
		return fail(err, EINVAL, "real server address %s is link-local", a);
	if (c->weight < 0 || c->weight > 65535)
		return fail(err, EINVAL, "illegal weight %lld (0..65535)", (long long)c->weight);
	if (c->u_thresh < 0 || c->u_thresh > INT32_MAX || c->l_thresh < 0 || c->l_thresh > INT32_MAX)
		return fail(err, EINVAL, "thresholds must be in 0..%d", INT32_MAX);
	if (c->l_thresh > c->u_thresh)
		return fail(err, ERANGE, "lower threshold %lld above upper threshold %lld",
			    (long long)c->l_thresh, (long long)c->u_thresh);
	if (c->fwd == XVS_FWD_TUNNEL && c->tun_type == XVS_TUN_TYPE_GRE)
		return fail(err, EOPNOTSUPP, "GRE tunnels are not supported yet (ipip and gue are)");
	if (c->fwd == XVS_FWD_TUNNEL && c->tun_flags == XVS_TUN_F_REMCSUM)
		return fail(err, EOPNOTSUPP, "remote checksum offload (--tun-remcsum) is not supported yet");
	if (c->fwd != XVS_FWD_TUNNEL && (c->tun_type || c->tun_port || c->tun_flags))
		return fail(err, EINVAL, "Tunnel options conflict with forward method");
	/* as ipvsadm: an IPIP tunnel takes no port and no checksum option (-S could not say them) */
	if (c->fwd == XVS_FWD_TUNNEL && c->tun_type == XVS_TUN_TYPE_IPIP && c->tun_port)
		return fail(err, EINVAL, "Illegal 'tun-port' option with the 'ipip' tunnel type");
	if (c->fwd == XVS_FWD_TUNNEL && c->tun_type == XVS_TUN_TYPE_IPIP && c->tun_flags)
		return fail(err, EINVAL, "Illegal 'tun-csum' option with the 'ipip' tunnel type");
	if (c->fwd == XVS_FWD_TUNNEL && c->tun_type == XVS_TUN_TYPE_GUE && c->tun_port == 0)
		return fail(err, EINVAL, "You need to supply the 'tun-port' option for the 'gue' tunnel type");
	if (c->fwd != XVS_FWD_MASQ && c->fwd != XVS_FWD_DROUTE && c->fwd != XVS_FWD_TUNNEL)
		return fail(err, EINVAL, "bad forwarding method %u", c->fwd);
	return 0;
}

/* IPVS refuses a scheduler it has no module for with ENOENT, whose ipvsadm text this is. */
static int resolve_sched(const struct xvs_ctl_svc_cfg *c, struct xvs_ctl_err *err)
{
	int id = xvs_sched_id(c->sched);
	if (id < 0)
		return fail(err, ENOENT, "Scheduler or persistence engine not found: no scheduler "
					 "'%s' (xvs has %s)", c->sched, xvs_sched_names());
	return id;
}

/* The table pool of a generation must hold the tables of every service (sh, dh, mh). */
static int check_tab_room(const struct xvs_ctl_model *m, struct xvs_ctl_err *err)
{
	uint64_t need = 0;
	unsigned nb = 0;
	for (uint32_t i = 0; i < m->nb_svc_order; i++) {
		const struct xvs_sched_ops *ops = xvs_sched_all[m->svcs[m->svc_order[i]].sched_id];
		if (ops->tab_size) {
			need += ops->tab_size(&m->sched_params);
			nb++;
		}
	}
	if (need <= XVS_SCHED_TAB_POOL)
		return 0;
	return fail(err, ENOSPC, "no room for this service's scheduler table: the %u services with "
		    "sh, dh or mh would need %llu table entries, a generation holds %u (a Maglev "
		    "table has %u, sh and dh 256)", nb, (unsigned long long)need, XVS_SCHED_TAB_POOL,
		    m->sched_params.mh_size);
}

/* ---- slots --------------------------------------------------------------------------- */

static uint32_t next_epoch(struct xvs_ctl_model *m)
{
	if (++m->epoch_counter == 0)
		m->epoch_counter = 1;
	return m->epoch_counter;
}

static void bump_epoch(struct xvs_ctl_model *m, unsigned svc)
{
	m->svcs[svc].sched_epoch = next_epoch(m);
}

void xvs_ctl_model_bump_epoch(struct xvs_ctl_model *m, unsigned svc)
{
	bump_epoch(m, svc);
}

/* The scheduler is bound afresh: workers start its state over (IPVS's init_service). */
static void bump_bind(struct xvs_ctl_model *m, unsigned svc)
{
	m->svcs[svc].sched_bind = next_epoch(m);
}

static int alloc_svc(const struct xvs_ctl_model *m, int hint)
{
	if (hint >= 0 && hint < XVS_MAX_SVCS && m->svcs[hint].state == XVS_SLOT_FREE)
		return hint;
	for (unsigned i = 0; i < XVS_MAX_SVCS; i++)
		if (m->svcs[i].state == XVS_SLOT_FREE)
			return (int)i;
	return -1;
}

/* A free slot whose old connections (if any are still counted) are gone is preferred. */
int xvs_ctl_model_alloc_dest(const struct xvs_ctl_model *m, int hint)
{
	int any = -1;
	if (hint >= 0 && hint < XVS_MAX_DESTS && m->dests[hint].state == XVS_SLOT_FREE)
		return hint;
	for (unsigned i = 0; i < XVS_MAX_DESTS; i++) {
		if (m->dests[i].state != XVS_SLOT_FREE)
			continue;
		struct xvs_ctl_stats st;
		shm_sum(m->shm, true, i, &st);
		if (st.active + st.inactive + st.persist <= 0)
			return (int)i;
		if (any < 0)
			any = (int)i;
	}
	return any;
}

void xvs_ctl_model_order_remove(uint16_t *order, uint32_t *nb, unsigned slot)
{
	for (uint32_t i = 0; i < *nb; i++) {
		if (order[i] != slot)
			continue;
		memmove(&order[i], &order[i + 1], (*nb - i - 1) * sizeof(order[0]));
		(*nb)--;
		return;
	}
}

void xvs_ctl_model_trash_dest(struct xvs_ctl_model *m, unsigned slot, uint64_t now)
{
	struct xvs_ctl_dest *d = &m->dests[slot];
	xvs_ctl_overlay_dest_removed(m, slot);
	d->state = XVS_SLOT_TRASH;
	d->trash_since_ns = now;
	m->svcs[d->svc].nb_trash++;
	xvs_ctl_model_order_remove(m->dest_order, &m->nb_dest_order, slot);
}

/* ---- ops ----------------------------------------------------------------------------- */

static int op_add_svc(struct xvs_ctl_model *m, const struct xvs_ctl_op *op, struct xvs_ctl_err *err)
{
	int rc = check_svc_cfg(&op->svc, err);
	if (rc)
		return rc;
	if (xvs_ctl_model_find_svc(m, &op->svc) >= 0)
		return fail(err, EEXIST, "Service already exists");
	int sched = resolve_sched(&op->svc, err);
	if (sched < 0)
		return sched;
	if (m->nb_svc_order >= XVS_MAX_SVCS)
		return fail(err, ENOSPC, "too many services (at most %d)", XVS_MAX_SVCS);
	int slot = find_svc_state(m, &op->svc, XVS_SLOT_TRASH);
	if (slot < 0) {
		slot = alloc_svc(m, op->slot);
		if (slot < 0)
			return fail(err, ENOSPC, "no free service slot (deleted services still hold "
						 "connections)");
		xvs_ctl_model_take_base(m, false, (unsigned)slot, &m->svcs[slot].base);
		m->svcs[slot].nb_trash = 0;
	}
	struct xvs_ctl_svc *s = &m->svcs[slot];
	s->state = XVS_SLOT_USED;
	s->cfg = op->svc;
	s->sched_id = (uint8_t)sched;
	s->q_valid = false;
	s->quorum_up = false;
	s->sorry_hint = 0;
	s->alive_weight = 0;
	bump_epoch(m, (unsigned)slot);
	bump_bind(m, (unsigned)slot);
	m->svc_order[m->nb_svc_order++] = (uint16_t)slot;
	return check_tab_room(m, err);
}

static int op_edit_svc(struct xvs_ctl_model *m, const struct xvs_ctl_op *op, struct xvs_ctl_err *err)
{
	int rc = check_svc_cfg(&op->svc, err);
	if (rc)
		return rc;
	int slot = xvs_ctl_model_find_svc(m, &op->svc);
	if (slot < 0)
		return fail(err, ESRCH, "No such service");
	int sched = resolve_sched(&op->svc, err);
	if (sched < 0)
		return sched;
	m->svcs[slot].cfg = op->svc;
	if (m->svcs[slot].sched_id != (uint8_t)sched)
		bump_bind(m, (unsigned)slot);
	m->svcs[slot].sched_id = (uint8_t)sched;
	bump_epoch(m, (unsigned)slot);
	return check_tab_room(m, err);
}

static void delete_svc(struct xvs_ctl_model *m, unsigned slot, uint64_t now)
{
	for (uint32_t i = 0; i < m->nb_dest_order;) {
		unsigned d = m->dest_order[i];
		if (m->dests[d].svc == slot)
			xvs_ctl_model_trash_dest(m, d, now); /* shifts the order down: same i again */
		else
			i++;
	}
	xvs_ctl_model_order_remove(m->svc_order, &m->nb_svc_order, slot);
	xvs_ctl_overlay_svc_removed(m, slot);
	m->svcs[slot].state = m->svcs[slot].nb_trash ? XVS_SLOT_TRASH : XVS_SLOT_FREE;
}

static int op_del_svc(struct xvs_ctl_model *m, const struct xvs_ctl_op *op, struct xvs_ctl_err *err)
{
	int slot = xvs_ctl_model_find_svc(m, &op->svc);
	if (slot < 0)
		return fail(err, ESRCH, "No such service");
	delete_svc(m, (unsigned)slot, xvs_now_ns());
	return 0;
}

static int op_clear(struct xvs_ctl_model *m)
{
	uint64_t now = xvs_now_ns();
	while (m->nb_svc_order)
		delete_svc(m, m->svc_order[0], now);
	m->nb_marks = 0; /* the whole table: mark rules are part of it */
	return 0;
}

/* The service an op on a destination names, or -ESRCH. */
int xvs_ctl_model_dest_svc(const struct xvs_ctl_model *m, const struct xvs_ctl_op *op,
			   struct xvs_ctl_err *err)
{
	int slot = xvs_ctl_model_find_svc(m, &op->svc);
	return slot < 0 ? fail(err, ESRCH, "Service not defined") : slot;
}

/* The service of an add/edit-dest op, once the destination's settings are valid for it. */
static int dest_svc_checked(const struct xvs_ctl_model *m, const struct xvs_ctl_op *op,
			    struct xvs_ctl_err *err)
{
	int svc = xvs_ctl_model_dest_svc(m, op, err);
	if (svc < 0)
		return svc;
	int rc = xvs_ctl_model_check_dest(&op->dest, err);
	if (rc)
		return rc;
	if (op->dest.af != m->svcs[svc].cfg.af && op->dest.fwd != XVS_FWD_TUNNEL)
		return fail(err, EAFNOSUPPORT, "Different address family is allowed only for tunneling servers");
	return svc;
}

static int op_add_dest(struct xvs_ctl_model *m, const struct xvs_ctl_op *op, struct xvs_ctl_err *err)
{
	int svc = dest_svc_checked(m, op, err);
	if (svc < 0)
		return svc;
	if (xvs_ctl_model_find_dest(m, (unsigned)svc, &op->dest) >= 0)
		return fail(err, EEXIST, "Destination already exists");
	if (xvs_ctl_overlay_is_sorry(m, (unsigned)svc, &op->dest))
		return fail(err, EEXIST, "Destination already exists: it is the service's sorry "
					 "server (clear the service's health settings first)");
	int slot = find_dest_state(m, (unsigned)svc, &op->dest, XVS_SLOT_TRASH);
	if (slot >= 0) {
		m->svcs[svc].nb_trash--; /* revived: keeps its connections and counters */
	} else {
		slot = xvs_ctl_model_alloc_dest(m, op->slot);
		if (slot < 0)
			return fail(err, ENOSPC, "too many destinations (at most %d, trash included)",
				    XVS_MAX_DESTS);
		xvs_ctl_model_take_base(m, true, (unsigned)slot, &m->dests[slot].base);
	}
	struct xvs_ctl_dest *d = &m->dests[slot];
	d->state = XVS_SLOT_USED;
	d->svc = (uint16_t)svc;
	d->cfg = op->dest;
	d->last_weight = (int32_t)op->dest.weight;
	d->trash_since_ns = 0;
	xvs_ctl_overlay_dest_added(m, (unsigned)slot);
	m->dest_order[m->nb_dest_order++] = (uint16_t)slot; /* the head of IPVS's list */
	bump_epoch(m, (unsigned)svc);
	return 0;
}

static int op_edit_dest(struct xvs_ctl_model *m, const struct xvs_ctl_op *op, struct xvs_ctl_err *err)
{
	int svc = dest_svc_checked(m, op, err);
	if (svc < 0)
		return svc;
	int slot = xvs_ctl_model_find_dest(m, (unsigned)svc, &op->dest);
	if (slot < 0)
		return fail(err, ENOENT, "No such destination");
	m->dests[slot].cfg = op->dest;
	if (op->dest.weight != 0)
		m->dests[slot].last_weight = (int32_t)op->dest.weight;
	bump_epoch(m, (unsigned)svc);
	return 0;
}

static int op_del_dest(struct xvs_ctl_model *m, const struct xvs_ctl_op *op, struct xvs_ctl_err *err)
{
	int svc = xvs_ctl_model_dest_svc(m, op, err);
	if (svc < 0)
		return svc;
	int slot = xvs_ctl_model_find_dest(m, (unsigned)svc, &op->dest);
	if (slot < 0)
		return fail(err, ENOENT, "No such destination");
	xvs_ctl_model_trash_dest(m, (unsigned)slot, xvs_now_ns());
	bump_epoch(m, (unsigned)svc);
	return 0;
}

static int op_set_timeouts(struct xvs_ctl_model *m, const struct xvs_ctl_op *op,
			   struct xvs_ctl_err *err)
{
	static const char *const names[3] = {"tcp", "tcpfin", "udp"};
	uint32_t *dst[3] = {&m->timeouts.tcp, &m->timeouts.tcpfin, &m->timeouts.udp};
	for (unsigned i = 0; i < 3; i++)
		if (op->timeouts[i] < 0 || op->timeouts[i] > XVS_CTL_TIMEOUT_MAX)
			return fail(err, EINVAL, "%s timeout %lld out of range 0..%u", names[i],
				    (long long)op->timeouts[i], XVS_CTL_TIMEOUT_MAX);
	for (unsigned i = 0; i < 3; i++)
		if (op->timeouts[i])
			*dst[i] = (uint32_t)op->timeouts[i];
	return 0;
}

static void zero_svc(struct xvs_ctl_model *m, unsigned svc)
{
	xvs_ctl_model_take_base(m, false, svc, &m->svcs[svc].base);
	for (uint32_t i = 0; i < m->nb_dest_order; i++) {
		unsigned d = m->dest_order[i];
		if (m->dests[d].svc == svc)
			xvs_ctl_model_take_base(m, true, d, &m->dests[d].base);
	}
}

static int op_zero(struct xvs_ctl_model *m, const struct xvs_ctl_op *op, struct xvs_ctl_err *err)
{
	if (op->has_svc) {
		int slot = xvs_ctl_model_find_svc(m, &op->svc);
		if (slot < 0)
			return fail(err, ESRCH, "No such service");
		zero_svc(m, (unsigned)slot);
		return 0;
	}
	for (uint32_t i = 0; i < m->nb_svc_order; i++)
		zero_svc(m, m->svc_order[i]);
	return 0;
}

/* ---- mark rules --------------------------------------------------------------------- */

static bool mark_selector_eq(const struct xvs_ctl_mark_cfg *a, const struct xvs_ctl_mark_cfg *b)
{
	return a->af == b->af && a->proto == b->proto && a->plen == b->plen &&
	       a->port_lo == b->port_lo && a->port_hi == b->port_hi &&
	       xvs_ip_eq(&a->prefix, &b->prefix);
}

static int find_mark(const struct xvs_ctl_model *m, const struct xvs_ctl_mark_cfg *c)
{
	for (uint32_t i = 0; i < m->nb_marks; i++)
		if (mark_selector_eq(&m->marks[i], c))
			return (int)i;
	return -1;
}

/* Family, protocol, a prefix with no host bits, ports lo <= hi (both families' rules). */
static int check_mark_cfg(const struct xvs_ctl_mark_cfg *c, struct xvs_ctl_err *err)
{
	char a[INET6_ADDRSTRLEN];
	int rc = check_af(c->af, err);
	if (rc)
		return rc;
	if (c->proto != 0 && c->proto != XVS_PROTO_TCP && c->proto != XVS_PROTO_UDP)
		return fail(err, EINVAL, "mark rule: bad protocol %u (tcp, udp or any)", c->proto);
	unsigned bits = c->af == XVS_AF_INET6 ? 128 : 32;
	if (c->plen > bits)
		return fail(err, EINVAL, "mark rule: prefix length %u out of range 0..%u", c->plen, bits);
	union xvs_ip mask = xvs_gen_prefix_mask(c->af, c->plen);
	if ((c->prefix.d[0] & ~mask.d[0]) || (c->prefix.d[1] & ~mask.d[1])) {
		inet_ntop(c->af == XVS_AF_INET6 ? AF_INET6 : AF_INET, c->prefix.v6, a, sizeof(a));
		return fail(err, EINVAL, "mark rule: %s/%u has host bits set", a, c->plen);
	}
	if (c->port_lo > c->port_hi)
		return fail(err, EINVAL, "mark rule: port range %u:%u is empty", c->port_lo, c->port_hi);
	if (c->mark == 0)
		return fail(err, EINVAL, "mark rule: mark 0 (1..4294967295)");
	return 0;
}

static int op_add_mark(struct xvs_ctl_model *m, const struct xvs_ctl_op *op, struct xvs_ctl_err *err)
{
	int rc = check_mark_cfg(&op->mark, err);
	if (rc)
		return rc;
	if (find_mark(m, &op->mark) >= 0)
		return fail(err, EEXIST, "a mark rule with this protocol, prefix and port range "
					 "already exists");
	if (m->nb_marks >= XVS_MAX_MARKS)
		return fail(err, ENOSPC, "too many mark rules (at most %d)", XVS_MAX_MARKS);
	m->marks[m->nb_marks++] = op->mark;
	return 0;
}

/* The rule with the op's selector; when the op names a mark (> 0), it must be that rule's. */
static int op_del_mark(struct xvs_ctl_model *m, const struct xvs_ctl_op *op, struct xvs_ctl_err *err)
{
	int i = find_mark(m, &op->mark);
	if (i < 0 || (op->mark.mark && m->marks[i].mark != op->mark.mark))
		return fail(err, ENOENT, "No such mark rule");
	memmove(&m->marks[i], &m->marks[i + 1], (m->nb_marks - (unsigned)i - 1) * sizeof(m->marks[0]));
	m->nb_marks--;
	return 0;
}

static int apply_one(struct xvs_ctl_model *m, const struct xvs_ctl_op *op, struct xvs_ctl_err *err)
{
	switch (op->type) {
	case XVS_CTL_OP_ADD_SVC:
		return op_add_svc(m, op, err);
	case XVS_CTL_OP_EDIT_SVC:
		return op_edit_svc(m, op, err);
	case XVS_CTL_OP_DEL_SVC:
		return op_del_svc(m, op, err);
	case XVS_CTL_OP_CLEAR:
		return op_clear(m);
	case XVS_CTL_OP_ADD_DEST:
		return op_add_dest(m, op, err);
	case XVS_CTL_OP_EDIT_DEST:
		return op_edit_dest(m, op, err);
	case XVS_CTL_OP_DEL_DEST:
		return op_del_dest(m, op, err);
	case XVS_CTL_OP_SET_TIMEOUTS:
		return op_set_timeouts(m, op, err);
	case XVS_CTL_OP_ZERO:
		return op_zero(m, op, err);
	case XVS_CTL_OP_ADD_MARK:
		return op_add_mark(m, op, err);
	case XVS_CTL_OP_DEL_MARK:
		return op_del_mark(m, op, err);
	case XVS_CTL_OP_SET_DEST_HEALTH:
	case XVS_CTL_OP_SET_SVC_HEALTH:
	case XVS_CTL_OP_CLEAR_HEALTH:
	case XVS_CTL_OP_HEALTH_RESULT:
		return xvs_ctl_overlay_op(m, op, err);
	case XVS_CTL_OP_START_DAEMON:
	case XVS_CTL_OP_STOP_DAEMON:
		return xvs_ctl_model_daemon_op(m, op, err);
	}
	return fail(err, EINVAL, "unknown op %d", (int)op->type);
}

int xvs_ctl_model_apply_ops(struct xvs_ctl_model *m, const struct xvs_ctl_op *ops, unsigned nb,
			    struct xvs_ctl_err *err)
{
	memset(err, 0, sizeof(*err));
	err->index = -1;
	for (unsigned i = 0; i < nb; i++) {
		int rc = apply_one(m, &ops[i], err);
		if (rc) {
			err->index = (int)i;
			xvs_ctl_overlay_finish(m);
			return rc;
		}
	}
	xvs_ctl_overlay_finish(m);
	return 0;
}

int xvs_ctl_model_apply(struct xvs_ctl_model *m, const struct xvs_ctl_op *ops, unsigned nb,
			struct xvs_ctl_err *err)
{
	struct xvs_ctl_model *copy = xvs_ctl_model_dup(m);
	if (!copy) {
		memset(err, 0, sizeof(*err));
		err->index = -1;
		return fail(err, ENOMEM, "Memory allocation problem");
	}
	int rc = xvs_ctl_model_apply_ops(copy, ops, nb, err);
	if (rc) {
		xvs_ctl_model_free(copy);
		return rc;
	}
	xvs_ctl_overlay_refresh(copy, 0);
	xvs_ctl_model_replace(m, copy);
	return 0;
}

/* ---- trash --------------------------------------------------------------------------- */

static uint64_t max_timeout_ns(const struct xvs_ctl_model *m)
{
	uint32_t t = m->timeouts.tcp;
	t = m->timeouts.tcpfin > t ? m->timeouts.tcpfin : t;
	t = m->timeouts.udp > t ? m->timeouts.udp : t;
	return (uint64_t)t * 1000000000ULL;
}

static bool trash_done(const struct xvs_ctl_model *m, unsigned slot, uint64_t now, bool dp_alive)
{
	uint64_t age = now - m->dests[slot].trash_since_ns;
	if (!dp_alive)
		return age > max_timeout_ns(m);
	if (age < XVS_CTL_TRASH_MIN_NS)
		return false;
	struct xvs_ctl_stats st;
	shm_sum(m->shm, true, slot, &st);
	return st.active + st.inactive + st.persist <= 0; /* templates name the slot too */
}

unsigned xvs_ctl_model_purge(struct xvs_ctl_model *m, uint64_t now_ns, bool dp_alive)
{
	unsigned n = 0;
	for (unsigned i = 0; i < XVS_MAX_DESTS; i++) {
		struct xvs_ctl_dest *d = &m->dests[i];
		if (d->state != XVS_SLOT_TRASH || !trash_done(m, i, now_ns, dp_alive))
			continue;
		struct xvs_ctl_svc *s = &m->svcs[d->svc];
		if (s->nb_trash && --s->nb_trash == 0 && s->state == XVS_SLOT_TRASH)
			s->state = XVS_SLOT_FREE;
		xvs_ctl_dest_hc_put(d->hc);
		memset(d, 0, sizeof(*d));
		n++;
	}
	return n;
}
