#!/bin/bash
# -S and -R: a configuration saved with -S -n, cleared, and restored with -R comes back
# exactly (listing and rules); -R is one transaction: a syntax error or a refused change on
# any line changes nothing and names the line; comments, blank lines and a leading
# "ipvsadm" word are accepted. Needs only xvs-control (no dataplane, no namespaces).
set -o pipefail
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_control_start

restore() { adm -R 2>&1 | grep -v 'no dataplane is running'; return "${PIPESTATUS[0]}"; }

out=$(
	restore <<'RULES'
# a configuration in ipvsadm-save style, with comments
ipvsadm -A -t 198.18.0.100:80 -s rr
-a -t 198.18.0.100:80 -r 198.19.0.11:80 -m -w 3   # weighted
-a -t 198.18.0.100:80 -r 198.19.0.12:8080 -m -w 0

/sbin/ipvsadm -A -u 198.18.0.100:53 -s wrr
-a -u 198.18.0.100:53 -r 198.19.0.13 -m
-A -t 198.18.0.101:443 -s wlc
-a -t 198.18.0.101:443 -r 198.19.0.11 -g -w 7
--set 600 60 30
RULES
)
rc=$?
expect_eq "-R of a commented input" "$rc:$out" "0:"
saved=$(adm -S -n)
expect_eq "-S -n after -R" "$saved" "-A -t 198.18.0.100:80 -s rr
-a -t 198.18.0.100:80 -r 198.19.0.11:80 -m -w 3
-a -t 198.18.0.100:80 -r 198.19.0.12:8080 -m -w 0
-A -t 198.18.0.101:443 -s wlc
-a -t 198.18.0.101:443 -r 198.19.0.11:443 -g -w 7
-A -u 198.18.0.100:53 -s wrr
-a -u 198.18.0.100:53 -r 198.19.0.13:53 -m -w 1"
list=$(adm -L -n)
gen_before=$(e2e_api /v1/status | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["generation"])')

# -S -n | -C | -R round-trips exactly.
adm -C 2>/dev/null || e2e_fail "xvsadm -C failed"
expect_eq "-C empties the table" "$(adm -S -n)" ""
out=$(restore <<<"$saved")
expect_eq "-R of the saved rules" "$?:$out" "0:"
expect_eq "-S -n round trip" "$(adm -S -n)" "$saved"
expect_eq "-L -n round trip" "$(adm -L -n)" "$list"
expect_eq "timeouts are not part of -S (as in ipvsadm) and survive -C" "$(adm -L --timeout)" \
	"Timeout (tcp tcpfin udp): 600 60 30"

# Transactions: nothing of a failing input is applied; the error names the line.
before=$(adm -S -n)
gen=$(e2e_api /v1/status)
out=$(
	restore <<'RULES'
-A -t 198.18.0.102:80 -s rr
-a -t 198.18.0.102:80 -r 198.19.0.11 -m
-a -t 198.18.0.102:80 -r 198.19.0.12 -m -w 65536
RULES
)
expect_eq "syntax error on line 3: status and message" "$?:$out" "2:line 3: illegal weight specified"
expect_eq "syntax error: nothing applied" "$(adm -S -n)" "$before"
out=$(
	restore <<'RULES'
-A -t 198.18.0.102:80 -s rr
-A -t 198.18.0.100:80 -s wrr
-C
RULES
)
expect_eq "refused change on line 2: status and message" "$?:$out" "255:line 2: Service already exists"
expect_eq "refused change: nothing applied, not even line 1 or the -C" "$(adm -S -n)" "$before"
out=$(restore <<<"-d -t 198.18.0.100:80 -r 198.19.0.99:80")
expect_eq "refused delete: status and message" "$?:$out" "255:line 1: No such destination"
out=$(restore <<<"-L -n")
expect_eq "-L inside -R" "$?:$out" "2:line 1: the 'list' command cannot be used in --restore input"
out=$(restore <<<"-R")
expect_eq "nested -R" "$?:$out" "2:line 1: Try \`xvsadm -h' or 'xvsadm --help' for more information."
expect_eq "no generation was published for the refused inputs" "$(e2e_api /v1/status)" "$gen"
expect_eq "configuration unchanged" "$(adm -S -n)" "$before"
[ "$gen_before" -ge 1 ] || e2e_fail "no generation number before the round trip"

e2e_control_stop
e2e_ok "xvs-control stopped cleanly"
