#!/bin/bash
# Health checks run by xvs-control, end to end: HTTP_GET checks take a server that stops
# answering out of the service within the configured time (clients then reach only the
# others) and bring it back; inhibit_on_failure leaves a failing server at weight 0; losing
# the quorum brings in the sorry server and runs quorum_down, regaining it runs quorum_up;
# a MISC_CHECK's exit code sets a weight; the settings and verdicts survive a restart of
# xvs-control.
#
#  lib.sh's testbed, plus the namespace xvs-control runs in, on the servers' bridge, so
#  that its checks reach the real servers directly (as a director's kernel side would):
#
#   client 198.18.0.2 ── lan | xvs-dataplane | srv ── br0 ─┬─ rs1 198.19.0.11 :80
#                        VIP 198.18.0.100                  ├─ rs2 198.19.0.12 :80
#                                                          ├─ rs3 198.19.0.13 :80, :8080 "sorry"
#                                                          └─ hc  198.19.0.5  xvs-control
#
# A server misbehaves while its control file $T/http-rsN.ctl says so: "hang" (no answer)
# or "503".
set -o pipefail
. "$(dirname "$0")/lib.sh"

SVC='{"proto":"tcp","addr":"198.18.0.100","port":80}'
INTERVAL=300 TIMEOUT=300 DBR=200

e2e_init
e2e_topology_up
e2e_hc_ns_up
e2e_servers_up
ip netns exec "$(e2e_ns_rs rs3)" "$PY" "$E2E_DIR/rs_http.py" sorry "${RS_IP[rs3]}" 8080 \
	>"$T/http-sorry.log" 2>&1 &
E2E_PIDS+=($!)
e2e_retry 50 e2e_rs_answers "$(e2e_ns_rs rs3)" "${RS_IP[rs3]}:8080" sorry ||
	e2e_fail "the sorry server does not answer"
e2e_xvs_up

# ---- helpers ---------------------------------------------------------------------------

# POST one op list; fail the test unless it is accepted.
api_ops() {
	local out
	out=$(curl -s --max-time 5 --unix-socket "$T/sock" -d "{\"ops\":[$1]}" http://xvs/v1/ops)
	echo "$out" | grep -q '"generation"' || e2e_fail "ops refused: $1 -> $out"
}

# dest ADDR PORT KEY...: a field of a real server's GET /v1/services object, as JSON.
dest() {
	e2e_api /v1/services | "$PY" -c 'import json,sys
d=json.load(sys.stdin); a,p=sys.argv[1],int(sys.argv[2])
for s in d["services"]:
    for x in s["dests"]:
        if x["addr"]==a and x["port"]==p:
            for k in sys.argv[3:]:
                x = x[int(k)] if isinstance(x, list) else x.get(k) if isinstance(x, dict) else None
            print(json.dumps(x)); sys.exit(0)
print("absent")' "$@"
}

# wait_for WHAT TENTHS CMD...: poll CMD every 0.1 s until it succeeds; fail after TENTHS.
wait_for() {
	local what=$1 n=$2
	shift 2
	until "$@"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || e2e_fail "$what: not within the bound"
		sleep 0.1
	done
}

rs_state() { dest "${RS_IP[$1]}" 80 health state; }
state_is() { [ "$(rs_state "$1")" = "\"$2\"" ]; }
in_ipvs() { [ "$(dest "${RS_IP[$1]}" 80 in_ipvs)" = "$2" ]; }
weight_is() { [ "$(dest "${RS_IP[$1]}" 80 ipvs_weight)" = "$2" ] && in_ipvs "$1" true; }
file_has() { [ -f "$1" ] && grep -qx "$2" "$1"; }
not_listed() { ! "$XVSADM" -L -n | grep -q "${RS_IP[$1]}:80 "; }
# Requests rs1..3 saw from the client (health checks come from $HC_IP).
client_hits() { grep -c "^$CLIENT_IP GET" "$T/http-$1.log"; }
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# HTTP_GET of / on a real server; extra JSON fields for the health object.
http_check() {
	echo "{\"op\":\"set-dest-health\",\"service\":$SVC,\"dest\":{\"addr\":\"${RS_IP[$1]}\",\"port\":80},
	\"health\":{\"interval_ms\":$INTERVAL$2,\"checks\":[{\"type\":\"HTTP_GET\",
	\"connect_timeout_ms\":$TIMEOUT,\"retry\":1,\"delay_before_retry_ms\":$DBR,
	\"urls\":[{\"path\":\"/\"}]}]}}"
}

# ---- 1. three servers up ---------------------------------------------------------------

e2e_rr_http_service
api_ops "$(http_check rs1), $(http_check rs2 ",\"notify_up\":\"echo \$XVS_EVENT \$XVS_REAL_SERVER >>$T/notify-rs2\",\"notify_down\":\"echo \$XVS_EVENT \$XVS_REAL_SERVER >>$T/notify-rs2\""),
	$(http_check rs3 ',"inhibit_on_failure":true')"
