/*
 * JSON forms of the control API: op lists and objects in, services, status and statistics
 * out. This layer checks shapes and types only; the model owns every semantic rule so that
 * one place decides what a configuration may be. Field and value names, and the objects
 * xvsadm writes too, come from xvs/wire.h, the schema both sides share.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_json.h"
#include "ctl_json_priv.h"
#include "ctl_overlay.h"
#include "ctl_sync.h"
#include "xvs/wire.h"

int xvs_ctl_bad(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ---- field helpers ------------------------------------------------------------------- */

static int in_list(const char *k, const char *const *list)
{
	for (; list && *list; list++)
		if (strcmp(k, *list) == 0)
			return 1;
	return 0;
}

static int check_keys(const json_t *o, const char *what, const char *const *known,
		      const char *const *extra, char *msg, size_t msglen)
{
	const char *k;
	json_t *v;
	if (!json_is_object(o))
		return xvs_ctl_bad(msg, msglen, "%s: expected an object", what);
	json_object_foreach((json_t *)o, k, v) {
		if (!in_list(k, known) && !in_list(k, extra))
			return xvs_ctl_bad(msg, msglen, "%s: unknown field '%s'", what, k);
	}
	return 0;
}

/* Absent fields leave *out alone and succeed: the caller set the default. */
static int get_int(const json_t *o, const char *key, const char *what, int64_t min, int64_t max,
		   int64_t *out, char *msg, size_t msglen)
{
	const json_t *v = json_object_get(o, key);
	if (!v)
		return 0;
	if (!json_is_integer(v))
		return xvs_ctl_bad(msg, msglen, "%s.%s: expected an integer", what, key);
	json_int_t n = json_integer_value(v);
	if (n < min || n > max)
		return xvs_ctl_bad(msg, msglen, "%s.%s: %lld out of range %lld..%lld", what, key, (long long)n,
			   (long long)min, (long long)max);
	*out = n;
	return 0;
}

static int get_str(const json_t *o, const char *key, const char *what, const char **out,
		   char *msg, size_t msglen)
{
	const json_t *v = json_object_get(o, key);
	if (!v)
		return 0;
	if (!json_is_string(v))
		return xvs_ctl_bad(msg, msglen, "%s.%s: expected a string", what, key);
	*out = json_string_value(v);
	return 0;
}

/* A string field that must be one of the names of t (xvs/wire.h); *out gets its value. */
static int get_enum(const json_t *o, const char *key, const char *what,
		    const struct xvs_wire_name *t, int *out, char *msg, size_t msglen)
{
	const char *s = NULL;
	int rc = get_str(o, key, what, &s, msg, msglen);
	if (rc || !s || xvs_wire_value(t, s, out) == 0)
		return rc;
	return xvs_ctl_bad(msg, msglen, "%s.%s: invalid value '%s'", what, key, s);
}

static int require(const json_t *o, const char *key, const char *what, char *msg, size_t msglen)
{
	return json_object_get(o, key) ? 0 : xvs_ctl_bad(msg, msglen, "%s.%s: missing", what, key);
}

static int parse_addr(const json_t *o, const char *what, uint8_t *af, union xvs_ip *ip, char *msg,
		      size_t msglen)
{
	const char *s = NULL;
	int rc = require(o, XVS_WIRE_ADDR, what, msg, msglen);
	if (rc || (rc = get_str(o, XVS_WIRE_ADDR, what, &s, msg, msglen)))
		return rc;
	if (xvs_wire_ip_parse(s, af, ip))
		return xvs_ctl_bad(msg, msglen, "%s.addr: '%s' is not an IPv4 or IPv6 address", what, s);
	return 0;
}

/* ---- service ------------------------------------------------------------------------- */

_Static_assert(XVS_CTL_PROTO_SCTP == XVS_PROTO_SCTP, "the wire's sctp is the model's");

static int parse_netmask(const json_t *o, struct xvs_ctl_svc_cfg *c, char *msg, size_t msglen)
{
	const char *s = NULL;
	int rc = get_str(o, XVS_WIRE_NETMASK, "service", &s, msg, msglen);
	if (rc)
		return rc;
	memset(&c->netmask, 0, sizeof(c->netmask));
	if (c->af == XVS_AF_INET) {
		if (!s)
			s = "255.255.255.255";
		if (inet_pton(AF_INET, s, &c->netmask.v4) != 1)
			return xvs_ctl_bad(msg, msglen, "service.netmask: '%s' is not a dotted IPv4 mask", s);
		return 0;
	}
	char *end;
	unsigned long n = s ? strtoul(s, &end, 10) : 128;
	if (s && (*s == '\0' || *end != '\0' || n < 1 || n > 128))
		return xvs_ctl_bad(msg, msglen, "service.netmask: '%s' is not an IPv6 prefix length 1..128", s);
	c->netmask.w[0] = (uint32_t)n;
	return 0;
}

static int parse_flags(const json_t *o, struct xvs_ctl_svc_cfg *c, char *msg, size_t msglen)
{
	const json_t *a = json_object_get(o, XVS_WIRE_FLAGS);
	size_t i;
	const json_t *v;
	if (!a)
		return 0;
	if (!json_is_array(a))
		return xvs_ctl_bad(msg, msglen, "service.flags: expected an array of strings");
	json_array_foreach(a, i, v) {
		const char *name = json_string_value(v);
		int bit;
		if (xvs_wire_value(xvs_wire_sched_flags, name, &bit))
			return xvs_ctl_bad(msg, msglen, "service.flags: invalid scheduler flag %s%s%s",
				   name ? "'" : "", name ? name : "(not a string)", name ? "'" : "");
		c->flags |= (uint16_t)bit;
	}
	return 0;
}

