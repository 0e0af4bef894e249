#!/bin/bash
# TUN (-i): real HTTP servers with the VIP on their loopback and xvs-rs-decap on their NIC
# (these kernels have no tunnel modules). xvs encapsulates each client packet whole, in
# IPIP or GUE ($1: ipip | gue); the servers decapsulate and answer the client straight
# through the router (topology in lib_fwd.sh). The GUE run also takes its outer sources
# from a tunnel_src prefix, one per flow. 30 curls succeed in rr order, each server sees
# the client's own address and decapsulated that many tunnel packets, and the service
# counts 30 connections and no outgoing packet.
set -o pipefail
. "$(dirname "$0")/lib_fwd.sh"
KIND=${1:-}
case $KIND in
ipip)
	METHOD=(-i)
	FWD_SRV_EXTRA=""
	FORWARD=Tunnel
	;;
gue)
	METHOD=(-i --tun-type gue --tun-port "$GUE_PORT" --tun-csum)
	FWD_SRV_EXTRA="tunnel_src = $TUNNEL_SRC"
	FORWARD=Tunnel
	;;
*)
	echo "usage: tun_http.sh ipip|gue" >&2
	exit 2
	;;
esac
fwd_start tun

fwd_rr_service "${METHOD[@]}"
want="TCP  198.18.0.100:80 rr
  -> 198.19.0.11:80               $FORWARD  1      0          0         
  -> 198.19.0.12:80               $FORWARD  1      0          0         
  -> 198.19.0.13:80               $FORWARD  1      0          0         "
expect_eq "xvsadm -L -n" "$(adm -L -n | tail -n +4)" "$want"

# Without the decapsulator nothing would answer: check that it is what carries the traffic.
for r in "${RS_NAMES[@]}"; do
	expect_eq "$r: nothing decapsulated before traffic" "$(fwd_decap_stat "$r" "decap_$KIND")" 0
done

fwd_check_http_rr 30

for r in "${RS_NAMES[@]}"; do
	n=$(fwd_decap_stat "$r" "decap_$KIND")
	# a GET is at least SYN, ACK, request, FIN, ACK from the client
	[ "${n:-0}" -ge 40 ] || e2e_fail "$r decapsulated $n $KIND packets, want >= 40 for 10 GETs"
	other=$([ "$KIND" = ipip ] && echo gue || echo ipip)
	expect_eq "$r: no decap_$other" "$(fwd_decap_stat "$r" "decap_$other")" 0
	expect_eq "$r: no malformed tunnel packets" "$(fwd_decap_stat "$r" malformed)" 0
	expect_eq "$r: no outer fragments" "$(fwd_decap_stat "$r" fragment)" 0
	e2e_ok "$r decapsulated $n $KIND packets"
done

e2e_xvs_alive
e2e_dataplane_stop
e2e_control_stop
e2e_ok "daemons stopped cleanly"
