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
 *
 * Where every port can hash on the client's fields alone (steering "nic", dp_port.c), the
 * owner is instead the queue the NIC picks: the Toeplitz hash of the client's address and
 * port under xvs's own random RSS key, through the redirection table xvs programmed. Both
 * directions of a flow then arrive at their owner and nothing is handed off; the software
 * model stays authoritative, so a packet the NIC puts elsewhere (an ICMP error, a fragment,
 * a NIC that builds its hash input otherwise) is still handed to the right worker.
 */
#ifndef XVS_DP_STEER_H
#define XVS_DP_STEER_H

#include <stdint.h>
#include <string.h>

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

/* The NIC's RSS as xvs programs it (steering "nic"). */
#define XVS_RSS_KEY_MAX  64  /* bytes of random key kept; a port takes its hash_key_size */
#define XVS_RSS_IN_MAX   18  /* bytes of hash input: an IPv6 address and a port */
#define XVS_RSS_RETA_MAX 512 /* entries of the redirection table */

struct xvs_steer {
	uint64_t key[2];     /* secret, set once at start */
	uint32_t nb_workers; /* 1: no hand-off at all */
	uint32_t nic;        /* 1: owner = the queue the NIC's RSS picks (reta, tab) */
	uint32_t reta_size;  /* entries of reta, a power of two */
	uint8_t reta[XVS_RSS_RETA_MAX];   /* queue (= worker) of each entry */
	uint8_t rss_key[XVS_RSS_KEY_MAX]; /* the key every port hashes with */
	uint32_t tab[XVS_RSS_IN_MAX][256]; /* Toeplitz, one table per input byte */
};

/*
 * Toeplitz tables for key (at least XVS_RSS_IN_MAX + 4 bytes): tab[b][v] is the hash of an
 * input whose byte b is v and every other byte 0. The hash is linear over GF(2), so the hash
 * of any input is the XOR of one entry per byte. Main lcore, at start.
 */
static inline void xvs_rss_tables(uint32_t tab[XVS_RSS_IN_MAX][256], const uint8_t *key)
{
	for (unsigned b = 0; b < XVS_RSS_IN_MAX; b++) {
		uint32_t win[8]; /* the key's 32-bit window at each bit of input byte b */
		for (unsigned j = 0; j < 8; j++) {
			unsigned bit = b * 8 + j, byte = bit / 8, sh = bit % 8;
			uint64_t w = (uint64_t)key[byte] << 32 | (uint64_t)key[byte + 1] << 24 |
				     (uint64_t)key[byte + 2] << 16 | (uint64_t)key[byte + 3] << 8 |
				     key[byte + 4];
			win[j] = (uint32_t)(w >> (8 - sh));
		}
		for (unsigned v = 0; v < 256; v++) {
			uint32_t h = 0;
			for (unsigned j = 0; j < 8; j++)
				if (v & (0x80u >> j))
					h ^= win[j];
			tab[b][v] = h;
		}
	}
}

/* Toeplitz hash of in[0..len) (len <= XVS_RSS_IN_MAX) from the tables. */
static inline uint32_t xvs_rss_hash(const uint32_t tab[XVS_RSS_IN_MAX][256], const uint8_t *in,
				    unsigned len)
{
	uint32_t h = 0;
	for (unsigned b = 0; b < len; b++)
		h ^= tab[b][in[b]];
	return h;
}

/* The queue the NIC picks for hash h: DPDK's RETA is indexed by the hash's low bits. */
static inline unsigned xvs_rss_queue(const struct xvs_steer *s, uint32_t h)
{
	return s->reta[h & (s->reta_size - 1)];
}

static inline uint64_t xvs_steer_mix(uint64_t x)
{
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ULL;
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ULL;
	return x ^ (x >> 32);
}

/* The secret from a fixed seed ([dataplane] steering_seed: reproducible runs). */
static inline void xvs_steer_seed(struct xvs_steer *s, uint64_t seed)
{
	s->key[0] = xvs_steer_mix(seed ^ 0x243f6a8885a308d3ULL);
	s->key[1] = xvs_steer_mix(seed ^ 0x13198a2e03707344ULL);
}

/* Spread a 64-bit hash over the workers without a division. */
static inline unsigned xvs_steer_pick(const struct xvs_steer *s, uint64_t h)
{
	return (unsigned)(((h >> 32) * s->nb_workers) >> 32);
}

/* Owner of the connections of IPv4 client addr:port (both in network order). */
static inline unsigned xvs_steer_owner4(const struct xvs_steer *s, uint32_t addr, uint16_t port)
{
	if (s->nic) {
		uint8_t in[6];
		memcpy(in, &addr, 4);
		memcpy(in + 4, &port, 2);
		return xvs_rss_queue(s, xvs_rss_hash(s->tab, in, 6));
	}
	return xvs_steer_pick(s, xvs_steer_mix(((uint64_t)addr << 16 | port) ^ s->key[0]));
}

/* Owner of the connections of IPv6 client addr:port (port in network order). */
static inline unsigned xvs_steer_owner6(const struct xvs_steer *s, const union xvs_ip *addr,
					uint16_t port)
{
	if (s->nic) {
		uint8_t in[18];
		memcpy(in, addr->v6, 16);
		memcpy(in + 16, &port, 2);
		return xvs_rss_queue(s, xvs_rss_hash(s->tab, in, 18));
	}
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
