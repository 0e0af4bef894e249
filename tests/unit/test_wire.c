/*
 * Unit tests for the control API's schema (xvs/wire.h): what xvsadm writes, xvs-control
 * reads back to the same values and the reverse; every enumerated value has its name; the
 * documents xvsadm reads carry every key it reads.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_conns.h"
#include "ctl_json.h"
#include "ctl_model.h"
#include "ctl_overlay.h"
#include "ctl_publish.h"
#include "ctl_trace.h"
#include "xvs/drop.h"
#include "xvs/table.h"
#include "xvs/wire.h"
#include "xvsadm_drops.h"
#include "xvsadm_json.h"
#include "xvsadm_parse.h"
#include "xvsadm_print.h"

static void ip(int af, const char *s, union xvs_ip *out)
{
	memset(out, 0, sizeof(*out));
	cr_assert_eq(inet_pton(af, s, out), 1, "bad address %s", s);
}

/* xvsadm's op for cmd, parsed by the server into exactly one op. */
static struct xvs_ctl_op *server_reads(const struct xvs_xvsadm_cmd *cmd)
{
	json_t *op = NULL;
	struct xvs_ctl_op *ops = NULL;
	struct xvs_ctl_err err;
	unsigned nb = 0;

	cr_assert_eq(xvs_xvsadm_json_op(cmd, &op), 0);
	json_t *body = json_pack("{s[o]}", XVS_WIRE_OPS, op);
	char *text = json_dumps(body, JSON_COMPACT);
	cr_assert_not_null(text);
	int rc = xvs_ctl_json_parse_ops(text, strlen(text), &ops, &nb, &err);
	cr_assert_eq(rc, 0, "the server refused %s: %s", text, err.msg);
	cr_assert_eq(nb, 1);
	free(text);
	json_decref(body);
	return ops;
}

/* An IPv4 service with every field set, scheduler flags under sh's names. */
static void svc4(struct xvs_xvsadm_service *s)
{
	memset(s, 0, sizeof(*s));
	s->af = AF_INET;
	s->proto = IPPROTO_SCTP;
	ip(AF_INET, "198.18.0.100", &s->addr);
	s->port = 3868;
	snprintf(s->sched, sizeof(s->sched), "sh");
	s->flags = XVS_SVC_F_PERSISTENT | XVS_SVC_F_ONEPACKET | XVS_SVC_F_SCHED1 |
		   XVS_SVC_F_SCHED2 | XVS_SVC_F_SCHED3;
	s->timeout = 2678400; /* the longest the model takes */
	s->netmask = htonl(0xffffff00u);
}

Test(wire, service_xvsadm_to_server)
{
	struct xvs_xvsadm_cmd cmd;
	memset(&cmd, 0, sizeof(cmd));
	cmd.cmd = XVSADM_CMD_ADD;
	svc4(&cmd.svc);

	struct xvs_ctl_op *op = server_reads(&cmd);
	const struct xvs_ctl_svc_cfg *c = &op->svc;
	cr_assert_eq(op->type, XVS_CTL_OP_ADD_SVC);
	cr_assert(op->has_svc);
	cr_assert_eq(c->af, XVS_AF_INET);
	cr_assert_eq(c->proto, XVS_PROTO_SCTP);
	cr_assert_eq(c->addr.v4, cmd.svc.addr.v4);
	cr_assert_eq(c->port, 3868);
	cr_assert_eq(c->fwmark, 0);
	cr_assert_str_eq(c->sched, "sh");
	cr_assert_eq(c->persistent, 2678400);
	cr_assert_eq(c->netmask.v4, htonl(0xffffff00u));
	cr_assert_eq(c->flags, XVS_SVC_F_SCHED1 | XVS_SVC_F_SCHED2 | XVS_SVC_F_SCHED3);
	cr_assert(c->ops);
	xvs_ctl_ops_free(op, 1);
}

Test(wire, fwmark_service_xvsadm_to_server)
{
	struct xvs_xvsadm_cmd cmd;
	memset(&cmd, 0, sizeof(cmd));
	cmd.cmd = XVSADM_CMD_EDIT;
	cmd.svc.af = AF_INET6;
	cmd.svc.proto = IPPROTO_TCP;
	cmd.svc.fwmark = 0xfffffffeu;
	snprintf(cmd.svc.sched, sizeof(cmd.svc.sched), "mh");
	cmd.svc.flags = XVS_SVC_F_SCHED2;
	cmd.svc.netmask = 64;

	struct xvs_ctl_op *op = server_reads(&cmd);
	const struct xvs_ctl_svc_cfg *c = &op->svc;
	cr_assert_eq(op->type, XVS_CTL_OP_EDIT_SVC);
	cr_assert_eq(c->af, XVS_AF_INET6);
	cr_assert_eq(c->fwmark, 0xfffffffeu);
	cr_assert_eq(c->proto, 0);
	cr_assert_str_eq(c->sched, "mh");
	cr_assert_eq(c->persistent, 0);
	cr_assert_eq(c->netmask.w[0], 64);
	cr_assert_eq(c->flags, XVS_SVC_F_SCHED2);
	cr_assert(!c->ops);
	xvs_ctl_ops_free(op, 1);
}

