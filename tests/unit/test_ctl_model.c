/*
 * Unit tests of xvs-control's logic: the model's ops and their errnos, transactions, the
 * trash, generation building, counters, the state file and publication into a region.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_json.h"
#include "ctl_model.h"
#include "ctl_persist.h"
#include "ctl_publish.h"
#include "xvs/gen.h"
#include "xvs/sched.h"

#define SVC80 "\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.100\",\"port\":80}"

/* ---- helpers ------------------------------------------------------------------------- */

/* Parse an op list in the API's JSON and apply it as one transaction. */
static int run(struct xvs_ctl_model *m, const char *json, struct xvs_ctl_err *err)
{
	struct xvs_ctl_op *ops;
	unsigned nb;
	int rc = xvs_ctl_json_parse_ops(json, strlen(json), &ops, &nb, err);
	if (rc)
		return rc;
	rc = xvs_ctl_model_apply(m, ops, nb, err);
	xvs_ctl_ops_free(ops, nb);
	return rc;
}

static void run_ok(struct xvs_ctl_model *m, const char *json)
{
	struct xvs_ctl_err err;
	int rc = run(m, json, &err);
	cr_assert_eq(rc, 0, "%s: %s", json, err.msg);
}

static void svc_key(struct xvs_ctl_svc_cfg *k, const char *addr, uint16_t port)
{
	xvs_ctl_svc_cfg_default(k);
	inet_pton(AF_INET, addr, &k->addr.v4);
	k->port = port;
}

static int svc_slot(const struct xvs_ctl_model *m, const char *addr, uint16_t port)
{
	struct xvs_ctl_svc_cfg k;
	svc_key(&k, addr, port);
	return xvs_ctl_model_find_svc(m, &k);
}

static int dest_slot(const struct xvs_ctl_model *m, int svc, const char *addr, uint16_t port)
{
	struct xvs_ctl_dest_cfg k;
	xvs_ctl_dest_cfg_default(&k);
	inet_pton(AF_INET, addr, &k.addr.v4);
	k.port = port;
	return svc < 0 ? -1 : xvs_ctl_model_find_dest(m, (unsigned)svc, &k);
}

/* One service 198.18.0.100:80 (rr) with one destination 10.0.0.1:80. */
static struct xvs_ctl_model *base_model(const struct xvs_shm *shm)
{
	struct xvs_ctl_model *m = xvs_ctl_model_new(shm);
	cr_assert_not_null(m);
	run_ok(m, "{\"ops\":[{\"op\":\"add-service\",\"service\":{\"proto\":\"tcp\","
		  "\"addr\":\"198.18.0.100\",\"port\":80,\"sched\":\"rr\"}},"
		  "{\"op\":\"add-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.1\",\"port\":80}}]}");
	return m;
}

static struct xvs_gen *build(const struct xvs_ctl_model *m)
{
	struct xvs_gen *g = malloc(sizeof(*g));
	char msg[256] = "";
	cr_assert_not_null(g);
	cr_assert_eq(xvs_ctl_build_gen(m, g, msg, sizeof(msg)), 0, "%s", msg);
	return g;
}

static char tmpdir[64];

static void make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/xvs-ctl-test.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	cr_expect_eq(system(cmd), 0);
}

static void open_shm(struct xvs_shm *shm)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/shm", tmpdir);
	cr_assert_eq(xvs_shm_open(shm, path, 0), 0);
}

/* Pretend a dataplane is attached: this process, fresh heartbeat. */
static void fake_alive(struct xvs_shm *shm)
{
	atomic_store(&shm->hdr->dp_pid, (uint64_t)getpid());
	atomic_store(&shm->hdr->dp_heartbeat_ns, xvs_now_ns());
}

/* ---- errnos -------------------------------------------------------------------------- */

struct err_case {
	const char *ops;
	int err;
};

static const struct err_case err_cases[] = {
	/* services */
	{"{\"op\":\"add-service\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.100\",\"port\":80,\"sched\":\"wrr\"}}", EEXIST},
	{"{\"op\":\"add-service\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.1\",\"port\":80,\"sched\":\"rrr\"}}", ENOENT},
	{"{\"op\":\"add-service\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.1\",\"port\":80,\"sched\":\"bogus\"}}", ENOENT},
	{"{\"op\":\"add-service\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.1\",\"port\":0,\"sched\":\"rr\"}}", EINVAL},
	{"{\"op\":\"add-service\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.1\",\"port\":80,\"sched\":\"rr\",\"persistent\":2678401}}", EINVAL},
	{"{\"op\":\"add-service\",\"service\":{\"proto\":\"tcp\",\"addr\":\"ff02::1\",\"port\":80,\"sched\":\"rr\"}}", EINVAL},
	{"{\"op\":\"add-dest\"," SVC80 ",\"dest\":{\"addr\":\"2001:db8::2\",\"port\":80,\"fwd\":\"masq\"}}", EAFNOSUPPORT},
	{"{\"op\":\"add-service\",\"service\":{\"proto\":\"icmp\",\"addr\":\"198.18.0.1\",\"port\":80,\"sched\":\"rr\"}}", EINVAL},
	{"{\"op\":\"add-service\",\"service\":{\"proto\":\"udp\",\"addr\":\"224.0.0.1\",\"port\":80,\"sched\":\"rr\"}}", EINVAL},
	{"{\"op\":\"add-service\",\"service\":{\"proto\":\"udp\",\"addr\":\"255.255.255.255\",\"port\":80,\"sched\":\"rr\"}}", EINVAL},
	{"{\"op\":\"add-service\",\"service\":{\"proto\":\"udp\",\"addr\":\"0.0.0.0\",\"port\":80,\"sched\":\"rr\"}}", EINVAL},
	{"{\"op\":\"add-service\",\"service\":{\"proto\":\"udp\",\"addr\":\"198.18.0.1\",\"port\":53,\"sched\":\"rr\",\"flags\":[\"bogus\"]}}", EINVAL},
	{"{\"op\":\"add-service\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.1\",\"port\":\"80\",\"sched\":\"rr\"}}", EINVAL},
	{"{\"op\":\"add-service\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.1\",\"port\":65536,\"sched\":\"rr\"}}", EINVAL},
	{"{\"op\":\"add-service\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.1\",\"port\":80,\"colour\":\"red\"}}", EINVAL},
	{"{\"op\":\"add-service\",\"service\":{\"proto\":\"tcp\",\"addr\":\"not-an-ip\",\"port\":80}}", EINVAL},
	{"{\"op\":\"add-service\"}", EINVAL},
	{"{\"op\":\"edit-service\",\"service\":{\"proto\":\"udp\",\"addr\":\"198.18.0.100\",\"port\":80,\"sched\":\"rr\"}}", ESRCH},
	{"{\"op\":\"edit-service\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.100\",\"port\":80,\"sched\":\"SH\"}}", ENOENT},
	{"{\"op\":\"delete-service\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.100\",\"port\":81}}", ESRCH},
	{"{\"op\":\"frobnicate\"}", EINVAL},
	/* destinations */
	{"{\"op\":\"add-dest\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.9\",\"port\":80},\"dest\":{\"addr\":\"10.0.0.2\",\"port\":80}}", ESRCH},
	{"{\"op\":\"add-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.1\",\"port\":80}}", EEXIST},
	{"{\"op\":\"add-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.2\",\"port\":80,\"weight\":65536}}", EINVAL},
	{"{\"op\":\"add-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.2\",\"port\":80,\"weight\":-1}}", EINVAL},
	{"{\"op\":\"add-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.2\",\"port\":80,\"u_threshold\":-1}}", EINVAL},
	{"{\"op\":\"add-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.2\",\"port\":80,\"l_threshold\":5}}", ERANGE},
	{"{\"op\":\"add-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.2\",\"port\":80,\"fwd\":\"tunnel\",\"tun_type\":\"gre\"}}", EOPNOTSUPP},
	{"{\"op\":\"add-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.2\",\"port\":80,\"fwd\":\"tunnel\",\"tun_type\":\"gue\",\"tun_port\":6080,\"tun_csum\":\"remcsum\"}}", EOPNOTSUPP},
	{"{\"op\":\"add-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.2\",\"port\":80,\"fwd\":\"tunnel\",\"tun_type\":\"gue\"}}", EINVAL},
	{"{\"op\":\"add-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.2\",\"port\":80,\"fwd\":\"tunnel\",\"tun_type\":\"vxlan\"}}", EINVAL},
	{"{\"op\":\"add-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.2\",\"port\":80,\"tun_port\":65536}}", EINVAL},
	{"{\"op\":\"add-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.2\",\"port\":80,\"weight\":1.5}}", EINVAL},
	{"{\"op\":\"add-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.2\",\"port\":80,\"weight\":\"1\"}}", EINVAL},
	{"{\"op\":\"add-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.2\",\"port\":80,\"fwd\":\"nat\"}}", EINVAL},
	{"{\"op\":\"add-dest\"," SVC80 ",\"dest\":{\"addr\":\"2001:db8::2\",\"port\":80}}", EAFNOSUPPORT},
	{"{\"op\":\"add-dest\"," SVC80 ",\"dest\":{\"addr\":\"0.0.0.0\",\"port\":80}}", EINVAL},
	{"{\"op\":\"add-dest\"," SVC80 "}", EINVAL},
	{"{\"op\":\"edit-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.2\",\"port\":80}}", ENOENT},
	{"{\"op\":\"edit-dest\",\"service\":{\"proto\":\"udp\",\"addr\":\"198.18.0.100\",\"port\":80},\"dest\":{\"addr\":\"10.0.0.1\",\"port\":80}}", ESRCH},
	{"{\"op\":\"delete-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.1\",\"port\":81}}", ENOENT},
	{"{\"op\":\"delete-dest\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.99\",\"port\":80},\"dest\":{\"addr\":\"10.0.0.1\",\"port\":80}}", ESRCH},
	/* others */
	{"{\"op\":\"set-timeouts\",\"tcp\":2678401}", EINVAL},
	{"{\"op\":\"set-timeouts\",\"udp\":-1}", EINVAL},
	{"{\"op\":\"set-timeouts\",\"tcp\":\"10\"}", EINVAL},
	{"{\"op\":\"zero\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.100\",\"port\":8080}}", ESRCH},
};

