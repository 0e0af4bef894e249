/*
 * JSON forms of the health settings (docs/api.md, "Health checks"): a real server's checks
 * and a service's quorum and sorry server, for the API and the state file. Each checker
 * accepts only the fields of its type, so a field that would be ignored is refused instead.
 * Semantic checks (ranges, strings, users) are ctl_check.c's.
 */
#include <stdio.h>
#include <string.h>

#include "ctl_json.h"
#include "ctl_json_priv.h"
#include "xvs/wire.h"

/* ---- field lists per checker type ---------------------------------------------------- */

static const char *const common_keys[] = {"type", "retry", "delay_before_retry_ms",
					  "warmup_ms", NULL};
static const char *const conn_keys[] = {"connect_timeout_ms", "connect_ip", "connect_port",
					"bind_ip", "bind_port", "fwmark", NULL};
static const char *const icmp_keys[] = {"connect_timeout_ms", "connect_ip", "bind_ip",
					"fwmark", NULL};
static const char *const http_keys[] = {"connect_timeout_ms", "connect_ip", "connect_port",
					"bind_ip", "bind_port", "fwmark", "virtualhost",
					"http_protocol", "urls", NULL};
static const char *const https_keys[] = {"connect_timeout_ms", "connect_ip", "connect_port",
					 "bind_ip", "bind_port", "fwmark", "virtualhost",
					 "http_protocol", "urls", "ssl_verify", NULL};
static const char *const udp_keys[] = {"connect_timeout_ms", "connect_ip", "connect_port",
				       "bind_ip", "bind_port", "fwmark", "payload",
				       "require_reply", NULL};
static const char *const dns_keys[] = {"connect_timeout_ms", "connect_ip", "connect_port",
				       "bind_ip", "bind_port", "fwmark", "name", "query_type",
				       NULL};
static const char *const script_keys[] = {"script", "user", "misc_timeout_ms",
					  "misc_dynamic", NULL};

static const char *const *type_keys(enum xvs_check_type t)
{
	switch (t) {
	case XVS_CHECK_TCP: return conn_keys;
	case XVS_CHECK_HTTP: return http_keys;
	case XVS_CHECK_HTTPS: return https_keys;
	case XVS_CHECK_UDP: return udp_keys;
	case XVS_CHECK_DNS: return dns_keys;
	case XVS_CHECK_ICMP: return icmp_keys;
	default: return script_keys;
	}
}

/* DNS query types by name (keepalived's DNS_CHECK `type`). */
static const struct {
	const char *name;
	uint16_t type;
} dns_types[] = {
	{"A", 1}, {"NS", 2}, {"CNAME", 5}, {"SOA", 6}, {"PTR", 12}, {"MX", 15}, {"TXT", 16},
	{"AAAA", 28}, {"SRV", 33},
};

/* ---- parsing ------------------------------------------------------------------------- */

