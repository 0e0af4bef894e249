#!/bin/bash
# NAT over two workers. Each af_packet port has two queues (qpairs=2) and the kernel's
# fanout spreads flows over them by their own tuple, so a client's packets and the real
# server's replies (another tuple) land on either worker. The worker that misses hands the
# packet to the worker that owns the connection (the one the client's address and port
# pick): every HTTP and UDP exchange must complete, packets must have been handed over in
# both directions, and nothing may be dropped as "no-vip", "tcp-not-syn" or "handoff-full".
# Then wlc with connections held open: the two workers balance the node's counts, so six
# held connections spread 2/2/2 over three servers whichever worker owns each.
#
#   client --- lan (2 queues) [ xvs: workers 1 and 2 ] srv (2 queues) --- rs1 rs2 rs3
set -o pipefail
. "$(dirname "$0")/lib.sh"
# Three lcores on the test machines' two CPUs: the main lcore sleeps between its duties and
# the workers back off for 20 us when a poll finds nothing (idle_sleep_us).
E2E_LCORES="0@0,1@1,2@0"
E2E_QPAIRS=2
E2E_DP_EXTRA="idle_sleep_us = 20"
# Two-armed: the NIC could steer if it hashed on one side's fields alone; af_packet cannot.
E2E_LAN_EXTRA="faces = clients"
E2E_SRV_EXTRA="faces = servers"
e2e_start

status=$(e2e_api /v1/status)
expect_eq "workers in the status" "$(json_get dataplane workers <<<"$status")" 2
expect_eq "steering in the status" "$(json_get dataplane steering <<<"$status")" software
expect_eq "no stalled worker" "$(json_get dataplane stalled_workers <<<"$status")" "[]"
grep -q "2 worker(s).*steering software" "$T/dp.log" || e2e_fail "the log does not say how it steers"
grep -q "steering software (.*no NIC steering: port lan: it cannot hash on the source fields alone" "$T/dp.log" ||
	e2e_fail "the log does not say why the NIC does not steer: $(grep steering "$T/dp.log")"
e2e_ok "the log says: $(grep -o 'steering software.*' "$T/dp.log")"

e2e_rr_http_service
adm_ok -A -u "$VIP:53" -s rr
for r in "${RS_NAMES[@]}"; do
	adm_ok -a -u "$VIP:53" -r "${RS_IP[$r]}:53" -m
done

N=40
got=$(http_seq "$N")
for bad in ERR EMPTY; do
	[ "$(count_word "$bad" "$got")" -eq 0 ] || e2e_fail "$N GETs over two workers: $got"
done
for r in "${RS_NAMES[@]}"; do
	[ "$(count_word "$r" "$got")" -gt 0 ] || e2e_fail "$r got none of $N GETs: $got"
done
e2e_ok "$N GETs through two workers all answered ($got)"

got=$(udp_seq 30 53 3)
[ "$(count_word TIMEOUT "$got")" -eq 0 ] || e2e_fail "UDP over two workers: $got"
expect_eq "UDP answers" "$(wc -w <<<"$got")" 90
e2e_ok "30 UDP connections of 3 queries each answered"

stats=$(e2e_api /v1/stats)
hin=$(json_get handoff_in <<<"$stats")
hout=$(json_get handoff_out <<<"$stats")
e2e_log "handed over: out $hout, in $hin"
[ "$hin" -gt 0 ] || e2e_fail "no packet was handed to another worker: the test proves nothing"
expect_eq "every packet handed out was taken in" "$hin" "$hout"
for d in no-vip tcp-not-syn handoff-full; do
	expect_eq "drops $d" "$(json_get drops "$d" <<<"$stats")" 0
done
st=$(adm --status) || e2e_fail "xvsadm --status failed"
grep -q "^dataplane: pid $DP_PID, 2 worker(s), steering software, stalled workers: none\$" <<<"$st" ||
	e2e_fail "xvsadm --status: $st"
grep -Eq "^packets: [0-9]+ in, [0-9]+ out, [1-9][0-9]* handed to another worker, [1-9][0-9]* taken from one\$" <<<"$st" ||
	e2e_fail "xvsadm --status packets line: $st"
e2e_ok "xvsadm --status: two workers, software steering, hand-offs"

# wlc on the node's counts: hold six connections open, one after the other.
active() { adm -L -n | awk -v s="$1:80" '$1 == "->" && $2 == s {print $5}'; }
active_total() { adm -L -n | awk -v v="$VIP:80" '$1 == "TCP" {on = ($2 == v)} on && $1 == "->" {n += $5} END {print n + 0}'; }
adm_ok -E -t "$VIP:80" -s wlc
for i in 1 2 3 4 5 6; do
	ip netns exec "$NS_CLIENT" "$PY" "$E2E_DIR/hold_tcp.py" "$VIP" 80 60 >"$T/hold$i.out" 2>&1 &
	E2E_PIDS+=($!)
	e2e_retry 50 test -s "$T/hold$i.out" || e2e_fail "held connection $i did not open"
	# counted before the next one opens (the main lcore sums the workers' every ms)
	e2e_retry 25 eval '[ "$(active_total)" = "$i" ]' || e2e_fail "held connection $i is not counted"
done
for r in "${RS_NAMES[@]}"; do
	e2e_retry 25 eval '[ "$(active "${RS_IP[$r]}")" = 2 ]' ||
		e2e_fail "$r ActiveConn with six held connections: $(active "${RS_IP[$r]}") (-L -n: $(adm -L -n))"
done
e2e_ok "wlc over two workers: six held connections spread 2/2/2"

e2e_xvs_alive
e2e_dataplane_stop
e2e_ok "clean stop with two workers"

# steering = nic on ports that cannot: refused at start, naming the port and why.
E2E_DP_EXTRA="idle_sleep_us = 20
steering = nic"
e2e_write_dp_config
rc=0
out=$(timeout 60 ip netns exec "$NS_LB" "$XVS_DATAPLANE" -c "$T/dp.ini" 2>&1) || rc=$?
[ "$rc" -ne 0 ] || e2e_fail "steering = nic on af_packet started"
grep -q "steering = nic: port lan: it cannot hash on the source fields alone" <<<"$out" ||
	e2e_fail "steering = nic refusal: $out"
e2e_ok "steering = nic on af_packet is refused: $(grep -o 'steering = nic: .*' <<<"$out" | head -1)"
