/* xvsadm's HTTP client for the control API: JSON requests over xvs-control's Unix socket. */
#ifndef XVS_XVSADM_CLIENT_H
#define XVS_XVSADM_CLIENT_H

#include <stddef.h>

#include <jansson.h>

#define XVSADM_DEFAULT_SOCKET "/run/xvs/xvs.sock"
#define XVSADM_SOCKET_ENV     "XVS_CONTROL_SOCKET"

/* One reply: the HTTP status and the parsed body (NULL when it was not JSON). */
struct xvs_xvsadm_reply {
	long status;
	json_t *body;
};

/* The socket to use: $XVS_CONTROL_SOCKET when set and non-empty, else the default. */
const char *xvs_xvsadm_socket_path(void);

/*
 * Send method ("GET"/"POST") to path ("/v1/services") with an optional JSON body and wait
 * for the reply. Returns 0 (any HTTP status) or a negative errno when the server could not
 * be reached or the exchange failed; then reason (may be NULL) says why in words.
 * The caller frees reply->body with json_decref.
 */
int xvs_xvsadm_request(const char *method, const char *path, const json_t *body,
		       struct xvs_xvsadm_reply *reply, char *reason, size_t reason_len);

#endif
