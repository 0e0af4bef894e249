/*
 * Helpers of the configuration model shared by ctl_model.c (the ops) and ctl_overlay.c (the
 * health overlay on them); not for other modules. Control only, under the model's lock.
 */
#ifndef XVS_CTL_MODEL_PRIV_H
#define XVS_CTL_MODEL_PRIV_H

#include "ctl_model.h"

/* Fill err and return -e. */
int xvs_ctl_model_fail(struct xvs_ctl_err *err, int e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A real server's settings as add-dest checks them. */
int xvs_ctl_model_check_dest(const struct xvs_ctl_dest_cfg *c, struct xvs_ctl_err *err);

/* The service an op on a destination names, or -ESRCH with err filled. */
int xvs_ctl_model_dest_svc(const struct xvs_ctl_model *m, const struct xvs_ctl_op *op,
			   struct xvs_ctl_err *err);

/* Slot of a destination of service svc with key and slot state `state`, or -1. */
int xvs_ctl_model_find_dest_state(const struct xvs_ctl_model *m, unsigned svc,
				  const struct xvs_ctl_dest_cfg *key, uint8_t state);

/* A free destination slot (hint first when free), or -1. */
int xvs_ctl_model_alloc_dest(const struct xvs_ctl_model *m, int hint);

/* The current counters of a slot, as the baseline of a new object. */
void xvs_ctl_model_take_base(const struct xvs_ctl_model *m, bool dest, unsigned slot,
			     struct xvs_ctl_ctr *b);

/* Move a live destination to the trash (IPVS's deletion). */
void xvs_ctl_model_trash_dest(struct xvs_ctl_model *m, unsigned slot, uint64_t now_ns);

/* The service's destinations changed: a new scheduler epoch. */
void xvs_ctl_model_bump_epoch(struct xvs_ctl_model *m, unsigned svc);

/* Remove slot from an order array of *nb entries. */
void xvs_ctl_model_order_remove(uint16_t *order, uint32_t *nb, unsigned slot);

#endif
