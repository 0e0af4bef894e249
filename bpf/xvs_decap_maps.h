/* Maps of the real-server decapsulator; the loader pins them per interface. */
#ifndef XVS_DECAP_MAPS_H
#define XVS_DECAP_MAPS_H

#include "xvs_decap_shared.h"

/* Loader writes, program reads: outer destinations that are this host's. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XVS_DECAP_MAX_LOCALS);
	__type(key, struct xvs_decap_addr);
	__type(value, __u8);
} decap_locals SEC(".maps");

/* Loader writes, program reads: one struct xvs_decap_config. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xvs_decap_config);
} decap_config SEC(".maps");

/* Program writes (per CPU, no atomics), `xvs-rs-decap stats` sums. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XVS_DECAP_NB_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} decap_stats SEC(".maps");

#endif
