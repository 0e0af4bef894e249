#!/bin/bash
# Two xvs nodes behind a router that spreads flows over them by ECMP: both pick the same real
# server for every flow (Maglev, -s mh), so when one node dies the flows the router moves to
# the other one go on (consistent_midflow), and the flows that were on the survivor never
# move. Each node announces the VIP over BGP (BIRD on the node, through the lan port's
# exception interface, xvs-control --bird-include); the router's BIRD merges the two paths
# into one ECMP route, and BFD withdraws a dead node's path. Real servers rs1 and rs2 are reached through IPIP tunnels (xvs-rs-decap on their
# eth0), rs3 and rs4 by direct routing; all four answer the client directly, through the
# router.
#
#  ns client             ns router (ip_forward, fib_multipath_hash_policy = 1)
# +---------------+     +--------------------------------------------------------------+
# | eth0          |veth | c0 198.18.1.1/24      BIRD AS 65000, BGP + BFD to both nodes |
# | 198.18.1.2/24 |-----|  VIP 198.18.10.100/32: nexthop via 198.18.0.1 (node a)       |
# | gw .1         |     |                      nexthop via 198.18.0.2 (node b) (BIRD)  |
# +---------------+     |  front: bridge 198.18.0.254/24       back: bridge 198.19.0.254/24
#                       +-----|------------------|----------------|----|----|----|-------+
#                             | lan              | lan      srv   |    |    |    |
#                       ns node a: 198.18.0.1   ns node b: .2     | rs1..rs4 198.19.0.11..14
#                       srv 198.19.0.1          srv 198.19.0.2 ---+ VIP on lo, gw .254
#                       xvs-control + xvs-dataplane on each node, the same rules; xvs0
#                       (the lan port's kernel interface) holds the lan address, BIRD AS
#                       65001 on it announces what xvs-control's include lists
#
# Steps: (1) both nodes answer --trace the same way for 64 client ports, (2) 24 slow
# downloads spread over both nodes by the router, each served by the real server both nodes'
# trace named, (3) node a's dataplane is killed: BFD takes its path out of the router's route
# (the time is measured and printed), every download completes, whole and from one server;
# node b made a connection for each of node a's flows (conns_midflow); the number of flows
# that moved is printed.
set -u
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
. "$E2E_DIR/lib_nodes.sh"

VIP=198.18.10.100
CLIENT_IP=198.18.1.2
declare -A NODE_LAN=([a]=198.18.0.1 [b]=198.18.0.2)
declare -A NODE_SRV=([a]=198.19.0.1 [b]=198.19.0.2)
declare -A NODE_CPU=([a]=0 [b]=1)
RS_NAMES=(rs1 rs2 rs3 rs4)
declare -A RS_IP=([rs1]=198.19.0.11 [rs2]=198.19.0.12 [rs3]=198.19.0.13 [rs4]=198.19.0.14)
declare -A RS_METHOD=([rs1]=-i [rs2]=-i [rs3]=-g [rs4]=-g)
FLOWS=24
LINES=120        # one every 50 ms: 6 s per download
FIRST_SPORT=41000
XVS_RS_DECAP=${XVS_RS_DECAP:-${XVS_BUILD_DIR:-$E2E_REPO/build}/bpf/xvs-rs-decap}
PIN=""


nodes_init
NODES_PRE_CLEANUP+=('[ -n "$PIN" ] && { umount "$PIN"; rmdir "$PIN"; } 2>/dev/null')
[ -x "$XVS_RS_DECAP" ] || e2e_fail "prerequisite missing: xvs-rs-decap at $XVS_RS_DECAP"
e2e_need tc bird birdc /dev/net/tun

# ---- topology --------------------------------------------------------------------------
nodes_topology_up
# the multipath hash takes the ports (policy 1), so one client's flows spread over the nodes
ip netns exec "$R" sysctl -qw net.ipv4.fib_multipath_hash_policy=1 || e2e_fail "no multipath hash"
nodes_servers_net_up

