/*
 * xvsadm command-line parsing: the same options, defaults, checks, messages and exit
 * statuses as ipvsadm 1.31 (see docs/xvsadm.md for the few intended differences).
 * popt does the tokenising, so bundles (-Ln), optional values (-p [timeout]) and popt's
 * own errors behave exactly as in ipvsadm.
 */
#include "xvsadm_parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <popt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xvs/sync.h"

/* Tags for options that have no short letter; above ASCII so they never clash. */
enum {
	TAG_SET = 128, TAG_START_DAEMON, TAG_STOP_DAEMON, TAG_MCAST_INTERFACE, TAG_TIMEOUT,
	TAG_DAEMON, TAG_STATS, TAG_RATE, TAG_THRESHOLDS, TAG_PERSISTENTCONN, TAG_SORT,
	TAG_NO_SORT, TAG_PE, TAG_SCTP_SERVICE, TAG_MCAST_GROUP, TAG_MCAST_PORT, TAG_MCAST_TTL,
	TAG_SYNC_MAXLEN, TAG_TUN_INFO, TAG_TUN_TYPE, TAG_TUN_PORT, TAG_TUN_NOCSUM,
	TAG_TUN_CSUM, TAG_TUN_REMCSUM, TAG_SYNCID, TAG_JSON, TAG_STATUS,
	TAG_ADD_MARK, TAG_DEL_MARK, TAG_LIST_MARKS, TAG_MARK_PROTO, TAG_MARK_DST, TAG_MARK_DPORT,
	TAG_MARK, TAG_HEALTH, TAG_DROPS, TAG_TRACE, TAG_CLIENT,
};

static const char *const cmd_names[] = {
	[XVSADM_CMD_ADD] = "add-service",     [XVSADM_CMD_EDIT] = "edit-service",
	[XVSADM_CMD_DEL] = "delete-service",  [XVSADM_CMD_FLUSH] = "flush",
	[XVSADM_CMD_LIST] = "list",           [XVSADM_CMD_ADDDEST] = "add-server",
	[XVSADM_CMD_DELDEST] = "delete-server", [XVSADM_CMD_EDITDEST] = "edit-server",
	[XVSADM_CMD_TIMEOUT] = "set",         [XVSADM_CMD_STARTDAEMON] = "start-daemon",
	[XVSADM_CMD_STOPDAEMON] = "stop-daemon", [XVSADM_CMD_RESTORE] = "restore",
	[XVSADM_CMD_SAVE] = "save",           [XVSADM_CMD_ZERO] = "zero",
	[XVSADM_CMD_HELP] = "help",           [XVSADM_CMD_VERSION] = "version",
	[XVSADM_CMD_STATUS] = "status",       [XVSADM_CMD_ADDMARK] = "add-mark",
	[XVSADM_CMD_DELMARK] = "del-mark",    [XVSADM_CMD_LISTMARKS] = "list-marks",
	[XVSADM_CMD_TRACE] = "trace",
};

static const char *const opt_names[XVSADM_NB_OPTS] = {
	"numeric", "connection", "service-address", "scheduler", "persistent", "netmask",
	"real-server", "forwarding-method", "weight", "u-threshold", "l-threshold",
	"mcast-interface", "timeout", "daemon", "stats", "rate", "thresholds",
	"persistent-conn", "nosort", "syncid", "exact", "ops", "pe", "sched-flags",
	"mcast-group", "mcast-port", "mcast-ttl", "sync-maxlen", "tun-info", "tun-type",
	"tun-port", "tun-nocsum", "tun-csum", "tun-remcsum", "json", "proto", "dst", "dport",
	"mark", "health", "drops", "client",
};

/*
 * Which options each command takes, one character per option in enum xvs_xvsadm_opt
 * order: 'x' illegal, '+' required, '1' at most one of the '1's, ' ' optional. The last
 * eight columns are xvs's own: --json goes with listings (and --trace) only, --proto, --dst,
 * --dport and --mark with the mark rule commands, --health and --drops with -L, --client with
 * --trace.
 *                    n c s s p M r f w x y m t d s r t p n s e o p b g p t s t t t n c r j p d d m h d c
 *                      c v c     f       c o m t t h c s i x p e   r o t z i y p o s m s r s p k l r l */
static const char cmd_opts[][XVSADM_NB_OPTS + 1] = {
	[XVSADM_CMD_ADD]         = "xx+   xxxxxxxxxxxxxxx   xxxxxxxxxxxxxxxxxx",
	[XVSADM_CMD_EDIT]        = "xx+   xxxxxxxxxxxxxxx   xxxxxxxxxxxxxxxxxx",
	[XVSADM_CMD_DEL]         = "xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	[XVSADM_CMD_FLUSH]       = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	[XVSADM_CMD_LIST]        = " 11xxxxxxxxx11       xxxxxxx xxxxx xxxx  x",
	[XVSADM_CMD_ADDDEST]     = "xx+xxx+    xxxxxxxxxxxxxxxxxx     xxxxxxxx",
	[XVSADM_CMD_DELDEST]     = "xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	[XVSADM_CMD_EDITDEST]    = "xx+xxx+    xxxxxxxxxxxxxxxxxx     xxxxxxxx",
	[XVSADM_CMD_TIMEOUT]     = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	[XVSADM_CMD_STARTDAEMON] = "xxxxxxxxxxx xxxxxxx xxxx    xxxxxxxxxxxxxx",
	[XVSADM_CMD_STOPDAEMON]  = "xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxxxxxxxxxx",
	[XVSADM_CMD_RESTORE]     = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	[XVSADM_CMD_SAVE]        = " xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	[XVSADM_CMD_ZERO]        = "xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	[XVSADM_CMD_STATUS]      = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx xxxxxxx",
	[XVSADM_CMD_ADDMARK]     = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx + +xxx",
	[XVSADM_CMD_DELMARK]     = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx +  xxx",
	[XVSADM_CMD_LISTMARKS]   = " xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx xxxxxxx",
	[XVSADM_CMD_TRACE]       = "xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx xxxxxx+",
};

/* Tunnel options against tunnel types, same key as cmd_opts: tun-port nocsum csum remcsum. */
static const char *const tun_names[] = { "ipip", "gue", "gre" };
static const char tun_opts[][5] = {
	[XVSADM_TUN_IPIP] = "xxxx",
	[XVSADM_TUN_GUE]  = "+111",
	[XVSADM_TUN_GRE]  = "x11x",
};

/* Parse results of an address[:port] argument, as ipvsadm reports them. */
#define ADDR_SET 0x1
#define PORT_SET 0x2

/* Text kept between the option loop and the final checks. */
struct parse_state {
	char netmask[64];
	char sched_flags[128];
	int dest_port_set;
};

const char *xvs_xvsadm_cmd_name(enum xvs_xvsadm_cmd_kind cmd)
{
	if (cmd <= XVSADM_CMD_NONE || cmd > XVSADM_CMD_TRACE)
		return "none";
	return cmd_names[cmd];
}

int xvs_xvsadm_cmd_is_change(enum xvs_xvsadm_cmd_kind cmd)
{
	switch (cmd) {
	case XVSADM_CMD_ADD: case XVSADM_CMD_EDIT: case XVSADM_CMD_DEL: case XVSADM_CMD_FLUSH:
	case XVSADM_CMD_ADDDEST: case XVSADM_CMD_DELDEST: case XVSADM_CMD_EDITDEST:
	case XVSADM_CMD_TIMEOUT: case XVSADM_CMD_ZERO: case XVSADM_CMD_ADDMARK:
	case XVSADM_CMD_DELMARK: case XVSADM_CMD_STARTDAEMON: case XVSADM_CMD_STOPDAEMON:
		return 1;
	default:
		return 0;
	}
}

