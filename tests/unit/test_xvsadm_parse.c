/* Unit tests for xvsadm's parser (ipvsadm 1.31 syntax, defaults, messages) and its API ops. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "xvsadm_json.h"
#include "xvsadm_parse.h"

/* Parse a command line given as one string ("-A -t 10.0.0.1:80"), as -R would split it. */
static int parse_str(const char *line, struct xvs_xvsadm_cmd *cmd, struct xvs_xvsadm_err *err)
{
	const char **argv;
	int argc, rc;

	cr_assert_eq(xvs_xvsadm_split_line(line, &argc, &argv), 0, "split '%s'", line);
	rc = xvs_xvsadm_parse(argc, argv, cmd, err);
	free(argv);
	return rc;
}

static void parse_ok(const char *line, struct xvs_xvsadm_cmd *cmd)
{
	struct xvs_xvsadm_err err;
	int rc = parse_str(line, cmd, &err);

	cr_assert_eq(rc, 0, "'%s' failed: %s", line, err.msg);
}

static uint32_t ip4(const char *s)
{
	struct in_addr a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

/* Every argument error ipvsadm 1.31 reports: message and exit status. */
struct err_case {
	const char *line;
	const char *msg;
	int status;
};

static const struct err_case error_cases[] = {
	{ "-A -t 10.0.0.1", "Zero port specified for non-persistent service", 2 },
	{ "-E -u 10.0.0.1:0", "Zero port specified for non-persistent service", 2 },
	{ "-A -t 10.0.0.1:99999", "illegal virtual server address[:port] specified", 2 },
	{ "-A -t 80", "illegal virtual server address[:port] specified", 2 },
	{ "-A -t [2001:db8::1]", "illegal virtual server address[:port] specified", 2 },
	{ "-A -t [2001:db8::1]80", "illegal virtual server address[:port] specified", 2 },
	{ "-a -t 10.0.0.1:80 -r 1.1.1.1:nosuchservicename", "illegal real server address[:port] specified", 2 },
	{ "-a -t 10.0.0.1:80 -r 1.1.1.1 -w 65536", "illegal weight specified", 2 },
	{ "-a -t 10.0.0.1:80 -r 1.1.1.1 -w abc", "illegal weight specified", 2 },
	{ "-a -t 10.0.0.1:80 -r 1.1.1.1 -x -1", "illegal u_threshold specified", 2 },
	{ "-a -t 10.0.0.1:80 -r 1.1.1.1 -x 2147483648", "illegal u_threshold specified", 2 },
	{ "-a -t 10.0.0.1:80 -r 1.1.1.1 -y z", "illegal l_threshold specified", 2 },
	{ "-A -t 10.0.0.1:80 -p abc", "invalid timeout value `abc' specified", 2 },
	{ "-A -t 10.0.0.1:80 -p 0", "invalid timeout value `0' specified", 2 },
	{ "-A -t 10.0.0.1:80 -p 2678401", "invalid timeout value `2678401' specified", 2 },
	{ "-A -f 0", "invalid fwmark value `0' specified", 2 },
	{ "-A -f x1", "invalid fwmark value `x1' specified", 2 },
	{ "-A -t 10.0.0.1:80 -p -M foo", "illegal virtual server persistent mask specified", 2 },
	{ "-A -t [2001:db8::1]:80 -p -M 129", "illegal ipv6 netmask specified", 2 },
	{ "-A -u 10.0.0.1:53 -s sh -b foo", "invalid scheduler flag `foo'", 2 },
	{ "-A -u 10.0.0.1:53 -b sh-port", "incompatible scheduler flag `sh-port'", 2 },
	{ "-A -u 10.0.0.1:53 -s sh -b mh-port", "incompatible scheduler flag `mh-port'", 2 },
	{ "-A -t 10.0.0.1:80 -o", "One-Packet Scheduling is only for UDP virtual services", 2 },
	/* -b is read before the command x option table and the service checks, as in ipvsadm,
	 * with the default scheduler wlc when -s is absent */
	{ "-L -b sh-port", "incompatible scheduler flag `sh-port'", 2 },
	{ "-D -t 10.0.0.1:80 -b foo", "invalid scheduler flag `foo'", 2 },
	{ "-A -t 10.0.0.1 -b foo", "invalid scheduler flag `foo'", 2 },
	{ "-A -t 10.0.0.1:80 -o -b mh-port", "incompatible scheduler flag `mh-port'", 2 },
	{ "-D -t 10.0.0.1:80 -b flag-1", "Illegal 'sched-flags' option with the 'delete-service' command", 2 },
	/* -M is checked in ipvsadm's option loop: before the positional words */
	{ "-A -t 10.0.0.1:80 -p -M foo extra", "illegal virtual server persistent mask specified", 2 },
	{ "--set 1 2 -M foo", "illegal virtual server persistent mask specified", 2 },
	{ "-a -t 10.0.0.1:80", "You need to supply the 'real-server' option for the 'add-server' command", 2 },
	{ "-d -t 10.0.0.1:80", "You need to supply the 'real-server' option for the 'delete-server' command", 2 },
	{ "-a -r 1.1.1.1", "You need to supply the 'service-address' option for the 'add-server' command", 2 },
	{ "-Z -t 10.0.0.1:80 -s rr", "Illegal 'scheduler' option with the 'zero' command", 2 },
	{ "-D -t 10.0.0.1:80 -s rr", "Illegal 'scheduler' option with the 'delete-service' command", 2 },
	{ "-C -n", "Illegal 'numeric' option with the 'flush' command", 2 },
	{ "-d -t 10.0.0.1:80 -r 1.1.1.1 -w 2", "Illegal 'weight' option with the 'delete-server' command", 2 },
	{ "-A -t 10.0.0.1:80 -r 1.1.1.1", "Illegal 'real-server' option with the 'add-service' command", 2 },
	{ "-S --stats", "Illegal 'stats' option with the 'save' command", 2 },
	{ "-L --timeout --daemon", "The option 'daemon' conflicts with the 'timeout' option in the 'list' command", 2 },
	{ "-L -c -t 10.0.0.1:80", "The option 'service-address' conflicts with the 'connection' option in the 'list' command", 2 },
	{ "-L -c --stats", "options conflicts in the list command", 2 },
	{ "-L --timeout --rate", "options conflicts in the list command", 2 },
	{ "-L --daemon --persistent-conn", "options conflicts in the list command", 2 },
	{ "-a -t 10.0.0.1:80 -r 1.1.1.1 -g -m", "multiple 'forwarding-method' options specified", 2 },
	{ "-a -t 10.0.0.1:80 -r 1.1.1.1 -w 1 -w 2", "multiple 'weight' options specified", 2 },
	{ "-A -t 10.0.0.1:80 -u 10.0.0.1:53", "multiple 'service-address' options specified", 2 },
	{ "-a -t 10.0.0.1:80 -r 1.1.1.1 --tun-type gue", "Tunnel options conflict with forward method", 2 },
	{ "-a -t 10.0.0.1:80 -r 1.1.1.1 -m --tun-csum", "Tunnel options conflict with forward method", 2 },
	{ "-a -t 10.0.0.1:80 -r 1.1.1.1 -i --tun-type gue", "You need to supply the 'tun-port' option for the 'gue' tunnel type", 2 },
	{ "-a -t 10.0.0.1:80 -r 1.1.1.1 -i --tun-type gre --tun-port 5", "Illegal 'tun-port' option with the 'gre' tunnel type", 2 },
	{ "-a -t 10.0.0.1:80 -r 1.1.1.1 -i --tun-csum", "Illegal 'tun-csum' option with the 'ipip' tunnel type", 2 },
	{ "-a -t 10.0.0.1:80 -r 1.1.1.1 -i --tun-type gre --tun-remcsum", "Illegal 'tun-remcsum' option with the 'gre' tunnel type", 2 },
	{ "-a -t 10.0.0.1:80 -r 1.1.1.1 -i --tun-type gue --tun-port 6080 --tun-csum --tun-nocsum", "The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gue' tunnel type", 2 },
	{ "-a -t 10.0.0.1:80 -r 1.1.1.1 -i --tun-type vxlan", "illegal tunnel type specified", 2 },
	{ "-a -t 10.0.0.1:80 -r [2001:db8::1]:80 -m", "Different address family is allowed only for tunneling servers", 2 },
	{ "--set 1 2", "--set option requires 3 timeout values", 2 },
	{ "--set 1 2 x", "invalid timeout value `x' specified", 2 },
	{ "--set 1 2 3 4", "unexpected argument 4", 2 },
	{ "--start-daemon primary", "illegal start-daemon parameter specified", 2 },
	/* the sync daemon's options, checked with ipvsadm's words */
	{ "--start-daemon master --mcast-group 10.0.0.1", "invalid IPv4 mcast-group `10.0.0.1'", 2 },
	{ "--start-daemon master --mcast-group 2001:db8::1", "invalid IPv6 mcast-group `2001:db8::1'", 2 },
	{ "--start-daemon master --mcast-group foo", "invalid IPv4 mcast-group `foo'", 2 },
	{ "--start-daemon master --mcast-port 0", "illegal mcast-port specified", 2 },
	{ "--start-daemon master --mcast-ttl 256", "illegal mcast-ttl specified", 2 },
	{ "--start-daemon master --sync-maxlen 65508", "illegal sync-maxlen specified", 2 },
	{ "--start-daemon master --syncid 256", "illegal syncid specified", 2 },
	/* an interface name the kernel could not hold is refused, not cut */
	{ "--start-daemon master --mcast-interface abcdefghijklmnop",
	  "invalid mcast-interface `abcdefghijklmnop'", 2 },
	{ "--start-daemon master --mcast-interface a/b", "invalid mcast-interface `a/b'", 2 },
	{ "--start-daemon master --mcast-interface eth0:1", "invalid mcast-interface `eth0:1'", 2 },
	{ "-L foo", "unexpected argument foo", 2 },
	{ "-A -t 10.0.0.1:80 -a", "invalid option `-a'", 2 },
	{ "-A -t 10.0.0.1:80 -E", "invalid option `-E'", 2 },
	{ "-A -t 10.0.0.1:80 -6", "-6 used before -f\n", 2 },
	/* --json (xvs's own) goes with listings only, once */
	{ "-S --json", "Illegal 'json' option with the 'save' command", 2 },
	{ "-A -t 10.0.0.1:80 --json", "Illegal 'json' option with the 'add-service' command", 2 },
	{ "-a -t 10.0.0.1:80 -r 1.1.1.1 --json", "Illegal 'json' option with the 'add-server' command", 2 },
	{ "-Z --json", "Illegal 'json' option with the 'zero' command", 2 },
	{ "-C --json", "Illegal 'json' option with the 'flush' command", 2 },
	{ "--set 1 2 3 --json", "Illegal 'json' option with the 'set' command", 2 },
	{ "-L --json --json", "multiple 'json' options specified", 2 },
	{ "-L -c --timeout", "The option 'timeout' conflicts with the 'connection' option in the 'list' command", 2 },
	{ "-L -c --daemon", "The option 'daemon' conflicts with the 'connection' option in the 'list' command", 2 },
	{ "-L -c --rate", "options conflicts in the list command", 2 },
	{ "-L -c --thresholds", "options conflicts in the list command", 2 },
	{ "-L --timeout --persistent-conn", "options conflicts in the list command", 2 },
	{ "-L --daemon --stats", "options conflicts in the list command", 2 },
	{ "-L --health --stats", "--health lists the plain columns only (not with -c, --stats, --rate, --thresholds, --persistent-conn, --tun-info, --exact, --timeout or --daemon)", 2 },
	{ "-L -c --health", "--health lists the plain columns only (not with -c, --stats, --rate, --thresholds, --persistent-conn, --tun-info, --exact, --timeout or --daemon)", 2 },
	{ "-S --health", "Illegal 'health' option with the 'save' command", 2 },
	{ "-a -t 10.0.0.1:80 -r 1.1.1.1 --health", "Illegal 'health' option with the 'add-server' command", 2 },
	{ "-L -c -c", "multiple 'connection' options specified", 2 },
	{ "-Lcc", "multiple 'connection' options specified", 2 },
	/* --trace (xvs's own) */
	{ "--trace -t 10.0.0.1:80", "You need to supply the 'client' option for the 'trace' command", 2 },
	{ "--trace --client 1.2.3.4", "You need to supply the 'service-address' option for the 'trace' command", 2 },
	{ "--trace -t 10.0.0.1:80 --client 1.2.3.999", "illegal client address[:port] specified", 2 },
	{ "--trace -t 10.0.0.1:80 --client 1.2.3.4:0", "illegal client port specified", 2 },
	{ "--trace -t 10.0.0.1:80 --client 1.2.3.4:65536", "illegal client port specified", 2 },
	{ "--trace -t 10.0.0.1:80 --client [2001:db8::1", "illegal client address[:port] specified", 2 },
	{ "--trace -t 10.0.0.1:80 --client 2001:db8::1", "the client and the virtual address are of different families", 2 },
	{ "--trace -t 10.0.0.1 --client 1.2.3.4", "--trace needs the destination port (address:port)", 2 },
	{ "--trace -f 3 --client 1.2.3.4", "--trace takes the packet's destination (-t, -u or --sctp-service address:port), not -f: the mark rules give a packet its mark, and the trace follows them to a firewall-mark service", 2 },
	{ "--trace -t 10.0.0.1:80 --client 1.2.3.4 -n", "Illegal 'numeric' option with the 'trace' command", 2 },
	{ "--trace -t 10.0.0.1:80 --client 1.2.3.4 --client 1.2.3.5", "multiple 'client' options specified", 2 },
	{ "-L --client 1.2.3.4", "Illegal 'client' option with the 'list' command", 2 },
	/* popt and "not a command first": 255 */
	{ "-L --foo", "--foo: unknown option", 255 },
	{ "-A -t", "-t: missing argument", 255 },
	{ "--foo", "Try `xvsadm -h' or 'xvsadm --help' for more information.", 255 },
	{ "-t 10.0.0.1:80 -A", "Try `xvsadm -h' or 'xvsadm --help' for more information.", 255 },
	{ "list", "Try `xvsadm -h' or 'xvsadm --help' for more information.", 255 },
};

Test(xvsadm_parse, error_messages_and_exit_statuses)
{
	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		const struct err_case *c = &error_cases[i];
		struct xvs_xvsadm_cmd cmd;
		struct xvs_xvsadm_err err;
		int rc = parse_str(c->line, &cmd, &err);

		cr_expect_neq(rc, 0, "'%s' should fail", c->line);
		cr_expect_str_eq(err.msg, c->msg, "'%s'", c->line);
		cr_expect_eq(err.status, c->status, "'%s': status %d", c->line, err.status);
	}
}

