/*
 * Unit tests of xvs-control's Prometheus metrics: label escaping, the exposition text's
 * shape (families grouped under one HELP and TYPE, every drop reason of every worker),
 * capture from a model and a region, --metrics-listen, and that the Grafana dashboard
 * names only exported metrics.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_json.h"
#include "ctl_metrics.h"

/* ---- escaping ------------------------------------------------------------------------ */

/* Arrays, not pointers: Criterion hands the parameters to a fresh process. */
struct esc_case {
	char in[32];
	size_t outlen;
	char want[32];
};

ParameterizedTestParameters(metrics, escape)
{
	static struct esc_case cases[] = {
		{"TCP 10.0.0.1:80", 64, "TCP 10.0.0.1:80"},
		{"a\\b", 64, "a\\\\b"},
		{"say \"hi\"", 64, "say \\\"hi\\\""},
		{"two\nlines", 64, "two\\nlines"},
		{"", 64, ""},
		/* cut to fit, never inside an escape */
		{"abc\"def", 5, "abc"},
		{"abc\"def", 6, "abc\\\""},
		{"\\\\\\", 4, "\\\\"},
	};
	return cr_make_param_array(struct esc_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct esc_case *c, metrics, escape)
{
	char out[64];
	size_t n = xvs_metrics_escape(c->in, out, c->outlen);
	cr_assert_str_eq(out, c->want);
	cr_assert_eq(n, strlen(c->want));
}

/* ---- the text's shape ---------------------------------------------------------------- */

/* A snapshot with every kind of sample: two services (one address, one fwmark with health
 * settings), two servers, two workers and the main lcore. */
static void full_snap(struct xvs_metrics_snap *s)
{
	memset(s, 0, sizeof(*s));
	s->model = s->dp_up = true;
	s->nb_workers = 2;
	s->published = s->adopted = 7;
	s->nb_svcs = 2;
	s->svcs = calloc(2, sizeof(*s->svcs));
	strcpy(s->svcs[0].service, "TCP 198.18.0.100:80");
	strcpy(s->svcs[0].protocol, "tcp");
	strcpy(s->svcs[0].vip, "198.18.0.100");
	strcpy(s->svcs[0].port, "80");
	strcpy(s->svcs[0].scheduler, "rr");
	s->svcs[0].st.c.conns = 30;
	strcpy(s->svcs[1].service, "FWM 1");
	strcpy(s->svcs[1].protocol, "fwm");
	strcpy(s->svcs[1].fwmark, "1");
	strcpy(s->svcs[1].scheduler, "wlc");
	s->svcs[1].has_quorum = true;
	s->nb_dests = 2;
	s->dests = calloc(2, sizeof(*s->dests));
	s->dests[0].svc = 0;
	strcpy(s->dests[0].server, "198.19.0.11:80");
	s->dests[0].forward = "masq";
	s->dests[0].weight = 1;
	s->dests[0].listed = true;
	s->dests[0].ipvs_weight = 1;
	s->dests[0].st.c.conns = 10;
	s->dests[1].svc = 1;
	strcpy(s->dests[1].server, "[2001:db8::2]:0");
	s->dests[1].forward = "route";
	s->dests[1].health = XVS_METRICS_HEALTH_DOWN;
	s->nb_records = 3;
	s->records = calloc(3, sizeof(*s->records));
	for (int i = 0; i < 3; i++) {
		s->records[i].idx = i < 2 ? i : -1;
		s->records[i].capacity = i < 2 ? 65536 : 0;
		for (unsigned d = 0; d < XVS_DROP_MAX; d++)
			s->records[i].drops[d] = (uint64_t)(i * 100 + d);
	}
}

static char *format(const struct xvs_metrics_snap *s)
{
	size_t len = 0;
	char *text = xvs_metrics_format(s, "1.2.3", &len);
	cr_assert_not_null(text);
	cr_assert_eq(strlen(text), len);
	return text;
}

/* The metric name of a sample line (up to '{' or ' '). */
static void sample_name(const char *line, char *name, size_t len)
{
	size_t n = strcspn(line, "{ ");
	snprintf(name, len, "%.*s", (int)n, line);
}

/* Every sample follows its family's HELP and TYPE, each family's samples are contiguous,
 * no family comes twice, every line ends in a number. */
static void check_shape(char *text)
{
	char family[128] = "", name[128], seen[8192] = " ";
	int typed = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, "# HELP ", 7) == 0) {
			sample_name(line + 7, family, sizeof(family));
			char key[140];
			snprintf(key, sizeof(key), " %s ", family);
			cr_assert_null(strstr(seen, key), "family %s comes twice", family);
			strncat(seen, key + 1, sizeof(seen) - strlen(seen) - 1);
			typed = 0;
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			sample_name(line + 7, name, sizeof(name));
			cr_assert_str_eq(name, family);
			const char *type = line + 7 + strlen(name) + 1;
			cr_assert(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0, "%s", line);
			cr_assert(strcmp(type, "counter") != 0 ||
				  strcmp(name + strlen(name) - 6, "_total") == 0, "counter %s", name);
			typed = 1;
			continue;
		}
		sample_name(line, name, sizeof(name));
		cr_assert(typed, "sample before its TYPE: %s", line);
		cr_assert_str_eq(name, family, "sample outside its family: %s", line);
		const char *value = strrchr(line, ' ');
		cr_assert_not_null(value);
		for (const char *p = value + 1; *p; p++)
			cr_assert(isdigit((unsigned char)*p), "value of %s", line);
	}
}

