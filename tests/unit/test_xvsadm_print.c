/* Unit tests for xvsadm's listings: ipvsadm 1.31's formats byte for byte, from built fixtures. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "xvsadm_json.h"
#include "xvsadm_parse.h"
#include "xvsadm_print.h"

/* ---- fixture builders ------------------------------------------------------------------- */

static void set_ip(int *af, union xvs_ip *ip, const char *s)
{
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, s, &ip->v4) == 1) {
		*af = AF_INET;
		return;
	}
	cr_assert_eq(inet_pton(AF_INET6, s, ip->v6), 1, "bad address %s", s);
	*af = AF_INET6;
}

static struct xvs_xvsadm_service_entry *add_svc(struct xvs_xvsadm_table *t, uint16_t proto,
						const char *addr, uint16_t port, const char *sched)
{
	struct xvs_xvsadm_service_entry *se;

	t->services = realloc(t->services, (t->nb_services + 1) * sizeof(*t->services));
	cr_assert_not_null(t->services);
	se = &t->services[t->nb_services++];
	memset(se, 0, sizeof(*se));
	se->s.proto = proto;
	if (addr != NULL) {
		set_ip(&se->s.af, &se->s.addr, addr);
	} else {
		se->s.af = AF_INET;
	}
	se->s.port = port;
	se->s.netmask = se->s.af == AF_INET6 ? 128 : 0xffffffffu;
	snprintf(se->s.sched, sizeof(se->s.sched), "%s", sched);
	return se;
}

static struct xvs_xvsadm_service_entry *add_fwm(struct xvs_xvsadm_table *t, uint32_t mark,
						const char *sched)
{
	struct xvs_xvsadm_service_entry *se = add_svc(t, IPPROTO_TCP, NULL, 0, sched);

	se->s.fwmark = mark;
	return se;
}

static void persist(struct xvs_xvsadm_service_entry *se, uint32_t timeout, const char *mask)
{
	se->s.flags |= XVS_SVC_F_PERSISTENT;
	se->s.timeout = timeout;
	if (mask != NULL)
		cr_assert_eq(inet_pton(AF_INET, mask, &se->s.netmask), 1);
}

static struct xvs_xvsadm_dest_entry *add_dest(struct xvs_xvsadm_service_entry *se,
					      const char *addr, uint16_t port, int fwd, int weight,
					      uint32_t active, uint32_t inactive)
{
	struct xvs_xvsadm_dest_entry *de;

	se->dests = realloc(se->dests, (se->nb_dests + 1) * sizeof(*se->dests));
	cr_assert_not_null(se->dests);
	de = &se->dests[se->nb_dests++];
	memset(de, 0, sizeof(*de));
	set_ip(&de->d.af, &de->d.addr, addr);
	de->d.port = port;
	de->d.fwd = fwd;
	de->d.weight = weight;
	de->active_conns = active;
	de->inactive_conns = inactive;
	return de;
}

static void set_stats(struct xvs_xvsadm_stats *st, uint64_t conns, uint64_t inpkts,
		      uint64_t outpkts, uint64_t inbytes, uint64_t outbytes)
{
	st->conns = conns;
	st->inpkts = inpkts;
	st->outpkts = outpkts;
	st->inbytes = inbytes;
	st->outbytes = outbytes;
}

static void set_rates(struct xvs_xvsadm_stats *st, uint64_t cps, uint64_t inpps,
		      uint64_t outpps, uint64_t inbps, uint64_t outbps)
{
	st->cps = cps;
	st->inpps = inpps;
	st->outpps = outpps;
	st->inbps = inbps;
	st->outbps = outbps;
}

/* The table of ipvsadm's -L -n sample listing, inserted out of order so that sorting shows. */
static void fixture_list(struct xvs_xvsadm_table *t)
{
	struct xvs_xvsadm_service_entry *se;

	memset(t, 0, sizeof(*t));
	se = add_fwm(t, 1, "wrr");
	persist(se, 600, NULL);
	add_dest(se, "192.168.20.1", 0, XVS_FWD_MASQ, 3, 1, 2);
	se = add_svc(t, IPPROTO_TCP, "2001:db8::80", 80, "mh");
	se->s.flags |= XVS_SVC_F_SCHED1 | XVS_SVC_F_SCHED2;
	add_dest(se, "2001:db8::a0a0", 80, XVS_FWD_MASQ, 1, 0, 0);
	se = add_svc(t, IPPROTO_SCTP, "10.0.0.3", 3868, "lc");
	add_dest(se, "10.0.0.31", 3868, XVS_FWD_DROUTE, 1, 0, 0);
	se = add_svc(t, IPPROTO_UDP, "10.0.0.2", 53, "sh");
	se->s.flags |= XVS_SVC_F_SCHED1 | XVS_SVC_F_SCHED2 | XVS_SVC_F_ONEPACKET;
	add_dest(se, "172.16.0.1", 53, XVS_FWD_TUNNEL, 1, 0, 9);
	se = add_svc(t, IPPROTO_TCP, "10.0.0.1", 443, "rr");
	persist(se, 360, "255.255.255.0");
	add_dest(se, "10.0.0.11", 443, XVS_FWD_DROUTE, 100, 2500, 4321);
	se = add_svc(t, IPPROTO_TCP, "10.0.0.1", 80, "wlc");
	add_dest(se, "192.168.10.2", 8080, XVS_FWD_MASQ, 0, 3, 120);
	add_dest(se, "192.168.10.1", 8080, XVS_FWD_MASQ, 1, 12, 34);
}

/* Run a printer into a string. */
#define CAPTURE(out, call)                                           \
	do {                                                         \
		size_t len_;                                         \
		FILE *f = open_memstream(&(out), &len_);             \
		cr_assert_not_null(f);                               \
		cr_assert_eq((call), 0, "printer failed");           \
		fclose(f);                                           \
	} while (0)

static void expect_output(const struct xvs_xvsadm_table *t, unsigned int fmt, const char *want)
{
	char *got = NULL;

	CAPTURE(got, xvs_xvsadm_print_table(f, t, fmt));
	cr_expect_str_eq(got, want, "\n--- got ---\n%s--- want ---\n%s", got, want);
	free(got);
}

/* ---- -L -n ------------------------------------------------------------------------------- */

static const char list_n[] =
	"IP Virtual Server version 1.2.1 (size=4096)\n"
	"Prot LocalAddress:Port Scheduler Flags\n"
	"  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
	"TCP  10.0.0.1:80 wlc\n"
	"  -> 192.168.10.1:8080            Masq    1      12         34        \n"
	"  -> 192.168.10.2:8080            Masq    0      3          120       \n"
	"TCP  10.0.0.1:443 rr persistent 360 mask 255.255.255.0\n"
	"  -> 10.0.0.11:443                Route   100    2500       4321      \n"
	"UDP  10.0.0.2:53 sh (sh-fallback,sh-port) ops\n"
	"  -> 172.16.0.1:53                Tunnel  1      0          9         \n"
	"SCTP 10.0.0.3:3868 lc\n"
	"  -> 10.0.0.31:3868               Route   1      0          0         \n"
	"TCP  [2001:db8::80]:80 mh (mh-fallback,mh-port)\n"
	"  -> [2001:db8::a0a0]:80          Masq    1      0          0         \n"
	"FWM  1 wrr persistent 600\n"
	"  -> 192.168.20.1:0               Masq    3      1          2         \n";

