#!/bin/bash
# The exception path to the kernel. The lan port has a kernel interface, xvs0 (net_tap, the
# port's MAC and MTU), that takes what the dataplane does not consume; the host's own address
# 198.18.0.3 lives on it, and so does the VIP (as keepalived would put it there), to prove
# that only one owner answers for each address. With it on:
#  (a) a TCP session from the client to the host's address works both ways (tcp_echo.py);
#  (b) BIRD on the host (xvs0) and BIRD in the client's namespace reach Established over BGP,
#      and the client learns the host's route;
#  (c) HTTP through the VIP keeps reaching the real servers meanwhile;
#  (d) ARP for the host's address is answered once (by the kernel: tcpdump on xvs0 sees the
#      request and the answer), for the VIP and the port's address once (by xvs: the kernel
#      never sees those requests, though it holds the VIP), all with the port's MAC;
#  (e) the exception counters moved (GET /v1/stats, xvsadm --status), nothing was dropped on
#      the way, and the dataplane's exit removes xvs0;
#  (f) over IPv6, the host's address on xvs0 is resolved by neighbour discovery (the kernel's
#      advertisement) and answers ping;
#  (g) a dataplane with exception_rate = 20 and exception_burst = 5 lets through only what
#      the rate allows of a ping burst, and counts the rest as exception-rate;
#  (h) (before (g)) with xvs0 taken down the kernel takes nothing (the tap's writes fail):
#      pings to the host's address go unanswered and are counted as exception-kernel;
#  (i) (one lcore only) with vip_neigh = kernel, ARP for the VIP and neighbour solicitations
#      for an IPv6 VIP are answered (by the kernel, with the port's MAC) only while xvs0 holds
#      the VIP; the port's own address is still xvs's.
# With the argument "workers" the same runs over two workers (af_packet qpairs=2, so the main
# lcore has no TX queue of its own: worker 0 sends the kernel's frames, and the host's
# packets are handed between workers before they reach the kernel); without, over one lcore
# that is main lcore and worker.
#
#   ns client                    ns lb                                        ns rsN
#  +--------------------+  veth +----------------------------------------+   +-----------+
#  | eth0 198.18.0.2/24 |-------| lan  xvs-dataplane (198.18.0.1,   srv  |---| rs1 rs2   |
#  | BIRD AS 65002      |       |  |    VIP 198.18.0.100)                |br | rs3  :80  |
#  | tcp_echo client    |       |  | exception path: what xvs does not   |   +-----------+
#  +--------------------+       |  | consume <-> xvs0 (kernel)           |
#                               |  v                                     |
#                               | xvs0 198.18.0.3/24, VIP/32             |
#                               | BIRD AS 65001, tcp_echo server :2222   |
#                               +----------------------------------------+
set -o pipefail
. "$(dirname "$0")/lib.sh"

HOST_IP=198.18.0.3
ROUTE=198.18.200.0/24 # what the host announces over BGP
HOST_IP6=2001:db8:0:1::3
CLIENT_IP6=2001:db8:0:1::2
EXC=xvs0
E2E_LAN_EXTRA=$'exception = yes\nexception_name = '$EXC
MODE=${1:-one}
case "$MODE" in
one) ;;
workers)
	# three lcores on the test machines' two CPUs: workers back off 20 us when idle
	E2E_LCORES="0@0,1@1,2@0"
	E2E_QPAIRS=2
	E2E_DP_EXTRA="idle_sleep_us = 20"
	;;
*) echo "usage: exception.sh [one|workers]" >&2; exit 2 ;;
esac

e2e_need bird birdc /dev/net/tun

e2e_start
# The testbed's port is a veth that the lb namespace's kernel sees too (af_packet reads a
# copy of each frame); on a DPDK NIC the kernel never does. Keep that kernel off lan, or it
# would answer ARP there for the addresses of xvs0 and take the client's packets twice: no
# ARP answers on lan, and no local delivery of what arrives on it (strict reverse path: the
# client's network is behind xvs0).
ip netns exec "$NS_LB" sysctl -qw net.ipv4.conf.lan.arp_ignore=8 net.ipv4.conf.lan.rp_filter=1 ||
	e2e_fail "cannot keep the lb namespace's kernel off lan"

