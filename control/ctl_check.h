/*
 * Health-check settings, as keepalived's checkers and real_server/virtual_server blocks
 * define them: what the health engine runs (ctl_health) and what the keepalived.conf loader
 * (ctl_kaconf) and the control API fill in. Types and defaults only; control only, no locks.
 */
#ifndef XVS_CTL_CHECK_H
#define XVS_CTL_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xvs/addr.h"

#define XVS_CHECK_MAX_PER_DEST 4  /* checkers on one real server: all must pass */
#define XVS_CHECK_MAX_URLS     8  /* url blocks of one HTTP_GET/SSL_GET */
#define XVS_CHECK_PATH_MAX     512
#define XVS_CHECK_HOST_MAX     256
#define XVS_CHECK_SCRIPT_MAX   1024
#define XVS_CHECK_PAYLOAD_MAX  512
#define XVS_CHECK_USER_MAX     64
#define XVS_CHECK_STATUS_END   600 /* status codes are 100..599 */
#define XVS_CHECK_STATUS_TEXT  256 /* "200-299 400-499 503 505" */
#define XVS_CHECK_TIME_MAX_MS  86400000u /* one day: the longest interval, timeout or delay */
#define XVS_CHECK_COUNT_MAX    1000u     /* the largest retry, rise and fall */

enum xvs_check_type {
	XVS_CHECK_NONE = 0,
	XVS_CHECK_TCP,    /* TCP_CHECK: connect */
	XVS_CHECK_HTTP,   /* HTTP_GET */
	XVS_CHECK_HTTPS,  /* SSL_GET */
	XVS_CHECK_UDP,    /* UDP_CHECK: send payload, optionally require a reply */
	XVS_CHECK_DNS,    /* DNS_CHECK: query, expect an answer */
	XVS_CHECK_ICMP,   /* PING_CHECK: echo request */
	XVS_CHECK_SCRIPT, /* MISC_CHECK: exit code, optionally the weight (misc_dynamic) */
};

/* One url block: GET path, then status_code and/or digest (MD5 of the body, hex) must match. */
struct xvs_check_url {
	char path[XVS_CHECK_PATH_MAX];
	char digest[33];     /* lower-case hex MD5, "" = not checked */
	char virtualhost[XVS_CHECK_HOST_MAX]; /* "" = the checker's virtualhost */
	uint16_t status_lo;  /* accepted status codes, inclusive, 100..599; 0/0 = keepalived's */
	uint16_t status_hi;  /*   default, 200..299 (with or without a digest) */
	bool status_set;     /* several ranges ("200-299 401 503"): the accepted codes are the
			      * bits of status_mask, and lo/hi their lowest and highest */
	uint8_t status_mask[(XVS_CHECK_STATUS_END + 7) / 8]; /* bit c: code c, with status_set */
};

/*
 * One checker. Addresses and ports that are zero mean "the real server's". Times are in
 * milliseconds. retry = keepalived's retry (nb_get_retry): attempts after the first failure
 * before the checker reports failure, with delay_before_retry between them.
 */
struct xvs_check_cfg {
	enum xvs_check_type type;
	uint8_t connect_af;          /* 0 = the real server's address */
	uint8_t bind_af;             /* 0 = any */
	uint16_t connect_port;       /* host order; 0 = the real server's port */
	uint16_t bind_port;          /* 0 = any */
	union xvs_ip connect_ip;
	union xvs_ip bind_ip;
	uint32_t fwmark;             /* SO_MARK on the check's socket, 0 = none */
	uint32_t connect_timeout_ms; /* default 5000 */
	uint32_t retry;              /* default 1 (DNS_CHECK 3, MISC_CHECK 0) */
	uint32_t delay_before_retry_ms; /* default 1000 (HTTP_GET, SSL_GET 3000) */
	uint32_t warmup_ms;          /* random delay before the first check, 0 = none */
	/* HTTP_GET / SSL_GET */
	char virtualhost[XVS_CHECK_HOST_MAX];
	bool http_1_1;               /* http_protocol 1.1 (default 1.0) */
	bool ssl_verify;             /* SSL_GET: verify the peer's certificate (default off) */
	unsigned nb_urls;
	struct xvs_check_url urls[XVS_CHECK_MAX_URLS];
	/* UDP_CHECK */
	uint8_t payload[XVS_CHECK_PAYLOAD_MAX];
	uint16_t payload_len;
	bool require_reply;
	/* DNS_CHECK */
	char dns_name[XVS_CHECK_HOST_MAX]; /* default "." */
	uint16_t dns_type;                 /* query type (1 = A, 28 = AAAA, ...); default 6 (SOA) */
	/* MISC_CHECK */
	char script[XVS_CHECK_SCRIPT_MAX]; /* command line, run by /bin/sh -c */
	char user[XVS_CHECK_USER_MAX];     /* run as this user, "" = root */
	uint32_t script_timeout_ms;        /* misc_timeout; default: delay_loop */
	bool misc_dynamic;                 /* exit code 2..255 sets the weight to code - 2 */
};