Test(metrics, shape)
{
	struct xvs_metrics_snap s;
	full_snap(&s);
	char *text = format(&s);
	check_shape(text);
	free(text);
	xvs_metrics_snap_clear(&s);
}

Test(metrics, every_drop_reason_of_every_worker)
{
	struct xvs_metrics_snap s;
	char want[160];
	full_snap(&s);
	char *text = format(&s);
	static const char *const workers[] = {"0", "1", "main"};
	for (int i = 0; i < 3; i++)
		for (unsigned d = 0; d < XVS_DROP_MAX; d++) {
			snprintf(want, sizeof(want), "\nxvs_drops_total{worker=\"%s\",reason=\"%s\"} %u\n",
				 workers[i], xvs_drop_names[d], i * 100 + d);
			cr_assert_not_null(strstr(text, want), "missing %s", want + 1);
		}
	/* zeros too: worker 0's first reason counts 0 */
	snprintf(want, sizeof(want), "{worker=\"0\",reason=\"%s\"} 0\n", xvs_drop_names[0]);
	cr_assert_not_null(strstr(text, want));
	free(text);
	xvs_metrics_snap_clear(&s);
}

Test(metrics, labels_escaped)
{
	struct xvs_metrics_snap s;
	full_snap(&s);
	strcpy(s.svcs[0].service, "a\"b\\c\nd");
	strcpy(s.svcs[0].scheduler, "r\"r");
	char *text = format(&s);
	cr_assert_not_null(strstr(text, "xvs_service_connections_total{service=\"a\\\"b\\\\c\\nd\","
					"protocol=\"tcp\",vip=\"198.18.0.100\",port=\"80\"} 30\n"));
	cr_assert_not_null(strstr(text, "scheduler=\"r\\\"r\""));
	cr_assert_not_null(strstr(text, "xvs_server_connections_total{service=\"a\\\"b\\\\c\\nd\","
					"server=\"198.19.0.11:80\",forward=\"masq\"} 10\n"));
	check_shape(text);
	free(text);
	xvs_metrics_snap_clear(&s);
}

