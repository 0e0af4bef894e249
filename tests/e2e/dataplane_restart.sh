#!/bin/bash
# xvs-dataplane stops (SIGTERM) and starts again: control sees it go, accepts a change
# while it is absent, and the new dataplane forwards with the current configuration.
set -o pipefail
. "$(dirname "$0")/lib.sh"
e2e_start

e2e_rr_http_service
got=$(http_seq 3)
expect_eq "3 GETs with three servers" "$got" "rs1 rs2 rs3"

e2e_dataplane_stop
e2e_ok "xvs-dataplane stopped cleanly"
e2e_retry 50 eval '! e2e_dp_attached' || e2e_fail "control still reports an attached dataplane"
e2e_ok "control sees the dataplane gone"

# A change made while no dataplane runs is kept and applied when one attaches.
adm_ok -e -t "$VIP:80" -r "${RS_IP[rs2]}:80" -m -w 0

e2e_dataplane_start
e2e_retry 100 e2e_dp_attached || e2e_fail "the new dataplane did not attach: $(e2e_api /v1/status)"
e2e_retry 50 ip netns exec "$NS_CLIENT" ping -c 1 -W 1 -q "$VIP" >/dev/null ||
	e2e_fail "the new dataplane does not answer ping for the VIP"
got=$(http_seq 6)
echo "after the restart: $got"
expect_eq "failed GETs after the restart" "$(count_word ERR "$got")" 0
expect_eq "rs2 (weight 0 set while the dataplane was down) answers" "$(count_word rs2 "$got")" 0
expect_eq "rs1 answers after the restart" "$(count_word rs1 "$got")" 3
e2e_xvs_alive
