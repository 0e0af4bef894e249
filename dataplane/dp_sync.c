/*
 * Connection synchronisation, the main lcore's part (dp_sync.h): the multicast sockets in the
 * dataplane's network namespace, a master's messages packed from the workers' rings, a
 * backup's messages checked and handed to the owning workers. Runs every millisecond from the
 * main lcore's housekeeping; every socket is non-blocking.
 */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "dp_path.h"
#include "dp_sync.h"
#include "xvs/gen.h"

#define SYNC_SEND_DELAY_MS 20   /* a message that is not full leaves this long after its first entry */
#define SYNC_RETRY_MS      1000 /* a socket that could not be opened is tried again */
#define SYNC_DRAIN_MAX     1024 /* entries taken from each worker per pass */
#define SYNC_RECV_MAX      64   /* datagrams read per pass */

static struct {
	struct xvs_dp *dp;
	struct xvs_worker **workers;
	struct xvs_sync_daemon cur[2]; /* what the sockets are for */
	int fd[2];
	uint64_t retry_tsc[2];         /* 0: open; else when to try again */
	int logged[2];                 /* the last failure was logged */
	struct xvs_sync_builder b;     /* the master's message being packed */
	uint64_t first_tsc;            /* when its first entry came */
	uint8_t sbuf[65536];
	uint8_t rbuf[65536];
} S = { .fd = { -1, -1 } };

int xvs_sync_setup(struct xvs_dp *dp, struct xvs_worker **workers, int node)
{
	S.dp = dp;
	S.workers = workers;
	for (unsigned i = 0; i < dp->nb_workers; i++) {
		struct xvs_worker *w = workers[i];
		size_t rsz = xvs_sync_ring_memsize(XVS_SYNC_RING);
		w->sync_out = rte_zmalloc_socket("xvs_sync_out", rsz, 64, node);
		w->sync_in = rte_zmalloc_socket("xvs_sync_in", rsz, 64, node);
		w->sync_cells = rte_zmalloc_socket("xvs_sync_cells",
						   sizeof(struct xvs_sync_cell) * w->conns.capacity, 64,
						   node);
		if (!w->sync_out || !w->sync_in || !w->sync_cells)
			return -ENOMEM;
		xvs_sync_ring_init(w->sync_out, XVS_SYNC_RING);
		xvs_sync_ring_init(w->sync_in, XVS_SYNC_RING);
	}
	return 0;
}

static const char *who(unsigned i)
{
	return i == XVS_SYNC_MASTER ? "master" : "backup";
}

static int set(int fd, int level, int opt, const void *v, socklen_t len)
{
	return setsockopt(fd, level, opt, v, len) < 0 ? -errno : 0;
}

/* The master's socket: multicast out of the interface, no loop back, the TTL, connected. */
static int open_master(const struct xvs_sync_daemon *d, unsigned ifindex)
{
	int v6 = d->group_af == XVS_AF_INET6;
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int ttl = d->ttl, off = 0, rc;
	struct sockaddr_storage sa;
	socklen_t salen;
	memset(&sa, 0, sizeof(sa));
	if (v6) {
		int idx = (int)ifindex;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;
		rc = set(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof(idx));
		if (!rc)
			rc = set(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &off, sizeof(off));
		if (!rc)
			rc = set(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &ttl, sizeof(ttl));
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(d->port);
		memcpy(&s6->sin6_addr, d->group.v6, 16);
		salen = sizeof(*s6);
	} else {
		struct ip_mreqn mr = { .imr_ifindex = (int)ifindex };
		unsigned char t = (unsigned char)ttl, l = 0;
		int pmtu = IP_PMTUDISC_DONT; /* let a message be fragmented, as IPVS does */
		struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;
		rc = set(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr));
		if (!rc)
			rc = set(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &l, sizeof(l));
		if (!rc)
			rc = set(fd, IPPROTO_IP, IP_MULTICAST_TTL, &t, sizeof(t));
		if (!rc)
			rc = set(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
		s4->sin_family = AF_INET;
		s4->sin_port = htons(d->port);
		s4->sin_addr.s_addr = d->group.v4;
		salen = sizeof(*s4);
	}
	if (!rc && connect(fd, (struct sockaddr *)&sa, salen) < 0)
		rc = -errno;
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

/* The backup's socket: bound to the group and port on the interface, a member of the group. */
static int open_backup(const struct xvs_sync_daemon *d, unsigned ifindex)
{
	int v6 = d->group_af == XVS_AF_INET6;
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1, rc = set(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (!rc)
		rc = set(fd, SOL_SOCKET, SO_BINDTODEVICE, d->ifname, (socklen_t)strlen(d->ifname));
	if (!rc && v6) {
		struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(d->port) };
		memcpy(&s6.sin6_addr, d->group.v6, 16);
		struct ipv6_mreq mr = { .ipv6mr_interface = ifindex };
		memcpy(&mr.ipv6mr_multiaddr, d->group.v6, 16);
		if (bind(fd, (struct sockaddr *)&s6, sizeof(s6)) < 0)
			rc = -errno;
		if (!rc)
			rc = set(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof(mr));
	} else if (!rc) {
		struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(d->port),
					  .sin_addr.s_addr = d->group.v4 };
		struct ip_mreqn mr = { .imr_multiaddr.s_addr = d->group.v4,
				       .imr_ifindex = (int)ifindex };
		if (bind(fd, (struct sockaddr *)&s4, sizeof(s4)) < 0)
			rc = -errno;
		if (!rc)
			rc = set(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr));
	}
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

