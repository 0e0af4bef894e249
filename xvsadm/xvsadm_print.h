/* xvsadm's listings: every ipvsadm 1.31 -L/-S output format, printed from a table snapshot. */
#ifndef XVS_XVSADM_PRINT_H
#define XVS_XVSADM_PRINT_H

#include <stdint.h>
#include <stdio.h>

#include "xvsadm_parse.h"

/* The version line ipvsadm prints over a full listing; IPVS's own numbers, for scripts. */
#define XVSADM_IPVS_VERSION "1.2.1"
#define XVSADM_IPVS_SIZE    4096

/* Counters and rates of a service or real server (rates stay 0 until the API has them). */
struct xvs_xvsadm_stats {
	uint64_t conns, inpkts, outpkts, inbytes, outbytes;
	uint64_t cps, inpps, outpps, inbps, outbps;
};

struct xvs_xvsadm_dest_entry {
	struct xvs_xvsadm_dest d;   /* as configured (d.weight: the configured weight) */
	uint32_t active_conns, inactive_conns, persist_conns;
	struct xvs_xvsadm_stats st;
	/* health (xvs's own): where IPVS would have it under keepalived's rules; all zero is
	 * "as configured" */
	int removed;       /* not in the IPVS view (health checks or a lost quorum took it out) */
	int reweighted;    /* in it at ipvs_weight, not the configured weight */
	int ipvs_weight;   /* (0 when inhibited) */
	int sorry;         /* the service's sorry server, not a configured server */
	char health[16];   /* "up", "down", "unknown", "" without checks */
};

struct xvs_xvsadm_service_entry {
	struct xvs_xvsadm_service s;
	struct xvs_xvsadm_stats st;
	size_t nb_dests;
	struct xvs_xvsadm_dest_entry *dests;
};

/* A snapshot of the whole configuration (GET /v1/services), in the server's order. */
struct xvs_xvsadm_table {
	size_t nb_services;
	struct xvs_xvsadm_service_entry *services;
	uint32_t timeout_tcp, timeout_tcpfin, timeout_udp;
	size_t nb_marks;                /* xvs's mark rules, in evaluation order */
	struct xvs_xvsadm_mark *marks;
};

/* One entry of the connection listing, -L -c (GET /v1/conns). */
struct xvs_xvsadm_conn {
	uint16_t proto;    /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP, 0 = "IP" (a template) */
	int af;            /* of the client and virtual addresses */
	int daf;           /* of the real server's (may differ for tunnels) */
	char state[16];    /* IPVS's name: "ESTABLISHED", "UDP", ... */
	uint32_t expire;   /* seconds left */
	union xvs_ip caddr, vaddr, daddr;
	uint16_t cport, vport, dport; /* host order */
	char pe_name[16];  /* persistence engine, "" without */
	char pe_data[64];
};

/* Free what a table owns (services and their dests), not the table itself. */
void xvs_xvsadm_table_free(struct xvs_xvsadm_table *t);

/*
 * -L (version line, title, every service) or, with XVSADM_FMT_RULE, -S. Sorted as ipvsadm
 * sorts unless XVSADM_FMT_NOSORT. Real servers are shown as IPVS would hold them under
 * keepalived: one that health checks took out is left out, an inhibited one has weight 0,
 * an active sorry server is listed. XVSADM_FMT_HEALTH (-L --health) lists every configured
 * server instead, with its configured weight and a Health column. Returns 0 or a negative
 * errno (write error).
 */
int xvs_xvsadm_print_table(FILE *f, const struct xvs_xvsadm_table *t, unsigned int fmt);

/* -L with a service: title and that one service; -ESRCH when there is no such service. */
int xvs_xvsadm_print_service(FILE *f, const struct xvs_xvsadm_table *t,
			     const struct xvs_xvsadm_service *key, unsigned int fmt);

/* -L -c: "IPVS connection entries" and the column titles (XVSADM_FMT_PERSISTENTCONN adds
 * the pe columns). Returns 0 or -EIO. */
int xvs_xvsadm_print_conn_title(FILE *f, unsigned int fmt);

/* One -L -c row, as ipvsadm prints it: unsorted, expiry as mm:ss, names unless -n. */
int xvs_xvsadm_print_conn(FILE *f, const struct xvs_xvsadm_conn *c, unsigned int fmt);

/* Whether two services have the same key (fwmark and family, or proto, address, port). */
int xvs_xvsadm_same_service(const struct xvs_xvsadm_service *a,
			    const struct xvs_xvsadm_service *b);

/*
 * --list-marks: the mark rules in evaluation order, one line each in the form --restore
 * reads (`--add-mark --proto tcp --dst 198.18.0.0/24 --dport 80:90 --mark 1`); -S appends
 * the same lines after the services. Returns 0 or -EIO.
 */
int xvs_xvsadm_print_marks(FILE *f, const struct xvs_xvsadm_table *t);

/* -L --timeout. */
int xvs_xvsadm_print_timeout(FILE *f, const struct xvs_xvsadm_table *t);

/* One 9-column "large number" of --stats/--rate (K/M/G/T, or exact with XVSADM_FMT_EXACT). */
void xvs_xvsadm_print_largenum(FILE *f, uint64_t v, unsigned int fmt);

/* -h's usage text (without the version line), the program named as it was run. */
void xvs_xvsadm_print_usage(FILE *f);

#endif
