/*
 * xvsadm: the ipvsadm-compatible command line of xvs. main() only wires the layers:
 * parse (xvsadm_parse) -> op or query (xvsadm_json) -> control API (xvsadm_client)
 * -> listing (xvsadm_print) or ipvsadm's error text and exit status.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xvsadm_client.h"
#include "xvsadm_drops.h"
#include "xvsadm_json.h"
#include "xvsadm_parse.h"
#include "xvsadm_print.h"
#include "xvsadm_sync.h"
#include "xvs/wire.h"

#ifndef XVS_VERSION
#define XVS_VERSION "0.1.0"
#endif

/* Exit statuses, as ipvsadm uses them. */
#define EXIT_LIST_FAIL  1   /* a listing could not be produced */
#define EXIT_SYNTAX     2   /* fail(): bad arguments, or no control daemon */
#define EXIT_API_FAIL   255 /* the operation itself failed */

static void print_version(FILE *f)
{
	fprintf(f, "%s v%s (compiled with popt and IPVS v%s)\n", XVSADM_PROG, XVS_VERSION,
		XVSADM_IPVS_VERSION);
}

static void print_usage(FILE *f)
{
	print_version(f);
	xvs_xvsadm_print_usage(f);
	fputs("Control socket: $" XVSADM_SOCKET_ENV " (default " XVSADM_DEFAULT_SOCKET ").\n", f);
}

static int unreachable(const char *reason)
{
	fprintf(stderr, "Can't initialize ipvs: %s\nAre you sure that xvs-control is running?\n",
		reason);
	return EXIT_SYNTAX;
}

/* The errno an error reply stands for: its "errno" field, else one implied by the status. */
static int reply_errno(const struct xvs_xvsadm_reply *r)
{
	json_t *e = json_object_get(r->body, XVS_WIRE_ERRNO);

	if (json_is_integer(e) && json_integer_value(e) > 0)
		return (int)json_integer_value(e);
	switch (r->status) {
	case 400: return EINVAL;
	case 403: return EPERM;
	case 404: return ESRCH;
	case 409: return EEXIST;
	case 413: return E2BIG;
	default: return EIO;
	}
}

static const char *reply_str(const struct xvs_xvsadm_reply *r, const char *key)
{
	const char *s = json_string_value(json_object_get(r->body, key));

	return s ? s : "";
}

/* A 200 reply's "dataplane": absent is a warning (saved, applied later), refused/timeout fail. */
static int dataplane_outcome(const struct xvs_xvsadm_reply *r)
{
	const char *dp = reply_str(r, XVS_WIRE_DATAPLANE);
	const char *msg = reply_str(r, XVS_WIRE_MESSAGE);

	if (strcmp(dp, XVS_WIRE_DP_ABSENT) == 0) {
		fprintf(stderr, "%s: no dataplane is running; the change is saved and applies when "
			"xvs-dataplane starts\n", XVSADM_PROG);
		return 0;
	}
	if (strcmp(dp, XVS_WIRE_DP_REFUSED) == 0) {
		fprintf(stderr, "%s: %s\n", XVSADM_PROG,
			*msg ? msg : "the dataplane refused the new configuration");
		return EXIT_API_FAIL;
	}
	if (strcmp(dp, XVS_WIRE_DP_TIMEOUT) == 0) {
		fprintf(stderr, "%s: %s\n", XVSADM_PROG,
			*msg ? msg : "the dataplane did not take the new configuration in time");
		return EXIT_API_FAIL;
	}
	return 0;
}

/* One batch of ops, already built. kinds[i]/lines[i] describe op i (lines NULL: no -R). */
static int post_ops(json_t *ops, const enum xvs_xvsadm_cmd_kind *kinds, const int *lines)
{
	struct xvs_xvsadm_reply r;
	char reason[256] = "";
	json_t *body = json_pack("{sO}", XVS_WIRE_OPS, ops);
	int rc, status;

	if (body == NULL)
		return EXIT_API_FAIL;
	rc = xvs_xvsadm_request("POST", "/v1/ops", body, &r, reason, sizeof(reason));
	json_decref(body);
	if (rc)
		return unreachable(reason);
	if (r.status == 200) {
		status = dataplane_outcome(&r);
	} else {
		json_t *ji = json_object_get(r.body, XVS_WIRE_INDEX);
		size_t n = json_array_size(ops);
		size_t idx = json_is_integer(ji) && json_integer_value(ji) >= 0 &&
			(size_t)json_integer_value(ji) < n ? (size_t)json_integer_value(ji) : 0;
		const char *msg = xvs_xvsadm_strerror(kinds[idx], reply_errno(&r),
						      reply_str(&r, XVS_WIRE_ERROR));

		if (lines != NULL)
			fprintf(stderr, "line %d: %s\n", lines[idx], msg);
		else
			fprintf(stderr, "%s\n", msg);
		status = EXIT_API_FAIL;
	}
	json_decref(r.body);
	return status;
}