/* Record a failure the way ipvsadm's fail() would print it; returns -EINVAL to pass up. */
__attribute__((format(printf, 3, 4)))
static int fail(struct xvs_xvsadm_err *err, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	err->status = status;
	return -EINVAL;
}

static int tryhelp(struct xvs_xvsadm_err *err)
{
	return fail(err, 255, "Try `%s -h' or '%s --help' for more information.",
		    XVSADM_PROG, XVSADM_PROG);
}

/* A whole-string decimal number in [min, max], or -1 (ipvsadm's string_to_number). */
static long long to_number(const char *s, long long min, long long max)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || errno == ERANGE || v < min || v > max)
		return -1;
	return v;
}

static int all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static const char *proto_service_name(uint16_t proto)
{
	switch (proto) {
	case IPPROTO_UDP: return "udp";
	case IPPROTO_SCTP: return "sctp";
	default: return "tcp";
	}
}

/* IPv4 literal (inet_aton forms, as ipvsadm) or a name resolved to IPv4. */
static int parse_host_v4(const char *s, union xvs_ip *ip)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res;
	struct in_addr in;

	if (inet_aton(s, &in) != 0) {
		memset(ip, 0, sizeof(*ip));
		ip->v4 = in.s_addr;
		return 0;
	}
	if (*s == '\0' || getaddrinfo(s, NULL, &hints, &res) != 0)
		return -ENOENT;
	memset(ip, 0, sizeof(*ip));
	ip->v4 = ((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr;
	freeaddrinfo(res);
	return 0;
}

static int parse_port(const char *s, uint16_t proto, uint16_t *port)
{
	long long n = to_number(s, 0, 65535);
	struct servent *se;

	if (n >= 0) {
		*port = (uint16_t)n;
		return 0;
	}
	se = getservbyname(s, proto_service_name(proto));
	if (se == NULL)
		return -ENOENT;
	*port = ntohs((uint16_t)se->s_port);
	return 0;
}

/*
 * host[:port], [v6]:port or a bare v6 address. Returns ADDR_SET|PORT_SET bits, 0 when
 * the text is not valid (ipvsadm's parse_service).
 */
static int parse_addrport(const char *arg, uint16_t proto, int *af, union xvs_ip *ip,
			  uint16_t *port)
{
	char buf[256];
	char *host = buf, *portp = NULL;
	struct in6_addr in6;

	if (arg == NULL || strlen(arg) >= sizeof(buf) || all_digits(arg))
		return 0;
	strcpy(buf, arg);
	if (buf[0] == '[') {
		host = buf + 1;
		portp = strchr(host, ']');
		if (portp == NULL || portp[1] != ':')
			return 0;
		*portp++ = '\0';
	}
	if (inet_pton(AF_INET6, host, &in6) > 0) {
		*af = AF_INET6;
		memcpy(ip->v6, &in6, 16);
	} else {
		portp = strrchr(host, ':');
		if (portp != NULL)
			*portp = '\0';
		if (parse_host_v4(host, ip) != 0)
			return 0;
		*af = AF_INET;
	}
	if (portp == NULL)
		return ADDR_SET;
	if (parse_port(portp + 1, proto, port) != 0)
		return 0;
	return ADDR_SET | PORT_SET;
}

static int set_option(struct xvs_xvsadm_cmd *cmd, enum xvs_xvsadm_opt opt,
		      struct xvs_xvsadm_err *err)
{
	if (cmd->options & XVSADM_OPTBIT(opt))
		return fail(err, 2, "multiple '%s' options specified", opt_names[opt]);
	cmd->options |= XVSADM_OPTBIT(opt);
	return 0;
}

/* -t, -u, --sctp-service: the virtual service address. */
static int opt_service(struct xvs_xvsadm_cmd *cmd, uint16_t proto, const char *arg,
		       struct xvs_xvsadm_err *err)
{
	int rc = set_option(cmd, XVSADM_OPT_SERVICE, err);

	if (rc)
		return rc;
	cmd->svc.proto = proto;
	if (!(parse_addrport(arg, proto, &cmd->svc.af, &cmd->svc.addr, &cmd->svc.port) & ADDR_SET))
		return fail(err, 2, "illegal virtual server address[:port] specified");
	return 0;
}

static int opt_fwmark(struct xvs_xvsadm_cmd *cmd, const char *arg, struct xvs_xvsadm_err *err)
{
	int rc = set_option(cmd, XVSADM_OPT_SERVICE, err);
	long long mark;

	if (rc)
		return rc;
	mark = to_number(arg, 1, UINT32_MAX);
	if (mark < 0)
		return fail(err, 2, "invalid fwmark value `%s' specified", arg ? arg : "");
	cmd->svc.fwmark = (uint32_t)mark;
	cmd->svc.af = AF_INET;
	cmd->svc.proto = IPPROTO_TCP;
	return 0;
}

static int opt_server(struct xvs_xvsadm_cmd *cmd, const char *arg, struct xvs_xvsadm_err *err,
		      struct parse_state *st)
{
	int rc = set_option(cmd, XVSADM_OPT_SERVER, err);
	int parsed;

	if (rc)
		return rc;
	parsed = parse_addrport(arg, cmd->svc.proto, &cmd->dest.af, &cmd->dest.addr,
				&cmd->dest.port);
	if (!(parsed & ADDR_SET))
		return fail(err, 2, "illegal real server address[:port] specified");
	st->dest_port_set = !!(parsed & PORT_SET);
	return 0;
}

/* --client address[:port] (--trace): numeric, as a packet's source is. */
static int opt_client(struct xvs_xvsadm_cmd *cmd, const char *arg, struct xvs_xvsadm_err *err)
{
	int rc = set_option(cmd, XVSADM_OPT_CLIENT, err);
	char buf[INET6_ADDRSTRLEN + 16];
	char *host = buf, *port = NULL;
	long long n = 0;

	if (rc)
		return rc;
	if (arg == NULL || strlen(arg) >= sizeof(buf))
		return fail(err, 2, "illegal client address[:port] specified");
	strcpy(buf, arg);
	memset(&cmd->client.addr, 0, sizeof(cmd->client.addr));
	if (buf[0] == '[') {
		host = buf + 1;
		port = strchr(host, ']');
		if (port == NULL || (port[1] != ':' && port[1] != '\0'))
			return fail(err, 2, "illegal client address[:port] specified");
		*port++ = '\0';
		port = *port == ':' ? port + 1 : NULL;
	} else if (strchr(buf, ':') == strrchr(buf, ':') && (port = strchr(buf, ':')) != NULL) {
		*port++ = '\0'; /* one colon: IPv4 address:port */
	}
	if (inet_pton(AF_INET, host, &cmd->client.addr.v4) == 1)
		cmd->client.af = AF_INET;
	else if (inet_pton(AF_INET6, host, cmd->client.addr.v6) == 1)
		cmd->client.af = AF_INET6;
	else
		return fail(err, 2, "illegal client address[:port] specified");
	if (port != NULL && (n = to_number(port, 1, 65535)) < 0)
		return fail(err, 2, "illegal client port specified");
	cmd->client.port = (uint16_t)n;
	return 0;
}

static int opt_number(struct xvs_xvsadm_cmd *cmd, enum xvs_xvsadm_opt opt, const char *arg,
		      long long min, long long max, long long *out, const char *what,
		      struct xvs_xvsadm_err *err)
{
	int rc = set_option(cmd, opt, err);

	if (rc)
		return rc;
	*out = to_number(arg, min, max);
	if (*out < 0)
		return fail(err, 2, "illegal %s specified", what);
	return 0;
}

static int opt_timeout_value(const char *arg, long long min, uint32_t *out,
			     struct xvs_xvsadm_err *err)
{
	long long v;

	if (arg == NULL) { /* -p without a value */
		*out = XVSADM_PERSISTENT_TIMEOUT;
		return 0;
	}
	v = to_number(arg, min, XVSADM_MAX_TIMEOUT);
	if (v < 0)
		return fail(err, 2, "invalid timeout value `%s' specified", arg);
	*out = (uint32_t)v;
	return 0;
}

static int opt_forward(struct xvs_xvsadm_cmd *cmd, int fwd, struct xvs_xvsadm_err *err)
{
	int rc = set_option(cmd, XVSADM_OPT_FORWARD, err);

	if (rc == 0)
		cmd->dest.fwd = fwd;
	return rc;
}

static int opt_tun_type(struct xvs_xvsadm_cmd *cmd, const char *arg, struct xvs_xvsadm_err *err)
{
	int rc = set_option(cmd, XVSADM_OPT_TUN_TYPE, err);

	if (rc)
		return rc;
	for (size_t i = 0; i < sizeof(tun_names) / sizeof(tun_names[0]); i++) {
		if (arg && strcmp(arg, tun_names[i]) == 0) {
			cmd->dest.tun_type = (int)i;
			return 0;
		}
	}
	return fail(err, 2, "illegal tunnel type specified");
}

static int opt_daemon_state(struct xvs_xvsadm_cmd *cmd, int start, const char *arg,
			    struct xvs_xvsadm_err *err)
{
	cmd->cmd = start ? XVSADM_CMD_STARTDAEMON : XVSADM_CMD_STOPDAEMON;
	if (arg && strcmp(arg, "master") == 0)
		cmd->daemon_backup = 0;
	else if (arg && strcmp(arg, "backup") == 0)
		cmd->daemon_backup = 1;
	else if (start)
		return fail(err, 2, "illegal start-daemon parameter specified");
	else
		return fail(err, 2, "illegal start_daemon specified");
	return 0;
}

/* The first option must be a command (ipvsadm: anything else is "Try ..." and 255). */
static int parse_command(int tag, const char *arg, struct xvs_xvsadm_cmd *cmd,
			 struct xvs_xvsadm_err *err)
{
	static const struct { int tag; enum xvs_xvsadm_cmd_kind cmd; } map[] = {
		{ 'A', XVSADM_CMD_ADD }, { 'E', XVSADM_CMD_EDIT }, { 'D', XVSADM_CMD_DEL },
		{ 'a', XVSADM_CMD_ADDDEST }, { 'e', XVSADM_CMD_EDITDEST },
		{ 'd', XVSADM_CMD_DELDEST }, { 'C', XVSADM_CMD_FLUSH }, { 'L', XVSADM_CMD_LIST },
		{ 'l', XVSADM_CMD_LIST }, { 'Z', XVSADM_CMD_ZERO }, { TAG_SET, XVSADM_CMD_TIMEOUT },
		{ 'R', XVSADM_CMD_RESTORE }, { 'S', XVSADM_CMD_SAVE },
		{ 'h', XVSADM_CMD_HELP }, { 'v', XVSADM_CMD_VERSION }, { TAG_STATUS, XVSADM_CMD_STATUS },
		{ TAG_ADD_MARK, XVSADM_CMD_ADDMARK }, { TAG_DEL_MARK, XVSADM_CMD_DELMARK },
		{ TAG_LIST_MARKS, XVSADM_CMD_LISTMARKS }, { TAG_TRACE, XVSADM_CMD_TRACE },
	};

	if (tag == TAG_START_DAEMON || tag == TAG_STOP_DAEMON)
		return opt_daemon_state(cmd, tag == TAG_START_DAEMON, arg, err);
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (map[i].tag == tag) {
			cmd->cmd = map[i].cmd;
			return 0;
		}
	}
	return tryhelp(err);
}