Test(xvsadm_print, list_numeric_matches_ipvsadm)
{
	struct xvs_xvsadm_table t;

	fixture_list(&t);
	expect_output(&t, XVSADM_FMT_NUMERIC, list_n);
	xvs_xvsadm_table_free(&t);
}

Test(xvsadm_print, nosort_keeps_server_order)
{
	struct xvs_xvsadm_table t;
	char *got = NULL;

	fixture_list(&t);
	CAPTURE(got, xvs_xvsadm_print_table(f, &t, XVSADM_FMT_NUMERIC | XVSADM_FMT_NOSORT));
	/* the fixture was inserted FWM first and with .2 before .1 */
	cr_expect(strstr(got, "InActConn\nFWM  1 wrr persistent 600\n") != NULL, "%s", got);
	cr_expect(strstr(got, "192.168.10.2:8080") < strstr(got, "192.168.10.1:8080"));
	free(got);
	xvs_xvsadm_table_free(&t);
}

/* ipvsadm's comparator overflows and sorts 192.x first; xvsadm sorts as unsigned numbers. */
Test(xvsadm_print, sorts_addresses_as_unsigned)
{
	struct xvs_xvsadm_table t = { 0 };
	struct xvs_xvsadm_service_entry *se;
	char *got = NULL;

	add_svc(&t, IPPROTO_TCP, "192.168.0.1", 80, "rr");
	se = add_svc(&t, IPPROTO_TCP, "10.0.0.1", 80, "rr");
	add_dest(se, "200.0.0.1", 80, XVS_FWD_MASQ, 1, 0, 0);
	add_dest(se, "10.1.0.1", 80, XVS_FWD_MASQ, 1, 0, 0);
	add_dest(se, "10.1.0.1", 79, XVS_FWD_MASQ, 1, 0, 0);
	add_svc(&t, IPPROTO_TCP, "10.0.0.1", 8, "rr");
	CAPTURE(got, xvs_xvsadm_print_table(f, &t, XVSADM_FMT_NUMERIC | XVSADM_FMT_RULE));
	cr_expect_str_eq(got,
			 "-A -t 10.0.0.1:8 -s rr\n"
			 "-A -t 10.0.0.1:80 -s rr\n"
			 "-a -t 10.0.0.1:80 -r 10.1.0.1:79 -m -w 1\n"
			 "-a -t 10.0.0.1:80 -r 10.1.0.1:80 -m -w 1\n"
			 "-a -t 10.0.0.1:80 -r 200.0.0.1:80 -m -w 1\n"
			 "-A -t 192.168.0.1:80 -s rr\n");
	free(got);
	xvs_xvsadm_table_free(&t);
}

Test(xvsadm_print, single_service_has_no_version_line)
{
	struct xvs_xvsadm_table t;
	struct xvs_xvsadm_service key = { 0 };
	char *got = NULL;

	fixture_list(&t);
	key.proto = IPPROTO_TCP;
	set_ip(&key.af, &key.addr, "10.0.0.1");
	key.port = 80;
	CAPTURE(got, xvs_xvsadm_print_service(f, &t, &key, XVSADM_FMT_NUMERIC));
	cr_expect_str_eq(got,
			 "Prot LocalAddress:Port Scheduler Flags\n"
			 "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
			 "TCP  10.0.0.1:80 wlc\n"
			 "  -> 192.168.10.1:8080            Masq    1      12         34        \n"
			 "  -> 192.168.10.2:8080            Masq    0      3          120       \n");
	free(got);
	key.port = 81;
	cr_expect_eq(xvs_xvsadm_print_service(stdout, &t, &key, XVSADM_FMT_NUMERIC), -ESRCH);
	xvs_xvsadm_table_free(&t);
}

Test(xvsadm_print, names_without_numeric)
{
	struct xvs_xvsadm_table t = { 0 };
	struct xvs_xvsadm_service_entry *se;
	char *got = NULL;

	se = add_svc(&t, IPPROTO_TCP, "127.0.0.1", 80, "wlc");
	add_dest(se, "127.0.0.1", 8080, XVS_FWD_MASQ, 1, 0, 0);
	CAPTURE(got, xvs_xvsadm_print_table(f, &t, 0));
	cr_expect_str_eq(got,
			 "IP Virtual Server version 1.2.1 (size=4096)\n"
			 "Prot LocalAddress:Port Scheduler Flags\n"
			 "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
			 "TCP  localhost:http wlc\n"
			 "  -> localhost:http-alt           Masq    1      0          0         \n");
	free(got);
	xvs_xvsadm_table_free(&t);
}

/* ---- --stats, --rate, --exact and the large-number columns -------------------------------- */

static void fixture_stats(struct xvs_xvsadm_table *t)
{
	struct xvs_xvsadm_service_entry *se;
	struct xvs_xvsadm_dest_entry *de;

	memset(t, 0, sizeof(*t));
	se = add_svc(t, IPPROTO_TCP, "10.0.0.1", 443, "rr");
	set_stats(&se->st, 3706421, 457034000, 365628000, 555000000000ULL, 8683000000000ULL);
	set_rates(&se->st, 3700, 148080, 111060, 189542000, 3790000000ULL);
	de = add_dest(se, "10.0.0.11", 443, XVS_FWD_DROUTE, 100, 0, 0);
	set_rates(&de->st, 2500, 100040, 75030, 128051000, 2561000000ULL);
	se = add_svc(t, IPPROTO_TCP, "10.0.0.1", 80, "wlc");
	set_stats(&se->st, 15154, 2098752, 1679005, 2550000000ULL, 39876000000ULL);
	de = add_dest(se, "192.168.10.2", 8080, XVS_FWD_MASQ, 0, 0, 0);
	set_stats(&de->st, 3120, 493824, 395060, 600000000, 9382000000ULL);
	de = add_dest(se, "192.168.10.1", 8080, XVS_FWD_MASQ, 1, 0, 0);
	set_stats(&de->st, 12034, 1604928, 1283945, 1950000000, 30493000000ULL);
}

