#!/bin/bash
# xvsadm -L -c lists the live connections of the dataplane's workers (GET /v1/conns, read
# through the per-worker dump mailboxes): one row per connection with the client's address
# and port, the VIP, the real server rr picked and IPVS's state and expiry, in ipvsadm's
# format; the same data as --json and straight from the API; an empty table is the title
# alone.
#
#   client --- xvs-dataplane (NAT, rr) --- rs1 rs2 rs3
set -o pipefail
. "$(dirname "$0")/lib.sh"
e2e_start

title="IPVS connection entries
pro expire state       source             virtual            destination"
expect_eq "-L -n -c before any traffic" "$(adm -L -n -c)" "$title"

e2e_rr_http_service
N=6
got=$(http_seq "$N")
expect_eq "$N GETs, rr order" "$got" "$(cycle "$N" rs1 rs2 rs3)"

# A connection held open: ESTABLISHED, 15 minutes to go, on rs1 (rr's next pick).
ip netns exec "$NS_CLIENT" "$PY" "$E2E_DIR/hold_tcp.py" "$VIP" 80 60 >"$T/hold.out" 2>&1 &
E2E_PIDS+=($!)
e2e_retry 50 test -s "$T/hold.out" || e2e_fail "the held connection did not open"
HOLD_PORT=$(head -n 1 "$T/hold.out")
sleep 0.3

list=$(adm -L -n -c) || e2e_fail "xvsadm -L -n -c failed"
echo "$list"
expect_eq "title" "$(head -n 2 <<<"$list")" "$title"
rows=$(tail -n +3 <<<"$list")
expect_eq "one row per connection" "$(wc -l <<<"$rows")" $((N + 1))

# Every row is ipvsadm's "%-3s %-6s %-11s %-18s %-18s %s" of a connection from the client.
re="^TCP [0-9]{2}:[0-5][0-9]  [A-Z_]{4,11} +$CLIENT_IP:[0-9]+ +$VIP:80 +198\.19\.0\.1[123]:80\$"
bad=$(grep -Ev "$re" <<<"$rows")
expect_eq "rows in ipvsadm's format" "$bad" ""
held=$(grep -F " $CLIENT_IP:$HOLD_PORT " <<<"$rows")
grep -Eq "^TCP 1[45]:[0-5][0-9]  ESTABLISHED $CLIENT_IP:$HOLD_PORT +$VIP:80 +${RS_IP[rs1]}:80\$" <<<"$held" ||
	e2e_fail "the held connection's row: '$held'"
e2e_ok "the held connection: ESTABLISHED, about 15 minutes left, on rs1"
# The finished ones are closing down, with a short expiry (TIME_WAIT is 2 minutes).
closed=$(grep -v " $CLIENT_IP:$HOLD_PORT " <<<"$rows")
bad=$(grep -Ev "^TCP 0[0-2]:[0-5][0-9]  (TIME_WAIT|CLOSE|CLOSE_WAIT|LAST_ACK|FIN_WAIT) " <<<"$closed")
expect_eq "finished connections are closing, under 2 minutes left" "$bad" ""
for r in "${RS_NAMES[@]}"; do
	n=$(grep -c " ${RS_IP[$r]}:80\$" <<<"$closed")
	expect_eq "finished connections on $r" "$n" $((N / 3))
done
ports=$(awk '{split($4, a, ":"); print a[2]}' <<<"$rows" | sort -u | wc -l)
expect_eq "every row a different client port" "$ports" $((N + 1))

# Without -n the ports get their names, as in ipvsadm.
adm -L -c | grep -E "^TCP 1[45]:[0-5][0-9]  ESTABLISHED [^ ]+:$HOLD_PORT +[^ ]+:http +[^ ]+:http\$" >/dev/null ||
	e2e_fail "-L -c without -n: $(adm -L -c)"
e2e_ok "-L -c resolves port names"

# --persistent-conn adds the pe columns (empty: no persistence engine).
pc=$(adm -L -n -c --persistent-conn | sed -n 2p)
expect_eq "--persistent-conn title" "$pc" \
	"pro expire state       source             virtual            destination        pe name          pe_data"

# --json and the API itself carry the same connections.
adm -L -n -c --json >"$T/conns.json" || e2e_fail "xvsadm -L -c --json failed"
"$PY" - "$T/conns.json" "$CLIENT_IP" "$HOLD_PORT" "$VIP" $((N + 1)) <<-'PYEOF' || e2e_fail "--json: $(cat "$T/conns.json")"
	import json, sys
	doc = json.load(open(sys.argv[1]))
	client, port, vip, n = sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
	assert doc["complete"] is True and doc["workers"] >= 1, doc
	assert len(doc["conns"]) == n, len(doc["conns"])
	held = [c for c in doc["conns"] if c["cport"] == port]
	assert len(held) == 1 and held[0]["state"] == "ESTABLISHED", held
	assert held[0]["proto"] == "tcp" and held[0]["fwd"] == "masq", held
	assert all(c["caddr"] == client and c["vaddr"] == vip and c["vport"] == 80
	           for c in doc["conns"]), doc
	assert 840 <= held[0]["expire"] <= 900, held
	PYEOF
e2e_ok "xvsadm -L -c --json"
e2e_api /v1/conns >"$T/api.json"
"$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); assert len(d["conns"]) == int(sys.argv[2]) and d["complete"]' \
	"$T/api.json" $((N + 1)) || e2e_fail "GET /v1/conns: $(cat "$T/api.json")"
e2e_ok "GET /v1/conns is one JSON document with every connection"

# With the dataplane gone the list is empty (no connections are forwarded).
e2e_dataplane_stop
expect_eq "-L -n -c without a dataplane" "$(adm -L -n -c)" "$title"
e2e_xvs_alive_control() { kill -0 "$CTL_PID" 2>/dev/null || e2e_fail "xvs-control died"; }
e2e_xvs_alive_control
