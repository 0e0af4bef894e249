/*
 * Unit tests of IPVS's TCP and SCTP state machines (dataplane/dp_tcp.h, dp_sctp.h): whole
 * exchanges as they pass a NAT connection (both directions) and a DR/TUN connection (client
 * side only), with the states and active/inactive accounting ipvsadm shows on Linux.
 */
#include <criterion/criterion.h>

#include "dp_sctp.h"
#include "dp_tcp.h"

#define S XVS_TCP_FLAG_SYN
#define A XVS_TCP_FLAG_ACK
#define F XVS_TCP_FLAG_FIN
#define R XVS_TCP_FLAG_RST

struct seg {
	enum xvs_tcp_dir dir;
	uint8_t flags; /* TCP flags, or an SCTP chunk type */
	uint8_t want;
};

typedef uint8_t (*next_fn)(uint8_t state, uint8_t flags, enum xvs_tcp_dir dir);

/* Feed the packets in order from state NONE (0 for both protocols), checking every step. */
static void run_with(next_fn next, const char *what, const struct seg *s, unsigned n)
{
	uint8_t st = 0;
	for (unsigned i = 0; i < n; i++) {
		uint8_t got = next(st, s[i].flags, s[i].dir);
		cr_assert_eq(got, s[i].want, "%s: packet %u: state %u -> %u, want %u", what, i, st, got,
			     s[i].want);
		st = got;
	}
}

static void run(const char *what, const struct seg *s, unsigned n)
{
	run_with(xvs_tcp_next_state, what, s, n);
}

#define IN  XVS_TCP_DIR_INPUT
#define OUT XVS_TCP_DIR_OUTPUT
#define IO  XVS_TCP_DIR_INPUT_ONLY

/* NAT, the real server closes first (HTTP/1.0): IPVS ends in TIME_WAIT, 120 s. */
Test(tcp_state, nat_server_closes)
{
	const struct seg s[] = {
		{ IN, S, XVS_TCP_SYN_RECV },      { OUT, S | A, XVS_TCP_SYN_RECV },
		{ IN, A, XVS_TCP_ESTABLISHED },   { IN, A, XVS_TCP_ESTABLISHED },
		{ OUT, A, XVS_TCP_ESTABLISHED },  { OUT, F | A, XVS_TCP_FIN_WAIT },
		{ IN, A, XVS_TCP_FIN_WAIT },      { IN, F | A, XVS_TCP_TIME_WAIT },
		{ OUT, A, XVS_TCP_TIME_WAIT },
	};
	run("server closes", s, sizeof(s) / sizeof(s[0]));
}

/* NAT, the client closes first: CLOSE_WAIT, then the server's FIN makes it TIME_WAIT. */
Test(tcp_state, nat_client_closes)
{
	const struct seg s[] = {
		{ IN, S, XVS_TCP_SYN_RECV },    { OUT, S | A, XVS_TCP_SYN_RECV },
		{ IN, A, XVS_TCP_ESTABLISHED }, { IN, F | A, XVS_TCP_CLOSE_WAIT },
		{ OUT, A, XVS_TCP_CLOSE_WAIT }, { OUT, F | A, XVS_TCP_TIME_WAIT },
		{ IN, A, XVS_TCP_TIME_WAIT },
	};
	run("client closes", s, sizeof(s) / sizeof(s[0]));
}

/* DR/TUN: only the client's side; its FIN makes FIN_WAIT, its last ACK keeps it there. */
Test(tcp_state, input_only)
{
	const struct seg s[] = {
		{ IO, S, XVS_TCP_SYN_RECV },    { IO, A, XVS_TCP_ESTABLISHED },
		{ IO, A, XVS_TCP_ESTABLISHED }, { IO, F | A, XVS_TCP_FIN_WAIT },
		{ IO, A, XVS_TCP_FIN_WAIT },
	};
	run("input only", s, sizeof(s) / sizeof(s[0]));
}