Test(xvsadm_print, stats_match_ipvsadm)
{
	struct xvs_xvsadm_table t;
	struct xvs_xvsadm_service key = { 0 };
	char *got = NULL;

	fixture_stats(&t);
	/* the sample shows port 443 without its real server: list each service on its own */
	key.proto = IPPROTO_TCP;
	set_ip(&key.af, &key.addr, "10.0.0.1");
	key.port = 80;
	CAPTURE(got, xvs_xvsadm_print_service(f, &t, &key, XVSADM_FMT_NUMERIC | XVSADM_FMT_STATS));
	cr_expect_str_eq(got,
		"Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n"
		"  -> RemoteAddress:Port\n"
		"TCP  10.0.0.1:80                     15154  2098752  1679005    2550M   39876M\n"
		"  -> 192.168.10.1:8080               12034  1604928  1283945    1950M   30493M\n"
		"  -> 192.168.10.2:8080                3120   493824   395060  600000K    9382M\n");
	free(got);
	t.services[0].nb_dests = 0;
	key.port = 443;
	CAPTURE(got, xvs_xvsadm_print_service(f, &t, &key, XVSADM_FMT_NUMERIC | XVSADM_FMT_STATS));
	cr_expect_str_eq(got,
		"Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n"
		"  -> RemoteAddress:Port\n"
		"TCP  10.0.0.1:443                  3706421  457034K  365628K     555G    8683G\n");
	free(got);
	t.services[0].nb_dests = 1;
	xvs_xvsadm_table_free(&t);
}

Test(xvsadm_print, rate_matches_ipvsadm)
{
	struct xvs_xvsadm_table t;
	struct xvs_xvsadm_service key = { 0 };
	char *got = NULL;

	fixture_stats(&t);
	key.proto = IPPROTO_TCP;
	set_ip(&key.af, &key.addr, "10.0.0.1");
	key.port = 443;
	/* --rate wins over --thresholds and the others */
	CAPTURE(got, xvs_xvsadm_print_service(f, &t, &key, XVSADM_FMT_NUMERIC | XVSADM_FMT_RATE |
					      XVSADM_FMT_THRESHOLDS | XVSADM_FMT_TUN_INFO));
	cr_expect_str_eq(got,
		"Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n"
		"  -> RemoteAddress:Port\n"
		"TCP  10.0.0.1:443                     3700   148080   111060  189542K    3790M\n"
		"  -> 10.0.0.11:443                    2500   100040    75030  128051K    2561M\n");
	free(got);
	xvs_xvsadm_table_free(&t);
}

struct num_case {
	uint64_t v;
	unsigned int fmt;
	const char *want;
};

static const struct num_case num_cases[] = {
	{ 0, 0, "        0" },
	{ 99999999ULL, 0, " 99999999" },
	{ 100000000ULL, 0, "  100000K" },
	{ 999999999ULL, 0, "  999999K" },
	{ 1000000000ULL, 0, "    1000M" },
	{ 99999999999ULL, 0, "   99999M" },
	{ 100000000000ULL, 0, "     100G" },
	{ 99999999999999ULL, 0, "   99999G" },
	{ 100000000000000ULL, 0, "     100T" },
	{ 18446744073709551615ULL, 0, "18446744T" },
	{ 0, XVSADM_FMT_EXACT, "        0" },
	{ 99999999ULL, XVSADM_FMT_EXACT, " 99999999" },
	{ 100000000ULL, XVSADM_FMT_EXACT, " 100000000" },
	{ 100000000000ULL, XVSADM_FMT_EXACT, " 100000000000" },
	{ 100000000000000ULL, XVSADM_FMT_EXACT, " 100000000000000" },
};

Test(xvsadm_print, large_number_abbreviations)
{
	for (size_t i = 0; i < sizeof(num_cases) / sizeof(num_cases[0]); i++) {
		char *got = NULL;
		size_t len;
		FILE *f = open_memstream(&got, &len);

		cr_assert_not_null(f);
		xvs_xvsadm_print_largenum(f, num_cases[i].v, num_cases[i].fmt);
		fclose(f);
		cr_expect_str_eq(got, num_cases[i].want, "%llu fmt %u",
				 (unsigned long long)num_cases[i].v, num_cases[i].fmt);
		free(got);
	}
}

Test(xvsadm_print, stats_exact)
{
	struct xvs_xvsadm_table t = { 0 };
	struct xvs_xvsadm_service_entry *se = add_svc(&t, IPPROTO_UDP, "10.0.0.2", 53, "rr");

	set_stats(&se->st, 1, 100000000, 99999999, 123456789012ULL, 0);
	expect_output(&t, XVSADM_FMT_NUMERIC | XVSADM_FMT_STATS | XVSADM_FMT_EXACT,
		"IP Virtual Server version 1.2.1 (size=4096)\n"
		"Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n"
		"  -> RemoteAddress:Port\n"
		"UDP  10.0.0.2:53                         1 100000000 99999999 123456789012        0\n");
	xvs_xvsadm_table_free(&t);
}

/* ---- --thresholds, --persistent-conn, --tun-info ------------------------------------------ */

static void fixture_small(struct xvs_xvsadm_table *t)
{
	struct xvs_xvsadm_service_entry *se;
	struct xvs_xvsadm_dest_entry *de;

	memset(t, 0, sizeof(*t));
	se = add_svc(t, IPPROTO_UDP, "10.0.0.2", 53, "sh");
	se->s.flags |= XVS_SVC_F_SCHED1;
	persist(se, 60, NULL);
	de = add_dest(se, "172.16.0.1", 53, XVS_FWD_TUNNEL, 1, 5, 9);
	de->d.u_threshold = 200;
	de->d.l_threshold = 150;
	de->persist_conns = 7;
	de = add_dest(se, "172.16.0.2", 53, XVS_FWD_TUNNEL, 2, 0, 1);
	de->d.tun_type = XVSADM_TUN_GUE;
	de->d.tun_port = 6080;
	de->d.tun_csum = XVSADM_TUN_CSUM;
	de = add_dest(se, "172.16.0.3", 53, XVS_FWD_TUNNEL, 3, 0, 0);
	de->d.tun_type = XVSADM_TUN_GRE;
	de = add_dest(se, "172.16.0.4", 53, XVS_FWD_MASQ, 4, 0, 0);
}

Test(xvsadm_print, thresholds)
{
	struct xvs_xvsadm_table t;

	fixture_small(&t);
	expect_output(&t, XVSADM_FMT_NUMERIC | XVSADM_FMT_THRESHOLDS | XVSADM_FMT_PERSISTENTCONN,
		"IP Virtual Server version 1.2.1 (size=4096)\n"
		"Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n"
		"  -> RemoteAddress:Port\n"
		"UDP  10.0.0.2:53 sh (sh-fallback) persistent 60\n"
		"  -> 172.16.0.1:53                200        150        5          9         \n"
		"  -> 172.16.0.2:53                0          0          0          1         \n"
		"  -> 172.16.0.3:53                0          0          0          0         \n"
		"  -> 172.16.0.4:53                0          0          0          0         \n");
	xvs_xvsadm_table_free(&t);
}

Test(xvsadm_print, persistent_conn)
{
	struct xvs_xvsadm_table t;

	fixture_small(&t);
	expect_output(&t, XVSADM_FMT_NUMERIC | XVSADM_FMT_PERSISTENTCONN | XVSADM_FMT_TUN_INFO,
		"IP Virtual Server version 1.2.1 (size=4096)\n"
		"Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn \n"
		"  -> RemoteAddress:Port\n"
		"UDP  10.0.0.2:53 sh (sh-fallback) persistent 60\n"
		"  -> 172.16.0.1:53                1         7           5          9         \n"
		"  -> 172.16.0.2:53                2         0           0          1         \n"
		"  -> 172.16.0.3:53                3         0           0          0         \n"
		"  -> 172.16.0.4:53                4         0           0          0         \n");
	xvs_xvsadm_table_free(&t);
}

