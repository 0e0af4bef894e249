/* Unit tests for the tracer's pure parts (control/ctl_trace.c): the request, the service
 * lookup, the matching of dump entries and the answer's verdict and scheduler decision. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_json.h"
#include "ctl_overlay.h"
#include "ctl_publish.h"
#include "ctl_trace.h"
#include "xvs/sched.h"

static void run_ok(struct xvs_ctl_model *m, const char *json)
{
	struct xvs_ctl_op *ops;
	struct xvs_ctl_err err;
	unsigned nb;
	int rc = xvs_ctl_json_parse_ops(json, strlen(json), &ops, &nb, &err);

	cr_assert_eq(rc, 0, "%s: %s", json, err.msg);
	rc = xvs_ctl_model_apply(m, ops, nb, &err);
	xvs_ctl_ops_free(ops, nb);
	cr_assert_eq(rc, 0, "%s: %s", json, err.msg);
	xvs_ctl_overlay_refresh(m, 0);
}

static struct xvs_gen *build(const struct xvs_ctl_model *m)
{
	struct xvs_gen *g = malloc(sizeof(*g));
	char msg[256] = "";

	cr_assert_not_null(g);
	cr_assert_eq(xvs_ctl_build_gen(m, g, msg, sizeof(msg)), 0, "%s", msg);
	return g;
}

static uint32_t ip4(const char *s)
{
	struct in_addr a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1, "%s", s);
	return a.s_addr;
}

static struct xvs_ctl_trace_req req(uint8_t proto, const char *v, uint16_t vport, const char *c,
				    uint16_t cport)
{
	struct xvs_ctl_trace_req r = { .af = XVS_AF_INET, .proto = proto, .vport = vport,
				       .cport = cport };

	r.vaddr.v4 = ip4(v);
	r.caddr.v4 = ip4(c);
	return r;
}

/* sh on 198.18.0.100:80 over three servers; a persistent port-0 rr service on .101 (/24
 * granularity); a mark rule for 198.18.0.200:82 leading to fwmark service 7. */
static struct xvs_ctl_model *model(void)
{
	struct xvs_ctl_model *m = xvs_ctl_model_new(NULL);

	cr_assert_not_null(m);
	run_ok(m, "{\"ops\":["
		  "{\"op\":\"add-service\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.100\","
		  "\"port\":80,\"sched\":\"sh\"}},"
		  "{\"op\":\"add-dest\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.100\",\"port\":80},"
		  "\"dest\":{\"addr\":\"198.19.0.11\",\"port\":80,\"fwd\":\"masq\"}},"
		  "{\"op\":\"add-dest\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.100\",\"port\":80},"
		  "\"dest\":{\"addr\":\"198.19.0.12\",\"port\":80,\"fwd\":\"masq\",\"weight\":2}},"
		  "{\"op\":\"add-dest\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.100\",\"port\":80},"
		  "\"dest\":{\"addr\":\"198.19.0.13\",\"port\":80,\"fwd\":\"masq\",\"weight\":0}},"
		  "{\"op\":\"add-service\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.101\","
		  "\"port\":0,\"sched\":\"rr\",\"persistent\":300,\"netmask\":\"255.255.255.0\"}},"
		  "{\"op\":\"add-dest\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.101\",\"port\":0},"
		  "\"dest\":{\"addr\":\"198.19.0.21\",\"port\":0,\"fwd\":\"route\"}},"
		  "{\"op\":\"add-mark\",\"mark\":{\"dst\":\"198.18.0.200/32\",\"proto\":\"tcp\","
		  "\"dport_lo\":82,\"dport_hi\":82,\"mark\":7}},"
		  "{\"op\":\"add-service\",\"service\":{\"fwmark\":7,\"sched\":\"wlc\"}},"
		  "{\"op\":\"add-dest\",\"service\":{\"fwmark\":7},"
		  "\"dest\":{\"addr\":\"198.19.0.31\",\"port\":80,\"fwd\":\"masq\"}}"
		  "]}");
	return m;
}