/* Persistence (-p, -M, any mask as the kernel takes it), port-0 services and real servers. */
/*
 * A refusal quotes the request, whose bytes need not be UTF-8 (here jansson's "invalid
 * escape near '...'"): the error document still renders, with '?' for them (found by
 * fuzz_api_json: the API closed the connection without a reply).
 */
Test(ctl_json, error_quoting_bytes_that_are_not_utf8)
{
	static const char body[] = "{\"ops\": [{\"op\": \"add-service\", \"ne\\\xe4\xb2\x86\": 1}]}";
	struct xvs_ctl_op *ops = NULL;
	unsigned nb = 0;
	struct xvs_ctl_err err;
	cr_assert_eq(xvs_ctl_json_parse_ops(body, sizeof(body) - 1, &ops, &nb, &err), -EINVAL);
	cr_expect_null(ops);
	json_t *doc = xvs_ctl_json_error(err.err, err.index, err.msg);
	cr_assert_not_null(doc, "no error document for: %s", err.msg);
	cr_expect_str_eq(json_string_value(json_object_get(doc, "error")),
			 "bad JSON at line 1 column 36: invalid escape near '\"ne\\?'");
	cr_expect_eq(json_integer_value(json_object_get(doc, "errno")), EINVAL);
	json_decref(doc);
}

Test(ctl_model, persistent_services)
{
	struct xvs_ctl_model *m = base_model(NULL);
	run_ok(m, "{\"ops\":[{\"op\":\"add-service\",\"service\":{\"proto\":\"tcp\","
		  "\"addr\":\"198.18.0.1\",\"port\":0,\"sched\":\"rr\",\"persistent\":300,"
		  "\"netmask\":\"255.0.255.0\"}},"
		  "{\"op\":\"add-dest\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.1\",\"port\":0},"
		  "\"dest\":{\"addr\":\"10.0.0.7\",\"port\":0,\"fwd\":\"masq\"}}]}");
	int slot = -1;
	for (unsigned i = 0; i < XVS_MAX_SVCS; i++)
		if (m->svcs[i].state == XVS_SLOT_USED && m->svcs[i].cfg.port == 0)
			slot = (int)i;
	cr_assert_geq(slot, 0);
	cr_assert_eq(m->svcs[slot].cfg.persistent, 300);
	cr_assert_eq(m->svcs[slot].cfg.netmask.v4, htonl(0xff00ff00u));
	xvs_ctl_model_free(m);
}

Test(ctl_model, op_errnos)
{
	struct xvs_ctl_model *m = base_model(NULL);
	struct xvs_ctl_model *before = xvs_ctl_model_dup(m);
	for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		char json[1024];
		struct xvs_ctl_err err;
		snprintf(json, sizeof(json), "{\"ops\":[%s]}", err_cases[i].ops);
		int rc = run(m, json, &err);
		cr_expect_eq(rc, -err_cases[i].err, "%s: got %d (%s), want %d", err_cases[i].ops, rc,
			     err.msg, -err_cases[i].err);
		cr_expect_eq(err.index, 0, "%s: index %d", err_cases[i].ops, err.index);
		cr_expect_neq(err.msg[0], '\0', "%s: no message", err_cases[i].ops);
		cr_expect_eq(memcmp(m, before, sizeof(*m)), 0, "%s changed the model", err_cases[i].ops);
	}
	xvs_ctl_model_free(before);
	xvs_ctl_model_free(m);
}

Test(ctl_model, failing_op_in_a_list_changes_nothing)
{
	struct xvs_ctl_model *m = base_model(NULL);
	struct xvs_ctl_model *before = xvs_ctl_model_dup(m);
	struct xvs_ctl_err err;
	int rc = run(m, "{\"ops\":[{\"op\":\"add-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.2\",\"port\":80}},"
			"{\"op\":\"set-timeouts\",\"tcp\":60},"
			"{\"op\":\"delete-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.1\",\"port\":80}},"
			"{\"op\":\"delete-service\",\"service\":{\"proto\":\"udp\",\"addr\":\"1.2.3.4\",\"port\":53}},"
			"{\"op\":\"clear\"}]}", &err);
	cr_assert_eq(rc, -ESRCH);
	cr_expect_eq(err.err, ESRCH);
	cr_expect_eq(err.index, 3);
	cr_expect_eq(memcmp(m, before, sizeof(*m)), 0);
	cr_expect_eq(m->timeouts.tcp, 900);
	cr_expect_eq(dest_slot(m, svc_slot(m, "198.18.0.100", 80), "10.0.0.2", 80), -1);
	xvs_ctl_model_free(before);
	xvs_ctl_model_free(m);
}

Test(ctl_model, edit_resets_omitted_fields)
{
	struct xvs_ctl_model *m = base_model(NULL);
	run_ok(m, "{\"ops\":[{\"op\":\"edit-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.1\",\"port\":80,"
		  "\"fwd\":\"masq\",\"weight\":7,\"u_threshold\":100,\"l_threshold\":50}}]}");
	int s = svc_slot(m, "198.18.0.100", 80), d = dest_slot(m, s, "10.0.0.1", 80);
	cr_assert_geq(d, 0);
	cr_expect_eq(m->dests[d].cfg.weight, 7);
	cr_expect_eq(m->dests[d].cfg.fwd, XVS_FWD_MASQ);
	uint32_t epoch = m->svcs[s].sched_epoch;

	run_ok(m, "{\"ops\":[{\"op\":\"edit-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.1\",\"port\":80}}]}");
	cr_expect_eq(dest_slot(m, s, "10.0.0.1", 80), d, "edit keeps the slot");
	cr_expect_eq(m->dests[d].cfg.weight, 1);
	cr_expect_eq(m->dests[d].cfg.fwd, XVS_FWD_DROUTE);
	cr_expect_eq(m->dests[d].cfg.u_thresh, 0);
	cr_expect_eq(m->dests[d].cfg.l_thresh, 0);
	cr_expect_neq(m->svcs[s].sched_epoch, epoch, "a weight change bumps the epoch");

	run_ok(m, "{\"ops\":[{\"op\":\"edit-service\",\"service\":{\"proto\":\"tcp\","
		  "\"addr\":\"198.18.0.100\",\"port\":80,\"sched\":\"wrr\"}}]}");
	cr_expect_str_eq(m->svcs[s].cfg.sched, "wrr");
	cr_expect_eq(m->svcs[s].sched_id, XVS_SCHED_WRR);
	cr_expect_eq(svc_slot(m, "198.18.0.100", 80), s);
	xvs_ctl_model_free(m);
}

Test(ctl_model, set_timeouts_zero_keeps_value)
{
	struct xvs_ctl_model *m = base_model(NULL);
	run_ok(m, "{\"ops\":[{\"op\":\"set-timeouts\",\"tcp\":0,\"tcpfin\":30,\"udp\":0}]}");
	cr_expect_eq(m->timeouts.tcp, 900);
	cr_expect_eq(m->timeouts.tcpfin, 30);
	cr_expect_eq(m->timeouts.udp, 300);
	xvs_ctl_model_free(m);
}

/* ---- generations --------------------------------------------------------------------- */

Test(ctl_model, generation_is_valid_and_complete)
{
	struct xvs_ctl_model *m = base_model(NULL);
	run_ok(m, "{\"ops\":[{\"op\":\"add-service\",\"service\":{\"proto\":\"udp\",\"addr\":\"198.18.0.100\","
		  "\"port\":53,\"sched\":\"wrr\"}},"
		  "{\"op\":\"add-service\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.101\",\"port\":443,\"sched\":\"rr\"}},"
		  "{\"op\":\"add-dest\",\"service\":{\"proto\":\"udp\",\"addr\":\"198.18.0.100\",\"port\":53},"
		  "\"dest\":{\"addr\":\"10.0.1.1\",\"port\":53,\"weight\":4,\"fwd\":\"masq\"}},"
		  "{\"op\":\"add-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.2\",\"port\":8080}},"
		  "{\"op\":\"add-dest\",\"service\":{\"proto\":\"udp\",\"addr\":\"198.18.0.100\",\"port\":53},"
		  "\"dest\":{\"addr\":\"10.0.1.2\",\"port\":53,\"weight\":6}},"
		  "{\"op\":\"add-dest\",\"service\":{\"proto\":\"udp\",\"addr\":\"198.18.0.100\",\"port\":53},"
		  "\"dest\":{\"addr\":\"10.0.1.3\",\"port\":53,\"weight\":0}}]}");
	struct xvs_gen *g = build(m);
	char why[160] = "";
	g->gen = 7;
	xvs_gen_seal(g);
	cr_assert_eq(xvs_gen_validate(g, why, sizeof(why)), 0, "%s", why);

	const struct {
		uint8_t proto;
		const char *addr;
		uint16_t port;
		unsigned nb_dests;
	} want[] = {{XVS_PROTO_TCP, "198.18.0.100", 80, 2}, {XVS_PROTO_UDP, "198.18.0.100", 53, 3},
		    {XVS_PROTO_TCP, "198.18.0.101", 443, 0}};
	for (unsigned i = 0; i < 3; i++) {
		union xvs_ip a = {0};
		inet_pton(AF_INET, want[i].addr, &a.v4);
		int s = xvs_gen_vip_lookup(g, want[i].proto, &a, htons(want[i].port));
		struct xvs_ctl_svc_cfg k;
		svc_key(&k, want[i].addr, want[i].port);
		k.proto = want[i].proto;
		cr_assert_eq(s, xvs_ctl_model_find_svc(m, &k), "%s:%u", want[i].addr, want[i].port);
		cr_expect_eq(g->svcs[s].nb_dests, want[i].nb_dests);
	}
	union xvs_ip other = {0};
	inet_pton(AF_INET, "198.18.0.100", &other.v4);
	cr_expect_eq(xvs_gen_vip_lookup(g, XVS_PROTO_UDP, &other, htons(80)), -1);

	struct xvs_ctl_svc_cfg k;
	svc_key(&k, "198.18.0.100", 53);
	k.proto = XVS_PROTO_UDP;
	const struct xvs_svc *u = &g->svcs[xvs_ctl_model_find_svc(m, &k)];
	cr_expect_eq(u->sched, XVS_SCHED_WRR);
	cr_expect_eq(u->sd.i32[0], 6);
	cr_expect_eq(u->sd.i32[1], 2);
	const char *order[] = {"10.0.1.3", "10.0.1.2", "10.0.1.1"}; /* IPVS's: newest first */
	for (unsigned i = 0; i < 3; i++) {
		const struct xvs_dest *d = &g->dests[g->svc_dests[u->dest_first + i]];
		uint32_t a;
		inet_pton(AF_INET, order[i], &a);
		cr_expect_eq(d->addr.v4, a, "newest first at %u", i);
		cr_expect_eq(d->port_be, htons(53));
		cr_expect_eq(d->state, XVS_SLOT_USED);
	}
	cr_expect_eq(g->dests[g->svc_dests[u->dest_first + 2]].fwd, XVS_FWD_MASQ);
	cr_expect_eq(g->timeouts.tcp, 900);
	cr_expect_eq(g->timeouts.udp, 300);
	free(g);
	xvs_ctl_model_free(m);
}