static const char *const svc_keys[] = {XVS_WIRE_PROTO, XVS_WIRE_ADDR, XVS_WIRE_PORT,
				       XVS_WIRE_FWMARK, XVS_WIRE_AF, XVS_WIRE_SCHED,
				       XVS_WIRE_PERSISTENT, XVS_WIRE_NETMASK, XVS_WIRE_FLAGS,
				       XVS_WIRE_ONEPACKET, NULL};

/* The key of a service: proto, addr and port; or fwmark and af (default "inet"). */
static int parse_svc_key(const json_t *o, struct xvs_ctl_svc_cfg *c, char *msg, size_t msglen)
{
	int64_t port = 0, mark = 0;
	int proto = XVS_PROTO_TCP, af = XVS_AF_INET;
	int rc;
	if (json_object_get(o, XVS_WIRE_FWMARK)) {
		if (json_object_get(o, XVS_WIRE_PROTO) || json_object_get(o, XVS_WIRE_ADDR) ||
		    json_object_get(o, XVS_WIRE_PORT))
			return xvs_ctl_bad(msg, msglen, "service: a fwmark service has no proto, addr "
					   "or port");
		if ((rc = get_int(o, XVS_WIRE_FWMARK, "service", 1, UINT32_MAX, &mark, msg, msglen)) ||
		    (rc = get_enum(o, XVS_WIRE_AF, "service", xvs_wire_afs, &af, msg, msglen)))
			return rc;
		c->fwmark = (uint32_t)mark;
		c->af = (uint8_t)af;
		c->proto = 0;
		return 0;
	}
	if (json_object_get(o, XVS_WIRE_AF))
		return xvs_ctl_bad(msg, msglen, "service.af: only for fwmark services (the address "
				   "gives the family)");
	if ((rc = require(o, XVS_WIRE_PROTO, "service", msg, msglen)) ||
	    (rc = get_enum(o, XVS_WIRE_PROTO, "service", xvs_wire_protos, &proto, msg, msglen)) ||
	    (rc = parse_addr(o, "service", &c->af, &c->addr, msg, msglen)) ||
	    (rc = require(o, XVS_WIRE_PORT, "service", msg, msglen)) ||
	    (rc = get_int(o, XVS_WIRE_PORT, "service", 0, 65535, &port, msg, msglen)))
		return rc;
	c->proto = (uint8_t)proto;
	c->port = (uint16_t)port;
	return 0;
}

int xvs_ctl_json_parse_svc(const json_t *o, struct xvs_ctl_svc_cfg *c, const char *const *extra,
			   char *msg, size_t msglen)
{
	int64_t pers = 0;
	const char *sched = NULL;
	xvs_ctl_svc_cfg_default(c);
	int rc = check_keys(o, "service", svc_keys, extra, msg, msglen);
	if (rc || (rc = parse_svc_key(o, c, msg, msglen)) ||
	    (rc = get_str(o, XVS_WIRE_SCHED, "service", &sched, msg, msglen)) ||
	    (rc = get_int(o, XVS_WIRE_PERSISTENT, "service", 0, UINT32_MAX, &pers, msg, msglen)) ||
	    (rc = parse_netmask(o, c, msg, msglen)) || (rc = parse_flags(o, c, msg, msglen)))
		return rc;
	const json_t *ops = json_object_get(o, XVS_WIRE_ONEPACKET);
	if (ops && !json_is_boolean(ops))
		return xvs_ctl_bad(msg, msglen, "service.ops: expected true or false");
	if (sched && (strlen(sched) == 0 || strlen(sched) >= sizeof(c->sched)))
		return xvs_ctl_bad(msg, msglen, "service.sched: bad scheduler name '%s'", sched);
	if (sched)
		snprintf(c->sched, sizeof(c->sched), "%s", sched);
	c->persistent = (uint32_t)pers;
	c->ops = ops && json_is_true(ops);
	return 0;
}

json_t *xvs_ctl_json_svc_cfg(const struct xvs_ctl_svc_cfg *c)
{
	const struct xvs_wire_svc w = {
		.fwmark = c->fwmark, .af = c->af, .proto = c->proto, .port = c->port,
		.addr = c->addr, .sched = c->sched, .persistent = c->persistent,
		.netmask = c->netmask, .flags = c->flags, .ops = c->ops,
	};
	return xvs_wire_svc_full(&w);
}

/* ---- mark rule ----------------------------------------------------------------------- */

static const char *const mark_keys[] = {XVS_WIRE_PROTO, XVS_WIRE_DST, XVS_WIRE_DPORT_LO,
					XVS_WIRE_DPORT_HI, XVS_WIRE_MARK, NULL};

/* "addr" or "addr/plen", either family. */
static int parse_prefix(const json_t *o, struct xvs_ctl_mark_cfg *c, char *msg, size_t msglen)
{
	const char *s = NULL;
	char buf[INET6_ADDRSTRLEN + 8];
	int rc = require(o, XVS_WIRE_DST, "mark", msg, msglen);
	if (rc || (rc = get_str(o, XVS_WIRE_DST, "mark", &s, msg, msglen)))
		return rc;
	if (strlen(s) >= sizeof(buf))
		return xvs_ctl_bad(msg, msglen, "mark.dst: '%s' is not a prefix", s);
	snprintf(buf, sizeof(buf), "%s", s);
	char *slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, &c->prefix.v4) == 1)
		c->af = XVS_AF_INET;
	else if (inet_pton(AF_INET6, buf, c->prefix.v6) == 1)
		c->af = XVS_AF_INET6;
	else
		return xvs_ctl_bad(msg, msglen, "mark.dst: '%s' is not an IPv4 or IPv6 prefix", s);
	unsigned long bits = c->af == XVS_AF_INET6 ? 128 : 32, plen = bits;
	char *end = NULL;
	if (slash)
		plen = strtoul(slash + 1, &end, 10);
	if (slash && (slash[1] == '\0' || *end != '\0' || plen > bits))
		return xvs_ctl_bad(msg, msglen, "mark.dst: bad prefix length in '%s' (0..%lu)", s, bits);
	c->plen = (uint8_t)plen;
	return 0;
}

