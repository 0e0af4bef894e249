/* Building the VIP hash, sealing and validating table generations (pure C, both daemons). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "xvs/gen.h"
#include "xvs/sync.h"
#include "xvs/sched.h"

size_t xvs_gen_crc_len(const struct xvs_gen *g)
{
	uint32_t nb = g->nb_sched_tab <= XVS_SCHED_TAB_POOL ? g->nb_sched_tab : XVS_SCHED_TAB_POOL;
	return offsetof(struct xvs_gen, sched_tab) + nb * sizeof(g->sched_tab[0]) - XVS_GEN_BODY_OFF;
}

static uint32_t body_crc(const struct xvs_gen *g)
{
	const unsigned char *p = (const unsigned char *)g + XVS_GEN_BODY_OFF;
	size_t len = xvs_gen_crc_len(g);
	uLong crc = crc32(0L, Z_NULL, 0);
	/* zlib takes uInt lengths; feed it in chunks. */
	while (len) {
		uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;
		crc = crc32(crc, p, n);
		p += n;
		len -= n;
	}
	return (uint32_t)crc;
}

int xvs_gen_build_vip_hash(struct xvs_gen *g)
{
	memset(g->vip_hash, 0, sizeof(g->vip_hash));
	for (uint32_t i = 0; i < g->nb_svcs && i < XVS_MAX_SVCS; i++) {
		const struct xvs_svc *s = &g->svcs[i];
		if (s->state != XVS_SLOT_USED || s->fwmark)
			continue;
		uint32_t h = xvs_vip_hash(s->proto, &s->addr, s->port_be);
		uint32_t n;
		for (n = 0; n < XVS_VIP_HASH_SIZE && g->vip_hash[h]; n++)
			h = (h + 1) & (XVS_VIP_HASH_SIZE - 1);
		if (n == XVS_VIP_HASH_SIZE)
			return -ENOSPC;
		g->vip_hash[h] = (uint16_t)(i + 1);
	}
	return 0;
}

void xvs_gen_seal(struct xvs_gen *g)
{
	g->magic = XVS_GEN_MAGIC;
	g->sched_registry = xvs_sched_registry_id();
	g->crc = body_crc(g);
}