Test(metrics, health_state_set_and_quorum)
{
	struct xvs_metrics_snap s;
	full_snap(&s);
	char *text = format(&s);
	const char *lab = "{service=\"FWM 1\",server=\"[2001:db8::2]:0\",forward=\"route\",state=";
	char want[256];
	static const char *const states[] = {"up", "down", "unknown", "unchecked"};
	for (int i = 0; i < 4; i++) {
		snprintf(want, sizeof(want), "xvs_server_health_state%s\"%s\"} %d\n", lab, states[i],
			 i == 1);
		cr_assert_not_null(strstr(text, want), "missing %s", want);
	}
	cr_assert_not_null(strstr(text, "xvs_service_quorum_up{service=\"FWM 1\",protocol=\"fwm\","
					"fwmark=\"1\"} 0\n"));
	cr_assert_null(strstr(text, "xvs_service_quorum_up{service=\"TCP"));
	cr_assert_not_null(strstr(text, "xvs_build_info{version=\"1.2.3\"} 1\n"));
	cr_assert_not_null(strstr(text, "xvs_worker_connection_capacity{worker=\"1\"} 65536\n"));
	cr_assert_null(strstr(text, "xvs_worker_connection_capacity{worker=\"main\"}"));
	free(text);
	xvs_metrics_snap_clear(&s);
}

/* With no dataplane and no configuration: the control-side families only, still valid. */
Test(metrics, empty)
{
	struct xvs_metrics_snap s = {0};
	char *text = format(&s);
	cr_assert_not_null(strstr(text, "\nxvs_dataplane_up 0\n"));
	cr_assert_not_null(strstr(text, "xvs_control_up 1\n"));
	cr_assert_null(strstr(text, "xvs_worker_"));
	cr_assert_null(strstr(text, "xvs_drops_total"));
	cr_assert_null(strstr(text, "xvs_service_"));
	check_shape(text);
	free(text);
}

/* ---- capture from a model and a region ----------------------------------------------- */

static char tmpdir[64];

static void run_ops(struct xvs_ctl_model *m, const char *json)
{
	struct xvs_ctl_op *ops;
	unsigned nb;
	struct xvs_ctl_err err;
	cr_assert_eq(xvs_ctl_json_parse_ops(json, strlen(json), &ops, &nb, &err), 0, "%s", err.msg);
	cr_assert_eq(xvs_ctl_model_apply(m, ops, nb, &err), 0, "%s", err.msg);
	xvs_ctl_ops_free(ops, nb);
}

