/*
 * keepalived.conf reading (ctl_kaconf): every keyword into the model's and the health
 * engine's structs, definitions, conditionals, includes, group ranges, errors with their
 * exact FILE:LINE, and the diff that turns a running model into a file's.
 * Fixtures: tests/unit/kaconf/ (KACONF_DIR).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_kaconf.h"
#include "ctl_kaconf_apply.h"

static char err[XVS_KACONF_ERR_MAX];

static struct xvs_kaconf *load_id(const char *name, const char *id)
{
	char path[512];
	struct xvs_kaconf *c = NULL;
	struct xvs_kaconf_opts o = {id};
	snprintf(path, sizeof(path), "%s/%s", KACONF_DIR, name);
	int rc = xvs_kaconf_load(path, &o, &c, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s: %s", name, err);
	return c;
}

static struct xvs_kaconf *load(const char *name)
{
	return load_id(name, "lb1");
}

static union xvs_ip ip4(const char *s)
{
	union xvs_ip a = {0};
	cr_assert_eq(inet_pton(AF_INET, s, &a.v4), 1);
	return a;
}

static union xvs_ip ip6(const char *s)
{
	union xvs_ip a = {0};
	cr_assert_eq(inet_pton(AF_INET6, s, a.v6), 1);
	return a;
}

static void expect_ip(const union xvs_ip *got, union xvs_ip want)
{
	cr_expect(xvs_ip_eq(got, &want));
}

/* The "FILE:LINE" of a fixture line. */
static void expect_where(const char *where, const char *file, unsigned line)
{
	char want[512];
	snprintf(want, sizeof(want), "%s/%s:%u", KACONF_DIR, file, line);
	cr_expect_str_eq(where, want);
}

/* ---- every keyword ------------------------------------------------------------------- */

Test(kaconf, virtual_server_keywords)
{
	struct xvs_kaconf *c = load("all.conf");
	cr_assert_eq(c->nb_svcs, 4);
	const struct xvs_kaconf_svc *s = &c->svcs[0];
	expect_where(s->where, "all.conf", 11);
	cr_expect_eq(s->cfg.af, XVS_AF_INET);
	cr_expect_eq(s->cfg.proto, XVS_PROTO_TCP);
	cr_expect_eq(s->cfg.port, 80);
	expect_ip(&s->cfg.addr, ip4("192.0.2.1"));
	cr_expect_str_eq(s->cfg.sched, "wrr");
	cr_expect_eq(s->cfg.persistent, 600);
	expect_ip(&s->cfg.netmask, ip4("255.255.255.0"));
	cr_expect_eq(s->cfg.flags, 0);
	cr_expect_not(s->cfg.ops);
	cr_expect_eq(s->delay_loop_ms, 3000);
	cr_expect_str_eq(s->group, "");
	/* quorum, scripts (keepalived's quoting, re-quoted for /bin/sh), sorry server */
	cr_expect_eq(s->health.quorum, 2);
	cr_expect_eq(s->health.hysteresis, 1);
	cr_expect(s->health.omega);
	cr_expect_str_eq(s->health.quorum_up, "/usr/local/bin/up.sh 'a b'");
	cr_expect_str_eq(s->health.quorum_down, "/usr/local/bin/down.sh");
	cr_expect(s->health.has_sorry);
	cr_expect(s->health.sorry_inhibit);
	cr_expect_eq(s->health.sorry_af, XVS_AF_INET);
	cr_expect_eq(s->health.sorry_fwd, XVS_FWD_MASQ);
	cr_expect_eq(s->health.sorry_port, 80);
	expect_ip(&s->health.sorry_addr, ip4("192.0.2.99"));
	cr_expect_eq(c->nb_warnings, 2); /* nb_get_retry, vrrp_instance */
	cr_expect(c->has_timeouts);
	cr_expect_eq(c->timeouts[0], 7200);
	cr_expect_eq(c->timeouts[1], 60);
	cr_expect_eq(c->timeouts[2], 120);
	xvs_kaconf_free(c);
}

