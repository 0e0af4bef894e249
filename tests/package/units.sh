#!/bin/bash
# systemd-analyze verify on the built units of systemd/. Their Exec lines name the installed
# binaries (SBINDIR), which verify requires to exist: they are pointed at the built ones.
# Usage: units.sh SBINDIR BIN... -- UNIT...
set -euo pipefail

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze is absent (Debian package systemd)"
	exit 77
fi
sbindir=$1
shift
T=$(mktemp -d /tmp/xvs-units.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir "$T/bin"
while [ "$1" != -- ]; do
	ln -s "$(realpath "$1")" "$T/bin/$(basename "$1")"
	shift
done
shift
for u in "$@"; do
	sed "s|^\(Exec[A-Za-z]*=[-@:+!]*\)$sbindir/|\1$T/bin/|" "$u" >"$T/$(basename "$u")"
	grep -q "$T/bin/" "$T/$(basename "$u")" || { echo "FAIL: $u runs nothing from $sbindir"; exit 1; }
done
# man: the page need not be installed here
if ! out=$(systemd-analyze verify --man=no "$T"/*.service 2>&1) || [ -n "$out" ]; then
	echo "FAIL: systemd-analyze verify:"
	echo "$out"
	exit 1
fi
echo "ok: systemd-analyze verify: $(cd "$T" && echo *.service)"