/* Options that only set a bit and maybe a format flag. */
static int parse_flag_option(int tag, struct xvs_xvsadm_cmd *cmd, struct xvs_xvsadm_err *err)
{
	static const struct { int tag; enum xvs_xvsadm_opt opt; unsigned int fmt; } map[] = {
		{ 'n', XVSADM_OPT_NUMERIC, XVSADM_FMT_NUMERIC },
		{ 'c', XVSADM_OPT_CONNECTION, 0 },
		{ TAG_TIMEOUT, XVSADM_OPT_TIMEOUT, 0 },
		{ TAG_DAEMON, XVSADM_OPT_DAEMON, 0 },
		{ TAG_STATS, XVSADM_OPT_STATS, XVSADM_FMT_STATS },
		{ TAG_RATE, XVSADM_OPT_RATE, XVSADM_FMT_RATE },
		{ TAG_THRESHOLDS, XVSADM_OPT_THRESHOLDS, XVSADM_FMT_THRESHOLDS },
		{ TAG_PERSISTENTCONN, XVSADM_OPT_PERSISTENTCONN, XVSADM_FMT_PERSISTENTCONN },
		{ TAG_NO_SORT, XVSADM_OPT_NOSORT, XVSADM_FMT_NOSORT },
		{ 'X', XVSADM_OPT_EXACT, XVSADM_FMT_EXACT },
		{ TAG_TUN_INFO, XVSADM_OPT_TUN_INFO, XVSADM_FMT_TUN_INFO },
		{ 'o', XVSADM_OPT_ONEPACKET, 0 },
		{ TAG_TUN_NOCSUM, XVSADM_OPT_TUN_NOCSUM, 0 },
		{ TAG_TUN_CSUM, XVSADM_OPT_TUN_CSUM, 0 },
		{ TAG_TUN_REMCSUM, XVSADM_OPT_TUN_REMCSUM, 0 },
		{ TAG_JSON, XVSADM_OPT_JSON, 0 },
		{ TAG_HEALTH, XVSADM_OPT_HEALTH, XVSADM_FMT_HEALTH },
		{ TAG_DROPS, XVSADM_OPT_DROPS, 0 },
	};
	int rc;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (map[i].tag != tag)
			continue;
		rc = set_option(cmd, map[i].opt, err);
		if (rc)
			return rc;
		cmd->format |= map[i].fmt;
		if (tag == 'o')
			cmd->svc.flags |= XVS_SVC_F_ONEPACKET;
		else if (tag == TAG_TUN_CSUM)
			cmd->dest.tun_csum = XVSADM_TUN_CSUM;
		else if (tag == TAG_TUN_REMCSUM)
			cmd->dest.tun_csum = XVSADM_TUN_REMCSUM;
		return 0;
	}
	return 1; /* not a flag option */
}

/* Sync-daemon parameters: checked like ipvsadm, kept for the start-daemon op. */
static int parse_daemon_option(int tag, const char *arg, struct xvs_xvsadm_cmd *cmd,
			       struct xvs_xvsadm_err *err)
{
	long long v = 0;
	struct in6_addr a;
	int rc;

