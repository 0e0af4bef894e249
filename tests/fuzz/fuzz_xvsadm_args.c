/*
 * Fuzz target: xvsadm's command line (xvsadm/xvsadm_parse.c) and its -R reader.
 *
 * Each input is used twice:
 * - split on NUL bytes into argv (after "xvsadm"), parsed as main() parses it. A refusal
 *   must carry ipvsadm's message and exit status (2 or 255). A change command becomes its
 *   API op, which xvs-control's parser must accept (the two sides agree on the schema) and
 *   which is applied to a model of a few services (a refusal must have an errno xvsadm can
 *   word). A listing is printed from that model's table with the parsed format.
 * - read as -R input: line by line into ops, all or nothing, then one transaction.
 * Name lookups are numeric only (fuzz_common.c): the parser's resolver calls stay local.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_json.h"
#include "fuzz_common.h"
#include "xvsadm_json.h"
#include "xvsadm_print.h"

#define MAX_ARGS 64

static struct xvs_ctl_model *base;
static struct xvs_xvsadm_table table;
static FILE *sink;

static const char *const base_rules[] = {
	"-A -t 192.0.2.10:80 -s wrr -p 300 -M 255.255.255.0",
	"-a -t 192.0.2.10:80 -r 198.51.100.1:8080 -m -w 3 -x 100 -y 10",
	"-a -t 192.0.2.10:80 -r 198.51.100.2 -g -w 0",
	"-A -u [2001:db8::10]:53 -s sh -b sh-port,sh-fallback -o",
	"-a -u [2001:db8::10]:53 -r [2001:db8:1::1]:53 -i --tun-type gue --tun-port 6080 --tun-csum",
	"-A --sctp-service 192.0.2.11:3868 -s mh -b mh-fallback",
	"-a --sctp-service 192.0.2.11:3868 -r 198.51.100.3:3869 -m",
	"-A -f 7 -s lblcr -p",
	"-a -f 7 -r 198.51.100.4 -i",
	"--add-mark --proto tcp --dst 192.0.2.0/24 --dport 8000:8100 --mark 7",
	"--set 900 120 300",
	NULL,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	base = fuzz_model_new(base_rules);
	json_t *doc = xvs_ctl_json_services(base, NULL, NULL);
	if (!doc || xvs_xvsadm_json_table(doc, &table) != 0)
		fuzz_die("cannot list the base model");
	json_decref(doc);
	if (!(sink = fopen("/dev/null", "w")))
		fuzz_die("cannot open /dev/null");
	return 0;
}

/* Apply ops (a JSON array) through the API's parser to a copy of the base model. */
static void apply_ops_json(json_t *ops, enum xvs_xvsadm_cmd_kind kind)
{
	json_t *body = json_pack("{sO}", "ops", ops);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct xvs_ctl_op *v = NULL;
	struct xvs_ctl_err err;
	unsigned nb = 0;
	if (!text)
		fuzz_die("cannot dump the ops");
	if (xvs_ctl_json_parse_ops(text, strlen(text), &v, &nb, &err) < 0)
		fuzz_die("xvs-control refuses what xvsadm sends: %s (op %d): %s", err.msg, err.index,
			 text);
	struct xvs_ctl_model *m = xvs_ctl_model_dup(base);
	if (!m)
		fuzz_die("no memory");
	if (xvs_ctl_model_apply_ops(m, v, nb, &err) < 0) {
		if (err.err <= 0 || err.index < -1 || err.index >= (int)nb)
			fuzz_die("a refusal without an errno or with a bad index: %d %d", err.err,
				 err.index);
		xvs_xvsadm_strerror(kind, err.err, err.msg); /* what the user would read */
	}
	xvs_ctl_model_free(m);
	free(v);
	free(text);
	json_decref(body);
}