int xvs_ctl_json_parse_mark(const json_t *o, struct xvs_ctl_mark_cfg *c, int need_mark,
			    char *msg, size_t msglen)
{
	int64_t lo = 0, hi = 65535, mark = 0;
	int proto = 0;
	xvs_ctl_mark_cfg_default(c);
	int rc = check_keys(o, "mark", mark_keys, NULL, msg, msglen);
	if (rc || (rc = get_enum(o, XVS_WIRE_PROTO, "mark", xvs_wire_mark_protos, &proto, msg,
				 msglen)) ||
	    (rc = parse_prefix(o, c, msg, msglen)) ||
	    (rc = get_int(o, XVS_WIRE_DPORT_LO, "mark", 0, 65535, &lo, msg, msglen)) ||
	    (rc = get_int(o, XVS_WIRE_DPORT_HI, "mark", 0, 65535, &hi, msg, msglen)) ||
	    (need_mark && (rc = require(o, XVS_WIRE_MARK, "mark", msg, msglen))) ||
	    (rc = get_int(o, XVS_WIRE_MARK, "mark", need_mark ? 1 : 0, UINT32_MAX, &mark, msg,
			  msglen)))
		return rc;
	c->proto = (uint8_t)proto;
	c->port_lo = (uint16_t)lo;
	c->port_hi = (uint16_t)hi;
	c->mark = (uint32_t)mark;
	return 0;
}

json_t *xvs_ctl_json_mark_cfg(const struct xvs_ctl_mark_cfg *c)
{
	const struct xvs_wire_mark w = {
		.af = c->af, .proto = c->proto, .prefix = c->prefix, .plen = c->plen,
		.port_lo = c->port_lo, .port_hi = c->port_hi, .mark = c->mark,
	};
	return xvs_wire_mark_rule(&w, true);
}

/* ---- destination --------------------------------------------------------------------- */

static const char *const dest_keys[] = {XVS_WIRE_ADDR, XVS_WIRE_PORT, XVS_WIRE_FWD,
					XVS_WIRE_WEIGHT, XVS_WIRE_U_THRESHOLD,
					XVS_WIRE_L_THRESHOLD, XVS_WIRE_TUN_TYPE, XVS_WIRE_TUN_PORT,
					XVS_WIRE_TUN_CSUM, NULL};

int xvs_ctl_json_parse_dest(const json_t *o, struct xvs_ctl_dest_cfg *c, const char *const *extra,
			    char *msg, size_t msglen)
{
	int64_t port = 0, tport = 0;
	int fwd = XVS_FWD_DROUTE, tun = 0, csum = XVS_TUN_F_NOCSUM;
	xvs_ctl_dest_cfg_default(c);
	int rc = check_keys(o, "dest", dest_keys, extra, msg, msglen);
	if (rc || (rc = parse_addr(o, "dest", &c->af, &c->addr, msg, msglen)) ||
	    (rc = require(o, XVS_WIRE_PORT, "dest", msg, msglen)) ||
	    (rc = get_int(o, XVS_WIRE_PORT, "dest", 0, 65535, &port, msg, msglen)) ||
	    (rc = get_enum(o, XVS_WIRE_FWD, "dest", xvs_wire_fwds, &fwd, msg, msglen)) ||
	    (rc = get_int(o, XVS_WIRE_WEIGHT, "dest", INT32_MIN, INT32_MAX, &c->weight, msg,
			  msglen)) ||
	    (rc = get_int(o, XVS_WIRE_U_THRESHOLD, "dest", INT32_MIN, UINT32_MAX, &c->u_thresh,
			  msg, msglen)) ||
	    (rc = get_int(o, XVS_WIRE_L_THRESHOLD, "dest", INT32_MIN, UINT32_MAX, &c->l_thresh,
			  msg, msglen)) ||
	    (rc = get_enum(o, XVS_WIRE_TUN_TYPE, "dest", xvs_wire_tun_types, &tun, msg, msglen)) ||
	    (rc = get_int(o, XVS_WIRE_TUN_PORT, "dest", 0, 65535, &tport, msg, msglen)) ||
	    (rc = get_enum(o, XVS_WIRE_TUN_CSUM, "dest", xvs_wire_tun_csums, &csum, msg, msglen)))
		return rc;
	c->port = (uint16_t)port;
	c->fwd = (uint8_t)fwd;
	c->tun_type = (uint8_t)tun;
	c->tun_port = (uint16_t)tport;
	c->tun_flags = (uint16_t)csum;
	return 0;
}

json_t *xvs_ctl_json_dest_cfg(const struct xvs_ctl_dest_cfg *c)
{
	const struct xvs_wire_dest w = {
		.af = c->af, .addr = c->addr, .port = c->port, .fwd = c->fwd, .weight = c->weight,
		.u_threshold = c->u_thresh, .l_threshold = c->l_thresh, .tun_type = c->tun_type,
		.tun_port = c->tun_port, .tun_csum = c->tun_flags,
	};
	return xvs_wire_dest_full(&w);
}

/* ---- op lists ------------------------------------------------------------------------ */

struct op_kind {
	const char *name;
	enum xvs_ctl_op_type type;
	int svc;  /* 0 none, 1 optional, 2 required */
	int dest; /* 0 none, 2 required */
};

