/*
 * Destination hashing, with IPVS's semantics and bucket layout (net/netfilter/ipvs/ip_vs_dh.c).
 *
 * A 256-bucket table maps a hash of the packet's destination address to a server: meant for
 * cache clusters, where the same destination should always meet the same cache. The buckets
 * are dealt out round-robin over the list, one per server, weights ignored; the bucket of an
 * address is hash_32(address, 8) (the kernel's multiplicative hash; IPv6 folded to 32 bits).
 * If the bucket's server is unavailable (quiesced, overloaded) there is no destination.
 *
 * For a service on a VIP every packet's destination is the VIP, so every new connection of
 * the service goes to the one server of the VIP's bucket: what IPVS does too (dh pays off
 * with firewall-mark services, which cover many destinations).
 *
 * Control half: the table, in the generation's pool. Dataplane half: the lookup.
 */
#include <arpa/inet.h>
#include <errno.h>

#include "xvs/sched.h"

#define DH_TAB_BITS 8
#define DH_TAB_SIZE (1u << DH_TAB_BITS)

static inline uint32_t dh_bucket(uint8_t af, const union xvs_ip *a)
{
	uint32_t fold = ntohl(af == XVS_AF_INET6 ? a->w[0] ^ a->w[1] ^ a->w[2] ^ a->w[3] : a->v4);
	return (fold * 0x61c88647u) >> (32 - DH_TAB_BITS); /* the kernel's hash_32() */
}

static uint32_t dh_tab_size(const struct xvs_sched_params *p)
{
	(void)p;
	return DH_TAB_SIZE;
}

static int dh_build_tab(struct xvs_sched_tab_build *b, struct xvs_svc *svc,
			const struct xvs_dest *const *dests, unsigned nb_dests)
{
	(void)dests;
	uint16_t *t = xvs_sched_tab_alloc(b, svc, DH_TAB_SIZE);
	if (!t)
		return -ENOSPC;
	for (unsigned i = 0; nb_dests && i < DH_TAB_SIZE; i++)
		t[i] = (uint16_t)(i % nb_dests);
	return 0;
}

static int dh_check(const struct xvs_gen *g, const struct xvs_svc *svc)
{
	return xvs_sched_tab_check(g, svc, DH_TAB_SIZE);
}

static int dh_pick(const struct xvs_gen *g, const struct xvs_svc *svc, struct xvs_sched_state *st,
		   const struct xvs_sched_key *key)
{
	(void)st;
	int d = xvs_sched_tab_dest(g, svc, dh_bucket(svc->af, &key->daddr), key);
	return d >= 0 ? d : -1;
}

static uint32_t dh_first_bucket(const struct xvs_svc *svc, const struct xvs_sched_key *key)
{
	return dh_bucket(svc->af, &key->daddr);
}

const struct xvs_sched_ops xvs_sched_dh = {
	.name = "dh",
	.consistent = 1,
	.tab_size = dh_tab_size,
	.build_tab = dh_build_tab,
	.check = dh_check,
	.pick = dh_pick,
	.bucket = dh_first_bucket,
};
