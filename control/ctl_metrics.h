/*
 * Prometheus metrics of xvs-control (docs/metrics.md): a snapshot of the model's services and
 * real servers, the dataplane's per-worker counters and the publication words, taken under
 * the daemon's lock, then rendered as the text exposition format 0.0.4 without it.
 */
#ifndef XVS_CTL_METRICS_H
#define XVS_CTL_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ctl_publish.h"

/* Where /metrics is served unless --metrics-listen says otherwise. */
#define XVS_METRICS_DEFAULT_LISTEN "127.0.0.1:9720"

/* Longest label value the snapshot keeps (a service or server name). */
#define XVS_METRICS_NAME_MAX 64

/* A real server's health as a state set (xvs_server_health_state{state=...}). */
enum xvs_metrics_health {
	XVS_METRICS_HEALTH_UP,
	XVS_METRICS_HEALTH_DOWN,
	XVS_METRICS_HEALTH_UNKNOWN,   /* checks configured, no verdict yet */
	XVS_METRICS_HEALTH_UNCHECKED, /* no checks: the server counts as up */
	XVS_METRICS_HEALTH_MAX
};

struct xvs_metrics_svc {
	char service[XVS_METRICS_NAME_MAX]; /* "TCP 10.0.0.1:80", "FWM 1", "FWM 1 IPv6" */
	char protocol[8];                   /* "tcp", "udp", "sctp", "fwm" */
	char vip[48];                       /* address services only */
	char port[8];                       /* address services only */
	char fwmark[12];                    /* fwmark services only */
	char scheduler[16];
	uint32_t persistent;                /* seconds, 0 = not persistent */
	bool has_quorum;                    /* health settings: quorum_up means something */
	bool quorum_up;
	struct xvs_ctl_stats st;
};

struct xvs_metrics_dest {
	uint32_t svc;                      /* index into the snapshot's svcs[] */
	char server[XVS_METRICS_NAME_MAX]; /* "10.0.0.2:80", "[2001:db8::2]:80" */
	const char *forward;               /* "masq", "route", "tunnel" (static) */
	int64_t weight;                    /* configured */
	int32_t ipvs_weight;               /* in the listing (health may change it) */
	bool listed;                       /* in its service's listing */
	bool sorry;                        /* the service's sorry server */
	enum xvs_metrics_health health;
	struct xvs_ctl_stats st;
};

/* The scalar counters of one record of struct xvs_lcore_stats, in xvs_metrics_worker_ctrs
 * order. */
#define XVS_METRICS_NB_WORKER_CTRS 27

struct xvs_metrics_worker {
	int idx;              /* worker index, -1 for the main lcore's record */
	bool stalled;
	uint64_t generation;  /* the generation it runs (workers only) */
	uint64_t capacity;    /* its connection table's cells, 0 when unknown */
	uint64_t ctr[XVS_METRICS_NB_WORKER_CTRS];
	uint64_t drops[XVS_DROP_MAX];
};

struct xvs_metrics_snap {
	bool stale;           /* the lock stayed busy: this is an older snapshot */
	bool model;           /* a configuration is loaded (svcs/dests are meaningful) */
	bool dp_up;
	uint32_t nb_workers;  /* the dataplane's, when up */
	uint64_t published;   /* generation numbers in the region */
	uint64_t adopted;
	uint64_t refused_gen;
	uint64_t nb_refused;
	uint32_t nb_svcs, nb_dests, nb_records;
	struct xvs_metrics_svc *svcs;
	struct xvs_metrics_dest *dests;
	struct xvs_metrics_worker *records; /* workers 0..nb_workers-1, then the main lcore */
};

/* Name (the metric's suffix) and help of each scalar worker counter. */
struct xvs_metrics_ctr_desc {
	const char *name; /* after "xvs_worker_" */
	const char *help;
	size_t off;       /* in struct xvs_lcore_stats */
	bool gauge;
};
extern const struct xvs_metrics_ctr_desc xvs_metrics_worker_ctrs[XVS_METRICS_NB_WORKER_CTRS];

/*
 * Fill s from c: its model (when loaded), the region's words and, while a dataplane is
 * attached, every worker's record. Control, under the daemon's lock; touches nothing the
 * dataplane could hold up. Returns 0 or -ENOMEM (s then empty).
 */
int xvs_metrics_capture(const struct xvs_ctl *c, struct xvs_metrics_snap *s);

/* Free what a capture allocated; s becomes empty. */
void xvs_metrics_snap_clear(struct xvs_metrics_snap *s);

/*
 * The exposition text of s (NUL-terminated, malloc'd; *len without the NUL), or NULL on
 * allocation failure. version goes into xvs_build_info. Any thread; no lock needed.
 */
char *xvs_metrics_format(const struct xvs_metrics_snap *s, const char *version, size_t *len);

/*
 * A label value escaped as the format requires (\\, \" and \n), cut to fit out (always
 * NUL-terminated, never inside an escape). Returns the length written.
 */
size_t xvs_metrics_escape(const char *in, char *out, size_t outlen);

/*
 * --metrics-listen: "A.B.C.D:PORT", "[IPv6]:PORT" (port 1..65535) or "none". Returns 0 with
 * sa/salen filled, 1 for "none", -EINVAL with a message.
 */
int xvs_metrics_parse_listen(const char *s, struct sockaddr_storage *sa, socklen_t *salen,
			     char *msg, size_t msglen);

#endif