Test(kaconf, real_server_and_http_keywords)
{
	struct xvs_kaconf *c = load("all.conf");
	const struct xvs_kaconf_svc *s = &c->svcs[0];
	cr_assert_eq(s->nb_dests, 2);
	const struct xvs_kaconf_dest *d = &s->dests[0];
	expect_where(d->where, "all.conf", 36);
	expect_ip(&d->cfg.addr, ip4("192.0.2.11"));
	cr_expect_eq(d->cfg.port, 80);
	cr_expect_eq(d->cfg.fwd, XVS_FWD_DROUTE);
	cr_expect_eq(d->cfg.weight, 5);
	cr_expect_eq(d->cfg.u_thresh, 100);
	cr_expect_eq(d->cfg.l_thresh, 50);
	const struct xvs_dest_health_cfg *h = d->health;
	cr_expect_eq(h->interval_ms, 3000);
	cr_expect(h->alpha, "the HTTP checker takes the virtual server's alpha");
	cr_expect(h->inhibit_on_failure);
	cr_expect_str_eq(h->notify_up, "/bin/echo up");
	cr_expect_str_eq(h->notify_down, "/bin/echo");
	cr_assert_eq(h->nb_checks, 2);
	const struct xvs_check_cfg *k = &h->checks[0];
	cr_expect_eq(k->type, XVS_CHECK_HTTP);
	cr_assert_eq(k->nb_urls, 2);
	cr_expect_str_eq(k->urls[0].path, "/health");
	cr_expect_str_eq(k->urls[0].digest, "9b3a0c85a887a256d6939da88aabd8cd");
	cr_expect_eq(k->urls[0].status_lo, 200);
	cr_expect_eq(k->urls[0].status_hi, 204);
	cr_expect_str_eq(k->urls[0].virtualhost, "health.example.org");
	cr_expect_str_eq(k->urls[1].path, "/other");
	cr_expect_eq(k->urls[1].status_lo, 200);
	cr_expect_eq(k->urls[1].status_hi, 299);
	cr_expect_str_eq(k->urls[1].digest, "");
	cr_expect_eq(k->connect_af, XVS_AF_INET);
	expect_ip(&k->connect_ip, ip4("192.0.2.111"));
	cr_expect_eq(k->connect_port, 8080);
	cr_expect_eq(k->bind_af, XVS_AF_INET);
	expect_ip(&k->bind_ip, ip4("192.0.2.1"));
	cr_expect_eq(k->bind_port, 40000);
	cr_expect_eq(k->connect_timeout_ms, 2000);
	cr_expect_eq(k->retry, 4);
	cr_expect_eq(k->delay_before_retry_ms, 2000);
	cr_expect_eq(k->warmup_ms, 1000);
	cr_expect_eq(k->fwmark, 7);
	cr_expect(k->http_1_1);
	cr_expect_str_eq(k->virtualhost, "www.example.org", "from the virtual server");
	/* TCP_CHECK: its own port and retry, the rest from the virtual server */
	k = &h->checks[1];
	cr_expect_eq(k->type, XVS_CHECK_TCP);
	cr_expect_eq(k->connect_port, 22);
	cr_expect_eq(k->connect_af, 0);
	cr_expect_eq(k->retry, 0);
	cr_expect_eq(k->connect_timeout_ms, 4000);
	cr_expect_eq(k->delay_before_retry_ms, 1500);
	cr_expect_eq(k->warmup_ms, 250);
	xvs_kaconf_free(c);
}

Test(kaconf, misc_and_dns_keywords)
{
	struct xvs_kaconf *c = load("all.conf");
	const struct xvs_kaconf_dest *d = &c->svcs[0].dests[1];
	expect_ip(&d->cfg.addr, ip4("192.0.2.12"));
	cr_expect_eq(d->cfg.port, 80, "DR takes the service's port");
	cr_expect_eq(d->cfg.weight, 3, "the virtual server's weight");
	const struct xvs_dest_health_cfg *h = d->health;
	cr_expect_eq(h->interval_ms, 10000);
	cr_expect_not(h->alpha);
	cr_expect_not(h->inhibit_on_failure);
	cr_assert_eq(h->nb_checks, 2);
	const struct xvs_check_cfg *k = &h->checks[0];
	cr_expect_eq(k->type, XVS_CHECK_SCRIPT);
	cr_expect_str_eq(k->script, "/usr/local/bin/check --host 192.0.2.12 'two words'");
	cr_expect_eq(k->script_timeout_ms, 9000);
	cr_expect(k->misc_dynamic);
	cr_expect_str_eq(k->user, "nobody");
	cr_expect_eq(k->retry, 5);
	cr_expect_eq(k->delay_before_retry_ms, 3000);
	cr_expect_eq(k->warmup_ms, 2000);
	k = &h->checks[1];
	cr_expect_eq(k->type, XVS_CHECK_DNS);
	cr_expect_eq(k->dns_type, 28);
	cr_expect_str_eq(k->dns_name, "www.example.org");
	cr_expect_eq(k->retry, 5, "the real server's retry over DNS_CHECK's default 3");
	cr_expect_eq(k->connect_timeout_ms, 7000);
	xvs_kaconf_free(c);
}

