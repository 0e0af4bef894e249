/*
 * Connection synchronisation between xvs nodes: IPVS's sync messages, version 1, as Linux's
 * ip_vs_sync.c sends and receives them (docs/dataplane.md, "Connection synchronisation"), and
 * the lock-free single-producer, single-consumer rings that carry entries between a worker
 * and the main lcore. Pure C (no EAL): both daemons, the unit tests and the fuzz target use it.
 *
 * A message (all integers big-endian):
 *
 *   offset size  header (8 bytes)
 *     0     1    reserved, 0 (a version-0 reader takes it for nr_conns and drops the message)
 *     1     1    syncid
 *     2     2    size: bytes of the whole message
 *     4     1    nr_conns
 *     5     1    version, 1
 *     6     2    spare, 0
 *   then nr_conns entries, each starting on a 4-byte boundary (zero padding in between):
 *     0     1    type: bit 0 set = IPv6 addresses
 *     1     1    protocol
 *     2     2    version (top 4 bits, 0) and size (low 12 bits: the entry with its options,
 *                without the padding after it)
 *     4     4    flags (IP_VS_CONN_F_*)
 *     8     2    state
 *    10     2    cport
 *    12     2    vport
 *    14     2    dport
 *    16     4    fwmark
 *    20     4    timeout, seconds
 *    24  4|16    caddr, vaddr, daddr (36 bytes in all for IPv4, 72 for IPv6)
 *   options: type (1 byte), length (1 byte), data. Type 1: sequence data (24 bytes: in and out,
 *   each init_seq, delta, previous_delta); 2: persistence-engine data; 3: its name; a type with
 *   bit 6 (0x40) set is optional: a reader that does not know it skips it.
 */
#ifndef XVS_SYNC_H
#define XVS_SYNC_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define XVS_SYNC_GROUP_DEFAULT  0xe0000051u /* 224.0.0.81, host order */
#define XVS_SYNC_PORT_DEFAULT   8848
#define XVS_SYNC_TTL_DEFAULT    1
#define XVS_SYNC_UDP_IP4_HLEN   28          /* IPv4 + UDP headers */
#define XVS_SYNC_UDP_IP6_HLEN   48          /* IPv6 + UDP headers */
/* --sync-maxlen: bytes of a message, as IPVS clamps them (a master: 1 up, a backup: 1024 up) */
#define XVS_SYNC_MAXLEN_MAX     (65535 - XVS_SYNC_UDP_IP4_HLEN)
#define XVS_SYNC_MAXLEN_MIN_BACKUP 1024

#define XVS_SYNC_PROTO_VER 1
#define XVS_SYNC_HDR_LEN   8
#define XVS_SYNC_V4_LEN    36
#define XVS_SYNC_V6_LEN    72
#define XVS_SYNC_SEQ_LEN   24  /* the sequence option's data */
#define XVS_SYNC_TYPE_INET6 0x01
#define XVS_SYNC_VER_SHIFT 12
#define XVS_SYNC_SIZE_MASK 0x0fff

#define XVS_SYNC_OPT_SEQ     1
#define XVS_SYNC_OPT_PE_DATA 2
#define XVS_SYNC_OPT_PE_NAME 3
#define XVS_SYNC_OPT_F_PARAM 0x40 /* optional: skipped when unknown */

/* IPVS's connection flags (IP_VS_CONN_F_*) as the messages carry them. */
#define XVS_SYNC_F_FWD_MASK 0x0007
#define XVS_SYNC_F_SYNC     0x0020
#define XVS_SYNC_F_HASHED   0x0040
#define XVS_SYNC_F_NOOUTPUT 0x0080
#define XVS_SYNC_F_INACTIVE 0x0100
#define XVS_SYNC_F_OUT_SEQ  0x0200
#define XVS_SYNC_F_IN_SEQ   0x0400
#define XVS_SYNC_F_SEQ_MASK 0x0600
#define XVS_SYNC_F_NO_CPORT 0x0800
#define XVS_SYNC_F_TEMPLATE 0x1000
/* What a backup takes of the flags it receives (IP_VS_CONN_F_BACKUP_MASK). */
#define XVS_SYNC_F_BACKUP_MASK                                                                  \
	(XVS_SYNC_F_FWD_MASK | XVS_SYNC_F_NOOUTPUT | XVS_SYNC_F_INACTIVE | XVS_SYNC_F_SEQ_MASK | \
	 XVS_SYNC_F_NO_CPORT | XVS_SYNC_F_TEMPLATE)

