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

/*
 * Called with each line of a streamed 200 reply, without its newline (a final line without
 * one included). Return 0 to go on, a negative errno to stop the transfer.
 */
typedef int (*xvs_xvsadm_line_fn)(const char *line, size_t len, void *ctx);

/*
 * GET path and hand a 200 reply to on_line line by line as it arrives, never holding it
 * whole (GET /v1/conns can be very large). Any other status is collected and parsed into
 * reply->body as xvs_xvsadm_request does. Returns as xvs_xvsadm_request, or on_line's error.
 */
int xvs_xvsadm_stream(const char *path, xvs_xvsadm_line_fn on_line, void *ctx,
		      struct xvs_xvsadm_reply *reply, char *reason, size_t reason_len);

#endif
