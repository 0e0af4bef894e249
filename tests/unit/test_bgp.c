/*
 * VIP announcement over BGP (control/ctl_bgp.c): which VIPs are announceable, the BIRD
 * include written for them, its atomic write, and BIRD's control socket protocol against
 * fake BIRDs (one that answers, one that reports a parse error, one that never greets, none).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_bgp.h"
#include "ctl_text.h"
#include "ctl_json.h"
#include "ctl_model.h"
#include "ctl_publish.h"

#define SVC(addr, port) "\"service\":{\"proto\":\"tcp\",\"addr\":\"" addr "\",\"port\":" #port "}"

static void run_ok(struct xvs_ctl_model *m, const char *json)
{
	struct xvs_ctl_err err;
	struct xvs_ctl_op *ops;
	unsigned nb;
	int rc = xvs_ctl_json_parse_ops(json, strlen(json), &ops, &nb, &err);
	cr_assert_eq(rc, 0, "%s: %s", json, err.msg);
	rc = xvs_ctl_model_apply(m, ops, nb, &err);
	xvs_ctl_ops_free(ops, nb);
	cr_assert_eq(rc, 0, "%s: %s", json, err.msg);
}

static struct xvs_bgp_vip vips[XVS_MAX_SVCS];

/* "addr:up addr:up ..." of the model's VIPs. */
static const char *vip_list(const struct xvs_ctl_model *m, bool ready)
{
	static char out[512];
	unsigned n = xvs_bgp_vips(m, ready, vips);
	size_t len = 0;
	out[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		char a[INET6_ADDRSTRLEN];
		inet_ntop(vips[i].af == XVS_AF_INET ? AF_INET : AF_INET6, vips[i].addr.v6, a, sizeof(a));
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s:%d", i ? " " : "", a,
					vips[i].up);
	}
	return out;
}

/* VIP 198.18.0.100: TCP :80 with rs 10.0.0.1 and 10.0.0.2 (weight 1 each). */
static struct xvs_ctl_model *model(void)
{
	struct xvs_ctl_model *m = xvs_ctl_model_new(NULL);
	cr_assert_not_null(m);
	run_ok(m, "{\"ops\":[{\"op\":\"add-service\"," SVC("198.18.0.100", 80) "},"
		  "{\"op\":\"add-dest\"," SVC("198.18.0.100", 80) ",\"dest\":{\"addr\":\"10.0.0.1\",\"port\":80}},"
		  "{\"op\":\"add-dest\"," SVC("198.18.0.100", 80) ",\"dest\":{\"addr\":\"10.0.0.2\",\"port\":80}}]}");
	return m;
}

Test(bgp, vip_up_with_a_weighted_server_and_a_ready_dataplane)
{
	struct xvs_ctl_model *m = model();
	cr_assert_str_eq(vip_list(m, true), "198.18.0.100:1");
	cr_assert_str_eq(vip_list(m, false), "198.18.0.100:0", "no dataplane: nothing is up");
	run_ok(m, "{\"ops\":[{\"op\":\"edit-dest\"," SVC("198.18.0.100", 80)
		  ",\"dest\":{\"addr\":\"10.0.0.1\",\"port\":80,\"weight\":0}}]}");
	cr_assert_str_eq(vip_list(m, true), "198.18.0.100:1", "one server left with a weight");
	run_ok(m, "{\"ops\":[{\"op\":\"edit-dest\"," SVC("198.18.0.100", 80)
		  ",\"dest\":{\"addr\":\"10.0.0.2\",\"port\":80,\"weight\":0}}]}");
	cr_assert_str_eq(vip_list(m, true), "198.18.0.100:0", "every server at weight 0");
	run_ok(m, "{\"ops\":[{\"op\":\"edit-dest\"," SVC("198.18.0.100", 80)
		  ",\"dest\":{\"addr\":\"10.0.0.2\",\"port\":80,\"weight\":3}}]}");
	cr_assert_str_eq(vip_list(m, true), "198.18.0.100:1");
	run_ok(m, "{\"ops\":[{\"op\":\"delete-dest\"," SVC("198.18.0.100", 80)
		  ",\"dest\":{\"addr\":\"10.0.0.2\",\"port\":80}}]}");
	cr_assert_str_eq(vip_list(m, true), "198.18.0.100:0", "the weighted server deleted");
	xvs_ctl_model_free(m);
}

