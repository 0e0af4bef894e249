/*
 * xvsadm's transport: HTTP/1.1 over the control daemon's Unix socket, one connection per
 * request ("Connection: close"). The request is written here; the reply is read by the
 * http-parser library (libhttp-parser), which handles its framing: Content-Length, chunked
 * transfer coding (the streamed GET /v1/conns) or the end of the connection. Replies are
 * buffered whole, except the connection listing, which is handed on line by line.
 *
 * A lean transport on purpose: xvsadm runs once per command, and loading a general-purpose
 * HTTP client with its TLS and protocol libraries cost several times what the request does
 * (docs/performance.md, "xvsadm").
 */
#include "xvsadm_client.h"

#include <errno.h>
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

/* The server rejects bodies over its limit; replies are listings, allow more but not without bound. */
#define XVSADM_MAX_REPLY (64u << 20)
/* One line of a streamed reply (one connection entry) is a few hundred bytes. */
#define XVSADM_MAX_LINE  (64u << 10)
/* The longest wait for the server to take or send any byte. */
#define XVSADM_TIMEOUT_S 60

struct buf {
	char *data;
	size_t len;
};

const char *xvs_xvsadm_socket_path(void)
{
	const char *p = getenv(XVSADM_SOCKET_ENV);

	return (p && *p) ? p : XVSADM_DEFAULT_SOCKET;
}

static int buf_add(struct buf *b, const char *ptr, size_t n, size_t max)
{
	char *p;

	if (b->len + n > max)
		return -E2BIG;
	p = realloc(b->data, b->len + n + 1);
	if (p == NULL)
		return -ENOMEM;
	memcpy(p + b->len, ptr, n);
	b->len += n;
	p[b->len] = '\0';
	b->data = p;
	return 0;
}

static int say(char *reason, size_t len, int rc, const char *fmt, const char *arg)
{
	if (reason != NULL && len > 0)
		snprintf(reason, len, fmt, arg);
	return rc;
}

/* The socket's own errno ("No such file or directory") reads like ipvsadm's reasons; a
 * socket we may not open means we are not root, which ipvsadm words this way. */
static int connect_reason(int err, char *reason, size_t len)
{
	if (err == EACCES || err == EPERM)
		return say(reason, len, -err, "%s", "Permission denied (you must be root)");
	return say(reason, len, -err, "%s", strerror(err));
}

static int dial(char *reason, size_t reason_len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = XVSADM_TIMEOUT_S };
	const char *path = xvs_xvsadm_socket_path();
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return say(reason, reason_len, -ENAMETOOLONG, "%s", strerror(ENAMETOOLONG));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return connect_reason(errno, reason, reason_len);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = errno;
		close(fd);
		return connect_reason(err, reason, reason_len);
	}
	return fd;
}

static int io_error(int err, char *reason, size_t reason_len)
{
	if (err == EAGAIN || err == EWOULDBLOCK)
		err = ETIMEDOUT;
	return say(reason, reason_len, -err, "%s", strerror(err));
}

/* Write the request head and body; 0 or a negative errno. */
static int send_request(int fd, const char *method, const char *path, const char *payload,
			char *reason, size_t reason_len)
{
	size_t plen = payload ? strlen(payload) : 0;
	char head[768];
	int n = snprintf(head, sizeof(head),
			 "%s %s HTTP/1.1\r\nHost: xvs\r\nConnection: close\r\n"
			 "Accept: application/json\r\n%s%zu\r\n\r\n",
			 method, path, payload ? "Content-Type: application/json\r\nContent-Length: "
					       : "Content-Length: ", plen);
	struct iovec iov[2] = {
		{ head, (size_t)n },
		{ (void *)payload, plen },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };

	if (n < 0 || (size_t)n >= sizeof(head))
		return say(reason, reason_len, -ENAMETOOLONG, "%s", "request path too long");
	while (iov[0].iov_len + iov[1].iov_len > 0) {
		ssize_t w = sendmsg(fd, &mh, MSG_NOSIGNAL);
		size_t done;

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return io_error(errno, reason, reason_len);
		}
		done = (size_t)w;
		for (int i = 0; i < 2; i++) {
			size_t take = done < iov[i].iov_len ? done : iov[i].iov_len;

			iov[i].iov_base = (char *)iov[i].iov_base + take;
			iov[i].iov_len -= take;
			done -= take;
		}
		mh.msg_iov = iov[0].iov_len ? iov : iov + 1;
		mh.msg_iovlen = iov[0].iov_len ? 2 : 1;
	}
	return 0;
}

/* A reply being read: the body goes to on_body (buffer or line splitter). */
struct exchange {
	http_parser p;
	int (*on_body)(struct exchange *x, const char *at, size_t n);
	int err;  /* on_body's error, which stopped the parser */
	int done; /* the whole message was read */
	struct buf body;
	/* streaming */
	xvs_xvsadm_line_fn on_line;
	void *ctx;
	struct buf line;
};

