/*
 * xvsadm <-> control API translation. Ops carry every field explicitly (the parser has
 * already applied ipvsadm's defaults), so -E/-e replace every field as in ipvsadm and the
 * server never has to guess what the user left out. Reading is lenient: fields this
 * client does not know are ignored, so a newer server still lists fine.
 */
#include "xvsadm_json.h"
#include "xvsadm_sync.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *proto_str(uint16_t proto)
{
	switch (proto) {
	case IPPROTO_UDP: return "udp";
	case IPPROTO_SCTP: return "sctp";
	default: return "tcp";
	}
}

static const char *const fwd_strs[] = {
	[XVS_FWD_MASQ] = "masq", [XVS_FWD_LOCAL] = "local", [XVS_FWD_TUNNEL] = "tunnel",
	[XVS_FWD_DROUTE] = "route",
};
static const char *const tun_type_strs[] = { "ipip", "gue", "gre" };
static const char *const tun_csum_strs[] = { "nocsum", "csum", "remcsum" };

static void addr_str(int af, const union xvs_ip *ip, char *buf, size_t len)
{
	inet_ntop(af == AF_INET6 ? AF_INET6 : AF_INET, ip->v6, buf, (socklen_t)len);
}

static json_t *service_key(const struct xvs_xvsadm_service *s)
{
	char addr[INET6_ADDRSTRLEN];

	if (s->fwmark)
		return json_pack("{sI ss}", "fwmark", (json_int_t)s->fwmark, "af",
				 s->af == AF_INET6 ? "inet6" : "inet");
	addr_str(s->af, &s->addr, addr, sizeof(addr));
	return json_pack("{ss ss si}", "proto", proto_str(s->proto), "addr", addr, "port",
			 (int)s->port);
}

static json_t *sched_flags(const struct xvs_xvsadm_service *s)
{
	const char *n1 = "flag-1", *n2 = "flag-2";
	json_t *a = json_array();

	if (strcmp(s->sched, "sh") == 0) {
		n1 = "sh-fallback";
		n2 = "sh-port";
	} else if (strcmp(s->sched, "mh") == 0) {
		n1 = "mh-fallback";
		n2 = "mh-port";
	}
	if (a && (s->flags & XVS_SVC_F_SCHED1))
		json_array_append_new(a, json_string(n1));
	if (a && (s->flags & XVS_SVC_F_SCHED2))
		json_array_append_new(a, json_string(n2));
	if (a && (s->flags & XVS_SVC_F_SCHED3))
		json_array_append_new(a, json_string("flag-3"));
	return a;
}

/*
 * The scheduler's name as a JSON string. -s takes any bytes, as ipvsadm's does, but a JSON
 * string only UTF-8: other bytes become '?'. No scheduler has such a name, so the server
 * answers "not found", as the kernel does for ipvsadm (json_string would fail instead, and
 * the command with it, as if memory had run out).
 */
static json_t *sched_name(const char *name)
{
	char buf[XVSADM_SCHED_MAXLEN];
	json_t *j = json_string(name);

	if (j != NULL)
		return j;
	snprintf(buf, sizeof(buf), "%s", name);
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	return json_string(buf);
}

