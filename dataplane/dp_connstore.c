/* Connection tables in files that outlive the process (dp_connstore.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <numa.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_hash_crc.h>

#include "dp_connstore.h"

#define HUGETLBFS_MAGIC_ 0x958458f6

_Static_assert(sizeof(struct xvs_cstore_hdr) <= XVS_CSTORE_HDR_SIZE, "the header fits its page");
_Static_assert(XVS_CSTORE_HDR_SIZE % 64 == 0, "the table after it stays cache aligned");

static const char *const steer_names[] = { "none", "software", "nic" };

static const char *steer_name(uint32_t s)
{
	return s < RTE_DIM(steer_names) ? steer_names[s] : "unknown";
}

/* ---- the header (pure) ------------------------------------------------------------------ */

uint64_t xvs_cstore_file_size(uint32_t capacity, uint64_t page_size)
{
	uint64_t n = XVS_CSTORE_HDR_SIZE + (uint64_t)xvs_conn_table_memsize(capacity);
	return (n + page_size - 1) / page_size * page_size;
}

uint32_t xvs_cstore_crc(const struct xvs_cstore_hdr *h)
{
	return rte_hash_crc(h, offsetof(struct xvs_cstore_hdr, crc), 0x78767363);
}

void xvs_cstore_hdr_init(struct xvs_cstore_hdr *h, const struct xvs_cstore_want *want)
{
	memset(h, 0, sizeof(*h));
	h->magic = XVS_CSTORE_MAGIC;
	h->abi = XVS_CONN_ABI;
	h->hdr_size = XVS_CSTORE_HDR_SIZE;
	h->file_size = want->file_size;
	h->capacity = want->capacity;
	h->nb_buckets = xvs_conn_table_nb_buckets(want->capacity);
	h->cell_size = sizeof(struct xvs_conn);
	h->bucket_size = sizeof(struct xvs_conn_bucket);
	h->worker = want->worker;
	h->nb_workers = want->nb_workers;
	h->steering = want->steering;
	h->reta_size = want->reta_size;
	memcpy(h->boot_id, want->boot_id, sizeof(h->boot_id));
	h->boot_id[sizeof(h->boot_id) - 1] = 0;
}

/* The layout fields of h against this binary's for want's capacity. */
static int layout_ok(const struct xvs_cstore_hdr *h, uint64_t file_size,
		     const struct xvs_cstore_want *want)
{
	return h->hdr_size == XVS_CSTORE_HDR_SIZE && h->cell_size == sizeof(struct xvs_conn) &&
	       h->bucket_size == sizeof(struct xvs_conn_bucket) &&
	       h->nb_buckets == xvs_conn_table_nb_buckets(want->capacity) &&
	       h->file_size == want->file_size && file_size == want->file_size;
}

int xvs_cstore_check(const struct xvs_cstore_hdr *h, uint64_t file_size,
		     const struct xvs_cstore_want *want, char *why, size_t len)
{
	if (file_size < sizeof(*h) || h->magic != XVS_CSTORE_MAGIC) {
		snprintf(why, len, "no connection table in the file");
		return -1;
	}
	if (h->abi != XVS_CONN_ABI) {
		snprintf(why, len, "connection table ABI %u, this binary %u", h->abi, XVS_CONN_ABI);
		return -1;
	}
	if (xvs_cstore_crc(h) != h->crc) {
		snprintf(why, len, "connection table header checksum mismatch");
		return -1;
	}
	if (h->capacity != want->capacity) {
		snprintf(why, len, "connection table of %u cells, conn_max now %u", h->capacity,
			 want->capacity);
		return -1;
	}
	if (h->nb_workers != want->nb_workers) {
		snprintf(why, len, "connection tables of %u worker(s), now %u worker(s)", h->nb_workers,
			 want->nb_workers);
		return -1;
	}
	if (h->worker != want->worker) {
		snprintf(why, len, "the file holds worker %u's table, not worker %u's", h->worker,
			 want->worker);
		return -1;
	}
	if (!layout_ok(h, file_size, want)) {
		snprintf(why, len, "connection table layout differs (file of %llu bytes, %u buckets)",
			 (unsigned long long)file_size, h->nb_buckets);
		return -1;
	}
	if (h->steering != want->steering) {
		snprintf(why, len, "connections steered %s, now %s", steer_name(h->steering),
			 steer_name(want->steering));
		return -1;
	}
	if (want->steering == XVS_STEER_NIC && h->reta_size != want->reta_size) {
		snprintf(why, len, "RSS redirection table of %u entries, now %u", h->reta_size,
			 want->reta_size);
		return -1;
	}
	if (want->steering != XVS_STEER_NONE && want->steer_key_set &&
	    memcmp(h->steer_key, want->steer_key, sizeof(h->steer_key))) {
		snprintf(why, len, "steering_seed changed");
		return -1;
	}
	if (strncmp(h->boot_id, want->boot_id, sizeof(h->boot_id))) {
		snprintf(why, len, "connection table written before a reboot");
		return -1;
	}
	if (h->clock_base_ns > want->now_ns) {
		snprintf(why, len, "connection table clock starts in the future");
		return -1;
	}
	return 0;
}

