/*
 * Source hashing, with IPVS's semantics and bucket layout (net/netfilter/ipvs/ip_vs_sh.c).
 *
 * A 256-bucket table maps a hash of the client's address (and, with -b sh-port, its port) to
 * a server, so a client keeps landing on the same server while the list does not change. The
 * buckets are dealt out round-robin over the list, each server taking `weight` consecutive
 * buckets before the next one's turn (a quiesced server still takes one), until all 256 are
 * dealt. The bucket of a client is hash_32(port + address, 8) (the kernel's multiplicative
 * hash, the address folded to 32 bits for IPv6, host order).
 *
 * If the bucket's server is unavailable (quiesced, overloaded) there is no destination,
 * unless -b sh-fallback is set: then the other buckets are tried, at offsets 0, 1, 2, ... from
 * the first bucket's own index, as IPVS does (deterministic, so every node agrees).
 *
 * Control half: the table, in the generation's pool, as list positions. Dataplane half: the
 * lookup. Nothing per worker.
 */
#include <arpa/inet.h>
#include <errno.h>

#include "xvs/sched.h"

#define SH_TAB_BITS 8
#define SH_TAB_SIZE (1u << SH_TAB_BITS)
#define SH_FALLBACK XVS_SVC_F_SCHED1
#define SH_PORT     XVS_SVC_F_SCHED2

/* The kernel's hash_32(): the golden-ratio multiply, top bits. */
static inline uint32_t hash_32(uint32_t v, unsigned bits)
{
	return (v * 0x61c88647u) >> (32 - bits);
}

/* The address folded to 32 bits, host order: IPv4 as is, IPv6 as the xor of its words. */
static inline uint32_t addr_fold(uint8_t af, const union xvs_ip *a)
{
	return ntohl(af == XVS_AF_INET6 ? a->w[0] ^ a->w[1] ^ a->w[2] ^ a->w[3] : a->v4);
}

static inline uint32_t sh_bucket(uint8_t af, const union xvs_ip *a, uint16_t port_be, uint32_t offset)
{
	return (offset + hash_32(ntohs(port_be) + addr_fold(af, a), SH_TAB_BITS)) & (SH_TAB_SIZE - 1);
}

static uint32_t sh_tab_size(const struct xvs_sched_params *p)
{
	(void)p;
	return SH_TAB_SIZE;
}

static int sh_build_tab(struct xvs_sched_tab_build *b, struct xvs_svc *svc,
			const struct xvs_dest *const *dests, unsigned nb_dests)
{
	uint16_t *t = xvs_sched_tab_alloc(b, svc, SH_TAB_SIZE);
	if (!t)
		return -ENOSPC;
	if (nb_dests == 0)
		return 0;
	unsigned pos = 0;
	int32_t dealt = 0;
	for (unsigned i = 0; i < SH_TAB_SIZE; i++) {
		t[i] = (uint16_t)pos;
		if (++dealt >= dests[pos]->weight) {
			pos = pos + 1 < nb_dests ? pos + 1 : 0;
			dealt = 0;
		}
	}
	return 0;
}

static int sh_check(const struct xvs_gen *g, const struct xvs_svc *svc)
{
	return xvs_sched_tab_check(g, svc, SH_TAB_SIZE);
}

static int sh_pick(const struct xvs_gen *g, const struct xvs_svc *svc, struct xvs_sched_state *st,
		   const struct xvs_sched_key *key)
{
	(void)st;
	uint16_t port = svc->flags & SH_PORT ? key->cport_be : 0;
	uint32_t ihash = sh_bucket(svc->af, &key->caddr, port, 0); /* sh_first_bucket() */
	int d = xvs_sched_tab_dest(g, svc, ihash, key);
	if (d != -2 || !(svc->flags & SH_FALLBACK))
		return d < 0 ? -1 : d;
	for (uint32_t off = 0; off < SH_TAB_SIZE; off++) {
		uint32_t roff = (off + ihash) % SH_TAB_SIZE;
		d = xvs_sched_tab_dest(g, svc, sh_bucket(svc->af, &key->caddr, port, roff), key);
		if (d != -2)
			return d < 0 ? -1 : d;
	}
	return -1;
}

static uint32_t sh_first_bucket(const struct xvs_svc *svc, const struct xvs_sched_key *key)
{
	return sh_bucket(svc->af, &key->caddr, svc->flags & SH_PORT ? key->cport_be : 0, 0);
}

const struct xvs_sched_ops xvs_sched_sh = {
	.name = "sh",
	.consistent = 1,
	.tab_size = sh_tab_size,
	.build_tab = sh_build_tab,
	.check = sh_check,
	.pick = sh_pick,
	.bucket = sh_first_bucket,
};
