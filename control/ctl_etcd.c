/*
 * xvs-control's etcd source (ctl_etcd.h): read the prefix, apply it as a keepalived.conf,
 * watch it, again. etcd v3's HTTP/JSON gateway carries keys and values in base64 (OpenSSL's
 * EVP_EncodeBlock/EVP_DecodeBlock here).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "ctl_etcd.h"
#include "ctl_kaconf_apply.h"
#include "ctl_text.h"

#define LOG(fmt, ...) fprintf(stderr, "xvs-control: etcd: " fmt "\n", ##__VA_ARGS__)

#define WATCH_MAX_S   300 /* a watch is renewed (and the prefix read again) this often */
#define RETRY_MS      1000
#define FAIL_LOG_S    30  /* while etcd stays unreachable, say so this often */
#define CONNECT_S     3
#define RANGE_TIMEOUT 10

struct xvs_etcd {
	pthread_t thread;
	atomic_bool stop;
	atomic_bool kick;
	char *urls[XVS_ETCD_MAX_ENDPOINTS];
	unsigned nb_urls, cur;
	char *key_b64, *end_b64; /* the prefix and its range end, base64 */
	char *cache;
	char *config_id;
	struct xvs_ctl *ctl;
	pthread_mutex_t *lock;
	struct xvs_kaconf **held;
	char *applied;       /* the text applied last (or refused: not tried again unchanged) */
	long long revision;  /* of the last range read */
	bool failing;
	bool cache_failing;  /* the cache file could not be written: no change applied */
	time_t fail_logged;
};

/* ---- pure parts -------------------------------------------------------------------------- */

int xvs_etcd_check_endpoints(const char *endpoints, char *msg, size_t msglen)
{
	unsigned n = 0;
	const char *p = endpoints;
	if (!*p) {
		snprintf(msg, msglen, "no endpoint given");
		return -EINVAL;
	}
	for (;;) {
		size_t len = strcspn(p, ",");
		size_t scheme = !strncmp(p, "http://", 7) ? 7 : !strncmp(p, "https://", 8) ? 8 : 0;
		if (!scheme) {
			snprintf(msg, msglen, "endpoint '%.*s' is not an http:// or https:// URL", (int)len, p);
			return -EINVAL;
		}
		if (len <= scheme || len > 200) {
			snprintf(msg, msglen, "endpoint '%.*s' is not a URL", (int)len, p);
			return -EINVAL;
		}
		if (++n > XVS_ETCD_MAX_ENDPOINTS) {
			snprintf(msg, msglen, "more than %d endpoints", XVS_ETCD_MAX_ENDPOINTS);
			return -EINVAL;
		}
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

size_t xvs_etcd_range_end(const char *prefix, size_t prefix_len, char *end)
{
	memcpy(end, prefix, prefix_len);
	for (size_t i = prefix_len; i > 0; i--) {
		if ((unsigned char)end[i - 1] != 0xff) {
			end[i - 1] = (char)((unsigned char)end[i - 1] + 1);
			return i;
		}
	}
	end[0] = 0;
	return 1;
}

static char *b64_encode(const char *data, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);
	if (out)
		EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data, (int)len);
	return out;
}

/* Decode s (base64, padded); the bytes and *len, NUL-terminated, or NULL when s is not base64. */
static char *b64_decode(const char *s, size_t *len)
{
	size_t n = strlen(s);
	if (n % 4 || n > 4 * (size_t)(XVS_ETCD_MAX_BYTES / 3 + 1))
		return NULL;
	char *out = malloc(n / 4 * 3 + 1);
	if (!out)
		return NULL;
	int got = n ? EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n) : 0;
	if (got < 0) {
		free(out);
		return NULL;
	}
	size_t pad = n && s[n - 1] == '=' ? (n > 1 && s[n - 2] == '=' ? 2 : 1) : 0;
	*len = (size_t)got - pad;
	out[*len] = 0;
	return out;
}

/* Append the bytes to a growing buffer (*buf, *len, *cap). 0 or -ENOMEM / -E2BIG. */
static int append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > XVS_ETCD_MAX_BYTES + 1)
		return -E2BIG;
	if (*len + n + 1 > *cap) {
		size_t c = *cap ? *cap : 4096;
		while (c < *len + n + 1)
			c *= 2;
		char *b = realloc(*buf, c);
		if (!b)
			return -ENOMEM;
		*buf = b;
		*cap = c;
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = 0;
	return 0;
}

