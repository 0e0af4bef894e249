/*
 * Fuzz target: the control API's POST /v1/ops (control/ctl_json.c into the model of
 * control/ctl_model.c), as xvs_ctl_commit runs it, on the input as the request body.
 *
 * - A body the parser refuses has an errno and a message, and no ops.
 * - The ops are one transaction on a model of a few services, mark rules and a trashed
 *   real server: refused, the model is byte for byte what it was, and the error names an
 *   errno and an op (or none); accepted, the model builds a table generation that the
 *   dataplane's validator accepts (a refusal there is only "too big", never "invalid").
 * - An accepted model renders as the API renders it, goes through the state file and back
 *   unchanged (same slots, marks, timeouts), and its `xvsadm -S` listing restores it.
 * - The same body as POST /v1/trace (control/ctl_trace.c): refused with a message, or traced
 *   on the base model's generation: an answer with a verdict, whose server is one of the
 *   service's.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_json.h"
#include "ctl_persist.h"
#include "ctl_publish.h"
#include "ctl_trace.h"
#include "fuzz_common.h"
#include "xvs/gen.h"

static struct xvs_ctl_model *snapshot, *work;
static struct xvs_gen *gen, *trace_gen;
static char state[128];

static const char *const base_rules[] = {
	"-A -t 198.18.0.100:80 -s wrr -p 360 -M 255.255.255.0",
	"-a -t 198.18.0.100:80 -r 198.18.0.21:8080 -m -w 3 -x 50 -y 5",
	"-a -t 198.18.0.100:80 -r 198.18.0.22:8080 -m -w 1",
	"-a -t 198.18.0.100:80 -r 198.18.0.23:8080 -m -w 1",
	"-d -t 198.18.0.100:80 -r 198.18.0.23:8080",
	"-A -u [2001:db8::100]:53 -s mh -b mh-port",
	"-a -u [2001:db8::100]:53 -r [2001:db8::21]:53 -i --tun-type gue --tun-port 6080",
	"-a -u [2001:db8::100]:53 -r 198.18.0.22:53 -i",
	"-A --sctp-service 198.18.0.100:3868 -s sh -b sh-fallback",
	"-a --sctp-service 198.18.0.100:3868 -r 198.18.0.21:3869 -m",
	"-A -f 1 -s rr -p 600",
	"-a -f 1 -r 198.18.0.21 -g",
	"--add-mark --proto tcp --dst 198.18.0.96/29 --dport 8000:8999 --mark 1",
	"--add-mark --dst 2001:db8::/64 --mark 2",
	"--set 3600 60 120",
	NULL,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char msg[256] = "";
	snapshot = fuzz_model_new(base_rules);
	work = fuzz_model_scratch(1, snapshot);
	gen = malloc(sizeof(*gen));
	trace_gen = malloc(sizeof(*trace_gen));
	if (!work || !gen || !trace_gen)
		fuzz_die("set-up: no memory");
	if (xvs_ctl_build_gen(snapshot, trace_gen, msg, sizeof(msg)) < 0)
		fuzz_die("set-up: the base model builds no generation: %s", msg);
	snprintf(state, sizeof(state), "%s/config.json", fuzz_tmpdir("api"));
	return 0;
}

static char *dump(json_t *doc)
{
	char *s = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (!s)
		fuzz_die("cannot render a document");
	json_decref(doc);
	return s;
}

/* Everything the state file keeps, as text: services with slots, marks, timeouts. */
static char *saved_text(const struct xvs_ctl_model *m)
{
	json_t *all = json_pack("{soso}", "services", xvs_ctl_json_services(m, NULL, NULL), "marks",
				xvs_ctl_json_marks(m));
	char *s = dump(all);
	char *t = NULL;
	if (asprintf(&t, "%s %u %u %u", s, m->timeouts.tcp, m->timeouts.tcpfin, m->timeouts.udp) < 0)
		fuzz_die("no memory");
	free(s);
	return t;
}

