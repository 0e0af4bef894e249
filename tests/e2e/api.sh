#!/bin/bash
# The control API without xvsadm: curl --unix-socket adds a service and a real server in
# one transaction and lists them (and xvsadm sees the same); malformed requests (bad JSON,
# wrong types, out-of-range values, unknown ops and fields, oversized bodies, wrong methods
# and endpoints) get a 4xx with a clear message and change nothing; a transaction with one
# bad op applies none of its ops; a non-root user can neither change nor read anything,
# even when the socket's mode lets it connect.
#
#   curl / xvsadm --(HTTP over $T/sock)--> xvs-control --(shm)--> xvs-dataplane
set -o pipefail
. "$(dirname "$0")/lib.sh"
e2e_start

# api METHOD PATH [BODY]: prints "STATUS BODY"; a BODY of @FILE sends that file.
# API_MAX_TIME: seconds for the whole exchange (default 5).
api() {
	local args=(-s --max-time "${API_MAX_TIME:-5}" --unix-socket "$T/sock" -X "$1" -w ' %{http_code}' "http://xvs$2")
	[ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
	local out
	out=$(curl "${args[@]}") || return 1
	echo "${out##* } ${out% *}"
}

# The configuration as -S -n prints it, and the generation: what "nothing changed" means.
snapshot() {
	echo "$(adm -S -n) gen=$(e2e_api /v1/status | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["generation"])')"
}

SVC='{"proto":"tcp","addr":"198.18.0.100","port":80}'
out=$(api POST /v1/ops '{"ops":[
  {"op":"add-service","service":{"proto":"tcp","addr":"198.18.0.100","port":80,"sched":"rr"}},
  {"op":"add-dest","service":'"$SVC"',"dest":{"addr":"198.19.0.11","port":80,"fwd":"masq"}},
  {"op":"add-dest","service":'"$SVC"',"dest":{"addr":"198.19.0.12","port":80,"fwd":"masq","weight":2}}]}')
grep -Eq '^200 .*"dataplane": *"adopted"' <<<"$out" || e2e_fail "POST /v1/ops: $out"
e2e_ok "curl adds a service and two real servers in one transaction ($out)"

out=$(api GET /v1/services)
"$PY" - "${out#* }" <<-'PYEOF' || e2e_fail "GET /v1/services: $out"
	import json, sys
	doc = json.loads(sys.argv[1])
	(s,) = doc["services"]
	assert (s["proto"], s["addr"], s["port"], s["sched"]) == ("tcp", "198.18.0.100", 80, "rr"), s
	# IPVS's order: the newest first
	assert [(d["addr"], d["fwd"], d["weight"]) for d in s["dests"]] == \
	    [("198.19.0.12", "masq", 2), ("198.19.0.11", "masq", 1)], s["dests"]
	assert doc["timeouts"] == {"tcp": 900, "tcpfin": 120, "udp": 300}, doc["timeouts"]
	PYEOF
e2e_ok "GET /v1/services lists them"
expect_eq "xvsadm -S -n sees the same" "$(adm -S -n)" "-A -t 198.18.0.100:80 -s rr
-a -t 198.18.0.100:80 -r 198.19.0.11:80 -m -w 1
-a -t 198.18.0.100:80 -r 198.19.0.12:80 -m -w 2"
expect_eq "traffic follows the API's configuration (rr, newest first)" "$(http_seq 4)" "rs2 rs1 rs2 rs1"