Test(kaconf, udp_ping_tunnels_flags)
{
	struct xvs_kaconf *c = load("all.conf");
	const struct xvs_kaconf_svc *s = &c->svcs[1];
	cr_expect_eq(s->cfg.proto, XVS_PROTO_UDP);
	cr_expect_str_eq(s->cfg.sched, "sh");
	cr_expect_eq(s->cfg.flags, XVS_SVC_F_SCHED1 | XVS_SVC_F_SCHED2);
	cr_expect(s->cfg.ops);
	cr_expect_eq(s->delay_loop_ms, 60000, "keepalived's default delay_loop");
	cr_assert_eq(s->nb_dests, 2);
	const struct xvs_kaconf_dest *d = &s->dests[0];
	cr_expect_eq(d->cfg.fwd, XVS_FWD_TUNNEL);
	cr_expect_eq(d->cfg.tun_type, 1);
	cr_expect_eq(d->cfg.tun_port, 6080);
	cr_expect_eq(d->cfg.tun_flags, XVS_TUN_F_CSUM);
	cr_expect_eq(d->cfg.weight, 1);
	const struct xvs_check_cfg *k = &d->health->checks[0];
	cr_expect_eq(k->type, XVS_CHECK_UDP);
	cr_assert_eq(k->payload_len, 3);
	cr_expect_eq(k->payload[0], 0x0a);
	cr_expect_eq(k->payload[1], 0x0b);
	cr_expect_eq(k->payload[2], 0x0c);
	cr_expect(k->require_reply);
	cr_expect_eq(k->retry, 1);
	cr_expect_eq(k->connect_timeout_ms, 5000);
	cr_expect_eq(k->delay_before_retry_ms, 1000);
	cr_expect_eq(k->warmup_ms, 60000, "warmup defaults to the delay_loop");
	cr_expect_eq(d->health->checks[1].type, XVS_CHECK_ICMP);
	d = &s->dests[1];
	cr_expect_eq(d->cfg.fwd, XVS_FWD_TUNNEL);
	cr_expect_eq(d->cfg.tun_type, 0);
	cr_expect_eq(d->cfg.tun_port, 0);
	cr_expect_eq(d->health->nb_checks, 0);
	/* fwmark, IPv6 */
	s = &c->svcs[2];
	cr_expect_eq(s->cfg.fwmark, 5);
	cr_expect_eq(s->cfg.af, XVS_AF_INET6);
	cr_expect_eq(s->cfg.proto, 0);
	cr_expect_eq(s->cfg.flags, XVS_SVC_F_SCHED1 | XVS_SVC_F_SCHED2 | XVS_SVC_F_SCHED3);
	cr_expect_eq(s->cfg.netmask.w[0], 128);
	cr_expect_eq(s->dests[0].cfg.port, 8080, "NAT keeps the port of a fwmark service's server");
	expect_ip(&s->dests[0].cfg.addr, ip6("2001:db8::1"));
	/* SCTP, granularity as a prefix length, SSL_GET */
	s = &c->svcs[3];
	cr_expect_eq(s->cfg.proto, XVS_PROTO_SCTP);
	cr_expect_eq(s->cfg.persistent, 360, "persistence_granularity alone makes it persistent");
	cr_expect_eq(s->cfg.netmask.w[0], 64);
	cr_expect_eq(s->dests[0].health->checks[0].type, XVS_CHECK_HTTPS);
	cr_expect_eq(s->dests[0].health->checks[0].delay_before_retry_ms, 3000);
	xvs_kaconf_free(c);
}

/* ---- the text layer ------------------------------------------------------------------ */

Test(kaconf, definitions_comments_quotes)
{
	struct xvs_kaconf *c = load_id("vars.conf", "node7");
	cr_assert_eq(c->nb_svcs, 1);
	const struct xvs_kaconf_svc *s = &c->svcs[0];
	expect_ip(&s->cfg.addr, ip4("192.0.2.50"));
	cr_assert_eq(s->nb_dests, 3);
	/* $RS: nested ${IP} and $PORT */
	expect_ip(&s->dests[0].cfg.addr, ip4("192.0.2.50"));
	cr_expect_eq(s->dests[0].cfg.port, 8080);
	cr_expect_eq(s->dests[0].cfg.weight, 2);
	expect_where(s->dests[0].where, "vars.conf", 13);
	/* $MULTI: a definition over three lines, expanded into three */
	expect_ip(&s->dests[1].cfg.addr, ip4("192.0.2.51"));
	cr_expect_eq(s->dests[1].cfg.weight, 4);
	/* '#' inside "..." and after '\' is text */
	const struct xvs_check_cfg *k = &s->dests[2].health->checks[0];
	cr_assert_eq(k->nb_urls, 2);
	cr_expect_str_eq(k->urls[0].path, "/a#b");
	cr_expect_str_eq(k->urls[1].path, "/c#d");
	cr_expect_str_eq(k->virtualhost, "node7.example.org", "${_INSTANCE} is the config id");
	xvs_kaconf_free(c);
}

