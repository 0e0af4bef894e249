/*
 * The exception path to the kernel, its pure parts: which frames the dataplane does not
 * consume go to the port's kernel interface (net_tap), the rate limit towards it, and the set
 * of VIP addresses the classification asks about. No mbufs, no EAL, no state beyond the
 * structures passed in, so they are unit-tested as they are (tests/unit/test_exc.c).
 * docs/dataplane.md, "The exception path to the kernel", says what goes where and why.
 */
#ifndef XVS_DP_EXC_H
#define XVS_DP_EXC_H

#include <stdint.h>
#include <string.h>

#include "xvs/addr.h"
#include "xvs/drop.h"
#include "xvs/table.h"

/* ---- classification ------------------------------------------------------------------- */

/* What the packet path knows about a frame it does not consume. */
#define XVS_EXC_F_GROUP  0x1 /* L2 destination is broadcast or multicast */
#define XVS_EXC_F_VIP    0x2 /* IP destination is a VIP (a service's address, a mark host rule) */
#define XVS_EXC_F_ANSWER 0x4 /* an ARP reply or neighbour advertisement, already learned from */

/*
 * Does a frame that the dataplane would otherwise end for reason `why` (a drop reason; for an
 * XVS_EXC_F_ANSWER frame, none: it was consumed by learning) go to the kernel? Only when the
 * port has an exception interface; without one every such frame ends as it always did.
 *
 * - answers (ARP replies, neighbour advertisements): always, after the dataplane learned from
 *   them: the kernel's own requests are answered this way;
 * - what the dataplane does not serve: other ethertypes (LLDP, VLAN tags), other protocols
 *   (BGP rides TCP, but OSPF, VRRP, IGMP, PIM, GRE do not), IPv4 options (IGMP's router alert),
 *   fragments, ARP and neighbour solicitations for addresses it does not own, packets for no
 *   service and no connection, ICMP other than echo to an owned address, ICMP errors that
 *   quote no connection; and broadcast or multicast frames the dataplane does not take;
 * - never what is addressed to a VIP: a VIP belongs to the services (a flood of a VIP's other
 *   ports must not crowd the host's own traffic out of the exception path);
 * - never malformed frames, nor what the dataplane drops for its own reasons (a connection's
 *   packet to a removed server, a full table, no route, ...).
 */
static inline int xvs_exc_to_kernel(enum xvs_drop why, unsigned facts)
{
	if (facts & XVS_EXC_F_ANSWER)
		return 1;
	switch (why) {
	case XVS_DROP_L2_NOT_OURS: /* unicast to another MAC stays dropped */
		if (!(facts & XVS_EXC_F_GROUP))
			return 0;
		break;
	case XVS_DROP_L2_UNSUPPORTED:
	case XVS_DROP_ARP_NOT_OURS:
	case XVS_DROP_IP_OPTIONS:
	case XVS_DROP_IP_FRAGMENT:
	case XVS_DROP_L4_UNSUPPORTED:
	case XVS_DROP_ICMP_UNSUPPORTED:
	case XVS_DROP_NO_VIP:
	case XVS_DROP_ICMP_QUOTE_NO_CONN:
		break;
	default:
		return 0;
	}
	return !(facts & XVS_EXC_F_VIP);
}

/* Whether `why` can lead to the kernel at all: asked before the facts are worked out. */
static inline int xvs_exc_candidate(enum xvs_drop why)
{
	return xvs_exc_to_kernel(why, XVS_EXC_F_GROUP);
}

/* ---- rate limit ------------------------------------------------------------------------- */

/*
 * A token bucket in its virtual-scheduling form (GCRA): `tat` is when the bucket would be
 * full again. A frame at `now` passes when tat - now stays within the tolerance, and moves
 * tat on by one interval. rate frames per second on average, up to `burst` back to back.
 * Main lcore only (one writer, no atomics).
 */
struct xvs_exc_bucket {
	uint64_t tat;      /* theoretical arrival time, in TSC cycles */
	uint64_t interval; /* cycles per frame: hz / rate */
	uint64_t tau;      /* tolerance: interval * (burst - 1) */
};

static inline void xvs_exc_bucket_init(struct xvs_exc_bucket *b, uint32_t rate, uint32_t burst,
				       uint64_t hz)
{
	b->tat = 0;
	b->interval = rate ? hz / rate : hz;
	if (b->interval == 0)
		b->interval = 1;
	b->tau = b->interval * (burst ? burst - 1 : 0);
}

/* Take one frame's token at time now (TSC); 1 if it may pass. */
static inline int xvs_exc_bucket_take(struct xvs_exc_bucket *b, uint64_t now)
{
	uint64_t tat = b->tat > now ? b->tat : now;
	if (tat - now > b->tau)
		return 0;
	b->tat = tat + b->interval;
	return 1;
}

