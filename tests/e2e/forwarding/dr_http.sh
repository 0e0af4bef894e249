#!/bin/bash
# DR (direct routing, -g): real HTTP servers with the VIP on their loopback behind xvs.
# xvs changes only the frame's MAC addresses; the servers answer the client straight through
# the router (topology in lib_fwd.sh). 30 curls succeed in rr order, each server sees the
# client's own address, the service counts 30 connections and no outgoing packet, and the
# real servers never answered ARP for the VIP.
set -o pipefail
. "$(dirname "$0")/lib_fwd.sh"
fwd_start

fwd_rr_service -g
want="TCP  198.18.0.100:80 rr
  -> 198.19.0.11:80               Route   1      0          0         
  -> 198.19.0.12:80               Route   1      0          0         
  -> 198.19.0.13:80               Route   1      0          0         "
expect_eq "xvsadm -L -n" "$(adm -L -n | tail -n +4)" "$want"

fwd_check_http_rr 30

# Only the LB answered ARP for the VIP on the client network.
mac=$(ip -n "$NS_CLIENT" neigh show "$VIP" | grep -o 'lladdr [0-9a-f:]*' | cut -d' ' -f2)
lbmac=$(ip -n "$NS_LB" -o link show lan | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
expect_eq "the client's ARP entry for the VIP is the LB's lan MAC" "$mac" "$lbmac"

e2e_xvs_alive
e2e_dataplane_stop
e2e_control_stop
e2e_ok "daemons stopped cleanly"