/* A listing as xvsadm.c's print_listing makes it, from the base model's table. */
static void print_listing(const struct xvs_xvsadm_cmd *cmd)
{
	static const struct xvs_xvsadm_conn conns[] = {
		{ .proto = 6, .af = 2, .daf = 2, .state = "ESTABLISHED", .expire = 899,
		  .caddr.v4 = 0x0100000a, .vaddr.v4 = 0x0a0200c0, .daddr.v4 = 0x016433c6,
		  .cport = 40000, .vport = 80, .dport = 8080 },
		{ .proto = 0, .af = 10, .daf = 2, .state = "NONE", .expire = 12,
		  .caddr.v6 = { 0x20, 0x01, 0x0d, 0xb8, [15] = 9 }, .daddr.v4 = 0x046433c6 },
	};
	if (cmd->options & XVSADM_OPTBIT(XVSADM_OPT_CONNECTION)) {
		xvs_xvsadm_print_conn_title(sink, cmd->format);
		for (size_t i = 0; i < sizeof(conns) / sizeof(conns[0]); i++)
			xvs_xvsadm_print_conn(sink, &conns[i], cmd->format);
	} else if (cmd->cmd == XVSADM_CMD_LISTMARKS) {
		xvs_xvsadm_print_marks(sink, &table);
	} else if (cmd->options & XVSADM_OPTBIT(XVSADM_OPT_TIMEOUT)) {
		xvs_xvsadm_print_timeout(sink, &table);
	} else if (cmd->cmd == XVSADM_CMD_LIST && (cmd->options & XVSADM_OPTBIT(XVSADM_OPT_SERVICE))) {
		xvs_xvsadm_print_service(sink, &table, &cmd->svc, cmd->format);
	} else {
		xvs_xvsadm_print_table(sink, &table, cmd->format);
	}
}

static void run_argv(int argc, const char **argv)
{
	struct xvs_xvsadm_cmd cmd;
	struct xvs_xvsadm_err err;
	memset(&err, 0, sizeof(err));
	int rc = xvs_xvsadm_parse(argc, argv, &cmd, &err);
	if (rc == 0)
		rc = xvs_xvsadm_check_supported(&cmd, &err);
	if (rc) {
		if (!err.msg[0] || (err.status != 2 && err.status != 255))
			fuzz_die("a refusal without ipvsadm's message or status (%d, \"%s\")",
				 err.status, err.msg);
		return;
	}
	switch (cmd.cmd) {
	case XVSADM_CMD_LIST:
	case XVSADM_CMD_SAVE:
	case XVSADM_CMD_LISTMARKS:
		print_listing(&cmd);
		return;
	default:
		break;
	}
	if (!xvs_xvsadm_cmd_is_change(cmd.cmd))
		return;
	json_t *op = NULL, *ops = json_array();
	if (xvs_xvsadm_json_op(&cmd, &op) != 0 || !ops)
		fuzz_die("no op for the change command %s", xvs_xvsadm_cmd_name(cmd.cmd));
	json_array_append_new(ops, op);
	apply_ops_json(ops, cmd.cmd);
	json_decref(ops);
}

/*
 * xvsadm.c's run_restore on the input as text: every line an op, or nothing applied. A line
 * is read whole (getline) and used as a C string: it ends at a NUL byte.
 */
static void run_restore(const char *data, size_t size)
{
	json_t *ops = json_array();
	struct xvs_xvsadm_err err;
	char *line = malloc(size + 1);
	int ok = 1;
	if (!ops || !line)
		fuzz_die("no memory");
	for (size_t at = 0; at < size && ok;) {
		const char *nl = memchr(data + at, '\n', size - at);
		size_t end = nl ? (size_t)(nl - data) + 1 : size;
		memcpy(line, data + at, end - at);
		line[end - at] = 0;
		at = end;
		json_t *op;
		if (fuzz_xvsadm_line_op(line, &op, &err) < 0)
			ok = 0;
		else if (op)
			json_array_append_new(ops, op);
	}
	if (ok && json_array_size(ops))
		apply_ops_json(ops, XVSADM_CMD_RESTORE);
	json_decref(ops);
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	const char *argv[MAX_ARGS + 1];
	int argc = 0;
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	argv[argc++] = "xvsadm";
	for (size_t at = 0; at <= size && argc < MAX_ARGS;) {
		argv[argc++] = buf + at;
		at += strlen(buf + at) + 1;
	}
	argv[argc] = NULL;
	run_argv(argc, argv);
	free(buf);
	run_restore((const char *)data, size);
	return 0;
}