	switch (tag) {
	case TAG_MCAST_INTERFACE:
		if (set_option(cmd, XVSADM_OPT_MCAST, err))
			return -EINVAL;
		/* a name no interface can have (16 bytes and more, which the kernel would cut;
		 * '/', ':', spaces) is refused */
		if (!xvs_sync_ifname_ok(arg))
			return fail(err, 2, "invalid mcast-interface `%s'", arg ? arg : "");
		strcpy(cmd->daemon.mcast_ifn, arg);
		return 0;
	case TAG_SYNCID:
		rc = opt_number(cmd, XVSADM_OPT_SYNCID, arg, 0, 255, &v, "syncid", err);
		cmd->daemon.syncid = (int)v;
		return rc;
	case TAG_MCAST_PORT:
		rc = opt_number(cmd, XVSADM_OPT_MCAST_PORT, arg, 1, 65535, &v, "mcast-port", err);
		cmd->daemon.mcast_port = (int)v;
		return rc;
	case TAG_MCAST_TTL:
		rc = opt_number(cmd, XVSADM_OPT_MCAST_TTL, arg, 1, 255, &v, "mcast-ttl", err);
		cmd->daemon.mcast_ttl = (int)v;
		return rc;
	case TAG_SYNC_MAXLEN:
		rc = opt_number(cmd, XVSADM_OPT_SYNC_MAXLEN, arg, 1, 65535 - 20 - 8, &v,
				"sync-maxlen", err);
		cmd->daemon.sync_maxlen = (int)v;
		return rc;
	case TAG_MCAST_GROUP:
		/* ipvsadm: an address with ':' must be IPv6 multicast, any other IPv4 multicast */
		if (set_option(cmd, XVSADM_OPT_MCAST_GROUP, err))
			return -EINVAL;
		if (arg && strchr(arg, ':')) {
			if (inet_pton(AF_INET6, arg, &a) <= 0 || !IN6_IS_ADDR_MULTICAST(&a))
				return fail(err, 2, "invalid IPv6 mcast-group `%s'", arg);
		} else {
			struct in_addr a4;
			if (arg == NULL || inet_pton(AF_INET, arg, &a4) <= 0 ||
			    !IN_MULTICAST(ntohl(a4.s_addr)))
				return fail(err, 2, "invalid IPv4 mcast-group `%s'", arg ? arg : "");
		}
		snprintf(cmd->daemon.mcast_group, sizeof(cmd->daemon.mcast_group), "%s", arg);
		return 0;
	}
	return 1;
}

/* --dst addr[/plen]: a numeric prefix of either family, no host bits left to the server. */
static int opt_mark_dst(struct xvs_xvsadm_cmd *cmd, const char *arg, struct xvs_xvsadm_err *err)
{
	char buf[INET6_ADDRSTRLEN + 8];
	struct xvs_xvsadm_mark *mk = &cmd->mark;
	long long plen;
	char *slash;

	if (set_option(cmd, XVSADM_OPT_MARK_DST, err))
		return -EINVAL;
	if (arg == NULL || strlen(arg) >= sizeof(buf))
		return fail(err, 2, "illegal mark destination specified");
	strcpy(buf, arg);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	memset(&mk->prefix, 0, sizeof(mk->prefix));
	if (inet_pton(AF_INET, buf, &mk->prefix.v4) == 1)
		mk->af = AF_INET;
	else if (inet_pton(AF_INET6, buf, mk->prefix.v6) == 1)
		mk->af = AF_INET6;
	else
		return fail(err, 2, "illegal mark destination specified");
	plen = mk->af == AF_INET6 ? 128 : 32;
	if (slash)
		plen = to_number(slash, 0, plen);
	if (plen < 0)
		return fail(err, 2, "illegal mark destination specified");
	mk->plen = (unsigned int)plen;
	return 0;
}

/* --dport port or lo:hi (numbers). */
static int opt_mark_dport(struct xvs_xvsadm_cmd *cmd, const char *arg, struct xvs_xvsadm_err *err)
{
	char buf[32];
	char *colon;
	long long lo, hi;

	if (set_option(cmd, XVSADM_OPT_MARK_DPORT, err))
		return -EINVAL;
	if (arg == NULL || strlen(arg) >= sizeof(buf))
		return fail(err, 2, "illegal mark port range specified");
	strcpy(buf, arg);
	colon = strchr(buf, ':');
	if (colon)
		*colon++ = '\0';
	lo = to_number(buf, 0, 65535);
	hi = colon ? to_number(colon, 0, 65535) : lo;
	if (lo < 0 || hi < 0 || lo > hi)
		return fail(err, 2, "illegal mark port range specified");
	cmd->mark.port_lo = (uint16_t)lo;
	cmd->mark.port_hi = (uint16_t)hi;
	return 0;
}

/* The options of --add-mark / --del-mark. Returns 1 when the tag is not one of them. */
static int parse_mark_option(int tag, const char *arg, struct xvs_xvsadm_cmd *cmd,
			     struct xvs_xvsadm_err *err)
{
	long long v;

	switch (tag) {
	case TAG_MARK_PROTO:
		if (set_option(cmd, XVSADM_OPT_MARK_PROTO, err))
			return -EINVAL;
		if (arg && strcmp(arg, "tcp") == 0)
			cmd->mark.proto = IPPROTO_TCP;
		else if (arg && strcmp(arg, "udp") == 0)
			cmd->mark.proto = IPPROTO_UDP;
		else if (arg && strcmp(arg, "any") == 0)
			cmd->mark.proto = 0;
		else
			return fail(err, 2, "illegal mark protocol specified (tcp, udp or any)");
		return 0;
	case TAG_MARK_DST:
		return opt_mark_dst(cmd, arg, err);
	case TAG_MARK_DPORT:
		return opt_mark_dport(cmd, arg, err);
	case TAG_MARK:
		if (set_option(cmd, XVSADM_OPT_MARK, err))
			return -EINVAL;
		v = to_number(arg, 1, UINT32_MAX);
		if (v < 0)
			return fail(err, 2, "invalid fwmark value `%s' specified", arg ? arg : "");
		cmd->mark.mark = (uint32_t)v;
		return 0;
	}
	return 1;
}

static int copy_arg(char *dst, size_t len, const char *arg)
{
	snprintf(dst, len, "%s", arg ? arg : "");
	return 0;
}

/* Options that take a value. Returns 0, -EINVAL (err set) or 1 when the tag is unknown. */
static int parse_value_option(int tag, const char *arg, struct xvs_xvsadm_cmd *cmd,
			      struct xvs_xvsadm_err *err, struct parse_state *st)
{
	long long v = 0;
	int rc;