static int copy_str(const json_t *o, const char *key, const char *what, char *dst, size_t cap,
		    char *msg, size_t msglen)
{
	const char *s = NULL;
	int rc = xvs_ctl_json_str(o, key, what, &s, msg, msglen);
	if (rc || !s)
		return rc;
	if (strlen(s) >= cap)
		return xvs_ctl_bad(msg, msglen, "%s.%s: longer than %zu characters", what, key, cap - 1);
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

static int get_u32(const json_t *o, const char *key, const char *what, uint32_t max,
		   uint32_t *out, char *msg, size_t msglen)
{
	int64_t v = *out;
	int rc = xvs_ctl_json_int(o, key, what, 0, max, &v, msg, msglen);
	*out = (uint32_t)v;
	return rc;
}

static int get_u16(const json_t *o, const char *key, const char *what, uint16_t *out,
		   char *msg, size_t msglen)
{
	int64_t v = *out;
	int rc = xvs_ctl_json_int(o, key, what, 0, 65535, &v, msg, msglen);
	*out = (uint16_t)v;
	return rc;
}

static int parse_url(const json_t *o, struct xvs_check_url *u, char *msg, size_t msglen)
{
	static const char *const keys[] = {"path", "digest", "virtualhost", "status_lo",
					   "status_hi", "status_codes", NULL};
	memset(u, 0, sizeof(*u));
	int rc = xvs_ctl_json_keys(o, "url", keys, NULL, msg, msglen);
	if (rc || (rc = copy_str(o, "path", "url", u->path, sizeof(u->path), msg, msglen)) ||
	    (rc = copy_str(o, "digest", "url", u->digest, sizeof(u->digest), msg, msglen)) ||
	    (rc = copy_str(o, "virtualhost", "url", u->virtualhost, sizeof(u->virtualhost), msg,
			   msglen)) ||
	    (rc = get_u16(o, "status_lo", "url", &u->status_lo, msg, msglen)) ||
	    (rc = get_u16(o, "status_hi", "url", &u->status_hi, msg, msglen)))
		return rc;
	if (!json_object_get(o, "path"))
		return xvs_ctl_bad(msg, msglen, "url.path: missing");
	if (json_object_get(o, "status_lo") && !json_object_get(o, "status_hi"))
		u->status_hi = u->status_lo;
	const json_t *codes = json_object_get(o, "status_codes");
	if (codes) {
		char why[160];
		if (json_object_get(o, "status_lo") || json_object_get(o, "status_hi"))
			return xvs_ctl_bad(msg, msglen, "url: status_codes or status_lo/status_hi, "
					   "not both");
		if (!json_is_string(codes))
			return xvs_ctl_bad(msg, msglen, "url.status_codes: a string expected "
					   "(\"200-299 503\")");
		if (xvs_check_url_status_parse(u, json_string_value(codes), why, sizeof(why)) < 0)
			return xvs_ctl_bad(msg, msglen, "url.status_codes: %s", why);
	}
	return 0;
}

static int parse_urls(const json_t *o, struct xvs_check_cfg *c, char *msg, size_t msglen)
{
	const json_t *a = json_object_get(o, "urls"), *v;
	size_t i;
	if (!a)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > XVS_CHECK_MAX_URLS)
		return xvs_ctl_bad(msg, msglen, "check.urls: expected an array of at most %d urls",
				   XVS_CHECK_MAX_URLS);
	json_array_foreach(a, i, v) {
		int rc = parse_url(v, &c->urls[i], msg, msglen);
		if (rc)
			return rc;
	}
	c->nb_urls = (unsigned)json_array_size(a);
	return 0;
}

static int parse_http(const json_t *o, struct xvs_check_cfg *c, char *msg, size_t msglen)
{
	const char *proto = NULL;
	int rc = copy_str(o, "virtualhost", "check", c->virtualhost, sizeof(c->virtualhost), msg,
			  msglen);
	if (rc || (rc = xvs_ctl_json_str(o, "http_protocol", "check", &proto, msg, msglen)) ||
	    (rc = xvs_ctl_json_bool(o, "ssl_verify", "check", &c->ssl_verify, msg, msglen)))
		return rc;
	if (proto && strcmp(proto, "1.0") != 0 && strcmp(proto, "1.1") != 0)
		return xvs_ctl_bad(msg, msglen, "check.http_protocol: '%s' (1.0 or 1.1)", proto);
	c->http_1_1 = proto && strcmp(proto, "1.1") == 0;
	return parse_urls(o, c, msg, msglen);
}

