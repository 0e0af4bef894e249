#!/bin/bash
# Connection synchronisation between two xvs nodes (IPVS's sync daemons, version-1 messages):
# node a is the master (one lcore), node b the backup (two workers: each entry goes to the
# worker that owns its client), and their sync interfaces are one kernel veth link. Clients
# reach the VIP through node a; node b learns their connections (and a persistent service's
# template) from node a's multicast messages, lists them as node a does, and forwards them
# once the router sends the VIP to it (a takeover): they go on, to the same real servers.
#
#  ns client             ns router (ip_forward)
# +---------------+     +----------------------------------------------------------+
# | eth0          |veth | c0 198.18.1.1/24                                         |
# | 198.18.1.2/24 |-----|  VIP 198.18.10.100/32 via 198.18.0.1 (node a), later .2   |
# | gw .1         |     |  front: bridge 198.18.0.254/24   back: bridge 198.19.0.254/24
# +---------------+     +----|--------------------|------------|-------|-----------+
#                            | lan                | lan   srv  |       |
#                      ns node a: 198.18.0.1    ns node b: .2  |   rs1, rs2 198.19.0.11, .12
#                      srv 198.19.0.1           srv .2 --------+   VIP on lo (DR), gw .254
#                      sync 10.77.0.1/24 ==veth== sync 10.77.0.2/24  (multicast 224.0.0.81:8848)
#                      xvs-control + xvs-dataplane on each node, the same rules (rr, DR):
#                      TCP VIP:80, and UDP VIP:53 persistent (-p 60)
#
# Steps: (1) -L --daemon prints ipvsadm's lines; a second start and a stop of what does not run
# give ipvsadm's errors; (2) a backup of another syncid refuses the master's messages (counted)
# and learns nothing; (3) with the same syncid, node b lists node a's held connections (same
# client, server and state; the UDP flow and its template too) within a bounded wait, and
# Wireshark's dissector reads the
# messages on the wire as version 1 with those connections; (4) the router moves the VIP to
# node b and every held connection goes on, answered by the server it had; (5) the daemons
# survive a restart of xvs-control and of the dataplane; (6) stop-daemon stops them.
#
# `sync.sh ipv6` (sync_ipv6) runs the same with the messages sent to the IPv6 group ff02::8848
# (the sync link has IPv6 addresses fd00:77::1 and ::2), so a message holds at most 1452
# bytes (1500 less the IPv6 and UDP headers).
set -u
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
. "$E2E_DIR/lib_nodes.sh"

VIP=198.18.10.100
CLIENT_IP=198.18.1.2
declare -A NODE_LAN=([a]=198.18.0.1 [b]=198.18.0.2)
declare -A NODE_SRV=([a]=198.19.0.1 [b]=198.19.0.2)
declare -A NODE_LCORES=([a]=0 [b]=0@1,1@0,2@1) # b: the main lcore and two workers
declare -A NODE_QPAIRS=([a]=1 [b]=2)
RS_NAMES=(rs1 rs2)
declare -A RS_IP=([rs1]=198.19.0.11 [rs2]=198.19.0.12)
HELD=16
MODE=${1:-ipv4}
case $MODE in
ipv4) GROUP_OPT=(); GROUP=224.0.0.81; MAXLEN=1472 ;;
ipv6) GROUP_OPT=(--mcast-group ff02::8848); GROUP=ff02::8848; MAXLEN=1452 ;;
*) echo "usage: sync.sh [ipv4|ipv6]" >&2; exit 2 ;;
esac
CAP_PID=""

nodes_init
NODES_PRE_CLEANUP+=('[ -n "$CAP_PID" ] && kill -TERM "$CAP_PID" 2>/dev/null')
e2e_need tshark

