/* xvsadm's connection-sync daemon commands: the API op and ipvsadm's -L --daemon lines. */
#ifndef XVS_XVSADM_SYNC_H
#define XVS_XVSADM_SYNC_H

#include <jansson.h>
#include <stdio.h>

#include "xvsadm_parse.h"

/* The start-daemon or stop-daemon op of a parsed --start-daemon / --stop-daemon. */
int xvs_xvsadm_daemon_op(const struct xvs_xvsadm_cmd *cmd, json_t **op);

/*
 * ipvsadm's -L --daemon lines from GET /v1/services' "daemons" (absent or empty: nothing):
 * "master sync daemon (mcast=eth0, syncid=5, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)".
 * Returns 0, or -EPROTO for a malformed document.
 */
int xvs_xvsadm_print_daemons(FILE *f, const json_t *daemons);

#endif