/* Resets: from either side they close, except a client RST in SYN_RECV (kept, as IPVS). */
Test(tcp_state, resets)
{
	cr_assert_eq(xvs_tcp_next_state(XVS_TCP_ESTABLISHED, R, IN), XVS_TCP_CLOSE);
	cr_assert_eq(xvs_tcp_next_state(XVS_TCP_ESTABLISHED, R | A, OUT), XVS_TCP_CLOSE);
	cr_assert_eq(xvs_tcp_next_state(XVS_TCP_SYN_RECV, R, IN), XVS_TCP_SYN_RECV);
	cr_assert_eq(xvs_tcp_next_state(XVS_TCP_SYN_RECV, R, OUT), XVS_TCP_CLOSE);
	cr_assert_eq(xvs_tcp_next_state(XVS_TCP_TIME_WAIT, R, OUT), XVS_TCP_TIME_WAIT);
	cr_assert_eq(xvs_tcp_next_state(XVS_TCP_LAST_ACK, R, IN), XVS_TCP_LAST_ACK);
	cr_assert_eq(xvs_tcp_next_state(XVS_TCP_SYN_RECV, R, IO), XVS_TCP_SYN_RECV);
	cr_assert_eq(xvs_tcp_next_state(XVS_TCP_ESTABLISHED, R, IO), XVS_TCP_CLOSE);
	/* RST outranks SYN and FIN in the same segment */
	cr_assert_eq(xvs_tcp_next_state(XVS_TCP_ESTABLISHED, R | S | F, IN), XVS_TCP_CLOSE);
}

/* A segment with none of SYN, FIN, ACK, RST closes the connection; SYN outranks FIN. */
Test(tcp_state, flagless_and_precedence)
{
	cr_assert_eq(xvs_tcp_next_state(XVS_TCP_ESTABLISHED, 0, IN), XVS_TCP_CLOSE);
	cr_assert_eq(xvs_tcp_next_state(XVS_TCP_ESTABLISHED, 0x08 /* PSH */, OUT), XVS_TCP_CLOSE);
	cr_assert_eq(xvs_tcp_next_state(XVS_TCP_ESTABLISHED, S | F, IN), XVS_TCP_ESTABLISHED);
	cr_assert_eq(xvs_tcp_next_state(XVS_TCP_FIN_WAIT, S, IN), XVS_TCP_SYN_RECV);
	/* a new SYN from the client on a closing connection */
	cr_assert_eq(xvs_tcp_next_state(XVS_TCP_TIME_WAIT, S, IN), XVS_TCP_SYN_RECV);
	/* ACK without a prior SYN (sloppy_tcp) */
	cr_assert_eq(xvs_tcp_next_state(XVS_TCP_NONE, A, IN), XVS_TCP_ESTABLISHED);
	cr_assert_eq(xvs_tcp_next_state(XVS_TCP_NONE, A, IO), XVS_TCP_ESTABLISHED);
	cr_assert_eq(xvs_tcp_next_state(XVS_TCP_NONE, A, OUT), XVS_TCP_ESTABLISHED);
	/* out-of-range states are read as NONE */
	cr_assert_eq(xvs_tcp_next_state(200, S, IN), XVS_TCP_SYN_RECV);
}

/* Output-direction SYNs: the server's SYN-ACK leaves SYN_RECV alone; from NONE, SYN_SENT. */
Test(tcp_state, server_syn)
{
	cr_assert_eq(xvs_tcp_next_state(XVS_TCP_SYN_RECV, S | A, OUT), XVS_TCP_SYN_RECV);
	cr_assert_eq(xvs_tcp_next_state(XVS_TCP_NONE, S, OUT), XVS_TCP_SYN_SENT);
	cr_assert_eq(xvs_tcp_next_state(XVS_TCP_SYN_SENT, S | A, IN), XVS_TCP_ESTABLISHED);
	cr_assert_eq(xvs_tcp_next_state(XVS_TCP_LISTEN, A, OUT), XVS_TCP_ESTABLISHED);
}