Test(wire, dest_xvsadm_to_server)
{
	static const int tun_types[] = {XVSADM_TUN_IPIP, XVSADM_TUN_GUE, XVSADM_TUN_GRE};
	static const int csums[] = {XVSADM_TUN_NOCSUM, XVSADM_TUN_CSUM, XVSADM_TUN_REMCSUM};
	static const int fwds[] = {XVS_FWD_MASQ, XVS_FWD_DROUTE, XVS_FWD_TUNNEL};

	for (unsigned i = 0; i < 3; i++) {
		struct xvs_xvsadm_cmd cmd;
		memset(&cmd, 0, sizeof(cmd));
		cmd.cmd = XVSADM_CMD_EDITDEST;
		svc4(&cmd.svc);
		cmd.dest.af = AF_INET6;
		ip(AF_INET6, "2001:db8::21", &cmd.dest.addr);
		cmd.dest.port = 65535;
		cmd.dest.fwd = fwds[i];
		cmd.dest.weight = 65535;
		cmd.dest.u_threshold = 4000000000u;
		cmd.dest.l_threshold = 7;
		cmd.dest.tun_type = tun_types[i];
		cmd.dest.tun_port = 6080;
		cmd.dest.tun_csum = csums[i];

		struct xvs_ctl_op *op = server_reads(&cmd);
		const struct xvs_ctl_dest_cfg *d = &op->dest;
		cr_assert_eq(op->type, XVS_CTL_OP_EDIT_DEST);
		cr_assert_eq(op->svc.addr.v4, cmd.svc.addr.v4);
		cr_assert_eq(op->svc.proto, XVS_PROTO_SCTP);
		cr_assert_eq(op->svc.port, 3868);
		cr_assert_eq(d->af, XVS_AF_INET6);
		cr_assert_arr_eq(d->addr.v6, cmd.dest.addr.v6, 16);
		cr_assert_eq(d->port, 65535);
		cr_assert_eq(d->fwd, fwds[i]);
		cr_assert_eq(d->weight, 65535);
		cr_assert_eq(d->u_thresh, 4000000000);
		cr_assert_eq(d->l_thresh, 7);
		cr_assert_eq(d->tun_type, i);
		cr_assert_eq(d->tun_port, 6080);
		cr_assert_eq(d->tun_flags, i == 0 ? XVS_TUN_F_NOCSUM : i == 1 ? XVS_TUN_F_CSUM
									 : XVS_TUN_F_REMCSUM);
		xvs_ctl_ops_free(op, 1);
	}
}

Test(wire, mark_and_timeouts_xvsadm_to_server)
{
	struct xvs_xvsadm_cmd cmd;
	memset(&cmd, 0, sizeof(cmd));
	cmd.cmd = XVSADM_CMD_ADDMARK;
	cmd.mark.af = AF_INET6;
	cmd.mark.proto = IPPROTO_UDP;
	ip(AF_INET6, "2001:db8:1::", &cmd.mark.prefix);
	cmd.mark.plen = 48;
	cmd.mark.port_lo = 53;
	cmd.mark.port_hi = 5353;
	cmd.mark.mark = 0xffffffffu;

	struct xvs_ctl_op *op = server_reads(&cmd);
	const struct xvs_ctl_mark_cfg *m = &op->mark;
	cr_assert_eq(op->type, XVS_CTL_OP_ADD_MARK);
	cr_assert_eq(m->af, XVS_AF_INET6);
	cr_assert_eq(m->proto, XVS_PROTO_UDP);
	cr_assert_arr_eq(m->prefix.v6, cmd.mark.prefix.v6, 16);
	cr_assert_eq(m->plen, 48);
	cr_assert_eq(m->port_lo, 53);
	cr_assert_eq(m->port_hi, 5353);
	cr_assert_eq(m->mark, 0xffffffffu);
	xvs_ctl_ops_free(op, 1);

	/* --del-mark without a mark: the rule alone */
	cmd.cmd = XVSADM_CMD_DELMARK;
	cmd.mark.mark = 0;
	cmd.mark.proto = 0;
	op = server_reads(&cmd);
	cr_assert_eq(op->type, XVS_CTL_OP_DEL_MARK);
	cr_assert_eq(op->mark.proto, 0);
	cr_assert_eq(op->mark.mark, 0);
	xvs_ctl_ops_free(op, 1);

	memset(&cmd, 0, sizeof(cmd));
	cmd.cmd = XVSADM_CMD_TIMEOUT;
	cmd.timeout_tcp = 3600;
	cmd.timeout_tcpfin = 60;
	cmd.timeout_udp = 120;
	op = server_reads(&cmd);
	cr_assert_eq(op->type, XVS_CTL_OP_SET_TIMEOUTS);
	cr_assert_eq(op->timeouts[0], 3600);
	cr_assert_eq(op->timeouts[1], 60);
	cr_assert_eq(op->timeouts[2], 120);
	xvs_ctl_ops_free(op, 1);
}

