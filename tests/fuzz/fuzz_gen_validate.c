/*
 * Fuzz target: the dataplane's check of a table generation read from shared memory
 * (xvs_gen_validate, common/gen.c, as dp_adopt.c calls it; include/xvs/gen.h).
 *
 * Input: a flags byte, then patches.
 *   flags bit 0: start from a valid generation that control built from a few services (one
 *                per scheduler, every forwarding method, marks, a trashed server); else
 *                from zeros
 *         bit 1: rebuild the VIP hash after patching (as control does)
 *         bit 2: seal after patching (magic, registry id, crc; else the patched ones stay)
 *   patch: region (byte, modulo 8: header, VIP hash, services, destinations, service
 *          lists, mark rules and counts, scheduler tables, or the load the schedulers see:
 *          this worker's and the others' connections to the first 64 servers), offset
 *          (16 bits, big endian; scheduler tables in units of 64 bytes), length (byte),
 *          then that many bytes.
 *
 * A generation the validator accepts is then used as a worker would: every service is
 * found through the VIP hash, every scheduler picks a live real server of that service
 * with a weight (or none) for a range of clients and load, and every mark rule leads to a
 * firewall-mark service or to none. Meanwhile every table entry past the counts the
 * validator checked (services, real servers, service lists, mark rules, scheduler table
 * entries) is poisoned: reading one is an ASan report, as is any read past the image.
 */
#include <arpa/inet.h>
#include <sanitizer/asan_interface.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_publish.h"
#include "fuzz_common.h"
#include "xvs/gen.h"
#include "xvs/sched.h"

#define F_BASE  0x01
#define F_HASH  0x02
#define F_SEAL  0x04
#define TAB_OFF offsetof(struct xvs_gen, sched_tab)
#define PICKS   6

struct region {
	size_t off, len;
	unsigned scale;
};

static const struct region regions[] = {
	{ 0, XVS_GEN_BODY_OFF, 1 },
	{ offsetof(struct xvs_gen, vip_hash), sizeof(((struct xvs_gen *)0)->vip_hash), 1 },
	{ offsetof(struct xvs_gen, svcs), sizeof(((struct xvs_gen *)0)->svcs), 1 },
	{ offsetof(struct xvs_gen, dests), sizeof(((struct xvs_gen *)0)->dests), 1 },
	{ offsetof(struct xvs_gen, svc_dests), sizeof(((struct xvs_gen *)0)->svc_dests), 1 },
	{ offsetof(struct xvs_gen, nb_marks), TAB_OFF - offsetof(struct xvs_gen, nb_marks), 1 },
	{ TAB_OFF, sizeof(((struct xvs_gen *)0)->sched_tab), 64 },
};
#define NB_REGIONS (sizeof(regions) / sizeof(regions[0]))
#define LOADED 64 /* servers with a load (region NB_REGIONS) */

/* The load the schedulers see: patched by the input, put back to `load0` every time. */
struct load {
	struct xvs_stats_ctr ctr[LOADED];
	struct xvs_dest_load others[LOADED];
};
static struct load load, load0;

static struct xvs_gen *base, *work;
static int guarded; /* work's unused entries are poisoned */
static size_t base_end; /* bytes of base up to the end of its used scheduler tables */
static size_t dirty_end; /* work differs from zero nowhere past max(base_end, this) */
static struct xvs_stats_ctr *ctr;      /* every server's, the first LOADED from `load` */
static struct xvs_dest_load *others;
static uint8_t *overload;

