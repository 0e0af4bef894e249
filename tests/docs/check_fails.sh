#!/bin/bash
# check_doc_options.py must fail, naming each one, on copies of the documents that name an
# option, a command, a dataplane key and an API endpoint that do not exist.
# Usage: check_fails.sh CHECK_DOC_OPTIONS.PY SRCDIR [--bin NAME=PATH ...]
set -euo pipefail
check=$1 src=$2
shift 2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

cp "$src/docs/xvs-control.8" "$src/docs/quickstart.md" "$src/docs/dataplane-config.md" "$T/"
cat >>"$T/xvs-control.8" <<'MAN'
.TP
.BI \-\-state\-dir " DIR"
MAN
cat >>"$T/quickstart.md" <<'MD'
Run `xvsadm -L --no-such-option` or `xvs-rs-decap attach eth0 --local 192.0.2.1 --bogus`,
then `xvs-rs-decap reload eth0` and `curl --unix-socket S http://xvs/v1/bogus`.
MD
sed -i 's/^conn_max = 65536 /conn_maxx = 65536/' "$T/dataplane-config.md"
grep -q '^conn_maxx' "$T/dataplane-config.md"

# Unchanged copies pass.
python3 "$check" --src "$src" "$@" "$src/docs/xvs-control.8" "$src/docs/quickstart.md" \
	"$src/docs/dataplane-config.md"

set +e
python3 "$check" --src "$src" "$@" "$T/xvs-control.8" "$T/quickstart.md" \
	"$T/dataplane-config.md" >"$T/out" 2>&1
rc=$?
set -e
cat "$T/out"
[ "$rc" -eq 1 ] || { echo "FAIL: exit status $rc, want 1"; exit 1; }
for want in "xvs-control.8:[0-9]*: xvs-control: no option --state-dir" \
	"quickstart.md:[0-9]*: xvsadm: no option --no-such-option" \
	"quickstart.md:[0-9]*: xvs-rs-decap: no option --bogus" \
	"quickstart.md:[0-9]*: xvs-rs-decap: no command reload" \
	"quickstart.md:[0-9]*: no API endpoint /v1/bogus" \
	"dataplane-config.md:[0-9]*: no key conn_maxx in \[dataplane\]"; do
	grep -q "$want" "$T/out" || { echo "FAIL: no line matching: $want"; exit 1; }
done
n=$(grep -c '^  ' "$T/out")
[ "$n" -eq 6 ] || { echo "FAIL: $n lines listed, want 6"; exit 1; }
echo "PASS: the bad copies fail with every name listed"
