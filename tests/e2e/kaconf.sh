#!/bin/bash
# xvs-control takes its services from a keepalived.conf: started with --keepalived-conf it
# serves the file's VIP to a real client; an edited file and SIGHUP remove a server and change
# a weight in one transaction while a download through the VIP goes on to its last line, and
# the untouched server keeps its counters; a broken file and SIGHUP change nothing and the log
# names FILE:LINE. The file's HTTP_GET checkers take a failing server out; a reload of the
# unchanged file keeps it out; it returns when it answers. No keepalived daemon runs (the
# package is installed for its samples).
#
#   ns client        ns lb (xvs-dataplane, NAT)              ns rs1 rs2 rs3
#   198.18.0.2 ----- lan 198.18.0.1 | srv 198.19.0.1 --br0-- 198.19.0.11 .12 .13
#                    VIP 198.18.0.100:80                       HTTP :80 ("rsN", /slow/N)
#   xvs-control --keepalived-conf $T/keepalived.conf, in ns hc (198.19.0.5 on br0, so that its
#   checks reach the real servers); SIGHUP reloads it
set -o pipefail
. "$(dirname "$0")/lib.sh"
e2e_init

pgrep -x keepalived >/dev/null &&
	e2e_fail "a keepalived daemon is running (pids: $(pgrep -x keepalived | tr '\n' ' '))"
e2e_ok "no keepalived daemon runs"

KA=$T/keepalived.conf
# write_conf W1 W2 W3: the three real servers with these weights ("-" leaves one out)
write_conf() {
	local r i=0 w
	{
		echo "! the load balancer of the e2e testbed"
		echo "global_defs {"
		echo "    router_id xvs-e2e"
		echo "}"
		echo "vrrp_instance VI_1 {"
		echo "    state MASTER"
		echo "    interface lan"
		echo "    virtual_router_id 51"
		echo "    virtual_ipaddress {"
		echo "        $VIP"
		echo "    }"
		echo "}"
		echo "\$RS_PORT=80"
		echo "virtual_server $VIP 80 {"
		echo "    delay_loop 0.3"
		echo "    lb_algo rr"
		echo "    lb_kind NAT"
		echo "    protocol TCP"
		for r in "${RS_NAMES[@]}"; do
			i=$((i + 1))
			w=${!i}
			[ "$w" = - ] && continue
			echo "    real_server ${RS_IP[$r]} \$RS_PORT {"
			echo "        weight $w"
			echo "        HTTP_GET {"
			echo "            url {"
			echo "                path /"
			echo "                status_code 200"
			echo "            }"
			echo "            connect_timeout 0.3"
			echo "            retry 1"
			echo "            delay_before_retry 0.2"
			echo "        }"
			echo "    }"
		done
		echo "}"
	} >"$KA.new"
	mv "$KA.new" "$KA"
}

# The exact `xvsadm -S -n` lines for weights W1 W2 W3 ("-": absent).
rules() {
	local r i=0 w
	echo "-A -t $VIP:80 -s rr"
	for r in "${RS_NAMES[@]}"; do
		i=$((i + 1))
		w=${!i}
		[ "$w" = - ] || echo "-a -t $VIP:80 -r ${RS_IP[$r]}:80 -m -w $w"
	done
}

write_conf 1 1 1
got=$("$XVS_CONTROL" --keepalived-conf "$KA" --check-config 2>"$T/check.err") ||
	e2e_fail "--check-config refused the file: $(cat "$T/check.err")"
expect_eq "--check-config prints the file's services" "$got" "$(rules 1 1 1)"
grep -q "$KA:5: warning: vrrp_instance .* skipped" "$T/check.err" ||
	e2e_fail "no warning for the skipped vrrp_instance: $(cat "$T/check.err")"

e2e_topology_up
e2e_hc_ns_up  # xvs-control's checks reach the real servers from there
e2e_servers_up
E2E_CTL_ARGS=(--keepalived-conf "$KA")
e2e_xvs_up
expect_eq "the file's services are loaded" "$(adm -S -n)" "$(rules 1 1 1)"
# keepalived adds rs1 rs2 rs3 in file order, each at the head of the list: rr starts at rs3.
expect_eq "a real client, served in rr order" "$(http_seq 6)" "rs3 rs2 rs1 rs3 rs2 rs1"

# A long download, then a reload that removes another server and gives the download's
# server weight 2; the third server is untouched.
ip netns exec "$NS_CLIENT" curl -s -N --max-time 30 "http://$VIP/slow/100" >"$T/slow.out" 2>&1 &
SLOW_PID=$!
E2E_PIDS+=($SLOW_PID)
e2e_retry 25 test -s "$T/slow.out" || e2e_fail "the download did not start"
q=$(awk 'NR == 1 {print $1}' "$T/slow.out")
declare -A W=([rs1]=1 [rs2]=1 [rs3]=1)
for r in "${RS_NAMES[@]}"; do
	[ "$r" = "$q" ] && continue
	[ -z "${gone:-}" ] && { gone=$r; continue; }
	kept=$r
