#!/bin/bash
# Draining as IPVS does it. Defaults first: a quiescent server (weight 0) finishes a long
# download and gets no new connection, but a persistent client's template still leads to it
# (expire_quiescent_template off); a deleted server's connection stays listed, its packets
# dropped. Then the dataplane restarts with expire_quiescent_template and expire_nodest_conn
# on: the template of a quiescent server is not followed, and a deleted server's connection
# ends at its next packet.
#
#   client --- xvs-dataplane (NAT, rr) --- rs1 rs2 rs3
set -o pipefail
. "$(dirname "$0")/lib.sh"
e2e_start

server_of() { # the server that answered a /slow/ download so far
	awk 'NR == 1 {print $1}' "$1"
}
slow_start() { # slow_start FILE LINES [PORT]: a download of LINES lines, one per 50 ms
	ip netns exec "$NS_CLIENT" curl -s -N --max-time 30 "http://$VIP:${3:-80}/slow/$2" >"$1" 2>&1 &
	E2E_PIDS+=($!)
	SLOW_PID=$!
	e2e_retry 25 test -s "$1" || e2e_fail "the download did not start: $(cat "$1"; jobs -l; adm -L -n -c | tail -3; e2e_api /v1/stats)"
}

e2e_rr_http_service
slow_start "$T/slow.out" 60
q=$(server_of "$T/slow.out")
e2e_log "the download comes from $q"
adm_ok -e -t "$VIP:80" -r "${RS_IP[$q]}:80" -m -w 0
got=$(http_seq 9)
[ "$(count_word "$q" "$got")" -eq 0 ] || e2e_fail "quiescent $q got new connections: $got"
for bad in ERR EMPTY; do
	[ "$(count_word "$bad" "$got")" -eq 0 ] || e2e_fail "new connections while $q drains: $got"
done
e2e_ok "9 new connections, none on quiescent $q: $got"
wait "$SLOW_PID" || e2e_fail "the download from quiescent $q failed"
expect_eq "the download from quiescent $q: every line" "$(wc -l <"$T/slow.out")" 60
adm_ok -e -t "$VIP:80" -r "${RS_IP[$q]}:80" -m -w 1

# A persistent service: the template still leads to a quiescent server.
adm_ok -A -t "$VIP:81" -s rr -p 300
for r in "${RS_NAMES[@]}"; do
	adm_ok -a -t "$VIP:81" -r "${RS_IP[$r]}:80" -m
done
p=$(http_get 81)
adm_ok -e -t "$VIP:81" -r "${RS_IP[$p]}:80" -m -w 0
got=$(http_seq 4 81)
expect_eq "persistent client of quiescent $p" "$got" "$p $p $p $p"

# -d: the connection of a deleted server stays listed (its packets are dropped).
slow_start "$T/slow2.out" 200
d=$(server_of "$T/slow2.out")
adm_ok -d -t "$VIP:80" -r "${RS_IP[$d]}:80"
# the server keeps sending into the void: wait for its packets to be dropped, then the
# connection must still be listed
removed() { e2e_api /v1/stats | json_get drops dest-removed; }
e2e_retry 25 eval '[ "$(removed)" -gt 0 ]' || e2e_fail "no dest-removed drop"
adm -L -n -c | grep -E "ESTABLISHED .* $VIP:80 +${RS_IP[$d]}:80\$" >/dev/null ||
	e2e_fail "the deleted server's connection is gone"
drops=$(removed)
e2e_ok "deleted $d: its connection stays listed, $drops packets dropped as dest-removed"
kill "$SLOW_PID" 2>/dev/null
adm_ok -a -t "$VIP:80" -r "${RS_IP[$d]}:80" -m

# Again with IPVS's two switches on.
e2e_dataplane_stop
E2E_DP_EXTRA=$'expire_quiescent_template = yes\nexpire_nodest_conn = yes'
e2e_dataplane_start
e2e_retry 100 e2e_dp_attached ||
	e2e_fail "the dataplane did not come back: $(kill -0 "$DP_PID" 2>&1 && echo alive); $(cat "$T/dp.ini")"
e2e_retry 50 ip netns exec "$NS_CLIENT" ping -c 1 -W 1 -q "$LB_LAN_IP" >/dev/null ||
	e2e_fail "the dataplane does not answer ping after its restart"

p=$(http_get 81)
[ "$(http_get 81)" = "$p" ] || e2e_fail "persistence broken after the restart"
adm_ok -e -t "$VIP:81" -r "${RS_IP[$p]}:80" -m -w 0
got=$(http_seq 4 81)
[ "$(count_word "$p" "$got")" -eq 0 ] || e2e_fail "expire_quiescent_template: still on $p: $got"
n=$(http_get 81)
expect_eq "the new template is followed" "$(http_seq 3 81)" "$n $n $n"
e2e_ok "expire_quiescent_template: off quiescent $p, now on $n"

slow_start "$T/slow3.out" 200
d=$(server_of "$T/slow3.out")
adm_ok -d -t "$VIP:80" -r "${RS_IP[$d]}:80"
e2e_retry 25 eval '! adm -L -n -c | grep -E "ESTABLISHED .* $VIP:80 +${RS_IP[$d]}:80\$" >/dev/null' ||
	e2e_fail "expire_nodest_conn: the deleted server's connection is still listed"
e2e_ok "expire_nodest_conn: the deleted $d's connection ended at its next packet"
kill "$SLOW_PID" 2>/dev/null

e2e_xvs_alive
