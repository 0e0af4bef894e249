#!/bin/bash
# Helpers for the DR and TUN end-to-end tests, on top of tests/e2e/lib.sh (sourced here).
# In DR and TUN the real servers answer the client directly, so the testbed has a router
# between the server and client networks; the client reaches the VIP through the LB.
#
#  ns client           ns br (two bridges; the namespace routes between them)    ns lb
# +--------------+     +---------------------------------------------+     +-------------------+
# | eth0         |veth | cl ── br1 198.18.0.254/24 ── lan            |veth | lan 198.18.0.1/24 |
# | 198.18.0.2/24|-----|                                             |-----|   VIP 198.18.0.100|
# | gw .254      |     |       ip_forward=1, rp_filter=0             |     |                   |
# +--------------+     |                                             |veth | srv 198.19.0.1/24 |
#                      | lb ── br0 198.19.0.254/24 ── rs1 rs2 rs3    |-----|   (mtu, tunnel_src|
#                      +--------------------------------|---|---|----+     |    per test)      |
#                                                     veths to the servers +-------------------+
#  ns xvs-<suffix>-rsN: eth0 198.19.0.1N/24, default via 198.19.0.254, VIP 198.18.0.100/32 on
#  lo, arp_ignore=1 arp_announce=2, fwd_http.py on :80; TUN: xvs-rs-decap on eth0 (tc ingress)
#
# client -> VIP: the client ARPs for the VIP on br1, the LB answers, the LB forwards to the
# real server over br0 (DR: same frame to its MAC; TUN: encapsulated to its address).
# real server -> client: from the VIP, through the router, never through the LB.
# Namespaces, processes and the work directory are lib.sh's (e2e_cleanup); the bpffs for
# xvs-rs-decap's pins is ours and is unmounted by fwd_cleanup, which then calls it.
#
# IPv6 (fwd_start --v6): the same testbed, dual-stack. lib.sh turns IPv6 off in every
# namespace; fwd6_topology_up turns it back on everywhere but in the lb namespace (its
# kernel owns nothing there), with duplicate-address detection and router solicitations off
# so that addresses work at once and nothing else talks, and multicast snooping off on the
# bridges (xvs joins no multicast group, it just answers solicitations for what it owns).
#
#   client 2001:db8:1::2/64 ── br1 2001:db8:1::fe ── lan 2001:db8:1::1/64, VIP 2001:db8:1::100
#   rsN    2001:db8:2::1N/64 ── br0 2001:db8:2::fe ── srv 2001:db8:2::1/64
#   rsN's default route: the router (DR, TUN: VIP/128 on lo) or xvs's srv address (NAT).

. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"

FWD_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROUTER_LAN_IP=198.18.0.254
ROUTER_SRV_IP=198.19.0.254
GUE_PORT=6080
TUNNEL_SRC=198.19.254.0/23 # outer sources for tunnels (per flow), not on any interface
FWD_PIN=""                 # bpffs of xvs-rs-decap's pins
FWD_SRV_MTU=""             # set by fwd_start --srv-mtu: link and dataplane MTU of srv
FWD_SRV_EXTRA=""           # extra lines of the dataplane's [port srv]

CLIENT_IP6=2001:db8:1::2
LB_LAN_IP6=2001:db8:1::1
ROUTER_LAN_IP6=2001:db8:1::fe
VIP6=2001:db8:1::100
LB_SRV_IP6=2001:db8:2::1
ROUTER_SRV_IP6=2001:db8:2::fe
declare -A RS_IP6=([rs1]=2001:db8:2::11 [rs2]=2001:db8:2::12 [rs3]=2001:db8:2::13)
FWD_V6=""                  # set by fwd_start --v6: the testbed is dual-stack
FWD_V6_NAT=""              # set by fwd_start --v6-nat: servers route IPv6 through xvs

fwd_cleanup() {
	local rc=$?
	if [ -n "$FWD_PIN" ]; then
		umount "$FWD_PIN" 2>/dev/null
		rmdir "$FWD_PIN" 2>/dev/null
	fi
	(exit "$rc")
	e2e_cleanup # keeps rc: it reads $? first
}

