#!/bin/bash
# Two xvs nodes, a and b, behind a router: the testbed of the scale-out tests (ecmp.sh,
# vrrp.sh, sync.sh). Source it after lib.sh, set the variables below that differ from the
# defaults, then call nodes_init, nodes_topology_up, nodes_servers_net_up and, per node,
# node_write_config and node_control_start / node_dataplane_start.
#
#  ns client              ns router (ip_forward, no reverse-path filter)
# +----------------+     +-----------------------------------------------------------+
# | eth0           |veth | c0 198.18.1.1/24 (NODES_CLIENT_ON_FRONT=1: the client is on |
# | 198.18.1.2/24  |-----|    the front bridge instead, 198.18.0.2/24 via .254)        |
# +----------------+     | front: bridge 198.18.0.254/24   back: bridge 198.19.0.254/24 |
#                        +------|----------------|--------------|------|------|--------+
#                               | lan            | lan      srv |      |      |
#                        ns node a             ns node b        |  rs1 .. rsN: RS_IP[], the VIP
#                        lan NODE_LAN[a]       lan NODE_LAN[b]  |  on lo (DR, TUN), gw .254
#                        srv NODE_SRV[a] ----- srv NODE_SRV[b] -+
#                        (DPDK af_packet ports; each node's kernel kept off its veths)
#
# Each node runs its own xvs-control (in the node's namespace, files in $T/<node>/) and
# xvs-dataplane (file prefix $FILE_PREFIX-<node>). The cleanup stops the dataplanes first,
# removes their EAL and connection-table files, prints the nodes' logs on failure, then
# runs lib.sh's (namespaces, the other processes by PID, the work directory).

ROUTER_CL_IP=198.18.1.1
ROUTER_FRONT_IP=198.18.0.254
ROUTER_BACK_IP=198.19.0.254
NODES_CLIENT_ON_FRONT=${NODES_CLIENT_ON_FRONT:-0}
declare -A NS CPID DPID PREFIX
NODES_PRE_CLEANUP=() # commands a test adds, run first at cleanup (stop its capture, ...)

nodes_cleanup() {
	local rc=$? x c
	for c in "${NODES_PRE_CLEANUP[@]}"; do
		eval "$c"
	done
	# on failure, what each node's dataplane holds and dropped, while it still runs
	for x in a b; do
		[ "$rc" -ne 0 ] && [ -n "${T:-}" ] && [ -S "$T/$x/sock" ] || continue
		{
			echo "----- node $x: xvsadm -L -n -c (first 30 lines) -----"
			XVS_CONTROL_SOCKET=$T/$x/sock timeout 3 "$XVSADM" -L -n -c 2>&1 | head -n 30
			echo "----- node $x: xvsadm -L --stats --drops (reasons that moved) -----"
			XVS_CONTROL_SOCKET=$T/$x/sock timeout 3 "$XVSADM" -L --stats --drops 2>&1 |
				awk 'NR <= 2 || $2 != 0' | head -n 40
		} >&2
	done
	for x in b a; do
		[ -n "${DPID[$x]:-}" ] && kill -TERM "${DPID[$x]}" 2>/dev/null
	done
	for x in b a; do
		[ -n "${DPID[$x]:-}" ] && { e2e_wait_exit "${DPID[$x]}" 50 || kill -KILL "${DPID[$x]}"; }
		if [ -n "${PREFIX[$x]:-}" ]; then
			rm -rf "/var/run/dpdk/${PREFIX[$x]}"
			rm -f "$XVS_HUGE_DIR/xvs-${PREFIX[$x]}-conns-"* "/dev/shm/xvs-${PREFIX[$x]}-conns-"*
		fi
	done
	if [ "$rc" -ne 0 ] && [ -n "${T:-}" ]; then
		for x in a b; do
			[ -s "$T/$x/dp.log" ] && { echo "----- node $x dp.log -----"; tail -n 20 "$T/$x/dp.log"; } >&2
			[ -s "$T/$x/ctl.log" ] && { echo "----- node $x ctl.log -----"; tail -n 20 "$T/$x/ctl.log"; } >&2
		done
	fi
	(exit "$rc")
	e2e_cleanup
}

