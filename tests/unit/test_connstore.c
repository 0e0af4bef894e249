/*
 * Unit tests of the connection table files' header (dataplane/dp_connstore.h): which header a
 * new process attaches to, and the exact reason it gives for starting empty otherwise.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "dp_connstore.h"

#define XVS_STR1(x) #x
#define XVS_STR(x) XVS_STR1(x)

static struct xvs_cstore_want want_of(uint32_t worker)
{
	struct xvs_cstore_want w = {
		.capacity = 65536, .worker = worker, .nb_workers = 2, .steering = XVS_STEER_SOFTWARE,
		.now_ns = 5000000000ULL, .file_size = xvs_cstore_file_size(65536, 2u << 20),
	};
	snprintf(w.boot_id, sizeof(w.boot_id), "3f1e2d9c-0000-4000-8000-000000000001");
	return w;
}

/* The header a clean stop of a process configured as w leaves. */
static struct xvs_cstore_hdr hdr_of(const struct xvs_cstore_want *w)
{
	struct xvs_cstore_hdr h;
	xvs_cstore_hdr_init(&h, w);
	h.steer_key[0] = 11;
	h.steer_key[1] = 12;
	h.table_key[0] = 13;
	h.clock_base_ns = 1000000000ULL;
	h.clean = 1;
	h.crc = xvs_cstore_crc(&h);
	return h;
}

static void reseal(struct xvs_cstore_hdr *h)
{
	h->crc = xvs_cstore_crc(h);
}

Test(connstore, file_size_rounds_to_pages)
{
	uint64_t n = XVS_CSTORE_HDR_SIZE + xvs_conn_table_memsize(65536);
	cr_assert_eq(xvs_cstore_file_size(65536, 4096), (n + 4095) / 4096 * 4096);
	cr_assert_eq(xvs_cstore_file_size(65536, 2u << 20), 4u << 20, "3.3 MiB in 2 MiB pages");
	cr_assert_eq(xvs_cstore_file_size(16, 2u << 20), 2u << 20);
}

Test(connstore, attaches_a_matching_header)
{
	struct xvs_cstore_want w = want_of(1);
	struct xvs_cstore_hdr h = hdr_of(&w);
	char why[200] = "";
	cr_assert_eq(xvs_cstore_check(&h, w.file_size, &w, why, sizeof(why)), 0, "%s", why);
	h.clean = 0; /* a crash: still attached, the cells are then checked one by one */
	reseal(&h);
	cr_assert_eq(xvs_cstore_check(&h, w.file_size, &w, why, sizeof(why)), 0, "%s", why);
}

/* Each way a header can disagree, and what the dataplane then says. */
static const char *refusal(unsigned k, struct xvs_cstore_hdr *h, struct xvs_cstore_want *w,
			   uint64_t *size)
{
	switch (k) {
	case 0: h->magic = 0; return "no connection table in the file";
	case 1: h->abi = 8; reseal(h); return "connection table ABI 8, this binary " XVS_STR(XVS_CONN_ABI);
	case 2: h->steer_key[0] ^= 1; return "connection table header checksum mismatch";
	case 3: w->capacity = 131072; w->file_size = xvs_cstore_file_size(131072, 2u << 20);
		return "connection table of 65536 cells, conn_max now 131072";
	case 4: w->nb_workers = 1; return "connection tables of 2 worker(s), now 1 worker(s)";
	case 5: w->worker = 0; return "the file holds worker 1's table, not worker 0's";
	case 6: *size = 2u << 20; return "connection table layout differs (file of 2097152 bytes, 16384 buckets)";
	case 7: h->cell_size = 64; reseal(h); return "connection table layout differs (file of 4194304 bytes, 16384 buckets)";
	case 8: w->steering = XVS_STEER_NIC; return "connections steered software, now nic";
	case 9: w->steer_key_set = 1; w->steer_key[0] = 11; w->steer_key[1] = 99;
		return "steering_seed changed";
	case 10: w->boot_id[0] = 'x'; return "connection table written before a reboot";
	case 11: w->now_ns = 10; return "connection table clock starts in the future";
	case 12: *size = 100; return "no connection table in the file";
	default: h->steering = XVS_STEER_NIC; h->reta_size = 128; reseal(h);
		w->steering = XVS_STEER_NIC; w->reta_size = 512;
		return "RSS redirection table of 128 entries, now 512";
	}
}

Test(connstore, refuses_with_the_reason)
{
	for (unsigned k = 0; k <= 13; k++) {
		struct xvs_cstore_want w = want_of(1);
		struct xvs_cstore_hdr h = hdr_of(&w);
		uint64_t size = w.file_size;
		const char *want_why = refusal(k, &h, &w, &size);
		char why[200] = "";
		cr_assert_eq(xvs_cstore_check(&h, size, &w, why, sizeof(why)), -1, "case %u attached", k);
		cr_assert_str_eq(why, want_why, "case %u", k);
	}
}

Test(connstore, a_seed_that_gives_the_same_secret_attaches)
{
	struct xvs_cstore_want w = want_of(0);
	struct xvs_cstore_hdr h = hdr_of(&w);
	w.steer_key_set = 1;
	w.steer_key[0] = 11;
	w.steer_key[1] = 12;
	char why[200] = "";
	cr_assert_eq(xvs_cstore_check(&h, w.file_size, &w, why, sizeof(why)), 0, "%s", why);
}

Test(connstore, workers_must_share_the_steering_secret)
{
	struct xvs_cstore_want w0 = want_of(0), w1 = want_of(1);
	struct xvs_cstore_hdr h0 = hdr_of(&w0), h1 = hdr_of(&w1);
	const struct xvs_cstore_hdr *set[2] = { &h0, &h1 };
	char why[200] = "";
	cr_assert_eq(xvs_cstore_check_set(set, 2, why, sizeof(why)), 0);
	h1.rss_key[3] = 1;
	cr_assert_eq(xvs_cstore_check_set(set, 2, why, sizeof(why)), -1);
	cr_assert_str_eq(why, "workers 0 and 1 disagree on the steering secret");
}

Test(connstore, decide_takes_all_or_none)
{
	struct xvs_cstore cs = { .nb = 2 };
	struct xvs_cstore_want w[2] = { want_of(0), want_of(1) };
	snprintf(cs.dir, sizeof(cs.dir), "/dev/hugepages");
	cs.f[0].old = hdr_of(&w[0]);
	cs.f[1].old = hdr_of(&w[1]);
	cs.f[0].old_size = cs.f[1].old_size = w[0].file_size;
	xvs_cstore_decide(&cs, w, 0);
	cr_assert_eq(cs.attach, 1, "%s", cs.why);
	xvs_cstore_decide(&cs, w, 1);
	cr_assert_eq(cs.attach, 0);
	cr_assert_str_eq(cs.why, "--fresh-conns");
	cs.f[1].old.abi = 9;
	reseal(&cs.f[1].old);
	xvs_cstore_decide(&cs, w, 0);
	cr_assert_eq(cs.attach, 0, "one worker's table that cannot be taken: none is");
	cr_assert_str_eq(cs.why, "worker 1: connection table ABI 9, this binary " XVS_STR(XVS_CONN_ABI));
	cs.f[0].old_size = 0;
	xvs_cstore_decide(&cs, w, 0);
	cr_assert_str_eq(cs.why, "no connection table yet in /dev/hugepages");
}
