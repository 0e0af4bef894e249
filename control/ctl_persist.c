/*
 * Saving and loading the state file. Loading replays the saved objects as add ops, so a hand
 * edited file goes through exactly the checks a client's request does; the saved slots are
 * passed as hints so that slots survive a restart of xvs-control (the dataplane, which may
 * have kept running, still names destinations by slot).
 *
 * Trashed destinations are not saved: after a restart their slots are free again, and the
 * slot allocator avoids free slots that the dataplane still counts connections on.
 *
 * Health settings are saved with their objects and replayed as set-*-health ops; the
 * health state (verdicts, dynamic weights, quorum, the sorry server's slot) is put back
 * before the IPVS view is rebuilt, so a restart publishes what ran before it. A sorry
 * server is not a configured destination: it comes back from its service's settings.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_json.h"
#include "ctl_overlay.h"
#include "ctl_persist.h"
#include "ctl_sync.h"
#include "xvs/wire.h"

#define STATE_VERSION 1

/* ---- saving -------------------------------------------------------------------------- */

/* Adds the counter baseline as "base" when there is one. */
static void add_base(json_t *o, const struct xvs_ctl_ctr *b)
{
	static const struct xvs_ctl_ctr zero;
	if (!o || memcmp(b, &zero, sizeof(zero)) == 0)
		return;
	json_object_set_new(o, "base", json_pack("[IIIII]", (json_int_t)b->conns,
						 (json_int_t)b->inpkts, (json_int_t)b->outpkts,
						 (json_int_t)b->inbytes, (json_int_t)b->outbytes));
}

/* A real server's checks and their verdict. */
static void add_dest_health(json_t *o, const struct xvs_ctl_dest *d)
{
	if (!o || !d->hc)
		return;
	json_object_set_new(o, "health_check", xvs_ctl_json_dest_health(&d->hc->cfg));
	json_object_set_new(o, "health_state", json_pack("{sb sI sI}", "alive", (int)d->hc_alive,
							 "weight", (json_int_t)d->hc_weight,
							 "since_ms", (json_int_t)d->hc_since_ms));
}

static json_t *svc_state(const struct xvs_ctl_model *m, unsigned slot)
{
	const struct xvs_ctl_svc *s = &m->svcs[slot];
	json_t *o = xvs_ctl_json_svc_cfg(&s->cfg), *dests = json_array();
	if (!o || !dests) {
		json_decref(o);
		json_decref(dests);
		return NULL;
	}
	for (uint32_t i = 0; i < m->nb_dest_order; i++) {
		unsigned d = m->dest_order[i];
		if (m->dests[d].svc != slot)
			continue;
		if (m->dests[d].role == XVS_CTL_DEST_SORRY) {
			json_object_set_new(o, "sorry_slot", json_integer(d));
			continue;
		}
		json_t *dj = xvs_ctl_json_dest_cfg(&m->dests[d].cfg);
		json_object_set_new(dj, "slot", json_integer(d));
		json_object_set_new(dj, "last_weight", json_integer(m->dests[d].last_weight));
		add_base(dj, &m->dests[d].base);
		add_dest_health(dj, &m->dests[d]);
		json_array_append_new(dests, dj);
	}
	if (s->hc) {
		json_object_set_new(o, "health", xvs_ctl_json_svc_health(&s->hc->cfg));
		json_object_set_new(o, "quorum_up", json_boolean(s->quorum_up));
	}
	json_object_set_new(o, "slot", json_integer(slot));
	json_object_set_new(o, "epoch", json_integer(s->sched_epoch));
	json_object_set_new(o, "bind", json_integer(s->sched_bind));
	add_base(o, &s->base);
	json_object_set_new(o, "dests", dests);
	return o;
}

static json_t *state_json(const struct xvs_ctl_model *m)
{
	json_t *svcs = json_array();
	for (uint32_t i = 0; svcs && i < m->nb_svc_order; i++)
		json_array_append_new(svcs, svc_state(m, m->svc_order[i]));
	return json_pack("{si sI sI sI so so so so}", "version", STATE_VERSION, "generation",
			 (json_int_t)m->last_gen, "epoch", (json_int_t)m->epoch_counter, "dp_pid",
			 (json_int_t)m->base_dp_pid, "timeouts", xvs_ctl_json_timeouts(&m->timeouts),
			 "services", svcs, "marks", xvs_ctl_json_marks(m), XVS_WIRE_DAEMONS,
			 xvs_ctl_json_daemons(m));
}

/* mkdir -p of path's directory; what we create is private to root (0700). */
static int make_parent(const char *path)
{
	if (!strchr(path, '/'))
		return 0; /* the current directory; dirname() would hand back a read-only "." */
	char *copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	char *dir = dirname(copy);
	int rc = 0;
	for (char *p = dir + 1; rc == 0; p++) {
		char c = *p;
		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			rc = -errno;
		*p = c;
		if (c == '\0')
			break;
	}
	free(copy);
	return rc;
}

