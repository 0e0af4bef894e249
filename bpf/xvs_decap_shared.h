/* Types and names shared by the decapsulator's BPF program and its loader, xvs-rs-decap. */
#ifndef XVS_DECAP_SHARED_H
#define XVS_DECAP_SHARED_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/* Outer destination addresses the program accepts; the loader fills the map. */
#ifndef XVS_DECAP_MAX_LOCALS
#define XVS_DECAP_MAX_LOCALS 64
#endif

/*
 * Per-CPU packet counters, one X-macro list for the enum and the names `stats` prints.
 * decap_*: decapsulated and passed on; passed: not for us, untouched; malformed: looked
 * like ours but truncated or inconsistent, left for the kernel to drop; fragment: an
 * outer fragment, which cannot be decapsulated piecewise; error: a helper refused.
 */
#define XVS_DECAP_FOREACH_COUNTER(X) \
	X(DECAP_IPIP, "decap_ipip")  \
	X(DECAP_GUE, "decap_gue")    \
	X(PASSED, "passed")          \
	X(MALFORMED, "malformed")    \
	X(FRAGMENT, "fragment")      \
	X(ERROR, "error")

enum xvs_decap_counter {
#define XVS_DECAP_COUNTER_ENUM(name, str) XVS_DECAP_CNT_##name,
	XVS_DECAP_FOREACH_COUNTER(XVS_DECAP_COUNTER_ENUM)
#undef XVS_DECAP_COUNTER_ENUM
	XVS_DECAP_NB_COUNTERS
};

#define XVS_DECAP_FAMILY_V4 4
#define XVS_DECAP_FAMILY_V6 6

/* Key of the local-address map: an IPv4 address sits in addr[0], the rest is zero. */
struct xvs_decap_addr {
	__u32 family; /* XVS_DECAP_FAMILY_* */
	__u32 addr[4]; /* network byte order */
};

/* The single entry of the config map; written by the loader before attach. */
struct xvs_decap_config {
	__u16 gue_port; /* UDP destination port of GUE, network order; 0: GUE off */
	__u16 reserved;
};

#endif