/* --pe: IPVS's answer without the engine's module, exit 255. */
Test(xvsadm_parse, persistence_engine_not_found)
{
	struct xvs_xvsadm_cmd cmd;
	struct xvs_xvsadm_err err;

	parse_ok("-A -t 10.0.0.1:80 -p --pe sip", &cmd);
	cr_expect_eq(xvs_xvsadm_check_supported(&cmd, &err), -ENOENT);
	cr_expect_eq(err.status, 255);
	cr_expect_str_eq(err.msg, "Scheduler or persistence engine not found");
}

/* The sync daemon's commands pass the check, and --start-daemon keeps its options. */
Test(xvsadm_parse, sync_daemon_commands)
{
	static const char *const lines[] = {
		"-L --daemon", "--start-daemon master", "--stop-daemon backup",
	};
	struct xvs_xvsadm_cmd cmd;
	struct xvs_xvsadm_err err;

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		parse_ok(lines[i], &cmd);
		cr_expect_eq(xvs_xvsadm_check_supported(&cmd, &err), 0, "%s", lines[i]);
	}
	parse_ok("--start-daemon backup --mcast-interface veth1 --syncid 7 --sync-maxlen 1400 "
		 "--mcast-group 239.1.2.3 --mcast-port 9000 --mcast-ttl 4", &cmd);
	cr_expect_eq(cmd.cmd, XVSADM_CMD_STARTDAEMON);
	cr_expect_eq(cmd.daemon_backup, 1);
	cr_expect_str_eq(cmd.daemon.mcast_ifn, "veth1");
	cr_expect_eq(cmd.daemon.syncid, 7);
	cr_expect_eq(cmd.daemon.sync_maxlen, 1400);
	cr_expect_str_eq(cmd.daemon.mcast_group, "239.1.2.3");
	cr_expect_eq(cmd.daemon.mcast_port, 9000);
	cr_expect_eq(cmd.daemon.mcast_ttl, 4);
}