Test(bgp, one_service_up_keeps_the_vip)
{
	struct xvs_ctl_model *m = model();
	/* a second service of the VIP with no server, a fwmark service (no address), an IPv6
	 * VIP and one with a lower address */
	run_ok(m, "{\"ops\":[{\"op\":\"add-service\"," SVC("198.18.0.100", 443) "},"
		  "{\"op\":\"add-service\",\"service\":{\"fwmark\":7}},"
		  "{\"op\":\"add-dest\",\"service\":{\"fwmark\":7},\"dest\":{\"addr\":\"10.0.0.1\",\"port\":80}},"
		  "{\"op\":\"add-service\",\"service\":{\"proto\":\"udp\",\"addr\":\"2001:db8::10\",\"port\":53}},"
		  "{\"op\":\"add-dest\",\"service\":{\"proto\":\"udp\",\"addr\":\"2001:db8::10\",\"port\":53},"
		  "\"dest\":{\"addr\":\"2001:db8:1::1\",\"port\":53}},"
		  "{\"op\":\"add-service\"," SVC("198.18.0.7", 80) "}]}");
	cr_assert_str_eq(vip_list(m, true), "198.18.0.7:0 198.18.0.100:1 2001:db8::10:1");
	run_ok(m, "{\"ops\":[{\"op\":\"delete-service\"," SVC("198.18.0.100", 80) "}]}");
	cr_assert_str_eq(vip_list(m, true), "198.18.0.7:0 198.18.0.100:0 2001:db8::10:1");
	xvs_ctl_model_free(m);
}

Test(bgp, quorum)
{
	struct xvs_ctl_model *m = model();
	run_ok(m, "{\"ops\":[{\"op\":\"set-service-health\"," SVC("198.18.0.100", 80)
		  ",\"health\":{\"quorum\":3}}]}");
	cr_assert_str_eq(vip_list(m, true), "198.18.0.100:0", "live weight 2 of quorum 3");
	run_ok(m, "{\"ops\":[{\"op\":\"set-service-health\"," SVC("198.18.0.100", 80)
		  ",\"health\":{\"quorum\":2}}]}");
	cr_assert_str_eq(vip_list(m, true), "198.18.0.100:1", "live weight 2 of quorum 2");
	/* a sorry server does not make the VIP serve: the quorum is what counts */
	run_ok(m, "{\"ops\":[{\"op\":\"set-service-health\"," SVC("198.18.0.100", 80)
		  ",\"health\":{\"quorum\":5,\"sorry_server\":{\"addr\":\"10.0.0.9\",\"port\":80}}}]}");
	cr_assert_str_eq(vip_list(m, true), "198.18.0.100:0");
	xvs_ctl_model_free(m);
}

Test(bgp, include_text)
{
	struct xvs_bgp_vip v[3] = {{.af = XVS_AF_INET, .up = true}, {.af = XVS_AF_INET, .up = false},
				   {.af = XVS_AF_INET6, .up = true}};
	inet_pton(AF_INET, "198.18.0.100", &v[0].addr.v4);
	inet_pton(AF_INET, "198.18.0.101", &v[1].addr.v4);
	inet_pton(AF_INET6, "2001:db8::10", v[2].addr.v6);
	char *t = xvs_bgp_include_text(v, 3);
	cr_assert_not_null(t);
	const char *body = strstr(t, "protocol static");
	cr_assert_not_null(body);
	cr_assert_str_eq(body, "protocol static xvs_vips4 {\n\tipv4;\n\troute 198.18.0.100/32 blackhole;\n}\n"
			       "protocol static xvs_vips6 {\n\tipv6;\n\troute 2001:db8::10/128 blackhole;\n}\n");
	free(t);
	t = xvs_bgp_include_text(v, 0);
	cr_assert_not_null(strstr(t, "protocol static xvs_vips4 {\n\tipv4;\n}\nprotocol static xvs_vips6 {\n\tipv6;\n}\n"));
	free(t);
}

/* Each test runs in a process of its own, with a directory of its own. */
static char dir[] = "/tmp/xvs-test-bgp.XXXXXX";

