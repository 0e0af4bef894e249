#!/bin/bash
# Health checks through the exception path, as on a bare-metal director whose NIC belongs to
# DPDK: xvs-control runs in the load balancer's namespace, whose kernel reaches the servers'
# network only through xvs1, the kernel interface of the dataplane's srv port. The checks'
# packets go out through the port; the servers' answers, which xvs does not consume, come back
# through the exception path. A server whose HTTP check fails leaves the table and the VIP's
# traffic; it comes back when it answers again.
#
#   ns client              ns lb                                               ns rsN
#   198.18.0.2 --- lan | xvs-dataplane (VIP 198.18.0.100) | srv --- br0 --- rs1 rs2 rs3
#                                                           |                198.19.0.11..13
#                           exception path: what xvs does not consume <-> xvs1 (kernel)
#                           xvs1 198.19.0.3/24, xvs-control's HTTP_GET checks leave from it
set -o pipefail
. "$(dirname "$0")/lib.sh"

CHK_IP=198.19.0.3
EXC=xvs1
[ -c /dev/net/tun ] || { echo "FAIL: prerequisite missing: /dev/net/tun" >&2; exit 1; }

e2e_init
e2e_topology_up
e2e_servers_up
E2E_SRV_EXTRA=$'exception = yes\nexception_name = '$EXC
E2E_CTL_NETNS=$NS_LB
e2e_xvs_up

exc_up() { ip -n "$NS_LB" -o link show "$EXC" 2>/dev/null | grep -Eq '<([A-Z_]+,)*UP[,>]'; }
e2e_retry 50 exc_up || e2e_fail "no kernel interface $EXC is up in the lb namespace"
# The testbed's srv is a veth the lb namespace's kernel also sees; on a NIC it would not:
# keep that kernel off srv (no ARP answers there, no local delivery of what arrives on it).
ip netns exec "$NS_LB" sysctl -qw net.ipv4.conf.srv.arp_ignore=8 net.ipv4.conf.srv.rp_filter=1 &&
	ip -n "$NS_LB" addr add "$CHK_IP/24" dev "$EXC" || e2e_fail "cannot set up $EXC"
route=$(ip -n "$NS_LB" route get "${RS_IP[rs1]}")
grep -q "dev $EXC" <<<"$route" || e2e_fail "the lb namespace's route to rs1 is not $EXC: $route"

e2e_rr_http_service
SVC='{"proto":"tcp","addr":"'$VIP'","port":80}'
check_op() {
	echo "{\"op\":\"set-dest-health\",\"service\":$SVC,\"dest\":{\"addr\":\"${RS_IP[$1]}\",\"port\":80},
	\"health\":{\"interval_ms\":300,\"checks\":[{\"type\":\"HTTP_GET\",\"connect_timeout_ms\":500,
	\"retry\":1,\"delay_before_retry_ms\":200,\"urls\":[{\"path\":\"/\"}]}]}}"
}
out=$(curl -s --max-time 5 --unix-socket "$T/sock" \
	-d "{\"ops\":[$(check_op rs1),$(check_op rs2),$(check_op rs3)]}" http://xvs/v1/ops)
grep -q '"generation"' <<<"$out" || e2e_fail "the checks were refused: $out"

# health STATE RS: the verdict GET /v1/services gives rs
health() {
	e2e_api /v1/services | "$PY" -c 'import json,sys
for s in json.load(sys.stdin)["services"]:
    for d in s["dests"]:
        if d["addr"] == sys.argv[1]:
            print((d.get("health") or {}).get("state"))' "${RS_IP[$1]}"
}
for r in "${RS_NAMES[@]}"; do
	e2e_retry 50 eval '[ "$(health "$r")" = up ]' || e2e_fail "$r is not checked up: $(health "$r")"
	grep -q "^$CHK_IP GET" "$T/http-$r.log" ||
		e2e_fail "$r saw no check from $CHK_IP: $(tail -3 "$T/http-$r.log")"
done
e2e_ok "three servers checked up, each by GETs from $CHK_IP (the exception path)"
got=$(http_seq 6)
for r in "${RS_NAMES[@]}"; do
	[ "$(count_word "$r" "$got")" -eq 2 ] || e2e_fail "6 GETs through the VIP: $got"
done
e2e_ok "6 GETs through the VIP, two on each server ($got)"

listed() { adm -L -n | grep -q "${RS_IP[$1]}:80 "; }
echo 503 >"$T/http-rs2.ctl"
e2e_retry 50 eval '! listed rs2' || e2e_fail "rs2 answering 503 is still listed: $(adm -L -n)"
expect_eq "rs2's verdict" "$(health rs2)" down
got=$(http_seq 6)
[ "$(count_word rs2 "$got")" -eq 0 ] && [ "$(count_word ERR "$got")" -eq 0 ] ||
	e2e_fail "GETs with rs2 failing its check: $got"
e2e_ok "rs2 fails its check: out of the table, the VIP's GETs go to rs1 and rs3 ($got)"

rm -f "$T/http-rs2.ctl"
e2e_retry 50 listed rs2 || e2e_fail "rs2 answering again is not back: $(adm -L -n)"
got=$(http_seq 6)
[ "$(count_word rs2 "$got")" -eq 2 ] || e2e_fail "GETs with rs2 back: $got"
e2e_ok "rs2 answers again: back, with its share ($got)"

stats=$(e2e_api /v1/stats)
[ "$(json_get exc_from_kernel <<<"$stats")" -gt 0 ] && [ "$(json_get exc_to_kernel <<<"$stats")" -gt 0 ] ||
	e2e_fail "the exception counters did not move: $stats"
for d in exception-full exception-rate exception-kernel; do
	expect_eq "drops $d" "$(json_get drops "$d" <<<"$stats")" 0
done
e2e_ok "exception path: $(json_get exc_from_kernel <<<"$stats") frames from the kernel, $(json_get exc_to_kernel <<<"$stats") to it"
e2e_xvs_alive
e2e_dataplane_stop
e2e_control_stop
