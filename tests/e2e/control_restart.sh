#!/bin/bash
# xvs-control crashes (SIGKILL): the dataplane keeps forwarding on its last generation;
# control restarts from its state file with the same configuration, re-attaches, and a
# new change reaches the dataplane.
set -o pipefail
. "$(dirname "$0")/lib.sh"
e2e_start

adm_ok -A -t "$VIP:80" -s rr
adm_ok -a -t "$VIP:80" -r "${RS_IP[rs1]}:80" -m
adm_ok -a -t "$VIP:80" -r "${RS_IP[rs2]}:80" -m -w 2
got=$(http_seq 3)
expect_eq "3 GETs before the crash (rr, newest first)" "$got" "rs2 rs1 rs2"

rules=$(adm -S -n) || e2e_fail "xvsadm -S -n failed"
list=$(adm -L -n | cut -c1-48) || e2e_fail "xvsadm -L -n failed"
[ -s "$T/state.json" ] || e2e_fail "no state file at $T/state.json"

e2e_control_kill
e2e_ok "xvs-control killed"
got=$(http_seq 10)
echo "while control is down: $got"
expect_eq "failed GETs while control is down" "$(count_word ERR "$got")" 0
expect_eq "rs3 answers while control is down" "$(count_word rs3 "$got")" 0

e2e_control_start
e2e_retry 50 e2e_dp_attached || e2e_fail "the dataplane did not re-attach: $(e2e_api /v1/status)"
expect_eq "xvsadm -S -n after restart" "$(adm -S -n)" "$rules"
expect_eq "xvsadm -L -n after restart (without counters)" "$(adm -L -n | cut -c1-48)" "$list"
got=$(http_seq 6)
expect_eq "failed GETs after restart" "$(count_word ERR "$got")" 0

adm_ok -a -t "$VIP:80" -r "${RS_IP[rs3]}:80" -m
got=$(http_seq 9)
echo "after adding rs3: $got"
for r in "${RS_NAMES[@]}"; do
	expect_eq "$r answers in 9 GETs after rs3 is added" "$(count_word "$r" "$got")" 3
done
e2e_xvs_alive