static int run_change(const struct xvs_xvsadm_cmd *cmd)
{
	json_t *op = NULL, *ops;
	int status;

	if (xvs_xvsadm_json_op(cmd, &op) != 0 || (ops = json_array()) == NULL) {
		json_decref(op);
		fprintf(stderr, "%s\n", strerror(ENOMEM));
		return EXIT_API_FAIL;
	}
	json_array_append_new(ops, op);
	status = post_ops(ops, &cmd->cmd, NULL);
	json_decref(ops);
	return status;
}

/* GET /v1/services: the document (new reference) or NULL with *status set. */
static json_t *fetch_doc(const char *path, int *status)
{
	struct xvs_xvsadm_reply r;
	char reason[256] = "";
	int rc = xvs_xvsadm_request("GET", path, NULL, &r, reason, sizeof(reason));

	if (rc) {
		*status = unreachable(reason);
		return NULL;
	}
	*status = EXIT_LIST_FAIL;
	if (r.status != 200) {
		fprintf(stderr, "%s\n", xvs_xvsadm_strerror(XVSADM_CMD_LIST, reply_errno(&r),
							   reply_str(&r, XVS_WIRE_ERROR)));
		json_decref(r.body);
		return NULL;
	}
	if (r.body == NULL)
		fprintf(stderr, "%s: malformed reply from xvs-control\n", XVSADM_PROG);
	return r.body;
}

static json_t *fetch_services(int *status)
{
	return fetch_doc("/v1/services", status);
}

/* --json: the API's document, indented, keys sorted so that output is stable. */
static int print_json(const json_t *doc)
{
	int rc = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);

	if (rc == 0)
		fputc('\n', stdout);
	return rc ? -EIO : 0;
}

/* -L --json with a service: the same document with only that service (t mirrors doc). */
static int print_json_service(const json_t *doc, const struct xvs_xvsadm_table *t,
			      const struct xvs_xvsadm_service *key)
{
	json_t *one, *svcs = json_object_get(doc, XVS_WIRE_SERVICES);
	int rc;

	for (size_t i = 0; i < t->nb_services; i++) {
		if (!xvs_xvsadm_same_service(&t->services[i].s, key))
			continue;
		one = json_deep_copy(doc);
		if (one == NULL)
			return -ENOMEM;
		json_object_set_new(one, XVS_WIRE_SERVICES,
				    json_pack("[O]", json_array_get(svcs, i)));
		rc = print_json(one);
		json_decref(one);
		return rc;
	}
	return -ESRCH;
}

static int print_listing(const struct xvs_xvsadm_cmd *cmd, const json_t *doc,
			 const struct xvs_xvsadm_table *t)
{
	const int json = !!(cmd->options & XVSADM_OPTBIT(XVSADM_OPT_JSON));
	const int one = cmd->cmd == XVSADM_CMD_LIST &&
		(cmd->options & XVSADM_OPTBIT(XVSADM_OPT_SERVICE));

	if (cmd->options & XVSADM_OPTBIT(XVSADM_OPT_TIMEOUT))
		return json ? print_json(json_object_get(doc, XVS_WIRE_TIMEOUTS))
			    : xvs_xvsadm_print_timeout(stdout, t);
	if (cmd->options & XVSADM_OPTBIT(XVSADM_OPT_DAEMON))
		return json ? print_json(json_object_get(doc, XVS_WIRE_DAEMONS))
			    : xvs_xvsadm_print_daemons(stdout, json_object_get(doc, XVS_WIRE_DAEMONS));
	if (one)
		return json ? print_json_service(doc, t, &cmd->svc)
			    : xvs_xvsadm_print_service(stdout, t, &cmd->svc, cmd->format);
	return json ? print_json(doc) : xvs_xvsadm_print_table(stdout, t, cmd->format);
}