done
W[$q]=2
W[$gone]=-
conns_of() { # the Conns column of one real server in --stats --exact
	adm -L -n --stats --exact | awk -v a="${RS_IP[$1]}:80" '$1 == "->" && $2 == a {print $3}'
}
kept_conns=$(conns_of "$kept")
expect_eq "$kept's connections before the reload" "$kept_conns" 2
e2e_log "download from $q; reload: $gone out, $q weight 2, $kept untouched ($kept_conns conns)"
write_conf "${W[rs1]}" "${W[rs2]}" "${W[rs3]}"
kill -HUP "$CTL_PID"
want=$(rules "${W[rs1]}" "${W[rs2]}" "${W[rs3]}")
e2e_retry 50 eval '[ "$(adm -S -n)" = "$want" ]' ||
	e2e_fail "SIGHUP did not apply the file: $(adm -S -n)"
e2e_ok "SIGHUP: $gone removed, $q at weight 2 ($(adm -S -n | tr '\n' ';'))"
grep -q "keepalived.conf: $KA: 1 services, 2 changes applied" "$T/ctl.log" ||
	e2e_fail "the reload is not one transaction of 2 changes: $(grep keepalived.conf "$T/ctl.log")"
expect_eq "$kept keeps its counters" "$(conns_of "$kept")" "$kept_conns"
got=$(http_seq 6)
[ "$(count_word "$gone" "$got")" -eq 0 ] || e2e_fail "removed $gone still gets connections: $got"
[ "$(count_word "$q" "$got")" -gt 0 ] && [ "$(count_word "$kept" "$got")" -gt 0 ] ||
	e2e_fail "new connections: $got"
e2e_ok "6 new connections on $q and $kept only: $got"
wait "$SLOW_PID" || e2e_fail "the download through the reload failed"
expect_eq "the download through the reload: every line" "$(wc -l <"$T/slow.out")" 100
[ "$(awk '{print $1}' "$T/slow.out" | sort -u)" = "$q" ] || e2e_fail "the download changed server"

# A broken file: refused with its FILE:LINE, nothing changes, traffic goes on.
before=$(adm -S -n)
write_conf 1 70000 1
line=$(grep -n 'weight 70000' "$KA" | cut -d: -f1)
kill -HUP "$CTL_PID"
msg="$KA refused, the configuration is unchanged: $KA:$line: weight: '70000' is not a number in 0..65535"
e2e_retry 50 grep -qF "$msg" "$T/ctl.log" ||
	e2e_fail "no refusal with FILE:LINE in the log: $(grep keepalived.conf "$T/ctl.log" | tail -3)"
e2e_ok "the broken file is refused: $msg"
expect_eq "the broken file changed nothing" "$(adm -S -n)" "$before"
got=$(http_seq 3)
for bad in ERR EMPTY "$gone"; do
	[ "$(count_word "$bad" "$got")" -eq 0 ] || e2e_fail "after the refused reload: $got"
done
e2e_ok "still served: $got"

# The file back as it first was: rs2/rs3 return, the weight goes back to 1.
write_conf 1 1 1
kill -HUP "$CTL_PID"
want=$(rules 1 1 1)
e2e_retry 50 eval '[ "$(adm -S -n)" = "$want" ]' || e2e_fail "the last reload: $(adm -S -n)"
e2e_ok "reloaded back to the first file"

# The file's HTTP_GET checkers run: rs1 answers 503 and leaves the table, a SIGHUP of the
# unchanged file leaves it out (its check keeps its state), and it returns when it answers.
listed() { adm -S -n | grep -q -- "-r ${RS_IP[$1]}:80 "; }
echo 503 >"$T/http-rs1.ctl"
e2e_retry 50 eval '! listed rs1' || e2e_fail "rs1 answering 503 is still in: $(adm -S -n)"
got=$(http_seq 6)
[ "$(count_word rs1 "$got")" -eq 0 ] && [ "$(count_word ERR "$got")" -eq 0 ] ||
	e2e_fail "with rs1 failing its check: $got"
e2e_ok "rs1 fails its HTTP_GET: out of the table, 6 GETs on rs2 and rs3 ($got)"
nochange=$(grep -c "keepalived.conf: $KA: 1 services, no change" "$T/ctl.log")
kill -HUP "$CTL_PID"
e2e_retry 50 eval '[ "$(grep -c "keepalived.conf: $KA: 1 services, no change" "$T/ctl.log")" -gt "$nochange" ]' ||
	e2e_fail "the reload of the unchanged file: $(grep keepalived.conf "$T/ctl.log" | tail -2)"
listed rs1 && e2e_fail "the reload brought back rs1, which fails its check: $(adm -S -n)"
e2e_ok "a reload of the unchanged file keeps rs1 out"
rm -f "$T/http-rs1.ctl"
e2e_retry 50 listed rs1 || e2e_fail "rs1 answering again is not back: $(adm -S -n)"
e2e_ok "rs1 answers again: back in the table"

pgrep -x keepalived >/dev/null && e2e_fail "a keepalived daemon runs after the test"
e2e_xvs_alive
e2e_control_stop
e2e_ok "xvs-control stops cleanly"
