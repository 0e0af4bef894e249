/*
 * The health engine's event loop (epoll and a timer heap) and the socket probes: TCP
 * connect, UDP, DNS and ICMP echo. HTTP lives in ctl_probe_http.c, scripts in
 * ctl_probe_script.c. Loop thread only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl_probe.h"
#include "xvs/shm.h"

#define MS 1000000ULL
#define READS_PER_WAKEUP 16 /* datagrams read per event: a flood cannot hold the loop */
/* epoll data of a libcurl socket: this bit and the fd (our own watches are pointers) */
#define CURL_TAG (1ULL << 63)

uint64_t hc_now(void)
{
	return xvs_now_ns();
}

/* ---- timers -------------------------------------------------------------------------- */

static void heap_swap(struct hc_loop *l, unsigned a, unsigned b)
{
	struct hc_timer *t = l->heap[a];
	l->heap[a] = l->heap[b];
	l->heap[b] = t;
	l->heap[a]->idx = (int)a;
	l->heap[b]->idx = (int)b;
}

static void heap_up(struct hc_loop *l, unsigned i)
{
	while (i > 0 && l->heap[(i - 1) / 2]->due > l->heap[i]->due) {
		heap_swap(l, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(struct hc_loop *l, unsigned i)
{
	for (;;) {
		unsigned c = 2 * i + 1, m = i;
		if (c < l->nb_heap && l->heap[c]->due < l->heap[m]->due)
			m = c;
		if (c + 1 < l->nb_heap && l->heap[c + 1]->due < l->heap[m]->due)
			m = c + 1;
		if (m == i)
			return;
		heap_swap(l, i, m);
		i = m;
	}
}

void hc_timer_disarm(struct hc_loop *l, struct hc_timer *t)
{
	if (t->idx < 0)
		return;
	unsigned i = (unsigned)t->idx, last = --l->nb_heap;
	t->idx = -1;
	if (i == last)
		return;
	l->heap[i] = l->heap[last];
	l->heap[i]->idx = (int)i;
	heap_down(l, i);
	heap_up(l, i);
}

int hc_timer_arm(struct hc_loop *l, struct hc_timer *t, uint64_t due)
{
	hc_timer_disarm(l, t);
	if (l->nb_heap == l->cap_heap) {
		unsigned cap = l->cap_heap ? 2 * l->cap_heap : 64;
		struct hc_timer **h = realloc(l->heap, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		l->heap = h;
		l->cap_heap = cap;
	}
	t->due = due;
	t->idx = (int)l->nb_heap;
	l->heap[l->nb_heap++] = t;
	heap_up(l, (unsigned)t->idx);
	return 0;
}

/* ---- the loop ------------------------------------------------------------------------ */

int hc_watch_add(struct hc_loop *l, struct hc_watch *w, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};
	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, w->fd, &ev) < 0 ? -errno : 0;
}

void hc_watch_del(struct hc_loop *l, struct hc_watch *w)
{
	if (w->fd >= 0)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

int hc_loop_init(struct hc_loop *l)
{
	memset(l, 0, sizeof(*l));
	l->curl_timer.idx = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -errno;
	l->multi = curl_multi_init();
	if (!l->multi) {
		close(l->epfd);
		return -ENOMEM;
	}
	hc_loop_curl_init(l);
	return 0;
}

void hc_loop_orphan(struct hc_loop *l, pid_t pid)
{
	if (l->nb_orphans == l->cap_orphans) {
		unsigned cap = l->cap_orphans ? 2 * l->cap_orphans : 16;
		pid_t *v = realloc(l->orphans, cap * sizeof(*v));
		if (!v)
			return; /* then it stays a zombie until xvs-control exits */
		l->orphans = v;
		l->cap_orphans = cap;
	}
	l->orphans[l->nb_orphans++] = pid;
}

static void reap_orphans(struct hc_loop *l)
{
	for (unsigned i = 0; i < l->nb_orphans;) {
		if (waitpid(l->orphans[i], NULL, WNOHANG) == 0)
			i++;
		else
			l->orphans[i] = l->orphans[--l->nb_orphans];
	}
}

void hc_loop_fini(struct hc_loop *l)
{
	for (unsigned i = 0; i < l->nb_orphans; i++)
		waitpid(l->orphans[i], NULL, 0); /* all were sent SIGKILL */
	free(l->orphans);
	if (l->multi)
		curl_multi_cleanup(l->multi);
	if (l->epfd >= 0)
		close(l->epfd);
	free(l->heap);
	memset(l, 0, sizeof(*l));
	l->epfd = -1;
}

void hc_loop_curl_event(struct hc_loop *l, int fd, uint32_t events);

void hc_loop_run_once(struct hc_loop *l, int max_wait_ms)
{
	struct epoll_event evs[64];
	uint64_t now = hc_now();
	int wait = max_wait_ms;
	if (l->nb_orphans && wait > 100)
		wait = 100;
	if (l->nb_heap) {
		uint64_t due = l->heap[0]->due;
		uint64_t ms = due <= now ? 0 : (due - now + MS - 1) / MS;
		if (ms < (uint64_t)wait)
			wait = (int)ms;
	}
	int n = epoll_wait(l->epfd, evs, 64, wait);
	for (int i = 0; i < n; i++) {
		if (evs[i].data.u64 & CURL_TAG) {
			hc_loop_curl_event(l, (int)(uint32_t)evs[i].data.u64, evs[i].events);
			continue;
		}
		struct hc_watch *w = evs[i].data.ptr;
		w->on_event(l, w, evs[i].events);
	}
	if (l->nb_orphans)
		reap_orphans(l);
	now = hc_now();
	while (l->nb_heap && l->heap[0]->due <= now) {
		struct hc_timer *t = l->heap[0];
		hc_timer_disarm(l, t);
		t->fire(l, t);
	}
}

/* ---- probes: common ------------------------------------------------------------------ */

static void close_fd(struct hc_probe *p)
{
	if (p->w.fd < 0)
		return;
	hc_watch_del(p->loop, &p->w);
	close(p->w.fd);
	p->w.fd = -1;
}

void hc_probe_finish(struct hc_probe *p, bool ok, int code, const char *fmt, ...)
{
	char text[160];
	va_list ap;
	if (!p->running)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	hc_probe_http_abort(p);
	close_fd(p);
	hc_timer_disarm(p->loop, &p->deadline);
	p->running = false;
	p->done(p, ok, code, text);
}

static socklen_t make_sa(uint8_t af, const union xvs_ip *ip, uint16_t port,
			 struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (af == XVS_AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		if (ip)
			memcpy(&s6->sin6_addr, ip->v6, 16);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	if (ip)
		s4->sin_addr.s_addr = ip->v4;
	return sizeof(*s4);
}

/* A non-blocking socket of the destination's family with the check's mark and binding. */
static int open_sock(struct hc_probe *p, int type, int proto, char *why, size_t len)
{
	const struct xvs_check_cfg *c = p->cfg;
	struct sockaddr_storage ss;
	int fd = socket(p->dst_af == XVS_AF_INET6 ? AF_INET6 : AF_INET,
			type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	if (fd < 0) {
		snprintf(why, len, "socket: %s", strerror(errno));
		return -errno;
	}
	if (c->fwmark && setsockopt(fd, SOL_SOCKET, SO_MARK, &c->fwmark, sizeof(c->fwmark)) < 0) {
		snprintf(why, len, "SO_MARK %u: %s", c->fwmark, strerror(errno));
		goto fail;
	}
	if ((c->bind_af || c->bind_port) &&
	    bind(fd, (struct sockaddr *)&ss, make_sa(p->dst_af, c->bind_af ? &c->bind_ip : NULL,
						     c->bind_port, &ss)) < 0) {
		snprintf(why, len, "bind: %s", strerror(errno));
		goto fail;
	}
	return fd;
fail:;
	int e = errno;
	close(fd);
	return -e;
}

static void on_deadline(struct hc_loop *l, struct hc_timer *t);

/* ---- TCP ----------------------------------------------------------------------------- */

static void tcp_event(struct hc_loop *l, struct hc_watch *w, uint32_t events)
{
	(void)l;
	(void)events;
	struct hc_probe *p = (struct hc_probe *)((char *)w - offsetof(struct hc_probe, w));
	int err = 0;
	socklen_t len = sizeof(err);
	if (!p->running || w->fd < 0)
		return;
	if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err)
		hc_probe_finish(p, false, 0, "connect: %s", strerror(err));
	else
		hc_probe_finish(p, true, 0, "connected");
}

/* Connect w->fd to the destination; 0 when connected, 1 in progress, -errno. */
static int connect_dst(struct hc_probe *p)
{
	struct sockaddr_storage ss;
	socklen_t n = make_sa(p->dst_af, &p->dst, p->dst_port, &ss);
	if (connect(p->w.fd, (struct sockaddr *)&ss, n) == 0)
		return 0;
	return errno == EINPROGRESS ? 1 : -errno;
}

static void tcp_start(struct hc_probe *p)
{
	char why[128];
	p->w.fd = open_sock(p, SOCK_STREAM, 0, why, sizeof(why));
	if (p->w.fd < 0)
		return hc_probe_finish(p, false, 0, "%s", why);
	p->w.on_event = tcp_event;
	int rc = connect_dst(p);
	if (rc == 0)
		return hc_probe_finish(p, true, 0, "connected");
	if (rc < 0)
		return hc_probe_finish(p, false, 0, "connect: %s", strerror(-rc));
	if ((rc = hc_watch_add(p->loop, &p->w, EPOLLOUT)) < 0)
		hc_probe_finish(p, false, 0, "epoll: %s", strerror(-rc));
}

/* ---- UDP and DNS --------------------------------------------------------------------- */

static void udp_event(struct hc_loop *l, struct hc_watch *w, uint32_t events)
{
	(void)l;
	(void)events;
	struct hc_probe *p = (struct hc_probe *)((char *)w - offsetof(struct hc_probe, w));
	uint8_t buf[XVS_DNS_MSG_MAX];
	char why[96];
	for (unsigned i = 0; i < READS_PER_WAKEUP && p->running && w->fd >= 0; i++) {
		ssize_t n = recv(w->fd, buf, sizeof(buf), 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0)
			return hc_probe_finish(p, false, 0, "%s", errno == ECONNREFUSED ?
					       "port unreachable" : strerror(errno));
		if (p->cfg->type == XVS_CHECK_UDP)
			return hc_probe_finish(p, true, 0, "reply of %zd bytes", n);
		switch (xvs_dns_judge(p->query, p->qlen, buf, (size_t)n, why, sizeof(why))) {
		case XVS_DNS_ANSWER:
			return hc_probe_finish(p, true, 0, "DNS answer, RCODE 0");
		case XVS_DNS_BAD:
			return hc_probe_finish(p, false, 0, "DNS %s", why);
		case XVS_DNS_FOREIGN:
			break; /* not ours: go on waiting */
		}
	}
}

static void udp_start(struct hc_probe *p)
{
	char why[128];
	const struct xvs_check_cfg *c = p->cfg;
	const void *msg = c->payload;
	size_t len = c->payload_len;
	if (c->type == XVS_CHECK_DNS) {
		uint16_t id = (uint16_t)(random() & 0xffff);
		int n = xvs_dns_query(p->query, sizeof(p->query), id, c->dns_name, c->dns_type);
		if (n < 0)
			return hc_probe_finish(p, false, 0, "DNS name does not fit a query");
		p->qlen = (size_t)n;
		msg = p->query;
		len = p->qlen;
	}
	p->w.fd = open_sock(p, SOCK_DGRAM, 0, why, sizeof(why));
	if (p->w.fd < 0)
		return hc_probe_finish(p, false, 0, "%s", why);
	p->w.on_event = udp_event;
	int rc = connect_dst(p);
	if (rc < 0)
		return hc_probe_finish(p, false, 0, "connect: %s", strerror(-rc));
	if (send(p->w.fd, msg, len, 0) < 0)
		return hc_probe_finish(p, false, 0, "send: %s", strerror(errno));
	if ((rc = hc_watch_add(p->loop, &p->w, EPOLLIN)) < 0)
		hc_probe_finish(p, false, 0, "epoll: %s", strerror(-rc));
}

/* ---- ICMP echo ----------------------------------------------------------------------- */

static uint16_t inet_csum(const uint8_t *b, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		s += (uint32_t)(b[n - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Whether buf (n bytes, as the socket returned it) is the reply to our echo request. */
static bool icmp_is_reply(const struct hc_probe *p, const uint8_t *buf, size_t n)
{
	bool v6 = p->dst_af == XVS_AF_INET6;
	if (p->icmp_raw && !v6) { /* a raw IPv4 socket hands over the IP header too */
		size_t ihl = n ? (size_t)(buf[0] & 0xf) * 4 : 0;
		if (ihl < 20 || ihl > n)
			return false;
		buf += ihl;
		n -= ihl;
	}
	if (n < 8 || buf[0] != (v6 ? ICMP6_ECHO_REPLY : ICMP_ECHOREPLY) || buf[1] != 0)
		return false;
	if ((uint16_t)(buf[6] << 8 | buf[7]) != p->echo_seq)
		return false;
	/* a ping socket's id is the kernel's; a raw socket sees every echo reply */
	return !p->icmp_raw || (uint16_t)(buf[4] << 8 | buf[5]) == p->echo_id;
}

static void icmp_event(struct hc_loop *l, struct hc_watch *w, uint32_t events)
{
	(void)l;
	(void)events;
	struct hc_probe *p = (struct hc_probe *)((char *)w - offsetof(struct hc_probe, w));
	uint8_t buf[1500];
	for (unsigned i = 0; i < READS_PER_WAKEUP && p->running && w->fd >= 0; i++) {
		ssize_t n = recv(w->fd, buf, sizeof(buf), 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0)
			return hc_probe_finish(p, false, 0, "recv: %s", strerror(errno));
		if (icmp_is_reply(p, buf, (size_t)n))
			return hc_probe_finish(p, true, 0, "echo reply");
	}
}

/* An unprivileged ping socket where the system allows one, else a raw socket. */
static int icmp_socket(struct hc_probe *p, char *why, size_t len)
{
	int proto = p->dst_af == XVS_AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	int fd = open_sock(p, SOCK_DGRAM, proto, why, len);
	p->icmp_raw = false;
	if (fd >= 0 || (fd != -EACCES && fd != -EPERM && fd != -EPROTONOSUPPORT))
		return fd;
	p->icmp_raw = true;
	fd = open_sock(p, SOCK_RAW, proto, why, len);
	if (fd >= 0 && p->dst_af == XVS_AF_INET6) {
		struct icmp6_filter f;
		ICMP6_FILTER_SETBLOCKALL(&f);
		ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
		setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f));
	}
	return fd;
}

static void icmp_start(struct hc_probe *p)
{
	char why[128];
	uint8_t pkt[24] = {0};
	p->w.fd = icmp_socket(p, why, sizeof(why));
	if (p->w.fd < 0)
		return hc_probe_finish(p, false, 0, "%s", why);
	p->w.on_event = icmp_event;
	int rc = connect_dst(p);
	if (rc < 0)
		return hc_probe_finish(p, false, 0, "connect: %s", strerror(-rc));
	p->echo_seq = ++p->loop->echo_seq;
	p->echo_id = (uint16_t)((uintptr_t)p >> 4 ^ (unsigned)getpid());
	pkt[0] = p->dst_af == XVS_AF_INET6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO;
	pkt[4] = (uint8_t)(p->echo_id >> 8);
	pkt[5] = (uint8_t)p->echo_id;
	pkt[6] = (uint8_t)(p->echo_seq >> 8);
	pkt[7] = (uint8_t)p->echo_seq;
	memcpy(pkt + 8, "xvs health check", 16);
	if (p->dst_af != XVS_AF_INET6) { /* the kernel sums ICMPv6 itself */
		uint16_t s = inet_csum(pkt, sizeof(pkt));
		pkt[2] = (uint8_t)(s >> 8);
		pkt[3] = (uint8_t)s;
	}
	if (send(p->w.fd, pkt, sizeof(pkt), 0) < 0)
		return hc_probe_finish(p, false, 0, "send: %s", strerror(errno));
	if ((rc = hc_watch_add(p->loop, &p->w, EPOLLIN)) < 0)
		hc_probe_finish(p, false, 0, "epoll: %s", strerror(-rc));
}

/* ---- start, deadline, abort ---------------------------------------------------------- */

static void on_deadline(struct hc_loop *l, struct hc_timer *t)
{
	(void)l;
	struct hc_probe *p = (struct hc_probe *)((char *)t - offsetof(struct hc_probe, deadline));
	uint32_t ms = p->cfg->connect_timeout_ms;
	switch (p->cfg->type) {
	case XVS_CHECK_TCP:
		return hc_probe_finish(p, false, 0, "connect timeout (%u ms)", ms);
	case XVS_CHECK_UDP:
		if (p->cfg->require_reply)
			return hc_probe_finish(p, false, 0, "no reply in %u ms", ms);
		return hc_probe_finish(p, true, 0, "no reply and no ICMP error in %u ms", ms);
	case XVS_CHECK_DNS:
		return hc_probe_finish(p, false, 0, "no DNS answer in %u ms", ms);
	case XVS_CHECK_ICMP:
		return hc_probe_finish(p, false, 0, "no echo reply in %u ms", ms);
	default:
		return hc_probe_finish(p, false, 0, "no answer in %u ms", ms);
	}
}

void hc_probe_start(struct hc_probe *p)
{
	const struct xvs_check_cfg *c = p->cfg;
	p->running = true;
	p->killed = false;
	p->w.fd = -1;
	p->easy = NULL;
	p->headers = NULL;
	p->connect_to = NULL;
	p->pid = 0;
	p->started = hc_now();
	p->dst_af = c->connect_af ? c->connect_af : p->af;
	p->dst = c->connect_af ? c->connect_ip : p->addr;
	p->dst_port = c->connect_port ? c->connect_port : p->port;
	p->deadline.idx = -1;
	p->deadline.fire = on_deadline;
	if (c->type != XVS_CHECK_HTTP && c->type != XVS_CHECK_HTTPS && c->type != XVS_CHECK_SCRIPT)
		hc_timer_arm(p->loop, &p->deadline, p->started + (uint64_t)c->connect_timeout_ms * MS);
	switch (c->type) {
	case XVS_CHECK_TCP:
		return tcp_start(p);
	case XVS_CHECK_UDP:
	case XVS_CHECK_DNS:
		return udp_start(p);
	case XVS_CHECK_ICMP:
		return icmp_start(p);
	case XVS_CHECK_HTTP:
	case XVS_CHECK_HTTPS:
		return hc_probe_http_start(p);
	case XVS_CHECK_SCRIPT:
		return hc_probe_script_start(p);
	default:
		return hc_probe_finish(p, false, 0, "unknown check type %d", (int)c->type);
	}
}

void hc_probe_abort(struct hc_probe *p)
{
	if (!p->running)
		return;
	hc_probe_http_abort(p);
	hc_probe_script_abort(p);
	close_fd(p);
	hc_timer_disarm(p->loop, &p->deadline);
	p->running = false;
}
