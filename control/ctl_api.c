/*
 * The control API front end: HTTP routing, peer checks and body limits around the model.
 * It only parses, calls into the model/commit cycle and renders; one internal thread serves
 * every connection, and each request holds the daemon's lock while it touches the model.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_api.h"
#include "ctl_bgp.h"
#include "ctl_conns.h"
#include "ctl_json.h"
#include "ctl_trace.h"
#include "xvs/wire.h"

struct xvs_ctl_api {
	struct MHD_Daemon *mhd;
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct xvs_ctl *ctl;
	pthread_mutex_t *lock;
};

/* One request being received. */
struct req {
	char *body;
	size_t len;
	int too_big;
	int forbidden;
};

/* ---- responses ----------------------------------------------------------------------- */

static enum MHD_Result send_json(struct MHD_Connection *conn, unsigned status, json_t *o)
{
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		return MHD_NO;
	size_t n = strlen(text);
	char *body = realloc(text, n + 2);
	if (!body) {
		free(text);
		return MHD_NO;
	}
	memcpy(body + n, "\n", 2);
	struct MHD_Response *r = MHD_create_response_from_buffer(n + 1, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned status, int err, int index,
				  const char *msg)
{
	return send_json(conn, status, xvs_ctl_json_error(err, index, msg));
}

/* The API's HTTP status for an errno (docs/api.md). */
static unsigned http_status(int err)
{
	switch (err) {
	case EINVAL:
	case ERANGE:
	case EOPNOTSUPP:
	case EAFNOSUPPORT:
		return MHD_HTTP_BAD_REQUEST;
	case ESRCH:
	case ENOENT:
		return MHD_HTTP_NOT_FOUND;
	case EEXIST:
		return MHD_HTTP_CONFLICT;
	case ENOSPC:
		return MHD_HTTP_INSUFFICIENT_STORAGE;
	}
	return MHD_HTTP_INTERNAL_SERVER_ERROR;
}

/* ---- endpoints ----------------------------------------------------------------------- */

/* Take the daemon's lock; false (unlocked) while no configuration is loaded, which happens
 * only when start-up failed and the daemon is on its way out. */
static bool lock_ready(struct xvs_ctl_api *api)
{
	pthread_mutex_lock(api->lock);
	if (api->ctl->model)
		return true;
	pthread_mutex_unlock(api->lock);
	return false;
}

static enum MHD_Result send_not_ready(struct MHD_Connection *conn)
{
	return send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, EAGAIN, -1,
			  "xvs-control has no configuration loaded");
}

static enum MHD_Result post_ops(struct xvs_ctl_api *api, struct MHD_Connection *conn,
				const struct req *rq)
{
	struct xvs_ctl_op *ops = NULL;
	unsigned nb = 0;
	struct xvs_ctl_err err;
	struct xvs_ctl_result res;
	int rc = xvs_ctl_json_parse_ops(rq->body ? rq->body : "", rq->len, &ops, &nb, &err);
	if (rc)
		return send_error(conn, http_status(-rc), -rc, err.index, err.msg);
	if (!lock_ready(api)) {
		xvs_ctl_ops_free(ops, nb);
		return send_not_ready(conn);
	}
	rc = xvs_ctl_commit(api->ctl, ops, nb, &err, &res);
	pthread_mutex_unlock(api->lock);
	xvs_ctl_ops_free(ops, nb);
	if (rc)
		return send_error(conn, http_status(-rc), -rc, err.index, err.msg);
	return send_json(conn, MHD_HTTP_OK,
			 json_pack("{sI ss ss}", XVS_WIRE_GENERATION, (json_int_t)res.gen,
				   XVS_WIRE_DATAPLANE, xvs_ctl_pub_result_name(res.pub),
				   XVS_WIRE_MESSAGE, res.msg));
}

/* ?per_worker= of GET /v1/stats: 0 or 1 (absent: 0); -1 for anything else. */
static int per_worker_arg(struct MHD_Connection *conn)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
						    XVS_WIRE_PER_WORKER);
	if (!v || strcmp(v, "0") == 0)
		return 0;
	return strcmp(v, "1") == 0 ? 1 : -1;
}