# e2e_init and our own prerequisites: a missing xvs-rs-decap fails (bpf/ not built).
fwd_init() {
	e2e_init
	trap fwd_cleanup EXIT
	if [ "${1:-}" = tun ]; then
		[ -x "${XVS_RS_DECAP:-}" ] ||
			e2e_fail "prerequisite missing: xvs-rs-decap at '${XVS_RS_DECAP:-}' (is the bpf option off?)"
		command -v tc >/dev/null || e2e_fail "prerequisite missing: tc"
	fi
}

fwd_topology_up() {
	local r ns
	e2e_ns_add "$NS_CLIENT" && e2e_ns_add "$NS_LB" && e2e_ns_add "$NS_BR" ||
		e2e_fail "cannot create namespaces"
	ip link add eth0 netns "$NS_CLIENT" type veth peer name cl netns "$NS_BR" &&
		ip link add lan netns "$NS_LB" type veth peer name lan netns "$NS_BR" &&
		ip link add srv netns "$NS_LB" type veth peer name lb netns "$NS_BR" ||
		e2e_fail "cannot create the veths"
	if [ -n "$FWD_SRV_MTU" ]; then
		ip -n "$NS_LB" link set srv mtu "$FWD_SRV_MTU" &&
			ip -n "$NS_BR" link set lb mtu "$FWD_SRV_MTU" || e2e_fail "cannot set the srv MTU"
	fi
	ip -n "$NS_BR" link add br1 type bridge && ip -n "$NS_BR" link add br0 type bridge &&
		ip -n "$NS_BR" link set cl master br1 && ip -n "$NS_BR" link set lan master br1 &&
		ip -n "$NS_BR" link set lb master br0 &&
		ip -n "$NS_BR" addr add "$ROUTER_LAN_IP/24" dev br1 &&
		ip -n "$NS_BR" addr add "$ROUTER_SRV_IP/24" dev br0 &&
		ip -n "$NS_BR" link set br1 up && ip -n "$NS_BR" link set br0 up ||
		e2e_fail "cannot set up the bridges"
	# The router forwards the servers' replies, whose source (the VIP) lives on the other
	# side: no reverse-path filter.
	ip netns exec "$NS_BR" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.br0.rp_filter=0 \
		net.ipv4.conf.br1.rp_filter=0 || e2e_fail "cannot make $NS_BR a router"
	for r in "${RS_NAMES[@]}"; do
		ns=$(e2e_ns_rs "$r")
		e2e_ns_add "$ns" &&
			ip link add eth0 netns "$ns" type veth peer name "$r" netns "$NS_BR" &&
			ip -n "$NS_BR" link set "$r" master br0 &&
			e2e_link_up "$NS_BR" "$r" && e2e_link_up "$ns" eth0 &&
			ip -n "$ns" addr add "${RS_IP[$r]}/24" dev eth0 &&
			ip -n "$ns" route add default via "$ROUTER_SRV_IP" ||
			e2e_fail "cannot set up real server $r"
		fwd_rs_vip "$ns"
	done
	e2e_link_up "$NS_BR" cl && e2e_link_up "$NS_BR" lan && e2e_link_up "$NS_BR" lb &&
		e2e_link_up "$NS_LB" lan && e2e_link_up "$NS_LB" srv && e2e_link_up "$NS_CLIENT" eth0 &&
		ip -n "$NS_CLIENT" addr add "$CLIENT_IP/24" dev eth0 &&
		ip -n "$NS_CLIENT" route add default via "$ROUTER_LAN_IP" ||
		e2e_fail "cannot set up the client and lb links"
}

# What a DR or TUN real server needs (docs/real-servers.md): the VIP on lo, and no ARP
# answers or announcements for it.
fwd_rs_vip() {
	local ns=$1
	ip -n "$ns" addr add "$VIP/32" dev lo &&
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.arp_ignore=1 \
			net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.eth0.arp_ignore=1 \
			net.ipv4.conf.eth0.arp_announce=2 ||
		e2e_fail "cannot put the VIP on lo in $ns"
}

# fwd_http.py on every real server, answering on any address (the VIP among them).
fwd_servers_up() {
	local r ns
	for r in "${RS_NAMES[@]}"; do
		ns=$(e2e_ns_rs "$r")
		ip netns exec "$ns" "$PY" "$FWD_DIR/fwd_http.py" "$r" 80 >"$T/http-$r.log" 2>&1 &
		E2E_PIDS+=($!)
	done
	for r in "${RS_NAMES[@]}"; do
		ns=$(e2e_ns_rs "$r")
		e2e_retry 50 e2e_rs_answers "$ns" "${RS_IP[$r]}" "$r" ||
			e2e_fail "real server $r does not answer HTTP locally"
	done
}

