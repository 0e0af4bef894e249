/*
 * MD5 (RFC 1321), for HTTP_GET's digest of a response body: incremental, so a body is
 * hashed as it arrives and never held whole. Not for anything that needs a secure hash.
 */
#ifndef XVS_CTL_MD5_H
#define XVS_CTL_MD5_H

#include <stddef.h>
#include <stdint.h>

struct xvs_md5 {
	uint32_t h[4];
	uint64_t len;       /* bytes hashed so far */
	uint8_t buf[64];    /* a partial block */
};

void xvs_md5_init(struct xvs_md5 *m);
void xvs_md5_update(struct xvs_md5 *m, const void *data, size_t n);
/* The digest as 32 lower-case hex digits and a NUL into hex[33]. */
void xvs_md5_hex(struct xvs_md5 *m, char hex[33]);

#endif
