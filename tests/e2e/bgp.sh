#!/bin/bash
# VIP announcement over BGP (docs/scale-out.md). xvs-control runs with --bird-include: it keeps
# a BIRD include with the VIPs this node can serve and makes the node's BIRD reconfigure. That
# BIRD talks BGP (and BFD) to a router through the exception path (the lan port's kernel
# interface xvs0 holds the port's address 198.18.0.1); the router's BIRD puts what it learns
# in its kernel table, and a user behind the router reaches the VIP through it.
#  (0) before BIRD runs, xvs-control logs that it cannot reach it and keeps answering;
#  (1) the router's kernel table gets the VIP /32 via 198.18.0.1 (bounded wait), GET
#      /v1/status says it is announced;
#  (2) the user gets the real servers' answers through the VIP, via the router;
#  (4) every real server at weight 0, with the dataplane alive: xvs-control withdraws the VIP
#      (the BGP session stays up: the withdrawal is xvs-control's), the router's table loses
#      it (time printed, bounded); weights back: announced again, traffic flows;
#  (3) the dataplane killed (SIGKILL): the router's table loses the VIP. Over the exception
#      path the node's BGP and BFD packets die with the dataplane, so the router learns it
#      from BFD (100 ms x 5) taking the session down; xvs-control's own withdrawal (the
#      include without the VIP, the node's BIRD without the route) is measured beside it.
#      Both times printed and bounded.
#
#   ns user               ns router (lib's client)     ns lb                                 ns rsN
#  +----------------+    +-------------------------+  +---------------------------------+  +-------+
#  | eth0           |veth| eth1          eth0      |  | lan   xvs-dataplane      srv    |  | rs1   |
#  | 198.18.2.2/24  |----| 198.18.2.1   198.18.0.2 |--|  |    VIP 198.18.0.100    (NAT) |--| rs2   |
#  | via 198.18.2.1 |    | ip_forward   BIRD 65000 |  |  |    route 198.18.2.0/24      |br| rs3   |
#  +----------------+    | kernel: VIP via .0.1    |  |  |      via 198.18.0.2         |  +-------+
#                        +-------------------------+  |  v exception path                |
#                                                     | xvs0 198.18.0.1/24 BIRD 65001    |
#                                                     |  <- include of xvs-control       |
#                                                     +---------------------------------+
set -o pipefail
. "$(dirname "$0")/lib.sh"

EXC=xvs0
USER_IP=198.18.2.2
ROUTER_IP=$CLIENT_IP      # lib's client namespace is the router here
ROUTER_IP2=198.18.2.1
E2E_LAN_EXTRA=$'exception = yes\nexception_name = '$EXC
# the srv section is the configuration's last: the routes follow it
E2E_SRV_EXTRA=$'\n[routes]\nroute = 198.18.2.0/24 via '$ROUTER_IP

e2e_need bird birdc /dev/net/tun

e2e_init
NS_USER=xvs-$SUFFIX-user
E2E_NETNS+=("$NS_USER")
INC=$T/bird-vips.conf
E2E_CTL_ARGS=(--bird-include "$INC" --bird-socket "$T/bird-node.ctl")
e2e_topology_up
e2e_servers_up
e2e_xvs_up
# as in exception.sh: the lb namespace's kernel stays off the lan veth itself
ip netns exec "$NS_LB" sysctl -qw net.ipv4.conf.lan.arp_ignore=8 net.ipv4.conf.lan.rp_filter=1 ||
	e2e_fail "cannot keep the lb namespace's kernel off lan"

