/* Address and protocol constants shared by control, dataplane and CLI; plain C, no DPDK. */
#ifndef XVS_ADDR_H
#define XVS_ADDR_H

#include <stdint.h>

/* Address families as stored in tables: fixed values, independent of the OS's AF_*. */
#define XVS_AF_INET  4
#define XVS_AF_INET6 6

#define XVS_PROTO_TCP 6
#define XVS_PROTO_UDP 17
#define XVS_PROTO_SCTP 132

/*
 * An IPv4 or IPv6 address. IPv4 lives in v4 (network order) and the other 12 bytes are zero,
 * so on little-endian hosts `.d = { v4, 0 }` builds one with whole 64-bit stores (cheaper to
 * read back than a 32-bit store into a zeroed union).
 */
union xvs_ip {
	uint32_t v4;
	uint8_t v6[16];
	uint32_t w[4];
	uint64_t d[2];
};

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "xvs_ip's .d = { v4, 0 } needs a little-endian host");

static inline int xvs_ip_eq(const union xvs_ip *a, const union xvs_ip *b)
{
	return a->d[0] == b->d[0] && a->d[1] == b->d[1];
}

#endif