# Malformed requests: "METHOD|PATH|BODY|STATUS|ERRNO|words the message must contain".
before=$(snapshot)
BIG=$T/big.json
{ printf '{"ops":[],"pad":"'; head -c $((16 * 1024 * 1024 + 16)) /dev/zero | tr '\0' x; printf '"}'; } >"$BIG"
while IFS='|' read -r method path body status errno words; do
	[ -n "$method" ] || continue
	mt=5
	[ "$body" = "@BIG" ] && body="@$BIG" && mt=60 # 16 MiB through a sanitizer build takes a while
	if [ -n "$body" ]; then out=$(API_MAX_TIME=$mt api "$method" "$path" "$body"); else out=$(api "$method" "$path"); fi
	got_status=${out%% *}
	doc=${out#* }
	what="$method $path ${body:0:60}"
	expect_eq "$what: status" "$got_status" "$status"
	"$PY" - "$doc" "$errno" "$words" <<-'PYEOF' || e2e_fail "$what: reply $doc"
		import json, sys
		d = json.loads(sys.argv[1])
		assert d["errno"] == int(sys.argv[2]), d
		assert sys.argv[3].lower() in d["error"].lower(), d
		PYEOF
	expect_eq "$what: nothing changed" "$(snapshot)" "$before"
done <<'CASES'
POST|/v1/ops|{"ops": [|400|22|bad JSON
POST|/v1/ops|[]|400|22|expected an object
POST|/v1/ops|{"ops": 5}|400|22|'ops' must be an array
POST|/v1/ops|{"ops": [], "ops": []}|400|22|duplicate
POST|/v1/ops|{"ops": [{"op": "frobnicate"}]}|400|22|unknown op 'frobnicate'
POST|/v1/ops|{"ops": [{"op": "add-service", "service": {"proto": "tcp", "addr": "198.18.0.101", "port": "80"}}]}|400|22|service.port: expected an integer
POST|/v1/ops|{"ops": [{"op": "add-service", "service": {"proto": "tcp", "addr": "198.18.0.101", "port": 65536}}]}|400|22|out of range
POST|/v1/ops|{"ops": [{"op": "add-service", "service": {"proto": "tcp", "addr": "198.18.0.101", "port": 81, "colour": "red"}}]}|400|22|unknown field 'colour'
POST|/v1/ops|{"ops": [{"op": "add-service", "service": {"proto": "tcp", "addr": "not-an-ip", "port": 81}}]}|400|22|not an IPv4 or IPv6 address
POST|/v1/ops|{"ops": [{"op": "add-service", "service": {"proto": "tcp", "addr": "198.18.0.101", "port": 81, "ops": "yes"}}]}|400|22|expected true or false
POST|/v1/ops|{"ops": [{"op": "add-dest", "service": {"proto": "tcp", "addr": "198.18.0.100", "port": 80}, "dest": {"addr": "198.19.0.13", "port": 80, "weight": 70000}}]}|400|22|weight
POST|/v1/ops|{"ops": [{"op": "add-dest", "service": {"proto": "tcp", "addr": "198.18.0.100", "port": 80}, "dest": {"addr": "198.19.0.13", "port": 80, "u_threshold": 5, "l_threshold": 9}}]}|400|34|threshold
POST|/v1/ops|{"ops": [{"op": "set-timeouts", "udp": -1}]}|400|22|udp
POST|/v1/ops|{"ops": [{"op": "set-timeouts", "tcp": 2678401}]}|400|22|2678401
POST|/v1/ops|{"ops": [{"op": "add-service", "service": {"proto": "tcp", "addr": "198.18.0.100", "port": 80}}]}|409|17|Service already exists
POST|/v1/ops|{"ops": [{"op": "delete-service", "service": {"proto": "udp", "addr": "198.18.0.100", "port": 80}}]}|404|3|No such service
POST|/v1/ops|{"ops": [{"op": "add-service", "service": {"proto": "tcp", "addr": "198.18.0.101", "port": 81, "sched": "rr"}}, {"op": "add-dest", "service": {"proto": "tcp", "addr": "198.18.0.101", "port": 81}, "dest": {"addr": "198.19.0.11", "port": 80, "fwd": "nat"}}]}|400|22|invalid value 'nat'
POST|/v1/ops|@BIG|413|7|over 16 MiB
GET|/v1/ops||405|22|use POST
DELETE|/v1/services||405|22|use GET
POST|/v1/conns|{}|405|22|use GET
GET|/v1/nope||404|2|no such endpoint
CASES
# The failing op of a transaction is named by its index.
out=$(api POST /v1/ops '{"ops":[{"op":"clear"},{"op":"zero","service":{"proto":"tcp","addr":"198.18.0.9","port":1}}]}')
grep -q '"index": *1' <<<"$out" || e2e_fail "failing op's index: $out"
expect_eq "a transaction whose second op fails changed nothing (not even its clear)" "$(snapshot)" "$before"

# Not root: the socket is 0600 in a 0700 directory, so xvsadm cannot even connect.
cp "$XVSADM" "$T/xvsadm-copy" # reachable by any user, as an installed xvsadm is
chmod 0711 "$T"
chmod 0755 "$T/xvsadm-copy"
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env XVS_CONTROL_SOCKET="$T/sock" "$@"; }
out=$(nobody "$T/xvsadm-copy" -A -t 198.18.0.101:80 2>&1)
rc=$?
expect_eq "xvsadm -A as nobody: status" "$rc" 2
expect_eq "xvsadm -A as nobody: message" "$out" "Can't initialize ipvs: Permission denied (you must be root)
Are you sure that xvs-control is running?"
# Even with the socket opened up, the daemon checks the peer's uid on every request.
chmod 0666 "$T/sock"
out=$(nobody "$T/xvsadm-copy" -A -t 198.18.0.101:80 2>&1)
rc=$?
expect_eq "xvsadm -A as nobody on an open socket: status" "$rc" 255
expect_eq "xvsadm -A as nobody on an open socket: message" "$out" "Permission denied (you must be root)"
out=$(nobody "$T/xvsadm-copy" -C 2>&1)
expect_eq "xvsadm -C as nobody: refused" "$?:$out" "255:Permission denied (you must be root)"
out=$(nobody "$T/xvsadm-copy" -L -n 2>&1)
expect_eq "xvsadm -L as nobody: refused" "$?:$out" "1:Permission denied (you must be root)"
out=$(nobody curl -s -w ' %{http_code}' --unix-socket "$T/sock" -X POST -d '{"ops":[{"op":"clear"}]}' http://xvs/v1/ops | tr -d '\n')
grep -Eq '"errno": *1\}? 403$' <<<"$out" || e2e_fail "POST /v1/ops as nobody: $out"
out=$(nobody curl -s -w ' %{http_code}' --unix-socket "$T/sock" http://xvs/v1/conns | tr -d '\n')
grep -Eq ' 403$' <<<"$out" || e2e_fail "GET /v1/conns as nobody: $out"
e2e_ok "curl as nobody gets 403"
chmod 0600 "$T/sock"
chmod 0700 "$T"
expect_eq "nothing changed for the non-root attempts" "$(snapshot)" "$before"

# One worker: no steering between workers, and none stalled.
expect_eq "status with one worker" "$(e2e_api /v1/status | "$PY" -c 'import json,sys
d = json.load(sys.stdin)["dataplane"]; print(d["workers"], d["steering"], d["stalled_workers"])')" "1 none []"

e2e_xvs_alive
