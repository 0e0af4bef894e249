/*
 * The shared-memory region between xvs-control and xvs-dataplane. Types and the mapping
 * API only; plain C11 atomics so the control side needs no EAL.
 *
 *   +---------------------------+ 0
 *   | struct xvs_shm_hdr        |  magic, ABI, layout, publication words, dataplane status
 *   +---------------------------+ off_lcores
 *   | xvs_shm_lcore[MAX_LCORES] |  per-worker quiescent counters (one cache line each)
 *   +---------------------------+ off_stats
 *   | xvs_lcore_stats[...]      |  per-worker counters (written by that worker only), then
 *   |                           |  the main lcore's (its probes and housekeeping)
 *   +---------------------------+ off_mailboxes
 *   | xvs_shm_mailbox[...]      |  per-worker connection-dump pages (query mailbox)
 *   +---------------------------+ off_slots[0]
 *   | struct xvs_gen  (slot 0)  |  table generations, written by control
 *   +---------------------------+ off_slots[1]
 *   | struct xvs_gen  (slot 1)  |
 *   +---------------------------+ region_size
 *
 * Publication: control writes a complete generation into the slot that does not hold the
 * adopted generation, stores slot_gen[slot] = gen (release), then published = XVS_PUB(gen,
 * slot) (release). The dataplane's main lcore sees the new published word, copies the slot
 * into private memory, re-checks slot_gen[slot] (a torn copy is retried, not refused),
 * validates the copy and hands it to the workers. Each worker stores the generation it now
 * runs in its xvs_shm_lcore.seen_gen; when every worker runs it, the dataplane stores
 * adopted = published. A generation that fails validation is refused: refused_gen = gen,
 * nb_refused++, refuse_reason set, and the workers keep the previous generation.
 * Control publishes one generation at a time and waits for adopted or refused_gen to reach
 * it (or for the dataplane to be absent) before it writes a slot again.
 */
#ifndef XVS_SHM_H
#define XVS_SHM_H

#include <stdatomic.h>
#include <stdint.h>

#include "drop.h"
#include "sync.h"
#include "table.h"

#define XVS_SHM_MAGIC 0x314d485353565801ULL /* "\1XVSSHM1" */
#define XVS_SHM_ABI   10
#define XVS_SHM_DEFAULT_PATH "/dev/shm/xvs"

#ifndef XVS_MAX_LCORES
#define XVS_MAX_LCORES 16
#endif
/* Counter records: one per worker, and one for the main lcore after them. */
#define XVS_SHM_MAIN_STATS XVS_MAX_LCORES
#define XVS_SHM_NB_STATS   (XVS_MAX_LCORES + 1)

/*
 * How a packet reaches the worker that owns its connection (docs/dataplane.md):
 * NONE with one worker; SOFTWARE when a worker that misses hands the packet to the owner
 * chosen by the client's address and port; NIC when the ports' RSS hashes the client's
 * address and port alone, so that both directions arrive at their owner.
 */
#define XVS_STEER_NONE     0
#define XVS_STEER_SOFTWARE 1
#define XVS_STEER_NIC      2

/* published/adopted words: generation in the high bits, slot in bit 0. */
#define XVS_PUB(gen, slot) (((uint64_t)(gen) << 1) | ((slot) & 1))
#define XVS_PUB_GEN(w)     ((w) >> 1)
#define XVS_PUB_SLOT(w)    ((unsigned)((w) & 1))

/* Dataplane heartbeat older than this means no dataplane is attached. */
#define XVS_SHM_HEARTBEAT_STALE_NS 1000000000ULL

struct xvs_shm_hdr {
	uint64_t magic;
	uint32_t abi;
	uint32_t hdr_size;
	uint64_t region_size;
	uint64_t off_lcores;
	uint64_t off_stats;
	uint64_t off_mailboxes;
	uint64_t off_slots[2];
	uint64_t slot_size;
	uint32_t max_lcores;
	uint32_t stats_size; /* sizeof(struct xvs_lcore_stats) */

	/* written by control */
	_Atomic uint64_t published;   /* XVS_PUB(gen, slot), 0 = nothing yet */
	_Atomic uint64_t slot_gen[2]; /* generation held by each slot, 0 while being written */
	_Atomic uint64_t control_pid;