# lib.sh's e2e_init, our cleanup, the nodes' namespaces and work directories.
nodes_init() {
	e2e_init
	trap nodes_cleanup EXIT
	NS[a]=$NS_LB
	NS[b]=xvs-$SUFFIX-lbb
	E2E_NETNS+=("${NS[b]}")
	R=$NS_BR
	local x
	for x in a b; do
		mkdir -p "$T/$x"
		PREFIX[$x]=$FILE_PREFIX-$x
	done
}

# The client, the router with its bridges, and each node's lan and srv veths.
nodes_topology_up() {
	local x
	e2e_ns_add "$NS_CLIENT" && e2e_ns_add "$R" && e2e_ns_add "${NS[a]}" && e2e_ns_add "${NS[b]}" ||
		e2e_fail "cannot create namespaces"
	ip -n "$R" link add front type bridge && ip -n "$R" link add back type bridge &&
		ip -n "$R" addr add "$ROUTER_FRONT_IP/24" dev front &&
		ip -n "$R" addr add "$ROUTER_BACK_IP/24" dev back &&
		ip -n "$R" link set front up && ip -n "$R" link set back up ||
		e2e_fail "cannot set up the router's bridges"
	if [ "$NODES_CLIENT_ON_FRONT" = 1 ]; then
		ip link add eth0 netns "$NS_CLIENT" type veth peer name cl netns "$R" &&
			ip -n "$R" link set cl master front && e2e_link_up "$R" cl &&
			ip -n "$NS_CLIENT" addr add "$CLIENT_IP/24" dev eth0 &&
			e2e_link_up "$NS_CLIENT" eth0 &&
			ip -n "$NS_CLIENT" route add default via "$ROUTER_FRONT_IP" ||
			e2e_fail "cannot set up the client"
	else
		ip link add eth0 netns "$NS_CLIENT" type veth peer name c0 netns "$R" &&
			ip -n "$R" addr add "$ROUTER_CL_IP/24" dev c0 &&
			e2e_link_up "$R" c0 && e2e_link_up "$NS_CLIENT" eth0 &&
			ip -n "$NS_CLIENT" addr add "$CLIENT_IP/24" dev eth0 &&
			ip -n "$NS_CLIENT" route add default via "$ROUTER_CL_IP" ||
			e2e_fail "cannot set up the client"
	fi
	# Replies come from the VIP, which lives behind the nodes: no reverse-path filter.
	ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 || e2e_fail "cannot make $R a router"
	for x in a b; do
		ip link add lan netns "${NS[$x]}" type veth peer name "lan$x" netns "$R" &&
			ip link add srv netns "${NS[$x]}" type veth peer name "srv$x" netns "$R" &&
			ip -n "$R" link set "lan$x" master front && ip -n "$R" link set "srv$x" master back &&
			e2e_link_up "$R" "lan$x" && e2e_link_up "$R" "srv$x" &&
			e2e_link_up "${NS[$x]}" lan && e2e_link_up "${NS[$x]}" srv ||
			e2e_fail "cannot wire node $x"
		# The node's kernel sees the veths too (af_packet reads a copy); on a NIC it would
		# not: no ARP answers and no local delivery there (exception.sh does the same).
		ip netns exec "${NS[$x]}" sysctl -qw net.ipv4.conf.lan.arp_ignore=8 \
			net.ipv4.conf.lan.rp_filter=1 net.ipv4.conf.srv.arp_ignore=8 \
			net.ipv4.conf.srv.rp_filter=1 || e2e_fail "cannot keep node $x's kernel off its veths"
	done
}

# A kernel veth between the nodes' namespaces, "sync", 10.77.0.1/24 on a and .2 on b.
nodes_sync_link_up() {
	ip link add sync netns "${NS[a]}" type veth peer name sync netns "${NS[b]}" &&
		ip -n "${NS[a]}" addr add 10.77.0.1/24 dev sync &&
		ip -n "${NS[b]}" addr add 10.77.0.2/24 dev sync &&
		ip -n "${NS[a]}" link set sync up && ip -n "${NS[b]}" link set sync up ||
		e2e_fail "cannot make the sync link"
}

