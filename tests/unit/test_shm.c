/*
 * Unit tests of the shared-memory contract: mapping the region, and the publication protocol
 * of include/xvs/shm.h between a test-local publisher (control's role) and the dataplane
 * side (dataplane/dp_adopt.c) with simulated workers.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "dp_adopt.h"
#include "xvs/gen.h"
#include "xvs/sched.h"
#include "xvs/shm.h"

static char path[64];

static void path_setup(void)
{
	snprintf(path, sizeof(path), "/tmp/xvs-test-shm-XXXXXX");
	int fd = mkstemp(path); /* empty file: xvs_shm_open initialises it */
	cr_assert_geq(fd, 0);
	close(fd);
}

static void path_teardown(void)
{
	unlink(path);
}

TestSuite(shm, .init = path_setup, .fini = path_teardown);
TestSuite(adopt, .init = path_setup, .fini = path_teardown);

static off_t file_size(void)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	return st.st_size;
}

/* ---- mapping ---------------------------------------------------------------------------- */

Test(shm, open_creates_and_initialises)
{
	struct xvs_shm s;
	cr_assert_eq(xvs_shm_open(&s, path, 0), 0);
	const struct xvs_shm_hdr *h = s.hdr;
	cr_assert_eq(h->magic, XVS_SHM_MAGIC);
	cr_assert_eq(h->abi, XVS_SHM_ABI);
	cr_assert_eq(h->hdr_size, sizeof(*h));
	cr_assert_eq(h->region_size, s.size);
	cr_assert_eq((uint64_t)file_size(), s.size);
	cr_assert_eq(h->max_lcores, XVS_MAX_LCORES);
	cr_assert_eq(h->stats_size, sizeof(struct xvs_lcore_stats));
	/* areas in order, page aligned, not overlapping, slots big enough */
	cr_assert_geq(h->off_lcores, sizeof(*h));
	cr_assert_geq(h->off_stats, h->off_lcores + XVS_MAX_LCORES * sizeof(struct xvs_shm_lcore));
	cr_assert_geq(h->off_slots[0],
		      h->off_stats + XVS_MAX_LCORES * sizeof(struct xvs_lcore_stats));
	cr_assert_geq(h->slot_size, sizeof(struct xvs_gen));
	cr_assert_eq(h->off_slots[1], h->off_slots[0] + h->slot_size);
	cr_assert_leq(h->off_slots[1] + h->slot_size, h->region_size);
	cr_assert_eq(h->off_lcores % 4096, 0);
	cr_assert_eq(h->off_stats % 4096, 0);
	cr_assert_eq(h->off_slots[0] % 4096, 0);
	cr_assert_eq(atomic_load(&h->published), 0);
	cr_assert_eq(atomic_load(&h->adopted), 0);
	cr_assert_eq(atomic_load(&h->slot_gen[0]), 0);
	cr_assert_eq(atomic_load(&h->slot_gen[1]), 0);
	/* every worker counter starts at zero; the last byte of the region is mapped */
	for (unsigned i = 0; i < XVS_MAX_LCORES; i++)
		cr_assert_eq(atomic_load(&xvs_shm_lcore(&s, i)->seen_gen), 0);
	cr_assert_eq(xvs_shm_stats(&s, XVS_MAX_LCORES - 1)->dest[XVS_MAX_DESTS - 1].conns, 0);
	cr_assert_eq(((volatile char *)h)[s.size - 1], 0);
	cr_assert_eq((char *)xvs_shm_slot(&s, 1) - (char *)h, (long)h->off_slots[1]);
	cr_assert_eq(xvs_shm_slot(&s, 2), xvs_shm_slot(&s, 0), "slot index is taken mod 2");
	xvs_shm_close(&s);
	cr_assert_null(s.hdr);
	cr_assert_eq(s.fd, -1);
}

Test(shm, second_open_maps_same_region)
{
	struct xvs_shm a, b;
	cr_assert_eq(xvs_shm_open(&a, path, 0), 0);
	atomic_store(&a.hdr->published, XVS_PUB(5, 1));
	xvs_shm_stats(&a, 3)->rx_pkts = 77;
	xvs_shm_slot(&a, 1)->gen = 5;
	cr_assert_eq(xvs_shm_open(&b, path, 0), 0, "an initialised region is not re-initialised");
	cr_assert_neq(a.hdr, b.hdr);
	cr_assert_eq(atomic_load(&b.hdr->published), XVS_PUB(5, 1));
	cr_assert_eq(xvs_shm_stats(&b, 3)->rx_pkts, 77);
	cr_assert_eq(xvs_shm_slot(&b, 1)->gen, 5);
	/* writes through one mapping are seen through the other */
	atomic_store(&b.hdr->adopted, XVS_PUB(5, 1));
	cr_assert_eq(atomic_load(&a.hdr->adopted), XVS_PUB(5, 1));
	xvs_shm_close(&b);
	/* reinit on a good region does nothing either */
	cr_assert_eq(xvs_shm_open(&b, path, 1), 0);
	cr_assert_eq(atomic_load(&b.hdr->published), XVS_PUB(5, 1));
	xvs_shm_close(&b);
	xvs_shm_close(&a);
}