# ---- real servers ----------------------------------------------------------------------
PIN=$(mktemp -d /run/xvs-e2e-ecmp-pins.XXXXXX) || e2e_fail "mktemp for the pins"
mount -t bpf bpf "$PIN" || e2e_fail "cannot mount a bpffs on $PIN"
for r in "${RS_NAMES[@]}"; do
	ns=$(e2e_ns_rs "$r")
	if [ "${RS_METHOD[$r]}" = -i ]; then
		mkdir -p "$PIN/$r" &&
			ip netns exec "$ns" "$XVS_RS_DECAP" attach eth0 --local "${RS_IP[$r]}" \
				--pin-dir "$PIN/$r" >>"$T/decap.log" 2>&1 ||
			e2e_fail "xvs-rs-decap attach on $r failed: $(tail -n 3 "$T/decap.log")"
	fi
	ip netns exec "$ns" "$PY" "$E2E_DIR/ecmp_flows.py" server "$r" 0.0.0.0 80 "$LINES" 0.05 \
		2>"$T/flows-$r.log" &
	E2E_PIDS+=($!)
done

# ---- the two nodes ---------------------------------------------------------------------
rules() { # the same service on both nodes; node b gets its servers in the other order
	echo "-A -t $VIP:80 -s mh -b mh-port"
	local order=("${RS_NAMES[@]}") r
	[ "$1" = b ] && order=(rs4 rs3 rs2 rs1)
	for r in "${order[@]}"; do
		echo "-a -t $VIP:80 -r ${RS_IP[$r]}:80 ${RS_METHOD[$r]} -w 1"
	done
}
for x in a b; do
	node_write_config "$x" "${NODE_CPU[$x]}" 1 $'exception = yes\nexception_name = xvs0'
	node_control_start "$x" --bird-include "$T/$x/vips.conf" --bird-socket "$T/$x/bird.ctl"
done
for x in a b; do
	rules "$x" | adm_on "$x" -R || e2e_fail "node $x refused the rules"
	node_dataplane_start "$x"
done
for x in a b; do
	node_dataplane_up "$x"
done

# ---- BGP: each node's BIRD announces the VIP, the router merges the paths ---------------------
bird_common() { # router-id
	cat <<-EOF
	router id $1;
	log stderr all;
	protocol device { scan time 1; }
	protocol bfd { interface "*" { min rx interval 100 ms; min tx interval 100 ms; multiplier 5; }; }
	EOF
}
bgp_peer() { # name local-ip local-as neighbour neighbour-as channel
	cat <<-EOF
	protocol bgp $1 {
		local $2 as $3;
		neighbor $4 as $5;
		bfd on;
		connect delay time 1;
		connect retry time 2;
		error wait time 1, 5;
		hold time 9;
		ipv4 { $6 };
	}
	EOF
}
for x in a b; do
	exc_up() { ip -n "${NS[$1]}" -o link show xvs0 2>/dev/null | grep -Eq '<([A-Z_]+,)*UP[,>]'; }
	e2e_retry 50 exc_up "$x" || e2e_fail "node $x: no kernel interface xvs0"
	ip -n "${NS[$x]}" addr add "${NODE_LAN[$x]}/24" dev xvs0 || e2e_fail "cannot address node $x's xvs0"
	{
		bird_common "${NODE_LAN[$x]}"
		echo "include \"$T/$x/vips.conf\";"
		bgp_peer uplink "${NODE_LAN[$x]}" 65001 "$ROUTER_FRONT_IP" 65000 \
			"import none; export where proto = \"xvs_vips4\";"
	} >"$T/$x/bird.conf"
	ip netns exec "${NS[$x]}" bird -f -c "$T/$x/bird.conf" -s "$T/$x/bird.ctl" \
		-P "$T/$x/bird.pid" >"$T/$x/bird.log" 2>&1 &
	E2E_PIDS+=($!)
