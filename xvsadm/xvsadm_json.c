/*
 * xvsadm <-> control API translation. Ops carry every field explicitly (the parser has
 * already applied ipvsadm's defaults), so -E/-e replace every field as in ipvsadm and the
 * server never has to guess what the user left out. Reading is lenient: fields this
 * client does not know are ignored, so a newer server still lists fine. Names and the
 * objects' encoders are the schema's the server also uses (xvs/wire.h).
 */
#include "xvsadm_json.h"
#include "xvsadm_sync.h"
#include "xvs/wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The wire's address family (XVS_AF_*) of a socket one, and back. */
static uint8_t wire_af(int af)
{
	return af == AF_INET6 ? XVS_AF_INET6 : XVS_AF_INET;
}

static int sock_af(uint8_t af)
{
	return af == XVS_AF_INET6 ? AF_INET6 : AF_INET;
}

/*
 * The scheduler's name for the wire. -s takes any bytes, as ipvsadm's does, but a JSON
 * string only UTF-8: other bytes become '?'. No scheduler has such a name, so the server
 * answers "not found", as the kernel does for ipvsadm (the string would fail instead, and
 * the command with it, as if memory had run out).
 */
static const char *sched_name(const char *name, char *buf, size_t len)
{
	json_t *j = json_string(name);

	if (j != NULL) {
		json_decref(j);
		return name;
	}
	snprintf(buf, len, "%s", name);
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	return buf;
}

/* The service for the wire; sched_buf holds its scheduler's name when that needs mending. */
static void wire_svc(const struct xvs_xvsadm_service *s, struct xvs_wire_svc *w,
		     char *sched_buf, size_t len)
{
	memset(w, 0, sizeof(*w));
	w->fwmark = s->fwmark;
	w->af = wire_af(s->af);
	w->proto = (uint8_t)s->proto;
	w->port = s->port;
	w->addr = s->addr;
	w->sched = sched_name(s->sched, sched_buf, len);
	w->flag_sched = s->sched;
	w->persistent = (s->flags & XVS_SVC_F_PERSISTENT) ? s->timeout : 0;
	if (s->af == AF_INET6)
		w->netmask.w[0] = s->netmask;
	else
		w->netmask.v4 = s->netmask;
	w->flags = (uint16_t)(s->flags & (XVS_SVC_F_SCHED1 | XVS_SVC_F_SCHED2 | XVS_SVC_F_SCHED3));
	w->ops = (s->flags & XVS_SVC_F_ONEPACKET) != 0;
}

static json_t *service_key(const struct xvs_xvsadm_service *s)
{
	char buf[XVSADM_SCHED_MAXLEN];
	struct xvs_wire_svc w;

	wire_svc(s, &w, buf, sizeof(buf));
	return xvs_wire_svc_key(&w);
}

/* Every field of -A/-E: an omitted option is its ipvsadm default, never "unchanged". */
static json_t *service_full(const struct xvs_xvsadm_service *s)
{
	char buf[XVSADM_SCHED_MAXLEN];
	struct xvs_wire_svc w;

	wire_svc(s, &w, buf, sizeof(buf));
	return xvs_wire_svc_full(&w);
}

static void wire_dest(const struct xvs_xvsadm_dest *d, struct xvs_wire_dest *w)
{
	memset(w, 0, sizeof(*w));
	w->af = wire_af(d->af);
	w->addr = d->addr;
	w->port = d->port;
	w->fwd = d->fwd;
	w->weight = d->weight;
	w->u_threshold = d->u_threshold;
	w->l_threshold = d->l_threshold;
	w->tun_type = d->tun_type;
	w->tun_port = d->tun_port;
	w->tun_csum = d->tun_csum;
}

static json_t *dest_key(const struct xvs_xvsadm_dest *d)
{
	struct xvs_wire_dest w;

	wire_dest(d, &w);
	return xvs_wire_dest_key(&w);
}

static json_t *dest_full(const struct xvs_xvsadm_dest *d)
{
	struct xvs_wire_dest w;

	wire_dest(d, &w);
	return xvs_wire_dest_full(&w);
}

