/*
 * The configuration model of xvs-control: services and destinations in stable slots, the
 * ops of the control API with IPVS's errno semantics, the trash of deleted destinations and
 * the statistics baselines. Pure C; reads shared-memory counters only through the optional
 * shm pointer. Control only: callers serialize all access (one mutex in the daemon).
 */
#ifndef XVS_CTL_MODEL_H
#define XVS_CTL_MODEL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_check.h"
#include "xvs/sched.h"
#include "xvs/shm.h"
#include "xvs/table.h"

#define XVS_CTL_SCHED_NAME_MAX 16
#define XVS_CTL_TIMEOUT_MAX    2678400u /* 31 days, ipvsadm's limit */
#define XVS_CTL_PERSIST_MAX    2678400u
/* A deleted destination stays in the trash at least this long once it has no connections. */
#define XVS_CTL_TRASH_MIN_NS   (60ULL * 1000000000ULL)

#define XVS_CTL_PROTO_SCTP 132


/*
 * What a client says about a service: its key (proto, addr, port; or fwmark and af) and its
 * settings. A firewall-mark service has proto 0, a zero address and port 0.
 */
struct xvs_ctl_svc_cfg {
	uint8_t af;    /* XVS_AF_* */
	uint8_t proto; /* XVS_PROTO_* or XVS_CTL_PROTO_SCTP; 0 for a fwmark service */
	uint16_t port; /* host order */
	uint32_t fwmark; /* > 0: a firewall-mark service */
	union xvs_ip addr;
	char sched[XVS_CTL_SCHED_NAME_MAX];
	uint32_t persistent; /* seconds, 0 = not persistent */
	union xvs_ip netmask; /* IPv4 mask, or IPv6 prefix length in netmask.w[0] */
	uint16_t flags;       /* XVS_SVC_F_SCHED1..3 */
	bool ops;             /* one-packet scheduling */
};

/* What a client says about a destination: its key (addr, port) and its settings. */
struct xvs_ctl_dest_cfg {
	uint8_t af;
	uint8_t fwd;      /* XVS_FWD_* */
	uint8_t tun_type; /* 0 ipip, 1 gue, 2 gre */
	uint16_t port;    /* host order */
	uint16_t tun_port;
	uint16_t tun_flags; /* XVS_TUN_F_* */
	union xvs_ip addr;
	int64_t weight;
	int64_t u_thresh;
	int64_t l_thresh;
};

/*
 * A mark rule (xvs's stand-in for iptables -t mangle ... -j MARK): packets of family af,
 * protocol proto (0 = TCP and UDP) to prefix/plen with a destination port in lo..hi get
 * mark `mark`. Its selector is everything but the mark.
 */
struct xvs_ctl_mark_cfg {
	uint8_t af;
	uint8_t proto;   /* 0 any, XVS_PROTO_TCP, XVS_PROTO_UDP */
	uint8_t plen;
	uint16_t port_lo; /* host order, inclusive */
	uint16_t port_hi;
	uint32_t mark;    /* 1..2^32-1 */
	union xvs_ip prefix;
};

/*
 * Health settings as the model holds them: immutable once made and shared by reference
 * between model copies and the health engine's threads (hence the atomic count); freed with
 * the last reference. NULL means "none".
 */
struct xvs_ctl_dest_hc {
	atomic_uint ref;
	struct xvs_dest_health_cfg cfg;
};

struct xvs_ctl_svc_hc {
	atomic_uint ref;
	struct xvs_svc_health_cfg cfg;
};

/* A new object with one reference (a copy of cfg), or NULL with errno. Any thread. */
struct xvs_ctl_dest_hc *xvs_ctl_dest_hc_new(const struct xvs_dest_health_cfg *cfg);
struct xvs_ctl_svc_hc *xvs_ctl_svc_hc_new(const struct xvs_svc_health_cfg *cfg);
/* Take / drop a reference; both accept NULL. */
struct xvs_ctl_dest_hc *xvs_ctl_dest_hc_get(struct xvs_ctl_dest_hc *h);
struct xvs_ctl_svc_hc *xvs_ctl_svc_hc_get(struct xvs_ctl_svc_hc *h);
void xvs_ctl_dest_hc_put(struct xvs_ctl_dest_hc *h);
void xvs_ctl_svc_hc_put(struct xvs_ctl_svc_hc *h);