/* ESTABLISHED and the handshake states count as active (IPVS's activeconns since 5.x). */
Test(tcp_state, active_states)
{
	for (uint8_t s = 0; s < XVS_TCP_STATE_MAX; s++)
		cr_assert_eq(xvs_tcp_state_active(s),
			     s == XVS_TCP_ESTABLISHED || s == XVS_TCP_SYN_SENT || s == XVS_TCP_SYN_RECV ||
				     s == XVS_TCP_SYNACK,
			     "state %u", s);
}

/* ---- SCTP (dataplane/dp_sctp.h) ---- */

static void run_sctp(const char *what, const struct seg *s, unsigned n)
{
	run_with(xvs_sctp_next_state, what, s, n);
}

enum { C_DATA = 0, C_INIT = 1, C_INIT_ACK = 2, C_ABORT = 6, C_SHUTDOWN = 7, C_SHUTDOWN_ACK = 8,
       C_COOKIE_ECHO = 10, C_COOKIE_ACK = 11, C_SHUTDOWN_COMPLETE = 14 };

/* NAT: the client's handshake and a shutdown the client starts, both directions seen. */
Test(sctp_state, nat_association)
{
	const struct seg s[] = {
		{ IN, C_INIT, XVS_SCTP_INIT1 },              { OUT, C_INIT_ACK, XVS_SCTP_COOKIE_SENT },
		{ IN, C_COOKIE_ECHO, XVS_SCTP_COOKIE_REPLIED }, { OUT, C_COOKIE_ACK, XVS_SCTP_ESTABLISHED },
		{ IN, C_DATA, XVS_SCTP_ESTABLISHED },         { OUT, 3 /* SACK */, XVS_SCTP_ESTABLISHED },
		{ IN, C_SHUTDOWN, XVS_SCTP_SHUTDOWN_RECEIVED },
		{ OUT, C_SHUTDOWN_ACK, XVS_SCTP_SHUTDOWN_ACK_SENT },
		{ IN, C_SHUTDOWN_COMPLETE, XVS_SCTP_CLOSED },
	};
	run_sctp("nat", s, sizeof(s) / sizeof(s[0]));
}

/* DR/TUN: only the client's side; its COOKIE ECHO establishes the association. */
Test(sctp_state, input_only)
{
	const struct seg s[] = {
		{ IO, C_INIT, XVS_SCTP_INIT1 }, { IO, C_INIT, XVS_SCTP_INIT },
		{ IO, C_COOKIE_ECHO, XVS_SCTP_ESTABLISHED }, { IO, C_DATA, XVS_SCTP_ESTABLISHED },
		{ IO, C_ABORT, XVS_SCTP_CLOSED },
	};
	run_sctp("input only", s, sizeof(s) / sizeof(s[0]));
}

/* An ABORT answering the INIT rejects it; unknown chunk types count as DATA. */
Test(sctp_state, rejected_and_unknown)
{
	cr_assert_eq(xvs_sctp_next_state(XVS_SCTP_INIT1, C_ABORT, OUT), XVS_SCTP_REJECTED);
	cr_assert_eq(xvs_sctp_next_state(XVS_SCTP_REJECTED, C_INIT, IN), XVS_SCTP_INIT);
	cr_assert_eq(xvs_sctp_next_state(XVS_SCTP_ESTABLISHED, 200, IN), XVS_SCTP_ESTABLISHED);
	cr_assert_eq(xvs_sctp_next_state(99, C_INIT, IN), XVS_SCTP_INIT1, "out of range reads as NONE");
	cr_assert_eq(xvs_sctp_timeout_s[XVS_SCTP_ESTABLISHED], 900);
	cr_assert_eq(xvs_sctp_timeout_s[XVS_SCTP_INIT1], 4);
}
