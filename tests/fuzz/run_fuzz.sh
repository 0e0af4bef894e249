#!/bin/bash
# Run one fuzz target for a bounded time from its checked-in seed corpus (docs/fuzzing.md).
# Any finding fails: a crash, a sanitizer report, a leak, an input slower than
# XVS_FUZZ_TIMEOUT seconds, or more memory than XVS_FUZZ_RSS_MB. The input that triggered
# it is saved under WORK/findings/; inputs that found new coverage go to WORK/corpus/TARGET
# and are used again by the next run from the same build directory.
#
# Usage: run_fuzz.sh FUZZER SEED_DIR WORK_DIR [DICT]
# Environment: XVS_FUZZ_SECONDS (default 45), XVS_FUZZ_TIMEOUT (10), XVS_FUZZ_RSS_MB (2048),
# XVS_FUZZ_ARGS (more libFuzzer flags, e.g. "-jobs=4 -workers=4").
set -uo pipefail

if [ $# -lt 3 ]; then
	echo "usage: $0 FUZZER SEED_DIR WORK_DIR [DICT]" >&2
	exit 2
fi
exe=$1
seeds=$2
work=$3
dict=${4:-}
name=$(basename "$exe")
corpus="$work/corpus/$name"
findings="$work/findings"
mkdir -p "$corpus" "$findings"

args=(
	-max_total_time="${XVS_FUZZ_SECONDS:-45}"
	-timeout="${XVS_FUZZ_TIMEOUT:-10}"
	-rss_limit_mb="${XVS_FUZZ_RSS_MB:-2048}"
	-artifact_prefix="$findings/$name-"
	-print_final_stats=1
)
[ -n "$dict" ] && args+=(-dict="$dict")
# shellcheck disable=SC2206 # word splitting of the extra flags is meant
[ -n "${XVS_FUZZ_ARGS:-}" ] && args+=(${XVS_FUZZ_ARGS})

export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}

before=$(ls "$findings" | grep -c "^$name-" || true)
"$exe" "${args[@]}" "$corpus" "$seeds"
rc=$?
after=$(ls "$findings" | grep -c "^$name-" || true)
if [ "$rc" -ne 0 ] || [ "$after" -ne "$before" ]; then
	echo "run_fuzz.sh: $name: FINDING (exit status $rc); inputs in $findings:" >&2
	ls -l "$findings" | grep "$name-" >&2
	echo "run_fuzz.sh: reproduce with: $(realpath "$exe") FILE" >&2
	exit 1
fi
echo "run_fuzz.sh: $name: no finding"
