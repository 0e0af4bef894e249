#!/bin/bash
# xvs-dataplane --check-config on every sample configuration of etc/ (exit 0 and the port
# count), and on broken copies (exit 1 and the line at fault).
# Usage: samples.sh XVS_DATAPLANE SAMPLE.ini...
set -euo pipefail

dp=$1
shift
T=$(mktemp -d /tmp/xvs-samples.XXXXXX)
trap 'rm -rf "$T"' EXIT
for f in "$@"; do
	out=$("$dp" -c "$f" --check-config 2>&1) || { echo "FAIL: $f: $out"; exit 1; }
	[ "$out" = "xvs-dataplane: $f: valid, 2 port(s)" ] || { echo "FAIL: $f: got '$out'"; exit 1; }
	echo "ok: $out"
done
# A bad value and a missing dev must be refused with status 1, naming the file.
sed 's/^\[dataplane\]$/&\nconn_max = 1000/' "$1" >"$T/bad.ini"
set +e
out=$("$dp" -c "$T/bad.ini" --check-config 2>&1)
rc=$?
set -e
[ "$rc" = 1 ] && [[ "$out" == "xvs-dataplane: $T/bad.ini:"* ]] ||
	{ echo "FAIL: conn_max = 1000: status $rc, '$out'"; exit 1; }
echo "ok: refused: $out"
printf '[dataplane]\nlcores = 0\n[port lan]\naddr = 198.18.0.1/24\n' >"$T/nodev.ini"
set +e
out=$("$dp" -c "$T/nodev.ini" --check-config 2>&1)
rc=$?
set -e
[ "$rc" = 1 ] && [ "$out" = "xvs-dataplane: $T/nodev.ini: port lan has no dev" ] ||
	{ echo "FAIL: no dev: status $rc, '$out'"; exit 1; }
echo "ok: refused: $out"
set +e
out=$("$dp" -c "$T/missing.ini" --check-config 2>&1)
rc=$?
set -e
[ "$rc" = 1 ] || { echo "FAIL: missing file: status $rc, '$out'"; exit 1; }
echo "ok: refused: $out"
