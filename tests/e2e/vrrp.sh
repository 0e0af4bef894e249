#!/bin/bash
# A VRRP pair: keepalived's own VRRP (Debian's keepalived, unmodified) on each node's exception
# interface decides which xvs node is master; a node answers ARP for the VIP only while its
# keepalived holds the VIP (vip_neigh = kernel on the lan port). The master's dataplane dies:
# the backup's keepalived takes the VIP and announces it (gratuitous ARP through xvs's
# exception path), and a numbered UDP stream and TCP downloads go on through the backup; the
# UDP loss is the takeover gap, measured and printed. Services are mh over DR servers, which
# both nodes schedule alike, and an rr service, which they do not: its downloads go on because
# node a's sync daemon (master) sent their connections to node b's (backup) over the nodes'
# sync link before the takeover.
#
#  ns client                 ns router
# +---------------+         +--------------------------------------------------------------+
# | eth0          |  veth   | front: bridge 198.18.0.254/24      back: bridge 198.19.0.254/24 |
# | 198.18.0.2/24 |---------|  (client, node a lan, node b lan)   (nodes' srv, rs1..rs3)      |
# | gw .254       |         +-------|-------------------|--------------|-----------|----------+
# +---------------+                 | lan               | lan          | srv       |
#                           ns node a                 ns node b          rs1..rs3 198.19.0.11..13
#                           lan 198.18.0.1 (xvs)       lan 198.18.0.3    VIP on lo, gw .254
#                           srv 198.19.0.1             srv 198.19.0.2
#                           xvs0 198.18.0.11/24        xvs0 198.18.0.12/24 (kernel interfaces)
#                           keepalived: priority 150   keepalived: priority 100
#                           VRRPv3, advert_int 0.1 s, virtual_ipaddress VIP 198.18.0.100/32 dev xvs0
#                           sync 10.77.0.1/24 ===veth=== sync 10.77.0.2/24 (kernel interfaces)
#                           --start-daemon master      --start-daemon backup (syncid 5)
set -u
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
NODES_CLIENT_ON_FRONT=1
. "$E2E_DIR/lib_nodes.sh"

VIP=198.18.0.100
CLIENT_IP=198.18.0.2
declare -A NODE_LAN=([a]=198.18.0.1 [b]=198.18.0.3)
declare -A NODE_HOST=([a]=198.18.0.11 [b]=198.18.0.12)
declare -A NODE_SRV=([a]=198.19.0.1 [b]=198.19.0.2)
declare -A NODE_CPU=([a]=0 [b]=1)
declare -A NODE_PRIO=([a]=150 [b]=100)
RS_NAMES=(rs1 rs2 rs3)
declare -A RS_IP=([rs1]=198.19.0.11 [rs2]=198.19.0.12 [rs3]=198.19.0.13)
EXC=xvs0
FLOWS=6
LINES=160          # one every 50 ms: 8 s per download
UDP_RATE=200       # datagrams per second
SYNC_FLOWS=4       # downloads of the rr service (:8080), kept by connection sync


e2e_need keepalived /dev/net/tun
nodes_init

# ---- topology --------------------------------------------------------------------------
nodes_topology_up
nodes_sync_link_up
nodes_servers_net_up
for r in "${RS_NAMES[@]}"; do
	ns=$(e2e_ns_rs "$r")
	for port in 80 8080; do
		ip netns exec "$ns" "$PY" "$E2E_DIR/ecmp_flows.py" server "$r" 0.0.0.0 "$port" "$LINES" \
			0.05 2>"$T/flows-$r-$port.log" &
		E2E_PIDS+=($!)
	done
	ip netns exec "$ns" "$PY" "$E2E_DIR/slow_stream.py" udp-server "$r" "$VIP" 53 \
		>"$T/udp-$r.log" 2>&1 &
	E2E_PIDS+=($!)
done

# ---- the two nodes ---------------------------------------------------------------------
exc_up() { ip -n "${NS[$1]}" -o link show "$EXC" 2>/dev/null | grep -Eq '<([A-Z_]+,)*UP[,>]'; }
has_vip() { ip -n "${NS[$1]}" -o addr show dev "$EXC" 2>/dev/null | grep -q " $VIP/32 "; }
mac_of() { ip -n "$1" -o link show "$2" | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2; }
for x in a b; do
	node_write_config "$x" "${NODE_CPU[$x]}" 1 \
		$'exception = yes\nexception_name = '"$EXC"$'\nvip_neigh = kernel'
	node_control_start "$x"
