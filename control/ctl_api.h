/*
 * The HTTP/JSON control API of xvs-control (docs/api.md), served with libmicrohttpd on a
 * Unix socket to root peers only.
 */
#ifndef XVS_CTL_API_H
#define XVS_CTL_API_H

#include <pthread.h>
#include <stddef.h>

#include "ctl_publish.h"

#define XVS_CTL_SOCKET_DEFAULT_PATH "/run/xvs/xvs.sock"
/* Bodies up to 16 MiB: an `xvsadm -R` of every service and server of a full table is one request. */
#define XVS_CTL_BODY_MAX (16u << 20)

struct xvs_ctl_api;

/*
 * Listen on sock_path (a stale socket file is replaced; a live one is an error) and serve
 * the API from one internal thread. Every request takes lock around its use of ctl.
 * Returns the server or NULL with a message.
 */
struct xvs_ctl_api *xvs_ctl_api_start(const char *sock_path, struct xvs_ctl *ctl,
				      pthread_mutex_t *lock, char *msg, size_t msglen);

/* Stop serving, close and remove the socket. */
void xvs_ctl_api_stop(struct xvs_ctl_api *api);

#endif
