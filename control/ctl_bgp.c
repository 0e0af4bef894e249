/*
 * VIP announcement over BGP through BIRD (ctl_bgp.h, docs/scale-out.md).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl_bgp.h"
#include "ctl_text.h"
#include "ctl_publish.h"
#include "xvs/wire.h"

#define LOG(fmt, ...) fprintf(stderr, "xvs-control: bgp: " fmt "\n", ##__VA_ARGS__)
#define MS 1000000ULL
/* A failure that goes on is logged again at most this often. */
#define LOG_EVERY_NS (10000ULL * MS)

/* ---- the announceable set ------------------------------------------------------------- */

static int vip_cmp(const void *a, const void *b)
{
	const struct xvs_bgp_vip *x = a, *y = b;
	if (x->af != y->af)
		return x->af < y->af ? -1 : 1;
	return memcmp(x->addr.v6, y->addr.v6, x->af == XVS_AF_INET ? 4 : 16);
}

unsigned xvs_bgp_vips(const struct xvs_ctl_model *m, bool dp_ready, struct xvs_bgp_vip *out)
{
	static _Thread_local bool serving[XVS_MAX_SVCS];
	for (uint32_t i = 0; i < m->nb_svc_order; i++)
		serving[m->svc_order[i]] = false;
	/* a real server in the service's IPVS view with a weight (the sorry server is not one) */
	for (uint32_t i = 0; i < m->nb_dest_order; i++) {
		const struct xvs_ctl_dest *d = &m->dests[m->dest_order[i]];
		if (d->role == XVS_CTL_DEST_REAL && d->in_ipvs && d->ipvs_weight > 0 &&
		    d->svc < XVS_MAX_SVCS)
			serving[d->svc] = true;
	}
	unsigned n = 0;
	for (uint32_t i = 0; i < m->nb_svc_order; i++) {
		const struct xvs_ctl_svc *s = &m->svcs[m->svc_order[i]];
		if (s->cfg.fwmark)
			continue;
		out[n].af = s->cfg.af;
		out[n].addr = s->cfg.addr;
		out[n].up = dp_ready && s->quorum_up && serving[m->svc_order[i]];
		n++;
	}
	qsort(out, n, sizeof(*out), vip_cmp);
	/* one entry per address: up when any of its services is */
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++) {
		if (k && vip_cmp(&out[k - 1], &out[i]) == 0) {
			out[k - 1].up |= out[i].up;
			continue;
		}
		out[k++] = out[i];
	}
	return k;
}

bool xvs_bgp_dataplane_ready(const struct xvs_ctl *c)
{
	if (!c->model || !c->shm || !c->shm->hdr || !xvs_shm_dataplane_alive(c->shm))
		return false;
	return atomic_load_explicit(&c->shm->hdr->adopted, memory_order_acquire) == c->last_word;
}

static void vip_str(const struct xvs_bgp_vip *v, char *buf, size_t len)
{
	xvs_wire_ip_str(v->af, &v->addr, buf, len);
}

/* ---- the include file ----------------------------------------------------------------- */