Test(xvsadm_parse, supported_commands_pass_the_check)
{
	static const char *const lines[] = {
		"-A -t 10.0.0.1:80", "-L -n", "-S -n", "-C", "-Z", "--set 1 2 3", "-L --timeout",
		"-a -u 10.0.0.1:53 -r 10.1.1.1 -m", "-L -c", "-Lnc", "-L -n -c --persistent-conn",
		"-L --json", "-Ln --stats --json", "-L -c --json", "-L --timeout --json",
		"-L -t 10.0.0.1:80 --json", "-A -f 1 -p", "-a -f 1 -r 1.1.1.1", "-A -f 2 -6 -s rr",
		"-L -f 1", "-D -f 1 -6", "-Z -f 3", "--add-mark --dst 10.0.0.0/8 --mark 1",
		"--del-mark --dst 10.0.0.0/8", "--list-marks", "--list-marks --json",
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct xvs_xvsadm_cmd cmd;
		struct xvs_xvsadm_err err;

		parse_ok(lines[i], &cmd);
		cr_expect_eq(xvs_xvsadm_check_supported(&cmd, &err), 0, "%s", lines[i]);
	}
}

Test(xvsadm_parse, add_service_defaults)
{
	struct xvs_xvsadm_cmd cmd;

	parse_ok("-A -t 10.0.0.1:80", &cmd);
	cr_assert_eq(cmd.cmd, XVSADM_CMD_ADD);
	cr_expect_eq(cmd.svc.af, AF_INET);
	cr_expect_eq(cmd.svc.proto, IPPROTO_TCP);
	cr_expect_eq(cmd.svc.addr.v4, ip4("10.0.0.1"));
	cr_expect_eq(cmd.svc.port, 80);
	cr_expect_str_eq(cmd.svc.sched, "wlc");
	cr_expect_eq(cmd.svc.flags, 0);
	cr_expect_eq(cmd.svc.netmask, 0xffffffffu);
	cr_expect_eq(cmd.svc.fwmark, 0);
}