# Background processes are started with ip netns exec itself (no shell function between),
# so that $! is their own PID, which the cleanup stops.
lb() { ip netns exec "$NS_LB" "$@"; }
cl() { ip netns exec "$NS_CLIENT" "$@"; }
mac_of() { ip -n "$1" -o link show "$2" | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2; }
mtu_of() { ip -n "$1" -o link show "$2" | grep -o 'mtu [0-9]*' | cut -d' ' -f2; }
# N GETs through the VIP: all answered by the real servers, in rr order with one worker (each
# worker has its own rr position: with two, every server answers)
vip_http() {
	local what=$1 n=$2 got r
	got=$(http_seq "$n")
	if [ "$MODE" = one ]; then
		expect_eq "$what" "$got" "$(cycle "$n" rs1 rs2 rs3)"
		return
	fi
	for r in "${RS_NAMES[@]}"; do
		[ "$(count_word "$r" "$got")" -gt 0 ] || e2e_fail "$what: $r got none: $got"
	done
	[ "$(($(count_word rs1 "$got") + $(count_word rs2 "$got") + $(count_word rs3 "$got")))" -eq "$n" ] ||
		e2e_fail "$what: $got"
	e2e_ok "$what ($got)"
}
exc_up() { ip -n "$NS_LB" -o link show "$EXC" 2>/dev/null | grep -Eq '<([A-Z_]+,)*UP[,>]'; }

# The kernel interface: there, up, with the port's MAC and MTU; then the host's addresses.
e2e_retry 50 exc_up || e2e_fail "no kernel interface $EXC is up in the lb namespace"
LAN_MAC=$(mac_of "$NS_LB" lan)
expect_eq "$EXC has the port's MAC" "$(mac_of "$NS_LB" "$EXC")" "$LAN_MAC"
expect_eq "$EXC has the port's MTU" "$(mtu_of "$NS_LB" "$EXC")" "$(mtu_of "$NS_LB" lan)"
grep -q "port lan: exception interface $EXC" "$T/dp.log" || e2e_fail "the log does not name $EXC"
if [ "$MODE" = workers ]; then
	grep -q "exception interface $EXC.*kernel frames sent by worker 0" "$T/dp.log" ||
		e2e_fail "with two workers and no spare TX queue, worker 0 should send the kernel's frames"
fi
ip -n "$NS_LB" addr add "$HOST_IP/24" dev "$EXC" &&
	ip -n "$NS_LB" addr add "$VIP/32" dev "$EXC" || e2e_fail "cannot address $EXC"

e2e_rr_http_service
vip_http "HTTP through the VIP" 6

# (d) one answer per address on the wire, each with the port's MAC (198.18.0.9: a source
# nobody uses); and who gave it, from the kernel's side of xvs0: the kernel saw the request
# for its address only, and answered that one only
ip netns exec "$NS_LB" tcpdump -i "$EXC" -n -l arp >"$T/xvs0-arp.txt" 2>"$T/xvs0-tcpdump.err" &
tcpdump_pid=$!
E2E_PIDS+=($tcpdump_pid)
e2e_retry 50 grep -q "listening on" "$T/xvs0-tcpdump.err" || e2e_fail "tcpdump on $EXC does not start"
got=$(cl "$PY" "$E2E_DIR/arp_count.py" eth0 198.18.0.9 1 "$HOST_IP" "$VIP" "$LB_LAN_IP") ||
	e2e_fail "arp_count.py failed: $got"
for a in "$HOST_IP" "$VIP" "$LB_LAN_IP"; do
	expect_eq "answers to who-has $a on the wire" "$(grep "^$a " <<<"$got" | cut -d' ' -f2-)" "1 $LAN_MAC"
done
e2e_retry 25 grep -q "Reply $HOST_IP is-at" "$T/xvs0-arp.txt" ||
	e2e_fail "the kernel's answer for $HOST_IP did not leave through $EXC: $(cat "$T/xvs0-arp.txt")"
kill -TERM "$tcpdump_pid"
wait "$tcpdump_pid" 2>/dev/null
arp_seen() { grep -c "$1" "$T/xvs0-arp.txt"; }
expect_eq "requests for $HOST_IP the kernel got" "$(arp_seen "who-has $HOST_IP tell 198.18.0.9")" 1
expect_eq "answers for $HOST_IP the kernel gave" "$(arp_seen "Reply $HOST_IP is-at")" 1
for a in "$VIP" "$LB_LAN_IP"; do
	expect_eq "requests for $a the kernel got (xvs answers)" "$(arp_seen "who-has $a ")" 0
	expect_eq "answers for $a the kernel gave" "$(arp_seen "Reply $a is-at")" 0