char *xvs_bgp_include_text(const struct xvs_bgp_vip *v, unsigned nb)
{
	struct xvs_text b = {0};
	char a[INET6_ADDRSTRLEN];
	xvs_text_put(&b, "# Written by xvs-control (--bird-include): the VIPs this node announces now.\n"
		"# Do not edit; export these protocols' routes over BGP (docs/scale-out.md).\n");
	for (int fam = 0; fam < 2; fam++) {
		uint8_t af = fam ? XVS_AF_INET6 : XVS_AF_INET;
		xvs_text_put(&b, "protocol static %s {\n\t%s;\n", fam ? XVS_BGP_PROTO6 : XVS_BGP_PROTO4,
		    fam ? "ipv6" : "ipv4");
		for (unsigned i = 0; i < nb; i++) {
			if (v[i].af != af || !v[i].up)
				continue;
			vip_str(&v[i], a, sizeof(a));
			xvs_text_put(&b, "\troute %s/%u blackhole;\n", a, fam ? 128u : 32u);
		}
		xvs_text_put(&b, "}\n");
	}
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* ---- BIRD's control socket ------------------------------------------------------------ */

int xvs_bgp_check_socket(const char *path, char *msg, size_t msglen)
{
	struct sockaddr_un sa;
	if (!path[0] || strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(msg, msglen, "--bird-socket %s: not a usable socket path (1 to %zu bytes)",
			 path, sizeof(sa.sun_path) - 1);
		return -EINVAL;
	}
	return 0;
}

static int remaining_ms(uint64_t deadline)
{
	uint64_t now = xvs_now_ns();
	return now >= deadline ? 0 : (int)((deadline - now + MS - 1) / MS);
}

/* Wait for events on fd until the deadline: 0, or -ETIMEDOUT / a negative errno. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int ms = remaining_ms(deadline);
		if (ms == 0)
			return -ETIMEDOUT;
		int r = poll(&p, 1, ms);
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/*
 * Read BIRD's reply up to its last line ("NNNN text": four digits and a space; "NNNN-text"
 * and lines that start with a space continue it, "+" lines are spontaneous). Returns the
 * last line's code, with its text in text, or a negative errno.
 */
static int read_reply(int fd, char *buf, size_t cap, size_t *have, uint64_t deadline, char *text,
		      size_t textlen)
{
	for (;;) {
		char *nl;
		while ((nl = memchr(buf, '\n', *have))) {
			size_t n = (size_t)(nl - buf);
			*nl = '\0';
			int code = -1;
			if (n >= 5 && buf[4] == ' ' && buf[0] >= '0' && buf[0] <= '9' &&
			    buf[1] >= '0' && buf[1] <= '9' && buf[2] >= '0' && buf[2] <= '9' &&
			    buf[3] >= '0' && buf[3] <= '9')
				code = (buf[0] - '0') * 1000 + (buf[1] - '0') * 100 +
				       (buf[2] - '0') * 10 + (buf[3] - '0');
			if (code >= 0)
				snprintf(text, textlen, "%s", buf + 5);
			memmove(buf, nl + 1, *have - n - 1);
			*have -= n + 1;
			if (code >= 0)
				return code;
		}
		if (*have == cap) /* a line longer than the buffer: keep its end only */
			*have = 0;
		int rc = wait_fd(fd, POLLIN, deadline);
		if (rc < 0)
			return rc;
		ssize_t r = read(fd, buf + *have, cap - *have);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ECONNRESET;
		*have += (size_t)r;
	}
}

int xvs_bgp_bird_configure(const char *path, unsigned timeout_ms, char *msg, size_t msglen)
{
	uint64_t deadline = xvs_now_ns() + (uint64_t)timeout_ms * MS;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(msg, msglen, "BIRD socket %s: path too long", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		int e = errno;
		snprintf(msg, msglen, "socket: %s", strerror(e));
		return -e;
	}
	char buf[1024], text[256] = "";
	size_t have = 0;
	int rc = 0;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		if (rc == -EINPROGRESS || rc == -EAGAIN) {
			int so = 0;
			socklen_t sl = sizeof(so);
			rc = wait_fd(fd, POLLOUT, deadline);
			if (rc == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl) == 0 && so)
				rc = -so;
		}
		if (rc < 0) {
			snprintf(msg, msglen, "cannot reach BIRD at %s: %s", path, strerror(-rc));
			close(fd);
			return rc;
		}
	}
	int code = read_reply(fd, buf, sizeof(buf), &have, deadline, text, sizeof(text));
	if (code != 1) {
		snprintf(msg, msglen, "BIRD at %s: %s", path,
			 code < 0 ? (code == -ETIMEDOUT ? "no greeting in time" : strerror(-code))
				  : "unexpected greeting");
		close(fd);
		return code < 0 ? code : -EPROTO;
	}
	static const char cmd[] = "configure\n";
	ssize_t sent = 0;
	if ((rc = wait_fd(fd, POLLOUT, deadline)) == 0 &&
	    (sent = send(fd, cmd, sizeof(cmd) - 1, MSG_NOSIGNAL)) != (ssize_t)(sizeof(cmd) - 1))
		rc = sent < 0 ? -errno : -EIO; /* a short send: a socket this full is no BIRD */
	if (rc < 0) {
		snprintf(msg, msglen, "BIRD at %s: cannot send configure: %s", path, strerror(-rc));
		close(fd);
		return rc;
	}
	code = read_reply(fd, buf, sizeof(buf), &have, deadline, text, sizeof(text));
	close(fd);
	if (code < 0) {
		snprintf(msg, msglen, "BIRD at %s: configure: %s", path,
			 code == -ETIMEDOUT ? "no answer in time" : strerror(-code));
		return code;
	}
	/* 0xxx: done; but 0006 (shutting down) and 0016 (access restricted) did nothing */
	if (code >= 1000 || code == 6 || code == 16) {
		snprintf(msg, msglen, "BIRD at %s refused to reconfigure: %04d %s", path, code, text);
		return -EPROTO;
	}
	snprintf(msg, msglen, "BIRD: %s", text);
	return 0;
}