Test(ctl_model, epoch_changes_with_destinations)
{
	struct xvs_ctl_model *m = base_model(NULL);
	int s = svc_slot(m, "198.18.0.100", 80);
	uint32_t e0 = m->svcs[s].sched_epoch;
	run_ok(m, "{\"ops\":[{\"op\":\"add-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.2\",\"port\":80}}]}");
	uint32_t e1 = m->svcs[s].sched_epoch;
	run_ok(m, "{\"ops\":[{\"op\":\"delete-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.2\",\"port\":80}}]}");
	uint32_t e2 = m->svcs[s].sched_epoch;
	cr_expect(e0 != e1 && e1 != e2 && e0 != e2);
	run_ok(m, "{\"ops\":[{\"op\":\"set-timeouts\",\"tcp\":100}]}");
	cr_expect_eq(m->svcs[s].sched_epoch, e2, "unrelated ops keep the epoch");
	struct xvs_gen *g = build(m);
	cr_expect_eq(g->svcs[s].sched_epoch, e2);
	free(g);
	xvs_ctl_model_free(m);
}

/* ---- schedulers ----------------------------------------------------------------------- */

#define ADD_DEST80(a, w) "{\"op\":\"add-dest\"," SVC80 ",\"dest\":{\"addr\":\"" a "\",\"port\":80," \
			 "\"weight\":" #w "}}"
#define DEL_DEST80(a)    "{\"op\":\"delete-dest\"," SVC80 ",\"dest\":{\"addr\":\"" a "\",\"port\":80}}"

static uint32_t ip4(const char *a)
{
	uint32_t v;
	inet_pton(AF_INET, a, &v);
	return v;
}

/* The service's list in the generation, as the last octets of the addresses ("321"). */
static void list_of(const struct xvs_gen *g, int s, char *out)
{
	unsigned i;
	for (i = 0; i < g->svcs[s].nb_dests; i++)
		out[i] = (char)('0' + (ntohl(g->dests[g->svc_dests[g->svcs[s].dest_first + i]].addr.v4) & 0xff));
	out[i] = '\0';
}

/* IPVS's order: a new server goes to the head; -d then -a moves it to the front. */
Test(ctl_model, ipvs_order)
{
	struct xvs_ctl_model *m = base_model(NULL);
	run_ok(m, "{\"ops\":[" ADD_DEST80("10.0.0.2", 1) "," ADD_DEST80("10.0.0.3", 1) "]}");
	int s = svc_slot(m, "198.18.0.100", 80);
	char list[8];
	struct xvs_gen *g = build(m);
	list_of(g, s, list);
	cr_expect_str_eq(list, "321");
	/* rr on the fresh service visits the newest first */
	struct xvs_sched_state st = {0};
	const struct xvs_sched_key key = {0};
	int d = xvs_sched_all[g->svcs[s].sched]->pick(g, &g->svcs[s], &st, &key);
	cr_expect_eq(g->dests[d].addr.v4, ip4("10.0.0.3"));
	free(g);
	run_ok(m, "{\"ops\":[" DEL_DEST80("10.0.0.2") "]}");
	run_ok(m, "{\"ops\":[" ADD_DEST80("10.0.0.2", 1) "]}");
	g = build(m);
	list_of(g, s, list);
	cr_expect_str_eq(list, "231");
	free(g);
	/* the API lists them in that order too (xvsadm -L --nosort) */
	json_t *svcs = xvs_ctl_json_services(m, NULL, NULL);
	json_t *dests = json_object_get(json_array_get(json_object_get(svcs, "services"), 0), "dests");
	cr_assert_eq(json_array_size(dests), 3);
	const char *want[] = {"10.0.0.2", "10.0.0.3", "10.0.0.1"};
	for (unsigned i = 0; i < 3; i++)
		cr_expect_str_eq(json_string_value(json_object_get(json_array_get(dests, i), "addr")),
				 want[i]);
	json_decref(svcs);
	xvs_ctl_model_free(m);
}

/* IPVS's last_weight: the weight a server was added with, then its last weight above 0. */
Test(ctl_model, last_weight)
{
	struct xvs_ctl_model *m = base_model(NULL);
	run_ok(m, "{\"ops\":[" ADD_DEST80("10.0.0.2", 0) "]}");
	int s = svc_slot(m, "198.18.0.100", 80), d = dest_slot(m, s, "10.0.0.2", 80);
	cr_expect_eq(m->dests[d].last_weight, 0);
	run_ok(m, "{\"ops\":[{\"op\":\"edit-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.2\",\"port\":80,"
		  "\"weight\":5}}]}");
	cr_expect_eq(m->dests[d].last_weight, 5);
	run_ok(m, "{\"ops\":[{\"op\":\"edit-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.2\",\"port\":80,"
		  "\"weight\":0}}]}");
	cr_expect_eq(m->dests[d].cfg.weight, 0);
	cr_expect_eq(m->dests[d].last_weight, 5, "a weight of 0 keeps the last one");
	struct xvs_gen *g = build(m);
	cr_expect_eq(g->dests[d].weight, 0);
	cr_expect_eq(g->dests[d].last_weight, 5);
	free(g);
	/* added again from the trash: the weight it comes with */
	run_ok(m, "{\"ops\":[" DEL_DEST80("10.0.0.2") "," ADD_DEST80("10.0.0.2", 0) "]}");
	cr_expect_eq(dest_slot(m, s, "10.0.0.2", 80), d);
	cr_expect_eq(m->dests[d].last_weight, 0);
	xvs_ctl_model_free(m);
}

/* The scheduler's state is dropped (bind) on a new service or another scheduler only. */
Test(ctl_model, sched_bind)
{
	struct xvs_ctl_model *m = base_model(NULL);
	int s = svc_slot(m, "198.18.0.100", 80);
	uint32_t b0 = m->svcs[s].sched_bind, e0 = m->svcs[s].sched_epoch;
	cr_expect_neq(b0, 0);
	run_ok(m, "{\"ops\":[{\"op\":\"edit-service\",\"service\":{\"proto\":\"tcp\","
		  "\"addr\":\"198.18.0.100\",\"port\":80,\"sched\":\"rr\"}}]}");
	cr_expect_eq(m->svcs[s].sched_bind, b0, "same scheduler: kept");
	cr_expect_neq(m->svcs[s].sched_epoch, e0);
	run_ok(m, "{\"ops\":[" ADD_DEST80("10.0.0.2", 3) "]}");
	cr_expect_eq(m->svcs[s].sched_bind, b0);
	run_ok(m, "{\"ops\":[{\"op\":\"edit-service\",\"service\":{\"proto\":\"tcp\","
		  "\"addr\":\"198.18.0.100\",\"port\":80,\"sched\":\"wrr\"}}]}");
	uint32_t b1 = m->svcs[s].sched_bind;
	cr_expect_neq(b1, b0, "another scheduler: bound afresh");
	run_ok(m, "{\"ops\":[{\"op\":\"delete-service\"," SVC80 "},{\"op\":\"add-service\",\"service\":"
		  "{\"proto\":\"tcp\",\"addr\":\"198.18.0.100\",\"port\":80,\"sched\":\"wrr\"}}]}");
	cr_expect_neq(m->svcs[svc_slot(m, "198.18.0.100", 80)].sched_bind, b1, "a new service");
	struct xvs_gen *g = build(m);
	cr_expect_eq(g->svcs[svc_slot(m, "198.18.0.100", 80)].sched_bind,
		     m->svcs[svc_slot(m, "198.18.0.100", 80)].sched_bind);
	free(g);
	xvs_ctl_model_free(m);
}

/* Every IPVS scheduler is accepted, with its -b flags; unknown names give ENOENT with
 * ipvsadm's text. */
Test(ctl_model, schedulers_and_flags)
{
	struct xvs_ctl_model *m = xvs_ctl_model_new(NULL);
	for (unsigned i = 1; i < XVS_SCHED_MAX; i++) {
		char json[512];
		snprintf(json, sizeof(json), "{\"ops\":[{\"op\":\"add-service\",\"service\":{\"proto\":"
			 "\"tcp\",\"addr\":\"198.18.1.%u\",\"port\":80,\"sched\":\"%s\",\"flags\":"
			 "[\"sh-fallback\",\"mh-port\"]}},{\"op\":\"add-dest\",\"service\":{\"proto\":"
			 "\"tcp\",\"addr\":\"198.18.1.%u\",\"port\":80},\"dest\":{\"addr\":\"10.1.0.%u\","
			 "\"port\":80,\"fwd\":\"masq\"}}]}", i, xvs_sched_all[i]->name, i, i);
		run_ok(m, json);
	}
	struct xvs_gen *g = build(m);
	for (unsigned i = 1; i < XVS_SCHED_MAX; i++) {
		struct xvs_ctl_svc_cfg k;
		char a[32];
		snprintf(a, sizeof(a), "198.18.1.%u", i);
		svc_key(&k, a, 80);
		const struct xvs_svc *s = &g->svcs[xvs_ctl_model_find_svc(m, &k)];
		cr_expect_eq(s->sched, i);
		cr_expect_eq(s->flags, XVS_SVC_F_SCHED1 | XVS_SVC_F_SCHED2);
		/* one server, available: every scheduler picks it */
		struct xvs_sched_state st = {0};
		struct xvs_sched_key key = {0};
		key.daddr = s->addr;
		int d = xvs_sched_all[i]->pick(g, s, &st, &key);
		cr_assert_geq(d, 0, "%s", xvs_sched_all[i]->name);
		cr_expect_eq(g->dests[d].addr.v4, ip4("10.1.0.0") | htonl(i));
	}
	/* two sh/dh tables of 256 and one Maglev table */
	cr_expect_eq(g->nb_sched_tab, 256 + 256 + XVS_MH_SIZE_DEFAULT);
	free(g);

	struct xvs_ctl_err err;
	cr_assert_eq(run(m, "{\"ops\":[{\"op\":\"add-service\",\"service\":{\"proto\":\"tcp\","
			    "\"addr\":\"198.18.2.1\",\"port\":80,\"sched\":\"maglev\"}}]}", &err), -ENOENT);
	cr_expect_not_null(strstr(err.msg, "Scheduler or persistence engine not found"), "%s", err.msg);
	cr_expect_not_null(strstr(err.msg, "lblcr"), "the message names what xvs has: %s", err.msg);
	xvs_ctl_model_free(m);
}

