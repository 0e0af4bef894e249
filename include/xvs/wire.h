/*
 * The JSON schema of the control API (docs/api.md), defined once for both of its sides:
 * xvs-control, which reads ops and writes the documents, and xvsadm, which writes ops and
 * reads the documents back. Key names, the names of enumerated values with their ranges,
 * the counter fields, and the encoders of the objects both sides write (service, real
 * server, mark rule, timeouts). Reading stays with each side: the server refuses what it
 * does not know, xvsadm skips it.
 */
#ifndef XVS_WIRE_H
#define XVS_WIRE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xvs/addr.h"

/* ---- keys ---------------------------------------------------------------------------- */

/* POST /v1/ops: {"ops": [op...]}, each op {"op": name, "service", "dest", "mark", ...} */
#define XVS_WIRE_OPS     "ops"
#define XVS_WIRE_OP      "op"
#define XVS_WIRE_SERVICE "service"
#define XVS_WIRE_DEST    "dest"
#define XVS_WIRE_MARK    "mark"
#define XVS_WIRE_HEALTH  "health"

/* The op names. */
#define XVS_WIRE_OP_ADD_SVC        "add-service"
#define XVS_WIRE_OP_EDIT_SVC       "edit-service"
#define XVS_WIRE_OP_DEL_SVC        "delete-service"
#define XVS_WIRE_OP_CLEAR          "clear"
#define XVS_WIRE_OP_ADD_DEST       "add-dest"
#define XVS_WIRE_OP_EDIT_DEST      "edit-dest"
#define XVS_WIRE_OP_DEL_DEST       "delete-dest"
#define XVS_WIRE_OP_SET_TIMEOUTS   "set-timeouts"
#define XVS_WIRE_OP_ZERO           "zero"
#define XVS_WIRE_OP_ADD_MARK       "add-mark"
#define XVS_WIRE_OP_DEL_MARK       "delete-mark"
#define XVS_WIRE_OP_SET_DEST_HC    "set-dest-health"
#define XVS_WIRE_OP_CLEAR_DEST_HC  "clear-dest-health"
#define XVS_WIRE_OP_SET_SVC_HC     "set-service-health"
#define XVS_WIRE_OP_CLEAR_SVC_HC   "clear-service-health"
#define XVS_WIRE_OP_CLEAR_HEALTH   "clear-health"
#define XVS_WIRE_OP_START_DAEMON   "start-daemon"
#define XVS_WIRE_OP_STOP_DAEMON    "stop-daemon"

/* A connection-sync daemon: start-daemon's and stop-daemon's "daemon" (stop: its state
 * alone), and each of GET /v1/services' "daemons". */
#define XVS_WIRE_DAEMON      "daemon"
#define XVS_WIRE_DAEMONS     "daemons"
#define XVS_WIRE_MCAST_IFN   "mcast_ifn"
#define XVS_WIRE_SYNCID      "syncid"
#define XVS_WIRE_SYNC_MAXLEN "sync_maxlen"
#define XVS_WIRE_MCAST_GROUP "mcast_group"
#define XVS_WIRE_MCAST_PORT  "mcast_port"
#define XVS_WIRE_MCAST_TTL   "mcast_ttl"

/* A service: its key (proto, addr, port; or fwmark and af), then its settings. */
#define XVS_WIRE_PROTO      "proto"
#define XVS_WIRE_ADDR       "addr"
#define XVS_WIRE_PORT       "port"
#define XVS_WIRE_FWMARK     "fwmark"
#define XVS_WIRE_AF         "af"
#define XVS_WIRE_SCHED      "sched"
#define XVS_WIRE_PERSISTENT "persistent"
#define XVS_WIRE_NETMASK    "netmask"
#define XVS_WIRE_FLAGS      "flags"
#define XVS_WIRE_ONEPACKET  "ops" /* one-packet scheduling, a boolean */
#define XVS_WIRE_PE         "pe"

/* A real server: its key (addr, port), then its settings. */
#define XVS_WIRE_FWD         "fwd"
#define XVS_WIRE_WEIGHT      "weight"
#define XVS_WIRE_U_THRESHOLD "u_threshold"
#define XVS_WIRE_L_THRESHOLD "l_threshold"
#define XVS_WIRE_TUN_TYPE    "tun_type"
#define XVS_WIRE_TUN_PORT    "tun_port"
#define XVS_WIRE_TUN_CSUM    "tun_csum"

/* A mark rule: proto, dst ("addr/plen"), dport_lo, dport_hi, mark. */
#define XVS_WIRE_DST      "dst"
#define XVS_WIRE_DPORT_LO "dport_lo"
#define XVS_WIRE_DPORT_HI "dport_hi"