# ---- topology --------------------------------------------------------------------------
nodes_topology_up
# the sync link: kernel interfaces of the nodes' namespaces, no dataplane port
nodes_sync_link_up
if [ "$MODE" = ipv6 ]; then
	for x in a b; do
		ip netns exec "${NS[$x]}" sysctl -qw net.ipv6.conf.sync.disable_ipv6=0 \
			net.ipv6.conf.sync.accept_dad=0 &&
			ip -n "${NS[$x]}" -6 addr add "fd00:77::$([ "$x" = a ] && echo 1 || echo 2)/64" \
				dev sync nodad ||
			e2e_fail "cannot give node $x's sync link IPv6"
	done
fi
nodes_servers_net_up

# ---- real servers: a line echo that names the server -----------------------------------
cat >"$T/echo.py" <<-'EOF'
	import socket, sys, threading
	name = sys.argv[1]
	s = socket.socket()
	s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	s.bind(("0.0.0.0", 80))
	s.listen(64)
	u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	u.bind(("0.0.0.0", 53))
	def udp():
	    while True:
	        d, a = u.recvfrom(2048)
	        u.sendto(name.encode() + b" " + d, a)
	threading.Thread(target=udp, daemon=True).start()
	def serve(c):
	    f = c.makefile("rb")
	    for line in f:
	        c.sendall(name.encode() + b" " + line)
	    c.close()
	while True:
	    c, _ = s.accept()
	    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
for r in "${RS_NAMES[@]}"; do
	ip netns exec "$(e2e_ns_rs "$r")" "$PY" "$T/echo.py" "$r" 2>"$T/echo-$r.log" &
	E2E_PIDS+=($!)
done

# The client: N connections from ports FIRST.., each sends a line and reads the answer
# (SYN, ACK, data: IPVS's master syncs at the third packet), writes "port server" lines to
# READY, waits for GO to exist, sends another line on each and prints "port first second"
# (the servers that answered), or "port first BROKEN".
cat >"$T/client.py" <<-'EOF'
	import os, socket, sys, time
	vip, first, n, ready, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
	conns = []
	for i in range(n):
	    s = socket.socket()
	    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	    s.bind(("0.0.0.0", first + i))
	    s.settimeout(5)
	    s.connect((vip, 80))
	    s.sendall(b"hello %d\n" % i)
	    f = s.makefile("rb")
	    conns.append((s, f, f.readline().split()[0].decode()))
	with open(ready + ".tmp", "w") as out:
	    for i, c in enumerate(conns):
	        out.write("%d %s\n" % (first + i, c[2]))
	os.rename(ready + ".tmp", ready)
	if go == "-":
	    sys.exit(0)
	end = time.time() + 120
	while not os.path.exists(go) and time.time() < end:
	    time.sleep(0.05)
	for i, (s, f, srv) in enumerate(conns):
	    try:
	        s.sendall(b"again %d\n" % i)
	        second = f.readline().split()[0].decode()
	    except Exception:
	        second = "BROKEN"
	    print(first + i, srv, second, flush=True)
EOF

# The UDP client: N datagrams from port SPORT, one at a time; prints the server of each answer.
cat >"$T/udp.py" <<-'EOF'
	import socket, sys
	vip, sport, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	s.bind(("0.0.0.0", sport))
	s.settimeout(2)
	for i in range(n):
	    for attempt in range(3):
	        s.sendto(b"u %d\n" % i, (vip, 53))
	        try:
	            print(s.recv(2048).split()[0].decode(), flush=True)
	            break
	        except socket.timeout:
	            pass
	    else:
	        sys.exit("no answer to datagram %d" % i)
EOF

# ---- the two nodes ---------------------------------------------------------------------
for x in a b; do
	node_write_config "$x" "${NODE_LCORES[$x]}" "${NODE_QPAIRS[$x]}"
	node_control_start "$x"
done
for x in a b; do
	printf '%s\n' "-A -t $VIP:80 -s rr" "-a -t $VIP:80 -r ${RS_IP[rs1]}:80 -g -w 1" \
		"-a -t $VIP:80 -r ${RS_IP[rs2]}:80 -g -w 1" "-A -u $VIP:53 -s rr -p 60" \
		"-a -u $VIP:53 -r ${RS_IP[rs1]}:53 -g -w 1" "-a -u $VIP:53 -r ${RS_IP[rs2]}:53 -g -w 1" |
		adm_on "$x" -R ||
		e2e_fail "node $x refused the rules"
	node_dataplane_start "$x"