Test(kaconf, conditionals_follow_the_config_id)
{
	struct xvs_kaconf *c = load_id("cond.conf", "lb1");
	cr_assert_eq(c->svcs[0].nb_dests, 2);
	expect_ip(&c->svcs[0].dests[0].cfg.addr, ip4("192.0.2.61"));
	expect_ip(&c->svcs[0].dests[1].cfg.addr, ip4("192.0.2.64"));
	cr_expect_eq(c->svcs[0].dests[1].cfg.weight, 7);
	xvs_kaconf_free(c);
	c = load_id("cond.conf", "lb2");
	cr_assert_eq(c->svcs[0].nb_dests, 3);
	expect_ip(&c->svcs[0].dests[0].cfg.addr, ip4("192.0.2.62"));
	expect_ip(&c->svcs[0].dests[1].cfg.addr, ip4("192.0.2.63"));
	expect_ip(&c->svcs[0].dests[2].cfg.addr, ip4("192.0.2.64"));
	cr_expect_eq(c->svcs[0].dests[2].cfg.weight, 3);
	xvs_kaconf_free(c);
}

Test(kaconf, default_config_id_is_the_short_host_name)
{
	char id[256], host[256];
	xvs_kaconf_default_id(id, sizeof(id));
	cr_assert_eq(gethostname(host, sizeof(host)), 0);
	host[strcspn(host, ".")] = '\0';
	cr_expect_str_eq(id, host);
}

Test(kaconf, includes_relative_to_the_including_file)
{
	struct xvs_kaconf *c = load("inc/main.conf");
	cr_assert_eq(c->nb_svcs, 2);
	expect_where(c->svcs[0].where, "inc/vs/a.conf", 1);
	cr_assert_eq(c->svcs[0].nb_dests, 1);
	expect_where(c->svcs[0].dests[0].where, "inc/vs/../rs/rs1.conf", 1);
	expect_where(c->svcs[1].where, "inc/vs/b.conf", 1);
	cr_assert_eq(c->svcs[1].nb_dests, 2);
	expect_where(c->svcs[1].dests[0].where, "inc/vs/x.part", 1);
	expect_where(c->svcs[1].dests[1].where, "inc/vs/y.part", 1);
	xvs_kaconf_free(c);
}

Test(kaconf, error_in_an_included_file_names_it)
{
	char path[512], want[600];
	struct xvs_kaconf *c = (void *)1;
	snprintf(path, sizeof(path), "%s/inc_err/main.conf", KACONF_DIR);
	cr_assert_lt(xvs_kaconf_load(path, NULL, &c, err, sizeof(err)), 0);
	cr_expect_null(c);
	snprintf(want, sizeof(want), "%s/inc_err/sub/bad.conf:3: weight: '70000' is not a number "
		 "in 1..65535", KACONF_DIR);
	cr_expect_str_eq(err, want);
}

/* ---- groups -------------------------------------------------------------------------- */

Test(kaconf, group_ranges_expand)
{
	static const char *const v4[] = {"192.0.2.1", "192.0.2.2", "192.0.2.3", "198.51.100.0",
					 "198.51.100.1", "198.51.100.2", "198.51.100.3",
					 "203.0.113.1", "203.0.113.2"};
	static const uint16_t ports[] = {80, 80, 80, 443, 443, 443, 443, 8080, 8080};
	struct xvs_kaconf *c = load("group.conf");
	cr_assert_eq(c->nb_svcs, 12);
	for (unsigned i = 0; i < 9; i++) {
		expect_ip(&c->svcs[i].cfg.addr, ip4(v4[i]));
		cr_expect_eq(c->svcs[i].cfg.port, ports[i]);
		cr_expect_eq(c->svcs[i].cfg.proto, XVS_PROTO_TCP);
	}
	expect_ip(&c->svcs[9].cfg.addr, ip6("2001:db8::a"));
	expect_ip(&c->svcs[10].cfg.addr, ip6("2001:db8::b"));
	cr_expect_eq(c->svcs[10].cfg.af, XVS_AF_INET6);
	cr_expect_eq(c->svcs[11].cfg.fwmark, 9);
	cr_expect_eq(c->svcs[11].cfg.af, XVS_AF_INET6);
	for (unsigned i = 0; i < 12; i++) {
		cr_expect_str_eq(c->svcs[i].group, "G1");
		cr_assert_eq(c->svcs[i].nb_dests, 1);
		cr_expect_eq(c->svcs[i].dests[0].health, c->svcs[0].dests[0].health,
			     "one checker for the whole group");
		cr_expect_eq(c->svcs[i].dests[0].cfg.fwd, XVS_FWD_TUNNEL);
	}
	cr_expect_eq(c->nb_healths, 1);
	cr_expect_eq(c->svcs[0].dests[0].health->checks[0].connect_port, 80);
	xvs_kaconf_free(c);
}

/* ---- errors -------------------------------------------------------------------------- */

