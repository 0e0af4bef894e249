/*
 * GET /metrics over TCP: a second libmicrohttpd daemon, one internal thread, that copies a
 * snapshot under the daemon's lock and renders it after letting go. A scrape never waits on
 * the dataplane (it reads the shared region only) and waits for the lock at most
 * XVS_METRICS_LOCK_MS: past that it repeats its last snapshot, marked stale.
 */
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ctl_bgp.h"
#include "ctl_metrics.h"
#include "ctl_metrics_http.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct xvs_metrics_server {
	struct MHD_Daemon *mhd;
	struct xvs_ctl *ctl;
	pthread_mutex_t *lock;
	struct xvs_metrics_snap last; /* the MHD thread's only: the one thread serves scrapes */
	struct xvs_bgp *bgp;          /* ctl->bgp as last seen under the lock */
};

static enum MHD_Result send_text(struct MHD_Connection *conn, unsigned status, const char *type,
				 char *text, size_t len, const char *allow)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_msg(struct MHD_Connection *conn, unsigned status, const char *msg,
				const char *allow)
{
	char *text = strdup(msg);
	if (!text)
		return MHD_NO;
	return send_text(conn, status, "text/plain; charset=utf-8", text, strlen(text), allow);
}

/* Refresh srv->last when the lock comes within the bound; otherwise keep it, marked stale. */
static void refresh(struct xvs_metrics_server *srv)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += XVS_METRICS_LOCK_MS / 1000;
	until.tv_nsec += (long)(XVS_METRICS_LOCK_MS % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	if (pthread_mutex_clocklock(srv->lock, CLOCK_MONOTONIC, &until) != 0) {
		srv->last.stale = true;
		return;
	}
	struct xvs_metrics_snap fresh;
	int rc = xvs_metrics_capture(srv->ctl, &fresh);
	srv->bgp = srv->ctl->bgp;
	pthread_mutex_unlock(srv->lock);
	if (rc) {
		srv->last.stale = true;
		return;
	}
	xvs_metrics_snap_clear(&srv->last);
	srv->last = fresh;
}

static enum MHD_Result scrape(struct xvs_metrics_server *srv, struct MHD_Connection *conn)
{
	size_t len;
	refresh(srv);
	char *text = xvs_metrics_format(&srv->last, XVS_VERSION, &len);
	if (text && srv->bgp && xvs_bgp_metrics(srv->bgp, &text, &len) < 0) {
		free(text);
		text = NULL;
	}
	if (!text)
		return send_msg(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n", NULL);
	return send_text(conn, MHD_HTTP_OK, CONTENT_TYPE, text, len, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_size, void **con_cls)
{
	static int seen;
	(void)version;
	(void)data;
	if (!*con_cls) {
		*con_cls = &seen;
		return MHD_YES;
	}
	if (*data_size) { /* a body means nothing here */
		*data_size = 0;
		return MHD_YES;
	}
	bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
		   strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	if (strcmp(url, "/metrics") == 0)
		return get ? scrape(cls, conn)
			   : send_msg(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET for /metrics\n",
				      "GET, HEAD");
	if (strcmp(url, "/") == 0 && get)
		return send_msg(conn, MHD_HTTP_OK, "xvs-control: metrics at /metrics\n", NULL);
	return send_msg(conn, MHD_HTTP_NOT_FOUND, "not found: the metrics are at /metrics\n", NULL);
}

/* The listening socket; returns the fd or a negative errno with a message. */
static int listen_tcp(const char *spec, char *msg, size_t msglen)
{
	struct sockaddr_storage sa;
	socklen_t salen = 0;
	int rc = xvs_metrics_parse_listen(spec, &sa, &salen, msg, msglen);
	if (rc)
		return rc < 0 ? rc : -EINVAL;
	int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (sa.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, (struct sockaddr *)&sa, salen) < 0 || listen(fd, 16) < 0) {
		rc = -errno;
		snprintf(msg, msglen, "cannot listen on %s for metrics: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	return fd;
}

struct xvs_metrics_server *xvs_metrics_server_start(const char *spec, struct xvs_ctl *ctl,
						    pthread_mutex_t *lock, char *msg, size_t msglen)
{
	struct xvs_metrics_server *srv = calloc(1, sizeof(*srv));
	if (!srv) {
		snprintf(msg, msglen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	srv->ctl = ctl;
	srv->lock = lock;
	int fd = listen_tcp(spec, msg, msglen);
	if (fd < 0) {
		free(srv);
		errno = -fd;
		return NULL;
	}
	/* One thread: scrapes are rare and short; a slow client cannot hold it past the timeout. */
	srv->mhd = MHD_start_daemon(MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
				    0, NULL, NULL, on_request, srv,
				    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
				    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
				    MHD_OPTION_CONNECTION_LIMIT, (unsigned)32,
				    MHD_OPTION_END);
	if (!srv->mhd) {
		snprintf(msg, msglen, "cannot start the metrics HTTP server on %s", spec);
		close(fd);
		free(srv);
		errno = EIO;
		return NULL;
	}
	return srv;
}

int xvs_metrics_start_option(const char *spec, struct xvs_ctl *ctl, pthread_mutex_t *lock,
			     struct xvs_metrics_server **srv, char *msg, size_t msglen)
{
	const char *addr = spec ? spec : XVS_METRICS_DEFAULT_LISTEN;
	*srv = NULL;
	if (strcmp(addr, "none") == 0)
		return 0;
	*srv = xvs_metrics_server_start(addr, ctl, lock, msg, msglen);
	if (*srv) {
		fprintf(stderr, "xvs-control: metrics at http://%s/metrics\n", addr);
		return 0;
	}
	if (spec)
		return -1;
	fprintf(stderr, "xvs-control: %s (the default address; running without metrics)\n", msg);
	return 0;
}

int xvs_metrics_check_option(const char *spec)
{
	struct sockaddr_storage sa;
	socklen_t len;
	char msg[160];
	if (xvs_metrics_parse_listen(spec, &sa, &len, msg, sizeof(msg)) >= 0)
		return 0;
	fprintf(stderr, "xvs-control: --metrics-listen %s\n", msg);
	return -1;
}

void xvs_metrics_server_stop(struct xvs_metrics_server *srv)
{
	if (!srv)
		return;
	MHD_stop_daemon(srv->mhd); /* closes the listening socket too */
	xvs_metrics_snap_clear(&srv->last);
	free(srv);
}