Test(xvsadm_print, tun_info)
{
	struct xvs_xvsadm_table t;

	fixture_small(&t);
	expect_output(&t, XVSADM_FMT_NUMERIC | XVSADM_FMT_TUN_INFO,
		"IP Virtual Server version 1.2.1 (size=4096)\n"
		"Prot LocalAddress:Port Scheduler Flags\n"
		"  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n"
		"UDP  10.0.0.2:53 sh (sh-fallback) persistent 60\n"
		"  -> 172.16.0.1:53                Tunnel  ipip          1      5          9         \n"
		"  -> 172.16.0.2:53                Tunnel  gue:6080:+c   2      0          1         \n"
		"  -> 172.16.0.3:53                Tunnel  gre:-c        3      0          0         \n"
		"  -> 172.16.0.4:53                Masq    n/a           4      0          0         \n");
	xvs_xvsadm_table_free(&t);
}

/*
 * ipvsadm cuts a real server's name at 28 characters only when the server is IPv4: an IPv6
 * tunnel server of an IPv4 service is printed whole, an IPv4 one of an IPv6 service is cut.
 */
Test(xvsadm_print, server_name_cut_follows_the_server_family)
{
	struct xvs_xvsadm_table t;
	struct xvs_xvsadm_service_entry *se;

	memset(&t, 0, sizeof(t));
	se = add_svc(&t, IPPROTO_TCP, "10.0.0.1", 80, "wlc");
	add_dest(se, "2001:db8::1234:5678:9abc", 80, XVS_FWD_TUNNEL, 1, 0, 0);
	expect_output(&t, XVSADM_FMT_NUMERIC,
		"IP Virtual Server version 1.2.1 (size=4096)\n"
		"Prot LocalAddress:Port Scheduler Flags\n"
		"  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
		"TCP  10.0.0.1:80 wlc\n"
		"  -> [2001:db8::1234:5678:9abc]:80 Tunnel  1      0          0         \n");
	expect_output(&t, XVSADM_FMT_NUMERIC | XVSADM_FMT_STATS,
		"IP Virtual Server version 1.2.1 (size=4096)\n"
		"Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n"
		"  -> RemoteAddress:Port\n"
		"TCP  10.0.0.1:80                         0        0        0        0        0\n"
		"  -> [2001:db8::1234:5678:9abc]:80        0        0        0        0        0\n");
	xvs_xvsadm_table_free(&t);
}

/* ---- -S -n and the round trip through the parser ----------------------------------------- */

static void fixture_save(struct xvs_xvsadm_table *t)
{
	struct xvs_xvsadm_service_entry *se;
	struct xvs_xvsadm_dest_entry *de;

	fixture_list(t);
	/* the -S sample shows the SCTP and IPv6 services without real servers, and a GUE one */
	for (size_t i = 0; i < t->nb_services; i++) {
		se = &t->services[i];
		if (se->s.proto == IPPROTO_SCTP || se->s.af == AF_INET6)
			se->nb_dests = 0;
		if (se->s.proto == IPPROTO_UDP) {
			de = add_dest(se, "172.16.0.2", 53, XVS_FWD_TUNNEL, 1, 0, 0);
			de->d.tun_type = XVSADM_TUN_GUE;
			de->d.tun_port = 6080;
			de->d.tun_csum = XVSADM_TUN_CSUM;
		}
	}
}

static const char save_n[] =
	"-A -t 10.0.0.1:80 -s wlc\n"
	"-a -t 10.0.0.1:80 -r 192.168.10.1:8080 -m -w 1\n"
	"-a -t 10.0.0.1:80 -r 192.168.10.2:8080 -m -w 0\n"
	"-A -t 10.0.0.1:443 -s rr -p 360 -M 255.255.255.0\n"
	"-a -t 10.0.0.1:443 -r 10.0.0.11:443 -g -w 100\n"
	"-A -u 10.0.0.2:53 -s sh -o -b sh-fallback,sh-port\n"
	"-a -u 10.0.0.2:53 -r 172.16.0.1:53 -i -w 1 --tun-type ipip\n"
	"-a -u 10.0.0.2:53 -r 172.16.0.2:53 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum\n"
	"-A --sctp-service 10.0.0.3:3868 -s lc\n"
	"-A -t [2001:db8::80]:80 -s mh -b mh-fallback,mh-port\n"
	"-A -f 1 -s wrr -p 600\n"
	"-a -f 1 -r 192.168.20.1:0 -m -w 3\n";

Test(xvsadm_print, save_numeric_matches_ipvsadm)
{
	struct xvs_xvsadm_table t;

	fixture_save(&t);
	expect_output(&t, XVSADM_FMT_NUMERIC | XVSADM_FMT_RULE, save_n);
	xvs_xvsadm_table_free(&t);
}

static const struct xvs_xvsadm_service_entry *find_svc(const struct xvs_xvsadm_table *t,
							 const struct xvs_xvsadm_service *k)
{
	for (size_t i = 0; i < t->nb_services; i++) {
		const struct xvs_xvsadm_service *s = &t->services[i].s;

		if (s->fwmark == k->fwmark && s->af == k->af && s->proto == k->proto &&
		    s->port == k->port && memcmp(&s->addr, &k->addr, sizeof(s->addr)) == 0)
			return &t->services[i];
	}
	return NULL;
}

/* Every -S line parses back (as -R reads it) to exactly the object it was printed from. */
Test(xvsadm_print, save_output_parses_back)
{
	struct xvs_xvsadm_table t;
	char *text = NULL, *line, *save = NULL;
	size_t nb_lines = 0;

	fixture_save(&t);
	CAPTURE(text, xvs_xvsadm_print_table(f, &t, XVSADM_FMT_NUMERIC | XVSADM_FMT_RULE));
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct xvs_xvsadm_cmd cmd;
		struct xvs_xvsadm_err err;
		const struct xvs_xvsadm_service_entry *se;
		const char **argv;
		int argc;

		cr_assert_eq(xvs_xvsadm_split_line(line, &argc, &argv), 0);
		cr_assert_eq(xvs_xvsadm_parse(argc, argv, &cmd, &err), 0, "%s: %s", line, err.msg);
		free(argv);
		se = find_svc(&t, &cmd.svc);
		cr_assert_not_null(se, "%s: service not in the fixture", line);
		if (cmd.cmd == XVSADM_CMD_ADD) {
			cr_expect_str_eq(cmd.svc.sched, se->s.sched, "%s", line);
			cr_expect_eq(cmd.svc.flags, se->s.flags, "%s", line);
			cr_expect_eq(cmd.svc.timeout, se->s.timeout, "%s", line);
			cr_expect_eq(cmd.svc.netmask, se->s.netmask, "%s", line);
		} else {
			const struct xvs_xvsadm_dest_entry *de = NULL;

			cr_assert_eq(cmd.cmd, XVSADM_CMD_ADDDEST, "%s", line);
			for (size_t i = 0; i < se->nb_dests; i++)
				if (memcmp(&se->dests[i].d.addr, &cmd.dest.addr, sizeof(cmd.dest.addr)) == 0 &&
				    se->dests[i].d.port == cmd.dest.port)
					de = &se->dests[i];
			cr_assert_not_null(de, "%s: dest not in the fixture", line);
			cr_expect_eq(cmd.dest.fwd, de->d.fwd, "%s", line);
			cr_expect_eq(cmd.dest.weight, de->d.weight, "%s", line);
			cr_expect_eq(cmd.dest.tun_type, de->d.tun_type, "%s", line);
			cr_expect_eq(cmd.dest.tun_port, de->d.tun_port, "%s", line);
			cr_expect_eq(cmd.dest.tun_csum, de->d.tun_csum, "%s", line);
		}
		nb_lines++;
	}
	cr_expect_eq(nb_lines, 12);
	free(text);
	xvs_xvsadm_table_free(&t);
}