/* Scheduler tables share a fixed pool: what does not fit is refused with ENOSPC at its op. */
Test(ctl_model, table_pool_full)
{
	struct xvs_ctl_model *m = xvs_ctl_model_new(NULL);
	m->sched_params.mh_size = 655373;
	char json[1024];
	struct xvs_ctl_err err;
	for (unsigned i = 1; i <= 3; i++) {
		snprintf(json, sizeof(json), "{\"ops\":[{\"op\":\"add-service\",\"service\":{\"proto\":"
			 "\"tcp\",\"addr\":\"198.18.1.%u\",\"port\":80,\"sched\":\"mh\"}}]}", i);
		run_ok(m, json);
	}
	struct xvs_ctl_model *before = xvs_ctl_model_dup(m);
	snprintf(json, sizeof(json), "{\"ops\":[{\"op\":\"set-timeouts\",\"tcp\":60},{\"op\":"
		 "\"add-service\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.1.4\",\"port\":80,"
		 "\"sched\":\"mh\"}}]}");
	cr_assert_eq(run(m, json, &err), -ENOSPC);
	cr_expect_eq(err.index, 1);
	cr_expect_not_null(strstr(err.msg, "no room"), "%s", err.msg);
	cr_expect_eq(memcmp(m, before, sizeof(*m)), 0);
	/* sh fits in what is left; so does turning an mh service into rr and back */
	run_ok(m, "{\"ops\":[{\"op\":\"add-service\",\"service\":{\"proto\":\"tcp\","
		  "\"addr\":\"198.18.1.5\",\"port\":80,\"sched\":\"sh\"}}]}");
	snprintf(json, sizeof(json), "{\"ops\":[{\"op\":\"edit-service\",\"service\":{\"proto\":"
		 "\"tcp\",\"addr\":\"198.18.1.5\",\"port\":80,\"sched\":\"mh\"}}]}");
	cr_assert_eq(run(m, json, &err), -ENOSPC, "edit-service is checked too");
	struct xvs_gen *g = build(m);
	cr_expect_eq(g->nb_sched_tab, 3 * 655373 + 256);
	char why[160] = "";
	g->gen = 1;
	xvs_gen_seal(g);
	cr_expect_eq(xvs_gen_validate(g, why, sizeof(why)), 0, "%s", why);
	free(g);
	xvs_ctl_model_free(before);
	xvs_ctl_model_free(m);
}

/* ---- trash --------------------------------------------------------------------------- */

Test(ctl_model, deleted_dest_comes_back_to_its_slot)
{
	struct xvs_ctl_model *m = base_model(NULL);
	int s = svc_slot(m, "198.18.0.100", 80);
	int d = dest_slot(m, s, "10.0.0.1", 80);
	run_ok(m, "{\"ops\":[{\"op\":\"delete-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.1\",\"port\":80}}]}");
	cr_expect_eq(dest_slot(m, s, "10.0.0.1", 80), -1);
	cr_expect_eq(m->dests[d].state, XVS_SLOT_TRASH);
	struct xvs_gen *g = build(m);
	cr_expect_eq(g->dests[d].state, XVS_SLOT_TRASH);
	cr_expect_eq(g->svcs[s].nb_dests, 0);
	free(g);

	run_ok(m, "{\"ops\":[{\"op\":\"add-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.2\",\"port\":80}}]}");
	cr_expect_neq(dest_slot(m, s, "10.0.0.2", 80), d, "a trashed slot is not given to another server");
	run_ok(m, "{\"ops\":[{\"op\":\"add-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.1\",\"port\":80,\"weight\":5}}]}");
	cr_expect_eq(dest_slot(m, s, "10.0.0.1", 80), d, "the same server gets its slot back");
	g = build(m);
	cr_expect_eq(g->dests[d].state, XVS_SLOT_USED);
	cr_expect_eq(g->dests[d].weight, 5);
	cr_expect_eq(g->svcs[s].nb_dests, 2);
	cr_expect_eq(g->svc_dests[g->svcs[s].dest_first], d, "revived server goes first, as in IPVS");
	free(g);
	xvs_ctl_model_free(m);
}

Test(ctl_model, deleted_service_keeps_slots_for_its_dests)
{
	struct xvs_ctl_model *m = base_model(NULL);
	int s = svc_slot(m, "198.18.0.100", 80);
	int d = dest_slot(m, s, "10.0.0.1", 80);
	run_ok(m, "{\"ops\":[{\"op\":\"delete-service\"," SVC80 "}]}");
	cr_expect_eq(m->dests[d].state, XVS_SLOT_TRASH);
	struct xvs_gen *g = build(m);
	char why[160] = "";
	xvs_gen_seal(g);
	g->gen = 1;
	xvs_gen_seal(g);
	cr_expect_eq(xvs_gen_validate(g, why, sizeof(why)), 0, "%s", why);
	cr_expect_eq(g->svcs[s].state, XVS_SLOT_FREE);
	cr_expect_eq(g->dests[d].state, XVS_SLOT_TRASH);
	free(g);

	run_ok(m, "{\"ops\":[{\"op\":\"add-service\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.7\",\"port\":80,\"sched\":\"rr\"}}]}");
	cr_expect_neq(svc_slot(m, "198.18.0.7", 80), s);
	run_ok(m, "{\"ops\":[{\"op\":\"add-service\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.100\",\"port\":80,\"sched\":\"wrr\"}},"
		  "{\"op\":\"add-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.1\",\"port\":80}}]}");
	cr_expect_eq(svc_slot(m, "198.18.0.100", 80), s);
	cr_expect_eq(dest_slot(m, s, "10.0.0.1", 80), d);
	xvs_ctl_model_free(m);
}

Test(ctl_model, trash_purged_without_dataplane_after_largest_timeout)
{
	struct xvs_ctl_model *m = base_model(NULL);
	int s = svc_slot(m, "198.18.0.100", 80);
	int d = dest_slot(m, s, "10.0.0.1", 80);
	uint64_t t0 = xvs_now_ns();
	run_ok(m, "{\"ops\":[{\"op\":\"delete-service\"," SVC80 "}]}");
	cr_expect_eq(xvs_ctl_model_purge(m, t0 + 800ULL * 1000000000ULL, false), 0);
	cr_expect_eq(m->dests[d].state, XVS_SLOT_TRASH);
	cr_expect_eq(xvs_ctl_model_purge(m, xvs_now_ns() + 901ULL * 1000000000ULL, false), 1);
	cr_expect_eq(m->dests[d].state, XVS_SLOT_FREE);
	cr_expect_eq(m->svcs[s].state, XVS_SLOT_FREE, "the held service slot is freed with it");
	xvs_ctl_model_free(m);
}

Test(ctl_model, trash_waits_for_connections, .init = make_tmpdir, .fini = remove_tmpdir)
{
	struct xvs_shm shm;
	open_shm(&shm);
	struct xvs_ctl_model *m = base_model(&shm);
	int s = svc_slot(m, "198.18.0.100", 80);
	int d = dest_slot(m, s, "10.0.0.1", 80);
	run_ok(m, "{\"ops\":[{\"op\":\"delete-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.1\",\"port\":80}}]}");
	fake_alive(&shm);
	xvs_shm_stats(&shm, 1)->dest[d].active = 1;
	xvs_shm_stats(&shm, 3)->dest[d].inactive = 2;
	uint64_t later = xvs_now_ns() + 61ULL * 1000000000ULL;
	cr_expect_eq(xvs_ctl_model_purge(m, later, true), 0, "connections keep it");
	xvs_shm_stats(&shm, 1)->dest[d].active = 0;
	xvs_shm_stats(&shm, 3)->dest[d].inactive = 0;
	cr_expect_eq(xvs_ctl_model_purge(m, xvs_now_ns(), true), 0, "not before 60 s");
	cr_expect_eq(xvs_ctl_model_purge(m, later, true), 1);
	cr_expect_eq(m->dests[d].state, XVS_SLOT_FREE);
	cr_expect_eq(m->svcs[s].state, XVS_SLOT_USED);
	xvs_ctl_model_free(m);
	xvs_shm_close(&shm);
}

/* ---- counters ------------------------------------------------------------------------ */