done
for x in a b; do
	node_dataplane_up "$x"
done
ip -n "$R" route add "$VIP/32" via "${NODE_LAN[a]}" || e2e_fail "cannot route the VIP to node a"
e2e_log "two nodes up: work dir $T"

# ---- (1) the daemons, as ipvsadm shows them --------------------------------------------
MASTER_LINE="master sync daemon (mcast=sync, syncid=7, maxlen=$MAXLEN, group=$GROUP, port=8848, ttl=1)"
adm_on a --start-daemon master --mcast-interface sync --syncid 7 "${GROUP_OPT[@]}" ||
	e2e_fail "start-daemon master"
adm_on b --start-daemon backup --mcast-interface sync --syncid 9 "${GROUP_OPT[@]}" ||
	e2e_fail "start-daemon backup"
expect_eq "node a -L --daemon" "$(adm_on a -L --daemon)" "$MASTER_LINE"
expect_eq "node b -L --daemon" "$(adm_on b -L --daemon)" \
	"backup sync daemon (mcast=sync, syncid=9, maxlen=$MAXLEN, group=$GROUP, port=8848, ttl=1)"
out=$(adm_on a --start-daemon master --mcast-interface sync 2>&1)
rc=$?
expect_eq "second start-daemon master: status" "$rc" 255
expect_eq "second start-daemon master: message" "$out" "Daemon has already run"
out=$(adm_on a --stop-daemon backup 2>&1)
rc=$?
expect_eq "stop-daemon of no daemon: status" "$rc" 255
expect_eq "stop-daemon of no daemon: message" "$out" "No daemon is running"
e2e_retry 50 grep -q "sync master daemon started" "$T/a/dp.log" ||
	e2e_fail "node a's dataplane did not start the master"
e2e_retry 50 grep -q "sync backup daemon started" "$T/b/dp.log" ||
	e2e_fail "node b's dataplane did not start the backup"
e2e_ok "-L --daemon prints ipvsadm's lines; ipvsadm's errors for a second start and a stop of nothing"

# ---- (2) another syncid: refused --------------------------------------------------------
main_sync() { # node field: the main lcore's sync counter (GET /v1/stats?per_worker=1)
	node_api "$1" "/v1/stats?per_worker=1" | "$PY" -c 'import json,sys
d = json.load(sys.stdin); path = sys.argv[1].split(".")
v = d["main_lcore"]["sync"]
for p in path: v = v[p]
print(v)' "$2"
}
workers_sync() { # node field: the workers' sum
	node_api "$1" /v1/stats | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["sync"][sys.argv[1]])' "$2"
}
gt0() { local v; v=$("$@") && [ "${v:-0}" -gt 0 ]; }
ip netns exec "$NS_CLIENT" "$PY" "$T/client.py" "$VIP" 42000 2 "$T/probe.ready" - >"$T/probe.out" 2>&1 ||
	e2e_fail "probe connections through node a failed: $(cat "$T/probe.out")"
e2e_retry 50 gt0 main_sync b refused.syncid ||
	e2e_fail "node b did not refuse messages of syncid 7 (its own is 9)"
expect_eq "connections node b learnt under another syncid" "$(workers_sync b applied)" 0
e2e_ok "a backup of syncid 9 refuses the master's messages of syncid 7 ($(main_sync b refused.syncid) counted)"

adm_on b --stop-daemon backup || e2e_fail "stop-daemon backup"
adm_on b --start-daemon backup --mcast-interface sync --syncid 7 "${GROUP_OPT[@]}" ||
	e2e_fail "start-daemon backup"
expect_eq "node b -L --daemon" "$(adm_on b -L --daemon)" \
	"backup sync daemon (mcast=sync, syncid=7, maxlen=$MAXLEN, group=$GROUP, port=8848, ttl=1)"

