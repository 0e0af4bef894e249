/*
 * Connection tables that outlive the dataplane process (docs/dataplane.md, "Restarting without
 * losing connections"). Each worker's table lives in a file of its own, mapped shared:
 * `<dir>/xvs-<file_prefix>-conns-<worker>`, on hugetlbfs (the configured huge_dir) or in
 * /dev/shm. A page-sized header in front of the table says which layout it has (magic, the
 * table ABI, cells, buckets, workers), what else a connection needs to go on (the owner
 * steering secret and RSS key, the bucket-hash secret, the worker clock's origin on
 * CLOCK_MONOTONIC, the boot) and whether its last owner stopped cleanly.
 *
 * A new process attaches to the files when every header passes xvs_cstore_check against its
 * own configuration, and then rebuilds each table's index from the cells (xvs_conn_table_
 * rebuild) and drops the entries that the first table generation it adopts does not explain
 * (xvs_cstore_reconcile). Otherwise every table starts empty, and the reason is logged.
 *
 * The header check is pure C (unit tested); the rest runs on the main lcore at start-up and
 * at exit, never while the workers run.
 */
#ifndef XVS_DP_CONNSTORE_H
#define XVS_DP_CONNSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "dp.h"

/*
 * The table ABI: bump it with any change to struct xvs_conn, struct xvs_conn_ext, the bucket
 * layout or hash, the flag or protocol encodings, the worker clock, or struct xvs_cstore_hdr.
 * A table of another ABI is never attached (docs/dataplane.md, "Table ABI").
 */
#define XVS_CONN_ABI 2

#define XVS_CSTORE_MAGIC    0x534e4e4f43535658ULL /* "XVSCONNS" */
#define XVS_CSTORE_HDR_SIZE 4096                  /* the table starts here */

/* Seconds a restored table waits for a table generation to be checked against. */
#ifndef XVS_CSTORE_GEN_WAIT_S
#define XVS_CSTORE_GEN_WAIT_S 5
#endif

/* The start of a table file. Written by the main lcore only (start-up, exit). */
struct xvs_cstore_hdr {
	uint64_t magic;
	uint32_t abi;
	uint32_t hdr_size;
	uint64_t file_size;
	uint32_t capacity;    /* cells (conn_max) */
	uint32_t nb_buckets;
	uint32_t cell_size;
	uint32_t bucket_size;
	uint32_t worker;      /* whose table this is */
	uint32_t nb_workers;
	uint32_t steering;    /* XVS_STEER_* */
	uint32_t reta_size;   /* steering nic: entries of the redirection table */
	uint64_t steer_key[2];
	uint8_t rss_key[XVS_RSS_KEY_MAX];
	uint64_t table_key[4];
	uint64_t clock_base_ns; /* CLOCK_MONOTONIC when the worker clock read 0 */
	char boot_id[40];       /* /proc/sys/kernel/random/boot_id */
	uint64_t runs;          /* processes that have owned the table */
	uint32_t clean;         /* 1: the last owner stopped cleanly (0 while one runs) */
	uint32_t crc;           /* CRC32-C of the header up to here */
};

/* What this process would write: the header an attached table must agree with. */
struct xvs_cstore_want {
	uint32_t capacity;
	uint32_t worker;
	uint32_t nb_workers;
	uint32_t steering;
	uint32_t reta_size;
	int steer_key_set;      /* steering_seed given: the secret must be the seed's */
	uint64_t steer_key[2];
	char boot_id[40];
	uint64_t now_ns;        /* CLOCK_MONOTONIC now */
	uint64_t file_size;
};

/* Bytes of a table file for `capacity` cells, rounded up to page_size. */
uint64_t xvs_cstore_file_size(uint32_t capacity, uint64_t page_size);

/* The header's checksum. */
uint32_t xvs_cstore_crc(const struct xvs_cstore_hdr *h);

/* A new header for want's table (keys, clock and clean flag left zero; crc not set). */
void xvs_cstore_hdr_init(struct xvs_cstore_hdr *h, const struct xvs_cstore_want *want);

/*
 * May this process attach the table that header h (as read from a file of file_size bytes)
 * describes? 0: yes. -1: no, and why says so in a phrase the caller completes with
 * ": starting empty" ("connection table ABI 3, this binary 4").
 */