/* A region of another version: refused untouched, unless the caller asks to re-initialise. */
static void check_foreign(void (*spoil)(struct xvs_shm_hdr *h))
{
	struct xvs_shm s;
	cr_assert_eq(xvs_shm_open(&s, path, 0), 0);
	atomic_store(&s.hdr->published, XVS_PUB(9, 0));
	spoil(s.hdr);
	xvs_shm_close(&s);

	struct xvs_shm t;
	cr_assert_eq(xvs_shm_open(&t, path, 0), -EPROTO);
	cr_assert_null(t.hdr);
	cr_assert_eq(t.fd, -1);
	cr_assert_eq(xvs_shm_open(&s, path, 0), -EPROTO, "refused again: nothing was rewritten");
	cr_assert_eq(xvs_shm_open(&s, path, 1), 0);
	cr_assert_eq(s.hdr->magic, XVS_SHM_MAGIC);
	cr_assert_eq(s.hdr->abi, XVS_SHM_ABI);
	cr_assert_eq(atomic_load(&s.hdr->published), 0, "re-initialised");
	xvs_shm_close(&s);
}

static void spoil_magic(struct xvs_shm_hdr *h) { h->magic = 0x1122334455667788ULL; }
static void spoil_abi(struct xvs_shm_hdr *h) { h->abi = XVS_SHM_ABI + 1; }
static void spoil_hdr_size(struct xvs_shm_hdr *h) { h->hdr_size -= 8; }
static void spoil_lcores(struct xvs_shm_hdr *h) { h->max_lcores = XVS_MAX_LCORES * 2; }
static void spoil_stats(struct xvs_shm_hdr *h) { h->stats_size += 64; }
static void spoil_slots(struct xvs_shm_hdr *h) { h->off_slots[1] += 4096; }

Test(shm, foreign_magic) { check_foreign(spoil_magic); }
Test(shm, foreign_abi) { check_foreign(spoil_abi); }
Test(shm, foreign_hdr_size) { check_foreign(spoil_hdr_size); }
Test(shm, foreign_max_lcores) { check_foreign(spoil_lcores); }
Test(shm, foreign_stats_size) { check_foreign(spoil_stats); }
Test(shm, foreign_slot_layout) { check_foreign(spoil_slots); }

/* The refused region keeps its bytes: a newer dataplane's region survives an older control. */
Test(shm, foreign_region_untouched)
{
	struct xvs_shm s;
	cr_assert_eq(xvs_shm_open(&s, path, 0), 0);
	s.hdr->magic = 0x0102030405060708ULL;
	atomic_store(&s.hdr->published, 1234);
	xvs_shm_stats(&s, 0)->rx_pkts = 99;
	xvs_shm_close(&s);
	struct xvs_shm t;
	cr_assert_eq(xvs_shm_open(&t, path, 0), -EPROTO);
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f);
	struct xvs_shm_hdr h;
	cr_assert_eq(fread(&h, sizeof(h), 1, f), 1);
	fclose(f);
	cr_assert_eq(h.magic, 0x0102030405060708ULL);
	cr_assert_eq(atomic_load(&h.published), 1234);
}

Test(shm, wrong_size_refused_without_reinit)
{
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	static const char junk[8192] = "some other file";
	cr_assert_eq(fwrite(junk, sizeof(junk), 1, f), 1);
	fclose(f);
	struct xvs_shm s;
	cr_assert_eq(xvs_shm_open(&s, path, 0), -EPROTO);
	cr_assert_eq(file_size(), (off_t)sizeof(junk), "not resized");
	cr_assert_eq(xvs_shm_open(&s, path, 1), 0);
	cr_assert_eq((uint64_t)file_size(), s.size);
	cr_assert_eq(s.hdr->magic, XVS_SHM_MAGIC);
	xvs_shm_close(&s);
}