static int parse_op_objects_keys(const json_t *o, const struct op_kind *k, struct xvs_ctl_op *op,
				 char *msg, size_t msglen);

static const struct op_kind op_kinds[] = {
	{XVS_WIRE_OP_ADD_SVC, XVS_CTL_OP_ADD_SVC, 2, 0},
	{XVS_WIRE_OP_EDIT_SVC, XVS_CTL_OP_EDIT_SVC, 2, 0},
	{XVS_WIRE_OP_DEL_SVC, XVS_CTL_OP_DEL_SVC, 2, 0},
	{XVS_WIRE_OP_CLEAR, XVS_CTL_OP_CLEAR, 0, 0},
	{XVS_WIRE_OP_ADD_DEST, XVS_CTL_OP_ADD_DEST, 2, 2},
	{XVS_WIRE_OP_EDIT_DEST, XVS_CTL_OP_EDIT_DEST, 2, 2},
	{XVS_WIRE_OP_DEL_DEST, XVS_CTL_OP_DEL_DEST, 2, 2},
	{XVS_WIRE_OP_SET_TIMEOUTS, XVS_CTL_OP_SET_TIMEOUTS, 0, 0},
	{XVS_WIRE_OP_ZERO, XVS_CTL_OP_ZERO, 1, 0},
	{XVS_WIRE_OP_ADD_MARK, XVS_CTL_OP_ADD_MARK, 0, 0},
	{XVS_WIRE_OP_DEL_MARK, XVS_CTL_OP_DEL_MARK, 0, 0},
	{XVS_WIRE_OP_SET_DEST_HC, XVS_CTL_OP_SET_DEST_HEALTH, 2, 2},
	{XVS_WIRE_OP_CLEAR_DEST_HC, XVS_CTL_OP_SET_DEST_HEALTH, 2, 2},
	{XVS_WIRE_OP_SET_SVC_HC, XVS_CTL_OP_SET_SVC_HEALTH, 2, 0},
	{XVS_WIRE_OP_CLEAR_SVC_HC, XVS_CTL_OP_SET_SVC_HEALTH, 2, 0},
	{XVS_WIRE_OP_CLEAR_HEALTH, XVS_CTL_OP_CLEAR_HEALTH, 0, 0},
	{XVS_WIRE_OP_START_DAEMON, XVS_CTL_OP_START_DAEMON, 0, 0},
	{XVS_WIRE_OP_STOP_DAEMON, XVS_CTL_OP_STOP_DAEMON, 0, 0},
};

/*
 * The health ops name a service and a real server by their keys only: any other field
 * would be ignored, so it is refused.
 */
static int health_keys_only(const json_t *o, const char *name, char *msg, size_t msglen)
{
	static const char *const svc_key_fields[] = {XVS_WIRE_PROTO, XVS_WIRE_ADDR, XVS_WIRE_PORT,
						     XVS_WIRE_FWMARK, XVS_WIRE_AF, NULL};
	static const char *const dest_key_fields[] = {XVS_WIRE_ADDR, XVS_WIRE_PORT, NULL};
	const json_t *s = json_object_get(o, XVS_WIRE_SERVICE), *d = json_object_get(o, XVS_WIRE_DEST);
	int rc = 0;
	if (s && (rc = check_keys(s, "service", svc_key_fields, NULL, msg, msglen)) == 0 && d)
		rc = check_keys(d, "dest", dest_key_fields, NULL, msg, msglen);
	if (rc)
		return xvs_ctl_bad(msg + strlen(msg), msglen - strlen(msg), " (%s takes keys only)",
				   name);
	return 0;
}

/* set-/clear-dest-health, set-/clear-service-health, clear-health. */
static int parse_health_op(const json_t *o, const struct op_kind *k, struct xvs_ctl_op *op,
			   char *msg, size_t msglen)
{
	static const char *const dest_keys[] = {XVS_WIRE_OP, XVS_WIRE_SERVICE, XVS_WIRE_DEST,
						XVS_WIRE_HEALTH, NULL};
	static const char *const svc_keys[] = {XVS_WIRE_OP, XVS_WIRE_SERVICE, XVS_WIRE_HEALTH,
					       NULL};
	static const char *const none[] = {XVS_WIRE_OP, NULL};
	bool set = strncmp(k->name, "set-", 4) == 0;
	const json_t *h = json_object_get(o, XVS_WIRE_HEALTH);
	const char *const *keys = k->type == XVS_CTL_OP_CLEAR_HEALTH ? none :
				  k->dest ? dest_keys : svc_keys;
	int rc = check_keys(o, k->name, keys, NULL, msg, msglen);
	if (rc)
		return rc;
	if (k->type == XVS_CTL_OP_CLEAR_HEALTH)
		return 0;
	if (set != (h != NULL))
		return xvs_ctl_bad(msg, msglen, set ? "%s: missing 'health'" : "%s: no 'health' here",
				   k->name);
	if ((rc = health_keys_only(o, k->name, msg, msglen)) ||
	    (rc = parse_op_objects_keys(o, k, op, msg, msglen)) || !set)
		return rc;
	return xvs_ctl_json_health_into_op(h, k->dest, op, msg, msglen);
}

int xvs_ctl_json_health_into_op(const json_t *h, bool dest, struct xvs_ctl_op *op, char *msg,
				size_t msglen)
{
	int rc;
	if (dest) {
		struct xvs_dest_health_cfg cfg;
		if ((rc = xvs_ctl_json_parse_dest_health(h, &cfg, msg, msglen)))
			return rc;
		op->dest_hc = xvs_ctl_dest_hc_new(&cfg);
		return op->dest_hc ? 0 : -ENOMEM;
	}
	struct xvs_svc_health_cfg cfg;
	if ((rc = xvs_ctl_json_parse_svc_health(h, &cfg, msg, msglen)))
		return rc;
	op->svc_hc = xvs_ctl_svc_hc_new(&cfg);
	return op->svc_hc ? 0 : -ENOMEM;
}