/* A printable key for the "# etcd key" line: bytes that are not printable as \xNN. */
static int append_key(char **buf, size_t *len, size_t *cap, const char *k, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)k[i];
		char esc[5];
		int rc = c > 0x20 && c < 0x7f ? append(buf, len, cap, (const char *)&k[i], 1)
					      : (snprintf(esc, sizeof(esc), "\\x%02x", c),
						 append(buf, len, cap, esc, 4));
		if (rc < 0)
			return rc;
	}
	return 0;
}

char *xvs_etcd_range_text(const char *json, size_t len, long long *rev, unsigned *nb_keys,
			  char *msg, size_t msglen)
{
	json_error_t jerr;
	json_t *doc = json_loadb(json, len, 0, &jerr);
	const char *r = json_string_value(json_object_get(json_object_get(doc, "header"), "revision"));
	json_t *kvs = json_object_get(doc, "kvs");
	char *text = NULL, *end;
	size_t tlen = 0, cap = 0;
	if (!doc || !r || (kvs && !json_is_array(kvs))) {
		snprintf(msg, msglen, "not an etcd range answer%s%s", doc ? "" : ": ", doc ? "" : jerr.text);
		goto fail;
	}
	errno = 0;
	*rev = strtoll(r, &end, 10);
	if (errno || *end || *rev < 0) {
		snprintf(msg, msglen, "bad revision '%s'", r);
		goto fail;
	}
	*nb_keys = (unsigned)json_array_size(kvs);
	if (append(&text, &tlen, &cap, "", 0) < 0)
		goto nomem;
	size_t i;
	json_t *kv;
	json_array_foreach(kvs, i, kv) {
		const char *k64 = json_string_value(json_object_get(kv, "key"));
		const char *v64 = json_string_value(json_object_get(kv, "value"));
		size_t klen, vlen;
		char *k = k64 ? b64_decode(k64, &klen) : NULL;
		char *v = k ? b64_decode(v64 ? v64 : "", &vlen) : NULL;
		if (!k || !v) {
			snprintf(msg, msglen, "key %zu: not base64", i);
			free(k);
			goto fail;
		}
		int rc = memchr(v, 0, vlen) ? -EINVAL : 0;
		if (rc == 0)
			rc = append(&text, &tlen, &cap, "# etcd key ", 11);
		if (rc == 0)
			rc = append_key(&text, &tlen, &cap, k, klen);
		if (rc == 0)
			rc = append(&text, &tlen, &cap, "\n", 1);
		if (rc == 0)
			rc = append(&text, &tlen, &cap, v, vlen);
		if (rc == 0 && vlen && v[vlen - 1] != '\n')
			rc = append(&text, &tlen, &cap, "\n", 1);
		if (rc == -EINVAL)
			snprintf(msg, msglen, "the value of key %zu is not text (a NUL byte)", i);
		else if (rc == -E2BIG)
			snprintf(msg, msglen, "the prefix holds more than %u bytes", XVS_ETCD_MAX_BYTES);
		free(k);
		free(v);
		if (rc == -ENOMEM)
			goto nomem;
		if (rc < 0)
			goto fail;
	}
	json_decref(doc);
	return text;
nomem:
	snprintf(msg, msglen, "out of memory");
fail:
	free(text);
	json_decref(doc);
	return NULL;
}

/* ---- HTTP ---------------------------------------------------------------------------------- */

struct body {
	char *buf;
	size_t len, cap;
	bool watch;        /* a watch stream: stop at its first event */
	bool event;        /* ... which came */
	struct xvs_etcd *e;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t bytes = size * n;
	if (append(&b->buf, &b->len, &b->cap, p, bytes) < 0)
		return 0; /* too much: abort */
	if (b->watch && (strstr(b->buf, "\"events\"") || strstr(b->buf, "\"canceled\"") ||
			 strstr(b->buf, "\"compact_revision\""))) {
		b->event = true;
		return 0; /* enough: read the prefix again */
	}
	if (b->watch && b->len > 65536) { /* a stream of progress notes: keep the tail only */
		b->len = 0;
		b->buf[0] = 0;
	}
	return bytes;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt, (void)dn, (void)ut, (void)un;
	struct body *b = arg;
	return atomic_load(&b->e->stop) || (b->watch && atomic_load(&b->e->kick));
}