	/* written by the dataplane */
	_Atomic uint64_t adopted;     /* XVS_PUB of the generation every worker runs */
	_Atomic uint64_t refused_gen; /* last refused generation */
	_Atomic uint64_t nb_refused;
	_Atomic uint64_t dp_pid;
	_Atomic uint64_t dp_heartbeat_ns; /* CLOCK_MONOTONIC, updated every few ms */
	_Atomic uint32_t nb_workers;
	_Atomic uint32_t steering;        /* XVS_STEER_* */
	_Atomic uint64_t stalled_workers; /* bit i: worker i has not ticked for XVS_STALL_MS */
	char refuse_reason[128];
};

/* A worker whose tick is older than this is reported in stalled_workers. */
#define XVS_STALL_MS 100

/* Per worker quiescent counter: written by that worker only. */
struct xvs_shm_lcore {
	_Atomic uint64_t seen_gen; /* generation the worker runs now */
	_Atomic uint64_t lcore_id;
	_Atomic uint64_t ticks;    /* bumped by the worker's periodic tick (every ms) */
	_Atomic uint64_t conn_capacity; /* cells of the worker's connection table (0: unknown) */
	uint64_t pad[4];
} __attribute__((aligned(64)));

/* Traffic counters of one service or destination (one worker's share). */
struct xvs_stats_ctr {
	uint64_t conns;
	uint64_t inpkts;
	uint64_t outpkts;
	uint64_t inbytes;
	uint64_t outbytes;
	int64_t active;   /* connections counted active (IPVS rules) */
	int64_t inactive;
	int64_t persist;  /* persistence templates (PersistConn); destinations only */
};

/*
 * Connection synchronisation (docs/dataplane.md, "Connection synchronisation"): a worker's
 * entries to and from the main lcore, and the main lcore's messages (its record only).
 */
struct xvs_sync_stats {
	uint64_t queued;      /* master, worker: entries put on the ring to the main lcore */
	uint64_t ring_full;   /* entries lost to a full ring (a worker's to the main lcore; in
			       * the main lcore's record, its rings to the workers) */
	uint64_t applied;     /* backup, worker: entries that made or refreshed an entry */
	uint64_t no_dest;     /* backup, worker: entries whose service or real server this node
			       * does not have */
	uint64_t no_room;     /* backup, worker: entries the connection table had no room for */
	uint64_t msgs_sent;   /* master, main lcore: messages sent */
	uint64_t conns_sent;  /* and the entries in them */
	uint64_t send_errors; /* messages the socket did not take */
	uint64_t msgs_recv;   /* backup, main lcore: datagrams read */
	uint64_t conns_recv;  /* entries handed to the workers */
	uint64_t refused[XVS_SYNC_E_MAX]; /* messages and entries refused, by reason (sync.h) */
};

/* All counters of one worker: written by that worker only (plain stores), read by control. */
struct xvs_lcore_stats {
	uint64_t rx_pkts;
	uint64_t rx_bytes;
	uint64_t tx_pkts;
	uint64_t tx_bytes;
	uint64_t conns_new;
	uint64_t conns_expired;
	uint64_t conns_cur;
	uint64_t arp_replies;
	uint64_t icmp_echo_replies;
	uint64_t handoff_out;  /* packets handed to the worker that owns their connection */
	uint64_t handoff_in;   /* packets taken from other workers */
	uint64_t conns_evicted; /* embryonic connections evicted for new ones (table low) */
	/* the exception path (main lcore's record only): frames and bytes into the ports'
	 * kernel interfaces, and out of them onto the ports */
	uint64_t exc_to_kernel;
	uint64_t exc_to_kernel_bytes;
	uint64_t exc_from_kernel;
	uint64_t exc_from_kernel_bytes;
	uint64_t neigh_evicted; /* neighbour entries aged out (the probing loop's record) */
	uint64_t conns_midflow; /* connections made for a TCP segment of a flow seen mid-stream */
	struct xvs_sync_stats sync;
	uint64_t drops[XVS_DROP_MAX];
	struct xvs_stats_ctr svc[XVS_MAX_SVCS];
	struct xvs_stats_ctr dest[XVS_MAX_DESTS];
} __attribute__((aligned(64)));