/* -E replaces every field: whatever is omitted goes back to its default. */
Test(xvsadm_parse, edit_service_resets_omitted_fields)
{
	struct xvs_xvsadm_cmd cmd;

	parse_ok("-E -t 10.0.0.1:443", &cmd);
	cr_assert_eq(cmd.cmd, XVSADM_CMD_EDIT);
	cr_expect_str_eq(cmd.svc.sched, "wlc");
	cr_expect_eq(cmd.svc.flags & XVS_SVC_F_PERSISTENT, 0);
	cr_expect_eq(cmd.svc.timeout, 0);
	cr_expect_eq(cmd.svc.netmask, 0xffffffffu);
}

Test(xvsadm_parse, persistent_timeout_is_optional_and_defaults_to_360)
{
	struct xvs_xvsadm_cmd cmd;

	parse_ok("-A -t 10.0.0.1:80 -p", &cmd);
	cr_expect(cmd.svc.flags & XVS_SVC_F_PERSISTENT);
	cr_expect_eq(cmd.svc.timeout, 360);
	/* popt does not take a following option as the value */
	parse_ok("-A -t 10.0.0.1:80 -p -s rr", &cmd);
	cr_expect_eq(cmd.svc.timeout, 360);
	cr_expect_str_eq(cmd.svc.sched, "rr");
	parse_ok("-A -t 10.0.0.1:80 -p 600 -M 255.255.255.0", &cmd);
	cr_expect_eq(cmd.svc.timeout, 600);
	cr_expect_eq(cmd.svc.netmask, ip4("255.255.255.0"));
	parse_ok("-A -t 10.0.0.1:80 --persistent=2678400", &cmd);
	cr_expect_eq(cmd.svc.timeout, 2678400);
	/* port 0 is allowed once the service is persistent */
	parse_ok("-A -t 10.0.0.1:0 -p", &cmd);
	cr_expect_eq(cmd.svc.port, 0);
	parse_ok("-A -t 10.0.0.1 -p 60", &cmd);
	cr_expect_eq(cmd.svc.port, 0);
}

/* The real-server port rules, and -e replacing every field. */
struct dest_case {
	const char *line;
	uint16_t port;
	int fwd;
	int weight;
};

static const struct dest_case dest_cases[] = {
	{ "-a -t 10.0.0.1:80 -r 192.168.1.1", 80, XVS_FWD_DROUTE, 1 },
	{ "-a -t 10.0.0.1:80 -r 192.168.1.1:8080", 80, XVS_FWD_DROUTE, 1 },
	{ "-a -t 10.0.0.1:80 -r 192.168.1.1:8080 -g -w 5", 80, XVS_FWD_DROUTE, 5 },
	{ "-a -t 10.0.0.1:80 -r 192.168.1.1:8080 -i", 80, XVS_FWD_TUNNEL, 1 },
	{ "-a -t 10.0.0.1:80 -r 192.168.1.1:8080 -m", 8080, XVS_FWD_MASQ, 1 },
	{ "-a -t 10.0.0.1:80 -r 192.168.1.1 -m -w 0", 80, XVS_FWD_MASQ, 0 },
	{ "-e -t 10.0.0.1:80 -r 192.168.1.1:8080", 80, XVS_FWD_DROUTE, 1 },
	{ "-e -t 10.0.0.1:80 -r 192.168.1.1:8080 -m -w 65535", 8080, XVS_FWD_MASQ, 65535 },
	{ "-d -t 10.0.0.1:80 -r 192.168.1.1", 80, XVS_FWD_DROUTE, 1 },
	{ "-d -t 10.0.0.1:80 -r 192.168.1.1:8080", 8080, XVS_FWD_DROUTE, 1 },
	/* ipvsadm copies the port only if -t came first; xvsadm resolves it after all options */
	{ "-a -r 192.168.1.1 -m -t 10.0.0.1:80", 80, XVS_FWD_MASQ, 1 },
	{ "-a -t 10.0.0.1:www -r 192.168.1.1:http -m", 80, XVS_FWD_MASQ, 1 },
};

Test(xvsadm_parse, real_server_defaults_and_port_rules)
{
	for (size_t i = 0; i < sizeof(dest_cases) / sizeof(dest_cases[0]); i++) {
		const struct dest_case *c = &dest_cases[i];
		struct xvs_xvsadm_cmd cmd;

		parse_ok(c->line, &cmd);
		cr_expect_eq(cmd.dest.addr.v4, ip4("192.168.1.1"), "%s", c->line);
		cr_expect_eq(cmd.dest.port, c->port, "%s: port %u", c->line, cmd.dest.port);
		cr_expect_eq(cmd.dest.fwd, c->fwd, "%s", c->line);
		cr_expect_eq(cmd.dest.weight, c->weight, "%s", c->line);
		cr_expect_eq(cmd.dest.u_threshold, 0, "%s", c->line);
		cr_expect_eq(cmd.dest.l_threshold, 0, "%s", c->line);
	}
}

Test(xvsadm_parse, fwmark_keeps_the_real_server_port)
{
	struct xvs_xvsadm_cmd cmd;

	parse_ok("-a -f 1 -r 192.168.20.1 -g", &cmd);
	cr_expect_eq(cmd.svc.fwmark, 1);
	cr_expect_eq(cmd.dest.port, 0);
	parse_ok("-a -f 7 -r 192.168.20.1:25 -g", &cmd);
	cr_expect_eq(cmd.dest.port, 25);
	parse_ok("-A -f 2 -6 -p", &cmd);
	cr_expect_eq(cmd.svc.af, AF_INET6);
	cr_expect_eq(cmd.svc.netmask, 128);
}

