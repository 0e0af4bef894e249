/*
 * xvs-control: owns the configuration, publishes it to the dataplane through shared memory
 * and serves the control API on a Unix socket. main() only wires the pieces together.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl_api.h"
#include "ctl_bgp.h"
#include "ctl_health.h"
#include "ctl_kaconf_apply.h"
#include "ctl_metrics_http.h"
#include "ctl_etcd.h"
#include "ctl_persist.h"
#include "ctl_publish.h"
#include "xvs/notify.h"
#include "xvs/pidfile.h"

#define LOG(fmt, ...) fprintf(stderr, "xvs-control: " fmt "\n", ##__VA_ARGS__)

struct options {
	const char *shm;
	const char *socket;
	const char *state;
	const char *pidfile;
	const char *kaconf;    /* --keepalived-conf */
	const char *config_id; /* --config-id */
	const char *metrics;   /* --metrics-listen, NULL: the default address */
	const char *etcd;      /* --etcd */
	const char *etcd_prefix; /* --etcd-prefix */
	const char *bird_include; /* --bird-include, NULL: no VIP announcement */
	const char *bird_socket;  /* --bird-socket */
	bool check_config;     /* --check-config */
	struct xvs_sched_params sched;
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: xvs-control [--shm PATH] [--socket PATH] [--state PATH] [--pidfile PATH]\n"
		   "                   [--mh-table-size M] [--keepalived-conf FILE [--config-id ID]]\n"
		   "                   [--metrics-listen ADDR:PORT|[ADDR6]:PORT|none]\n"
		   "                   [--etcd URL[,URL...] [--etcd-prefix PREFIX] [--config-id ID]]\n"
		   "                   [--bird-include FILE [--bird-socket PATH]]\n"
		   "       xvs-control --keepalived-conf FILE --check-config [--config-id ID]\n"
		   "  --shm PATH          shared region with xvs-dataplane (default %s)\n"
		   "  --socket PATH       control API socket (default %s)\n"
		   "  --state PATH        saved configuration (default %s)\n"
		   "  --pidfile PATH      write the daemon's pid there\n"
		   "  --mh-table-size M   entries of the mh scheduler's Maglev tables, a prime\n"
		   "                      (default %u; the same on every node that shares a VIP)\n"
		   "  --keepalived-conf FILE  take the services from keepalived.conf FILE (its\n"
		   "                      virtual_server part), again on SIGHUP\n"
		   "  --config-id ID      the id of keepalived's @ID lines (default: the host name)\n"
		   "  --etcd URLS         take the services from etcd v3 (its HTTP/JSON gateway, e.g.\n"
		   "                      http://10.0.0.5:2379): the values under the prefix, in key\n"
		   "                      order, as keepalived.conf text; watched, again on SIGHUP\n"
		   "  --etcd-prefix P     the keys' prefix (default %s)\n"
		   "  --check-config      check FILE, print its services as `xvsadm -S -n`, exit\n"
		   "  --metrics-listen A  serve Prometheus metrics at http://A/metrics (default %s;\n"
		   "                      none: no metrics listener)\n"
		   "  --bird-include FILE announce the VIPs this node can serve over BGP: keep FILE,\n"
		   "                      a BIRD include of static protocols %s and %s,\n"
		   "                      up to date and reconfigure BIRD when it changes\n"
		   "  --bird-socket PATH  BIRD's control socket (default %s)\n",
		XVS_SHM_DEFAULT_PATH, XVS_CTL_SOCKET_DEFAULT_PATH, XVS_CTL_STATE_DEFAULT_PATH,
		XVS_MH_SIZE_DEFAULT, XVS_ETCD_DEFAULT_PREFIX, XVS_METRICS_DEFAULT_LISTEN, XVS_BGP_PROTO4,
		XVS_BGP_PROTO6, XVS_BGP_SOCKET_DEFAULT);
}

