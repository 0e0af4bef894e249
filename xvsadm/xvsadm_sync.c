/* xvsadm's connection-sync daemon commands (xvsadm_sync.h). */
#include <errno.h>
#include <string.h>

#include "xvsadm_parse.h"
#include "xvsadm_sync.h"
#include "xvs/wire.h"

int xvs_xvsadm_daemon_op(const struct xvs_xvsadm_cmd *cmd, json_t **op)
{
	const int start = cmd->cmd == XVSADM_CMD_STARTDAEMON;
	json_t *d = json_pack("{ss}", XVS_WIRE_STATE, cmd->daemon_backup ? "backup" : "master");

	*op = NULL;
	if (d == NULL)
		return -ENOMEM;
	if (start) {
		/* only what was given: xvs-control applies IPVS's defaults to the rest */
		if (cmd->options & XVSADM_OPTBIT(XVSADM_OPT_MCAST))
			json_object_set_new(d, XVS_WIRE_MCAST_IFN, json_string(cmd->daemon.mcast_ifn));
		if (cmd->options & XVSADM_OPTBIT(XVSADM_OPT_SYNCID))
			json_object_set_new(d, XVS_WIRE_SYNCID, json_integer(cmd->daemon.syncid));
		if (cmd->options & XVSADM_OPTBIT(XVSADM_OPT_SYNC_MAXLEN))
			json_object_set_new(d, XVS_WIRE_SYNC_MAXLEN, json_integer(cmd->daemon.sync_maxlen));
		if (cmd->options & XVSADM_OPTBIT(XVSADM_OPT_MCAST_GROUP))
			json_object_set_new(d, XVS_WIRE_MCAST_GROUP, json_string(cmd->daemon.mcast_group));
		if (cmd->options & XVSADM_OPTBIT(XVSADM_OPT_MCAST_PORT))
			json_object_set_new(d, XVS_WIRE_MCAST_PORT, json_integer(cmd->daemon.mcast_port));
		if (cmd->options & XVSADM_OPTBIT(XVSADM_OPT_MCAST_TTL))
			json_object_set_new(d, XVS_WIRE_MCAST_TTL, json_integer(cmd->daemon.mcast_ttl));
	}
	*op = json_pack("{ss so}", XVS_WIRE_OP,
			start ? XVS_WIRE_OP_START_DAEMON : XVS_WIRE_OP_STOP_DAEMON, XVS_WIRE_DAEMON, d);
	return *op ? 0 : -ENOMEM;
}

int xvs_xvsadm_print_daemons(FILE *f, const json_t *daemons)
{
	size_t i;
	const json_t *d;

	if (daemons == NULL)
		return 0;
	if (!json_is_array(daemons))
		return -EPROTO;
	json_array_foreach(daemons, i, d) {
		const char *state = NULL, *ifn = NULL, *group = NULL;
		json_int_t syncid = 0, maxlen = 0, port = 0, ttl = 0;

		if (json_unpack((json_t *)d, "{s:s s:s s:I s:I s:s s:I s:I}", XVS_WIRE_STATE, &state,
				XVS_WIRE_MCAST_IFN, &ifn, XVS_WIRE_SYNCID, &syncid,
				XVS_WIRE_SYNC_MAXLEN, &maxlen, XVS_WIRE_MCAST_GROUP, &group,
				XVS_WIRE_MCAST_PORT, &port, XVS_WIRE_MCAST_TTL, &ttl) < 0)
			return -EPROTO;
		/* ipvsadm leaves out a field the kernel reports as 0 */
		fprintf(f, "%s sync daemon (mcast=%s, syncid=%lld", state, ifn, (long long)syncid);
		if (maxlen)
			fprintf(f, ", maxlen=%lld", (long long)maxlen);
		fprintf(f, ", group=%s", group);
		if (port)
			fprintf(f, ", port=%lld", (long long)port);
		if (ttl)
			fprintf(f, ", ttl=%lld", (long long)ttl);
		fputs(")\n", f);
	}
	return 0;
}