done
{
	bird_common "$ROUTER_FRONT_IP"
	echo 'protocol kernel { merge paths on; ipv4 { import none; export all; }; }'
	for x in a b; do
		bgp_peer "node_$x" "$ROUTER_FRONT_IP" 65000 "${NODE_LAN[$x]}" 65001 "import all; export none;"
	done
} >"$T/bird-router.conf"
ip netns exec "$R" bird -f -c "$T/bird-router.conf" -s "$T/bird-router.ctl" \
	-P "$T/bird-router.pid" >"$T/bird-router.log" 2>&1 &
E2E_PIDS+=($!)
vip_route() { ip -n "$R" route show "$VIP/32"; }
both_paths() { local r; r=$(vip_route); [[ $r == *"via ${NODE_LAN[a]} "* && $r == *"via ${NODE_LAN[b]} "* ]]; }
e2e_retry 150 both_paths ||
	e2e_fail "the router has no ECMP route over both nodes: $(vip_route); $(birdc -s "$T/bird-router.ctl" show protocols 2>&1)"
e2e_log "two nodes up, the router's route: $(vip_route | tr -s ' \n' ' '); work dir $T"

# ---- (1) the nodes agree, without a packet ---------------------------------------------
picked() { # node client-port: the server that node's scheduler picks
	adm_on "$1" --trace -t "$VIP:80" --client "$CLIENT_IP:$2" --json |
		json_get server addr
}
declare -A PICK
spread=""
for p in $(seq "$FIRST_SPORT" $((FIRST_SPORT + 63))); do
	pa=$(picked a "$p") && pb=$(picked b "$p") || e2e_fail "--trace failed for port $p"
	[ -n "$pa" ] && [ "$pa" = "$pb" ] || e2e_fail "client port $p: node a picks '$pa', node b '$pb'"
	PICK[$p]=$pa
	spread="$spread $pa"
done
nb_servers=$(tr ' ' '\n' <<<"$spread" | sort -u | grep -c .)
[ "$nb_servers" -eq 4 ] || e2e_fail "64 client ports reach $nb_servers of the 4 servers"
e2e_ok "both nodes pick the same server for 64 client ports (all 4 servers used)"

# ---- (2) long downloads over both nodes -------------------------------------------------
ip netns exec "$NS_CLIENT" "$PY" "$E2E_DIR/ecmp_flows.py" client "$VIP" 80 "$FIRST_SPORT" \
	"$FLOWS" "$LINES" "$T/ready.json" 60 >"$T/flows.out" 2>"$T/flows.err" &
CLIENT_PID=$!
E2E_PIDS+=("$CLIENT_PID")
e2e_retry 100 test -s "$T/ready.json" || e2e_fail "the downloads did not start"
conn_ports() { # node: the client ports of its connections
	node_api "$1" /v1/conns | "$PY" -c 'import json,sys
for c in json.load(sys.stdin)["conns"]: print(c["cport"])' | sort -n
}
on_a=$(conn_ports a) && on_b=$(conn_ports b) || e2e_fail "cannot list the nodes' connections"
nb_a=$(grep -c . <<<"$on_a")
nb_b=$(grep -c . <<<"$on_b")
e2e_log "flows on node a: $nb_a, on node b: $nb_b"
[ "$nb_a" -gt 0 ] && [ "$nb_b" -gt 0 ] || e2e_fail "the router did not spread the flows: a $nb_a, b $nb_b"
[ $((nb_a + nb_b)) -eq "$FLOWS" ] || e2e_fail "$((nb_a + nb_b)) connections on the nodes, $FLOWS flows"
"$PY" - "$T/ready.json" <<-EOF || e2e_fail "a flow is served by another server than the trace said"
	import json, sys
	ready = json.load(open(sys.argv[1]))
	ip = {$(for r in "${RS_NAMES[@]}"; do printf '"%s": "%s", ' "$r" "${RS_IP[$r]}"; done)}
	pick = {$(for p in "${!PICK[@]}"; do printf '"%s": "%s", ' "$p" "${PICK[$p]}"; done)}
	bad = [p for p, r in ready.items() if r is None or ip[r] != pick[p]]
	for p in bad:
	    print("port", p, "served by", ready[p], "trace said", pick[p])
	sys.exit(1 if bad else 0)