/* Returns 0 to run, 1 after --help, -1 on a usage error. */
static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"shm", required_argument, NULL, 'm'},
		{"socket", required_argument, NULL, 's'},
		{"state", required_argument, NULL, 'c'},
		{"pidfile", required_argument, NULL, 'p'},
		{"mh-table-size", required_argument, NULL, 'M'},
		{"keepalived-conf", required_argument, NULL, 'k'},
		{"config-id", required_argument, NULL, 'i'},
		{"check-config", no_argument, NULL, 'C'},
		{"metrics-listen", required_argument, NULL, 'L'},
		{"etcd", required_argument, NULL, 'E'},
		{"etcd-prefix", required_argument, NULL, 'P'},
		{"bird-include", required_argument, NULL, 'B'},
		{"bird-socket", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	*o = (struct options){XVS_SHM_DEFAULT_PATH, XVS_CTL_SOCKET_DEFAULT_PATH,
			      XVS_CTL_STATE_DEFAULT_PATH, NULL, NULL, NULL, NULL, NULL,
			      XVS_ETCD_DEFAULT_PREFIX, NULL, NULL, false,
			      {.mh_size = XVS_MH_SIZE_DEFAULT}};
	char msg[256], *end;
	unsigned long n;
	int c;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': o->shm = optarg; break;
		case 's': o->socket = optarg; break;
		case 'c': o->state = optarg; break;
		case 'p': o->pidfile = optarg; break;
		case 'k': o->kaconf = optarg; break;
		case 'i': o->config_id = optarg; break;
		case 'C': o->check_config = true; break;
		case 'E':
			if (xvs_etcd_check_endpoints(optarg, msg, sizeof(msg)) < 0) {
				fprintf(stderr, "xvs-control: --etcd %s: %s\n", optarg, msg);
				return -1;
			}
			o->etcd = optarg;
			break;
		case 'P':
			if (!*optarg || strlen(optarg) > 1024) {
				fprintf(stderr, "xvs-control: --etcd-prefix must have 1 to 1024 bytes\n");
				return -1;
			}
			o->etcd_prefix = optarg;
			break;
		case 'B':
			if (!optarg[0]) {
				fprintf(stderr, "xvs-control: --bird-include needs a file name\n");
				return -1;
			}
			o->bird_include = optarg;
			break;
		case 'S':
			if (xvs_bgp_check_socket(optarg, msg, sizeof(msg)) < 0) {
				fprintf(stderr, "xvs-control: %s\n", msg);
				return -1;
			}
			o->bird_socket = optarg;
			break;
		case 'L':
			if (xvs_metrics_check_option(optarg) < 0)
				return -1;
			o->metrics = optarg;
			break;
		case 'M':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			o->sched.mh_size = !errno && *optarg && !*end && n <= UINT32_MAX ? (uint32_t)n : 0;
			if (xvs_sched_params_check(&o->sched, msg, sizeof(msg)) < 0) {
				fprintf(stderr, "xvs-control: --mh-table-size %s: %s\n", optarg, msg);
				return -1;
			}
			break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "xvs-control: unexpected argument %s\n", argv[optind]);
		return -1;
	}
	if (o->bird_socket && !o->bird_include) {
		fprintf(stderr, "xvs-control: --bird-socket needs --bird-include\n");
		return -1;
	}
	if (o->check_config && o->bird_include) {
		fprintf(stderr, "xvs-control: --check-config does not go with --bird-include\n");
		return -1;
	}
	if (o->check_config && !o->kaconf) {
		fprintf(stderr, "xvs-control: --check-config needs --keepalived-conf\n");
		return -1;
	}
	if (o->config_id && !o->kaconf && !o->etcd) {
		fprintf(stderr, "xvs-control: --config-id needs --keepalived-conf or --etcd\n");
		return -1;
	}
	if (o->kaconf && o->etcd) {
		fprintf(stderr, "xvs-control: --keepalived-conf and --etcd exclude each other: one "
				"source of services\n");
		return -1;
	}
	if (strcmp(o->etcd_prefix, XVS_ETCD_DEFAULT_PREFIX) && !o->etcd) {
		fprintf(stderr, "xvs-control: --etcd-prefix needs --etcd\n");
		return -1;
	}
	return 0;
}

