/*
 * xvsadm listings. The formats are ipvsadm 1.31's byte for byte, trailing spaces included,
 * because operators' scripts parse them. One deliberate difference: addresses sort as
 * unsigned numbers (ipvsadm's comparator overflows and puts 10.x after 192.x).
 */
#include "xvsadm_print.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* addr:port with a resolved name can be long: NI_MAXHOST plus a service name. */
#define AP_LEN   (NI_MAXHOST + 80)
#define NAME_LEN (AP_LEN + 32)

/* The one column set a listing uses: ipvsadm's precedence among the format options. */
static unsigned int columns(unsigned int fmt)
{
	static const unsigned int order[] = {
		XVSADM_FMT_RULE, XVSADM_FMT_STATS, XVSADM_FMT_RATE, XVSADM_FMT_THRESHOLDS,
		XVSADM_FMT_PERSISTENTCONN, XVSADM_FMT_TUN_INFO,
	};

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (fmt & order[i])
			return order[i];
	return 0;
}

void xvs_xvsadm_table_free(struct xvs_xvsadm_table *t)
{
	for (size_t i = 0; i < t->nb_services; i++)
		free(t->services[i].dests);
	free(t->services);
	t->services = NULL;
	t->nb_services = 0;
	free(t->marks);
	t->marks = NULL;
	t->nb_marks = 0;
}

static const char *proto_name(uint16_t proto)
{
	switch (proto) {
	case IPPROTO_TCP: return "TCP";
	case IPPROTO_UDP: return "UDP";
	case IPPROTO_SCTP: return "SCTP";
	default: return "IP";
	}
}

/* The /etc/services protocol of a port; NULL for the "IP" of fwmark templates, whose ports
 * ipvsadm prints as numbers. */
static const char *proto_service(uint16_t proto)
{
	switch (proto) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_SCTP: return "sctp";
	default: return NULL;
	}
}

/* The host part: numeric, or the reverse name when -n is absent and one exists. */
static void host_name(char *buf, size_t len, int af, const union xvs_ip *ip, unsigned int fmt)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	memset(&ss, 0, sizeof(ss));
	if (af == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, ip->v6, 16);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = ip->v4;
		sl = sizeof(*s4);
	}
	if (!(fmt & XVSADM_FMT_NUMERIC) &&
	    getnameinfo((struct sockaddr *)&ss, sl, buf, (socklen_t)len, NULL, 0,
			NI_NAMEREQD) == 0)
		return;
	inet_ntop(af == AF_INET6 ? AF_INET6 : AF_INET, ip->v6, buf, (socklen_t)len);
}

