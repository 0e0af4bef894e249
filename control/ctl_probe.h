/*
 * The health engine's I/O: an event loop (epoll, a timer heap, libcurl's multi interface
 * on the same epoll) and probes, each one attempt of one check (TCP connect, HTTP/HTTPS GET
 * of every url, UDP, DNS, ICMP echo, a script). Nothing here blocks: every socket is
 * non-blocking, every attempt has a deadline, a reply flood is read a bounded number of
 * datagrams per wake-up. Internal to ctl_health.c; one thread per loop.
 */
#ifndef XVS_CTL_PROBE_H
#define XVS_CTL_PROBE_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ctl_check.h"
#include "ctl_dns.h"
#include "ctl_md5.h"

struct hc_loop;

/* A timer: fire runs on the loop thread once `due` (monotonic ns) has passed. */
struct hc_timer {
	uint64_t due;
	int idx; /* position in the heap, -1 when not armed */
	void (*fire)(struct hc_loop *l, struct hc_timer *t);
};

/* An fd on the loop's epoll: on_event gets the epoll events. */
struct hc_watch {
	int fd;
	void (*on_event)(struct hc_loop *l, struct hc_watch *w, uint32_t events);
};

struct hc_loop {
	int epfd;
	CURLM *multi;
	struct hc_timer curl_timer;
	struct hc_timer **heap;
	unsigned nb_heap, cap_heap;
	uint16_t echo_seq;
	pid_t *orphans;  /* killed scripts not reaped yet (their checks went away) */
	unsigned nb_orphans, cap_orphans;
};

int hc_loop_init(struct hc_loop *l);
void hc_loop_fini(struct hc_loop *l);
/* Wait for events up to max_wait_ms (or the next timer), handle them and the due timers. */
void hc_loop_run_once(struct hc_loop *l, int max_wait_ms);
/* Reap pid later (a process whose check is gone; it was sent SIGKILL). */
void hc_loop_orphan(struct hc_loop *l, pid_t pid);
/* Arm t for due (re-arms an armed one); disarm is a no-op on an unarmed timer. */
int hc_timer_arm(struct hc_loop *l, struct hc_timer *t, uint64_t due);
void hc_timer_disarm(struct hc_loop *l, struct hc_timer *t);
/* Register / unregister w->fd for events (EPOLLIN, EPOLLOUT). */
int hc_watch_add(struct hc_loop *l, struct hc_watch *w, uint32_t events);
void hc_watch_del(struct hc_loop *l, struct hc_watch *w);

/* Longest HTTP body read for a digest; a longer one fails the url. */
#define XVS_HC_HTTP_BODY_MAX (8u << 20)

struct hc_probe;
/* The end of an attempt: ok, the exit code (scripts; else 0) and what it found. */
typedef void (*hc_probe_done_fn)(struct hc_probe *p, bool ok, int code, const char *text);

struct hc_probe {
	/* set by the caller before hc_probe_start */
	struct hc_loop *loop;
	const struct xvs_check_cfg *cfg;
	uint8_t af;            /* the real server's */
	union xvs_ip addr;
	uint16_t port;
	uint32_t interval_ms;  /* MISC_CHECK's timeout when it has none of its own */
	hc_probe_done_fn done;
	/* the attempt */
	bool running;
	uint8_t dst_af;        /* where it goes: connect_ip/port or the real server */
	union xvs_ip dst;
	uint16_t dst_port;
	struct hc_watch w;
	struct hc_timer deadline;
	uint64_t started;
	/* HTTP */
	CURL *easy;
	struct curl_slist *headers;
	struct curl_slist *connect_to;
	unsigned url_i;
	struct xvs_md5 md5;
	uint64_t body_len;
	bool body_over;
	char errbuf[CURL_ERROR_SIZE];
	/* UDP, DNS, ICMP */
	uint8_t query[XVS_DNS_MSG_MAX];
	size_t qlen;
	uint16_t echo_id, echo_seq;
	bool icmp_raw;
	/* scripts */
	pid_t pid;
	bool killed;
};

/* Start one attempt; p->done runs when it ends (maybe before this returns). */
void hc_probe_start(struct hc_probe *p);
/* Abandon the attempt under way, if any (done does not run; a script's group is killed). */
void hc_probe_abort(struct hc_probe *p);

/* Internal steps shared by ctl_probe.c, ctl_probe_http.c and ctl_probe_script.c. */
void hc_probe_finish(struct hc_probe *p, bool ok, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void hc_probe_http_start(struct hc_probe *p);
void hc_probe_http_abort(struct hc_probe *p);
void hc_loop_curl_init(struct hc_loop *l);
void hc_probe_script_start(struct hc_probe *p);
void hc_probe_script_abort(struct hc_probe *p);
uint64_t hc_now(void);

/*
 * Start `/bin/sh -c cmd` in its own process group, as user (""/NULL: ours), with
 * XVS_* variables added to the environment (extra: NULL-terminated "K=V" strings). The
 * child gets default signal handling, /dev/null as stdin, no other inherited fds but
 * stdout and stderr. Returns the pid, or a negative errno with a message in err.
 */
pid_t hc_spawn(const char *cmd, const char *user, const char *const *extra, char *err,
	       size_t errlen);
/* A pidfd for pid, or -1 (the caller then polls with waitpid). */
int hc_pidfd(pid_t pid);

#endif
