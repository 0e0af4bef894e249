/*
 * Steering by the NIC (docs/dataplane.md, "Several workers"): the choice between the NIC's
 * RSS on the client's fields and the software hand-off, made once at start from what each
 * port can hash on and which side it faces. Pure C over described ports (unit tested on
 * made-up devices); dp_port.c reads the real devices and programs them.
 */
#ifndef XVS_DP_RSS_H
#define XVS_DP_RSS_H

#include <stddef.h>
#include <stdint.h>

#include "dp_steer.h"

/* [dataplane] steering */
enum xvs_steering_cfg {
	XVS_STEERING_AUTO = 0, /* the NIC where every port can, else software */
	XVS_STEERING_SOFTWARE, /* always the hand-off */
	XVS_STEERING_NIC,      /* the NIC, or refuse to start */
};

/* [port] faces: where a port's traffic comes from. */
enum xvs_faces {
	XVS_FACES_UNSET = 0,
	XVS_FACES_CLIENTS, /* clients' packets in, replies out: hash on the source */
	XVS_FACES_SERVERS, /* real servers' replies in: hash on the destination */
	XVS_FACES_BOTH,    /* one-armed */
};

/* What the planner knows of a port. */
struct xvs_rss_port {
	const char *name;
	uint64_t offloads;  /* dev_info.flow_type_rss_offloads (RTE_ETH_RSS_*) */
	uint16_t reta_size; /* dev_info.reta_size */
	uint8_t key_size;   /* dev_info.hash_key_size */
	uint8_t faces;      /* enum xvs_faces */
};

/*
 * Can the NIC steer? Returns 1 (yes), 0 (software: msg says why) or -EINVAL when mode is
 * XVS_STEERING_NIC and it cannot (msg says why). One worker never needs steering (0, "").
 * The NIC steers when every port faces one side, can hash TCP and UDP over IPv4 and IPv6 on
 * the source fields alone (clients) or the destination fields alone (servers), and all ports
 * have the same redirection table size (at most XVS_RSS_RETA_MAX) and a key long enough.
 */
int xvs_rss_plan(const struct xvs_rss_port *ports, unsigned nb_ports, unsigned nb_workers,
		 enum xvs_steering_cfg mode, char *msg, size_t msglen);

/* The rss_hf to program on a port facing `faces` (steering by the NIC). */
uint64_t xvs_rss_hf(uint8_t faces);

/*
 * Steering by the NIC: the model of what the ports will do. key: XVS_RSS_KEY_MAX random
 * bytes (each port takes its hash_key_size first bytes). Entry i of the redirection table
 * is queue i % nb_workers; worker q reads queue q on every port.
 */
void xvs_rss_model_init(struct xvs_steer *s, const uint8_t *key, unsigned reta_size,
			unsigned nb_workers);

#endif