/* Timeouts (set-timeouts and the document's "timeouts"). */
#define XVS_WIRE_TCP    "tcp"
#define XVS_WIRE_TCPFIN "tcpfin"
#define XVS_WIRE_UDP    "udp"

/* GET /v1/services: {"services": [...], "timeouts": {...}, "marks": [...]}. */
#define XVS_WIRE_SERVICES "services"
#define XVS_WIRE_TIMEOUTS "timeouts"
#define XVS_WIRE_MARKS    "marks"
#define XVS_WIRE_DESTS    "dests"
/* A listed real server's state. */
#define XVS_WIRE_IN_IPVS        "in_ipvs"
#define XVS_WIRE_IPVS_WEIGHT    "ipvs_weight"
#define XVS_WIRE_SORRY_SERVER   "sorry_server"
#define XVS_WIRE_STATE          "state"
#define XVS_WIRE_ACTIVE_CONNS   "active_conns"
#define XVS_WIRE_INACTIVE_CONNS "inactive_conns"
#define XVS_WIRE_PERSIST_CONNS  "persist_conns"

/* GET /v1/conns: one object per connection. */
#define XVS_WIRE_EXPIRE  "expire"
#define XVS_WIRE_CADDR   "caddr"
#define XVS_WIRE_CPORT   "cport"
#define XVS_WIRE_VADDR   "vaddr"
#define XVS_WIRE_VPORT   "vport"
#define XVS_WIRE_DADDR   "daddr"
#define XVS_WIRE_DPORT   "dport"
#define XVS_WIRE_WORKER  "worker"
#define XVS_WIRE_PE_NAME "pe_name"
#define XVS_WIRE_PE_DATA "pe_data"
/*
 * Its streamed layout: a first line {"conns": [, a connection per line, and a last line
 * ], "workers": W, "complete": B[, "error": "..."]} (also the end of POST /v1/trace's answer).
 * XVS_WIRE_MEMBER(key) is the text that opens a member, "key": , in JSON written by hand.
 */
#define XVS_WIRE_MEMBER(key) "\"" key "\": "
#define XVS_WIRE_CONNS    "conns"
#define XVS_WIRE_WORKERS  "workers" /* also in GET /v1/status' "dataplane" and GET /v1/stats */
#define XVS_WIRE_COMPLETE "complete"
#define XVS_WIRE_ERROR    "error"   /* also the message of an error body */

/* An error body (4xx, 5xx): {"error": message, "errno": positive errno[, "index": op]}. */
#define XVS_WIRE_ERRNO "errno"
#define XVS_WIRE_INDEX "index"

/* POST /v1/ops' answer: {"generation": N, "dataplane": outcome, "message": "..."}. */
#define XVS_WIRE_GENERATION "generation"
#define XVS_WIRE_DATAPLANE  "dataplane"
#define XVS_WIRE_MESSAGE    "message"
/* The outcomes: what the dataplane did with the new generation. */
#define XVS_WIRE_DP_ADOPTED "adopted"
#define XVS_WIRE_DP_ABSENT  "absent"
#define XVS_WIRE_DP_REFUSED "refused"
#define XVS_WIRE_DP_TIMEOUT "timeout"
#define XVS_WIRE_DP_ERROR   "error"

/*
 * GET /v1/status: {"api": 1, "generation": N, "dataplane": {...}[, "bgp": {...}]}; the
 * dataplane object's keys ("workers" above); {"attached": false} alone without one.
 */
#define XVS_WIRE_API             "api"
#define XVS_WIRE_BGP             "bgp"
#define XVS_WIRE_ATTACHED        "attached"
#define XVS_WIRE_PID             "pid"
#define XVS_WIRE_PUBLISHED       "published"
#define XVS_WIRE_ADOPTED         "adopted"
#define XVS_WIRE_REFUSED         "refused"
#define XVS_WIRE_NB_REFUSED      "nb_refused"
#define XVS_WIRE_REFUSE_REASON   "refuse_reason"
#define XVS_WIRE_STEERING        "steering"
#define XVS_WIRE_STALLED_WORKERS "stalled_workers"

/*
 * POST /v1/trace: the request {"proto", "vaddr", "vport", "caddr"[, "cport"]}, with the
 * connections' keys. The answer: "packet" (the request), "service" ("via", "sched", "slot",
 * then its key and persistence as listed), "connections", "more_connections", "template",
 * "scheduler", "servers", "left_out", "verdict", "server", then "workers", "complete" and
 * "error" as the connection stream ends. A server, a connection or a template is
 * {"addr", "port", ...}: a connection adds "worker", "state", "expire", "cport", "fwd"; the
 * template the same with "client" in place of "state" and "cport"; a listed server "weight",
 * "active", "inactive", "overloaded", "available", "health"; one left out "health".
 */
