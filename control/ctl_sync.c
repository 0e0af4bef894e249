/* The connection-sync daemons: ops, JSON, model (ctl_sync.h). */
#include <errno.h>
#include <string.h>

#include "ctl_json.h"
#include "ctl_json_priv.h"
#include "ctl_model_priv.h"
#include "ctl_sync.h"
#include "xvs/sync.h"
#include "xvs/wire.h"

static const char *const state_names[2] = {"master", "backup"};

/* IPVS's defaults and clamps (start_sync_thread), for a daemon on a link of MTU 1500. */
static void daemon_defaults(struct xvs_sync_daemon *d, unsigned which, int maxlen_given)
{
	unsigned hlen = d->group_af == XVS_AF_INET6 ? XVS_SYNC_UDP_IP6_HLEN : XVS_SYNC_UDP_IP4_HLEN;
	unsigned min = which == XVS_SYNC_BACKUP ? XVS_SYNC_MAXLEN_MIN_BACKUP : 1;
	if (!maxlen_given)
		d->maxlen = (uint16_t)(1500 - hlen);
	else if (d->maxlen < min)
		d->maxlen = (uint16_t)min;
	else if (d->maxlen > 65535 - hlen)
		d->maxlen = (uint16_t)(65535 - hlen);
}

int xvs_ctl_json_parse_daemon_op(const json_t *o, int start, struct xvs_ctl_op *op, char *msg,
				 size_t msglen)
{
	static const char *const op_keys[] = {XVS_WIRE_OP, XVS_WIRE_DAEMON, NULL};
	static const char *const keys[] = {XVS_WIRE_STATE, XVS_WIRE_MCAST_IFN, XVS_WIRE_SYNCID,
					   XVS_WIRE_SYNC_MAXLEN, XVS_WIRE_MCAST_GROUP,
					   XVS_WIRE_MCAST_PORT, XVS_WIRE_MCAST_TTL, NULL};
	static const char *const stop_keys[] = {XVS_WIRE_STATE, NULL};
	const char *what = start ? XVS_WIRE_OP_START_DAEMON : XVS_WIRE_OP_STOP_DAEMON;
	int rc = xvs_ctl_json_keys(o, what, op_keys, NULL, msg, msglen);
	if (rc)
		return rc;
	const json_t *d = json_object_get(o, XVS_WIRE_DAEMON);
	if (!json_is_object(d))
		return xvs_ctl_bad(msg, msglen, "%s: missing 'daemon'", what);
	if ((rc = xvs_ctl_json_keys(d, "daemon", start ? keys : stop_keys, NULL, msg, msglen)))
		return rc;
	const char *state = NULL, *ifn = "eth0";
	if ((rc = xvs_ctl_json_str(d, XVS_WIRE_STATE, "daemon", &state, msg, msglen)))
		return rc;
	if (!state || (strcmp(state, "master") != 0 && strcmp(state, "backup") != 0))
		return xvs_ctl_bad(msg, msglen, "daemon.state: expected \"master\" or \"backup\"");
	op->daemon_which = strcmp(state, "backup") == 0 ? XVS_SYNC_BACKUP : XVS_SYNC_MASTER;
	struct xvs_sync_daemon *c = &op->daemon;
	memset(c, 0, sizeof(*c));
	if (!start)
		return 0;
	int64_t syncid = 0, maxlen = 0, port = XVS_SYNC_PORT_DEFAULT, ttl = XVS_SYNC_TTL_DEFAULT;
	if ((rc = xvs_ctl_json_str(d, XVS_WIRE_MCAST_IFN, "daemon", &ifn, msg, msglen)) ||
	    (rc = xvs_ctl_json_int(d, XVS_WIRE_SYNCID, "daemon", 0, 255, &syncid, msg, msglen)) ||
	    (rc = xvs_ctl_json_int(d, XVS_WIRE_SYNC_MAXLEN, "daemon", 0, 65535, &maxlen, msg, msglen)) ||
	    (rc = xvs_ctl_json_int(d, XVS_WIRE_MCAST_PORT, "daemon", 1, 65535, &port, msg, msglen)) ||
	    (rc = xvs_ctl_json_int(d, XVS_WIRE_MCAST_TTL, "daemon", 1, 255, &ttl, msg, msglen)))
		return rc;
	if (!xvs_sync_ifname_ok(ifn))
		return xvs_ctl_bad(msg, msglen, "daemon.mcast_ifn: '%s' is not an interface name", ifn);
	memcpy(c->ifname, ifn, strlen(ifn));
	c->group_af = XVS_AF_INET;
	c->group.v4 = __builtin_bswap32(XVS_SYNC_GROUP_DEFAULT);
	if (json_object_get(d, XVS_WIRE_MCAST_GROUP)) {
		if ((rc = xvs_ctl_json_ip(d, XVS_WIRE_MCAST_GROUP, "daemon", &c->group_af, &c->group, msg,
					  msglen)))
			return rc;
		int mc = c->group_af == XVS_AF_INET ? (c->group.v6[0] & 0xf0) == 0xe0
						    : c->group.v6[0] == 0xff;
		if (!mc)
			return xvs_ctl_bad(msg, msglen, "daemon.mcast_group: not a multicast address");
	}
	c->on = 1;
	c->syncid = (uint8_t)syncid;
	c->port = (uint16_t)port;
	c->ttl = (uint8_t)ttl;
	c->maxlen = (uint16_t)maxlen;
	daemon_defaults(c, op->daemon_which, maxlen != 0);
	return 0;
}

