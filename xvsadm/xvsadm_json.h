/* xvsadm's side of the control API (docs/api.md): commands to JSON ops, JSON documents to tables. */
#ifndef XVS_XVSADM_JSON_H
#define XVS_XVSADM_JSON_H

#include <jansson.h>

#include "xvsadm_parse.h"
#include "xvsadm_print.h"

/*
 * The POST /v1/ops op for one change command (xvs_xvsadm_cmd_is_change), with every
 * ipvsadm default already resolved by the parser. Returns 0 and a new reference in *op,
 * -EINVAL for a command that is not a change, -ENOMEM.
 */
int xvs_xvsadm_json_op(const struct xvs_xvsadm_cmd *cmd, json_t **op);

/* The GET /v1/services document into *t (zeroed first). 0, -EINVAL (malformed), -ENOMEM. */
int xvs_xvsadm_json_table(const json_t *doc, struct xvs_xvsadm_table *t);

/*
 * One connection object of GET /v1/conns into *c. 0, or -EINVAL when a required field is
 * missing or malformed.
 */
int xvs_xvsadm_json_conn(const json_t *o, struct xvs_xvsadm_conn *c);

/*
 * The message ipvsadm prints when the kernel fails `cmd` with errnum (ipvs_strerror),
 * e.g. "Service already exists". Errors ipvsadm has no text for print api_msg, the
 * server's own explanation, when there is one (else strerror). Never NULL.
 */
const char *xvs_xvsadm_strerror(enum xvs_xvsadm_cmd_kind cmd, int errnum, const char *api_msg);

#endif