Test(ctl_model, counters_are_sums_minus_baseline, .init = make_tmpdir, .fini = remove_tmpdir)
{
	struct xvs_shm shm;
	open_shm(&shm);
	/* Left over from an earlier server in slot 0. */
	xvs_shm_stats(&shm, 0)->dest[0].conns = 100;
	xvs_shm_stats(&shm, 0)->dest[0].inbytes = 5000;
	struct xvs_ctl_model *m = base_model(&shm);
	int s = svc_slot(m, "198.18.0.100", 80);
	int d = dest_slot(m, s, "10.0.0.1", 80);
	cr_assert_eq(d, 0);
	struct xvs_ctl_stats st;
	xvs_ctl_model_dest_stats(m, d, &st);
	cr_expect_eq(st.c.conns, 0);
	cr_expect_eq(st.c.inbytes, 0);

	xvs_shm_stats(&shm, 0)->dest[0].conns += 3;
	xvs_shm_stats(&shm, 2)->dest[0].conns += 4;
	xvs_shm_stats(&shm, 2)->dest[0].active = 2;
	xvs_shm_stats(&shm, 5)->dest[0].inactive = 1;
	xvs_shm_stats(&shm, 2)->svc[s].inpkts = 9;
	xvs_ctl_model_dest_stats(m, d, &st);
	cr_expect_eq(st.c.conns, 7);
	cr_expect_eq(st.active, 2);
	cr_expect_eq(st.inactive, 1);
	xvs_ctl_model_svc_stats(m, s, &st);
	cr_expect_eq(st.c.inpkts, 9);

	run_ok(m, "{\"ops\":[{\"op\":\"zero\"," SVC80 "}]}");
	xvs_ctl_model_dest_stats(m, d, &st);
	cr_expect_eq(st.c.conns, 0);
	cr_expect_eq(st.active, 2, "zero leaves connection counts alone");
	xvs_ctl_model_svc_stats(m, s, &st);
	cr_expect_eq(st.c.inpkts, 0);

	/* A restarted dataplane counts from zero again: clamp, never wrap. */
	memset(xvs_shm_stats(&shm, 0), 0, sizeof(struct xvs_lcore_stats));
	memset(xvs_shm_stats(&shm, 2), 0, sizeof(struct xvs_lcore_stats));
	xvs_ctl_model_dest_stats(m, d, &st);
	cr_expect_eq(st.c.conns, 0);
	xvs_ctl_model_free(m);
	xvs_shm_close(&shm);
}

/* ---- state file ---------------------------------------------------------------------- */

Test(ctl_model, state_file_round_trip, .init = make_tmpdir, .fini = remove_tmpdir)
{
	struct xvs_ctl_model *m = base_model(NULL);
	/* Move objects off the first slots so that slot restoration is visible. */
	run_ok(m, "{\"ops\":[{\"op\":\"add-service\",\"service\":{\"proto\":\"udp\",\"addr\":\"198.18.0.5\",\"port\":53,\"sched\":\"wrr\"}},"
		  "{\"op\":\"add-dest\",\"service\":{\"proto\":\"udp\",\"addr\":\"198.18.0.5\",\"port\":53},"
		  "\"dest\":{\"addr\":\"10.0.5.1\",\"port\":5353,\"weight\":3,\"fwd\":\"masq\",\"u_threshold\":10,\"l_threshold\":5}},"
		  "{\"op\":\"add-dest\",\"service\":{\"proto\":\"udp\",\"addr\":\"198.18.0.5\",\"port\":53},"
		  "\"dest\":{\"addr\":\"10.0.5.2\",\"port\":5353,\"weight\":4,\"fwd\":\"masq\"}},"
		  "{\"op\":\"edit-dest\",\"service\":{\"proto\":\"udp\",\"addr\":\"198.18.0.5\",\"port\":53},"
		  "\"dest\":{\"addr\":\"10.0.5.2\",\"port\":5353,\"weight\":0,\"fwd\":\"masq\"}},"
		  "{\"op\":\"add-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.2\",\"port\":80}},"
		  "{\"op\":\"delete-dest\"," SVC80 ",\"dest\":{\"addr\":\"10.0.0.1\",\"port\":80}},"
		  "{\"op\":\"delete-service\"," SVC80 "},"
		  "{\"op\":\"add-service\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.6\",\"port\":443,\"sched\":\"rr\"}},"
		  "{\"op\":\"add-dest\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.6\",\"port\":443},"
		  "\"dest\":{\"addr\":\"10.0.6.1\",\"port\":443}},"
		  "{\"op\":\"set-timeouts\",\"tcp\":1000,\"tcpfin\":20,\"udp\":30}]}");
	m->last_gen = 42;
	char path[128], msg[256] = "";
	snprintf(path, sizeof(path), "%s/state/sub/config.json", tmpdir);
	cr_assert_eq(xvs_ctl_persist_save(m, path, msg, sizeof(msg)), 0, "%s", msg);

	struct xvs_ctl_model *l = xvs_ctl_model_new(NULL);
	cr_assert_eq(xvs_ctl_persist_load(l, path, msg, sizeof(msg)), 0, "%s", msg);
	cr_expect_eq(l->last_gen, 42);
	cr_expect_eq(l->timeouts.tcp, 1000);
	cr_expect_eq(l->timeouts.tcpfin, 20);
	cr_expect_eq(l->timeouts.udp, 30);
	cr_assert_eq(l->nb_svc_order, m->nb_svc_order);
	cr_assert_eq(l->nb_dest_order, m->nb_dest_order);
	for (unsigned i = 0; i < m->nb_svc_order; i++) {
		unsigned s = m->svc_order[i];
		cr_expect_eq(l->svc_order[i], s, "service slot kept");
		cr_expect_eq(memcmp(&l->svcs[s].cfg, &m->svcs[s].cfg, sizeof(m->svcs[s].cfg)), 0);
		cr_expect_eq(l->svcs[s].sched_epoch, m->svcs[s].sched_epoch);
		cr_expect_eq(l->svcs[s].sched_bind, m->svcs[s].sched_bind);
	}
	for (unsigned i = 0; i < m->nb_dest_order; i++) {
		unsigned d = m->dest_order[i];
		cr_expect_eq(l->dest_order[i], d, "destination slot kept");
		cr_expect_eq(l->dests[d].svc, m->dests[d].svc);
		cr_expect_eq(memcmp(&l->dests[d].cfg, &m->dests[d].cfg, sizeof(m->dests[d].cfg)), 0);
		cr_expect_eq(l->dests[d].last_weight, m->dests[d].last_weight);
	}
	cr_expect_geq(l->epoch_counter, m->epoch_counter);

	struct xvs_ctl_model *none = xvs_ctl_model_new(NULL);
	snprintf(path, sizeof(path), "%s/missing.json", tmpdir);
	cr_expect_eq(xvs_ctl_persist_load(none, path, msg, sizeof(msg)), -ENOENT);
	snprintf(path, sizeof(path), "%s/bad.json", tmpdir);
	FILE *f = fopen(path, "w");
	fputs("{\"version\":1,", f);
	fclose(f);
	cr_expect_eq(xvs_ctl_persist_load(none, path, msg, sizeof(msg)), -EINVAL);
	cr_expect_eq(none->nb_svc_order, 0);
	xvs_ctl_model_free(none);
	xvs_ctl_model_free(l);
	xvs_ctl_model_free(m);
}

/* ---- publication --------------------------------------------------------------------- */

Test(ctl_model, publish_without_dataplane, .init = make_tmpdir, .fini = remove_tmpdir)
{
	struct xvs_shm shm;
	open_shm(&shm);
	struct xvs_ctl_model *m = base_model(&shm);
	struct xvs_gen *g = build(m);
	char msg[256] = "";
	g->gen = 0;
	cr_assert_eq(xvs_ctl_publish(&shm, g, 100, msg, sizeof(msg)), XVS_PUB_ABSENT, "%s", msg);
	cr_expect_eq(g->gen, 1);
	uint64_t w = atomic_load(&shm.hdr->published);
	cr_expect_eq(XVS_PUB_GEN(w), 1);
	unsigned slot = XVS_PUB_SLOT(w);
	cr_expect_eq(slot, XVS_PUB_SLOT(atomic_load(&shm.hdr->adopted)) ^ 1u);
	cr_expect_eq(atomic_load(&shm.hdr->slot_gen[slot]), 1);
	cr_expect_eq(memcmp(xvs_shm_slot(&shm, slot), g, sizeof(*g)), 0);
	char why[160] = "";
	cr_expect_eq(xvs_gen_validate(xvs_shm_slot(&shm, slot), why, sizeof(why)), 0, "%s", why);
	cr_expect(strstr(msg, "no dataplane") != NULL, "%s", msg);

	/* Numbers only grow: above the region's and above the caller's floor. */
	cr_expect_eq(xvs_ctl_publish(&shm, g, 100, msg, sizeof(msg)), XVS_PUB_ABSENT);
	cr_expect_eq(g->gen, 2);
	g->gen = 40;
	xvs_ctl_publish(&shm, g, 100, msg, sizeof(msg));
	cr_expect_eq(g->gen, 41);
	cr_expect_eq(atomic_load(&shm.hdr->published), XVS_PUB(41, slot));
	free(g);
	xvs_ctl_model_free(m);
	xvs_shm_close(&shm);
}

/* A stand-in dataplane: adopts (or refuses) whatever is published, for a while. */
struct fake_dp {
	struct xvs_shm *shm;
	int refuse;
	volatile int stop;
};

static void *fake_dp_main(void *arg)
{
	struct fake_dp *f = arg;
	struct xvs_shm_hdr *h = f->shm->hdr;
	while (!f->stop) {
		atomic_store(&h->dp_heartbeat_ns, xvs_now_ns());
		uint64_t w = atomic_load(&h->published);
		if (w && w != atomic_load(&h->adopted) && XVS_PUB_GEN(w) != atomic_load(&h->refused_gen)) {
			char why[128] = "";
			const struct xvs_gen *g = xvs_shm_slot(f->shm, XVS_PUB_SLOT(w));
			if (f->refuse || xvs_gen_validate(g, why, sizeof(why)) < 0) {
				snprintf(h->refuse_reason, sizeof(h->refuse_reason), "test says no");
				atomic_fetch_add(&h->nb_refused, 1);
				atomic_store(&h->refused_gen, XVS_PUB_GEN(w));
			} else {
				atomic_store(&h->adopted, w);
			}
		}
		usleep(1000);
	}
	return NULL;
}