	switch (tag) {
	case 't': return opt_service(cmd, IPPROTO_TCP, arg, err);
	case 'u': return opt_service(cmd, IPPROTO_UDP, arg, err);
	case TAG_SCTP_SERVICE: return opt_service(cmd, IPPROTO_SCTP, arg, err);
	case 'f': return opt_fwmark(cmd, arg, err);
	case 'r': return opt_server(cmd, arg, err, st);
	case TAG_CLIENT: return opt_client(cmd, arg, err);
	case 's':
		rc = set_option(cmd, XVSADM_OPT_SCHEDULER, err);
		return rc ? rc : copy_arg(cmd->svc.sched, sizeof(cmd->svc.sched), arg);
	case 'p':
		rc = set_option(cmd, XVSADM_OPT_PERSISTENT, err);
		cmd->svc.flags |= XVS_SVC_F_PERSISTENT;
		return rc ? rc : opt_timeout_value(arg, 1, &cmd->svc.timeout, err);
	case 'M':
		rc = set_option(cmd, XVSADM_OPT_NETMASK, err);
		return rc ? rc : copy_arg(st->netmask, sizeof(st->netmask), arg);
	case 'b':
		rc = set_option(cmd, XVSADM_OPT_SCHED_FLAGS, err);
		return rc ? rc : copy_arg(st->sched_flags, sizeof(st->sched_flags), arg);
	case TAG_PE:
		rc = set_option(cmd, XVSADM_OPT_PE, err);
		return rc ? rc : copy_arg(cmd->svc.pe, sizeof(cmd->svc.pe), arg);
	case 'w':
		rc = opt_number(cmd, XVSADM_OPT_WEIGHT, arg, 0, 65535, &v, "weight", err);
		cmd->dest.weight = (int)v;
		return rc;
	case 'x':
		rc = opt_number(cmd, XVSADM_OPT_UTHRESHOLD, arg, 0, INT_MAX, &v, "u_threshold", err);
		cmd->dest.u_threshold = (uint32_t)v;
		return rc;
	case 'y':
		rc = opt_number(cmd, XVSADM_OPT_LTHRESHOLD, arg, 0, INT_MAX, &v, "l_threshold", err);
		cmd->dest.l_threshold = (uint32_t)v;
		return rc;
	case TAG_TUN_TYPE: return opt_tun_type(cmd, arg, err);
	case TAG_TUN_PORT:
		rc = opt_number(cmd, XVSADM_OPT_TUN_PORT, arg, 1, 65535, &v, "tunnel port", err);
		cmd->dest.tun_port = (uint16_t)v;
		return rc;
	}
	rc = parse_mark_option(tag, arg, cmd, err);
	return rc <= 0 ? rc : parse_daemon_option(tag, arg, cmd, err);
}

/* One option after the command. */
static int parse_one_option(int tag, const char *arg, const char *opt_text,
			    struct xvs_xvsadm_cmd *cmd, struct xvs_xvsadm_err *err,
			    struct parse_state *st)
{
	int rc;

	switch (tag) {
	case 'i': return opt_forward(cmd, XVS_FWD_TUNNEL, err);
	case 'g': return opt_forward(cmd, XVS_FWD_DROUTE, err);
	case 'm': return opt_forward(cmd, XVS_FWD_MASQ, err);
	case TAG_SORT: return 0; /* sorting is the default; kept for compatibility */
	case '6':
		if (cmd->svc.fwmark == 0)
			return fail(err, 2, "-6 used before -f\n"); /* ipvsadm prints an empty line after it */
		cmd->svc.af = AF_INET6;
		return 0;
	}
	rc = parse_flag_option(tag, cmd, err);
	if (rc <= 0)
		return rc;
	rc = parse_value_option(tag, arg, cmd, err, st);
	if (rc <= 0)
		return rc;
	/* A second command, or an option ipvsadm never accepts after the command. */
	return fail(err, 2, "invalid option `%s'", opt_text ? opt_text : "");
}

/* The option table handed to popt; values are fetched with poptGetOptArg. */
static const struct poptOption popt_table[] = {
	{ "add-service", 'A', POPT_ARG_NONE, NULL, 'A', NULL, NULL },
	{ "edit-service", 'E', POPT_ARG_NONE, NULL, 'E', NULL, NULL },
	{ "delete-service", 'D', POPT_ARG_NONE, NULL, 'D', NULL, NULL },
	{ "clear", 'C', POPT_ARG_NONE, NULL, 'C', NULL, NULL },
	{ "list", 'L', POPT_ARG_NONE, NULL, 'L', NULL, NULL },
	{ "list", 'l', POPT_ARG_NONE, NULL, 'l', NULL, NULL },
	{ "zero", 'Z', POPT_ARG_NONE, NULL, 'Z', NULL, NULL },
	{ "add-server", 'a', POPT_ARG_NONE, NULL, 'a', NULL, NULL },
	{ "edit-server", 'e', POPT_ARG_NONE, NULL, 'e', NULL, NULL },
	{ "delete-server", 'd', POPT_ARG_NONE, NULL, 'd', NULL, NULL },
	{ "set", '\0', POPT_ARG_NONE, NULL, TAG_SET, NULL, NULL },
	{ "help", 'h', POPT_ARG_NONE, NULL, 'h', NULL, NULL },
	{ "version", 'v', POPT_ARG_NONE, NULL, 'v', NULL, NULL },
	{ "restore", 'R', POPT_ARG_NONE, NULL, 'R', NULL, NULL },
	{ "save", 'S', POPT_ARG_NONE, NULL, 'S', NULL, NULL },
	{ "start-daemon", '\0', POPT_ARG_STRING, NULL, TAG_START_DAEMON, NULL, NULL },
	{ "stop-daemon", '\0', POPT_ARG_STRING, NULL, TAG_STOP_DAEMON, NULL, NULL },
	{ "tcp-service", 't', POPT_ARG_STRING, NULL, 't', NULL, NULL },
	{ "udp-service", 'u', POPT_ARG_STRING, NULL, 'u', NULL, NULL },
	{ "sctp-service", '\0', POPT_ARG_STRING, NULL, TAG_SCTP_SERVICE, NULL, NULL },
	{ "fwmark-service", 'f', POPT_ARG_STRING, NULL, 'f', NULL, NULL },
	{ "scheduler", 's', POPT_ARG_STRING, NULL, 's', NULL, NULL },
	{ "persistent", 'p', POPT_ARG_STRING | POPT_ARGFLAG_OPTIONAL, NULL, 'p', NULL, NULL },
	{ "netmask", 'M', POPT_ARG_STRING, NULL, 'M', NULL, NULL },
	{ "real-server", 'r', POPT_ARG_STRING, NULL, 'r', NULL, NULL },
	{ "masquerading", 'm', POPT_ARG_NONE, NULL, 'm', NULL, NULL },
	{ "ipip", 'i', POPT_ARG_NONE, NULL, 'i', NULL, NULL },
	{ "gatewaying", 'g', POPT_ARG_NONE, NULL, 'g', NULL, NULL },
	{ "weight", 'w', POPT_ARG_STRING, NULL, 'w', NULL, NULL },
	{ "u-threshold", 'x', POPT_ARG_STRING, NULL, 'x', NULL, NULL },
	{ "l-threshold", 'y', POPT_ARG_STRING, NULL, 'y', NULL, NULL },
	{ "numeric", 'n', POPT_ARG_NONE, NULL, 'n', NULL, NULL },
	{ "connection", 'c', POPT_ARG_NONE, NULL, 'c', NULL, NULL },
	{ "mcast-interface", '\0', POPT_ARG_STRING, NULL, TAG_MCAST_INTERFACE, NULL, NULL },
	{ "syncid", '\0', POPT_ARG_STRING, NULL, TAG_SYNCID, NULL, NULL },
	{ "timeout", '\0', POPT_ARG_NONE, NULL, TAG_TIMEOUT, NULL, NULL },
	{ "daemon", '\0', POPT_ARG_NONE, NULL, TAG_DAEMON, NULL, NULL },
	{ "stats", '\0', POPT_ARG_NONE, NULL, TAG_STATS, NULL, NULL },
	{ "rate", '\0', POPT_ARG_NONE, NULL, TAG_RATE, NULL, NULL },
	{ "thresholds", '\0', POPT_ARG_NONE, NULL, TAG_THRESHOLDS, NULL, NULL },
	{ "persistent-conn", '\0', POPT_ARG_NONE, NULL, TAG_PERSISTENTCONN, NULL, NULL },
	{ "nosort", '\0', POPT_ARG_NONE, NULL, TAG_NO_SORT, NULL, NULL },
	{ "sort", '\0', POPT_ARG_NONE, NULL, TAG_SORT, NULL, NULL },
	{ "exact", 'X', POPT_ARG_NONE, NULL, 'X', NULL, NULL },
	{ "ipv6", '6', POPT_ARG_NONE, NULL, '6', NULL, NULL },
	{ "ops", 'o', POPT_ARG_NONE, NULL, 'o', NULL, NULL },
	{ "pe", '\0', POPT_ARG_STRING, NULL, TAG_PE, NULL, NULL },
	{ "sched-flags", 'b', POPT_ARG_STRING, NULL, 'b', NULL, NULL },
	{ "mcast-group", '\0', POPT_ARG_STRING, NULL, TAG_MCAST_GROUP, NULL, NULL },
	{ "mcast-port", '\0', POPT_ARG_STRING, NULL, TAG_MCAST_PORT, NULL, NULL },
	{ "mcast-ttl", '\0', POPT_ARG_STRING, NULL, TAG_MCAST_TTL, NULL, NULL },
	{ "sync-maxlen", '\0', POPT_ARG_STRING, NULL, TAG_SYNC_MAXLEN, NULL, NULL },
	{ "tun-info", '\0', POPT_ARG_NONE, NULL, TAG_TUN_INFO, NULL, NULL },
	{ "tun-type", '\0', POPT_ARG_STRING, NULL, TAG_TUN_TYPE, NULL, NULL },
	{ "tun-port", '\0', POPT_ARG_STRING, NULL, TAG_TUN_PORT, NULL, NULL },
	{ "tun-nocsum", '\0', POPT_ARG_NONE, NULL, TAG_TUN_NOCSUM, NULL, NULL },
	{ "tun-csum", '\0', POPT_ARG_NONE, NULL, TAG_TUN_CSUM, NULL, NULL },
	{ "tun-remcsum", '\0', POPT_ARG_NONE, NULL, TAG_TUN_REMCSUM, NULL, NULL },
	{ "json", '\0', POPT_ARG_NONE, NULL, TAG_JSON, NULL, NULL },
	{ "status", '\0', POPT_ARG_NONE, NULL, TAG_STATUS, NULL, NULL },
	{ "add-mark", '\0', POPT_ARG_NONE, NULL, TAG_ADD_MARK, NULL, NULL },
	{ "del-mark", '\0', POPT_ARG_NONE, NULL, TAG_DEL_MARK, NULL, NULL },
	{ "list-marks", '\0', POPT_ARG_NONE, NULL, TAG_LIST_MARKS, NULL, NULL },
	{ "proto", '\0', POPT_ARG_STRING, NULL, TAG_MARK_PROTO, NULL, NULL },
	{ "dst", '\0', POPT_ARG_STRING, NULL, TAG_MARK_DST, NULL, NULL },
	{ "dport", '\0', POPT_ARG_STRING, NULL, TAG_MARK_DPORT, NULL, NULL },
	{ "mark", '\0', POPT_ARG_STRING, NULL, TAG_MARK, NULL, NULL },
	{ "health", '\0', POPT_ARG_NONE, NULL, TAG_HEALTH, NULL, NULL },
	{ "drops", '\0', POPT_ARG_NONE, NULL, TAG_DROPS, NULL, NULL },
	{ "trace", '\0', POPT_ARG_NONE, NULL, TAG_TRACE, NULL, NULL },
	{ "client", '\0', POPT_ARG_STRING, NULL, TAG_CLIENT, NULL, NULL },
	POPT_TABLEEND
};