# xvs-rs-decap on every real server's eth0 (tc ingress), pins in our own bpffs.
fwd_decap_up() {
	local r ns
	FWD_PIN=$(mktemp -d /run/xvs-e2e-fwd-pins.XXXXXX) || e2e_fail "mktemp for the pins"
	mount -t bpf bpf "$FWD_PIN" || e2e_fail "cannot mount a bpffs on $FWD_PIN"
	for r in "${RS_NAMES[@]}"; do
		ns=$(e2e_ns_rs "$r")
		mkdir -p "$FWD_PIN/$r" || e2e_fail "mkdir $FWD_PIN/$r"
		ip netns exec "$ns" "$XVS_RS_DECAP" attach eth0 --local "${RS_IP[$r]}" \
			${FWD_V6:+--local "${RS_IP6[$r]}"} \
			--gue-port "$GUE_PORT" --pin-dir "$FWD_PIN/$r" >>"$T/decap.log" 2>&1 ||
			e2e_fail "xvs-rs-decap attach on $r failed: $(tail -n 3 "$T/decap.log")"
	done
}

# One counter of xvs-rs-decap on real server $1.
fwd_decap_stat() {
	ip netns exec "$(e2e_ns_rs "$1")" "$XVS_RS_DECAP" stats eth0 --pin-dir "$FWD_PIN/$1" |
		awk -v k="$2" '$1 == k { print $2 }'
}

fwd_write_dp_config() {
	E2E_LAN_EXTRA=${FWD_V6:+addr = $LB_LAN_IP6/64} \
	E2E_SRV_EXTRA="${FWD_V6:+addr = $LB_SRV_IP6/64}
${FWD_SRV_MTU:+mtu = $FWD_SRV_MTU}
${FWD_SRV_EXTRA:-}" e2e_write_dp_config
}

# Both daemons up, the dataplane attached and answering ping on the client side.
fwd_xvs_up() {
	e2e_control_start
	fwd_write_dp_config
	ip netns exec "$NS_LB" "$XVS_DATAPLANE" -c "$T/dp.ini" >>"$T/dp.log" 2>&1 &
	DP_PID=$!
	e2e_retry 100 e2e_dp_attached ||
		e2e_fail "xvs-dataplane did not attach to xvs-control (status: $(e2e_api /v1/status))"
	e2e_retry 50 ip netns exec "$NS_CLIENT" ping -c 1 -W 1 -q "$LB_LAN_IP" >/dev/null ||
		e2e_fail "the dataplane does not answer ping on $LB_LAN_IP"
	if [ -n "$FWD_V6" ]; then
		e2e_retry 50 ip netns exec "$NS_CLIENT" ping -6 -c 1 -W 1 -q "$LB_LAN_IP6" >/dev/null ||
			e2e_fail "the dataplane does not answer ping on $LB_LAN_IP6"
	fi
	e2e_log "xvs up: control pid $CTL_PID, dataplane pid $DP_PID, work dir $T"
}