Test(ctl_model, publish_adopted_then_refused, .init = make_tmpdir, .fini = remove_tmpdir)
{
	struct xvs_shm shm;
	open_shm(&shm);
	fake_alive(&shm);
	struct fake_dp f = {.shm = &shm};
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, fake_dp_main, &f), 0);
	struct xvs_ctl_model *m = base_model(&shm);
	struct xvs_gen *g = build(m);
	char msg[256] = "";
	cr_expect_eq(xvs_ctl_publish(&shm, g, 2000, msg, sizeof(msg)), XVS_PUB_ADOPTED, "%s", msg);
	uint64_t first = atomic_load(&shm.hdr->adopted);
	cr_expect_eq(XVS_PUB_GEN(first), g->gen);
	cr_expect_eq(xvs_ctl_publish(&shm, g, 2000, msg, sizeof(msg)), XVS_PUB_ADOPTED, "%s", msg);
	cr_expect_neq(XVS_PUB_SLOT(atomic_load(&shm.hdr->adopted)), XVS_PUB_SLOT(first),
		      "the slot in use is never overwritten");
	f.refuse = 1;
	cr_expect_eq(xvs_ctl_publish(&shm, g, 2000, msg, sizeof(msg)), XVS_PUB_REFUSED, "%s", msg);
	cr_expect(strstr(msg, "test says no") != NULL, "%s", msg);
	f.stop = 1;
	pthread_join(t, NULL);
	/* Attached but silent: a timeout, not a hang. */
	fake_alive(&shm);
	cr_expect_eq(xvs_ctl_publish(&shm, g, 50, msg, sizeof(msg)), XVS_PUB_TIMEOUT, "%s", msg);
	free(g);
	xvs_ctl_model_free(m);
	xvs_shm_close(&shm);
}

/* ---- the commit cycle ---------------------------------------------------------------- */

Test(ctl_model, commit_publishes_and_saves_or_changes_nothing, .init = make_tmpdir,
     .fini = remove_tmpdir)
{
	struct xvs_shm shm;
	char shm_path[128], state[128], msg[256] = "";
	open_shm(&shm);
	snprintf(shm_path, sizeof(shm_path), "%s/shm", tmpdir);
	snprintf(state, sizeof(state), "%s/config.json", tmpdir);
	struct xvs_ctl c;
	cr_assert_eq(xvs_ctl_init(&c, &shm, shm_path, state, NULL, msg, sizeof(msg)), 0, "%s", msg);
	cr_expect_eq(c.model->last_gen, 1);

	struct xvs_ctl_op *ops;
	unsigned nb;
	struct xvs_ctl_err err;
	struct xvs_ctl_result res;
	const char *good = "{\"ops\":[{\"op\":\"add-service\",\"service\":{\"proto\":\"tcp\","
			   "\"addr\":\"198.18.0.100\",\"port\":80,\"sched\":\"rr\"}}]}";
	cr_assert_eq(xvs_ctl_json_parse_ops(good, strlen(good), &ops, &nb, &err), 0);
	cr_assert_eq(xvs_ctl_commit(&c, ops, nb, &err, &res), 0, "%s", err.msg);
	cr_expect_eq(res.pub, XVS_PUB_ABSENT);
	cr_expect_eq(res.gen, 2);
	cr_expect_eq(XVS_PUB_GEN(atomic_load(&shm.hdr->published)), 2);
	cr_expect_eq(xvs_ctl_commit(&c, ops, nb, &err, &res), -EEXIST);
	cr_expect_eq(err.index, 0);
	cr_expect_eq(XVS_PUB_GEN(atomic_load(&shm.hdr->published)), 2, "a failed commit publishes nothing");
	xvs_ctl_ops_free(ops, nb);

	struct xvs_ctl_model *l = xvs_ctl_model_new(NULL);
	cr_assert_eq(xvs_ctl_persist_load(l, state, msg, sizeof(msg)), 0, "%s", msg);
	cr_expect_eq(l->nb_svc_order, 1);
	cr_expect_eq(l->last_gen, 2);
	xvs_ctl_model_free(l);

	/* The region lost our generation (recreated in place): the tick republishes. */
	atomic_store(&shm.hdr->published, 0);
	xvs_ctl_tick(&c, xvs_now_ns());
	cr_expect_eq(XVS_PUB_GEN(atomic_load(&shm.hdr->published)), 3);
	xvs_ctl_fini(&c);
	xvs_shm_close(&shm);
}

Test(ctl_model, rates_follow_counters, .init = make_tmpdir, .fini = remove_tmpdir)
{
	struct xvs_shm shm;
	open_shm(&shm);
	struct xvs_ctl_model *m = base_model(&shm);
	struct xvs_ctl_rates *r = calloc(1, sizeof(*r));
	int d = dest_slot(m, svc_slot(m, "198.18.0.100", 80), "10.0.0.1", 80);
	uint64_t t = 1000000000ULL;
	xvs_ctl_rates_update(r, m, t);
	struct xvs_stats_ctr *c = &xvs_shm_stats(&shm, 1)->dest[d];
	c->conns += 200;
	c->inbytes += 2000;
	xvs_ctl_rates_update(r, m, t + 1000000000ULL); /* too early: ignored */
	cr_expect_eq(r->dest[d].avg[0], 0);
	t += XVS_CTL_RATE_PERIOD_NS;
	xvs_ctl_rates_update(r, m, t);
	cr_expect_float_eq(r->dest[d].avg[0], 25.0, 1e-9, "a quarter of 100/s after one period");
	cr_expect_float_eq(r->dest[d].avg[3], 250.0, 1e-9);
	for (int i = 0; i < 30; i++) {
		c->conns += 200;
		t += XVS_CTL_RATE_PERIOD_NS;
		xvs_ctl_rates_update(r, m, t);
	}
	cr_expect_float_eq(r->dest[d].avg[0], 100.0, 0.1);
	c->conns = 0; /* the dataplane restarted */
	t += XVS_CTL_RATE_PERIOD_NS;
	xvs_ctl_rates_update(r, m, t);
	cr_expect_float_eq(r->dest[d].avg[0], 75.0, 0.1, "a reset counts as a quiet period");
	json_t *j = xvs_ctl_json_services(m, r, NULL);
	json_t *dj = json_array_get(json_object_get(json_array_get(json_object_get(j, "services"), 0), "dests"), 0);
	cr_expect_eq(json_integer_value(json_object_get(dj, "cps")), 75);
	json_decref(j);
	free(r);
	xvs_ctl_model_free(m);
	xvs_shm_close(&shm);
}

/* ---- connection dump ----------------------------------------------------------------- */

#include "ctl_conns.h"

/*
 * A fake worker: answers mailbox requests the way dp_worker.c's serve_dump does, over a
 * table of `capacity` slots in which slot i is live when fake_live(i), `scan` slots a page.
 */
struct fake_worker {
	struct xvs_shm *shm;
	unsigned idx;
	uint64_t capacity, scan;
	atomic_int stop;
	atomic_uint pages;
	int bad; /* answer with a cursor that does not move */
};

static int fake_live(uint64_t i)
{
	return i % 7 == 3;
}

static void fake_page(struct fake_worker *fw, struct xvs_shm_mailbox *mb)
{
	uint64_t pos = mb->req_cursor, end = pos + fw->scan;
	uint32_t nb = 0;
	if (end > fw->capacity)
		end = fw->capacity;
	for (; pos < end && nb < XVS_CONN_DUMP_MAX; pos++) {
		if (!fake_live(pos))
			continue;
		struct xvs_conn_dump_entry *e = &mb->e[nb++];
		memset(e, 0, sizeof(*e));
		e->af = XVS_AF_INET;
		e->proto = XVS_PROTO_TCP;
		e->state = 1;
		e->expire = (uint32_t)pos; /* names the slot */
	}
	mb->nb = nb;
	mb->next_cursor = fw->bad ? mb->req_cursor : pos >= fw->capacity ? UINT64_MAX : pos;
}

static void *fake_worker_run(void *arg)
{
	struct fake_worker *fw = arg;
	struct xvs_shm_mailbox *mb = xvs_shm_mailbox(fw->shm, fw->idx);
	while (!atomic_load(&fw->stop)) {
		uint64_t req = atomic_load_explicit(&mb->req_seq, memory_order_acquire);
		if (req == atomic_load_explicit(&mb->resp_seq, memory_order_relaxed)) {
			usleep(200);
			continue;
		}
		fake_page(fw, mb);
		atomic_fetch_add(&fw->pages, 1);
		atomic_store_explicit(&mb->resp_seq, req, memory_order_release);
	}
	return NULL;
}

/* Walk worker 1's table page by page: every live slot comes exactly once, in order. */
Test(ctl_conns, pages_cover_the_table_once, .init = make_tmpdir, .fini = remove_tmpdir)
{
	struct xvs_shm shm;
	open_shm(&shm);
	struct fake_worker fw = {.shm = &shm, .idx = 1, .capacity = 50000, .scan = 16384};
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, fake_worker_run, &fw), 0);
	struct xvs_conn_dump_entry *page = malloc(XVS_CONN_DUMP_MAX * sizeof(*page));
	cr_assert_not_null(page);
	uint64_t cursor = 0, seen = 0, want = 0, last = 0;
	unsigned nb_pages = 0;
	while (cursor != UINT64_MAX) {
		uint32_t nb;
		uint64_t next;
		cr_assert_eq(xvs_ctl_conns_page(&shm, 1, cursor, 1000, page, &nb, &next), 0);
		for (uint32_t i = 0; i < nb; i++) {
			cr_assert(fake_live(page[i].expire) && (seen == 0 || page[i].expire > last),
				  "slot %u out of order or not live", page[i].expire);
			last = page[i].expire;
			seen++;
		}
		cursor = next;
		nb_pages++;
	}
	for (uint64_t i = 0; i < fw.capacity; i++)
		want += fake_live(i) ? 1 : 0;
	cr_expect_eq(seen, want);
	/* 7143 live slots, pages end after 2048 entries: 2048 x 3 + 999. */
	cr_expect_eq(nb_pages, 4);
	cr_expect_eq(atomic_load(&fw.pages), nb_pages, "one answer per request");
	atomic_store(&fw.stop, 1);
	pthread_join(th, NULL);
	free(page);
	xvs_shm_close(&shm);
}

