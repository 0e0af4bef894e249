/*
 * Scripts: MISC_CHECK probes and the notify / quorum scripts. Each runs as `/bin/sh -c CMD`
 * in a process group of its own, so a timeout kills it with everything it started. A probe
 * watches its child through a pidfd (or polls waitpid where there are none).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl_probe.h"

#define MS 1000000ULL
#define POLL_MS 20 /* waitpid polling without a pidfd */
#define MAX_GROUPS 64

extern char **environ;

/* ---- spawning ------------------------------------------------------------------------ */

struct creds {
	bool set;
	uid_t uid;
	gid_t gid;
	int nb_groups;
	gid_t groups[MAX_GROUPS];
};

/* Looked up before fork(): the child may only make async-signal-safe calls. */
static int lookup_user(const char *user, struct creds *cr, char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	cr->set = false;
	if (!user || !user[0])
		return 0;
	if (getpwnam_r(user, &pw, buf, sizeof(buf), &res) != 0 || !res) {
		snprintf(err, errlen, "no user '%s'", user);
		return -ENOENT;
	}
	cr->set = true;
	cr->uid = pw.pw_uid;
	cr->gid = pw.pw_gid;
	cr->nb_groups = MAX_GROUPS;
	if (getgrouplist(user, pw.pw_gid, cr->groups, &cr->nb_groups) < 0)
		cr->nb_groups = 0; /* more than MAX_GROUPS: the primary group only */
	return 0;
}

/* environ plus extra, as one malloc'd NULL-terminated array (the strings are not copied). */
static char **make_env(const char *const *extra)
{
	size_t n = 0, k = 0;
	while (environ && environ[n])
		n++;
	while (extra && extra[k])
		k++;
	char **env = malloc((n + k + 1) * sizeof(*env));
	if (!env)
		return NULL;
	size_t j = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "XVS_", 4) != 0) /* ours win */
			env[j++] = environ[i];
	for (size_t i = 0; i < k; i++)
		env[j++] = (char *)extra[i];
	env[j] = NULL;
	return env;
}

/* In the child, before exec: only async-signal-safe calls. */
static void child(const char *cmd, const struct creds *cr, char **env)
{
	sigset_t all;
	setpgid(0, 0);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	int fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
	syscall(SYS_close_range, 3, ~0U, 0);
	if (cr->set && (setgroups((size_t)cr->nb_groups, cr->groups) < 0 || setgid(cr->gid) < 0 ||
			setuid(cr->uid) < 0))
		_exit(126);
	char *argv[] = {"sh", "-c", (char *)cmd, NULL};
	execve("/bin/sh", argv, env);
	_exit(127);
}

pid_t hc_spawn(const char *cmd, const char *user, const char *const *extra, char *err,
	       size_t errlen)
{
	struct creds cr;
	int rc = lookup_user(user, &cr, err, errlen);
	if (rc)
		return rc;
	char **env = make_env(extra);
	if (!env) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pid_t pid = fork();
	if (pid == 0)
		child(cmd, &cr, env);
	int e = errno;
	free(env);
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(e));
		return -e;
	}
	setpgid(pid, pid); /* also here, so a kill of the group cannot come before it exists */
	return pid;
}

int hc_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	long fd = syscall(SYS_pidfd_open, pid, 0);
	return fd < 0 ? -1 : (int)fd;
#else
	(void)pid;
	return -1;
#endif
}

/* ---- MISC_CHECK probes --------------------------------------------------------------- */

static uint32_t timeout_ms(const struct hc_probe *p)
{
	return p->cfg->script_timeout_ms ? p->cfg->script_timeout_ms : p->interval_ms;
}

/* The child is gone or about to be: reap it and judge its exit. */
static void try_reap(struct hc_probe *p)
{
	int st;
	pid_t r = waitpid(p->pid, &st, WNOHANG);
	if (r == 0)
		return;
	p->pid = 0;
	if (r < 0)
		return hc_probe_finish(p, false, 0, "lost the script's process: %s", strerror(errno));
	if (p->killed)
		return hc_probe_finish(p, false, 0, "timed out after %u ms (killed)", timeout_ms(p));
	if (WIFSIGNALED(st))
		return hc_probe_finish(p, false, 0, "killed by signal %d", WTERMSIG(st));
	int code = WEXITSTATUS(st);
	if (code == 0)
		return hc_probe_finish(p, true, 0, "exit 0");
	if (code >= 2 && p->cfg->misc_dynamic)
		return hc_probe_finish(p, true, code, "exit %d: weight %d", code, code - 2);
	hc_probe_finish(p, false, code, "exit %d", code);
}

static void on_pidfd(struct hc_loop *l, struct hc_watch *w, uint32_t events)
{
	(void)l;
	(void)events;
	struct hc_probe *p = (struct hc_probe *)((char *)w - offsetof(struct hc_probe, w));
	if (p->running && p->pid > 0)
		try_reap(p);
}

/* The deadline: past the timeout, kill the whole group and wait for the reap; without a
 * pidfd this timer also polls. */
static void on_script_timer(struct hc_loop *l, struct hc_timer *t)
{
	struct hc_probe *p = (struct hc_probe *)((char *)t - offsetof(struct hc_probe, deadline));
	uint64_t now = hc_now();
	if (!p->running || p->pid <= 0)
		return;
	if (!p->killed && now >= p->started + (uint64_t)timeout_ms(p) * MS) {
		kill(-p->pid, SIGKILL);
		p->killed = true;
	}
	try_reap(p);
	if (p->running && p->w.fd < 0)
		hc_timer_arm(l, t, now + POLL_MS * MS);
	else if (p->running && !p->killed)
		hc_timer_arm(l, t, p->started + (uint64_t)timeout_ms(p) * MS);
}

void hc_probe_script_start(struct hc_probe *p)
{
	char err[160];
	static const char *const extra[] = {"XVS_EVENT=check", NULL};
	pid_t pid = hc_spawn(p->cfg->script, p->cfg->user, extra, err, sizeof(err));
	if (pid < 0)
		return hc_probe_finish(p, false, 0, "cannot run the script: %s", err);
	p->pid = pid;
	p->deadline.fire = on_script_timer;
	p->w.fd = hc_pidfd(pid);
	p->w.on_event = on_pidfd;
	if (p->w.fd >= 0 && hc_watch_add(p->loop, &p->w, EPOLLIN) < 0) {
		close(p->w.fd);
		p->w.fd = -1;
	}
	uint64_t first = p->w.fd >= 0 ? p->started + (uint64_t)timeout_ms(p) * MS
				      : hc_now() + POLL_MS * MS;
	hc_timer_arm(p->loop, &p->deadline, first);
}

void hc_probe_script_abort(struct hc_probe *p)
{
	if (p->pid <= 0)
		return;
	kill(-p->pid, SIGKILL);
	hc_loop_orphan(p->loop, p->pid);
	p->pid = 0;
}
