/*
 * The state file of xvs-control: the live configuration (services, destinations, their
 * slots), the timeouts and the last generation number, as JSON, written atomically.
 */
#ifndef XVS_CTL_PERSIST_H
#define XVS_CTL_PERSIST_H

#include <stddef.h>

#include "ctl_model.h"

#define XVS_CTL_STATE_DEFAULT_PATH "/var/lib/xvs/config.json"

/*
 * Write m to path: a temporary file next to it, fsync, rename, fsync of the directory.
 * Missing directories are created with mode 0700. Control only.
 * Returns 0 or a negative errno with a message.
 */
int xvs_ctl_persist_save(const struct xvs_ctl_model *m, const char *path, char *msg, size_t msglen);

/*
 * Load path into m, which must be empty (fresh from xvs_ctl_model_new). Each object goes back
 * to its saved slot. Returns 0, -ENOENT when there is no state file (m untouched), or another
 * negative errno with a message (m untouched).
 */
int xvs_ctl_persist_load(struct xvs_ctl_model *m, const char *path, char *msg, size_t msglen);

#endif
