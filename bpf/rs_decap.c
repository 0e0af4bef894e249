/* Loader of the real-server decapsulator: libbpf skeleton, bpffs pins, tc or XDP attach. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/magic.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "rs_decap.h"
#include "xvs_rs_decap.skel.h"

const char *const xvs_rs_decap_counter_names[XVS_DECAP_NB_COUNTERS] = {
#define XVS_DECAP_COUNTER_NAME(name, str) [XVS_DECAP_CNT_##name] = str,
	XVS_DECAP_FOREACH_COUNTER(XVS_DECAP_COUNTER_NAME)
#undef XVS_DECAP_COUNTER_NAME
};

/* Names of the pins inside <pin dir>/<interface>/. */
#define RS_PIN_PROG "prog"
#define RS_PIN_LINK "link" /* only in XDP mode: the XDP link that keeps it attached */
#define RS_PIN_STATS "decap_stats"
#define RS_PIN_LOCALS "decap_locals"
#define RS_PIN_CONFIG "decap_config"

static const char *const rs_pin_names[] = {
	RS_PIN_LINK, RS_PIN_PROG, RS_PIN_STATS, RS_PIN_LOCALS, RS_PIN_CONFIG,
};

int xvs_rs_decap_parse_addr(const char *s, struct xvs_decap_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->addr) == 1) {
		a->family = XVS_DECAP_FAMILY_V4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->addr) == 1) {
		a->family = XVS_DECAP_FAMILY_V6;
		return 0;
	}
	return -EINVAL;
}