/*
 * Connection dump, one mailbox per worker, so `xvsadm -L -c` never stalls a worker: control
 * asks for the page of the worker's table that starts at req_cursor (store req_cursor, then
 * bump req_seq with release); the worker, in its periodic tick, scans at most
 * XVS_CONN_DUMP_SCAN entries from there, copies the live ones into e[] (at most
 * XVS_CONN_DUMP_MAX), sets nb and next_cursor (>= capacity when the table is done), then
 * stores resp_seq = req_seq (release). Control reads the page once resp_seq matches.
 */
#define XVS_CONN_DUMP_MAX  2048
#define XVS_CONN_DUMP_SCAN 16384

struct xvs_conn_dump_entry {
	uint8_t af;       /* XVS_AF_* */
	uint8_t proto;    /* XVS_PROTO_* */
	uint8_t state;    /* TCP state, IPVS numbering (NONE 0, ESTABLISHED 1, ...); UDP 0 */
	uint8_t fwd;      /* XVS_FWD_* */
	uint16_t dest;    /* destination slot */
	uint16_t svc;     /* service slot (XVS_MAX_SVCS if unknown) */
	uint32_t expire;  /* seconds left */
	uint16_t cport;   /* network order */
	uint16_t vport;
	uint16_t dport;
	uint16_t pad;
	union xvs_ip caddr;
	union xvs_ip vaddr;
	union xvs_ip daddr;
};

struct xvs_shm_mailbox {
	_Atomic uint64_t req_seq;  /* control */
	uint64_t req_cursor;       /* control */
	_Atomic uint64_t resp_seq; /* worker */
	uint64_t next_cursor;      /* worker */
	uint32_t nb;               /* worker: entries in e[] */
	uint32_t capacity;         /* worker: its table's capacity */
	uint64_t pad[2];
	struct xvs_conn_dump_entry e[XVS_CONN_DUMP_MAX];
} __attribute__((aligned(64)));

struct xvs_shm {
	int fd;
	size_t size;
	struct xvs_shm_hdr *hdr;
};

/*
 * Open (creating and initialising if needed) and map the region at path. Both processes call
 * it; an existing region with another magic or ABI is re-initialised only if `reinit` is set,
 * otherwise -EPROTO is returned. The file must belong to the caller's user (-EPERM) and, once
 * it exists, be closed to group and others (-EACCES; a new one is made 0600); a symbolic
 * link is refused (-ELOOP). Returns 0 or a negative errno.
 */
int xvs_shm_open(struct xvs_shm *shm, const char *path, int reinit);
/* Words to add after strerror(-rc) for an error of xvs_shm_open ("" when none). */
const char *xvs_shm_open_hint(int rc);

/*
 * Become the region's only writer (xvs-control): an open-file-description lock on its first
 * byte, held until shm's file is closed. The kernel drops it when the holder's files close,
 * so a crashed writer, zombie or not, never blocks its successor; it does not meet the
 * flock() that xvs_shm_open takes. Returns 0, -EBUSY when another process holds it, or
 * another negative errno.
 */
int xvs_shm_lock_writer(const struct xvs_shm *shm);

void xvs_shm_close(struct xvs_shm *shm);

static inline struct xvs_shm_lcore *xvs_shm_lcore(const struct xvs_shm *shm, unsigned i)
{
	return (struct xvs_shm_lcore *)((char *)shm->hdr + shm->hdr->off_lcores) + i;
}

static inline struct xvs_lcore_stats *xvs_shm_stats(const struct xvs_shm *shm, unsigned i)
{
	return (struct xvs_lcore_stats *)((char *)shm->hdr + shm->hdr->off_stats) + i;
}

static inline struct xvs_shm_mailbox *xvs_shm_mailbox(const struct xvs_shm *shm, unsigned i)
{
	return (struct xvs_shm_mailbox *)((char *)shm->hdr + shm->hdr->off_mailboxes) + i;
}

static inline struct xvs_gen *xvs_shm_slot(const struct xvs_shm *shm, unsigned slot)
{
	return (struct xvs_gen *)((char *)shm->hdr + shm->hdr->off_slots[slot & 1]);
}

/* CLOCK_MONOTONIC in ns. */
uint64_t xvs_now_ns(void);

/* True when a dataplane heartbeat is fresh and its pid is alive. */
int xvs_shm_dataplane_alive(const struct xvs_shm *shm);

#endif
