/* Health-check settings: keepalived's defaults, checker keywords and validation (see ctl_check.h). */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_check.h"
#include "xvs/table.h"

static const char *const keywords[] = {
	[XVS_CHECK_TCP] = "TCP_CHECK",  [XVS_CHECK_HTTP] = "HTTP_GET",
	[XVS_CHECK_HTTPS] = "SSL_GET",  [XVS_CHECK_UDP] = "UDP_CHECK",
	[XVS_CHECK_DNS] = "DNS_CHECK",  [XVS_CHECK_ICMP] = "PING_CHECK",
	[XVS_CHECK_SCRIPT] = "MISC_CHECK",
};

void xvs_check_cfg_default(struct xvs_check_cfg *c, enum xvs_check_type type)
{
	memset(c, 0, sizeof(*c));
	c->type = type;
	/* keepalived 2.2: retry 1 (DNS 3, MISC 0); delay_before_retry 1 s (HTTP/SSL 3 s) */
	c->connect_timeout_ms = 5000;
	c->retry = type == XVS_CHECK_DNS ? 3 : type == XVS_CHECK_SCRIPT ? 0 : 1;
	c->delay_before_retry_ms = type == XVS_CHECK_HTTP || type == XVS_CHECK_HTTPS ? 3000 : 1000;
	strcpy(c->dns_name, ".");
	c->dns_type = 6;
	/* keepalived's per-checker defaults (check_http.c, check_dns.c, check_misc.c) */
	if (type == XVS_CHECK_HTTP || type == XVS_CHECK_HTTPS)
		c->delay_before_retry_ms = 3000;
	else if (type == XVS_CHECK_DNS)
		c->retry = 3;
	else if (type == XVS_CHECK_SCRIPT)
		c->retry = 0;
}

void xvs_dest_health_cfg_default(struct xvs_dest_health_cfg *h)
{
	memset(h, 0, sizeof(*h));
	h->interval_ms = 60000;
	h->rise = 1;
	h->fall = 1;
}

void xvs_svc_health_cfg_default(struct xvs_svc_health_cfg *h)
{
	memset(h, 0, sizeof(*h));
	h->quorum = 1;
}

const char *xvs_check_type_keyword(enum xvs_check_type t)
{
	if ((unsigned)t >= sizeof(keywords) / sizeof(keywords[0]))
		return NULL;
	return keywords[t];
}

enum xvs_check_type xvs_check_type_from_keyword(const char *kw)
{
	for (unsigned t = 1; t < sizeof(keywords) / sizeof(keywords[0]); t++)
		if (strcmp(keywords[t], kw) == 0)
			return (enum xvs_check_type)t;
	return XVS_CHECK_NONE;
}

/* ---- validation ---------------------------------------------------------------------- */

