#!/bin/bash
# Statistics follow real traffic: N HTTP GETs through a NAT rr service move Conns by N
# (split by rr), InPkts/OutPkts/InBytes/OutBytes by exactly what a capture on the client
# saw, finished connections count as InActConn and a held-open one as ActiveConn; -Z
# zeroes the counters but not the connection counts; rates rise with traffic.
#
#   client (tcpdump on eth0) --- xvs-dataplane (NAT, rr) --- rs1 rs2 rs3
set -o pipefail
. "$(dirname "$0")/lib.sh"
e2e_start
e2e_rr_http_service
N=12

# The service's --stats row as "conns inpkts outpkts inbytes outbytes" (exact numbers).
svc_stats() {
	adm -L -n --stats --exact | awk -v s="$VIP:80" '$1 == "TCP" && $2 == s {print $3, $4, $5, $6, $7}'
}
# A real server's "ActiveConn InActConn" from -L -n.
rs_conns() {
	adm -L -n | awk -v s="$1:80" '$1 == "->" && $2 == s {print $5, $6}'
}

expect_eq "counters before traffic" "$(svc_stats)" "0 0 0 0 0"

# --immediate-mode: with TPACKET_V3 buffering, a capture stopped by SIGINT may hold nothing;
# -Z root: the work directory is root-only.
ip netns exec "$NS_CLIENT" tcpdump -Z root -i eth0 -n --immediate-mode -U -w "$T/client.pcap" "ip host $VIP" \
	>"$T/tcpdump.log" 2>&1 &
DUMP_PID=$!
E2E_PIDS+=("$DUMP_PID")
e2e_retry 50 grep -q "listening on" "$T/tcpdump.log" || e2e_fail "tcpdump did not start"

got=$(http_seq "$N")
expect_eq "$N GETs, rr order" "$got" "$(cycle "$N" rs1 rs2 rs3)"
sleep 0.5 # the last FIN/ACK exchange
kill -INT "$DUMP_PID"
e2e_wait_exit "$DUMP_PID" 50 || e2e_fail "tcpdump does not stop"
read -r want_in want_inb want_out want_outb < <("$PY" "$E2E_DIR/count_ip.py" "$T/client.pcap" "$VIP") ||
	e2e_fail "cannot read the capture"
e2e_log "the client sent $want_in packets ($want_inb bytes) and got $want_out ($want_outb bytes)"
[ "$want_in" -ge $((5 * N)) ] && [ "$want_out" -ge $((4 * N)) ] ||
	e2e_fail "capture too small for $N HTTP connections: $want_in/$want_out packets"

expect_eq "service counters = the capture" "$(svc_stats)" \
	"$N $want_in $want_out $want_inb $want_outb"
# Per server: rr gives 4 connections each; all closed, so all inactive.
sum_in=0
for r in "${RS_NAMES[@]}"; do
	row=$(adm -L -n --stats --exact | awk -v s="${RS_IP[$r]}:80" '$1 == "->" && $2 == s {print $3, $4}')
	read -r c p <<<"$row"
	expect_eq "$r Conns" "$c" $((N / 3))
	sum_in=$((sum_in + p))
	expect_eq "$r ActiveConn InActConn after the GETs" "$(rs_conns "${RS_IP[$r]}")" "0 $((N / 3))"
done
expect_eq "InPkts of the servers add up to the service's" "$sum_in" "$want_in"

# A connection held open is active on the server rr picks next (rs1).
ip netns exec "$NS_CLIENT" "$PY" "$E2E_DIR/hold_tcp.py" "$VIP" 80 30 >"$T/hold.out" 2>&1 &
HOLD_PID=$!
E2E_PIDS+=("$HOLD_PID")
e2e_retry 50 test -s "$T/hold.out" || e2e_fail "the held connection did not open"
e2e_retry 25 eval '[ "$(rs_conns "${RS_IP[rs1]}")" = "1 $((N / 3))" ]' ||
	e2e_fail "rs1 ActiveConn InActConn with a held connection: $(rs_conns "${RS_IP[rs1]}")"
e2e_ok "a held-open connection counts as ActiveConn"
read -r conns _ <<<"$(svc_stats)"
expect_eq "service Conns with the held connection" "$conns" $((N + 1))

# Rates: IPVS's estimator is fed every 2 s, so after more traffic CPS and InPPS are > 0.
http_seq 6 >/dev/null
sleep 4.5
rate=$(adm -L -n --rate --exact | awk -v s="$VIP:80" '$1 == "TCP" && $2 == s {print $3, $4, $5}')
read -r cps inpps outpps <<<"$rate"
[ "${cps:-0}" -gt 0 ] && [ "${inpps:-0}" -gt 0 ] && [ "${outpps:-0}" -gt 0 ] ||
	e2e_fail "rates did not rise with traffic: CPS InPPS OutPPS = '$rate'"
e2e_ok "rates rise with traffic (CPS $cps, InPPS $inpps, OutPPS $outpps)"

# -Z: packet and byte counters back to 0, connection counts stay.
adm_ok -Z
expect_eq "counters after -Z" "$(svc_stats)" "0 0 0 0 0"
expect_eq "rs1 connections survive -Z" "$(rs_conns "${RS_IP[rs1]}")" "1 $((N / 3 + 2))"
http_seq 3 >/dev/null
read -r conns _ <<<"$(svc_stats)"
expect_eq "Conns counts again from 0 after -Z" "$conns" 3

e2e_xvs_alive