/* State counts per protocol (IP_VS_*_S_LAST) and the template states (IP_VS_CTPL_S_LAST). */
#define XVS_SYNC_TCP_STATES  11
#define XVS_SYNC_UDP_STATES  1
#define XVS_SYNC_SCTP_STATES 14
#define XVS_SYNC_TPL_STATES  3

/* IPVS's sysctl defaults for when a master sends: sync_threshold, sync_period. */
#define XVS_SYNC_THRESHOLD 3
#define XVS_SYNC_PERIOD    50

/*
 * One synchronised connection or template, as a master sends it and a backup applies it:
 * ports and addresses in network order, the rest in host order. Also the record of the
 * worker <-> main lcore rings.
 */
struct xvs_sync_conn {
	uint8_t af;        /* XVS_AF_INET or XVS_AF_INET6: the addresses' family */
	uint8_t proto;     /* IPPROTO_TCP, _UDP, _SCTP; a fwmark service's template: 0 */
	uint16_t state;    /* IPVS numbering; a template: 0 */
	uint32_t flags;    /* XVS_SYNC_F_* */
	uint16_t cport;
	uint16_t vport;
	uint16_t dport;
	uint16_t pad;
	uint32_t fwmark;
	uint32_t timeout;  /* seconds */
	union xvs_ip caddr;
	union xvs_ip vaddr;
	union xvs_ip daddr;
};

/* The sequence option: in and out, each init_seq, delta, previous_delta (host order). */
struct xvs_sync_seq {
	uint32_t in[3];
	uint32_t out[3];
};

/* ---- building messages (a master) ---------------------------------------------------- */

struct xvs_sync_builder {
	uint8_t *buf;
	size_t cap;     /* the message size limit (sync-maxlen), at most 65535 */
	size_t len;     /* bytes so far (the header included) */
	size_t pad;     /* zero bytes owed before the next entry */
	uint8_t syncid;
};

/*
 * Whether name can be a network interface's (Linux's dev_valid_name): 1 to 15 bytes, not "."
 * or "..", no '/', ':' or white space.
 */
int xvs_sync_ifname_ok(const char *name);

/* Bytes an entry takes (without padding); seq: with the sequence option. */
size_t xvs_sync_entry_len(const struct xvs_sync_conn *c, int seq);

/* Start an empty message in buf (cap bytes, cap >= XVS_SYNC_HDR_LEN). */
void xvs_sync_build_init(struct xvs_sync_builder *b, void *buf, size_t cap, uint8_t syncid);

/*
 * Append c (and the sequence option when seq is not NULL). Returns 0, or -ENOSPC when it
 * does not fit or the message has 255 entries already (send the message, start another),
 * or -EINVAL for an entry no message can carry (a family other than IPv4 or IPv6).
 */
int xvs_sync_build_add(struct xvs_sync_builder *b, const struct xvs_sync_conn *c,
		       const struct xvs_sync_seq *seq);

/* Entries in the message so far. */
static inline unsigned xvs_sync_build_count(const struct xvs_sync_builder *b)
{
	return b->buf[4];
}

/* ---- reading messages (a backup) ------------------------------------------------------ */