enum xvs_ctl_op_type {
	XVS_CTL_OP_ADD_SVC,
	XVS_CTL_OP_EDIT_SVC,
	XVS_CTL_OP_DEL_SVC,
	XVS_CTL_OP_CLEAR,
	XVS_CTL_OP_ADD_DEST,
	XVS_CTL_OP_EDIT_DEST,
	XVS_CTL_OP_DEL_DEST,
	XVS_CTL_OP_SET_TIMEOUTS,
	XVS_CTL_OP_ZERO,
	XVS_CTL_OP_ADD_MARK,
	XVS_CTL_OP_DEL_MARK,
	XVS_CTL_OP_SET_DEST_HEALTH,  /* a real server's checks: op->dest_hc, NULL = none */
	XVS_CTL_OP_SET_SVC_HEALTH,   /* a service's health settings: op->svc_hc, NULL = none */
	XVS_CTL_OP_CLEAR_HEALTH,     /* every service's and real server's health settings */
	XVS_CTL_OP_HEALTH_RESULT,    /* the health engine's verdict on one real server
				      * (op->result); internal, not in the JSON API */
	XVS_CTL_OP_START_DAEMON,     /* a connection-sync daemon (ctl_sync.h): op->daemon */
	XVS_CTL_OP_STOP_DAEMON,      /* op->daemon_which */
};

/* A verdict of the health engine on the real server in dest slot `slot`. */
struct xvs_ctl_health_result {
	uint16_t slot;
	uint32_t epoch;   /* the hc_epoch it was checked under; another one: ignored */
	bool alive;
	bool announce;    /* alpha start: a first failure, run notify_down though nothing changed */
	int32_t weight;   /* misc_dynamic weight, -1 = the configured one */
	int64_t when_ms;  /* realtime of the change, for "since" */
	char why[128];    /* what the last check said, for the log */
};

struct xvs_ctl_op {
	enum xvs_ctl_op_type type;
	bool has_svc; /* zero: a service was named */
	struct xvs_ctl_svc_cfg svc;
	struct xvs_ctl_dest_cfg dest;
	struct xvs_ctl_mark_cfg mark; /* add-mark, delete-mark */
	int64_t timeouts[3]; /* set-timeouts: tcp, tcpfin, udp; 0 = unchanged */
	int slot;            /* add-*: preferred slot (restoring saved state), -1 = any */
	struct xvs_ctl_dest_hc *dest_hc; /* set-dest-health: a reference the op owns */
	struct xvs_ctl_svc_hc *svc_hc;   /* set-service-health: a reference the op owns */
	struct xvs_ctl_health_result result;
	struct xvs_sync_daemon daemon; /* start-daemon: its settings */
	unsigned daemon_which;         /* start-/stop-daemon: XVS_SYNC_MASTER or _BACKUP */
};

/* Free an op list and the health references its ops own. */
void xvs_ctl_ops_free(struct xvs_ctl_op *ops, unsigned nb);

/* Counters with a baseline: conns, inpkts, outpkts, inbytes, outbytes. */
struct xvs_ctl_ctr {
	uint64_t conns;
	uint64_t inpkts;
	uint64_t outpkts;
	uint64_t inbytes;
	uint64_t outbytes;
};

/* Live view of one object's counters (baseline already subtracted). */
struct xvs_ctl_stats {
	struct xvs_ctl_ctr c;
	int64_t active;
	int64_t inactive;
	int64_t persist; /* persistence templates */
};