/* POST body to endpoint/path. Returns the HTTP status (200 ...), or -1 with why in msg. */
static long post(struct xvs_etcd *e, const char *path, const char *req, struct body *b,
		 long timeout_s, char *msg, size_t msglen)
{
	char url[256];
	snprintf(url, sizeof(url), "%s%s", e->urls[e->cur], path);
	CURL *c = curl_easy_init();
	if (!c) {
		snprintf(msg, msglen, "out of memory");
		return -1;
	}
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, req);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, b);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_S);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	CURLcode rc = curl_easy_perform(c);
	long status = -1;
	if (rc == CURLE_OK || (b->watch && (b->event || rc == CURLE_OPERATION_TIMEDOUT ||
					    rc == CURLE_ABORTED_BY_CALLBACK)))
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	else
		snprintf(msg, msglen, "%s: %s", url, curl_easy_strerror(rc));
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	return status;
}

/* ---- the loop ------------------------------------------------------------------------------ */

static void failed(struct xvs_etcd *e, const char *why)
{
	time_t now = time(NULL);
	if (!e->failing || now - e->fail_logged >= FAIL_LOG_S) {
		LOG("%s; the configuration stays as it is, trying again", why);
		e->fail_logged = now;
	}
	e->failing = true;
	e->cur = (e->cur + 1) % e->nb_urls; /* the next endpoint */
}

/* Sleep ms, in steps, unless stopped or kicked. */
static void pause_ms(struct xvs_etcd *e, unsigned ms)
{
	for (unsigned t = 0; t < ms && !atomic_load(&e->stop) && !atomic_load(&e->kick); t += 100)
		usleep(100 * 1000);
}

/* Read the prefix and apply it when it changed. 0, or -1 when etcd did not answer or the
 * cache file could not be written (the caller pauses and calls again). */
static int sync_once(struct xvs_etcd *e)
{
	char msg[512], req[8192];
	snprintf(req, sizeof(req), "{\"key\":\"%s\",\"range_end\":\"%s\"}", e->key_b64, e->end_b64);
	struct body b = {.e = e};
	long status = post(e, "/v3/kv/range", req, &b, RANGE_TIMEOUT, msg, sizeof(msg));
	if (status != 200) {
		if (status > 0)
			snprintf(msg, sizeof(msg), "%s/v3/kv/range answered HTTP %ld", e->urls[e->cur], status);
		failed(e, msg);
		free(b.buf);
		return -1;
	}
	long long rev = 0;
	unsigned nb_keys = 0;
	char *text = xvs_etcd_range_text(b.buf ? b.buf : "", b.len, &rev, &nb_keys, msg, sizeof(msg));
	free(b.buf);
	if (!text) {
		failed(e, msg);
		return -1;
	}
	if (e->failing)
		LOG("%s answers again", e->urls[e->cur]);
	e->failing = false;
	e->revision = rev;
	if (e->applied && !strcmp(e->applied, text)) {
		free(text);
		return 0;
	}
	if (nb_keys == 0) {
		/* a wrong or wiped prefix must not delete every service of every node */
		LOG("no key under the prefix (revision %lld): the configuration stays as it is", rev);
		free(e->applied);
		e->applied = text;
		return 0;
	}
	if (xvs_text_write_file(e->cache, text, msg, sizeof(msg)) < 0) {
		/* nothing applied: tried again after a pause, said once while it fails */
		if (!e->cache_failing)
			LOG("%s; the configuration stays as it is, trying again", msg);
		e->cache_failing = true;
		free(text);
		return -1;
	}
	if (e->cache_failing)
		LOG("%s written again", e->cache);
	e->cache_failing = false;
	LOG("revision %lld: %u key(s), applying them", rev, nb_keys);
	const struct xvs_kaconf_opts kopts = {e->config_id};
	pthread_mutex_lock(e->lock);
	xvs_kaconf_reload(e->ctl, e->cache, &kopts, e->held);
	pthread_mutex_unlock(e->lock);
	free(e->applied); /* refused too: the log said why; the next change is tried */
	e->applied = text;
	return 0;
}