/* add-mark / delete-mark: {"op", "mark": rule}; delete-mark may leave out the mark value. */
static int parse_mark_op(const json_t *o, const struct op_kind *k, struct xvs_ctl_op *op,
			 char *msg, size_t msglen)
{
	static const char *const keys[] = {XVS_WIRE_OP, XVS_WIRE_MARK, NULL};
	int rc = check_keys(o, k->name, keys, NULL, msg, msglen);
	if (rc)
		return rc;
	const json_t *r = json_object_get(o, XVS_WIRE_MARK);
	if (!r)
		return xvs_ctl_bad(msg, msglen, "%s: missing 'mark'", k->name);
	return xvs_ctl_json_parse_mark(r, &op->mark, k->type == XVS_CTL_OP_ADD_MARK, msg, msglen);
}

static int parse_timeouts(const json_t *o, struct xvs_ctl_op *op, char *msg, size_t msglen)
{
	static const char *const keys[] = {XVS_WIRE_OP, XVS_WIRE_TCP, XVS_WIRE_TCPFIN, XVS_WIRE_UDP,
					   NULL};
	int rc = check_keys(o, "set-timeouts", keys, NULL, msg, msglen);
	for (unsigned i = 0; i < 3 && rc == 0; i++)
		rc = get_int(o, keys[i + 1], "set-timeouts", INT32_MIN, INT32_MAX, &op->timeouts[i],
			     msg, msglen);
	return rc;
}

/* The "service" and "dest" objects of an op whose other keys were checked. */
static int parse_op_objects_keys(const json_t *o, const struct op_kind *k, struct xvs_ctl_op *op,
				 char *msg, size_t msglen)
{
	const json_t *s = json_object_get(o, XVS_WIRE_SERVICE), *d = json_object_get(o, XVS_WIRE_DEST);
	int rc;
	if (k->svc == 2 && !s)
		return xvs_ctl_bad(msg, msglen, "%s: missing 'service'", k->name);
	if (k->dest == 2 && !d)
		return xvs_ctl_bad(msg, msglen, "%s: missing 'dest'", k->name);
	if (s && (rc = xvs_ctl_json_parse_svc(s, &op->svc, NULL, msg, msglen)))
		return rc;
	op->has_svc = s != NULL;
	if (d && (rc = xvs_ctl_json_parse_dest(d, &op->dest, NULL, msg, msglen)))
		return rc;
	return 0;
}

static int parse_op_objects(const json_t *o, const struct op_kind *k, struct xvs_ctl_op *op,
			    char *msg, size_t msglen)
{
	static const char *const keys[] = {XVS_WIRE_OP, XVS_WIRE_SERVICE, XVS_WIRE_DEST, NULL};
	const char *const svc_only[] = {XVS_WIRE_OP, k->svc ? XVS_WIRE_SERVICE : NULL, NULL};
	int rc = check_keys(o, k->name, k->dest ? keys : svc_only, NULL, msg, msglen);
	return rc ? rc : parse_op_objects_keys(o, k, op, msg, msglen);
}

static int parse_op(const json_t *o, struct xvs_ctl_op *op, char *msg, size_t msglen)
{
	const char *name = NULL;
	if (!json_is_object(o))
		return xvs_ctl_bad(msg, msglen, "op: expected an object");
	int rc = get_str(o, XVS_WIRE_OP, "op", &name, msg, msglen);
	if (rc)
		return rc;
	if (!name)
		return xvs_ctl_bad(msg, msglen, "op: missing 'op'");
	for (unsigned i = 0; i < sizeof(op_kinds) / sizeof(op_kinds[0]); i++) {
		const struct op_kind *k = &op_kinds[i];
		if (strcmp(name, k->name) != 0)
			continue;
		xvs_ctl_op_init(op, k->type);
		if (k->type == XVS_CTL_OP_SET_TIMEOUTS)
			return parse_timeouts(o, op, msg, msglen);
		if (k->type == XVS_CTL_OP_START_DAEMON || k->type == XVS_CTL_OP_STOP_DAEMON)
			return xvs_ctl_json_parse_daemon_op(o, k->type == XVS_CTL_OP_START_DAEMON, op,
							    msg, msglen);
		if (k->type == XVS_CTL_OP_ADD_MARK || k->type == XVS_CTL_OP_DEL_MARK)
			return parse_mark_op(o, k, op, msg, msglen);
		if (k->type == XVS_CTL_OP_SET_DEST_HEALTH || k->type == XVS_CTL_OP_SET_SVC_HEALTH ||
		    k->type == XVS_CTL_OP_CLEAR_HEALTH)
			return parse_health_op(o, k, op, msg, msglen);
		return parse_op_objects(o, k, op, msg, msglen);
	}
	return xvs_ctl_bad(msg, msglen, "unknown op '%s'", name);
}

static int parse_envelope(const char *body, size_t len, json_t **root, json_t **arr,
			  struct xvs_ctl_err *err)
{
	static const char *const keys[] = {XVS_WIRE_OPS, NULL};
	json_error_t je;
	*root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!*root)
		return xvs_ctl_bad(err->msg, sizeof(err->msg), "bad JSON at line %d column %d: %s", je.line,
			   je.column, je.text);
	int rc = check_keys(*root, "body", keys, NULL, err->msg, sizeof(err->msg));
	if (rc)
		return rc;
	*arr = json_object_get(*root, XVS_WIRE_OPS);
	if (!json_is_array(*arr))
		return xvs_ctl_bad(err->msg, sizeof(err->msg), "body: 'ops' must be an array");
	return 0;
}