done

# (a) + (c): an interactive-paced TCP session with the host while HTTP goes through the VIP
ip netns exec "$NS_LB" "$PY" "$E2E_DIR/tcp_echo.py" server "$HOST_IP" 2222 >"$T/echo-server.log" 2>&1 &
E2E_PIDS+=($!)
e2e_retry 50 grep -q listening "$T/echo-server.log" || e2e_fail "the echo server does not listen"
ip netns exec "$NS_CLIENT" "$PY" "$E2E_DIR/tcp_echo.py" client "$HOST_IP" 2222 300000 1500 10 \
	>"$T/echo-client.log" 2>&1 &
echo_pid=$!
E2E_PIDS+=($echo_pid)
vip_http "HTTP through the VIP during the session" 12
wait "$echo_pid" || e2e_fail "the TCP session with $HOST_IP failed: $(cat "$T/echo-client.log")"
grep -q "^echoed 300000 " "$T/echo-client.log" || e2e_fail "echo: $(cat "$T/echo-client.log")"
grep -q "connection from $CLIENT_IP:" "$T/echo-server.log" ||
	e2e_fail "the server did not see the client's own address: $(cat "$T/echo-server.log")"
e2e_ok "300000 bytes went to $HOST_IP:2222 and came back unchanged, while the VIP served HTTP"

# (b) BGP between BIRD on the host's kernel interface and BIRD in the client's namespace
bird_conf() { # router-id local-as peer peer-as export-static
	cat <<-EOF
	router id $1;
	log stderr all;
	protocol device { scan time 2; }
	protocol static { ipv4; route $ROUTE blackhole; }
	protocol bgp peer {
		local $1 as $2;
		neighbor $3 as $4;
		connect delay time 1;
		connect retry time 2;
		error wait time 1, 5;
		hold time 9;
		ipv4 { import all; export $5; };
	}
	EOF
}
bird_conf "$HOST_IP" 65001 "$CLIENT_IP" 65002 "where proto = \"static1\"" >"$T/bird-host.conf"
bird_conf "$CLIENT_IP" 65002 "$HOST_IP" 65001 none >"$T/bird-client.conf"
ip netns exec "$NS_LB" bird -f -c "$T/bird-host.conf" -s "$T/bird-host.ctl" -P "$T/bird-host.pid" \
	>"$T/bird-host.log" 2>&1 &
bird_pid[0]=$!
E2E_PIDS+=($!)
ip netns exec "$NS_CLIENT" bird -f -c "$T/bird-client.conf" -s "$T/bird-client.ctl" \
	-P "$T/bird-client.pid" >"$T/bird-client.log" 2>&1 &
bird_pid[1]=$!
E2E_PIDS+=($!)
established() { birdc -s "$1" show protocols peer 2>/dev/null | grep -q Established; }
e2e_retry 150 established "$T/bird-host.ctl" ||
	e2e_fail "BGP (host side) not Established: $(birdc -s "$T/bird-host.ctl" show protocols all peer 2>&1)"
e2e_retry 50 established "$T/bird-client.ctl" ||
	e2e_fail "BGP (client side) not Established: $(birdc -s "$T/bird-client.ctl" show protocols all peer 2>&1)"
e2e_ok "BGP between $HOST_IP (AS 65001) and $CLIENT_IP (AS 65002) is Established"
# the PIDs the cleanup stops are the daemons' own (their pidfiles say so)
expect_eq "host BIRD's PID" "$(cat "$T/bird-host.pid")" "${bird_pid[0]}"
expect_eq "client BIRD's PID" "$(cat "$T/bird-client.pid")" "${bird_pid[1]}"
learned() { birdc -s "$T/bird-client.ctl" show route "$ROUTE" 2>/dev/null | grep -q "via $HOST_IP"; }
e2e_retry 50 learned ||
	e2e_fail "the client did not learn $ROUTE: $(birdc -s "$T/bird-client.ctl" show route 2>&1)"
e2e_ok "the client learned $ROUTE via $HOST_IP"
vip_http "HTTP through the VIP with BGP up" 6