/* The server's GET /v1/services document, read by xvsadm, gives back what was configured. */
Test(wire, server_to_xvsadm)
{
	struct xvs_ctl_model *m = xvs_ctl_model_new(NULL);
	struct xvs_xvsadm_cmd cmd[4];
	struct xvs_ctl_err err;
	cr_assert_not_null(m);
	memset(cmd, 0, sizeof(cmd));
	cmd[0].cmd = XVSADM_CMD_ADD;
	svc4(&cmd[0].svc);
	cmd[1].cmd = XVSADM_CMD_ADDDEST;
	cmd[1].svc = cmd[0].svc;
	cmd[1].dest.af = AF_INET;
	ip(AF_INET, "198.18.0.21", &cmd[1].dest.addr);
	cmd[1].dest.port = 3869;
	cmd[1].dest.fwd = XVS_FWD_TUNNEL;
	cmd[1].dest.weight = 7;
	cmd[1].dest.u_threshold = 100;
	cmd[1].dest.l_threshold = 10;
	cmd[1].dest.tun_type = XVSADM_TUN_GUE;
	cmd[1].dest.tun_port = 6080;
	cmd[1].dest.tun_csum = XVSADM_TUN_CSUM;
	cmd[2].cmd = XVSADM_CMD_ADDMARK;
	cmd[2].mark.af = AF_INET;
	cmd[2].mark.proto = IPPROTO_TCP;
	ip(AF_INET, "198.18.0.96", &cmd[2].mark.prefix);
	cmd[2].mark.plen = 29;
	cmd[2].mark.port_lo = 8000;
	cmd[2].mark.port_hi = 8999;
	cmd[2].mark.mark = 9;
	cmd[3].cmd = XVSADM_CMD_TIMEOUT;
	cmd[3].timeout_tcp = 3600;
	cmd[3].timeout_tcpfin = 60;
	cmd[3].timeout_udp = 120;
	for (unsigned i = 0; i < 4; i++) {
		struct xvs_ctl_op *op = server_reads(&cmd[i]);
		cr_assert_eq(xvs_ctl_model_apply_ops(m, op, 1, &err), 0, "op %u: %s", i, err.msg);
		xvs_ctl_ops_free(op, 1);
	}

	json_t *doc = xvs_ctl_json_services(m, NULL, NULL);
	struct xvs_xvsadm_table t;
	cr_assert_eq(xvs_xvsadm_json_table(doc, &t), 0);
	json_decref(doc);
	cr_assert_eq(t.nb_services, 1);
	const struct xvs_xvsadm_service *s = &t.services[0].s;
	cr_assert_eq(s->af, AF_INET);
	cr_assert_eq(s->proto, IPPROTO_SCTP);
	cr_assert_eq(s->addr.v4, cmd[0].svc.addr.v4);
	cr_assert_eq(s->port, 3868);
	cr_assert_str_eq(s->sched, "sh");
	cr_assert_eq(s->flags, cmd[0].svc.flags);
	cr_assert_eq(s->timeout, cmd[0].svc.timeout);
	cr_assert_eq(s->netmask, cmd[0].svc.netmask);
	cr_assert_eq(t.services[0].nb_dests, 1);
	const struct xvs_xvsadm_dest *d = &t.services[0].dests[0].d, *wd = &cmd[1].dest;
	cr_assert_eq(d->af, wd->af);
	cr_assert_eq(d->addr.v4, wd->addr.v4);
	cr_assert_eq(d->port, wd->port);
	cr_assert_eq(d->fwd, wd->fwd);
	cr_assert_eq(d->weight, wd->weight);
	cr_assert_eq(d->u_threshold, wd->u_threshold);
	cr_assert_eq(d->l_threshold, wd->l_threshold);
	cr_assert_eq(d->tun_type, wd->tun_type);
	cr_assert_eq(d->tun_port, wd->tun_port);
	cr_assert_eq(d->tun_csum, wd->tun_csum);
	cr_assert_eq(t.nb_marks, 1);
	const struct xvs_xvsadm_mark *mk = &t.marks[0], *wm = &cmd[2].mark;
	cr_assert_eq(mk->af, wm->af);
	cr_assert_eq(mk->proto, wm->proto);
	cr_assert_eq(mk->prefix.v4, wm->prefix.v4);
	cr_assert_eq(mk->plen, wm->plen);
	cr_assert_eq(mk->port_lo, wm->port_lo);
	cr_assert_eq(mk->port_hi, wm->port_hi);
	cr_assert_eq(mk->mark, wm->mark);
	cr_assert_eq(t.timeout_tcp, 3600);
	cr_assert_eq(t.timeout_tcpfin, 60);
	cr_assert_eq(t.timeout_udp, 120);
	xvs_xvsadm_table_free(&t);
	xvs_ctl_model_free(m);
}