struct bad {
	const char *text;
	unsigned line;   /* 0: the message has no line */
	const char *msg; /* the message, or its start when it ends in '*' */
	bool check;      /* only xvs_kaconf_check (the model) finds it */
};

#define VS "virtual_server 192.0.2.1 80 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n"

static const struct bad bad_cases[] = {
	{"foo bar\n", 1, "unknown keyword 'foo'", false},
	{"}\n", 1, "unexpected '}'", false},
	{VS " bogus 1\n}\n", 5, "unknown keyword 'bogus' in virtual_server", false},
	{VS " real_server 192.0.2.2 80 {\n  weigth 1\n }\n}\n", 6,
	 "unknown keyword 'weigth' in real_server", false},
	{VS "\n", 1, "the 'virtual_server' block has no closing '}'", false},
	{"virtual_server 192.0.2.1 80\n protocol TCP\n}\n", 1, "'virtual_server' needs a { } block",
	 false},
	{"virtual_server 192.0.2.1 80 {\n lb_algo xyz\n}\n", 2, "lb_algo: unknown scheduler 'xyz'*",
	 false},
	{"virtual_server 192.0.2.1 80 {\n sh-port\n lb_algo sh\n}\n", 2,
	 "sh-port applies to the sh scheduler only (lvs_sched sh must come first)", false},
	{VS " smtp_alert\n}\n", 5, "'smtp_alert' is not supported: xvs sends no e-mail alerts", false},
	{VS " persistence_engine sip\n}\n", 5,
	 "'persistence_engine' is not supported: xvs has no persistence engines", false},
	{VS " ha_suspend\n}\n", 5, "'ha_suspend' is not supported*", false},
	{"virtual_server 192.0.2.1 80 {\n lvs_method TUN type gre\n}\n", 2,
	 "lvs_method: GRE tunnels are not supported by xvs (ipip and gue are)", false},
	{"virtual_server 192.0.2.1 80 {\n lvs_method TUN type gue csum\n}\n", 2,
	 "lvs_method: gue tunnels need a port, other tunnels take none", false},
	{"virtual_server 192.0.2.1 80 {\n lvs_method TUN type gue port 1 remcsum\n}\n", 2,
	 "lvs_method: remote checksum offload (remcsum) is not supported by xvs", false},
	{"virtual_server 192.0.2.1 80 {\n lvs_method NAT type ipip\n}\n", 2,
	 "lvs_method: tunnel options with NAT", false},
	{VS " real_server 192.0.2.2 80 {\n  weight 70000\n }\n}\n", 6,
	 "weight: '70000' is not a number in 0..65535", false},
	{VS " delay_loop 0.0005\n}\n", 5, "delay_loop: 0.0005: xvs keeps times to the millisecond",
	 false},
	{VS " delay_loop x\n}\n", 5, "delay_loop: 'x' is not a time in seconds", false},
	{"virtual_server 192.0.2.300 80 {\n}\n", 1,
	 "virtual_server: '192.0.2.300' is not an IPv4 or IPv6 address", false},
	{VS " real_server 192.0.2.2 80 {\n  HTTP_GET {\n   url { path \"/x }\n  }\n }\n}\n", 7,
	 "unterminated quote", false},
	{VS " real_server 192.0.2.2 80 {\n  HTTP_GET {\n   connect_timeout 1\n  }\n }\n}\n", 6,
	 "HTTP_GET without a url block", false},
	{VS " real_server 192.0.2.2 80 {\n  HTTP_GET {\n   url { path / }\n   enable_sni\n  }\n }\n}\n",
	 8, "'enable_sni' is not supported by xvs's checkers", false},
	{VS " real_server 192.0.2.2 80 {\n  HTTP_GET {\n   url { path /\n regex x }\n  }\n }\n}\n",
	 8, "'regex' is not supported*", false},
	{VS " real_server 192.0.2.2 80 {\n  HTTP_GET {\n   url { path /\n status_code 200 4040 }\n"
	 "  }\n }\n}\n", 8, "status_code: '4040' is not a code or range in 100..599", false},
	{VS " real_server 192.0.2.2 80 {\n  HTTP_GET {\n   url { path /\n status_code 299-200 }\n"
	 "  }\n }\n}\n", 8, "status_code: '299-200' is not a code or range in 100..599", false},
	{VS " real_server 192.0.2.2 80 {\n  MISC_CHECK {\n   misc_path /bin/true x\n  }\n }\n}\n",
	 7, "misc_path: words after the script (keepalived ignores them); quote the whole "
	 "command line", false},
	{VS " real_server 192.0.2.2 80 {\n  MISC_CHECK {\n   misc_timeout 3\n  }\n }\n}\n", 6,
	 "MISC_CHECK without misc_path", false},
	{VS " real_server 192.0.2.2 80 {\n  notify_up /bin/true nobody\n }\n}\n", 6,
	 "notify_up: a user to run the script as is not supported (xvs runs notify scripts as "
	 "root)", false},
	{VS " real_server 192.0.2.2 80 {\n  SMTP_CHECK {\n  }\n }\n}\n", 6,
	 "'SMTP_CHECK' is not supported: xvs has no SMTP checker", false},
	{VS " real_server 192.0.2.2 80 {\n  TCP_CHECK {\n   bind_if eth0\n  }\n }\n}\n", 7,
	 "'bind_if' is not supported: xvs's checkers cannot bind to an interface", false},
	{VS " real_server 192.0.2.2 80 {\n  UDP_CHECK {\n   require_reply 0a\n  }\n }\n}\n", 7,
	 "require_reply with reply data is not supported (any reply counts)", false},
	{VS " real_server 192.0.2.2 80 {\n  UDP_CHECK {\n   payload 0g\n  }\n }\n}\n", 7,
	 "payload: '0g' is not hex", false},
	{VS " real_server 192.0.2.2 80 {\n  TCP_CHECK {\n   delay_loop 2\n  }\n  TCP_CHECK {\n"
	 "  }\n }\n}\n", 9, "the checkers of one real server with different delay_loop are not "
	 "supported", false},
	{VS " sorry_server_inhibit\n}\n", 5, "sorry_server_inhibit before or without sorry_server",
	 false},
	{VS " real_server 2001:db8::1 80 {\n }\n}\n", 5, "the real server's address family differs "
	 "from TCP 192.0.2.1:80's (only tunnels may differ)", false},
	{"virtual_server_group G {\n 192.0.2.5-3 80\n}\n", 2,
	 "'192.0.2.5-3': the range end is not above its start", false},
	{"virtual_server_group G {\n 192.0.2.1/24 80\n}\n", 2, "'192.0.2.1/24': host bits set", false},
	{"virtual_server_group G {\n 192.0.2.1 80\n 2001:db8::1 80\n fwmark 1\n}\n"
	 "virtual_server group G {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n"
	 " real_server 192.0.2.9 80 {\n }\n}\n", 1,
	 "virtual_server_group G has IPv4, IPv6 and a fwmark without a family", false},
	{"virtual_server_group G {\n}\n", 1, "virtual_server_group G has no entries", false},
	{"virtual_server group NOPE {\n real_server 192.0.2.9 80 {\n }\n}\n", 1,
	 "virtual_server_group NOPE is not defined", false},
	{VS " real_server 192.0.2.2 80 {\n }\n}\n" VS " real_server 192.0.2.3 80 {\n }\n}\n", 8,
	 "TCP 192.0.2.1:80 is already defined at *", false},
	{"~SEQ(i, 1, 3)\n", 1, "~SEQ is not supported", false},
	{"virtual_server ${_RANDOM} 80 {\n}\n", 1, "${_RANDOM} is not supported*", false},
	{"$A=$B\n$B=$A\nvirtual_server $A 80 {\n}\n", 3, "$A: the definitions expand without end",
	 false},
	/* a multi-line value that names itself on its last line (found by fuzz_kaconf: a hang) */
	{"$LOOP=weight 1 \\\n  $LOOP\n\n" VS " real_server 192.0.2.2 80 {\n  $LOOP\n }\n}\n", 9,
	 "the multi-line definitions expand without end", false},
	{"include /nonexistent/x.conf\n", 1, "/nonexistent/x.conf: No such file or directory", false},
	{"include t.conf\n", 1, "includes nested more than 32 deep (does a file include itself?)",
	 false},
	{"includew /nonexistent/*.conf\n", 1, "no file matches /nonexistent/*.conf", false},
	{"net_namespace blue\n", 1, "'net_namespace' is not supported*", false},
	{"SSL {\n}\n", 1, "'SSL' is not supported*", false},
	{"global_defs {\n lvs_sync_daemon eth0 VI_1\n}\n", 2,
	 "'lvs_sync_daemon' is not supported: start the sync daemon with xvsadm --start-daemon", false},
	{"global_defs {\n lvs_timeouts tcp\n}\n", 2, "'lvs_timeouts' needs at least 2 arguments",
	 false},
	{"global_defs {\n script_user nobody\n}\n" VS " quorum_up /bin/true\n real_server "
	 "192.0.2.2 80 {\n }\n}\n", 2, "script_user with notify or quorum scripts is not supported "
	 "(xvs runs those as root)", false},
	/* found by the model, named by the line of the real server */
	{VS " real_server 0.0.0.0 80 {\n }\n}\n", 5,
	 "real server address 0.0.0.0 is not a unicast address", true},
	{VS " real_server 192.0.2.2 80 {\n  uthreshold 5\n  lthreshold 9\n }\n}\n", 5,
	 "lower threshold 9 above upper threshold 5", true},
};

