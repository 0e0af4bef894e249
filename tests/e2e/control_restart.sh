#!/bin/bash
# xvs-control crashes (SIGKILL): the dataplane keeps forwarding on its last generation;
# control restarts from its state file with the same configuration, re-attaches, and a
# new change reaches the dataplane. A second control on the region is refused; a crashed one
# left as a zombie by its parent does not keep its successor out.
set -o pipefail
. "$(dirname "$0")/lib.sh"
e2e_start

adm_ok -A -t "$VIP:80" -s rr
adm_ok -a -t "$VIP:80" -r "${RS_IP[rs1]}:80" -m
adm_ok -a -t "$VIP:80" -r "${RS_IP[rs2]}:80" -m -w 2
got=$(http_seq 3)
expect_eq "3 GETs before the crash (rr, newest first)" "$got" "rs2 rs1 rs2"

rules=$(adm -S -n) || e2e_fail "xvsadm -S -n failed"
list=$(adm -L -n | cut -c1-48) || e2e_fail "xvsadm -L -n failed"
[ -s "$T/state.json" ] || e2e_fail "no state file at $T/state.json"

e2e_control_kill
e2e_ok "xvs-control killed"
got=$(http_seq 10)
echo "while control is down: $got"
expect_eq "failed GETs while control is down" "$(count_word ERR "$got")" 0
expect_eq "rs3 answers while control is down" "$(count_word rs3 "$got")" 0

e2e_control_start
e2e_retry 50 e2e_dp_attached || e2e_fail "the dataplane did not re-attach: $(e2e_api /v1/status)"
expect_eq "xvsadm -S -n after restart" "$(adm -S -n)" "$rules"
expect_eq "xvsadm -L -n after restart (without counters)" "$(adm -L -n | cut -c1-48)" "$list"
got=$(http_seq 6)
expect_eq "failed GETs after restart" "$(count_word ERR "$got")" 0

adm_ok -a -t "$VIP:80" -r "${RS_IP[rs3]}:80" -m
got=$(http_seq 9)
echo "after adding rs3: $got"
for r in "${RS_NAMES[@]}"; do
	expect_eq "$r answers in 9 GETs after rs3 is added" "$(count_word "$r" "$got")" 3
done
e2e_xvs_alive

# A second xvs-control on the same region is refused while the first lives.
rc=0
out=$(timeout 20 "$XVS_CONTROL" --shm "$T/shm" --socket "$T/sock2" --state "$T/state2.json" 2>&1) || rc=$?
[ "$rc" -eq 1 ] || e2e_fail "a second xvs-control on the region: status $rc ($out)"
grep -q "another xvs-control (pid $CTL_PID) writes to $T/shm" <<<"$out" ||
	e2e_fail "the second xvs-control's refusal: $out"
e2e_ok "a second xvs-control is refused while the first runs"

# A crashed xvs-control that its parent has not reaped (a zombie: /proc/PID/comm still says
# xvs-control) does not keep its successor out.
e2e_control_stop
"$PY" - "$XVS_CONTROL" "$T" >"$T/zombie.pid" 2>>"$T/ctl.log" <<'PYEOF' &
import os, signal, subprocess, sys, time
ctl, t = sys.argv[1], sys.argv[2]
p = subprocess.Popen([ctl, "--shm", t + "/shm", "--socket", t + "/sock", "--state",
                      t + "/state.json"], stderr=subprocess.DEVNULL)
for _ in range(100):  # serving: it has claimed the region
    r = subprocess.run(["curl", "-s", "--max-time", "1", "--unix-socket", t + "/sock",
                        "http://xvs/v1/status"], capture_output=True, text=True)
    if '"api"' in r.stdout:
        break
    time.sleep(0.1)
os.kill(p.pid, signal.SIGKILL)
print(p.pid, flush=True)
time.sleep(120)  # never reaps it: the test kills this parent when done
PYEOF
E2E_PIDS+=($!)
e2e_retry 100 test -s "$T/zombie.pid" || e2e_fail "the zombie's parent did not start xvs-control"
zpid=$(cat "$T/zombie.pid")
zombie() { [ "$(awk '{print $3}' "/proc/$zpid/stat" 2>/dev/null)" = Z ]; }
e2e_retry 50 zombie || e2e_fail "xvs-control $zpid is not a zombie: $(cat "/proc/$zpid/stat" 2>&1)"
expect_eq "the zombie's comm" "$(cat "/proc/$zpid/comm")" xvs-control
e2e_control_start
e2e_retry 50 e2e_dp_attached || e2e_fail "the dataplane did not re-attach after the zombie"
got=$(http_seq 3)
expect_eq "failed GETs after the zombie" "$(count_word ERR "$got")" 0
e2e_ok "xvs-control starts while its crashed predecessor ($zpid) is a zombie"
e2e_xvs_alive