static const char *const base_rules[] = {
	"-A -t 198.18.0.100:80 -s rr", "-a -t 198.18.0.100:80 -r 198.18.0.21:8080 -m",
	"-a -t 198.18.0.100:80 -r 198.18.0.22:8080 -m -w 0",
	"-A -t 198.18.0.100:81 -s wrr", "-a -t 198.18.0.100:81 -r 198.18.0.21 -g -w 3",
	"-a -t 198.18.0.100:81 -r 198.18.0.22 -g -w 2",
	"-A -t 198.18.0.100:82 -s lc", "-a -t 198.18.0.100:82 -r 198.18.0.21 -i -x 10 -y 2",
	"-A -t 198.18.0.100:83 -s wlc", "-a -t 198.18.0.100:83 -r 198.18.0.23 -g",
	"-a -t 198.18.0.100:83 -r 198.18.0.24 -g -w 5",
	"-A -t 198.18.0.100:84 -s lblc", "-a -t 198.18.0.100:84 -r 198.18.0.21 -g",
	"-A -t 198.18.0.100:85 -s lblcr", "-a -t 198.18.0.100:85 -r 198.18.0.21 -g",
	"-a -t 198.18.0.100:85 -r 198.18.0.22 -g",
	"-A -u 198.18.0.100:53 -s dh", "-a -u 198.18.0.100:53 -r 198.18.0.21:5353 -m",
	"-A -u 198.18.0.100:54 -s sh -b sh-port,sh-fallback",
	"-a -u 198.18.0.100:54 -r 198.18.0.21 -g", "-a -u 198.18.0.100:54 -r 198.18.0.22 -g -w 0",
	"-A -u 198.18.0.100:55 -s sed", "-a -u 198.18.0.100:55 -r 198.18.0.21 -g",
	"-A -u 198.18.0.100:56 -s nq", "-a -u 198.18.0.100:56 -r 198.18.0.21 -g",
	"-A -t [2001:db8::100]:80 -s mh -b mh-port,mh-fallback",
	"-a -t [2001:db8::100]:80 -r [2001:db8::21]:80 -i --tun-type gue --tun-port 6080",
	"-a -t [2001:db8::100]:80 -r 198.18.0.22:80 -i",
	"-A -t [2001:db8::100]:81 -s fo", "-a -t [2001:db8::100]:81 -r [2001:db8::21]:81 -g -w 2",
	"-a -t [2001:db8::100]:81 -r [2001:db8::22]:81 -g -w 7",
	"-A -t [2001:db8::100]:82 -s ovf", "-a -t [2001:db8::100]:82 -r [2001:db8::22]:82 -g",
	"-A -t [2001:db8::100]:83 -s twos", "-a -t [2001:db8::100]:83 -r [2001:db8::23]:83 -g",
	"-a -t [2001:db8::100]:83 -r [2001:db8::24]:83 -g -w 4",
	"-d -t [2001:db8::100]:83 -r [2001:db8::24]:83",
	"-A --sctp-service 198.18.0.100:3868 -s rr -p 60 -M 255.255.255.0",
	"-a --sctp-service 198.18.0.100:3868 -r 198.18.0.21:3869 -m",
	"-A -f 1 -s rr -p 600", "-a -f 1 -r 198.18.0.21 -g",
	"-A -f 2 -6 -s wrr", "-a -f 2 -6 -r [2001:db8::21]:81 -g",
	"--add-mark --proto tcp --dst 198.18.0.96/29 --dport 8000:8999 --mark 1",
	"--add-mark --dst 2001:db8::/64 --dport 443 --mark 2",
	"--add-mark --proto udp --dst 198.18.0.0/24 --mark 9",
	NULL,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct xvs_ctl_model *m = fuzz_model_new(base_rules);
	char msg[256];
	base = malloc(sizeof(*base));
	work = calloc(1, sizeof(*work));
	ctr = calloc(XVS_MAX_DESTS, sizeof(*ctr));
	others = calloc(XVS_MAX_DESTS, sizeof(*others));
	overload = calloc(XVS_MAX_DESTS, 1);
	if (!base || !work || !ctr || !others || !overload)
		fuzz_die("no memory");
	if (xvs_ctl_build_gen(m, base, msg, sizeof(msg)) < 0)
		fuzz_die("the base generation: %s", msg);
	base->gen = 1;
	xvs_gen_seal(base);
	if (xvs_gen_validate(base, msg, sizeof(msg)) < 0)
		fuzz_die("the base generation is refused: %s", msg);
	base_end = TAB_OFF + base->nb_sched_tab * sizeof(base->sched_tab[0]);
	xvs_ctl_model_free(m);
	/* some load: this worker's and the others' connections on the first servers */
	for (unsigned i = 0; i < LOADED; i++) {
		load0.ctr[i].active = (int64_t)(i * 7 % 5);
		load0.ctr[i].inactive = (int64_t)(i * 3 % 11);
		load0.others[i].active = (int64_t)(i % 3);
	}
	return 0;
}

/* Poison what lies past each count of the validated image (or make it all readable). */
static void guard(int on)
{
	if (!on) {
		if (guarded)
			ASAN_UNPOISON_MEMORY_REGION(work, sizeof(*work));
		guarded = 0;
		return;
	}
	ASAN_POISON_MEMORY_REGION(&work->svcs[work->nb_svcs],
				  (XVS_MAX_SVCS - work->nb_svcs) * sizeof(work->svcs[0]));
	ASAN_POISON_MEMORY_REGION(&work->dests[work->nb_dests],
				  (XVS_MAX_DESTS - work->nb_dests) * sizeof(work->dests[0]));
	ASAN_POISON_MEMORY_REGION(&work->svc_dests[work->nb_svc_dests],
				  (XVS_MAX_DESTS - work->nb_svc_dests) * sizeof(work->svc_dests[0]));
	ASAN_POISON_MEMORY_REGION(&work->marks[work->nb_marks],
				  (XVS_MAX_MARKS - work->nb_marks) * sizeof(work->marks[0]));
	ASAN_POISON_MEMORY_REGION(&work->sched_tab[work->nb_sched_tab],
				  (XVS_SCHED_TAB_POOL - work->nb_sched_tab) * sizeof(work->sched_tab[0]));
	guarded = 1;
}

