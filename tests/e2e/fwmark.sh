#!/bin/bash
# A firewall-mark service: a mark rule (xvsadm --add-mark, xvs's stand-in for iptables' MARK)
# gives TCP to the VIP's ports 80 and 81 mark 1, and FWM 1 (rr, NAT, real servers on :80)
# serves both ports as one service; a port the rule does not cover gets nothing; the rule
# goes with -S, and -C removes it. Made persistent, FWM 1 keeps a client on one server across
# both ports with one template (protocol IP, the mark as its address, as -L -c shows it).
#
#   client ──▶ VIP:80, VIP:81 ──[mark 1]──▶ FWM 1 rr ──▶ rs1 rs2 rs3 :80
set -o pipefail
. "$(dirname "$0")/lib.sh"
e2e_start

adm_ok --add-mark --proto tcp --dst "$VIP/32" --dport 80:81 --mark 1
adm_ok -A -f 1 -s rr
for r in "${RS_NAMES_ADD[@]}"; do
	adm_ok -a -f 1 -r "${RS_IP[$r]}:80" -m
done

list=$(adm -L -n) || e2e_fail "xvsadm -L -n failed"
expect_eq "FWM service line" "$(sed -n 4p <<<"$list")" "FWM  1 rr"
expect_eq "mark rule listed" "$(adm --list-marks)" \
	"--add-mark --proto tcp --dst $VIP/32 --dport 80:81 --mark 1"

# Six connections, alternating ports: one rr rotation across both ports.
got=()
for i in 1 2 3 4 5 6; do
	got+=("$(http_get $((80 + i % 2)))")
done
expect_eq "GETs of VIP:81 and VIP:80 through FWM 1" "${got[*]}" "$(cycle 6 rs1 rs2 rs3)"
expect_eq "VIP:82 (no rule) gets nothing" "$(http_get 82)" ERR

conns=$(adm -L -n | awk '$1 == "->" { n += $5 + $6 } END { print n }')
expect_eq "connections counted on FWM 1's servers" "$conns" 6
# A persistent fwmark service: one template per client, protocol IP, the mark as its address.
adm_ok -E -f 1 -s rr -p 120
p=$(http_get 80)
expect_eq "persistent FWM 1: both ports on one server" "$(http_get 81) $(http_get 80)" "$p $p"
tpl=$(adm -L -n -c | grep -E "^IP  [0-9]{2}:[0-5][0-9]  NONE ")
expect_eq "the template, as IPVS lists it" "$(awk '{print $4, $5, $6}' <<<"$tpl")" \
	"$CLIENT_IP:0 0.0.0.1:0 ${RS_IP[$p]}:0"
adm -S -n | grep -x -- "--add-mark --proto tcp --dst $VIP/32 --dport 80:81 --mark 1" >/dev/null ||
	e2e_fail "xvsadm -S does not save the mark rule"
e2e_ok "xvsadm -S saves the mark rule"
adm_ok -C
expect_eq "-C removes the mark rules" "$(adm --list-marks)" ""

e2e_xvs_alive
e2e_dataplane_stop
e2e_control_stop
e2e_ok "both daemons stopped cleanly"