/* POST /v1/trace: the tracer takes the lock itself, page by page (ctl_trace.h). */
static enum MHD_Result post_trace(struct xvs_ctl_api *api, struct MHD_Connection *conn,
				  const struct req *rq)
{
	struct xvs_ctl_trace_req tr;
	struct xvs_ctl_err err;
	char msg[256];
	if (xvs_ctl_trace_parse(rq->body ? rq->body : "", rq->len, &tr, msg, sizeof(msg)))
		return send_error(conn, MHD_HTTP_BAD_REQUEST, EINVAL, -1, msg);
	json_t *o = xvs_ctl_trace(api->ctl, api->lock, &tr, &err);
	if (!o)
		return send_error(conn, err.err == EAGAIN ? MHD_HTTP_SERVICE_UNAVAILABLE
							  : http_status(err.err),
				  err.err, -1, err.msg);
	return send_json(conn, MHD_HTTP_OK, o);
}

static enum MHD_Result get_view(struct xvs_ctl_api *api, struct MHD_Connection *conn,
				const char *url)
{
	json_t *o;
	int per_worker = strcmp(url, "/v1/stats") == 0 ? per_worker_arg(conn) : 0;
	if (per_worker < 0)
		return send_error(conn, MHD_HTTP_BAD_REQUEST, EINVAL, -1,
				  XVS_WIRE_PER_WORKER ": expected 0 or 1");
	if (!lock_ready(api))
		return send_not_ready(conn);
	if (strcmp(url, "/v1/status") == 0) {
		o = xvs_ctl_json_status(api->ctl->model, api->ctl->shm);
		if (o && api->ctl->bgp)
			json_object_set_new(o, XVS_WIRE_BGP, xvs_bgp_json(api->ctl->bgp));
	}
	else if (strcmp(url, "/v1/services") == 0)
		o = xvs_ctl_json_services(api->ctl->model, api->ctl->rates, api->ctl->health);
	else
		o = xvs_ctl_json_stats(api->ctl->shm);
	if (o && per_worker && xvs_ctl_json_stats_add_workers(o, api->ctl->shm) < 0) {
		json_decref(o);
		o = NULL;
	}
	pthread_mutex_unlock(api->lock);
	if (!o)
		return send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, ENOMEM, -1,
				  "Memory allocation problem");
	return send_json(conn, MHD_HTTP_OK, o);
}

/* ---- GET /v1/conns: streamed, one worker page at a time ---------------------------------- */

/*
 * The body is written as the pages arrive, never built whole: a table of millions of
 * connections costs control one page of memory. Its layout is fixed so that clients can
 * stream it too (docs/api.md, xvs/wire.h at XVS_WIRE_CONNS): a first line that opens the
 * array, one connection object per line, and a last line that closes it with the number of
 * workers asked and whether the listing is complete (else why not).
 */
enum conns_stage { CONNS_HEAD, CONNS_BODY, CONNS_TAIL, CONNS_DONE };

/* Pages fetched in one call of the content reader before it hands MHD a keep-alive space,
 * so that a walk over a large, mostly empty table lets other requests in between. */
#define CONNS_PAGES_PER_CALL 8

struct conns_reader {
	struct xvs_ctl_api *api;
	enum conns_stage stage;
	unsigned worker, nb_workers;
	uint64_t cursor;
	uint64_t nb_sent;
	char why[160]; /* first failure, "" when complete */
	struct xvs_conn_dump_entry *page;
	char *text; /* rendered bytes not yet handed to MHD: [off, len) */
	size_t len, off;
};

static void conns_fail(struct conns_reader *r, const char *fmt, unsigned a, unsigned b)
{
	if (r->why[0] == '\0')
		snprintf(r->why, sizeof(r->why), fmt, a, b);
}

/* Append one page's entries to r->text; each line starts with the separator it needs. */
static void conns_render(struct conns_reader *r, uint32_t nb)
{
	for (uint32_t i = 0; i < nb; i++) {
		char *p = r->text + r->len;
		size_t sep = r->nb_sent ? 2 : 1;
		memcpy(p, &",\n"[2 - sep], sep);
		int n = xvs_ctl_conn_json(&r->page[i], r->worker, p + sep, XVS_CTL_CONN_JSON_MAX);
		if (n < 0)
			continue;
		r->len += sep + (size_t)n;
		r->nb_sent++;
	}
}

