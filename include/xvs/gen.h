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

/*
 * The firewall-mark service for a packet that matched no connection and no service: the
 * service of the first mark rule that matches (af, proto, dst, dport in network order), or -1
 * when no rule matches or the matching rule's mark has no service. dst is an address as
 * union xvs_ip holds it (IPv4 in v4, the rest zero). Bounded by nb_marks (validated).
 */
static inline int xvs_gen_mark_lookup(const struct xvs_gen *g, uint8_t af, uint8_t proto,
				      const union xvs_ip *dst, uint16_t dport_be)
{
	uint16_t port = (uint16_t)(dport_be >> 8 | dport_be << 8);
	for (uint32_t i = 0; i < g->nb_marks; i++) {
		const struct xvs_mark_rule *r = &g->marks[i];
		if (r->af != af || (r->proto && r->proto != proto) || port < r->port_lo ||
		    port > r->port_hi || (dst->d[0] & r->mask.d[0]) != r->prefix.d[0] ||
		    (dst->d[1] & r->mask.d[1]) != r->prefix.d[1])
			continue;
		return (int)r->svc - 1;
	}
	return -1;
}

/* The mask of prefix length plen in family af, as struct xvs_mark_rule keeps it. */
union xvs_ip xvs_gen_prefix_mask(uint8_t af, unsigned plen);

/* Control: fill vip_hash from the used services (not fwmark ones). Returns 0 or -ENOSPC. */
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
 * enum, the VIP hash (each entry points at a used service, every used service but the fwmark
 * ones is found, an empty bucket exists), every mark rule (its service a fwmark service of
 * the same mark and family). Returns 0, or -EINVAL with a reason in err.
 */
int xvs_gen_validate(const struct xvs_gen *g, char *err, size_t errlen);

#endif
