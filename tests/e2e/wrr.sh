#!/bin/bash
# wrr with weights 3/2/1, added in that order: IPVS's list is rs3 rs2 rs1 (a new server goes
# to the head), so 12 connections follow IPVS's interleaved sequence over it,
# rs1 rs2 rs1 rs3 rs2 rs1, twice.
set -o pipefail
. "$(dirname "$0")/lib.sh"
e2e_start

adm_ok -A -t "$VIP:80" -s wrr
adm_ok -a -t "$VIP:80" -r "${RS_IP[rs1]}:80" -m -w 3
adm_ok -a -t "$VIP:80" -r "${RS_IP[rs2]}:80" -m -w 2
adm_ok -a -t "$VIP:80" -r "${RS_IP[rs3]}:80" -m -w 1

list=$(adm -L -n) || e2e_fail "xvsadm -L -n failed"
want="TCP  198.18.0.100:80 wrr
  -> 198.19.0.11:80               Masq    3      0          0         
  -> 198.19.0.12:80               Masq    2      0          0         
  -> 198.19.0.13:80               Masq    1      0          0         "
expect_eq "xvsadm -L -n" "$(tail -n +4 <<<"$list")" "$want"

got=$(http_seq 12)
expect_eq "12 GETs, wrr 3/2/1 in IPVS's order" "$got" "$(cycle 12 rs1 rs2 rs1 rs3 rs2 rs1)"
e2e_xvs_alive
