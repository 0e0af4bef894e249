#!/bin/bash
# Shared helpers for the xvs end-to-end tests and the demo: a virtual testbed in network
# namespaces with a client, the load balancer (xvs-dataplane on af_packet) and three real
# servers that answer HTTP and UDP with their own names.
#
#   ns $NS_CLIENT          ns $NS_LB                         ns $NS_BR        ns xvs-<suffix>-rsN
#  +---------------+      +----------------------------+     +-----------+    +------------------+
#  | eth0          | veth | lan                   srv  | veth| lb        |veth| eth0             |
#  | 198.18.0.2/24 |------|  (no kernel addresses)    |-----|    br0    |----| 198.19.0.1N/24   |
#  | default via   |      |                            |     | rs1   rs3 |    | default via      |
#  |   198.18.0.1  |      | xvs-dataplane owns both:   |     |    rs2    |    |   198.19.0.1     |
#  +---------------+      |  lan: net_af_packet0       |     +-----------+    | HTTP :80, UDP :53|
#                         |       198.18.0.1/24        |                      | answer "rsN"     |
#                         |       VIP 198.18.0.100     |                      +------------------+
#                         |  srv: net_af_packet1       |                       N = 1, 2, 3
#                         |       198.19.0.1/24        |
#                         +----------------------------+
#
# xvs-control runs in the caller's namespace and reaches the dataplane through the
# shared-memory file $T/shm; xvsadm reaches xvs-control through the Unix socket $T/sock.
#
# Every run gets a random suffix, so namespace names, the EAL file prefix and the work
# directory cannot collide with a parallel or stale run. Source this file, then call
# e2e_init (which installs the EXIT trap), e2e_topology_up, e2e_servers_up and e2e_xvs_up.
# Addresses come from 198.18.0.0/15 (RFC 2544 benchmarking space) only.

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_REPO=$(cd "$E2E_DIR/../.." && pwd)
PY=/usr/bin/python3 # the Debian interpreter, which has the modules the helpers need

VIP=198.18.0.100
CLIENT_IP=198.18.0.2
LB_LAN_IP=198.18.0.1
LB_SRV_IP=198.19.0.1
RS_NAMES=(rs1 rs2 rs3)
# Adding the servers in this order makes the service's list rs1 rs2 rs3: IPVS (and xvs) put a
# new server at the head of the list, and rr starts at the head.
RS_NAMES_ADD=(rs3 rs2 rs1)
declare -A RS_IP=([rs1]=198.19.0.11 [rs2]=198.19.0.12 [rs3]=198.19.0.13)

E2E_PIDS=()   # every process this run started, killed by PID in cleanup
E2E_CTL_ARGS=() # more options for xvs-control
E2E_NETNS=()  # namespaces a test added beside lib.sh's, deleted in cleanup
E2E_CTL_NETNS="" # when set, xvs-control runs in this namespace (health checks need a path
                 # to the real servers)
CTL_PID=""
DP_PID=""

e2e_log() { echo "[e2e $(date +%T)] $*"; }
e2e_ok() { echo "ok: $*"; }

# Print the daemons' logs and fail the test. Everything after this is cleanup.
e2e_fail() {
	echo "FAIL: $*" >&2
	e2e_dump_logs >&2
	exit 1
}

e2e_dump_logs() {
	local f
	for f in "$T"/ctl.log "$T"/dp.log; do
		[ -s "$f" ] || continue
		echo "----- last lines of $(basename "$f") -----"
		tail -n 40 "$f"
	done
	# what the dataplane holds and dropped, while xvs-control still answers
	[ -S "${XVS_CONTROL_SOCKET:-}" ] && [ -x "${XVSADM:-}" ] || return 0
	echo "----- xvsadm -L -n -c (first 30 lines) -----"
	timeout 3 "$XVSADM" -L -n -c 2>&1 | head -n 30
	echo "----- xvsadm -L --stats --drops (reasons that moved) -----"
	timeout 3 "$XVSADM" -L --stats --drops 2>&1 | awk 'NR <= 2 || $2 != 0' | head -n 40
}