static void sock_open(unsigned i, uint64_t now)
{
	const struct xvs_sync_daemon *d = &S.cur[i];
	unsigned ifindex = if_nametoindex(d->ifname);
	int fd = ifindex ? (i == XVS_SYNC_MASTER ? open_master(d, ifindex) : open_backup(d, ifindex))
			 : -ENODEV;
	if (fd < 0) {
		S.retry_tsc[i] = now + S.dp->tsc_hz / 1000 * SYNC_RETRY_MS;
		if (!S.logged[i])
			printf("xvs-dataplane: sync %s daemon on %s: %s (trying again every second)\n",
			       who(i), d->ifname, strerror(-fd));
		S.logged[i] = 1;
		fflush(stdout);
		return;
	}
	S.fd[i] = fd;
	S.retry_tsc[i] = 0;
	S.logged[i] = 0;
	printf("xvs-dataplane: sync %s daemon started (mcast=%s, syncid=%u, maxlen=%u, port=%u)\n",
	       who(i), d->ifname, d->syncid, d->maxlen, d->port);
	fflush(stdout);
}

static void sock_close(unsigned i)
{
	if (S.fd[i] >= 0) {
		close(S.fd[i]);
		printf("xvs-dataplane: sync %s daemon stopped\n", who(i));
		fflush(stdout);
	}
	S.fd[i] = -1;
	S.retry_tsc[i] = 0;
	S.logged[i] = 0;
}

/* Open, close or reopen what the generation asks for. */
static void reconcile(const struct xvs_gen *g, uint64_t now)
{
	static const struct xvs_sync_daemon off;
	for (unsigned i = 0; i < 2; i++) {
		const struct xvs_sync_daemon *want = g ? &g->sync[i] : &off;
		if (memcmp(want, &S.cur[i], sizeof(*want)) != 0) {
			sock_close(i);
			if (i == XVS_SYNC_MASTER)
				S.b.buf = NULL; /* a message of the old settings is dropped */
			S.cur[i] = *want;
			if (want->on)
				sock_open(i, now);
		} else if (want->on && S.fd[i] < 0 && now >= S.retry_tsc[i]) {
			sock_open(i, now);
		}
	}
}

static void send_msg(struct xvs_lcore_stats *st)
{
	if (!S.b.buf || !xvs_sync_build_count(&S.b))
		return;
	if (send(S.fd[XVS_SYNC_MASTER], S.b.buf, S.b.len, MSG_DONTWAIT | MSG_NOSIGNAL) ==
	    (ssize_t)S.b.len) {
		st->sync.msgs_sent++;
		st->sync.conns_sent += xvs_sync_build_count(&S.b);
	} else {
		st->sync.send_errors++;
	}
	S.b.buf = NULL;
}

static void pack(const struct xvs_sync_conn *c, uint64_t now, struct xvs_lcore_stats *st)
{
	const struct xvs_sync_daemon *d = &S.cur[XVS_SYNC_MASTER];
	for (int tries = 0; tries < 2; tries++) {
		if (!S.b.buf) {
			/* as IPVS, a message holds at least one entry whatever sync_maxlen says */
			size_t cap = d->maxlen > XVS_SYNC_HDR_LEN + XVS_SYNC_V6_LEN
					     ? d->maxlen : XVS_SYNC_HDR_LEN + XVS_SYNC_V6_LEN;
			xvs_sync_build_init(&S.b, S.sbuf, cap, d->syncid);
			S.first_tsc = now;
		}
		if (xvs_sync_build_add(&S.b, c, NULL) == 0)
			return;
		if (!xvs_sync_build_count(&S.b))
			return; /* no message can carry it */
		send_msg(st);
	}
}