int xvs_cstore_check_set(const struct xvs_cstore_hdr *const *h, unsigned nb, char *why, size_t len)
{
	for (unsigned i = 1; i < nb; i++)
		if (memcmp(h[i]->steer_key, h[0]->steer_key, sizeof(h[0]->steer_key)) ||
		    memcmp(h[i]->rss_key, h[0]->rss_key, sizeof(h[0]->rss_key))) {
			snprintf(why, len, "workers 0 and %u disagree on the steering secret", i);
			return -1;
		}
	return 0;
}

/* ---- the files -------------------------------------------------------------------------- */

static int is_hugetlbfs(const char *dir, uint64_t *page_size)
{
	struct statfs s;
	if (statfs(dir, &s) < 0)
		return -errno;
	*page_size = (uint64_t)s.f_bsize;
	return (unsigned long)s.f_type == HUGETLBFS_MAGIC_;
}

int xvs_cstore_pick_dir(struct xvs_cstore *cs, const struct xvs_dp_config *cfg, char *err,
			size_t errlen)
{
	const char *dir = cfg->conn_dir;
	if (!dir[0])
		dir = strcmp(cfg->huge_dir, "none") && is_hugetlbfs(cfg->huge_dir, &cs->page_size) == 1
			      ? cfg->huge_dir : "/dev/shm";
	snprintf(cs->dir, sizeof(cs->dir), "%s", dir);
	snprintf(cs->prefix, sizeof(cs->prefix), "%s", cfg->file_prefix);
	int rc = is_hugetlbfs(cs->dir, &cs->page_size);
	if (rc < 0) {
		snprintf(err, errlen, "conn_dir %s: %s", cs->dir, strerror(-rc));
		return rc;
	}
	cs->huge = rc;
	if (!cs->huge || cs->page_size < 4096)
		cs->page_size = 4096;
	return 0;
}

static void file_path(const struct xvs_cstore *cs, unsigned i, char *path, size_t len)
{
	snprintf(path, len, "%s/xvs-%s-conns-%u", cs->dir, cs->prefix, i);
}

/* A file of ours: "xvs-<prefix>-conns-<digits>"; its worker index, or -1. */
static long file_index(const char *name, const char *prefix)
{
	char head[128];
	snprintf(head, sizeof(head), "xvs-%s-conns-", prefix);
	size_t n = strlen(head);
	if (strncmp(name, head, n) || !name[n] || strspn(name + n, "0123456789") != strlen(name + n))
		return -1;
	return strtol(name + n, NULL, 10);
}

/* Remove the files of prefix in dir whose worker index is at least from. */
static unsigned remove_from(const char *dir, const char *prefix, long from)
{
	DIR *d = opendir(dir);
	unsigned n = 0;
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		long i = file_index(e->d_name, prefix);
		char path[512];
		if (i < from)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n += unlink(path) == 0;
	}
	closedir(d);
	return n;
}

unsigned xvs_cstore_remove_all(const char *dir, const char *prefix)
{
	return remove_from(dir, prefix, 0);
}

static int open_one(struct xvs_cstore *cs, unsigned i, char *err, size_t errlen)
{
	struct xvs_cstore_file *f = &cs->f[i];
	char path[512];
	struct stat st;
	file_path(cs, i, path, sizeof(path));
	f->fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (f->fd < 0 || fstat(f->fd, &st) < 0) {
		snprintf(err, errlen, "connection table %s: %s", path, strerror(errno));
		return -errno;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 077)) {
		snprintf(err, errlen, "connection table %s: belongs to another user or others may "
			 "access it", path);
		return -EPERM;
	}
	if (flock(f->fd, LOCK_EX | LOCK_NB) < 0) {
		snprintf(err, errlen, "connection table %s: in use by another xvs-dataplane", path);
		return -EBUSY;
	}
	f->old_size = (uint64_t)st.st_size;
	memset(&f->old, 0, sizeof(f->old));
	if (f->old_size >= sizeof(f->old) && pread(f->fd, &f->old, sizeof(f->old), 0) != sizeof(f->old))
		memset(&f->old, 0, sizeof(f->old));
	return 0;
}

