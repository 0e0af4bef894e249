#!/bin/bash
# Connection thresholds (-x/-y) as IPVS enforces them: a server whose connections reach -x is
# OVERLOADED and gets no new connection until they fall below -y. rs1 alone with -x 2 -y 1:
# two held connections fill it, a third client is refused (no destination); once the held
# ones are reset and expire, new clients get through again. Then rs1 (-x 1) and rs2: with one
# connection on rs1 every new one goes to rs2.
#
#   client --- xvs-dataplane (NAT, rr) --- rs1 (rs2)
set -o pipefail
. "$(dirname "$0")/lib.sh"
e2e_start

conns_of() { adm -L -n | awk -v s="${RS_IP[$1]}:80" '$1 == "->" && $2 == s {print $5 + $6}'; }
hold() { # hold N SECONDS: N connections held open, ended by a reset
	local i
	for ((i = 1; i <= $1; i++)); do
		ip netns exec "$NS_CLIENT" "$PY" "$E2E_DIR/hold_tcp.py" "$VIP" 80 "$2" rst >"$T/hold$i.out" 2>&1 &
		E2E_PIDS+=($!)
		HOLD_PIDS+=($!)
		e2e_retry 50 test -s "$T/hold$i.out" || e2e_fail "held connection $i did not open"
	done
}

adm_ok -A -t "$VIP:80" -s rr
adm_ok -a -t "$VIP:80" -r "${RS_IP[rs1]}:80" -m -x 2 -y 1
adm -L -n --thresholds | grep -Eq "^  -> ${RS_IP[rs1]}:80 +2 +1 " ||
	e2e_fail "--thresholds does not show 2 and 1: $(adm -L -n --thresholds)"
hold 2 4
e2e_retry 25 eval '[ "$(conns_of rs1)" = 2 ]' || e2e_fail "the held connections are not counted"
expect_eq "a third client while rs1 is at -x" "$(http_get)" ERR
nd=$(e2e_api /v1/stats | json_get drops no-dest)
[ "$nd" -gt 0 ] || e2e_fail "the refused client was not counted as no-dest"
e2e_ok "rs1 overloaded at 2 connections: a new client is refused ($nd no-dest drops)"
for p in "${HOLD_PIDS[@]}"; do
	wait "$p" || e2e_fail "a held connection failed"
done
# reset: CLOSE for 10 s, then gone, and rs1 is below -y again
e2e_retry 100 eval '[ "$(conns_of rs1)" = 0 ]' || e2e_fail "the reset connections never expired"
expect_eq "a new client once rs1 is below -y" "$(http_get)" rs1
e2e_ok "rs1 takes new connections again"

# rs1 keeps that client's connection (TIME_WAIT, inactive, counted) for 2 minutes: with -x 1
# it is overloaded, and rs2 gets every new connection.
adm_ok -e -t "$VIP:80" -r "${RS_IP[rs1]}:80" -m -x 1
adm_ok -a -t "$VIP:80" -r "${RS_IP[rs2]}:80" -m
expect_eq "rs1's connections" "$(conns_of rs1)" 1
got=$(http_seq 4)
expect_eq "rs1 at its -x of 1: every new client on rs2" "$got" "rs2 rs2 rs2 rs2"

e2e_xvs_alive