for r in "${RS_NAMES[@]}"; do
	wait_for "$r checked up" 30 state_is "$r" up
done
expect_eq "6 GETs with three healthy servers" "$(http_seq 6)" "rs1 rs2 rs3 rs1 rs2 rs3"

# ---- 2. rs2 stops answering: out within the configured time, no new connections ---------

before=$(client_hits rs2)
t0=$(date +%s%N)
echo hang >"$T/http-rs2.ctl"
wait_for "rs2 removed" 50 not_listed rs2
took=$(ms_since "$t0")
# the check under way (<= interval + timeout), its retry (delay + timeout), one interval for
# the change to reach the dataplane, and slack for this loop and a loaded machine
bound=$((INTERVAL + TIMEOUT + DBR + TIMEOUT + INTERVAL + 1500))
e2e_log "rs2 taken out $took ms after it stopped answering (bound $bound ms)"
[ "$took" -le "$bound" ] || e2e_fail "rs2 taken out after $took ms, bound $bound ms"
expect_eq "rs2's verdict" "$(rs_state rs2)" '"down"'
adm -L -n | grep -q "${RS_IP[rs2]}" && e2e_fail "rs2 still listed by -L: $(adm -L -n)"
adm -L -n --health | grep -Eq "^  -> ${RS_IP[rs2]}:80 +Masq    1 .* down, removed$" ||
	e2e_fail "-L --health does not show rs2 down and removed: $(adm -L -n --health)"
got=$(http_seq 12)
echo "rs2 down: $got"
expect_eq "failed GETs with rs2 down" "$(count_word ERR "$got")" 0
expect_eq "rs1's share with rs2 down" "$(count_word rs1 "$got")" 6
expect_eq "rs3's share with rs2 down" "$(count_word rs3 "$got")" 6
expect_eq "client connections that reached rs2" "$(client_hits rs2)" "$before"
wait_for "notify_down ran" 30 file_has "$T/notify-rs2" "notify_down ${RS_IP[rs2]}:80"

# ---- 3. rs2 answers again: back in ----------------------------------------------------

rm -f "$T/http-rs2.ctl"
wait_for "rs2 back" 50 in_ipvs rs2 true
got=$(http_seq 12)
for r in "${RS_NAMES[@]}"; do
	expect_eq "$r's share with rs2 back" "$(count_word "$r" "$got")" 4
done
wait_for "notify_up ran" 30 file_has "$T/notify-rs2" "notify_up ${RS_IP[rs2]}:80"

# ---- 4. inhibit_on_failure: rs3 fails and stays listed at weight 0 ----------------------

echo 503 >"$T/http-rs3.ctl"
wait_for "rs3 inhibited" 50 weight_is rs3 0
adm -L -n | grep -Eq "^  -> ${RS_IP[rs3]}:80 +Masq    0 " ||
	e2e_fail "rs3 not listed at weight 0: $(adm -L -n)"
got=$(http_seq 12)
expect_eq "rs3's share while inhibited" "$(count_word rs3 "$got")" 0
expect_eq "rs1's share while rs3 is inhibited" "$(count_word rs1 "$got")" 6
rm -f "$T/http-rs3.ctl"
wait_for "rs3 at weight 1 again" 50 weight_is rs3 1

# ---- 5. quorum: lost, the sorry server comes in; regained, it leaves --------------------

