#!/bin/bash
# Weight 0 (-e ... -w 0) quiesces a server: no new connections go to it while it stays
# listed; weight 1 brings it back.
set -o pipefail
. "$(dirname "$0")/lib.sh"
e2e_start

e2e_rr_http_service
got=$(http_seq 3)
expect_eq "3 GETs with three servers" "$got" "rs1 rs2 rs3"

adm_ok -e -t "$VIP:80" -r "${RS_IP[rs2]}:80" -m -w 0
adm -L -n | grep -Eq "^  -> ${RS_IP[rs2]}:80 +Masq    0 " || e2e_fail "rs2 not listed with weight 0"
got=$(http_seq 12)
echo "rs2 at weight 0: $got"
expect_eq "failed GETs" "$(count_word ERR "$got")" 0
expect_eq "rs2 answers at weight 0" "$(count_word rs2 "$got")" 0
expect_eq "rs1 answers at weight 0" "$(count_word rs1 "$got")" 6

adm_ok -e -t "$VIP:80" -r "${RS_IP[rs2]}:80" -m -w 1
got=$(http_seq 12)
for r in "${RS_NAMES[@]}"; do
	expect_eq "$r answers after weight 1" "$(count_word "$r" "$got")" 4
done
e2e_xvs_alive
