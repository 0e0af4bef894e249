/*
 * xvs-control: owns the configuration, publishes it to the dataplane through shared memory
 * and serves the control API on a Unix socket. main() only wires the pieces together.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl_api.h"
#include "ctl_health.h"
#include "ctl_persist.h"
#include "ctl_publish.h"

#define LOG(fmt, ...) fprintf(stderr, "xvs-control: " fmt "\n", ##__VA_ARGS__)

struct options {
	const char *shm;
	const char *socket;
	const char *state;
	const char *pidfile;
	struct xvs_sched_params sched;
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: xvs-control [--shm PATH] [--socket PATH] [--state PATH] [--pidfile PATH]\n"
		   "                   [--mh-table-size M]\n"
		   "  --shm PATH          shared region with xvs-dataplane (default %s)\n"
		   "  --socket PATH       control API socket (default %s)\n"
		   "  --state PATH        saved configuration (default %s)\n"
		   "  --pidfile PATH      write the daemon's pid there\n"
		   "  --mh-table-size M   entries of the mh scheduler's Maglev tables, a prime\n"
		   "                      (default %u; the same on every node that shares a VIP)\n",
		XVS_SHM_DEFAULT_PATH, XVS_CTL_SOCKET_DEFAULT_PATH, XVS_CTL_STATE_DEFAULT_PATH,
		XVS_MH_SIZE_DEFAULT);
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
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	*o = (struct options){XVS_SHM_DEFAULT_PATH, XVS_CTL_SOCKET_DEFAULT_PATH,
			      XVS_CTL_STATE_DEFAULT_PATH, NULL, {.mh_size = XVS_MH_SIZE_DEFAULT}};
	char msg[160], *end;
	unsigned long n;
	int c;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': o->shm = optarg; break;
		case 's': o->socket = optarg; break;
		case 'c': o->state = optarg; break;
		case 'p': o->pidfile = optarg; break;
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
	return 0;
}

static int write_pidfile(const char *path)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return -errno;
	fprintf(f, "%ld\n", (long)getpid());
	return fclose(f) == 0 ? 0 : -errno;
}

/* True when the region names another live xvs-control as its writer. */
static int another_control(const struct xvs_shm *shm)
{
	uint64_t pid = atomic_load(&shm->hdr->control_pid);
	char path[64], comm[32] = "";
	if (pid == 0 || pid == (uint64_t)getpid())
		return 0;
	snprintf(path, sizeof(path), "/proc/%llu/comm", (unsigned long long)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	int same = fgets(comm, sizeof(comm), f) && strncmp(comm, "xvs-control", 11) == 0;
	fclose(f);
	return same;
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

/* Housekeeping once a second until SIGINT or SIGTERM; returns the signal. */
static int serve(struct xvs_ctl *ctl, pthread_mutex_t *lock, const sigset_t *stop)
{
	const struct timespec second = {.tv_sec = 1};
	for (;;) {
		int sig = sigtimedwait(stop, NULL, &second);
		if (sig > 0)
			return sig;
		pthread_mutex_lock(lock);
		xvs_ctl_tick(ctl, xvs_now_ns());
		pthread_mutex_unlock(lock);
	}
}

int main(int argc, char **argv)
{
	struct options o;
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc > 0 ? 0 : 2;

	/* Block the stop signals before any thread exists so that only serve() takes them. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct xvs_shm shm;
	rc = xvs_shm_open(&shm, o.shm, 0);
	if (rc < 0) {
		LOG("cannot open the shared region %s: %s%s", o.shm, strerror(-rc),
		    rc == -EPROTO ? " (another layout: stop the dataplane and remove the file)" : "");
		return 1;
	}
	if (another_control(&shm)) {
		LOG("another xvs-control (pid %llu) writes to %s", (unsigned long long)shm.hdr->control_pid,
		    o.shm);
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
	if (!api || xvs_ctl_init(&ctl, &shm, o.shm, o.state, &o.sched, msg, sizeof(msg)) < 0) {
		LOG("%s", msg);
		pthread_mutex_unlock(&lock);
		xvs_ctl_api_stop(api);
		xvs_health_stop(health);
		xvs_shm_close(&shm);
		return 1;
	}
	ctl.health = health;
	if (xvs_health_sync(health, ctl.model) < 0)
		LOG("health checks not started: out of memory");
	pthread_mutex_unlock(&lock);
	if (o.pidfile && (rc = write_pidfile(o.pidfile)) < 0)
		LOG("cannot write %s: %s", o.pidfile, strerror(-rc));
	LOG("serving %s (region %s, state %s)", o.socket, o.shm, o.state);

	int sig = serve(&ctl, &lock, &stop);
	LOG("%s: stopping", strsignal(sig));
	xvs_ctl_api_stop(api);
	xvs_health_stop(health); /* after the API: no request can reach it any more */
	ctl.health = NULL;
	if (o.pidfile)
		unlink(o.pidfile);
	xvs_ctl_fini(&ctl);
	xvs_shm_close(&shm);
	return 0;
}