const char *xvs_rs_decap_format_addr(const struct xvs_decap_addr *a, char *buf, size_t len)
{
	int af = a->family == XVS_DECAP_FAMILY_V4 ? AF_INET : AF_INET6;

	if (!inet_ntop(af, a->addr, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

/* <pin dir>/<ifname>[/<name>] into buf; -EINVAL for a name that could escape the directory. */
static int rs_path(char *buf, size_t len, const char *pin_dir, const char *ifname,
		   const char *name)
{
	int n;

	if (!*ifname || strlen(ifname) >= IFNAMSIZ || strchr(ifname, '/') ||
	    !strcmp(ifname, ".") || !strcmp(ifname, ".."))
		return -EINVAL;
	if (name)
		n = snprintf(buf, len, "%s/%s/%s", pin_dir, ifname, name);
	else
		n = snprintf(buf, len, "%s/%s", pin_dir, ifname);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int rs_mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	char *p;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * True when this process runs in a mount namespace other than its parent's or init's, as
 * under `ip netns exec`: a bpffs mounted there disappears, with its pins, when we exit.
 * A namespace we cannot read (no /proc, a sandbox) is taken to be the same.
 */
static bool rs_private_mount_ns(void)
{
	char parent[64];
	const char *others[] = { parent, "/proc/1/ns/mnt" };
	struct stat self, other;
	size_t i;

	if (stat("/proc/self/ns/mnt", &self))
		return false;
	snprintf(parent, sizeof(parent), "/proc/%d/ns/mnt", (int)getppid());
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (!stat(others[i], &other) &&
		    (self.st_ino != other.st_ino || self.st_dev != other.st_dev))
			return true;
	return false;
}

/* Make pin_dir a bpffs, mounting one when it is not. */
static int rs_ensure_bpffs(const char *pin_dir)
{
	struct statfs fs;
	int err;

	if (!statfs(pin_dir, &fs) && fs.f_type == BPF_FS_MAGIC)
		return 0;
	if (rs_private_mount_ns())
		return -EXDEV;
	err = rs_mkdir_p(pin_dir);
	if (err)
		return err;
	if (mount("bpf", pin_dir, "bpf", 0, "mode=0700"))
		return -errno;
	return 0;
}

/* Remove every pin of the interface and its directory; missing ones are fine. */
static void rs_unpin_all(const char *pin_dir, const char *ifname)
{
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(rs_pin_names) / sizeof(rs_pin_names[0]); i++)
		if (!rs_path(path, sizeof(path), pin_dir, ifname, rs_pin_names[i]))
			unlink(path);
	if (!rs_path(path, sizeof(path), pin_dir, ifname, NULL))
		rmdir(path);
}

static int rs_fill_maps(struct xvs_rs_decap *skel, const struct xvs_rs_decap_conf *conf)
{
	struct xvs_decap_config cfg = { .gue_port = htons(conf->gue_port) };
	uint32_t zero = 0;
	uint8_t one = 1;
	unsigned int i;
	int err;

	err = bpf_map__update_elem(skel->maps.decap_config, &zero, sizeof(zero), &cfg,
				   sizeof(cfg), BPF_ANY);
	for (i = 0; !err && i < conf->nb_locals; i++)
		err = bpf_map__update_elem(skel->maps.decap_locals, &conf->locals[i],
					   sizeof(conf->locals[i]), &one, sizeof(one), BPF_ANY);
	return err;
}

static int rs_pin_objects(struct xvs_rs_decap *skel, struct bpf_program *prog,
			  const char *pin_dir, const char *ifname)
{
	struct {
		struct bpf_map *map;
		const char *name;
	} maps[] = {
		{ skel->maps.decap_stats, RS_PIN_STATS },
		{ skel->maps.decap_locals, RS_PIN_LOCALS },
		{ skel->maps.decap_config, RS_PIN_CONFIG },
	};
	char path[PATH_MAX];
	size_t i;
	int err;

	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		err = rs_path(path, sizeof(path), pin_dir, ifname, maps[i].name);
		if (!err)
			err = bpf_map__pin(maps[i].map, path);
		if (err)
			return err;
	}
	err = rs_path(path, sizeof(path), pin_dir, ifname, RS_PIN_PROG);
	return err ? err : bpf_program__pin(prog, path);
}

/* tc clsact ingress, direct action; the qdisc is shared with others and stays. */
static int rs_attach_tc(int prog_fd, int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XVS_RS_DECAP_TC_HANDLE,
		    .priority = XVS_RS_DECAP_TC_PRIO, .prog_fd = prog_fd);
	int err;

	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return err;
	return bpf_tc_attach(&hook, &opts);
}

/* An XDP link (native mode where the driver has it), kept alive by its pin. */
static int rs_attach_xdp(struct bpf_program *prog, int ifindex, const char *pin_dir,
			 const char *ifname)
{
	char path[PATH_MAX];
	struct bpf_link *link;
	int err;

	err = rs_path(path, sizeof(path), pin_dir, ifname, RS_PIN_LINK);
	if (err)
		return err;
	link = bpf_program__attach_xdp(prog, ifindex);
	if (!link)
		return -errno;
	err = bpf_link__pin(link, path);
	bpf_link__disconnect(link); /* closing our fd must not detach: the pin holds it */
	bpf_link__destroy(link);
	return err;
}

static int rs_load_and_attach(const struct xvs_rs_decap_conf *conf, int ifindex)
{
	struct xvs_rs_decap *skel;
	struct bpf_program *prog;
	int err;

	skel = xvs_rs_decap__open();
	if (!skel)
		return -errno;
	prog = conf->xdp ? skel->progs.xvs_decap_xdp_in : skel->progs.xvs_decap_tc_in;
	bpf_program__set_autoload(conf->xdp ? skel->progs.xvs_decap_tc_in :
					      skel->progs.xvs_decap_xdp_in, false);
	err = xvs_rs_decap__load(skel);
	if (!err)
		err = rs_fill_maps(skel, conf);
	if (!err)
		err = rs_pin_objects(skel, prog, conf->pin_dir, conf->ifname);
	if (!err && conf->xdp)
		err = rs_attach_xdp(prog, ifindex, conf->pin_dir, conf->ifname);
	else if (!err)
		err = rs_attach_tc(bpf_program__fd(prog), ifindex);
	/* The pins and the attachment hold the objects; our descriptors can go. */
	xvs_rs_decap__destroy(skel);
	return err;
}

int xvs_rs_decap_attach(const struct xvs_rs_decap_conf *conf)
{
	char dir[PATH_MAX];
	int ifindex, err;

	err = rs_path(dir, sizeof(dir), conf->pin_dir, conf->ifname, NULL);
	if (err)
		return err;
	ifindex = if_nametoindex(conf->ifname);
	if (!ifindex)
		return -ENODEV;
	err = rs_ensure_bpffs(conf->pin_dir);
	if (err)
		return err;
	if (mkdir(dir, 0700))
		return -errno; /* EEXIST: attached already (or a stale pin directory) */
	err = rs_load_and_attach(conf, ifindex);
	if (err)
		rs_unpin_all(conf->pin_dir, conf->ifname);
	return err;
}

/* The id of the program behind a pinned fd, 0 when unknown. */
static uint32_t rs_prog_id(const char *path)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);
	int fd;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.id = 0;
	close(fd);
	return info.id;
}

/* The name of a loaded program, "" when it cannot be read. */
static void rs_prog_name(uint32_t id, char *name, size_t len)
{
	struct bpf_prog_info info;
	uint32_t info_len = sizeof(info);
	int fd;

	name[0] = '\0';
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return;
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(fd, &info, &info_len))
		snprintf(name, len, "%s", info.name);
	close(fd);
}

/*
 * Without pins (a bpffs that went away under it), a tc attachment can outlive its maps.
 * Remove our filter slot when it still holds our program, known by name.
 */
static int rs_detach_tc_orphan(const char *ifname)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XVS_RS_DECAP_TC_HANDLE,
		    .priority = XVS_RS_DECAP_TC_PRIO);
	char name[BPF_OBJ_NAME_LEN];

	hook.ifindex = if_nametoindex(ifname);
	if (!hook.ifindex || bpf_tc_query(&hook, &opts))
		return -ENOENT;
	rs_prog_name(opts.prog_id, name, sizeof(name));
	if (strcmp(name, "xvs_decap_tc_in"))
		return -ENOENT;
	opts.prog_id = 0;
	opts.flags = 0;
	return bpf_tc_detach(&hook, &opts);
}