/* One case: the file, then the message it must be refused with. */
static void check_bad(const struct bad *b)
{
	char dir[] = "/tmp/xvs-kaconf.XXXXXX", path[64], want[XVS_KACONF_ERR_MAX];
	struct xvs_kaconf *c = NULL;
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.conf", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(b->text, f);
	fclose(f);
	err[0] = '\0';
	int rc = xvs_kaconf_load(path, NULL, &c, err, sizeof(err));
	if (b->check) {
		cr_expect_eq(rc, 0, "%s", err);
		struct xvs_ctl_model *m = c ? xvs_kaconf_check(c, NULL, err, sizeof(err)) : NULL;
		cr_expect_null(m, "accepted by the model:\n%s", b->text);
		xvs_ctl_model_free(m);
		xvs_kaconf_free(c);
	} else {
		cr_expect_lt(rc, 0, "accepted:\n%s", b->text);
		cr_expect_null(c);
		xvs_kaconf_free(c);
	}
	snprintf(want, sizeof(want), "%s:%u: %s", path, b->line, b->msg);
	size_t n = strlen(want);
	if (want[n - 1] == '*')
		cr_expect_eq(strncmp(err, want, n - 1), 0, "got  %s\nwant %s", err, want);
	else
		cr_expect_str_eq(err, want, "for:\n%s", b->text);
	unlink(path);
	rmdir(dir);
}