static const char *jstr(const json_t *o, const char *path1, const char *path2)
{
	const json_t *v = json_object_get(o, path1);

	if (path2)
		v = json_object_get(v, path2);
	return json_string_value(v) ? json_string_value(v) : "(none)";
}

Test(ctl_trace, parse_request)
{
	struct xvs_ctl_trace_req r;
	char msg[256];
	const char *ok = "{\"proto\":\"udp\",\"vaddr\":\"2001:db8::1\",\"vport\":53,"
			 "\"caddr\":\"2001:db8::2\",\"cport\":4000}";

	cr_assert_eq(xvs_ctl_trace_parse(ok, strlen(ok), &r, msg, sizeof(msg)), 0, "%s", msg);
	cr_expect_eq(r.af, XVS_AF_INET6);
	cr_expect_eq(r.proto, XVS_PROTO_UDP);
	cr_expect_eq(r.vport, 53);
	cr_expect_eq(r.cport, 4000);
	cr_expect_eq(r.caddr.v6[15], 2);

	static const struct { const char *body, *msg; } bad[] = {
		{ "nope", "the body must be a JSON object" },
		{ "{\"proto\":\"tcp\",\"vaddr\":\"198.18.0.1\",\"vport\":80}", "vaddr, vport and caddr are required" },
		{ "{\"proto\":\"icmp\",\"vaddr\":\"198.18.0.1\",\"vport\":80,\"caddr\":\"1.2.3.4\"}", "'icmp' is not tcp, udp or sctp" },
		{ "{\"proto\":\"tcp\",\"vaddr\":\"198.18.0.1\",\"vport\":80,\"caddr\":\"::1\"}", "different families" },
		{ "{\"proto\":\"tcp\",\"vaddr\":\"198.18.0.1\",\"vport\":0,\"caddr\":\"1.2.3.4\"}", "vport" },
		{ "{\"proto\":\"tcp\",\"vaddr\":\"198.18.0.1\",\"vport\":80,\"caddr\":\"1.2.3.4\",\"cport\":0}", "cport" },
		{ "{\"proto\":\"tcp\",\"vaddr\":\"198.18.0.1\",\"vport\":80,\"caddr\":\"1.2.3.4\",\"x\":1}", "x" },
		{ "{\"proto\":\"tcp\",\"vaddr\":\"198.18.0.999\",\"vport\":80,\"caddr\":\"1.2.3.4\"}", "198.18.0.999" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		msg[0] = '\0';
		cr_expect_eq(xvs_ctl_trace_parse(bad[i].body, strlen(bad[i].body), &r, msg, sizeof(msg)),
			     -EINVAL, "%s", bad[i].body);
		cr_expect_not_null(strstr(msg, bad[i].msg), "%s: %s", bad[i].body, msg);
	}
}

Test(ctl_trace, service_lookup_as_the_dataplane)
{
	struct xvs_ctl_model *m = model();
	struct xvs_gen *g = build(m);
	const char *via = "";
	struct xvs_ctl_trace_req r = req(XVS_PROTO_TCP, "198.18.0.100", 80, "198.18.7.7", 1000);
	int s = xvs_ctl_trace_service(g, &r, &via);

	cr_assert_geq(s, 0);
	cr_expect_eq(g->svcs[s].addr.v4, ip4("198.18.0.100"));
	cr_expect_str_eq(via, "address");
	r = req(XVS_PROTO_TCP, "198.18.0.101", 8080, "198.18.7.7", 1000);
	s = xvs_ctl_trace_service(g, &r, &via);
	cr_assert_geq(s, 0);
	cr_expect_eq(g->svcs[s].port_be, 0);
	cr_expect_str_eq(via, "port 0");
	r = req(XVS_PROTO_TCP, "198.18.0.200", 82, "198.18.7.7", 1000);
	s = xvs_ctl_trace_service(g, &r, &via);
	cr_assert_geq(s, 0);
	cr_expect_eq(g->svcs[s].fwmark, 7);
	cr_expect_str_eq(via, "mark rule");
	r = req(XVS_PROTO_UDP, "198.18.0.200", 82, "198.18.7.7", 1000); /* the rule is TCP's */
	cr_expect_lt(xvs_ctl_trace_service(g, &r, &via), 0);
	r = req(XVS_PROTO_UDP, "198.18.0.100", 80, "198.18.7.7", 1000);
	cr_expect_lt(xvs_ctl_trace_service(g, &r, &via), 0);
	r = req(XVS_PROTO_TCP, "198.18.0.100", 81, "198.18.7.7", 1000);
	cr_expect_lt(xvs_ctl_trace_service(g, &r, &via), 0);
	free(g);
	xvs_ctl_model_free(m);
}

/* sh: the answer's pick is the scheduler's own, the bucket's server when it is available; a
 * quiesced server (weight 0) is listed as not available. */
Test(ctl_trace, sh_decision_names_the_bucket)
{
	struct xvs_ctl_model *m = model();
	struct xvs_gen *g = build(m);
	unsigned seen_quiesced_bucket = 0, picks = 0;

	for (unsigned i = 1; i < 200; i++) {
		char c[32];
		snprintf(c, sizeof(c), "10.%u.%u.9", i, i * 7 % 256);
		struct xvs_ctl_trace_req r = req(XVS_PROTO_TCP, "198.18.0.100", 80, c, 5000);
		struct xvs_ctl_trace_found f = {0};
		const char *via;
		f.svc = xvs_ctl_trace_service(g, &r, &via);
		cr_assert_geq(f.svc, 0);
		json_t *o = xvs_ctl_trace_answer(m, g, NULL, &r, &f, via);
		cr_assert_not_null(o);
		const struct xvs_svc *s = &g->svcs[f.svc];
		struct xvs_sched_state st = {0};
		struct xvs_sched_key key = { .caddr = r.caddr, .daddr = r.vaddr, .cport_be = htons(5000) };
		int d = xvs_sched_all[s->sched]->pick(g, s, &st, &key);
		const json_t *sc = json_object_get(o, "scheduler");
		cr_expect_str_eq(jstr(sc, "name", NULL), "sh");
		cr_expect_str_eq(jstr(sc, "scope", NULL), "hash");
		cr_expect_eq(json_integer_value(json_object_get(sc, "buckets")), 256);
		const char *bs = jstr(sc, "bucket_server", "addr");
		if (d >= 0) {
			char a[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &g->dests[d].addr.v4, a, sizeof(a));
			cr_expect_str_eq(jstr(o, "verdict", NULL), "scheduler");
			cr_expect_str_eq(jstr(o, "server", "addr"), a);
			cr_expect_str_eq(jstr(sc, "server", "addr"), a);
			cr_expect_str_eq(bs, a, "%s: the bucket holds %s, the pick is %s", c, bs, a);
			picks++;
		} else {
			/* the bucket of a quiesced server: sh without fallback has no server */
			cr_expect_str_eq(bs, "198.19.0.13");
			cr_expect_str_eq(jstr(o, "verdict", NULL), "no server");
			cr_expect(json_is_null(json_object_get(o, "server")));
			seen_quiesced_bucket++;
		}
		const json_t *servers = json_object_get(o, "servers");
		cr_assert_eq(json_array_size(servers), 3);
		for (size_t k = 0; k < 3; k++) {
			const json_t *sv = json_array_get(servers, k);
			int zero = strcmp(jstr(sv, "addr", NULL), "198.19.0.13") == 0;
			cr_expect_eq(json_is_true(json_object_get(sv, "available")), !zero);
			cr_expect_str_eq(jstr(sv, "health", NULL), "unchecked");
		}
		json_decref(o);
	}
	cr_expect_gt(picks, 0);
	cr_expect_gt(seen_quiesced_bucket, 0, "some client should hash to the quiesced server");
	free(g);
	xvs_ctl_model_free(m);
}

static struct xvs_conn_dump_entry entry(int svc, const char *c, uint16_t cport, const char *v,
					uint16_t vport, const char *d)
{
	struct xvs_conn_dump_entry e = { .af = XVS_AF_INET, .proto = XVS_PROTO_TCP, .state = 1,
					 .svc = (uint16_t)svc, .expire = 100, .cport = htons(cport),
					 .vport = htons(vport), .dport = htons(80) };

	e.caddr.v4 = ip4(c);
	e.vaddr.v4 = ip4(v);
	e.daddr.v4 = ip4(d);
	return e;
}

/* A connection with the traced port wins; a new port of the client meets the template of
 * its /24; another client's template does not count. */
Test(ctl_trace, connections_and_templates)
{
	struct xvs_ctl_model *m = model();
	struct xvs_gen *g = build(m);
	struct xvs_ctl_trace_req r = req(XVS_PROTO_TCP, "198.18.0.101", 443, "203.0.113.77", 40000);
	const char *via;
	struct xvs_ctl_trace_found f = {0};

	f.svc = xvs_ctl_trace_service(g, &r, &via);
	cr_assert_geq(f.svc, 0);
	f.persistent = true;
	f.tpl_caddr.v4 = ip4("203.0.113.0");
	struct xvs_conn_dump_entry page[] = {
		entry(f.svc, "203.0.113.77", 40001, "198.18.0.101", 443, "198.19.0.21"),
		entry(f.svc, "203.0.113.78", 40000, "198.18.0.101", 443, "198.19.0.21"),
		entry(f.svc, "198.51.100.0", 0, "198.18.0.101", 0, "198.19.0.22"),  /* another net */
		entry(f.svc, "203.0.113.0", 0, "198.18.0.101", 0, "198.19.0.21"),   /* its template */
		entry(f.svc, "203.0.113.77", 40000, "198.18.0.101", 444, "198.19.0.21"),
	};
	xvs_ctl_trace_match(&r, &f, page, 5, 1);
	cr_expect_eq(f.nb_conns, 0);
	cr_assert(f.has_tpl);
	cr_expect_eq(f.tpl_worker, 1);
	cr_expect_eq(f.tpl.daddr.v4, ip4("198.19.0.21"));
	json_t *o = xvs_ctl_trace_answer(m, g, NULL, &r, &f, via);
	cr_assert_not_null(o);
	cr_expect_str_eq(jstr(o, "verdict", NULL), "template");
	cr_expect_str_eq(jstr(o, "template", "client"), "203.0.113.0");
	cr_expect_str_eq(jstr(o, "server", "addr"), "198.19.0.21");
	cr_expect_str_eq(jstr(o, "scheduler", "scope"), "per-worker");
	json_decref(o);

	struct xvs_conn_dump_entry mine = entry(f.svc, "203.0.113.77", 40000, "198.18.0.101", 443,
						"198.19.0.21");
	xvs_ctl_trace_match(&r, &f, &mine, 1, 0);
	cr_assert_eq(f.nb_conns, 1);
	cr_expect_eq(f.conn_worker[0], 0);
	o = xvs_ctl_trace_answer(m, g, NULL, &r, &f, via);
	cr_assert_not_null(o);
	cr_expect_str_eq(jstr(o, "verdict", NULL), "connection");
	cr_expect_str_eq(jstr(json_array_get(json_object_get(o, "connections"), 0), "state", NULL),
			 "ESTABLISHED");
	json_decref(o);

	/* without a client port every connection of the client matches, but only the template
	 * and the scheduler speak for a new one */
	struct xvs_ctl_trace_found f2 = f;
	f2.nb_conns = 0;
	r.cport = 0;
	xvs_ctl_trace_match(&r, &f2, page, 5, 0);
	cr_expect_eq(f2.nb_conns, 1); /* 40001 (40000 to port 444 is another service's) */
	o = xvs_ctl_trace_answer(m, g, NULL, &r, &f2, via);
	cr_expect_str_eq(jstr(o, "verdict", NULL), "template");
	json_decref(o);
	free(g);
	xvs_ctl_model_free(m);
}
