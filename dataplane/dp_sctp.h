/*
 * IPVS's SCTP association tracking (docs/dataplane.md, "SCTP"): the next state of a
 * connection after a packet, by direction and by the packet's first chunk (a COOKIE ECHO or
 * COOKIE ACK bundled with an ABORT counts as the ABORT), as Linux's ip_vs_proto_sctp.c
 * tracks it, with its timeouts. Only ESTABLISHED counts as active. Pure C, no EAL.
 */
#ifndef XVS_DP_SCTP_H
#define XVS_DP_SCTP_H

#include <stdint.h>

#include "dp_tcp.h"

/* States, IPVS's numbering (IP_VS_SCTP_S_*). */
enum xvs_sctp_state {
	XVS_SCTP_NONE, XVS_SCTP_INIT1, XVS_SCTP_INIT, XVS_SCTP_COOKIE_SENT, XVS_SCTP_COOKIE_REPLIED,
	XVS_SCTP_COOKIE_WAIT, XVS_SCTP_COOKIE, XVS_SCTP_COOKIE_ECHOED, XVS_SCTP_ESTABLISHED,
	XVS_SCTP_SHUTDOWN_SENT, XVS_SCTP_SHUTDOWN_RECEIVED, XVS_SCTP_SHUTDOWN_ACK_SENT,
	XVS_SCTP_REJECTED, XVS_SCTP_CLOSED, XVS_SCTP_STATE_MAX
};

enum xvs_sctp_event {
	XVS_SCTP_EV_DATA, XVS_SCTP_EV_INIT, XVS_SCTP_EV_INIT_ACK, XVS_SCTP_EV_COOKIE_ECHO,
	XVS_SCTP_EV_COOKIE_ACK, XVS_SCTP_EV_SHUTDOWN, XVS_SCTP_EV_SHUTDOWN_ACK,
	XVS_SCTP_EV_SHUTDOWN_COMPLETE, XVS_SCTP_EV_ERROR, XVS_SCTP_EV_ABORT, XVS_SCTP_EV_MAX
};

#define XVS_SCTP_CHUNK_INIT 1

/* The event of a chunk type (RFC 9260 numbering); anything else is DATA-like. */
static inline enum xvs_sctp_event xvs_sctp_event_of(uint8_t type)
{
	switch (type) {
	case 1: return XVS_SCTP_EV_INIT;
	case 2: return XVS_SCTP_EV_INIT_ACK;
	case 6: return XVS_SCTP_EV_ABORT;
	case 7: return XVS_SCTP_EV_SHUTDOWN;
	case 8: return XVS_SCTP_EV_SHUTDOWN_ACK;
	case 9: return XVS_SCTP_EV_ERROR;
	case 10: return XVS_SCTP_EV_COOKIE_ECHO;
	case 11: return XVS_SCTP_EV_COOKIE_ACK;
	case 14: return XVS_SCTP_EV_SHUTDOWN_COMPLETE;
	default: return XVS_SCTP_EV_DATA; /* DATA, SACK, HEARTBEAT(-ACK), ECNE, CWR, others */
	}
}

