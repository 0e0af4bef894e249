/*
 * Prometheus metrics: the snapshot taken under the daemon's lock, and the exposition text
 * rendered from it afterwards. The names and labels are documented in docs/metrics.md;
 * the text follows the exposition format 0.0.4 (every family's samples together, after one
 * HELP and one TYPE line).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_metrics.h"
#include "ctl_text.h"
#include "ctl_overlay.h"

/* ---- snapshot ------------------------------------------------------------------------ */

const struct xvs_metrics_ctr_desc xvs_metrics_worker_ctrs[XVS_METRICS_NB_WORKER_CTRS] = {
#define CTR(f, name, help, gauge) {name, help, offsetof(struct xvs_lcore_stats, f), gauge}
	CTR(rx_pkts, "receive_packets_total", "Packets received from the ports.", false),
	CTR(rx_bytes, "receive_bytes_total", "Bytes received from the ports.", false),
	CTR(tx_pkts, "transmit_packets_total", "Packets sent on the ports.", false),
	CTR(tx_bytes, "transmit_bytes_total", "Bytes sent on the ports.", false),
	CTR(conns_new, "connections_created_total", "Connections created.", false),
	CTR(conns_expired, "connections_expired_total", "Connections expired.", false),
	CTR(conns_cur, "connections", "Connections in the worker's table now.", true),
	CTR(arp_replies, "arp_replies_total", "ARP requests answered.", false),
	CTR(conns_midflow, "connections_midflow_total",
	    "Connections made for a TCP segment of a flow first seen mid-stream (consistent_midflow).",
	    false),
	CTR(neigh_evicted, "neighbours_evicted_total",
	    "Neighbour entries aged out (neighbour unreachability detection).", false),
	CTR(icmp_echo_replies, "icmp_echo_replies_total", "ICMP echo requests answered.", false),
	CTR(handoff_out, "handoff_out_packets_total",
	    "Packets handed to the worker that owns their connection.", false),
	CTR(handoff_in, "handoff_in_packets_total", "Packets taken from other workers.", false),
	CTR(conns_evicted, "connections_evicted_total",
	    "Embryonic connections evicted for new ones while the table ran low.", false),
	CTR(exc_to_kernel, "exception_to_kernel_packets_total",
	    "Frames passed to the ports' kernel interfaces (exception path).", false),
	CTR(exc_to_kernel_bytes, "exception_to_kernel_bytes_total",
	    "Bytes passed to the ports' kernel interfaces (exception path).", false),
	CTR(exc_from_kernel, "exception_from_kernel_packets_total",
	    "Frames from the ports' kernel interfaces sent on the ports.", false),
	CTR(exc_from_kernel_bytes, "exception_from_kernel_bytes_total",
	    "Bytes from the ports' kernel interfaces sent on the ports.", false),
	CTR(sync.queued, "sync_queued_total",
	    "Connection sync, master: entries a worker queued for the main lcore.", false),
	CTR(sync.ring_full, "sync_ring_full_total",
	    "Connection sync: entries lost to a full ring between a worker and the main lcore.",
	    false),
	CTR(sync.applied, "sync_applied_total",
	    "Connection sync, backup: entries that made or refreshed a connection or template.",
	    false),
	CTR(sync.no_dest, "sync_no_dest_total",
	    "Connection sync, backup: entries naming a service or real server this node lacks.",
	    false),
	CTR(sync.no_room, "sync_no_room_total",
	    "Connection sync, backup: entries the connection table had no room for.", false),
	CTR(sync.msgs_sent, "sync_messages_sent_total",
	    "Connection sync, master: messages sent (main lcore).", false),
	CTR(sync.send_errors, "sync_send_errors_total",
	    "Connection sync, master: messages the socket did not take (main lcore).", false),
	CTR(sync.msgs_recv, "sync_messages_received_total",
	    "Connection sync, backup: datagrams read (main lcore).", false),
	CTR(sync.conns_recv, "sync_entries_received_total",
	    "Connection sync, backup: entries handed to the workers (main lcore).", false),
#undef CTR
};

