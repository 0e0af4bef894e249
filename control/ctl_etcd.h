/*
 * One configuration for a fleet: xvs-control takes its services from an etcd v3 prefix
 * (docs/scale-out.md, "One configuration in etcd"). The values under the prefix, in key order,
 * are keepalived.conf text (virtual_server blocks, ctl_kaconf.h); a thread reads them through
 * etcd's HTTP/JSON gateway (libcurl, jansson), watches the prefix and commits every change as
 * one transaction, as a keepalived.conf reload does. While etcd cannot be reached the running
 * configuration (and the state file behind it) stays as it is.
 */
#ifndef XVS_CTL_ETCD_H
#define XVS_CTL_ETCD_H

#include <pthread.h>
#include <stddef.h>

#include "ctl_kaconf.h"
#include "ctl_publish.h"

#define XVS_ETCD_MAX_ENDPOINTS 8
#define XVS_ETCD_DEFAULT_PREFIX "/xvs/"
#define XVS_ETCD_MAX_BYTES (16u << 20) /* the most text the prefix may hold */

struct xvs_etcd_opts {
	const char *endpoints; /* "http://10.0.0.5:2379[,http://...]" */
	const char *prefix;    /* the keys' prefix (XVS_ETCD_DEFAULT_PREFIX) */
	const char *cache;     /* where the text read last is written for the loader */
	const char *config_id; /* keepalived's @ID lines (NULL: the host name) */
};

struct xvs_etcd;

/* 0 when endpoints is a list of 1..XVS_ETCD_MAX_ENDPOINTS http:// or https:// URLs, else
 * -EINVAL with why in msg. */
int xvs_etcd_check_endpoints(const char *endpoints, char *msg, size_t msglen);

/* The range end of etcd's prefix queries: prefix with its last byte that is not 0xff
 * incremented and what follows dropped; "\0" (every key from prefix on) when there is none.
 * Writes len bytes to end (at most prefix_len). Pure; for the tests. */
size_t xvs_etcd_range_end(const char *prefix, size_t prefix_len, char *end);

/*
 * The configuration text of an etcd range answer (the JSON of POST /v3/kv/range): each value
 * in key order after a "# etcd key KEY" line. Returns the text (malloc'd, the caller's), the
 * store's revision in *rev and the number of keys in *nb_keys; NULL with why in msg for an
 * answer that is not one, a value that is not text, or more than XVS_ETCD_MAX_BYTES.
 */
char *xvs_etcd_range_text(const char *json, size_t len, long long *rev, unsigned *nb_keys,
			  char *msg, size_t msglen);

/* Start the thread. The caller holds nothing; the thread takes lock around every commit and
 * keeps the loaded configuration in *held (as xvs_kaconf_reload does). NULL with why in msg. */
struct xvs_etcd *xvs_etcd_start(const struct xvs_etcd_opts *o, struct xvs_ctl *ctl,
				pthread_mutex_t *lock, struct xvs_kaconf **held, char *msg,
				size_t msglen);

/* Read the prefix again now (SIGHUP). */
void xvs_etcd_kick(struct xvs_etcd *e);

/* Stop the thread (within about a second) and free it. NULL is fine. */
void xvs_etcd_stop(struct xvs_etcd *e);

#endif
