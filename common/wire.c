/* The control API's JSON schema, shared by xvs-control and xvsadm (xvs/wire.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "xvs/table.h"
#include "xvs/wire.h"

const char *const xvs_wire_rate_names[XVS_WIRE_NB_RATES] = {
#define XVS_WIRE_NAME(f) #f,
	XVS_WIRE_RATES(XVS_WIRE_NAME)
#undef XVS_WIRE_NAME
};

const struct xvs_wire_name xvs_wire_protos[] = {
	{"tcp", XVS_PROTO_TCP}, {"udp", XVS_PROTO_UDP}, {"sctp", XVS_PROTO_SCTP}, {NULL, 0},
};

const struct xvs_wire_name xvs_wire_afs[] = {
	{"inet", XVS_AF_INET}, {"inet6", XVS_AF_INET6}, {NULL, 0},
};

const struct xvs_wire_name xvs_wire_fwds[] = {
	{"masq", XVS_FWD_MASQ}, {"route", XVS_FWD_DROUTE}, {"tunnel", XVS_FWD_TUNNEL}, {NULL, 0},
};

const struct xvs_wire_name xvs_wire_tun_types[] = {
	{"ipip", 0}, {"gue", 1}, {"gre", 2}, {NULL, 0},
};

const struct xvs_wire_name xvs_wire_tun_csums[] = {
	{"nocsum", XVS_TUN_F_NOCSUM}, {"csum", XVS_TUN_F_CSUM}, {"remcsum", XVS_TUN_F_REMCSUM},
	{NULL, 0},
};

const struct xvs_wire_name xvs_wire_mark_protos[] = {
	{"any", 0}, {"tcp", XVS_PROTO_TCP}, {"udp", XVS_PROTO_UDP}, {NULL, 0},
};

const struct xvs_wire_name xvs_wire_sched_flags[] = {
	{"flag-1", XVS_SVC_F_SCHED1}, {"flag-2", XVS_SVC_F_SCHED2}, {"flag-3", XVS_SVC_F_SCHED3},
	{"sh-fallback", XVS_SVC_F_SCHED1}, {"sh-port", XVS_SVC_F_SCHED2},
	{"mh-fallback", XVS_SVC_F_SCHED1}, {"mh-port", XVS_SVC_F_SCHED2}, {NULL, 0},
};

const struct xvs_wire_name xvs_wire_conn_protos[] = {
	{"tcp", XVS_PROTO_TCP}, {"udp", XVS_PROTO_UDP}, {"sctp", XVS_PROTO_SCTP}, {"ip", 0},
	{NULL, 0},
};

const struct xvs_wire_name xvs_wire_conn_fwds[] = {
	{"masq", XVS_FWD_MASQ}, {"local", XVS_FWD_LOCAL}, {"tunnel", XVS_FWD_TUNNEL},
	{"route", XVS_FWD_DROUTE}, {NULL, 0},
};

int xvs_wire_value(const struct xvs_wire_name *t, const char *name, int *val)
{
	for (; name && t->name; t++) {
		if (strcmp(name, t->name) == 0) {
			*val = t->val;
			return 0;
		}
	}
	return -ENOENT;
}

const char *xvs_wire_name_of(const struct xvs_wire_name *t, int val)
{
	for (; t->name; t++)
		if (t->val == val)
			return t->name;
	return NULL;
}

void xvs_wire_ip_str(uint8_t af, const union xvs_ip *ip, char *buf, size_t len)
{
	if (!inet_ntop(af == XVS_AF_INET6 ? AF_INET6 : AF_INET, ip, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

int xvs_wire_ip_parse(const char *s, uint8_t *af, union xvs_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (s && inet_pton(AF_INET, s, &ip->v4) == 1)
		*af = XVS_AF_INET;
	else if (s && inet_pton(AF_INET6, s, ip->v6) == 1)
		*af = XVS_AF_INET6;
	else
		return -EINVAL;
	return 0;
}

/* Set key to a new value v (stolen); on failure o is released. */
static json_t *set(json_t *o, const char *key, json_t *v)
{
	if (o && json_object_set_new(o, key, v) == 0)
		return o;
	json_decref(o);
	if (!o)
		json_decref(v);
	return NULL;
}

json_t *xvs_wire_svc_key(const struct xvs_wire_svc *s)
{
	char addr[INET6_ADDRSTRLEN];
	const char *af = xvs_wire_name_of(xvs_wire_afs, s->af);
	const char *proto = xvs_wire_name_of(xvs_wire_protos, s->proto);
	if (s->fwmark)
		return af ? json_pack("{sI ss}", XVS_WIRE_FWMARK, (json_int_t)s->fwmark,
				      XVS_WIRE_AF, af) : NULL;
	xvs_wire_ip_str(s->af, &s->addr, addr, sizeof(addr));
	return proto ? json_pack("{ss ss si}", XVS_WIRE_PROTO, proto, XVS_WIRE_ADDR, addr,
				 XVS_WIRE_PORT, (int)s->port) : NULL;
}