/* addr:port as ipvsadm writes it: IPv6 in brackets, names unless -n. */
static void addrport_name(char *buf, size_t len, int af, const union xvs_ip *ip,
			  uint16_t port, uint16_t proto, unsigned int fmt)
{
	char host[NI_MAXHOST];
	char serv[64];
	struct servent *se = NULL;

	host_name(host, sizeof(host), af, ip, fmt);
	if (!(fmt & XVSADM_FMT_NUMERIC) && proto_service(proto) != NULL)
		se = getservbyport(htons(port), proto_service(proto));
	if (se != NULL)
		snprintf(serv, sizeof(serv), "%s", se->s_name);
	else
		snprintf(serv, sizeof(serv), "%u", port);
	snprintf(buf, len, af == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

/* "TCP  addr:port" / "FWM  1", or "-t addr:port" / "-f 1" for -S. */
static void service_name(char *buf, size_t len, const struct xvs_xvsadm_service *s,
			 unsigned int fmt)
{
	char ap[AP_LEN];
	int rule = !!(fmt & XVSADM_FMT_RULE);

	if (s->fwmark) {
		snprintf(buf, len, rule ? "-f %" PRIu32 "%s" : "FWM  %" PRIu32 "%s", s->fwmark,
			 s->af == AF_INET6 ? (rule ? " -6" : " IPv6") : "");
		return;
	}
	addrport_name(ap, sizeof(ap), s->af, &s->addr, s->port, s->proto, fmt);
	if (rule) {
		const char *opt = s->proto == IPPROTO_UDP ? "-u" :
			s->proto == IPPROTO_SCTP ? "--sctp-service" : "-t";

		snprintf(buf, len, "%s %s", opt, ap);
		return;
	}
	snprintf(buf, len, "%-4s %s", proto_name(s->proto), ap);
	if (s->af != AF_INET6 && len > 33)
		buf[33] = '\0';
}

/* The -b names of the scheduler flags: sh-*, mh-* or flag-N, comma separated. */
static void sched_flags_name(char *buf, size_t len, const struct xvs_xvsadm_service *s)
{
	const char *n1 = "flag-1", *n2 = "flag-2";
	size_t off = 0;

	if (strcmp(s->sched, "sh") == 0) {
		n1 = "sh-fallback";
		n2 = "sh-port";
	} else if (strcmp(s->sched, "mh") == 0) {
		n1 = "mh-fallback";
		n2 = "mh-port";
	}
	buf[0] = '\0';
	if (s->flags & XVS_SVC_F_SCHED1)
		off += (size_t)snprintf(buf + off, len - off, "%s", n1);
	if ((s->flags & XVS_SVC_F_SCHED2) && off < len)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "," : "", n2);
	if ((s->flags & XVS_SVC_F_SCHED3) && off < len)
		snprintf(buf + off, len - off, "%s%s", off ? "," : "", "flag-3");
}

static int has_sched_flags(const struct xvs_xvsadm_service *s)
{
	return !!(s->flags & (XVS_SVC_F_SCHED1 | XVS_SVC_F_SCHED2 | XVS_SVC_F_SCHED3));
}

/* " mask X" / " -M X" when the persistence granularity is not a single address. */
static void print_mask(FILE *f, const struct xvs_xvsadm_service *s, const char *word)
{
	char buf[INET_ADDRSTRLEN];

	if (s->af == AF_INET6) {
		if (s->netmask != 128)
			fprintf(f, " %s %" PRIu32, word, s->netmask);
	} else if (s->netmask != 0xffffffffu) {
		inet_ntop(AF_INET, &s->netmask, buf, sizeof(buf));
		fprintf(f, " %s %s", word, buf);
	}
}

void xvs_xvsadm_print_largenum(FILE *f, uint64_t v, unsigned int fmt)
{
	if (fmt & XVSADM_FMT_EXACT) {
		char tmp[32];
		int len = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);

		fprintf(f, "%*" PRIu64, len <= 8 ? 9 : len + 1, v);
	} else if (v < UINT64_C(100000000)) {
		fprintf(f, "%9" PRIu64, v);
	} else if (v < UINT64_C(1000000000)) {
		fprintf(f, "%8" PRIu64 "K", v / UINT64_C(1000));
	} else if (v < UINT64_C(100000000000)) {
		fprintf(f, "%8" PRIu64 "M", v / UINT64_C(1000000));
	} else if (v < UINT64_C(100000000000000)) {
		fprintf(f, "%8" PRIu64 "G", v / UINT64_C(1000000000));
	} else {
		fprintf(f, "%8" PRIu64 "T", v / UINT64_C(1000000000000));
	}
}

static void print_5num(FILE *f, uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e,
		       unsigned int fmt)
{
	xvs_xvsadm_print_largenum(f, a, fmt);
	xvs_xvsadm_print_largenum(f, b, fmt);
	xvs_xvsadm_print_largenum(f, c, fmt);
	xvs_xvsadm_print_largenum(f, d, fmt);
	xvs_xvsadm_print_largenum(f, e, fmt);
}