# IPv6 back on in namespace $1 (lib.sh turned it off), without duplicate-address detection
# or router solicitations on any of its interfaces.
fwd6_ns_enable() {
	local ns=$1 dev
	for dev in $(ip -n "$ns" -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'); do
		ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.accept_dad=0" \
			"net.ipv6.conf.$dev.accept_ra=0" "net.ipv6.conf.$dev.router_solicitations=0" ||
			return 1
	done
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.default.router_solicitations=0 \
		net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0
}

# IPv6 addresses and routes on top of fwd_topology_up (see the diagram at the top).
fwd6_topology_up() {
	local r ns gw=$ROUTER_SRV_IP6
	[ -n "$FWD_V6_NAT" ] && gw=$LB_SRV_IP6
	for ns in "$NS_CLIENT" "$NS_BR" $(for r in "${RS_NAMES[@]}"; do e2e_ns_rs "$r"; done); do
		fwd6_ns_enable "$ns" || e2e_fail "cannot turn IPv6 on in $ns"
	done
	ip -n "$NS_BR" link set br0 type bridge mcast_snooping 0 &&
		ip -n "$NS_BR" link set br1 type bridge mcast_snooping 0 &&
		ip -n "$NS_BR" -6 addr add "$ROUTER_LAN_IP6/64" dev br1 nodad &&
		ip -n "$NS_BR" -6 addr add "$ROUTER_SRV_IP6/64" dev br0 nodad &&
		ip netns exec "$NS_BR" sysctl -qw net.ipv6.conf.all.forwarding=1 ||
		e2e_fail "cannot make $NS_BR an IPv6 router"
	ip -n "$NS_CLIENT" -6 addr add "$CLIENT_IP6/64" dev eth0 nodad &&
		ip -n "$NS_CLIENT" -6 route add default via "$ROUTER_LAN_IP6" ||
		e2e_fail "cannot set up the client's IPv6"
	for r in "${RS_NAMES[@]}"; do
		ns=$(e2e_ns_rs "$r")
		ip -n "$ns" -6 addr add "${RS_IP6[$r]}/64" dev eth0 nodad &&
			ip -n "$ns" -6 route add default via "$gw" ||
			e2e_fail "cannot set up real server $r's IPv6"
		# DR and TUN: the VIP on lo. Linux answers a solicitation only for an address of
		# the interface it came in on, so nothing like arp_ignore is needed (the tests check).
		if [ -z "$FWD_V6_NAT" ]; then
			ip -n "$ns" -6 addr add "$VIP6/128" dev lo nodad ||
				e2e_fail "cannot put $VIP6 on lo in $ns"
		fi
	done
}

# fwd_start [tun] [--srv-mtu N] [--v6 | --v6-nat]: the whole testbed.
fwd_start() {
	local mode=plain
	while [ $# -gt 0 ]; do
		case $1 in
		tun) mode=tun ;;
		--srv-mtu) FWD_SRV_MTU=$2; shift ;;
		--v6) FWD_V6=1 ;;
		--v6-nat) FWD_V6=1; FWD_V6_NAT=1 ;;
		*) e2e_fail "fwd_start: bad argument $1" ;;
		esac
		shift
	done
	fwd_init "$mode"
	fwd_topology_up
	[ -n "$FWD_V6" ] && fwd6_topology_up
	fwd_servers_up
	[ "$mode" = tun ] && fwd_decap_up
	fwd_xvs_up
}

# An rr service on VIP:80 over the three real servers with forwarding options "$@"; rr
# order rs1 rs2 rs3 (RS_NAMES_ADD).
fwd_rr_service() {
	adm_ok -A -t "$VIP:80" -s rr
	local r
	for r in "${RS_NAMES_ADD[@]}"; do
		adm_ok -a -t "$VIP:80" -r "${RS_IP[$r]}:80" "$@"
	done
}

# One counter of GET /v1/stats ("drops.too-big" for a drop reason).
fwd_dp_stat() {
	e2e_api /v1/stats | "$PY" -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[k]
print(v)' "$1"
}

# The checks every DR/TUN test makes after N GETs: rr order, each server saw the client's
# own address, and no reply went through the LB (OutPkts 0, nothing sent out of lan
# besides what the LB itself answers).
fwd_check_http_rr() {
	local n=$1 got r cnt stats svc
	got=$(http_seq "$n")
	expect_eq "$n GETs of the VIP, rr order" "$got" "$(cycle "$n" rs1 rs2 rs3)"
	for r in "${RS_NAMES[@]}"; do
		cnt=$(grep -c "^$CLIENT_IP GET" "$T/http-$r.log")
		expect_eq "$r saw $((n / 3)) GETs from the client's own address" "$cnt" "$((n / 3))"
	done
	stats=$(adm -L -n --stats) || e2e_fail "xvsadm -L -n --stats failed"
	svc=$(awk -v s="$VIP:80" '$1 == "TCP" && $2 == s' <<<"$stats")
	read -r _ _ conns inpkts outpkts _ _ <<<"$svc"
	expect_eq "service Conns" "$conns" "$n"
	[ "${inpkts%[KMGT]}" -ge $((4 * n)) ] ||
		e2e_fail "service InPkts $inpkts: fewer than 4 per connection"
	expect_eq "service OutPkts (replies bypass the LB)" "$outpkts" 0
}

# ---- IPv6 -------------------------------------------------------------------------------