static int hexval(char ch)
{
	return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 :
	       ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

static int parse_udp(const json_t *o, struct xvs_check_cfg *c, char *msg, size_t msglen)
{
	const char *hex = NULL;
	int rc = xvs_ctl_json_str(o, "payload", "check", &hex, msg, msglen);
	if (rc || (rc = xvs_ctl_json_bool(o, "require_reply", "check", &c->require_reply, msg,
					  msglen)) || !hex)
		return rc;
	size_t n = strlen(hex);
	if (n % 2 || n / 2 > XVS_CHECK_PAYLOAD_MAX)
		return xvs_ctl_bad(msg, msglen, "check.payload: an even number of hex digits, at "
				   "most %d bytes", XVS_CHECK_PAYLOAD_MAX);
	for (size_t i = 0; i < n; i += 2) {
		int hi = hexval(hex[i]), lo = hexval(hex[i + 1]);
		if (hi < 0 || lo < 0)
			return xvs_ctl_bad(msg, msglen, "check.payload: '%s' is not hex", hex);
		c->payload[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	c->payload_len = (uint16_t)(n / 2);
	return 0;
}

static int parse_dns(const json_t *o, struct xvs_check_cfg *c, char *msg, size_t msglen)
{
	const json_t *t = json_object_get(o, "query_type");
	int rc = copy_str(o, "name", "check", c->dns_name, sizeof(c->dns_name), msg, msglen);
	if (rc || !t)
		return rc;
	if (json_is_string(t)) {
		for (unsigned i = 0; i < sizeof(dns_types) / sizeof(dns_types[0]); i++) {
			if (strcmp(json_string_value(t), dns_types[i].name) == 0) {
				c->dns_type = dns_types[i].type;
				return 0;
			}
		}
		return xvs_ctl_bad(msg, msglen, "check.query_type: unknown type '%s' (A, NS, CNAME, "
				   "SOA, PTR, MX, TXT, AAAA, SRV or a number)", json_string_value(t));
	}
	int64_t v = 0;
	rc = xvs_ctl_json_int(o, "query_type", "check", 1, 65535, &v, msg, msglen);
	c->dns_type = (uint16_t)v;
	return rc;
}

static int parse_script(const json_t *o, struct xvs_check_cfg *c, char *msg, size_t msglen)
{
	int rc = copy_str(o, "script", "check", c->script, sizeof(c->script), msg, msglen);
	if (rc || (rc = copy_str(o, "user", "check", c->user, sizeof(c->user), msg, msglen)) ||
	    (rc = get_u32(o, "misc_timeout_ms", "check", XVS_CHECK_TIME_MAX_MS,
			  &c->script_timeout_ms, msg, msglen)) ||
	    (rc = xvs_ctl_json_bool(o, "misc_dynamic", "check", &c->misc_dynamic, msg, msglen)))
		return rc;
	return json_object_get(o, "script") ? 0 : xvs_ctl_bad(msg, msglen, "check.script: missing");
}

static int parse_conn(const json_t *o, struct xvs_check_cfg *c, char *msg, size_t msglen)
{
	int64_t mark = 0;
	int rc = xvs_ctl_json_ip(o, "connect_ip", "check", &c->connect_af, &c->connect_ip, msg,
				 msglen);
	if (rc || (rc = xvs_ctl_json_ip(o, "bind_ip", "check", &c->bind_af, &c->bind_ip, msg,
					msglen)) ||
	    (rc = get_u16(o, "connect_port", "check", &c->connect_port, msg, msglen)) ||
	    (rc = get_u16(o, "bind_port", "check", &c->bind_port, msg, msglen)) ||
	    (rc = get_u32(o, "connect_timeout_ms", "check", XVS_CHECK_TIME_MAX_MS,
			  &c->connect_timeout_ms, msg, msglen)) ||
	    (rc = xvs_ctl_json_int(o, "fwmark", "check", 0, UINT32_MAX, &mark, msg, msglen)))
		return rc;
	c->fwmark = (uint32_t)mark;
	return 0;
}

static int parse_typed(const json_t *o, struct xvs_check_cfg *c, char *msg, size_t msglen)
{
	switch (c->type) {
	case XVS_CHECK_HTTP:
	case XVS_CHECK_HTTPS:
		return parse_http(o, c, msg, msglen);
	case XVS_CHECK_UDP:
		return parse_udp(o, c, msg, msglen);
	case XVS_CHECK_DNS:
		return parse_dns(o, c, msg, msglen);
	case XVS_CHECK_SCRIPT:
		return parse_script(o, c, msg, msglen);
	default:
		return 0;
	}
}

static int parse_check(const json_t *o, struct xvs_check_cfg *c, char *msg, size_t msglen)
{
	const char *type = NULL;
	if (!json_is_object(o))
		return xvs_ctl_bad(msg, msglen, "check: expected an object");
	int rc = xvs_ctl_json_str(o, "type", "check", &type, msg, msglen);
	if (rc)
		return rc;
	enum xvs_check_type t = type ? xvs_check_type_from_keyword(type) : XVS_CHECK_NONE;
	if (t == XVS_CHECK_NONE)
		return xvs_ctl_bad(msg, msglen, "check.type: %s%s%s (TCP_CHECK, HTTP_GET, SSL_GET, "
				   "UDP_CHECK, DNS_CHECK, PING_CHECK or MISC_CHECK)",
				   type ? "unknown type '" : "missing", type ? type : "",
				   type ? "'" : "");
	xvs_check_cfg_default(c, t);
	if ((rc = xvs_ctl_json_keys(o, type, common_keys, type_keys(t), msg, msglen)) ||
	    (rc = get_u32(o, "retry", "check", XVS_CHECK_COUNT_MAX, &c->retry, msg, msglen)) ||
	    (rc = get_u32(o, "delay_before_retry_ms", "check", XVS_CHECK_TIME_MAX_MS,
			  &c->delay_before_retry_ms, msg, msglen)) ||
	    (rc = get_u32(o, "warmup_ms", "check", XVS_CHECK_TIME_MAX_MS, &c->warmup_ms, msg,
			  msglen)))
		return rc;
	if (t != XVS_CHECK_SCRIPT && (rc = parse_conn(o, c, msg, msglen)))
		return rc;
	return parse_typed(o, c, msg, msglen);
}

int xvs_ctl_json_parse_dest_health(const json_t *o, struct xvs_dest_health_cfg *h, char *msg,
				   size_t msglen)
{
	static const char *const keys[] = {"interval_ms", "rise", "fall", "alpha",
					   "inhibit_on_failure", "notify_up", "notify_down",
					   "checks", NULL};
	xvs_dest_health_cfg_default(h);
	int rc = xvs_ctl_json_keys(o, "health", keys, NULL, msg, msglen);
	if (rc || (rc = get_u32(o, "interval_ms", "health", XVS_CHECK_TIME_MAX_MS,
				&h->interval_ms, msg, msglen)) ||
	    (rc = get_u32(o, "rise", "health", XVS_CHECK_COUNT_MAX, &h->rise, msg, msglen)) ||
	    (rc = get_u32(o, "fall", "health", XVS_CHECK_COUNT_MAX, &h->fall, msg, msglen)) ||
	    (rc = xvs_ctl_json_bool(o, "alpha", "health", &h->alpha, msg, msglen)) ||
	    (rc = xvs_ctl_json_bool(o, "inhibit_on_failure", "health", &h->inhibit_on_failure, msg,
				    msglen)) ||
	    (rc = copy_str(o, "notify_up", "health", h->notify_up, sizeof(h->notify_up), msg,
			   msglen)) ||
	    (rc = copy_str(o, "notify_down", "health", h->notify_down, sizeof(h->notify_down), msg,
			   msglen)))
		return rc;
	const json_t *a = json_object_get(o, "checks"), *v;
	size_t i;
	if (!a)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > XVS_CHECK_MAX_PER_DEST)
		return xvs_ctl_bad(msg, msglen, "health.checks: expected an array of at most %d "
				   "checks", XVS_CHECK_MAX_PER_DEST);
	json_array_foreach(a, i, v) {
		if ((rc = parse_check(v, &h->checks[i], msg, msglen)))
			return rc;
	}
	h->nb_checks = (unsigned)json_array_size(a);
	return 0;
}

static int parse_sorry(const json_t *o, struct xvs_svc_health_cfg *h, char *msg, size_t msglen)
{
	static const char *const keys[] = {XVS_WIRE_ADDR, XVS_WIRE_PORT, XVS_WIRE_FWD, "inhibit",
					   NULL};
	const char *fwd = NULL;
	int f = XVS_FWD_MASQ;
	int rc = xvs_ctl_json_keys(o, "sorry_server", keys, NULL, msg, msglen);
	if (rc || (rc = xvs_ctl_json_ip(o, XVS_WIRE_ADDR, "sorry_server", &h->sorry_af,
					&h->sorry_addr, msg, msglen)) ||
	    (rc = get_u16(o, XVS_WIRE_PORT, "sorry_server", &h->sorry_port, msg, msglen)) ||
	    (rc = xvs_ctl_json_str(o, XVS_WIRE_FWD, "sorry_server", &fwd, msg, msglen)) ||
	    (rc = xvs_ctl_json_bool(o, "inhibit", "sorry_server", &h->sorry_inhibit, msg, msglen)))
		return rc;
	if (!json_object_get(o, XVS_WIRE_ADDR))
		return xvs_ctl_bad(msg, msglen, "sorry_server.addr: missing");
	if (fwd && xvs_wire_value(xvs_wire_fwds, fwd, &f))
		return xvs_ctl_bad(msg, msglen, "sorry_server.fwd: invalid value '%s'", fwd);
	h->sorry_fwd = (uint8_t)f;
	h->has_sorry = true;
	return 0;
}

int xvs_ctl_json_parse_svc_health(const json_t *o, struct xvs_svc_health_cfg *h, char *msg,
				  size_t msglen)
{
	static const char *const keys[] = {"quorum", "hysteresis", "quorum_up", "quorum_down",
					   "omega", "sorry_server", NULL};
	xvs_svc_health_cfg_default(h);
	int rc = xvs_ctl_json_keys(o, "health", keys, NULL, msg, msglen);
	if (rc || (rc = get_u32(o, "quorum", "health", UINT32_MAX, &h->quorum, msg, msglen)) ||
	    (rc = get_u32(o, "hysteresis", "health", UINT32_MAX, &h->hysteresis, msg, msglen)) ||
	    (rc = copy_str(o, "quorum_up", "health", h->quorum_up, sizeof(h->quorum_up), msg,
			   msglen)) ||
	    (rc = copy_str(o, "quorum_down", "health", h->quorum_down, sizeof(h->quorum_down), msg,
			   msglen)) ||
	    (rc = xvs_ctl_json_bool(o, "omega", "health", &h->omega, msg, msglen)))
		return rc;
	const json_t *s = json_object_get(o, "sorry_server");
	return s ? parse_sorry(s, h, msg, msglen) : 0;
}

/* ---- rendering ----------------------------------------------------------------------- */

static void set_ip(json_t *o, const char *key, uint8_t af, const union xvs_ip *ip)
{
	char a[64];
	if (!af)
		return;
	xvs_ctl_json_ip_str(af, ip, a, sizeof(a));
	json_object_set_new(o, key, json_string(a));
}

static void render_conn(json_t *o, const struct xvs_check_cfg *c)
{
	json_object_set_new(o, "connect_timeout_ms", json_integer(c->connect_timeout_ms));
	set_ip(o, "connect_ip", c->connect_af, &c->connect_ip);
	set_ip(o, "bind_ip", c->bind_af, &c->bind_ip);
	if (c->type != XVS_CHECK_ICMP) {
		json_object_set_new(o, "connect_port", json_integer(c->connect_port));
		json_object_set_new(o, "bind_port", json_integer(c->bind_port));
	}
	json_object_set_new(o, "fwmark", json_integer(c->fwmark));
}

static json_t *render_urls(const struct xvs_check_cfg *c)
{
	json_t *a = json_array();
	for (unsigned i = 0; a && i < c->nb_urls && i < XVS_CHECK_MAX_URLS; i++) {
		const struct xvs_check_url *u = &c->urls[i];
		char codes[XVS_CHECK_STATUS_TEXT];
		xvs_check_url_status_format(u, codes, sizeof(codes));
		json_array_append_new(a, u->status_set
			? json_pack("{ss ss ss ss}", "path", u->path, "digest", u->digest,
				    "virtualhost", u->virtualhost, "status_codes", codes)
			: json_pack("{ss ss ss si si}", "path", u->path, "digest", u->digest,
				    "virtualhost", u->virtualhost, "status_lo", u->status_lo,
				    "status_hi", u->status_hi));
	}
	return a;
}

static void render_typed(json_t *o, const struct xvs_check_cfg *c)
{
	char hex[2 * XVS_CHECK_PAYLOAD_MAX + 1];
	switch (c->type) {
	case XVS_CHECK_HTTPS:
		json_object_set_new(o, "ssl_verify", json_boolean(c->ssl_verify));
		/* fall through */
	case XVS_CHECK_HTTP:
		json_object_set_new(o, "virtualhost", json_string(c->virtualhost));
		json_object_set_new(o, "http_protocol", json_string(c->http_1_1 ? "1.1" : "1.0"));
		json_object_set_new(o, "urls", render_urls(c));
		break;
	case XVS_CHECK_UDP:
		for (unsigned i = 0; i < c->payload_len && i < XVS_CHECK_PAYLOAD_MAX; i++)
			snprintf(hex + 2 * i, 3, "%02x", c->payload[i]);
		hex[2 * (c->payload_len <= XVS_CHECK_PAYLOAD_MAX ? c->payload_len : 0)] = '\0';
		json_object_set_new(o, "payload", json_string(hex));
		json_object_set_new(o, "require_reply", json_boolean(c->require_reply));
		break;
	case XVS_CHECK_DNS:
		json_object_set_new(o, "name", json_string(c->dns_name));
		json_object_set_new(o, "query_type", json_integer(c->dns_type));
		for (unsigned i = 0; i < sizeof(dns_types) / sizeof(dns_types[0]); i++)
			if (dns_types[i].type == c->dns_type)
				json_object_set_new(o, "query_type", json_string(dns_types[i].name));
		break;
	case XVS_CHECK_SCRIPT:
		json_object_set_new(o, "script", json_string(c->script));
		json_object_set_new(o, "user", json_string(c->user));
		json_object_set_new(o, "misc_timeout_ms", json_integer(c->script_timeout_ms));
		json_object_set_new(o, "misc_dynamic", json_boolean(c->misc_dynamic));
		break;
	default:
		break;
	}
}

static json_t *render_check(const struct xvs_check_cfg *c)
{
	const char *kw = xvs_check_type_keyword(c->type);
	json_t *o = json_pack("{ss sI sI sI}", "type", kw ? kw : "?", "retry", (json_int_t)c->retry,
			      "delay_before_retry_ms", (json_int_t)c->delay_before_retry_ms,
			      "warmup_ms", (json_int_t)c->warmup_ms);
	if (!o)
		return NULL;
	if (c->type != XVS_CHECK_SCRIPT)
		render_conn(o, c);
	render_typed(o, c);
	return o;
}

json_t *xvs_ctl_json_dest_health(const struct xvs_dest_health_cfg *h)
{
	json_t *checks = json_array();
	for (unsigned i = 0; checks && i < h->nb_checks && i < XVS_CHECK_MAX_PER_DEST; i++)
		json_array_append_new(checks, render_check(&h->checks[i]));
	return json_pack("{sI sI sI sb sb ss ss so}", "interval_ms", (json_int_t)h->interval_ms,
			 "rise", (json_int_t)h->rise, "fall", (json_int_t)h->fall, "alpha",
			 (int)h->alpha, "inhibit_on_failure", (int)h->inhibit_on_failure,
			 "notify_up", h->notify_up, "notify_down", h->notify_down, "checks", checks);
}

json_t *xvs_ctl_json_svc_health(const struct xvs_svc_health_cfg *h)
{
	json_t *o = json_pack("{sI sI ss ss sb}", "quorum", (json_int_t)h->quorum, "hysteresis",
			      (json_int_t)h->hysteresis, "quorum_up", h->quorum_up, "quorum_down",
			      h->quorum_down, "omega", (int)h->omega);
	if (!o || !h->has_sorry)
		return o;
	char a[64];
	const char *fwd = xvs_wire_name_of(xvs_wire_fwds, h->sorry_fwd);
	xvs_ctl_json_ip_str(h->sorry_af, &h->sorry_addr, a, sizeof(a));
	json_object_set_new(o, "sorry_server", json_pack("{ss si ss sb}", XVS_WIRE_ADDR, a,
							 XVS_WIRE_PORT, (int)h->sorry_port,
							 XVS_WIRE_FWD, fwd ? fwd : "masq", "inhibit",
							 (int)h->sorry_inhibit));
	return o;
}