/* Fetch and render the next page, moving on to the next worker at the end of a table. */
static void conns_next_page(struct conns_reader *r)
{
	struct xvs_ctl_api *api = r->api;
	uint32_t nb = 0;
	uint64_t next = UINT64_MAX;
	int rc;
	if (r->worker >= r->nb_workers) {
		r->stage = CONNS_TAIL;
		return;
	}
	pthread_mutex_lock(api->lock);
	if (!xvs_shm_dataplane_alive(api->ctl->shm))
		rc = -ENODEV;
	else
		rc = xvs_ctl_conns_page(api->ctl->shm, r->worker, r->cursor,
					XVS_CTL_CONNS_PAGE_TIMEOUT_MS, r->page, &nb, &next);
	pthread_mutex_unlock(api->lock);
	if (rc == -ENODEV) {
		conns_fail(r, "the dataplane went away during the listing (worker %u of %u)",
			   r->worker, r->nb_workers);
		r->stage = CONNS_TAIL;
		return;
	}
	if (rc) {
		conns_fail(r, rc == -ETIMEDOUT ? "worker %u did not answer within %u ms"
					       : "worker %u gave a malformed page (%u)",
			   r->worker, rc == -ETIMEDOUT ? XVS_CTL_CONNS_PAGE_TIMEOUT_MS : (unsigned)-rc);
		next = UINT64_MAX; /* skip this worker, list the others */
	}
	conns_render(r, nb);
	r->cursor = next;
	if (next == UINT64_MAX) {
		r->worker++;
		r->cursor = 0;
	}
}

static void conns_fill(struct conns_reader *r)
{
	r->len = r->off = 0;
	switch (r->stage) {
	case CONNS_HEAD:
		r->len = (size_t)sprintf(r->text, "{" XVS_WIRE_MEMBER(XVS_WIRE_CONNS) "[");
		r->stage = CONNS_BODY;
		break;
	case CONNS_BODY:
		conns_next_page(r);
		break;
	case CONNS_TAIL:
		r->len = (size_t)sprintf(r->text,
					 "\n], " XVS_WIRE_MEMBER(XVS_WIRE_WORKERS) "%u, "
					 XVS_WIRE_MEMBER(XVS_WIRE_COMPLETE) "%s%s%s%s}\n",
					 r->nb_workers, r->why[0] ? "false" : "true",
					 r->why[0] ? ", " XVS_WIRE_MEMBER(XVS_WIRE_ERROR) "\"" : "", r->why,
					 r->why[0] ? "\"" : "");
		r->stage = CONNS_DONE;
		break;
	case CONNS_DONE:
		break;
	}
}

static ssize_t conns_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct conns_reader *r = cls;
	unsigned pages = 0;
	while (r->off == r->len) {
		if (r->stage == CONNS_DONE)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (r->stage == CONNS_BODY && pages++ == CONNS_PAGES_PER_CALL) {
			buf[0] = ' '; /* whitespace is allowed between JSON tokens */
			return 1;
		}
		conns_fill(r);
	}
	size_t n = r->len - r->off < max ? r->len - r->off : max;
	memcpy(buf, r->text + r->off, n);
	r->off += n;
	return (ssize_t)n;
}

static void conns_free(void *cls)
{
	struct conns_reader *r = cls;
	free(r->page);
	free(r->text);
	free(r);
}

static enum MHD_Result get_conns(struct xvs_ctl_api *api, struct MHD_Connection *conn)
{
	struct conns_reader *r = calloc(1, sizeof(*r));
	if (r) {
		r->page = malloc(XVS_CONN_DUMP_MAX * sizeof(*r->page));
		r->text = malloc(XVS_CONN_DUMP_MAX * (XVS_CTL_CONN_JSON_MAX + 2) + 512);
	}
	if (!r || !r->page || !r->text) {
		if (r)
			conns_free(r);
		return send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, ENOMEM, -1,
				  "Memory allocation problem");
	}
	r->api = api;
	if (!lock_ready(api)) {
		conns_free(r);
		return send_not_ready(conn);
	}
	/* No dataplane: nothing is forwarded, so the list is empty and complete. */
	if (xvs_shm_dataplane_alive(api->ctl->shm)) {
		r->nb_workers = atomic_load(&api->ctl->shm->hdr->nb_workers);
		if (r->nb_workers > XVS_MAX_LCORES)
			r->nb_workers = XVS_MAX_LCORES;
	}
	pthread_mutex_unlock(api->lock);
	struct MHD_Response *resp =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, conns_read, r, conns_free);
	if (!resp) {
		conns_free(r);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result route(struct xvs_ctl_api *api, struct MHD_Connection *conn,
			     const char *url, const char *method, const struct req *rq)
{
	int is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
	int is_post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
	if (rq->forbidden)
		return send_error(conn, MHD_HTTP_FORBIDDEN, EPERM, -1,
				  "Permission denied (you must be root)");
	if (rq->too_big)
		return send_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, E2BIG, -1,
				  "request body over 16 MiB");
	if (strcmp(url, "/v1/ops") == 0)
		return is_post ? post_ops(api, conn, rq)
			       : send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, EINVAL, -1,
					    "use POST for /v1/ops");
	if (strcmp(url, "/v1/trace") == 0)
		return is_post ? post_trace(api, conn, rq)
			       : send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, EINVAL, -1,
					    "use POST for /v1/trace");
	if (strcmp(url, "/v1/conns") == 0)
		return is_get ? get_conns(api, conn)
			      : send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, EINVAL, -1,
					   "use GET for this endpoint");
	if (strcmp(url, "/v1/status") == 0 || strcmp(url, "/v1/services") == 0 ||
	    strcmp(url, "/v1/stats") == 0)
		return is_get ? get_view(api, conn, url)
			      : send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, EINVAL, -1,
					   "use GET for this endpoint");
	return send_error(conn, MHD_HTTP_NOT_FOUND, ENOENT, -1, "no such endpoint");
}

