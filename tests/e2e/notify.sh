#!/bin/bash
# Readiness for systemd's Type=notify units (systemd/): each daemon runs with NOTIFY_SOCKET
# set to a datagram socket of this test (notify_listen.py, in place of systemd) and must send
# READY=1 from its own pid once ready, and STOPPING=1 on SIGTERM.
#   - xvs-control: READY=1 when its API socket accepts connections (the listener connects
#     on receipt);
#   - xvs-dataplane, with --pidfile and under the capability bounding set of
#     xvs-dataplane.service (setpriv): READY=1 with its pid already in the pidfile, then it is
#     attached and answers ping; the pidfile is gone after a clean stop.
#
#  client ns          lb ns (xvs-dataplane, af_packet)         servers (unused here)
#  198.18.0.2 --veth-- lan 198.18.0.1 | srv 198.19.0.1 --veth-- br0 -- rs1 rs2 rs3
#
#  this namespace: xvs-control ($T/sock), notify_listen.py x2 ($T/notify-ctl, $T/notify-dp)
set -u
. "$(dirname "$0")/lib.sh"

if [ "${XVS_HAVE_SYSTEMD:-1}" != 1 ]; then
	echo "SKIP: built without libsystemd (-Dsystemd), the daemons notify nothing"
	exit 77
fi
command -v setpriv >/dev/null 2>&1 || { echo "FAIL: setpriv (util-linux) is missing" >&2; exit 1; }
e2e_init
e2e_topology_up

# wait_msg FILE PATTERN: up to 30 s for a line of FILE matching PATTERN (grep -E); prints it.
wait_msg() {
	local n=300
	while [ "$n" -gt 0 ]; do
		grep -Em1 "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

listen() {
	"$PY" "$E2E_DIR/notify_listen.py" "$T/notify-$1" "$T/notify-$1.log" "$2" \
		>>"$T/notify-$1.err" 2>&1 &
	E2E_PIDS+=($!)
	e2e_retry 50 test -S "$T/notify-$1" || e2e_fail "notify_listen.py did not bind $T/notify-$1"
}
listen ctl "$T/sock"
listen dp "$T/dp.pid"

# --- xvs-control --------------------------------------------------------------------------
export NOTIFY_SOCKET=$T/notify-ctl
e2e_control_start
unset NOTIFY_SOCKET
line=$(wait_msg "$T/notify-ctl.log" 'READY=1') || e2e_fail "xvs-control sent no READY=1 within 30 s"
expect_eq "xvs-control: READY=1 from its pid with the API listening" "$line" \
	"pid=$CTL_PID READY=1 check=listening"

# --- xvs-dataplane ------------------------------------------------------------------------
e2e_write_dp_config
NOTIFY_SOCKET=$T/notify-dp ip netns exec "$NS_LB" \
	setpriv --bounding-set -all,+net_admin,+net_raw,+bpf,+ipc_lock,+sys_rawio --inh-caps -all \
	"$XVS_DATAPLANE" -c "$T/dp.ini" --pidfile "$T/dp.pid" >>"$T/dp.log" 2>&1 &
DP_PID=$!
line=$(wait_msg "$T/notify-dp.log" 'READY=1') ||
	e2e_fail "xvs-dataplane sent no READY=1 within 30 s"
expect_eq "xvs-dataplane: READY=1 from its pid, pidfile written first" "$line" \
	"pid=$DP_PID READY=1 check=$DP_PID"
grep -q 'running, 1 worker(s), 2 port(s)' "$T/dp.log" || e2e_fail "READY=1 before the ports ran"
e2e_retry 100 e2e_dp_attached || e2e_fail "xvs-dataplane did not attach to xvs-control"
e2e_retry 50 ip netns exec "$NS_CLIENT" ping -c 1 -W 1 -q "$LB_LAN_IP" >/dev/null ||
	e2e_fail "the dataplane does not answer ping on $LB_LAN_IP"
e2e_ok "xvs-dataplane under the unit's capabilities: attached, answers ping"
caps=$(awk '/^CapBnd/ { print $2 }' "/proc/$DP_PID/status")
expect_eq "xvs-dataplane's bounding set (NET_ADMIN NET_RAW IPC_LOCK SYS_RAWIO BPF)" "$caps" \
	0000008000027000

# --- STOPPING=1 and the pidfile ------------------------------------------------------------
e2e_dataplane_stop
line=$(wait_msg "$T/notify-dp.log" 'STOPPING=1') || e2e_fail "xvs-dataplane sent no STOPPING=1"
expect_eq "xvs-dataplane: STOPPING=1 on SIGTERM" "${line%% *}" "pid=$(sed -n 's/^pid=\([0-9]*\) READY=1.*/\1/p' "$T/notify-dp.log")"
[ ! -e "$T/dp.pid" ] || e2e_fail "xvs-dataplane left its pidfile $T/dp.pid"
e2e_ok "xvs-dataplane removed its pidfile"
expect_eq "xvs-dataplane's messages, in order" "$(cut -d' ' -f2 "$T/notify-dp.log" | tr '\n' ' ')" \
	"READY=1 STOPPING=1 "

pid=$CTL_PID
e2e_control_stop
line=$(wait_msg "$T/notify-ctl.log" 'STOPPING=1') || e2e_fail "xvs-control sent no STOPPING=1"
expect_eq "xvs-control: STOPPING=1 on SIGTERM" "$line" "pid=$pid STOPPING=1"
expect_eq "xvs-control's messages, in order" "$(cut -d' ' -f2 "$T/notify-ctl.log" | tr '\n' ' ')" \
	"READY=1 STOPPING=1 "
echo "PASS"