Test(ctl_conns, silent_or_broken_workers_are_errors, .init = make_tmpdir, .fini = remove_tmpdir)
{
	struct xvs_shm shm;
	open_shm(&shm);
	struct xvs_conn_dump_entry *page = malloc(XVS_CONN_DUMP_MAX * sizeof(*page));
	uint32_t nb;
	uint64_t next;
	uint64_t t0 = xvs_now_ns();
	cr_assert_not_null(page);
	cr_expect_eq(xvs_ctl_conns_page(&shm, 0, 0, 50, page, &nb, &next), -ETIMEDOUT);
	cr_expect_geq(xvs_now_ns() - t0, 50ULL * 1000000ULL, "waited its timeout");
	cr_expect_eq(xvs_ctl_conns_page(&shm, XVS_MAX_LCORES, 0, 50, page, &nb, &next), -ENODEV);

	struct fake_worker fw = {.shm = &shm, .idx = 0, .capacity = 100, .scan = 16384, .bad = 1};
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, fake_worker_run, &fw), 0);
	cr_expect_eq(xvs_ctl_conns_page(&shm, 0, 10, 1000, page, &nb, &next), -EPROTO,
		     "a cursor that does not move forward");
	/* The abandoned request above was answered late: the next one still waits for its own. */
	fw.bad = 0;
	cr_expect_eq(xvs_ctl_conns_page(&shm, 0, 0, 1000, page, &nb, &next), 0);
	cr_expect_eq(nb, 14);
	cr_expect_eq(next, UINT64_MAX);
	atomic_store(&fw.stop, 1);
	pthread_join(th, NULL);
	free(page);
	xvs_shm_close(&shm);
}

