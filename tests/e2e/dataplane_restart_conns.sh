#!/bin/bash
# xvs-dataplane restarts (SIGTERM, then a new process) without losing connections: its two
# workers' connection tables live in files on hugetlbfs ($XVS_HUGE_DIR/xvs-<prefix>-conns-N)
# that the new process takes over, with the steering secret that says which worker owns
# which client. A slow NAT TCP download and a numbered UDP stream (one socket, one
# connection) run across the restart: the download must end with every byte, the UDP stream
# must stay on one real server, and its loss must fit in the gap the restart left.
# Then a crash (SIGKILL) and a start: the connection goes on. Then the worker count changes
# (two to one): the tables start empty and the log says why;
# and --fresh-conns starts empty on purpose.
#
#   client ---- lan (2 queues) [ xvs: workers 1 and 2 ] srv (2 queues) ---- rs1 rs2 rs3
#   slow_stream.py tcp-client -> VIP:8080 (NAT, rr) -> slow_stream.py tcp-server (rate-limited)
#   slow_stream.py udp-client -> VIP:5353 (NAT, rr) -> slow_stream.py udp-server (echo + name)
set -o pipefail
. "$(dirname "$0")/lib.sh"
E2E_LCORES="0@0,1@1,2@0"
E2E_QPAIRS=2
E2E_DP_EXTRA="idle_sleep_us = 20"
e2e_start

BYTES=1500000 # at 150 kB/s: ten seconds, the restart in the middle
RATE=150000
UDP_RATE=200 # datagrams a second
for r in "${RS_NAMES[@]}"; do
	ns=$(e2e_ns_rs "$r")
	ip netns exec "$ns" "$PY" "$E2E_DIR/slow_stream.py" tcp-server "$r" "${RS_IP[$r]}" 8080 \
		"$BYTES" "$RATE" >>"$T/slow-$r.log" 2>&1 &
	E2E_PIDS+=($!)
	ip netns exec "$ns" "$PY" "$E2E_DIR/slow_stream.py" udp-server "$r" "${RS_IP[$r]}" 5353 \
		>>"$T/slow-$r.log" 2>&1 &
	E2E_PIDS+=($!)
	e2e_retry 50 eval "ip netns exec $ns ss -ltn | grep -q ':8080 '" ||
		e2e_fail "the slow TCP server of $r does not listen"
done
adm_ok -A -t "$VIP:8080" -s rr
adm_ok -A -u "$VIP:5353" -s rr
for r in "${RS_NAMES_ADD[@]}"; do
	adm_ok -a -t "$VIP:8080" -r "${RS_IP[$r]}:8080" -m
	adm_ok -a -u "$VIP:5353" -r "${RS_IP[$r]}:5353" -m
done

files() { ls "$XVS_HUGE_DIR" 2>/dev/null | grep "^xvs-$FILE_PREFIX-conns-" | tr '\n' ' ' | sed 's/ $//'; }
expect_eq "one table file per worker on hugetlbfs" "$(files)" \
	"xvs-$FILE_PREFIX-conns-0 xvs-$FILE_PREFIX-conns-1"

# progress FILE: the number a client wrote there (0 before it wrote any)
progress() { cat "$1" 2>/dev/null || echo 0; }
at_least() { [ "$(progress "$1")" -ge "$2" ]; }

ip netns exec "$NS_CLIENT" "$PY" "$E2E_DIR/slow_stream.py" udp-client "$VIP" 5353 "$UDP_RATE" \
	"$T/udp.stop" "$T/udp.progress" >"$T/udp.out" 2>&1 &
UDP_PID=$!
E2E_PIDS+=("$UDP_PID")
ip netns exec "$NS_CLIENT" "$PY" "$E2E_DIR/slow_stream.py" tcp-client "$VIP" 8080 "$BYTES" \
	"$T/tcp.progress" >"$T/tcp.out" 2>&1 &
TCP_PID=$!
E2E_PIDS+=("$TCP_PID")
e2e_retry 100 at_least "$T/udp.progress" 100 || e2e_fail "the UDP stream does not get answers"
e2e_retry 100 at_least "$T/tcp.progress" 150000 || e2e_fail "the download does not progress"
tcp_before=$(progress "$T/tcp.progress")
[ "$tcp_before" -lt $((BYTES / 2)) ] || e2e_fail "the download is too far along ($tcp_before) to span the restart"
e2e_ok "both flows run: $tcp_before bytes downloaded, $(progress "$T/udp.progress") UDP answers"

e2e_dataplane_stop
expect_eq "a clean stop keeps the table files" "$(files)" \
	"xvs-$FILE_PREFIX-conns-0 xvs-$FILE_PREFIX-conns-1"
grep -q "steering software" "$T/dp.log" || e2e_fail "not two workers with software steering"
mv "$T/dp.log" "$T/dp.log.1"
e2e_dataplane_start
e2e_retry 100 e2e_dp_attached || e2e_fail "the new dataplane did not attach: $(e2e_api /v1/status)"
took=$(grep -o "took over [0-9]* connection(s)" "$T/dp.log" | awk '{ n += $3 } END { print n + 0 }')
grep "took over" "$T/dp.log"
[ "$took" -ge 2 ] || e2e_fail "the new dataplane took over $took connections, want the two flows: $(cat "$T/dp.log")"
e2e_ok "the new dataplane took over $took connection(s)"
! grep -q "starting empty" "$T/dp.log" || e2e_fail "the new dataplane started empty: $(grep 'starting empty' "$T/dp.log")"