/* Build {"op": name, "service": svc, "dest": dest}; svc/dest may be NULL, refs are stolen. */
static int make_op(const char *name, json_t *svc, json_t *dest, int need_svc, int need_dest,
		   json_t **op)
{
	json_t *o = json_pack("{ss}", XVS_WIRE_OP, name);

	if (o == NULL || (need_svc && svc == NULL) || (need_dest && dest == NULL) ||
	    (svc && json_object_set_new(o, XVS_WIRE_SERVICE, svc)) ||
	    (dest && json_object_set_new(o, XVS_WIRE_DEST, dest))) {
		json_decref(o);
		return -ENOMEM;
	}
	*op = o;
	return 0;
}

/* The mark rule of --add-mark / --del-mark; the mark itself only when given. */
static json_t *mark_rule(const struct xvs_xvsadm_mark *mk)
{
	const struct xvs_wire_mark w = {
		.af = wire_af(mk->af), .proto = (uint8_t)mk->proto, .prefix = mk->prefix,
		.plen = mk->plen, .port_lo = mk->port_lo, .port_hi = mk->port_hi, .mark = mk->mark,
	};

	return xvs_wire_mark_rule(&w, false);
}

static int mark_op(const char *name, const struct xvs_xvsadm_mark *mk, json_t **op)
{
	json_t *r = mark_rule(mk);

	*op = r ? json_pack("{ss so}", XVS_WIRE_OP, name, XVS_WIRE_MARK, r) : NULL;
	return *op ? 0 : -ENOMEM;
}