static void print_title(FILE *f, unsigned int fmt)
{
	const char *first = "Prot LocalAddress:Port";

	switch (columns(fmt)) {
	case XVSADM_FMT_RULE:
		return;
	case XVSADM_FMT_STATS:
		fprintf(f, "%-33s %8s %8s %8s %8s %8s\n", first, "Conns", "InPkts", "OutPkts",
			"InBytes", "OutBytes");
		break;
	case XVSADM_FMT_RATE:
		fprintf(f, "%-33s %8s %8s %8s %8s %8s\n", first, "CPS", "InPPS", "OutPPS",
			"InBPS", "OutBPS");
		break;
	case XVSADM_FMT_THRESHOLDS:
		fprintf(f, "%-33s %-10s %-10s %-10s %-10s\n", first, "Uthreshold", "Lthreshold",
			"ActiveConn", "InActConn");
		break;
	case XVSADM_FMT_PERSISTENTCONN:
		fprintf(f, "%-33s %-9s %-11s %-10s %-10s\n", first, "Weight", "PersistConn",
			"ActiveConn", "InActConn");
		break;
	case XVSADM_FMT_TUN_INFO:
		fputs("Prot LocalAddress:Port Scheduler Flags\n"
		      "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n",
		      f);
		return;
	default:
		fputs("Prot LocalAddress:Port Scheduler Flags\n"
		      "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn", f);
		fputs(fmt & XVSADM_FMT_HEALTH ? " Health\n" : "\n", f);
		return;
	}
	fputs("  -> RemoteAddress:Port\n", f);
}

static void print_service_rule(FILE *f, const struct xvs_xvsadm_service *s, const char *name)
{
	char flags[64];

	fprintf(f, "-A %s -s %s", name, s->sched);
	if (s->flags & XVS_SVC_F_PERSISTENT) {
		fprintf(f, " -p %" PRIu32, s->timeout);
		print_mask(f, s, "-M");
		if (s->pe[0])
			fprintf(f, " --pe %s", s->pe);
	}
	if (s->flags & XVS_SVC_F_ONEPACKET)
		fputs(" -o", f);
	if (has_sched_flags(s)) {
		sched_flags_name(flags, sizeof(flags), s);
		fprintf(f, " -b %s", flags);
	}
	fputc('\n', f);
}

static void print_service_plain(FILE *f, const struct xvs_xvsadm_service *s, const char *name)
{
	char flags[64];

	fprintf(f, "%s %s", name, s->sched);
	if (has_sched_flags(s)) {
		sched_flags_name(flags, sizeof(flags), s);
		fprintf(f, " (%s)", flags);
	}
	if (s->flags & XVS_SVC_F_PERSISTENT) {
		fprintf(f, " persistent %" PRIu32, s->timeout);
		print_mask(f, s, "mask");
		if (s->pe[0])
			fprintf(f, " pe %s", s->pe);
	}
	if (s->flags & XVS_SVC_F_ONEPACKET)
		fputs(" ops", f);
	fputc('\n', f);
}

static void print_service_line(FILE *f, const struct xvs_xvsadm_service_entry *se,
			       const char *name, unsigned int fmt)
{
	const struct xvs_xvsadm_stats *st = &se->st;

	switch (columns(fmt)) {
	case XVSADM_FMT_RULE:
		print_service_rule(f, &se->s, name);
		break;
	case XVSADM_FMT_STATS:
		fprintf(f, "%-33s", name);
		print_5num(f, st->conns, st->inpkts, st->outpkts, st->inbytes, st->outbytes, fmt);
		fputc('\n', f);
		break;
	case XVSADM_FMT_RATE:
		fprintf(f, "%-33s", name);
		print_5num(f, st->cps, st->inpps, st->outpps, st->inbps, st->outbps, fmt);
		fputc('\n', f);
		break;
	default:
		print_service_plain(f, &se->s, name);
		break;
	}
}

static const char *fwd_name(int fwd)
{
	switch (fwd) {
	case XVS_FWD_MASQ: return "Masq";
	case XVS_FWD_LOCAL: return "Local";
	case XVS_FWD_TUNNEL: return "Tunnel";
	default: return "Route";
	}
}

static const char *fwd_switch(int fwd)
{
	switch (fwd) {
	case XVS_FWD_MASQ: return "-m";
	case XVS_FWD_TUNNEL: return "-i";
	default: return "-g";
	}
}

static const char *const tun_type_names[] = { "ipip", "gue", "gre" };
static const char *const tun_csum_marks[] = { "-c", "+c", "r+c" };
static const char *const tun_csum_opts[] = { " --tun-nocsum", " --tun-csum", " --tun-remcsum" };