int xvs_cstore_check(const struct xvs_cstore_hdr *h, uint64_t file_size,
		     const struct xvs_cstore_want *want, char *why, size_t len);

/* Do the headers of all workers agree on what they share (the steering secrets)? -1: why. */
int xvs_cstore_check_set(const struct xvs_cstore_hdr *const *h, unsigned nb, char *why, size_t len);

/* ---- the files (main lcore) ------------------------------------------------------------ */

struct xvs_cstore_file {
	int fd;
	void *map;
	uint64_t len;
	struct xvs_cstore_hdr old; /* the header found (zeroed when none could be read) */
	uint64_t old_size;         /* the file's size when opened */
	int attached;              /* its table was taken over */
};

struct xvs_cstore {
	int enabled;             /* conn_persist = yes */
	int huge;                /* dir is hugetlbfs */
	char dir[256];
	char prefix[64];
	unsigned nb;             /* workers */
	uint64_t page_size;
	int attach;              /* decision: take over every table */
	char why[512];           /* when not: the reason */
	struct xvs_cstore_file f[XVS_MAX_LCORES];
};

/*
 * Where the tables go: cfg->conn_dir when set, else huge_dir when it is a hugetlbfs mount,
 * else /dev/shm. Sets cs->dir, cs->huge, cs->page_size; -errno with err set.
 */
int xvs_cstore_pick_dir(struct xvs_cstore *cs, const struct xvs_dp_config *cfg, char *err,
			size_t errlen);

/*
 * Open (create) and lock the files of nb workers, read their headers, remove the files of
 * workers beyond nb. -errno with err set (a file in use by another process, no access).
 */
int xvs_cstore_open(struct xvs_cstore *cs, unsigned nb, char *err, size_t errlen);

/* Decide: attach when every header passes want[i] and they agree; else cs->why. */
void xvs_cstore_decide(struct xvs_cstore *cs, const struct xvs_cstore_want *want, int fresh);

/*
 * Map worker i's file (size bytes): as it is when attaching, else emptied, preferring NUMA
 * node `node` (-1: any) for its pages and touching them. Returns the table's memory (after
 * the header) or NULL (errno).
 */
void *xvs_cstore_map(struct xvs_cstore *cs, unsigned i, uint64_t size, int node);

/* Write worker i's header for its table t and worker clock origin; clean says how it ends. */
void xvs_cstore_write_hdr(struct xvs_cstore *cs, unsigned i, const struct xvs_cstore_want *want,
			  const struct xvs_steer *steer, const struct xvs_conn_table *t,
			  uint64_t clock_base_ns, int clean);

/* Unmap and close every file (nothing is deleted). */
void xvs_cstore_close(struct xvs_cstore *cs);

/* Remove every table file of prefix in dir (conn_persist = no). Returns how many. */
unsigned xvs_cstore_remove_all(const char *dir, const char *prefix);

/* ---- the tables (main lcore, before the workers run) ----------------------------------- */

/*
 * Take over worker w's table from cs's file i (mapped at mem): rebuild its index, strictly
 * when its last owner stopped cleanly, and restore the worker clock. 0, or -EBADMSG with
 * why set (the caller then starts this table empty).
 */
int xvs_cstore_attach(struct xvs_cstore *cs, unsigned i, struct xvs_worker *w, void *mem,
		      struct xvs_conn_rebuild *r, char *why, size_t len);

/*
 * Drop the entries of w's restored table that generation g does not explain: a destination
 * slot that is free or names another server, a service that is not the entry's virtual
 * address. A table whose owner did not stop cleanly loses its template counts (they may be
 * off by one): templates then live out their own timeout. Then count w's connections and
 * templates per destination into its statistics. Returns the entries dropped.
 */
uint32_t xvs_cstore_reconcile(struct xvs_worker *w, const struct xvs_gen *g, int clean);

/* CLOCK_MONOTONIC at which worker w's clock read 0. */
uint64_t xvs_cstore_clock_base(const struct xvs_worker *w, uint64_t now_ns, uint64_t now_tsc);

/* This boot's id, or "" when the kernel does not say. */
void xvs_cstore_boot_id(char *id, size_t len);

#endif