/* ---- the thread --------------------------------------------------------------------- */

struct xvs_bgp {
	struct xvs_bgp_cfg cfg;
	struct xvs_ctl *ctl;
	pthread_mutex_t *lock;
	pthread_t thread;
	pthread_mutex_t mu; /* the fields below */
	pthread_cond_t cond;
	bool stop;
	bool dp_ready;
	bool written;   /* the file was written: vips are its set */
	bool pending;   /* the file changed since BIRD last reconfigured */
	char error[256]; /* the last failure, "" after a success */
	unsigned nb_vips; /* the VIPs and their state as the file has them */
	struct xvs_bgp_vip *vips;
	unsigned nb_bird; /* the VIPs BIRD took (announced) at its last reconfiguration */
	struct xvs_bgp_vip *bird;
	/* the thread's own */
	struct xvs_bgp_vip *scratch;
	uint64_t next_try_ns;
	uint64_t last_log_ns;
	unsigned fails_unlogged;
};

static bool same_set(const struct xvs_bgp_vip *a, unsigned na, const struct xvs_bgp_vip *b,
		     unsigned nb)
{
	if (na != nb)
		return false;
	for (unsigned i = 0; i < na; i++)
		if (a[i].up != b[i].up || vip_cmp(&a[i], &b[i]) != 0)
			return false;
	return true;
}

/* Log what changed between the file's old and new sets. */
static void log_changes(const struct xvs_bgp *b, const struct xvs_bgp_vip *nv, unsigned nn,
			bool dp_ready)
{
	char a[INET6_ADDRSTRLEN];
	for (unsigned i = 0; i < nn; i++) {
		bool was = false;
		for (unsigned j = 0; j < b->nb_vips; j++)
			if (vip_cmp(&b->vips[j], &nv[i]) == 0)
				was = b->vips[j].up;
		if (was == nv[i].up)
			continue;
		vip_str(&nv[i], a, sizeof(a));
		if (nv[i].up)
			LOG("announcing %s", a);
		else
			LOG("withdrawing %s (%s)", a,
			    dp_ready ? "no service of it holds its quorum with a real server"
				     : "the dataplane is not running the current generation");
	}
	for (unsigned j = 0; j < b->nb_vips; j++) {
		bool still = false;
		for (unsigned i = 0; i < nn && !still; i++)
			still = vip_cmp(&b->vips[j], &nv[i]) == 0;
		if (!still && b->vips[j].up) {
			vip_str(&b->vips[j], a, sizeof(a));
			LOG("withdrawing %s (no service has it any more)", a);
		}
	}
}