EOF
e2e_ok "every download is served by the server both nodes named"

# ---- (3) node a dies ----------------------------------------------------------------------
midflow_b0=$(node_api b /v1/stats | json_get conns_midflow)
t0=$(date +%s%N)
kill -KILL "${DPID[a]}"
KILLED=${DPID[a]}
DPID[a]=""
a_gone() { [[ $(vip_route) != *"via ${NODE_LAN[a]} "* ]]; }
ms=""
for _ in $(seq 500); do # 10 ms steps, 5 s at most
	a_gone && { ms=$(( ($(date +%s%N) - t0) / 1000000 )); break; }
	sleep 0.01
done
[ -n "$ms" ] || e2e_fail "node a's path is still in the router's route: $(vip_route)"
{ wait "$KILLED"; } 2>/dev/null
[[ $(vip_route) == *"${NODE_LAN[b]}"* ]] || e2e_fail "the router lost node b's path too: $(vip_route)"
e2e_log "node a's dataplane killed: its path left the router's route after $ms ms (BFD); $nb_a flow(s) move to node b"
[ "$ms" -le 2000 ] || e2e_fail "withdrawal took $ms ms"
e2e_wait_exit "$CLIENT_PID" 600 || e2e_fail "the downloads did not end"
wait "$CLIENT_PID"
cat "$T/flows.out"
nodes_flows_complete "$T/flows.out" "$FLOWS" || e2e_fail "a download broke"
# The servers' own logs: each flow's connection reached exactly one server, once (a moved flow
# made no new connection), the server both nodes' trace named.
"$PY" - "$T" "$CLIENT_IP" "$FIRST_SPORT" "$FLOWS" <<-EOF || e2e_fail "the servers' logs disagree"
	import sys
	t, client, first, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
	ip = {$(for r in "${RS_NAMES[@]}"; do printf '"%s": "%s", ' "$r" "${RS_IP[$r]}"; done)}
	pick = {$(for p in "${!PICK[@]}"; do printf '%s: "%s", ' "$p" "${PICK[$p]}"; done)}
	seen = {}
	for r in ip:
	    for line in open("%s/flows-%s.log" % (t, r)):
	        addr, port = line.split()
	        if addr == client:
	            seen.setdefault(int(port), []).append(r)
	bad = [(p, seen.get(p)) for p in range(first, first + n)
	       if seen.get(p) is None or len(seen[p]) != 1 or ip[seen[p][0]] != pick[p]]
	for p, got in bad:
	    print("port", p, "in the logs of", got, "trace said", pick[p])
	sys.exit(1 if bad or len(seen) != n else 0)
EOF
e2e_ok "the servers' logs: each flow reached the named server, once"
midflow_b=$(( $(node_api b /v1/stats | json_get conns_midflow) - midflow_b0 ))
e2e_log "node b made $midflow_b connection(s) mid-stream for node a's $nb_a flow(s)"
[ "$midflow_b" -ge "$nb_a" ] || e2e_fail "node b made $midflow_b mid-stream connections for $nb_a moved flows"
[ "$midflow_b" -le "$FLOWS" ] || e2e_fail "node b made $midflow_b mid-stream connections"
e2e_ok "all $FLOWS downloads complete: $nb_a moved from node a to node b and went on, $nb_b stayed on node b"
kill -0 "${DPID[b]}" || e2e_fail "node b's dataplane died"
