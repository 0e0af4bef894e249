#!/bin/bash
# Neighbours per port and their life cycle (docs/dataplane.md, "Neighbours"), on lib.sh's
# testbed (client on port lan 198.18.0.0/24, real servers on port srv 198.19.0.0/24):
#
#   client eth0 --- lan [xvs] srv --- br0 --- rs1 eth0 (198.19.0.11)
#
# 1. Poisoning across ports: the client sends an ARP request for the VIP and a gratuitous
#    ARP reply, both claiming rs1's address with the client's MAC. xvs answers the request
#    (it asked for an address of ours) but learns nothing from the wrong port: rs1 keeps
#    getting its connections.
# 2. A replaced machine: rs1's interface takes a new MAC and tells nobody. With
#    neigh_reachable_ms = 1000 the entry goes STALE, traffic moves it to DELAY and PROBE, the
#    unicast probes to the old MAC go unanswered (FAILED), and a broadcast request finds the
#    new MAC: GETs reach rs1 again, within a bound.
set -o pipefail
. "$(dirname "$0")/lib.sh"
E2E_DP_EXTRA="neigh_reachable_ms = 1000"
e2e_start

adm_ok -A -t "$VIP:80" -s rr
adm_ok -a -t "$VIP:80" -r "${RS_IP[rs1]}:80" -m
got=$(http_seq 2)
expect_eq "GETs through rs1" "$got" "rs1 rs1"

# --- 1: the client claims rs1's address ---------------------------------------------------
arp_replies() { e2e_api /v1/stats | json_get arp_replies; }
before=$(arp_replies)
client_mac=$(ip -n "$NS_CLIENT" -br link show eth0 | awk '{print $3}')
ip netns exec "$NS_CLIENT" "$PY" - "$client_mac" "${RS_IP[rs1]}" "$VIP" <<'EOF' ||
import sys
from scapy.all import ARP, Ether, sendp
mac, claimed, vip = sys.argv[1:4]
# a request for the VIP "from" rs1's address, and a gratuitous reply for it
sendp([Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=mac, psrc=claimed, pdst=vip),
       Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / ARP(op=2, hwsrc=mac, psrc=claimed,
                                                      hwdst="ff:ff:ff:ff:ff:ff", pdst=claimed)],
      iface="eth0", verbose=False)
EOF
	e2e_fail "cannot send the ARP frames"
answered() { [ "$(arp_replies)" -gt "$before" ]; }
e2e_retry 50 answered || e2e_fail "xvs did not answer the client's ARP request (arp_replies $before)"
e2e_ok "the client's ARP request for the VIP was answered"
got=$(http_seq 4)
echo "after the claim: $got"
expect_eq "GETs still reach rs1 (nothing learned from the wrong port)" "$got" "rs1 rs1 rs1 rs1"

# --- 2: rs1 is replaced by a machine with another MAC ---------------------------------------
ns_rs1=$(e2e_ns_rs rs1)
old_mac=$(ip -n "$ns_rs1" -br link show eth0 | awk '{print $3}')
ip -n "$ns_rs1" link set eth0 address 02:00:5e:00:11:99 || e2e_fail "cannot change rs1's MAC"
e2e_log "rs1's MAC: $old_mac -> 02:00:5e:00:11:99, unannounced"
start=$(date +%s%N)
reaches_rs1() { [ "$(ip netns exec "$NS_CLIENT" curl -s --max-time 3 "http://$VIP/")" = rs1 ]; }
# STALE after 0.5 to 1.5 s, DELAY 5 s, three probes a second apart, then a broadcast: ~10 s
e2e_retry 40 reaches_rs1 || e2e_fail "xvs never found rs1's new MAC"
echo "rs1 reached at its new MAC after $(( ($(date +%s%N) - start) / 1000000 )) ms"
got=$(http_seq 3)
expect_eq "GETs through the replaced rs1" "$got" "rs1 rs1 rs1"
e2e_xvs_alive