/* Compute the set; rewrite the file when it changed. Returns 0 or a negative errno. */
static int refresh_file(struct xvs_bgp *b, char *msg, size_t msglen)
{
	pthread_mutex_lock(b->lock);
	bool ready = xvs_bgp_dataplane_ready(b->ctl);
	unsigned n = b->ctl->model ? xvs_bgp_vips(b->ctl->model, ready, b->scratch) : 0;
	pthread_mutex_unlock(b->lock);
	pthread_mutex_lock(&b->mu);
	b->dp_ready = ready;
	bool same = b->written && same_set(b->vips, b->nb_vips, b->scratch, n);
	pthread_mutex_unlock(&b->mu);
	if (same)
		return 0;
	char *text = xvs_bgp_include_text(b->scratch, n);
	if (!text) {
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	int rc = xvs_text_write_file(b->cfg.include, text, msg, msglen);
	free(text);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&b->mu);
	if (b->written)
		log_changes(b, b->scratch, n, ready);
	b->written = true;
	memcpy(b->vips, b->scratch, n * sizeof(*b->vips));
	b->nb_vips = n;
	b->pending = true;
	pthread_mutex_unlock(&b->mu);
	return 0;
}

static void failed(struct xvs_bgp *b, const char *msg)
{
	uint64_t now = xvs_now_ns();
	pthread_mutex_lock(&b->mu);
	bool fresh = strcmp(b->error, msg) != 0;
	snprintf(b->error, sizeof(b->error), "%s", msg);
	pthread_mutex_unlock(&b->mu);
	if (fresh || now - b->last_log_ns >= LOG_EVERY_NS) {
		if (b->fails_unlogged)
			LOG("%s (%u more failures since the last message; retrying)", msg,
			    b->fails_unlogged);
		else
			LOG("%s (retrying)", msg);
		b->last_log_ns = now;
		b->fails_unlogged = 0;
	} else {
		b->fails_unlogged++;
	}
}

static void step(struct xvs_bgp *b)
{
	char msg[384];
	if (refresh_file(b, msg, sizeof(msg)) < 0) {
		failed(b, msg);
		return;
	}
	pthread_mutex_lock(&b->mu);
	bool pending = b->pending;
	pthread_mutex_unlock(&b->mu);
	if (!pending || xvs_now_ns() < b->next_try_ns)
		return;
	if (xvs_bgp_bird_configure(b->cfg.socket, XVS_BGP_BIRD_TIMEOUT_MS, msg, sizeof(msg)) < 0) {
		b->next_try_ns = xvs_now_ns() + XVS_BGP_RETRY_MS * MS;
		failed(b, msg);
		return;
	}
	b->next_try_ns = 0;
	pthread_mutex_lock(&b->mu);
	bool recovered = b->error[0] != '\0';
	b->error[0] = '\0';
	b->pending = false;
	b->nb_bird = 0;
	for (unsigned i = 0; i < b->nb_vips; i++)
		if (b->vips[i].up)
			b->bird[b->nb_bird++] = b->vips[i];
	pthread_mutex_unlock(&b->mu);
	if (recovered)
		LOG("BIRD at %s reconfigured again", b->cfg.socket);
	b->fails_unlogged = 0;
}