Test(shm, open_errors)
{
	struct xvs_shm s;
	cr_assert_eq(xvs_shm_open(&s, "/nonexistent-dir-xvs/shm", 0), -ENOENT);
	cr_assert_null(s.hdr);
}

Test(shm, dataplane_alive)
{
	struct xvs_shm s;
	cr_assert_eq(xvs_shm_open(&s, path, 0), 0);
	cr_assert_eq(xvs_shm_dataplane_alive(&s), 0, "no pid yet");
	atomic_store(&s.hdr->dp_pid, (uint64_t)getpid());
	atomic_store(&s.hdr->dp_heartbeat_ns, xvs_now_ns());
	cr_assert_neq(xvs_shm_dataplane_alive(&s), 0);
	atomic_store(&s.hdr->dp_heartbeat_ns, xvs_now_ns() - 2 * XVS_SHM_HEARTBEAT_STALE_NS);
	cr_assert_eq(xvs_shm_dataplane_alive(&s), 0, "stale heartbeat");
	xvs_shm_close(&s);
}

/* ---- test-local publisher (control's half of the protocol) ------------------------------ */

#define NB_WORKERS 2

/*
 * A small valid generation whose number is written into markers at both ends of the
 * structure, so a reader can tell a torn or mixed copy from a whole one.
 */
static void make_gen(struct xvs_gen *g, uint64_t n)
{
	memset(g, 0, sizeof(*g));
	g->gen = n;
	g->timeouts = (struct xvs_timeouts){ .tcp = 1000 + (uint32_t)n, .tcpfin = 120, .udp = 300 };
	struct xvs_svc *s = &g->svcs[0];
	s->state = XVS_SLOT_USED;
	s->af = XVS_AF_INET;
	s->proto = XVS_PROTO_TCP;
	s->sched = XVS_SCHED_RR;
	s->addr.v4 = 0x0100000a;
	s->port_be = 0x5000;
	s->persist_timeout = (uint32_t)n; /* marker */
	s->nb_dests = 2;
	for (unsigned i = 0; i < 2; i++) {
		g->dests[i] = (struct xvs_dest){ .state = XVS_SLOT_USED, .af = XVS_AF_INET,
						 .fwd = XVS_FWD_MASQ, .weight = 1 };
		g->dests[i].addr.v4 = 0x0200000a + (i << 24);
		g->svc_dests[i] = (uint16_t)i;
	}
	g->svc_dests[XVS_MAX_DESTS - 1] = (uint16_t)n; /* marker at the very end */
	g->nb_svcs = 1;
	g->nb_dests = 2;
	g->nb_svc_dests = 2;
	cr_assert_eq(xvs_gen_build_vip_hash(g), 0);
	xvs_gen_seal(g);
}

/* Markers agree with the generation number. No Criterion asserts: also used off-thread. */
static int markers_ok(const struct xvs_gen *g)
{
	return g->timeouts.tcp == 1000 + (uint32_t)g->gen && g->svcs[0].persist_timeout == g->gen &&
	       g->svc_dests[XVS_MAX_DESTS - 1] == (uint16_t)g->gen;
}

/* The slot a publication must use: the one not holding the adopted generation. */
static unsigned free_slot(const struct xvs_shm *s)
{
	return XVS_PUB_SLOT(atomic_load_explicit(&s->hdr->adopted, memory_order_acquire)) ^ 1u;
}

