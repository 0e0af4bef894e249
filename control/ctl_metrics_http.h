/*
 * The Prometheus endpoint of xvs-control: GET /metrics on a TCP listener, served by a
 * libmicrohttpd daemon of its own beside the API's (docs/metrics.md).
 */
#ifndef XVS_CTL_METRICS_HTTP_H
#define XVS_CTL_METRICS_HTTP_H

#include <pthread.h>
#include <stddef.h>

#include "ctl_metrics.h"
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

/*
 * xvs-control's --metrics-listen: spec as given, NULL for the default address
 * (XVS_METRICS_DEFAULT_LISTEN). "none" starts nothing. A given address must be served: on
 * failure returns -1 with a message. The default one taken is only logged (metrics never keep
 * the control plane from starting): *srv NULL, 0 returned. Logs the address it serves.
 */
int xvs_metrics_start_option(const char *spec, struct xvs_ctl *ctl, pthread_mutex_t *lock,
			     struct xvs_metrics_server **srv, char *msg, size_t msglen);

/* Check a --metrics-listen value at option parsing; prints why it is refused (-1). */
int xvs_metrics_check_option(const char *spec);

/* Stop serving and close the listener; accepts NULL. */
void xvs_metrics_server_stop(struct xvs_metrics_server *srv);

#endif