/* ipvsadm's command x option table check. */
static int check_cmd_options(const struct xvs_xvsadm_cmd *cmd, struct xvs_xvsadm_err *err)
{
	const char *row = cmd_opts[cmd->cmd];
	int first = -1;

	for (int i = 0; i < XVSADM_NB_OPTS; i++) {
		int set = !!(cmd->options & XVSADM_OPTBIT(i));

		if (!set && row[i] == '+')
			return fail(err, 2, "You need to supply the '%s' option for the '%s' command",
				    opt_names[i], cmd_names[cmd->cmd]);
		if (set && row[i] == 'x')
			return fail(err, 2, "Illegal '%s' option with the '%s' command",
				    opt_names[i], cmd_names[cmd->cmd]);
		if (set && row[i] == '1') {
			if (first < 0) {
				first = i;
				continue;
			}
			return fail(err, 2,
				    "The option '%s' conflicts with the '%s' option in the '%s' command",
				    opt_names[i], opt_names[first], cmd_names[cmd->cmd]);
		}
	}
	return 0;
}

/* -M: a dotted mask for IPv4, a prefix 1..128 for IPv6, read for the service's family. */
static int finish_netmask(struct xvs_xvsadm_cmd *cmd, const struct parse_state *st,
			  struct xvs_xvsadm_err *err)
{
	union xvs_ip mask;
	long long plen;

	cmd->svc.netmask = cmd->svc.af == AF_INET6 ? 128 : 0xffffffffu;
	if (!(cmd->options & XVSADM_OPTBIT(XVSADM_OPT_NETMASK)))
		return 0;
	if (cmd->svc.af == AF_INET6) {
		plen = to_number(st->netmask, 1, 128);
		if (plen < 0)
			return fail(err, 2, "illegal ipv6 netmask specified");
		cmd->svc.netmask = (uint32_t)plen;
		return 0;
	}
	/* a dotted mask, or as in ipvsadm a name that resolves to one */
	if (parse_host_v4(st->netmask, &mask) != 0)
		return fail(err, 2, "illegal virtual server persistent mask specified");
	cmd->svc.netmask = mask.v4;
	return 0;
}

/*
 * -b: a comma list; sh-* only with sh, mh-* only with mh (they share SCHED1/SCHED2), the
 * scheduler being -s or the default wlc. An empty list (-b '') sets no flag, as ipvsadm's
 * parse_sched_flags() lets it through. Checked, as in ipvsadm, with every command and before
 * the command x option table, so `-L -b sh-port` is an incompatible flag.
 */
static int finish_sched_flags(struct xvs_xvsadm_cmd *cmd, const struct parse_state *st,
			      struct xvs_xvsadm_err *err)
{
	static const struct { const char *name; uint32_t bit; const char *sched; } flags[] = {
		{ "flag-1", XVS_SVC_F_SCHED1, NULL }, { "flag-2", XVS_SVC_F_SCHED2, NULL },
		{ "flag-3", XVS_SVC_F_SCHED3, NULL },
		{ "sh-fallback", XVS_SVC_F_SCHED1, "sh" }, { "sh-port", XVS_SVC_F_SCHED2, "sh" },
		{ "mh-fallback", XVS_SVC_F_SCHED1, "mh" }, { "mh-port", XVS_SVC_F_SCHED2, "mh" },
	};
	char buf[sizeof(st->sched_flags)];
	char *save = NULL, *tok;
	size_t i;

	const char *sched = cmd->svc.sched[0] ? cmd->svc.sched : XVSADM_DEF_SCHED;

	if (!(cmd->options & XVSADM_OPTBIT(XVSADM_OPT_SCHED_FLAGS)))
		return 0;
	strcpy(buf, st->sched_flags);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
			if (strcmp(tok, flags[i].name) == 0)
				break;
		if (i == sizeof(flags) / sizeof(flags[0]))
			return fail(err, 2, "invalid scheduler flag `%s'", tok);
		if (flags[i].sched && strcmp(flags[i].sched, sched) != 0)
			return fail(err, 2, "incompatible scheduler flag `%s'", tok);
		cmd->svc.flags |= flags[i].bit;
	}
	return 0;
}