static void mk_dir(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void rm_dir(void)
{
	rmdir(dir); /* the tests remove their files */
}

TestSuite(bgp, .init = mk_dir, .fini = rm_dir);

Test(bgp, write_file)
{
	char path[256], tmp[300], msg[256], got[64] = "";
	snprintf(path, sizeof(path), "%s/vips.conf", dir);
	cr_assert_eq(xvs_text_write_file(path, "one\n", msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(xvs_text_write_file(path, "two\n", msg, sizeof(msg)), 0, "%s", msg);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(got, sizeof(got), f));
	fclose(f);
	cr_assert_str_eq(got, "two\n");
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	cr_assert_eq(access(tmp, F_OK), -1, "the temporary file is gone");
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0644);
	unlink(path);
	snprintf(path, sizeof(path), "%s/no-such-dir/vips.conf", dir);
	cr_assert_eq(xvs_text_write_file(path, "x\n", msg, sizeof(msg)), -ENOENT);
	cr_assert_not_null(strstr(msg, "no-such-dir"), "%s", msg);
}

/* ---- fake BIRDs ---------------------------------------------------------------------- */

struct fake {
	int lfd;
	const char *greeting; /* NULL: accept and say nothing */
	const char *answer;   /* to "configure\n" */
	char got[64];
};

static void *fake_run(void *arg)
{
	struct fake *f = arg;
	int fd = accept(f->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	if (!f->greeting) {
		char c;
		(void)!read(fd, &c, 1); /* until the client gives up */
		close(fd);
		return NULL;
	}
	(void)!write(fd, f->greeting, strlen(f->greeting));
	size_t n = 0;
	while (n < sizeof(f->got) - 1 && !strchr(f->got, '\n')) {
		ssize_t r = read(fd, f->got + n, sizeof(f->got) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	/* in two pieces, as a slow BIRD may send it */
	size_t half = strlen(f->answer) / 2;
	(void)!write(fd, f->answer, half);
	usleep(20000);
	(void)!write(fd, f->answer + half, strlen(f->answer) - half);
	close(fd);
	return NULL;
}

static int fake_configure(const char *greeting, const char *answer, char *msg, size_t msglen,
			  struct fake *f)
{
	char path[200];
	snprintf(path, sizeof(path), "%s/bird.ctl", dir);
	unlink(path);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	memcpy(sa.sun_path, path, strlen(path) + 1); /* short: /tmp/xvs-test-bgp.XXXXXX/bird.ctl */
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_geq(f->lfd, 0);
	cr_assert_eq(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(f->lfd, 1), 0);
	f->greeting = greeting;
	f->answer = answer;
	memset(f->got, 0, sizeof(f->got));
	pthread_t t;
	pthread_create(&t, NULL, fake_run, f);
	int rc = xvs_bgp_bird_configure(path, 500, msg, msglen);
	pthread_join(t, NULL);
	close(f->lfd);
	unlink(path);
	return rc;
}

Test(bgp, bird_reconfigured)
{
	struct fake f;
	char msg[256];
	int rc = fake_configure("0001 BIRD 2.0.12 ready.\n",
			       "0002-Reading configuration from /etc/bird/bird.conf\n0003 Reconfigured\n",
			       msg, sizeof(msg), &f);
	cr_assert_eq(rc, 0, "%s", msg);
	cr_assert_str_eq(f.got, "configure\n");
	cr_assert_str_eq(msg, "BIRD: Reconfigured");
	rc = fake_configure("0001 BIRD 2.0.12 ready.\n", "0004 Reconfiguration in progress\n", msg,
			    sizeof(msg), &f);
	cr_assert_eq(rc, 0, "%s", msg);
}

Test(bgp, bird_refuses)
{
	struct fake f;
	char msg[256];
	int rc = fake_configure("0001 BIRD 2.0.12 ready.\n",
			       "0002-Reading configuration from bird.conf\n"
			       "8002 /run/xvs/vips.conf:3:9 syntax error\n", msg, sizeof(msg), &f);
	cr_assert_eq(rc, -EPROTO);
	cr_assert_not_null(strstr(msg, "8002 /run/xvs/vips.conf:3:9 syntax error"), "%s", msg);
	rc = fake_configure("0001 BIRD 2.0.12 ready.\n", "0016 Access restricted\n", msg, sizeof(msg),
			    &f);
	cr_assert_eq(rc, -EPROTO, "%s", msg);
	rc = fake_configure("0001 BIRD 2.0.12 ready.\n", "0002-Reading configuration", msg,
			    sizeof(msg), &f);
	cr_assert_eq(rc, -ECONNRESET, "closed before the last line: %s", msg);
}

Test(bgp, bird_silent_or_absent)
{
	struct fake f;
	char msg[256];
	uint64_t t0 = xvs_now_ns();
	int rc = fake_configure(NULL, NULL, msg, sizeof(msg), &f);
	uint64_t ms = (xvs_now_ns() - t0) / 1000000;
	cr_assert_eq(rc, -ETIMEDOUT, "%s", msg);
	cr_assert(ms >= 450 && ms < 2000, "gave up after %llu ms", (unsigned long long)ms);
	char path[200];
	snprintf(path, sizeof(path), "%s/none.ctl", dir);
	rc = xvs_bgp_bird_configure(path, 500, msg, sizeof(msg));
	cr_assert_eq(rc, -ENOENT, "%s", msg);
	cr_assert_not_null(strstr(msg, "cannot reach BIRD"), "%s", msg);
}

Test(bgp, socket_option)
{
	char msg[256], longp[200];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	cr_assert_eq(xvs_bgp_check_socket("/run/bird/bird.ctl", msg, sizeof(msg)), 0);
	cr_assert_eq(xvs_bgp_check_socket(longp, msg, sizeof(msg)), -EINVAL);
	cr_assert_eq(xvs_bgp_check_socket("", msg, sizeof(msg)), -EINVAL);
}

/* The daemon's part without a dataplane: the file at the start, nothing announced, BIRD's
 * absence in the status, the gauge at 0. */
Test(bgp, daemon_without_dataplane_or_bird)
{
	struct xvs_ctl c = {0};
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	c.model = model();
	char inc[100], sock[100], msg[256];
	snprintf(inc, sizeof(inc), "%s/vips.conf", dir);
	snprintf(sock, sizeof(sock), "%s/none.ctl", dir);
	const struct xvs_bgp_cfg cfg = {inc, sock};
	struct xvs_bgp *b = xvs_bgp_start(&cfg, &c, &lock, msg, sizeof(msg));
	cr_assert_not_null(b, "%s", msg);
	FILE *f = fopen(inc, "r");
	cr_assert_not_null(f, "the file is there when start returns");
	char text[512] = "";
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	cr_assert_not_null(strstr(text, "protocol static xvs_vips4 {\n\tipv4;\n}\n"), "%s", text);
	json_t *o = NULL;
	for (int i = 0; i < 100; i++) { /* the thread's first try at BIRD */
		json_decref(o);
		o = xvs_bgp_json(b);
		if (json_string_value(json_object_get(o, "error")))
			break;
		usleep(20000);
	}
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	char want[1024];
	snprintf(want, sizeof(want),
		 "{\"include\":\"%s\",\"socket\":\"%s\",\"dataplane_ready\":false,\"pending\":true,"
		 "\"announced\":[],\"vips\":[{\"vip\":\"198.18.0.100\",\"serving\":false,"
		 "\"announced\":false}],\"error\":\"cannot reach BIRD at %s: No such file or directory\"}",
		 inc, sock, sock);
	cr_assert_str_eq(s, want);
	free(s);
	char *m = strdup("xvs_control_up 1\n");
	size_t len = strlen(m);
	cr_assert_eq(xvs_bgp_metrics(b, &m, &len), 0);
	cr_assert_str_eq(m, "xvs_control_up 1\n# HELP xvs_vip_announced 1: BIRD announces the VIP (its "
			    "last reconfiguration took it); 0: withdrawn.\n# TYPE xvs_vip_announced gauge\n"
			    "xvs_vip_announced{vip=\"198.18.0.100\"} 0\n");
	cr_assert_eq(len, strlen(m));
	free(m);
	xvs_bgp_stop(b);
	xvs_ctl_model_free(c.model);
	c.model = NULL;
	unlink(inc);
	/* a file that cannot be written stops the start */
	snprintf(inc, sizeof(inc), "%s/no-such-dir/vips.conf", dir);
	const struct xvs_bgp_cfg bad = {inc, sock};
	cr_assert_null(xvs_bgp_start(&bad, &c, &lock, msg, sizeof(msg)));
	cr_assert_not_null(strstr(msg, "--bird-include: cannot write"), "%s", msg);
}