/* Why a message or an entry was refused: the counters' names (xvs_sync_err_name). */
enum xvs_sync_err {
	XVS_SYNC_OK = 0,
	/* the whole message (or its rest) is dropped */
	XVS_SYNC_E_SHORT,       /* shorter than a header */
	XVS_SYNC_E_SIZE,        /* its size field is not the datagram's length */
	XVS_SYNC_E_SYNCID,      /* another syncid than the backup's (when that is not 0) */
	XVS_SYNC_E_VERSION,     /* not version 1 (reserved or spare not 0: version 0) */
	XVS_SYNC_E_COUNT,       /* no entries, or bytes left over after nr_conns entries */
	XVS_SYNC_E_TRUNCATED,   /* an entry runs past the message, or is shorter than its type */
	XVS_SYNC_E_ENTRY_VER,   /* an entry of another version than 0 */
	XVS_SYNC_E_TYPE,        /* an entry type other than IPv4 or IPv6 */
	XVS_SYNC_E_OPTION,      /* an option runs past its entry, has length 0, or repeats */
	/* one entry is skipped, the rest of the message is read */
	XVS_SYNC_E_PARAM,       /* an unknown option that is not optional */
	XVS_SYNC_E_PROTO,       /* a connection of an unknown protocol */
	XVS_SYNC_E_STATE,       /* a state beyond its protocol's */
	XVS_SYNC_E_PE,          /* persistence-engine data (xvs has no engines) */
	XVS_SYNC_E_MAX
};

/* "short", "size", ...: the counter's name of a reason. */
const char *xvs_sync_err_name(enum xvs_sync_err e);

/* Whether a reason drops the rest of the message (else only the entry). */
static inline int xvs_sync_err_fatal(enum xvs_sync_err e)
{
	return e != XVS_SYNC_OK && e < XVS_SYNC_E_PARAM;
}

struct xvs_sync_reader {
	const uint8_t *buf;
	size_t len;
	size_t off;      /* where the next entry starts (before its padding) */
	unsigned left;   /* entries not read yet */
};

/*
 * Check a datagram's header: its length, size, syncid (want 0 takes any) and version.
 * Returns 0 (then read the entries with xvs_sync_read_next) or the reason it is refused.
 */
enum xvs_sync_err xvs_sync_read_init(struct xvs_sync_reader *r, const void *buf, size_t len,
				     uint8_t want_syncid);

/*
 * The next entry into *c (and *seq, *has_seq when it has the sequence option). Returns 1 with
 * *why XVS_SYNC_OK for an entry to apply, 1 with another *why for an entry to skip (counted),
 * 0 at the end of a message that was sound throughout, or -1 with *why when the rest of the
 * message is refused (the entries read before it stand, as in IPVS).
 */
int xvs_sync_read_next(struct xvs_sync_reader *r, struct xvs_sync_conn *c, struct xvs_sync_seq *seq,
		       int *has_seq, enum xvs_sync_err *why);

/* ---- single-producer, single-consumer rings of entries ------------------------------- */

struct xvs_sync_ring {
	_Atomic uint32_t head; /* producer: next write */
	uint32_t pad0[15];
	_Atomic uint32_t tail; /* consumer: next read */
	uint32_t pad1[15];
	uint32_t mask;         /* entries - 1, a power of two */
	uint32_t pad2[15];
	struct xvs_sync_conn e[];
};

static inline size_t xvs_sync_ring_memsize(uint32_t entries)
{
	return sizeof(struct xvs_sync_ring) + (size_t)entries * sizeof(struct xvs_sync_conn);
}

/* Lay a ring of `entries` (a power of two) out in zeroed memory. */
static inline void xvs_sync_ring_init(struct xvs_sync_ring *r, uint32_t entries)
{
	atomic_store_explicit(&r->head, 0, memory_order_relaxed);
	atomic_store_explicit(&r->tail, 0, memory_order_relaxed);
	r->mask = entries - 1;
}

/* Producer: 0, or -1 when the ring is full (nothing waits, nothing is written). */
static inline int xvs_sync_ring_put(struct xvs_sync_ring *r, const struct xvs_sync_conn *c)
{
	uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint32_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
	if (h - t > r->mask)
		return -1;
	r->e[h & r->mask] = *c;
	atomic_store_explicit(&r->head, h + 1, memory_order_release);
	return 0;
}

/* Consumer: 1 with *c, or 0 when empty. */
static inline int xvs_sync_ring_get(struct xvs_sync_ring *r, struct xvs_sync_conn *c)
{
	uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);
	if (t == h)
		return 0;
	*c = r->e[t & r->mask];
	atomic_store_explicit(&r->tail, t + 1, memory_order_release);
	return 1;
}

#endif