/* ---- request life cycle -------------------------------------------------------------- */

static int peer_is_root(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct ucred cred;
	socklen_t len = sizeof(cred);
	if (!ci || getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return 0;
	return cred.uid == 0;
}

static void take_body(struct req *rq, const char *data, size_t n)
{
	if (rq->too_big || rq->forbidden)
		return;
	if (rq->len + n > XVS_CTL_BODY_MAX) {
		rq->too_big = 1;
		free(rq->body);
		rq->body = NULL;
		return;
	}
	char *b = realloc(rq->body, rq->len + n + 1);
	if (!b) {
		rq->too_big = 1;
		return;
	}
	memcpy(b + rq->len, data, n);
	rq->len += n;
	b[rq->len] = '\0';
	rq->body = b;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_size, void **con_cls)
{
	(void)version;
	struct req *rq = *con_cls;
	if (!rq) {
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		rq->forbidden = !peer_is_root(conn);
		*con_cls = rq;
		/* a body announced over the limit is refused before it is read (curl waits for
		 * "100 Continue", so it never sends it); a chunked one is counted as it comes */
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > XVS_CTL_BODY_MAX)
			rq->too_big = 1;
		if (rq->too_big || rq->forbidden)
			return route(cls, conn, url, method, rq);
		return MHD_YES;
	}
	if (*data_size) {
		take_body(rq, data, *data_size);
		*data_size = 0;
		return MHD_YES;
	}
	return route(cls, conn, url, method, rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	struct req *rq = *con_cls;
	if (rq) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

/* ---- socket -------------------------------------------------------------------------- */

/* Refuse to take over the socket of another running xvs-control. */
static int socket_in_use(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	int used = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return used;
}

static int make_socket_dir(const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	int rc = mkdir(dirname(copy), 0755) < 0 && errno != EEXIST ? -errno : 0;
	free(copy);
	return rc;
}

static int say(char *msg, size_t msglen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int say(char *msg, size_t msglen, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
	return rc;
}

/* The listening socket, root only (0600). Returns the fd or a negative errno. */
static int listen_unix(const char *path, char *msg, size_t msglen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return say(msg, msglen, -ENAMETOOLONG, "socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	if (socket_in_use(&sa))
		return say(msg, msglen, -EADDRINUSE, "%s: another xvs-control is listening", path);
	int rc = make_socket_dir(path);
	if (rc)
		return say(msg, msglen, rc, "cannot create the directory of %s: %s", path,
			   strerror(-rc));
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 64) < 0) {
		rc = say(msg, msglen, -errno, "cannot listen on %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	return fd;
}

struct xvs_ctl_api *xvs_ctl_api_start(const char *sock_path, struct xvs_ctl *ctl,
				      pthread_mutex_t *lock, char *msg, size_t msglen)
{
	struct xvs_ctl_api *api = calloc(1, sizeof(*api));
	if (!api) {
		snprintf(msg, msglen, "out of memory");
		return NULL;
	}
	api->ctl = ctl;
	api->lock = lock;
	snprintf(api->path, sizeof(api->path), "%s", sock_path);
	api->fd = listen_unix(sock_path, msg, msglen);
	if (api->fd < 0) {
		free(api);
		return NULL;
	}
	/* One internal thread: requests run one at a time, in the order they complete. */
	api->mhd = MHD_start_daemon(MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
				    0, NULL, NULL, on_request, api,
				    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)api->fd,
				    MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
				    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
				    MHD_OPTION_END);
	if (!api->mhd) {
		snprintf(msg, msglen, "cannot start the HTTP server on %s", sock_path);
		close(api->fd);
		unlink(sock_path);
		free(api);
		return NULL;
	}
	return api;
}

void xvs_ctl_api_stop(struct xvs_ctl_api *api)
{
	if (!api)
		return;
	MHD_stop_daemon(api->mhd); /* closes the listening socket too */
	unlink(api->path);
	free(api);
}