#define XVS_WIRE_PACKET           "packet"
#define XVS_WIRE_VIA              "via"
#define XVS_WIRE_SLOT             "slot"
#define XVS_WIRE_CONNECTIONS      "connections"
#define XVS_WIRE_MORE_CONNECTIONS "more_connections"
#define XVS_WIRE_TEMPLATE         "template"
#define XVS_WIRE_CLIENT           "client"
#define XVS_WIRE_SERVERS          "servers"
#define XVS_WIRE_ACTIVE           "active"
#define XVS_WIRE_INACTIVE         "inactive"
#define XVS_WIRE_OVERLOADED       "overloaded"
#define XVS_WIRE_AVAILABLE        "available"
#define XVS_WIRE_LEFT_OUT         "left_out"
#define XVS_WIRE_VERDICT          "verdict"
#define XVS_WIRE_SERVER           "server" /* the verdict's real server, the scheduler's pick */
/* "scheduler": {"name", "scope"[, "bucket", "buckets", "bucket_server"], "server"}. */
#define XVS_WIRE_SCHEDULER        "scheduler"
#define XVS_WIRE_SCHED_NAME       "name"
#define XVS_WIRE_SCOPE            "scope"
#define XVS_WIRE_BUCKET           "bucket"
#define XVS_WIRE_BUCKETS          "buckets"
#define XVS_WIRE_BUCKET_SERVER    "bucket_server"
/* The scheduler's scope: how far its pick speaks for the workers. */
#define XVS_WIRE_SCOPE_HASH       "hash"
#define XVS_WIRE_SCOPE_PER_WORKER "per-worker"
#define XVS_WIRE_SCOPE_COUNTS     "counts"
/* The verdict: what the packet meets first. */
#define XVS_WIRE_VERDICT_CONN     "connection"
#define XVS_WIRE_VERDICT_TEMPLATE "template"
#define XVS_WIRE_VERDICT_SCHED    "scheduler"
#define XVS_WIRE_VERDICT_NONE     "no server"

/*
 * Counters of a service and of a real server, in the order listed: the totals, then the
 * rates (per second, rounded). X(field) where field is both the key and the member name.
 */
#define XVS_WIRE_COUNTERS(X) X(conns) X(inpkts) X(outpkts) X(inbytes) X(outbytes)
#define XVS_WIRE_RATES(X) X(cps) X(inpps) X(outpps) X(inbps) X(outbps)
#define XVS_WIRE_NB_RATES 5
/* The rates' keys, in XVS_WIRE_RATES' order. */
extern const char *const xvs_wire_rate_names[XVS_WIRE_NB_RATES];

/*
 * GET /v1/stats: {"workers": W, counters..., "drops": {...}, "sync": {...}}; a record's
 * scalar counters, each a uint64_t member of the same name in struct xvs_lcore_stats
 * (xvs/shm.h), in the documents' order; "drops" follows.
 */
#define XVS_WIRE_LCORE_COUNTERS(X) \
	X(rx_pkts) X(rx_bytes) X(tx_pkts) X(tx_bytes) X(conns_new) X(conns_expired) \
	X(conns_cur) X(arp_replies) X(neigh_evicted) X(conns_midflow) X(icmp_echo_replies) \
	X(handoff_out) X(handoff_in) X(conns_evicted) X(exc_to_kernel) X(exc_to_kernel_bytes) \
	X(exc_from_kernel) X(exc_from_kernel_bytes)
#define XVS_WIRE_DROPS "drops"
#define XVS_WIRE_SYNC  "sync" /* a record's connection-sync counters (ctl_sync.h) */
/* ?per_worker=1 (the query argument of the same name) adds the records summed: one per
 * worker, and the main lcore's. */
#define XVS_WIRE_PER_WORKER "per_worker"
#define XVS_WIRE_MAIN_LCORE "main_lcore"

/* ---- enumerated values --------------------------------------------------------------- */

/* A name and its value; a table ends with a NULL name. */
struct xvs_wire_name {
	const char *name;
	int val;
};