# An rr service on [VIP6]:80 over the three real servers' IPv6 addresses, options "$@"; rr
# order rs1 rs2 rs3.
fwd6_rr_service() {
	adm_ok -A -t "[$VIP6]:80" -s rr
	local r
	for r in "${RS_NAMES_ADD[@]}"; do
		adm_ok -a -t "[$VIP6]:80" -r "[${RS_IP6[$r]}]:80" "$@"
	done
}

# The exact xvsadm -L -n rows of that service, forwarding method $1 (Masq, Route, Tunnel).
fwd6_listing() {
	local r
	printf 'TCP  [%s]:80 rr\n' "$VIP6"
	for r in "${RS_NAMES[@]}"; do
		printf '  -> %-28s %-7s %-6d %-10d %-10d\n' "[${RS_IP6[$r]}]:80" "$1" 1 0 0
	done
}

# One GET of http://[VIP6]/ from the client over IPv6; prints the body or ERR.
http6_get() {
	local out
	out=$(ip netns exec "$NS_CLIENT" curl -6 -g -s --max-time 5 "http://[$VIP6]:80/") || out=ERR
	echo "${out:-EMPTY}"
}

http6_seq() {
	local n=$1 i out=()
	for ((i = 0; i < n; i++)); do
		out+=("$(http6_get)")
	done
	echo "${out[*]}"
}

# fwd6_check_http_rr N MODE: N GETs over IPv6 answered in rr order, each server saw N/3
# from the client's own IPv6 address, the service counted N connections; the replies
# passed through xvs for NAT only.
fwd6_check_http_rr() {
	local n=$1 mode=$2 got r cnt stats svc
	got=$(http6_seq "$n")
	expect_eq "$n GETs of [$VIP6], rr order" "$got" "$(cycle "$n" rs1 rs2 rs3)"
	for r in "${RS_NAMES[@]}"; do
		cnt=$(grep -c "^$CLIENT_IP6 GET" "$T/http-$r.log")
		expect_eq "$r saw $((n / 3)) GETs from the client's own IPv6 address" "$cnt" "$((n / 3))"
	done
	stats=$(adm -L -n --stats) || e2e_fail "xvsadm -L -n --stats failed"
	svc=$(awk -v s="[$VIP6]:80" '$1 == "TCP" && $2 == s' <<<"$stats")
	read -r _ _ conns inpkts outpkts _ _ <<<"$svc"
	expect_eq "service Conns" "$conns" "$n"
	[ "${inpkts%[KMGT]}" -ge $((4 * n)) ] ||
		e2e_fail "service InPkts $inpkts: fewer than 4 per connection"
	if [ "$mode" = nat ]; then
		[ "${outpkts%[KMGT]}" -ge $((3 * n)) ] ||
			e2e_fail "service OutPkts $outpkts: NAT replies did not all pass through xvs"
		e2e_ok "service OutPkts $outpkts (NAT replies through xvs)"
	else
		expect_eq "service OutPkts (replies bypass the LB)" "$outpkts" 0
	fi
}

# DR and TUN servers hold the VIP on lo: none of them may answer a solicitation for it. The
# router solicits the VIP on the servers' link (a host route to it there) and pings it; xvs
# answers from srv (it owns the VIP on every port); every advertisement seen must be xvs's.
fwd6_check_rs_silent() {
	local srv_mac n others
	srv_mac=$(ip -n "$NS_LB" -o link show srv | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
	ip -n "$NS_BR" -6 route add "$VIP6/128" dev br0 || e2e_fail "cannot route $VIP6 to br0"
	ip netns exec "$NS_BR" timeout 4 tcpdump -i br0 -nn -e -l \
		"icmp6 and ip6[40] == 136" >"$T/na.txt" 2>/dev/null &
	local tpid=$!
	sleep 1
	ip netns exec "$NS_BR" ping -6 -c 2 -W 1 -q "$VIP6" >/dev/null
	wait "$tpid"
	ip -n "$NS_BR" -6 route del "$VIP6/128" dev br0
	n=$(grep -c "tgt is $VIP6" "$T/na.txt")
	others=$(grep "tgt is $VIP6" "$T/na.txt" | awk '{ print $2 }' | grep -vc "^$srv_mac$")
	[ "$n" -ge 1 ] || e2e_fail "no advertisement for $VIP6 seen on the servers' link"
	expect_eq "advertisements for $VIP6 on the servers' link not from xvs" "$others" 0
}
