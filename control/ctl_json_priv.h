/*
 * Field helpers of the JSON layer, shared by ctl_json.c and ctl_json_health.c; not for
 * other modules. They check shapes and types only. Absent fields leave *out alone and
 * succeed (the caller set the default); failures return -EINVAL with a message.
 */
#ifndef XVS_CTL_JSON_PRIV_H
#define XVS_CTL_JSON_PRIV_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "xvs/addr.h"

/* o must be an object whose keys are all in known or extra (NULL-terminated lists). */
int xvs_ctl_json_keys(const json_t *o, const char *what, const char *const *known,
		      const char *const *extra, char *msg, size_t msglen);
int xvs_ctl_json_int(const json_t *o, const char *key, const char *what, int64_t min,
		     int64_t max, int64_t *out, char *msg, size_t msglen);
int xvs_ctl_json_str(const json_t *o, const char *key, const char *what, const char **out,
		     char *msg, size_t msglen);
int xvs_ctl_json_bool(const json_t *o, const char *key, const char *what, bool *out,
		      char *msg, size_t msglen);
/* An IPv4 or IPv6 address in text; its family is XVS_AF_*. */
int xvs_ctl_json_ip(const json_t *o, const char *key, const char *what, uint8_t *af,
		    union xvs_ip *ip, char *msg, size_t msglen);
/* The text form of an address. */
void xvs_ctl_json_ip_str(uint8_t af, const union xvs_ip *ip, char *buf, size_t len);

#endif