static int tun_valid(const struct xvs_xvsadm_dest *d)
{
	return d->tun_type >= XVSADM_TUN_IPIP && d->tun_type <= XVSADM_TUN_GRE &&
	       d->tun_csum >= XVSADM_TUN_NOCSUM && d->tun_csum <= XVSADM_TUN_REMCSUM;
}

/* --tun-info's column: ipip, gue:PORT:CSUM, gre:CSUM, or n/a for other methods. */
static void tun_info(char *buf, size_t len, const struct xvs_xvsadm_dest *d)
{
	if (d->fwd != XVS_FWD_TUNNEL || !tun_valid(d))
		snprintf(buf, len, "n/a");
	else if (d->tun_type == XVSADM_TUN_GUE)
		snprintf(buf, len, "gue:%u:%s", d->tun_port, tun_csum_marks[d->tun_csum]);
	else if (d->tun_type == XVSADM_TUN_GRE)
		snprintf(buf, len, "gre:%s", tun_csum_marks[d->tun_csum]);
	else
		snprintf(buf, len, "ipip");
}

static void print_dest_rule(FILE *f, const char *svc_name, const char *dname,
			    const struct xvs_xvsadm_dest *d)
{
	fprintf(f, "-a %s -r %s %s -w %d", svc_name, dname, fwd_switch(d->fwd), d->weight);
	if (d->fwd == XVS_FWD_TUNNEL && tun_valid(d)) {
		fprintf(f, " --tun-type %s", tun_type_names[d->tun_type]);
		if (d->tun_type == XVSADM_TUN_GUE)
			fprintf(f, " --tun-port %u%s", d->tun_port, tun_csum_opts[d->tun_csum]);
		else if (d->tun_type == XVSADM_TUN_GRE)
			fputs(tun_csum_opts[d->tun_csum], f);
	}
	fputc('\n', f);
}

/* --health's column: the checks' verdict, then how IPVS holds the server if not as
 * configured ("removed", "weight 0"). */
static void health_text(const struct xvs_xvsadm_dest_entry *de, char *buf, size_t len)
{
	const char *state = de->sorry ? "sorry server" : de->health[0] ? de->health : "no checks";

	if (de->removed)
		snprintf(buf, len, "%s, removed", state);
	else if (de->reweighted)
		snprintf(buf, len, "%s, weight %d", state, de->ipvs_weight);
	else
		snprintf(buf, len, "%s", state);
}

static void print_dest_line(FILE *f, const struct xvs_xvsadm_service_entry *se,
			    const struct xvs_xvsadm_dest_entry *de, const char *svc_name,
			    unsigned int fmt)
{
	const struct xvs_xvsadm_dest *d = &de->d;
	const struct xvs_xvsadm_stats *st = &de->st;
	char dname[AP_LEN], info[48];

	addrport_name(dname, sizeof(dname), d->af, &d->addr, d->port, se->s.proto, fmt);
	/* ipvsadm cuts IPv4 servers' names only: an IPv6 tunnel server of an IPv4 service is
	 * printed whole */
	if (!(fmt & XVSADM_FMT_RULE) && d->af != AF_INET6)
		dname[28] = '\0';
	switch (columns(fmt)) {
	case XVSADM_FMT_RULE:
		print_dest_rule(f, svc_name, dname, d);
		return;
	case XVSADM_FMT_STATS:
		fprintf(f, "  -> %-28s", dname);
		print_5num(f, st->conns, st->inpkts, st->outpkts, st->inbytes, st->outbytes, fmt);
		break;
	case XVSADM_FMT_RATE:
		fprintf(f, "  -> %-28s %8" PRIu64 " %8" PRIu64 " %8" PRIu64, dname, st->cps,
			st->inpps, st->outpps);
		xvs_xvsadm_print_largenum(f, st->inbps, fmt);
		xvs_xvsadm_print_largenum(f, st->outbps, fmt);
		break;
	case XVSADM_FMT_THRESHOLDS:
		fprintf(f, "  -> %-28s %-10u %-10u %-10u %-10u", dname, d->u_threshold,
			d->l_threshold, de->active_conns, de->inactive_conns);
		break;
	case XVSADM_FMT_PERSISTENTCONN:
		fprintf(f, "  -> %-28s %-9d %-11u %-10u %-10u", dname, d->weight,
			de->persist_conns, de->active_conns, de->inactive_conns);
		break;
	case XVSADM_FMT_TUN_INFO:
		tun_info(info, sizeof(info), d);
		fprintf(f, "  -> %-28s %-7s %-13s %-6d %-10u %-10u", dname, fwd_name(d->fwd), info,
			d->weight, de->active_conns, de->inactive_conns);
		break;
	default:
		fprintf(f, "  -> %-28s %-7s %-6d %-10u %-10u", dname, fwd_name(d->fwd), d->weight,
			de->active_conns, de->inactive_conns);
		if (fmt & XVSADM_FMT_HEALTH) {
			health_text(de, info, sizeof(info));
			fprintf(f, " %s", info);
		}
		break;
	}
	fputc('\n', f);
}

