#!/bin/bash
# UDP NAT with rr: new client sockets are spread over all three servers in order, and
# the datagrams of one socket (one connection) all reach the same server.
set -o pipefail
. "$(dirname "$0")/lib.sh"
e2e_start

adm_ok -A -u "$VIP:53" -s rr
for r in "${RS_NAMES_ADD[@]}"; do
	adm_ok -a -u "$VIP:53" -r "${RS_IP[$r]}:53" -m
done
list=$(adm -L -n) || e2e_fail "xvsadm -L -n failed"
expect_eq "service line" "$(sed -n 4p <<<"$list")" "UDP  198.18.0.100:53 rr"

got=$(udp_seq 6 53)
expect_eq "6 UDP sockets, rr order" "$got" "$(cycle 6 rs1 rs2 rs3)"

got=$(udp_seq 3 53 3)
expect_eq "3 sockets x 3 datagrams stick to their server" "$got" \
	"rs1 rs1 rs1 rs2 rs2 rs2 rs3 rs3 rs3"

# No TCP service exists on the VIP: TCP to it must not reach any server.
out=$(ip netns exec "$NS_CLIENT" curl -s --max-time 2 "http://$VIP/") &&
	e2e_fail "TCP to the VIP answered ('$out') though only UDP is configured"
e2e_ok "TCP to a UDP-only VIP gets nothing"
e2e_xvs_alive
