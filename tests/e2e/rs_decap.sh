#!/bin/bash
# End-to-end test of xvs-rs-decap, the real-server decapsulator: real IPIP and GUE frames
# cross a veth into a "real server" namespace, whose kernel has no tunnel modules; the
# inner UDP datagram to the VIP must reach a server there only while xvs-rs-decap is
# attached (tc, then XDP), and the server's reply must come back unencapsulated.
#
#  ns $NS_C (stands in for xvs)            ns $NS_RS (real server)
# +----------------------------------+     +-----------------------------------------+
# | c0  198.18.4.1/24                | veth| r0  198.18.4.2/24   2001:db8:4::2/64    |
# |     2001:db8:4::1/64             |-----|     xvs-rs-decap --local (both r0 addrs)|
# | scapy: encapsulated frames to r0 |     | lo  VIP 198.18.5.100/32                 |
# |   (outer source varies per case) |     |     VIP 2001:db8:5::100/128             |
# | UDP sockets on c0 wait for the   |<----| UDP echo on both VIPs, port 7000:       |
# |   plain echo from the VIP        |     |   replies go straight back, no tunnel   |
# +----------------------------------+     +-----------------------------------------+
#
# Cases (outer / inner): ipip4 (v4/v4), ipopt (v4 with IP options / v4), ip6in4 (v4/v6),
# ip4in6 (v6/v4), gue1 (v4 UDP, GUE variant 1 "direct IP"), gue0 (v4 UDP, variant 0 with
# 4 bytes of options), gue6 (v6 UDP, variant 1, v6 inner); and three that must never
# arrive: trunc (IPIP whose inner header is cut short: counted malformed), notlocal (IPIP
# to an outer address not given with --local: passed untouched, so the kernel drops it
# although the inner VIP is local) and frag (an outer first fragment: counted, left to
# the kernel, never completed).
# Addresses: 198.18.0.0/15 and the IPv6 documentation prefix 2001:db8::/32 only.
set -u

REPO=$(cd "$(dirname "$0")/../.." && pwd)
DECAP=${XVS_RS_DECAP:-${XVS_BUILD_DIR:-$REPO/build}/bpf/xvs-rs-decap}
PY=/usr/bin/python3 # the Debian interpreter, which has scapy
SUFFIX=$(printf '%04x%04x' $$ $RANDOM)
NS_C=xvs-rsd-$SUFFIX-c
NS_RS=xvs-rsd-$SUFFIX-rs
VIP4=198.18.5.100
VIP6=2001:db8:5::100
C4=198.18.4.1
RS4=198.18.4.2
C6=2001:db8:4::1
RS6=2001:db8:4::2
GUE_PORT=6080
ECHO_PORT=7000
GOOD_CASES="ipip4 ipopt ip6in4 ip4in6 gue1 gue0 gue6"
BAD_CASES="trunc notlocal frag"
T=""
PIN=""
ECHO_PID=""

log() { echo "[rs_decap $(date +%T)] $*"; }
fail() {
	echo "FAIL: $*" >&2
	[ -n "$T" ] && [ -s "$T/echo.log" ] && { echo "--- echo server log"; cat "$T/echo.log"; } >&2
	exit 1
}

cleanup() {
	local rc=$?
	if [ -n "$ECHO_PID" ]; then
		kill -TERM "$ECHO_PID" 2>/dev/null
		wait "$ECHO_PID" 2>/dev/null
	fi
	ip netns del "$NS_C" 2>/dev/null
	ip netns del "$NS_RS" 2>/dev/null
	if [ -n "$PIN" ]; then
		umount "$PIN" 2>/dev/null
		rmdir "$PIN" 2>/dev/null
	fi
	[ -n "$T" ] && rm -rf "$T"
	exit "$rc"
}

# Missing prerequisites fail: on the supported machine all of them are installed.
require() {
	[ "$(id -u)" -eq 0 ] || fail "prerequisite: root (namespaces, BPF)"
	[ -x "$DECAP" ] || fail "prerequisite: xvs-rs-decap at '$DECAP' (set XVS_RS_DECAP)"
	command -v ethtool >/dev/null || fail "prerequisite: ethtool"
	"$PY" -c 'import scapy.all' 2>/dev/null || fail "prerequisite: scapy for $PY"
}

rs() { ip netns exec "$NS_RS" "$@"; }
decap() { rs "$DECAP" "$@" --pin-dir "$PIN"; }

# The value of one line of `xvs-rs-decap stats r0`.
stat_of() { decap stats r0 | awk -v k="$1" '$1 == k { print $2 }'; }