# The real servers RS_NAMES on the back bridge, as DR and TUN servers are set up
# (docs/real-servers.md): the VIP on lo, no ARP answers or announcements for it.
nodes_servers_net_up() {
	local r ns
	for r in "${RS_NAMES[@]}"; do
		ns=$(e2e_ns_rs "$r")
		e2e_ns_add "$ns" &&
			ip link add eth0 netns "$ns" type veth peer name "$r" netns "$R" &&
			ip -n "$R" link set "$r" master back && e2e_link_up "$R" "$r" &&
			e2e_link_up "$ns" eth0 && ip -n "$ns" addr add "${RS_IP[$r]}/24" dev eth0 &&
			ip -n "$ns" route add default via "$ROUTER_BACK_IP" &&
			ip -n "$ns" addr add "$VIP/32" dev lo &&
			ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.arp_ignore=1 \
				net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.eth0.arp_ignore=1 \
				net.ipv4.conf.eth0.arp_announce=2 ||
			e2e_fail "cannot set up real server $r"
	done
}

# node_write_config NODE LCORES QPAIRS LAN_EXTRA: the node's dp.ini (lan and srv ports on its
# veths, NODE_LAN / NODE_SRV, connection tables in process memory, idle workers back off).
node_write_config() {
	local x=$1 lcores=$2 qpairs=$3 lan_extra=${4:-}
	cat >"$T/$x/dp.ini" <<-EOF
	[dataplane]
	lcores = $lcores
	file_prefix = ${PREFIX[$x]}
	huge_dir = $XVS_HUGE_DIR
	in_memory = yes
	shm = $T/$x/shm
	conn_persist = no
	idle_sleep_us = 100

	[port lan]
	dev = net_af_packet0,iface=lan,qpairs=$qpairs
	addr = ${NODE_LAN[$x]}/24
	$lan_extra

	[port srv]
	dev = net_af_packet1,iface=srv,qpairs=$qpairs
	addr = ${NODE_SRV[$x]}/24
	EOF
}

# node_control_start NODE [OPTION...]: xvs-control in the node's namespace.
node_control_start() {
	local x=$1
	shift
	ip netns exec "${NS[$x]}" "$XVS_CONTROL" --shm "$T/$x/shm" --socket "$T/$x/sock" \
		--state "$T/$x/state.json" --pidfile "$T/$x/ctl.pid" "$@" >>"$T/$x/ctl.log" 2>&1 &
	CPID[$x]=$!
	E2E_PIDS+=("${CPID[$x]}")
	e2e_retry 100 node_api_ok "$x" || e2e_fail "xvs-control of node $x does not answer"
}

node_dataplane_start() {
	ip netns exec "${NS[$1]}" "$XVS_DATAPLANE" -c "$T/$1/dp.ini" >>"$T/$1/dp.log" 2>&1 &
	DPID[$1]=$!
}

# The dataplane attached to its xvs-control, and the router reaches its lan address.
node_dataplane_up() {
	e2e_retry 150 node_attached "$1" ||
		e2e_fail "node $1: the dataplane did not attach: $(tail -n 5 "$T/$1/dp.log")"
	e2e_retry 50 ip netns exec "$R" ping -c 1 -W 1 -q "${NODE_LAN[$1]}" >/dev/null ||
		e2e_fail "node $1 does not answer ping on ${NODE_LAN[$1]}"
}

node_api() { curl -s --max-time 2 --unix-socket "$T/$1/sock" "http://xvs$2"; }
node_api_ok() { node_api "$1" /v1/status | grep -q '"api"'; }
node_attached() { node_api "$1" /v1/status | grep -Eq '"attached": *true'; }
adm_on() {
	local x=$1
	shift
	XVS_CONTROL_SOCKET=$T/$x/sock "$XVSADM" "$@"
}

# nodes_flows_complete OUT N: ecmp_flows.py's client printed N flows, each complete.
nodes_flows_complete() {
	"$PY" - "$1" "$2" <<-'EOF'
	import json, sys
	flows = [json.loads(l) for l in open(sys.argv[1])]
	bad = [f for f in flows if not f["complete"]]
	for f in bad:
	    print("broken:", f)
	sys.exit(1 if bad or len(flows) != int(sys.argv[2]) else 0)
	EOF
}