Test(xvsadm_print, timeout_line)
{
	struct xvs_xvsadm_table t = { .timeout_tcp = 900, .timeout_tcpfin = 120, .timeout_udp = 300 };
	char *got = NULL;

	CAPTURE(got, xvs_xvsadm_print_timeout(f, &t));
	cr_expect_str_eq(got, "Timeout (tcp tcpfin udp): 900 120 300\n");
	free(got);
}

Test(xvsadm_print, empty_table)
{
	struct xvs_xvsadm_table t = { 0 };

	expect_output(&t, XVSADM_FMT_NUMERIC,
		      "IP Virtual Server version 1.2.1 (size=4096)\n"
		      "Prot LocalAddress:Port Scheduler Flags\n"
		      "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n");
	expect_output(&t, XVSADM_FMT_RULE, "");
}

/* ---- from the API's GET /v1/services document -------------------------------------------- */

static const char services_doc[] =
	"{\"services\":["
	"{\"proto\":\"udp\",\"addr\":\"10.0.0.2\",\"port\":53,\"sched\":\"sh\",\"persistent\":0,"
	" \"netmask\":\"255.255.255.255\",\"flags\":[\"flag-1\",\"flag-2\"],\"ops\":true,"
	" \"conns\":5,\"inpkts\":6,\"outpkts\":7,\"inbytes\":8,\"outbytes\":9,"
	" \"dests\":[{\"addr\":\"172.16.0.2\",\"port\":53,\"fwd\":\"tunnel\",\"weight\":1,"
	"   \"u_threshold\":0,\"l_threshold\":0,\"tun_type\":\"gue\",\"tun_port\":6080,"
	"   \"tun_csum\":\"csum\",\"active_conns\":0,\"inactive_conns\":3,\"persist_conns\":0,"
	"   \"conns\":3,\"inpkts\":0,\"outpkts\":0,\"inbytes\":0,\"outbytes\":0}]},"
	"{\"proto\":\"tcp\",\"addr\":\"10.0.0.1\",\"port\":443,\"sched\":\"rr\",\"persistent\":360,"
	" \"netmask\":\"255.255.255.0\",\"flags\":[],\"ops\":false,\"future_field\":1,"
	" \"dests\":[{\"addr\":\"10.0.0.11\",\"port\":443,\"fwd\":\"route\",\"weight\":100,"
	"   \"active_conns\":2500,\"inactive_conns\":4321}]},"
	"{\"proto\":\"tcp\",\"addr\":\"2001:db8::80\",\"port\":80,\"sched\":\"wlc\","
	" \"persistent\":60,\"netmask\":\"64\",\"dests\":[]}"
	"],\"timeouts\":{\"tcp\":900,\"tcpfin\":120,\"udp\":300}}";

Test(xvsadm_json, services_document_to_listing)
{
	struct xvs_xvsadm_table t;
	json_t *doc = json_loads(services_doc, 0, NULL);

	cr_assert_not_null(doc);
	cr_assert_eq(xvs_xvsadm_json_table(doc, &t), 0);
	json_decref(doc);
	cr_expect_eq(t.timeout_tcpfin, 120);
	expect_output(&t, XVSADM_FMT_NUMERIC,
		"IP Virtual Server version 1.2.1 (size=4096)\n"
		"Prot LocalAddress:Port Scheduler Flags\n"
		"  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
		"TCP  10.0.0.1:443 rr persistent 360 mask 255.255.255.0\n"
		"  -> 10.0.0.11:443                Route   100    2500       4321      \n"
		"UDP  10.0.0.2:53 sh (sh-fallback,sh-port) ops\n"
		"  -> 172.16.0.2:53                Tunnel  1      0          3         \n"
		"TCP  [2001:db8::80]:80 wlc persistent 60 mask 64\n");
	expect_output(&t, XVSADM_FMT_NUMERIC | XVSADM_FMT_RULE,
		"-A -t 10.0.0.1:443 -s rr -p 360 -M 255.255.255.0\n"
		"-a -t 10.0.0.1:443 -r 10.0.0.11:443 -g -w 100\n"
		"-A -u 10.0.0.2:53 -s sh -o -b sh-fallback,sh-port\n"
		"-a -u 10.0.0.2:53 -r 172.16.0.2:53 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum\n"
		"-A -t [2001:db8::80]:80 -s wlc -p 60 -M 64\n");
	xvs_xvsadm_table_free(&t);
}

Test(xvsadm_json, malformed_documents_are_refused)
{
	static const char *const docs[] = {
		"{}", "{\"services\":{}}", "{\"services\":[{\"proto\":\"icmp\",\"addr\":\"1.1.1.1\"}]}",
		"{\"services\":[{\"proto\":\"tcp\",\"addr\":\"nonsense\"}]}",
		"{\"services\":[{\"proto\":\"tcp\",\"addr\":\"1.1.1.1\",\"dests\":[{\"addr\":7}]}]}",
	};

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct xvs_xvsadm_table t;
		json_t *doc = json_loads(docs[i], 0, NULL);

		cr_assert_not_null(doc, "%s", docs[i]);
		cr_expect_eq(xvs_xvsadm_json_table(doc, &t), -EINVAL, "%s", docs[i]);
		json_decref(doc);
	}
}

/* ---- health: the IPVS view and --health ---------------------------------------------------- */

/* Under keepalived's rules: .11 down and removed, .12 down and inhibited (weight 0), .13 up
 * with a misc_dynamic weight of 3, .14 without checks; a second service runs on its sorry
 * server, its one real server removed. */