json_t *xvs_ctl_json_daemons(const struct xvs_ctl_model *m)
{
	json_t *a = json_array();
	for (unsigned i = 0; a && i < 2; i++) {
		const struct xvs_sync_daemon *d = &m->sync[i];
		if (!d->on)
			continue;
		char group[64];
		xvs_ctl_json_ip_str(d->group_af, &d->group, group, sizeof(group));
		json_array_append_new(a, json_pack("{ss ss si si ss si si}", XVS_WIRE_STATE,
						   state_names[i], XVS_WIRE_MCAST_IFN, d->ifname,
						   XVS_WIRE_SYNCID, (int)d->syncid,
						   XVS_WIRE_SYNC_MAXLEN, (int)d->maxlen,
						   XVS_WIRE_MCAST_GROUP, group, XVS_WIRE_MCAST_PORT,
						   (int)d->port, XVS_WIRE_MCAST_TTL, (int)d->ttl));
	}
	return a;
}

int xvs_ctl_model_daemon_op(struct xvs_ctl_model *m, const struct xvs_ctl_op *op,
			    struct xvs_ctl_err *err)
{
	struct xvs_sync_daemon *d = &m->sync[op->daemon_which & 1];
	if (op->type == XVS_CTL_OP_START_DAEMON) {
		if (d->on)
			return xvs_ctl_model_fail(err, EEXIST, "Daemon has already run");
		*d = op->daemon;
		return 0;
	}
	if (!d->on)
		return xvs_ctl_model_fail(err, ESRCH, "No daemon is running");
	memset(d, 0, sizeof(*d));
	return 0;
}

void xvs_ctl_sync_stats_add(struct xvs_sync_stats *a, const struct xvs_sync_stats *b)
{
	uint64_t *x = (uint64_t *)a;
	const uint64_t *y = (const uint64_t *)b;
	for (size_t i = 0; i < sizeof(*a) / sizeof(uint64_t); i++)
		x[i] += y[i];
}

json_t *xvs_ctl_json_sync_stats(const struct xvs_sync_stats *s)
{
	json_t *r = json_object();
	for (int e = XVS_SYNC_E_SHORT; r && e < XVS_SYNC_E_MAX; e++)
		json_object_set_new(r, xvs_sync_err_name((enum xvs_sync_err)e),
				    json_integer((json_int_t)s->refused[e]));
	return json_pack("{sI sI sI sI sI sI sI sI sI sI so}", "queued", (json_int_t)s->queued,
			 "ring_full", (json_int_t)s->ring_full, "applied", (json_int_t)s->applied,
			 "no_dest", (json_int_t)s->no_dest, "no_room", (json_int_t)s->no_room,
			 "msgs_sent", (json_int_t)s->msgs_sent, "conns_sent",
			 (json_int_t)s->conns_sent, "send_errors", (json_int_t)s->send_errors,
			 "msgs_recv", (json_int_t)s->msgs_recv, "conns_recv",
			 (json_int_t)s->conns_recv, "refused", r ? r : json_object());
}
