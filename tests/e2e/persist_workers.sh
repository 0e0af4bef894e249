#!/bin/bash
# Persistence over two workers: a persistent service (-p) keeps every connection of a client
# on the real server of its first one, whichever queue and worker its packets arrive on.
# -L -c shows the templates as IPVS does (state NONE, client
# port 0, the client address masked by -M), --persistent-conn counts them, and -M groups
# clients of one prefix onto one server.
#
#   client (198.18.0.2, .3, .6) --- lan (2 queues) [ xvs: 2 workers ] srv (2 queues) --- rs1 rs2 rs3
set -o pipefail
. "$(dirname "$0")/lib.sh"
E2E_LCORES="0@0,1@1,2@0"
E2E_QPAIRS=2
E2E_DP_EXTRA="idle_sleep_us = 20"
e2e_start

# Two more client addresses: .3 shares 198.18.0.0/30 with .2, .6 does not.
for a in 198.18.0.3 198.18.0.6; do
	ip -n "$NS_CLIENT" addr add "$a/24" dev eth0 || e2e_fail "cannot add $a to the client"
done
get_from() { # get_from SRC PORT: one GET of the VIP from source address SRC
	local out
	out=$(ip netns exec "$NS_CLIENT" curl -s --max-time 5 --interface "$1" "http://$VIP:$2/") || out=ERR
	echo "${out:-EMPTY}"
}
seq_from() { # seq_from SRC PORT N
	local i out=()
	for ((i = 0; i < $3; i++)); do
		out+=("$(get_from "$1" "$2")")
	done
	echo "${out[*]}"
}
one_server() { # one_server WHAT ANSWERS: all answers the same server; prints it
	local first=${2%% *} w
	for w in $2; do
		[ "$w" = "$first" ] || e2e_fail "$1: not one server: $2"
	done
	case "$first" in rs1 | rs2 | rs3) ;; *) e2e_fail "$1: $2" ;; esac
	echo "$first"
}

adm_ok -A -t "$VIP:80" -s rr -p 120
for r in "${RS_NAMES[@]}"; do
	adm_ok -a -t "$VIP:80" -r "${RS_IP[$r]}:80" -m
done
svc_line=$(adm -L -n | grep "^TCP  $VIP:80")
expect_eq "the service line" "$svc_line" "TCP  $VIP:80 rr persistent 120"

a=$(one_server "20 GETs from $CLIENT_IP" "$(seq_from "$CLIENT_IP" 80 20)")
e2e_ok "20 connections from $CLIENT_IP all on $a"
# (each worker keeps its own rr position, so the second client may get the same server)
b=$(one_server "20 GETs from 198.18.0.6" "$(seq_from 198.18.0.6 80 20)")
e2e_ok "20 connections from 198.18.0.6 all on $b"
a2=$(one_server "10 more from $CLIENT_IP" "$(seq_from "$CLIENT_IP" 80 10)")
expect_eq "the first client still on its server" "$a2" "$a"

stats=$(e2e_api /v1/stats)
hin=$(json_get handoff_in <<<"$stats")
e2e_log "handed over: $hin packets"
[ "$hin" -gt 0 ] || e2e_fail "nothing was handed between the workers: the test proves nothing"
for d in no-vip tcp-not-syn handoff-full; do
	expect_eq "drops $d" "$(json_get drops "$d" <<<"$stats")" 0
done

# The templates, as IPVS lists them.
list=$(adm -L -n -c)
tpl=$(grep -E "^TCP [0-9]{2}:[0-5][0-9]  NONE " <<<"$list")
e2e_log "templates: $tpl"
expect_eq "one template per client" "$(wc -l <<<"$tpl")" 2
grep -Eq "^TCP (01|02):[0-5][0-9]  NONE +$CLIENT_IP:0 +$VIP:80 +${RS_IP[$a]}:80\$" <<<"$tpl" ||
	e2e_fail "the first client's template: $tpl"
grep -Eq "^TCP (01|02):[0-5][0-9]  NONE +198\.18\.0\.6:0 +$VIP:80 +${RS_IP[$b]}:80\$" <<<"$tpl" ||
	e2e_fail "the second client's template: $tpl"
e2e_ok "-L -c: a NONE row per client, port 0, under 2 minutes left"
pc=$(adm -L -n --persistent-conn | awk -v s="${RS_IP[$a]}:80" '$1 == "->" && $2 == s {print $4}')
expect_eq "PersistConn of $a (templates of the clients it serves)" "$pc" "$([ "$a" = "$b" ] && echo 2 || echo 1)"

# -M 255.255.255.252: .2 and .3 share a prefix, so a server.
adm_ok -A -t "$VIP:81" -s rr -p 120 -M 255.255.255.252
for r in "${RS_NAMES[@]}"; do
	adm_ok -a -t "$VIP:81" -r "${RS_IP[$r]}:80" -m
done
m1=$(one_server "GETs from $CLIENT_IP to :81" "$(seq_from "$CLIENT_IP" 81 6)")
m2=$(one_server "GETs from 198.18.0.3 to :81" "$(seq_from 198.18.0.3 81 6)")
expect_eq "one server for 198.18.0.0/30" "$m2" "$m1"
e2e_retry 10 eval 'adm -L -n -c | grep -E "^TCP [0-9]{2}:[0-5][0-9]  NONE +198\.18\.0\.0:0 +$VIP:81 " >/dev/null' ||
	e2e_fail "no template for 198.18.0.0/30: $(adm -L -n -c | grep NONE)"
e2e_ok "-M 255.255.255.252: $CLIENT_IP and 198.18.0.3 both on $m1, one template 198.18.0.0:0"

e2e_xvs_alive