/* Compare addresses as unsigned big-endian numbers; IPv4 sorts before IPv6. */
static int cmp_addr(int af1, const union xvs_ip *a1, int af2, const union xvs_ip *a2)
{
	if (af1 != af2)
		return af1 == AF_INET6 ? 1 : -1;
	if (af1 == AF_INET6)
		return memcmp(a1->v6, a2->v6, 16);
	return memcmp(&a1->v4, &a2->v4, 4);
}

static int cmp3(uint32_t a, uint32_t b)
{
	return a < b ? -1 : a > b;
}

static int cmp_services(const void *p1, const void *p2)
{
	const struct xvs_xvsadm_service *s1 = &(*(const struct xvs_xvsadm_service_entry *const *)p1)->s;
	const struct xvs_xvsadm_service *s2 = &(*(const struct xvs_xvsadm_service_entry *const *)p2)->s;
	int r = cmp3(s1->fwmark, s2->fwmark);

	if (r == 0 && s1->af != s2->af)
		r = s1->af == AF_INET6 ? 1 : -1;
	if (r == 0)
		r = cmp3(s1->proto, s2->proto);
	if (r == 0)
		r = cmp_addr(s1->af, &s1->addr, s2->af, &s2->addr);
	return r ? r : cmp3(s1->port, s2->port);
}

static int cmp_dests(const void *p1, const void *p2)
{
	const struct xvs_xvsadm_dest *d1 = &(*(const struct xvs_xvsadm_dest_entry *const *)p1)->d;
	const struct xvs_xvsadm_dest *d2 = &(*(const struct xvs_xvsadm_dest_entry *const *)p2)->d;
	int r = cmp_addr(d1->af, &d1->addr, d2->af, &d2->addr);

	return r ? r : cmp3(d1->port, d2->port);
}

/*
 * The servers a listing shows, into shown[] (*nb of them): the IPVS view (those in it, at
 * their IPVS weight), or with --health every configured one and the sorry server.
 */
static void shown_dests(const struct xvs_xvsadm_service_entry *se, unsigned int fmt,
			struct xvs_xvsadm_dest_entry *shown, size_t *nb)
{
	*nb = 0;
	for (size_t i = 0; i < se->nb_dests; i++) {
		const struct xvs_xvsadm_dest_entry *de = &se->dests[i];

		if (!(fmt & XVSADM_FMT_HEALTH) && de->removed)
			continue;
		shown[*nb] = *de;
		if (!(fmt & XVSADM_FMT_HEALTH) && de->reweighted)
			shown[*nb].d.weight = de->ipvs_weight;
		(*nb)++;
	}
}

static int print_service_entry(FILE *f, const struct xvs_xvsadm_service_entry *se,
			       unsigned int fmt)
{
	const struct xvs_xvsadm_dest_entry **order;
	struct xvs_xvsadm_dest_entry *shown;
	char name[NAME_LEN];
	size_t nb;

	order = calloc(se->nb_dests + 1, sizeof(*order));
	shown = calloc(se->nb_dests + 1, sizeof(*shown));
	if (order == NULL || shown == NULL) {
		free(order);
		free(shown);
		return -ENOMEM;
	}
	shown_dests(se, fmt, shown, &nb);
	for (size_t i = 0; i < nb; i++)
		order[i] = &shown[i];
	if (!(fmt & XVSADM_FMT_NOSORT))
		qsort(order, nb, sizeof(*order), cmp_dests);
	service_name(name, sizeof(name), &se->s, fmt);
	print_service_line(f, se, name, fmt);
	for (size_t i = 0; i < nb; i++)
		print_dest_line(f, se, order[i], name, fmt);
	free(order);
	free(shown);
	return 0;
}