/* Watch the prefix from the revision after the one read; returns when something changed,
 * the watch ended, or the thread is stopped or kicked. */
static void watch_once(struct xvs_etcd *e)
{
	char msg[512], req[8192];
	snprintf(req, sizeof(req),
		 "{\"create_request\":{\"key\":\"%s\",\"range_end\":\"%s\",\"start_revision\":\"%lld\"}}",
		 e->key_b64, e->end_b64, e->revision + 1);
	struct body b = {.watch = true, .e = e};
	time_t t0 = time(NULL);
	long status = post(e, "/v3/watch", req, &b, WATCH_MAX_S, msg, sizeof(msg));
	if (atomic_load(&e->stop) || atomic_load(&e->kick)) {
		/* the caller reads again at once */
	} else if (status != 200) {
		if (status > 0)
			snprintf(msg, sizeof(msg), "%s/v3/watch answered HTTP %ld", e->urls[e->cur], status);
		failed(e, msg);
		pause_ms(e, RETRY_MS);
	} else if (!(b.buf && strstr(b.buf, "\"events\"")) && time(NULL) - t0 < 2) {
		/* ended at once without a change (closed, canceled, compacted): not a busy loop */
		pause_ms(e, RETRY_MS);
	}
	free(b.buf);
}

static void *run(void *arg)
{
	struct xvs_etcd *e = arg;
	while (!atomic_load(&e->stop)) {
		atomic_store(&e->kick, false);
		if (sync_once(e) < 0) {
			pause_ms(e, RETRY_MS);
			continue;
		}
		watch_once(e);
	}
	return NULL;
}

/* ---- start and stop ---------------------------------------------------------------------- */

static void etcd_free(struct xvs_etcd *e)
{
	for (unsigned i = 0; i < e->nb_urls; i++)
		free(e->urls[i]);
	free(e->key_b64);
	free(e->end_b64);
	free(e->cache);
	free(e->config_id);
	free(e->applied);
	free(e);
}

struct xvs_etcd *xvs_etcd_start(const struct xvs_etcd_opts *o, struct xvs_ctl *ctl,
				pthread_mutex_t *lock, struct xvs_kaconf **held, char *msg,
				size_t msglen)
{
	if (xvs_etcd_check_endpoints(o->endpoints, msg, msglen) < 0)
		return NULL;
	size_t plen = strlen(o->prefix);
	if (plen == 0 || plen > 1024) {
		snprintf(msg, msglen, "the etcd prefix must have 1 to 1024 bytes");
		return NULL;
	}
	struct xvs_etcd *e = calloc(1, sizeof(*e));
	char end[1024];
	if (!e)
		goto nomem;
	e->ctl = ctl;
	e->lock = lock;
	e->held = held;
	for (const char *p = o->endpoints; *p;) {
		size_t len = strcspn(p, ",");
		while (len && p[len - 1] == '/') /* "http://h:2379/" and "http://h:2379" alike */
			len--;
		if (!(e->urls[e->nb_urls++] = strndup(p, len)))
			goto nomem;
		p += strcspn(p, ",");
		p += *p == ',';
	}
	size_t elen = xvs_etcd_range_end(o->prefix, plen, end);
	e->key_b64 = b64_encode(o->prefix, plen);
	e->end_b64 = b64_encode(end, elen);
	e->cache = strdup(o->cache);
	e->config_id = o->config_id ? strdup(o->config_id) : NULL;
	if (!e->key_b64 || !e->end_b64 || !e->cache || (o->config_id && !e->config_id))
		goto nomem;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = pthread_create(&e->thread, NULL, run, e);
	if (rc) {
		snprintf(msg, msglen, "cannot start the etcd thread: %s", strerror(rc));
		etcd_free(e);
		return NULL;
	}
	return e;
nomem:
	snprintf(msg, msglen, "out of memory");
	if (e)
		etcd_free(e);
	return NULL;
}

void xvs_etcd_kick(struct xvs_etcd *e)
{
	if (e)
		atomic_store(&e->kick, true);
}

void xvs_etcd_stop(struct xvs_etcd *e)
{
	if (!e)
		return;
	atomic_store(&e->stop, true);
	pthread_join(e->thread, NULL);
	etcd_free(e);
}