/* -L --stats --drops: the section after the table, from GET /v1/stats?per_worker=1. */
static int run_drops(const struct xvs_xvsadm_cmd *cmd)
{
	int status;
	json_t *stats = fetch_doc("/v1/stats?" XVS_WIRE_PER_WORKER "=1", &status);

	if (stats == NULL) {
		fflush(stdout);
		return status;
	}
	int rc = xvs_xvsadm_print_drops(stdout, stats, cmd->format);
	json_decref(stats);
	if (rc == -EPROTO)
		fprintf(stderr, "%s: malformed reply from xvs-control\n", XVSADM_PROG);
	if (fflush(stdout) != 0 && rc == 0)
		rc = -EIO;
	return rc ? EXIT_LIST_FAIL : 0;
}

static int run_list(const struct xvs_xvsadm_cmd *cmd)
{
	const int marks = cmd->cmd == XVSADM_CMD_LISTMARKS;
	const int json = !!(cmd->options & XVSADM_OPTBIT(XVSADM_OPT_JSON));
	struct xvs_xvsadm_table t;
	int status, rc;
	json_t *doc = fetch_services(&status);

	if (doc == NULL)
		return status;
	rc = xvs_xvsadm_json_table(doc, &t);
	if (rc) {
		fprintf(stderr, "%s: malformed reply from xvs-control\n", XVSADM_PROG);
		json_decref(doc);
		return EXIT_LIST_FAIL;
	}
	if (marks)
		rc = json ? print_json(json_object_get(doc, XVS_WIRE_MARKS))
			  : xvs_xvsadm_print_marks(stdout, &t);
	else
		rc = print_listing(cmd, doc, &t);
	xvs_xvsadm_table_free(&t);
	json_decref(doc);
	if (rc == 0 && (cmd->options & XVSADM_OPTBIT(XVSADM_OPT_DROPS)))
		return run_drops(cmd);
	if (rc == -ESRCH)
		fprintf(stderr, "%s\n", xvs_xvsadm_strerror(XVSADM_CMD_LIST, ESRCH, NULL));
	else if (rc)
		fprintf(stderr, "%s: %s\n", XVSADM_PROG, strerror(-rc));
	if (fflush(stdout) != 0 && rc == 0)
		rc = -EIO;
	return rc ? EXIT_LIST_FAIL : 0;
}

/*
 * -L -c: GET /v1/conns is read line by line (docs/api.md fixes its layout) and each
 * connection printed as it comes, so that millions of them need no more memory than one.
 */
struct conn_listing {
	unsigned int fmt;
	int json;
	int header_seen;
	size_t nb;
	json_t *trailer; /* the last line's fields: workers, complete, error */
	int bad;         /* the reply did not have the documented layout */
};

static void conn_json_entry(struct conn_listing *cl, const json_t *o)
{
	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);

	fprintf(stdout, "%s    %s", cl->nb ? ",\n" : "\n", text ? text : "null");
	free(text);
}

static int conn_entry(struct conn_listing *cl, const char *p, size_t n)
{
	struct xvs_xvsadm_conn c;
	json_t *o;

	while (n > 0 && (p[n - 1] == ',' || p[n - 1] == ' ' || p[n - 1] == '\r'))
		n--;
	while (n > 0 && (*p == ',' || *p == ' ')) {
		p++;
		n--;
	}
	if (n == 0)
		return 0;
	o = json_loadb(p, n, 0, NULL);
	if (o == NULL || xvs_xvsadm_json_conn(o, &c) != 0) {
		json_decref(o);
		cl->bad = 1;
		return -EPROTO;
	}
	if (cl->json)
		conn_json_entry(cl, o);
	else
		xvs_xvsadm_print_conn(stdout, &c, cl->fmt);
	cl->nb++;
	json_decref(o);
	return 0;
}

