/*
 * HTTP_GET and SSL_GET probes on libcurl's multi interface, driven by the loop's epoll
 * (CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION). An attempt fetches the check's urls one
 * after the other, each on a fresh connection (keepalived opens one per request) within
 * connect_timeout; every url must answer with an accepted status and, when given, a body
 * whose MD5 is the digest. Bodies are hashed as they arrive and never kept. Loop thread only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "ctl_probe.h"

#define MS 1000000ULL
#define CURL_TAG (1ULL << 63)

/* ---- libcurl on the loop ------------------------------------------------------------- */

static void drain_done(struct hc_loop *l);

static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	(void)e;
	(void)socketp;
	struct hc_loop *l = userp;
	struct epoll_event ev = {.data.u64 = CURL_TAG | (uint32_t)s};
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, s, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, s, &ev) < 0 && errno == ENOENT)
		epoll_ctl(l->epfd, EPOLL_CTL_ADD, s, &ev);
	return 0;
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	(void)m;
	struct hc_loop *l = userp;
	if (timeout_ms < 0)
		hc_timer_disarm(l, &l->curl_timer);
	else
		hc_timer_arm(l, &l->curl_timer, hc_now() + (uint64_t)timeout_ms * MS);
	return 0;
}

static void curl_timer_fire(struct hc_loop *l, struct hc_timer *t)
{
	(void)t;
	int running;
	curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	drain_done(l);
}

void hc_loop_curl_event(struct hc_loop *l, int fd, uint32_t events)
{
	int running, flags = (events & EPOLLIN ? CURL_CSELECT_IN : 0) |
			     (events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
			     (events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
	curl_multi_socket_action(l->multi, fd, flags, &running);
	drain_done(l);
}

void hc_loop_curl_init(struct hc_loop *l)
{
	l->curl_timer.fire = curl_timer_fire;
	curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l);
	curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l);
}

/* ---- one url ------------------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct hc_probe *p = userp;
	size_t n = size * nmemb;
	p->body_len += n;
	if (p->body_len > XVS_HC_HTTP_BODY_MAX) {
		p->body_over = true;
		return 0; /* aborts the transfer */
	}
	if (p->cfg->urls[p->url_i].digest[0])
		xvs_md5_update(&p->md5, data, n);
	return n;
}

static int on_socket(void *userp, curl_socket_t fd, curlsocktype purpose)
{
	(void)purpose;
	const struct hc_probe *p = userp;
	uint32_t mark = p->cfg->fwmark;
	return setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0 ? CURL_SOCKOPT_ERROR
									   : CURL_SOCKOPT_OK;
}

static void host_of(uint8_t af, const union xvs_ip *ip, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	inet_ntop(af == XVS_AF_INET6 ? AF_INET6 : AF_INET, ip->v6, a, sizeof(a));
	snprintf(buf, len, af == XVS_AF_INET6 ? "[%s]" : "%s", a);
}

static void release_easy(struct hc_probe *p)
{
	if (p->easy) {
		curl_multi_remove_handle(p->loop->multi, p->easy);
		curl_easy_cleanup(p->easy);
		p->easy = NULL;
	}
	curl_slist_free_all(p->headers);
	curl_slist_free_all(p->connect_to);
	p->headers = NULL;
	p->connect_to = NULL;
}

/*
 * Where the request goes and what it names. Plain HTTP asks the address itself and sends
 * the virtual host in Host:. HTTPS with a virtual host asks for that name and connects to
 * the address (CURLOPT_CONNECT_TO), so the name is also the TLS server name and what a
 * certificate is verified against.
 */
static int set_target(struct hc_probe *p, const struct xvs_check_url *u, char *url, size_t len)
{
	const struct xvs_check_cfg *c = p->cfg;
	const char *vhost = u->virtualhost[0] ? u->virtualhost : c->virtualhost;
	char host[INET6_ADDRSTRLEN + 2], line[512];
	bool tls = c->type == XVS_CHECK_HTTPS;
	host_of(p->dst_af, &p->dst, host, sizeof(host));
	if (tls && vhost[0]) {
		snprintf(url, len, "https://%s:%u%s", vhost, p->dst_port, u->path);
		snprintf(line, sizeof(line), "%s:%u:%s:%u", vhost, p->dst_port, host, p->dst_port);
		p->connect_to = curl_slist_append(NULL, line);
		p->headers = curl_slist_append(NULL, "Connection: close");
		if (!p->connect_to || !p->headers)
			return -ENOMEM;
		curl_easy_setopt(p->easy, CURLOPT_CONNECT_TO, p->connect_to);
		return 0;
	}
	snprintf(url, len, "%s://%s:%u%s", tls ? "https" : "http", host, p->dst_port, u->path);
	if (vhost[0]) {
		snprintf(line, sizeof(line), "Host: %s", vhost);
		p->headers = curl_slist_append(p->headers, line);
	}
	p->headers = curl_slist_append(p->headers, "Connection: close");
	return p->headers ? 0 : -ENOMEM;
}

