/* Building, hashing and validating table generations (pure C, used by both daemons). */
#ifndef XVS_GEN_H
#define XVS_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "table.h"

/* Hash of a service key into [0, XVS_VIP_HASH_SIZE). */
static inline uint32_t xvs_vip_hash(uint8_t proto, const union xvs_ip *addr, uint16_t port_be)
{
	uint64_t h = addr->d[0] * 0x9e3779b97f4a7c15ULL;
	h ^= addr->d[1] + 0x632be59bd9b4e019ULL + (h << 6) + (h >> 2);
	h ^= ((uint64_t)proto << 16 | port_be) * 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 31;
	return (uint32_t)(h * 0x94d049bb133111ebULL >> 40) & (XVS_VIP_HASH_SIZE - 1);
}

/*
 * Find the service slot for (proto, addr, port) in a validated generation, or -1.
 * Bounded by the table size whatever the table holds.
 */
static inline int xvs_gen_vip_lookup(const struct xvs_gen *g, uint8_t proto,
				     const union xvs_ip *addr, uint16_t port_be)
{
	uint32_t h = xvs_vip_hash(proto, addr, port_be);
	for (uint32_t n = 0; n < XVS_VIP_HASH_SIZE; n++, h = (h + 1) & (XVS_VIP_HASH_SIZE - 1)) {
		uint16_t e = g->vip_hash[h];
		if (e == 0)
			return -1;
		const struct xvs_svc *s = &g->svcs[e - 1];
		if (s->proto == proto && s->port_be == port_be && xvs_ip_eq(&s->addr, addr))
			return e - 1;
	}
	return -1;
}

/* Control: fill vip_hash from the used services. Returns 0 or -ENOSPC. */
int xvs_gen_build_vip_hash(struct xvs_gen *g);

/*
 * Bytes from XVS_GEN_BODY_OFF that the crc covers: everything but the unused end of the
 * scheduler table pool (g->sched_tab past nb_sched_tab), which nothing reads.
 */
size_t xvs_gen_crc_len(const struct xvs_gen *g);

/* Control: set magic, the scheduler registry's id and crc once everything else is written. */
void xvs_gen_seal(struct xvs_gen *g);

/*
 * Dataplane: check everything a worker will rely on: magic, crc, counts, every index, every
 * enum, the VIP hash (each entry points at a used service, every used service is found, an
 * empty bucket exists). Returns 0, or -EINVAL with a reason in err.
 */
int xvs_gen_validate(const struct xvs_gen *g, char *err, size_t errlen);

#endif
