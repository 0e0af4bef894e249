#!/bin/bash
# How long xvsadm takes, end to end, as a shell runs it: N single calls of `xvsadm -L -n` and
# of a change (`-a` then `-d` of one real server, alternately), median and p90, and one
# `xvsadm -R` of 10,000 lines (1000 services, 8000 real servers added, 1000 edited) as one
# transaction. Starts its own xvs-control, without a dataplane, on a temporary state file and
# socket, and stops it by its PID. Run as root (the control socket is root's only).
#
# Usage: bench/xvsadm-bench.sh [BUILD_DIR] [N]   (defaults: build, 200)
# With XVSADM_COMPARE=/path/to/another/xvsadm, that binary's single calls are measured too.
# Prints the figures; docs/performance.md ("xvsadm") says what they were on the dev VM.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$REPO/build}
N=${2:-200}
XVSADM=$BUILD/xvsadm/xvsadm
CONTROL=$BUILD/control/xvs-control
for b in "$XVSADM" "$CONTROL"; do
	[ -x "$b" ] || { echo "xvsadm-bench: $b is not built" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "xvsadm-bench: run as root" >&2; exit 1; }

T=$(mktemp -d /tmp/xvsadm-bench.XXXXXX)
CTL_PID=""
cleanup() {
	if [ -n "$CTL_PID" ]; then
		kill -TERM "$CTL_PID" 2>/dev/null || true
		wait "$CTL_PID" 2>/dev/null || true
	fi
	rm -rf "$T"
}
trap cleanup EXIT

"$CONTROL" --shm "$T/shm" --socket "$T/sock" --state "$T/state.json" >"$T/control.log" 2>&1 &
CTL_PID=$!
export XVS_CONTROL_SOCKET=$T/sock
for ((i = 0; i < 100; i++)); do
	"$XVSADM" -L -n >/dev/null 2>&1 && break
	kill -0 "$CTL_PID" 2>/dev/null || { cat "$T/control.log" >&2; exit 1; }
	sleep 0.1
done
"$XVSADM" -L -n >/dev/null || { echo "xvsadm-bench: xvs-control does not answer" >&2; exit 1; }

hz=$(getconf CLK_TCK)
# calls LABEL N ARGS...: run xvsadm N times (ARGS, or -a/-d alternately for "change"); print
# the median, p90 and min of the wall times (fork and exec included, as a shell runs it) and
# the CPU time per call (user + system of the calls alone, less sensitive to a busy machine).
calls() {
	local label=$1 n=$2
	shift 2
	(
		for ((i = 0; i < n; i++)); do
			if [ "$1" = change ]; then
				if ((i % 2 == 0)); then set -- change -a -t 198.18.0.100:80 -r 198.19.0.12:80 -m
				else set -- change -d -t 198.18.0.100:80 -r 198.19.0.12:80; fi
			fi
			args=("$@")
			[ "${args[0]}" = change ] && args=("${args[@]:1}")
			t0=${EPOCHREALTIME/./}
			"$XVSADM" "${args[@]}" >/dev/null 2>&1 || { echo "xvsadm ${args[*]} failed" >&2; exit 1; }
			t1=${EPOCHREALTIME/./}
			echo "$((t1 - t0))"
		done
		read -r -a st <"/proc/$BASHPID/stat"
		echo "cpu $((st[15] + st[16]))"
	) | sort -n | awk -v label="$label" -v hz="$hz" '
		$1 == "cpu" { cpu = $2; next }
		{ v[++n] = $1 / 1000 }
		END { printf "%-28s median %6.2f ms, p90 %6.2f ms, min %6.2f ms; CPU %.2f ms a call (%d calls)\n",
			label, v[int((n + 1) / 2)], v[int(n * 0.9 + 0.5)], v[1], cpu * 1000 / hz / n, n }'
}

"$XVSADM" -A -t 198.18.0.100:80 -s wlc 2>/dev/null
"$XVSADM" -a -t 198.18.0.100:80 -r 198.19.0.11:80 -m 2>/dev/null
for ((i = 0; i < 3; i++)); do "$XVSADM" -L -n >/dev/null; done # warm the page cache

XVSADM_SAVED=$XVSADM
XVSADM=/bin/true calls "/bin/true (exec alone):" "$N" x
XVSADM=$XVSADM_SAVED
calls "xvsadm -v (no request):" "$N" -v
calls "xvsadm -L -n (one service):" "$N" -L -n
calls "xvsadm -a / -d (a change):" "$N" change
if [ -n "${XVSADM_COMPARE:-}" ]; then # another xvsadm binary, for a before/after figure
	XVSADM=$XVSADM_COMPARE calls "compare: -L -n" "$N" -L -n
	XVSADM=$XVSADM_COMPARE calls "compare: -a / -d" "$N" change
fi

# -R of 10,000 lines, three times on an empty table; the control's CPU time from /proc.
for ((s = 0; s < 1000; s++)); do
	a="198.$((20 + s / 250)).$((s % 250)).1"
	echo "-A -t $a:80 -s wlc"
	for ((r = 1; r <= 8; r++)); do
		echo "-a -t $a:80 -r 10.$((s / 250)).$((s % 250)).$r:80 -m -w $r"
	done
	echo "-e -t $a:80 -r 10.$((s / 250)).$((s % 250)).1:80 -m -w 100"
done >"$T/rules"
cpu() { awk '{ print $14 + $15 }' "/proc/$CTL_PID/stat"; }
for ((i = 0; i < 3; i++)); do
	"$XVSADM" -C 2>/dev/null
	c0=$(cpu)
	# in a subshell of its own, so that its children's CPU time is xvsadm's alone
	read -r wall client < <(
		t0=${EPOCHREALTIME/./}
		"$XVSADM" -R <"$T/rules" 2>/dev/null || { echo "xvsadm -R failed" >&2; exit 1; }
		t1=${EPOCHREALTIME/./}
		read -r -a st <"/proc/$BASHPID/stat"
		echo "$((t1 - t0)) $((st[15] + st[16]))")
	c1=$(cpu)
	[ -n "$wall" ] || exit 1
	echo "$wall $((client * 1000 / hz)) $(((c1 - c0) * 1000 / hz))"
done | sort -n | awk '{ w[NR] = $1 / 1000; x[NR] = $2; c[NR] = $3 } END {
	printf "%-28s median %6.0f ms (min %.0f, max %.0f); CPU: xvsadm %d ms, xvs-control %d ms\n",
		"xvsadm -R, '"$(wc -l <"$T/rules")"' lines:", w[2], w[1], w[3], x[2], c[2] }'
lines=$("$XVSADM" -S -n | wc -l)
[ "$lines" -eq 9000 ] || { echo "xvsadm-bench: -S -n has $lines lines after -R, want 9000" >&2; exit 1; }