#define NO XVS_SCTP_NONE
#define I1 XVS_SCTP_INIT1
#define IN XVS_SCTP_INIT
#define CS XVS_SCTP_COOKIE_SENT
#define CR XVS_SCTP_COOKIE_REPLIED
#define CW XVS_SCTP_COOKIE_WAIT
#define CO XVS_SCTP_COOKIE
#define CE XVS_SCTP_COOKIE_ECHOED
#define ES XVS_SCTP_ESTABLISHED
#define SS XVS_SCTP_SHUTDOWN_SENT
#define SR XVS_SCTP_SHUTDOWN_RECEIVED
#define SA XVS_SCTP_SHUTDOWN_ACK_SENT
#define RJ XVS_SCTP_REJECTED
#define CL XVS_SCTP_CLOSED
/* next[dir][event][state]; dir as TCP's (input, output, input only) */
static const uint8_t xvs_sctp_next[3][XVS_SCTP_EV_MAX][XVS_SCTP_STATE_MAX] = {
	[XVS_TCP_DIR_INPUT] = {
		/*                                  NO  I1  IN  CS  CR  CW  CO  CE  ES  SS  SR  SA  RJ  CL */
		[XVS_SCTP_EV_DATA] =              { ES, I1, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL },
		[XVS_SCTP_EV_INIT] =              { I1, IN, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, IN, IN },
		[XVS_SCTP_EV_INIT_ACK] =          { CW, CW, CW, CS, CR, CO, CO, CE, ES, SS, SR, SA, RJ, CL },
		[XVS_SCTP_EV_COOKIE_ECHO] =       { CR, IN, IN, CR, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL },
		[XVS_SCTP_EV_COOKIE_ACK] =        { ES, I1, IN, CS, CR, CW, CO, ES, ES, SS, SR, SA, RJ, CL },
		[XVS_SCTP_EV_SHUTDOWN] =          { SR, I1, IN, CS, CR, CW, CO, CE, SR, SS, SR, SA, RJ, CL },
		[XVS_SCTP_EV_SHUTDOWN_ACK] =      { CL, IN, IN, CS, CR, CW, CO, CE, ES, CL, SR, CL, RJ, CL },
		[XVS_SCTP_EV_SHUTDOWN_COMPLETE] = { CL, CL, CL, CS, CR, CW, CO, CE, ES, SS, SR, CL, RJ, CL },
		[XVS_SCTP_EV_ERROR] =             { CL, I1, IN, CS, CR, CW, CO, CL, ES, SS, SR, SA, RJ, CL },
		[XVS_SCTP_EV_ABORT] =             { CL, CL, CL, CL, CL, RJ, CL, CL, CL, CL, CL, CL, CL, CL },
	},
	[XVS_TCP_DIR_OUTPUT] = {
		[XVS_SCTP_EV_DATA] =              { ES, I1, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL },
		[XVS_SCTP_EV_INIT] =              { CW, CW, CW, CW, CW, CW, CW, CW, ES, CW, CW, CW, CW, CW },
		[XVS_SCTP_EV_INIT_ACK] =          { CS, CS, CS, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL },
		[XVS_SCTP_EV_COOKIE_ECHO] =       { CE, CE, CE, CE, CE, CE, CE, CE, ES, SS, SR, SA, RJ, CL },
		[XVS_SCTP_EV_COOKIE_ACK] =        { ES, ES, ES, ES, ES, ES, ES, ES, ES, SS, SR, SA, RJ, CL },
		[XVS_SCTP_EV_SHUTDOWN] =          { SS, SS, SS, SS, SS, SS, SS, SS, SS, SS, SR, SA, RJ, CL },
		[XVS_SCTP_EV_SHUTDOWN_ACK] =      { SA, SA, SA, SA, SA, CW, CO, CE, ES, SA, SA, SA, RJ, CL },
		[XVS_SCTP_EV_SHUTDOWN_COMPLETE] = { CL, I1, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL },
		[XVS_SCTP_EV_ERROR] =             { CL, CL, CL, CL, CL, CW, CO, CE, ES, SS, SR, SA, RJ, CL },
		[XVS_SCTP_EV_ABORT] =             { CL, RJ, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL },
	},
	[XVS_TCP_DIR_INPUT_ONLY] = {
		[XVS_SCTP_EV_DATA] =              { ES, I1, IN, CS, CR, ES, CO, CE, ES, SS, SR, SA, RJ, CL },
		[XVS_SCTP_EV_INIT] =              { I1, IN, IN, IN, IN, IN, CO, CE, ES, SS, SR, SA, IN, IN },
		[XVS_SCTP_EV_INIT_ACK] =          { CE, CE, CE, CE, CE, CE, CO, CE, ES, SS, SR, SA, RJ, CL },
		[XVS_SCTP_EV_COOKIE_ECHO] =       { ES, ES, ES, ES, ES, ES, CO, CE, ES, SS, SR, SA, RJ, CL },
		[XVS_SCTP_EV_COOKIE_ACK] =        { ES, I1, IN, ES, ES, CW, ES, ES, ES, SS, SR, SA, RJ, CL },
		[XVS_SCTP_EV_SHUTDOWN] =          { SR, I1, IN, CS, CR, CW, CO, CE, SR, SS, SR, SA, RJ, CL },
		[XVS_SCTP_EV_SHUTDOWN_ACK] =      { CL, IN, IN, CS, CR, CW, CO, CE, CL, CL, SR, CL, RJ, CL },
		[XVS_SCTP_EV_SHUTDOWN_COMPLETE] = { CL, CL, CL, CL, CL, CW, CO, CE, ES, SS, CL, CL, RJ, CL },
		[XVS_SCTP_EV_ERROR] =             { CL, I1, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL },
		[XVS_SCTP_EV_ABORT] =             { CL, CL, CL, CL, CL, RJ, CL, CL, CL, CL, CL, CL, CL, CL },
	},
};
#undef NO
#undef I1
#undef IN
#undef CS
#undef CR
#undef CW
#undef CO
#undef CE
#undef ES
#undef SS
#undef SR
#undef SA
#undef RJ
#undef CL

/* Seconds in each state (IPVS's defaults: 61 s for the handshake and shutdown states). */
static const uint16_t xvs_sctp_timeout_s[XVS_SCTP_STATE_MAX] = {
	[XVS_SCTP_NONE] = 2, [XVS_SCTP_INIT1] = 4, [XVS_SCTP_INIT] = 61, [XVS_SCTP_COOKIE_SENT] = 61,
	[XVS_SCTP_COOKIE_REPLIED] = 61, [XVS_SCTP_COOKIE_WAIT] = 61, [XVS_SCTP_COOKIE] = 61,
	[XVS_SCTP_COOKIE_ECHOED] = 61, [XVS_SCTP_ESTABLISHED] = 900, [XVS_SCTP_SHUTDOWN_SENT] = 61,
	[XVS_SCTP_SHUTDOWN_RECEIVED] = 61, [XVS_SCTP_SHUTDOWN_ACK_SENT] = 61, [XVS_SCTP_REJECTED] = 4,
	[XVS_SCTP_CLOSED] = 61,
};

static inline uint8_t xvs_sctp_next_state(uint8_t state, uint8_t chunk, enum xvs_tcp_dir dir)
{
	return xvs_sctp_next[dir][xvs_sctp_event_of(chunk)][state < XVS_SCTP_STATE_MAX ? state : 0];
}

#endif