done
for x in a b; do
	{
		for p in "-t $VIP:80" "-u $VIP:53"; do
			echo "-A $p -s mh -b mh-port"
			for r in "${RS_NAMES[@]}"; do
				echo "-a $p -r ${RS_IP[$r]} -g -w 1"
			done
		done
		echo "-A -t $VIP:8080 -s rr"
		for r in rs3 rs2 rs1; do
			echo "-a -t $VIP:8080 -r ${RS_IP[$r]} -g -w 1"
		done
	} | adm_on "$x" -R || e2e_fail "node $x refused the rules"
	node_dataplane_start "$x"
done
for x in a b; do
	node_dataplane_up "$x"
	e2e_retry 50 exc_up "$x" || e2e_fail "node $x: no kernel interface $EXC"
	ip -n "${NS[$x]}" addr add "${NODE_HOST[$x]}/24" dev "$EXC" || e2e_fail "cannot address $EXC on node $x"
	cat >"$T/$x/keepalived.conf" <<-EOF
	global_defs {
	    router_id xvs_$x
	    vrrp_version 3
	}
	vrrp_instance xvs_vip {
	    state BACKUP
	    interface $EXC
	    virtual_router_id 51
	    priority ${NODE_PRIO[$x]}
	    advert_int 0.1
	    virtual_ipaddress {
	        $VIP/32 dev $EXC
	    }
	}
	EOF
	ip netns exec "${NS[$x]}" keepalived --dont-fork --vrrp --log-console --log-detail \
		--no-syslog -f "$T/$x/keepalived.conf" -p "$T/$x/keepalived.pid" \
		-r "$T/$x/keepalived-vrrp.pid" >"$T/$x/keepalived.log" 2>&1 &
	E2E_PIDS+=($!)
done
adm_on a --start-daemon master --mcast-interface sync --syncid 5 &&
	adm_on b --start-daemon backup --mcast-interface sync --syncid 5 ||
	e2e_fail "the sync daemons do not start"
MAC_A=$(mac_of "${NS[a]}" lan)
MAC_B=$(mac_of "${NS[b]}" lan)

# ---- node a is master: it alone answers for the VIP ---------------------------------------
e2e_retry 100 has_vip a || e2e_fail "node a's keepalived did not become master: $(tail -n 20 "$T/a/keepalived.log")"
# both start as backups: node b may hold the VIP until node a's first advertisement reaches it
no_vip() { ! has_vip "$1"; }
e2e_retry 50 no_vip b || e2e_fail "node b holds the VIP too"
vip_mac() { ip -n "$NS_CLIENT" neigh show "$VIP" | grep -o 'lladdr [0-9a-f:]*' | cut -d' ' -f2; }
# One ARP request for the VIP: node a's kernel answers (through xvs, with the port's MAC); node
# b's kernel, which does not hold the VIP, stays silent, and neither dataplane answers itself.
arp=$(ip netns exec "$NS_CLIENT" "$PY" "$E2E_DIR/arp_count.py" eth0 198.18.0.9 0.5 "$VIP") ||
	e2e_fail "arp_count.py failed"
expect_eq "answers to one ARP request for the VIP" "$arp" "$VIP 1 $MAC_A"
ip -n "$NS_CLIENT" neigh flush all
e2e_retry 50 ip netns exec "$NS_CLIENT" ping -c 1 -W 1 -q "$VIP" >/dev/null ||
	e2e_fail "the client cannot ping the VIP through node a"
expect_eq "the client reaches the VIP at node a's MAC" "$(vip_mac)" "$MAC_A"
e2e_log "node a master, node b backup (VIP on a's $EXC only); work dir $T"

# ---- traffic through node a ----------------------------------------------------------------
ip netns exec "$NS_CLIENT" "$PY" "$E2E_DIR/slow_stream.py" udp-client "$VIP" 53 "$UDP_RATE" \
	"$T/udp.stop" "$T/udp.progress" >"$T/udp.out" 2>"$T/udp.err" &
UDP_PID=$!
E2E_PIDS+=("$UDP_PID")
ip netns exec "$NS_CLIENT" "$PY" "$E2E_DIR/ecmp_flows.py" client "$VIP" 80 42000 "$FLOWS" \
	"$LINES" "$T/ready.json" 60 >"$T/flows.out" 2>"$T/flows.err" &
TCP_PID=$!
E2E_PIDS+=("$TCP_PID")
ip netns exec "$NS_CLIENT" "$PY" "$E2E_DIR/ecmp_flows.py" client "$VIP" 8080 43000 \
	"$SYNC_FLOWS" "$LINES" "$T/ready-rr.json" 60 >"$T/flows-rr.out" 2>"$T/flows-rr.err" &