/* The mark rule commands (xvs's own): their options, checks and messages. */
static const struct err_case mark_errors[] = {
	{ "--add-mark --mark 1", "You need to supply the 'dst' option for the 'add-mark' command", 2 },
	{ "--add-mark --dst 10.0.0.0/8", "You need to supply the 'mark' option for the 'add-mark' command", 2 },
	{ "--add-mark --dst 10.0.0.0/8 --mark 0", "invalid fwmark value `0' specified", 2 },
	{ "--add-mark --dst 10.0.0.0/33 --mark 1", "illegal mark destination specified", 2 },
	{ "--add-mark --dst www --mark 1", "illegal mark destination specified", 2 },
	{ "--add-mark --dst 10.0.0.0/8 --dport 90:80 --mark 1", "illegal mark port range specified", 2 },
	{ "--add-mark --dst 10.0.0.0/8 --dport 70000 --mark 1", "illegal mark port range specified", 2 },
	{ "--add-mark --dst 10.0.0.0/8 --proto sctp --mark 1",
	  "illegal mark protocol specified (tcp, udp or any)", 2 },
	{ "--add-mark --dst 10.0.0.0/8 --mark 1 -s rr", "Illegal 'scheduler' option with the 'add-mark' command", 2 },
	{ "-A -t 10.0.0.1:80 --mark 1", "Illegal 'mark' option with the 'add-service' command", 2 },
	{ "--list-marks --dst 10.0.0.0/8", "Illegal 'dst' option with the 'list-marks' command", 2 },
	{ "--add-mark --dst 10.0.0.0/8 --dst 10.0.0.0/8 --mark 1", "multiple 'dst' options specified", 2 },
};

Test(xvsadm_parse, mark_rules)
{
	struct xvs_xvsadm_cmd cmd;

	for (size_t i = 0; i < sizeof(mark_errors) / sizeof(mark_errors[0]); i++) {
		struct xvs_xvsadm_err err;

		cr_expect_eq(parse_str(mark_errors[i].line, &cmd, &err), -EINVAL, "%s", mark_errors[i].line);
		cr_expect_str_eq(err.msg, mark_errors[i].msg, "%s", mark_errors[i].line);
		cr_expect_eq(err.status, mark_errors[i].status, "%s", mark_errors[i].line);
	}
	parse_ok("--add-mark --dst 2001:db8::/48 --proto udp --mark 4294967295", &cmd);
	cr_assert_eq(cmd.cmd, XVSADM_CMD_ADDMARK);
	cr_expect_eq(cmd.mark.af, AF_INET6);
	cr_expect_eq(cmd.mark.plen, 48);
	cr_expect_eq(cmd.mark.proto, IPPROTO_UDP);
	cr_expect_eq(cmd.mark.port_lo, 0);
	cr_expect_eq(cmd.mark.port_hi, 65535);
	cr_expect_eq(cmd.mark.mark, 4294967295u);
	cr_expect(xvs_xvsadm_cmd_is_change(XVSADM_CMD_ADDMARK));
	cr_expect(xvs_xvsadm_cmd_is_change(XVSADM_CMD_DELMARK));
	cr_expect(!xvs_xvsadm_cmd_is_change(XVSADM_CMD_LISTMARKS));
	cr_expect_str_eq(xvs_xvsadm_cmd_name(XVSADM_CMD_LISTMARKS), "list-marks");
}

Test(xvsadm_parse, thresholds_and_tunnel_options)
{
	struct xvs_xvsadm_cmd cmd;

	parse_ok("-a -t 10.0.0.1:80 -r 192.168.1.1 -m -x 100 -y 50", &cmd);
	cr_expect_eq(cmd.dest.u_threshold, 100);
	cr_expect_eq(cmd.dest.l_threshold, 50);
	parse_ok("-a -u 10.0.0.2:53 -r 172.16.0.2 -i --tun-type gue --tun-port 6080 --tun-csum", &cmd);
	cr_expect_eq(cmd.dest.tun_type, XVSADM_TUN_GUE);
	cr_expect_eq(cmd.dest.tun_port, 6080);
	cr_expect_eq(cmd.dest.tun_csum, XVSADM_TUN_CSUM);
	parse_ok("-a -u 10.0.0.2:53 -r 2001:db8::2 -i", &cmd);
	cr_expect_eq(cmd.dest.af, AF_INET6, "tunnels may cross address families");
	cr_expect_eq(cmd.dest.tun_type, XVSADM_TUN_IPIP);
}

Test(xvsadm_parse, ipv6_service_and_mask_in_any_order)
{
	struct xvs_xvsadm_cmd cmd;
	struct in6_addr a;

	parse_ok("-A -t [2001:db8::80]:80 -s mh -b mh-fallback,mh-port", &cmd);
	cr_expect_eq(cmd.svc.af, AF_INET6);
	inet_pton(AF_INET6, "2001:db8::80", &a);
	cr_expect_eq(memcmp(cmd.svc.addr.v6, &a, 16), 0);
	cr_expect_eq(cmd.svc.netmask, 128);
	cr_expect_eq(cmd.svc.flags, XVS_SVC_F_SCHED1 | XVS_SVC_F_SCHED2);
	parse_ok("-A -t [2001:db8::80]:80 -p -M 64", &cmd);
	cr_expect_eq(cmd.svc.netmask, 64);
	parse_ok("-A -M 64 -p -t [2001:db8::80]:80", &cmd);
	cr_expect_eq(cmd.svc.netmask, 64);
	/* an IPv4 mask may be a name that resolves, as ipvsadm's parse_netmask() takes it */
	parse_ok("-A -t 10.0.0.1:80 -p -M localhost", &cmd);
	cr_expect_eq(cmd.svc.netmask, ip4("127.0.0.1"));
	/* a bare IPv6 address is accepted when no port is given */
	parse_ok("-A -t 2001:db8::80 -p", &cmd);
	cr_expect_eq(cmd.svc.af, AF_INET6);
	cr_expect_eq(cmd.svc.port, 0);
}