/* Every field of -A/-E: an omitted option is its ipvsadm default, never "unchanged". */
static json_t *service_full(const struct xvs_xvsadm_service *s)
{
	char mask[INET6_ADDRSTRLEN];
	json_t *o = service_key(s);
	json_t *flags = sched_flags(s);
	uint32_t pers = (s->flags & XVS_SVC_F_PERSISTENT) ? s->timeout : 0;
	int bad;

	if (s->af == AF_INET6)
		snprintf(mask, sizeof(mask), "%u", s->netmask);
	else
		inet_ntop(AF_INET, &s->netmask, mask, sizeof(mask));
	/* flags is set with its own reference: on a failure before it, it is still ours */
	bad = o == NULL || flags == NULL ||
	      json_object_set_new(o, "sched", sched_name(s->sched)) ||
	      json_object_set_new(o, "persistent", json_integer(pers)) ||
	      json_object_set_new(o, "netmask", json_string(mask)) ||
	      json_object_set(o, "flags", flags) ||
	      json_object_set_new(o, "ops", json_boolean(s->flags & XVS_SVC_F_ONEPACKET));
	json_decref(flags);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *dest_key(const struct xvs_xvsadm_dest *d)
{
	char addr[INET6_ADDRSTRLEN];

	addr_str(d->af, &d->addr, addr, sizeof(addr));
	return json_pack("{ss si}", "addr", addr, "port", (int)d->port);
}

static json_t *dest_full(const struct xvs_xvsadm_dest *d)
{
	json_t *o = dest_key(d);

	if (o == NULL || d->fwd < 0 || d->fwd > XVS_FWD_DROUTE ||
	    d->tun_type < 0 || d->tun_type > XVSADM_TUN_GRE ||
	    d->tun_csum < 0 || d->tun_csum > XVSADM_TUN_REMCSUM ||
	    json_object_set_new(o, "fwd", json_string(fwd_strs[d->fwd])) ||
	    json_object_set_new(o, "weight", json_integer(d->weight)) ||
	    json_object_set_new(o, "u_threshold", json_integer(d->u_threshold)) ||
	    json_object_set_new(o, "l_threshold", json_integer(d->l_threshold)) ||
	    json_object_set_new(o, "tun_type", json_string(tun_type_strs[d->tun_type])) ||
	    json_object_set_new(o, "tun_port", json_integer(d->tun_port)) ||
	    json_object_set_new(o, "tun_csum", json_string(tun_csum_strs[d->tun_csum]))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Build {"op": name, "service": svc, "dest": dest}; svc/dest may be NULL, refs are stolen. */
static int make_op(const char *name, json_t *svc, json_t *dest, int need_svc, int need_dest,
		   json_t **op)
{
	json_t *o = json_pack("{ss}", "op", name);

	if (o == NULL || (need_svc && svc == NULL) || (need_dest && dest == NULL) ||
	    (svc && json_object_set_new(o, "service", svc)) ||
	    (dest && json_object_set_new(o, "dest", dest))) {
		json_decref(o);
		return -ENOMEM;
	}
	*op = o;
	return 0;
}

/* The mark rule of --add-mark / --del-mark; the mark itself only when given. */
static json_t *mark_rule(const struct xvs_xvsadm_mark *mk)
{
	char addr[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN + 8];
	json_t *o;

	addr_str(mk->af, &mk->prefix, addr, sizeof(addr));
	snprintf(dst, sizeof(dst), "%s/%u", addr, mk->plen);
	o = json_pack("{ss ss si si}", "proto", mk->proto == IPPROTO_TCP ? "tcp" :
		      mk->proto == IPPROTO_UDP ? "udp" : "any", "dst", dst, "dport_lo",
		      (int)mk->port_lo, "dport_hi", (int)mk->port_hi);
	if (o && mk->mark && json_object_set_new(o, "mark", json_integer(mk->mark))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int mark_op(const char *name, const struct xvs_xvsadm_mark *mk, json_t **op)
{
	json_t *r = mark_rule(mk);

	*op = r ? json_pack("{ss so}", "op", name, "mark", r) : NULL;
	return *op ? 0 : -ENOMEM;
}

int xvs_xvsadm_json_op(const struct xvs_xvsadm_cmd *cmd, json_t **op)
{
	const int has_svc = !!(cmd->options & XVSADM_OPTBIT(XVSADM_OPT_SERVICE));

	*op = NULL;
	switch (cmd->cmd) {
	case XVSADM_CMD_ADD:
		return make_op("add-service", service_full(&cmd->svc), NULL, 1, 0, op);
	case XVSADM_CMD_EDIT:
		return make_op("edit-service", service_full(&cmd->svc), NULL, 1, 0, op);
	case XVSADM_CMD_DEL:
		return make_op("delete-service", service_key(&cmd->svc), NULL, 1, 0, op);
	case XVSADM_CMD_FLUSH:
		return make_op("clear", NULL, NULL, 0, 0, op);
	case XVSADM_CMD_ADDDEST:
		return make_op("add-dest", service_key(&cmd->svc), dest_full(&cmd->dest), 1, 1, op);
	case XVSADM_CMD_EDITDEST:
		return make_op("edit-dest", service_key(&cmd->svc), dest_full(&cmd->dest), 1, 1, op);
	case XVSADM_CMD_DELDEST:
		return make_op("delete-dest", service_key(&cmd->svc), dest_key(&cmd->dest), 1, 1, op);
	case XVSADM_CMD_ZERO:
		return make_op("zero", has_svc ? service_key(&cmd->svc) : NULL, NULL, has_svc, 0, op);
	case XVSADM_CMD_ADDMARK:
		return mark_op("add-mark", &cmd->mark, op);
	case XVSADM_CMD_DELMARK:
		return mark_op("delete-mark", &cmd->mark, op);
	case XVSADM_CMD_TIMEOUT:
		*op = json_pack("{ss si si si}", "op", "set-timeouts", "tcp", (int)cmd->timeout_tcp,
				"tcpfin", (int)cmd->timeout_tcpfin, "udp", (int)cmd->timeout_udp);
		return *op ? 0 : -ENOMEM;
	case XVSADM_CMD_STARTDAEMON:
	case XVSADM_CMD_STOPDAEMON:
		return xvs_xvsadm_daemon_op(cmd, op);
	default:
		return -EINVAL;
	}
}

/* ---- reading GET /v1/services ------------------------------------------------------- */

static uint64_t get_u64(const json_t *o, const char *key, uint64_t dflt)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return dflt;
	return (uint64_t)json_integer_value(v);
}

static const char *get_str(const json_t *o, const char *key, const char *dflt)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : dflt;
}

static int str_index(const char *s, const char *const *names, size_t nb, int dflt)
{
	for (size_t i = 0; s && i < nb; i++)
		if (names[i] && strcmp(s, names[i]) == 0)
			return (int)i;
	return dflt;
}

static int parse_ip(const char *s, int *af, union xvs_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (s && inet_pton(AF_INET, s, &ip->v4) == 1)
		*af = AF_INET;
	else if (s && inet_pton(AF_INET6, s, ip->v6) == 1)
		*af = AF_INET6;
	else
		return -EINVAL;
	return 0;
}

static void read_stats(const json_t *o, struct xvs_xvsadm_stats *st)
{
	st->conns = get_u64(o, "conns", 0);
	st->inpkts = get_u64(o, "inpkts", 0);
	st->outpkts = get_u64(o, "outpkts", 0);
	st->inbytes = get_u64(o, "inbytes", 0);
	st->outbytes = get_u64(o, "outbytes", 0);
	st->cps = get_u64(o, "cps", 0);
	st->inpps = get_u64(o, "inpps", 0);
	st->outpps = get_u64(o, "outpps", 0);
	st->inbps = get_u64(o, "inbps", 0);
	st->outbps = get_u64(o, "outbps", 0);
}

static int read_dest(const json_t *o, struct xvs_xvsadm_dest_entry *de)
{
	struct xvs_xvsadm_dest *d = &de->d;

	if (!json_is_object(o) || parse_ip(get_str(o, "addr", NULL), &d->af, &d->addr))
		return -EINVAL;
	d->port = (uint16_t)get_u64(o, "port", 0);
	d->fwd = str_index(get_str(o, "fwd", "route"), fwd_strs, 4, XVS_FWD_DROUTE);
	d->weight = (int)get_u64(o, "weight", 1);
	d->u_threshold = (uint32_t)get_u64(o, "u_threshold", 0);
	d->l_threshold = (uint32_t)get_u64(o, "l_threshold", 0);
	d->tun_type = str_index(get_str(o, "tun_type", "ipip"), tun_type_strs, 3, 0);
	d->tun_port = (uint16_t)get_u64(o, "tun_port", 0);
	d->tun_csum = str_index(get_str(o, "tun_csum", "nocsum"), tun_csum_strs, 3, 0);
	de->removed = json_is_false(json_object_get(o, "in_ipvs"));
	de->ipvs_weight = (int)get_u64(o, "ipvs_weight", (uint64_t)d->weight);
	de->reweighted = !de->removed && de->ipvs_weight != d->weight;
	de->sorry = json_is_true(json_object_get(o, "sorry_server"));
	snprintf(de->health, sizeof(de->health), "%s",
		 get_str(json_object_get(o, "health"), "state", ""));
	de->active_conns = (uint32_t)get_u64(o, "active_conns", 0);
	de->inactive_conns = (uint32_t)get_u64(o, "inactive_conns", 0);
	de->persist_conns = (uint32_t)get_u64(o, "persist_conns", 0);
	read_stats(o, &de->st);
	return 0;
}

static void read_service_flags(const json_t *o, struct xvs_xvsadm_service *s)
{
	static const struct { const char *name; uint32_t bit; } names[] = {
		{ "flag-1", XVS_SVC_F_SCHED1 }, { "flag-2", XVS_SVC_F_SCHED2 },
		{ "flag-3", XVS_SVC_F_SCHED3 }, { "sh-fallback", XVS_SVC_F_SCHED1 },
		{ "sh-port", XVS_SVC_F_SCHED2 }, { "mh-fallback", XVS_SVC_F_SCHED1 },
		{ "mh-port", XVS_SVC_F_SCHED2 },
	};
	const json_t *a = json_object_get(o, "flags"), *v;
	size_t i;

	json_array_foreach(a, i, v) {
		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (json_is_string(v) && strcmp(json_string_value(v), names[k].name) == 0)
				s->flags |= names[k].bit;
	}
	if (json_is_true(json_object_get(o, "ops")))
		s->flags |= XVS_SVC_F_ONEPACKET;
}

static int read_netmask(const json_t *o, struct xvs_xvsadm_service *s)
{
	const char *m = get_str(o, "netmask", NULL);
	struct in_addr in;

	if (s->af == AF_INET6) {
		s->netmask = m ? (uint32_t)strtoul(m, NULL, 10) : 128;
		if (s->netmask < 1 || s->netmask > 128)
			return -EINVAL;
		return 0;
	}
	s->netmask = 0xffffffffu;
	if (m && inet_pton(AF_INET, m, &in) != 1)
		return -EINVAL;
	if (m)
		s->netmask = in.s_addr;
	return 0;
}

/* The service part; "fwmark", "af" and "pe" are read for forward compatibility. */
static int read_service(const json_t *o, struct xvs_xvsadm_service_entry *se)
{
	static const char *const protos[] = { "tcp", "udp", "sctp" };
	static const uint16_t proto_nums[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP };
	struct xvs_xvsadm_service *s = &se->s;
	int p;

	if (!json_is_object(o))
		return -EINVAL;
	s->fwmark = (uint32_t)get_u64(o, "fwmark", 0);
	if (s->fwmark) {
		s->af = strcmp(get_str(o, "af", "inet"), "inet6") == 0 ? AF_INET6 : AF_INET;
		s->proto = IPPROTO_TCP;
	} else {
		p = str_index(get_str(o, "proto", NULL), protos, 3, -1);
		if (p < 0 || parse_ip(get_str(o, "addr", NULL), &s->af, &s->addr))
			return -EINVAL;
		s->proto = proto_nums[p];
		s->port = (uint16_t)get_u64(o, "port", 0);
	}
	snprintf(s->sched, sizeof(s->sched), "%s", get_str(o, "sched", XVSADM_DEF_SCHED));
	snprintf(s->pe, sizeof(s->pe), "%s", get_str(o, "pe", ""));
	s->timeout = (uint32_t)get_u64(o, "persistent", 0);
	if (s->timeout)
		s->flags |= XVS_SVC_F_PERSISTENT;
	read_service_flags(o, s);
	read_stats(o, &se->st);
	return read_netmask(o, s);
}

static int read_service_dests(const json_t *o, struct xvs_xvsadm_service_entry *se)
{
	const json_t *dests = json_object_get(o, "dests");
	size_t n = json_array_size(dests);

	if (dests && !json_is_array(dests))
		return -EINVAL;
	se->dests = calloc(n ? n : 1, sizeof(*se->dests));
	if (se->dests == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int rc = read_dest(json_array_get(dests, i), &se->dests[i]);

		if (rc)
			return rc;
		se->nb_dests++;
	}
	return 0;
}

/* One mark rule of the document's "marks". */
static int read_mark(const json_t *o, struct xvs_xvsadm_mark *mk)
{
	static const char *const protos[] = { "any", "tcp", "udp" };
	static const uint16_t proto_nums[] = { 0, IPPROTO_TCP, IPPROTO_UDP };
	char buf[INET6_ADDRSTRLEN + 8];
	const char *dst = get_str(o, "dst", NULL);
	char *slash;
	int p = str_index(get_str(o, "proto", "any"), protos, 3, -1);

	if (!json_is_object(o) || p < 0 || dst == NULL || strlen(dst) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, dst);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	if (parse_ip(buf, &mk->af, &mk->prefix))
		return -EINVAL;
	mk->plen = slash ? (unsigned int)strtoul(slash, NULL, 10) : (mk->af == AF_INET6 ? 128 : 32);
	mk->proto = proto_nums[p];
	mk->port_lo = (uint16_t)get_u64(o, "dport_lo", 0);
	mk->port_hi = (uint16_t)get_u64(o, "dport_hi", 65535);
	mk->mark = (uint32_t)get_u64(o, "mark", 0);
	return 0;
}

static int read_marks(const json_t *doc, struct xvs_xvsadm_table *t)
{
	const json_t *marks = json_object_get(doc, "marks");
	size_t n = json_array_size(marks);

	if (marks && !json_is_array(marks))
		return -EINVAL;
	t->marks = calloc(n ? n : 1, sizeof(*t->marks));
	if (t->marks == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int rc = read_mark(json_array_get(marks, i), &t->marks[i]);

		if (rc)
			return rc;
		t->nb_marks++;
	}
	return 0;
}

int xvs_xvsadm_json_table(const json_t *doc, struct xvs_xvsadm_table *t)
{
	const json_t *svcs = json_object_get(doc, "services");
	const json_t *to = json_object_get(doc, "timeouts");
	size_t n = json_array_size(svcs);
	int rc = 0;

	memset(t, 0, sizeof(*t));
	if (!json_is_array(svcs))
		return -EINVAL;
	t->services = calloc(n ? n : 1, sizeof(*t->services));
	if (t->services == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const json_t *o = json_array_get(svcs, i);

		t->nb_services++;
		rc = read_service(o, &t->services[i]);
		if (rc == 0)
			rc = read_service_dests(o, &t->services[i]);
	}
	if (rc == 0)
		rc = read_marks(doc, t);
	t->timeout_tcp = (uint32_t)get_u64(to, "tcp", 0);
	t->timeout_tcpfin = (uint32_t)get_u64(to, "tcpfin", 0);
	t->timeout_udp = (uint32_t)get_u64(to, "udp", 0);
	if (rc)
		xvs_xvsadm_table_free(t);
	return rc;
}

/* ---- reading GET /v1/conns ---------------------------------------------------------- */

static int read_conn_addr(const json_t *o, const char *addr_key, const char *port_key,
			  int *af, union xvs_ip *ip, uint16_t *port)
{
	const json_t *p = json_object_get(o, port_key);

	if (parse_ip(get_str(o, addr_key, NULL), af, ip) != 0 || !json_is_integer(p) ||
	    json_integer_value(p) < 0 || json_integer_value(p) > 65535)
		return -EINVAL;
	*port = (uint16_t)json_integer_value(p);
	return 0;
}

int xvs_xvsadm_json_conn(const json_t *o, struct xvs_xvsadm_conn *c)
{
	static const char *const protos[] = { "tcp", "udp", "sctp", "ip" };
	static const uint16_t proto_nums[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP, 0 };
	const char *state = get_str(o, "state", NULL);
	const json_t *expire = json_object_get(o, "expire");
	int p, af_v;

	memset(c, 0, sizeof(*c));
	if (!json_is_object(o))
		return -EINVAL;
	p = str_index(get_str(o, "proto", NULL), protos, 4, -1);
	if (p < 0 || state == NULL || strlen(state) >= sizeof(c->state) ||
	    !json_is_integer(expire) || json_integer_value(expire) < 0 ||
	    json_integer_value(expire) > UINT32_MAX)
		return -EINVAL;
	if (read_conn_addr(o, "caddr", "cport", &c->af, &c->caddr, &c->cport) ||
	    read_conn_addr(o, "vaddr", "vport", &af_v, &c->vaddr, &c->vport) ||
	    read_conn_addr(o, "daddr", "dport", &c->daf, &c->daddr, &c->dport))
		return -EINVAL;
	if (af_v != c->af)
		return -EINVAL;
	c->proto = proto_nums[p];
	snprintf(c->state, sizeof(c->state), "%s", state);
	c->expire = (uint32_t)json_integer_value(expire);
	snprintf(c->pe_name, sizeof(c->pe_name), "%s", get_str(o, "pe_name", ""));
	snprintf(c->pe_data, sizeof(c->pe_data), "%s", get_str(o, "pe_data", ""));
	return 0;
}

/* ---- error texts --------------------------------------------------------------------- */

/* ipvsadm's per-operation texts (ipvs_strerror), keyed on the command and errno. */
static const char *op_strerror(enum xvs_xvsadm_cmd_kind cmd, int errnum)
{
	static const struct { enum xvs_xvsadm_cmd_kind cmd; int err; const char *msg; } t[] = {
		{ XVSADM_CMD_ADD, EEXIST, "Service already exists" },
		{ XVSADM_CMD_ADD, ENOENT, "Scheduler or persistence engine not found" },
		{ XVSADM_CMD_EDIT, ESRCH, "No such service" },
		{ XVSADM_CMD_EDIT, ENOENT, "Scheduler or persistence engine not found" },
		{ XVSADM_CMD_DEL, ESRCH, "No such service" },
		{ XVSADM_CMD_ZERO, ESRCH, "No such service" },
		{ XVSADM_CMD_LIST, ESRCH, "No such service" },
		{ XVSADM_CMD_ADDDEST, ESRCH, "Service not defined" },
		{ XVSADM_CMD_ADDDEST, EEXIST, "Destination already exists" },
		{ XVSADM_CMD_EDITDEST, ESRCH, "Service not defined" },
		{ XVSADM_CMD_EDITDEST, ENOENT, "No such destination" },
		{ XVSADM_CMD_DELDEST, ESRCH, "Service not defined" },
		{ XVSADM_CMD_DELDEST, ENOENT, "No such destination" },
		{ XVSADM_CMD_STARTDAEMON, EEXIST, "Daemon has already run" },
		{ XVSADM_CMD_STOPDAEMON, ESRCH, "No daemon is running" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].cmd == cmd && t[i].err == errnum)
			return t[i].msg;
	switch (errnum) {
	case EPERM: return "Permission denied (you must be root)";
	case EINVAL: return "Invalid operation.  Possibly wrong module version, address not unicast, ...";
	case ENOMEM: return "Memory allocation problem";
	case EAFNOSUPPORT: return "Operation not supported with specified address family";
	default: return NULL;
	}
}

const char *xvs_xvsadm_strerror(enum xvs_xvsadm_cmd_kind cmd, int errnum, const char *api_msg)
{
	const char *m = op_strerror(cmd, errnum);

	/* ipvsadm has no mark rules: the server's own words say what is wrong with one */
	if ((cmd == XVSADM_CMD_ADDMARK || cmd == XVSADM_CMD_DELMARK) && api_msg && api_msg[0])
		return api_msg;
	if (m != NULL)
		return m;
	/* The kernel's y>x failure: keep ipvsadm's exact text for scripts that match it. */
	if (errnum == ERANGE || api_msg == NULL || api_msg[0] == '\0')
		return strerror(errnum);
	return api_msg;
}
