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

#endif
