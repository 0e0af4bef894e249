/*
 * Unit tests of the health checks' I/O against servers on the loopback: each checker type
 * on one attempt (xvs_health_probe_once), then the engine's threads: verdicts reach the
 * applier, and a target that hangs does not slow another check down.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl_health.h"
#include "ctl_json.h"
#include "xvs/shm.h"

/* ---- servers on 127.0.0.1 ------------------------------------------------------------ */

struct srv {
	int fd;
	uint16_t port;
	int type; /* SOCK_STREAM (HTTP) or SOCK_DGRAM */
	int mode;
	pthread_t tid;
	volatile int stop;
	char req[2048];     /* the last HTTP request's head */
	volatile int nb;    /* requests or datagrams seen */
};

enum { UDP_ECHO, UDP_SILENT, DNS_GOOD, DNS_RCODE, DNS_FLOOD };

static int listen_on(int type, uint16_t *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	int one = 1;
	cr_assert_geq(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (type == SOCK_STREAM)
		cr_assert_eq(listen(fd, 16), 0);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* A port nothing listens on (bound, then closed). */
static uint16_t closed_port(int type)
{
	uint16_t port;
	close(listen_on(type, &port));
	return port;
}

static void respond(struct srv *s, int c, const char *path)
{
	char head[256];
	if (strcmp(path, "/hang") == 0) {
		while (!s->stop)
			usleep(10000);
		return;
	}
	if (strcmp(path, "/flood") == 0) {
		static char chunk[65536];
		const char *h = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n";
		send(c, h, strlen(h), MSG_NOSIGNAL);
		for (unsigned i = 0; i < 9 * 16 && !s->stop; i++)
			if (send(c, chunk, sizeof(chunk), MSG_NOSIGNAL) < 0)
				break;
		return;
	}
	int code = strcmp(path, "/ok") == 0 ? 200 : strcmp(path, "/fail") == 0 ? 503 : 404;
	const char *body = code == 200 ? "hello\n" : "no\n";
	snprintf(head, sizeof(head), "HTTP/1.0 %d X\r\nContent-Length: %zu\r\n\r\n%s", code,
		 strlen(body), body);
	send(c, head, strlen(head), MSG_NOSIGNAL);
}

static void http_conn(struct srv *s, int c)
{
	char buf[2048], path[256] = "";
	size_t n = 0;
	struct timeval tv = {.tv_sec = 2};
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (n < sizeof(buf) - 1) {
		ssize_t r = recv(c, buf + n, sizeof(buf) - 1 - n, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
		buf[n] = '\0';
		if (strstr(buf, "\r\n\r\n"))
			break;
	}
	buf[n] = '\0';
	memcpy(s->req, buf, n + 1);
	sscanf(buf, "GET %255s", path);
	s->nb++;
	respond(s, c, path);
}

static void dns_reply(struct srv *s, const uint8_t *q, size_t n, struct sockaddr *from,
		      socklen_t flen)
{
	uint8_t r[512];
	memcpy(r, q, n);
	r[2] = 0x81;
	r[3] = s->mode == DNS_RCODE ? 0x82 : 0x80;
	if (s->mode == DNS_FLOOD || s->mode == DNS_GOOD) {
		r[0] ^= 0xff; /* another query's id first */
		for (int i = 0; i < (s->mode == DNS_FLOOD ? 2000 : 1); i++)
			sendto(s->fd, r, n, 0, from, flen);
		r[0] ^= 0xff;
		if (s->mode == DNS_FLOOD)
			return;
	}
	sendto(s->fd, r, n, 0, from, flen);
}

static void *srv_main(void *arg)
{
	struct srv *s = arg;
	while (!s->stop) {
		struct pollfd p = {.fd = s->fd, .events = POLLIN};
		if (poll(&p, 1, 20) <= 0)
			continue;
		if (s->type == SOCK_STREAM) {
			int c = accept(s->fd, NULL, NULL);
			if (c >= 0) {
				http_conn(s, c);
				close(c);
			}
			continue;
		}
		uint8_t buf[512];
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(s->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
		if (n < 0)
			continue;
		s->nb++;
		if (s->mode == UDP_ECHO)
			sendto(s->fd, buf, (size_t)n, 0, (struct sockaddr *)&from, flen);
		else if (s->mode >= DNS_GOOD)
			dns_reply(s, buf, (size_t)n, (struct sockaddr *)&from, flen);
	}
	return NULL;
}

static struct srv *srv_start(int type, int mode)
{
	struct srv *s = calloc(1, sizeof(*s));
	cr_assert_not_null(s);
	s->type = type;
	s->mode = mode;
	s->fd = listen_on(type, &s->port);
	cr_assert_eq(pthread_create(&s->tid, NULL, srv_main, s), 0);
	return s;
}

static void srv_stop(struct srv *s)
{
	s->stop = 1;
	pthread_join(s->tid, NULL);
	close(s->fd);
	free(s);
}

/* ---- one attempt --------------------------------------------------------------------- */

static const union xvs_ip loopback = {.v4 = 0x0100007f};

struct outcome {
	bool ok;
	int code;
	char text[160];
	double secs;
};

static double now_s(void)
{
	return (double)xvs_now_ns() / 1e9;
}

static struct outcome probe(const struct xvs_check_cfg *c, uint16_t port)
{
	struct outcome o = {0};
	double t0 = now_s();
	cr_assert_eq(xvs_health_probe_once(c, XVS_AF_INET, &loopback, port, 1000, &o.ok, &o.code,
					   o.text, sizeof(o.text)), 0);
	o.secs = now_s() - t0;
	return o;
}

static struct xvs_check_cfg http(const char *path, uint32_t timeout_ms)
{
	struct xvs_check_cfg c;
	xvs_check_cfg_default(&c, XVS_CHECK_HTTP);
	c.connect_timeout_ms = timeout_ms;
	c.nb_urls = 1;
	snprintf(c.urls[0].path, sizeof(c.urls[0].path), "%s", path);
	return c;
}

Test(probe, tcp_connect)
{
	struct xvs_check_cfg c;
	uint16_t port;
	int fd = listen_on(SOCK_STREAM, &port);
	xvs_check_cfg_default(&c, XVS_CHECK_TCP);
	struct outcome o = probe(&c, port);
	cr_expect(o.ok, "%s", o.text);
	cr_expect_str_eq(o.text, "connected");
	close(fd);
	o = probe(&c, closed_port(SOCK_STREAM));
	cr_expect(!o.ok);
	cr_expect_str_eq(o.text, "connect: Connection refused");
	c.connect_port = port; /* connect_port wins over the server's port */
	fd = listen_on(SOCK_STREAM, &port);
	c.connect_port = port;
	o = probe(&c, closed_port(SOCK_STREAM));
	cr_expect(o.ok, "%s", o.text);
	close(fd);
}

Test(probe, http_status_digest_vhost_urls)
{
	struct srv *s = srv_start(SOCK_STREAM, 0);
	struct xvs_check_cfg c = http("/ok", 2000);
	struct outcome o = probe(&c, s->port);
	cr_expect(o.ok, "%s", o.text);
	cr_expect_str_eq(o.text, "/ok: HTTP 200");
	cr_expect(strstr(s->req, "GET /ok HTTP/1.0\r\n"), "%s", s->req);

	c = http("/fail", 2000);
	o = probe(&c, s->port);
	cr_expect(!o.ok);
	cr_expect_str_eq(o.text, "/fail: HTTP status 503 (want 200-299)");
	c.urls[0].status_lo = 500;
	c.urls[0].status_hi = 503;
	o = probe(&c, s->port);
	cr_expect(o.ok, "%s", o.text);

	c = http("/ok", 2000);
	snprintf(c.urls[0].digest, sizeof(c.urls[0].digest), "b1946ac92492d2347c6235b4d2611184");
	o = probe(&c, s->port);
	cr_expect(o.ok, "md5(\"hello\\n\"): %s", o.text);
	c.urls[0].digest[0] = 'c';
	o = probe(&c, s->port);
	cr_expect(!o.ok);
	cr_expect(strstr(o.text, "MD5 digest b1946ac92492d2347c6235b4d2611184"), "%s", o.text);

	c = http("/ok", 2000);
	c.http_1_1 = true;
	snprintf(c.virtualhost, sizeof(c.virtualhost), "www.example.test");
	o = probe(&c, s->port);
	cr_expect(o.ok, "%s", o.text);
	cr_expect(strstr(s->req, "GET /ok HTTP/1.1\r\n"), "%s", s->req);
	cr_expect(strstr(s->req, "\r\nHost: www.example.test\r\n"), "%s", s->req);

	c = http("/ok", 2000);
	c.nb_urls = 3;
	snprintf(c.urls[1].path, sizeof(c.urls[1].path), "/ok");
	snprintf(c.urls[2].path, sizeof(c.urls[2].path), "/missing");
	int before = s->nb;
	o = probe(&c, s->port);
	cr_expect(!o.ok, "every url must pass");
	cr_expect_str_eq(o.text, "/missing: HTTP status 404 (want 200-299)");
	cr_expect_eq(s->nb - before, 3);
	c.urls[2].status_lo = c.urls[2].status_hi = 404;
	o = probe(&c, s->port);
	cr_expect(o.ok, "%s", o.text);
	cr_expect_str_eq(o.text, "HTTP 404, all 3 urls passed");
	srv_stop(s);
}

Test(probe, http_hanging_and_flooding_servers_fail_in_time)
{
	struct srv *s = srv_start(SOCK_STREAM, 0);
	struct xvs_check_cfg c = http("/hang", 300);
	struct outcome o = probe(&c, s->port);
	cr_expect(!o.ok);
	cr_expect(strstr(o.text, "/hang: Operation timed out"), "%s", o.text);
	cr_expect_lt(o.secs, 1.0, "took %.2f s", o.secs);
	s->stop = 1; /* frees the hanging connection */
	srv_stop(s);
	s = srv_start(SOCK_STREAM, 0);
	c = http("/flood", 5000);
	o = probe(&c, s->port);
	cr_expect(!o.ok);
	cr_expect(strstr(o.text, "body over"), "%s", o.text);
	srv_stop(s);
	c = http("/ok", 1000);
	o = probe(&c, closed_port(SOCK_STREAM));
	cr_expect(!o.ok);
	cr_expect(strstr(o.text, "/ok: Failed to connect"), "%s", o.text);
}

/* SSL_GET against `openssl s_server -www` (it answers any GET with a status page, 200). */
Test(probe, https)
{
	char dir[] = "/tmp/xvs-hc-tls.XXXXXX", cmd[512], cert[128], key[128], port_s[16];
	if (access("/usr/bin/openssl", X_OK) != 0)
		cr_skip_test("openssl(1) is not installed (scripts/install-deps.sh installs it)");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(cert, sizeof(cert), "%s/c.pem", dir);
	snprintf(key, sizeof(key), "%s/k.pem", dir);
	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
		 "-nodes -subj /CN=www.example.test -days 2 -keyout %s -out %s >/dev/null 2>&1",
		 key, cert);
	cr_assert_eq(system(cmd), 0, "cannot make a certificate");
	uint16_t port = closed_port(SOCK_STREAM);
	snprintf(port_s, sizeof(port_s), "127.0.0.1:%u", port);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execl("/usr/bin/openssl", "openssl", "s_server", "-accept", port_s, "-cert", cert,
		      "-key", key, "-www", "-quiet", (char *)NULL);
		_exit(127);
	}
	struct xvs_check_cfg c;
	xvs_check_cfg_default(&c, XVS_CHECK_TCP);
	c.connect_timeout_ms = 200;
	struct outcome o = {0};
	for (int i = 0; i < 50 && !o.ok; i++, usleep(50000))
		o = probe(&c, port);
	cr_assert(o.ok, "s_server does not listen on %u", port);

	c = http("/", 3000);
	c.type = XVS_CHECK_HTTPS;
	o = probe(&c, port);
	cr_expect(o.ok, "%s", o.text);
	cr_expect_str_eq(o.text, "/: HTTP 200");
	snprintf(c.virtualhost, sizeof(c.virtualhost), "www.example.test");
	o = probe(&c, port);
	cr_expect(o.ok, "by name, not verified: %s", o.text);
	c.ssl_verify = true;
	o = probe(&c, port);
	cr_expect(!o.ok, "a self-signed certificate does not verify");
	cr_expect(strstr(o.text, "certificate"), "%s", o.text);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	unlink(cert);
	unlink(key);
	rmdir(dir);
}

Test(probe, udp)
{
	struct srv *echo = srv_start(SOCK_DGRAM, UDP_ECHO), *silent = srv_start(SOCK_DGRAM, UDP_SILENT);
	struct xvs_check_cfg c;
	xvs_check_cfg_default(&c, XVS_CHECK_UDP);
	c.connect_timeout_ms = 300;
	memcpy(c.payload, "ping", 4);
	c.payload_len = 4;
	c.require_reply = true;
	struct outcome o = probe(&c, echo->port);
	cr_expect(o.ok, "%s", o.text);
	cr_expect_str_eq(o.text, "reply of 4 bytes");
	o = probe(&c, silent->port);
	cr_expect(!o.ok);
	cr_expect_str_eq(o.text, "no reply in 300 ms");
	c.require_reply = false;
	o = probe(&c, silent->port);
	cr_expect(o.ok, "no reply and no ICMP error is a pass without require_reply");
	o = probe(&c, closed_port(SOCK_DGRAM));
	cr_expect(!o.ok);
	cr_expect_str_eq(o.text, "port unreachable");
	srv_stop(echo);
	srv_stop(silent);
}

Test(probe, dns)
{
	struct srv *good = srv_start(SOCK_DGRAM, DNS_GOOD), *rcode = srv_start(SOCK_DGRAM, DNS_RCODE);
	struct srv *flood = srv_start(SOCK_DGRAM, DNS_FLOOD);
	struct xvs_check_cfg c;
	xvs_check_cfg_default(&c, XVS_CHECK_DNS);
	c.connect_timeout_ms = 500;
	snprintf(c.dns_name, sizeof(c.dns_name), "www.example.test");
	c.dns_type = 1;
	struct outcome o = probe(&c, good->port);
	cr_expect(o.ok, "another id first, then ours: %s", o.text);
	o = probe(&c, rcode->port);
	cr_expect(!o.ok);
	cr_expect_str_eq(o.text, "DNS answer with RCODE 2");
	o = probe(&c, flood->port);
	cr_expect(!o.ok);
	cr_expect_str_eq(o.text, "no DNS answer in 500 ms");
	cr_expect_lt(o.secs, 1.5, "a flood of foreign answers took %.2f s", o.secs);
	srv_stop(good);
	srv_stop(rcode);
	srv_stop(flood);
}

Test(probe, icmp_echo)
{
	struct xvs_check_cfg c;
	xvs_check_cfg_default(&c, XVS_CHECK_ICMP);
	c.connect_timeout_ms = 1000;
	struct outcome o = probe(&c, 0);
	if (!o.ok && strstr(o.text, "socket:") && geteuid() != 0)
		cr_skip_test("no ping socket for this group and no raw socket without root: %s", o.text);
	cr_expect(o.ok, "%s", o.text);
	cr_expect_str_eq(o.text, "echo reply");
}

static struct xvs_check_cfg script(const char *cmd, bool dynamic, uint32_t timeout_ms)
{
	struct xvs_check_cfg c;
	xvs_check_cfg_default(&c, XVS_CHECK_SCRIPT);
	snprintf(c.script, sizeof(c.script), "%s", cmd);
	c.misc_dynamic = dynamic;
	c.script_timeout_ms = timeout_ms;
	return c;
}

/* Whether pid is gone (or a zombie: dead, waiting for whoever adopted it). */
static bool gone(pid_t pid)
{
	char path[64], st[256] = "";
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return true;
	bool z = fgets(st, sizeof(st), f) && strstr(st, ") Z ");
	fclose(f);
	return z;
}

Test(probe, script_exit_codes_and_dynamic_weight)
{
	struct xvs_check_cfg c = script("exit 0", false, 0);
	struct outcome o = probe(&c, 0);
	cr_expect(o.ok);
	c = script("exit 1", true, 0);
	o = probe(&c, 0);
	cr_expect(!o.ok);
	cr_expect_str_eq(o.text, "exit 1");
	c = script("exit 7", true, 0);
	o = probe(&c, 0);
	cr_expect(o.ok);
	cr_expect_eq(o.code, 7);
	cr_expect_str_eq(o.text, "exit 7: weight 5");
	c = script("exit 7", false, 0);
	o = probe(&c, 0);
	cr_expect(!o.ok, "without misc_dynamic any non-zero exit fails");
	c = script("[ \"$XVS_EVENT\" = check ] && [ ! -t 0 ] && read x </dev/stdin; [ -z \"$x\" ]",
		   false, 0);
	o = probe(&c, 0);
	cr_expect(o.ok, "environment and stdin: %s", o.text);
}

Test(probe, script_timeout_kills_the_whole_group)
{
	char dir[] = "/tmp/xvs-hc-test.XXXXXX", cmd[256], path[128];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bg", dir);
	snprintf(cmd, sizeof(cmd), "sleep 30 & echo $! > %s; sleep 30", path);
	struct xvs_check_cfg c = script(cmd, false, 300);
	struct outcome o = probe(&c, 0);
	cr_expect(!o.ok);
	cr_expect_str_eq(o.text, "timed out after 300 ms (killed)");
	cr_expect_lt(o.secs, 1.5, "took %.2f s", o.secs);
	FILE *f = fopen(path, "r");
	int pid = 0;
	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "%d", &pid), 1);
	fclose(f);
	bool dead = false;
	for (int i = 0; i < 100 && !(dead = gone(pid)); i++)
		usleep(20000);
	cr_expect(dead, "the script's background child %d survived", pid);
	unlink(path);
	rmdir(dir);
}

