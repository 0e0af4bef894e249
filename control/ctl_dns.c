/* DNS query building and answer checking (RFC 1035 sections 4.1 and 4.1.4). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl_dns.h"

#define HDR 12

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int xvs_dns_query(uint8_t *buf, size_t cap, uint16_t id, const char *name, uint16_t type)
{
	size_t pos = HDR;
	if (cap < HDR + 5)
		return -EINVAL;
	memset(buf, 0, HDR);
	put16(buf, id);
	put16(buf + 2, 0x0100); /* RD */
	put16(buf + 4, 1);      /* QDCOUNT */
	for (const char *s = strcmp(name, ".") == 0 ? "" : name; *s;) {
		const char *dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);
		if (n == 0 || n > 63 || pos + 1 + n + 5 > cap)
			return -EINVAL;
		buf[pos++] = (uint8_t)n;
		memcpy(buf + pos, s, n);
		pos += n;
		s += n + (dot ? 1 : 0);
	}
	buf[pos++] = 0;
	put16(buf + pos, type);
	put16(buf + pos + 2, 1); /* IN */
	return (int)(pos + 4);
}

/*
 * Read the name at *pos of msg into out (lower case, dot separated, "" for the root) and
 * move *pos past it. Pointers must point backwards, so a loop cannot form. -1 if malformed.
 */
static int read_name(const uint8_t *msg, size_t len, size_t *pos, char *out, size_t outcap)
{
	size_t p = *pos, o = 0, end = 0;
	int jumped = 0;
	for (unsigned hops = 0; hops < 128; hops++) {
		if (p >= len)
			return -1;
		uint8_t l = msg[p];
		if ((l & 0xc0) == 0xc0) {
			if (p + 1 >= len)
				return -1;
			size_t to = (size_t)(l & 0x3f) << 8 | msg[p + 1];
			if (to >= p)
				return -1;
			if (!jumped)
				end = p + 2;
			jumped = 1;
			p = to;
			continue;
		}
		if (l & 0xc0)
			return -1;
		if (l == 0) {
			out[o] = '\0';
			*pos = jumped ? end : p + 1;
			return 0;
		}
		if (p + 1 + l > len || o + l + 2 > outcap)
			return -1;
		if (o)
			out[o++] = '.';
		for (unsigned i = 0; i < l; i++)
			out[o++] = (char)tolower(msg[p + 1 + i]);
		p += 1 + l;
	}
	return -1;
}

static enum xvs_dns_verdict bad(char *why, size_t whylen, enum xvs_dns_verdict v, const char *msg)
{
	snprintf(why, whylen, "%s", msg);
	return v;
}

/* Skip one resource record at *pos; -1 if it does not fit. */
static int skip_rr(const uint8_t *msg, size_t len, size_t *pos)
{
	char name[300];
	if (read_name(msg, len, pos, name, sizeof(name)) < 0 || *pos + 10 > len)
		return -1;
	size_t rdlen = get16(msg + *pos + 8);
	if (*pos + 10 + rdlen > len)
		return -1;
	*pos += 10 + rdlen;
	return 0;
}

static enum xvs_dns_verdict judge_body(const uint8_t *query, size_t qlen, const uint8_t *r,
				       size_t rlen, char *why, size_t whylen)
{
	char qname[300], rname[300];
	size_t qp = HDR, rp = HDR;
	if (get16(r + 4) != 1)
		return bad(why, whylen, XVS_DNS_BAD, "answer without our one question");
	if (read_name(query, qlen, &qp, qname, sizeof(qname)) < 0 ||
	    read_name(r, rlen, &rp, rname, sizeof(rname)) < 0 || rp + 4 > rlen)
		return bad(why, whylen, XVS_DNS_BAD, "malformed question in the answer");
	if (strcmp(qname, rname) != 0 || memcmp(query + qp, r + rp, 4) != 0)
		return bad(why, whylen, XVS_DNS_BAD, "the answer is to another question");
	rp += 4;
	unsigned nb = (unsigned)get16(r + 6) + get16(r + 8) + get16(r + 10);
	for (unsigned i = 0; i < nb; i++)
		if (skip_rr(r, rlen, &rp) < 0)
			return bad(why, whylen, XVS_DNS_BAD, "malformed record in the answer");
	return XVS_DNS_ANSWER;
}

enum xvs_dns_verdict xvs_dns_judge(const uint8_t *query, size_t qlen, const uint8_t *reply,
				   size_t rlen, char *why, size_t whylen)
{
	if (rlen < HDR || qlen < HDR)
		return bad(why, whylen, XVS_DNS_FOREIGN, "datagram shorter than a DNS header");
	if (get16(reply) != get16(query))
		return bad(why, whylen, XVS_DNS_FOREIGN, "another query's id");
	uint16_t flags = get16(reply + 2);
	if (!(flags & 0x8000))
		return bad(why, whylen, XVS_DNS_FOREIGN, "a query, not an answer");
	if ((flags >> 11 & 0xf) != 0)
		return bad(why, whylen, XVS_DNS_BAD, "answer with a nonzero opcode");
	if ((flags & 0xf) != 0) {
		snprintf(why, whylen, "answer with RCODE %u", flags & 0xf);
		return XVS_DNS_BAD;
	}
	return judge_body(query, qlen, reply, rlen, why, whylen);
}