/* ---- VIP addresses ---------------------------------------------------------------------- */

/*
 * The addresses of a generation's services and host mark rules (what xvs_owned4/6 call VIPs),
 * hashed for a lookup that costs the same with 1 or 1024 services. Each worker keeps its own,
 * rebuilt when it first needs it on a new generation (no sharing, no lock).
 */
#define XVS_VIP_SET_SIZE 4096 /* power of two, over twice XVS_MAX_SVCS + XVS_MAX_MARKS */
_Static_assert(XVS_VIP_SET_SIZE >= 2 * (XVS_MAX_SVCS + XVS_MAX_MARKS), "VIP set too small");

struct xvs_vip_set {
	uint64_t gen;                      /* generation it was built from; 0: none yet */
	uint8_t af[XVS_VIP_SET_SIZE];      /* 0: empty slot, else XVS_AF_* */
	union xvs_ip addr[XVS_VIP_SET_SIZE];
};

static inline uint32_t xvs_vip_set_slot(uint8_t af, const union xvs_ip *a)
{
	uint64_t h = (a->d[0] ^ (a->d[1] * 0x9e3779b97f4a7c15ULL) ^ af) * 0xff51afd7ed558ccdULL;
	h ^= h >> 29;
	return (uint32_t)h & (XVS_VIP_SET_SIZE - 1);
}

static inline int xvs_vip_set_has(const struct xvs_vip_set *s, uint8_t af, const union xvs_ip *a)
{
	uint32_t i = xvs_vip_set_slot(af, a);
	for (unsigned n = 0; n < XVS_VIP_SET_SIZE && s->af[i]; n++, i = (i + 1) & (XVS_VIP_SET_SIZE - 1))
		if (s->af[i] == af && xvs_ip_eq(&s->addr[i], a))
			return 1;
	return 0;
}

static inline void xvs_vip_set_add(struct xvs_vip_set *s, uint8_t af, const union xvs_ip *a)
{
	uint32_t i = xvs_vip_set_slot(af, a);
	for (unsigned n = 0; n < XVS_VIP_SET_SIZE; n++, i = (i + 1) & (XVS_VIP_SET_SIZE - 1)) {
		if (!s->af[i]) {
			s->af[i] = af;
			s->addr[i] = *a;
			return;
		}
		if (s->af[i] == af && xvs_ip_eq(&s->addr[i], a))
			return;
	}
}

/* Fill s from generation g (already validated): used services' addresses and host mark rules. */
static inline void xvs_vip_set_build(struct xvs_vip_set *s, const struct xvs_gen *g)
{
	memset(s->af, 0, sizeof(s->af));
	s->gen = g->gen;
	for (uint32_t i = 0; i < g->nb_svcs && i < XVS_MAX_SVCS; i++) {
		const struct xvs_svc *v = &g->svcs[i];
		if (v->state == XVS_SLOT_USED && !v->fwmark)
			xvs_vip_set_add(s, v->af, &v->addr);
	}
	for (uint32_t i = 0; i < g->nb_marks && i < XVS_MAX_MARKS; i++) {
		const struct xvs_mark_rule *r = &g->marks[i];
		if (r->svc && r->plen == (r->af == XVS_AF_INET6 ? 128 : 32))
			xvs_vip_set_add(s, r->af, &r->prefix);
	}
}

/* ---- the main lcore's half (dp_exc.c) --------------------------------------------------- */

struct xvs_dp;
struct xvs_worker;
struct rte_mempool;

/* Mbufs the exception path may hold at once (rings, tap buffers), for the pools' size. */
unsigned xvs_exc_nb_mbufs(const struct xvs_dp *dp);

/*
 * Start-up, main lcore, once the ports are set up (their MAC and MTU known): a kernel
 * interface for each port with exception = yes, a ring from each worker to the main lcore.
 * tx: the context that sends the kernel's frames on the ports from the main lcore's thread
 * (the main lcore's own, or worker 0 when one lcore is both); NULL: they go to worker 0
 * through a ring. pool: the taps' receive buffers; node: where the rings live (the main
 * lcore's). Returns 0 or a negative errno with a message in err.
 */
int xvs_exc_setup(struct xvs_dp *dp, struct xvs_worker *const *workers, struct xvs_worker *tx,
		  struct rte_mempool *pool, int node, char *err, size_t errlen);

/* Start the kernel interfaces (they come up). Returns 0 or a negative errno with err. */
int xvs_exc_start(char *err, size_t errlen);

/*
 * One pass, main lcore: up to a pass's worth of frames from each worker's ring into the
 * taps (rate limit, counters), and from each tap out on its port. Returns the frames moved.
 */
unsigned xvs_exc_poll(uint64_t now_tsc);

/* Shutdown, once every worker has stopped: free what is queued, remove the interfaces. */
void xvs_exc_stop(void);

#endif
