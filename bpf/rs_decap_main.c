/* xvs-rs-decap: command line front end of the real-server decapsulator's loader. */
#include <errno.h>
#include <netinet/in.h>
#include <popt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "rs_decap.h"

#define RS_EXIT_USAGE 2

static const char rs_usage[] =
	"Usage:\n"
	"  xvs-rs-decap attach IFACE --local ADDR [--local ADDR...] [--gue-port N] [--xdp]\n"
	"  xvs-rs-decap detach IFACE\n"
	"  xvs-rs-decap stats IFACE\n"
	"Options of every command: --pin-dir DIR (default " XVS_RS_DECAP_PIN_DIR "), -v\n";

enum { RS_OPT_LOCAL = 1, RS_OPT_ATTACH };

struct rs_args {
	struct xvs_rs_decap_conf conf;
	const char *cmd;
	bool attach_opts; /* an option that only `attach` takes was given */
};

static bool rs_verbose;

static int rs_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !rs_verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int rs_add_local(struct xvs_rs_decap_conf *c, const char *s)
{
	if (c->nb_locals >= XVS_DECAP_MAX_LOCALS) {
		fprintf(stderr, "xvs-rs-decap: at most %d --local addresses\n", XVS_DECAP_MAX_LOCALS);
		return -E2BIG;
	}
	if (xvs_rs_decap_parse_addr(s, &c->locals[c->nb_locals])) {
		fprintf(stderr, "xvs-rs-decap: --local %s: not an IPv4 or IPv6 address\n", s);
		return -EINVAL;
	}
	c->nb_locals++;
	return 0;
}

/* Check what the options alone cannot: the command, its operand, their combinations. */
static int rs_check(poptContext pc, struct rs_args *a, int gue_port)
{
	const char *extra;

	a->cmd = poptGetArg(pc);
	a->conf.ifname = poptGetArg(pc);
	extra = poptGetArg(pc);
	if (!a->cmd || !a->conf.ifname || extra ||
	    (strcmp(a->cmd, "attach") && strcmp(a->cmd, "detach") && strcmp(a->cmd, "stats"))) {
		fputs(rs_usage, stderr);
		return -EINVAL;
	}
	if (gue_port < 0 || gue_port > 65535) {
		fprintf(stderr, "xvs-rs-decap: --gue-port %d: not a UDP port\n", gue_port);
		return -EINVAL;
	}
	a->conf.gue_port = (uint16_t)gue_port;
	if (!strcmp(a->cmd, "attach") && !a->conf.nb_locals) {
		fprintf(stderr, "xvs-rs-decap: attach needs at least one --local ADDR\n");
		return -EINVAL;
	}
	if (strcmp(a->cmd, "attach") && a->attach_opts) {
		fprintf(stderr, "xvs-rs-decap: --local, --gue-port and --xdp go with attach only\n");
		return -EINVAL;
	}
	return 0;
}

/* Parse argv into a; the strings stay owned by pc (and argv). 0, or -errno after a message. */
static int rs_parse(poptContext pc, struct rs_args *a, int *gue_port)
{
	char *arg;
	int rc, err = 0;

	while (!err && (rc = poptGetNextOpt(pc)) > 0) {
		a->attach_opts = true;
		if (rc != RS_OPT_LOCAL)
			continue;
		arg = poptGetOptArg(pc);
		err = arg ? rs_add_local(&a->conf, arg) : -EINVAL;
		free(arg);
	}
	if (!err && rc < -1) {
		fprintf(stderr, "xvs-rs-decap: %s: %s\n%s", poptBadOption(pc, POPT_BADOPTION_NOALIAS),
			poptStrerror(rc), rs_usage);
		err = -EINVAL;
	}
	return err ? err : rs_check(pc, a, *gue_port);
}

static int rs_print_stats(const struct rs_args *a)
{
	char buf[INET6_ADDRSTRLEN];
	struct xvs_rs_decap_state st;
	unsigned int i;
	int err;

	err = xvs_rs_decap_show(a->conf.pin_dir, a->conf.ifname, &st);
	if (err)
		return err;
	printf("interface %s\nmode %s\ngue_port %u\n", a->conf.ifname, st.xdp ? "xdp" : "tc",
	       st.gue_port);
	for (i = 0; i < st.nb_locals; i++)
		printf("local %s\n", xvs_rs_decap_format_addr(&st.locals[i], buf, sizeof(buf)));
	for (i = 0; i < XVS_DECAP_NB_COUNTERS; i++)
		printf("%s %llu\n", xvs_rs_decap_counter_names[i],
		       (unsigned long long)st.counters[i]);
	return 0;
}

/* One line on stderr for a failed command, with what to do about the common cases. */
static void rs_report(const struct rs_args *a, int err)
{
	const char *hint = "";

	if (err == -EEXIST && !strcmp(a->cmd, "attach"))
		hint = " (already attached? run detach first)";
	else if (err == -ENOENT)
		hint = " (not attached, or pinned under another --pin-dir)";
	else if (err == -EXDEV)
		hint = ": the pin directory is not a bpffs and this process has a private mount "
		       "namespace (ip netns exec?); mount it first: mount -t bpf bpf DIR";
	else if (err == -EBUSY)
		hint = ": another program holds xvs's tc filter slot; left alone";
	fprintf(stderr, "xvs-rs-decap: %s %s: %s%s\n", a->cmd, a->conf.ifname, strerror(-err),
		hint);
}

int main(int argc, char **argv)
{
	int gue_port = 0, xdp = 0, verbose = 0, err;
	char *pin_dir = NULL; /* popt allocates it; freed below */
	struct rs_args a = { .conf = { .pin_dir = XVS_RS_DECAP_PIN_DIR } };
	struct poptOption opts[] = {
		{ "local", 'l', POPT_ARG_STRING, NULL, RS_OPT_LOCAL,
		  "an outer destination address of this host (repeat for more)", "ADDR" },
		{ "gue-port", 'g', POPT_ARG_INT, &gue_port, RS_OPT_ATTACH,
		  "UDP destination port of GUE (default: GUE off)", "N" },
		{ "xdp", 'x', POPT_ARG_NONE, &xdp, RS_OPT_ATTACH,
		  "attach at XDP instead of tc ingress", NULL },
		{ "pin-dir", 'p', POPT_ARG_STRING, &pin_dir, 0,
		  "bpffs directory of the pins", "DIR" },
		{ "verbose", 'v', POPT_ARG_NONE, &verbose, 0, "libbpf's debug log", NULL },
		POPT_AUTOHELP POPT_TABLEEND
	};
	poptContext pc = poptGetContext("xvs-rs-decap", argc, (const char **)argv, opts, 0);

	err = rs_parse(pc, &a, &gue_port);
	if (pin_dir)
		a.conf.pin_dir = pin_dir;
	if (err) {
		poptFreeContext(pc);
		free(pin_dir);
		return RS_EXIT_USAGE;
	}
	a.conf.xdp = xdp;
	rs_verbose = verbose;
	libbpf_set_print(rs_libbpf_print);
	if (!strcmp(a.cmd, "attach"))
		err = xvs_rs_decap_attach(&a.conf);
	else if (!strcmp(a.cmd, "detach"))
		err = xvs_rs_decap_detach(a.conf.pin_dir, a.conf.ifname);
	else
		err = rs_print_stats(&a);
	if (err)
		rs_report(&a, err);
	poptFreeContext(pc);
	free(pin_dir);
	return err ? 1 : 0;
}