/* Every value of vals has a name in t that reads back to it; t has no other value. */
static void covers(const char *what, const struct xvs_wire_name *t, const int *vals, size_t nb)
{
	size_t n = 0;
	for (size_t i = 0; i < nb; i++) {
		const char *name = xvs_wire_name_of(t, vals[i]);
		int v = -1;
		cr_assert_not_null(name, "%s: %d has no name", what, vals[i]);
		cr_assert_eq(xvs_wire_value(t, name, &v), 0);
		cr_assert_eq(v, vals[i], "%s: '%s' reads back as %d, not %d", what, name, v, vals[i]);
	}
	for (; t[n].name; n++) {
		int known = 0;
		for (size_t i = 0; i < nb; i++)
			known |= t[n].val == vals[i];
		cr_assert(known, "%s: '%s' is %d, outside the range", what, t[n].name, t[n].val);
		for (size_t k = 0; k < n; k++)
			cr_assert_str_neq(t[k].name, t[n].name, "%s: '%s' twice", what, t[n].name);
	}
	int v = 12345;
	cr_assert_eq(xvs_wire_value(t, "no-such-name", &v), -ENOENT);
	cr_assert_eq(xvs_wire_value(t, NULL, &v), -ENOENT);
	cr_assert_eq(v, 12345);
}

