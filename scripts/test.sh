#!/bin/bash
# Install what xvs needs, build it with AddressSanitizer and UBSan, and run the unit,
# golden and e2e suites. Prints "N passed, N failed" last; exits non-zero on any failure,
# including a suite that has no tests or a test that was skipped.
#
# Usage: sudo ./scripts/test.sh [meson test arguments, e.g. --suite e2e]
# Environment: XVS_TEST_BUILD (build directory, default build-test).
set -euo pipefail

cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "test.sh: must run as root (the e2e tests create network namespaces)" >&2
	exit 1
fi

SUITES=(unit golden e2e)
BUILD=${XVS_TEST_BUILD:-build-test}

./scripts/install-deps.sh

if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD" -Db_sanitize=address,undefined
else
	meson configure "$BUILD" -Db_sanitize=address,undefined
fi
ninja -C "$BUILD"

# Sanitizer reports fail the process that has them, and so the test that runs it.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}

# With no arguments: every suite, and a suite with nothing in it is a failure (it means
# its tests were never defined or built).
args=("$@")
empty=0
if [ "${#args[@]}" -eq 0 ]; then
	for s in "${SUITES[@]}"; do
		args+=(--suite "$s")
		if ! meson test -C "$BUILD" --no-rebuild --list --suite "$s" >/dev/null 2>&1; then
			echo "test.sh: FAIL: suite '$s' has no tests in $BUILD" >&2
			empty=$((empty + 1))
		fi
	done
fi

start=$SECONDS
set +e
meson test -C "$BUILD" --no-rebuild --print-errorlogs "${args[@]}"
rc=$?
set -e

# Count from meson's own log: OK is a pass, everything else (FAIL, TIMEOUT, SKIP,
# ERROR, UNEXPECTEDPASS) is a failure.
passed=0
failed=1
read -r passed failed < <(/usr/bin/python3 - "$BUILD/meson-logs/testlog.json" <<-'EOF'
	import json, sys
	ok = bad = 0
	for line in open(sys.argv[1]):
	    line = line.strip()
	    if not line:
	        continue
	    r = json.loads(line).get("result")
	    if r in ("OK", "EXPECTEDFAIL"):
	        ok += 1
	    else:
	        bad += 1
	        print("test.sh: %s: %s" % (json.loads(line).get("name"), r), file=sys.stderr)
	print(ok, bad)
	EOF
) || echo "test.sh: could not read $BUILD/meson-logs/testlog.json" >&2
failed=$((failed + empty))
echo "test.sh: ran in $((SECONDS - start)) s"
echo "$passed passed, $failed failed"
if [ "$failed" -ne 0 ] || [ "$rc" -ne 0 ]; then
	exit 1
fi
