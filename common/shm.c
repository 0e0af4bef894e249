/* Mapping and initialising the control/dataplane shared region (both processes). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "xvs/shm.h"

#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))

uint64_t xvs_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void layout(struct xvs_shm_hdr *h)
{
	uint64_t off = ALIGN_UP(sizeof(*h), 4096);
	h->off_lcores = off;
	off = ALIGN_UP(off + sizeof(struct xvs_shm_lcore) * XVS_MAX_LCORES, 4096);
	h->off_stats = off;
	off = ALIGN_UP(off + sizeof(struct xvs_lcore_stats) * XVS_SHM_NB_STATS, 4096);
	h->off_mailboxes = off;
	off = ALIGN_UP(off + sizeof(struct xvs_shm_mailbox) * XVS_MAX_LCORES, 4096);
	h->slot_size = ALIGN_UP(sizeof(struct xvs_gen), 4096);
	h->off_slots[0] = off;
	h->off_slots[1] = off + h->slot_size;
	h->region_size = off + 2 * h->slot_size;
}

static uint64_t expected_size(void)
{
	struct xvs_shm_hdr h;
	layout(&h);
	return h.region_size;
}

/* Called with the file locked and mapped at its expected size. */
static void init_region(struct xvs_shm_hdr *h)
{
	memset(h, 0, sizeof(*h));
	layout(h);
	h->abi = XVS_SHM_ABI;
	h->hdr_size = sizeof(*h);
	h->max_lcores = XVS_MAX_LCORES;
	h->stats_size = sizeof(struct xvs_lcore_stats);
	memset((char *)h + h->off_lcores, 0, h->region_size - h->off_lcores);
	atomic_thread_fence(memory_order_release);
	h->magic = XVS_SHM_MAGIC;
}

static int region_ok(const struct xvs_shm_hdr *h, uint64_t size)
{
	struct xvs_shm_hdr want;
	layout(&want);
	return h->magic == XVS_SHM_MAGIC && h->abi == XVS_SHM_ABI && h->hdr_size == sizeof(*h) &&
	       h->region_size == size && h->max_lcores == XVS_MAX_LCORES &&
	       h->stats_size == sizeof(struct xvs_lcore_stats) &&
	       h->off_mailboxes == want.off_mailboxes && h->off_slots[0] == want.off_slots[0] &&
	       h->off_slots[1] == want.off_slots[1];
}

int xvs_shm_open(struct xvs_shm *shm, const char *path, int reinit)
{
	uint64_t size = expected_size();
	struct stat st;
	int rc = 0;

	memset(shm, 0, sizeof(*shm));
	shm->fd = -1;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX) < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		goto fail;
	}
	/* Whoever can write the region steers every packet: it must be ours and ours alone. */
	if (st.st_uid != geteuid()) {
		rc = -EPERM;
		goto fail;
	}
	if (st.st_size == 0 && fchmod(fd, 0600) < 0) {
		rc = -errno;
		goto fail;
	}
	if (st.st_size != 0 && (st.st_mode & 077)) {
		rc = -EACCES;
		goto fail;
	}
	int fresh = st.st_size == 0;
	if (!fresh && (uint64_t)st.st_size != size && !reinit) {
		rc = -EPROTO;
		goto fail;
	}
	if ((uint64_t)st.st_size != size && ftruncate(fd, (off_t)size) < 0) {
		rc = -errno;
		goto fail;
	}
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		rc = -errno;
		goto fail;
	}
	struct xvs_shm_hdr *h = p;
	if (fresh || (uint64_t)st.st_size != size || !region_ok(h, size)) {
		if (!fresh && !reinit) {
			munmap(p, size);
			rc = -EPROTO;
			goto fail;
		}
		init_region(h);
	}
	flock(fd, LOCK_UN);
	shm->fd = fd;
	shm->size = size;
	shm->hdr = h;
	return 0;
fail:
	close(fd);
	return rc;
}

const char *xvs_shm_open_hint(int rc)
{
	switch (rc) {
	case -EPROTO: return " (another layout: stop the dataplane and remove the file)";
	case -EPERM: return " (the file belongs to another user)";
	case -EACCES: return " (group or others may access the file)";
	case -ELOOP: return " (a symbolic link)";
	default: return "";
	}
}

int xvs_shm_lock_writer(const struct xvs_shm *shm)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
	if (fcntl(shm->fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	return errno == EAGAIN || errno == EACCES ? -EBUSY : -errno;
}

void xvs_shm_close(struct xvs_shm *shm)
{
	if (shm->hdr)
		munmap(shm->hdr, shm->size);
	if (shm->fd >= 0)
		close(shm->fd);
	shm->hdr = NULL;
	shm->fd = -1;
}

int xvs_shm_dataplane_alive(const struct xvs_shm *shm)
{
	uint64_t pid = atomic_load_explicit(&shm->hdr->dp_pid, memory_order_acquire);
	uint64_t hb = atomic_load_explicit(&shm->hdr->dp_heartbeat_ns, memory_order_acquire);
	if (pid == 0)
		return 0;
	if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
		return 0;
	return xvs_now_ns() - hb < XVS_SHM_HEARTBEAT_STALE_NS;
}
