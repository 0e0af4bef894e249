/* Health-check settings: keepalived's defaults and checker keywords (see ctl_check.h). */
#include <string.h>

#include "ctl_check.h"

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
