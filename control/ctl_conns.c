/*
 * Connection listing: control walks each worker's table one bounded page at a time through
 * that worker's mailbox, so a dump of millions of connections never holds a worker for more
 * than one page scan per tick, and control never reads a table the worker is changing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl_conns.h"
#include "xvs/wire.h"

static void sleep_us(unsigned us)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)us * 1000L};
	nanosleep(&ts, NULL);
}

int xvs_ctl_conns_page(const struct xvs_shm *shm, unsigned w, uint64_t cursor,
		       unsigned timeout_ms, struct xvs_conn_dump_entry *out, uint32_t *nb,
		       uint64_t *next)
{
	if (!shm || !shm->hdr || w >= XVS_MAX_LCORES)
		return -ENODEV;
	struct xvs_shm_mailbox *mb = xvs_shm_mailbox(shm, w);
	/* A new sequence number each time: a late answer to an abandoned request never
	 * matches, and the worker writes e[] only while req_seq differs from resp_seq. */
	uint64_t seq = atomic_load_explicit(&mb->req_seq, memory_order_relaxed) + 1;
	mb->req_cursor = cursor;
	atomic_store_explicit(&mb->req_seq, seq, memory_order_release);

	uint64_t deadline = xvs_now_ns() + (uint64_t)timeout_ms * 1000000ULL;
	while (atomic_load_explicit(&mb->resp_seq, memory_order_acquire) != seq) {
		if (xvs_now_ns() >= deadline)
			return -ETIMEDOUT;
		sleep_us(100);
	}
	uint32_t n = mb->nb;
	uint64_t nc = mb->next_cursor;
	if (n > XVS_CONN_DUMP_MAX || (nc != UINT64_MAX && nc <= cursor))
		return -EPROTO;
	memcpy(out, mb->e, (size_t)n * sizeof(*out));
	*nb = n;
	*next = nc;
	return 0;
}

static const char *const tcp_states[] = {
	"NONE", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT", "TIME_WAIT",
	"CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "SYNACK",
};

/* IPVS's names of its SCTP states (ip_vs_proto_sctp.c). */
static const char *const sctp_states[] = {
	"NONE", "INIT1", "INIT", "C-SENT", "C-REPLIED", "C-WAIT", "COOKIE", "C-ECHOED",
	"ESTABLISHED", "S-SENT", "S-RECEIVED", "S-ACK-SENT", "REJECTED", "CLOSED",
};

const char *xvs_ctl_conn_state_name(uint8_t proto, uint8_t state)
{
	if (proto == XVS_PROTO_UDP)
		return "UDP";
	if (proto == XVS_PROTO_SCTP)
		return state < sizeof(sctp_states) / sizeof(sctp_states[0]) ? sctp_states[state] : "ERR!";
	if (proto != XVS_PROTO_TCP)
		return "NONE";
	/* IPVS's own name for a state outside its table. */
	return state < sizeof(tcp_states) / sizeof(tcp_states[0]) ? tcp_states[state] : "ERR!";
}

const char *xvs_ctl_proto_name(uint8_t proto)
{
	switch (proto) {
	case XVS_PROTO_TCP: return "tcp";
	case XVS_PROTO_UDP: return "udp";
	case XVS_PROTO_SCTP: return "sctp";
	default: return "ip";
	}
}

const char *xvs_ctl_fwd_name(uint8_t fwd)
{
	switch (fwd) {
	case XVS_FWD_MASQ: return "masq";
	case XVS_FWD_LOCAL: return "local";
	case XVS_FWD_TUNNEL: return "tunnel";
	default: return "route";
	}
}

int xvs_ctl_conn_json(const struct xvs_conn_dump_entry *e, unsigned worker, char *buf,
		      size_t len)
{
	char c[INET6_ADDRSTRLEN], v[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	int af = e->af == XVS_AF_INET ? AF_INET : e->af == XVS_AF_INET6 ? AF_INET6 : -1;
	if (af < 0 || !inet_ntop(af, &e->caddr, c, sizeof(c)) ||
	    !inet_ntop(af, &e->vaddr, v, sizeof(v)) || !inet_ntop(af, &e->daddr, d, sizeof(d)))
		return -EINVAL;
	int n = snprintf(buf, len,
			 "{" XVS_WIRE_MEMBER(XVS_WIRE_PROTO) "\"%s\", "
			 XVS_WIRE_MEMBER(XVS_WIRE_STATE) "\"%s\", "
			 XVS_WIRE_MEMBER(XVS_WIRE_EXPIRE) "%u, "
			 XVS_WIRE_MEMBER(XVS_WIRE_CADDR) "\"%s\", "
			 XVS_WIRE_MEMBER(XVS_WIRE_CPORT) "%u, "
			 XVS_WIRE_MEMBER(XVS_WIRE_VADDR) "\"%s\", "
			 XVS_WIRE_MEMBER(XVS_WIRE_VPORT) "%u, "
			 XVS_WIRE_MEMBER(XVS_WIRE_DADDR) "\"%s\", "
			 XVS_WIRE_MEMBER(XVS_WIRE_DPORT) "%u, "
			 XVS_WIRE_MEMBER(XVS_WIRE_FWD) "\"%s\", "
			 XVS_WIRE_MEMBER(XVS_WIRE_WORKER) "%u}",
			 xvs_ctl_proto_name(e->proto), xvs_ctl_conn_state_name(e->proto, e->state),
			 e->expire, c, ntohs(e->cport), v, ntohs(e->vport), d, ntohs(e->dport),
			 xvs_ctl_fwd_name(e->fwd), worker);
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}