topology_up() {
	ip netns add "$NS_C" || fail "ip netns add"
	ip netns add "$NS_RS" || fail "ip netns add"
	ip link add c0 netns "$NS_C" type veth peer name r0 netns "$NS_RS" || fail "veth"
	ip -n "$NS_C" link set lo up
	ip -n "$NS_RS" link set lo up
	ip -n "$NS_C" addr add $C4/24 dev c0
	ip -n "$NS_C" addr add $C6/64 dev c0 nodad
	ip -n "$NS_RS" addr add $RS4/24 dev r0
	ip -n "$NS_RS" addr add $RS6/64 dev r0 nodad
	ip -n "$NS_RS" addr add $VIP4/32 dev lo
	ip -n "$NS_RS" addr add $VIP6/128 dev lo
	# Replies leave through the veth with checksums the kernel left for offload;
	# finish them in software so scapy-made and kernel-made frames look alike.
	ip netns exec "$NS_C" ethtool -K c0 tx off >/dev/null
	rs ethtool -K r0 tx off >/dev/null
	rs sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.r0.rp_filter=0
	ip -n "$NS_C" link set c0 up
	ip -n "$NS_RS" link set r0 up
}

# A UDP echo on both VIPs, bounded in time; it writes "ready" once bound.
echo_up() {
	rs "$PY" - "$VIP4" "$VIP6" "$ECHO_PORT" "$T/ready" >"$T/echo.log" 2>&1 <<'EOF' &
import select, socket, sys, time
vip4, vip6, port, ready = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s4.bind((vip4, port))
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
s6.bind((vip6, port))
open(ready, "w").write("ready\n")
deadline = time.time() + 110
while time.time() < deadline:
    r, _, _ = select.select([s4, s6], [], [], 1.0)
    for s in r:
        data, peer = s.recvfrom(2048)
        print("got", data.decode(errors="replace"), "from", peer[0], flush=True)
        s.sendto(data, peer)
EOF
	ECHO_PID=$!
	local n=50
	while [ ! -e "$T/ready" ] && [ "$n" -gt 0 ]; do
		sleep 0.1
		n=$((n - 1))
	done
	[ -e "$T/ready" ] || fail "echo server did not start"
}

# Send every case once, as frames from c0 to r0, and print "<case> yes|no": whether the
# VIP's echo of that case's token came back within 2 seconds.
probe() {
	local tag=$1 r0mac
	r0mac=$(ip -n "$NS_RS" -o link show r0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
	ip netns exec "$NS_C" "$PY" - "$tag" "$r0mac" <<EOF
import select, socket, sys, time
from scapy.all import Ether, IP, IPv6, UDP, Raw, IPOption_NOP, sendp, get_if_hwaddr
tag, r0mac = sys.argv[1], sys.argv[2]
C4, RS4, C6, RS6 = "$C4", "$RS4", "$C6", "$RS6"
VIP4, VIP6, GUE, ECHO = "$VIP4", "$VIP6", $GUE_PORT, $ECHO_PORT
port = {"ipip4": 41001, "ip6in4": 41002, "ip4in6": 41003, "gue1": 41004, "gue0": 41005,
        "gue6": 41006, "trunc": 41007, "notlocal": 41008, "ipopt": 41009, "frag": 41010}
def tok(c): return ("%s-%s" % (tag, c)).encode()
def in4(c): return IP(src=C4, dst=VIP4) / UDP(sport=port[c], dport=ECHO) / Raw(tok(c))
def in6(c): return IPv6(src=C6, dst=VIP6) / UDP(sport=port[c], dport=ECHO) / Raw(tok(c))
# Outer sources vary per case, as xvs varies them per flow for RSS: never filtered on.
cases = {
    "ipip4": IP(src="198.18.6.11", dst=RS4, proto=4) / in4("ipip4"),
    "ipopt": IP(src="198.18.6.19", dst=RS4, proto=4, options=[IPOption_NOP()] * 8)
             / in4("ipopt"),
    "ip6in4": IP(src="198.18.6.12", dst=RS4, proto=41) / in6("ip6in4"),
    "ip4in6": IPv6(src="2001:db8:6::13", dst=RS6, nh=4) / in4("ip4in6"),
    "gue1": IP(src="198.18.6.14", dst=RS4) / UDP(sport=50014, dport=GUE) / in4("gue1"),
    "gue0": IP(src="198.18.6.15", dst=RS4) / UDP(sport=50015, dport=GUE)
            / Raw(bytes([0x01, 4, 0, 0]) + b"opts") / in4("gue0"),
    "gue6": IPv6(src="2001:db8:6::16", dst=RS6) / UDP(sport=50016, dport=GUE) / in6("gue6"),
    "trunc": IP(src="198.18.6.17", dst=RS4, proto=4) / Raw(bytes(in4("trunc"))[:12]),
    "notlocal": IP(src="198.18.6.18", dst="198.18.4.99", proto=4) / in4("notlocal"),
    "frag": IP(src="198.18.6.20", dst=RS4, proto=4, flags="MF") / in4("frag"),
}
socks = {}
for c in cases:
    v6 = c in ("ip6in4", "gue6")
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((C6 if v6 else C4, port[c]))
    socks[s] = c
mac = get_if_hwaddr("c0")
sendp([Ether(src=mac, dst=r0mac) / p for p in cases.values()], iface="c0", verbose=False)
got = set()
deadline = time.time() + 2.0
while time.time() < deadline and len(got) < len(cases):
    r, _, _ = select.select(list(socks), [], [], 0.2)
    for s in r:
        data, peer = s.recvfrom(2048)
        c = socks[s]
        if data == tok(c) and peer[0] in (VIP4, VIP6):
            got.add(c)
for c in cases:
    print(c, "yes" if c in got else "no")
EOF
}

# Run probe and compare with the expectation: the good cases delivered or not ($1).
probe_expect() {
	local tag=$1 want_good=$2 out c want
	out=$(probe "$tag") || fail "probe $tag did not run"
	for c in $GOOD_CASES $BAD_CASES; do
		want=no
		case " $GOOD_CASES " in *" $c "*) want=$want_good ;; esac
		echo "$out" | grep -qx "$c $want" ||
			fail "$tag: case $c: expected delivered=$want, got: $(echo "$out" | grep "^$c ")"
	done
	log "$tag: good cases delivered=$want_good, $BAD_CASES not delivered"
}