static int conn_line(const char *line, size_t len, void *ctx)
{
	static const char head[] = "{" XVS_WIRE_MEMBER(XVS_WIRE_CONNS) "[";
	struct conn_listing *cl = ctx;
	char *doc;

	if (!cl->header_seen) {
		if (len < sizeof(head) - 1 || memcmp(line, head, sizeof(head) - 1) != 0) {
			cl->bad = 1;
			return -EPROTO;
		}
		cl->header_seen = 1;
		if (cl->json)
			fputs("{\n  \"" XVS_WIRE_CONNS "\": [", stdout);
		else
			xvs_xvsadm_print_conn_title(stdout, cl->fmt);
		return 0;
	}
	while (len > 0 && *line == ' ') { /* the server's keep-alive spaces */
		line++;
		len--;
	}
	if (cl->trailer != NULL || len == 0 || line[0] != ']')
		return cl->trailer != NULL ? 0 : conn_entry(cl, line, len);
	/* The last line closes the array: put the opening back to read its fields. */
	doc = malloc(len + sizeof(head));
	if (doc == NULL)
		return -ENOMEM;
	memcpy(doc, head, sizeof(head) - 1);
	memcpy(doc + sizeof(head) - 1, line, len);
	cl->trailer = json_loadb(doc, len + sizeof(head) - 1, 0, NULL);
	free(doc);
	if (!json_is_object(cl->trailer)) {
		cl->bad = 1;
		return -EPROTO;
	}
	json_object_del(cl->trailer, XVS_WIRE_CONNS);
	return 0;
}

static void conn_json_close(const struct conn_listing *cl)
{
	char *text = json_dumps(cl->trailer, JSON_INDENT(2) | JSON_SORT_KEYS);
	size_t n = text ? strlen(text) : 0;

	fputs(cl->nb ? "\n  ]" : "]", stdout);
	/* text is "{\n  \"complete\": true,\n  ...\n}": its members follow the array. */
	if (n > 4)
		fprintf(stdout, ",%.*s\n}\n", (int)(n - 3), text + 1);
	else
		fputs("\n}\n", stdout);
	free(text);
}

static int run_conns(const struct xvs_xvsadm_cmd *cmd)
{
	struct conn_listing cl = {
		.fmt = cmd->format, .json = !!(cmd->options & XVSADM_OPTBIT(XVSADM_OPT_JSON)),
	};
	struct xvs_xvsadm_reply r;
	char reason[256] = "";
	int rc = xvs_xvsadm_stream("/v1/conns", conn_line, &cl, &r, reason, sizeof(reason));
	int status = 0;

	if (rc && !cl.bad && r.status == 0) {
		json_decref(cl.trailer);
		return unreachable(reason);
	}
	if (r.status != 200) {
		fprintf(stderr, "%s\n", xvs_xvsadm_strerror(XVSADM_CMD_LIST, reply_errno(&r),
							   reply_str(&r, XVS_WIRE_ERROR)));
		status = EXIT_LIST_FAIL;
	} else if (rc || cl.trailer == NULL) {
		fprintf(stderr, "%s: malformed or truncated connection listing from xvs-control\n",
			XVSADM_PROG);
		status = EXIT_LIST_FAIL;
	} else {
		if (cl.json)
			conn_json_close(&cl);
		if (!json_is_true(json_object_get(cl.trailer, XVS_WIRE_COMPLETE))) {
			fprintf(stderr, "%s: the connection listing is incomplete: %s\n", XVSADM_PROG,
				json_string_value(json_object_get(cl.trailer, XVS_WIRE_ERROR))
					?: "unknown reason");
			status = EXIT_LIST_FAIL;
		}
	}
	json_decref(cl.trailer);
	json_decref(r.body);
	if (fflush(stdout) != 0 && status == 0)
		status = EXIT_LIST_FAIL;
	return status;
}

/* What -R collects: the ops, and for each the command and the input line it came from. */
struct restore_batch {
	json_t *ops;
	enum xvs_xvsadm_cmd_kind *kinds;
	int *lines;
	size_t nb, cap;
};

static int batch_add(struct restore_batch *b, json_t *op, enum xvs_xvsadm_cmd_kind kind, int line)
{
	if (b->nb == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		void *k = realloc(b->kinds, cap * sizeof(*b->kinds));

		if (k == NULL)
			return -ENOMEM;
		b->kinds = k;
		k = realloc(b->lines, cap * sizeof(*b->lines));
		if (k == NULL)
			return -ENOMEM;
		b->lines = k;
		b->cap = cap;
	}
	if (json_array_append_new(b->ops, op) != 0)
		return -ENOMEM;
	b->kinds[b->nb] = kind;
	b->lines[b->nb++] = line;
	return 0;
}

/* One -R line into the batch; 0, or an error with ipvsadm's message in *err. */
static int restore_line(const char *text, struct restore_batch *b, int line,
			struct xvs_xvsadm_err *err)
{
	struct xvs_xvsadm_cmd cmd;
	json_t *op = NULL;
	int blank;
	int rc = xvs_xvsadm_restore_cmd(text, &cmd, &blank, err);
	if (rc || blank)
		return rc;
	rc = xvs_xvsadm_json_op(&cmd, &op);
	if (rc == 0)
		rc = batch_add(b, op, cmd.cmd, line);
	if (rc)
		snprintf(err->msg, sizeof(err->msg), "%s", strerror(-rc));
	return rc;
}

