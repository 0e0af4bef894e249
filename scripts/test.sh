#!/bin/bash
# Install what xvs needs, build it with AddressSanitizer and UBSan, and run the unit,
# golden, e2e and package suites (package: the systemd units, the sample configurations and
# the Debian packages, scripts/build-deb.sh), then the fuzz targets (docs/fuzzing.md) in a clang build of their
# own. Prints "N passed, N failed" last; exits non-zero on any failure, including a suite
# that has no tests or a test that was skipped.
#
# Usage: sudo ./scripts/test.sh [meson test arguments, e.g. --suite e2e]
#        sudo ./scripts/test.sh --suite fuzz [TARGET...]   (the fuzz targets alone)
# With arguments other than "--suite fuzz ...", only build-test is built and nothing is
# fuzzed.
# Environment: XVS_TEST_BUILD (build directory, default build-test), XVS_FUZZ_BUILD
# (default build-fuzz), XVS_FUZZ_SECONDS (time per fuzz target, default 45).
set -euo pipefail

cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "test.sh: must run as root (the e2e tests create network namespaces)" >&2
	exit 1
fi

SUITES=(unit golden e2e package)
BUILD=${XVS_TEST_BUILD:-build-test}
FUZZ_BUILD=${XVS_FUZZ_BUILD:-build-fuzz}

args=("$@")
run_main=1
run_fuzz=0
fuzz_args=()
if [ "${#args[@]}" -eq 0 ]; then
	run_fuzz=1
elif [ "${#args[@]}" -ge 2 ] && [ "${args[0]}" = --suite ] && [ "${args[1]}" = fuzz ]; then
	run_main=0
	run_fuzz=1
	fuzz_args=("${args[@]:2}")
fi

./scripts/install-deps.sh

# Sanitizer reports fail the process that has them, and so the test that runs it.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}

passed=0
failed=0
rc=0

# Count from meson's own log: OK is a pass, everything else (FAIL, TIMEOUT, SKIP,
# ERROR, UNEXPECTEDPASS) is a failure.
count_results() {
	local p=0 f=1
	read -r p f < <(/usr/bin/python3 - "$1/meson-logs/testlog.json" <<-'EOF'
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
	) || echo "test.sh: could not read $1/meson-logs/testlog.json" >&2
	passed=$((passed + p))
	failed=$((failed + f))
}

# A suite with nothing in it is a failure (its tests were never defined or built).
check_suite() {
	if ! meson test -C "$1" --no-rebuild --list --suite "$2" >/dev/null 2>&1; then
		echo "test.sh: FAIL: suite '$2' has no tests in $1" >&2
		failed=$((failed + 1))
	fi
}

# meson test in build directory $1 with the rest as its arguments; rc records a failure.
run_tests() {
	local dir=$1
	shift
	set +e
	meson test -C "$dir" --no-rebuild --print-errorlogs "$@"
	[ $? -eq 0 ] || rc=1
	set -e
	count_results "$dir"
}

start=$SECONDS

if [ "$run_main" = 1 ]; then
	if [ ! -f "$BUILD/build.ninja" ]; then
		meson setup "$BUILD" -Db_sanitize=address,undefined
	else
		meson configure "$BUILD" -Db_sanitize=address,undefined
	fi
	ninja -C "$BUILD"
	# With no arguments: every suite.
	if [ "${#args[@]}" -eq 0 ]; then
		for s in "${SUITES[@]}"; do
			args+=(--suite "$s")
			check_suite "$BUILD" "$s"
		done
	fi
	run_tests "$BUILD" "${args[@]}"
fi

if [ "$run_fuzz" = 1 ]; then
	# clang with libFuzzer, ASan and UBSan; only the fuzz targets and what they link
	fuzz_opts=(-Dfuzz=true -Db_sanitize=address,undefined -Dtests=disabled -Dbpf=disabled)
	if [ ! -f "$FUZZ_BUILD/build.ninja" ]; then
		CC=clang meson setup "$FUZZ_BUILD" "${fuzz_opts[@]}"
	else
		meson setup --reconfigure "$FUZZ_BUILD" "${fuzz_opts[@]}"
	fi
	ninja -C "$FUZZ_BUILD" fuzz
	check_suite "$FUZZ_BUILD" fuzz
	run_tests "$FUZZ_BUILD" --suite fuzz "${fuzz_args[@]}"
fi

echo "test.sh: ran in $((SECONDS - start)) s"
echo "$passed passed, $failed failed"
if [ "$failed" -ne 0 ] || [ "$rc" -ne 0 ]; then
	exit 1
fi