Test(probe, script_runs_as_its_user)
{
	char dir[] = "/tmp/xvs-hc-test.XXXXXX", cmd[256];
	if (geteuid() != 0)
		cr_skip_test("switching users needs root");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "[ \"$(id -u)\" = 65534 ]");
	struct xvs_check_cfg c = script(cmd, false, 0);
	snprintf(c.user, sizeof(c.user), "nobody");
	struct outcome o = probe(&c, 0);
	cr_expect(o.ok, "%s", o.text);
	rmdir(dir);
}

/* ---- the engine's threads ------------------------------------------------------------ */

struct collected {
	pthread_mutex_t mu;
	unsigned nb;
	struct xvs_ctl_health_result r[64];
};

static int collect(void *arg, const struct xvs_ctl_health_result *r, unsigned nb)
{
	struct collected *c = arg;
	pthread_mutex_lock(&c->mu);
	for (unsigned i = 0; i < nb && c->nb < 64; i++)
		c->r[c->nb++] = r[i];
	pthread_mutex_unlock(&c->mu);
	return 0;
}

static void run_ok(struct xvs_ctl_model *m, const char *json)
{
	struct xvs_ctl_op *ops;
	unsigned nb;
	struct xvs_ctl_err err;
	cr_assert_eq(xvs_ctl_json_parse_ops(json, strlen(json), &ops, &nb, &err), 0, "%s", err.msg);
	cr_assert_eq(xvs_ctl_model_apply(m, ops, nb, &err), 0, "%s", err.msg);
	xvs_ctl_ops_free(ops, nb);
}