int xvs_xvsadm_print_table(FILE *f, const struct xvs_xvsadm_table *t, unsigned int fmt)
{
	const struct xvs_xvsadm_service_entry **order;
	int rc = 0;

	order = calloc(t->nb_services + 1, sizeof(*order));
	if (order == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < t->nb_services; i++)
		order[i] = &t->services[i];
	if (!(fmt & XVSADM_FMT_NOSORT))
		qsort(order, t->nb_services, sizeof(*order), cmp_services);
	if (!(fmt & XVSADM_FMT_RULE))
		fprintf(f, "IP Virtual Server version %s (size=%d)\n", XVSADM_IPVS_VERSION,
			XVSADM_IPVS_SIZE);
	print_title(f, fmt);
	for (size_t i = 0; i < t->nb_services && rc == 0; i++)
		rc = print_service_entry(f, order[i], fmt);
	free(order);
	if (rc == 0 && columns(fmt) == XVSADM_FMT_RULE)
		rc = xvs_xvsadm_print_marks(f, t); /* xvs's own lines, only when rules exist */
	if (rc == 0 && ferror(f))
		rc = -EIO;
	return rc;
}

int xvs_xvsadm_print_marks(FILE *f, const struct xvs_xvsadm_table *t)
{
	for (size_t i = 0; i < t->nb_marks; i++) {
		const struct xvs_xvsadm_mark *mk = &t->marks[i];
		char addr[INET6_ADDRSTRLEN];

		inet_ntop(mk->af == AF_INET6 ? AF_INET6 : AF_INET, mk->prefix.v6, addr, sizeof(addr));
		fprintf(f, "--add-mark --proto %s --dst %s/%u",
			mk->proto == IPPROTO_TCP ? "tcp" : mk->proto == IPPROTO_UDP ? "udp" : "any",
			addr, mk->plen);
		if (mk->port_lo == mk->port_hi)
			fprintf(f, " --dport %u", mk->port_lo);
		else if (mk->port_lo != 0 || mk->port_hi != 65535)
			fprintf(f, " --dport %u:%u", mk->port_lo, mk->port_hi);
		fprintf(f, " --mark %" PRIu32 "\n", mk->mark);
	}
	return ferror(f) ? -EIO : 0;
}

int xvs_xvsadm_same_service(const struct xvs_xvsadm_service *a, const struct xvs_xvsadm_service *b)
{
	if (a->fwmark || b->fwmark)
		return a->fwmark == b->fwmark && a->af == b->af;
	return a->af == b->af && a->proto == b->proto && a->port == b->port &&
	       cmp_addr(a->af, &a->addr, b->af, &b->addr) == 0;
}

int xvs_xvsadm_print_service(FILE *f, const struct xvs_xvsadm_table *t,
			     const struct xvs_xvsadm_service *key, unsigned int fmt)
{
	for (size_t i = 0; i < t->nb_services; i++) {
		int rc;

		if (!xvs_xvsadm_same_service(&t->services[i].s, key))
			continue;
		print_title(f, fmt);
		rc = print_service_entry(f, &t->services[i], fmt);
		if (rc == 0 && ferror(f))
			rc = -EIO;
		return rc;
	}
	return -ESRCH;
}

int xvs_xvsadm_print_timeout(FILE *f, const struct xvs_xvsadm_table *t)
{
	fprintf(f, "Timeout (tcp tcpfin udp): %" PRIu32 " %" PRIu32 " %" PRIu32 "\n",
		t->timeout_tcp, t->timeout_tcpfin, t->timeout_udp);
	return ferror(f) ? -EIO : 0;
}

