#!/bin/bash
# Runs one golden pcap case against the real binaries and judges the result.
#
#   xvsadm -R < rules ──▶ xvs-control ──(shm)──▶ xvs-dataplane
#                                                  port p0 = net_pcap: rx in.pcap, tx out.pcap
#
# A case with a second phase (rules.phase2 and in.phase2.pcap) changes the configuration in the
# middle: once the dataplane has consumed in.pcap and exited idle, `xvsadm -R < rules.phase2`
# runs, and a new dataplane takes over the first one's connection tables and consumes
# in.phase2.pcap (into out.phase2.pcap). The two outputs are judged as one, in order, and the
# two exit summaries as their sum.
#
# usage: run_case.sh CASE_DIR BUILD_DIR
# Needs root (the control API only serves uid 0). A build dir without the binaries is a
# failure, not a skip. XVS_GOLDEN_KEEP=1 keeps the temp dir for a post-mortem.
set -u

CASE_DIR=$(cd "$1" && pwd) || exit 1
BUILD=$2
CASE=$(basename "$CASE_DIR")
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
CTL=$BUILD/control/xvs-control
ADM=$BUILD/xvsadm/xvsadm
DP=$BUILD/dataplane/xvs-dataplane
DP_TIMEOUT=40        # the whole test has 60 s; a hung dataplane must not eat them all

T=
CTL_PID=
DP_PID=
PREFIX=xvs-golden-$CASE-$$

fail() {
	echo "golden $CASE: FAIL: $*" >&2
	exit 1
}

# stop_pid PID: TERM, then KILL after 5 s. Only ever called with PIDs this script started.
stop_pid() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

cleanup() {
	stop_pid "$DP_PID"
	stop_pid "$CTL_PID"
	if [ -n "$T" ]; then
		if [ "${XVS_GOLDEN_KEEP:-0}" = 1 ]; then
			echo "golden $CASE: kept $T"
		else
			rm -rf "$T"
		fi
	fi
	rm -rf "/var/run/dpdk/$PREFIX"
	# the connection tables a run leaves for the next one (huge_dir = none: /dev/shm)
	rm -f "/dev/shm/xvs-$PREFIX-conns-"*
}
trap cleanup EXIT
trap 'exit 143' TERM INT

show_logs() {
	local f
	for f in ctl.log adm.log dp.out dp.phase2.out dp.err; do
		[ -s "$T/$f" ] && { echo "--- $f (last 40 lines)"; tail -n 40 "$T/$f"; }
	done
}

if [ "$(id -u)" -ne 0 ]; then
	echo "golden $CASE: SKIP: needs root (the control API serves uid 0 only)"
	exit 77
fi
for b in "$CTL" "$ADM" "$DP"; do
	[ -x "$b" ] || fail "missing binary $b (build it first)"
done
for f in dataplane.ini rules in.pcap expected.pcap expect; do
	[ -f "$CASE_DIR/$f" ] || fail "case file $CASE_DIR/$f missing"
done

T=$(mktemp -d "/tmp/xvs-golden-$CASE.XXXXXX") || fail "mktemp"
cp "$CASE_DIR/in.pcap" "$T/in.pcap"
# several workers: one input per RX queue (in1.pcap ...); check_case.py reads out1.pcap ...
for f in "$CASE_DIR"/in[0-9]*.pcap; do
	[ -f "$f" ] && cp "$f" "$T/"
done
sed -e "s|@TMP@|$T|g" -e "s|@PREFIX@|$PREFIX|g" "$CASE_DIR/dataplane.ini" > "$T/dataplane.ini"

"$CTL" --shm "$T/shm" --socket "$T/sock" --state "$T/state.json" --pidfile "$T/ctl.pid" \
	--metrics-listen none \
	> "$T/ctl.log" 2>&1 &
CTL_PID=$!
for i in $(seq 100); do
	[ -S "$T/sock" ] && break
	kill -0 "$CTL_PID" 2>/dev/null || { show_logs; fail "xvs-control exited early"; }
	sleep 0.1
done
[ -S "$T/sock" ] || { show_logs; fail "xvs-control did not open $T/sock within 10 s"; }

XVS_CONTROL_SOCKET=$T/sock "$ADM" -R < "$CASE_DIR/rules" > "$T/adm.log" 2>&1 ||
	{ show_logs; fail "xvsadm -R rejected the rules"; }

# run_dp INI OUT: one dataplane run on INI, its stdout to T/OUT; fails the case unless it
# exits 0. From the run's directory: a case's pcap names may be relative to it.
run_dp() {
	(cd "$T" && exec timeout -k 5 "$DP_TIMEOUT" "$DP" -c "$1" --wait-config 10 \
		--idle-exit 500) > "$T/$2" 2>> "$T/dp.err" &
	DP_PID=$!
	wait "$DP_PID"
	rc=$?
	DP_PID=
	[ "$rc" -eq 124 ] && { show_logs; fail "xvs-dataplane still running after ${DP_TIMEOUT} s"; }
	[ "$rc" -eq 0 ] || { show_logs; fail "xvs-dataplane exited with status $rc"; }
	return 0
}

run_dp "$T/dataplane.ini" dp.out
SUMMARIES=("$T/dp.out")
OUT=$T/out.pcap
if [ -f "$CASE_DIR/rules.phase2" ]; then
	[ -f "$CASE_DIR/in.phase2.pcap" ] || fail "case file $CASE_DIR/in.phase2.pcap missing"
	[ -f "$T/out.pcap" ] || { show_logs; fail "the first phase wrote no output pcap"; }
	cp "$CASE_DIR/in.phase2.pcap" "$T/in.phase2.pcap"
	XVS_CONTROL_SOCKET=$T/sock "$ADM" -R < "$CASE_DIR/rules.phase2" >> "$T/adm.log" 2>&1 ||
		{ show_logs; fail "xvsadm -R rejected rules.phase2"; }
	# the same port, reading and writing the second phase's files
	sed -e "s|$T/in.pcap|$T/in.phase2.pcap|" -e "s|$T/out.pcap|$T/out.phase2.pcap|" \
		"$T/dataplane.ini" > "$T/dataplane.phase2.ini"
	run_dp "$T/dataplane.phase2.ini" dp.phase2.out
	SUMMARIES+=("$T/dp.phase2.out")
	[ -f "$T/out.phase2.pcap" ] || { show_logs; fail "the second phase wrote no output pcap"; }
	"$PY" -c 'import sys; sys.path.insert(0, sys.argv[1])
from golden_pcap import read_pcap, write_pcap
write_pcap(sys.argv[2], read_pcap(sys.argv[3]) + read_pcap(sys.argv[4]))' \
		"$HERE" "$T/out.both.pcap" "$T/out.pcap" "$T/out.phase2.pcap" ||
		fail "cannot join the two phases' output pcaps"
	OUT=$T/out.both.pcap
fi

stop_pid "$CTL_PID"
CTL_PID=

[ -f "$OUT" ] || { show_logs; fail "the dataplane wrote no output pcap"; }
if ! "$PY" "$HERE/check_case.py" "$CASE_DIR" "$OUT" "${SUMMARIES[@]}"; then
	show_logs
	exit 1
fi
exit 0