struct xvs_ctl_svc {
	uint8_t state; /* XVS_SLOT_*; TRASH: deleted, slot held for its trashed destinations */
	uint8_t sched_id;
	uint16_t nb_trash; /* destinations of this slot in the trash */
	uint32_t sched_epoch; /* changes with the destinations (xvs_svc.sched_epoch) */
	uint32_t sched_bind;  /* changes when the scheduler is bound afresh (xvs_svc.sched_bind) */
	struct xvs_ctl_svc_cfg cfg;
	struct xvs_ctl_ctr base;
	/* health (ctl_overlay.h) */
	bool quorum_up;       /* the sum of live weights holds the quorum */
	bool q_valid;         /* quorum_up was evaluated (false: start-up rules apply next) */
	bool hc_cleared;      /* a clear-health of this transaction dropped hc unless a later
			       * set-service-health gives the same settings back */
	uint16_t sorry_hint;  /* slot + 1 the sorry server had (restored state), 0 = any */
	int64_t alive_weight; /* sum of the live real servers' weights, at the last refresh */
	struct xvs_ctl_svc_hc *hc;
};

#define XVS_CTL_DEST_REAL  0 /* a configured real server */
#define XVS_CTL_DEST_SORRY 1 /* the service's sorry server, while IPVS would list it */

struct xvs_ctl_dest {
	uint8_t state; /* XVS_SLOT_* */
	uint8_t role;  /* XVS_CTL_DEST_*; a sorry server is in dest_order but not configured */
	uint16_t svc;  /* owning service slot */
	uint64_t trash_since_ns;
	int32_t last_weight; /* IPVS's: the weight it was added with, then the last weight > 0 */
	struct xvs_ctl_dest_cfg cfg;
	struct xvs_ctl_ctr base;
	/* health (ctl_overlay.h) */
	bool in_ipvs;        /* the IPVS view at the last refresh: listed in its service */
	bool hc_alive;       /* the checks' verdict; true without checks */
	bool hc_cleared;     /* as the service's: hc and its state go at the transaction's end
			      * unless a set-dest-health gives the same settings back */
	bool hc_fresh;       /* the checks were just set (not restored): an alpha start
			      * announces its first failure */
	int32_t ipvs_weight; /* its weight in the IPVS view at the last refresh */
	int32_t hc_weight;   /* misc_dynamic weight, -1 = the configured one */
	uint32_t hc_epoch;   /* changes whenever the checks are set afresh; 0 without */
	int64_t hc_since_ms; /* realtime of the last verdict change (or of the checks' start) */
	struct xvs_ctl_dest_hc *hc;
};

struct xvs_ctl_hevents;

struct xvs_ctl_model {
	struct xvs_timeouts timeouts;
	struct xvs_sync_daemon sync[2]; /* the sync daemons, XVS_SYNC_MASTER and _BACKUP */
	uint64_t last_gen;      /* last generation number published */
	uint32_t epoch_counter; /* source of unique sched_epoch and sched_bind values */
	uint32_t hc_epoch_counter; /* source of hc_epoch values */
	struct xvs_ctl_hevents *sink; /* while ops are applied: where health events go (NULL:
				       * nowhere); set and cleared by the caller */
	struct xvs_sched_params sched_params; /* xvs-control's scheduler options (not saved) */
	uint64_t base_dp_pid;   /* dataplane whose counters the baselines refer to */
	const struct xvs_shm *shm; /* counters source, NULL = none */
	uint32_t nb_svc_order;
	uint32_t nb_dest_order;
	uint32_t nb_marks;
	struct xvs_ctl_mark_cfg marks[XVS_MAX_MARKS]; /* evaluated in this order */
	uint16_t svc_order[XVS_MAX_SVCS];   /* USED services, insertion order */
	uint16_t dest_order[XVS_MAX_DESTS]; /* USED destinations, insertion order (a service's
					     * scheduling order is the reverse: newest first) */
	struct xvs_ctl_svc svcs[XVS_MAX_SVCS];
	struct xvs_ctl_dest dests[XVS_MAX_DESTS];
};

/* Why a list of ops failed: a positive errno, the failing op, a message. */
struct xvs_ctl_err {
	int err;
	int index;
	char msg[256];
};

/* New empty model (IPVS default timeouts, default scheduler options); shm may be NULL. NULL
 * with errno on failure. */
struct xvs_ctl_model *xvs_ctl_model_new(const struct xvs_shm *shm);
/* A copy that shares the health settings (by reference); NULL with errno. */
struct xvs_ctl_model *xvs_ctl_model_dup(const struct xvs_ctl_model *m);
void xvs_ctl_model_free(struct xvs_ctl_model *m);
/* dst (a model, or zeroed memory) becomes a copy of src: dst's health references are dropped,
 * src's taken, as xvs_ctl_model_dup and xvs_ctl_model_free would. */