static void check_state_file(const struct xvs_ctl_model *m)
{
	char msg[512];
	if (xvs_ctl_persist_save(m, state, msg, sizeof(msg)) < 0)
		fuzz_die("cannot save the state: %s", msg);
	struct xvs_ctl_model *back = fuzz_model_scratch(0, NULL);
	if (xvs_ctl_persist_load(back, state, msg, sizeof(msg)) < 0)
		fuzz_die("the state file just saved does not load: %s", msg);
	char *a = saved_text(m), *b = saved_text(back);
	if (strcmp(a, b) != 0)
		fuzz_die("the state file loads another configuration:\n%s\n%s", a, b);
	free(a);
	free(b);
}

static void accepted(const struct xvs_ctl_model *m)
{
	char msg[256] = "";
	int rc = xvs_ctl_build_gen(m, gen, msg, sizeof(msg));
	if (rc == -EINVAL || (rc < 0 && strstr(msg, "internal error")))
		fuzz_die("an accepted model builds no valid generation: %s", msg);
	free(dump(xvs_ctl_json_status(m, NULL)));
	check_state_file(m);
	fuzz_check_save_restore(m);
}

/* The body as a trace request, on the base model. */
static void trace(const uint8_t *data, size_t size)
{
	struct xvs_ctl_trace_req rq;
	struct xvs_ctl_trace_found f = {0};
	const char *via = "";
	char msg[256] = "";

	if (xvs_ctl_trace_parse((const char *)data, size, &rq, msg, sizeof(msg)) < 0) {
		if (!msg[0])
			fuzz_die("a refused trace request without a message");
		return;
	}
	f.svc = xvs_ctl_trace_service(trace_gen, &rq, &via);
	if (f.svc < 0)
		return;
	json_t *o = xvs_ctl_trace_answer(snapshot, trace_gen, NULL, &rq, &f, via);
	const char *verdict = json_string_value(json_object_get(o, "verdict"));
	if (!o || !verdict)
		fuzz_die("a trace without an answer");
	const json_t *server = json_object_get(o, "server");
	if (json_is_object(server)) {
		const char *addr = json_string_value(json_object_get(server, "addr"));
		const json_t *d;
		size_t i, found = 0;
		json_array_foreach(json_object_get(o, "servers"), i, d)
			found |= addr && strcmp(addr, json_string_value(json_object_get(d, "addr"))) == 0;
		if (!found)
			fuzz_die("the traced server %s is not one of the service's", addr ? addr : "?");
	} else if (strcmp(verdict, "no server") != 0) {
		fuzz_die("verdict %s without a server", verdict);
	}
	free(dump(o));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	trace(data, size);
	struct xvs_ctl_op *ops = NULL;
	struct xvs_ctl_err err;
	unsigned nb = 0;

	int rc = xvs_ctl_json_parse_ops((const char *)data, size, &ops, &nb, &err);
	if (rc < 0) {
		if (ops || err.err != -rc || !err.msg[0])
			fuzz_die("a refused body: ops %p, errno %d for %d, message \"%s\"", (void *)ops,
				 err.err, rc, err.msg);
		free(dump(xvs_ctl_json_error(err.err, err.index, err.msg)));
		return 0;
	}
	fuzz_model_scratch(1, snapshot); /* work */
	rc = xvs_ctl_model_apply(work, ops, nb, &err);
	if (rc < 0) {
		if (err.err != -rc || err.index < -1 || err.index >= (int)nb || !err.msg[0])
			fuzz_die("a refused transaction: errno %d for %d, op %d of %u, message \"%s\"",
				 err.err, rc, err.index, nb, err.msg);
		if (memcmp(work, snapshot, sizeof(*work)) != 0)
			fuzz_die("a refused transaction changed the model");
		free(dump(xvs_ctl_json_error(err.err, err.index, err.msg)));
	} else {
		accepted(work);
	}
	xvs_ctl_ops_free(ops, nb);
	return 0;
}
