/*
 * JSON forms of the control API (docs/api.md): parsing op lists and objects into the model's
 * types, and rendering services, status and statistics. Also used for the state file.
 */
#ifndef XVS_CTL_JSON_H
#define XVS_CTL_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "ctl_health.h"
#include "ctl_model.h"
#include "xvs/shm.h"

/*
 * Parse the body of POST /v1/ops into *ops (free with xvs_ctl_ops_free) and *nb. Unknown ops or
 * fields, wrong types and unrepresentable values fail with -EINVAL; err->index names the op
 * (-1 for the envelope). Semantic checks are left to the model.
 */
int xvs_ctl_json_parse_ops(const char *body, size_t len, struct xvs_ctl_op **ops, unsigned *nb,
			   struct xvs_ctl_err *err);

/*
 * Parse a service or destination object; omitted fields take their defaults. extra is a
 * NULL-terminated list of further keys to tolerate (the state file's), or NULL.
 * Returns 0 or -EINVAL with a message.
 */
int xvs_ctl_json_parse_svc(const json_t *o, struct xvs_ctl_svc_cfg *c, const char *const *extra,
			   char *msg, size_t msglen);
int xvs_ctl_json_parse_dest(const json_t *o, struct xvs_ctl_dest_cfg *c, const char *const *extra,
			    char *msg, size_t msglen);

/*
 * Parse a mark rule {"proto", "dst", "dport_lo", "dport_hi", "mark"}; need_mark: "mark" is
 * required (add-mark), else it may be left out (0: delete-mark matches on the rest).
 */
int xvs_ctl_json_parse_mark(const json_t *o, struct xvs_ctl_mark_cfg *c, int need_mark,
			    char *msg, size_t msglen);
json_t *xvs_ctl_json_mark_cfg(const struct xvs_ctl_mark_cfg *c);
/* The model's mark rules in order, an array (new reference). */
json_t *xvs_ctl_json_marks(const struct xvs_ctl_model *m);

/* Objects with every configured field (new references, NULL on allocation failure). */
json_t *xvs_ctl_json_svc_cfg(const struct xvs_ctl_svc_cfg *c);
json_t *xvs_ctl_json_dest_cfg(const struct xvs_ctl_dest_cfg *c);
json_t *xvs_ctl_json_timeouts(const struct xvs_timeouts *t);

/*
 * Health settings (ctl_json_health.c): a real server's checks ("health" of
 * set-dest-health) and a service's quorum and sorry server ("health" of
 * set-service-health). Parsing starts from keepalived's defaults and refuses fields the
 * checker type does not use. Returns 0 or -EINVAL with a message.
 */
int xvs_ctl_json_parse_dest_health(const json_t *o, struct xvs_dest_health_cfg *h, char *msg,
				   size_t msglen);
int xvs_ctl_json_parse_svc_health(const json_t *o, struct xvs_svc_health_cfg *h, char *msg,
				  size_t msglen);
/*
 * The settings of a health JSON object h into op's reference-counted copy: a real server's
 * (op->dest_hc) when dest, else a service's (op->svc_hc). 0, -EINVAL with msg, or -ENOMEM.
 */
int xvs_ctl_json_health_into_op(const json_t *h, bool dest, struct xvs_ctl_op *op, char *msg,
				size_t msglen);
json_t *xvs_ctl_json_dest_health(const struct xvs_dest_health_cfg *h);
json_t *xvs_ctl_json_svc_health(const struct xvs_svc_health_cfg *h);

/*
 * Bodies of GET /v1/services (rates and health may be NULL: then no live check status),
 * /v1/status and /v1/stats (shm may be NULL).
 */
json_t *xvs_ctl_json_services(const struct xvs_ctl_model *m, const struct xvs_ctl_rates *rates,
			      struct xvs_health *health);
json_t *xvs_ctl_json_status(const struct xvs_ctl_model *m, const struct xvs_shm *shm);
json_t *xvs_ctl_json_stats(const struct xvs_shm *shm);
/* GET /v1/stats?per_worker=1: add "per_worker" (one record per worker, as the summed
 * document has them) and "main_lcore" to stats. Returns 0 or -ENOMEM. */
int xvs_ctl_json_stats_add_workers(json_t *stats, const struct xvs_shm *shm);

/* {"error": msg, "errno": err, "index": index (only when >= 0)} */
json_t *xvs_ctl_json_error(int err, int index, const char *msg);

/* Format a message into msg and return -EINVAL: the shape of every JSON validation error. */
int xvs_ctl_bad(char *msg, size_t msglen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
