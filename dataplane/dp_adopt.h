/*
 * Adoption of table generations on the dataplane side of the shm contract (include/xvs/shm.h).
 * Pure C (no EAL) so the contract is unit-tested without DPDK. The main lcore polls; workers
 * read the current generation once per loop and report it as their quiescent state.
 */
#ifndef XVS_DP_ADOPT_H
#define XVS_DP_ADOPT_H

#include <stdatomic.h>
#include <stdint.h>

#include "xvs/shm.h"

struct xvs_dp_gens {
	struct xvs_shm *shm;
	struct xvs_gen *buf[2];            /* private copies, never shared with control */
	_Atomic(struct xvs_gen *) cur;     /* what workers run; NULL before the first */
	int cur_buf;                       /* index of cur in buf[], -1 if none */
	int pending;                       /* cur handed out, not every worker runs it yet */
	unsigned nb_workers;
	uint64_t cur_pub;                  /* published word of cur */
	uint64_t last_pub;                 /* last published word handled (adopted or refused) */
	uint64_t nb_torn;                  /* copies retried because control was writing */
	char reason[128];
};

/* Main lcore, at start. buf0/buf1 are zeroed buffers of sizeof(struct xvs_gen). */
void xvs_dp_adopt_init(struct xvs_dp_gens *a, struct xvs_shm *shm, struct xvs_gen *buf0,
		       struct xvs_gen *buf1, unsigned nb_workers);

/*
 * Main lcore, periodically: finish a pending hand-over once every worker runs it, then
 * look at a newly published generation: copy, re-check, validate, hand over or refuse.
 * Returns 1 when a new generation was handed to the workers, 0 when nothing happened,
 * -EINVAL when a generation was refused, -EAGAIN when a copy was torn (retried next time).
 */
int xvs_dp_adopt_poll(struct xvs_dp_gens *a);

/* Worker lcore `worker`: the generation to use for this loop; records the quiescent state. */
static inline struct xvs_gen *xvs_dp_gen_get(struct xvs_dp_gens *a, unsigned worker)
{
	struct xvs_gen *g = atomic_load_explicit(&a->cur, memory_order_acquire);
	struct xvs_shm_lcore *l = xvs_shm_lcore(a->shm, worker);
	uint64_t seen = g ? g->gen : 0;
	if (atomic_load_explicit(&l->seen_gen, memory_order_relaxed) != seen)
		atomic_store_explicit(&l->seen_gen, seen, memory_order_release);
	return g;
}

#endif