static int sync_dir(const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = fd < 0 || fsync(fd) < 0 ? -errno : 0;
	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

static int write_tmp(json_t *root, const char *tmp)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	/* Rendered whole, then written in large writes: json_dumpfd() writes token by token,
	 * one system call each, which made saving a table of thousands of servers take seconds. */
	char *text = json_dumps(root, JSON_INDENT(2));
	int rc = text ? 0 : -ENOMEM;
	size_t len = text ? strlen(text) : 0, off = 0;
	if (text)
		text[len++] = '\n'; /* replaces the terminating NUL */
	while (rc == 0 && off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno != EINTR)
			rc = -errno;
		else if (n > 0)
			off += (size_t)n;
	}
	free(text);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

int xvs_ctl_persist_save(const struct xvs_ctl_model *m, const char *path, char *msg, size_t msglen)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(msg, msglen, "state file path too long");
		return -ENAMETOOLONG;
	}
	json_t *root = state_json(m);
	if (!root) {
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	int rc = make_parent(path);
	if (rc == 0)
		rc = write_tmp(root, tmp);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc == 0)
		rc = sync_dir(path);
	json_decref(root);
	if (rc) {
		unlink(tmp);
		snprintf(msg, msglen, "cannot save %s: %s", path, strerror(-rc));
	}
	return rc;
}

/* ---- loading ------------------------------------------------------------------------- */


static const char *const svc_extra[] = {"slot", "epoch", "bind", "base", "dests", "health",
					"quorum_up", "sorry_slot", NULL};
static const char *const dest_extra[] = {"slot", "base", "last_weight", "health_check",
					 "health_state", NULL};

static void read_base(const json_t *o, struct xvs_ctl_ctr *b)
{
	json_int_t v[5] = {0};
	if (json_unpack((json_t *)o, "{s:[IIIII]}", "base", &v[0], &v[1], &v[2], &v[3], &v[4]) < 0)
		return;
	*b = (struct xvs_ctl_ctr){(uint64_t)v[0], (uint64_t)v[1], (uint64_t)v[2], (uint64_t)v[3],
				  (uint64_t)v[4]};
}

static int slot_of(const json_t *o)
{
	const json_t *v = json_object_get(o, "slot");
	return json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) < 65536
		       ? (int)json_integer_value(v) : -1;
}

/*
 * The set-*-health op of a saved object's health settings ("health_check" of a real server,
 * "health" of a service, as GET /v1/services names them), if it has them, into *op (counted
 * in *nb): the real server dop's of service sop, or (dop NULL) the service's own.
 */
static int health_op(const json_t *o, const struct xvs_ctl_op *sop, const struct xvs_ctl_op *dop,
		     struct xvs_ctl_op *op, unsigned *nb, char *msg, size_t msglen)
{
	const json_t *h = json_object_get(o, dop ? "health_check" : "health");
	if (!h)
		return 0;
	xvs_ctl_op_init(op, dop ? XVS_CTL_OP_SET_DEST_HEALTH : XVS_CTL_OP_SET_SVC_HEALTH);
	(*nb)++;
	op->svc = sop->svc;
	op->has_svc = true;
	if (dop)
		op->dest = dop->dest;
	return xvs_ctl_json_health_into_op(h, dop != NULL, op, msg, msglen);
}

/* Turn the saved services into add ops (and their health settings into set ops); *nb
 * counts them. */
static int state_ops(const json_t *svcs, struct xvs_ctl_op *ops, unsigned *nb, char *msg,
		     size_t msglen)
{
	size_t i, k;
	const json_t *s, *d;
	json_array_foreach(svcs, i, s) {
		struct xvs_ctl_op *op = &ops[(*nb)++];
		xvs_ctl_op_init(op, XVS_CTL_OP_ADD_SVC);
		op->slot = slot_of(s);
		int rc = xvs_ctl_json_parse_svc(s, &op->svc, svc_extra, msg, msglen);
		if (rc)
			return rc;
		json_array_foreach(json_object_get(s, "dests"), k, d) {
			struct xvs_ctl_op *dop = &ops[(*nb)++];
			xvs_ctl_op_init(dop, XVS_CTL_OP_ADD_DEST);
			dop->svc = op->svc;
			dop->has_svc = true;
			dop->slot = slot_of(d);
			if ((rc = xvs_ctl_json_parse_dest(d, &dop->dest, dest_extra, msg, msglen)) ||
			    (rc = health_op(d, op, dop, &ops[*nb], nb, msg, msglen)))
				return rc;
		}
		if ((rc = health_op(s, op, NULL, &ops[*nb], nb, msg, msglen)))
			return rc;
	}
	return 0;
}