static int finish_service(struct xvs_xvsadm_cmd *cmd, struct xvs_xvsadm_err *err)
{
	struct xvs_xvsadm_service *s = &cmd->svc;

	if (!s->fwmark && s->port == 0 && !(s->flags & XVS_SVC_F_PERSISTENT))
		return fail(err, 2, "Zero port specified for non-persistent service");
	if ((s->flags & XVS_SVC_F_ONEPACKET) && !s->fwmark && s->proto != IPPROTO_UDP)
		return fail(err, 2, "One-Packet Scheduling is only for UDP virtual services");
	if (s->sched[0] == '\0')
		strcpy(s->sched, XVSADM_DEF_SCHED);
	return 0;
}

static int check_tunnel_options(const struct xvs_xvsadm_cmd *cmd, struct xvs_xvsadm_err *err)
{
	const char *row = tun_opts[cmd->dest.tun_type];
	const char *type = tun_names[cmd->dest.tun_type];
	int first = -1;

	for (int i = 0; i < 4; i++) {
		int opt = XVSADM_OPT_TUN_PORT + i;
		int set = !!(cmd->options & XVSADM_OPTBIT(opt));

		if (!set && row[i] == '+')
			return fail(err, 2, "You need to supply the '%s' option for the '%s' tunnel type",
				    opt_names[opt], type);
		if (set && row[i] == 'x')
			return fail(err, 2, "Illegal '%s' option with the '%s' tunnel type",
				    opt_names[opt], type);
		if (set && row[i] == '1') {
			if (first < 0) {
				first = opt;
				continue;
			}
			return fail(err, 2,
				    "The option '%s' conflicts with the '%s' option in the '%s' tunnel type",
				    opt_names[opt], opt_names[first], type);
		}
	}
	return 0;
}

/*
 * -a/-e: the port rules (a missing port copies the service port; DR and tunnel force it,
 * except for fwmark services), the family rule and the tunnel option checks.
 */
static int finish_dest(struct xvs_xvsadm_cmd *cmd, const struct parse_state *st,
		       struct xvs_xvsadm_err *err)
{
	const uint64_t tun_opts_mask = XVSADM_OPTBIT(XVSADM_OPT_TUN_TYPE) |
		XVSADM_OPTBIT(XVSADM_OPT_TUN_PORT) | XVSADM_OPTBIT(XVSADM_OPT_TUN_NOCSUM) |
		XVSADM_OPTBIT(XVSADM_OPT_TUN_CSUM) | XVSADM_OPTBIT(XVSADM_OPT_TUN_REMCSUM);
	struct xvs_xvsadm_dest *d = &cmd->dest;

	if (!st->dest_port_set)
		d->port = cmd->svc.port;
	if (!cmd->svc.fwmark && (d->fwd == XVS_FWD_TUNNEL || d->fwd == XVS_FWD_DROUTE))
		d->port = cmd->svc.port;
	if (d->af != cmd->svc.af && d->fwd != XVS_FWD_TUNNEL)
		return fail(err, 2, "Different address family is allowed only for tunneling servers");
	if ((cmd->options & tun_opts_mask) && d->fwd != XVS_FWD_TUNNEL)
		return fail(err, 2, "Tunnel options conflict with forward method");
	return check_tunnel_options(cmd, err);
}

static int finish_list(const struct xvs_xvsadm_cmd *cmd, struct xvs_xvsadm_err *err)
{
	const uint64_t o = cmd->options;
	const uint64_t only = XVSADM_OPTBIT(XVSADM_OPT_CONNECTION) |
		XVSADM_OPTBIT(XVSADM_OPT_TIMEOUT) | XVSADM_OPTBIT(XVSADM_OPT_DAEMON);
	const uint64_t columns = XVSADM_OPTBIT(XVSADM_OPT_STATS) |
		XVSADM_OPTBIT(XVSADM_OPT_RATE) | XVSADM_OPTBIT(XVSADM_OPT_THRESHOLDS);
	const uint64_t td = XVSADM_OPTBIT(XVSADM_OPT_TIMEOUT) | XVSADM_OPTBIT(XVSADM_OPT_DAEMON);

	const uint64_t not_health = only | columns | XVSADM_OPTBIT(XVSADM_OPT_PERSISTENTCONN) |
		XVSADM_OPTBIT(XVSADM_OPT_TUN_INFO) | XVSADM_OPTBIT(XVSADM_OPT_EXACT);

	if (((o & only) && (o & columns)) ||
	    ((o & td) && (o & XVSADM_OPTBIT(XVSADM_OPT_PERSISTENTCONN))))
		return fail(err, 2, "options conflicts in the list command");
	/* --drops adds a section after the --stats table, never to what ipvsadm prints */
	if ((o & XVSADM_OPTBIT(XVSADM_OPT_DROPS)) &&
	    (!(o & XVSADM_OPTBIT(XVSADM_OPT_STATS)) || (o & XVSADM_OPTBIT(XVSADM_OPT_JSON))))
		return fail(err, 2, "--drops goes with --stats, and not with --json (GET "
			    "/v1/stats?per_worker=1 has the drops as JSON)");
	if ((o & XVSADM_OPTBIT(XVSADM_OPT_HEALTH)) && (o & not_health))
		return fail(err, 2, "--health lists the plain columns only (not with -c, --stats, "
			    "--rate, --thresholds, --persistent-conn, --tun-info, --exact, --timeout "
			    "or --daemon)");
	return 0;
}

/* --trace: a packet's destination (not a mark) and a client of its family. */
static int finish_trace(const struct xvs_xvsadm_cmd *cmd, struct xvs_xvsadm_err *err)
{
	if (cmd->svc.fwmark)
		return fail(err, 2, "--trace takes the packet's destination (-t, -u or --sctp-service "
			    "address:port), not -f: the mark rules give a packet its mark, and the "
			    "trace follows them to a firewall-mark service");
	if (cmd->svc.port == 0)
		return fail(err, 2, "--trace needs the destination port (address:port)");
	if (cmd->client.af != cmd->svc.af)
		return fail(err, 2, "the client and the virtual address are of different families");
	return 0;
}

/*
 * Everything after the option loop and the positional words, in ipvsadm's order: the -b
 * list, the command x option table, then each command's own checks.
 */
static int finish(struct xvs_xvsadm_cmd *cmd, const struct parse_state *st,
		  struct xvs_xvsadm_err *err)
{
	int rc = finish_sched_flags(cmd, st, err);

	if (rc == 0)
		rc = check_cmd_options(cmd, err);
	if (rc)
		return rc;
	switch (cmd->cmd) {
	case XVSADM_CMD_ADD:
	case XVSADM_CMD_EDIT:
		return finish_service(cmd, err);
	case XVSADM_CMD_ADDDEST:
	case XVSADM_CMD_EDITDEST:
		return finish_dest(cmd, st, err);
	case XVSADM_CMD_DELDEST:
		if (!st->dest_port_set) /* a missing port means the service's, as for -a */
			cmd->dest.port = cmd->svc.port;
		return 0;
	case XVSADM_CMD_LIST:
		return finish_list(cmd, err);
	case XVSADM_CMD_SAVE:
		cmd->format |= XVSADM_FMT_RULE;
		return 0;
	case XVSADM_CMD_TRACE:
		return finish_trace(cmd, err);
	default:
		return 0;
	}
}

/* --set tcp tcpfin udp and the "no stray words" rule. */
static int parse_leftovers(poptContext ctx, struct xvs_xvsadm_cmd *cmd,
			   struct xvs_xvsadm_err *err)
{
	const char *arg;
	int rc;

