/* IPVS's version-1 sync messages: building and strict reading (include/xvs/sync.h). */
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "xvs/sync.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int xvs_sync_ifname_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n >= 16 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (name[i] == '/' || name[i] == ':' || isspace((unsigned char)name[i]))
			return 0;
	return 1;
}

size_t xvs_sync_entry_len(const struct xvs_sync_conn *c, int seq)
{
	size_t n = c->af == XVS_AF_INET6 ? XVS_SYNC_V6_LEN : XVS_SYNC_V4_LEN;
	return n + (seq ? 2 + XVS_SYNC_SEQ_LEN : 0);
}

void xvs_sync_build_init(struct xvs_sync_builder *b, void *buf, size_t cap, uint8_t syncid)
{
	b->buf = buf;
	b->cap = cap > 65535 ? 65535 : cap;
	b->len = XVS_SYNC_HDR_LEN;
	b->pad = 0;
	b->syncid = syncid;
	memset(b->buf, 0, XVS_SYNC_HDR_LEN);
	b->buf[1] = syncid;
	put16(b->buf + 2, XVS_SYNC_HDR_LEN);
	b->buf[5] = XVS_SYNC_PROTO_VER;
}

int xvs_sync_build_add(struct xvs_sync_builder *b, const struct xvs_sync_conn *c,
		       const struct xvs_sync_seq *seq)
{
	if (c->af != XVS_AF_INET && c->af != XVS_AF_INET6)
		return -EINVAL;
	size_t len = xvs_sync_entry_len(c, seq != NULL);
	if (b->len + b->pad + len > b->cap || b->buf[4] == 255)
		return -ENOSPC;
	uint8_t *p = b->buf + b->len;
	memset(p, 0, b->pad + len);
	p += b->pad;
	b->len += b->pad + len;
	b->pad = (4 - (b->len & 3)) & 3;
	int v6 = c->af == XVS_AF_INET6;
	p[0] = v6 ? XVS_SYNC_TYPE_INET6 : 0;
	p[1] = c->proto;
	put16(p + 2, (uint16_t)(len & XVS_SYNC_SIZE_MASK)); /* version 0 */
	put32(p + 4, c->flags);
	put16(p + 8, c->state);
	memcpy(p + 10, &c->cport, 2);
	memcpy(p + 12, &c->vport, 2);
	memcpy(p + 14, &c->dport, 2);
	put32(p + 16, c->fwmark);
	put32(p + 20, c->timeout);
	size_t alen = v6 ? 16 : 4;
	memcpy(p + 24, &c->caddr, alen);
	memcpy(p + 24 + alen, &c->vaddr, alen);
	memcpy(p + 24 + 2 * alen, &c->daddr, alen);
	p += 24 + 3 * alen;
	if (seq) {
		p[0] = XVS_SYNC_OPT_SEQ;
		p[1] = XVS_SYNC_SEQ_LEN;
		for (unsigned i = 0; i < 3; i++) {
			put32(p + 2 + 4 * i, seq->in[i]);
			put32(p + 14 + 4 * i, seq->out[i]);
		}
	}
	b->buf[4]++;
	put16(b->buf + 2, (uint16_t)b->len);
	return 0;
}

const char *xvs_sync_err_name(enum xvs_sync_err e)
{
	static const char *const names[XVS_SYNC_E_MAX] = {
		[XVS_SYNC_OK] = "ok",
		[XVS_SYNC_E_SHORT] = "short",
		[XVS_SYNC_E_SIZE] = "size",
		[XVS_SYNC_E_SYNCID] = "syncid",
		[XVS_SYNC_E_VERSION] = "version",
		[XVS_SYNC_E_COUNT] = "count",
		[XVS_SYNC_E_TRUNCATED] = "truncated",
		[XVS_SYNC_E_ENTRY_VER] = "entry-version",
		[XVS_SYNC_E_TYPE] = "entry-type",
		[XVS_SYNC_E_OPTION] = "option",
		[XVS_SYNC_E_PARAM] = "param",
		[XVS_SYNC_E_PROTO] = "protocol",
		[XVS_SYNC_E_STATE] = "state",
		[XVS_SYNC_E_PE] = "pe-data",
	};
	return (unsigned)e < XVS_SYNC_E_MAX ? names[e] : "?";
}

enum xvs_sync_err xvs_sync_read_init(struct xvs_sync_reader *r, const void *buf, size_t len,
				     uint8_t want_syncid)
{
	const uint8_t *p = buf;
	*r = (struct xvs_sync_reader){ .buf = p, .len = len };
	if (len < XVS_SYNC_HDR_LEN)
		return XVS_SYNC_E_SHORT;
	if (get16(p + 2) != len)
		return XVS_SYNC_E_SIZE;
	if (want_syncid && p[1] != want_syncid)
		return XVS_SYNC_E_SYNCID;
	if (p[0] != 0 || p[5] != XVS_SYNC_PROTO_VER || get16(p + 6) != 0)
		return XVS_SYNC_E_VERSION;
	if (p[4] == 0)
		return XVS_SYNC_E_COUNT;
	r->off = XVS_SYNC_HDR_LEN;
	r->left = p[4];
	return XVS_SYNC_OK;
}