# (f) IPv6: the host's address on xvs0 is resolved (neighbour solicitation to the kernel, its
# advertisement out) and answers echo; the ports have no IPv6 address, so xvs owns none
lb sysctl -qw "net.ipv6.conf.$EXC.disable_ipv6=0" &&
	cl sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0 &&
	ip -n "$NS_LB" addr add "$HOST_IP6/64" dev "$EXC" nodad &&
	ip -n "$NS_CLIENT" addr add "$CLIENT_IP6/64" dev eth0 nodad || e2e_fail "cannot set up IPv6"
e2e_retry 50 cl ping -6 -c 1 -W 1 -q "$HOST_IP6" >/dev/null || e2e_fail "$HOST_IP6 does not answer ping"
ll=$(ip -n "$NS_CLIENT" -6 neigh show "$HOST_IP6" dev eth0 | grep -o 'lladdr [0-9a-f:]*' | cut -d' ' -f2)
expect_eq "the client's neighbour entry for $HOST_IP6" "$ll" "$LAN_MAC"

# (e) the counters
stats=$(e2e_api /v1/stats)
for k in exc_to_kernel exc_to_kernel_bytes exc_from_kernel exc_from_kernel_bytes; do
	v=$(json_get "$k" <<<"$stats")
	[ "$v" -gt 0 ] || e2e_fail "$k did not move: $v"
done
# the session alone: 300000 bytes each way, in at least 200 segments each way
[ "$(json_get exc_to_kernel_bytes <<<"$stats")" -gt 300000 ] &&
	[ "$(json_get exc_from_kernel_bytes <<<"$stats")" -gt 300000 ] &&
	[ "$(json_get exc_to_kernel <<<"$stats")" -gt 200 ] ||
	e2e_fail "exception counters too low for the session: $stats"
for d in exception-full exception-rate exception-kernel; do
	expect_eq "drops $d" "$(json_get drops "$d" <<<"$stats")" 0
done
e2e_ok "exception counters: $(json_get exc_to_kernel <<<"$stats") frames to the kernel, $(json_get exc_from_kernel <<<"$stats") from it"
st=$(adm --status) || e2e_fail "xvsadm --status failed"
grep -Eq "^exception path: [1-9][0-9]* to the kernel \([1-9][0-9]* bytes\), [1-9][0-9]* from it \([1-9][0-9]* bytes\)\$" <<<"$st" ||
	e2e_fail "xvsadm --status: $st"
e2e_ok "xvsadm --status: $(grep '^exception path' <<<"$st")"

# (h) a kernel interface that is down: every frame handed to it is exception-kernel
kernel_drops() { e2e_api /v1/stats | json_get drops exception-kernel; }
before=$(kernel_drops)
ip -n "$NS_LB" link set "$EXC" down || e2e_fail "cannot take $EXC down"
rx=$(cl ping -c 5 -i 0.2 -W 1 -q "$HOST_IP" | grep -o '[0-9]* received' | cut -d' ' -f1)
expect_eq "echo replies from $HOST_IP while $EXC is down" "$rx" 0
# at least the 5 requests (the client's BGP segments to the host may add to them)
kernel_moved() { [ $(($(kernel_drops) - before)) -ge 5 ]; }
e2e_retry 25 kernel_moved ||
	e2e_fail "exception-kernel moved by $(($(kernel_drops) - before)) for 5 echo requests"
e2e_ok "$EXC down: 5 pings unanswered, exception-kernel counted $(($(kernel_drops) - before))"
ip -n "$NS_LB" link set "$EXC" up || e2e_fail "cannot bring $EXC up again"

e2e_xvs_alive
e2e_dataplane_stop
ip -n "$NS_LB" link show "$EXC" >/dev/null 2>&1 && e2e_fail "$EXC outlived the dataplane"
e2e_ok "the dataplane stopped cleanly and took $EXC with it"