# A missing prerequisite fails the suite with the reason: on the supported machine every
# one of these is installed by scripts/install-deps.sh, so a skip would only hide a problem.
e2e_require() {
	local missing=() c
	[ "$(id -u)" -eq 0 ] || missing+=("root (network namespaces need it)")
	for c in ip ethtool curl ping sysctl "$PY"; do
		command -v "$c" >/dev/null 2>&1 || missing+=("$c")
	done
	[ -x "$XVS_DATAPLANE" ] || missing+=("xvs-dataplane at '$XVS_DATAPLANE' (built with DPDK?)")
	[ -x "$XVS_CONTROL" ] || missing+=("xvs-control at '$XVS_CONTROL'")
	[ -x "$XVSADM" ] || missing+=("xvsadm at '$XVSADM'")
	if [ "$XVS_HUGE_DIR" != none ] && ! mountpoint -q "$XVS_HUGE_DIR"; then
		missing+=("hugetlbfs at $XVS_HUGE_DIR (run scripts/hugepages.sh)")
	fi
	if [ "${#missing[@]}" -gt 0 ]; then
		local m
		for m in "${missing[@]}"; do
			echo "FAIL: prerequisite missing: $m" >&2
		done
		exit 1
	fi
}

# e2e_need WHAT...: each a command on the PATH (or /dev/net/tun, the exception path's tap);
# a missing one fails the test, naming it. Callable before e2e_init.
e2e_need() {
	local c
	for c in "$@"; do
		if [ "$c" = /dev/net/tun ]; then
			[ -c "$c" ]
		else
			command -v "$c" >/dev/null 2>&1
		fi || { echo "FAIL: prerequisite missing: $c (scripts/install-deps.sh)" >&2; exit 1; }
	done
}