/* The options of an entry in [p, end): -1 with *why when the rest of the message goes. */
static int read_options(const uint8_t *p, const uint8_t *end, struct xvs_sync_seq *seq,
			int *has_seq, enum xvs_sync_err *why)
{
	unsigned seen = 0; /* bit per option type */
	int skip = 0;
	while (p < end) {
		if (end - p < 2)
			return *why = XVS_SYNC_E_OPTION, -1;
		uint8_t type = p[0], plen = p[1];
		p += 2;
		if (plen == 0 || plen > end - p)
			return *why = XVS_SYNC_E_OPTION, -1;
		switch (type & ~XVS_SYNC_OPT_F_PARAM) {
		case XVS_SYNC_OPT_SEQ:
			if (plen != XVS_SYNC_SEQ_LEN || (seen & 2))
				return *why = XVS_SYNC_E_OPTION, -1;
			for (unsigned i = 0; i < 3; i++) {
				seq->in[i] = get32(p + 4 * i);
				seq->out[i] = get32(p + 12 + 4 * i);
			}
			*has_seq = 1;
			seen |= 2;
			break;
		case XVS_SYNC_OPT_PE_DATA:
			if (seen & 4)
				return *why = XVS_SYNC_E_OPTION, -1;
			seen |= 4;
			break;
		case XVS_SYNC_OPT_PE_NAME:
			if (plen > 16 || (seen & 8))
				return *why = XVS_SYNC_E_OPTION, -1;
			seen |= 8;
			break;
		default:
			if (!(type & XVS_SYNC_OPT_F_PARAM) && !skip)
				skip = XVS_SYNC_E_PARAM;
			break;
		}
		p += plen;
	}
	if (skip)
		*why = (enum xvs_sync_err)skip;
	else if (seen & 4) /* data for a persistence engine, which xvs does not have */
		*why = XVS_SYNC_E_PE;
	return 0;
}

int xvs_sync_read_next(struct xvs_sync_reader *r, struct xvs_sync_conn *c, struct xvs_sync_seq *seq,
		       int *has_seq, enum xvs_sync_err *why)
{
	*why = XVS_SYNC_OK;
	*has_seq = 0;
	if (r->left == 0) {
		/* every entry read: the message must end where the last one did */
		if (r->off != r->len)
			return *why = XVS_SYNC_E_COUNT, r->left = 0, -1;
		return 0;
	}
	r->off = (r->off + 3) & ~(size_t)3; /* entries start 4-byte aligned */
	const uint8_t *p = r->buf + r->off, *bend = r->buf + r->len;
	if (r->off > r->len || bend - p < XVS_SYNC_V4_LEN)
		return *why = XVS_SYNC_E_TRUNCATED, r->left = 0, -1;
	uint16_t vs = get16(p + 2);
	size_t size = vs & XVS_SYNC_SIZE_MASK;
	if (size > (size_t)(bend - p))
		return *why = XVS_SYNC_E_TRUNCATED, r->left = 0, -1;
	if (vs >> XVS_SYNC_VER_SHIFT)
		return *why = XVS_SYNC_E_ENTRY_VER, r->left = 0, -1;
	int v6;
	if (p[0] & XVS_SYNC_TYPE_INET6)
		v6 = 1;
	else if (p[0] == 0)
		v6 = 0;
	else
		return *why = XVS_SYNC_E_TYPE, r->left = 0, -1;
	size_t fixed = v6 ? XVS_SYNC_V6_LEN : XVS_SYNC_V4_LEN;
	if (size < fixed)
		return *why = XVS_SYNC_E_TRUNCATED, r->left = 0, -1;
	const uint8_t *end = p + size;
	if (read_options(p + fixed, end, seq, has_seq, why) < 0)
		return r->left = 0, -1;
	r->off += size;
	r->left--;
	memset(c, 0, sizeof(*c));
	c->af = v6 ? XVS_AF_INET6 : XVS_AF_INET;
	c->proto = p[1];
	c->flags = get32(p + 4);
	c->state = get16(p + 8);
	memcpy(&c->cport, p + 10, 2);
	memcpy(&c->vport, p + 12, 2);
	memcpy(&c->dport, p + 14, 2);
	c->fwmark = get32(p + 16);
	c->timeout = get32(p + 20);
	size_t alen = v6 ? 16 : 4;
	memcpy(&c->caddr, p + 24, alen);
	memcpy(&c->vaddr, p + 24 + alen, alen);
	memcpy(&c->daddr, p + 24 + 2 * alen, alen);
	if (*why != XVS_SYNC_OK)
		return 1;
	if (!(c->flags & XVS_SYNC_F_TEMPLATE)) {
		unsigned states = c->proto == IPPROTO_TCP    ? XVS_SYNC_TCP_STATES
				  : c->proto == IPPROTO_UDP  ? XVS_SYNC_UDP_STATES
				  : c->proto == IPPROTO_SCTP ? XVS_SYNC_SCTP_STATES
							     : 0;
		if (!states)
			*why = XVS_SYNC_E_PROTO;
		else if (c->state >= states)
			*why = XVS_SYNC_E_STATE;
	}
	return 1;
}
