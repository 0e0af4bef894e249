#!/bin/bash
# Connection timeouts reach the dataplane: IPVS's defaults (900 120 300) to start with;
# --set shortens the UDP timeout, a new UDP connection shows it as its expiry in -L -c and
# is gone from the list once it has passed; --set also shortens ESTABLISHED TCP; 0 keeps a
# value; out-of-range values are refused and change nothing.
#
#   client --- xvs-dataplane (NAT, rr) --- rs1 rs2 rs3 (UDP :53, HTTP :80)
set -o pipefail
. "$(dirname "$0")/lib.sh"
e2e_start

adm_ok -A -u "$VIP:53" -s rr
for r in "${RS_NAMES_ADD[@]}"; do
	adm_ok -a -u "$VIP:53" -r "${RS_IP[$r]}:53" -m
done
e2e_rr_http_service
expect_eq "IPVS's default timeouts" "$(adm -L --timeout)" "Timeout (tcp tcpfin udp): 900 120 300"

# A UDP connection with the default timeout: about 5 minutes to go.
expect_eq "a UDP query" "$(udp_seq 1 53)" "rs1"
row=$(adm -L -n -c | grep '^UDP ')
grep -Eq "^UDP 0[45]:[0-5][0-9]  UDP         $CLIENT_IP:[0-9]+ +$VIP:53 +${RS_IP[rs1]}:53\$" <<<"$row" ||
	e2e_fail "UDP row with the default timeout: '$row'"
e2e_ok "UDP connection expires in about 5 minutes ($row)"

# Refused values change nothing.
out=$(adm --set 0 0 2678401 2>&1) && e2e_fail "--set 0 0 2678401 succeeded"
expect_eq "--set out of range: message" "$out" "invalid timeout value \`2678401' specified"
out=$(adm --set 10 20 2>&1) && e2e_fail "--set with two values succeeded"
expect_eq "--set with two values: message" "$out" "--set option requires 3 timeout values"
expect_eq "timeouts unchanged" "$(adm -L --timeout)" "Timeout (tcp tcpfin udp): 900 120 300"

# UDP 3 s, TCP 20 s; tcpfin 0 keeps 120.
adm_ok --set 20 0 3
expect_eq "timeouts after --set 20 0 3" "$(adm -L --timeout)" "Timeout (tcp tcpfin udp): 20 120 3"

expect_eq "a UDP query after --set" "$(udp_seq 1 53)" "rs2"
t0=$(date +%s%N)
row=$(adm -L -n -c | grep "^UDP .* ${RS_IP[rs2]}:53\$")
grep -Eq "^UDP 00:0[0-3]  UDP " <<<"$row" || e2e_fail "UDP row after --set: '$row'"
e2e_ok "the new UDP connection expires within 3 s ($row)"
ip netns exec "$NS_CLIENT" "$PY" "$E2E_DIR/hold_tcp.py" "$VIP" 80 30 >"$T/hold.out" 2>&1 &
E2E_PIDS+=($!)
e2e_retry 50 test -s "$T/hold.out" || e2e_fail "the held connection did not open"
sleep 0.3
row=$(adm -L -n -c | grep " $CLIENT_IP:$(head -n 1 "$T/hold.out") ")
grep -Eq "^TCP 00:(1[0-9]|20)  ESTABLISHED " <<<"$row" || e2e_fail "TCP row after --set: '$row'"
e2e_ok "an ESTABLISHED connection expires in at most 20 s ($row)"

# The UDP connection is gone once its 3 s have passed: the worker's clock has 1 s steps,
# so that is 3 to 5 s after its last packet.
while adm -L -n -c | grep " ${RS_IP[rs2]}:53\$" >/dev/null; do
	[ $(($(date +%s%N) - t0)) -le 6000000000 ] || e2e_fail "the UDP connection outlived its 3 s timeout"
	sleep 0.1
done
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -ge 2500 ] || e2e_fail "the UDP connection left after $ms ms, before its 3 s timeout"
e2e_ok "the UDP connection left -L -c $ms ms after its packet"
# The old one, made under the 300 s timeout, keeps it until its next packet.
adm -L -n -c | grep " ${RS_IP[rs1]}:53\$" >/dev/null ||
	e2e_fail "the UDP connection made before --set expired early"
e2e_ok "a connection keeps the timeout it was armed with"

# The timeouts survive a restart of xvs-control (state file).
e2e_control_stop
e2e_control_start
expect_eq "timeouts after a restart of xvs-control" "$(adm -L --timeout)" \
	"Timeout (tcp tcpfin udp): 20 120 3"
e2e_xvs_alive
