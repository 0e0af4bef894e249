/* Constants of the real-server decapsulator: wire values that vmlinux.h does not carry. */
#ifndef XVS_DECAP_CONSTS_H
#define XVS_DECAP_CONSTS_H

/* vmlinux.h carries types and enums only; uapi macros are restated here. */
#define XVS_ETH_HLEN 14
#define XVS_ETH_P_IP 0x0800
#define XVS_ETH_P_IPV6 0x86DD

#define XVS_IPPROTO_IPIP 4  /* IPv4 in IP */
#define XVS_IPPROTO_IPV6 41 /* IPv6 in IP */
#define XVS_IPPROTO_UDP 17
#define XVS_IPPROTO_FRAGMENT 44 /* IPv6 fragment header */

#define XVS_IPV4_HLEN_MIN 20
#define XVS_IPV6_HLEN 40
#define XVS_UDP_HLEN 8
#define XVS_IP_MF 0x2000
#define XVS_IP_OFFSET 0x1fff

/*
 * GUE (draft-ietf-intarea-gue): the first two bits of the UDP payload are the variant.
 * Variant 0 is a 4-byte header (C bit, 5-bit Hlen counting 32-bit words of optional
 * fields, 8-bit Proto/ctype, 16 flag bits); variant 1 has no header: the payload is the
 * inner IP packet itself, whose version nibble (4 = 0100, 6 = 0110) starts with 01.
 */
#define XVS_GUE_HLEN 4
#define XVS_GUE_VARIANT_SHIFT 6
#define XVS_GUE_C_BIT 0x20
#define XVS_GUE_HLEN_MASK 0x1f

/*
 * bpf_skb_adjust_room() flags. BPF_F_ADJ_ROOM_DECAP_L3_* (Linux 6.3) set skb->protocol
 * when the inner family differs from the outer one; they are restated so the program
 * builds against any vmlinux.h, and an older kernel refuses them (counted as error).
 */
#define XVS_ADJ_ROOM_FIXED_GSO (1ULL << 0)
#define XVS_ADJ_ROOM_DECAP_L3_IPV4 (1ULL << 7)
#define XVS_ADJ_ROOM_DECAP_L3_IPV6 (1ULL << 8)
#define XVS_CSUM_LEVEL_DEC 2 /* BPF_CSUM_LEVEL_DEC */

#define XVS_TC_ACT_OK 0

/*
 * Longest header chain the parser reads: Ethernet, IPv4 with options, UDP, GUE with
 * the largest Hlen, and an IPv6 inner header. Non-linear skbs are pulled this far.
 */
#define XVS_DECAP_PULL_LEN 256

#endif