static void ip_str(uint8_t af, const union xvs_ip *ip, char *buf, size_t len)
{
	if (!inet_ntop(af == XVS_AF_INET6 ? AF_INET6 : AF_INET, ip, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

/* "10.0.0.1:80" or "[2001:db8::1]:80", as the listing writes a numeric address. */
static void endpoint_str(uint8_t af, const union xvs_ip *ip, uint16_t port, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	ip_str(af, ip, a, sizeof(a));
	snprintf(buf, len, af == XVS_AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
}

static void fill_svc(const struct xvs_ctl_model *m, unsigned slot, struct xvs_metrics_svc *o)
{
	const struct xvs_ctl_svc *s = &m->svcs[slot];
	const struct xvs_ctl_svc_cfg *c = &s->cfg;
	char ep[INET6_ADDRSTRLEN + 8]; /* "[addr]:port" */
	if (c->fwmark) {
		snprintf(o->protocol, sizeof(o->protocol), "fwm");
		snprintf(o->fwmark, sizeof(o->fwmark), "%u", c->fwmark);
		snprintf(o->service, sizeof(o->service), "FWM %u%s", c->fwmark,
			 c->af == XVS_AF_INET6 ? " IPv6" : "");
	} else {
		const char *p = c->proto == XVS_PROTO_TCP ? "tcp" : c->proto == XVS_PROTO_UDP ? "udp"
												: "sctp";
		snprintf(o->protocol, sizeof(o->protocol), "%s", p);
		ip_str(c->af, &c->addr, o->vip, sizeof(o->vip));
		snprintf(o->port, sizeof(o->port), "%u", c->port);
		endpoint_str(c->af, &c->addr, c->port, ep, sizeof(ep));
		snprintf(o->service, sizeof(o->service), "%s %s",
			 c->proto == XVS_PROTO_TCP ? "TCP" : c->proto == XVS_PROTO_UDP ? "UDP" : "SCTP", ep);
	}
	snprintf(o->scheduler, sizeof(o->scheduler), "%s", c->sched);
	o->persistent = c->persistent;
	o->has_quorum = s->hc != NULL;
	o->quorum_up = s->quorum_up;
	xvs_ctl_model_svc_stats(m, slot, &o->st);
	o->st.active = o->st.inactive = 0; /* summed from its servers by the caller */
}

static enum xvs_metrics_health dest_health(const struct xvs_ctl_dest *d, unsigned slot,
					   struct xvs_health *hs)
{
	struct xvs_health_status st;
	if (!d->hc)
		return XVS_METRICS_HEALTH_UNCHECKED;
	if (!xvs_health_get_status(hs, slot, d->hc_epoch, &st))
		return XVS_METRICS_HEALTH_UNKNOWN;
	bool known = false;
	for (unsigned i = 0; i < st.nb_checks && i < XVS_CHECK_MAX_PER_DEST; i++)
		known |= st.c[i].known;
	if (!known)
		return XVS_METRICS_HEALTH_UNKNOWN;
	return d->hc_alive ? XVS_METRICS_HEALTH_UP : XVS_METRICS_HEALTH_DOWN;
}

static const char *fwd_name(uint8_t fwd)
{
	switch (fwd) {
	case XVS_FWD_MASQ: return "masq";
	case XVS_FWD_TUNNEL: return "tunnel";
	case XVS_FWD_DROUTE: return "route";
	case XVS_FWD_LOCAL: return "local";
	}
	return "unknown";
}

static void fill_dest(const struct xvs_ctl_model *m, struct xvs_health *hs, unsigned slot,
		      uint32_t svc_idx, struct xvs_metrics_dest *o)
{
	const struct xvs_ctl_dest *d = &m->dests[slot];
	o->svc = svc_idx;
	endpoint_str(d->cfg.af, &d->cfg.addr, d->cfg.port, o->server, sizeof(o->server));
	o->forward = fwd_name(d->cfg.fwd);
	o->weight = d->cfg.weight;
	o->listed = xvs_ctl_overlay_view(m, slot, &o->ipvs_weight);
	o->sorry = d->role == XVS_CTL_DEST_SORRY;
	o->health = dest_health(d, slot, hs);
	xvs_ctl_model_dest_stats(m, slot, &o->st);
}

/* Services in the listing's order, then their servers in IPVS's (newest first). */
static int capture_model(const struct xvs_ctl_model *m, struct xvs_health *hs,
			 struct xvs_metrics_snap *s)
{
	uint32_t idx_of[XVS_MAX_SVCS]; /* slot -> snapshot index */
	s->svcs = calloc(m->nb_svc_order ? m->nb_svc_order : 1, sizeof(*s->svcs));
	s->dests = calloc(m->nb_dest_order ? m->nb_dest_order : 1, sizeof(*s->dests));
	if (!s->svcs || !s->dests)
		return -ENOMEM;
	for (unsigned i = 0; i < XVS_MAX_SVCS; i++)
		idx_of[i] = UINT32_MAX;
	for (uint32_t i = 0; i < m->nb_svc_order; i++) {
		idx_of[m->svc_order[i]] = i;
		fill_svc(m, m->svc_order[i], &s->svcs[i]);
	}
	s->nb_svcs = m->nb_svc_order;
	for (uint32_t i = m->nb_dest_order; i-- > 0;) {
		unsigned slot = m->dest_order[i];
		uint16_t svc = m->dests[slot].svc;
		if (svc >= XVS_MAX_SVCS || idx_of[svc] == UINT32_MAX)
			continue;
		struct xvs_metrics_dest *d = &s->dests[s->nb_dests++];
		fill_dest(m, hs, slot, idx_of[svc], d);
		/* the dataplane counts active and inactive connections per server only */
		s->svcs[d->svc].st.active += d->st.active > 0 ? d->st.active : 0;
		s->svcs[d->svc].st.inactive += d->st.inactive > 0 ? d->st.inactive : 0;
	}
	s->model = true;
	return 0;
}

static void fill_record(const struct xvs_shm *shm, unsigned rec, int idx,
			struct xvs_metrics_worker *w)
{
	const struct xvs_lcore_stats *ls = xvs_shm_stats(shm, rec);
	w->idx = idx;
	for (unsigned k = 0; k < XVS_METRICS_NB_WORKER_CTRS; k++)
		w->ctr[k] = *(const uint64_t *)((const char *)ls + xvs_metrics_worker_ctrs[k].off);
	memcpy(w->drops, ls->drops, sizeof(w->drops));
	if (idx < 0)
		return;
	const struct xvs_shm_lcore *l = xvs_shm_lcore(shm, (unsigned)idx);
	w->generation = atomic_load(&l->seen_gen);
	w->capacity = atomic_load(&l->conn_capacity);
	w->stalled = atomic_load(&shm->hdr->stalled_workers) >> idx & 1;
}

/* The region's words; the workers' records while a dataplane is attached. */
static int capture_region(const struct xvs_shm *shm, struct xvs_metrics_snap *s)
{
	if (!shm || !shm->hdr)
		return 0;
	const struct xvs_shm_hdr *h = shm->hdr;
	s->published = XVS_PUB_GEN(atomic_load(&h->published));
	s->adopted = XVS_PUB_GEN(atomic_load(&h->adopted));
	s->refused_gen = atomic_load(&h->refused_gen);
	s->nb_refused = atomic_load(&h->nb_refused);
	s->dp_up = xvs_shm_dataplane_alive(shm);
	if (!s->dp_up)
		return 0;
	uint32_t nb = atomic_load(&h->nb_workers);
	s->nb_workers = nb = nb > XVS_MAX_LCORES ? XVS_MAX_LCORES : nb;
	s->records = calloc(nb + 1, sizeof(*s->records));
	if (!s->records)
		return -ENOMEM;
	for (uint32_t i = 0; i < nb; i++)
		fill_record(shm, i, (int)i, &s->records[i]);
	fill_record(shm, XVS_SHM_MAIN_STATS, -1, &s->records[nb]);
	s->nb_records = nb + 1;
	return 0;
}

int xvs_metrics_capture(const struct xvs_ctl *c, struct xvs_metrics_snap *s)
{
	memset(s, 0, sizeof(*s));
	int rc = capture_region(c->shm, s);
	if (rc == 0 && c->model)
		rc = capture_model(c->model, c->health, s);
	if (rc)
		xvs_metrics_snap_clear(s);
	return rc;
}

void xvs_metrics_snap_clear(struct xvs_metrics_snap *s)
{
	free(s->svcs);
	free(s->dests);
	free(s->records);
	memset(s, 0, sizeof(*s));
}

/* ---- text ---------------------------------------------------------------------------- */

size_t xvs_metrics_escape(const char *in, char *out, size_t outlen)
{
	size_t o = 0;
	if (!outlen)
		return 0;
	for (; *in; in++) {
		const char *rep = *in == '\\' ? "\\\\" : *in == '"' ? "\\\"" : *in == '\n' ? "\\n" : NULL;
		size_t n = rep ? 2 : 1;
		if (o + n >= outlen)
			break;
		if (rep)
			memcpy(out + o, rep, 2);
		else
			out[o] = *in;
		o += n;
	}
	out[o] = '\0';
	return o;
}

/* Label values after escaping: at most twice as long. */
#define LABELS_MAX 512

static void label(char *buf, size_t len, size_t *at, const char *name, const char *value)
{
	char esc[2 * XVS_METRICS_NAME_MAX + 1];
	xvs_metrics_escape(value, esc, sizeof(esc));
	int n = snprintf(buf + *at, len - *at, "%s%s=\"%s\"", *at ? "," : "", name, esc);
	if (n > 0)
		*at = *at + (size_t)n < len ? *at + (size_t)n : len - 1;
}

static void svc_labels(const struct xvs_metrics_svc *v, char *buf, size_t len)
{
	size_t at = 0;
	buf[0] = '\0';
	label(buf, len, &at, "service", v->service);
	label(buf, len, &at, "protocol", v->protocol);
	if (v->fwmark[0]) {
		label(buf, len, &at, "fwmark", v->fwmark);
	} else {
		label(buf, len, &at, "vip", v->vip);
		label(buf, len, &at, "port", v->port);
	}
}

static void dest_labels(const struct xvs_metrics_snap *s, const struct xvs_metrics_dest *d,
			char *buf, size_t len)
{
	size_t at = 0;
	buf[0] = '\0';
	label(buf, len, &at, "service", s->svcs[d->svc].service);
	label(buf, len, &at, "server", d->server);
	label(buf, len, &at, "forward", d->forward);
}

static void family(struct xvs_text *b, const char *name, bool gauge, const char *help)
{
	xvs_text_put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, gauge ? "gauge" : "counter");
}

/* The counters a service and a real server share, from struct xvs_ctl_stats. */
enum stat_field { ST_CONNS, ST_INPKTS, ST_OUTPKTS, ST_INBYTES, ST_OUTBYTES, ST_ACTIVE,
		  ST_INACTIVE, ST_PERSIST };

static const struct {
	const char *name; /* after "xvs_service_" / "xvs_server_" */
	const char *help;
	enum stat_field f;
	bool gauge;
	bool dest_only;
} stat_fams[] = {
	{"connections_total", "Connections scheduled.", ST_CONNS, false, false},
	{"incoming_packets_total", "Packets from clients.", ST_INPKTS, false, false},
	{"outgoing_packets_total", "Packets to clients (NAT replies).", ST_OUTPKTS, false, false},
	{"incoming_bytes_total", "Bytes (IP total length) from clients.", ST_INBYTES, false, false},
	{"outgoing_bytes_total", "Bytes (IP total length) to clients.", ST_OUTBYTES, false, false},
	{"active_connections", "Active connections (IPVS's ActiveConn).", ST_ACTIVE, true, false},
	{"inactive_connections", "Inactive connections (IPVS's InActConn).", ST_INACTIVE, true,
	 false},
	{"persistent_connections", "Persistence templates (IPVS's PersistConn).", ST_PERSIST, true,
	 true},
};

static uint64_t stat_value(const struct xvs_ctl_stats *st, enum stat_field f)
{
	switch (f) {
	case ST_CONNS: return st->c.conns;
	case ST_INPKTS: return st->c.inpkts;
	case ST_OUTPKTS: return st->c.outpkts;
	case ST_INBYTES: return st->c.inbytes;
	case ST_OUTBYTES: return st->c.outbytes;
	case ST_ACTIVE: return st->active > 0 ? (uint64_t)st->active : 0;
	case ST_INACTIVE: return st->inactive > 0 ? (uint64_t)st->inactive : 0;
	case ST_PERSIST: return st->persist > 0 ? (uint64_t)st->persist : 0;
	}
	return 0;
}

static void format_globals(struct xvs_text *b, const struct xvs_metrics_snap *s, const char *version)
{
	char esc[128];
	family(b, "xvs_control_up", true, "1: xvs-control answers.");
	xvs_text_put(b, "xvs_control_up 1\n");
	family(b, "xvs_build_info", true, "The version of xvs-control, as a label; always 1.");
	xvs_metrics_escape(version, esc, sizeof(esc));
	xvs_text_put(b, "xvs_build_info{version=\"%s\"} 1\n", esc);
	family(b, "xvs_metrics_stale", true,
	       "1: the configuration lock stayed busy and this scrape repeats an earlier snapshot.");
	xvs_text_put(b, "xvs_metrics_stale %d\n", s->stale);
	family(b, "xvs_dataplane_up", true, "1: a dataplane is attached (fresh heartbeat).");
	xvs_text_put(b, "xvs_dataplane_up %d\n", s->dp_up);
	if (s->dp_up) {
		family(b, "xvs_dataplane_workers", true, "Workers of the attached dataplane.");
		xvs_text_put(b, "xvs_dataplane_workers %u\n", s->nb_workers);
	}
	family(b, "xvs_generation_published", true, "Last table generation control published.");
	xvs_text_put(b, "xvs_generation_published %llu\n", (unsigned long long)s->published);
	family(b, "xvs_generation_adopted", true, "Generation every dataplane worker runs.");
	xvs_text_put(b, "xvs_generation_adopted %llu\n", (unsigned long long)s->adopted);
	family(b, "xvs_generation_refused_total", false, "Generations the dataplane refused.");
	xvs_text_put(b, "xvs_generation_refused_total %llu\n", (unsigned long long)s->nb_refused);
	family(b, "xvs_generation_last_refused", true, "Last refused generation (0: none).");
	xvs_text_put(b, "xvs_generation_last_refused %llu\n", (unsigned long long)s->refused_gen);
}

static void format_services(struct xvs_text *b, const struct xvs_metrics_snap *s)
{
	char lab[LABELS_MAX], name[96], esc[64];
	bool any_quorum = false;
	if (!s->nb_svcs)
		return;
	family(b, "xvs_service_info", true,
	       "A virtual service, with its scheduler and persistence timeout as labels; always 1.");
	for (uint32_t i = 0; i < s->nb_svcs; i++) {
		svc_labels(&s->svcs[i], lab, sizeof(lab));
		xvs_metrics_escape(s->svcs[i].scheduler, esc, sizeof(esc));
		xvs_text_put(b, "xvs_service_info{%s,scheduler=\"%s\",persistent=\"%u\"} 1\n", lab, esc,
		    s->svcs[i].persistent);
		any_quorum |= s->svcs[i].has_quorum;
	}
	for (size_t k = 0; k < sizeof(stat_fams) / sizeof(stat_fams[0]); k++) {
		if (stat_fams[k].dest_only)
			continue;
		snprintf(name, sizeof(name), "xvs_service_%s", stat_fams[k].name);
		family(b, name, stat_fams[k].gauge, stat_fams[k].help);
		for (uint32_t i = 0; i < s->nb_svcs; i++) {
			svc_labels(&s->svcs[i], lab, sizeof(lab));
			xvs_text_put(b, "%s{%s} %llu\n", name, lab,
			    (unsigned long long)stat_value(&s->svcs[i].st, stat_fams[k].f));
		}
	}
	if (!any_quorum)
		return;
	family(b, "xvs_service_quorum_up", true,
	       "Services with health settings: 1 while the live servers' weights hold the quorum.");
	for (uint32_t i = 0; i < s->nb_svcs; i++) {
		if (!s->svcs[i].has_quorum)
			continue;
		svc_labels(&s->svcs[i], lab, sizeof(lab));
		xvs_text_put(b, "xvs_service_quorum_up{%s} %d\n", lab, s->svcs[i].quorum_up);
	}
}

static const char *const health_names[XVS_METRICS_HEALTH_MAX] = {"up", "down", "unknown",
								  "unchecked"};

static void format_dest_gauges(struct xvs_text *b, const struct xvs_metrics_snap *s)
{
	char lab[LABELS_MAX];
	family(b, "xvs_server_weight", true, "Configured weight.");
	for (uint32_t i = 0; i < s->nb_dests; i++) {
		dest_labels(s, &s->dests[i], lab, sizeof(lab));
		xvs_text_put(b, "xvs_server_weight{%s} %lld\n", lab, (long long)s->dests[i].weight);
	}
	family(b, "xvs_server_effective_weight", true,
	       "Weight in the listing (health checks may change it; 0 when not listed).");
	for (uint32_t i = 0; i < s->nb_dests; i++) {
		dest_labels(s, &s->dests[i], lab, sizeof(lab));
		xvs_text_put(b, "xvs_server_effective_weight{%s} %d\n", lab,
		    s->dests[i].listed ? s->dests[i].ipvs_weight : 0);
	}
	family(b, "xvs_server_listed", true, "1: the server is in its service's listing.");
	for (uint32_t i = 0; i < s->nb_dests; i++) {
		dest_labels(s, &s->dests[i], lab, sizeof(lab));
		xvs_text_put(b, "xvs_server_listed{%s} %d\n", lab, s->dests[i].listed);
	}
	family(b, "xvs_server_sorry", true, "1: the service's sorry server.");
	for (uint32_t i = 0; i < s->nb_dests; i++) {
		dest_labels(s, &s->dests[i], lab, sizeof(lab));
		xvs_text_put(b, "xvs_server_sorry{%s} %d\n", lab, s->dests[i].sorry);
	}
	family(b, "xvs_server_health_state", true,
	       "Health verdict as a state set: exactly one state is 1 (unchecked: no checks).");
	for (uint32_t i = 0; i < s->nb_dests; i++) {
		dest_labels(s, &s->dests[i], lab, sizeof(lab));
		for (int h = 0; h < XVS_METRICS_HEALTH_MAX; h++)
			xvs_text_put(b, "xvs_server_health_state{%s,state=\"%s\"} %d\n", lab, health_names[h],
			    s->dests[i].health == (enum xvs_metrics_health)h);
	}
}

static void format_dests(struct xvs_text *b, const struct xvs_metrics_snap *s)
{
	char lab[LABELS_MAX], name[96];
	if (!s->nb_dests)
		return;
	for (size_t k = 0; k < sizeof(stat_fams) / sizeof(stat_fams[0]); k++) {
		snprintf(name, sizeof(name), "xvs_server_%s", stat_fams[k].name);
		family(b, name, stat_fams[k].gauge, stat_fams[k].help);
		for (uint32_t i = 0; i < s->nb_dests; i++) {
			dest_labels(s, &s->dests[i], lab, sizeof(lab));
			xvs_text_put(b, "%s{%s} %llu\n", name, lab,
			    (unsigned long long)stat_value(&s->dests[i].st, stat_fams[k].f));
		}
	}
	format_dest_gauges(b, s);
}

static void worker_label(const struct xvs_metrics_worker *w, char *buf, size_t len)
{
	if (w->idx < 0)
		snprintf(buf, len, "main");
	else
		snprintf(buf, len, "%d", w->idx);
}

/* Worker-only gauges: the main lcore runs no connection table. */
static void format_worker_state(struct xvs_text *b, const struct xvs_metrics_snap *s)
{
	bool any_capacity = false;
	family(b, "xvs_worker_stalled", true, "1: the worker has not ticked for 100 ms.");
	for (uint32_t i = 0; i < s->nb_records; i++)
		if (s->records[i].idx >= 0)
			xvs_text_put(b, "xvs_worker_stalled{worker=\"%d\"} %d\n", s->records[i].idx,
			    s->records[i].stalled);
	family(b, "xvs_worker_generation", true, "Table generation the worker runs.");
	for (uint32_t i = 0; i < s->nb_records; i++) {
		any_capacity |= s->records[i].capacity > 0;
		if (s->records[i].idx >= 0)
			xvs_text_put(b, "xvs_worker_generation{worker=\"%d\"} %llu\n", s->records[i].idx,
			    (unsigned long long)s->records[i].generation);
	}
	if (!any_capacity)
		return;
	family(b, "xvs_worker_connection_capacity", true, "Cells of the worker's connection table.");
	for (uint32_t i = 0; i < s->nb_records; i++)
		if (s->records[i].idx >= 0 && s->records[i].capacity)
			xvs_text_put(b, "xvs_worker_connection_capacity{worker=\"%d\"} %llu\n", s->records[i].idx,
			    (unsigned long long)s->records[i].capacity);
}

static void format_workers(struct xvs_text *b, const struct xvs_metrics_snap *s)
{
	char name[96], w[16];
	if (!s->nb_records)
		return;
	for (unsigned k = 0; k < XVS_METRICS_NB_WORKER_CTRS; k++) {
		const struct xvs_metrics_ctr_desc *c = &xvs_metrics_worker_ctrs[k];
		snprintf(name, sizeof(name), "xvs_worker_%s", c->name);
		family(b, name, c->gauge, c->help);
		for (uint32_t i = 0; i < s->nb_records; i++) {
			worker_label(&s->records[i], w, sizeof(w));
			xvs_text_put(b, "%s{worker=\"%s\"} %llu\n", name, w,
			    (unsigned long long)s->records[i].ctr[k]);
		}
	}
	format_worker_state(b, s);
	family(b, "xvs_drops_total", false,
	       "Packets dropped, by worker and reason (the reasons of xvsadm --status).");
	for (uint32_t i = 0; i < s->nb_records; i++) {
		worker_label(&s->records[i], w, sizeof(w));
		for (unsigned d = 0; d < XVS_DROP_MAX; d++)
			xvs_text_put(b, "xvs_drops_total{worker=\"%s\",reason=\"%s\"} %llu\n", w,
			    xvs_drop_names[d], (unsigned long long)s->records[i].drops[d]);
	}
}

char *xvs_metrics_format(const struct xvs_metrics_snap *s, const char *version, size_t *len)
{
	struct xvs_text b = {0};
	b.cap = 16384;
	b.p = malloc(b.cap);
	if (!b.p)
		return NULL;
	b.p[0] = '\0';
	format_globals(&b, s, version ? version : "");
	format_services(&b, s);
	format_dests(&b, s);
	format_workers(&b, s);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

/* ---- --metrics-listen ---------------------------------------------------------------- */

static int bad(char *msg, size_t msglen, const char *fmt, const char *arg)
{
	snprintf(msg, msglen, fmt, arg);
	return -EINVAL;
}

static int parse_port(const char *p, uint16_t *port)
{
	unsigned long n = 0;
	if (!*p || strlen(p) > 5)
		return -1;
	for (const char *q = p; *q; q++) {
		if (*q < '0' || *q > '9')
			return -1;
		n = n * 10 + (unsigned long)(*q - '0');
	}
	if (n < 1 || n > 65535)
		return -1;
	*port = (uint16_t)n;
	return 0;
}

int xvs_metrics_parse_listen(const char *s, struct sockaddr_storage *sa, socklen_t *salen,
			     char *msg, size_t msglen)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	uint16_t port;
	memset(sa, 0, sizeof(*sa));
	if (strcmp(s, "none") == 0)
		return 1;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof(host))
			return bad(msg, msglen, "'%s': expected [IPv6]:PORT", s);
		memcpy(host, s + 1, (size_t)(end - s - 1));
		host[end - s - 1] = '\0';
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(host))
			return bad(msg, msglen, "'%s': expected ADDRESS:PORT, [IPv6]:PORT or none", s);
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
		if (strchr(host, ':'))
			return bad(msg, msglen, "'%s': an IPv6 address goes in brackets ([::1]:9720)", s);
	}
	if (parse_port(colon + 1, &port) < 0)
		return bad(msg, msglen, "'%s': the port must be a number 1..65535", s);
	if (s[0] == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)sa;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return bad(msg, msglen, "'%s': not an IPv6 address", s);
		*salen = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)sa;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return bad(msg, msglen, "'%s': not an IPv4 address (ADDRESS:PORT; names are not "
				   "resolved)", s);
		*salen = sizeof(*a);
	}
	return 0;
}