/* The starting image; what the last input changed is put back first. */
static void start(int from_base)
{
	guard(0);
	size_t n = dirty_end > base_end ? dirty_end : base_end;
	if (from_base)
		memcpy(work, base, n);
	else
		memset(work, 0, n);
	dirty_end = from_base ? base_end : 0;
}

/* Apply the patches. */
static void patch(const uint8_t *p, size_t size)
{
	while (size >= 4) {
		unsigned k = p[0] % (NB_REGIONS + 1);
		const struct region *r = k < NB_REGIONS ? &regions[k] : &(struct region){ 0, sizeof(load), 1 };
		size_t off = ((size_t)p[1] << 8 | p[2]) * r->scale % r->len, n = p[3];
		uint8_t *base_of = k < NB_REGIONS ? (uint8_t *)work : (uint8_t *)&load;
		p += 4;
		size -= 4;
		if (n > size)
			n = size;
		if (n > r->len - off)
			n = r->len - off;
		memcpy(base_of + r->off + off, p, n);
		if (k < NB_REGIONS && r->off + off + n > dirty_end)
			dirty_end = r->off + off + n;
		p += n;
		size -= n;
	}
}

static void check_svc(const struct xvs_gen *g, uint32_t i, uint32_t seed)
{
	const struct xvs_svc *s = &g->svcs[i];
	if (!s->fwmark && xvs_gen_vip_lookup(g, s->proto, &s->addr, s->port_be) != (int)i)
		fuzz_die("service %u is not found through the VIP hash", i);
	struct xvs_sched_state st;
	memset(&st, 0, sizeof(st));
	for (unsigned k = 0; k < PICKS; k++) {
		struct xvs_sched_key key = {
			.daddr = s->addr, .cport_be = htons((uint16_t)(1024 + seed + k)),
			.now = k * 100, .dest_ctr = k & 1 ? ctr : NULL, .others = k & 2 ? others : NULL,
			.overload = k & 4 ? overload : NULL,
		};
		key.caddr.v4 = htonl(0x0a000001 + seed * 31 + k);
		if (s->af == XVS_AF_INET6)
			key.caddr.v6[15] = (uint8_t)(seed + k);
		int d = xvs_sched_all[s->sched]->pick(g, s, &st, &key);
		if (d == -1)
			continue;
		if (d < 0 || (uint32_t)d >= g->nb_dests || g->dests[d].state != XVS_SLOT_USED ||
		    g->dests[d].svc != i || g->dests[d].weight <= 0)
			fuzz_die("%s on service %u picked %d, not a live server of it with a weight",
				 xvs_sched_all[s->sched]->name, i, d);
	}
}

static void check_marks(const struct xvs_gen *g)
{
	for (uint32_t i = 0; i < g->nb_marks; i++) {
		const struct xvs_mark_rule *r = &g->marks[i];
		int s = xvs_gen_mark_lookup(g, r->af, r->proto ? r->proto : XVS_PROTO_TCP, &r->prefix,
					    htons(r->port_lo));
		if (s >= 0 && ((uint32_t)s >= g->nb_svcs || g->svcs[s].state != XVS_SLOT_USED ||
			       !g->svcs[s].fwmark || g->svcs[s].af != r->af))
			fuzz_die("mark rule %u leads to service %d, not a firewall-mark service", i, s);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[128];
	if (size < 1)
		return 0;
	start(data[0] & F_BASE);
	load = load0;
	patch(data + 1, size - 1);
	if (data[0] & F_HASH)
		xvs_gen_build_vip_hash(work); /* -ENOSPC leaves a full hash: the validator's to see */
	if (data[0] & F_SEAL)
		xvs_gen_seal(work);
	if (xvs_gen_validate(work, err, sizeof(err)) < 0) {
		if (!err[0])
			fuzz_die("a refusal without a reason");
		return 0;
	}
	memset(overload, 0, XVS_MAX_DESTS);
	/*
	 * Counts a node can have: at most 16 workers of 2^24 connections, and the others' sum
	 * a little below zero while it catches up (int32 / 8 covers both). Larger ones would
	 * overflow the schedulers' arithmetic, which is sized for what the tables can hold.
	 */
	for (unsigned i = 0; i < LOADED; i++) {
		ctr[i].active = (int32_t)load.ctr[i].active / 8;
		ctr[i].inactive = (int32_t)load.ctr[i].inactive / 8;
		ctr[i].persist = (int32_t)load.ctr[i].persist / 8;
		others[i].active = (int32_t)load.others[i].active / 8;
		others[i].inactive = (int32_t)load.others[i].inactive / 8;
	}
	guard(1);
	for (uint32_t i = 0; i < work->nb_svcs; i++)
		if (work->svcs[i].state == XVS_SLOT_USED)
			check_svc(work, i, (uint32_t)size + i);
	check_marks(work);
	return 0;
}