# Pick the binaries (meson passes them in the environment), make the work directory and
# the names, and install the cleanup trap. Call once, before anything else.
e2e_init() {
	local build=${XVS_BUILD_DIR:-$E2E_REPO/build}
	XVS_DATAPLANE=${XVS_DATAPLANE:-$build/dataplane/xvs-dataplane}
	XVS_CONTROL=${XVS_CONTROL:-$build/control/xvs-control}
	XVSADM=${XVSADM:-$build/xvsadm/xvsadm}
	XVS_HUGE_DIR=${XVS_HUGE_DIR:-/mnt/xvs-huge}
	e2e_require

	T=$(mktemp -d /tmp/xvs-e2e.XXXXXX)
	SUFFIX=${T##*.} # mktemp made it unique; it names everything else of this run
	NS_CLIENT=xvs-$SUFFIX-client
	NS_LB=xvs-$SUFFIX-lb
	NS_BR=xvs-$SUFFIX-br
	FILE_PREFIX=xvs-e2e-$SUFFIX
	export XVS_CONTROL_SOCKET=$T/sock
	trap e2e_cleanup EXIT
	# Signals end the run through the EXIT trap, so the testbed never outlives it.
	trap 'exit 130' INT TERM
	trap 'exit 129' HUP
	trap 'exit 141' PIPE
}

e2e_ns_rs() { echo "xvs-$SUFFIX-$1"; }

e2e_cleanup() {
	local rc=$? pid ns
	trap '' PIPE # the reader of our output may be gone; cleanup must still finish
	# Stop the daemons first and gently, so the dataplane can release its EAL state.
	for pid in "$DP_PID" "$CTL_PID" "${E2E_PIDS[@]}"; do
		[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
	done
	for pid in "$DP_PID" "$CTL_PID" "${E2E_PIDS[@]}"; do
		[ -n "$pid" ] || continue
		e2e_wait_exit "$pid" 50 || kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for ns in "$NS_CLIENT" "$NS_LB" "$NS_BR" $(for r in "${RS_NAMES[@]}"; do e2e_ns_rs "$r"; done) \
		"${E2E_NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	if [ -n "$FILE_PREFIX" ]; then
		rm -rf "/var/run/dpdk/$FILE_PREFIX"
		# the connection tables the dataplane keeps for its next start (hugepages or /dev/shm)
		rm -f "$XVS_HUGE_DIR/xvs-$FILE_PREFIX-conns-"* "/dev/shm/xvs-$FILE_PREFIX-conns-"*
	fi
	if [ -n "$T" ] && [ -d "$T" ]; then
		if [ "$rc" -ne 0 ] && [ -n "${XVS_E2E_KEEP:-}" ]; then
			echo "e2e: work directory kept: $T" >&2
		else
			rm -rf "$T"
		fi
	fi
	exit "$rc"
}

# Wait up to N tenths of a second for a PID to exit; returns 1 if it is still there.
e2e_wait_exit() {
	local pid=$1 n=$2
	while [ "$n" -gt 0 ]; do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# Run a command N times (0.2 s apart) until it succeeds; returns its last status.
e2e_retry() {
	local n=$1
	shift
	while :; do
		"$@" && return 0
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.2
	done
}

# Bring an interface up in a namespace with the settings every endpoint here needs:
# no TX checksum offload (af_packet would otherwise see TCP with unfinished checksums).
e2e_link_up() {
	local ns=$1 dev=$2
	ip -n "$ns" link set "$dev" up || return 1
	ip netns exec "$ns" ethtool -K "$dev" tx off >/dev/null 2>&1 ||
		{ echo "ethtool -K $dev tx off failed in $ns" >&2; return 1; }
}

# IPv6 off in a whole namespace: no router solicitations or DAD in the captures and logs.
e2e_ns_add() {
	ip netns add "$1" || return 1
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 || return 1
	ip -n "$1" link set lo up
}

e2e_topology_up() {
	local r ns
	e2e_ns_add "$NS_CLIENT" && e2e_ns_add "$NS_LB" && e2e_ns_add "$NS_BR" ||
		e2e_fail "cannot create namespaces"
	ip link add lan netns "$NS_LB" type veth peer name eth0 netns "$NS_CLIENT" &&
		ip link add srv netns "$NS_LB" type veth peer name lb netns "$NS_BR" &&
		ip -n "$NS_BR" link add br0 type bridge &&
		ip -n "$NS_BR" link set br0 up &&
		ip -n "$NS_BR" link set lb master br0 ||
		e2e_fail "cannot create the veths and the bridge"
	for r in "${RS_NAMES[@]}"; do
		ns=$(e2e_ns_rs "$r")
		e2e_ns_add "$ns" &&
			ip link add eth0 netns "$ns" type veth peer name "$r" netns "$NS_BR" &&
			ip -n "$NS_BR" link set "$r" master br0 &&
			e2e_link_up "$NS_BR" "$r" &&
			e2e_link_up "$ns" eth0 &&
			ip -n "$ns" addr add "${RS_IP[$r]}/24" dev eth0 &&
			ip -n "$ns" route add default via "$LB_SRV_IP" ||
			e2e_fail "cannot set up real server $r"
	done
	# The lb namespace's kernel gets no address: the dataplane owns lan and srv.
	e2e_link_up "$NS_LB" lan && e2e_link_up "$NS_LB" srv && e2e_link_up "$NS_BR" lb &&
		e2e_link_up "$NS_CLIENT" eth0 &&
		ip -n "$NS_CLIENT" addr add "$CLIENT_IP/24" dev eth0 &&
		ip -n "$NS_CLIENT" route add default via "$LB_LAN_IP" ||
		e2e_fail "cannot set up the client and lb links"
}

# Each real server answers HTTP on :80 with its name (rs_http.py, which logs the client
# address of every request to $T/http-<name>.log; $T/http-<name>.ctl, when a test writes
# it, makes it answer 503 or hang) and UDP on :53 with its name (rs_udp.py, every datagram
# answered from one socket).
# A namespace on the servers' bridge for xvs-control (198.19.0.5), so that its health checks
# reach the real servers directly, as a director's kernel side would; xvs-control then runs
# there (E2E_CTL_NETNS). After e2e_topology_up.
HC_IP=198.19.0.5
e2e_hc_ns_up() {
	NS_HC=xvs-$SUFFIX-hc
	E2E_NETNS+=("$NS_HC")
	e2e_ns_add "$NS_HC" &&
		ip link add eth0 netns "$NS_HC" type veth peer name hc netns "$NS_BR" &&
		ip -n "$NS_BR" link set hc master br0 &&
		e2e_link_up "$NS_BR" hc && e2e_link_up "$NS_HC" eth0 &&
		ip -n "$NS_HC" addr add "$HC_IP/24" dev eth0 ||
		e2e_fail "cannot set up the health-check namespace"
	E2E_CTL_NETNS=$NS_HC
}

e2e_servers_up() {
	local r ns ip
	for r in "${RS_NAMES[@]}"; do
		ns=$(e2e_ns_rs "$r")
		ip=${RS_IP[$r]}
		ip netns exec "$ns" "$PY" "$E2E_DIR/rs_http.py" "$r" "$ip" 80 "$T/http-$r.ctl" \
			>"$T/http-$r.log" 2>&1 &
		E2E_PIDS+=($!)
		ip netns exec "$ns" "$PY" "$E2E_DIR/rs_udp.py" "$r" "$ip" 53 >"$T/udp-$r.log" 2>&1 &
		E2E_PIDS+=($!)
	done
	for r in "${RS_NAMES[@]}"; do
		ns=$(e2e_ns_rs "$r")
		e2e_retry 50 e2e_rs_answers "$ns" "${RS_IP[$r]}" "$r" ||
			e2e_fail "real server $r does not answer HTTP locally"
	done
}

e2e_rs_answers() {
	[ "$(ip netns exec "$1" curl -s --max-time 1 "http://$2/" 2>/dev/null)" = "$3" ]
}

# The dataplane's configuration; E2E_LAN_EXTRA / E2E_SRV_EXTRA add lines to a port's section,
# E2E_DP_EXTRA to [dataplane]; E2E_LCORES sets the lcores (default one: "0"), E2E_QPAIRS
# the queues of each af_packet port (one per worker) and E2E_CONN_MAX each worker's table.
e2e_write_dp_config() {
	local q=${E2E_QPAIRS:+,qpairs=$E2E_QPAIRS}
	cat >"$T/dp.ini" <<-EOF
	[dataplane]
	lcores = ${E2E_LCORES:-0}
	file_prefix = $FILE_PREFIX
	huge_dir = $XVS_HUGE_DIR
	in_memory = yes
	shm = $T/shm
	conn_max = ${E2E_CONN_MAX:-65536}
	${E2E_DP_EXTRA:-}

	[port lan]
	dev = net_af_packet0,iface=lan$q
	addr = $LB_LAN_IP/24
	${E2E_LAN_EXTRA:-}

	[port srv]
	dev = net_af_packet1,iface=srv$q
	addr = $LB_SRV_IP/24
	${E2E_SRV_EXTRA:-}
	EOF
}

# Start xvs-control (in this namespace, or in $E2E_CTL_NETNS) with the run's state file;
# E2E_CTL_ARGS (an array) adds options. The socket and the region are files, so xvsadm and
# the dataplane reach it from anywhere.
e2e_control_start() {
	local netns=()
	[ -n "$E2E_CTL_NETNS" ] && netns=(ip netns exec "$E2E_CTL_NETNS")
	rm -f "$T/ctl.pid"
	"${netns[@]}" "$XVS_CONTROL" --shm "$T/shm" --socket "$T/sock" --state "$T/state.json" \
		--pidfile "$T/ctl.pid" "${E2E_CTL_ARGS[@]}" >>"$T/ctl.log" 2>&1 &
	CTL_PID=$!
	e2e_retry 100 e2e_api_ok || e2e_fail "xvs-control does not answer on $T/sock"
	# Trust the pidfile over $! in case the daemon ever forks away from its parent.
	[ -s "$T/ctl.pid" ] && CTL_PID=$(cat "$T/ctl.pid")
}

e2e_api() {
	curl -s --max-time 2 --unix-socket "$T/sock" "http://xvs$1"
}

e2e_api_ok() { e2e_api /v1/status | grep -q '"api"'; }

# json_get KEY... < document: the value at that path (lists and objects as JSON).
json_get() { "$PY" -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1:]: d=d[k]
print(json.dumps(d) if isinstance(d,(list,dict)) else d)' "$@"; }

e2e_dp_attached() { e2e_api /v1/status | grep -Eq '"attached": *true'; }

# Kill xvs-control as a crash would (SIGKILL), by its PID.
e2e_control_kill() {
	[ -n "$CTL_PID" ] || e2e_fail "xvs-control is not running"
	kill -KILL "$CTL_PID"
	wait "$CTL_PID" 2>/dev/null
	CTL_PID=""
}

# E2E_DP_ARGS: more command-line options for xvs-dataplane.
e2e_dataplane_start() {
	e2e_write_dp_config
	# shellcheck disable=SC2086 # E2E_DP_ARGS: more options, split on blanks
	ip netns exec "$NS_LB" "$XVS_DATAPLANE" -c "$T/dp.ini" ${E2E_DP_ARGS:-} >>"$T/dp.log" 2>&1 &
	DP_PID=$!
}

# Both daemons up, the dataplane attached to control and answering ARP and ping.
e2e_xvs_up() {
	e2e_control_start
	e2e_dataplane_start
	e2e_retry 100 e2e_dp_attached ||
		e2e_fail "xvs-dataplane did not attach to xvs-control (status: $(e2e_api /v1/status))"
	e2e_retry 50 ip netns exec "$NS_CLIENT" ping -c 1 -W 1 -q "$LB_LAN_IP" >/dev/null ||
		e2e_fail "the dataplane does not answer ping on $LB_LAN_IP"
	e2e_log "xvs up: control pid $CTL_PID, dataplane pid $DP_PID, work dir $T"
}

# Both daemons must still be alive at the end of a test (a sanitizer abort kills them).
e2e_xvs_alive() {
	kill -0 "$DP_PID" 2>/dev/null || e2e_fail "xvs-dataplane died"
	kill -0 "$CTL_PID" 2>/dev/null || e2e_fail "xvs-control died"
}

# Stop a daemon with SIGTERM and require a clean exit (status 0: under the sanitizers
# that also means no leak report).
e2e_stop_clean() {
	local name=$1 pid=$2 rc
	kill -TERM "$pid"
	e2e_wait_exit "$pid" 100 || e2e_fail "$name ignores SIGTERM"
	wait "$pid"
	rc=$?
	[ "$rc" -eq 0 ] || e2e_fail "$name exited with status $rc on SIGTERM"
}

e2e_dataplane_stop() {
	local pid=$DP_PID
	DP_PID=""
	e2e_stop_clean xvs-dataplane "$pid"
	# A clean stop leaves no EAL runtime directory and no hugepage files behind.
	[ ! -e "/var/run/dpdk/$FILE_PREFIX" ] ||
		e2e_fail "xvs-dataplane left /var/run/dpdk/$FILE_PREFIX behind"
	! ls "$XVS_HUGE_DIR" 2>/dev/null | grep -q "^$FILE_PREFIX" ||
		e2e_fail "xvs-dataplane left hugepage files in $XVS_HUGE_DIR"
}

e2e_control_stop() {
	local pid=$CTL_PID
	CTL_PID=""
	e2e_stop_clean xvs-control "$pid"
}

# The whole testbed for one test: namespaces, real servers, both daemons.
e2e_start() {
	e2e_init
	e2e_topology_up
	e2e_servers_up
	e2e_xvs_up
}

adm() { "$XVSADM" "$@"; }

# Run xvsadm and fail the test if it fails.
adm_ok() {
	local out
	out=$("$XVSADM" "$@" 2>&1) || e2e_fail "xvsadm $* failed: $out"
	[ -z "$out" ] || echo "$out"
}

# One HTTP GET of the VIP from the client; prints the body or ERR.
http_get() {
	local out
	out=$(ip netns exec "$NS_CLIENT" curl -s --max-time 5 "http://$VIP:${1:-80}/") || out=ERR
	echo "${out:-EMPTY}"
}

# N sequential GETs (each a new TCP connection): the answers, space separated.
http_seq() {
	local n=$1 i out=()
	for ((i = 0; i < n; i++)); do
		out+=("$(http_get "${2:-80}")")
	done
	echo "${out[*]}"
}

# udp_seq N PORT [REPEAT]: N UDP queries of VIP:PORT from the client, each from a new
# socket (a new connection), each socket asking REPEAT times; the answers, space separated.
udp_seq() {
	ip netns exec "$NS_CLIENT" "$PY" "$E2E_DIR/udp_query.py" "$VIP" "$2" "$1" "${3:-1}" |
		tr '\n' ' ' | sed 's/ $//'
}

# expect_eq WHAT GOT WANT
expect_eq() {
	[ "$2" = "$3" ] || e2e_fail "$1: got '$2', want '$3'"
	e2e_ok "$1"
}

# How many times WORD appears in a space separated list.
count_word() {
	local n=0 w
	for w in $2; do
		[ "$w" = "$1" ] && n=$((n + 1))
	done
	echo "$n"
}

# The expected answer sequence: repeat the cycle until N words.
cycle() {
	local n=$1 i out=()
	shift
	local c=("$@")
	for ((i = 0; i < n; i++)); do
		out+=("${c[i % ${#c[@]}]}")
	done
	echo "${out[*]}"
}

# The usual service: rr over the three real servers' HTTP, in NAT mode; rr order rs1 rs2 rs3.
e2e_rr_http_service() {
	adm_ok -A -t "$VIP:80" -s rr
	local r
	for r in "${RS_NAMES_ADD[@]}"; do
		adm_ok -a -t "$VIP:80" -r "${RS_IP[$r]}:80" -m
	done
}
