/*
 * Reading the dataplane's live connections through the per-worker dump mailboxes of the
 * shared region (the protocol is described at "Connection dump" in xvs/shm.h), and their
 * JSON form for GET /v1/conns. Control only.
 */
#ifndef XVS_CTL_CONNS_H
#define XVS_CTL_CONNS_H

#include <stddef.h>
#include <stdint.h>

#include "xvs/shm.h"

/* How long control waits for one page: a worker answers in its next 1 ms tick. */
#define XVS_CTL_CONNS_PAGE_TIMEOUT_MS 500u

/* Room for one entry's JSON text: three IPv6 addresses and every key, with slack. */
#define XVS_CTL_CONN_JSON_MAX 400

/*
 * Ask worker w for the page of its connection table that starts at cursor and wait up to
 * timeout_ms for the answer. On success the page's live entries are copied to out (room for
 * XVS_CONN_DUMP_MAX), *nb says how many, and *next is where the following page starts
 * (UINT64_MAX when the table is done). The answer is not trusted: a count over the maximum or
 * a cursor that does not move forward is -EPROTO. Returns 0, -ENODEV (no such worker),
 * -ETIMEDOUT or -EPROTO.
 *
 * Control only; one page request at a time per region (callers hold the daemon's lock), so a
 * worker's mailbox has a single requester.
 */
int xvs_ctl_conns_page(const struct xvs_shm *shm, unsigned w, uint64_t cursor,
		       unsigned timeout_ms, struct xvs_conn_dump_entry *out, uint32_t *nb,
		       uint64_t *next);

/* IPVS's name of a connection state: "ESTABLISHED", ... for TCP, "UDP" for UDP. */
const char *xvs_ctl_conn_state_name(uint8_t proto, uint8_t state);

/*
 * One entry as the API's JSON object, on one line without a newline:
 * {"proto", "state", "expire", "caddr", "cport", "vaddr", "vport", "daddr", "dport", "fwd",
 * "worker"}. Returns the text's length, or -EINVAL for an entry of an unknown address
 * family (skipped by callers), -ENOSPC when len is too small.
 */
int xvs_ctl_conn_json(const struct xvs_conn_dump_entry *e, unsigned worker, char *buf,
		      size_t len);

/* The names a connection's protocol ("tcp", "udp", "sctp", else "ip") and forwarding method
 * ("masq", "local", "tunnel", "route") have in the API. */
const char *xvs_ctl_proto_name(uint8_t proto);
const char *xvs_ctl_fwd_name(uint8_t fwd);

#endif