/* A service's protocol: tcp, udp, sctp (XVS_PROTO_*). */
extern const struct xvs_wire_name xvs_wire_protos[];
/* A fwmark service's family: inet, inet6 (XVS_AF_*). */
extern const struct xvs_wire_name xvs_wire_afs[];
/* A real server's forwarding method: masq, route, tunnel (XVS_FWD_*). */
extern const struct xvs_wire_name xvs_wire_fwds[];
/* Its tunnel type: ipip, gue, gre (0, 1, 2). */
extern const struct xvs_wire_name xvs_wire_tun_types[];
/* Its tunnel checksum: nocsum, csum, remcsum (XVS_TUN_F_*). */
extern const struct xvs_wire_name xvs_wire_tun_csums[];
/* A mark rule's protocol: any (0: TCP and UDP), tcp, udp. */
extern const struct xvs_wire_name xvs_wire_mark_protos[];
/*
 * Scheduler flags (XVS_SVC_F_SCHED1..3): flag-1, flag-2, flag-3 first, the names the
 * server writes; then sh-fallback, sh-port, mh-fallback, mh-port, the same bits under the
 * names of the schedulers that use them, which both sides read.
 */
extern const struct xvs_wire_name xvs_wire_sched_flags[];
/* A connection's protocol: tcp, udp, sctp, or ip (0) for anything else. */
extern const struct xvs_wire_name xvs_wire_conn_protos[];
/* A connection's forwarding method: masq, local, tunnel, route (XVS_FWD_*). */
extern const struct xvs_wire_name xvs_wire_conn_fwds[];

/* The value of name in t: 0 and *val, or -ENOENT (also for a NULL name). */
int xvs_wire_value(const struct xvs_wire_name *t, const char *name, int *val);
/* The first name of val in t, or NULL. */
const char *xvs_wire_name_of(const struct xvs_wire_name *t, int val);

/* ---- shared objects ------------------------------------------------------------------ */

/* An address in text; af is XVS_AF_*. "?" when it has no text form. */
void xvs_wire_ip_str(uint8_t af, const union xvs_ip *ip, char *buf, size_t len);
/* An IPv4 or IPv6 address from text: 0 with *af (XVS_AF_*) and *ip, or -EINVAL. */
int xvs_wire_ip_parse(const char *s, uint8_t *af, union xvs_ip *ip);

/* A service as the wire carries it. */
struct xvs_wire_svc {
	uint32_t fwmark;      /* non-zero: a fwmark service, keyed by fwmark and af */
	uint8_t af;           /* XVS_AF_* */
	uint8_t proto;        /* XVS_PROTO_* (not for a fwmark service) */
	uint16_t port;
	union xvs_ip addr;
	/* the settings (xvs_wire_svc_full) */
	const char *sched;
	const char *flag_sched; /* flags under this scheduler's names (sh, mh); NULL: flag-N */
	uint32_t persistent;    /* seconds, 0: not persistent */
	union xvs_ip netmask;   /* IPv4: the mask (v4); IPv6: the prefix length (w[0]) */
	uint16_t flags;         /* XVS_SVC_F_SCHED1..3 */
	bool ops;
};

/* A real server as the wire carries it. */
struct xvs_wire_dest {
	uint8_t af;
	union xvs_ip addr;
	uint16_t port;
	/* the settings (xvs_wire_dest_full) */
	int fwd;              /* XVS_FWD_MASQ, _DROUTE or _TUNNEL */
	int64_t weight, u_threshold, l_threshold;
	int tun_type;         /* 0 ipip, 1 gue, 2 gre */
	uint16_t tun_port;
	int tun_csum;         /* XVS_TUN_F_* */
};

/* A mark rule as the wire carries it. */
struct xvs_wire_mark {
	uint8_t af;
	uint8_t proto;        /* 0 (TCP and UDP), XVS_PROTO_TCP or XVS_PROTO_UDP */
	union xvs_ip prefix;
	unsigned plen;
	uint16_t port_lo, port_hi;
	uint32_t mark;
};

/*
 * The objects, as new references; NULL when memory runs out, a string is not UTF-8 or a
 * value has no name in its table. The key objects carry only what names the object (for
 * delete and the health ops); the full ones every field, in the documents' order.
 * xvs_wire_mark_rule leaves "mark" out when it is 0 unless zero_mark.
 */
json_t *xvs_wire_svc_key(const struct xvs_wire_svc *s);
json_t *xvs_wire_svc_full(const struct xvs_wire_svc *s);
json_t *xvs_wire_dest_key(const struct xvs_wire_dest *d);
json_t *xvs_wire_dest_full(const struct xvs_wire_dest *d);
json_t *xvs_wire_mark_rule(const struct xvs_wire_mark *m, bool zero_mark);
json_t *xvs_wire_timeouts(int64_t tcp, int64_t tcpfin, int64_t udp);

#endif