void xvs_ctl_model_copy(struct xvs_ctl_model *dst, const struct xvs_ctl_model *src);
/* Make dst what src is and free src (dst's own references are dropped). */
void xvs_ctl_model_replace(struct xvs_ctl_model *dst, struct xvs_ctl_model *src);

/* Default settings of a service (sched "wlc", /32), a destination (route, weight 1) and a
 * mark rule (IPv4, any protocol, ports 0..65535). */
void xvs_ctl_svc_cfg_default(struct xvs_ctl_svc_cfg *c);
void xvs_ctl_dest_cfg_default(struct xvs_ctl_dest_cfg *c);
void xvs_ctl_mark_cfg_default(struct xvs_ctl_mark_cfg *c);
void xvs_ctl_op_init(struct xvs_ctl_op *op, enum xvs_ctl_op_type type);

/*
 * Apply ops[0..nb) in order to m directly. On failure m is left half changed: use it on a
 * copy (xvs_ctl_model_dup) or through xvs_ctl_model_apply. Returns 0 or a negative errno,
 * with err filled.
 */
int xvs_ctl_model_apply_ops(struct xvs_ctl_model *m, const struct xvs_ctl_op *ops, unsigned nb,
			    struct xvs_ctl_err *err);

/* Apply ops as one transaction, then refresh the IPVS view (ctl_overlay.h): all succeed,
 * or m is unchanged. Same returns. */
int xvs_ctl_model_apply(struct xvs_ctl_model *m, const struct xvs_ctl_op *ops, unsigned nb,
			struct xvs_ctl_err *err);

/* Service slot of a live service with key (proto, af, addr, port, or fwmark and af), or -1. */
int xvs_ctl_model_find_svc(const struct xvs_ctl_model *m, const struct xvs_ctl_svc_cfg *key);
/* Live configured destination slot of service slot svc with key (addr, port), or -1 (a
 * sorry server is not one). */
int xvs_ctl_model_find_dest(const struct xvs_ctl_model *m, unsigned svc,
			    const struct xvs_ctl_dest_cfg *key);

/* The live fwmark service of (mark, af), or -1. */
int xvs_ctl_model_find_fwmark(const struct xvs_ctl_model *m, uint32_t mark, uint8_t af);

/*
 * Free trash entries that are done: with a live dataplane, no connections and >= 60 s in
 * the trash; without one, longer in the trash than the largest timeout. Returns how many
 * destinations were freed.
 */
unsigned xvs_ctl_model_purge(struct xvs_ctl_model *m, uint64_t now_ns, bool dp_alive);

/* Forget every baseline (a new dataplane starts its counters at zero). */
void xvs_ctl_model_reset_baselines(struct xvs_ctl_model *m, uint64_t dp_pid);

/* Rate estimate of one object (IPVS's estimator): conns, inpkts, outpkts, inbytes, outbytes
 * per second, smoothed every 2 s as avg += (rate - avg) / 4. */
struct xvs_ctl_rate {
	uint64_t last[5];
	double avg[5];
	uint8_t primed;
};

#define XVS_CTL_RATE_PERIOD_NS (2ULL * 1000000000ULL)

/* Estimators of every slot; kept beside the model (not part of its transactions). */
struct xvs_ctl_rates {
	uint64_t last_ns;
	struct xvs_ctl_rate svc[XVS_MAX_SVCS];
	struct xvs_ctl_rate dest[XVS_MAX_DESTS];
};

/* Feed the estimators of m's live objects when a period has passed since the last update. */
void xvs_ctl_rates_update(struct xvs_ctl_rates *r, const struct xvs_ctl_model *m, uint64_t now_ns);

/* Counters of a service or destination slot: shm sums minus baseline (zeros without shm). */
void xvs_ctl_model_svc_stats(const struct xvs_ctl_model *m, unsigned slot, struct xvs_ctl_stats *st);
void xvs_ctl_model_dest_stats(const struct xvs_ctl_model *m, unsigned slot, struct xvs_ctl_stats *st);

#endif
