/*
 * VIP announcement over BGP (docs/scale-out.md): xvs-control decides which VIPs this node can
 * serve, writes them as a BIRD include file (a static protocol per family, each VIP a
 * blackhole route the operator's BGP export filter takes) and tells BIRD to reconfigure over
 * its control socket. A thread of its own re-checks every XVS_BGP_INTERVAL_MS.
 *
 * A VIP is announceable while the dataplane is alive (fresh heartbeat, pid present) and runs
 * the generation xvs-control last published, and at least one of the VIP's services is up:
 * it holds its quorum (keepalived's: the live weight of its real servers; a service without
 * health settings has quorum 1) and at least one real server is in its IPVS view with a
 * weight above 0. A service on its sorry server has lost its quorum: not up.
 */
#ifndef XVS_CTL_BGP_H
#define XVS_CTL_BGP_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_model.h"

/* How often the announceable set is computed again. */
#define XVS_BGP_INTERVAL_MS 200u
/* Longest wait for BIRD's answers on its control socket. */
#define XVS_BGP_BIRD_TIMEOUT_MS 2000u
/* Pause after a failed reconfiguration before the next try. */
#define XVS_BGP_RETRY_MS 1000u
/* Debian's BIRD 2 control socket. */
#define XVS_BGP_SOCKET_DEFAULT "/run/bird/bird.ctl"
/* The static protocols of the include file. */
#define XVS_BGP_PROTO4 "xvs_vips4"
#define XVS_BGP_PROTO6 "xvs_vips6"

struct xvs_ctl;

/* One VIP (the address of at least one address service) and whether it can be announced. */
struct xvs_bgp_vip {
	uint8_t af; /* XVS_AF_* */
	bool up;    /* announceable */
	union xvs_ip addr;
};

/*
 * The VIPs of m's address services (firewall-mark services have none), in address order
 * (IPv4 first), each with up set as the header says; dp_ready: the dataplane is alive and
 * runs the current generation. out has room for XVS_MAX_SVCS entries. Returns how many.
 */
unsigned xvs_bgp_vips(const struct xvs_ctl_model *m, bool dp_ready, struct xvs_bgp_vip *out);

/* Whether the dataplane is alive and adopted c's last publication. Under the daemon's lock. */
bool xvs_bgp_dataplane_ready(const struct xvs_ctl *c);

/*
 * The include file's text for the announceable VIPs of v[0..nb) (malloc'd, NUL-terminated),
 * or NULL when out of memory. Both static protocols are always there, empty or not.
 */
char *xvs_bgp_include_text(const struct xvs_bgp_vip *v, unsigned nb);

/*
 * Ask the BIRD listening on the control socket at path to reconfigure (its `configure`
 * command), waiting at most timeout_ms in all. Returns 0 when BIRD answered with success,
 * or a negative errno with a message (BIRD down, no answer in time, a parse error it
 * reported, a restricted socket).
 */
int xvs_bgp_bird_configure(const char *path, unsigned timeout_ms, char *msg, size_t msglen);

/* ---- the daemon's part ----------------------------------------------------------------- */

struct xvs_bgp_cfg {
	const char *include; /* --bird-include */
	const char *socket;  /* --bird-socket */
};

/* Check an option value: the socket path fits a Unix socket address. 0 or -EINVAL with a
 * message. */
int xvs_bgp_check_socket(const char *path, char *msg, size_t msglen);

struct xvs_bgp;

/*
 * Write the include file for c's current state, then start the thread that keeps it and
 * BIRD up to date, taking lock for each look at c. A BIRD that is down or refuses is logged
 * (rate-limited) and tried again. Returns NULL with a message when the file cannot be
 * written or the thread not started. Under no lock.
 */
struct xvs_bgp *xvs_bgp_start(const struct xvs_bgp_cfg *cfg, struct xvs_ctl *c,
			      pthread_mutex_t *lock, char *msg, size_t msglen);
/* Stop the thread; the include file stays as it is. NULL is ignored. */
void xvs_bgp_stop(struct xvs_bgp *b);

/* The status of GET /v1/status's "bgp" member (docs/api.md). Any thread. */
json_t *xvs_bgp_json(struct xvs_bgp *b);

/* The metrics family xvs_vip_announced, appended to text (realloc'd; *len updated).
 * Returns 0 or -ENOMEM (text unchanged). Any thread. */
int xvs_bgp_metrics(struct xvs_bgp *b, char **text, size_t *len);

#endif
