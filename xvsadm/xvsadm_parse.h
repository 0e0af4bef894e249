/* xvsadm's command line: ipvsadm 1.31 syntax, defaults, checks and error texts, argv to a command. */
#ifndef XVS_XVSADM_PARSE_H
#define XVS_XVSADM_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include <xvs/addr.h>
#include <xvs/table.h>

/* Commands, in ipvsadm's order: the order indexes the command x option table. */
enum xvs_xvsadm_cmd_kind {
	XVSADM_CMD_NONE = 0,
	XVSADM_CMD_ADD,
	XVSADM_CMD_EDIT,
	XVSADM_CMD_DEL,
	XVSADM_CMD_FLUSH,
	XVSADM_CMD_LIST,
	XVSADM_CMD_ADDDEST,
	XVSADM_CMD_DELDEST,
	XVSADM_CMD_EDITDEST,
	XVSADM_CMD_TIMEOUT,
	XVSADM_CMD_STARTDAEMON,
	XVSADM_CMD_STOPDAEMON,
	XVSADM_CMD_RESTORE,
	XVSADM_CMD_SAVE,
	XVSADM_CMD_ZERO,
	XVSADM_CMD_HELP,    /* -h: print the usage, exit 0 */
	XVSADM_CMD_VERSION, /* -v: print the version, exit 0 */
	XVSADM_CMD_STATUS,  /* --status (xvs's own): the dataplane's state and counters */
	XVSADM_CMD_ADDMARK,   /* --add-mark (xvs's own): append a mark rule */
	XVSADM_CMD_DELMARK,   /* --del-mark (xvs's own): delete a mark rule */
	XVSADM_CMD_LISTMARKS, /* --list-marks (xvs's own): the mark rules in order */
	XVSADM_CMD_TRACE,     /* --trace (xvs's own): which real server a client's packet gets */
};

/* Option bits, in ipvsadm's order: the order decides which conflict is reported first. */
enum xvs_xvsadm_opt {
	XVSADM_OPT_NUMERIC, XVSADM_OPT_CONNECTION, XVSADM_OPT_SERVICE, XVSADM_OPT_SCHEDULER,
	XVSADM_OPT_PERSISTENT, XVSADM_OPT_NETMASK, XVSADM_OPT_SERVER, XVSADM_OPT_FORWARD,
	XVSADM_OPT_WEIGHT, XVSADM_OPT_UTHRESHOLD, XVSADM_OPT_LTHRESHOLD, XVSADM_OPT_MCAST,
	XVSADM_OPT_TIMEOUT, XVSADM_OPT_DAEMON, XVSADM_OPT_STATS, XVSADM_OPT_RATE,
	XVSADM_OPT_THRESHOLDS, XVSADM_OPT_PERSISTENTCONN, XVSADM_OPT_NOSORT, XVSADM_OPT_SYNCID,
	XVSADM_OPT_EXACT, XVSADM_OPT_ONEPACKET, XVSADM_OPT_PE, XVSADM_OPT_SCHED_FLAGS,
	XVSADM_OPT_MCAST_GROUP, XVSADM_OPT_MCAST_PORT, XVSADM_OPT_MCAST_TTL,
	XVSADM_OPT_SYNC_MAXLEN, XVSADM_OPT_TUN_INFO, XVSADM_OPT_TUN_TYPE, XVSADM_OPT_TUN_PORT,
	XVSADM_OPT_TUN_NOCSUM, XVSADM_OPT_TUN_CSUM, XVSADM_OPT_TUN_REMCSUM,
	XVSADM_OPT_JSON, /* xvs's own: listings as the API's JSON */
	XVSADM_OPT_MARK_PROTO, XVSADM_OPT_MARK_DST, XVSADM_OPT_MARK_DPORT, XVSADM_OPT_MARK,
	/* xvs's own: the mark rule options */
	XVSADM_OPT_HEALTH, /* xvs's own: -L --health */
	XVSADM_OPT_DROPS,  /* xvs's own: -L --stats --drops */
	XVSADM_OPT_CLIENT, /* xvs's own: --trace --client */
	XVSADM_NB_OPTS
};
#define XVSADM_OPTBIT(o) (UINT64_C(1) << (o))

/* Listing formats (-L/-S); several may be set, the printer picks by ipvsadm's precedence. */
#define XVSADM_FMT_NUMERIC        0x0001
#define XVSADM_FMT_RULE           0x0002 /* -S */
#define XVSADM_FMT_STATS          0x0004
#define XVSADM_FMT_RATE           0x0008
#define XVSADM_FMT_THRESHOLDS     0x0010
#define XVSADM_FMT_PERSISTENTCONN 0x0020
#define XVSADM_FMT_NOSORT         0x0040
#define XVSADM_FMT_EXACT          0x0080
#define XVSADM_FMT_TUN_INFO       0x0100
#define XVSADM_FMT_HEALTH         0x0200 /* xvs's own: every configured server, with health */

#define XVSADM_SCHED_MAXLEN 16
#define XVSADM_PE_MAXLEN    16
#define XVSADM_DEF_SCHED    "wlc"
#define XVSADM_MAX_TIMEOUT  (86400 * 31)
#define XVSADM_PERSISTENT_TIMEOUT (6 * 60) /* -p without a value */

/* Tunnel types and checksum modes, IPVS's numbering. */
enum xvs_xvsadm_tun_type { XVSADM_TUN_IPIP, XVSADM_TUN_GUE, XVSADM_TUN_GRE };
enum xvs_xvsadm_tun_csum { XVSADM_TUN_NOCSUM, XVSADM_TUN_CSUM, XVSADM_TUN_REMCSUM };