int xvs_xvsadm_print_conn_title(FILE *f, unsigned int fmt)
{
	fputs("IPVS connection entries\n", f);
	if (fmt & XVSADM_FMT_PERSISTENTCONN)
		fprintf(f, "pro expire %-11s %-18s %-18s %-18s %-16s %s\n", "state", "source",
			"virtual", "destination", "pe name", "pe_data");
	else
		fprintf(f, "pro expire %-11s %-18s %-18s %s\n", "state", "source", "virtual",
			"destination");
	return ferror(f) ? -EIO : 0;
}

/* addr:port of a connection: ipvsadm builds these in a 60-byte buffer, so at most 59 chars. */
static void conn_addrport(char *buf, int af, const union xvs_ip *ip, uint16_t port,
			  uint16_t proto, unsigned int fmt)
{
	char ap[AP_LEN];

	addrport_name(ap, sizeof(ap), af, ip, port, proto, fmt);
	ap[59] = '\0';
	memcpy(buf, ap, 60);
}

int xvs_xvsadm_print_conn(FILE *f, const struct xvs_xvsadm_conn *c, unsigned int fmt)
{
	char cname[60], vname[60], dname[60], expire[32];

	conn_addrport(cname, c->af, &c->caddr, c->cport, c->proto, fmt);
	conn_addrport(vname, c->af, &c->vaddr, c->vport, c->proto, fmt);
	conn_addrport(dname, c->daf, &c->daddr, c->dport, c->proto, fmt);
	snprintf(expire, sizeof(expire), "%02u:%02u", c->expire / 60, c->expire % 60);
	/* as ipvsadm: the pe columns only on a connection that has a persistence engine's name
	 * and data (the kernel's line has them), and there the destination takes 16 columns and
	 * the name 18; every other row is the plain one */
	if ((fmt & XVSADM_FMT_PERSISTENTCONN) && c->pe_name[0] != '\0' && c->pe_data[0] != '\0')
		fprintf(f, "%-3s %-6s %-11s %-18s %-18s %-16s %-18s %s\n", proto_name(c->proto),
			expire, c->state, cname, vname, dname, c->pe_name, c->pe_data);
	else
		fprintf(f, "%-3s %-6s %-11s %-18s %-18s %s\n", proto_name(c->proto), expire,
			c->state, cname, vname, dname);
	return ferror(f) ? -EIO : 0;
}

/* -h's text after the version line; the usage lines name the program as it was run, and a
 * tab starts a usage line's continuation, under the command after the program's name. */