int xvs_ctl_json_parse_ops(const char *body, size_t len, struct xvs_ctl_op **ops, unsigned *nb,
			   struct xvs_ctl_err *err)
{
	json_t *root = NULL, *arr = NULL;
	memset(err, 0, sizeof(*err));
	err->index = -1;
	*ops = NULL;
	*nb = 0;
	int rc = parse_envelope(body, len, &root, &arr, err);
	size_t n = rc ? 0 : json_array_size(arr);
	struct xvs_ctl_op *v = rc ? NULL : calloc(n ? n : 1, sizeof(*v));
	if (!rc && !v)
		rc = -ENOMEM;
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = parse_op(json_array_get(arr, i), &v[i], err->msg, sizeof(err->msg));
		if (rc)
			err->index = (int)i;
	}
	json_decref(root);
	if (rc) {
		xvs_ctl_ops_free(v, (unsigned)n);
		err->err = -rc;
		return rc;
	}
	*ops = v;
	*nb = (unsigned)n;
	return 0;
}

/* ---- responses ----------------------------------------------------------------------- */

static void add_counters(json_t *o, const struct xvs_ctl_ctr *c)
{
#define XVS_CTR(f) json_object_set_new(o, #f, json_integer((json_int_t)c->f));
	XVS_WIRE_COUNTERS(XVS_CTR)
#undef XVS_CTR
}

_Static_assert(sizeof(((struct xvs_ctl_rate *)0)->avg) / sizeof(double) == XVS_WIRE_NB_RATES,
	       "one rate per wire name");

static void add_rates(json_t *o, const struct xvs_ctl_rate *r)
{
	for (unsigned k = 0; k < XVS_WIRE_NB_RATES; k++)
		json_object_set_new(o, xvs_wire_rate_names[k],
				    json_integer(r ? (json_int_t)(r->avg[k] + 0.5) : 0));
}

static const char *check_state(const struct xvs_health_check_status *c)
{
	return !c->known ? "unknown" : c->up ? "up" : "down";
}

/* The live part of a real server's health: its verdict, since when, each checker's state. */
static json_t *health_state(const struct xvs_ctl_dest *d, unsigned slot, struct xvs_health *hs)
{
	struct xvs_health_status st = {0};
	bool live = xvs_health_get_status(hs, slot, d->hc_epoch, &st);
	bool known = false;
	const struct xvs_health_check_status *last = NULL;
	json_t *checks = json_array();
	for (unsigned i = 0; live && checks && i < st.nb_checks; i++) {
		const struct xvs_health_check_status *c = &st.c[i];
		known |= c->known;
		if (c->last_ms && (!last || c->last_ms > last->last_ms))
			last = c;
		json_array_append_new(checks, json_pack("{ss ss sI sI sI ss sf}", "type",
			xvs_check_type_keyword(c->type) ? xvs_check_type_keyword(c->type) : "?",
			"state", check_state(c), "consecutive_ok", (json_int_t)c->nb_ok,
			"consecutive_fail", (json_int_t)c->nb_fail, "retries", (json_int_t)c->retries,
			"last_result", c->last, "last_time", (double)c->last_ms / 1000.0));
	}
	json_t *o = json_pack("{ss sf ss so}", XVS_WIRE_STATE,
			      !known ? "unknown" : d->hc_alive ? "up" : "down", "since", (double)d->hc_since_ms / 1000.0, "last_result",
			      last ? last->last : "", "checks", checks);
	if (o)
		json_object_set_new(o, "weight", d->hc_weight >= 0 ? json_integer(d->hc_weight)
								  : json_null());
	return o;
}

static json_t *dest_json(const struct xvs_ctl_model *m, const struct xvs_ctl_rates *rates,
			 struct xvs_health *hs, unsigned slot)
{
	struct xvs_ctl_stats st;
	const struct xvs_ctl_dest *d = &m->dests[slot];
	json_t *o = xvs_ctl_json_dest_cfg(&d->cfg);
	if (!o)
		return NULL;
	int32_t w;
	bool in = xvs_ctl_overlay_view(m, slot, &w);
	json_object_set_new(o, XVS_WIRE_IN_IPVS, json_boolean(in));
	json_object_set_new(o, XVS_WIRE_IPVS_WEIGHT, json_integer(w));
	if (d->role == XVS_CTL_DEST_SORRY)
		json_object_set_new(o, XVS_WIRE_SORRY_SERVER, json_true());
	if (d->hc) {
		json_object_set_new(o, "health_check", xvs_ctl_json_dest_health(&d->hc->cfg));
		json_object_set_new(o, XVS_WIRE_HEALTH, health_state(d, slot, hs));
	}
	xvs_ctl_model_dest_stats(m, slot, &st);
	json_object_set_new(o, XVS_WIRE_ACTIVE_CONNS, json_integer(st.active > 0 ? st.active : 0));
	json_object_set_new(o, XVS_WIRE_INACTIVE_CONNS,
			    json_integer(st.inactive > 0 ? st.inactive : 0));
	json_object_set_new(o, XVS_WIRE_PERSIST_CONNS, json_integer(st.persist > 0 ? st.persist : 0));
	add_counters(o, &st.c);
	add_rates(o, rates ? &rates->dest[slot] : NULL);
	return o;
}