/*
 * A virtual service as ipvsadm sees it: the key (fwmark, or af/proto/addr/port) plus the
 * parameters -A/-E set. Shared by the parsed command and by the listing.
 */
struct xvs_xvsadm_service {
	int af;          /* AF_INET or AF_INET6 */
	uint16_t proto;  /* IPPROTO_TCP, IPPROTO_UDP or IPPROTO_SCTP (fwmark: TCP) */
	union xvs_ip addr;
	uint16_t port;   /* host order */
	uint32_t fwmark; /* 0 = not a fwmark service */
	char sched[XVSADM_SCHED_MAXLEN];
	uint32_t flags;   /* XVS_SVC_F_* */
	uint32_t timeout; /* persistence, seconds, when XVS_SVC_F_PERSISTENT */
	uint32_t netmask; /* IPv4: mask in network order; IPv6: prefix length */
	char pe[XVSADM_PE_MAXLEN];
};

/* A real server: key (af/addr/port) and the parameters -a/-e set. */
struct xvs_xvsadm_dest {
	int af;
	union xvs_ip addr;
	uint16_t port;       /* host order */
	int fwd;             /* XVS_FWD_* */
	int weight;
	uint32_t u_threshold;
	uint32_t l_threshold;
	int tun_type;        /* enum xvs_xvsadm_tun_type */
	uint16_t tun_port;   /* host order, GUE only */
	int tun_csum;        /* enum xvs_xvsadm_tun_csum */
};

/*
 * A mark rule (xvs's stand-in for iptables' MARK): packets of protocol proto (0 = TCP and
 * UDP) to prefix/plen with a destination port in port_lo..port_hi get mark `mark`.
 */
struct xvs_xvsadm_mark {
	int af;           /* AF_INET or AF_INET6, from the prefix */
	uint16_t proto;   /* 0, IPPROTO_TCP or IPPROTO_UDP */
	union xvs_ip prefix;
	unsigned int plen;
	uint16_t port_lo, port_hi; /* host order */
	uint32_t mark;    /* 0 = not given (--del-mark) */
};

/* One parsed command line with every ipvsadm default resolved. */
struct xvs_xvsadm_cmd {
	enum xvs_xvsadm_cmd_kind cmd;
	uint64_t options;    /* XVSADM_OPTBIT(XVSADM_OPT_*) of every option given */
	unsigned int format; /* XVSADM_FMT_* for -L and -S */
	struct xvs_xvsadm_service svc;
	struct xvs_xvsadm_dest dest;
	struct xvs_xvsadm_mark mark; /* --add-mark, --del-mark */
	uint32_t timeout_tcp, timeout_tcpfin, timeout_udp; /* --set; 0 = unchanged */
	int daemon_backup;   /* --start/stop-daemon: 0 master, 1 backup */
	struct {             /* --start-daemon's options, each when its XVSADM_OPT_* bit is set */
		char mcast_ifn[16];
		int syncid;
		int sync_maxlen;
		int mcast_port;
		int mcast_ttl;
		char mcast_group[64];
	} daemon;
	struct {             /* --trace --client address[:port] */
		int af;
		union xvs_ip addr;
		uint16_t port;   /* host order, 0 = not given */
	} client;
};

/* A failure: the text ipvsadm prints (no trailing newline) and the exit status (2 or 255). */
struct xvs_xvsadm_err {
	int status;
	char msg[512];
};

/*
 * The name messages give the program: "xvsadm", or "ipvsadm" when it runs under that name (a
 * symlink, so that operators' scripts keep working); main() sets it from argv[0].
 */
extern const char *xvs_xvsadm_prog;
#define XVSADM_PROG xvs_xvsadm_prog

/* Set xvs_xvsadm_prog from the name the program was run as. */
void xvs_xvsadm_set_prog(const char *argv0);

/*
 * Parse argv (argv[0] is the program name) into *cmd. Returns 0, or -EINVAL with *err
 * holding ipvsadm's message and exit status. Resolves host and service names; no other I/O.
 */
int xvs_xvsadm_parse(int argc, const char **argv, struct xvs_xvsadm_cmd *cmd,
		     struct xvs_xvsadm_err *err);

/*
 * Refuse what parses as valid ipvsadm but xvs cannot do yet (persistence engines): 0, or
 * -ENOENT with *err set (exit status 255, as ipvsadm without the engine's module).
 */
int xvs_xvsadm_check_supported(const struct xvs_xvsadm_cmd *cmd, struct xvs_xvsadm_err *err);

/* ipvsadm's name of a command ("add-service", ...), as used in its messages. */
const char *xvs_xvsadm_cmd_name(enum xvs_xvsadm_cmd_kind cmd);

/* Whether the command changes the configuration (and so is one API op). */
int xvs_xvsadm_cmd_is_change(enum xvs_xvsadm_cmd_kind cmd);

/*
 * Split one -R input line into words (shell-like quoting, '#' starts a comment, a leading
 * "ipvsadm"/"xvsadm" word is dropped) and put XVSADM_PROG in front. *argv is one malloc'd
 * block for free(); *argc 1 means a blank line. Returns 0 or a negative errno.
 */
int xvs_xvsadm_split_line(const char *line, int *argc, const char ***argv);

/*
 * One -R input line: split, parsed and checked as xvsadm -R takes it. 0 with *blank set for
 * a line with no command, else 0 with the change command in *cmd; or an error with
 * ipvsadm's message in *err (a command -R does not take is refused).
 */
int xvs_xvsadm_restore_cmd(const char *line, struct xvs_xvsadm_cmd *cmd, int *blank,
			   struct xvs_xvsadm_err *err);

#endif