static void *run(void *arg)
{
	struct xvs_bgp *b = arg;
	pthread_mutex_lock(&b->mu);
	while (!b->stop) {
		pthread_mutex_unlock(&b->mu);
		step(b);
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += (long)XVS_BGP_INTERVAL_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&b->mu);
		while (!b->stop && pthread_cond_timedwait(&b->cond, &b->mu, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

static void bgp_free(struct xvs_bgp *b)
{
	free(b->vips);
	free(b->bird);
	free(b->scratch);
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->mu);
	free(b);
}

struct xvs_bgp *xvs_bgp_start(const struct xvs_bgp_cfg *cfg, struct xvs_ctl *c,
			      pthread_mutex_t *lock, char *msg, size_t msglen)
{
	struct xvs_bgp *b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(msg, msglen, "bgp: out of memory");
		return NULL;
	}
	b->cfg = *cfg;
	b->ctl = c;
	b->lock = lock;
	pthread_mutex_init(&b->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->cond, &ca);
	pthread_condattr_destroy(&ca);
	b->scratch = calloc(XVS_MAX_SVCS, sizeof(*b->scratch));
	b->vips = calloc(XVS_MAX_SVCS, sizeof(*b->vips));
	b->bird = calloc(XVS_MAX_SVCS, sizeof(*b->bird));
	if (!b->scratch || !b->vips || !b->bird) {
		bgp_free(b);
		snprintf(msg, msglen, "bgp: out of memory");
		return NULL;
	}
	/* The first file now: a path that cannot be written stops the daemon's start. */
	char why[384];
	if (refresh_file(b, why, sizeof(why)) < 0) {
		snprintf(msg, msglen, "--bird-include: %s", why);
		bgp_free(b);
		return NULL;
	}
	int rc = pthread_create(&b->thread, NULL, run, b);
	if (rc) {
		snprintf(msg, msglen, "bgp: cannot start its thread: %s", strerror(rc));
		bgp_free(b);
		return NULL;
	}
	return b;
}

void xvs_bgp_stop(struct xvs_bgp *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&b->mu);
	b->stop = true;
	pthread_cond_signal(&b->cond);
	pthread_mutex_unlock(&b->mu);
	pthread_join(b->thread, NULL);
	bgp_free(b);
}

static bool in_set(const struct xvs_bgp_vip *set, unsigned n, const struct xvs_bgp_vip *v)
{
	for (unsigned i = 0; i < n; i++)
		if (vip_cmp(&set[i], v) == 0)
			return true;
	return false;
}

json_t *xvs_bgp_json(struct xvs_bgp *b)
{
	char a[INET6_ADDRSTRLEN];
	json_t *vips = json_array(), *ann = json_array();
	pthread_mutex_lock(&b->mu);
	for (unsigned i = 0; vips && ann && i < b->nb_vips; i++) {
		vip_str(&b->vips[i], a, sizeof(a));
		bool on = in_set(b->bird, b->nb_bird, &b->vips[i]);
		json_array_append_new(vips, json_pack("{ss sb sb}", "vip", a, "serving", b->vips[i].up,
						      "announced", on));
	}
	for (unsigned i = 0; vips && ann && i < b->nb_bird; i++) {
		vip_str(&b->bird[i], a, sizeof(a));
		json_array_append_new(ann, json_string(a));
	}
	json_t *o = json_pack("{ss ss sb sb so* so* ss?}", "include", b->cfg.include, "socket",
			      b->cfg.socket, "dataplane_ready", b->dp_ready, "pending", b->pending,
			      "announced", ann, "vips", vips, "error",
			      b->error[0] ? b->error : NULL);
	pthread_mutex_unlock(&b->mu);
	return o;
}

int xvs_bgp_metrics(struct xvs_bgp *b, char **text, size_t *len)
{
	struct xvs_text s = {*text, *len, *len + 1, false};
	char a[INET6_ADDRSTRLEN];
	xvs_text_put(&s, "# HELP xvs_vip_announced 1: BIRD announces the VIP (its last reconfiguration "
		"took it); 0: withdrawn.\n# TYPE xvs_vip_announced gauge\n");
	pthread_mutex_lock(&b->mu);
	for (unsigned i = 0; i < b->nb_vips; i++) {
		vip_str(&b->vips[i], a, sizeof(a));
		xvs_text_put(&s, "xvs_vip_announced{vip=\"%s\"} %d\n", a,
		    in_set(b->bird, b->nb_bird, &b->vips[i]) ? 1 : 0);
	}
	pthread_mutex_unlock(&b->mu);
	if (s.oom) {
		/* s.p may have moved: the caller's buffer is s.p, with its old text */
		if (s.p)
			s.p[*len] = '\0';
		*text = s.p;
		return -ENOMEM;
	}
	*text = s.p;
	*len = s.len;
	return 0;
}