/* The saved mark rules, in order, as add-mark ops. */
static int mark_ops(const json_t *marks, struct xvs_ctl_op *ops, unsigned *nb, char *msg,
		    size_t msglen)
{
	size_t i;
	const json_t *r;
	if (marks && !json_is_array(marks))
		return xvs_ctl_bad(msg, msglen, "'marks' must be an array");
	json_array_foreach(marks, i, r) {
		struct xvs_ctl_op *op = &ops[(*nb)++];
		xvs_ctl_op_init(op, XVS_CTL_OP_ADD_MARK);
		int rc = xvs_ctl_json_parse_mark(r, &op->mark, 1, msg, msglen);
		if (rc)
			return rc;
	}
	return 0;
}

/* The saved sync daemons: start-daemon ops, as the API takes them. */
static int daemon_ops(const json_t *daemons, struct xvs_ctl_op *ops, unsigned *nb, char *msg,
		      size_t msglen)
{
	size_t i;
	json_t *d;
	json_array_foreach(daemons, i, d) {
		struct xvs_ctl_op *op = &ops[(*nb)++];
		xvs_ctl_op_init(op, XVS_CTL_OP_START_DAEMON);
		json_t *o = json_pack("{ss sO}", XVS_WIRE_OP, XVS_WIRE_OP_START_DAEMON, XVS_WIRE_DAEMON, d);
		int rc = o ? xvs_ctl_json_parse_daemon_op(o, 1, op, msg, msglen) : -ENOMEM;
		json_decref(o);
		if (rc)
			return rc;
	}
	return 0;
}

/* Room for every op: each service and real server may add its set-*-health. */
static size_t count_ops(const json_t *svcs, const json_t *marks)
{
	size_t n = 2 * json_array_size(svcs) + json_array_size(marks) + 1, i;
	const json_t *s;
	json_array_foreach(svcs, i, s)
		n += 2 * json_array_size(json_object_get(s, "dests"));
	return n;
}

/* A saved real server's verdict, dynamic weight and since. */
static void restore_dest_health(struct xvs_ctl_dest *d, const json_t *o)
{
	int alive = 1;
	json_int_t w = -1, since = 0;
	if (!d->hc || json_unpack((json_t *)o, "{s:{s:b s:I s:I}}", "health_state", "alive", &alive,
				  "weight", &w, "since_ms", &since) < 0)
		return;
	d->hc_alive = alive;
	d->hc_fresh = false;
	d->hc_weight = w >= 0 && w <= 65535 ? (int32_t)w : -1;
	d->hc_since_ms = since;
}

/* The slot of saved service s in m, or -1. */
static int saved_svc(const struct xvs_ctl_model *m, const json_t *s)
{
	struct xvs_ctl_svc_cfg key;
	char msg[8];
	if (xvs_ctl_json_parse_svc(s, &key, svc_extra, msg, sizeof(msg)) < 0)
		return -1;
	return xvs_ctl_model_find_svc(m, &key);
}

/* The slot of saved real server d of service slot svc in m, or -1. */
static int saved_dest(const struct xvs_ctl_model *m, unsigned svc, const json_t *d)
{
	struct xvs_ctl_dest_cfg key;
	char msg[8];
	if (xvs_ctl_json_parse_dest(d, &key, dest_extra, msg, sizeof(msg)) < 0)
		return -1;
	return xvs_ctl_model_find_dest(m, svc, &key);
}

/* Put back the health state the ops do not carry, before the IPVS view is rebuilt: the
 * quorum (so its start-up rules do not run again), the sorry server's slot, verdicts. */
static void restore_health(struct xvs_ctl_model *m, const json_t *svcs)
{
	size_t i, k;
	const json_t *s, *d;
	json_array_foreach(svcs, i, s) {
		int slot = saved_svc(m, s);
		if (slot < 0)
			continue;
		const json_t *q = json_object_get(s, "quorum_up");
		if (m->svcs[slot].hc && json_is_boolean(q)) {
			m->svcs[slot].quorum_up = json_is_true(q);
			m->svcs[slot].q_valid = true;
		}
		json_int_t ss = -1;
		if (json_unpack((json_t *)s, "{s:I}", "sorry_slot", &ss) == 0 && ss >= 0 &&
		    ss < XVS_MAX_DESTS)
			m->svcs[slot].sorry_hint = (uint16_t)(ss + 1);
		json_array_foreach(json_object_get(s, "dests"), k, d) {
			int ds = saved_dest(m, (unsigned)slot, d);
			if (ds >= 0)
				restore_dest_health(&m->dests[ds], d);
		}
	}
}