# (g) the rate limit: 100 echo requests 2 ms apart against 20/s with bursts of 5
E2E_LAN_EXTRA+=$'\nexception_rate = 20\nexception_burst = 5'
e2e_dataplane_start
e2e_retry 100 e2e_dp_attached || e2e_fail "the dataplane did not come back"
e2e_retry 50 exc_up || e2e_fail "no kernel interface $EXC after the restart"
ip -n "$NS_LB" addr add "$HOST_IP/24" dev "$EXC" || e2e_fail "cannot address $EXC"
e2e_retry 50 cl ping -c 1 -W 1 -q "$HOST_IP" >/dev/null || e2e_fail "$HOST_IP does not answer ping"
before=$(e2e_api /v1/stats | json_get drops exception-rate)
rx=$(cl ping -c 100 -i 0.002 -W 1 -q "$HOST_IP" | grep -o '[0-9]* received' | cut -d' ' -f1)
after=$(e2e_api /v1/stats | json_get drops exception-rate)
[ -n "$rx" ] && [ "$rx" -gt 0 ] && [ "$rx" -lt 50 ] ||
	e2e_fail "ping through a 20/s exception path: $rx of 100 answered"
[ $((after - before)) -ge 50 ] || e2e_fail "exception-rate moved by $((after - before)) only"
e2e_ok "at 20/s, $rx of 100 pings were answered; exception-rate counted $((after - before))"
vip_http "HTTP through the VIP is not rate limited" 6

e2e_xvs_alive
e2e_dataplane_stop
[ "$MODE" = one ] || exit 0

# (i) vip_neigh = kernel (a VRRP pair's setting): ARP and neighbour solicitations for a VIP
# go to the kernel, which answers only while xvs0 holds the VIP, as keepalived's master would;
# xvs still answers for the port's own addresses, and forwards and answers echo for the VIP
VIP6=2001:db8:0:1::100
E2E_LAN_EXTRA=$'exception = yes\nexception_name = '$EXC$'\nvip_neigh = kernel\naddr = 2001:db8:0:1::1/64'
e2e_dataplane_start
e2e_retry 100 e2e_dp_attached || e2e_fail "the dataplane did not come back with vip_neigh = kernel"
e2e_retry 50 exc_up || e2e_fail "no kernel interface $EXC after the restart"
lb sysctl -qw "net.ipv6.conf.$EXC.disable_ipv6=0" &&
	ip -n "$NS_LB" addr add "$HOST_IP/24" dev "$EXC" || e2e_fail "cannot address $EXC"
adm_ok -A -t "[$VIP6]:80" -s rr
who_has() { # TARGET: "ANSWERS MAC" to one ARP request from the client's side
	cl "$PY" "$E2E_DIR/arp_count.py" eth0 198.18.0.9 0.5 "$1" | cut -d' ' -f2-
}
expect_eq "who-has $VIP, not held by $EXC" "$(who_has "$VIP")" "0 -"
expect_eq "who-has $LB_LAN_IP (the port's own: xvs answers)" "$(who_has "$LB_LAN_IP")" "1 $LAN_MAC"
ip -n "$NS_LB" addr add "$VIP/32" dev "$EXC" || e2e_fail "cannot put $VIP on $EXC"
expect_eq "who-has $VIP, held by $EXC" "$(who_has "$VIP")" "1 $LAN_MAC"
vip_http "HTTP through the VIP the kernel resolves" 3
ping6_vip() { cl ping -6 -c 1 -W 1 -q "$VIP6" >/dev/null 2>&1; }
neigh6() { ip -n "$NS_CLIENT" -6 neigh show "$VIP6" dev eth0 | grep -o 'lladdr [0-9a-f:]*' | cut -d' ' -f2; }
ip -n "$NS_CLIENT" -6 neigh flush dev eth0
ping6_vip && e2e_fail "$VIP6 answered while no one may resolve it: $(ip -n "$NS_CLIENT" -6 neigh)"
expect_eq "the client's neighbour entry for $VIP6, not held by $EXC" "$(neigh6)" ""
ip -n "$NS_LB" addr add "$VIP6/128" dev "$EXC" nodad || e2e_fail "cannot put $VIP6 on $EXC"
e2e_retry 25 ping6_vip || e2e_fail "$VIP6 does not answer while $EXC holds it"
expect_eq "the client's neighbour entry for $VIP6, held by $EXC" "$(neigh6)" "$LAN_MAC"
ip -n "$NS_LB" addr del "$VIP6/128" dev "$EXC" || e2e_fail "cannot take $VIP6 off $EXC"
ip -n "$NS_CLIENT" -6 neigh flush dev eth0
ping6_vip && e2e_fail "$VIP6 still resolved after $EXC let it go"
e2e_ok "vip_neigh = kernel: $VIP and $VIP6 resolved only while $EXC held them"
e2e_xvs_alive
e2e_dataplane_stop