# ---- (3) held connections through node a, learnt by node b -------------------------------
ip netns exec "${NS[b]}" tshark -q -i sync -f "udp port 8848" -w "$T/sync.pcap" >"$T/tshark.log" 2>&1 &
CAP_PID=$!
e2e_retry 50 grep -q "Capturing on" "$T/tshark.log" || e2e_fail "tshark does not capture on node b"
restarted() { [ "$(grep -c "sync backup daemon started" "$T/b/dp.log")" -ge 2 ]; }
e2e_retry 50 restarted || e2e_fail "node b's dataplane did not restart the backup"
ip netns exec "$NS_CLIENT" "$PY" "$T/client.py" "$VIP" 43000 "$HELD" "$T/held.ready" "$T/go" \
	>"$T/held.out" 2>"$T/held.err" &
CLIENT_PID=$!
E2E_PIDS+=("$CLIENT_PID")
e2e_retry 100 test -s "$T/held.ready" || e2e_fail "the held connections did not open: $(cat "$T/held.err")"
# UDP to the persistent service: three datagrams (IPVS's master syncs at the third), one flow
udp_first=$(ip netns exec "$NS_CLIENT" "$PY" "$T/udp.py" "$VIP" 44000 3 2>"$T/udp.err") ||
	e2e_fail "UDP through node a: $(cat "$T/udp.err")"
udp_server=$(sort -u <<<"$udp_first")
expect_eq "servers that answered the UDP flow" "$(grep -c . <<<"$udp_server")" 1
rows() { # node: "pro state source virtual destination" of the client's held TCP connections,
	 # its UDP flow and its template (client port 0), sorted
	adm_on "$1" -L -c -n |
		awk -v c="$CLIENT_IP" '$4 ~ "^"c":(43[0-9]+|44000|0)$" { print $1, $3, $4, $5, $6 }' | sort
}
on_a=$(rows a)
expect_eq "TCP connections listed by node a" "$(grep -c ESTABLISHED <<<"$on_a")" "$HELD"
expect_eq "UDP flow listed by node a" "$(grep -c "^UDP UDP $CLIENT_IP:44000 " <<<"$on_a")" 1
expect_eq "UDP template listed by node a" "$(grep -c "^UDP UDP $CLIENT_IP:0 $VIP:53 " <<<"$on_a")" 1
same_rows() { [ "$(rows b)" = "$on_a" ]; }
e2e_retry 50 same_rows || e2e_fail "node b does not list node a's connections:
node a:
$on_a
node b:
$(rows b)"
adm_on b -L -c -n
e2e_ok "node b lists node a's $HELD held connections, its UDP flow and its template: same client, real server and state"
per_worker_applied() { # node b: the entries each worker applied
	node_api b "/v1/stats?per_worker=1" | "$PY" -c 'import json,sys
print(" ".join(str(w["sync"]["applied"]) for w in json.load(sys.stdin)["per_worker"]))'
}
applied=$(per_worker_applied)
e2e_log "entries applied by node b's workers: $applied"
for n in $applied; do
	[ "$n" -gt 0 ] || e2e_fail "a worker of node b applied no entry ($applied): the entries do not reach their owners"
done

kill -TERM "$CAP_PID"
wait "$CAP_PID" 2>/dev/null
CAP_PID=""
tshark -r "$T/sync.pcap" -d udp.port==8848,ipvs -T fields -e ipvs.syncid -e ipvs.caddr \
	-e ipvs.cport -e ipvs.vaddr -e ipvs.vport -e ipvs.daddr -e ipvs.state -e ipvs.timeout \
	-E occurrence=f >"$T/decoded.txt" 2>"$T/decoded.err" ||
	e2e_fail "tshark cannot read the capture: $(cat "$T/decoded.err")"