api_ops "{\"op\":\"set-service-health\",\"service\":$SVC,\"health\":{\"quorum\":2,
	\"quorum_up\":\"echo \$XVS_EVENT \$XVS_SERVICE >>$T/quorum\",
	\"quorum_down\":\"echo \$XVS_EVENT \$XVS_SERVICE >>$T/quorum\",
	\"sorry_server\":{\"addr\":\"${RS_IP[rs3]}\",\"port\":8080,\"fwd\":\"masq\"}}}"
echo 503 >"$T/http-rs1.ctl"
echo 503 >"$T/http-rs2.ctl"
wait_for "quorum_down ran" 50 file_has "$T/quorum" "quorum_down TCP 198.18.0.100:80"
list=$(adm -L -n)
echo "$list"
echo "$list" | grep -Eq "^  -> ${RS_IP[rs3]}:8080 +Masq    1 " || e2e_fail "no sorry server in -L"
echo "$list" | grep -Eq "^  -> ${RS_IP[rs3]}:80 +Masq    0 " ||
	e2e_fail "the live inhibited rs3 is not at weight 0 beside the sorry server"
expect_eq "real servers listed without quorum" "$(echo "$list" | grep -c ':80 .*Masq    [1-9]')" 0
expect_eq "6 GETs without quorum" "$(http_seq 6)" "sorry sorry sorry sorry sorry sorry"
rm -f "$T/http-rs1.ctl"
wait_for "quorum_up ran" 50 file_has "$T/quorum" "quorum_up TCP 198.18.0.100:80"
wait_for "the sorry server gone" 30 bash -c "! '$XVSADM' -L -n | grep -q ':8080'"
got=$(http_seq 6)
expect_eq "sorry answers with quorum back" "$(count_word sorry "$got")" 0
expect_eq "rs1's share with quorum back" "$(count_word rs1 "$got")" 3
rm -f "$T/http-rs2.ctl"
wait_for "rs2 back after the quorum test" 50 in_ipvs rs2 true

# ---- 6. a script check sets the weight (misc_dynamic: exit code - 2) -------------------

echo 5 >"$T/w-rs1"
api_ops "{\"op\":\"edit-service\",\"service\":{\"proto\":\"tcp\",\"addr\":\"198.18.0.100\",
	\"port\":80,\"sched\":\"wrr\"}},
	{\"op\":\"set-dest-health\",\"service\":$SVC,\"dest\":{\"addr\":\"${RS_IP[rs1]}\",\"port\":80},
	\"health\":{\"interval_ms\":$INTERVAL,\"checks\":[{\"type\":\"MISC_CHECK\",
	\"script\":\"exit \$(cat $T/w-rs1)\",\"misc_dynamic\":true,\"misc_timeout_ms\":2000}]}}"
wait_for "rs1 at the script's weight 3" 50 weight_is rs1 3
adm -L -n | grep -Eq "^  -> ${RS_IP[rs1]}:80 +Masq    3 " || e2e_fail "rs1 not at weight 3: $(adm -L -n)"
got=$(http_seq 10)
echo "wrr 3/1/1: $got"
expect_eq "rs1's share at weight 3" "$(count_word rs1 "$got")" 6
expect_eq "rs2's share at weight 1" "$(count_word rs2 "$got")" 2
echo 2 >"$T/w-rs1"
wait_for "rs1 at weight 0 (exit 2)" 50 weight_is rs1 0
got=$(http_seq 6)
expect_eq "rs1's share at weight 0" "$(count_word rs1 "$got")" 0

# ---- 7. a restart of xvs-control keeps the settings and the verdicts -------------------

listed=$(adm -L -n --health)
e2e_control_stop
e2e_control_start
e2e_retry 50 e2e_dp_attached || e2e_fail "the dataplane did not re-attach"
expect_eq "rs1's check after a restart" "$(dest "${RS_IP[rs1]}" 80 health_check checks 0 type)" '"MISC_CHECK"'
expect_eq "rs3's inhibit after a restart" "$(dest "${RS_IP[rs3]}" 80 health_check inhibit_on_failure)" true
e2e_api /v1/services | grep -q "\"quorum_down\": *\"echo" || e2e_fail "the service's health settings were lost"
for r in "${RS_NAMES[@]}"; do
	wait_for "$r checked again after the restart" 50 state_is "$r" up
done
expect_eq "-L --health after a restart" "$(adm -L -n --health)" "$listed"
e2e_xvs_alive