int xvs_cstore_open(struct xvs_cstore *cs, unsigned nb, char *err, size_t errlen)
{
	cs->nb = nb;
	for (unsigned i = 0; i < XVS_MAX_LCORES; i++)
		cs->f[i].fd = -1;
	for (unsigned i = 0; i < nb; i++) {
		int rc = open_one(cs, i, err, errlen);
		if (rc < 0)
			return rc;
	}
	remove_from(cs->dir, cs->prefix, (long)nb);
	return 0;
}

void xvs_cstore_decide(struct xvs_cstore *cs, const struct xvs_cstore_want *want, int fresh)
{
	const struct xvs_cstore_hdr *h[XVS_MAX_LCORES];
	char why[200];
	cs->attach = 0;
	if (fresh) {
		snprintf(cs->why, sizeof(cs->why), "--fresh-conns");
		return;
	}
	for (unsigned i = 0; i < cs->nb; i++) {
		h[i] = &cs->f[i].old;
		if (cs->f[i].old_size == 0) {
			snprintf(cs->why, sizeof(cs->why), "no connection table yet in %s", cs->dir);
			return;
		}
		if (xvs_cstore_check(h[i], cs->f[i].old_size, &want[i], why, sizeof(why)) < 0) {
			snprintf(cs->why, sizeof(cs->why), "worker %u: %s", i, why);
			return;
		}
	}
	if (xvs_cstore_check_set(h, cs->nb, why, sizeof(why)) < 0) {
		snprintf(cs->why, sizeof(cs->why), "%s", why);
		return;
	}
	cs->attach = 1;
}

/* Prefer node for the mapping's pages (before they are touched). */
static void prefer_node(void *p, uint64_t len, int node)
{
	if (node < 0 || numa_available() < 0 || node > numa_max_node())
		return;
	unsigned long mask[4] = { 0 };
	if ((unsigned)node >= sizeof(mask) * 8)
		return;
	mask[node / (8 * sizeof(long))] = 1UL << (node % (8 * sizeof(long)));
	/* best effort: pages come from elsewhere when the node has none */
	(void)mbind(p, len, MPOL_PREFERRED, mask, sizeof(mask) * 8, 0);
}

void *xvs_cstore_map(struct xvs_cstore *cs, unsigned i, uint64_t size, int node)
{
	struct xvs_cstore_file *f = &cs->f[i];
	f->attached = cs->attach;
	f->len = size;
	/* not attached: new zero pages (truncating frees the old ones) */
	if (!f->attached && (ftruncate(f->fd, 0) < 0 || ftruncate(f->fd, (off_t)size) < 0))
		return NULL;
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, f->fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	f->map = p;
	if (!f->attached) {
		prefer_node(p, size, node);
		memset(p, 0, size); /* the pages are placed now, not on the worker's first writes */
	}
	return (char *)p + XVS_CSTORE_HDR_SIZE;
}

void xvs_cstore_write_hdr(struct xvs_cstore *cs, unsigned i, const struct xvs_cstore_want *want,
			  const struct xvs_steer *steer, const struct xvs_conn_table *t,
			  uint64_t clock_base_ns, int clean)
{
	struct xvs_cstore_file *f = &cs->f[i];
	struct xvs_cstore_hdr *h = f->map;
	if (!h)
		return;
	int ours = h->magic == XVS_CSTORE_MAGIC;
	uint64_t runs = ours ? h->runs : 0;
	struct xvs_cstore_hdr n;
	xvs_cstore_hdr_init(&n, want);
	memcpy(n.steer_key, steer->key, sizeof(n.steer_key));
	memcpy(n.rss_key, steer->rss_key, sizeof(n.rss_key));
	memcpy(n.table_key, t->key, sizeof(n.table_key));
	n.clock_base_ns = clock_base_ns;
	n.runs = clean || (ours && !h->clean) ? runs : runs + 1; /* once per process */
	n.clean = (uint32_t)clean;
	n.crc = xvs_cstore_crc(&n);
	*h = n;
}

void xvs_cstore_close(struct xvs_cstore *cs)
{
	for (unsigned i = 0; i < cs->nb; i++) {
		struct xvs_cstore_file *f = &cs->f[i];
		if (f->map)
			munmap(f->map, f->len);
		if (f->fd >= 0)
			close(f->fd);
		f->map = NULL;
		f->fd = -1;
	}
}

/* ---- the tables ------------------------------------------------------------------------- */