tshark -r "$T/sync.pcap" -d udp.port==8848,ipvs -T fields -e ipvs.version >"$T/versions.txt" 2>&1
"$PY" - "$T/decoded.txt" "$T/held.ready" "$CLIENT_IP" "$VIP" "${RS_IP[rs1]}" "${RS_IP[rs2]}" <<-'EOF' ||
	import sys
	rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
	ports = {l.split()[0] for l in open(sys.argv[2])}
	client, vip, servers = sys.argv[3], sys.argv[4], set(sys.argv[5:])
	good = [r for r in rows if r[0] == "7" and r[1] == client and r[2] in ports and r[3] == vip
	        and r[4] == "80" and r[5] in servers and int(r[6], 0) == 1 and int(r[7]) > 0]
	print("messages decoded:", len(rows), "naming a held connection, ESTABLISHED:", len(good))
	sys.exit(0 if good else 1)
	EOF
	e2e_fail "Wireshark's IPVS dissector finds no message of syncid 7 naming a held connection: $(head -n 5 "$T/decoded.txt")"
grep -qx 1 "$T/versions.txt" || e2e_fail "Wireshark decodes no version-1 message: $(sort -u "$T/versions.txt")"
e2e_ok "Wireshark's IPVS dissector reads the messages as version 1, syncid 7, with the held connections"

# ---- (4) the takeover -------------------------------------------------------------------
ip -n "$R" route replace "$VIP/32" via "${NODE_LAN[b]}" || e2e_fail "cannot move the VIP to node b"
touch "$T/go"
e2e_wait_exit "$CLIENT_PID" 300 || e2e_fail "the held connections did not finish"
cat "$T/held.out"
expect_eq "held connections answered after the takeover" "$(grep -c . "$T/held.out")" "$HELD"
broken=$(awk '$2 != $3' "$T/held.out")
[ -z "$broken" ] || e2e_fail "connections broken or moved to another server after the takeover:
$broken"
udp_after=$(ip netns exec "$NS_CLIENT" "$PY" "$T/udp.py" "$VIP" 44000 1 2>"$T/udp.err") ||
	e2e_fail "UDP through node b: $(cat "$T/udp.err")"
expect_eq "the UDP flow's server after the takeover" "$udp_after" "$udp_server"
e2e_ok "after the takeover every held connection and the UDP flow go on through node b, to their servers"

# ---- (5) the daemons outlive xvs-control and the dataplane --------------------------------
kill -TERM "${CPID[a]}"
e2e_wait_exit "${CPID[a]}" 50 || e2e_fail "xvs-control of node a does not stop"
node_control_start a
expect_eq "node a -L --daemon after a restart of xvs-control" "$(adm_on a -L --daemon)" "$MASTER_LINE"
e2e_ok "the master daemon is kept in the state file across a restart of xvs-control"
kill -TERM "${DPID[a]}"
e2e_wait_exit "${DPID[a]}" 100 || e2e_fail "node a's dataplane does not stop"
wait "${DPID[a]}" 2>/dev/null
node_dataplane_start a
master_again() { [ "$(grep -c "sync master daemon started" "$T/a/dp.log")" -ge 2 ]; }
e2e_retry 150 master_again || e2e_fail "node a's new dataplane did not start the master"
e2e_ok "a new dataplane starts the master daemon from the generation"

# ---- (6) stop-daemon --------------------------------------------------------------------
adm_on a --stop-daemon master || e2e_fail "stop-daemon master"
adm_on b --stop-daemon backup || e2e_fail "stop-daemon backup"
expect_eq "node a -L --daemon once stopped" "$(adm_on a -L --daemon)" ""
expect_eq "node b -L --daemon once stopped" "$(adm_on b -L --daemon)" ""
e2e_retry 50 grep -q "sync master daemon stopped" "$T/a/dp.log" ||
	e2e_fail "node a's dataplane did not stop the master"
e2e_retry 50 grep -q "sync backup daemon stopped" "$T/b/dp.log" ||
	e2e_fail "node b's dataplane did not stop the backup"
out=$(adm_on b --stop-daemon backup 2>&1)
expect_eq "stop-daemon once stopped" "$out" "No daemon is running"
e2e_ok "stop-daemon stops both daemons"
