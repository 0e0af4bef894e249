/*
 * IPVS's TCP state machine (docs/dataplane.md, "TCP states"): the next state of a connection
 * after a segment, by direction and by the segment's most significant flag, as the Linux
 * kernel's ip_vs_proto_tcp.c tracks it (5.x and later: its default table, not the secure_tcp
 * one; an ACK with no state yet, as sloppy_tcp lets through, counts as ESTABLISHED).
 *
 * Three directions: a client segment of a NAT connection (input), a real server's segment
 * through xvs (output), and a client segment of a connection whose replies never come back
 * through xvs (DR and TUN: input only). The event is RST if set, else SYN, else FIN, else
 * ACK; a segment with none of these moves the connection to CLOSE. Pure C, no EAL.
 */
#ifndef XVS_DP_TCP_H
#define XVS_DP_TCP_H

#include <stdint.h>

#include "dp_conn.h"

enum xvs_tcp_dir { XVS_TCP_DIR_INPUT, XVS_TCP_DIR_OUTPUT, XVS_TCP_DIR_INPUT_ONLY };

enum xvs_tcp_event { XVS_TCP_EV_SYN, XVS_TCP_EV_FIN, XVS_TCP_EV_ACK, XVS_TCP_EV_RST, XVS_TCP_EV_MAX };

#define XVS_TCP_FLAG_FIN 0x01
#define XVS_TCP_FLAG_SYN 0x02
#define XVS_TCP_FLAG_RST 0x04
#define XVS_TCP_FLAG_ACK 0x10

/* next[dir][event][state], states in enum xvs_tcp_state order (NONE .. SYNACK) */
#define NO XVS_TCP_NONE
#define ES XVS_TCP_ESTABLISHED
#define SS XVS_TCP_SYN_SENT
#define SR XVS_TCP_SYN_RECV
#define FW XVS_TCP_FIN_WAIT
#define TW XVS_TCP_TIME_WAIT
#define CL XVS_TCP_CLOSE
#define CW XVS_TCP_CLOSE_WAIT
#define LA XVS_TCP_LAST_ACK
#define LI XVS_TCP_LISTEN
#define SA XVS_TCP_SYNACK
static const uint8_t xvs_tcp_next[3][XVS_TCP_EV_MAX][XVS_TCP_STATE_MAX] = {
	[XVS_TCP_DIR_INPUT] = {
		/*                   NO  ES  SS  SR  FW  TW  CL  CW  LA  LI  SA */
		[XVS_TCP_EV_SYN] = { SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR },
		[XVS_TCP_EV_FIN] = { CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, TW },
		[XVS_TCP_EV_ACK] = { ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES },
		[XVS_TCP_EV_RST] = { CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, SR },
	},
	[XVS_TCP_DIR_OUTPUT] = {
		[XVS_TCP_EV_SYN] = { SS, ES, SS, SR, SS, SS, SS, SS, SS, LI, SR },
		[XVS_TCP_EV_FIN] = { TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW },
		[XVS_TCP_EV_ACK] = { ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES },
		[XVS_TCP_EV_RST] = { CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL },
	},
	[XVS_TCP_DIR_INPUT_ONLY] = {
		[XVS_TCP_EV_SYN] = { SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR },
		[XVS_TCP_EV_FIN] = { CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW },
		[XVS_TCP_EV_ACK] = { ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES },
		[XVS_TCP_EV_RST] = { CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL },
	},
};
#undef NO
#undef ES
#undef SS
#undef SR
#undef FW
#undef TW
#undef CL
#undef CW
#undef LA
#undef LI
#undef SA

/* The state after a segment with TCP flags `flags` (the header's byte 13) in direction dir. */
static inline uint8_t xvs_tcp_next_state(uint8_t state, uint8_t flags, enum xvs_tcp_dir dir)
{
	enum xvs_tcp_event ev;
	if (flags & XVS_TCP_FLAG_RST)
		ev = XVS_TCP_EV_RST;
	else if (flags & XVS_TCP_FLAG_SYN)
		ev = XVS_TCP_EV_SYN;
	else if (flags & XVS_TCP_FLAG_FIN)
		ev = XVS_TCP_EV_FIN;
	else if (flags & XVS_TCP_FLAG_ACK)
		ev = XVS_TCP_EV_ACK;
	else
		return XVS_TCP_CLOSE;
	return xvs_tcp_next[dir][ev][state < XVS_TCP_STATE_MAX ? state : XVS_TCP_NONE];
}

/* IPVS counts a TCP connection active in ESTABLISHED, SYN_SENT, SYN_RECV and SYNACK. */
static inline int xvs_tcp_state_active(uint8_t state)
{
	return state == XVS_TCP_ESTABLISHED || state == XVS_TCP_SYN_SENT ||
	       state == XVS_TCP_SYN_RECV || state == XVS_TCP_SYNACK;
}

#endif