#define SVC "\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.100\",\"port\":80}"

static int slot_of_port(const struct xvs_ctl_model *m, uint16_t port)
{
	for (unsigned i = 0; i < m->nb_dest_order; i++)
		if (m->dests[m->dest_order[i]].cfg.port == port)
			return m->dest_order[i];
	return -1;
}

Test(engine, verdicts_reach_the_applier_and_a_hanging_target_delays_no_other)
{
	struct collected col = {.mu = PTHREAD_MUTEX_INITIALIZER};
	char msg[256], json[2048];
	uint16_t tport;
	int lfd = listen_on(SOCK_STREAM, &tport);
	struct srv *hang = srv_start(SOCK_STREAM, 0);
	struct xvs_health *h = xvs_health_start(collect, &col, msg, sizeof(msg));
	cr_assert_not_null(h, "%s", msg);
	struct xvs_ctl_model *m = xvs_ctl_model_new(NULL);
	snprintf(json, sizeof(json),
		 "{\"ops\":[{\"op\":\"add-service\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.100\",\"port\":80}},"
		 "{\"op\":\"add-dest\"," SVC ",\"dest\":{\"addr\":\"127.0.0.1\",\"port\":%u,\"fwd\":\"masq\"}},"
		 "{\"op\":\"add-dest\"," SVC ",\"dest\":{\"addr\":\"127.0.0.1\",\"port\":%u,\"fwd\":\"masq\"}},"
		 "{\"op\":\"set-dest-health\"," SVC ",\"dest\":{\"addr\":\"127.0.0.1\",\"port\":%u},"
		 "\"health\":{\"interval_ms\":50,\"checks\":[{\"type\":\"TCP_CHECK\",\"connect_timeout_ms\":500,"
		 "\"retry\":0}]}},"
		 "{\"op\":\"set-dest-health\"," SVC ",\"dest\":{\"addr\":\"127.0.0.1\",\"port\":%u},"
		 "\"health\":{\"interval_ms\":50,\"checks\":[{\"type\":\"HTTP_GET\",\"connect_timeout_ms\":5000,"
		 "\"urls\":[{\"path\":\"/hang\"}]}]}}]}", tport, hang->port, tport, hang->port);
	run_ok(m, json);
	int ts = slot_of_port(m, tport);
	uint32_t epoch = m->dests[ts].hc_epoch;
	cr_assert_eq(xvs_health_sync(h, m), 0);

	/* the TCP checker keeps its 50 ms pace while the HTTP one waits on a hung server */
	struct xvs_health_status st = {0};
	double t0 = now_s();
	while (now_s() - t0 < 3 && (!xvs_health_get_status(h, (unsigned)ts, epoch, &st) ||
				    st.c[0].nb_ok < 10))
		usleep(10000);
	cr_expect_geq(st.c[0].nb_ok, 10, "%u TCP checks in %.2f s", st.c[0].nb_ok, now_s() - t0);
	cr_expect_lt(now_s() - t0, 1.5, "10 TCP checks at 50 ms took %.2f s", now_s() - t0);
	cr_expect(st.c[0].known && st.c[0].up);
	cr_expect_str_eq(st.c[0].last, "connected");
	cr_expect(!xvs_health_get_status(h, (unsigned)ts, epoch + 100, &st), "another epoch: none");

	close(lfd); /* the TCP server goes away: a down verdict */
	bool down = false;
	t0 = now_s();
	while (now_s() - t0 < 3 && !down) {
		pthread_mutex_lock(&col.mu);
		for (unsigned i = 0; i < col.nb; i++)
			down |= col.r[i].slot == ts && !col.r[i].alive && col.r[i].epoch == epoch;
		pthread_mutex_unlock(&col.mu);
		usleep(10000);
	}
	cr_expect(down, "no down verdict in 3 s");
	pthread_mutex_lock(&col.mu);
	cr_expect(strstr(col.r[col.nb - 1].why, "TCP_CHECK: connect: Connection refused"), "%s",
		  col.r[col.nb - 1].why);
	pthread_mutex_unlock(&col.mu);
	xvs_health_stop(h);
	hang->stop = 1;
	srv_stop(hang);
	xvs_ctl_model_free(m);
}