/* What the health engine's applier needs to commit verdicts as the API commits ops. */
struct daemon {
	struct xvs_ctl *ctl;
	pthread_mutex_t *lock;
};

static int apply_health(void *arg, const struct xvs_ctl_health_result *r, unsigned nb)
{
	struct daemon *d = arg;
	pthread_mutex_lock(d->lock);
	int rc = d->ctl->model ? xvs_ctl_health_commit(d->ctl, r, nb) : -EAGAIN;
	pthread_mutex_unlock(d->lock);
	return rc;
}

/* Housekeeping once a second until SIGINT or SIGTERM (returned); SIGHUP reads the
 * keepalived.conf, or the etcd prefix, again. */
static int serve(struct xvs_ctl *ctl, pthread_mutex_t *lock, const sigset_t *sigs,
		 const struct options *o, struct xvs_kaconf **held, struct xvs_etcd *etcd)
{
	const struct timespec second = {.tv_sec = 1};
	const struct xvs_kaconf_opts kopts = {o->config_id};
	for (;;) {
		int sig = sigtimedwait(sigs, NULL, &second);
		if (sig == SIGHUP && etcd) {
			LOG("SIGHUP: reading %s under %s again", o->etcd, o->etcd_prefix);
			xvs_etcd_kick(etcd);
			continue;
		}
		if (sig == SIGHUP) {
			LOG("SIGHUP: reading %s", o->kaconf);
			pthread_mutex_lock(lock);
			xvs_kaconf_reload(ctl, o->kaconf, &kopts, held);
			pthread_mutex_unlock(lock);
			continue;
		}
		if (sig > 0)
			return sig;
		pthread_mutex_lock(lock);
		xvs_ctl_tick(ctl, xvs_now_ns());
		pthread_mutex_unlock(lock);
	}
}

