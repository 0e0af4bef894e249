#!/bin/bash
# NAT (masquerade) HTTP through the VIP with rr: 30 curls cycle rs1 rs2 rs3 in order, the
# real servers see the client's own address, the listing and the counters add up, the
# dataplane answers ping for the VIP, and both daemons stop cleanly.
set -o pipefail
. "$(dirname "$0")/lib.sh"
e2e_start

e2e_rr_http_service

# Before any traffic the whole listing is known, down to the trailing spaces.
list=$(adm -L -n) || e2e_fail "xvsadm -L -n failed"
head -n 1 <<<"$list" | grep -Eq '^IP Virtual Server version [0-9]+\.[0-9]+\.[0-9]+ \(size=[0-9]+\)$' ||
	e2e_fail "xvsadm -L -n: bad version line: $(head -n 1 <<<"$list")"
want="Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  198.18.0.100:80 rr
  -> 198.19.0.11:80               Masq    1      0          0         
  -> 198.19.0.12:80               Masq    1      0          0         
  -> 198.19.0.13:80               Masq    1      0          0         "
expect_eq "xvsadm -L -n before traffic" "$(tail -n +2 <<<"$list")" "$want"

ip netns exec "$NS_CLIENT" ping -c 2 -W 1 -q "$VIP" >/dev/null ||
	e2e_fail "ping of the VIP from the client gets no answer"
e2e_ok "ping $VIP"

got=$(http_seq 30)
expect_eq "30 GETs of the VIP, rr order" "$got" "$(cycle 30 rs1 rs2 rs3)"

# Masquerade rewrites only the destination: each server saw 10 requests from the client.
for r in "${RS_NAMES[@]}"; do
	n=$(grep -c "^$CLIENT_IP GET" "$T/http-$r.log")
	expect_eq "$r saw 10 requests from $CLIENT_IP" "$n" 10
	other=$(grep -v -e "^$CLIENT_IP " -e "^${RS_IP[$r]} " "$T/http-$r.log" | head -n 3)
	expect_eq "$r saw no other client address" "$other" ""
done

# After traffic: one line per server; every connection of a server is counted once,
# as active or (closed, waiting to expire) inactive.
list=$(adm -L -n) || e2e_fail "xvsadm -L -n failed"
expect_eq "service line" "$(sed -n 4p <<<"$list")" "TCP  198.18.0.100:80 rr"
for r in "${RS_NAMES[@]}"; do
	line=$(grep -F -- "-> ${RS_IP[$r]}:80 " <<<"$list")
	grep -Eq "^  -> ${RS_IP[$r]}:80 +Masq    1      [0-9]+ +[0-9]+ +$" <<<"$line" ||
		e2e_fail "bad line for $r: '$line'"
	conns=$(awk '{print $5 + $6}' <<<"$line")
	expect_eq "$r: ActiveConn + InActConn" "$conns" 10
done

# Counters: 30 connections, 10 per server, packets and bytes both ways.
stats=$(adm -L -n --stats) || e2e_fail "xvsadm -L -n --stats failed"
echo "$stats"
svc=$(awk -v s="$VIP:80" '$1 == "TCP" && $2 == s' <<<"$stats")
[ -n "$svc" ] || e2e_fail "--stats has no row for the service"
read -r _ _ conns inpkts outpkts inbytes outbytes <<<"$svc"
expect_eq "service Conns" "$conns" 30
[ "$inpkts" -ge 120 ] && [ "$outpkts" -ge 90 ] ||
	e2e_fail "service packets too low: InPkts $inpkts OutPkts $outpkts for 30 HTTP connections"
[ "${inbytes%[KMGT]}" -gt 0 ] && [ "${outbytes%[KMGT]}" -gt 0 ] ||
	e2e_fail "service bytes are zero: InBytes $inbytes OutBytes $outbytes"
e2e_ok "service packets and bytes ($inpkts/$outpkts pkts, $inbytes/$outbytes bytes)"
for r in "${RS_NAMES[@]}"; do
	conns=$(awk -v s="${RS_IP[$r]}:80" '$1 == "->" && $2 == s {print $3}' <<<"$stats")
	expect_eq "$r Conns" "$conns" 10
done

e2e_xvs_alive
e2e_dataplane_stop
e2e_ok "xvs-dataplane stopped cleanly"
e2e_control_stop
e2e_ok "xvs-control stopped cleanly"