rt() { ip netns exec "$NS_CLIENT" "$@"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
exc_up() { ip -n "$NS_LB" -o link show "$EXC" 2>/dev/null | grep -Eq '<([A-Z_]+,)*UP[,>]'; }

# The router: no default route (the VIP comes from BGP only), forwarding, the user behind it.
ip -n "$NS_CLIENT" route del default || e2e_fail "cannot remove the router's default route"
e2e_ns_add "$NS_USER" &&
	ip link add eth0 netns "$NS_USER" type veth peer name eth1 netns "$NS_CLIENT" &&
	e2e_link_up "$NS_USER" eth0 && e2e_link_up "$NS_CLIENT" eth1 &&
	ip -n "$NS_USER" addr add "$USER_IP/24" dev eth0 &&
	ip -n "$NS_USER" route add default via "$ROUTER_IP2" &&
	ip -n "$NS_CLIENT" addr add "$ROUTER_IP2/24" dev eth1 &&
	rt sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 ||
	e2e_fail "cannot set up the user and the router"

e2e_retry 50 exc_up || e2e_fail "no kernel interface $EXC is up in the lb namespace"
ip -n "$NS_LB" addr add "$LB_LAN_IP/24" dev "$EXC" || e2e_fail "cannot address $EXC"
e2e_rr_http_service

[ -s "$INC" ] || e2e_fail "xvs-control did not write $INC"
vip_in_file() { grep -q "route $VIP/32 blackhole;" "$INC"; }
e2e_retry 50 vip_in_file || e2e_fail "the include does not announce $VIP: $(cat "$INC")"
e2e_ok "xvs-control wrote $VIP/32 into $INC"

# no BIRD yet: xvs-control says so and retries, its API answers meanwhile
e2e_retry 25 grep -q "bgp: cannot reach BIRD at $T/bird-node.ctl: No such file or directory (retrying)" "$T/ctl.log" ||
	e2e_fail "xvs-control did not log that BIRD is absent"
e2e_api_ok || e2e_fail "xvs-control's API does not answer while BIRD is absent"

# BIRD on both sides: eBGP with BFD (100 ms, multiplier 5), short timers for the test
bird_conf() { # router-id local-as peer peer-as ipv4-channel extra
	cat <<-EOF
	router id $1;
	log stderr all;
	protocol device { scan time 1; }
	protocol bfd { interface "*" { min rx interval 100 ms; min tx interval 100 ms; multiplier 5; }; }
	$6
	protocol bgp peer {
		local $1 as $2;
		neighbor $3 as $4;
		bfd on;
		connect delay time 1;
		connect retry time 2;
		error wait time 1, 5;
		hold time 9;
		ipv4 { $5 };
	}
	EOF
}
bird_conf "$LB_LAN_IP" 65001 "$ROUTER_IP" 65000 \
	"import none; export where proto = \"xvs_vips4\";" "include \"$INC\";" >"$T/bird-node.conf"
bird_conf "$ROUTER_IP" 65000 "$LB_LAN_IP" 65001 "import all; export none;" \
	'protocol kernel { ipv4 { import none; export all; }; }' >"$T/bird-router.conf"
ip netns exec "$NS_LB" bird -f -c "$T/bird-node.conf" -s "$T/bird-node.ctl" -P "$T/bird-node.pid" \
	>"$T/bird-node.log" 2>&1 &
E2E_PIDS+=($!)
ip netns exec "$NS_CLIENT" bird -f -c "$T/bird-router.conf" -s "$T/bird-router.ctl" \
	-P "$T/bird-router.pid" >"$T/bird-router.log" 2>&1 &
E2E_PIDS+=($!)
established() { birdc -s "$1" show protocols peer 2>/dev/null | grep -q Established; }
e2e_retry 150 established "$T/bird-router.ctl" ||
	e2e_fail "BGP not Established: $(birdc -s "$T/bird-router.ctl" show protocols all peer 2>&1; cat "$T/bird-node.log")"
e2e_ok "BGP between $LB_LAN_IP (AS 65001, through $EXC) and the router is Established"

# (1) the router's kernel table
route_in() { [ -n "$(ip -n "$NS_CLIENT" route show "$VIP/32" via "$LB_LAN_IP" 2>/dev/null)" ]; }
route_out() { [ -z "$(ip -n "$NS_CLIENT" route show "$VIP/32" 2>/dev/null)" ]; }
e2e_retry 100 route_in ||
	e2e_fail "the router's table has no $VIP/32 via $LB_LAN_IP: $(ip -n "$NS_CLIENT" route; birdc -s "$T/bird-router.ctl" show route 2>&1)"
e2e_ok "the router's kernel table: $(ip -n "$NS_CLIENT" route show "$VIP/32")"
st=$(e2e_api /v1/status)
expect_eq "GET /v1/status: bgp announced" "$(json_get bgp announced <<<"$st")" "[\"$VIP\"]"
expect_eq "GET /v1/status: bgp dataplane_ready" "$(json_get bgp dataplane_ready <<<"$st")" True

# (2) the user reaches the real servers through the router and the VIP
user_seq() {
	local i out=()
	for ((i = 0; i < $1; i++)); do
		out+=("$(ip netns exec "$NS_USER" curl -s --max-time 5 "http://$VIP/" || echo ERR)")
	done
	echo "${out[*]}"
}
expect_eq "6 GETs from $USER_IP through the router" "$(user_seq 6)" "$(cycle 6 rs1 rs2 rs3)"
grep -q "$USER_IP" "$T/http-rs1.log" || e2e_fail "rs1 did not see the user's own address"

# (4) every real server at weight 0, the dataplane alive: xvs-control withdraws
# wait_ms WHAT BOUND_MS CMD...: poll CMD every 50 ms; print the milliseconds it took
wait_ms() {
	local what=$1 bound=$2 t0 i
	shift 2
	t0=$(now_ms)
	for ((i = 0; i < bound / 50 + 20; i++)); do
		if "$@"; then
			echo $(($(now_ms) - t0))
			return 0
		fi
		sleep 0.05
	done
	e2e_fail "$what: not within $bound ms"
}
for r in "${RS_NAMES[@]}"; do
	adm_ok -e -t "$VIP:80" -r "${RS_IP[$r]}:80" -m -w 0
done
ms=$(wait_ms "withdrawal after weight 0" 3000 route_out) || exit 1
[ "$ms" -lt 3000 ] || e2e_fail "withdrawal took $ms ms"
e2e_ok "every real server at weight 0: $VIP/32 left the router's table in $ms ms"
established "$T/bird-router.ctl" || e2e_fail "the BGP session went down: the withdrawal was not xvs-control's"
vip_in_file && e2e_fail "the include still announces $VIP"
st=$(e2e_api /v1/status)
expect_eq "GET /v1/status: nothing announced" "$(json_get bgp announced <<<"$st")" "[]"
expect_eq "GET /v1/status: the VIP not serving" "$(json_get bgp vips <<<"$st")" \
	"[{\"vip\": \"$VIP\", \"serving\": false, \"announced\": false}]"
grep -q "bgp: withdrawing $VIP (no service of it holds its quorum" "$T/ctl.log" ||
	e2e_fail "xvs-control did not log the withdrawal"
for r in "${RS_NAMES[@]}"; do
	adm_ok -e -t "$VIP:80" -r "${RS_IP[$r]}:80" -m -w 1
done
ms=$(wait_ms "announcement after weight 1" 3000 route_in) || exit 1
e2e_ok "weights back: $VIP/32 in the router's table again in $ms ms"
got=$(user_seq 3)
[ "$(count_word ERR "$got")" -eq 0 ] || e2e_fail "GETs after the announcement: $got"
e2e_ok "3 GETs through the router after the announcement: $got"

# (3) the dataplane killed
e2e_xvs_alive
birdc -s "$T/bird-router.ctl" show bfd sessions 2>&1 | grep -q "$LB_LAN_IP.*Up" ||
	e2e_fail "no BFD session up: $(birdc -s "$T/bird-router.ctl" show bfd sessions 2>&1)"
node_has_vip() { birdc -s "$T/bird-node.ctl" show route protocol xvs_vips4 2>/dev/null | grep -q "$VIP/32"; }
node_has_vip || e2e_fail "the node's BIRD does not hold $VIP/32"
t0=$(now_ms)
kill -KILL "$DP_PID"
wait "$DP_PID" 2>/dev/null
DP_PID=""
# poll both sides together: when the router's table lost the VIP, when the node's BIRD did
ms_router="" ms_node=""
for ((i = 0; i < 200; i++)); do
	[ -z "$ms_router" ] && route_out && ms_router=$(($(now_ms) - t0))
	[ -z "$ms_node" ] && ! vip_in_file && ! node_has_vip && ms_node=$(($(now_ms) - t0))
	[ -n "$ms_router" ] && [ -n "$ms_node" ] && break
	sleep 0.05
done
[ -n "$ms_router" ] || e2e_fail "the router kept $VIP/32 after the dataplane's death"
[ -n "$ms_node" ] || e2e_fail "xvs-control did not withdraw $VIP from the node's BIRD"
grep -q "bgp: withdrawing $VIP (the dataplane is not running the current generation)" "$T/ctl.log" ||
	e2e_fail "xvs-control did not log the withdrawal for the dead dataplane"
established "$T/bird-router.ctl" && e2e_fail "the router's BGP session should be down (BFD)"
# which mechanism removed the route at the router: BFD (the node's UPDATE could not get out)
birdc -s "$T/bird-router.ctl" show protocols all peer 2>&1 | grep -q "Last error:.*BFD session down" ||
	e2e_fail "the router's session did not end by BFD: $(birdc -s "$T/bird-router.ctl" show protocols all peer 2>&1)"
e2e_ok "dataplane killed: the router's table lost $VIP/32 $ms_router ms after the kill (BFD took the session down)"
e2e_ok "dataplane killed: xvs-control withdrew $VIP from the node's BIRD $ms_node ms after the kill"
[ "$ms_router" -lt 5000 ] || e2e_fail "the router's withdrawal took $ms_router ms"
[ "$ms_node" -lt 3000 ] || e2e_fail "xvs-control's withdrawal took $ms_node ms"
st=$(e2e_api /v1/status)
expect_eq "GET /v1/status: dataplane_ready after the kill" "$(json_get bgp dataplane_ready <<<"$st")" False
kill -0 "$CTL_PID" || e2e_fail "xvs-control died"
