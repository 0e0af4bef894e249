#!/bin/bash
# Removing a real server (-d) stops new connections to it while the others keep
# answering; adding it back brings it back into the rotation.
set -o pipefail
. "$(dirname "$0")/lib.sh"
e2e_start

e2e_rr_http_service
got=$(http_seq 6)
expect_eq "6 GETs with three servers" "$got" "$(cycle 6 rs1 rs2 rs3)"

adm_ok -d -t "$VIP:80" -r "${RS_IP[rs2]}:80"
adm -L -n | grep -qF "${RS_IP[rs2]}:80" && e2e_fail "rs2 still listed after -d"
before=$(grep -c "^$CLIENT_IP GET" "$T/http-rs2.log")
got=$(http_seq 15)
echo "after -d rs2: $got"
expect_eq "failed GETs after -d" "$(count_word ERR "$got")" 0
expect_eq "rs2 answers after -d" "$(count_word rs2 "$got")" 0
expect_eq "rs2 requests logged after -d" "$(grep -c "^$CLIENT_IP GET" "$T/http-rs2.log")" "$before"
n1=$(count_word rs1 "$got")
n3=$(count_word rs3 "$got")
[ "$n1" -ge 7 ] && [ "$n3" -ge 7 ] || e2e_fail "rs1/rs3 not balanced after -d: $n1/$n3"
e2e_ok "rs1 and rs3 share the load ($n1/$n3)"

adm_ok -a -t "$VIP:80" -r "${RS_IP[rs2]}:80" -m
got=$(http_seq 15)
echo "after re-adding rs2: $got"
expect_eq "failed GETs after re-adding" "$(count_word ERR "$got")" 0
for r in "${RS_NAMES[@]}"; do
	expect_eq "$r answers in 15 GETs after re-adding rs2" "$(count_word "$r" "$got")" 5
done
e2e_xvs_alive