/* Health settings of one real server (keepalived real_server block). */
struct xvs_dest_health_cfg {
	uint32_t interval_ms;   /* delay_loop; default 60000 (keepalived's) */
	uint32_t rise;          /* consecutive successes before up; default 1 */
	uint32_t fall;          /* consecutive failed checks (retries spent) before down; default 1 */
	bool alpha;             /* start down, up only after rise successes (default: start up) */
	bool inhibit_on_failure; /* down = weight 0, not removed */
	char notify_up[XVS_CHECK_SCRIPT_MAX];
	char notify_down[XVS_CHECK_SCRIPT_MAX];
	unsigned nb_checks;     /* 0: no checker, always up */
	struct xvs_check_cfg checks[XVS_CHECK_MAX_PER_DEST];
};

/* Health settings of one virtual service (keepalived virtual_server block). */
struct xvs_svc_health_cfg {
	bool has_sorry;          /* sorry_server given */
	bool sorry_inhibit;      /* inhibit_on_failure on the sorry server: weight 0 when unused */
	uint8_t sorry_af;
	uint8_t sorry_fwd;       /* XVS_FWD_*; default: the service's lb_kind */
	uint16_t sorry_port;     /* host order; 0 = the service's port */
	union xvs_ip sorry_addr;
	uint32_t quorum;         /* sum of live weights needed; default 1 */
	uint32_t hysteresis;     /* quorum is lost below quorum - hysteresis, regained at
				  * quorum + hysteresis; default 0 */
	bool omega;              /* run quorum_down when the service goes away */
	char quorum_up[XVS_CHECK_SCRIPT_MAX];
	char quorum_down[XVS_CHECK_SCRIPT_MAX];
};

/*
 * A url's accepted status codes from keepalived's status_code words, joined by spaces: codes
 * and ranges ("200-299 400-499 503 505"). One range sets status_lo/hi only; several set
 * status_set and the mask. Returns 0, or -EINVAL with the reason in err, for the caller to
 * name the keyword (the url unchanged).
 */
int xvs_check_url_status_parse(struct xvs_check_url *u, const char *text, char *err,
			       size_t errlen);
/* Whether a url accepts status code `code`. */
bool xvs_check_url_status_ok(const struct xvs_check_url *u, long code);
/* The accepted codes as status_code words ("200-299 503"), or "" for the default. */
void xvs_check_url_status_format(const struct xvs_check_url *u, char *buf, size_t len);

/* keepalived's defaults for each block: connect_timeout 5 s, retry 1, delay_before_retry
 * 1 s for every checker except HTTP_GET/SSL_GET (delay_before_retry 3 s), DNS_CHECK
 * (retry 3) and MISC_CHECK (retry 0). */
void xvs_check_cfg_default(struct xvs_check_cfg *c, enum xvs_check_type type);
void xvs_dest_health_cfg_default(struct xvs_dest_health_cfg *h);
void xvs_svc_health_cfg_default(struct xvs_svc_health_cfg *h);

/*
 * Whether a block is one the health engine can run: ranges, required fields (a url for
 * HTTP_GET, a command for MISC_CHECK), well-formed strings (no control characters in paths
 * and host names, a 32-digit hex digest, a DNS name of valid labels), a known user, address
 * families that agree. The real server's own address family is checked by the model, which
 * knows it. Returns 0, or -EINVAL with a message. Control only.
 */
int xvs_check_cfg_check(const struct xvs_check_cfg *c, char *msg, size_t msglen);
int xvs_dest_health_cfg_check(const struct xvs_dest_health_cfg *h, char *msg, size_t msglen);
int xvs_svc_health_cfg_check(const struct xvs_svc_health_cfg *h, char *msg, size_t msglen);

/* "TCP_CHECK", "HTTP_GET", ... (keepalived's keyword) for a type, or NULL. */
const char *xvs_check_type_keyword(enum xvs_check_type t);
/* The type of a keepalived keyword, or XVS_CHECK_NONE. */
enum xvs_check_type xvs_check_type_from_keyword(const char *kw);

#endif