static void set_binding(struct hc_probe *p)
{
	const struct xvs_check_cfg *c = p->cfg;
	char host[INET6_ADDRSTRLEN], iface[INET6_ADDRSTRLEN + 8];
	if (c->bind_af) {
		inet_ntop(c->bind_af == XVS_AF_INET6 ? AF_INET6 : AF_INET, c->bind_ip.v6, host,
			  sizeof(host));
		snprintf(iface, sizeof(iface), "host!%s", host);
		curl_easy_setopt(p->easy, CURLOPT_INTERFACE, iface); /* copied by libcurl */
	}
	if (c->bind_port)
		curl_easy_setopt(p->easy, CURLOPT_LOCALPORT, (long)c->bind_port);
	if (c->fwmark) {
		curl_easy_setopt(p->easy, CURLOPT_SOCKOPTFUNCTION, on_socket);
		curl_easy_setopt(p->easy, CURLOPT_SOCKOPTDATA, p);
	}
}

static void url_start(struct hc_probe *p)
{
	const struct xvs_check_cfg *c = p->cfg;
	const struct xvs_check_url *u = &c->urls[p->url_i];
	char url[XVS_CHECK_PATH_MAX + XVS_CHECK_HOST_MAX + 64];
	long ms = (long)c->connect_timeout_ms;
	p->easy = curl_easy_init();
	if (!p->easy || set_target(p, u, url, sizeof(url)) < 0)
		return hc_probe_finish(p, false, 0, "out of memory");
	xvs_md5_init(&p->md5);
	p->body_len = 0;
	p->body_over = false;
	p->errbuf[0] = '\0';
	CURL *e = p->easy;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, p);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, p);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, p->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ms);
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(e, CURLOPT_PROXY, ""); /* never a proxy from the environment */
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, c->http_1_1 ? (long)CURL_HTTP_VERSION_1_1
							       : (long)CURL_HTTP_VERSION_1_0);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "xvs-control health check");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, p->headers);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->ssl_verify ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->ssl_verify ? 2L : 0L);
	set_binding(p);
	/* a safety net over libcurl's own timeout */
	hc_timer_arm(p->loop, &p->deadline, hc_now() + (uint64_t)(ms + 1000) * MS);
	if (curl_multi_add_handle(p->loop->multi, e) != CURLM_OK)
		hc_probe_finish(p, false, 0, "libcurl refused the request");
}

/* One url ended with res: judge it, then go on to the next url or end the attempt. */
static void url_done(struct hc_probe *p, CURLcode res)
{
	const struct xvs_check_cfg *c = p->cfg;
	const struct xvs_check_url *u = &c->urls[p->url_i];
	long code = 0;
	char hex[33], want[XVS_CHECK_STATUS_TEXT];
	curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &code);
	release_easy(p);
	if (p->body_over)
		return hc_probe_finish(p, false, 0, "%s: body over %u bytes", u->path,
				       XVS_HC_HTTP_BODY_MAX);
	if (res != CURLE_OK)
		return hc_probe_finish(p, false, 0, "%s: %s", u->path,
				       p->errbuf[0] ? p->errbuf : curl_easy_strerror(res));
	if (!xvs_check_url_status_ok(u, code)) {
		xvs_check_url_status_format(u, want, sizeof(want));
		return hc_probe_finish(p, false, 0, "%s: HTTP status %ld (want %s)", u->path, code,
				       want[0] ? want : "200-299");
	}
	if (u->digest[0]) {
		xvs_md5_hex(&p->md5, hex);
		if (strcmp(hex, u->digest) != 0)
			return hc_probe_finish(p, false, 0, "%s: MD5 digest %s (want %s)", u->path,
					       hex, u->digest);
	}
	if (++p->url_i < c->nb_urls)
		return url_start(p);
	if (c->nb_urls > 1)
		hc_probe_finish(p, true, 0, "HTTP %ld, all %u urls passed", code, c->nb_urls);
	else
		hc_probe_finish(p, true, 0, "%s: HTTP %ld", u->path, code);
}

static void drain_done(struct hc_loop *l)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(l->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct hc_probe *p = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&p);
		if (p && p->running && p->easy == msg->easy_handle)
			url_done(p, msg->data.result);
	}
}

void hc_probe_http_start(struct hc_probe *p)
{
	p->url_i = 0;
	p->headers = NULL;
	p->connect_to = NULL;
	if (p->cfg->nb_urls == 0)
		return hc_probe_finish(p, false, 0, "no url");
	url_start(p);
}

void hc_probe_http_abort(struct hc_probe *p)
{
	release_easy(p);
}
