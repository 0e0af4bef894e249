#!/bin/bash
# Capture with DPDK's framework: dpdk-dumpcap attaches to the running xvs-dataplane (a primary
# process with in_memory = no, hence EAL's multi-process channel, and rte_pdump_init()) by its
# file prefix and captures one port, then the other, while 6 HTTP GETs go through the VIP
# (rr NAT). On lan the capture must hold the client's 6 SYNs to the VIP, its 6 requests (with
# this run's marker path) and the VIP's 6 answers, and nothing addressed to a real server; on
# srv, 6 SYNs and 6 requests from the client's address to the real servers, nothing to the
# VIP. The dataplane then stops cleanly and leaves no hugepage file.
#
#  ns client                 ns lb (xvs-dataplane)                    ns br     rs1..rs3
#  eth0 198.18.0.2 --veth-- lan (net_af_packet0)  srv (net_af_packet1) --veth-- br0 -- 198.19.0.1N
#                           198.18.0.1, VIP .100  198.19.0.1
#                              ^ dpdk-dumpcap -i net_af_packet0, then -i net_af_packet1 (secondary)
set -u
. "$(dirname "$0")/lib.sh"

command -v dpdk-dumpcap >/dev/null 2>&1 ||
	{ echo "FAIL: dpdk-dumpcap is missing (Debian package dpdk-dev)" >&2; exit 1; }
e2e_init
e2e_topology_up
e2e_servers_up
E2E_DP_EXTRA="in_memory = no"
e2e_xvs_up
grep -q "capture ready: dpdk-dumpcap --file-prefix=$FILE_PREFIX" "$T/dp.log" ||
	e2e_fail "the dataplane does not say that capture is ready"
adm_ok -A -t "$VIP:80" -s rr
for r in "${RS_NAMES_ADD[@]}"; do
	adm_ok -a -t "$VIP:80" -r "${RS_IP[$r]}:80" -m
done
e2e_retry 50 test "$(http_get)" != ERR || e2e_fail "the VIP does not answer"

# capture PORT FILE: dpdk-dumpcap on the dataplane's PORT into FILE while 6 GETs of this
# run's marker path go through the VIP, twice to each server; then SIGINT, status 0.
# (One port per run: the dpdk-dumpcap of DPDK 22.11 given two -i captures only the last.)
MARK=capture-$SUFFIX
capture() {
	local port=$1 file=$2 pid i out got=() rc
	rm -f "$T/dumpcap.log"
	# without address-space randomisation (setarch -R), as DPDK advises for a secondary: it
	# must map the dataplane's memory at the dataplane's addresses, which its own libraries,
	# placed at random, occupy now and then ("Cannot get a virtual area at requested address")
	setarch "$(uname -m)" -R dpdk-dumpcap --file-prefix="$FILE_PREFIX" -i "$port" -w "$file" \
		>"$T/dumpcap.log" 2>&1 &
	pid=$!
	E2E_PIDS+=("$pid")
	# its counter of captured packets is printed once the port's callbacks are set
	e2e_retry 100 grep -q "Packets captured: " "$T/dumpcap.log" ||
		e2e_fail "dpdk-dumpcap does not capture $port: $(cat "$T/dumpcap.log")"
	e2e_ok "dpdk-dumpcap attached to the dataplane's $port"
	for i in 1 2 3 4 5 6; do
		out=$(ip netns exec "$NS_CLIENT" curl -s --max-time 5 "http://$VIP/$MARK") || out=ERR
		got+=("$out")
	done
	expect_eq "6 GETs answered, twice by each server" \
		"$(printf '%s\n' "${got[@]}" | sort | tr '\n' ' ')" "rs1 rs1 rs2 rs2 rs3 rs3 "
	kill -INT "$pid"
	e2e_wait_exit "$pid" 100 || e2e_fail "dpdk-dumpcap ignores SIGINT"
	wait "$pid"
	rc=$?
	[ "$rc" = 0 ] || e2e_fail "dpdk-dumpcap exited with $rc: $(cat "$T/dumpcap.log")"
}

# count FILE: the client's SYNs (distinct ports) and GETs to the VIP, the VIP's answers, and
# the client's SYNs and GETs to the real servers, as NAT forwards them.
count() {
	"$PY" - "$1" "$CLIENT_IP" "$VIP" "$MARK" "${RS_IP[@]}" <<-'EOF2'
	import sys
	from scapy.all import rdpcap, IP, TCP
	path, client, vip, mark = sys.argv[1:5]
	servers = set(sys.argv[5:])
	get = b"GET /" + mark.encode() + b" "
	vip_syn, rs_syn, vip_get, rs_get, answers = set(), set(), 0, 0, 0
	for p in rdpcap(path):
	    if IP not in p or TCP not in p:
	        continue
	    ip, tcp, flags = p[IP], p[TCP], str(p[TCP].flags)
	    data = bytes(tcp.payload)
	    if ip.src == client and tcp.dport == 80 and (ip.dst == vip or ip.dst in servers):
	        to_vip = ip.dst == vip
	        if flags == "S":
	            (vip_syn if to_vip else rs_syn).add(tcp.sport)
	        if data.startswith(get):
	            if to_vip:
	                vip_get += 1
	            else:
	                rs_get += 1
	    if ip.src == vip and ip.dst == client and tcp.sport == 80 and data.startswith(b"HTTP/"):
	        answers += 1
	print("vip-syn=%d vip-get=%d vip-answers=%d rs-syn=%d rs-get=%d" % (
	    len(vip_syn), vip_get, answers, len(rs_syn), rs_get))
	EOF2
}

capture net_af_packet0 "$T/lan.pcapng"
out=$(count "$T/lan.pcapng") || e2e_fail "cannot read the capture: $out"
expect_eq "capture of lan (client side)" "$out" "vip-syn=6 vip-get=6 vip-answers=6 rs-syn=0 rs-get=0"
capture net_af_packet1 "$T/srv.pcapng"
out=$(count "$T/srv.pcapng") || e2e_fail "cannot read the capture: $out"
expect_eq "capture of srv (server side)" "$out" "vip-syn=0 vip-get=0 vip-answers=0 rs-syn=6 rs-get=6"

e2e_xvs_alive
e2e_dataplane_stop
e2e_control_stop
echo "PASS"
