#!/bin/bash
# A spoofed SYN flood against a small connection table. The flood's entries stay embryonic
# (no handshake ever completes), and once free cells run low each new connection evicts the
# oldest embryonic one. Established connections are never evicted: slow downloads opened
# before the flood finish with every byte, and new clients that complete their handshake
# during the flood get through. The evictions are counted (conns_evicted) and nothing is
# dropped as conn-table-full.
#
#   client (+ spoofed 198.18.1-254.x) --- xvs-dataplane (NAT, rr, 2048 cells) --- rs1 rs2 rs3
set -o pipefail
. "$(dirname "$0")/lib.sh"
E2E_CONN_MAX=2048 # free-cell low water 256: a handshake has 256 flood SYNs' time to finish
e2e_start

e2e_rr_http_service

# Two downloads of 80 lines each, one line every 50 ms (4 s): established through the flood.
for i in 1 2; do
	ip netns exec "$NS_CLIENT" curl -s -N --max-time 30 "http://$VIP/slow/80" >"$T/slow$i.out" 2>&1 &
	E2E_PIDS+=($!)
	SLOW_PIDS+=($!)
done
e2e_retry 25 eval '[ -s "$T/slow1.out" ] && [ -s "$T/slow2.out" ]' || e2e_fail "the downloads did not start"

# 20000 spoofed SYNs at 5000/s: the 2048-cell table is full of them after half a second.
ip netns exec "$NS_CLIENT" "$PY" "$E2E_DIR/syn_flood.py" "$VIP" 80 20000 5000 198.18.0.0 \
	>"$T/flood.out" 2>&1 &
FLOOD_PID=$!
E2E_PIDS+=($FLOOD_PID)
evicted() { e2e_api /v1/stats | json_get conns_evicted; }
e2e_retry 50 eval '[ "$(evicted)" -gt 0 ]' || e2e_fail "the flood evicted nothing: $(e2e_api /v1/stats)"
e2e_ok "the table is under pressure: $(evicted) embryonic connections evicted so far"

# New clients during the flood: each completes its handshake and gets its answer.
got=$(http_seq 6)
e2e_log "new clients during the flood: $got"
for bad in ERR EMPTY; do
	[ "$(count_word "$bad" "$got")" -eq 0 ] || e2e_fail "a new client failed during the flood: $got"
done
kill -0 "$FLOOD_PID" 2>/dev/null || e2e_fail "the flood ended before the new clients were done"
e2e_ok "6 new clients got through during the flood"

wait "$FLOOD_PID" || e2e_fail "the flood sender failed: $(cat "$T/flood.out")"
expect_eq "spoofed SYNs sent" "$(cat "$T/flood.out")" 20000
for i in 1 2; do
	wait "${SLOW_PIDS[i - 1]}" || e2e_fail "download $i failed: $(tail -n 3 "$T/slow$i.out")"
	expect_eq "download $i: every line" "$(wc -l <"$T/slow$i.out")" 80
	expect_eq "download $i: one server, in order" \
		"$(awk '{print $2}' "$T/slow$i.out" | tr '\n' ' ')" "$(seq -s ' ' 0 79) "
done
e2e_ok "both established downloads finished intact through the flood"

stats=$(e2e_api /v1/stats)
ev=$(json_get conns_evicted <<<"$stats")
e2e_log "evicted $ev, new $(json_get conns_new <<<"$stats"), live $(json_get conns_cur <<<"$stats")"
[ "$ev" -gt 10000 ] || e2e_fail "only $ev evictions for 20000 spoofed SYNs into 2048 cells"
expect_eq "drops conn-table-full" "$(json_get drops conn-table-full <<<"$stats")" 0
[ "$(json_get conns_cur <<<"$stats")" -le 2048 ] || e2e_fail "more live connections than cells"
# xvsadm --status says the same in words
st=$(adm --status) || e2e_fail "xvsadm --status failed"
echo "$st"
grep -Eq "^connections: [0-9]+ live, [0-9]+ new, [0-9]+ expired, [1-9][0-9]+ evicted\$" <<<"$st" ||
	e2e_fail "xvsadm --status does not show the evictions"
grep -q "^dataplane: pid $DP_PID, 1 worker(s), steering none, stalled workers: none\$" <<<"$st" ||
	e2e_fail "xvsadm --status dataplane line"
e2e_ok "xvsadm --status shows the evictions"

got=$(http_seq 3)
for bad in ERR EMPTY; do
	[ "$(count_word "$bad" "$got")" -eq 0 ] || e2e_fail "after the flood: $got"
done
e2e_ok "new clients after the flood: $got"

e2e_xvs_alive