/* -R: read everything, parse everything, then one POST: all lines apply or none. */
static int run_restore(void)
{
	struct restore_batch b = { .ops = json_array() };
	struct xvs_xvsadm_err err;
	char *line = NULL;
	size_t cap = 0;
	int nr = 0, status = 0;

	while (b.ops != NULL && getline(&line, &cap, stdin) >= 0) {
		nr++;
		if (restore_line(line, &b, nr, &err) != 0) {
			fprintf(stderr, "line %d: %s\n", nr, err.msg);
			status = EXIT_SYNTAX;
			break;
		}
	}
	free(line);
	if (b.ops == NULL || ferror(stdin)) {
		fprintf(stderr, "%s: cannot read the rules: %s\n", XVSADM_PROG, strerror(errno));
		status = EXIT_SYNTAX;
	}
	if (status == 0 && b.nb > 0)
		status = post_ops(b.ops, b.kinds, b.lines);
	json_decref(b.ops);
	free(b.kinds);
	free(b.lines);
	return status;
}

static long long jint(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* --status: GET /v1/status' "dataplane" in two lines, or one when none is attached. */
static void status_dataplane(const json_t *st)
{
	const json_t *dp = json_object_get(st, XVS_WIRE_DATAPLANE);

	if (!json_is_true(json_object_get(dp, XVS_WIRE_ATTACHED))) {
		printf("dataplane: not attached (generation %lld waits for one)\n",
		       jint(st, XVS_WIRE_GENERATION));
		return;
	}
	const json_t *stalled = json_object_get(dp, XVS_WIRE_STALLED_WORKERS);
	printf("dataplane: pid %lld, %lld worker(s), steering %s, stalled workers: ",
	       jint(dp, XVS_WIRE_PID), jint(dp, XVS_WIRE_WORKERS),
	       json_string_value(json_object_get(dp, XVS_WIRE_STEERING)));
	if (json_array_size(stalled) == 0)
		printf("none");
	for (size_t i = 0; i < json_array_size(stalled); i++)
		printf("%s%lld", i ? "," : "",
		       (long long)json_integer_value(json_array_get(stalled, i)));
	printf("\ngeneration: published %lld, adopted %lld", jint(dp, XVS_WIRE_PUBLISHED),
	       jint(dp, XVS_WIRE_ADOPTED));
	if (jint(dp, XVS_WIRE_REFUSED))
		printf(", refused %lld: %s", jint(dp, XVS_WIRE_REFUSED),
		       json_string_value(json_object_get(dp, XVS_WIRE_REFUSE_REASON)));
	printf("\n");
}

/* GET /v1/stats' sums, each read under the name of its counter. */
struct status_counters {
#define XVS_CTR(f) long long f;
	XVS_WIRE_LCORE_COUNTERS(XVS_CTR)
#undef XVS_CTR
};

/* --status: GET /v1/stats' connections, packets, exception path and drops. */
static void status_counters(const json_t *stats)
{
	struct status_counters c;
#define XVS_CTR(f) c.f = jint(stats, #f);
	XVS_WIRE_LCORE_COUNTERS(XVS_CTR)
#undef XVS_CTR
	printf("connections: %lld live, %lld new, %lld expired, %lld evicted\n",
	       c.conns_cur, c.conns_new, c.conns_expired, c.conns_evicted);
	printf("packets: %lld in, %lld out, %lld handed to another worker, %lld taken from one\n",
	       c.rx_pkts, c.tx_pkts, c.handoff_out, c.handoff_in);
	printf("exception path: %lld to the kernel (%lld bytes), %lld from it (%lld bytes)\n",
	       c.exc_to_kernel, c.exc_to_kernel_bytes, c.exc_from_kernel, c.exc_from_kernel_bytes);
	const json_t *drops = json_object_get(stats, XVS_WIRE_DROPS);
	const char *name;
	const json_t *v;
	int any = 0;
	printf("drops:");
	json_object_foreach((json_t *)drops, name, v) {
		if (json_integer_value(v) > 0) {
			printf("\n  %-22s %lld", name, (long long)json_integer_value(v));
			any = 1;
		}
	}
	printf("%s\n", any ? "" : " none");
}

/*
 * --status (xvs's own): the dataplane's state and counters in a few lines, from GET
 * /v1/status and GET /v1/stats; with --json, both documents.
 */
static int run_status(const struct xvs_xvsadm_cmd *cmd)
{
	int status;
	json_t *st = fetch_doc("/v1/status", &status);
	if (st == NULL)
		return status;
	json_t *stats = fetch_doc("/v1/stats", &status);
	if (stats == NULL) {
		json_decref(st);
		return status;
	}
	int rc = 0;
	if (cmd->options & XVSADM_OPTBIT(XVSADM_OPT_JSON)) {
		json_t *both = json_pack("{sOsO}", "status", st, "stats", stats);
		rc = both ? print_json(both) : -ENOMEM;
		json_decref(both);
	} else {
		status_dataplane(st);
		status_counters(stats);
	}
	json_decref(st);
	json_decref(stats);
	if (fflush(stdout) != 0 && rc == 0)
		rc = -EIO;
	return rc ? EXIT_LIST_FAIL : 0;
}

/* ---- --trace (xvs's own): POST /v1/trace, told in a few lines ---------------------------- */

static const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* "addr:port" (no port when 0), IPv6 in brackets as ipvsadm writes it. */
static const char *textport(const char *a, unsigned port, char *buf, size_t len)
{
	const int v6 = strchr(a, ':') != NULL;

	if (port)
		snprintf(buf, len, v6 ? "[%s]:%u" : "%s:%u", a, port);
	else
		snprintf(buf, len, "%s", a);
	return buf;
}

/* "addr:port" of an {"addr", "port"} object, IPv6 in brackets as ipvsadm writes it. */
static const char *hostport(const json_t *o, char *buf, size_t len)
{
	const char *a = jstr(o, XVS_WIRE_ADDR);

	snprintf(buf, len, strchr(a, ':') ? "[%s]:%lld" : "%s:%lld", a, jint(o, XVS_WIRE_PORT));
	return buf;
}

static void upper(char *dst, size_t len, const char *s)
{
	size_t i = 0;

	for (; s[i] && i + 1 < len; i++)
		dst[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 'a' + 'A' : s[i]);
	dst[i] = '\0';
}

static void trace_service(const json_t *svc)
{
	char proto[8], hp[80];
	int af = XVS_AF_INET;

	xvs_wire_value(xvs_wire_afs, jstr(svc, XVS_WIRE_AF), &af);
	if (json_object_get(svc, XVS_WIRE_FWMARK))
		printf("Service: FWM %lld%s %s", jint(svc, XVS_WIRE_FWMARK),
		       af == XVS_AF_INET6 ? " IPv6" : "", jstr(svc, XVS_WIRE_SCHED));
	else {
		upper(proto, sizeof(proto), jstr(svc, XVS_WIRE_PROTO));
		printf("Service: %s %s %s", proto, hostport(svc, hp, sizeof(hp)),
		       jstr(svc, XVS_WIRE_SCHED));
	}
	if (json_object_get(svc, XVS_WIRE_PERSISTENT)) {
		const json_t *nm = json_object_get(svc, XVS_WIRE_NETMASK);
		printf(" persistent %lld", jint(svc, XVS_WIRE_PERSISTENT));
		if (json_is_string(nm))
			printf(" mask %s", json_string_value(nm));
		else
			printf(" mask %lld", (long long)json_integer_value(nm));
	}
	printf(" (matched by %s)\n", jstr(svc, XVS_WIRE_VIA));
}

static void trace_tables(const json_t *doc, int has_cport)
{
	const json_t *conns = json_object_get(doc, XVS_WIRE_CONNECTIONS);
	const json_t *tpl = json_object_get(doc, XVS_WIRE_TEMPLATE);
	const json_t *c;
	size_t i;
	char hp[80];

	if (jint(doc, XVS_WIRE_WORKERS) == 0) {
		printf("Connection: none (no dataplane is running)\n");
	} else if (json_array_size(conns) == 0) {
		printf("Connection: none%s\n", has_cport ? "" : " from this client");
	}
	json_array_foreach(conns, i, c) {
		printf("Connection: worker %lld, client port %lld, %s, expires in %lld s -> %s %s\n",
		       jint(c, XVS_WIRE_WORKER), jint(c, XVS_WIRE_CPORT), jstr(c, XVS_WIRE_STATE),
		       jint(c, XVS_WIRE_EXPIRE), hostport(c, hp, sizeof(hp)), jstr(c, XVS_WIRE_FWD));
	}
	if (json_is_true(json_object_get(doc, XVS_WIRE_MORE_CONNECTIONS)))
		printf("Connection: ... and more\n");
	if (!json_object_get(json_object_get(doc, XVS_WIRE_SERVICE), XVS_WIRE_PERSISTENT))
		printf("Template: none (the service is not persistent)\n");
	else if (!json_is_object(tpl))
		printf("Template: none for this client\n");
	else
		printf("Template: worker %lld, client %s, expires in %lld s -> %s\n",
		       jint(tpl, XVS_WIRE_WORKER), jstr(tpl, XVS_WIRE_CLIENT),
		       jint(tpl, XVS_WIRE_EXPIRE), hostport(tpl, hp, sizeof(hp)));
}

static void trace_scheduler(const json_t *doc)
{
	const json_t *sc = json_object_get(doc, XVS_WIRE_SCHEDULER);
	const json_t *pick = json_object_get(sc, XVS_WIRE_SERVER);
	const char *scope = jstr(sc, XVS_WIRE_SCOPE);
	const json_t *d;
	size_t i;
	char hp[80];

	printf("Scheduler: %s", jstr(sc, XVS_WIRE_SCHED_NAME));
	if (json_object_get(sc, XVS_WIRE_BUCKET)) {
		const json_t *bs = json_object_get(sc, XVS_WIRE_BUCKET_SERVER);
		printf(", bucket %lld of %lld holds %s", jint(sc, XVS_WIRE_BUCKET),
		       jint(sc, XVS_WIRE_BUCKETS),
		       json_is_object(bs) ? hostport(bs, hp, sizeof(hp)) : "no server");
	}
	printf("; picks %s", json_is_object(pick) ? hostport(pick, hp, sizeof(hp)) : "no server");
	if (strcmp(scope, XVS_WIRE_SCOPE_PER_WORKER) == 0)
		printf(" from a fresh state (each worker keeps its own %s state)\n",
		       jstr(sc, XVS_WIRE_SCHED_NAME));
	else if (strcmp(scope, XVS_WIRE_SCOPE_COUNTS) == 0)
		printf(" from the node's connection counts now\n");
	else
		printf(" (the same on every worker)\n");
	printf("  -> RemoteAddress:Port           Weight ActiveConn InActConn Health    Available\n");
	json_array_foreach(json_object_get(doc, XVS_WIRE_SERVERS), i, d) {
		printf("  -> %-28s %-6lld %-10lld %-9lld %-9s %s%s\n", hostport(d, hp, sizeof(hp)),
		       jint(d, XVS_WIRE_WEIGHT), jint(d, XVS_WIRE_ACTIVE), jint(d, XVS_WIRE_INACTIVE),
		       jstr(d, XVS_WIRE_HEALTH),
		       json_is_true(json_object_get(d, XVS_WIRE_AVAILABLE)) ? "yes" : "no",
		       json_is_true(json_object_get(d, XVS_WIRE_OVERLOADED)) ? " (overloaded)" : "");
	}
	json_array_foreach(json_object_get(doc, XVS_WIRE_LEFT_OUT), i, d)
		printf("  -> %-28s health %s: not in the service's list\n",
		       hostport(d, hp, sizeof(hp)), jstr(d, XVS_WIRE_HEALTH));
}

static int run_trace(const struct xvs_xvsadm_cmd *cmd)
{
	const int wproto = cmd->svc.proto == IPPROTO_UDP ? XVS_PROTO_UDP
			   : cmd->svc.proto == IPPROTO_SCTP ? XVS_PROTO_SCTP : XVS_PROTO_TCP;
	const char *proto = xvs_wire_name_of(xvs_wire_protos, wproto);
	char v[INET6_ADDRSTRLEN], c[INET6_ADDRSTRLEN], hp[80], reason[256] = "";
	struct xvs_xvsadm_reply r;
	json_t *body;
	int rc, status = 0;

	inet_ntop(cmd->svc.af, &cmd->svc.addr, v, sizeof(v));
	inet_ntop(cmd->client.af, &cmd->client.addr, c, sizeof(c));
	body = json_pack("{ss ss si ss}", XVS_WIRE_PROTO, proto, XVS_WIRE_VADDR, v, XVS_WIRE_VPORT,
			 (int)cmd->svc.port, XVS_WIRE_CADDR, c);
	if (body && cmd->client.port)
		json_object_set_new(body, XVS_WIRE_CPORT, json_integer(cmd->client.port));
	if (body == NULL)
		return EXIT_LIST_FAIL;
	rc = xvs_xvsadm_request("POST", "/v1/trace", body, &r, reason, sizeof(reason));
	json_decref(body);
	if (rc)
		return unreachable(reason);
	if (r.status != 200) {
		fprintf(stderr, "%s\n", xvs_xvsadm_strerror(XVSADM_CMD_LIST, reply_errno(&r),
							   reply_str(&r, XVS_WIRE_ERROR)));
		json_decref(r.body);
		return EXIT_LIST_FAIL;
	}
	if (!json_is_object(r.body)) {
		fprintf(stderr, "%s: malformed reply from xvs-control\n", XVSADM_PROG);
		json_decref(r.body);
		return EXIT_LIST_FAIL;
	}
	if (cmd->options & XVSADM_OPTBIT(XVSADM_OPT_JSON)) {
		status = print_json(r.body) ? EXIT_LIST_FAIL : 0;
	} else {
		const json_t *res = json_object_get(r.body, XVS_WIRE_SERVER);
		const char *verdict = reply_str(&r, XVS_WIRE_VERDICT);
		char up[8];

		char hc[80];

		upper(up, sizeof(up), proto);
		printf("Packet: %s %s -> %s\n", up, textport(c, cmd->client.port, hc, sizeof(hc)),
		       textport(v, cmd->svc.port, hp, sizeof(hp)));
		trace_service(json_object_get(r.body, XVS_WIRE_SERVICE));
		trace_tables(r.body, cmd->client.port != 0);
		trace_scheduler(r.body);
		if (json_is_object(res))
			printf("Result: %s -> %s\n",
			       strcmp(verdict, XVS_WIRE_VERDICT_CONN) == 0 ? "existing connection"
			       : strcmp(verdict, XVS_WIRE_VERDICT_TEMPLATE) == 0 ? "persistence template"
			       : "scheduler",
			       hostport(res, hp, sizeof(hp)));
		else
			printf("Result: no server available\n");
	}
	if (!json_is_true(json_object_get(r.body, XVS_WIRE_COMPLETE))) {
		fprintf(stderr, "%s: the connection tables were not read whole: %s\n", XVSADM_PROG,
			reply_str(&r, XVS_WIRE_ERROR));
		status = EXIT_LIST_FAIL;
	}
	json_decref(r.body);
	if (fflush(stdout) != 0 && status == 0)
		status = EXIT_LIST_FAIL;
	return status;
}

static int run(const struct xvs_xvsadm_cmd *cmd)
{
	switch (cmd->cmd) {
	case XVSADM_CMD_HELP:
		print_usage(stdout);
		return 0;
	case XVSADM_CMD_VERSION:
		print_version(stdout);
		return 0;
	case XVSADM_CMD_RESTORE:
		return run_restore();
	case XVSADM_CMD_LIST:
		if (cmd->options & XVSADM_OPTBIT(XVSADM_OPT_CONNECTION))
			return run_conns(cmd);
		return run_list(cmd);
	case XVSADM_CMD_SAVE:
	case XVSADM_CMD_LISTMARKS:
		return run_list(cmd);
	case XVSADM_CMD_STATUS:
		return run_status(cmd);
	case XVSADM_CMD_TRACE:
		return run_trace(cmd);
	default:
		return run_change(cmd);
	}
}

int main(int argc, char **argv)
{
	const char *list_argv[] = { NULL, "-L", NULL };
	struct xvs_xvsadm_cmd cmd;
	struct xvs_xvsadm_err err;
	int status;

	xvs_xvsadm_set_prog(argv[0]);
	list_argv[0] = XVSADM_PROG;
	/* No arguments lists the table with names resolved, as ipvsadm does. */
	if (argc <= 1)
		status = xvs_xvsadm_parse(2, list_argv, &cmd, &err);
	else
		status = xvs_xvsadm_parse(argc, (const char **)argv, &cmd, &err);
	if (status == 0)
		status = xvs_xvsadm_check_supported(&cmd, &err);
	if (status != 0) {
		fprintf(stderr, "%s\n", err.msg);
		return err.status;
	}
	return run(&cmd);
}