RR_PID=$!
E2E_PIDS+=("$RR_PID")
answered() { [ -s "$T/udp.progress" ] && cat "$T/udp.progress" | awk '{ print $1 }' | tail -n 1; }
udp_past() { local n; n=$(answered); [ -n "$n" ] && [ "$n" -ge "$1" ]; }
e2e_retry 100 udp_past 100 || e2e_fail "the UDP stream does not get answers: $(cat "$T/udp.err")"
e2e_retry 100 test -s "$T/ready.json" || e2e_fail "the downloads did not start"
e2e_retry 100 test -s "$T/ready-rr.json" || e2e_fail "the rr downloads did not start"
on_a=$(node_api a /v1/conns | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["conns"]))')
[ "$on_a" -ge $((FLOWS + SYNC_FLOWS + 1)) ] ||
	e2e_fail "node a holds $on_a connections, not the $((FLOWS + SYNC_FLOWS)) downloads and the stream"
# node b's backup daemon has node a's rr connections, ESTABLISHED, before the takeover
synced() {
	[ "$(node_api b /v1/conns | "$PY" -c 'import json,sys
n = [c for c in json.load(sys.stdin)["conns"] if c["vport"] == 8080 and c["state"] == "ESTABLISHED"]
print(len(n))')" -ge "$SYNC_FLOWS" ]
}
e2e_retry 100 synced || e2e_fail "node b did not learn node a's rr connections: $(node_api b /v1/conns)"
e2e_ok "node b's backup daemon holds node a's $SYNC_FLOWS rr connections"

# ---- node a's dataplane dies ---------------------------------------------------------------
# while every download is still running: what follows tests them across the takeover
kill -0 "$TCP_PID" 2>/dev/null && kill -0 "$RR_PID" 2>/dev/null ||
	e2e_fail "the downloads ended before the takeover (the wait for the sync took too long)"
t0=$(date +%s%N)
kill -KILL "${DPID[a]}"
KILLED=${DPID[a]}
DPID[a]=""
e2e_retry 100 has_vip b || e2e_fail "node b's keepalived did not take the VIP: $(tail -n 20 "$T/b/keepalived.log")"
t1=$(date +%s%N)
e2e_retry 100 eval '[ "$(vip_mac)" = "$MAC_B" ]' ||
	e2e_fail "the client still sends to $(vip_mac), not node b ($MAC_B)"
t2=$(date +%s%N)
e2e_log "takeover: node b holds the VIP $(( (t1 - t0) / 1000000 )) ms after the kill, the client moved to it after $(( (t2 - t0) / 1000000 )) ms"
{ wait "$KILLED"; } 2>/dev/null
before=$(answered)
e2e_retry 100 udp_past $((before + 100)) || e2e_fail "the UDP stream stopped at $before answers"
touch "$T/udp.stop"
e2e_wait_exit "$UDP_PID" 100 || e2e_fail "the UDP client does not stop"
wait "$UDP_PID"
udp=$(cat "$T/udp.out")
e2e_log "UDP stream: $udp"
gap=$(json_get gap_ms <<<"$udp")
lost=$(json_get lost <<<"$udp")
e2e_log "takeover gap: ${gap} ms, ${lost} datagrams lost at $UDP_RATE/s"
[ "${gap%.*}" -lt 2000 ] || e2e_fail "the takeover gap is ${gap} ms (measured 275-345 ms)"
[ "$lost" -le $(( ${gap%.*} * UDP_RATE / 1000 + UDP_RATE / 5 )) ] ||
	e2e_fail "$lost datagrams lost, more than the gap of ${gap} ms explains"
servers=$(json_get servers <<<"$udp")
[ "$(json_get servers <<<"$udp" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')" -eq 1 ] ||
	e2e_fail "the stream was answered by several servers: $servers"
e2e_ok "the UDP stream went on through node b, answered by one server ($servers)"

e2e_wait_exit "$TCP_PID" 600 || e2e_fail "the downloads did not end"
wait "$TCP_PID"
nodes_flows_complete "$T/flows.out" "$FLOWS" || e2e_fail "a download broke"
# (synced too, so node b needed no mid-stream scheduling for them: e2e ecmp tests that)
e2e_ok "all $FLOWS mh downloads completed through node b"
e2e_wait_exit "$RR_PID" 600 || e2e_fail "the rr downloads did not end"
wait "$RR_PID"
nodes_flows_complete "$T/flows-rr.out" "$SYNC_FLOWS" || e2e_fail "an rr download broke"
e2e_ok "all $SYNC_FLOWS rr downloads completed through node b on their synced connections"
kill -0 "${DPID[b]}" || e2e_fail "node b's dataplane died"