Test(metrics, capture)
{
	struct xvs_shm shm;
	char path[128];
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/xvs-metrics-test.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/shm", tmpdir);
	cr_assert_eq(xvs_shm_open(&shm, path, 0), 0);
	struct xvs_ctl_model *m = xvs_ctl_model_new(&shm);
	cr_assert_not_null(m);
	run_ops(m, "{\"ops\":[{\"op\":\"add-service\",\"service\":{\"proto\":\"udp\","
		   "\"addr\":\"2001:db8::100\",\"port\":53,\"sched\":\"rr\"}},"
		   "{\"op\":\"add-dest\",\"service\":{\"proto\":\"udp\",\"addr\":\"2001:db8::100\","
		   "\"port\":53},\"dest\":{\"addr\":\"2001:db8::11\",\"port\":53,\"fwd\":\"masq\","
		   "\"weight\":4}}]}");
	unsigned svc = m->svc_order[0], dest = m->dest_order[0];
	struct xvs_ctl c = {.model = m, .shm = &shm};

	/* counters of two workers add up; drops stay per worker */
	atomic_store(&shm.hdr->nb_workers, 2);
	atomic_store(&shm.hdr->dp_pid, (uint64_t)getpid());
	atomic_store(&shm.hdr->dp_heartbeat_ns, xvs_now_ns());
	atomic_store(&xvs_shm_lcore(&shm, 1)->conn_capacity, 4096);
	xvs_shm_stats(&shm, 0)->dest[dest].conns = 2;
	xvs_shm_stats(&shm, 1)->dest[dest].conns = 3;
	xvs_shm_stats(&shm, 1)->svc[svc].conns = 5;
	xvs_shm_stats(&shm, 0)->dest[dest].active = 1;
	xvs_shm_stats(&shm, 1)->dest[dest].active = 2;
	xvs_shm_stats(&shm, 1)->dest[dest].inactive = 6;
	xvs_shm_stats(&shm, 1)->drops[XVS_DROP_NO_VIP] = 9;
	xvs_shm_stats(&shm, XVS_SHM_MAIN_STATS)->drops[XVS_DROP_EXC_RATE] = 4;
	xvs_shm_stats(&shm, 0)->rx_pkts = 11;

	struct xvs_metrics_snap s;
	cr_assert_eq(xvs_metrics_capture(&c, &s), 0);
	char *text = format(&s);
	cr_assert_not_null(strstr(text, "\nxvs_dataplane_up 1\n"));
	cr_assert_not_null(strstr(text, "xvs_service_connections_total{service=\"UDP "
					"[2001:db8::100]:53\",protocol=\"udp\",vip=\"2001:db8::100\","
					"port=\"53\"} 5\n"));
	cr_assert_not_null(strstr(text, "xvs_server_connections_total{service=\"UDP "
					"[2001:db8::100]:53\",server=\"[2001:db8::11]:53\","
					"forward=\"masq\"} 5\n"));
	cr_assert_not_null(strstr(text, "forward=\"masq\"} 4\n")); /* the weight */
	/* a service's active and inactive connections are its servers' */
	cr_assert_not_null(strstr(text, "xvs_service_active_connections{service=\"UDP "
					"[2001:db8::100]:53\",protocol=\"udp\",vip=\"2001:db8::100\","
					"port=\"53\"} 3\n"));
	cr_assert_not_null(strstr(text, "xvs_service_inactive_connections{service=\"UDP "
					"[2001:db8::100]:53\",protocol=\"udp\",vip=\"2001:db8::100\","
					"port=\"53\"} 6\n"));
	cr_assert_not_null(strstr(text, "xvs_server_active_connections{service=\"UDP "
					"[2001:db8::100]:53\",server=\"[2001:db8::11]:53\","
					"forward=\"masq\"} 3\n"));
	cr_assert_not_null(strstr(text, "xvs_drops_total{worker=\"1\",reason=\"no-vip\"} 9\n"));
	cr_assert_not_null(strstr(text, "xvs_drops_total{worker=\"0\",reason=\"no-vip\"} 0\n"));
	cr_assert_not_null(strstr(text, "xvs_drops_total{worker=\"main\",reason=\"exception-rate\"} 4\n"));
	cr_assert_not_null(strstr(text, "xvs_worker_receive_packets_total{worker=\"0\"} 11\n"));
	cr_assert_not_null(strstr(text, "xvs_worker_connection_capacity{worker=\"1\"} 4096\n"));
	cr_assert_null(strstr(text, "xvs_worker_connection_capacity{worker=\"0\"}"));
	check_shape(text);
	free(text);
	xvs_metrics_snap_clear(&s);

	/* the dataplane gone: no worker records, the services stay */
	atomic_store(&shm.hdr->dp_pid, 0);
	cr_assert_eq(xvs_metrics_capture(&c, &s), 0);
	text = format(&s);
	cr_assert_not_null(strstr(text, "\nxvs_dataplane_up 0\n"));
	cr_assert_null(strstr(text, "xvs_worker_"));
	cr_assert_null(strstr(text, "xvs_drops_total"));
	cr_assert_not_null(strstr(text, "xvs_service_info{service=\"UDP [2001:db8::100]:53\""));
	free(text);
	xvs_metrics_snap_clear(&s);

	xvs_ctl_model_free(m);
	xvs_shm_close(&shm);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	cr_expect_eq(system(cmd), 0);
}

/* ---- --metrics-listen ---------------------------------------------------------------- */

struct listen_case {
	char spec[32];
	int rc;
	int family;
	char addr[32];
	unsigned port;
};