udp_at=$(progress "$T/udp.progress")
e2e_retry 100 at_least "$T/udp.progress" $((udp_at + 200)) ||
	e2e_fail "the UDP stream gets no answers after the restart"
touch "$T/udp.stop"
e2e_wait_exit "$UDP_PID" 100 || e2e_fail "the UDP client does not end"
e2e_wait_exit "$TCP_PID" 600 || e2e_fail "the download does not end within 60 s ($(progress "$T/tcp.progress") bytes)"
udp=$(cat "$T/udp.out")
echo "UDP: $udp"
expect_eq "the download after the restart" "$(cat "$T/tcp.out")" "bytes $BYTES sha256 OK"
expect_eq "real servers that answered the UDP stream (one connection throughout)" \
	"$("$PY" -c 'import json, sys; print(len(json.load(sys.stdin)["servers"]))' <<<"$udp")" 1
gap=$(json_get gap_ms <<<"$udp")
lost=$(json_get lost <<<"$udp")
bound=$((gap * UDP_RATE / 1000 + 40))
echo "restart gap: $gap ms; UDP datagrams lost: $lost (bound $bound)"
[ "$lost" -le "$bound" ] || e2e_fail "UDP lost $lost datagrams, more than the gap of $gap ms explains ($bound)"
e2e_ok "UDP loss is the restart gap's: $lost datagrams in $gap ms"

# A crash (SIGKILL): the tables were not marked clean; the cells are checked one by one and
# the connection goes on.
ip netns exec "$NS_CLIENT" "$PY" "$E2E_DIR/slow_stream.py" udp-client "$VIP" 5353 "$UDP_RATE" \
	"$T/udp2.stop" "$T/udp2.progress" >"$T/udp2.out" 2>&1 &
UDP_PID=$!
E2E_PIDS+=("$UDP_PID")
e2e_retry 100 at_least "$T/udp2.progress" 100 || e2e_fail "the second UDP stream does not get answers"
kill -KILL "$DP_PID"
wait "$DP_PID" 2>/dev/null
DP_PID=""
mv "$T/dp.log" "$T/dp.log.crash"
e2e_dataplane_start
e2e_retry 100 e2e_dp_attached || e2e_fail "the dataplane after the crash did not attach"
grep -q "took over [1-9][0-9]* connection(s).*(last stop not clean)" "$T/dp.log" ||
	e2e_fail "no take-over after the crash: $(cat "$T/dp.log")"
e2e_ok "after the crash: $(grep -o 'worker [0-9]: took over.*' "$T/dp.log" | tr '\n' ';')"
udp_at=$(progress "$T/udp2.progress")
e2e_retry 100 at_least "$T/udp2.progress" $((udp_at + 200)) ||
	e2e_fail "the second UDP stream gets no answers after the crash"
touch "$T/udp2.stop"
e2e_wait_exit "$UDP_PID" 100 || e2e_fail "the second UDP client does not end"
udp=$(cat "$T/udp2.out")
echo "UDP across the crash: $udp"
expect_eq "real servers that answered the UDP stream across the crash" \
	"$("$PY" -c 'import json, sys; print(len(json.load(sys.stdin)["servers"]))' <<<"$udp")" 1

# One worker now: the tables were written for two and start empty, saying why.
e2e_dataplane_stop
mv "$T/dp.log" "$T/dp.log.2"
E2E_LCORES=0
E2E_QPAIRS=
e2e_dataplane_start
e2e_retry 100 e2e_dp_attached || e2e_fail "the one-worker dataplane did not attach"
e2e_retry 50 grep -q "starting empty" "$T/dp.log" || e2e_fail "no 'starting empty' line: $(cat "$T/dp.log")"
expect_eq "why the tables start empty" "$(grep -o 'xvs-dataplane: .*starting empty' "$T/dp.log")" \
	"xvs-dataplane: worker 0: connection tables of 2 worker(s), now 1 worker(s): starting empty"
expect_eq "no connections kept" "$(adm -L -n -c | sed -n '3,$p')" ""
expect_eq "the second worker's file is gone" "$(files)" "xvs-$FILE_PREFIX-conns-0"
got=$(udp_seq 1 5353)
[[ "$got" == rs[123]* ]] || e2e_fail "UDP through the emptied tables: '$got'"
e2e_ok "a new UDP connection works: $got"

# --fresh-conns: empty on purpose, with the table of the run before in place.
e2e_dataplane_stop
mv "$T/dp.log" "$T/dp.log.3"
E2E_DP_ARGS=--fresh-conns
e2e_dataplane_start
e2e_retry 100 e2e_dp_attached || e2e_fail "the --fresh-conns dataplane did not attach"
expect_eq "--fresh-conns says so" "$(grep -o 'xvs-dataplane: .*starting empty' "$T/dp.log")" \
	"xvs-dataplane: --fresh-conns: starting empty"
e2e_xvs_alive