static json_t *svc_json(const struct xvs_ctl_model *m, const struct xvs_ctl_rates *rates,
			struct xvs_health *hs, unsigned slot)
{
	struct xvs_ctl_stats st;
	const struct xvs_ctl_svc *s = &m->svcs[slot];
	json_t *o = xvs_ctl_json_svc_cfg(&s->cfg);
	json_t *dests = json_array();
	if (!o || !dests) {
		json_decref(o);
		json_decref(dests);
		return NULL;
	}
	/* IPVS's order, newest first: what xvsadm -L --nosort shows */
	for (uint32_t i = m->nb_dest_order; i-- > 0;)
		if (m->dests[m->dest_order[i]].svc == slot)
			json_array_append_new(dests, dest_json(m, rates, hs, m->dest_order[i]));
	json_object_set_new(o, XVS_WIRE_DESTS, dests);
	if (s->hc) {
		json_object_set_new(o, XVS_WIRE_HEALTH, xvs_ctl_json_svc_health(&s->hc->cfg));
		json_object_set_new(o, "quorum", json_pack("{ss sI}", "state",
				    s->quorum_up ? "up" : "down", "live_weight",
				    (json_int_t)s->alive_weight));
	}
	xvs_ctl_model_svc_stats(m, slot, &st);
	add_counters(o, &st.c);
	add_rates(o, rates ? &rates->svc[slot] : NULL);
	return o;
}

json_t *xvs_ctl_json_timeouts(const struct xvs_timeouts *t)
{
	return xvs_wire_timeouts(t->tcp, t->tcpfin, t->udp);
}

json_t *xvs_ctl_json_services(const struct xvs_ctl_model *m, const struct xvs_ctl_rates *rates,
			      struct xvs_health *health)
{
	json_t *a = json_array();
	if (!a)
		return NULL;
	for (uint32_t i = 0; i < m->nb_svc_order; i++)
		json_array_append_new(a, svc_json(m, rates, health, m->svc_order[i]));
	return json_pack("{so so so so}", XVS_WIRE_SERVICES, a, XVS_WIRE_TIMEOUTS,
			 xvs_ctl_json_timeouts(&m->timeouts), XVS_WIRE_MARKS, xvs_ctl_json_marks(m),
			 XVS_WIRE_DAEMONS, xvs_ctl_json_daemons(m));
}

json_t *xvs_ctl_json_marks(const struct xvs_ctl_model *m)
{
	json_t *a = json_array();
	for (uint32_t i = 0; a && i < m->nb_marks; i++)
		json_array_append_new(a, xvs_ctl_json_mark_cfg(&m->marks[i]));
	return a;
}

static json_t *dataplane_json(const struct xvs_shm *shm)
{
	if (!shm || !shm->hdr)
		return json_pack("{sb}", XVS_WIRE_ATTACHED, 0);
	const struct xvs_shm_hdr *h = shm->hdr;
	char reason[sizeof(h->refuse_reason) + 1];
	memcpy(reason, h->refuse_reason, sizeof(h->refuse_reason));
	reason[sizeof(h->refuse_reason)] = '\0';
	static const char *const steering[] = { [XVS_STEER_NONE] = "none",
						[XVS_STEER_SOFTWARE] = "software",
						[XVS_STEER_NIC] = "nic" };
	uint32_t st = atomic_load(&h->steering);
	json_t *stalled = json_array();
	uint64_t mask = atomic_load(&h->stalled_workers);
	for (unsigned i = 0; stalled && i < XVS_MAX_LCORES; i++)
		if (mask >> i & 1)
			json_array_append_new(stalled, json_integer(i));
	return json_pack("{sb sI sI sI sI sI ss sI ss so*}",
			 XVS_WIRE_ATTACHED, xvs_shm_dataplane_alive(shm),
			 XVS_WIRE_PID, (json_int_t)atomic_load(&h->dp_pid),
			 XVS_WIRE_PUBLISHED, (json_int_t)XVS_PUB_GEN(atomic_load(&h->published)),
			 XVS_WIRE_ADOPTED, (json_int_t)XVS_PUB_GEN(atomic_load(&h->adopted)),
			 XVS_WIRE_REFUSED, (json_int_t)atomic_load(&h->refused_gen),
			 XVS_WIRE_NB_REFUSED, (json_int_t)atomic_load(&h->nb_refused),
			 XVS_WIRE_REFUSE_REASON, reason,
			 XVS_WIRE_WORKERS, (json_int_t)atomic_load(&h->nb_workers),
			 XVS_WIRE_STEERING,
			 st < sizeof(steering) / sizeof(steering[0]) ? steering[st] : "unknown",
			 XVS_WIRE_STALLED_WORKERS, stalled);
}

json_t *xvs_ctl_json_status(const struct xvs_ctl_model *m, const struct xvs_shm *shm)
{
	return json_pack("{si sI so}", XVS_WIRE_API, 1, XVS_WIRE_GENERATION,
			 (json_int_t)m->last_gen, XVS_WIRE_DATAPLANE, dataplane_json(shm));
}

/* The per-worker scalar counters, by name: summed over workers for GET /v1/stats. */
static const struct {
	const char *name;
	size_t off;
} lcore_ctrs[] = {
#define XVS_CTR(f) {#f, offsetof(struct xvs_lcore_stats, f)},
	XVS_WIRE_LCORE_COUNTERS(XVS_CTR)
#undef XVS_CTR
};

#define NB_LCORE_CTRS (sizeof(lcore_ctrs) / sizeof(lcore_ctrs[0]))

