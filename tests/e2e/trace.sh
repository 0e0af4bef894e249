#!/bin/bash
# The tracer: `xvsadm --trace` says which real server a client's packet to a virtual address
# gets, and why, without sending one. Checked against what real clients then reach: the sh
# scheduler's pick before any traffic, an existing connection (its worker's table), a
# persistence template for a new port of a known client, a firewall-mark service found
# through its mark rule, and the errors of bad input.
#
#   client (198.18.0.2, .6) --- lan (2 queues) [ xvs: 2 workers ] srv (2 queues) --- rs1 rs2 rs3
set -o pipefail
. "$(dirname "$0")/lib.sh"
E2E_LCORES="0@0,1@1,2@0"
E2E_QPAIRS=2
E2E_DP_EXTRA="idle_sleep_us = 20"
e2e_start

OTHER=198.18.0.6
ip -n "$NS_CLIENT" addr add "$OTHER/24" dev eth0 || e2e_fail "cannot add $OTHER to the client"

declare -A RS_NAME
for r in "${RS_NAMES[@]}"; do
	RS_NAME[${RS_IP[$r]}]=$r
done

get_from() { # get_from SRC PORT: one GET of the VIP from source address SRC
	local out
	out=$(ip netns exec "$NS_CLIENT" curl -s --max-time 5 --interface "$1" "http://$VIP:$2/") || out=ERR
	echo "${out:-EMPTY}"
}
# result_of TRACE-OUTPUT KIND: the real server name of its "Result: KIND -> addr:port" line.
result_of() {
	local ip
	ip=$(sed -n "s/^Result: $2 -> \([0-9.]*\):80\$/\1/p" <<<"$1")
	[ -n "$ip" ] && [ -n "${RS_NAME[$ip]:-}" ] || return 1
	echo "${RS_NAME[$ip]}"
}

adm_ok -A -t "$VIP:80" -s sh
for r in "${RS_NAMES_ADD[@]}"; do
	adm_ok -a -t "$VIP:80" -r "${RS_IP[$r]}:80" -m
done

# (1) Before any traffic: the scheduler's decision, with its bucket and inputs.
for src in "$CLIENT_IP" "$OTHER"; do
	out=$(adm --trace -t "$VIP:80" --client "$src:40000") || e2e_fail "--trace failed: $out"
	echo "$out"
	expect_eq "the packet line ($src)" "$(sed -n 1p <<<"$out")" "Packet: TCP $src:40000 -> $VIP:80"
	expect_eq "the service line ($src)" "$(sed -n 2p <<<"$out")" \
		"Service: TCP $VIP:80 sh (matched by address)"
	grep -qx "Connection: none" <<<"$out" || e2e_fail "a connection before any traffic: $out"
	grep -qx "Template: none (the service is not persistent)" <<<"$out" ||
		e2e_fail "the template line: $out"
	want=$(result_of "$out" scheduler) || e2e_fail "no scheduler result: $out"
	grep -Eqx "Scheduler: sh, bucket [0-9]+ of 256 holds ${RS_IP[$want]}:80; picks ${RS_IP[$want]}:80 \(the same on every worker\)" <<<"$out" ||
		e2e_fail "the scheduler line: $out"
	expect_eq "three candidate servers listed ($src)" \
		"$(grep -Ec '^  -> 198\.19\.0\.1[123]:80 +1 +[0-9]+ +[0-9]+ +unchecked +yes$' <<<"$out")" 3
	# (2) Real clients from that address reach the traced server (sh hashes the address).
	for i in 1 2 3; do
		expect_eq "GET $i from $src reaches the traced server" "$(get_from "$src" 80)" "$want"
	done
done

# (3) An open connection: the tracer finds it in its worker's table.
ip netns exec "$NS_CLIENT" "$PY" "$E2E_DIR/hold_tcp.py" "$VIP" 80 60 >"$T/hold.out" 2>&1 &
E2E_PIDS+=($!)
e2e_retry 50 test -s "$T/hold.out" || e2e_fail "the held connection did not open"
HOLD_PORT=$(head -n 1 "$T/hold.out")
held=$(result_of "$(adm --trace -t "$VIP:80" --client "$CLIENT_IP:1")" scheduler) ||
	e2e_fail "no scheduler result for $CLIENT_IP"
trace_conn() {
	out=$(adm --trace -t "$VIP:80" --client "$CLIENT_IP:$HOLD_PORT") &&
		grep -q "^Result: existing connection" <<<"$out"
}
e2e_retry 25 trace_conn || e2e_fail "the held connection was not traced: $out"
echo "$out"
expect_eq "the existing connection's server" "$(result_of "$out" 'existing connection')" "$held"
grep -Eqx "Connection: worker [01], client port $HOLD_PORT, ESTABLISHED, expires in [0-9]+ s -> ${RS_IP[$held]}:80 masq" <<<"$out" ||
	e2e_fail "the connection line: $out"
json=$(adm --trace -t "$VIP:80" --client "$CLIENT_IP:$HOLD_PORT" --json) || e2e_fail "--json failed"
expect_eq "--json verdict" "$(json_get verdict <<<"$json")" connection
expect_eq "--json server" "$(json_get server addr <<<"$json")" "${RS_IP[$held]}"
expect_eq "--json workers" "$(json_get workers <<<"$json")" 2

