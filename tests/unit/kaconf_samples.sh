#!/bin/bash
# The keepalived.conf samples Debian's keepalived package ships: every one that has a
# virtual_server must load in `xvs-control --check-config` and print exactly the
# `xvsadm -S -n` lines of its tests/unit/kaconf/samples/<name>.expected, or be refused with
# exactly the FILE:LINE message written there ("refused: ..."). The expectations come from
# reading the samples as keepalived does, not from xvs's output. A sample with no
# expectation fails the test: a new keepalived version must be looked at.
# Usage: kaconf_samples.sh XVS_CONTROL
set -u
CONTROL=$1
HERE=$(cd "$(dirname "$0")" && pwd)
EXPECT=$HERE/kaconf/samples
SAMPLES=${KACONF_SAMPLES:-/usr/share/doc/keepalived/samples}
T=$(mktemp -d /tmp/xvs-kaconf-samples.XXXXXX)
trap 'rm -rf "$T"' EXIT

fail=0
pass=0
[ -d "$SAMPLES" ] || { echo "FAIL: $SAMPLES missing (scripts/install-deps.sh installs keepalived)"; exit 1; }
# Installing keepalived must not have left its daemon running.
if pgrep -x keepalived >/dev/null; then
	echo "FAIL: a keepalived daemon is running (pids $(pgrep -x keepalived | tr '\n' ' '))"
	fail=$((fail + 1))
fi

for f in "$SAMPLES"/*; do
	name=$(basename "$f" .gz)
	conf=$f
	if [ "${f%.gz}" != "$f" ]; then
		conf=$T/$name
		zcat "$f" >"$conf" || { echo "FAIL: cannot unpack $f"; fail=$((fail + 1)); continue; }
	fi
	grep -qE '^[[:space:]]*virtual_server[[:space:]]' "$conf" || continue
	exp=$EXPECT/$name.expected
	if [ ! -f "$exp" ]; then
		echo "FAIL: $name: no expectation in $EXPECT"
		fail=$((fail + 1))
		continue
	fi
	"$CONTROL" --keepalived-conf "$conf" --check-config >"$T/out" 2>"$T/err"
	rc=$?
	if grep -q '^refused: ' "$exp"; then
		want=$(sed -e 's/^refused: //' -e "s|SAMPLE|$conf|" "$exp")
		got=$(tail -n 1 "$T/err")
		if [ "$rc" -eq 1 ] && [ "$got" = "$want" ] && [ ! -s "$T/out" ]; then
			echo "ok: $name refused: $got"
			pass=$((pass + 1))
		else
			echo "FAIL: $name: exit $rc, want 1 with '$want'; stderr: $(cat "$T/err")"
			fail=$((fail + 1))
		fi
	elif [ "$rc" -eq 0 ] && cmp -s "$T/out" "$exp"; then
		echo "ok: $name loads: $(wc -l <"$exp") lines as expected"
		pass=$((pass + 1))
	else
		echo "FAIL: $name: exit $rc; stderr: $(cat "$T/err")"
		diff "$exp" "$T/out" | head -20
		fail=$((fail + 1))
	fi
done
[ "$pass" -gt 0 ] || { echo "FAIL: no sample with a virtual_server in $SAMPLES"; fail=$((fail + 1)); }
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