json_t *xvs_ctl_json_stats(const struct xvs_shm *shm)
{
	uint64_t sum[NB_LCORE_CTRS] = {0}, drops[XVS_DROP_MAX] = {0};
	struct xvs_sync_stats sync = {0};
	for (unsigned i = 0; shm && shm->hdr && i < XVS_SHM_NB_STATS; i++) {
		const struct xvs_lcore_stats *s = xvs_shm_stats(shm, i);
		xvs_ctl_sync_stats_add(&sync, &s->sync);
		for (unsigned k = 0; k < NB_LCORE_CTRS; k++)
			sum[k] += *(const uint64_t *)((const char *)s + lcore_ctrs[k].off);
		for (unsigned d = 0; d < XVS_DROP_MAX; d++)
			drops[d] += s->drops[d];
	}
	uint32_t workers = shm && shm->hdr ? atomic_load(&shm->hdr->nb_workers) : 0;
	json_t *o = json_pack("{sI}", XVS_WIRE_WORKERS, (json_int_t)workers);
	json_t *dj = json_object();
	if (!o || !dj) {
		json_decref(o);
		json_decref(dj);
		return NULL;
	}
	for (unsigned k = 0; k < NB_LCORE_CTRS; k++)
		json_object_set_new(o, lcore_ctrs[k].name, json_integer((json_int_t)sum[k]));
	for (unsigned d = 0; d < XVS_DROP_MAX; d++)
		json_object_set_new(dj, xvs_drop_names[d], json_integer((json_int_t)drops[d]));
	json_object_set_new(o, XVS_WIRE_DROPS, dj);
	json_object_set_new(o, XVS_WIRE_SYNC, xvs_ctl_json_sync_stats(&sync));
	return o;
}

/* One counter record: its scalar counters and every drop reason, zeros included. */
static json_t *record_json(const struct xvs_lcore_stats *s)
{
	json_t *o = json_object(), *dj = json_object();
	if (!o || !dj) {
		json_decref(o);
		json_decref(dj);
		return NULL;
	}
	for (unsigned k = 0; k < NB_LCORE_CTRS; k++)
		json_object_set_new(o, lcore_ctrs[k].name,
				    json_integer((json_int_t)*(const uint64_t *)((const char *)s +
										 lcore_ctrs[k].off)));
	for (unsigned d = 0; d < XVS_DROP_MAX; d++)
		json_object_set_new(dj, xvs_drop_names[d], json_integer((json_int_t)s->drops[d]));
	json_object_set_new(o, XVS_WIRE_DROPS, dj);
	json_object_set_new(o, XVS_WIRE_SYNC, xvs_ctl_json_sync_stats(&s->sync));
	return o;
}

int xvs_ctl_json_stats_add_workers(json_t *stats, const struct xvs_shm *shm)
{
	json_t *a = json_array();
	uint32_t nb = shm && shm->hdr ? atomic_load(&shm->hdr->nb_workers) : 0;
	if (!a)
		return -ENOMEM;
	nb = nb > XVS_MAX_LCORES ? XVS_MAX_LCORES : nb;
	for (uint32_t i = 0; i < nb; i++)
		if (json_array_append_new(a, record_json(xvs_shm_stats(shm, i))) < 0) {
			json_decref(a);
			return -ENOMEM;
		}
	json_t *main_rec = shm && shm->hdr ? record_json(xvs_shm_stats(shm, XVS_SHM_MAIN_STATS))
					   : json_object();
	if (json_object_set_new(stats, XVS_WIRE_PER_WORKER, a) < 0 ||
	    json_object_set_new(stats, XVS_WIRE_MAIN_LCORE, main_rec) < 0)
		return -ENOMEM;
	return 0;
}

/*
 * A message as a JSON string. Messages may quote the request (jansson's "near '...'", a
 * field name) or be cut in the middle of a character, and JSON strings take only UTF-8:
 * json_string() would fail and the client get no reply at all. Bytes past ASCII become
 * '?' then.
 */
static json_t *msg_string(const char *msg)
{
	char buf[512];
	json_t *s = json_string(msg);
	if (s)
		return s;
	snprintf(buf, sizeof(buf), "%s", msg);
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	return json_string(buf);
}

json_t *xvs_ctl_json_error(int err, int index, const char *msg)
{
	json_t *o = json_pack("{so si}", XVS_WIRE_ERROR, msg_string(msg), XVS_WIRE_ERRNO, err);
	if (o && index >= 0)
		json_object_set_new(o, XVS_WIRE_INDEX, json_integer(index));
	return o;
}

/* ---- helpers shared with ctl_json_health.c (ctl_json_priv.h) -------------------------- */

int xvs_ctl_json_keys(const json_t *o, const char *what, const char *const *known,
		      const char *const *extra, char *msg, size_t msglen)
{
	return check_keys(o, what, known, extra, msg, msglen);
}

int xvs_ctl_json_int(const json_t *o, const char *key, const char *what, int64_t min,
		     int64_t max, int64_t *out, char *msg, size_t msglen)
{
	return get_int(o, key, what, min, max, out, msg, msglen);
}

int xvs_ctl_json_str(const json_t *o, const char *key, const char *what, const char **out,
		     char *msg, size_t msglen)
{
	return get_str(o, key, what, out, msg, msglen);
}

int xvs_ctl_json_bool(const json_t *o, const char *key, const char *what, bool *out,
		      char *msg, size_t msglen)
{
	const json_t *v = json_object_get(o, key);
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return xvs_ctl_bad(msg, msglen, "%s.%s: expected true or false", what, key);
	*out = json_is_true(v);
	return 0;
}

int xvs_ctl_json_ip(const json_t *o, const char *key, const char *what, uint8_t *af,
		    union xvs_ip *ip, char *msg, size_t msglen)
{
	const char *s = NULL;
	int rc = get_str(o, key, what, &s, msg, msglen);
	if (rc || !s)
		return rc;
	if (xvs_wire_ip_parse(s, af, ip))
		return xvs_ctl_bad(msg, msglen, "%s.%s: '%s' is not an IPv4 or IPv6 address", what,
				   key, s);
	return 0;
}

void xvs_ctl_json_ip_str(uint8_t af, const union xvs_ip *ip, char *buf, size_t len)
{
	xvs_wire_ip_str(af, ip, buf, len);
}