#define COVERS(t, ...)                                                                 \
	do {                                                                           \
		static const int vals_[] = {__VA_ARGS__};                              \
		covers(#t, t, vals_, sizeof(vals_) / sizeof(vals_[0]));                \
	} while (0)

Test(wire, every_value_named)
{
	COVERS(xvs_wire_protos, XVS_PROTO_TCP, XVS_PROTO_UDP, XVS_PROTO_SCTP, XVS_CTL_PROTO_SCTP,
	       IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP);
	COVERS(xvs_wire_afs, XVS_AF_INET, XVS_AF_INET6);
	COVERS(xvs_wire_fwds, XVS_FWD_MASQ, XVS_FWD_DROUTE, XVS_FWD_TUNNEL);
	COVERS(xvs_wire_tun_types, XVSADM_TUN_IPIP, XVSADM_TUN_GUE, XVSADM_TUN_GRE);
	COVERS(xvs_wire_tun_csums, XVS_TUN_F_NOCSUM, XVS_TUN_F_CSUM, XVS_TUN_F_REMCSUM,
	       XVSADM_TUN_NOCSUM, XVSADM_TUN_CSUM, XVSADM_TUN_REMCSUM);
	COVERS(xvs_wire_mark_protos, 0, XVS_PROTO_TCP, XVS_PROTO_UDP, IPPROTO_TCP, IPPROTO_UDP);
	COVERS(xvs_wire_sched_flags, XVS_SVC_F_SCHED1, XVS_SVC_F_SCHED2, XVS_SVC_F_SCHED3);
	COVERS(xvs_wire_conn_protos, XVS_PROTO_TCP, XVS_PROTO_UDP, XVS_PROTO_SCTP, 0);
	COVERS(xvs_wire_conn_fwds, XVS_FWD_MASQ, XVS_FWD_LOCAL, XVS_FWD_TUNNEL, XVS_FWD_DROUTE);
	/* the server writes the generic flag names, flag-1..3, first in the table */
	cr_assert_str_eq(xvs_wire_name_of(xvs_wire_sched_flags, XVS_SVC_F_SCHED1), "flag-1");
	cr_assert_str_eq(xvs_wire_name_of(xvs_wire_sched_flags, XVS_SVC_F_SCHED3), "flag-3");
}

/* The connection listing's writer (ctl_conns.c) uses the names xvsadm reads. */
Test(wire, conn_names_agree)
{
	for (int p = 0; p < 256; p++) {
		const char *name = xvs_wire_name_of(xvs_wire_conn_protos, p);
		cr_assert_str_eq(xvs_ctl_proto_name((uint8_t)p), name ? name : "ip", "proto %d", p);
	}
	for (int f = XVS_FWD_MASQ; f <= XVS_FWD_DROUTE; f++)
		cr_assert_str_eq(xvs_ctl_fwd_name((uint8_t)f),
				 xvs_wire_name_of(xvs_wire_conn_fwds, f), "fwd %d", f);
}

/* Counter and rate keys: what the server writes for a service is what xvsadm reads. */
Test(wire, counter_keys)
{
	static const char *const keys[] = {
#define XVS_KEY(f) #f,
		XVS_WIRE_COUNTERS(XVS_KEY) XVS_WIRE_RATES(XVS_KEY)
#undef XVS_KEY
	};
	struct xvs_ctl_model *m = xvs_ctl_model_new(NULL);
	struct xvs_xvsadm_cmd cmd;
	struct xvs_ctl_err err;
	memset(&cmd, 0, sizeof(cmd));
	cmd.cmd = XVSADM_CMD_ADD;
	svc4(&cmd.svc);
	struct xvs_ctl_op *op = server_reads(&cmd);
	cr_assert_eq(xvs_ctl_model_apply_ops(m, op, 1, &err), 0, "%s", err.msg);
	xvs_ctl_ops_free(op, 1);

	json_t *doc = xvs_ctl_json_services(m, NULL, NULL);
	json_t *svc = json_array_get(json_object_get(doc, XVS_WIRE_SERVICES), 0);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cr_assert(json_is_integer(json_object_get(svc, keys[i])), "no %s", keys[i]);
	for (unsigned k = 0; k < XVS_WIRE_NB_RATES; k++)
		cr_assert_str_eq(xvs_wire_rate_names[k], keys[5 + k]);
	json_decref(doc);
	xvs_ctl_model_free(m);
}

/* ---- the documents xvsadm reads beyond GET /v1/services: every key it reads is written --- */

/* o is an object with every key of keys (NULL-terminated) and, when exact, no other. */
static void has_keys(const json_t *o, const char *const *keys, bool exact, const char *what)
{
	size_t nb = 0;

	cr_assert(json_is_object(o), "%s is not an object", what);
	for (; keys[nb]; nb++)
		cr_assert_not_null(json_object_get(o, keys[nb]), "%s has no \"%s\"", what, keys[nb]);
	if (exact)
		cr_assert_eq(json_object_size(o), nb, "%s has keys beyond xvs/wire.h's", what);
}

static char shm_dir[64];

static void open_shm(struct xvs_shm *shm)
{
	char path[96];

	snprintf(shm_dir, sizeof(shm_dir), "/tmp/xvs-wire-test.XXXXXX");
	cr_assert_not_null(mkdtemp(shm_dir));
	snprintf(path, sizeof(path), "%s/shm", shm_dir);
	cr_assert_eq(xvs_shm_open(shm, path, 0), 0);
	/* a dataplane of two workers, this process, worker 1 stalled */
	atomic_store(&shm->hdr->dp_pid, (uint64_t)getpid());
	atomic_store(&shm->hdr->dp_heartbeat_ns, xvs_now_ns());
	atomic_store(&shm->hdr->nb_workers, 2);
	atomic_store(&shm->hdr->stalled_workers, 2);
}

static void close_shm(struct xvs_shm *shm)
{
	char path[96];

	xvs_shm_close(shm);
	snprintf(path, sizeof(path), "%s/shm", shm_dir);
	cr_expect_eq(unlink(path), 0);
	cr_expect_eq(rmdir(shm_dir), 0);
}

/* GET /v1/status: what xvsadm --status reads, with and without a dataplane. */
Test(wire, status_keys)
{
	static const char *const top[] = {XVS_WIRE_API, XVS_WIRE_GENERATION, XVS_WIRE_DATAPLANE,
					  NULL};
	static const char *const dp_keys[] = {
		XVS_WIRE_ATTACHED, XVS_WIRE_PID, XVS_WIRE_PUBLISHED, XVS_WIRE_ADOPTED,
		XVS_WIRE_REFUSED, XVS_WIRE_NB_REFUSED, XVS_WIRE_REFUSE_REASON, XVS_WIRE_WORKERS,
		XVS_WIRE_STEERING, XVS_WIRE_STALLED_WORKERS, NULL,
	};
	static const char *const detached[] = {XVS_WIRE_ATTACHED, NULL};
	struct xvs_ctl_model *m = xvs_ctl_model_new(NULL);
	struct xvs_shm shm;

	cr_assert_not_null(m);
	json_t *doc = xvs_ctl_json_status(m, NULL);
	has_keys(doc, top, true, "status");
	has_keys(json_object_get(doc, XVS_WIRE_DATAPLANE), detached, true, "status.dataplane");
	cr_assert(json_is_false(json_object_get(json_object_get(doc, XVS_WIRE_DATAPLANE),
						XVS_WIRE_ATTACHED)));
	json_decref(doc);

	open_shm(&shm);
	doc = xvs_ctl_json_status(m, &shm);
	has_keys(doc, top, true, "status");
	const json_t *dp = json_object_get(doc, XVS_WIRE_DATAPLANE);
	has_keys(dp, dp_keys, true, "status.dataplane");
	cr_assert(json_is_true(json_object_get(dp, XVS_WIRE_ATTACHED)));
	cr_assert_eq(json_integer_value(json_object_get(dp, XVS_WIRE_PID)), getpid());
	cr_assert_eq(json_integer_value(json_object_get(dp, XVS_WIRE_WORKERS)), 2);
	const json_t *stalled = json_object_get(dp, XVS_WIRE_STALLED_WORKERS);
	cr_assert_eq(json_array_size(stalled), 1);
	cr_assert_eq(json_integer_value(json_array_get(stalled, 0)), 1);
	json_decref(doc);
	close_shm(&shm);
	xvs_ctl_model_free(m);
}

/* GET /v1/stats?per_worker=1: the counters xvsadm --status reads (by the same X-macro
 * list), and the drops that xvsadm -L --stats --drops prints from it. */
Test(wire, stats_keys)
{
	static const char *const keys[] = {
		XVS_WIRE_WORKERS,
#define XVS_KEY(f) #f,
		XVS_WIRE_LCORE_COUNTERS(XVS_KEY)
#undef XVS_KEY
		XVS_WIRE_DROPS, XVS_WIRE_SYNC, XVS_WIRE_PER_WORKER, XVS_WIRE_MAIN_LCORE, NULL,
	};
	struct xvs_shm shm;

	open_shm(&shm);
	xvs_shm_stats(&shm, 1)->drops[0] = 12345;
	xvs_shm_stats(&shm, 1)->conns_cur = 3;
	json_t *doc = xvs_ctl_json_stats(&shm);
	cr_assert_eq(xvs_ctl_json_stats_add_workers(doc, &shm), 0);
	has_keys(doc, keys, true, "stats");
	cr_assert_eq(json_integer_value(json_object_get(doc, "conns_cur")), 3);
	const json_t *drops = json_object_get(doc, XVS_WIRE_DROPS);
	for (unsigned d = 0; d < XVS_DROP_MAX; d++)
		cr_assert(json_is_integer(json_object_get(drops, xvs_drop_names[d])), "no drop %s",
			  xvs_drop_names[d]);
	cr_assert_eq(json_array_size(json_object_get(doc, XVS_WIRE_PER_WORKER)), 2);

	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	cr_assert_not_null(f);
	cr_assert_eq(xvs_xvsadm_print_drops(f, doc, XVSADM_FMT_EXACT), 0);
	fclose(f);
	char line[128];
	snprintf(line, sizeof(line), "\n  %-22s", xvs_drop_names[0]);
	const char *row = strstr(out, line);
	cr_assert_not_null(row, "%s", out);
	cr_assert_not_null(strstr(row, " 12345        0    12345        0\n"), "%s", out);
	free(out);
	json_decref(doc);
	close_shm(&shm);
}

/* An error body: the message, the errno and, for one op at fault, its index. */
Test(wire, error_keys)
{
	static const char *const with_index[] = {XVS_WIRE_ERROR, XVS_WIRE_ERRNO, XVS_WIRE_INDEX,
						 NULL};
	static const char *const no_index[] = {XVS_WIRE_ERROR, XVS_WIRE_ERRNO, NULL};
	json_t *o = xvs_ctl_json_error(EEXIST, 2, "Service already exists");

	has_keys(o, with_index, true, "error");
	cr_assert_str_eq(json_string_value(json_object_get(o, XVS_WIRE_ERROR)),
			 "Service already exists");
	cr_assert_eq(json_integer_value(json_object_get(o, XVS_WIRE_ERRNO)), EEXIST);
	cr_assert_eq(json_integer_value(json_object_get(o, XVS_WIRE_INDEX)), 2);
	json_decref(o);
	o = xvs_ctl_json_error(ENOMEM, -1, "no memory");
	has_keys(o, no_index, true, "error");
	json_decref(o);
}

/* POST /v1/ops' answer: each outcome under the name xvsadm tells apart. */
Test(wire, ops_outcomes)
{
	cr_assert_str_eq(xvs_ctl_pub_result_name(XVS_PUB_ADOPTED), XVS_WIRE_DP_ADOPTED);
	cr_assert_str_eq(xvs_ctl_pub_result_name(XVS_PUB_ABSENT), XVS_WIRE_DP_ABSENT);
	cr_assert_str_eq(xvs_ctl_pub_result_name(XVS_PUB_REFUSED), XVS_WIRE_DP_REFUSED);
	cr_assert_str_eq(xvs_ctl_pub_result_name(XVS_PUB_TIMEOUT), XVS_WIRE_DP_TIMEOUT);
}

static struct xvs_conn_dump_entry dump_entry(const char *c, uint16_t cport, const char *v,
					     uint16_t vport, const char *d)
{
	struct xvs_conn_dump_entry e = {
		.af = XVS_AF_INET, .proto = XVS_PROTO_TCP, .state = 1, .fwd = XVS_FWD_MASQ,
		.expire = 900, .cport = htons(cport), .vport = htons(vport), .dport = htons(8080),
	};

	ip(AF_INET, c, &e.caddr);
	ip(AF_INET, v, &e.vaddr);
	ip(AF_INET, d, &e.daddr);
	return e;
}

/* GET /v1/conns: one line of the stream, as xvsadm -L -c reads it back. */
Test(wire, conn_keys)
{
	static const char *const keys[] = {
		XVS_WIRE_PROTO, XVS_WIRE_STATE, XVS_WIRE_EXPIRE, XVS_WIRE_CADDR, XVS_WIRE_CPORT,
		XVS_WIRE_VADDR, XVS_WIRE_VPORT, XVS_WIRE_DADDR, XVS_WIRE_DPORT, XVS_WIRE_FWD,
		XVS_WIRE_WORKER, NULL,
	};
	struct xvs_conn_dump_entry e = dump_entry("198.18.0.2", 40000, "198.18.0.100", 80,
						  "198.19.0.11");
	char buf[XVS_CTL_CONN_JSON_MAX];
	struct xvs_xvsadm_conn c;

	cr_assert_gt(xvs_ctl_conn_json(&e, 3, buf, sizeof(buf)), 0);
	json_t *o = json_loads(buf, 0, NULL);
	has_keys(o, keys, true, buf);
	cr_assert_eq(json_integer_value(json_object_get(o, XVS_WIRE_WORKER)), 3);
	cr_assert_eq(xvs_xvsadm_json_conn(o, &c), 0, "%s", buf);
	cr_assert_eq(c.proto, IPPROTO_TCP);
	cr_assert_str_eq(c.state, "ESTABLISHED");
	cr_assert_eq(c.expire, 900);
	cr_assert_eq(c.caddr.v4, e.caddr.v4);
	cr_assert_eq(c.vaddr.v4, e.vaddr.v4);
	cr_assert_eq(c.daddr.v4, e.daddr.v4);
	cr_assert_eq(c.cport, 40000);
	cr_assert_eq(c.vport, 80);
	cr_assert_eq(c.dport, 8080);
	json_decref(o);
}

/* POST /v1/trace: the answer's parts that xvsadm --trace tells, for a persistent sh
 * service with a connection and a template of the client. */
Test(wire, trace_keys)
{
	static const char *const top[] = {
		XVS_WIRE_PACKET, XVS_WIRE_SERVICE, XVS_WIRE_CONNECTIONS, XVS_WIRE_MORE_CONNECTIONS,
		XVS_WIRE_TEMPLATE, XVS_WIRE_SCHEDULER, XVS_WIRE_SERVERS, XVS_WIRE_LEFT_OUT,
		XVS_WIRE_VERDICT, XVS_WIRE_SERVER, NULL,
	};
	static const char *const packet[] = {XVS_WIRE_PROTO, XVS_WIRE_CADDR, XVS_WIRE_CPORT,
					     XVS_WIRE_VADDR, XVS_WIRE_VPORT, NULL};
	static const char *const service[] = {
		XVS_WIRE_VIA, XVS_WIRE_SCHED, XVS_WIRE_SLOT, XVS_WIRE_PROTO, XVS_WIRE_ADDR,
		XVS_WIRE_PORT, XVS_WIRE_PERSISTENT, XVS_WIRE_NETMASK, NULL,
	};
	static const char *const conn[] = {XVS_WIRE_ADDR, XVS_WIRE_PORT, XVS_WIRE_WORKER,
					   XVS_WIRE_STATE, XVS_WIRE_EXPIRE, XVS_WIRE_CPORT,
					   XVS_WIRE_FWD, NULL};
	static const char *const tpl[] = {XVS_WIRE_ADDR, XVS_WIRE_PORT, XVS_WIRE_WORKER,
					  XVS_WIRE_CLIENT, XVS_WIRE_EXPIRE, XVS_WIRE_FWD, NULL};
	static const char *const sched[] = {XVS_WIRE_SCHED_NAME, XVS_WIRE_SCOPE, XVS_WIRE_BUCKET,
					    XVS_WIRE_BUCKETS, XVS_WIRE_BUCKET_SERVER,
					    XVS_WIRE_SERVER, NULL};
	static const char *const server[] = {
		XVS_WIRE_ADDR, XVS_WIRE_PORT, XVS_WIRE_WEIGHT, XVS_WIRE_ACTIVE, XVS_WIRE_INACTIVE,
		XVS_WIRE_OVERLOADED, XVS_WIRE_AVAILABLE, XVS_WIRE_HEALTH, NULL,
	};
	static const char *const addr_port[] = {XVS_WIRE_ADDR, XVS_WIRE_PORT, NULL};
	const char *ops = "{\"ops\":["
		"{\"op\":\"add-service\",\"service\":{\"proto\":\"tcp\","
		"\"addr\":\"198.18.0.100\",\"port\":80,\"sched\":\"sh\",\"persistent\":300}},"
		"{\"op\":\"add-dest\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.100\","
		"\"port\":80},\"dest\":{\"addr\":\"198.19.0.11\",\"port\":8080,\"fwd\":\"masq\"}}]}";
	struct xvs_ctl_model *m = xvs_ctl_model_new(NULL);
	struct xvs_ctl_op *op = NULL;
	struct xvs_ctl_err err;
	unsigned nb = 0;
	char msg[256] = "";

	cr_assert_not_null(m);
	cr_assert_eq(xvs_ctl_json_parse_ops(ops, strlen(ops), &op, &nb, &err), 0, "%s", err.msg);
	cr_assert_eq(xvs_ctl_model_apply(m, op, nb, &err), 0, "%s", err.msg);
	xvs_ctl_ops_free(op, nb);
	xvs_ctl_overlay_refresh(m, 0);
	struct xvs_gen *g = malloc(sizeof(*g));
	cr_assert_not_null(g);
	cr_assert_eq(xvs_ctl_build_gen(m, g, msg, sizeof(msg)), 0, "%s", msg);

	struct xvs_ctl_trace_req rq = {.af = XVS_AF_INET, .proto = XVS_PROTO_TCP, .vport = 80,
				       .cport = 40000};
	ip(AF_INET, "198.18.0.100", &rq.vaddr);
	ip(AF_INET, "198.18.0.2", &rq.caddr);
	struct xvs_ctl_trace_found f = {0};
	const char *via;
	f.svc = xvs_ctl_trace_service(g, &rq, &via);
	cr_assert_geq(f.svc, 0);
	f.conns[0] = dump_entry("198.18.0.2", 40000, "198.18.0.100", 80, "198.19.0.11");
	f.conn_worker[0] = 1;
	f.nb_conns = 1;
	f.tpl = dump_entry("198.18.0.2", 0, "198.18.0.100", 80, "198.19.0.11");
	f.has_tpl = true;

	json_t *o = xvs_ctl_trace_answer(m, g, NULL, &rq, &f, via);
	has_keys(o, top, true, "trace");
	has_keys(json_object_get(o, XVS_WIRE_PACKET), packet, true, "trace.packet");
	has_keys(json_object_get(o, XVS_WIRE_SERVICE), service, true, "trace.service");
	has_keys(json_array_get(json_object_get(o, XVS_WIRE_CONNECTIONS), 0), conn, true,
		 "trace.connections[0]");
	has_keys(json_object_get(o, XVS_WIRE_TEMPLATE), tpl, true, "trace.template");
	const json_t *sc = json_object_get(o, XVS_WIRE_SCHEDULER);
	has_keys(sc, sched, true, "trace.scheduler");
	has_keys(json_object_get(sc, XVS_WIRE_BUCKET_SERVER), addr_port, true,
		 "trace.scheduler.bucket_server");
	has_keys(json_array_get(json_object_get(o, XVS_WIRE_SERVERS), 0), server, true,
		 "trace.servers[0]");
	has_keys(json_object_get(o, XVS_WIRE_SERVER), addr_port, true, "trace.server");
	cr_assert(json_is_array(json_object_get(o, XVS_WIRE_LEFT_OUT)));
	cr_assert_str_eq(json_string_value(json_object_get(sc, XVS_WIRE_SCOPE)),
			 XVS_WIRE_SCOPE_HASH);
	cr_assert_str_eq(json_string_value(json_object_get(o, XVS_WIRE_VERDICT)),
			 XVS_WIRE_VERDICT_CONN);
	json_decref(o);
	free(g);
	xvs_ctl_model_free(m);
}