Test(kaconf, errors_name_file_and_line)
{
	for (unsigned i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
		check_bad(&bad_cases[i]);
}

/* ---- corrections keepalived makes, and so does xvs (with a warning) ------------------- */

static struct xvs_kaconf *load_text(const char *text, char *dir)
{
	char path[64];
	struct xvs_kaconf *c = NULL;
	strcpy(dir, "/tmp/xvs-kaconf.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.conf", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	cr_assert_eq(xvs_kaconf_load(path, NULL, &c, err, sizeof(err)), 0, "%s", err);
	unlink(path);
	rmdir(dir);
	return c;
}

Test(kaconf, keepalived_defaults_and_corrections)
{
	char dir[32];
	struct xvs_kaconf *c = load_text(
		"virtual_server 192.0.2.1 80 {\n protocol TCP\n ops\n quorum 9\n hysteresis 9\n"
		" lvs_method DR\n real_server 192.0.2.2 81 {\n }\n real_server 192.0.2.2 81 {\n }\n}\n"
		"virtual_server 192.0.2.4 0 {\n lvs_method NAT\n real_server 192.0.2.5 8080 {\n }\n}\n"
		"virtual_server 192.0.2.3 53 {\n lb_algo rr\n protocol UDP\n}\n"
		"virtual_server 192.0.2.6 80 {\n protocol TCP\n lb_algo rr\n"
		" real_server 192.0.2.7 {\n }\n}\n", dir);
	cr_assert_eq(c->nb_svcs, 3, "a virtual server without real servers is left out");
	const struct xvs_kaconf_svc *s = &c->svcs[0];
	cr_expect_str_eq(s->cfg.sched, "wlc");
	cr_expect_not(s->cfg.ops, "one-packet scheduling needs UDP");
	cr_expect_eq(s->health.quorum, 1, "lowered to the total weight");
	cr_expect_eq(s->health.hysteresis, 0);
	cr_assert_eq(s->nb_dests, 1, "the duplicate is dropped");
	cr_expect_eq(s->dests[0].cfg.port, 80, "DR takes the service's port");
	s = &c->svcs[1];
	cr_expect_eq(s->cfg.proto, XVS_PROTO_UDP, "keepalived's default protocol");
	cr_expect_eq(s->cfg.persistent, 360, "port 0 makes it persistent");
	s = &c->svcs[2];
	cr_expect_eq(s->dests[0].cfg.fwd, XVS_FWD_MASQ, "keepalived's default method");
	cr_expect_eq(s->dests[0].cfg.port, 80, "NAT without a port: the service's");
	cr_expect_eq(c->nb_warnings, 11);
	for (unsigned i = 0; i < c->nb_warnings; i++)
		cr_expect(strstr(c->warnings[i], ": warning: "), "%s", c->warnings[i]);
	xvs_kaconf_free(c);
}

/* ---- the diff that a reload commits -------------------------------------------------- */

static struct xvs_ctl_model *model_of(const char *text, char *dir)
{
	struct xvs_kaconf *c = load_text(text, dir);
	struct xvs_ctl_model *m = xvs_kaconf_check(c, NULL, err, sizeof(err));
	cr_assert_not_null(m, "%s", err);
	xvs_kaconf_free(c);
	return m;
}

#define SVC_A "virtual_server 192.0.2.1 80 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n"
#define SVC_B "virtual_server 192.0.2.9 80 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n" \
	" real_server 192.0.2.19 80 {\n }\n}\n"
#define RS(ip, w) " real_server " ip " 80 {\n  weight " #w "\n }\n"

Test(kaconf, diff_touches_only_what_changed)
{
	char dir[32];
	struct xvs_ctl_model *m = model_of(SVC_A RS("192.0.2.11", 1) RS("192.0.2.12", 1)
					   RS("192.0.2.13", 1) "}\n" SVC_B, dir);
	struct xvs_ctl_dest_cfg key;
	xvs_ctl_dest_cfg_default(&key);
	key.addr = ip4("192.0.2.11");
	key.port = 80;
	int svc = xvs_ctl_model_find_svc(m, &m->svcs[m->svc_order[0]].cfg);
	int d11 = xvs_ctl_model_find_dest(m, (unsigned)svc, &key);
	uint32_t epoch = m->svcs[svc].sched_epoch;
	cr_assert_geq(d11, 0);

	/* the same file: nothing to do */
	struct xvs_kaconf *c = load_text(SVC_A RS("192.0.2.11", 1) RS("192.0.2.12", 1)
					 RS("192.0.2.13", 1) "}\n" SVC_B, dir);
	struct xvs_ctl_op *ops;
	const char **where;
	unsigned nb;
	cr_assert_eq(xvs_kaconf_diff(m, c, &ops, &where, &nb), 0);
	cr_expect_eq(nb, 0);
	free(ops);
	free(where);
	xvs_kaconf_free(c);

	/* .12 gone, .13 weight 3, .14 new, service B gone, service C new */
	c = load_text(SVC_A RS("192.0.2.11", 1) RS("192.0.2.13", 3) RS("192.0.2.14", 1) "}\n"
		      "virtual_server 192.0.2.8 80 {\n lb_algo wlc\n lb_kind DR\n protocol TCP\n"
		      RS("192.0.2.18", 1) "}\n", dir);
	cr_assert_eq(xvs_kaconf_diff(m, c, &ops, &where, &nb), 0);
	static const enum xvs_ctl_op_type want[] = {XVS_CTL_OP_DEL_SVC, XVS_CTL_OP_DEL_DEST,
		XVS_CTL_OP_EDIT_DEST, XVS_CTL_OP_ADD_DEST, XVS_CTL_OP_ADD_SVC, XVS_CTL_OP_ADD_DEST};
	cr_assert_eq(nb, 6);
	for (unsigned i = 0; i < nb; i++)
		cr_expect_eq(ops[i].type, want[i], "op %u", i);
	expect_ip(&ops[1].dest.addr, ip4("192.0.2.12"));
	expect_ip(&ops[2].dest.addr, ip4("192.0.2.13"));
	cr_expect_eq(ops[2].dest.weight, 3);
	cr_expect_null(where[0]);
	cr_expect(strstr(where[3], "t.conf:"), "the line of .14: %s", where[3]);
	struct xvs_ctl_err e;
	cr_assert_eq(xvs_ctl_model_apply(m, ops, nb, &e), 0, "%s", e.msg);
	cr_expect_eq(xvs_ctl_model_find_dest(m, (unsigned)svc, &key), d11,
		     "the unchanged server keeps its slot");
	cr_expect_neq(m->svcs[svc].sched_epoch, epoch);
	cr_expect_eq(m->nb_svc_order, 2);
	free(ops);
	free(where);

	/* applied, the same file again is no change */
	cr_assert_eq(xvs_kaconf_diff(m, c, &ops, &where, &nb), 0);
	cr_expect_eq(nb, 0);
	free(ops);
	free(where);
	xvs_kaconf_free(c);
	xvs_ctl_model_free(m);
}

Test(kaconf, diff_sets_lvs_timeouts)
{
	char dir[32];
	struct xvs_ctl_model *m = xvs_ctl_model_new(NULL);
	struct xvs_kaconf *c = load_text("global_defs {\n lvs_timeouts udp 30\n}\n", dir);
	struct xvs_ctl_op *ops;
	const char **where;
	unsigned nb;
	struct xvs_ctl_err e;
	cr_assert_eq(xvs_kaconf_diff(m, c, &ops, &where, &nb), 0);
	cr_assert_eq(nb, 1);
	cr_expect_eq(ops[0].type, XVS_CTL_OP_SET_TIMEOUTS);
	cr_assert_eq(xvs_ctl_model_apply(m, ops, nb, &e), 0);
	cr_expect_eq(m->timeouts.udp, 30);
	cr_expect_eq(m->timeouts.tcp, 900, "0: unchanged");
	free(ops);
	free(where);
	xvs_kaconf_free(c);
	xvs_ctl_model_free(m);
}