static int bad(char *msg, size_t msglen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int bad(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

/* Printable ASCII without spaces: what may go on a request line or into a Host header. */
static bool token(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static bool ip_zero(const union xvs_ip *a)
{
	return a->d[0] == 0 && a->d[1] == 0;
}

static int check_family(uint8_t af, const union xvs_ip *ip, const char *what, char *msg,
			size_t msglen)
{
	if (af == 0)
		return ip_zero(ip) ? 0 : bad(msg, msglen, "%s: an address without a family", what);
	if (af != XVS_AF_INET && af != XVS_AF_INET6)
		return bad(msg, msglen, "%s: bad address family %u", what, af);
	return ip_zero(ip) ? bad(msg, msglen, "%s: the unspecified address", what) : 0;
}

static int check_time(uint32_t ms, uint32_t min, const char *what, char *msg, size_t msglen)
{
	if (ms < min || ms > XVS_CHECK_TIME_MAX_MS)
		return bad(msg, msglen, "%s %u ms out of range %u..%u", what, ms, min,
			   XVS_CHECK_TIME_MAX_MS);
	return 0;
}

static int check_url(const struct xvs_check_url *u, unsigned i, char *msg, size_t msglen)
{
	if (!terminated(u->path, sizeof(u->path)) || !terminated(u->digest, sizeof(u->digest)) ||
	    !terminated(u->virtualhost, sizeof(u->virtualhost)))
		return bad(msg, msglen, "url %u: a string is not terminated", i);
	if (u->path[0] != '/' || !token(u->path))
		return bad(msg, msglen, "url %u: path '%s' must start with '/' and hold no spaces or "
			   "control characters", i, u->path);
	if (!token(u->virtualhost))
		return bad(msg, msglen, "url %u: bad virtualhost '%s'", i, u->virtualhost);
	if (u->digest[0] && (strlen(u->digest) != 32 || strspn(u->digest, "0123456789abcdef") != 32))
		return bad(msg, msglen, "url %u: digest '%s' is not 32 lower-case hex digits", i,
			   u->digest);
	if ((u->status_lo || u->status_hi) &&
	    (u->status_lo < 100 || u->status_hi > 599 || u->status_lo > u->status_hi))
		return bad(msg, msglen, "url %u: status codes %u..%u (100..599, low <= high)", i,
			   u->status_lo, u->status_hi);
	if (u->status_set && (!xvs_check_url_status_ok(u, u->status_lo) ||
			      !xvs_check_url_status_ok(u, u->status_hi)))
		return bad(msg, msglen, "url %u: status code set and range disagree", i);
	for (unsigned c = 0; u->status_set && c < XVS_CHECK_STATUS_END; c++)
		if ((c < u->status_lo || c > u->status_hi) && xvs_check_url_status_ok(u, c))
			return bad(msg, msglen, "url %u: status code set and range disagree", i);
	if (!u->status_set)
		for (unsigned b = 0; b < sizeof(u->status_mask); b++)
			if (u->status_mask[b])
				return bad(msg, msglen, "url %u: status codes without a set", i);
	return 0;
}

static int check_http(const struct xvs_check_cfg *c, char *msg, size_t msglen)
{
	if (!terminated(c->virtualhost, sizeof(c->virtualhost)) || !token(c->virtualhost))
		return bad(msg, msglen, "bad virtualhost");
	if (c->nb_urls < 1 || c->nb_urls > XVS_CHECK_MAX_URLS)
		return bad(msg, msglen, "%s needs 1..%d urls, not %u", xvs_check_type_keyword(c->type),
			   XVS_CHECK_MAX_URLS, c->nb_urls);
	for (unsigned i = 0; i < c->nb_urls; i++) {
		int rc = check_url(&c->urls[i], i, msg, msglen);
		if (rc)
			return rc;
	}
	return 0;
}

/* A DNS name: "." or dot-separated labels of 1..63 characters, at most 253 in all. */
static int check_dns_name(const char *name, char *msg, size_t msglen)
{
	size_t n = strlen(name), label = 0;
	if (strcmp(name, ".") == 0)
		return 0;
	if (n == 0 || n > 254 || (n == 254 && name[253] != '.'))
		return bad(msg, msglen, "DNS name '%s': empty or over 253 characters", name);
	for (size_t i = 0; i <= n; i++) {
		char ch = name[i];
		if (ch == '.' || ch == '\0') {
			if ((label == 0 && !(ch == '\0' && i == n && i > 0)) || label > 63)
				return bad(msg, msglen, "DNS name '%s': a label is empty or over 63 "
					   "characters", name);
			label = 0;
		} else if ((unsigned char)ch <= 0x20 || (unsigned char)ch >= 0x7f) {
			return bad(msg, msglen, "DNS name '%s': bad character", name);
		} else {
			label++;
		}
	}
	return 0;
}

static int check_user(const char *user, char *msg, size_t msglen)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	if (!user[0])
		return 0;
	if (getpwnam_r(user, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return bad(msg, msglen, "MISC_CHECK: no user '%s'", user);
	return 0;
}

static int check_script(const struct xvs_check_cfg *c, char *msg, size_t msglen)
{
	if (!terminated(c->script, sizeof(c->script)) || !terminated(c->user, sizeof(c->user)))
		return bad(msg, msglen, "MISC_CHECK: a string is not terminated");
	if (c->script[0] == '\0')
		return bad(msg, msglen, "MISC_CHECK: no script");
	int rc = check_time(c->script_timeout_ms, 0, "misc_timeout", msg, msglen);
	return rc ? rc : check_user(c->user, msg, msglen);
}

static int check_type_fields(const struct xvs_check_cfg *c, char *msg, size_t msglen)
{
	switch (c->type) {
	case XVS_CHECK_TCP:
		return 0;
	case XVS_CHECK_HTTP:
	case XVS_CHECK_HTTPS:
		return check_http(c, msg, msglen);
	case XVS_CHECK_UDP:
		return c->payload_len <= XVS_CHECK_PAYLOAD_MAX ? 0 :
		       bad(msg, msglen, "UDP_CHECK: payload over %d bytes", XVS_CHECK_PAYLOAD_MAX);
	case XVS_CHECK_DNS:
		if (!terminated(c->dns_name, sizeof(c->dns_name)))
			return bad(msg, msglen, "DNS_CHECK: name not terminated");
		if (c->dns_type == 0)
			return bad(msg, msglen, "DNS_CHECK: query type 0");
		return check_dns_name(c->dns_name, msg, msglen);
	case XVS_CHECK_ICMP:
		return c->connect_port || c->bind_port ?
		       bad(msg, msglen, "PING_CHECK: ICMP has no ports") : 0;
	case XVS_CHECK_SCRIPT:
		return check_script(c, msg, msglen);
	default:
		return bad(msg, msglen, "unknown check type %d", (int)c->type);
	}
}

int xvs_check_cfg_check(const struct xvs_check_cfg *c, char *msg, size_t msglen)
{
	int rc;
	if (c->type <= XVS_CHECK_NONE || c->type > XVS_CHECK_SCRIPT)
		return bad(msg, msglen, "unknown check type %d", (int)c->type);
	if ((rc = check_family(c->connect_af, &c->connect_ip, "connect_ip", msg, msglen)) ||
	    (rc = check_family(c->bind_af, &c->bind_ip, "bind_ip", msg, msglen)))
		return rc;
	if (c->connect_af && c->bind_af && c->connect_af != c->bind_af)
		return bad(msg, msglen, "connect_ip and bind_ip are of different families");
	if ((rc = check_time(c->connect_timeout_ms, 1, "connect_timeout", msg, msglen)) ||
	    (rc = check_time(c->delay_before_retry_ms, 0, "delay_before_retry", msg, msglen)) ||
	    (rc = check_time(c->warmup_ms, 0, "warmup", msg, msglen)))
		return rc;
	if (c->retry > XVS_CHECK_COUNT_MAX)
		return bad(msg, msglen, "retry %u out of range 0..%u", c->retry, XVS_CHECK_COUNT_MAX);
	return check_type_fields(c, msg, msglen);
}

int xvs_dest_health_cfg_check(const struct xvs_dest_health_cfg *h, char *msg, size_t msglen)
{
	int rc = check_time(h->interval_ms, 1, "delay_loop", msg, msglen);
	if (rc)
		return rc;
	if (h->rise < 1 || h->rise > XVS_CHECK_COUNT_MAX || h->fall < 1 || h->fall > XVS_CHECK_COUNT_MAX)
		return bad(msg, msglen, "rise %u / fall %u out of range 1..%u", h->rise, h->fall,
			   XVS_CHECK_COUNT_MAX);
	if (!terminated(h->notify_up, sizeof(h->notify_up)) ||
	    !terminated(h->notify_down, sizeof(h->notify_down)))
		return bad(msg, msglen, "notify script not terminated");
	if (h->nb_checks > XVS_CHECK_MAX_PER_DEST)
		return bad(msg, msglen, "%u checks, at most %d per real server", h->nb_checks,
			   XVS_CHECK_MAX_PER_DEST);
	for (unsigned i = 0; i < h->nb_checks; i++) {
		char why[200];
		if (xvs_check_cfg_check(&h->checks[i], why, sizeof(why)) < 0)
			return bad(msg, msglen, "check %u (%s): %s", i,
				   xvs_check_type_keyword(h->checks[i].type) ?
				   xvs_check_type_keyword(h->checks[i].type) : "?", why);
	}
	return 0;
}

int xvs_svc_health_cfg_check(const struct xvs_svc_health_cfg *h, char *msg, size_t msglen)
{
	if (!terminated(h->quorum_up, sizeof(h->quorum_up)) ||
	    !terminated(h->quorum_down, sizeof(h->quorum_down)))
		return bad(msg, msglen, "quorum script not terminated");
	if (h->quorum < 1)
		return bad(msg, msglen, "quorum 0 (at least 1)");
	if (!h->has_sorry)
		return 0;
	if (h->sorry_af != XVS_AF_INET && h->sorry_af != XVS_AF_INET6)
		return bad(msg, msglen, "sorry server: bad address family %u", h->sorry_af);
	if (ip_zero(&h->sorry_addr))
		return bad(msg, msglen, "sorry server: the unspecified address");
	if (h->sorry_fwd != XVS_FWD_MASQ && h->sorry_fwd != XVS_FWD_DROUTE &&
	    h->sorry_fwd != XVS_FWD_TUNNEL)
		return bad(msg, msglen, "sorry server: bad forwarding method %u", h->sorry_fwd);
	return 0;
}

int xvs_check_url_status_parse(struct xvs_check_url *u, const char *text, char *err,
			       size_t errlen)
{
	bool set[XVS_CHECK_STATUS_END] = {false};
	char buf[XVS_CHECK_STATUS_TEXT], *save = NULL;
	unsigned nb = 0, ranges = 0;
	if (strlen(text) >= sizeof(buf)) {
		snprintf(err, errlen, "too long");
		return -EINVAL;
	}
	strcpy(buf, text);
	for (char *w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		char *end, *dash = strchr(w, '-');
		unsigned long lo = strtoul(w, &end, 10), hi = lo;
		bool ok = end != w && (dash ? end == dash : *end == '\0') && w[0] != '-' &&
			  w[0] != '+';
		if (ok && dash) {
			hi = strtoul(dash + 1, &end, 10);
			ok = end != dash + 1 && *end == '\0' && dash[1] != '-' && dash[1] != '+';
		}
		if (!ok || lo < 100 || hi >= XVS_CHECK_STATUS_END || hi < lo) {
			snprintf(err, errlen, "'%s' is not a code or range in 100..599", w);
			return -EINVAL;
		}
		for (unsigned long c = lo; c <= hi; c++)
			set[c] = true;
		nb++;
	}
	if (nb == 0) {
		snprintf(err, errlen, "none given");
		return -EINVAL;
	}
	unsigned lo = 100, hi = XVS_CHECK_STATUS_END - 1;
	while (!set[lo])
		lo++;
	while (!set[hi])
		hi--;
	for (unsigned c = lo; c <= hi; c++)
		ranges += set[c] && !set[c - 1];
	u->status_lo = (uint16_t)lo;
	u->status_hi = (uint16_t)hi;
	u->status_set = ranges > 1;
	memset(u->status_mask, 0, sizeof(u->status_mask));
	for (unsigned c = lo; u->status_set && c <= hi; c++)
		if (set[c])
			u->status_mask[c / 8] |= (uint8_t)(1u << (c % 8));
	return 0;
}

bool xvs_check_url_status_ok(const struct xvs_check_url *u, long code)
{
	if (u->status_set)
		return code >= 0 && code < XVS_CHECK_STATUS_END &&
		       (u->status_mask[code / 8] >> (code % 8) & 1);
	unsigned lo = u->status_lo || u->status_hi ? u->status_lo : 200;
	unsigned hi = u->status_lo || u->status_hi ? u->status_hi : 299;
	return code >= lo && code <= hi;
}

void xvs_check_url_status_format(const struct xvs_check_url *u, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	if (!u->status_set) {
		if (u->status_lo || u->status_hi)
			snprintf(buf, len, u->status_lo == u->status_hi ? "%u" : "%u-%u",
				 u->status_lo, u->status_hi);
		return;
	}
	for (unsigned c = 100; c < XVS_CHECK_STATUS_END && n < len; c++) {
		if (!xvs_check_url_status_ok(u, c) || xvs_check_url_status_ok(u, c - 1))
			continue;
		unsigned e = c;
		while (e + 1 < XVS_CHECK_STATUS_END && xvs_check_url_status_ok(u, e + 1))
			e++;
		n += (size_t)snprintf(buf + n, len - n, e == c ? "%s%u" : "%s%u-%u", n ? " " : "", c,
				      e);
	}
}
