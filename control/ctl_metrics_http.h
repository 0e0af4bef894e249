/*
 * The Prometheus endpoint of xvs-control: GET /metrics on a TCP listener, served by a
 * libmicrohttpd daemon of its own beside the API's (docs/metrics.md).
 */
#ifndef XVS_CTL_METRICS_HTTP_H
#define XVS_CTL_METRICS_HTTP_H

#include <pthread.h>
#include <stddef.h>

#include "ctl_publish.h"

/* How long a scrape waits for the daemon's lock before it repeats its last snapshot. */
#define XVS_METRICS_LOCK_MS 1000u

struct xvs_metrics_server;

/*
 * Listen on spec (xvs_metrics_parse_listen's forms; "none" is not one: the caller skips the
 * call) and serve /metrics from one internal thread. Each scrape holds lock only while it
 * copies what it reports from ctl. Returns the server or NULL with a message (errno set:
 * EINVAL for a bad spec, else the socket's error).
 */
struct xvs_metrics_server *xvs_metrics_server_start(const char *spec, struct xvs_ctl *ctl,
						    pthread_mutex_t *lock, char *msg, size_t msglen);

/* Stop serving and close the listener; accepts NULL. */
void xvs_metrics_server_stop(struct xvs_metrics_server *srv);

#endif