# (4) Persistence: after one connection, a new port of the same client meets the template.
adm_ok -A -t "$VIP:81" -s rr -p 120
for r in "${RS_NAMES_ADD[@]}"; do
	adm_ok -a -t "$VIP:81" -r "${RS_IP[$r]}:80" -m
done
out=$(adm --trace -t "$VIP:81" --client "$OTHER:50000") || e2e_fail "--trace :81 failed"
grep -qx "Template: none for this client" <<<"$out" || e2e_fail "a template before traffic: $out"
grep -q "from a fresh state (each worker keeps its own rr state)" <<<"$out" ||
	e2e_fail "rr's decision is not said to be per worker: $out"
got=$(get_from "$OTHER" 81)
case "$got" in rs1 | rs2 | rs3) ;; *) e2e_fail "GET from $OTHER to :81: $got" ;; esac
trace_tpl() {
	out=$(adm --trace -t "$VIP:81" --client "$OTHER:50001") &&
		grep -q "^Result: persistence template" <<<"$out"
}
e2e_retry 25 trace_tpl || e2e_fail "no template traced after a connection: $out"
echo "$out"
expect_eq "the template's server is the one the client reached" \
	"$(result_of "$out" 'persistence template')" "$got"
grep -Eqx "Template: worker [01], client $OTHER, expires in [0-9]+ s -> ${RS_IP[$got]}:80" <<<"$out" ||
	e2e_fail "the template line: $out"
expect_eq "and a second GET agrees" "$(get_from "$OTHER" 81)" "$got"

# A firewall-mark service: the tracer follows the mark rule, as the dataplane does.
adm_ok --add-mark --proto tcp --dst "$VIP/32" --dport 82 --mark 7
adm_ok -A -f 7 -s sh
for r in "${RS_NAMES_ADD[@]}"; do
	adm_ok -a -f 7 -r "${RS_IP[$r]}:80" -m
done
out=$(adm --trace -t "$VIP:82" --client "$OTHER:40000") || e2e_fail "--trace :82 failed: $out"
echo "$out"
expect_eq "the fwmark service line" "$(sed -n 2p <<<"$out")" "Service: FWM 7 sh (matched by mark rule)"
want=$(result_of "$out" scheduler) || e2e_fail "no scheduler result: $out"
expect_eq "a GET to :82 reaches the traced server" "$(get_from "$OTHER" 82)" "$want"

# (5) Bad input: clear errors, ipvsadm's exit statuses, nothing changed.
before=$(adm -S -n)
check_err() { # check_err STATUS MESSAGE ARGS...: xvsadm ARGS fails so
	local want_rc=$1 want_msg=$2 rc out
	shift 2
	out=$(adm "$@" 2>&1)
	rc=$?
	expect_eq "xvsadm $* exits $want_rc" "$rc" "$want_rc"
	expect_eq "xvsadm $* says why" "$out" "$want_msg"
}
check_err 1 "No such service" --trace -t "$VIP:99" --client "$CLIENT_IP"
check_err 1 "No such service" --trace -u "$VIP:80" --client "$CLIENT_IP"
check_err 2 "illegal client address[:port] specified" --trace -t "$VIP:80" --client 198.18.0.300
check_err 2 "illegal client port specified" --trace -t "$VIP:80" --client "$CLIENT_IP:0"
check_err 2 "illegal virtual server address[:port] specified" --trace -t "$VIP:no-such-port" --client "$CLIENT_IP"
check_err 2 "You need to supply the 'client' option for the 'trace' command" --trace -t "$VIP:80"
check_err 2 "--trace needs the destination port (address:port)" --trace -t "$VIP" --client "$CLIENT_IP"
check_err 2 "the client and the virtual address are of different families" \
	--trace -t "$VIP:80" --client 2001:db8::1
check_err 2 "--trace takes the packet's destination (-t, -u or --sctp-service address:port), not -f: the mark rules give a packet its mark, and the trace follows them to a firewall-mark service" \
	--trace -f 7 --client "$CLIENT_IP"
check_err 2 "Illegal 'client' option with the 'list' command" -L -n --client "$CLIENT_IP"
api_code() { curl -s --max-time 5 --unix-socket "$T/sock" -o /dev/null -w '%{http_code}' -X "$1" \
	-H 'Content-Type: application/json' --data-binary "$2" "http://xvs/v1/trace"; }
expect_eq "POST /v1/trace without caddr" "$(api_code POST '{"proto":"tcp","vaddr":"198.18.0.100","vport":80}')" 400
expect_eq "POST /v1/trace with a bad field" "$(api_code POST '{"proto":"tcp","vaddr":"198.18.0.100","vport":80,"caddr":"198.18.0.2","x":1}')" 400
expect_eq "POST /v1/trace not JSON" "$(api_code POST 'nope')" 400
expect_eq "GET /v1/trace" "$(api_code GET '')" 405
expect_eq "the configuration is unchanged" "$(adm -S -n)" "$before"

e2e_xvs_alive