/* Steps of a publication, split so tests can stop or reorder them. */
static void slot_begin(struct xvs_shm *s, unsigned slot)
{
	atomic_store_explicit(&s->hdr->slot_gen[slot], 0, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

static void slot_write(struct xvs_shm *s, unsigned slot, const struct xvs_gen *g)
{
	memcpy(xvs_shm_slot(s, slot), g, sizeof(*g));
}

static void slot_end(struct xvs_shm *s, unsigned slot, uint64_t gen)
{
	atomic_store_explicit(&s->hdr->slot_gen[slot], gen, memory_order_release);
}

static uint64_t announce(struct xvs_shm *s, unsigned slot, uint64_t gen)
{
	uint64_t w = XVS_PUB(gen, slot);
	atomic_store_explicit(&s->hdr->published, w, memory_order_release);
	return w;
}

/* The whole protocol in order; returns the published word. */
static uint64_t publish(struct xvs_shm *s, const struct xvs_gen *g)
{
	unsigned slot = free_slot(s);
	slot_begin(s, slot);
	slot_write(s, slot, g);
	slot_end(s, slot, g->gen);
	return announce(s, slot, g->gen);
}

/* ---- dataplane side ----------------------------------------------------------------------- */

struct dp {
	struct xvs_shm shm;
	struct xvs_gen *buf[2];
	struct xvs_dp_gens a;
	struct xvs_gen *g; /* the publisher's build buffer */
};

static void dp_start(struct dp *d, unsigned nb_workers)
{
	cr_assert_eq(xvs_shm_open(&d->shm, path, 0), 0);
	d->buf[0] = calloc(1, sizeof(struct xvs_gen));
	d->buf[1] = calloc(1, sizeof(struct xvs_gen));
	d->g = calloc(1, sizeof(struct xvs_gen));
	cr_assert(d->buf[0] && d->buf[1] && d->g);
	xvs_dp_adopt_init(&d->a, &d->shm, d->buf[0], d->buf[1], nb_workers);
	cr_assert_eq(atomic_load(&d->shm.hdr->nb_workers), nb_workers);
}

static void dp_stop(struct dp *d)
{
	xvs_shm_close(&d->shm);
	free(d->buf[0]);
	free(d->buf[1]);
	free(d->g);
}

static uint64_t adopted(const struct dp *d)
{
	return atomic_load(&d->shm.hdr->adopted);
}

/* Every worker runs one loop: returns the generation number they now run (all the same). */
static uint64_t workers_loop(struct dp *d)
{
	uint64_t gen = 0;
	for (unsigned i = 0; i < d->a.nb_workers; i++) {
		struct xvs_gen *g = xvs_dp_gen_get(&d->a, i);
		cr_assert_not_null(g);
		cr_assert(g == d->buf[0] || g == d->buf[1], "workers only see private copies");
		cr_assert(markers_ok(g));
		cr_assert_eq(xvs_gen_validate(g, NULL, 0), 0);
		cr_assert_eq(atomic_load(&xvs_shm_lcore(&d->shm, i)->seen_gen), g->gen);
		gen = g->gen;
	}
	return gen;
}

/* Publish generation n and have it adopted: poll, workers move, poll. */
static uint64_t adopt_gen(struct dp *d, uint64_t n)
{
	make_gen(d->g, n);
	uint64_t w = publish(&d->shm, d->g);
	cr_assert_eq(xvs_dp_adopt_poll(&d->a), 1);
	cr_assert_eq(workers_loop(d), n);
	xvs_dp_adopt_poll(&d->a);
	cr_assert_eq(adopted(d), w);
	return w;
}

Test(adopt, nothing_published)
{
	struct dp d;
	dp_start(&d, NB_WORKERS);
	cr_assert_eq(xvs_dp_adopt_poll(&d.a), 0);
	cr_assert_null(xvs_dp_gen_get(&d.a, 0));
	cr_assert_eq(atomic_load(&xvs_shm_lcore(&d.shm, 0)->seen_gen), 0);
	cr_assert_eq(adopted(&d), 0);
	dp_stop(&d);
}

Test(adopt, first_generation)
{
	struct dp d;
	dp_start(&d, NB_WORKERS);
	make_gen(d.g, 1);
	uint64_t w = publish(&d.shm, d.g);
	cr_assert_eq(XVS_PUB_SLOT(w), 1, "first publication goes to the slot not holding 0");
	cr_assert_eq(xvs_dp_adopt_poll(&d.a), 1);
	cr_assert_eq(adopted(&d), 0, "no worker runs it yet");
	struct xvs_gen *g = xvs_dp_gen_get(&d.a, 0);
	cr_assert_not_null(g);
	cr_assert_eq(g->gen, 1);
	cr_assert_neq((void *)g, (void *)xvs_shm_slot(&d.shm, 1), "a private copy");
	cr_assert_eq(memcmp(g, d.g, sizeof(*g)), 0);
	cr_assert_eq(xvs_dp_adopt_poll(&d.a), 0);
	cr_assert_eq(adopted(&d), 0, "worker 1 still has not run it");
	xvs_dp_gen_get(&d.a, 1);
	cr_assert_eq(xvs_dp_adopt_poll(&d.a), 0);
	cr_assert_eq(adopted(&d), w);
	cr_assert_eq(atomic_load(&d.shm.hdr->nb_refused), 0);
	/* nothing new: nothing happens */
	cr_assert_eq(xvs_dp_adopt_poll(&d.a), 0);
	cr_assert_eq(xvs_dp_gen_get(&d.a, 0), g);
	dp_stop(&d);
}

Test(adopt, no_workers_adopts_at_once)
{
	struct dp d;
	dp_start(&d, 0);
	make_gen(d.g, 3);
	uint64_t w = publish(&d.shm, d.g);
	cr_assert_eq(xvs_dp_adopt_poll(&d.a), 1);
	cr_assert_eq(adopted(&d), w);
	dp_stop(&d);
}

Test(adopt, second_generation_keeps_old_buffer_until_workers_move)
{
	struct dp d;
	dp_start(&d, NB_WORKERS);
	uint64_t w1 = adopt_gen(&d, 1);
	struct xvs_gen *old = xvs_dp_gen_get(&d.a, 0);
	struct xvs_gen *snap = malloc(sizeof(*snap));
	cr_assert_not_null(snap);
	memcpy(snap, old, sizeof(*snap));

	make_gen(d.g, 2);
	uint64_t w2 = publish(&d.shm, d.g);
	cr_assert_neq(XVS_PUB_SLOT(w2), XVS_PUB_SLOT(w1), "the other slot");
	cr_assert_eq(xvs_dp_adopt_poll(&d.a), 1);
	cr_assert_eq(adopted(&d), w1);

	/* a third publication arrives before the workers moved (control must not do this): it
	 * must wait, because the only free buffer is the one the workers still read */
	make_gen(d.g, 3);
	unsigned slot3 = XVS_PUB_SLOT(w1); /* the slot not holding gen 2 */
	slot_begin(&d.shm, slot3);
	slot_write(&d.shm, slot3, d.g);
	slot_end(&d.shm, slot3, 3);
	uint64_t w3 = announce(&d.shm, slot3, 3);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(xvs_dp_adopt_poll(&d.a), 0);
	cr_assert_eq(memcmp(old, snap, sizeof(*snap)), 0, "old buffer untouched");
	cr_assert_eq(adopted(&d), w1);

	/* worker 0 moves: not enough */
	cr_assert_eq(xvs_dp_gen_get(&d.a, 0)->gen, 2);
	cr_assert_eq(xvs_dp_adopt_poll(&d.a), 0);
	cr_assert_eq(memcmp(old, snap, sizeof(*snap)), 0, "worker 1 may still read it");
	/* worker 1 moves: gen 2 is adopted and gen 3 is taken in the same poll */
	cr_assert_eq(xvs_dp_gen_get(&d.a, 1)->gen, 2);
	cr_assert_eq(xvs_dp_adopt_poll(&d.a), 1);
	cr_assert_eq(workers_loop(&d), 3);
	xvs_dp_adopt_poll(&d.a);
	cr_assert_eq(adopted(&d), w3);
	(void)w2;
	free(snap);
	dp_stop(&d);
}

Test(adopt, many_generations_alternate_buffers)
{
	struct dp d;
	dp_start(&d, NB_WORKERS);
	struct xvs_gen *prev = NULL;
	for (uint64_t n = 1; n <= 20; n++) {
		adopt_gen(&d, n);
		struct xvs_gen *g = xvs_dp_gen_get(&d.a, 0);
		cr_assert_neq(g, prev);
		prev = g;
	}
	dp_stop(&d);
}

/* ---- refusals --------------------------------------------------------------------------- */

enum bad_kind { BAD_CRC, BAD_INDEX, BAD_MAGIC, BAD_GEN_FIELD, BAD_SCHED };

struct bad_case {
	enum bad_kind kind;
	char why[32];
};

ParameterizedTestParameters(adopt, corrupted_generation_refused)
{
	static struct bad_case cases[] = {
		{ BAD_CRC, "crc" },
		{ BAD_INDEX, "out of bounds" },
		{ BAD_MAGIC, "magic" },
		{ BAD_GEN_FIELD, "another generation" },
		{ BAD_SCHED, "scheduler" },
	};
	return cr_make_param_array(struct bad_case, cases, sizeof(cases) / sizeof(cases[0]));
}

static void spoil(struct xvs_gen *g, enum bad_kind k)
{
	switch (k) {
	case BAD_CRC:
		g->dests[1].weight++;
		break;
	case BAD_INDEX:
		g->svc_dests[1] = 5000;
		xvs_gen_seal(g);
		break;
	case BAD_MAGIC:
		g->magic = 0;
		break;
	case BAD_GEN_FIELD:
		g->gen++; /* the slot says one number, the content another */
		break;
	case BAD_SCHED:
		g->svcs[0].sched = 99;
		xvs_gen_seal(g);
		break;
	}
}

ParameterizedTest(struct bad_case *c, adopt, corrupted_generation_refused)
{
	struct dp d;
	dp_start(&d, NB_WORKERS);
	uint64_t w1 = adopt_gen(&d, 1);
	struct xvs_gen *cur = xvs_dp_gen_get(&d.a, 0);

	make_gen(d.g, 2);
	spoil(d.g, c->kind);
	unsigned slot = free_slot(&d.shm);
	slot_begin(&d.shm, slot);
	slot_write(&d.shm, slot, d.g);
	slot_end(&d.shm, slot, 2);
	announce(&d.shm, slot, 2);

	cr_assert_eq(xvs_dp_adopt_poll(&d.a), -EINVAL);
	const struct xvs_shm_hdr *h = d.shm.hdr;
	cr_assert_eq(atomic_load(&h->refused_gen), 2);
	cr_assert_eq(atomic_load(&h->nb_refused), 1);
	cr_assert_not_null(strstr(h->refuse_reason, "generation 2"), "reason: %s", h->refuse_reason);
	cr_assert_not_null(strstr(h->refuse_reason, c->why), "reason: %s", h->refuse_reason);
	cr_assert_eq(adopted(&d), w1);
	/* workers keep the previous generation */
	cr_assert_eq(xvs_dp_gen_get(&d.a, 0), cur);
	cr_assert_eq(workers_loop(&d), 1);
	/* refused once, not again on every poll */
	cr_assert_eq(xvs_dp_adopt_poll(&d.a), 0);
	cr_assert_eq(atomic_load(&h->nb_refused), 1);
	cr_assert_eq(adopted(&d), w1);

	/* control goes on with a good one, in the slot not holding the adopted generation */
	adopt_gen(&d, 3);
	cr_assert_eq(atomic_load(&h->refused_gen), 2);
	dp_stop(&d);
}

/* A refusal before anything was adopted leaves workers with no generation. */
Test(adopt, first_generation_refused)
{
	struct dp d;
	dp_start(&d, NB_WORKERS);
	make_gen(d.g, 1);
	d.g->crc ^= 1;
	publish(&d.shm, d.g);
	cr_assert_eq(xvs_dp_adopt_poll(&d.a), -EINVAL);
	cr_assert_null(xvs_dp_gen_get(&d.a, 0));
	cr_assert_eq(adopted(&d), 0);
	cr_assert_eq(atomic_load(&d.shm.hdr->refused_gen), 1);
	adopt_gen(&d, 2);
	dp_stop(&d);
}

/* ---- torn copies ---------------------------------------------------------------------------- */

Test(adopt, torn_copy_retried_not_refused)
{
	struct dp d;
	dp_start(&d, NB_WORKERS);
	uint64_t w1 = adopt_gen(&d, 1);

	/* announced while the slot is still being written (slot_gen 0) */
	make_gen(d.g, 2);
	unsigned slot = free_slot(&d.shm);
	slot_begin(&d.shm, slot);
	uint64_t w2 = announce(&d.shm, slot, 2);
	memset(xvs_shm_slot(&d.shm, slot), 0xa5, 4096); /* half written */
	for (int i = 0; i < 3; i++)
		cr_assert_eq(xvs_dp_adopt_poll(&d.a), -EAGAIN);
	cr_assert_eq(d.a.nb_torn, 3);
	cr_assert_eq(atomic_load(&d.shm.hdr->nb_refused), 0);
	cr_assert_eq(atomic_load(&d.shm.hdr->refused_gen), 0);
	cr_assert_eq(adopted(&d), w1);
	cr_assert_eq(workers_loop(&d), 1);

	/* the slot still holds an older generation's number: also not ready */
	slot_end(&d.shm, slot, 1);
	cr_assert_eq(xvs_dp_adopt_poll(&d.a), -EAGAIN);

	/* complete */
	slot_write(&d.shm, slot, d.g);
	slot_end(&d.shm, slot, 2);
	cr_assert_eq(xvs_dp_adopt_poll(&d.a), 1);
	cr_assert_eq(workers_loop(&d), 2);
	xvs_dp_adopt_poll(&d.a);
	cr_assert_eq(adopted(&d), w2);
	cr_assert_eq(atomic_load(&d.shm.hdr->nb_refused), 0);
	dp_stop(&d);
}

/* A dataplane that restarts finds the published generation and adopts it again. */
Test(adopt, dataplane_restart_readopts)
{
	struct dp d;
	dp_start(&d, NB_WORKERS);
	adopt_gen(&d, 1);
	uint64_t w2 = adopt_gen(&d, 2);
	xvs_shm_lcore(&d.shm, 0)->seen_gen = 77; /* left over from the old process */
	xvs_dp_adopt_init(&d.a, &d.shm, d.buf[0], d.buf[1], NB_WORKERS);
	cr_assert_eq(atomic_load(&xvs_shm_lcore(&d.shm, 0)->seen_gen), 0);
	cr_assert_null(xvs_dp_gen_get(&d.a, 0));
	cr_assert_eq(xvs_dp_adopt_poll(&d.a), 1);
	cr_assert_eq(workers_loop(&d), 2);
	xvs_dp_adopt_poll(&d.a);
	cr_assert_eq(adopted(&d), w2);
	adopt_gen(&d, 3);
	dp_stop(&d);
}

/* ---- concurrency ---------------------------------------------------------------------------- */

#define CONC_GENS     240
#define CONC_TIMEOUT  (20ULL * 1000000000ULL)

struct conc {
	struct dp *d;
	_Atomic int stop;
	_Atomic int failed;
	_Atomic uint64_t worker_last[NB_WORKERS];
	_Atomic uint64_t worker_loops[NB_WORKERS];
	uint64_t nb_bad_published;
	char msg[256];
	pthread_mutex_t lock;
};

/* Record the first failure of any thread; Criterion's asserts belong to the test's thread. */
static void __attribute__((format(printf, 2, 3))) conc_fail(struct conc *c, const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&c->lock);
	if (!atomic_load(&c->failed)) {
		va_start(ap, fmt);
		vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
		va_end(ap);
	}
	atomic_store(&c->failed, 1);
	pthread_mutex_unlock(&c->lock);
}

struct worker_arg {
	struct conc *c;
	unsigned id;
};

/*
 * A worker: per loop, take the generation, check it twice (markers before, a full validation,
 * markers after) so that a buffer rewritten under it shows, and never go backwards.
 */
static void *worker_main(void *p)
{
	struct worker_arg *wa = p;
	struct conc *c = wa->c;
	uint64_t last = 0;
	while (!atomic_load(&c->stop) && !atomic_load(&c->failed)) {
		struct xvs_gen *g = xvs_dp_gen_get(&c->d->a, wa->id);
		atomic_fetch_add(&c->worker_loops[wa->id], 1);
		if (!g) {
			if (last)
				conc_fail(c, "worker lost its generation after %llu", (unsigned long long)last);
			sched_yield();
			continue;
		}
		uint64_t n = g->gen;
		if (!markers_ok(g))
			conc_fail(c, "generation %llu: markers torn (worker %u)", (unsigned long long)n, wa->id);
		if (n % 7 == 0)
			conc_fail(c, "generation %llu was corrupted but reached worker %u",
				  (unsigned long long)n, wa->id);
		if (n < last)
			conc_fail(c, "worker went back from %llu to %llu", (unsigned long long)last,
				  (unsigned long long)n);
		if (xvs_gen_validate(g, NULL, 0) != 0)
			conc_fail(c, "generation %llu does not validate under worker %u",
				  (unsigned long long)n, wa->id);
		if (g->gen != n || !markers_ok(g))
			conc_fail(c, "generation %llu changed under worker %u", (unsigned long long)n,
				  wa->id);
		last = n;
		atomic_store(&c->worker_last[wa->id], n);
		sched_yield();
	}
	return NULL;
}

/*
 * Control: publishes CONC_GENS generations one at a time, waiting for each to be adopted or
 * refused. Every 7th is corrupted (must be refused); every 5th is announced before its slot
 * is written (copies of it are torn and must be retried).
 */
static void *publisher_main(void *p)
{
	struct conc *c = p;
	struct xvs_shm *s = &c->d->shm;
	struct xvs_gen *g = c->d->g;
	for (uint64_t n = 1; n <= CONC_GENS && !atomic_load(&c->failed); n++) {
		make_gen(g, n);
		if (n % 7 == 0) {
			g->svc_dests[0] = 9999; /* out of bounds, crc right */
			xvs_gen_seal(g);
			c->nb_bad_published++;
		}
		unsigned slot = free_slot(s);
		uint64_t w;
		slot_begin(s, slot);
		if (n % 5 == 0) {
			w = announce(s, slot, n);
			sched_yield();
			slot_write(s, slot, g);
			slot_end(s, slot, n);
		} else {
			slot_write(s, slot, g);
			slot_end(s, slot, n);
			w = announce(s, slot, n);
		}
		uint64_t t0 = xvs_now_ns();
		for (;;) {
			if (atomic_load(&s->hdr->adopted) == w)
				break;
			if (atomic_load(&s->hdr->refused_gen) == n) {
				if (n % 7)
					conc_fail(c, "good generation %llu refused", (unsigned long long)n);
				break;
			}
			if (xvs_now_ns() - t0 > CONC_TIMEOUT) {
				conc_fail(c, "generation %llu neither adopted nor refused",
					  (unsigned long long)n);
				break;
			}
			sched_yield();
		}
		if (n % 7 == 0 && atomic_load(&s->hdr->adopted) == w)
			conc_fail(c, "corrupted generation %llu adopted", (unsigned long long)n);
	}
	atomic_store(&c->stop, 1);
	return NULL;
}

Test(adopt, concurrent_publisher_and_workers, .timeout = 90)
{
	struct dp d;
	dp_start(&d, NB_WORKERS);
	struct conc c = { .d = &d };
	pthread_mutex_init(&c.lock, NULL);
	pthread_t pub, wk[NB_WORKERS];
	struct worker_arg wa[NB_WORKERS];
	for (unsigned i = 0; i < NB_WORKERS; i++) {
		wa[i] = (struct worker_arg){ &c, i };
		cr_assert_eq(pthread_create(&wk[i], NULL, worker_main, &wa[i]), 0);
	}
	cr_assert_eq(pthread_create(&pub, NULL, publisher_main, &c), 0);

	/* this thread is the dataplane's main lcore */
	uint64_t polls = 0, handed = 0, refused = 0;
	while (!atomic_load(&c.stop)) {
		int r = xvs_dp_adopt_poll(&d.a);
		handed += r == 1;
		refused += r == -EINVAL;
		polls++;
		sched_yield();
	}
	pthread_join(pub, NULL);
	for (unsigned i = 0; i < NB_WORKERS; i++)
		pthread_join(wk[i], NULL);
	cr_assert_not(atomic_load(&c.failed), "%s", c.msg);

	uint64_t last_good = CONC_GENS % 7 ? CONC_GENS : CONC_GENS - 1;
	cr_assert_eq(XVS_PUB_GEN(adopted(&d)), last_good);
	cr_assert_eq(atomic_load(&d.shm.hdr->nb_refused), c.nb_bad_published);
	cr_assert_eq(refused, c.nb_bad_published);
	cr_assert_eq(handed, CONC_GENS - c.nb_bad_published);
	for (unsigned i = 0; i < NB_WORKERS; i++)
		cr_assert_eq(atomic_load(&c.worker_last[i]), last_good);
	cr_log_info("%llu polls, %llu torn copies", (unsigned long long)polls,
		    (unsigned long long)d.a.nb_torn);
	pthread_mutex_destroy(&c.lock);
	dp_stop(&d);
}

/* The region steers every packet: a file of another user, or open to others, is refused. */
Test(shm, foreign_owner_or_mode_refused)
{
	struct xvs_shm s;
	cr_assert_eq(xvs_shm_open(&s, path, 0), 0);
	xvs_shm_close(&s);
	cr_assert_eq(chmod(path, 0644), 0);
	cr_assert_eq(xvs_shm_open(&s, path, 0), -EACCES);
	cr_assert_str_neq(xvs_shm_open_hint(-EACCES), "");
	cr_assert_eq(chmod(path, 0600), 0);
	cr_assert_eq(xvs_shm_open(&s, path, 0), 0);
	xvs_shm_close(&s);
	if (geteuid() != 0)
		cr_skip_test("chown needs root");
	cr_assert_eq(chown(path, 65534, 65534), 0);
	cr_assert_eq(xvs_shm_open(&s, path, 0), -EPERM);
}

/* A new region is 0600 whatever the umask, and a symbolic link is not followed. */
Test(shm, new_region_mode_and_no_symlink)
{
	struct xvs_shm s;
	unlink(path);
	mode_t old = umask(0);
	cr_assert_eq(xvs_shm_open(&s, path, 0), 0);
	umask(old);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	xvs_shm_close(&s);
	char link[80];
	snprintf(link, sizeof(link), "%s.link", path);
	cr_assert_eq(symlink(path, link), 0);
	cr_assert_eq(xvs_shm_open(&s, link, 0), -ELOOP);
	unlink(link);
}

/* One writer: a second lock on the region is refused until the first file closes. */
Test(shm, one_writer_lock)
{
	struct xvs_shm a, b;
	cr_assert_eq(xvs_shm_open(&a, path, 0), 0);
	cr_assert_eq(xvs_shm_open(&b, path, 0), 0);
	cr_assert_eq(xvs_shm_lock_writer(&a), 0);
	cr_assert_eq(xvs_shm_lock_writer(&b), -EBUSY);
	xvs_shm_close(&a);
	cr_assert_eq(xvs_shm_lock_writer(&b), 0);
	xvs_shm_close(&b);
}
