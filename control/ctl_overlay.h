/*
 * The health overlay on the configuration model: what health checks change in the IPVS
 * view (the real servers and weights the dataplane schedules over), while the configured
 * servers stay as configured and saved. It follows how keepalived drives IPVS
 * (keepalived/check/ipwrapper.c):
 *  - a real server whose checks fail leaves IPVS (as if deleted: its connections follow
 *    IPVS's rules for a deleted server) or, with inhibit_on_failure, stays at weight 0;
 *    when they pass again it is added back (at the head of IPVS's list) with its weight,
 *    or the weight misc_dynamic gave it;
 *  - a service's quorum is the sum of its live real servers' weights (a server without
 *    checks is live): lost below quorum - hysteresis (or at 0), regained at quorum +
 *    hysteresis; quorum_down / quorum_up run then;
 *  - without quorum, a sorry server (if the service has one) is added and every real
 *    server leaves IPVS (inhibited ones go to weight 0); with quorum back it is removed
 *    again (or left at weight 0 with sorry_server_inhibit) and the live servers return.
 * The sorry server is a destination slot of role XVS_CTL_DEST_SORRY while IPVS lists it.
 * Control only, under the model's lock.
 */
#ifndef XVS_CTL_OVERLAY_H
#define XVS_CTL_OVERLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_model.h"

enum xvs_ctl_hev_type {
	XVS_CTL_HEV_DEST_UP,     /* a real server's checks pass again: its notify_up */
	XVS_CTL_HEV_DEST_DOWN,   /* they fail, or it was deleted while alive: notify_down */
	XVS_CTL_HEV_VIEW,        /* a real server's place in the IPVS view changed */
	XVS_CTL_HEV_QUORUM_UP,   /* the service gained quorum: quorum_up */
	XVS_CTL_HEV_QUORUM_DOWN, /* it lost quorum (or started without, with a sorry server,
				  * or was deleted with omega): quorum_down */
	XVS_CTL_HEV_SORRY,       /* the sorry server's place in the IPVS view changed */
};

/* One state change, for the log and for the scripts it runs. */
struct xvs_ctl_hevent {
	enum xvs_ctl_hev_type type;
	bool was_in, in_ipvs;      /* VIEW, SORRY: listed before / after */
	int32_t was_weight, weight; /* VIEW, SORRY: the weights before / after */
	int64_t sum, threshold;    /* QUORUM_*: the live weight and the threshold it crossed */
	char svc[72];              /* "TCP 198.18.0.100:80", "FWM 1", "FWM 1 IPv6" */
	char dest[56];             /* "198.19.0.12:80", "[2001:db8::1]:80"; "" for QUORUM_* */
	char why[128];             /* DEST_*, QUORUM_DOWN: what happened */
	struct xvs_ctl_dest_hc *dest_hc; /* DEST_*: a reference (notify_up / notify_down) */
	struct xvs_ctl_svc_hc *svc_hc;   /* QUORUM_*: a reference (quorum_up / quorum_down) */
};

struct xvs_ctl_hevents {
	unsigned nb, cap;
	unsigned lost; /* events that found no memory */
	struct xvs_ctl_hevent *v;
};

/* Drop every event (and its references), keep the memory; free it all. */
void xvs_ctl_hevents_clear(struct xvs_ctl_hevents *e);
void xvs_ctl_hevents_free(struct xvs_ctl_hevents *e);

/* One line for xvs-control's log. */
void xvs_ctl_hevent_text(const struct xvs_ctl_hevent *ev, char *buf, size_t len);

/* The names events and logs use for a service and a destination. */
void xvs_ctl_svc_name(const struct xvs_ctl_svc_cfg *c, char *buf, size_t len);
void xvs_ctl_dest_name(const struct xvs_ctl_dest_cfg *c, char *buf, size_t len);

/*
 * The health ops (XVS_CTL_OP_SET_DEST_HEALTH, _SET_SVC_HEALTH, _CLEAR_HEALTH,
 * _HEALTH_RESULT) on m, with the model's errno conventions. New checks on a real server
 * start it alive (down with alpha) and give it a new hc_epoch; settings equal to the
 * current ones change nothing. A result of another epoch is ignored (0).
 */
/* End of a transaction's ops (xvs_ctl_model_apply_ops, on success or failure): the settings a
 * clear-health dropped and no later set op gave back go now, with their checks' state. */
void xvs_ctl_overlay_finish(struct xvs_ctl_model *m);

int xvs_ctl_overlay_op(struct xvs_ctl_model *m, const struct xvs_ctl_op *op,
		       struct xvs_ctl_err *err);

/* Keep the destination order (state loading: the saved order is already IPVS's). */
#define XVS_CTL_OVERLAY_KEEP_ORDER 1u

/*
 * Bring the IPVS view up to date with the verdicts and settings: quorum of every service,
 * the sorry servers (added, revived from the trash or trashed), each destination's place
 * and weight. A destination that comes back moves to the newest end of the order; its
 * service gets a new scheduler epoch. Events go to m->sink. Returns how many places or
 * weights changed.
 */
unsigned xvs_ctl_overlay_refresh(struct xvs_ctl_model *m, unsigned flags);

/* Whether destination slot d is in the IPVS view, and its weight there (0 when not). Uses
 * the verdicts and the services' quorum as they stand. */
bool xvs_ctl_overlay_view(const struct xvs_ctl_model *m, unsigned d, int32_t *weight);

/* Whether key is the configured sorry server of service slot svc. */
bool xvs_ctl_overlay_is_sorry(const struct xvs_ctl_model *m, unsigned svc,
			      const struct xvs_ctl_dest_cfg *key);

/* Hooks of the model's ops: a destination was added (or revived), is about to go to the
 * trash; a service is being deleted. */
void xvs_ctl_overlay_dest_added(struct xvs_ctl_model *m, unsigned slot);
void xvs_ctl_overlay_dest_removed(struct xvs_ctl_model *m, unsigned slot);
void xvs_ctl_overlay_svc_removed(struct xvs_ctl_model *m, unsigned slot);

#endif