uint64_t xvs_cstore_clock_base(const struct xvs_worker *w, uint64_t now_ns, uint64_t now_tsc)
{
	uint64_t ticks = now_tsc - w->start_tsc, hz = w->dp->tsc_hz;
	uint64_t ns = ticks / hz * 1000000000ULL + ticks % hz * 1000000000ULL / hz;
	return now_ns - ns;
}

int xvs_cstore_attach(struct xvs_cstore *cs, unsigned i, struct xvs_worker *w, void *mem,
		      struct xvs_conn_rebuild *r, char *why, size_t len)
{
	const struct xvs_cstore_hdr *h = &cs->f[i].old;
	if (xvs_conn_table_attach(&w->conns, mem, h->capacity, h->table_key) < 0 ||
	    xvs_conn_table_rebuild(&w->conns, XVS_MAX_DESTS, (int)h->clean, r) < 0) {
		snprintf(why, len, "cell %u: %s", r->cell, r->why ? r->why : "bad layout");
		return -EBADMSG;
	}
	/* the worker clock goes on from where the last owner's stood (CLOCK_MONOTONIC) */
	uint64_t now_ns = xvs_now_ns(), now_tsc = rte_rdtsc(), hz = w->dp->tsc_hz;
	uint64_t ns = now_ns - h->clock_base_ns;
	w->start_tsc = now_tsc - (ns / 1000000000ULL * hz + ns % 1000000000ULL * hz / 1000000000ULL);
	w->now_tsc = now_tsc;
	w->now = (uint32_t)((w->now_tsc - w->start_tsc) / hz);
	return 0;
}

/* Does generation g still explain entry c: its slot names the same server of its service? */
static int entry_explained(const struct xvs_gen *g, const struct xvs_conn *c)
{
	if (c->dest >= g->nb_dests)
		return 0;
	const struct xvs_dest *d = &g->dests[c->dest];
	if ((d->state != XVS_SLOT_USED && d->state != XVS_SLOT_TRASH) || d->svc >= g->nb_svcs)
		return 0;
	union xvs_ip da = xvs_conn_daddr(c);
	if (d->af == XVS_AF_INET ? da.v4 != d->addr.v4 : memcmp(&da, &d->addr, sizeof(da)))
		return 0;
	const struct xvs_svc *s = &g->svcs[d->svc];
	if (s->state == XVS_SLOT_FREE || s->af != c->af)
		return 0;
	if (s->fwmark)
		return 1;
	union xvs_ip va = xvs_conn_vaddr(c);
	return s->af == XVS_AF_INET ? va.v4 == s->addr.v4 : !memcmp(&va, &s->addr, sizeof(va));
}

static void count_entries(struct xvs_worker *w)
{
	struct xvs_conn_table *t = &w->conns;
	for (unsigned d = 0; d < XVS_MAX_DESTS; d++) {
		w->st->dest[d].active = 0;
		w->st->dest[d].inactive = 0;
		w->st->dest[d].persist = 0;
	}
	w->st->conns_cur = 0;
	for (uint32_t i = 0; i < t->capacity; i++) {
		const struct xvs_conn *c = xvs_conn_live(t, i);
		if (!c)
			continue;
		struct xvs_stats_ctr *d = &w->st->dest[c->dest];
		if (xvs_conn_proto_is_tpl(c->proto)) {
			d->persist++;
			continue;
		}
		if (c->flags & XVS_CONN_F_ACTIVE)
			d->active++;
		else
			d->inactive++;
		w->st->conns_cur++;
	}
}

uint32_t xvs_cstore_reconcile(struct xvs_worker *w, const struct xvs_gen *g, int clean)
{
	struct xvs_conn_table *t = &w->conns;
	uint32_t dropped = 0;
	for (uint32_t i = 0; g && i < t->capacity; i++) {
		struct xvs_conn *c = xvs_conn_live(t, i);
		if (!c)
			continue;
		if (!entry_explained(g, c)) {
			xvs_conn_free(t, i);
			dropped++;
			continue;
		}
		if (clean)
			continue;
		/* a template's count lives in its port and state (dp_conn.h) */
		if (xvs_conn_proto_is_tpl(c->proto)) {
			c->dport = 0;
			c->state = 0;
		} else {
			c->flags &= (uint8_t)~XVS_CONN_F_CONTROLLED;
		}
	}
	count_entries(w);
	return dropped;
}

void xvs_cstore_boot_id(char *id, size_t len)
{
	id[0] = 0;
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
	if (!f)
		return;
	if (!fgets(id, (int)len, f))
		id[0] = 0;
	id[strcspn(id, "\n")] = 0;
	fclose(f);
}