static const char health_doc[] =
	"{\"services\":["
	"{\"proto\":\"tcp\",\"addr\":\"198.18.0.100\",\"port\":80,\"sched\":\"rr\",\"dests\":["
	" {\"addr\":\"198.19.0.14\",\"port\":80,\"fwd\":\"masq\",\"weight\":1,\"in_ipvs\":true,"
	"  \"ipvs_weight\":1,\"active_conns\":4},"
	" {\"addr\":\"198.19.0.13\",\"port\":80,\"fwd\":\"masq\",\"weight\":1,\"in_ipvs\":true,"
	"  \"ipvs_weight\":3,\"health\":{\"state\":\"up\"}},"
	" {\"addr\":\"198.19.0.12\",\"port\":80,\"fwd\":\"masq\",\"weight\":2,\"in_ipvs\":true,"
	"  \"ipvs_weight\":0,\"health\":{\"state\":\"down\"},\"inactive_conns\":7},"
	" {\"addr\":\"198.19.0.11\",\"port\":80,\"fwd\":\"masq\",\"weight\":1,\"in_ipvs\":false,"
	"  \"ipvs_weight\":0,\"health\":{\"state\":\"down\"}}]},"
	"{\"proto\":\"tcp\",\"addr\":\"198.18.0.101\",\"port\":80,\"sched\":\"wlc\",\"dests\":["
	" {\"addr\":\"198.19.0.99\",\"port\":8080,\"fwd\":\"masq\",\"weight\":1,\"in_ipvs\":true,"
	"  \"ipvs_weight\":1,\"sorry_server\":true},"
	" {\"addr\":\"198.19.0.21\",\"port\":80,\"fwd\":\"route\",\"weight\":1,\"in_ipvs\":false,"
	"  \"ipvs_weight\":0,\"health\":{\"state\":\"unknown\"}}]}"
	"],\"timeouts\":{\"tcp\":900,\"tcpfin\":120,\"udp\":300}}";

Test(xvsadm_json, health_ipvs_view_and_health_listing)
{
	struct xvs_xvsadm_table t;
	json_t *doc = json_loads(health_doc, 0, NULL);

	cr_assert_not_null(doc);
	cr_assert_eq(xvs_xvsadm_json_table(doc, &t), 0);
	json_decref(doc);
	/* what ipvsadm -L -n would print with keepalived driving IPVS */
	expect_output(&t, XVSADM_FMT_NUMERIC,
		"IP Virtual Server version 1.2.1 (size=4096)\n"
		"Prot LocalAddress:Port Scheduler Flags\n"
		"  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
		"TCP  198.18.0.100:80 rr\n"
		"  -> 198.19.0.12:80               Masq    0      0          7         \n"
		"  -> 198.19.0.13:80               Masq    3      0          0         \n"
		"  -> 198.19.0.14:80               Masq    1      4          0         \n"
		"TCP  198.18.0.101:80 wlc\n"
		"  -> 198.19.0.99:8080             Masq    1      0          0         \n");
	expect_output(&t, XVSADM_FMT_NUMERIC | XVSADM_FMT_NOSORT,
		"IP Virtual Server version 1.2.1 (size=4096)\n"
		"Prot LocalAddress:Port Scheduler Flags\n"
		"  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
		"TCP  198.18.0.100:80 rr\n"
		"  -> 198.19.0.14:80               Masq    1      4          0         \n"
		"  -> 198.19.0.13:80               Masq    3      0          0         \n"
		"  -> 198.19.0.12:80               Masq    0      0          7         \n"
		"TCP  198.18.0.101:80 wlc\n"
		"  -> 198.19.0.99:8080             Masq    1      0          0         \n");
	expect_output(&t, XVSADM_FMT_NUMERIC | XVSADM_FMT_RULE,
		"-A -t 198.18.0.100:80 -s rr\n"
		"-a -t 198.18.0.100:80 -r 198.19.0.12:80 -m -w 0\n"
		"-a -t 198.18.0.100:80 -r 198.19.0.13:80 -m -w 3\n"
		"-a -t 198.18.0.100:80 -r 198.19.0.14:80 -m -w 1\n"
		"-A -t 198.18.0.101:80 -s wlc\n"
		"-a -t 198.18.0.101:80 -r 198.19.0.99:8080 -m -w 1\n");
	expect_output(&t, XVSADM_FMT_NUMERIC | XVSADM_FMT_HEALTH,
		"IP Virtual Server version 1.2.1 (size=4096)\n"
		"Prot LocalAddress:Port Scheduler Flags\n"
		"  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn Health\n"
		"TCP  198.18.0.100:80 rr\n"
		"  -> 198.19.0.11:80               Masq    1      0          0          down, removed\n"
		"  -> 198.19.0.12:80               Masq    2      0          7          down, weight 0\n"
		"  -> 198.19.0.13:80               Masq    1      0          0          up, weight 3\n"
		"  -> 198.19.0.14:80               Masq    1      4          0          no checks\n"
		"TCP  198.18.0.101:80 wlc\n"
		"  -> 198.19.0.21:80               Route   1      0          0          unknown, removed\n"
		"  -> 198.19.0.99:8080             Masq    1      0          0          sorry server\n");
	xvs_xvsadm_table_free(&t);
}

/* ---- -L -c ------------------------------------------------------------------------------ */

/* The rows of IPVSADM.md's -L -n -c sample, as GET /v1/conns objects, in listing order. */
static const char *const conn_objs[] = {
	"{\"proto\":\"tcp\",\"state\":\"ESTABLISHED\",\"expire\":897,\"caddr\":\"10.0.1.100\","
	"\"cport\":50000,\"vaddr\":\"10.0.0.1\",\"vport\":80,\"daddr\":\"192.168.10.1\",\"dport\":8080}",
	"{\"proto\":\"tcp\",\"state\":\"FIN_WAIT\",\"expire\":95,\"caddr\":\"10.0.1.101\","
	"\"cport\":50001,\"vaddr\":\"10.0.0.1\",\"vport\":80,\"daddr\":\"192.168.10.2\",\"dport\":8080}",
	"{\"proto\":\"tcp\",\"state\":\"NONE\",\"expire\":359,\"caddr\":\"10.0.1.0\","
	"\"cport\":0,\"vaddr\":\"10.0.0.1\",\"vport\":443,\"daddr\":\"10.0.0.11\",\"dport\":443}",
	"{\"proto\":\"udp\",\"state\":\"UDP\",\"expire\":299,\"caddr\":\"10.0.1.105\","
	"\"cport\":54321,\"vaddr\":\"10.0.0.2\",\"vport\":53,\"daddr\":\"172.16.0.1\",\"dport\":53,"
	"\"fwd\":\"tunnel\",\"worker\":1,\"future_field\":true}",
	"{\"proto\":\"ip\",\"state\":\"NONE\",\"expire\":599,\"caddr\":\"10.0.1.106\","
	"\"cport\":0,\"vaddr\":\"0.0.0.1\",\"vport\":0,\"daddr\":\"192.168.20.1\",\"dport\":0}",
	"{\"proto\":\"tcp\",\"state\":\"ESTABLISHED\",\"expire\":880,\"caddr\":\"2001:db8::abc\","
	"\"cport\":49152,\"vaddr\":\"2001:db8::80\",\"vport\":80,\"daddr\":\"2001:db8::a0a0\",\"dport\":80}",
};