# After one probe round with the program attached: exact counts of each kind.
expect_counters() {
	local mode=$1 v
	decap stats r0 >"$T/stats" || fail "$mode: stats failed"
	grep -qx "mode $mode" "$T/stats" || fail "$mode: stats says $(grep ^mode "$T/stats")"
	grep -qx "gue_port $GUE_PORT" "$T/stats" || fail "$mode: gue_port not shown"
	grep -qx "local $RS6" "$T/stats" || fail "$mode: local $RS6 not shown"
	[ "$(stat_of decap_ipip)" = 4 ] || fail "$mode: decap_ipip=$(stat_of decap_ipip), want 4"
	[ "$(stat_of decap_gue)" = 3 ] || fail "$mode: decap_gue=$(stat_of decap_gue), want 3"
	[ "$(stat_of malformed)" = 1 ] || fail "$mode: malformed=$(stat_of malformed), want 1"
	[ "$(stat_of fragment)" = 1 ] || fail "$mode: fragment=$(stat_of fragment), want 1"
	v=$(stat_of passed)
	[ "${v:-0}" -ge 1 ] || fail "$mode: passed=$v, want >= 1 (notlocal, ARP/ND)"
	[ "$(stat_of error)" = 0 ] || fail "$mode: error=$(stat_of error)"
	log "$mode: counters $(tr '\n' ' ' <"$T/stats")"
}

attach() {
	decap attach r0 --local $RS4 --local $RS6 --gue-port $GUE_PORT "$@" ||
		fail "attach $* failed"
}

main() {
	require
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	T=$(mktemp -d /tmp/xvs-rs-decap.XXXXXX)
	# bpffs mounted here, in the test's own mount namespace: mounts made under
	# `ip netns exec` vanish with the command, pins included.
	PIN=$(mktemp -d /run/xvs-rs-decap-test.XXXXXX)
	mount -t bpf bpf "$PIN" || fail "cannot mount bpffs on $PIN"
	topology_up
	echo_up

	probe_expect bare no

	attach
	decap attach r0 --local $RS4 2>/dev/null && fail "a second attach succeeded"
	probe_expect tc yes
	expect_counters tc
	decap detach r0 || fail "detach (tc) failed"
	decap stats r0 >/dev/null 2>&1 && fail "stats still works after detach"
	tc -n "$NS_RS" filter show dev r0 ingress | grep -q bpf && fail "tc filter left behind"
	probe_expect detached no

	attach --xdp
	ip -n "$NS_RS" link show r0 | grep -q 'xdp' || fail "no XDP program on r0"
	probe_expect xdp yes
	expect_counters xdp
	decap detach r0 || fail "detach (xdp) failed"
	ip -n "$NS_RS" link show r0 | grep -q 'xdp' && fail "XDP program left on r0"
	log "PASS"
}

main "$@"