ParameterizedTestParameters(metrics, listen)
{
	static struct listen_case cases[] = {
		{"127.0.0.1:9720", 0, AF_INET, "127.0.0.1", 9720},
		{"0.0.0.0:1", 0, AF_INET, "0.0.0.0", 1},
		{"[::1]:9720", 0, AF_INET6, "::1", 9720},
		{"[2001:db8::5]:65535", 0, AF_INET6, "2001:db8::5", 65535},
		{"none", 1, 0, "", 0},
		{"127.0.0.1", -EINVAL, 0, "", 0},
		{"127.0.0.1:", -EINVAL, 0, "", 0},
		{"127.0.0.1:0", -EINVAL, 0, "", 0},
		{"127.0.0.1:65536", -EINVAL, 0, "", 0},
		{"127.0.0.1:+80", -EINVAL, 0, "", 0},
		{"127.0.0.1:80x", -EINVAL, 0, "", 0},
		{"localhost:9720", -EINVAL, 0, "", 0},
		{"::1:9720", -EINVAL, 0, "", 0},
		{"[::1]", -EINVAL, 0, "", 0},
		{"[::1]9720", -EINVAL, 0, "", 0},
		{"[10.0.0.1]:80", -EINVAL, 0, "", 0},
		{"", -EINVAL, 0, "", 0},
		{"None", -EINVAL, 0, "", 0},
	};
	return cr_make_param_array(struct listen_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct listen_case *c, metrics, listen)
{
	struct sockaddr_storage sa;
	socklen_t len = 0;
	char msg[160] = "", buf[INET6_ADDRSTRLEN];
	int rc = xvs_metrics_parse_listen(c->spec, &sa, &len, msg, sizeof(msg));
	cr_assert_eq(rc, c->rc, "%s: %d (%s)", c->spec, rc, msg);
	if (rc < 0)
		cr_assert(strstr(msg, c->spec) != NULL, "the message names the value: %s", msg);
	if (rc != 0)
		return;
	cr_assert_eq(sa.ss_family, c->family);
	if (c->family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&sa;
		cr_assert_eq(len, sizeof(*a));
		inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
		cr_assert_eq(ntohs(a->sin_port), c->port);
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&sa;
		cr_assert_eq(len, sizeof(*a));
		inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof(buf));
		cr_assert_eq(ntohs(a->sin6_port), c->port);
	}
	cr_assert_str_eq(buf, c->addr);
}

/* ---- the Grafana dashboard ----------------------------------------------------------- */

/* Collect every "expr" string of the dashboard (panels nest in rows). */
static void exprs(const json_t *v, json_t *out)
{
	const char *k;
	json_t *x;
	size_t i;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, x) {
			if (strcmp(k, "expr") == 0 && json_is_string(x))
				json_array_append(out, x);
			else
				exprs(x, out);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			exprs(x, out);
	}
}

Test(metrics, grafana_dashboard_names_exported_metrics)
{
	json_error_t err;
	json_t *dash = json_load_file(XVS_DOCS_DIR "/grafana-xvs.json", 0, &err);
	cr_assert_not_null(dash, "docs/grafana-xvs.json: line %d: %s", err.line, err.text);
	json_t *all = json_array();
	exprs(dash, all);
	cr_assert_gt(json_array_size(all), 5, "the dashboard has queries");

	struct xvs_metrics_snap s;
	full_snap(&s);
	char *text = format(&s);
	size_t i;
	json_t *e;
	unsigned nb_names = 0;
	json_array_foreach(all, i, e) {
		const char *q = json_string_value(e);
		for (const char *p = strstr(q, "xvs_"); p; p = strstr(p, "xvs_")) {
			if (p > q && (isalnum((unsigned char)p[-1]) || p[-1] == '_')) {
				p += 4;
				continue;
			}
			size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_");
			char want[128];
			snprintf(want, sizeof(want), "# TYPE %.*s ", (int)n, p);
			cr_assert_not_null(strstr(text, want), "the dashboard names %.*s, which is not "
				      "exported (query: %s)", (int)n, p, q);
			nb_names++;
			p += n;
		}
	}
	cr_assert_gt(nb_names, 10);
	free(text);
	xvs_metrics_snap_clear(&s);
	json_decref(all);
	json_decref(dash);
}