Test(xvsadm_parse, sched_flags)
{
	struct xvs_xvsadm_cmd cmd;

	parse_ok("-A -u 10.0.0.2:53 -s sh -o -b sh-fallback,sh-port", &cmd);
	cr_expect_eq(cmd.svc.flags, XVS_SVC_F_ONEPACKET | XVS_SVC_F_SCHED1 | XVS_SVC_F_SCHED2);
	parse_ok("-A -t 10.0.0.1:80 -s rr -b flag-3", &cmd);
	cr_expect_eq(cmd.svc.flags, XVS_SVC_F_SCHED3);
	/* an empty list (the shell's -b '') is accepted and sets nothing, with any scheduler */
	const char *argv1[] = { "xvsadm", "-A", "-t", "10.0.0.1:80", "-s", "mh", "-b", "", NULL };
	struct xvs_xvsadm_err err;
	cr_assert_eq(xvs_xvsadm_parse(8, argv1, &cmd, &err), 0, "%s", err.msg);
	cr_expect_eq(cmd.svc.flags, 0);
	const char *argv2[] = { "xvsadm", "-A", "-t", "10.0.0.1:80", "-b", "", NULL };
	cr_assert_eq(xvs_xvsadm_parse(6, argv2, &cmd, &err), 0, "%s", err.msg);
	cr_expect_eq(cmd.svc.flags, 0);
	parse_ok("-A -t 10.0.0.1:80 -s sh -b ,", &cmd);
	cr_expect_eq(cmd.svc.flags, 0);
	parse_ok("-A -t 10.0.0.1:80 -s sh -b ,sh-port,", &cmd);
	cr_expect_eq(cmd.svc.flags, XVS_SVC_F_SCHED2);
	parse_ok("-A -t 10.0.0.1:80 -s lblcr -b flag-1", &cmd);
	cr_expect_eq(cmd.svc.flags, XVS_SVC_F_SCHED1);
}

Test(xvsadm_parse, bundled_short_options)
{
	struct xvs_xvsadm_cmd cmd;

	parse_ok("-Ln", &cmd);
	cr_expect_eq(cmd.cmd, XVSADM_CMD_LIST);
	cr_expect_eq(cmd.format, XVSADM_FMT_NUMERIC);
	parse_ok("-Lnc", &cmd);
	cr_expect(cmd.options & XVSADM_OPTBIT(XVSADM_OPT_CONNECTION));
	parse_ok("-Sn", &cmd);
	cr_expect_eq(cmd.cmd, XVSADM_CMD_SAVE);
	cr_expect_eq(cmd.format, XVSADM_FMT_NUMERIC | XVSADM_FMT_RULE);
	parse_ok("-lnt 10.0.0.1:80", &cmd);
	cr_expect_eq(cmd.svc.port, 80);
	parse_ok("-L -n --stats --exact --nosort --sort", &cmd);
	cr_expect_eq(cmd.format, XVSADM_FMT_NUMERIC | XVSADM_FMT_STATS | XVSADM_FMT_EXACT |
		     XVSADM_FMT_NOSORT);
	parse_ok("--list --numeric --tun-info", &cmd);
	cr_expect_eq(cmd.format, XVSADM_FMT_NUMERIC | XVSADM_FMT_TUN_INFO);
}

Test(xvsadm_parse, other_commands)
{
	struct xvs_xvsadm_cmd cmd;

	parse_ok("--set 900 120 0", &cmd);
	cr_expect_eq(cmd.cmd, XVSADM_CMD_TIMEOUT);
	cr_expect_eq(cmd.timeout_tcp, 900);
	cr_expect_eq(cmd.timeout_tcpfin, 120);
	cr_expect_eq(cmd.timeout_udp, 0);
	parse_ok("-Z", &cmd);
	cr_expect_eq(cmd.cmd, XVSADM_CMD_ZERO);
	cr_expect_eq(cmd.options, 0);
	parse_ok("-h --foo", &cmd);
	cr_expect_eq(cmd.cmd, XVSADM_CMD_HELP, "-h acts at once");
	parse_ok("--version", &cmd);
	cr_expect_eq(cmd.cmd, XVSADM_CMD_VERSION);
	parse_ok("-C", &cmd);
	cr_expect_eq(cmd.cmd, XVSADM_CMD_FLUSH);
	parse_ok("-R", &cmd);
	cr_expect_eq(cmd.cmd, XVSADM_CMD_RESTORE);
	parse_ok("-A --tcp-service=10.0.0.1:http --scheduler=rr", &cmd);
	cr_expect_eq(cmd.svc.port, 80);
}

/* -R line splitting: blank lines, a leading program word, comments, quotes. */
Test(xvsadm_parse, restore_line_splitting)
{
	const char **argv;
	int argc;

	cr_assert_eq(xvs_xvsadm_split_line("\n", &argc, &argv), 0);
	cr_expect_eq(argc, 1);
	free(argv);
	cr_assert_eq(xvs_xvsadm_split_line("   # just a comment\n", &argc, &argv), 0);
	cr_expect_eq(argc, 1);
	free(argv);
	cr_assert_eq(xvs_xvsadm_split_line("ipvsadm -A -t 10.0.0.1:80 # web\n", &argc, &argv), 0);
	cr_assert_eq(argc, 4);
	cr_expect_str_eq(argv[0], "xvsadm");
	cr_expect_str_eq(argv[1], "-A");
	cr_expect_str_eq(argv[3], "10.0.0.1:80");
	free(argv);
	cr_assert_eq(xvs_xvsadm_split_line("/sbin/xvsadm -C", &argc, &argv), 0);
	cr_expect_eq(argc, 2);
	free(argv);
	cr_assert_eq(xvs_xvsadm_split_line("-A -t 10.0.0.1:80 -s \"rr\" -p a#b", &argc, &argv), 0);
	cr_assert_eq(argc, 8);
	cr_expect_str_eq(argv[5], "rr");
	cr_expect_str_eq(argv[7], "a#b", "a # inside a word is not a comment");
	free(argv);
	/* as ipvsadm, the word ipvsadm is dropped wherever it stands */
	cr_assert_eq(xvs_xvsadm_split_line("-A ipvsadm -t 10.0.0.1:80 ipvsadm -s rr", &argc, &argv), 0);
	cr_assert_eq(argc, 6);
	cr_expect_str_eq(argv[2], "-t");
	cr_expect_str_eq(argv[4], "-s");
	free(argv);
}