/* The name of one scheduler flag bit: the scheduler's own ("sh-port") if it has one. */
static const char *flag_name(const char *sched, int bit)
{
	size_t n = sched ? strlen(sched) : 0;
	const char *generic = NULL;
	for (const struct xvs_wire_name *t = xvs_wire_sched_flags; t->name; t++) {
		if (t->val != bit)
			continue;
		if (n && strncmp(t->name, sched, n) == 0 && t->name[n] == '-')
			return t->name;
		if (!generic)
			generic = t->name;
	}
	return generic;
}

static json_t *flags_json(uint16_t flags, const char *sched)
{
	static const int bits[] = {XVS_SVC_F_SCHED1, XVS_SVC_F_SCHED2, XVS_SVC_F_SCHED3};
	json_t *a = json_array();
	for (unsigned i = 0; a && i < sizeof(bits) / sizeof(bits[0]); i++)
		if ((flags & bits[i]) && json_array_append_new(a, json_string(flag_name(sched,
											 bits[i])))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

json_t *xvs_wire_svc_full(const struct xvs_wire_svc *s)
{
	char mask[INET6_ADDRSTRLEN];
	if (s->af == XVS_AF_INET6)
		snprintf(mask, sizeof(mask), "%u", s->netmask.w[0]);
	else
		xvs_wire_ip_str(XVS_AF_INET, &s->netmask, mask, sizeof(mask));
	json_t *o = xvs_wire_svc_key(s);
	o = set(o, XVS_WIRE_SCHED, json_string(s->sched));
	o = set(o, XVS_WIRE_PERSISTENT, json_integer((json_int_t)s->persistent));
	o = set(o, XVS_WIRE_NETMASK, json_string(mask));
	o = set(o, XVS_WIRE_FLAGS, flags_json(s->flags, s->flag_sched));
	return set(o, XVS_WIRE_ONEPACKET, json_boolean(s->ops));
}

json_t *xvs_wire_dest_key(const struct xvs_wire_dest *d)
{
	char addr[INET6_ADDRSTRLEN];
	xvs_wire_ip_str(d->af, &d->addr, addr, sizeof(addr));
	return json_pack("{ss si}", XVS_WIRE_ADDR, addr, XVS_WIRE_PORT, (int)d->port);
}

json_t *xvs_wire_dest_full(const struct xvs_wire_dest *d)
{
	const char *fwd = xvs_wire_name_of(xvs_wire_fwds, d->fwd);
	const char *tun = xvs_wire_name_of(xvs_wire_tun_types, d->tun_type);
	const char *csum = xvs_wire_name_of(xvs_wire_tun_csums, d->tun_csum);
	json_t *o = fwd && tun && csum ? xvs_wire_dest_key(d) : NULL;
	o = set(o, XVS_WIRE_FWD, json_string(fwd));
	o = set(o, XVS_WIRE_WEIGHT, json_integer((json_int_t)d->weight));
	o = set(o, XVS_WIRE_U_THRESHOLD, json_integer((json_int_t)d->u_threshold));
	o = set(o, XVS_WIRE_L_THRESHOLD, json_integer((json_int_t)d->l_threshold));
	o = set(o, XVS_WIRE_TUN_TYPE, json_string(tun));
	o = set(o, XVS_WIRE_TUN_PORT, json_integer(d->tun_port));
	return set(o, XVS_WIRE_TUN_CSUM, json_string(csum));
}

json_t *xvs_wire_mark_rule(const struct xvs_wire_mark *m, bool zero_mark)
{
	char addr[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN + 8];
	const char *proto = xvs_wire_name_of(xvs_wire_mark_protos, m->proto);
	xvs_wire_ip_str(m->af, &m->prefix, addr, sizeof(addr));
	snprintf(dst, sizeof(dst), "%s/%u", addr, m->plen);
	json_t *o = proto ? json_pack("{ss ss si si}", XVS_WIRE_PROTO, proto, XVS_WIRE_DST, dst,
				      XVS_WIRE_DPORT_LO, (int)m->port_lo, XVS_WIRE_DPORT_HI,
				      (int)m->port_hi) : NULL;
	if (m->mark || zero_mark)
		o = set(o, XVS_WIRE_MARK, json_integer((json_int_t)m->mark));
	return o;
}

json_t *xvs_wire_timeouts(int64_t tcp, int64_t tcpfin, int64_t udp)
{
	return json_pack("{sI sI sI}", XVS_WIRE_TCP, (json_int_t)tcp, XVS_WIRE_TCPFIN,
			 (json_int_t)tcpfin, XVS_WIRE_UDP, (json_int_t)udp);
}