static const char conns_n[] =
	"IPVS connection entries\n"
	"pro expire state       source             virtual            destination\n"
	"TCP 14:57  ESTABLISHED 10.0.1.100:50000   10.0.0.1:80        192.168.10.1:8080\n"
	"TCP 01:35  FIN_WAIT    10.0.1.101:50001   10.0.0.1:80        192.168.10.2:8080\n"
	"TCP 05:59  NONE        10.0.1.0:0         10.0.0.1:443       10.0.0.11:443\n"
	"UDP 04:59  UDP         10.0.1.105:54321   10.0.0.2:53        172.16.0.1:53\n"
	"IP  09:59  NONE        10.0.1.106:0       0.0.0.1:0          192.168.20.1:0\n"
	"TCP 14:40  ESTABLISHED [2001:db8::abc]:49152 [2001:db8::80]:80  [2001:db8::a0a0]:80\n";

/* Print every sample object with fmt, the title first. */
static char *print_conns(unsigned int fmt)
{
	char *got = NULL;
	size_t len;
	FILE *f = open_memstream(&got, &len);

	cr_assert_not_null(f);
	cr_assert_eq(xvs_xvsadm_print_conn_title(f, fmt), 0);
	for (size_t i = 0; i < sizeof(conn_objs) / sizeof(conn_objs[0]); i++) {
		struct xvs_xvsadm_conn c;
		json_t *o = json_loads(conn_objs[i], 0, NULL);

		cr_assert_not_null(o, "%s", conn_objs[i]);
		cr_assert_eq(xvs_xvsadm_json_conn(o, &c), 0, "%s", conn_objs[i]);
		json_decref(o);
		cr_assert_eq(xvs_xvsadm_print_conn(f, &c, fmt), 0);
	}
	fclose(f);
	return got;
}

Test(xvsadm_print, connections_match_ipvsadm)
{
	char *got = print_conns(XVSADM_FMT_NUMERIC);

	cr_expect_str_eq(got, conns_n, "\n--- got ---\n%s--- want ---\n%s", got, conns_n);
	free(got);
}

/*
 * --persistent-conn adds the two pe columns to the title. A row gets them only when the
 * connection has a persistence engine's name and data (ipvsadm prints the kernel's line with
 * the extra fields in the wide format, every other line in the plain one), and there the
 * destination is 16 columns wide and the engine's name 18.
 */
Test(xvsadm_print, connections_persistent_conn)
{
	char *got = print_conns(XVSADM_FMT_NUMERIC | XVSADM_FMT_PERSISTENTCONN);
	const char *want_title = "IPVS connection entries\n"
		"pro expire state       source             virtual            destination        "
		"pe name          pe_data\n";
	struct xvs_xvsadm_conn c = { .proto = IPPROTO_UDP, .af = AF_INET, .daf = AF_INET,
				     .state = "UDP", .expire = 179, .cport = 5060, .vport = 5060,
				     .dport = 5060, .pe_name = "sip", .pe_data = "abc123" };
	char *row = NULL;

	const char *plain_rows = strchr(strchr(conns_n, '\n') + 1, '\n') + 1;

	cr_assert_eq(strncmp(got, want_title, strlen(want_title)), 0, "%s", got);
	cr_expect_str_eq(got + strlen(want_title), plain_rows,
			 "rows without pe data are the plain ones:\n%s", got);
	free(got);

	inet_pton(AF_INET, "10.0.1.7", &c.caddr.v4);
	inet_pton(AF_INET, "10.0.0.5", &c.vaddr.v4);
	inet_pton(AF_INET, "192.168.30.1", &c.daddr.v4);
	CAPTURE(row, xvs_xvsadm_print_conn(f, &c, XVSADM_FMT_NUMERIC | XVSADM_FMT_PERSISTENTCONN));
	cr_expect_str_eq(row, "UDP 02:59  UDP         10.0.1.7:5060      10.0.0.5:5060      "
			      "192.168.30.1:5060 sip                abc123\n");
	free(row);
}

/* Without -n, ports get their service names as in ipvsadm (addresses have none here). */
Test(xvsadm_print, connections_names)
{
	struct xvs_xvsadm_conn c = { .proto = IPPROTO_TCP, .af = AF_INET, .daf = AF_INET,
				     .state = "TIME_WAIT", .expire = 6000, .cport = 40000,
				     .vport = 80, .dport = 8080 };
	char *got = NULL;

	inet_pton(AF_INET, "198.18.0.2", &c.caddr.v4);
	inet_pton(AF_INET, "198.18.0.100", &c.vaddr.v4);
	inet_pton(AF_INET, "198.19.0.11", &c.daddr.v4);
	CAPTURE(got, xvs_xvsadm_print_conn(f, &c, 0));
	cr_expect_str_eq(got, "TCP 100:00 TIME_WAIT   198.18.0.2:40000   198.18.0.100:http  "
			      "198.19.0.11:http-alt\n");
	free(got);
}

/* A fwmark template's protocol is "IP": ipvsadm looks no port name up for it. */
Test(xvsadm_print, connections_ip_template_ports_are_numbers)
{
	struct xvs_xvsadm_conn c = { .proto = 0, .af = AF_INET, .daf = AF_INET,
				     .state = "NONE", .expire = 599, .cport = 0, .vport = 0,
				     .dport = 80 };
	char *got = NULL;

	inet_pton(AF_INET, "10.0.1.106", &c.caddr.v4);
	inet_pton(AF_INET, "0.0.0.1", &c.vaddr.v4);
	inet_pton(AF_INET, "192.168.20.1", &c.daddr.v4);
	CAPTURE(got, xvs_xvsadm_print_conn(f, &c, 0));
	cr_expect_str_eq(got, "IP  09:59  NONE        10.0.1.106:0       0.0.0.1:0          "
			      "192.168.20.1:80\n");
	free(got);
}

Test(xvsadm_json, malformed_connections_are_refused)
{
	static const char *const objs[] = {
		"[]", "{}",
		"{\"proto\":\"icmp\",\"state\":\"NONE\",\"expire\":1,\"caddr\":\"1.1.1.1\",\"cport\":1,"
		"\"vaddr\":\"1.1.1.2\",\"vport\":1,\"daddr\":\"1.1.1.3\",\"dport\":1}",
		"{\"proto\":\"tcp\",\"state\":\"NONE\",\"expire\":-1,\"caddr\":\"1.1.1.1\",\"cport\":1,"
		"\"vaddr\":\"1.1.1.2\",\"vport\":1,\"daddr\":\"1.1.1.3\",\"dport\":1}",
		"{\"proto\":\"tcp\",\"state\":\"NONE\",\"expire\":1,\"caddr\":\"1.1.1.1\",\"cport\":70000,"
		"\"vaddr\":\"1.1.1.2\",\"vport\":1,\"daddr\":\"1.1.1.3\",\"dport\":1}",
		"{\"proto\":\"tcp\",\"state\":\"NONE\",\"expire\":1,\"caddr\":\"1.1.1.1\",\"cport\":1,"
		"\"vaddr\":\"2001:db8::1\",\"vport\":1,\"daddr\":\"1.1.1.3\",\"dport\":1}",
		"{\"proto\":\"tcp\",\"state\":\"A_STATE_NAME_TOO_LONG\",\"expire\":1,\"caddr\":\"1.1.1.1\","
		"\"cport\":1,\"vaddr\":\"1.1.1.2\",\"vport\":1,\"daddr\":\"1.1.1.3\",\"dport\":1}",
		"{\"proto\":\"tcp\",\"expire\":1,\"caddr\":\"1.1.1.1\",\"cport\":1,"
		"\"vaddr\":\"1.1.1.2\",\"vport\":1,\"daddr\":\"1.1.1.3\",\"dport\":1}",
	};

	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		struct xvs_xvsadm_conn c;
		json_t *o = json_loads(objs[i], JSON_DECODE_ANY, NULL);

		cr_assert_not_null(o, "%s", objs[i]);
		cr_expect_eq(xvs_xvsadm_json_conn(o, &c), -EINVAL, "%s", objs[i]);
		json_decref(o);
	}
}

