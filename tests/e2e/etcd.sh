#!/bin/bash
# One configuration for a fleet: two xvs-control nodes follow one etcd (Debian's etcd-server,
# v3, spoken to over its HTTP/JSON gateway). Node 1 runs the usual testbed (lib.sh: a client,
# xvs-dataplane, three real servers); node 2 is a second xvs-control with its own region,
# socket and state file, as on a second machine. The services live under an etcd prefix as
# keepalived.conf text, one key per service.
#
#   ns etcd (loopback only)                          lib.sh's testbed
#  +------------------------------------------+     +---------------------------------------+
#  | etcd 127.0.0.1:2379 (data dir in $T)     |     | client -- xvs-dataplane -- rs1 rs2 rs3 |
#  | xvs-control node 1 --etcd ... (shm $T/shm)-----> (node 1's region)                     |
#  | xvs-control node 2 --etcd ... (shm $T/n2) |     +---------------------------------------+
#  +------------------------------------------+
#
# Steps: (1) a service put in etcd appears on both nodes, identical, as one generation each,
# and node 1 forwards it; (2) a second key adds a UDP service, an edit of the first changes a
# weight: both follow, one generation per change; (3) a value with an error is refused by both,
# which keep running what they had; (4) etcd stops: both keep their configuration, node 1 is
# restarted meanwhile and comes back with it (the state file is the cache) and still forwards;
# (5) etcd starts again and the next change reaches both; (6) a node that cannot write its
# cache file applies nothing until it can.
set -u
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

PREFIX_KEY=/xvs/fleet/
e2e_need etcd
e2e_init
NS_ETCD=xvs-$SUFFIX-etcd
E2E_NETNS+=("$NS_ETCD")
e2e_ns_add "$NS_ETCD" || e2e_fail "cannot create $NS_ETCD"
ETCD_URL=http://127.0.0.1:2379
ETCD_PID=""

etcd_start() {
	ip netns exec "$NS_ETCD" etcd --name xvs-test --data-dir "$T/etcd" \
		--listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
		--listen-peer-urls http://127.0.0.1:2380 \
		--initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster xvs-test=http://127.0.0.1:2380 >>"$T/etcd.log" 2>&1 &
	ETCD_PID=$!
	E2E_PIDS+=("$ETCD_PID")
	e2e_retry 100 etcd_healthy || e2e_fail "etcd does not start: $(tail -n 5 "$T/etcd.log")"
}
etcd_healthy() { ip netns exec "$NS_ETCD" curl -s --max-time 1 "$ETCD_URL/health" | grep -q '"true"'; }
b64() { printf '%s' "$1" | base64 -w0; }
etcd_put() { # KEY VALUE
	ip netns exec "$NS_ETCD" curl -s --max-time 5 -X POST "$ETCD_URL/v3/kv/put" \
		-d "{\"key\":\"$(b64 "$1")\",\"value\":\"$(b64 "$2")\"}" | grep -q '"revision"' ||
		e2e_fail "etcd put $1 failed"
}

# web SCHEDULER PROTOCOL PORT SERVER:WEIGHT...: a virtual_server block on the VIP (NAT); the
# servers in keepalived's order (the last one ends at the head of the list)
web() {
	local sched=$1 proto=$2 port=$3 r
	shift 3
	printf 'virtual_server %s %s {\n    lb_algo %s\n    lb_kind NAT\n    protocol %s\n' \
		"$VIP" "$port" "$sched" "$proto"
	for r in "$@"; do
		printf '    real_server %s %s {\n        weight %s\n    }\n' "${RS_IP[${r%%:*}]}" "$port" "${r#*:}"
	done
	printf '}\n'
}

etcd_start
etcd_put "${PREFIX_KEY}web" "$(web rr TCP 80 rs3:1 rs2:1 rs1:1)"