/* Put back what ops do not carry: epochs, last weights and baselines. */
static void restore_extras(struct xvs_ctl_model *m, const json_t *svcs)
{
	size_t i, k;
	const json_t *s, *d;
	json_array_foreach(svcs, i, s) {
		int slot = saved_svc(m, s);
		if (slot < 0)
			continue;
		json_int_t epoch = 0, bind = 0;
		if (json_unpack((json_t *)s, "{s:I}", "epoch", &epoch) == 0 && epoch > 0)
			m->svcs[slot].sched_epoch = (uint32_t)epoch;
		if (json_unpack((json_t *)s, "{s:I}", "bind", &bind) == 0 && bind > 0)
			m->svcs[slot].sched_bind = (uint32_t)bind;
		read_base(s, &m->svcs[slot].base);
		json_array_foreach(json_object_get(s, "dests"), k, d) {
			int ds = saved_dest(m, (unsigned)slot, d);
			if (ds < 0)
				continue;
			read_base(d, &m->dests[ds].base);
			json_int_t lw = -1;
			if (json_unpack((json_t *)d, "{s:I}", "last_weight", &lw) == 0 && lw >= 0 &&
			    lw <= 65535)
				m->dests[ds].last_weight = (int32_t)lw;
		}
	}
}

static int load_root(struct xvs_ctl_model *m, const json_t *root, char *msg, size_t msglen)
{
	json_int_t version = 0, gen = 0, epoch = 0, dp_pid = 0;
	json_t *svcs = NULL, *to = NULL, *marks = NULL, *daemons = NULL;
	if (json_unpack((json_t *)root, "{s:I s:I s?I s?I s:o s:o s?o s?o}", "version", &version,
			"generation", &gen, "epoch", &epoch, "dp_pid", &dp_pid, "timeouts", &to,
			"services", &svcs, "marks", &marks, XVS_WIRE_DAEMONS, &daemons) < 0 ||
	    !json_is_array(svcs) || (daemons && !json_is_array(daemons)))
		return xvs_ctl_bad(msg, msglen, "not an xvs-control state file");
	if (version != STATE_VERSION)
		return xvs_ctl_bad(msg, msglen, "state file version %lld, expected %d", (long long)version,
			   STATE_VERSION);
	size_t nb_ops = count_ops(svcs, marks) + json_array_size(daemons);
	struct xvs_ctl_op *ops = calloc(nb_ops, sizeof(*ops));
	if (!ops)
		return -ENOMEM;
	unsigned nb = 0;
	struct xvs_ctl_err err = {0};
	int rc = state_ops(svcs, ops, &nb, msg, msglen);
	if (rc == 0)
		rc = mark_ops(marks, ops, &nb, msg, msglen);
	if (rc == 0)
		rc = daemon_ops(daemons, ops, &nb, msg, msglen);
	if (rc == 0) {
		struct xvs_ctl_op *t = &ops[nb++];
		json_int_t v[3] = {0};
		xvs_ctl_op_init(t, XVS_CTL_OP_SET_TIMEOUTS);
		json_unpack(to, "{s?I s?I s?I}", "tcp", &v[0], "tcpfin", &v[1], "udp", &v[2]);
		for (unsigned i = 0; i < 3; i++)
			t->timeouts[i] = v[i];
		rc = xvs_ctl_model_apply_ops(m, ops, nb, &err);
		if (rc)
			snprintf(msg, msglen, "entry %d: %s", err.index, err.msg);
	}
	xvs_ctl_ops_free(ops, (unsigned)nb_ops);
	if (rc)
		return rc;
	restore_health(m, svcs);
	xvs_ctl_overlay_refresh(m, XVS_CTL_OVERLAY_KEEP_ORDER);
	restore_extras(m, svcs);
	m->last_gen = (uint64_t)gen;
	m->epoch_counter = (uint32_t)epoch > m->epoch_counter ? (uint32_t)epoch : m->epoch_counter;
	m->base_dp_pid = (uint64_t)dp_pid;
	return 0;
}

int xvs_ctl_persist_load(struct xvs_ctl_model *m, const char *path, char *msg, size_t msglen)
{
	json_error_t je;
	if (access(path, F_OK) < 0 && errno == ENOENT) {
		snprintf(msg, msglen, "no state file %s", path);
		return -ENOENT;
	}
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		snprintf(msg, msglen, "%s: line %d: %s", path, je.line, je.text);
		return -EINVAL;
	}
	struct xvs_ctl_model *copy = xvs_ctl_model_dup(m);
	if (copy)
		copy->sink = NULL; /* restoring is no change: no events, no scripts */
	int rc = copy ? load_root(copy, root, msg, msglen) : -ENOMEM;
	if (rc == 0) {
		copy->sink = m->sink;
		xvs_ctl_model_replace(m, copy);
		copy = NULL;
	} else if (copy) {
		snprintf(msg + strlen(msg), msglen - strlen(msg), " (in %s)", path);
	}
	xvs_ctl_model_free(copy);
	json_decref(root);
	return rc;
}
