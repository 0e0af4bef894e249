/*
 * The tracer (POST /v1/trace, `xvsadm --trace`): which real server a packet from a client to
 * a virtual address gets, and why, without sending one. The service is found as the dataplane
 * finds it; an existing connection or persistence template is looked for in every worker's
 * table through the connection-dump mailboxes (bounded pages, as `xvsadm -L -c`); otherwise
 * the service's scheduler is run on the configuration the dataplane runs, with a fresh
 * per-worker state and the node's connection counts, without changing anything.
 */
#ifndef XVS_CTL_TRACE_H
#define XVS_CTL_TRACE_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "ctl_publish.h"
#include "xvs/shm.h"

/* How long a trace may spend walking the workers' tables before it answers incomplete. */
#define XVS_CTL_TRACE_WALK_MS 10000u
/* Connections of the client to the service listed at most (no client port given). */
#define XVS_CTL_TRACE_MAX_CONNS 16

/* One packet to trace: a client's first packet to vaddr:vport. */
struct xvs_ctl_trace_req {
	uint8_t af;    /* XVS_AF_* (both addresses) */
	uint8_t proto; /* XVS_PROTO_TCP, _UDP or _SCTP */
	uint16_t vport; /* host order */
	uint16_t cport; /* host order; 0 = not given: every connection of the client matches */
	union xvs_ip vaddr;
	union xvs_ip caddr;
};

/* The body of POST /v1/trace into *rq. Returns 0 or -EINVAL with a message. */
int xvs_ctl_trace_parse(const char *body, size_t len, struct xvs_ctl_trace_req *rq, char *msg,
			size_t msglen);

/*
 * What the tables say about rq: collected from dump pages (xvs_ctl_trace_match), then
 * rendered by xvs_ctl_trace_answer.
 */
struct xvs_ctl_trace_found {
	int svc;        /* the service's slot */
	union xvs_ip tpl_caddr; /* the client masked by the service's granularity */
	bool persistent;
	struct xvs_conn_dump_entry conns[XVS_CTL_TRACE_MAX_CONNS];
	unsigned conn_worker[XVS_CTL_TRACE_MAX_CONNS];
	unsigned nb_conns;
	bool more_conns; /* more matched than conns[] holds */
	struct xvs_conn_dump_entry tpl;
	unsigned tpl_worker;
	bool has_tpl;
};

/*
 * The service rq reaches in g, as the dataplane looks it up (exact, then a port-0 service of
 * the same address, then the mark rules), or -1. *via says how ("address", "port 0",
 * "mark rule").
 */
int xvs_ctl_trace_service(const struct xvs_gen *g, const struct xvs_ctl_trace_req *rq,
			  const char **via);

/* Take what matches rq in one page of worker w's table into f. */
void xvs_ctl_trace_match(const struct xvs_ctl_trace_req *rq, struct xvs_ctl_trace_found *f,
			 const struct xvs_conn_dump_entry *e, uint32_t nb, unsigned w);

/*
 * The answer (docs/api.md): the service, what the tables hold, the scheduler's decision on g
 * with the node's counts from shm (NULL: none) and the servers' health from m, and the
 * verdict. f->svc must be the slot xvs_ctl_trace_service gave. NULL when out of memory.
 */
json_t *xvs_ctl_trace_answer(const struct xvs_ctl_model *m, const struct xvs_gen *g,
			     const struct xvs_shm *shm, const struct xvs_ctl_trace_req *rq,
			     const struct xvs_ctl_trace_found *f, const char *via);

/*
 * The whole trace, for the API: build the generation the dataplane runs from c's model, find
 * the service, walk the workers' tables (taking lock around each page, never holding a
 * worker longer than one dump page) and answer. Returns the answer, or NULL with *err set
 * (ESRCH: no service; ENOMEM).
 */
json_t *xvs_ctl_trace(struct xvs_ctl *c, pthread_mutex_t *lock, const struct xvs_ctl_trace_req *rq,
		      struct xvs_ctl_err *err);

#endif
