/* Drop and exception reasons of the packet path, as one list that yields the enum and the names. */
#ifndef XVS_DROP_H
#define XVS_DROP_H

/* X(enum suffix, name shown in stats and the CLI) */
#define XVS_FOREACH_DROP(X)                                                   \
	X(RUNT, "runt")                     /* frame shorter than Ethernet */    \
	X(L2_NOT_OURS, "l2-not-ours")       /* unicast to another MAC */         \
	X(L2_UNSUPPORTED, "l2-unsupported") /* ethertype we do not handle */     \
	X(ARP_MALFORMED, "arp-malformed")                                        \
	X(ARP_NOT_OURS, "arp-not-ours")     /* ARP for an address not owned */   \
	X(IP_TRUNCATED, "ip-truncated")                                          \
	X(IP_BAD_VERSION, "ip-bad-version")                                      \
	X(IP_BAD_IHL, "ip-bad-ihl")                                              \
	X(IP_BAD_LEN, "ip-bad-len")                                              \
	X(IP_BAD_CSUM, "ip-bad-csum")                                            \
	X(IP_OPTIONS, "ip-options")                                              \
	X(IP_FRAGMENT, "ip-fragment")                                            \
	X(IP_BAD_ADDR, "ip-bad-addr")       /* martian source/destination */     \
	X(IP6_BAD_EXT, "ip6-bad-ext")       /* hostile or truncated ext. headers */ \
	X(ND_MALFORMED, "nd-malformed")     /* bad hop limit, length or options */ \
	X(L4_TRUNCATED, "l4-truncated")                                          \
	X(L4_UNSUPPORTED, "l4-unsupported") /* protocol not served */            \
	X(UDP6_NO_CSUM, "udp6-no-csum")     /* UDP over IPv6 without checksum */ \
	X(ICMP_UNSUPPORTED, "icmp-unsupported")                                  \
	X(NO_VIP, "no-vip")                 /* no service, no connection */      \
	X(NOT_SYN, "tcp-not-syn")           /* no connection, not a SYN */       \
	X(SCTP_NOT_INIT, "sctp-not-init")   /* no association, not an INIT */    \
	X(NO_DEST, "no-dest")               /* scheduler found no server */      \
	X(CONN_FULL, "conn-table-full")                                          \
	X(DEST_GONE, "dest-removed")        /* server deleted, conn kept */      \
	X(FWD_UNSUPPORTED, "fwd-unsupported")                                    \
	X(NO_ROUTE, "no-route")                                                  \
	X(NEIGH_UNRESOLVED, "neigh-unresolved")                                  \
	X(NEIGH_FULL, "neigh-table-full")                                        \
	X(TOO_BIG, "too-big")               /* over the MTU after encapsulation */ \
	X(NO_HEADROOM, "no-headroom")       /* no room in the mbuf for outer headers */ \
	X(ICMP_QUOTE_BAD, "icmp-quote-bad") /* ICMP error quoting a malformed packet */ \
	X(ICMP_BAD_CSUM, "icmp-bad-csum")   /* ICMP error with a wrong checksum */ \
	X(ICMP_QUOTE_NO_CONN, "icmp-quote-no-conn") /* ... quoting no connection */ \
	X(HANDOFF_FULL, "handoff-full")     /* ring to the owning worker full */ \
	X(TX_FULL, "tx-full")                                                    \
	X(EXC_FULL, "exception-full")       /* exception path: a ring was full */ \
	X(EXC_RATE, "exception-rate")       /* over the port's exception_rate */ \
	X(EXC_KERNEL, "exception-kernel")   /* kernel interface did not take it */ \
	X(MARTIAN_SRC, "martian-src")       /* source ours (port, VIP) or a subnet broadcast */ \
	X(UDP_BAD_LEN, "udp-bad-len")       /* UDP length short of the IP payload */ \
	X(L4_BAD_CSUM, "l4-bad-csum")       /* the NIC found a bad TCP/UDP/SCTP checksum */ \
	X(TTL_EXCEEDED, "ttl-exceeded")     /* TTL or hop limit would reach 0 here */

enum xvs_drop {
#define XVS_DROP_ENUM(e, n) XVS_DROP_##e,
	XVS_FOREACH_DROP(XVS_DROP_ENUM)
#undef XVS_DROP_ENUM
	XVS_DROP_MAX
};

extern const char *const xvs_drop_names[XVS_DROP_MAX];

#endif