/* The worker that owns an entry's flow: the client's, or its prefix's for persistence. */
static unsigned owner_of(const struct xvs_gen *g, const struct xvs_sync_conn *c)
{
	const struct xvs_steer *st = &S.dp->steer;
	if (S.dp->nb_workers < 2)
		return 0;
	union xvs_ip pfx = c->caddr;
	int prefix = !!(c->flags & XVS_SYNC_F_TEMPLATE);
	if (!prefix && g) {
		/* a persistent service's connections live with their template's prefix */
		int svc = c->proto ? xvs_gen_vip_lookup(g, c->proto, &c->vaddr, c->vport) : -1;
		for (uint32_t i = 0; svc < 0 && c->fwmark && i < g->nb_svcs; i++)
			if (g->svcs[i].state == XVS_SLOT_USED && g->svcs[i].fwmark == c->fwmark &&
			    g->svcs[i].af == c->af)
				svc = (int)i;
		if (svc < 0 && c->proto && c->vport)
			svc = xvs_gen_vip_lookup(g, c->proto, &c->vaddr, 0);
		if (svc >= 0 && (g->svcs[svc].flags & XVS_SVC_F_PERSISTENT)) {
			prefix = 1;
			if (c->af == XVS_AF_INET6)
				pfx = xvs_ip6_prefix(&c->caddr, g->svcs[svc].netmask);
			else
				pfx.v4 = c->caddr.v4 & g->svcs[svc].netmask;
		}
	}
	if (prefix)
		return c->af == XVS_AF_INET6 ? xvs_steer_owner6_prefix(st, &pfx)
					     : xvs_steer_owner4_prefix(st, pfx.v4);
	return c->af == XVS_AF_INET6 ? xvs_steer_owner6(st, &c->caddr, c->cport)
				     : xvs_steer_owner4(st, c->caddr.v4, c->cport);
}

static void receive(const struct xvs_gen *g, struct xvs_lcore_stats *st)
{
	const struct xvs_sync_daemon *d = &S.cur[XVS_SYNC_BACKUP];
	for (unsigned n = 0; n < SYNC_RECV_MAX; n++) {
		ssize_t len = recv(S.fd[XVS_SYNC_BACKUP], S.rbuf, sizeof(S.rbuf), MSG_DONTWAIT);
		if (len < 0)
			return;
		st->sync.msgs_recv++;
		struct xvs_sync_reader r;
		enum xvs_sync_err why = xvs_sync_read_init(&r, S.rbuf, (size_t)len, d->syncid);
		if (why != XVS_SYNC_OK) {
			st->sync.refused[why]++;
			continue;
		}
		struct xvs_sync_conn c;
		struct xvs_sync_seq seq;
		int has_seq, rc;
		while ((rc = xvs_sync_read_next(&r, &c, &seq, &has_seq, &why)) > 0) {
			if (why != XVS_SYNC_OK) {
				st->sync.refused[why]++;
				continue;
			}
			struct xvs_worker *w = S.workers[owner_of(g, &c)];
			if (xvs_sync_ring_put(w->sync_in, &c) < 0)
				st->sync.ring_full++;
			else
				st->sync.conns_recv++;
		}
		if (rc < 0)
			st->sync.refused[why]++;
	}
}

void xvs_sync_poll(const struct xvs_gen *g, uint64_t now, struct xvs_lcore_stats *st)
{
	if (!S.dp)
		return;
	reconcile(g, now);
	int master = S.fd[XVS_SYNC_MASTER] >= 0;
	struct xvs_sync_conn c;
	for (unsigned i = 0; i < S.dp->nb_workers; i++) {
		struct xvs_sync_ring *r = S.workers[i]->sync_out;
		for (unsigned n = 0; n < SYNC_DRAIN_MAX && xvs_sync_ring_get(r, &c); n++)
			if (master) /* else: queued before the master stopped, or while it cannot send */
				pack(&c, now, st);
	}
	if (master && S.b.buf &&
	    now - S.first_tsc >= S.dp->tsc_hz / 1000 * SYNC_SEND_DELAY_MS)
		send_msg(st);
	if (S.fd[XVS_SYNC_BACKUP] >= 0)
		receive(g, st);
}

void xvs_sync_close(void)
{
	for (unsigned i = 0; i < 2; i++)
		if (S.fd[i] >= 0) {
			close(S.fd[i]);
			S.fd[i] = -1;
		}
}