# node 1: lib.sh's daemons, xvs-control in the etcd namespace; node 2 beside it
E2E_CTL_NETNS=$NS_ETCD
E2E_CTL_ARGS=(--etcd "$ETCD_URL" --etcd-prefix "$PREFIX_KEY" --metrics-listen none)
e2e_topology_up
e2e_servers_up
e2e_xvs_up
N2=$T/n2
mkdir -p "$N2"
node2_start() {
	ip netns exec "$NS_ETCD" "$XVS_CONTROL" --shm "$N2/shm" --socket "$N2/sock" \
		--state "$N2/state.json" --pidfile "$N2/ctl.pid" --etcd "$ETCD_URL" \
		--etcd-prefix "$PREFIX_KEY" --metrics-listen none >>"$N2/ctl.log" 2>&1 &
	N2_PID=$!
	E2E_PIDS+=("$N2_PID")
}
node2_start
list() { XVS_CONTROL_SOCKET=$1 "$XVSADM" -L -n 2>/dev/null; }
gen() { curl -s --max-time 2 --unix-socket "$1" http://xvs/v1/status | json_get generation; }
has() { list "$1" | grep -q -- "$2"; }
rules() { XVS_CONTROL_SOCKET=$1 "$XVSADM" -S -n 2>/dev/null; }
same() { [ "$(rules "$T/sock")" = "$(rules "$N2/sock")" ]; } # the rules; counts differ

# ---- (1) the first service, on both ---------------------------------------------------------
for s in "$T/sock" "$N2/sock"; do
	e2e_retry 100 has "$s" "TCP  $VIP:80 rr" || e2e_fail "$s: no service from etcd: $(list "$s")"
done
e2e_retry 25 same || e2e_fail "the nodes differ: $(rules "$T/sock") /// $(rules "$N2/sock")"
g1=$(gen "$T/sock")
g2=$(gen "$N2/sock")
# generation 1 is the empty start; the etcd configuration came whole, as the next one
expect_eq "node 2's etcd configuration is one generation" "$g2" 2
got=$(http_seq 6)
for r in rs1 rs2 rs3; do
	[ "$(count_word "$r" "$got")" -eq 2 ] || e2e_fail "rr through node 1: $got"
done
e2e_ok "node 1 forwards the service from etcd ($got)"

# ---- (2) a second key, an edit: one generation per change on each node ----------------------
etcd_put "${PREFIX_KEY}dns" "$(web wlc UDP 53 rs1:3)"
for s in "$T/sock" "$N2/sock"; do
	e2e_retry 100 has "$s" "UDP  $VIP:53 wlc" || e2e_fail "$s: the UDP service did not come"
done
expect_eq "node 1: one generation for the new key" "$(gen "$T/sock")" $((g1 + 1))
expect_eq "node 2: one generation for the new key" "$(gen "$N2/sock")" $((g2 + 1))
expect_eq "UDP through node 1" "$(udp_seq 2 53)" "rs1 rs1"
etcd_put "${PREFIX_KEY}web" "$(web rr TCP 80 rs3:1 rs2:0 rs1:1)"
w0() { list "$1" | grep -q -- "-> ${RS_IP[rs2]}:80 *Masq *0 "; }
for s in "$T/sock" "$N2/sock"; do
	e2e_retry 100 w0 "$s" || e2e_fail "$s: rs2's weight did not become 0: $(list "$s")"
done
expect_eq "node 1: one generation for the edit" "$(gen "$T/sock")" $((g1 + 2))
expect_eq "node 2: one generation for the edit" "$(gen "$N2/sock")" $((g2 + 2))
same || e2e_fail "the nodes differ after the edit"
got=$(http_seq 4)
[ "$(count_word rs2 "$got")" -eq 0 ] && [ "$(count_word rs1 "$got")" -eq 2 ] ||
	e2e_fail "rs2 at weight 0 still gets traffic: $got"
e2e_ok "both nodes follow a new key and an edit, one generation each ($got)"

# ---- (3) an error in etcd changes nothing ---------------------------------------------------
before=$(rules "$T/sock")
etcd_put "${PREFIX_KEY}web" "$(web nosuchscheduler TCP 80 rs1:1)"
for n in "$T" "$N2"; do
	e2e_retry 100 grep -q "refused, the configuration is unchanged" "$n/ctl.log" ||
		e2e_fail "$n: the bad value was not refused: $(tail -n 5 "$n/ctl.log")"
done
expect_eq "node 1 keeps its services after a bad value" "$(rules "$T/sock")" "$before"
expect_eq "node 2 keeps its services after a bad value" "$(rules "$N2/sock")" "$before"

# ---- (4) etcd gone: the nodes keep what they have, a restart too ----------------------------
kill -TERM "$ETCD_PID"
e2e_wait_exit "$ETCD_PID" 100 || e2e_fail "etcd does not stop"
e2e_control_stop
e2e_control_start
e2e_retry 100 e2e_dp_attached || e2e_fail "the dataplane did not attach to the new xvs-control"
expect_eq "node 1 restarted without etcd: its services from the state file" "$(rules "$T/sock")" "$before"
e2e_retry 100 grep -q "configuration stays as it is" "$T/ctl.log" ||
	e2e_fail "node 1 does not say that etcd is unreachable"
e2e_retry 100 grep -q "configuration stays as it is" "$N2/ctl.log" ||
	e2e_fail "node 2 does not say that etcd is unreachable"
expect_eq "node 2 without etcd keeps its services" "$(rules "$N2/sock")" "$before"
got=$(http_seq 4)
[ "$(count_word rs1 "$got")" -eq 2 ] && [ "$(count_word rs3 "$got")" -eq 2 ] ||
	e2e_fail "node 1 without etcd: $got"
e2e_ok "without etcd, node 1 keeps forwarding ($got)"

# ---- (5) etcd back: the next change reaches both --------------------------------------------
etcd_start
etcd_put "${PREFIX_KEY}web" "$(web wrr TCP 80 rs1:2)"
for s in "$T/sock" "$N2/sock"; do
	e2e_retry 150 has "$s" "TCP  $VIP:80 wrr" || e2e_fail "$s: the change after etcd came back did not arrive: $(list "$s")"
done
e2e_retry 25 same || e2e_fail "the nodes differ at the end"
expect_eq "after etcd came back, node 1 sends everything to rs1" "$(http_seq 3)" "rs1 rs1 rs1"

# ---- (6) a cache file that cannot be written: the change waits for it --------------------------
mkdir "$N2/state.json.etcd.conf.tmp" # the temporary file's name taken: the write fails
etcd_put "${PREFIX_KEY}web" "$(web wrr TCP 80 rs2:2)"
e2e_retry 150 has "$T/sock" "-> ${RS_IP[rs2]}:80" || e2e_fail "node 1 did not follow the change"
e2e_retry 100 grep -q "cannot write .*state.json.etcd.conf" "$N2/ctl.log" ||
	e2e_fail "node 2 does not say that it cannot write its cache: $(tail -n 3 "$N2/ctl.log")"
has "$N2/sock" "-> ${RS_IP[rs2]}:80" && e2e_fail "node 2 applied a change its cache does not hold"
rmdir "$N2/state.json.etcd.conf.tmp"
e2e_retry 100 has "$N2/sock" "-> ${RS_IP[rs2]}:80" ||
	e2e_fail "node 2 did not apply the change once its cache could be written: $(tail -n 3 "$N2/ctl.log")"
grep -qF "${RS_IP[rs2]}" "$N2/state.json.etcd.conf" || e2e_fail "node 2's cache lacks the change"
e2e_ok "node 2 applied the change only once its cache file could be written"
e2e_xvs_alive
kill -0 "$N2_PID" || e2e_fail "node 2's xvs-control died"