static const char usage_text[] =
	"Usage:\n"
	"  xvsadm -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [-b sched-flags] [-o]\n"
	"  xvsadm -D virtual-service\n"
	"  xvsadm -C\n"
	"  xvsadm -R < rules\n"
	"  xvsadm -S [-n]\n"
	"  xvsadm -a|e virtual-service -r server-address [-g|-i|-m] [-w weight] [-x upper] [-y lower]\n"
	"\t[--tun-type ipip|gue|gre] [--tun-port port] [--tun-nocsum|--tun-csum|--tun-remcsum]\n"
	"  xvsadm -d virtual-service -r server-address\n"
	"  xvsadm -L|l [virtual-service] [options]\n"
	"  xvsadm -Z [virtual-service]\n"
	"  xvsadm --set tcp tcpfin udp\n"
	"  xvsadm --start-daemon master|backup [daemon-options]\n"
	"  xvsadm --stop-daemon master|backup\n"
	"  xvsadm --status [--json]\n"
	"  xvsadm --add-mark|--del-mark --dst prefix [--proto tcp|udp|any] [--dport lo[:hi]] [--mark n]\n"
	"  xvsadm --list-marks [--json]\n"
	"  xvsadm --trace -t|-u|--sctp-service vaddr:port --client address[:port] [--json]\n"
	"  xvsadm -h | -v\n\n"
	"virtual-service:\n"
	"  -t|--tcp-service host[:port]    TCP service; IPv6 as [addr]:port\n"
	"  -u|--udp-service host[:port]    UDP service\n"
	"  --sctp-service host[:port]      SCTP service\n"
	"  -f|--fwmark-service mark [-6]   firewall-mark service (TCP and UDP), -6 for IPv6\n\n"
	"Commands:\n"
	"  -A --add-service      add a virtual service\n"
	"  -E --edit-service     replace every parameter of a virtual service\n"
	"  -D --delete-service   delete a virtual service and its real servers\n"
	"  -C --clear            delete every virtual service\n"
	"  -R --restore          apply rules read from stdin as one transaction\n"
	"  -S --save             print the rules in -R format\n"
	"  -a --add-server       add a real server to a virtual service\n"
	"  -e --edit-server      replace every parameter of a real server\n"
	"  -d --delete-server    remove a real server\n"
	"  -L -l --list          list the table, or one virtual service\n"
	"  -Z --zero             zero the counters of one or all virtual services\n"
	"     --set tcp tcpfin udp  set connection timeouts in seconds (0 keeps a value)\n"
	"     --start-daemon    start a connection sync daemon (in the dataplane)\n"
	"     --stop-daemon     stop a connection sync daemon\n"
	"     --status          the dataplane's state and counters (xvs's own)\n"
	"     --add-mark        append a mark rule: packets to --dst (and --proto, --dport)\n"
	"                       get --mark; the first rule that matches wins (xvs's own)\n"
	"     --del-mark        delete the mark rule with that --dst, --proto and --dport\n"
	"     --list-marks      the mark rules in order, as --restore reads them\n"
	"     --trace           which real server a packet from --client to the virtual\n"
	"                       address gets, and why; sends nothing (xvs's own)\n"
	"  -h --help             this text\n"
	"  -v --version          the version\n\n"
	"Options:\n"
	"  -s --scheduler name       scheduler (default wlc); the server says which it has\n"
	"  -p --persistent [secs]    persistent service (default 360 s)\n"
	"  -M --netmask mask         persistence granularity (IPv4 mask or IPv6 prefix)\n"
	"  -b --sched-flags list     flag-1..3, sh-fallback, sh-port, mh-fallback, mh-port\n"
	"  -o --ops                  one-packet scheduling (UDP)\n"
	"  -r --real-server host[:port]  real server; no port = the service's port\n"
	"  -g --gatewaying           direct routing (default)\n"
	"  -i --ipip                 tunnelling\n"
	"  -m --masquerading         NAT\n"
	"  -w --weight n             0..65535, default 1; 0 quiesces the server\n"
	"  -x --u-threshold n        upper connection threshold\n"
	"  -y --l-threshold n        lower connection threshold\n"
	"  -n --numeric              no name resolution in listings\n"
	"     --stats --rate --thresholds --persistent-conn --tun-info\n"
	"                            other listing columns\n"
	"     --exact                exact numbers in --stats/--rate\n"
	"     --drops                with --stats: the dataplane's drops by reason and\n"
	"                            worker after the table (xvs's own)\n"
	"     --nosort               list in the server's order\n"
	"     --health               list every configured real server with its health\n"
	"                            (xvs's own; plain -L lists what IPVS would hold)\n"
	"     --timeout              list the connection timeouts\n"
	"     --daemon               list the connection sync daemons\n"
	"  -c --connection           list the live connections\n"
	"     --json                 print a listing as the control API's JSON\n\n"
	"Daemon options:\n"
	"     --syncid sid           syncid of the messages, 0..255 (default 0: a backup\n"
	"                            takes any)\n"
	"     --sync-maxlen length   message size limit (default 1472)\n"
	"     --mcast-interface name the dataplane namespace's kernel interface (default eth0)\n"
	"     --mcast-group address  multicast group (default 224.0.0.81)\n"
	"     --mcast-port port      UDP port (default 8848)\n"
	"     --mcast-ttl ttl        multicast TTL (default 1)\n\n";

void xvs_xvsadm_print_usage(FILE *f)
{
	static const char word[] = "xvsadm";
	const char *p = usage_text;

	while (*p) {
		size_t n = strcspn(p, "x\t");
		fwrite(p, 1, n, f);
		p += n;
		if (*p == '\t') {
			fprintf(f, "%*s", (int)strlen(XVSADM_PROG) + 3, "");
			p++;
		} else if (!strncmp(p, word, sizeof(word) - 1)) {
			fputs(XVSADM_PROG, f);
			p += sizeof(word) - 1;
		} else if (*p) {
			fputc(*p++, f);
		}
	}
}