Test(ctl_conns, entry_json)
{
	struct xvs_conn_dump_entry e = {.af = XVS_AF_INET, .proto = XVS_PROTO_TCP, .state = 4,
					.fwd = XVS_FWD_MASQ, .expire = 95, .cport = htons(50001),
					.vport = htons(80), .dport = htons(8080)};
	char buf[XVS_CTL_CONN_JSON_MAX];
	inet_pton(AF_INET, "10.0.1.101", &e.caddr.v4);
	inet_pton(AF_INET, "10.0.0.1", &e.vaddr.v4);
	inet_pton(AF_INET, "192.168.10.2", &e.daddr.v4);
	cr_assert_gt(xvs_ctl_conn_json(&e, 3, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "{\"proto\": \"tcp\", \"state\": \"FIN_WAIT\", \"expire\": 95, "
			      "\"caddr\": \"10.0.1.101\", \"cport\": 50001, \"vaddr\": \"10.0.0.1\", "
			      "\"vport\": 80, \"daddr\": \"192.168.10.2\", \"dport\": 8080, "
			      "\"fwd\": \"masq\", \"worker\": 3}");
	json_t *o = json_loads(buf, 0, NULL);
	cr_expect_not_null(o, "valid JSON");
	json_decref(o);

	/* The longest entry fits the documented room; a state out of range is IPVS's ERR!. */
	e.af = XVS_AF_INET6;
	memset(&e.caddr, 0xff, sizeof(e.caddr));
	memset(&e.vaddr, 0xff, sizeof(e.vaddr));
	memset(&e.daddr, 0xff, sizeof(e.daddr));
	e.expire = UINT32_MAX;
	e.state = 200;
	cr_expect_gt(xvs_ctl_conn_json(&e, XVS_MAX_LCORES, buf, sizeof(buf)), 0);
	cr_expect(strstr(buf, "\"state\": \"ERR!\"") != NULL, "%s", buf);
	cr_expect_eq(xvs_ctl_conn_json(&e, 0, buf, 40), -ENOSPC);
	e.af = 5;
	cr_expect_eq(xvs_ctl_conn_json(&e, 0, buf, sizeof(buf)), -EINVAL);
}

Test(ctl_conns, state_names_follow_ipvs)
{
	static const char *const want[] = {"NONE", "ESTABLISHED", "SYN_SENT", "SYN_RECV",
					   "FIN_WAIT", "TIME_WAIT", "CLOSE", "CLOSE_WAIT",
					   "LAST_ACK", "LISTEN", "SYNACK"};
	for (uint8_t i = 0; i < 11; i++)
		cr_expect_str_eq(xvs_ctl_conn_state_name(XVS_PROTO_TCP, i), want[i]);
	cr_expect_str_eq(xvs_ctl_conn_state_name(XVS_PROTO_UDP, 0), "UDP");
	cr_expect_str_eq(xvs_ctl_conn_state_name(XVS_PROTO_TCP, 11), "ERR!");
}

/* IPVS refuses a link-local IPv6 real server with EINVAL; a global one is fine. */
Test(ctl_model, link_local_v6_dest_refused)
{
	struct xvs_ctl_model *m = base_model(NULL);
	struct xvs_ctl_err err;
	run_ok(m, "{\"ops\":[{\"op\":\"add-service\",\"service\":{\"proto\":\"tcp\","
		  "\"addr\":\"2001:db8::100\",\"port\":80,\"sched\":\"rr\"}}]}");
	int rc = run(m, "{\"ops\":[{\"op\":\"add-dest\",\"service\":{\"proto\":\"tcp\","
		     "\"addr\":\"2001:db8::100\",\"port\":80},\"dest\":{\"addr\":\"fe80::1\",\"port\":80,"
		     "\"fwd\":\"masq\"}}]}", &err);
	cr_assert_eq(rc, -EINVAL, "%d %s", rc, err.msg);
	cr_assert(strstr(err.msg, "link-local"), "%s", err.msg);
	run_ok(m, "{\"ops\":[{\"op\":\"add-dest\",\"service\":{\"proto\":\"tcp\","
		  "\"addr\":\"2001:db8::100\",\"port\":80},\"dest\":{\"addr\":\"2001:db8::5\",\"port\":80,"
		  "\"fwd\":\"masq\"}}]}");
	xvs_ctl_model_free(m);
}

/* ---- firewall-mark services and mark rules ------------------------------------------- */

#define FWM1 "\"service\":{\"fwmark\":1}"
#define FWM1_6 "\"service\":{\"fwmark\":1,\"af\":\"inet6\"}"
#define MARK_TCP80 "{\"op\":\"add-mark\",\"mark\":{\"proto\":\"tcp\",\"dst\":\"198.18.0.0/24\"," \
		   "\"dport_lo\":80,\"dport_hi\":90,\"mark\":1}}"

static struct xvs_ctl_model *fwmark_model(void)
{
	struct xvs_ctl_model *m = xvs_ctl_model_new(NULL);
	cr_assert_not_null(m);
	run_ok(m, "{\"ops\":[{\"op\":\"add-service\",\"service\":{\"fwmark\":1,\"sched\":\"rr\"}},"
		  "{\"op\":\"add-dest\"," FWM1 ",\"dest\":{\"addr\":\"10.0.0.1\",\"port\":0,\"fwd\":\"masq\"}},"
		  "{\"op\":\"add-service\",\"service\":{\"fwmark\":1,\"af\":\"inet6\",\"persistent\":60}},"
		  "{\"op\":\"add-dest\"," FWM1_6 ",\"dest\":{\"addr\":\"2001:db8::1\",\"port\":8080}},"
		  MARK_TCP80 ","
		  "{\"op\":\"add-mark\",\"mark\":{\"dst\":\"198.18.0.0/16\",\"mark\":2}},"
		  "{\"op\":\"add-mark\",\"mark\":{\"proto\":\"udp\",\"dst\":\"2001:db8:1::/48\",\"mark\":1}}]}");
	return m;
}

Test(ctl_model, fwmark_services_are_keyed_by_mark_and_family)
{
	struct xvs_ctl_model *m = fwmark_model();
	struct xvs_ctl_err err;
	cr_expect_eq(m->nb_svc_order, 2);
	int v4 = xvs_ctl_model_find_fwmark(m, 1, XVS_AF_INET), v6 = xvs_ctl_model_find_fwmark(m, 1, XVS_AF_INET6);
	cr_assert_geq(v4, 0);
	cr_assert_geq(v6, 0);
	cr_expect_neq(v4, v6);
	cr_expect_eq(xvs_ctl_model_find_fwmark(m, 2, XVS_AF_INET), -1);
	cr_expect_eq(run(m, "{\"ops\":[{\"op\":\"add-service\"," FWM1 "}]}", &err), -EEXIST);
	cr_expect_eq(run(m, "{\"ops\":[{\"op\":\"delete-service\",\"service\":{\"fwmark\":3}}]}", &err), -ESRCH);
	cr_expect_eq(run(m, "{\"ops\":[{\"op\":\"add-dest\",\"service\":{\"fwmark\":3},"
			    "\"dest\":{\"addr\":\"10.0.0.1\",\"port\":0}}]}", &err), -ESRCH);
	/* the key is a mark or an address, never both; af only with a mark */
	cr_expect_eq(run(m, "{\"ops\":[{\"op\":\"add-service\",\"service\":{\"fwmark\":4,\"proto\":\"tcp\"}}]}", &err), -EINVAL);
	cr_expect_eq(run(m, "{\"ops\":[{\"op\":\"add-service\",\"service\":{\"fwmark\":0}}]}", &err), -EINVAL);
	cr_expect_eq(run(m, "{\"ops\":[{\"op\":\"add-service\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.1\",\"port\":80,\"af\":\"inet\"}}]}", &err), -EINVAL);
	/* a real server of the other family needs a tunnel, as for any service */
	cr_expect_eq(run(m, "{\"ops\":[{\"op\":\"add-dest\"," FWM1 ",\"dest\":{\"addr\":\"2001:db8::2\",\"port\":0,\"fwd\":\"masq\"}}]}", &err), -EAFNOSUPPORT);
	run_ok(m, "{\"ops\":[{\"op\":\"edit-service\",\"service\":{\"fwmark\":1,\"sched\":\"wrr\",\"persistent\":30,\"netmask\":\"255.255.255.0\"}}]}");
	cr_expect_str_eq(m->svcs[v4].cfg.sched, "wrr");
	json_t *o = xvs_ctl_json_svc_cfg(&m->svcs[v6].cfg);
	cr_expect_eq(json_integer_value(json_object_get(o, "fwmark")), 1);
	cr_expect_str_eq(json_string_value(json_object_get(o, "af")), "inet6");
	cr_expect_null(json_object_get(o, "addr"));
	json_decref(o);
	xvs_ctl_model_free(m);
}

static const struct err_case mark_err_cases[] = {
	{"{\"ops\":[{\"op\":\"add-mark\",\"mark\":{\"dst\":\"198.18.0.1/24\",\"mark\":1}}]}", EINVAL},
	{"{\"ops\":[{\"op\":\"add-mark\",\"mark\":{\"dst\":\"198.18.0.0/33\",\"mark\":1}}]}", EINVAL},
	{"{\"ops\":[{\"op\":\"add-mark\",\"mark\":{\"dst\":\"nowhere\",\"mark\":1}}]}", EINVAL},
	{"{\"ops\":[{\"op\":\"add-mark\",\"mark\":{\"dst\":\"198.18.0.0/24\",\"mark\":0}}]}", EINVAL},
	{"{\"ops\":[{\"op\":\"add-mark\",\"mark\":{\"dst\":\"198.18.0.0/24\"}}]}", EINVAL},
	{"{\"ops\":[{\"op\":\"add-mark\",\"mark\":{\"dst\":\"198.18.0.0/24\",\"mark\":1,\"dport_lo\":90,\"dport_hi\":80}}]}", EINVAL},
	{"{\"ops\":[{\"op\":\"add-mark\",\"mark\":{\"dst\":\"198.18.0.0/24\",\"mark\":1,\"proto\":\"sctp\"}}]}", EINVAL},
	{"{\"ops\":[{\"op\":\"add-mark\",\"mark\":{\"dst\":\"198.18.0.0/24\",\"mark\":1,\"port\":80}}]}", EINVAL},
	{"{\"ops\":[" MARK_TCP80 "]}", EEXIST},
	{"{\"ops\":[{\"op\":\"add-mark\",\"mark\":{\"proto\":\"tcp\",\"dst\":\"198.18.0.0/24\",\"dport_lo\":80,\"dport_hi\":90,\"mark\":7}}]}", EEXIST},
	{"{\"ops\":[{\"op\":\"delete-mark\",\"mark\":{\"dst\":\"198.18.0.0/24\"}}]}", ENOENT},
	{"{\"ops\":[{\"op\":\"delete-mark\",\"mark\":{\"proto\":\"tcp\",\"dst\":\"198.18.0.0/24\",\"dport_lo\":80,\"dport_hi\":90,\"mark\":2}}]}", ENOENT},
};

Test(ctl_model, mark_rule_errnos)
{
	for (size_t i = 0; i < sizeof(mark_err_cases) / sizeof(mark_err_cases[0]); i++) {
		struct xvs_ctl_model *m = fwmark_model();
		struct xvs_ctl_err err;
		cr_expect_eq(run(m, mark_err_cases[i].ops, &err), -mark_err_cases[i].err, "%s: %s",
			     mark_err_cases[i].ops, err.msg);
		cr_expect_eq(m->nb_marks, 3, "nothing changed");
		xvs_ctl_model_free(m);
	}
}

Test(ctl_model, mark_rules_bounded_deleted_and_cleared)
{
	struct xvs_ctl_model *m = fwmark_model();
	struct xvs_ctl_err err;
	char op[256];
	for (unsigned i = m->nb_marks; i < XVS_MAX_MARKS; i++) {
		snprintf(op, sizeof(op), "{\"ops\":[{\"op\":\"add-mark\",\"mark\":{\"dst\":\"10.%u.%u.0/24\","
			 "\"mark\":5}}]}", i / 256, i % 256);
		run_ok(m, op);
	}
	cr_expect_eq(m->nb_marks, XVS_MAX_MARKS);
	cr_expect_eq(run(m, "{\"ops\":[{\"op\":\"add-mark\",\"mark\":{\"dst\":\"11.0.0.0/8\",\"mark\":5}}]}", &err), -ENOSPC);
	cr_expect(strstr(err.msg, "too many mark rules") != NULL, "%s", err.msg);
	/* delete by selector (mark left out) keeps the order of the others */
	run_ok(m, "{\"ops\":[{\"op\":\"delete-mark\",\"mark\":{\"proto\":\"tcp\",\"dst\":\"198.18.0.0/24\",\"dport_lo\":80,\"dport_hi\":90}}]}");
	cr_expect_eq(m->nb_marks, XVS_MAX_MARKS - 1);
	cr_expect_eq(m->marks[0].mark, 2);
	cr_expect_eq(m->marks[1].af, XVS_AF_INET6);
	run_ok(m, "{\"ops\":[{\"op\":\"clear\"}]}");
	cr_expect_eq(m->nb_marks, 0);
	cr_expect_eq(m->nb_svc_order, 0);
	xvs_ctl_model_free(m);
}

Test(ctl_model, fwmark_generation)
{
	struct xvs_ctl_model *m = fwmark_model();
	struct xvs_gen *g = build(m);
	int v4 = xvs_ctl_model_find_fwmark(m, 1, XVS_AF_INET), v6 = xvs_ctl_model_find_fwmark(m, 1, XVS_AF_INET6);
	cr_expect_eq(g->svcs[v4].fwmark, 1);
	cr_expect_eq(g->svcs[v4].proto, 0);
	cr_expect_eq(g->svcs[v6].af, XVS_AF_INET6);
	cr_assert_eq(g->nb_marks, 3);
	cr_expect_eq(g->marks[0].svc, v4 + 1);
	cr_expect_eq(g->marks[1].svc, 0, "mark 2 has no service");
	cr_expect_eq(g->marks[2].svc, v6 + 1);
	for (unsigned h = 0; h < XVS_VIP_HASH_SIZE; h++)
		cr_expect(g->vip_hash[h] == 0, "fwmark services stay out of the VIP hash");

	union xvs_ip a = { .v4 = 0 };
	inet_pton(AF_INET, "198.18.0.7", &a.v4);
	cr_expect_eq(xvs_gen_mark_lookup(g, XVS_AF_INET, XVS_PROTO_TCP, &a, htons(80)), v4);
	cr_expect_eq(xvs_gen_mark_lookup(g, XVS_AF_INET, XVS_PROTO_TCP, &a, htons(90)), v4);
	/* rule 0 does not match, rule 1 (mark 2, any port and protocol) does: no service */
	cr_expect_eq(xvs_gen_mark_lookup(g, XVS_AF_INET, XVS_PROTO_TCP, &a, htons(91)), -1);
	cr_expect_eq(xvs_gen_mark_lookup(g, XVS_AF_INET, XVS_PROTO_UDP, &a, htons(80)), -1);
	/* first match wins: a rule for mark 1 behind the /16 one is never reached */
	run_ok(m, "{\"ops\":[{\"op\":\"add-mark\",\"mark\":{\"dst\":\"198.18.1.0/24\",\"mark\":1}},"
		  "{\"op\":\"add-mark\",\"mark\":{\"dst\":\"198.19.0.0/24\",\"proto\":\"udp\",\"mark\":1}}]}");
	free(g);
	g = build(m);
	inet_pton(AF_INET, "198.18.1.1", &a.v4);
	cr_expect_eq(xvs_gen_mark_lookup(g, XVS_AF_INET, XVS_PROTO_UDP, &a, htons(53)), -1);
	inet_pton(AF_INET, "198.19.0.1", &a.v4);
	cr_expect_eq(xvs_gen_mark_lookup(g, XVS_AF_INET, XVS_PROTO_UDP, &a, htons(53)), v4);
	cr_expect_eq(xvs_gen_mark_lookup(g, XVS_AF_INET, XVS_PROTO_TCP, &a, htons(53)), -1);
	cr_expect_eq(xvs_gen_mark_lookup(g, XVS_AF_INET6, XVS_PROTO_UDP, &a, htons(53)), -1);
	union xvs_ip b;
	inet_pton(AF_INET6, "2001:db8:1:2::3", b.v6);
	cr_expect_eq(xvs_gen_mark_lookup(g, XVS_AF_INET6, XVS_PROTO_UDP, &b, htons(53)), v6);
	cr_expect_eq(xvs_gen_mark_lookup(g, XVS_AF_INET6, XVS_PROTO_TCP, &b, htons(53)), -1);

	/* the dataplane's checks: a rule must lead to the fwmark service of its own mark */
	char why[160];
	g->gen = 1;
	g->marks[0].svc = (uint16_t)(v6 + 1);
	xvs_gen_seal(g);
	cr_expect_eq(xvs_gen_validate(g, why, sizeof(why)), -EINVAL);
	g->marks[0].svc = XVS_MAX_SVCS;
	xvs_gen_seal(g);
	cr_expect_eq(xvs_gen_validate(g, why, sizeof(why)), -EINVAL);
	g->marks[0].svc = (uint16_t)(v4 + 1);
	g->marks[0].prefix.v4 |= htonl(1);
	xvs_gen_seal(g);
	cr_expect_eq(xvs_gen_validate(g, why, sizeof(why)), -EINVAL);
	g->marks[0].prefix.v4 &= ~htonl(1);
	g->nb_marks = XVS_MAX_MARKS + 1;
	xvs_gen_seal(g);
	cr_expect_eq(xvs_gen_validate(g, why, sizeof(why)), -EINVAL);
	g->nb_marks = 5;
	xvs_gen_seal(g);
	cr_expect_eq(xvs_gen_validate(g, why, sizeof(why)), 0, "%s", why);
	free(g);
	xvs_ctl_model_free(m);
}

Test(ctl_model, fwmark_state_round_trip, .init = make_tmpdir, .fini = remove_tmpdir)
{
	struct xvs_ctl_model *m = fwmark_model();
	char path[128], msg[256] = "";
	snprintf(path, sizeof(path), "%s/config.json", tmpdir);
	cr_assert_eq(xvs_ctl_persist_save(m, path, msg, sizeof(msg)), 0, "%s", msg);
	struct xvs_ctl_model *l = xvs_ctl_model_new(NULL);
	cr_assert_eq(xvs_ctl_persist_load(l, path, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(l->nb_svc_order, m->nb_svc_order);
	for (unsigned i = 0; i < m->nb_svc_order; i++) {
		unsigned s = m->svc_order[i];
		cr_expect_eq(l->svc_order[i], s);
		cr_expect_eq(memcmp(&l->svcs[s].cfg, &m->svcs[s].cfg, sizeof(m->svcs[s].cfg)), 0);
	}
	cr_assert_eq(l->nb_dest_order, m->nb_dest_order);
	cr_assert_eq(l->nb_marks, m->nb_marks);
	cr_expect_eq(memcmp(l->marks, m->marks, m->nb_marks * sizeof(m->marks[0])), 0);
	xvs_ctl_model_free(l);
	xvs_ctl_model_free(m);
}
