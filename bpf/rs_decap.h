/* Loader of the real-server decapsulator: attach it to an interface, detach it, read it back. */
#ifndef XVS_RS_DECAP_H
#define XVS_RS_DECAP_H

#include <stdbool.h>
#include <stdint.h>

#include "xvs_decap_shared.h"

/* Where maps, program and XDP link are pinned: <pin dir>/<interface>/. */
#define XVS_RS_DECAP_PIN_DIR "/run/xvs/bpf"

/* Our tc filter's identity on clsact ingress, so detach removes only ours. */
#define XVS_RS_DECAP_TC_HANDLE 0x7876
#define XVS_RS_DECAP_TC_PRIO 0x10

struct xvs_rs_decap_conf {
	const char *pin_dir;
	const char *ifname;
	struct xvs_decap_addr locals[XVS_DECAP_MAX_LOCALS];
	unsigned int nb_locals;
	uint16_t gue_port; /* host order; 0: GUE off */
	bool xdp;          /* XDP instead of tc ingress */
};

/* What `stats` shows: the counters summed over CPUs and the configuration in the maps. */
struct xvs_rs_decap_state {
	uint64_t counters[XVS_DECAP_NB_COUNTERS];
	struct xvs_decap_addr locals[XVS_DECAP_MAX_LOCALS];
	unsigned int nb_locals;
	uint16_t gue_port;
	bool xdp;
};

extern const char *const xvs_rs_decap_counter_names[XVS_DECAP_NB_COUNTERS];

/* Parse an IPv4 or IPv6 address into a map key; 0 or -EINVAL. */
int xvs_rs_decap_parse_addr(const char *s, struct xvs_decap_addr *a);

/* Format a map key into buf (INET6_ADDRSTRLEN bytes at least); returns buf. */
const char *xvs_rs_decap_format_addr(const struct xvs_decap_addr *a, char *buf, size_t len);

/*
 * Load the program, fill and pin its maps, attach it. -EEXIST when already attached,
 * -ENODEV for an unknown interface, -EXDEV when the pin directory would be a bpffs
 * mounted only in this process's private mount namespace.
 */
int xvs_rs_decap_attach(const struct xvs_rs_decap_conf *conf);

/* Detach and remove the pins; -ENOENT when nothing is pinned for the interface. */
int xvs_rs_decap_detach(const char *pin_dir, const char *ifname);

/* Read counters and configuration from the pins; -ENOENT when not attached. */
int xvs_rs_decap_show(const char *pin_dir, const char *ifname, struct xvs_rs_decap_state *st);

#endif
