/*
 * xvsadm's transport: libcurl speaking HTTP/1.1 over the control daemon's Unix socket.
 * One easy handle per request: xvsadm makes at most two requests per run. Replies are
 * buffered whole, except the connection listing, which is handed on line by line.
 */
#include "xvsadm_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The server rejects bodies over 1 MiB; replies are listings, allow more but not without bound. */
#define XVSADM_MAX_REPLY (64u << 20)
/* One line of a streamed reply (one connection entry) is a few hundred bytes. */
#define XVSADM_MAX_LINE  (64u << 10)
#define XVSADM_TIMEOUT_S 60L

struct buf {
	char *data;
	size_t len;
};

const char *xvs_xvsadm_socket_path(void)
{
	const char *p = getenv(XVSADM_SOCKET_ENV);

	return (p && *p) ? p : XVSADM_DEFAULT_SOCKET;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct buf *b = userdata;
	size_t n = size * nmemb;
	char *p;

	if (b->len + n > XVSADM_MAX_REPLY)
		return 0; /* makes curl fail with a write error */
	p = realloc(b->data, b->len + n + 1);
	if (p == NULL)
		return 0;
	memcpy(p + b->len, ptr, n);
	b->len += n;
	p[b->len] = '\0';
	b->data = p;
	return n;
}

static void set_reason(char *reason, size_t len, CURL *h, CURLcode rc)
{
	long os_errno = 0;

	if (reason == NULL || len == 0)
		return;
	curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
	/* The socket's own errno ("No such file or directory") reads like ipvsadm's reasons;
	 * a socket we may not open means we are not root, which ipvsadm words this way. */
	if ((os_errno == EACCES || os_errno == EPERM) && rc == CURLE_COULDNT_CONNECT)
		snprintf(reason, len, "Permission denied (you must be root)");
	else if (os_errno != 0 && (rc == CURLE_COULDNT_CONNECT || rc == CURLE_RECV_ERROR ||
			      rc == CURLE_SEND_ERROR))
		snprintf(reason, len, "%s", strerror((int)os_errno));
	else
		snprintf(reason, len, "%s", curl_easy_strerror(rc));
}

static int curl_to_errno(CURLcode rc, CURL *h)
{
	long os_errno = 0;

	curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
	if (os_errno > 0)
		return -(int)os_errno;
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
	case CURLE_OUT_OF_MEMORY: return -ENOMEM;
	case CURLE_COULDNT_CONNECT: return -ECONNREFUSED;
	default: return -EIO;
	}
}

static int perform(CURL *h, const char *method, const char *path, const char *payload,
		   curl_write_callback on_write, void *wdata, char *reason, size_t reason_len)
{
	struct curl_slist *hdrs = NULL;
	char url[512];
	CURLcode rc;

	snprintf(url, sizeof(url), "http://xvs%s", path);
	curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, xvs_xvsadm_socket_path());
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, wdata);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, XVSADM_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (payload != NULL) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
	}
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	rc = curl_easy_perform(h);
	curl_slist_free_all(hdrs);
	if (rc != CURLE_OK) {
		set_reason(reason, reason_len, h, rc);
		return curl_to_errno(rc, h);
	}
	return 0;
}

int xvs_xvsadm_request(const char *method, const char *path, const json_t *body,
		       struct xvs_xvsadm_reply *reply, char *reason, size_t reason_len)
{
	struct buf b = { NULL, 0 };
	char *payload = NULL;
	CURL *h;
	int rc;

	reply->status = 0;
	reply->body = NULL;
	if (body != NULL && (payload = json_dumps(body, JSON_COMPACT)) == NULL)
		return -ENOMEM;
	h = curl_easy_init();
	if (h == NULL) {
		free(payload);
		return -ENOMEM;
	}
	rc = perform(h, method, path, payload, on_data, &b, reason, reason_len);
	if (rc == 0) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply->status);
		if (b.data != NULL)
			reply->body = json_loadb(b.data, b.len, 0, NULL);
	}
	curl_easy_cleanup(h);
	free(b.data);
	free(payload);
	return rc;
}

/* A streamed reply: complete lines go to the callback, a non-200 body is kept whole. */
struct stream {
	CURL *h;
	xvs_xvsadm_line_fn on_line;
	void *ctx;
	int err;          /* the callback's error, which stopped the transfer */
	struct buf line;  /* the unfinished line of a 200 reply */
	struct buf other; /* the body of any other reply */
};

static int stream_lines(struct stream *st, const char *p, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;

		if (st->line.len + take > XVSADM_MAX_LINE || on_data((char *)p, 1, take, &st->line) != take)
			return -E2BIG;
		if (nl == NULL)
			return 0;
		st->err = st->on_line(st->line.data ? st->line.data : "", st->line.len, st->ctx);
		st->line.len = 0;
		if (st->err)
			return st->err;
		p = nl + 1;
		n -= take + 1;
	}
	return 0;
}

static size_t on_stream(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct stream *st = userdata;
	size_t n = size * nmemb;
	long status = 0;

	curl_easy_getinfo(st->h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		return on_data(ptr, size, nmemb, &st->other);
	if (stream_lines(st, ptr, n) != 0) {
		if (st->err == 0)
			st->err = -E2BIG;
		return 0;
	}
	return n;
}

int xvs_xvsadm_stream(const char *path, xvs_xvsadm_line_fn on_line, void *ctx,
		      struct xvs_xvsadm_reply *reply, char *reason, size_t reason_len)
{
	struct stream st = { .on_line = on_line, .ctx = ctx };
	int rc;

	reply->status = 0;
	reply->body = NULL;
	st.h = curl_easy_init();
	if (st.h == NULL)
		return -ENOMEM;
	rc = perform(st.h, "GET", path, NULL, on_stream, &st, reason, reason_len);
	curl_easy_getinfo(st.h, CURLINFO_RESPONSE_CODE, &reply->status);
	if (st.err)
		rc = st.err;
	else if (rc == 0 && reply->status == 200 && st.line.len > 0)
		rc = on_line(st.line.data, st.line.len, ctx);
	if (rc == 0 && st.other.data != NULL)
		reply->body = json_loadb(st.other.data, st.other.len, 0, NULL);
	curl_easy_cleanup(st.h);
	free(st.line.data);
	free(st.other.data);
	return rc;
}
