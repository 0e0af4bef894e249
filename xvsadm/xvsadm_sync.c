/* xvsadm's connection-sync daemon commands (xvsadm_sync.h). */
#include <errno.h>
#include <string.h>

#include "xvsadm_parse.h"
#include "xvsadm_sync.h"

int xvs_xvsadm_daemon_op(const struct xvs_xvsadm_cmd *cmd, json_t **op)
{
	const int start = cmd->cmd == XVSADM_CMD_STARTDAEMON;
	json_t *d = json_pack("{ss}", "state", cmd->daemon_backup ? "backup" : "master");

	*op = NULL;
	if (d == NULL)
		return -ENOMEM;
	if (start) {
		/* only what was given: xvs-control applies IPVS's defaults to the rest */
		if (cmd->options & XVSADM_OPTBIT(XVSADM_OPT_MCAST))
			json_object_set_new(d, "mcast_ifn", json_string(cmd->daemon.mcast_ifn));
		if (cmd->options & XVSADM_OPTBIT(XVSADM_OPT_SYNCID))
			json_object_set_new(d, "syncid", json_integer(cmd->daemon.syncid));
		if (cmd->options & XVSADM_OPTBIT(XVSADM_OPT_SYNC_MAXLEN))
			json_object_set_new(d, "sync_maxlen", json_integer(cmd->daemon.sync_maxlen));
		if (cmd->options & XVSADM_OPTBIT(XVSADM_OPT_MCAST_GROUP))
			json_object_set_new(d, "mcast_group", json_string(cmd->daemon.mcast_group));
		if (cmd->options & XVSADM_OPTBIT(XVSADM_OPT_MCAST_PORT))
			json_object_set_new(d, "mcast_port", json_integer(cmd->daemon.mcast_port));
		if (cmd->options & XVSADM_OPTBIT(XVSADM_OPT_MCAST_TTL))
			json_object_set_new(d, "mcast_ttl", json_integer(cmd->daemon.mcast_ttl));
	}
	*op = json_pack("{ss so}", "op", start ? "start-daemon" : "stop-daemon", "daemon", d);
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

		if (json_unpack((json_t *)d, "{s:s s:s s:I s:I s:s s:I s:I}", "state", &state,
				"mcast_ifn", &ifn, "syncid", &syncid, "sync_maxlen", &maxlen,
				"mcast_group", &group, "mcast_port", &port, "mcast_ttl", &ttl) < 0)
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