/* --check-config: the file into an empty model, printed as `xvsadm -S -n`; exit status. */
static int check_config(const struct options *o)
{
	const struct xvs_kaconf_opts kopts = {o->config_id};
	struct xvs_kaconf *conf;
	struct xvs_ctl_model *m = NULL;
	char err[XVS_KACONF_ERR_MAX];
	int rc = xvs_kaconf_load(o->kaconf, &kopts, &conf, err, sizeof(err));
	if (rc == 0) {
		for (unsigned i = 0; i < conf->nb_warnings; i++)
			fprintf(stderr, "%s\n", conf->warnings[i]);
		m = xvs_kaconf_check(conf, &o->sched, err, sizeof(err));
		xvs_kaconf_free(conf);
	}
	if (!m) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	rc = xvs_kaconf_print_rules(stdout, m);
	xvs_ctl_model_free(m);
	if (rc == 0 && fflush(stdout) != 0)
		rc = -errno;
	if (rc)
		fprintf(stderr, "xvs-control: cannot print the configuration: %s\n", strerror(-rc));
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct options o;
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc > 0 ? 0 : 2;
	if (o.check_config)
		return check_config(&o);

	/* Block the signals before any thread exists so that only serve() takes them; SIGHUP
	 * only reloads a keepalived.conf (without one it keeps its default action). */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	if (o.kaconf || o.etcd)
		sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct xvs_shm shm;
	rc = xvs_shm_open(&shm, o.shm, 0);
	if (rc < 0) {
		LOG("cannot open the shared region %s: %s%s", o.shm, strerror(-rc), xvs_shm_open_hint(rc));
		return 1;
	}
	if ((rc = xvs_shm_lock_writer(&shm)) < 0) {
		if (rc == -EBUSY)
			LOG("another xvs-control (pid %llu) writes to %s",
			    (unsigned long long)shm.hdr->control_pid, o.shm);
		else
			LOG("cannot lock %s: %s", o.shm, strerror(-rc));
		xvs_shm_close(&shm);
		return 1;
	}
	/* The socket comes first, so that a second instance stops before it publishes; requests
	 * that arrive meanwhile wait on the lock until the configuration is loaded. */
	char msg[512] = "";
	struct xvs_ctl ctl = {0};
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct daemon d = {&ctl, &lock};
	struct xvs_health *health = xvs_health_start(apply_health, &d, msg, sizeof(msg));
	if (!health) {
		LOG("%s", msg);
		xvs_shm_close(&shm);
		return 1;
	}
	pthread_mutex_lock(&lock);
	struct xvs_ctl_api *api = xvs_ctl_api_start(o.socket, &ctl, &lock, msg, sizeof(msg));
	struct xvs_metrics_server *metrics = NULL;
	if (!api || xvs_metrics_start_option(o.metrics, &ctl, &lock, &metrics, msg,
								 sizeof(msg)) < 0 ||
	    xvs_ctl_init(&ctl, &shm, o.shm, o.state, &o.sched, msg, sizeof(msg)) < 0) {
		LOG("%s", msg);
		pthread_mutex_unlock(&lock);
		xvs_metrics_server_stop(metrics);
		xvs_ctl_api_stop(api);
		xvs_health_stop(health);
		xvs_shm_close(&shm);
		return 1;
	}
	ctl.health = health;
	if (xvs_health_sync(health, ctl.model) < 0)
		LOG("health checks not started: out of memory");
	struct xvs_kaconf *held = NULL;
	if (o.kaconf) {
		const struct xvs_kaconf_opts kopts = {o.config_id};
		xvs_kaconf_reload(&ctl, o.kaconf, &kopts, &held);
	}
	pthread_mutex_unlock(&lock);
	int status = 1; /* until serving ends */
	struct xvs_bgp *bgp = NULL;
	struct xvs_etcd *etcd = NULL;
	if (o.bird_include) {
		const struct xvs_bgp_cfg bcfg = {o.bird_include,
						 o.bird_socket ? o.bird_socket : XVS_BGP_SOCKET_DEFAULT};
		if (!(bgp = xvs_bgp_start(&bcfg, &ctl, &lock, msg, sizeof(msg)))) {
			LOG("%s", msg);
			goto out;
		}
		pthread_mutex_lock(&lock);
		ctl.bgp = bgp;
		pthread_mutex_unlock(&lock);
		LOG("announcing VIPs through %s (BIRD at %s)", bcfg.include, bcfg.socket);
	}
	if (o.etcd) {
		/* the text read last, beside the state file: FILE:LINE in messages point there */
		char cache[4096];
		snprintf(cache, sizeof(cache), "%s.etcd.conf", o.state);
		const struct xvs_etcd_opts eo = {o.etcd, o.etcd_prefix, cache, o.config_id};
		if (!(etcd = xvs_etcd_start(&eo, &ctl, &lock, &held, msg, sizeof(msg)))) {
			LOG("etcd: %s", msg);
			goto out;
		}
		LOG("etcd: following %s under %s", o.etcd, o.etcd_prefix);
	}
	if (o.pidfile && (rc = xvs_write_pidfile(o.pidfile)) < 0)
		LOG("cannot write %s: %s", o.pidfile, strerror(-rc));
	LOG("serving %s (region %s, state %s)", o.socket, o.shm, o.state);
	xvs_notify("READY=1"); /* the API listens (Type=notify, systemd/xvs-control.service) */

	int sig = serve(&ctl, &lock, &stop, &o, &held, etcd);
	xvs_notify("STOPPING=1");
	LOG("%s: stopping", strsignal(sig));
	status = 0;
out: /* what started, stopped in order (each stop takes NULL) */
	xvs_etcd_stop(etcd); /* first: it commits under the lock */
	xvs_metrics_server_stop(metrics);
	xvs_ctl_api_stop(api);
	xvs_health_stop(health); /* after the API: no request can reach it any more */
	ctl.health = NULL;
	xvs_bgp_stop(bgp); /* the include file stays: the dataplane goes on serving */
	ctl.bgp = NULL;
	xvs_kaconf_free(held);
	if (o.pidfile && status == 0)
		unlink(o.pidfile);
	xvs_ctl_fini(&ctl);
	xvs_shm_close(&shm);
	return status;
}
