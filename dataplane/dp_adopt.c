/* Dataplane half of the shm publication protocol: copy, validate, hand over, acknowledge. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dp_adopt.h"
#include "xvs/gen.h"

void xvs_dp_adopt_init(struct xvs_dp_gens *a, struct xvs_shm *shm, struct xvs_gen *buf0,
		       struct xvs_gen *buf1, unsigned nb_workers)
{
	memset(a, 0, sizeof(*a));
	a->shm = shm;
	a->buf[0] = buf0;
	a->buf[1] = buf1;
	a->cur_buf = -1;
	a->nb_workers = nb_workers < XVS_MAX_LCORES ? nb_workers : XVS_MAX_LCORES;
	atomic_store(&a->cur, NULL);
	for (unsigned i = 0; i < a->nb_workers; i++)
		atomic_store(&xvs_shm_lcore(shm, i)->seen_gen, 0);
	atomic_store(&shm->hdr->nb_workers, a->nb_workers);
}

static int all_workers_run(const struct xvs_dp_gens *a, uint64_t gen)
{
	for (unsigned i = 0; i < a->nb_workers; i++)
		if (atomic_load_explicit(&xvs_shm_lcore(a->shm, i)->seen_gen,
					 memory_order_acquire) != gen)
			return 0;
	return 1;
}

static int refuse(struct xvs_dp_gens *a, uint64_t pub, const char *why)
{
	struct xvs_shm_hdr *h = a->shm->hdr;
	snprintf(a->reason, sizeof(a->reason), "generation %llu refused: %.80s",
		 (unsigned long long)XVS_PUB_GEN(pub), why);
	memcpy(h->refuse_reason, a->reason, sizeof(h->refuse_reason));
	h->refuse_reason[sizeof(h->refuse_reason) - 1] = 0;
	atomic_fetch_add_explicit(&h->nb_refused, 1, memory_order_relaxed);
	atomic_store_explicit(&h->refused_gen, XVS_PUB_GEN(pub), memory_order_release);
	a->last_pub = pub;
	return -EINVAL;
}

/* Copy the slot into the buffer workers do not use, or -EAGAIN if control was writing it. */
static int copy_slot(struct xvs_dp_gens *a, uint64_t pub, struct xvs_gen *dst)
{
	struct xvs_shm_hdr *h = a->shm->hdr;
	unsigned slot = XVS_PUB_SLOT(pub);
	uint64_t gen = XVS_PUB_GEN(pub);

	if (atomic_load_explicit(&h->slot_gen[slot], memory_order_acquire) != gen)
		return -EAGAIN;
	memcpy(dst, xvs_shm_slot(a->shm, slot), sizeof(*dst));
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(&h->slot_gen[slot], memory_order_relaxed) != gen)
		return -EAGAIN;
	return 0;
}

int xvs_dp_adopt_poll(struct xvs_dp_gens *a)
{
	struct xvs_shm_hdr *h = a->shm->hdr;

	if (a->pending) {
		struct xvs_gen *cur = atomic_load_explicit(&a->cur, memory_order_relaxed);
		if (!all_workers_run(a, cur->gen))
			return 0; /* the other buffer may still be read: nothing new yet */
		a->pending = 0;
		atomic_store_explicit(&h->adopted, a->cur_pub, memory_order_release);
	}

	uint64_t pub = atomic_load_explicit(&h->published, memory_order_acquire);
	if (pub == 0 || pub == a->last_pub || pub == a->cur_pub)
		return 0;

	int next = a->cur_buf == 0 ? 1 : 0;
	struct xvs_gen *dst = a->buf[next];
	if (copy_slot(a, pub, dst) < 0) {
		a->nb_torn++;
		return -EAGAIN;
	}
	if (dst->gen != XVS_PUB_GEN(pub))
		return refuse(a, pub, "slot holds another generation");
	/* Workers report progress by generation number: numbers must only grow. */
	struct xvs_gen *cur = atomic_load_explicit(&a->cur, memory_order_relaxed);
	if (cur && dst->gen <= cur->gen)
		return refuse(a, pub, "generation number does not increase");
	char err[96];
	if (xvs_gen_validate(dst, err, sizeof(err)) < 0)
		return refuse(a, pub, err);

	a->cur_buf = next;
	a->cur_pub = pub;
	a->last_pub = pub;
	a->pending = 1;
	atomic_store_explicit(&a->cur, dst, memory_order_release);
	if (all_workers_run(a, dst->gen)) {
		a->pending = 0;
		atomic_store_explicit(&h->adopted, pub, memory_order_release);
	}
	return 1;
}
