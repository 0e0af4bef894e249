/*
 * Which worker owns a connection (docs/dataplane.md, "Several workers"). The owner is a
 * function of the client's address and port alone: the two fields that both directions of
 * a NAT flow carry (the source of the client's packets, the destination of the real
 * server's replies). Any worker computes it from either direction with no shared state;
 * a worker that misses its own table hands the packet to the owner (dp_worker.c) through a
 * single-producer, single-consumer ring, one per ordered pair of workers.
 *
 * The hash is keyed with a per-process secret and is not linear (a multiply-xorshift
 * mixer): clients cannot choose addresses that all land on one worker. Pure C, no EAL.
 */
#ifndef XVS_DP_STEER_H
#define XVS_DP_STEER_H

#include <stdint.h>

#include "xvs/addr.h"

/* Entries of each hand-off ring (a power of two). */
#ifndef XVS_HANDOFF_RING
#define XVS_HANDOFF_RING 1024
#endif

/*
 * Persistent services: every connection of a client (its address masked by the service's
 * granularity) has one owner, so that its template and connections live together. Replies
 * try the usual owner first, then the owner of each distinct granularity in use, up to
 * this many per family.
 */
#define XVS_STEER_MASKS 8

struct xvs_steer {
	uint64_t key[2];     /* secret, set once at start */
	uint32_t nb_workers; /* 1: no hand-off at all */
};

static inline uint64_t xvs_steer_mix(uint64_t x)
{
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ULL;
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ULL;
	return x ^ (x >> 32);
}

/* Spread a 64-bit hash over the workers without a division. */
static inline unsigned xvs_steer_pick(const struct xvs_steer *s, uint64_t h)
{
	return (unsigned)(((h >> 32) * s->nb_workers) >> 32);
}

/* Owner of the connections of IPv4 client addr:port (both in network order). */
static inline unsigned xvs_steer_owner4(const struct xvs_steer *s, uint32_t addr, uint16_t port)
{
	return xvs_steer_pick(s, xvs_steer_mix(((uint64_t)addr << 16 | port) ^ s->key[0]));
}

/* Owner of the connections of IPv6 client addr:port (port in network order). */
static inline unsigned xvs_steer_owner6(const struct xvs_steer *s, const union xvs_ip *addr,
					uint16_t port)
{
	uint64_t h = xvs_steer_mix(addr->d[0] ^ s->key[0]);
	return xvs_steer_pick(s, xvs_steer_mix(h ^ addr->d[1] ^ ((uint64_t)port << 48) ^ s->key[1]));
}

/* Owner of the connections of a persistent service's IPv4 client prefix (masked address). */
static inline unsigned xvs_steer_owner4_prefix(const struct xvs_steer *s, uint32_t masked)
{
	return xvs_steer_pick(s, xvs_steer_mix(((uint64_t)masked << 16) ^ s->key[1]));
}

/* Owner of the connections of a persistent service's IPv6 client prefix (masked address). */
static inline unsigned xvs_steer_owner6_prefix(const struct xvs_steer *s, const union xvs_ip *masked)
{
	uint64_t h = xvs_steer_mix(masked->d[0] ^ s->key[1]);
	return xvs_steer_pick(s, xvs_steer_mix(h ^ masked->d[1] ^ s->key[0]));
}

/* addr with all but the first plen bits cleared (IPv6 persistence granularity). */
static inline union xvs_ip xvs_ip6_prefix(const union xvs_ip *addr, unsigned plen)
{
	union xvs_ip r = *addr;
	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = plen > i * 8 ? plen - i * 8 : 0;
		if (keep < 8)
			r.v6[i] &= (uint8_t)(0xff00u >> keep);
	}
	return r;
}

#endif