	if (cmd->cmd == XVSADM_CMD_TIMEOUT) {
		const char *v[3];

		for (int i = 0; i < 3; i++) {
			v[i] = poptGetArg(ctx);
			if (v[i] == NULL)
				return fail(err, 2, "--set option requires 3 timeout values");
		}
		rc = opt_timeout_value(v[0], 0, &cmd->timeout_tcp, err);
		if (rc == 0)
			rc = opt_timeout_value(v[1], 0, &cmd->timeout_tcpfin, err);
		if (rc == 0)
			rc = opt_timeout_value(v[2], 0, &cmd->timeout_udp, err);
		if (rc)
			return rc;
	}
	arg = poptGetArg(ctx);
	if (arg != NULL)
		return fail(err, 2, "unexpected argument %s", arg);
	return 0;
}

static void cmd_defaults(struct xvs_xvsadm_cmd *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->dest.weight = 1;
	cmd->dest.fwd = XVS_FWD_DROUTE;
	cmd->dest.tun_type = XVSADM_TUN_IPIP;
	cmd->dest.tun_csum = XVSADM_TUN_NOCSUM;
	cmd->svc.af = AF_INET;
	cmd->svc.netmask = 0xffffffffu;
	cmd->mark.af = AF_INET;
	cmd->mark.port_hi = 65535;
}

/* The option loop after the command; returns popt's final code through *last. */
static int parse_options(poptContext ctx, struct xvs_xvsadm_cmd *cmd,
			 struct xvs_xvsadm_err *err, struct parse_state *st)
{
	int c, rc;

	while ((c = poptGetNextOpt(ctx)) >= 0) {
		char *arg = poptGetOptArg(ctx);

		rc = parse_one_option(c, arg, poptBadOption(ctx, POPT_BADOPTION_NOALIAS),
				      cmd, err, st);
		free(arg);
		if (rc)
			return rc;
	}
	if (c < -1)
		return fail(err, 255, "%s: %s", poptBadOption(ctx, POPT_BADOPTION_NOALIAS),
			    poptStrerror(c));
	return 0;
}

int xvs_xvsadm_parse(int argc, const char **argv, struct xvs_xvsadm_cmd *cmd,
		     struct xvs_xvsadm_err *err)
{
	struct parse_state st = { .dest_port_set = 0 };
	poptContext ctx;
	char *arg;
	int c, rc;

	cmd_defaults(cmd);
	err->status = 0;
	err->msg[0] = '\0';
	ctx = poptGetContext(XVSADM_PROG, argc, argv, popt_table, 0);
	if (ctx == NULL)
		return fail(err, 255, "out of memory");
	c = poptGetNextOpt(ctx);
	if (c < 0) {
		rc = tryhelp(err);
		goto out;
	}
	arg = poptGetOptArg(ctx);
	rc = parse_command(c, arg, cmd, err);
	free(arg);
	if (rc || cmd->cmd == XVSADM_CMD_HELP || cmd->cmd == XVSADM_CMD_VERSION)
		goto out; /* like ipvsadm, -h and -v act at once */
	rc = parse_options(ctx, cmd, err, &st);
	/* -M is read once the service's family is known; ipvsadm checks it in the option loop,
	 * so its errors come before those of the positional words */
	if (rc == 0)
		rc = finish_netmask(cmd, &st, err);
	if (rc == 0)
		rc = parse_leftovers(ctx, cmd, err);
	if (rc == 0)
		rc = finish(cmd, &st, err);
out:
	poptFreeContext(ctx);
	return rc;
}

int xvs_xvsadm_check_supported(const struct xvs_xvsadm_cmd *cmd, struct xvs_xvsadm_err *err)
{
	if (cmd->options & XVSADM_OPTBIT(XVSADM_OPT_PE)) {
		/* what IPVS answers without the engine's module (ENOENT), exit 255 as ipvsadm */
		fail(err, 255, "Scheduler or persistence engine not found");
		return -ENOENT;
	}
	return 0;
}

/* Cut a '#' comment that starts a word outside quotes (ipvsadm itself has no comments). */
static void strip_comment(char *s)
{
	char quote = 0;

	for (char *p = s; *p; p++) {
		if (quote) {
			if (*p == '\\' && quote == '"' && p[1])
				p++;
			else if (*p == quote)
				quote = 0;
		} else if (*p == '\\' && p[1]) {
			p++;
		} else if (*p == '"' || *p == '\'') {
			quote = *p;
		} else if (*p == '#' && (p == s || *(p - 1) == ' ' || *(p - 1) == '\t')) {
			*p = '\0';
			return;
		}
	}
}

static int is_blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return 0;
	return 1;
}

const char *xvs_xvsadm_prog = "xvsadm";

void xvs_xvsadm_set_prog(const char *argv0)
{
	const char *base = argv0 ? strrchr(argv0, '/') : NULL;

	base = base ? base + 1 : argv0;
	xvs_xvsadm_prog = base && strcmp(base, "ipvsadm") == 0 ? "ipvsadm" : "xvsadm";
}

static int is_program_word(const char *w)
{
	const char *base = strrchr(w, '/');

	base = base ? base + 1 : w;
	return strcmp(base, "ipvsadm") == 0 || strcmp(base, "xvsadm") == 0;
}

int xvs_xvsadm_split_line(const char *line, int *argc, const char ***argv)
{
	const char *prog[] = { XVSADM_PROG, NULL };
	const char **words = NULL, **full;
	char *copy = strdup(line);
	int nb_words = 0, skip = 0, rc;

	if (copy == NULL)
		return -ENOMEM;
	strip_comment(copy);
	if (!is_blank(copy)) {
		rc = poptParseArgvString(copy, &nb_words, &words);
		if (rc < 0) {
			free(copy);
			return -EINVAL;
		}
	}
	free(copy);
	if (nb_words > 0 && is_program_word(words[0]))
		skip = 1;
	full = calloc((size_t)(nb_words - skip) + 2, sizeof(*full));
	if (full == NULL) {
		free(words);
		return -ENOMEM;
	}
	full[0] = prog[0];
	int n = 1;
	/* ipvsadm's -R drops the word "ipvsadm" wherever it stands in a line, not only first */
	for (int i = skip; i < nb_words; i++)
		if (strcmp(words[i], "ipvsadm") != 0)
			full[n++] = words[i];
	rc = poptDupArgv(n, full, argc, argv);
	free(full);
	free(words);
	return rc < 0 ? -ENOMEM : 0;
}

int xvs_xvsadm_restore_cmd(const char *line, struct xvs_xvsadm_cmd *cmd, int *blank,
			   struct xvs_xvsadm_err *err)
{
	const char **argv = NULL;
	int argc, rc;

	*blank = 0;
	if (xvs_xvsadm_split_line(line, &argc, &argv) != 0) {
		snprintf(err->msg, sizeof(err->msg), "unbalanced quotes");
		return -EINVAL;
	}
	if (argc <= 1) {
		free(argv);
		*blank = 1;
		return 0;
	}
	rc = xvs_xvsadm_parse(argc, argv, cmd, err);
	free(argv);
	if (rc == 0)
		rc = xvs_xvsadm_check_supported(cmd, err);
	if (rc)
		return rc;
	if (cmd->cmd == XVSADM_CMD_RESTORE) {
		snprintf(err->msg, sizeof(err->msg),
			 "Try `%s -h' or '%s --help' for more information.", XVSADM_PROG, XVSADM_PROG);
		return -EINVAL;
	}
	if (!xvs_xvsadm_cmd_is_change(cmd->cmd)) {
		snprintf(err->msg, sizeof(err->msg),
			 "the '%s' command cannot be used in --restore input",
			 xvs_xvsadm_cmd_name(cmd->cmd));
		return -EINVAL;
	}
	return 0;
}