/* ---- firewall-mark services in IPv6, and mark rules (xvs's own) ---------------------------- */

static void add_mark(struct xvs_xvsadm_table *t, const char *dst, unsigned int plen, uint16_t proto,
		     uint16_t lo, uint16_t hi, uint32_t mark)
{
	struct xvs_xvsadm_mark *mk;

	t->marks = realloc(t->marks, (t->nb_marks + 1) * sizeof(*t->marks));
	cr_assert_not_null(t->marks);
	mk = &t->marks[t->nb_marks++];
	memset(mk, 0, sizeof(*mk));
	set_ip(&mk->af, &mk->prefix, dst);
	mk->plen = plen;
	mk->proto = proto;
	mk->port_lo = lo;
	mk->port_hi = hi;
	mk->mark = mark;
}

static void fixture_fwm6(struct xvs_xvsadm_table *t)
{
	struct xvs_xvsadm_service_entry *se;

	memset(t, 0, sizeof(*t));
	se = add_fwm(t, 2, "rr");
	se->s.af = AF_INET6;
	se->s.netmask = 128;
	add_dest(se, "2001:db8::a", 0, XVS_FWD_MASQ, 1, 0, 0);
	se = add_fwm(t, 1, "wlc");
	add_dest(se, "192.168.20.1", 0, XVS_FWD_DROUTE, 2, 0, 0);
	add_mark(t, "198.18.0.0", 24, IPPROTO_TCP, 80, 90, 1);
	add_mark(t, "2001:db8:1::", 48, 0, 53, 53, 2);
	add_mark(t, "198.18.1.7", 32, IPPROTO_UDP, 0, 65535, 1);
}

/* -L: FWM services after the others, IPv4 before IPv6, "FWM  2 IPv6" as ipvsadm writes it. */
Test(xvsadm_print, fwmark_ipv6_listing)
{
	struct xvs_xvsadm_table t;

	fixture_fwm6(&t);
	expect_output(&t, XVSADM_FMT_NUMERIC,
		      "IP Virtual Server version 1.2.1 (size=4096)\n"
		      "Prot LocalAddress:Port Scheduler Flags\n"
		      "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
		      "FWM  1 wlc\n"
		      "  -> 192.168.20.1:0               Route   2      0          0         \n"
		      "FWM  2 IPv6 rr\n"
		      "  -> [2001:db8::a]:0              Masq    1      0          0         \n");
	xvs_xvsadm_table_free(&t);
}

/* -S: the ipvsadm lines, then the mark rules in their order as --restore reads them. */
Test(xvsadm_print, save_appends_mark_rules)
{
	struct xvs_xvsadm_table t;
	char *got = NULL;

	fixture_fwm6(&t);
	expect_output(&t, XVSADM_FMT_NUMERIC | XVSADM_FMT_RULE,
		      "-A -f 1 -s wlc\n"
		      "-a -f 1 -r 192.168.20.1:0 -g -w 2\n"
		      "-A -f 2 -6 -s rr\n"
		      "-a -f 2 -6 -r [2001:db8::a]:0 -m -w 1\n"
		      "--add-mark --proto tcp --dst 198.18.0.0/24 --dport 80:90 --mark 1\n"
		      "--add-mark --proto any --dst 2001:db8:1::/48 --dport 53 --mark 2\n"
		      "--add-mark --proto udp --dst 198.18.1.7/32 --mark 1\n");
	CAPTURE(got, xvs_xvsadm_print_marks(f, &t));
	cr_expect_str_eq(got, "--add-mark --proto tcp --dst 198.18.0.0/24 --dport 80:90 --mark 1\n"
			      "--add-mark --proto any --dst 2001:db8:1::/48 --dport 53 --mark 2\n"
			      "--add-mark --proto udp --dst 198.18.1.7/32 --mark 1\n");
	free(got);
	/* and each of those lines parses back to its rule */
	for (size_t i = 0; i < t.nb_marks; i++) {
		char *line = NULL;
		struct xvs_xvsadm_table one = { .nb_marks = 1, .marks = &t.marks[i] };
		struct xvs_xvsadm_cmd cmd;
		struct xvs_xvsadm_err err;
		const char **argv;
		int argc;

		CAPTURE(line, xvs_xvsadm_print_marks(f, &one));
		cr_assert_eq(xvs_xvsadm_split_line(line, &argc, &argv), 0);
		cr_assert_eq(xvs_xvsadm_parse(argc, argv, &cmd, &err), 0, "%s: %s", line, err.msg);
		free(argv);
		cr_expect_eq(cmd.cmd, XVSADM_CMD_ADDMARK);
		cr_expect_eq(memcmp(&cmd.mark, &t.marks[i], sizeof(cmd.mark)), 0, "%s", line);
		free(line);
	}
	xvs_xvsadm_table_free(&t);
}

/* Run as ipvsadm (the compatibility symlink), -h names ipvsadm in every usage line. */
Test(xvsadm_print, usage_names_the_program_as_run)
{
	char *got = NULL;

	xvs_xvsadm_set_prog("/usr/sbin/ipvsadm");
	CAPTURE(got, (xvs_xvsadm_print_usage(f), 0));
	xvs_xvsadm_set_prog("xvsadm");
	cr_expect_not_null(strstr(got, "Usage:\n  ipvsadm -A|E virtual-service"), "%s", got);
	cr_expect_not_null(strstr(got, "\n  ipvsadm -h | -v\n"), "%s", got);
	cr_expect_null(strstr(got, "xvsadm"), "%s", got);
	cr_expect_not_null(strstr(got, "--sctp-service host[:port]"), "%s", got);
	/* a continuation line starts under the command, after the longer name */
	cr_expect_not_null(strstr(got, "[-y lower]\n          [--tun-type"), "%s", got);
	cr_expect_null(strchr(got, '\t'), "%s", got);
	free(got);
	CAPTURE(got, (xvs_xvsadm_print_usage(f), 0));
	cr_expect_not_null(strstr(got, "[-y lower]\n         [--tun-type"), "%s", got);
	free(got);
}