static int cb_body(http_parser *p, const char *at, size_t n)
{
	struct exchange *x = p->data;

	x->err = x->on_body(x, at, n);
	return x->err ? -1 : 0;
}

static int cb_complete(http_parser *p)
{
	struct exchange *x = p->data;

	x->done = 1;
	http_parser_pause(p, 1); /* one message per connection: stop here */
	return 0;
}

static const http_parser_settings parser_settings = {
	.on_body = cb_body,
	.on_message_complete = cb_complete,
};

/* Read and parse the reply until it is complete. 0 or a negative errno. */
static int read_reply(int fd, struct exchange *x, char *reason, size_t reason_len)
{
	char in[64 * 1024];

	x->p.data = x;
	while (!x->done) {
		ssize_t r = recv(fd, in, sizeof(in), 0);
		size_t used;

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return io_error(errno, reason, reason_len);
		}
		used = http_parser_execute(&x->p, &parser_settings, in, (size_t)r);
		if (x->err)
			return say(reason, reason_len, x->err, "%s", strerror(-x->err));
		if (x->done)
			break;
		if (HTTP_PARSER_ERRNO(&x->p) != HPE_OK || used != (size_t)r)
			return say(reason, reason_len, -EPROTO, "malformed reply from xvs-control: %s",
				   http_errno_description(HTTP_PARSER_ERRNO(&x->p)));
		if (r == 0)
			return say(reason, reason_len, -EPROTO, "%s",
				   "xvs-control closed the connection before its reply was complete");
	}
	return 0;
}

static int exchange(const char *method, const char *path, const char *payload, struct exchange *x,
		    char *reason, size_t reason_len)
{
	int fd = dial(reason, reason_len);
	int rc;

	if (fd < 0)
		return fd;
	http_parser_init(&x->p, HTTP_RESPONSE);
	rc = send_request(fd, method, path, payload, reason, reason_len);
	/* A server that refuses a body (413) may answer and close before reading it all:
	 * its reply still counts. */
	if (rc == -EPIPE || rc == -ECONNRESET || rc == 0)
		rc = read_reply(fd, x, reason, reason_len);
	close(fd);
	return rc;
}

static int whole_body(struct exchange *x, const char *at, size_t n)
{
	return buf_add(&x->body, at, n, XVSADM_MAX_REPLY);
}

int xvs_xvsadm_request(const char *method, const char *path, const json_t *body,
		       struct xvs_xvsadm_reply *reply, char *reason, size_t reason_len)
{
	struct exchange x = { .on_body = whole_body };
	char *payload = NULL;
	int rc;

	reply->status = 0;
	reply->body = NULL;
	if (body != NULL && (payload = json_dumps(body, JSON_COMPACT)) == NULL)
		return -ENOMEM;
	rc = exchange(method, path, payload, &x, reason, reason_len);
	if (rc == 0) {
		reply->status = (long)x.p.status_code;
		if (x.body.data != NULL)
			reply->body = json_loadb(x.body.data, x.body.len, 0, NULL);
	}
	free(x.body.data);
	free(payload);
	return rc;
}

/* A streamed reply: complete lines of a 200 reply go to the callback, any other body is
 * kept whole. */
static int stream_body(struct exchange *x, const char *p, size_t n)
{
	if (x->p.status_code != 200)
		return buf_add(&x->body, p, n, XVSADM_MAX_REPLY);
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;
		int rc = buf_add(&x->line, p, take, XVSADM_MAX_LINE);

		if (rc)
			return rc;
		if (nl == NULL)
			return 0;
		rc = x->on_line(x->line.data ? x->line.data : "", x->line.len, x->ctx);
		x->line.len = 0;
		if (rc)
			return rc;
		p = nl + 1;
		n -= take + 1;
	}
	return 0;
}

int xvs_xvsadm_stream(const char *path, xvs_xvsadm_line_fn on_line, void *ctx,
		      struct xvs_xvsadm_reply *reply, char *reason, size_t reason_len)
{
	struct exchange x = { .on_body = stream_body, .on_line = on_line, .ctx = ctx };
	int rc;

	reply->status = 0;
	reply->body = NULL;
	rc = exchange("GET", path, NULL, &x, reason, reason_len);
	reply->status = (long)x.p.status_code;
	if (rc == 0 && reply->status == 200 && x.line.len > 0)
		rc = on_line(x.line.data, x.line.len, ctx);
	if (rc == 0 && x.body.data != NULL)
		reply->body = json_loadb(x.body.data, x.body.len, 0, NULL);
	free(x.line.data);
	free(x.body.data);
	return rc;
}