/* Remove our tc filter, but only if the program there is still the one we pinned. */
static int rs_detach_tc(const char *pin_dir, const char *ifname)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XVS_RS_DECAP_TC_HANDLE,
		    .priority = XVS_RS_DECAP_TC_PRIO);
	char path[PATH_MAX];
	uint32_t pinned_id;
	int err;

	hook.ifindex = if_nametoindex(ifname);
	if (!hook.ifindex)
		return 0; /* the interface is gone, and its filters with it */
	err = rs_path(path, sizeof(path), pin_dir, ifname, RS_PIN_PROG);
	if (err)
		return err;
	pinned_id = rs_prog_id(path);
	err = bpf_tc_query(&hook, &opts);
	if (err)
		return err == -ENOENT ? 0 : err; /* someone removed it (or the qdisc) */
	if (pinned_id && opts.prog_id != pinned_id)
		return -EBUSY;
	opts.prog_id = 0;
	opts.prog_fd = 0;
	opts.flags = 0;
	return bpf_tc_detach(&hook, &opts);
}

static int rs_detach_xdp(const char *link_path)
{
	int fd, err;

	fd = bpf_obj_get(link_path);
	if (fd < 0)
		return fd;
	err = bpf_link_detach(fd);
	close(fd);
	return err;
}

int xvs_rs_decap_detach(const char *pin_dir, const char *ifname)
{
	char dir[PATH_MAX], link[PATH_MAX];
	int err;

	err = rs_path(dir, sizeof(dir), pin_dir, ifname, NULL);
	if (!err)
		err = rs_path(link, sizeof(link), pin_dir, ifname, RS_PIN_LINK);
	if (err)
		return err;
	if (access(dir, F_OK))
		return rs_detach_tc_orphan(ifname);
	if (!access(link, F_OK))
		err = rs_detach_xdp(link);
	else
		err = rs_detach_tc(pin_dir, ifname);
	if (err)
		return err;
	rs_unpin_all(pin_dir, ifname);
	return 0;
}

static int rs_open_pin(const char *pin_dir, const char *ifname, const char *name)
{
	char path[PATH_MAX];
	int err;

	err = rs_path(path, sizeof(path), pin_dir, ifname, name);
	if (err)
		return err;
	return bpf_obj_get(path); /* libbpf returns -errno */
}

/* Sum the per-CPU slots of each counter. */
static int rs_read_counters(int fd, struct xvs_rs_decap_state *st)
{
	int nb_cpus = libbpf_num_possible_cpus();
	uint64_t vals[nb_cpus > 0 ? nb_cpus : 1];
	uint32_t key;
	int cpu;

	if (nb_cpus <= 0)
		return nb_cpus ? nb_cpus : -EINVAL;
	for (key = 0; key < XVS_DECAP_NB_COUNTERS; key++) {
		if (bpf_map_lookup_elem(fd, &key, vals))
			return -errno;
		st->counters[key] = 0;
		for (cpu = 0; cpu < nb_cpus; cpu++)
			st->counters[key] += vals[cpu];
	}
	return 0;
}

static int rs_read_locals(int fd, struct xvs_rs_decap_state *st)
{
	struct xvs_decap_addr key, next;
	void *prev = NULL;

	st->nb_locals = 0;
	while (st->nb_locals < XVS_DECAP_MAX_LOCALS && !bpf_map_get_next_key(fd, prev, &next)) {
		st->locals[st->nb_locals++] = next;
		key = next;
		prev = &key;
	}
	return 0;
}

int xvs_rs_decap_show(const char *pin_dir, const char *ifname, struct xvs_rs_decap_state *st)
{
	struct xvs_decap_config cfg;
	char link[PATH_MAX];
	uint32_t zero = 0;
	int fds[3], err = 0, i;

	memset(st, 0, sizeof(*st));
	fds[0] = rs_open_pin(pin_dir, ifname, RS_PIN_STATS);
	fds[1] = rs_open_pin(pin_dir, ifname, RS_PIN_LOCALS);
	fds[2] = rs_open_pin(pin_dir, ifname, RS_PIN_CONFIG);
	for (i = 0; i < 3; i++)
		if (fds[i] < 0 && !err)
			err = fds[i];
	if (!err)
		err = rs_read_counters(fds[0], st);
	if (!err)
		err = rs_read_locals(fds[1], st);
	if (!err && bpf_map_lookup_elem(fds[2], &zero, &cfg))
		err = -errno;
	if (!err) {
		st->gue_port = ntohs(cfg.gue_port);
		err = rs_path(link, sizeof(link), pin_dir, ifname, RS_PIN_LINK);
		st->xdp = !err && !access(link, F_OK);
	}
	for (i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return err;
}
