#!/bin/bash
# Installed as ipvsadm (a symlink, meson -Dipvsadm_symlink=true), xvsadm names itself ipvsadm in
# every message, so operators' scripts that match ipvsadm's output keep working; as xvsadm it
# says xvsadm. No testbed: the messages checked here come before any server is asked.
set -o pipefail
XVSADM=${XVSADM:?XVSADM must name the xvsadm binary}
T=$(mktemp -d /tmp/xvs-ipvsadm-name.XXXXXX)
trap 'rm -rf "$T"' EXIT
ln -s "$(readlink -f "$XVSADM")" "$T/ipvsadm"
fail() { echo "FAIL: $*" >&2; exit 1; }
expect() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; echo "ok: $1"; }

expect "ipvsadm -v names ipvsadm" "$("$T/ipvsadm" -v | cut -d' ' -f1)" ipvsadm
expect "xvsadm -v names xvsadm" "$("$XVSADM" -v | cut -d' ' -f1)" xvsadm
out=$("$T/ipvsadm" -Q 2>&1)
rc=$?
expect "ipvsadm -Q: exit status" "$rc" 255
expect "ipvsadm -Q: the hint names ipvsadm" "$out" \
	"Try \`ipvsadm -h' or 'ipvsadm --help' for more information."
out=$("$XVSADM" -Q 2>&1)
expect "xvsadm -Q: the hint names xvsadm" "$out" \
	"Try \`xvsadm -h' or 'xvsadm --help' for more information."
out=$(XVS_CONTROL_SOCKET=$T/none "$T/ipvsadm" -L -n 2>&1)
grep -q "^Can't initialize ipvs" <<<"$out" || fail "no server: $out"
expect "-R: a leading word ipvsadm is skipped" \
	"$(echo 'ipvsadm -A -t 10.0.0.1:0' | "$T/ipvsadm" -R 2>&1)" \
	"line 1: Zero port specified for non-persistent service"