static int refuse(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int valid_ip(uint8_t af, const union xvs_ip *a)
{
	if (af == XVS_AF_INET)
		return a->w[1] == 0 && a->d[1] == 0;
	return af == XVS_AF_INET6;
}

union xvs_ip xvs_gen_prefix_mask(uint8_t af, unsigned plen)
{
	union xvs_ip m = { .d = { 0, 0 } };
	unsigned bits = af == XVS_AF_INET6 ? 128 : 32;
	for (unsigned b = 0; b < plen && b < bits; b++)
		m.v6[b / 8] |= (uint8_t)(0x80u >> (b % 8));
	return m;
}

/* A service's key: protocol, address and port, or a mark (no address, no port, protocol 0). */
static int validate_svc_key(const struct xvs_svc *s, uint32_t i, char *err, size_t errlen)
{
	static const union xvs_ip zero;
	if (s->af != XVS_AF_INET && s->af != XVS_AF_INET6)
		return refuse(err, errlen, "service %u: bad address family %u", i, s->af);
	if (s->fwmark) {
		if (s->proto != 0 || s->port_be != 0 || !xvs_ip_eq(&s->addr, &zero))
			return refuse(err, errlen, "service %u: fwmark service with an address", i);
		return 0;
	}
	if (!valid_ip(s->af, &s->addr))
		return refuse(err, errlen, "service %u: bad address", i);
	if (s->proto != XVS_PROTO_TCP && s->proto != XVS_PROTO_UDP && s->proto != XVS_PROTO_SCTP)
		return refuse(err, errlen, "service %u: bad protocol %u", i, s->proto);
	return 0;
}

static int validate_svc(const struct xvs_gen *g, uint32_t i, char *err, size_t errlen)
{
	const struct xvs_svc *s = &g->svcs[i];
	int rc = validate_svc_key(s, i, err, errlen);
	if (rc)
		return rc;
	if (s->sched == XVS_SCHED_NONE || s->sched >= XVS_SCHED_MAX)
		return refuse(err, errlen, "service %u: unknown scheduler %u", i, s->sched);
	if (s->flags & ~XVS_SVC_F_ALL)
		return refuse(err, errlen, "service %u: unknown flags %#x", i, s->flags);
	if ((s->flags & XVS_SVC_F_PERSISTENT) &&
	    (s->persist_timeout == 0 || s->persist_timeout > XVS_MAX_TIMEOUT))
		return refuse(err, errlen, "service %u: persistence timeout %u out of 1..%u", i,
			      s->persist_timeout, XVS_MAX_TIMEOUT);
	if (s->af == XVS_AF_INET6 && s->netmask > 128)
		return refuse(err, errlen, "service %u: IPv6 prefix length %u", i, s->netmask);
	if ((s->flags & XVS_SVC_F_ONEPACKET) && s->proto != XVS_PROTO_UDP && !s->fwmark)
		return refuse(err, errlen, "service %u: one-packet scheduling of a non-UDP service", i);
	if ((uint32_t)s->dest_first + s->nb_dests > g->nb_svc_dests)
		return refuse(err, errlen, "service %u: destination list out of bounds", i);
	for (uint32_t k = 0; k < s->nb_dests; k++) {
		uint16_t d = g->svc_dests[s->dest_first + k];
		if (d >= g->nb_dests)
			return refuse(err, errlen, "service %u: destination %u out of bounds", i, d);
		if (g->dests[d].state != XVS_SLOT_USED || g->dests[d].svc != i)
			return refuse(err, errlen, "service %u: destination %u not its own", i, d);
	}
	const struct xvs_sched_ops *ops = xvs_sched_all[s->sched];
	if (ops->check && ops->check(g, s) < 0)
		return refuse(err, errlen, "service %u: bad %s data", i, ops->name);
	if (!s->fwmark && xvs_gen_vip_lookup(g, s->proto, &s->addr, s->port_be) != (int)i)
		return refuse(err, errlen, "service %u: not found through the VIP hash", i);
	return 0;
}

static int validate_mark(const struct xvs_gen *g, uint32_t i, char *err, size_t errlen)
{
	const struct xvs_mark_rule *r = &g->marks[i];
	if (r->af != XVS_AF_INET && r->af != XVS_AF_INET6)
		return refuse(err, errlen, "mark rule %u: bad address family %u", i, r->af);
	if (r->proto != 0 && r->proto != XVS_PROTO_TCP && r->proto != XVS_PROTO_UDP)
		return refuse(err, errlen, "mark rule %u: bad protocol %u", i, r->proto);
	if (r->plen > (r->af == XVS_AF_INET6 ? 128 : 32) || r->port_lo > r->port_hi || r->mark == 0)
		return refuse(err, errlen, "mark rule %u: bad prefix, ports or mark", i);
	union xvs_ip m = xvs_gen_prefix_mask(r->af, r->plen);
	if (!xvs_ip_eq(&m, &r->mask) || (r->prefix.d[0] & ~m.d[0]) || (r->prefix.d[1] & ~m.d[1]))
		return refuse(err, errlen, "mark rule %u: prefix and mask disagree", i);
	if (r->svc == 0)
		return 0;
	if (r->svc > g->nb_svcs)
		return refuse(err, errlen, "mark rule %u: service %u out of bounds", i, r->svc - 1u);
	const struct xvs_svc *s = &g->svcs[r->svc - 1];
	if (s->state != XVS_SLOT_USED || s->fwmark != r->mark || s->af != r->af)
		return refuse(err, errlen, "mark rule %u: service %u is not the fwmark service of "
			      "mark %u", i, r->svc - 1u, r->mark);
	return 0;
}

static int validate_dest(const struct xvs_gen *g, uint32_t i, char *err, size_t errlen)
{
	const struct xvs_dest *d = &g->dests[i];
	if (d->state == XVS_SLOT_FREE)
		return 0;
	if (d->state != XVS_SLOT_USED && d->state != XVS_SLOT_TRASH)
		return refuse(err, errlen, "destination %u: bad state %u", i, d->state);
	if (d->af != XVS_AF_INET && d->af != XVS_AF_INET6)
		return refuse(err, errlen, "destination %u: bad address family %u", i, d->af);
	if (!valid_ip(d->af, &d->addr))
		return refuse(err, errlen, "destination %u: bad address", i);
	if (d->fwd != XVS_FWD_MASQ && d->fwd != XVS_FWD_DROUTE && d->fwd != XVS_FWD_TUNNEL)
		return refuse(err, errlen, "destination %u: bad forwarding method %u", i, d->fwd);
	if (d->weight < 0 || d->last_weight < 0)
		return refuse(err, errlen, "destination %u: negative weight", i);
	if (d->weight > XVS_MAX_WEIGHT || d->last_weight > XVS_MAX_WEIGHT)
		return refuse(err, errlen, "destination %u: weight above %u", i, XVS_MAX_WEIGHT);
	if (d->u_thresh > XVS_MAX_THRESH || d->l_thresh > XVS_MAX_THRESH)
		return refuse(err, errlen, "destination %u: threshold above %u", i, XVS_MAX_THRESH);
	if (d->fwd == XVS_FWD_TUNNEL &&
	    (d->tun_type > XVS_TUN_TYPE_GUE || d->tun_flags > XVS_TUN_F_CSUM ||
	     (d->tun_type == XVS_TUN_TYPE_GUE && d->tun_port_be == 0)))
		return refuse(err, errlen, "destination %u: bad tunnel settings", i);
	if (d->svc >= g->nb_svcs)
		return refuse(err, errlen, "destination %u: service %u out of bounds", i, d->svc);
	if (d->state == XVS_SLOT_USED && g->svcs[d->svc].state != XVS_SLOT_USED)
		return refuse(err, errlen, "destination %u: service %u not in use", i, d->svc);
	/* NAT and DR keep the packet's family: only a tunnel carries one family in the other
	 * (a service's own bad family is the service's check's to name) */
	uint8_t saf = g->svcs[d->svc].af;
	if (d->state == XVS_SLOT_USED && d->fwd != XVS_FWD_TUNNEL && d->af != saf &&
	    (saf == XVS_AF_INET || saf == XVS_AF_INET6))
		return refuse(err, errlen, "destination %u: another address family than service %u "
			      "without a tunnel", i, d->svc);
	return 0;
}

/* A sync daemon: all zero when off; when on, every field within what IPVS accepts. */
static int validate_sync(const struct xvs_sync_daemon *d, unsigned i, char *err, size_t errlen)
{
	static const struct xvs_sync_daemon off;
	const char *who = i == XVS_SYNC_MASTER ? "master" : "backup";
	if (!d->on) {
		if (memcmp(d, &off, sizeof(off)) != 0)
			return refuse(err, errlen, "sync %s: fields set while off", who);
		return 0;
	}
	size_t n = strnlen(d->ifname, sizeof(d->ifname));
	if (d->on != 1 || d->ttl == 0 || d->port == 0 || n == 0 || n == sizeof(d->ifname))
		return refuse(err, errlen, "sync %s: bad state, ttl, port or interface", who);
	for (size_t k = n; k < sizeof(d->ifname); k++)
		if (d->ifname[k])
			return refuse(err, errlen, "sync %s: bytes after the interface name", who);
	unsigned min = i == XVS_SYNC_BACKUP ? XVS_SYNC_MAXLEN_MIN_BACKUP : 1;
	if (d->maxlen < min || d->maxlen > XVS_SYNC_MAXLEN_MAX)
		return refuse(err, errlen, "sync %s: maxlen %u out of %u..%u", who, d->maxlen, min,
			      XVS_SYNC_MAXLEN_MAX);
	int mc = d->group_af == XVS_AF_INET ? valid_ip(XVS_AF_INET, &d->group) &&
						  (d->group.v6[0] & 0xf0) == 0xe0
		 : d->group_af == XVS_AF_INET6 ? d->group.v6[0] == 0xff
					       : 0;
	if (!mc)
		return refuse(err, errlen, "sync %s: the group is not a multicast address", who);
	return 0;
}

int xvs_gen_validate(const struct xvs_gen *g, char *err, size_t errlen)
{
	if (g->magic != XVS_GEN_MAGIC)
		return refuse(err, errlen, "bad magic %#llx", (unsigned long long)g->magic);
	if (g->gen == 0)
		return refuse(err, errlen, "generation 0");
	if (g->nb_svcs > XVS_MAX_SVCS || g->nb_dests > XVS_MAX_DESTS ||
	    g->nb_svc_dests > XVS_MAX_DESTS || g->nb_sched_tab > XVS_SCHED_TAB_POOL ||
	    g->nb_marks > XVS_MAX_MARKS)
		return refuse(err, errlen, "counts out of bounds (%u services, %u destinations, %u list, "
			      "%u table entries, %u mark rules)", g->nb_svcs, g->nb_dests,
			      g->nb_svc_dests, g->nb_sched_tab, g->nb_marks);
	if (g->sched_registry != xvs_sched_registry_id())
		return refuse(err, errlen, "built with another list of schedulers (%#x, ours %#x)",
			      g->sched_registry, xvs_sched_registry_id());
	uint32_t crc = body_crc(g);
	if (crc != g->crc)
		return refuse(err, errlen, "crc %#x, expected %#x", crc, g->crc);
	if (g->timeouts.tcp == 0 || g->timeouts.tcpfin == 0 || g->timeouts.udp == 0)
		return refuse(err, errlen, "zero timeout");
	if (g->timeouts.tcp > XVS_MAX_TIMEOUT || g->timeouts.tcpfin > XVS_MAX_TIMEOUT ||
	    g->timeouts.udp > XVS_MAX_TIMEOUT)
		return refuse(err, errlen, "timeout above %u s", XVS_MAX_TIMEOUT);
	int empty = 0;
	for (uint32_t h = 0; h < XVS_VIP_HASH_SIZE; h++) {
		uint16_t e = g->vip_hash[h];
		if (e == 0) {
			empty = 1;
			continue;
		}
		if (e > g->nb_svcs || g->svcs[e - 1].state != XVS_SLOT_USED)
			return refuse(err, errlen, "VIP hash bucket %u points at service %u", h, e - 1);
	}
	if (!empty)
		return refuse(err, errlen, "VIP hash has no empty bucket");
	for (uint32_t i = 0; i < g->nb_dests; i++) {
		int rc = validate_dest(g, i, err, errlen);
		if (rc)
			return rc;
	}
	for (uint32_t i = 0; i < g->nb_svcs; i++) {
		if (g->svcs[i].state == XVS_SLOT_FREE)
			continue;
		if (g->svcs[i].state != XVS_SLOT_USED)
			return refuse(err, errlen, "service %u: bad state", i);
		int rc = validate_svc(g, i, err, errlen);
		if (rc)
			return rc;
	}
	for (uint32_t i = 0; i < g->nb_marks; i++) {
		int rc = validate_mark(g, i, err, errlen);
		if (rc)
			return rc;
	}
	for (unsigned i = 0; i < 2; i++) {
		int rc = validate_sync(&g->sync[i], i, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}