int xvs_xvsadm_json_op(const struct xvs_xvsadm_cmd *cmd, json_t **op)
{
	const int has_svc = !!(cmd->options & XVSADM_OPTBIT(XVSADM_OPT_SERVICE));

	*op = NULL;
	switch (cmd->cmd) {
	case XVSADM_CMD_ADD:
		return make_op(XVS_WIRE_OP_ADD_SVC, service_full(&cmd->svc), NULL, 1, 0, op);
	case XVSADM_CMD_EDIT:
		return make_op(XVS_WIRE_OP_EDIT_SVC, service_full(&cmd->svc), NULL, 1, 0, op);
	case XVSADM_CMD_DEL:
		return make_op(XVS_WIRE_OP_DEL_SVC, service_key(&cmd->svc), NULL, 1, 0, op);
	case XVSADM_CMD_FLUSH:
		return make_op(XVS_WIRE_OP_CLEAR, NULL, NULL, 0, 0, op);
	case XVSADM_CMD_ADDDEST:
		return make_op(XVS_WIRE_OP_ADD_DEST, service_key(&cmd->svc), dest_full(&cmd->dest), 1,
			       1, op);
	case XVSADM_CMD_EDITDEST:
		return make_op(XVS_WIRE_OP_EDIT_DEST, service_key(&cmd->svc), dest_full(&cmd->dest), 1,
			       1, op);
	case XVSADM_CMD_DELDEST:
		return make_op(XVS_WIRE_OP_DEL_DEST, service_key(&cmd->svc), dest_key(&cmd->dest), 1,
			       1, op);
	case XVSADM_CMD_ZERO:
		return make_op(XVS_WIRE_OP_ZERO, has_svc ? service_key(&cmd->svc) : NULL, NULL,
			       has_svc, 0, op);
	case XVSADM_CMD_ADDMARK:
		return mark_op(XVS_WIRE_OP_ADD_MARK, &cmd->mark, op);
	case XVSADM_CMD_DELMARK:
		return mark_op(XVS_WIRE_OP_DEL_MARK, &cmd->mark, op);
	case XVSADM_CMD_TIMEOUT:
		*op = json_pack("{ss si si si}", XVS_WIRE_OP, XVS_WIRE_OP_SET_TIMEOUTS, XVS_WIRE_TCP,
				(int)cmd->timeout_tcp, XVS_WIRE_TCPFIN, (int)cmd->timeout_tcpfin,
				XVS_WIRE_UDP, (int)cmd->timeout_udp);
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

/* The value of the name s in t, or dflt when s is missing or not in t. */
static int wire_value(const char *s, const struct xvs_wire_name *t, int dflt)
{
	int v;

	return xvs_wire_value(t, s, &v) == 0 ? v : dflt;
}

static int parse_ip(const char *s, int *af, union xvs_ip *ip)
{
	uint8_t waf;

	if (xvs_wire_ip_parse(s, &waf, ip))
		return -EINVAL;
	*af = sock_af(waf);
	return 0;
}

static void read_stats(const json_t *o, struct xvs_xvsadm_stats *st)
{
#define XVS_CTR(f) st->f = get_u64(o, #f, 0);
	XVS_WIRE_COUNTERS(XVS_CTR)
	XVS_WIRE_RATES(XVS_CTR)
#undef XVS_CTR
}

static int read_dest(const json_t *o, struct xvs_xvsadm_dest_entry *de)
{
	struct xvs_xvsadm_dest *d = &de->d;

	if (!json_is_object(o) || parse_ip(get_str(o, XVS_WIRE_ADDR, NULL), &d->af, &d->addr))
		return -EINVAL;
	d->port = (uint16_t)get_u64(o, XVS_WIRE_PORT, 0);
	d->fwd = wire_value(get_str(o, XVS_WIRE_FWD, NULL), xvs_wire_fwds, XVS_FWD_DROUTE);
	d->weight = (int)get_u64(o, XVS_WIRE_WEIGHT, 1);
	d->u_threshold = (uint32_t)get_u64(o, XVS_WIRE_U_THRESHOLD, 0);
	d->l_threshold = (uint32_t)get_u64(o, XVS_WIRE_L_THRESHOLD, 0);
	d->tun_type = wire_value(get_str(o, XVS_WIRE_TUN_TYPE, NULL), xvs_wire_tun_types,
				 XVSADM_TUN_IPIP);
	d->tun_port = (uint16_t)get_u64(o, XVS_WIRE_TUN_PORT, 0);
	d->tun_csum = wire_value(get_str(o, XVS_WIRE_TUN_CSUM, NULL), xvs_wire_tun_csums,
				 XVSADM_TUN_NOCSUM);
	de->removed = json_is_false(json_object_get(o, XVS_WIRE_IN_IPVS));
	de->ipvs_weight = (int)get_u64(o, XVS_WIRE_IPVS_WEIGHT, (uint64_t)d->weight);
	de->reweighted = !de->removed && de->ipvs_weight != d->weight;
	de->sorry = json_is_true(json_object_get(o, XVS_WIRE_SORRY_SERVER));
	snprintf(de->health, sizeof(de->health), "%s",
		 get_str(json_object_get(o, XVS_WIRE_HEALTH), XVS_WIRE_STATE, ""));
	de->active_conns = (uint32_t)get_u64(o, XVS_WIRE_ACTIVE_CONNS, 0);
	de->inactive_conns = (uint32_t)get_u64(o, XVS_WIRE_INACTIVE_CONNS, 0);
	de->persist_conns = (uint32_t)get_u64(o, XVS_WIRE_PERSIST_CONNS, 0);
	read_stats(o, &de->st);
	return 0;
}

static void read_service_flags(const json_t *o, struct xvs_xvsadm_service *s)
{
	const json_t *a = json_object_get(o, XVS_WIRE_FLAGS), *v;
	size_t i;

	json_array_foreach(a, i, v)
		s->flags |= (uint32_t)wire_value(json_string_value(v), xvs_wire_sched_flags, 0);
	if (json_is_true(json_object_get(o, XVS_WIRE_ONEPACKET)))
		s->flags |= XVS_SVC_F_ONEPACKET;
}

static int read_netmask(const json_t *o, struct xvs_xvsadm_service *s)
{
	const char *m = get_str(o, XVS_WIRE_NETMASK, NULL);
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
	struct xvs_xvsadm_service *s = &se->s;
	int p;

	if (!json_is_object(o))
		return -EINVAL;
	s->fwmark = (uint32_t)get_u64(o, XVS_WIRE_FWMARK, 0);
	if (s->fwmark) {
		s->af = sock_af((uint8_t)wire_value(get_str(o, XVS_WIRE_AF, NULL), xvs_wire_afs,
						    XVS_AF_INET));
		s->proto = IPPROTO_TCP;
	} else {
		p = wire_value(get_str(o, XVS_WIRE_PROTO, NULL), xvs_wire_protos, -1);
		if (p < 0 || parse_ip(get_str(o, XVS_WIRE_ADDR, NULL), &s->af, &s->addr))
			return -EINVAL;
		s->proto = (uint16_t)p;
		s->port = (uint16_t)get_u64(o, XVS_WIRE_PORT, 0);
	}
	snprintf(s->sched, sizeof(s->sched), "%s", get_str(o, XVS_WIRE_SCHED, XVSADM_DEF_SCHED));
	snprintf(s->pe, sizeof(s->pe), "%s", get_str(o, XVS_WIRE_PE, ""));
	s->timeout = (uint32_t)get_u64(o, XVS_WIRE_PERSISTENT, 0);
	if (s->timeout)
		s->flags |= XVS_SVC_F_PERSISTENT;
	read_service_flags(o, s);
	read_stats(o, &se->st);
	return read_netmask(o, s);
}

static int read_service_dests(const json_t *o, struct xvs_xvsadm_service_entry *se)
{
	const json_t *dests = json_object_get(o, XVS_WIRE_DESTS);
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
	char buf[INET6_ADDRSTRLEN + 8];
	const char *dst = get_str(o, XVS_WIRE_DST, NULL);
	char *slash;
	int p = wire_value(get_str(o, XVS_WIRE_PROTO, "any"), xvs_wire_mark_protos, -1);

	if (!json_is_object(o) || p < 0 || dst == NULL || strlen(dst) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, dst);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	if (parse_ip(buf, &mk->af, &mk->prefix))
		return -EINVAL;
	mk->plen = slash ? (unsigned int)strtoul(slash, NULL, 10) : (mk->af == AF_INET6 ? 128 : 32);
	mk->proto = (uint16_t)p;
	mk->port_lo = (uint16_t)get_u64(o, XVS_WIRE_DPORT_LO, 0);
	mk->port_hi = (uint16_t)get_u64(o, XVS_WIRE_DPORT_HI, 65535);
	mk->mark = (uint32_t)get_u64(o, XVS_WIRE_MARK, 0);
	return 0;
}

static int read_marks(const json_t *doc, struct xvs_xvsadm_table *t)
{
	const json_t *marks = json_object_get(doc, XVS_WIRE_MARKS);
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
	const json_t *svcs = json_object_get(doc, XVS_WIRE_SERVICES);
	const json_t *to = json_object_get(doc, XVS_WIRE_TIMEOUTS);
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
	t->timeout_tcp = (uint32_t)get_u64(to, XVS_WIRE_TCP, 0);
	t->timeout_tcpfin = (uint32_t)get_u64(to, XVS_WIRE_TCPFIN, 0);
	t->timeout_udp = (uint32_t)get_u64(to, XVS_WIRE_UDP, 0);
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
	const char *state = get_str(o, XVS_WIRE_STATE, NULL);
	const json_t *expire = json_object_get(o, XVS_WIRE_EXPIRE);
	int p, af_v;

	memset(c, 0, sizeof(*c));
	if (!json_is_object(o))
		return -EINVAL;
	p = wire_value(get_str(o, XVS_WIRE_PROTO, NULL), xvs_wire_conn_protos, -1);
	if (p < 0 || state == NULL || strlen(state) >= sizeof(c->state) ||
	    !json_is_integer(expire) || json_integer_value(expire) < 0 ||
	    json_integer_value(expire) > UINT32_MAX)
		return -EINVAL;
	if (read_conn_addr(o, XVS_WIRE_CADDR, XVS_WIRE_CPORT, &c->af, &c->caddr, &c->cport) ||
	    read_conn_addr(o, XVS_WIRE_VADDR, XVS_WIRE_VPORT, &af_v, &c->vaddr, &c->vport) ||
	    read_conn_addr(o, XVS_WIRE_DADDR, XVS_WIRE_DPORT, &c->daf, &c->daddr, &c->dport))
		return -EINVAL;
	if (af_v != c->af)
		return -EINVAL;
	c->proto = (uint16_t)p;
	snprintf(c->state, sizeof(c->state), "%s", state);
	c->expire = (uint32_t)json_integer_value(expire);
	snprintf(c->pe_name, sizeof(c->pe_name), "%s", get_str(o, XVS_WIRE_PE_NAME, ""));
	snprintf(c->pe_data, sizeof(c->pe_data), "%s", get_str(o, XVS_WIRE_PE_DATA, ""));
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
