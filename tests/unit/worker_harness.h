/*
 * A real dataplane worker on real mbufs, for unit tests: EAL in ordinary memory (no
 * hugepages, no devices), one mbuf pool, one port p0 with LB_IP/24 and static neighbours, a
 * generation built by control's code (xvs_ctl_build_gen) and accepted by the dataplane's check
 * (xvs_gen_validate), workers whose transmit function frees and counts what they send, and
 * frames from WH_CLIENT built byte by byte. Everything runs on the test's own thread, which is
 * EAL's one lcore; a Criterion suite calls wh_start from its .init (each test is a process).
 */
#ifndef XVS_TEST_WORKER_HARNESS_H
#define XVS_TEST_WORKER_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "ctl_model.h"
#include "dp_worker.h"
#include "xvs/gen.h"

#define WH_CONN_MAX 1024                /* dp.cfg.conn_max, each worker's table */
#define WH_TSC_HZ   1000000000ULL       /* dp.tsc_hz: one tick a nanosecond */

#define WH_LB_IP  "198.18.0.1"          /* p0's address, on 198.18.0.0/24 */
#define WH_VIP    "198.18.0.100"
#define WH_CLIENT "198.18.0.10"

extern const struct rte_ether_addr wh_lb_mac;     /* p0's */
extern const struct rte_ether_addr wh_client_mac;

extern struct xvs_dp wh_dp;
extern struct rte_mempool *wh_pool;
extern unsigned wh_nb_sent; /* frames the workers transmitted, as a NIC's completion frees them */
extern unsigned wh_tx_room; /* how many frames the next transmit call takes; ~0u (all) at start */

/*
 * EAL (its prefix and argv[0] made of name), a pool of pool_size mbufs (xvs_rt.pool), a
 * shared region, and wh_dp with port p0 and its connected route. No neighbours, no workers.
 */
void wh_start(const char *name, unsigned pool_size);

/* A static neighbour on p0: addr (IPv4) at 02:00:00:00:id >> 8:id & 0xff. */
void wh_neigh(const char *addr, uint16_t id);

/* Operations that add the service proto VIP:port (rr) and a real server of it. */
struct xvs_ctl_op wh_svc_op(uint8_t proto, uint16_t port, uint32_t persist);
struct xvs_ctl_op wh_dest_op(uint8_t proto, uint16_t vport, const char *addr, uint16_t port,
			     uint8_t fwd);

/* The generation control builds from ops (generation number 0, not sealed). */
struct xvs_gen *wh_gen_build(const struct xvs_ctl_op *ops, size_t n);
/* Seal g and assert that the dataplane's check accepts it. */
void wh_gen_seal(struct xvs_gen *g);

/* Worker idx of wh_dp, its transmit function the counting one; set wh_dp.nb_workers first. */
struct xvs_worker *wh_worker(unsigned idx);

uint32_t wh_ip4(const char *s);
void *wh_alloc64(size_t size); /* zeroed, 64-byte aligned; never freed (the test's process ends) */

/*
 * Ethernet (wh_client_mac -> wh_lb_mac) and IPv4 from WH_CLIENT to dst with l4len bytes behind,
 * identification id, DF or not, checksum right, into f (14 + 20 bytes). Returns the L4 header.
 */
uint8_t *wh_ip4_frame(uint8_t *f, uint8_t proto, const char *dst, uint16_t l4len, uint16_t id,
		      int df);

/* A TCP segment (no options, no payload) from WH_CLIENT:cport. */
struct wh_tcp {
	const char *dst;
	uint16_t cport, dport;
	uint8_t flags;
	uint32_t seq;
	uint16_t win;
	uint16_t ip_id;
	int df;
};
/* The frame of t into f (54 bytes), checksums right; returns its length. */
size_t wh_tcp_frame(uint8_t *f, const struct wh_tcp *t);

/* len bytes of frame f in an mbuf of the pool, `headroom` bytes in front of them, from port 0. */
struct rte_mbuf *wh_mbuf(const uint8_t *f, size_t len, uint16_t headroom);

/* Every mbuf of the pool is back in it. */
void wh_all_mbufs_back(void);

#endif
