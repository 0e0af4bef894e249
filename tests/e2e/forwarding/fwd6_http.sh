#!/bin/bash
# IPv6 through xvs ($1: nat | dr | ipip | gue): the testbed of lib_fwd.sh, dual-stack, and an
# rr service on [2001:db8:1::100]:80 over the real servers' IPv6 addresses.
#   nat:  -m; the servers' IPv6 default route is xvs's srv address, replies come back
#         through xvs and leave from the VIP.
#   dr:   -g; the VIP (/128) on the servers' lo, replies straight through the router.
#   ipip: -i, 6in6 (next header 41); xvs-rs-decap on each server (--local its IPv6 address).
#   gue:  -i --tun-type gue --tun-port 6080 over IPv6 (always with a UDP checksum).
# 30 curl -6 answer rs1 rs2 rs3 in order, each server saw the client's own IPv6 address, the
# service counted 30 connections (and OutPkts only for NAT); for DR and TUN only xvs
# advertises the VIP, and for TUN each server decapsulated the traffic itself.
set -o pipefail
. "$(dirname "$0")/lib_fwd.sh"
MODE=${1:-}
case $MODE in
nat) METHOD=(-m); FORWARD=Masq; START=(--v6-nat) ;;
dr) METHOD=(-g); FORWARD=Route; START=(--v6) ;;
ipip) METHOD=(-i); FORWARD=Tunnel; START=(tun --v6) ;;
gue) METHOD=(-i --tun-type gue --tun-port "$GUE_PORT"); FORWARD=Tunnel; START=(tun --v6) ;;
*)
	echo "usage: fwd6_http.sh nat|dr|ipip|gue" >&2
	exit 2
	;;
esac
fwd_start "${START[@]}"

fwd6_rr_service "${METHOD[@]}"
expect_eq "xvsadm -L -n" "$(adm -L -n | tail -n +4)" "$(fwd6_listing "$FORWARD")"

if [ "$FORWARD" = Tunnel ]; then
	for r in "${RS_NAMES[@]}"; do
		expect_eq "$r: nothing decapsulated before traffic" "$(fwd_decap_stat "$r" "decap_$MODE")" 0
	done
fi

e2e_retry 20 ip netns exec "$NS_CLIENT" ping -6 -c 1 -W 1 -q "$VIP6" >/dev/null ||
	e2e_fail "the VIP $VIP6 does not answer ping"
fwd6_check_http_rr 30 "$MODE"

# Only xvs answered the client's solicitation for the VIP.
mac=$(ip -n "$NS_CLIENT" -6 neigh show "$VIP6" | grep -o 'lladdr [0-9a-f:]*' | cut -d' ' -f2)
lbmac=$(ip -n "$NS_LB" -o link show lan | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
expect_eq "the client's neighbour entry for $VIP6 is the LB's lan MAC" "$mac" "$lbmac"
[ "$MODE" = nat ] || fwd6_check_rs_silent

if [ "$FORWARD" = Tunnel ]; then
	other=$([ "$MODE" = ipip ] && echo gue || echo ipip)
	for r in "${RS_NAMES[@]}"; do
		n=$(fwd_decap_stat "$r" "decap_$MODE")
		[ "${n:-0}" -ge 40 ] || e2e_fail "$r decapsulated $n $MODE packets, want >= 40 for 10 GETs"
		expect_eq "$r: no decap_$other" "$(fwd_decap_stat "$r" "decap_$other")" 0
		expect_eq "$r: no malformed tunnel packets" "$(fwd_decap_stat "$r" malformed)" 0
		e2e_ok "$r decapsulated $n $MODE packets"
	done
fi

expect_eq "no no-route or neigh-unresolved drops in xvs" \
	"$(fwd_dp_stat drops.no-route)$(fwd_dp_stat drops.neigh-unresolved)" 00
e2e_xvs_alive
e2e_dataplane_stop
e2e_control_stop
e2e_ok "daemons stopped cleanly"
