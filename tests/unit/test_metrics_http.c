/*
 * Unit tests of the /metrics listener on loopback: what a scrape answers, methods and paths,
 * and that a scrape answers within the lock bound while the daemon's lock is held (as during
 * a configuration change that waits for the dataplane), repeating its last snapshot.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl_json.h"
#include "ctl_metrics.h"
#include "ctl_metrics_http.h"

struct body {
	char *p;
	size_t len;
};

static size_t take(char *data, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	char *p = realloc(b->p, b->len + size * n + 1);
	cr_assert_not_null(p);
	memcpy(p + b->len, data, size * n);
	b->len += size * n;
	p[b->len] = '\0';
	b->p = p;
	return size * n;
}

/* GET (or another method) url: the status, the body in *out (malloc'd), the time in ms. */
static long get(const char *url, const char *method, char **out, long *ms)
{
	struct body b = {0};
	long code = 0;
	double secs = 0;
	CURL *c = curl_easy_init();
	cr_assert_not_null(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, take);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (method)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	cr_assert_eq(curl_easy_perform(c), CURLE_OK, "%s", url);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &secs);
	curl_easy_cleanup(c);
	if (ms)
		*ms = (long)(secs * 1000);
	if (out)
		*out = b.p ? b.p : strdup("");
	else
		free(b.p);
	return code;
}

/* A loopback port nobody listens on now. */
static unsigned free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static void add_service(struct xvs_ctl_model *m, unsigned port)
{
	char json[256];
	struct xvs_ctl_op *ops;
	unsigned nb;
	struct xvs_ctl_err err;
	snprintf(json, sizeof(json), "{\"ops\":[{\"op\":\"add-service\",\"service\":{\"proto\":\"tcp\","
		 "\"addr\":\"198.18.0.100\",\"port\":%u,\"sched\":\"rr\"}}]}", port);
	cr_assert_eq(xvs_ctl_json_parse_ops(json, strlen(json), &ops, &nb, &err), 0);
	cr_assert_eq(xvs_ctl_model_apply(m, ops, nb, &err), 0, "%s", err.msg);
	xvs_ctl_ops_free(ops, nb);
}

Test(metrics_http, scrape_and_lock_bound)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct xvs_ctl ctl = {0};
	char spec[32], url[64], *text;
	long ms;
	ctl.model = xvs_ctl_model_new(NULL);
	cr_assert_not_null(ctl.model);
	add_service(ctl.model, 80);

	struct xvs_metrics_server *srv = NULL;
	char msg[256];
	for (int tries = 0; !srv && tries < 5; tries++) {
		snprintf(spec, sizeof(spec), "127.0.0.1:%u", free_port());
		srv = xvs_metrics_server_start(spec, &ctl, &lock, msg, sizeof(msg));
	}
	cr_assert_not_null(srv, "%s", msg);
	snprintf(url, sizeof(url), "http://%s/metrics", spec);

	cr_assert_eq(get(url, NULL, &text, NULL), 200);
	cr_assert_not_null(strstr(text, "\nxvs_metrics_stale 0\n"));
	cr_assert_not_null(strstr(text, "xvs_service_info{service=\"TCP 198.18.0.100:80\""));
	cr_assert_not_null(strstr(text, "\nxvs_dataplane_up 0\n"));
	free(text);

	/* the lock held: the answer comes after the bound, from the last snapshot */
	pthread_mutex_lock(&lock);
	add_service(ctl.model, 81);
	cr_assert_eq(get(url, NULL, &text, &ms), 200);
	cr_assert_geq(ms, (long)XVS_METRICS_LOCK_MS - 100);
	cr_assert_lt(ms, (long)XVS_METRICS_LOCK_MS + 1500);
	cr_assert_not_null(strstr(text, "\nxvs_metrics_stale 1\n"), "%s", text);
	cr_assert_not_null(strstr(text, "service=\"TCP 198.18.0.100:80\""));
	cr_assert_null(strstr(text, "service=\"TCP 198.18.0.100:81\""));
	free(text);
	pthread_mutex_unlock(&lock);

	/* free again: a fresh snapshot */
	cr_assert_eq(get(url, NULL, &text, NULL), 200);
	cr_assert_not_null(strstr(text, "\nxvs_metrics_stale 0\n"));
	cr_assert_not_null(strstr(text, "service=\"TCP 198.18.0.100:81\""));
	free(text);

	cr_assert_eq(get(url, "POST", NULL, NULL), 405);
	snprintf(url, sizeof(url), "http://%s/other", spec);
	cr_assert_eq(get(url, NULL, NULL, NULL), 404);

	xvs_metrics_server_stop(srv);
	xvs_ctl_model_free(ctl.model);
}

Test(metrics_http, refusals)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct xvs_ctl ctl = {0};
	char msg[256], spec[32];
	errno = 0;
	cr_assert_null(xvs_metrics_server_start("localhost:9720", &ctl, &lock, msg, sizeof(msg)));
	cr_assert_eq(errno, EINVAL);
	cr_assert_not_null(strstr(msg, "localhost:9720"), "%s", msg);

	/* a port in use: the socket's error, named */
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(fd, 1), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", ntohs(a.sin_port));
	cr_assert_null(xvs_metrics_server_start(spec, &ctl, &lock, msg, sizeof(msg)));
	cr_assert_eq(errno, EADDRINUSE);
	cr_assert_not_null(strstr(msg, "Address already in use"), "%s", msg);
	close(fd);
}