/* ---- ops sent to the API ----------------------------------------------------------------- */

static char *op_json(const char *line)
{
	struct xvs_xvsadm_cmd cmd;
	json_t *op = NULL;
	char *s;

	parse_ok(line, &cmd);
	cr_assert_eq(xvs_xvsadm_json_op(&cmd, &op), 0, "%s", line);
	s = json_dumps(op, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(op);
	return s;
}

struct op_case {
	const char *line;
	const char *json;
};

static const struct op_case op_cases[] = {
	{ "-A -t 10.0.0.1:80",
	  "{\"op\":\"add-service\",\"service\":{\"addr\":\"10.0.0.1\",\"flags\":[],\"netmask\":\"255.255.255.255\",\"ops\":false,\"persistent\":0,\"port\":80,\"proto\":\"tcp\",\"sched\":\"wlc\"}}" },
	{ "-E -u 10.0.0.2:53 -s sh -p -M 255.255.255.0 -o -b sh-port",
	  "{\"op\":\"edit-service\",\"service\":{\"addr\":\"10.0.0.2\",\"flags\":[\"sh-port\"],\"netmask\":\"255.255.255.0\",\"ops\":true,\"persistent\":360,\"port\":53,\"proto\":\"udp\",\"sched\":\"sh\"}}" },
	{ "-A -t [2001:db8::80]:80 -s mh -b mh-fallback -p 60 -M 64",
	  "{\"op\":\"add-service\",\"service\":{\"addr\":\"2001:db8::80\",\"flags\":[\"mh-fallback\"],\"netmask\":\"64\",\"ops\":false,\"persistent\":60,\"port\":80,\"proto\":\"tcp\",\"sched\":\"mh\"}}" },
	{ "-D -t 10.0.0.1:80",
	  "{\"op\":\"delete-service\",\"service\":{\"addr\":\"10.0.0.1\",\"port\":80,\"proto\":\"tcp\"}}" },
	{ "-C", "{\"op\":\"clear\"}" },
	{ "-a -t 10.0.0.1:80 -r 192.168.10.1:8080 -m",
	  "{\"dest\":{\"addr\":\"192.168.10.1\",\"fwd\":\"masq\",\"l_threshold\":0,\"port\":8080,\"tun_csum\":\"nocsum\",\"tun_port\":0,\"tun_type\":\"ipip\",\"u_threshold\":0,\"weight\":1},\"op\":\"add-dest\",\"service\":{\"addr\":\"10.0.0.1\",\"port\":80,\"proto\":\"tcp\"}}" },
	{ "-e -t 10.0.0.1:80 -r 192.168.10.1:8080 -w 0 -x 10 -y 5",
	  "{\"dest\":{\"addr\":\"192.168.10.1\",\"fwd\":\"route\",\"l_threshold\":5,\"port\":80,\"tun_csum\":\"nocsum\",\"tun_port\":0,\"tun_type\":\"ipip\",\"u_threshold\":10,\"weight\":0},\"op\":\"edit-dest\",\"service\":{\"addr\":\"10.0.0.1\",\"port\":80,\"proto\":\"tcp\"}}" },
	{ "-a -u 10.0.0.2:53 -r 172.16.0.2 -i --tun-type gue --tun-port 6080 --tun-remcsum",
	  "{\"dest\":{\"addr\":\"172.16.0.2\",\"fwd\":\"tunnel\",\"l_threshold\":0,\"port\":53,\"tun_csum\":\"remcsum\",\"tun_port\":6080,\"tun_type\":\"gue\",\"u_threshold\":0,\"weight\":1},\"op\":\"add-dest\",\"service\":{\"addr\":\"10.0.0.2\",\"port\":53,\"proto\":\"udp\"}}" },
	/* -d sends the port as given, like ipvsadm (no DR/tunnel port rule) */
	{ "-d -t 10.0.0.1:80 -r 192.168.10.1:8080",
	  "{\"dest\":{\"addr\":\"192.168.10.1\",\"port\":8080},\"op\":\"delete-dest\",\"service\":{\"addr\":\"10.0.0.1\",\"port\":80,\"proto\":\"tcp\"}}" },
	{ "-Z", "{\"op\":\"zero\"}" },
	{ "-Z -u 10.0.0.2:53",
	  "{\"op\":\"zero\",\"service\":{\"addr\":\"10.0.0.2\",\"port\":53,\"proto\":\"udp\"}}" },
	{ "--set 900 0 300", "{\"op\":\"set-timeouts\",\"tcp\":900,\"tcpfin\":0,\"udp\":300}" },
	/* firewall-mark services: the key is the mark and the family */
	{ "-A -f 1 -s rr -p",
	  "{\"op\":\"add-service\",\"service\":{\"af\":\"inet\",\"flags\":[],\"fwmark\":1,\"netmask\":\"255.255.255.255\",\"ops\":false,\"persistent\":360,\"sched\":\"rr\"}}" },
	{ "-D -f 4294967295 -6",
	  "{\"op\":\"delete-service\",\"service\":{\"af\":\"inet6\",\"fwmark\":4294967295}}" },
	{ "-a -f 1 -6 -r 2001:db8::1 -m",
	  "{\"dest\":{\"addr\":\"2001:db8::1\",\"fwd\":\"masq\",\"l_threshold\":0,\"port\":0,\"tun_csum\":\"nocsum\",\"tun_port\":0,\"tun_type\":\"ipip\",\"u_threshold\":0,\"weight\":1},\"op\":\"add-dest\",\"service\":{\"af\":\"inet6\",\"fwmark\":1}}" },
	/* mark rules (xvs's own) */
	{ "--add-mark --proto tcp --dst 198.18.0.0/24 --dport 80:90 --mark 1",
	  "{\"mark\":{\"dport_hi\":90,\"dport_lo\":80,\"dst\":\"198.18.0.0/24\",\"mark\":1,\"proto\":\"tcp\"},\"op\":\"add-mark\"}" },
	{ "--add-mark --dst 2001:db8::/32 --dport 53 --mark 7",
	  "{\"mark\":{\"dport_hi\":53,\"dport_lo\":53,\"dst\":\"2001:db8::/32\",\"mark\":7,\"proto\":\"any\"},\"op\":\"add-mark\"}" },
	{ "--del-mark --dst 198.18.0.7",
	  "{\"mark\":{\"dport_hi\":65535,\"dport_lo\":0,\"dst\":\"198.18.0.7/32\",\"proto\":\"any\"},\"op\":\"delete-mark\"}" },
	/* a scheduler name JSON cannot carry (not UTF-8) goes as '?'s: the server finds no
	 * such scheduler, as the kernel would (found by fuzz_xvsadm_args: the op leaked) */
	{ "-A -t 10.0.0.1:80 -s r\xffr\xfe -b flag-1",
	  "{\"op\":\"add-service\",\"service\":{\"addr\":\"10.0.0.1\",\"flags\":[\"flag-1\"],\"netmask\":\"255.255.255.255\",\"ops\":false,\"persistent\":0,\"port\":80,\"proto\":\"tcp\",\"sched\":\"r?r?\"}}" },
};

Test(xvsadm_json, ops_carry_resolved_defaults)
{
	for (size_t i = 0; i < sizeof(op_cases) / sizeof(op_cases[0]); i++) {
		char *s = op_json(op_cases[i].line);

		cr_expect_str_eq(s, op_cases[i].json, "%s", op_cases[i].line);
		free(s);
	}
}

Test(xvsadm_json, listing_commands_are_not_ops)
{
	struct xvs_xvsadm_cmd cmd;
	json_t *op = NULL;

	parse_ok("-L -n", &cmd);
	cr_expect_eq(xvs_xvsadm_json_op(&cmd, &op), -EINVAL);
	cr_expect_null(op);
	cr_expect_not(xvs_xvsadm_cmd_is_change(XVSADM_CMD_SAVE));
	cr_expect(xvs_xvsadm_cmd_is_change(XVSADM_CMD_ZERO));
}

/* ipvs_strerror's texts keyed on (operation, errno); other errors print the server's text. */
struct strerror_case {
	enum xvs_xvsadm_cmd_kind cmd;
	int err;
	const char *api;
	const char *msg;
};

static const struct strerror_case strerror_cases[] = {
	{ XVSADM_CMD_ADD, EEXIST, "x", "Service already exists" },
	{ XVSADM_CMD_ADD, ENOENT, "x", "Scheduler or persistence engine not found" },
	{ XVSADM_CMD_EDIT, ESRCH, "x", "No such service" },
	{ XVSADM_CMD_DEL, ESRCH, "x", "No such service" },
	{ XVSADM_CMD_ZERO, ESRCH, "x", "No such service" },
	{ XVSADM_CMD_ADDDEST, ESRCH, "x", "Service not defined" },
	{ XVSADM_CMD_EDITDEST, ESRCH, "x", "Service not defined" },
	{ XVSADM_CMD_DELDEST, ESRCH, "x", "Service not defined" },
	{ XVSADM_CMD_ADDDEST, EEXIST, "x", "Destination already exists" },
	{ XVSADM_CMD_EDITDEST, ENOENT, "x", "No such destination" },
	{ XVSADM_CMD_DELDEST, ENOENT, "x", "No such destination" },
	{ XVSADM_CMD_FLUSH, EPERM, "x", "Permission denied (you must be root)" },
	{ XVSADM_CMD_ADD, EINVAL, "x", "Invalid operation.  Possibly wrong module version, address not unicast, ..." },
	{ XVSADM_CMD_ADDDEST, ENOMEM, "x", "Memory allocation problem" },
	{ XVSADM_CMD_ADD, EAFNOSUPPORT, "x", "Operation not supported with specified address family" },
	{ XVSADM_CMD_EDITDEST, ERANGE, "l_threshold above u_threshold", "Numerical result out of range" },
	{ XVSADM_CMD_ADD, EOPNOTSUPP, "persistence is not supported yet", "persistence is not supported yet" },
	{ XVSADM_CMD_ADD, ENOSPC, NULL, "No space left on device" },
};

Test(xvsadm_json, ipvs_error_texts)
{
	for (size_t i = 0; i < sizeof(strerror_cases) / sizeof(strerror_cases[0]); i++) {
		const struct strerror_case *c = &strerror_cases[i];

		cr_expect_str_eq(xvs_xvsadm_strerror(c->cmd, c->err, c->api), c->msg, "case %zu", i);
	}
}

Test(xvsadm_parse, trace)
{
	struct xvs_xvsadm_cmd cmd;

	parse_ok("--trace -u 10.0.0.1:53 --client 10.9.8.7:4000 --json", &cmd);
	cr_expect_eq(cmd.cmd, XVSADM_CMD_TRACE);
	cr_expect_eq(cmd.svc.proto, IPPROTO_UDP);
	cr_expect_eq(cmd.svc.port, 53);
	cr_expect_eq(cmd.client.af, AF_INET);
	cr_expect_eq(cmd.client.addr.v4, ip4("10.9.8.7"));
	cr_expect_eq(cmd.client.port, 4000);
	cr_expect(cmd.options & XVSADM_OPTBIT(XVSADM_OPT_JSON));
	cr_expect_not(xvs_xvsadm_cmd_is_change(cmd.cmd), "--trace is not for -R");
	cr_expect_str_eq(xvs_xvsadm_cmd_name(cmd.cmd), "trace");
	parse_ok("--trace -t [2001:db8::1]:80 --client [2001:db8::9]:443", &cmd);
	cr_expect_eq(cmd.client.af, AF_INET6);
	cr_expect_eq(cmd.client.addr.v6[15], 9);
	cr_expect_eq(cmd.client.port, 443);
	parse_ok("--trace -t [2001:db8::1]:80 --client 2001:db8::9", &cmd);
	cr_expect_eq(cmd.client.port, 0);
	parse_ok("--trace -t 10.0.0.1:80 --client 10.9.8.7", &cmd);
	cr_expect_eq(cmd.client.port, 0);
}
