#!/bin/bash
# Path-MTU discovery through a tunnel: the LB's server-side link has MTU 1400 (veth and
# the dataplane's port `mtu`), so a full-size client segment no longer fits once wrapped in
# GUE (32 bytes) or IPIP (20). The LB drops it, counts it too-big and sends the client ICMP
# "fragmentation needed" from the VIP; the client's kernel lowers its path MTU to the VIP
# and resends smaller segments. Uploads of 4 MiB (curl -T) through the VIP must arrive
# whole (size and SHA-256 checked by the server), on each server in rr order.
set -o pipefail
. "$(dirname "$0")/lib_fwd.sh"
SIZE=$((4 * 1024 * 1024))
fwd_start tun --srv-mtu 1400

adm_ok -A -t "$VIP:80" -s rr
# added last first: rr order rs1 rs2 rs3 (a new server goes to the head of the list)
adm_ok -a -t "$VIP:80" -r "${RS_IP[rs3]}:80" -i --tun-type gue --tun-port "$GUE_PORT" --tun-csum
adm_ok -a -t "$VIP:80" -r "${RS_IP[rs2]}:80" -i
adm_ok -a -t "$VIP:80" -r "${RS_IP[rs1]}:80" -i --tun-type gue --tun-port "$GUE_PORT"

head -c "$SIZE" /dev/urandom >"$T/upload" || e2e_fail "cannot make the upload file"
sum=$(sha256sum "$T/upload" | cut -d' ' -f1)
expect_eq "no too-big drops before the uploads" "$(fwd_dp_stat drops.too-big)" 0

upload() {
	# no "Expect: 100-continue": fwd_http.py speaks HTTP/1.0
	ip netns exec "$NS_CLIENT" curl -s --max-time 60 -H 'Expect:' -T "$T/upload" \
		"http://$VIP/upload" || echo "curl failed with status $?"
}
for r in rs1 rs2 rs3; do
	got=$(upload)
	expect_eq "4 MiB upload through the VIP" "$got" "$r $SIZE $sum"
done

drops=$(fwd_dp_stat drops.too-big)
[ "$drops" -ge 1 ] || e2e_fail "too-big drops: $drops, want >= 1 (the MTU was never exceeded?)"
e2e_ok "$drops packets too big for the tunnel, each answered with frag-needed"
# The client learned the path MTU of the VIP from the LB's frag-needed.
pmtu=$(ip -n "$NS_CLIENT" route get "$VIP" | grep -o 'mtu [0-9]*' | cut -d' ' -f2)
case $pmtu in
1368 | 1380) e2e_ok "the client's path MTU to the VIP is $pmtu" ;;
*) e2e_fail "the client's path MTU to the VIP is '$pmtu', want 1368 (GUE) or 1380 (IPIP)" ;;
esac
for r in "${RS_NAMES[@]}"; do
	expect_eq "$r: no outer fragments" "$(fwd_decap_stat "$r" fragment)" 0
done

e2e_xvs_alive
e2e_dataplane_stop
e2e_control_stop
e2e_ok "daemons stopped cleanly"
