#!/usr/bin/env bash
# Builds the libFuzzer executable and runs fuzz targets.
#
#   Fuzz/run.sh [--seconds N] [--jobs J] [TARGET...]     (no TARGET: every target)
#   Fuzz/run.sh --list
#
# Each target starts from its committed seed corpus (Fuzz/Corpus/TARGET) plus whatever
# earlier runs found (Fuzz/corpus-work/TARGET, not committed). A crash leaves its input in
# Fuzz/artifacts/ and makes this script exit non-zero; reproduce it with
#   swift run traverse-fuzz TARGET Fuzz/artifacts/crash-…
# Set FUZZ_SANITIZERS (default "fuzzer,address") to change the sanitizers, FUZZ_SCRATCH
# (default .build-fuzz) to build elsewhere.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

seconds=60
jobs=1
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --list) list=1; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done

all_targets=$(sed -n '/static let all: \[FuzzTarget\] = \[/,/\]/p' Fuzz/Targets/FuzzTarget.swift \
  | grep -o '\.[A-Za-z0-9]*' | sed 's/^\.//')
# Map Swift names to target names by reading each `FuzzTarget(name: "…")` declaration.
names=()
for swift_name in $all_targets; do
  names+=("$(grep -h "static let $swift_name = FuzzTarget(name:" Fuzz/Targets/*.swift | sed 's/.*name: "\([^"]*\)".*/\1/')")
done
if [ "${list:-0}" = 1 ]; then printf '%s\n' "${names[@]}"; exit 0; fi
[ ${#targets[@]} -gt 0 ] || targets=("${names[@]}")

sanitizers=${FUZZ_SANITIZERS:-fuzzer,address}
scratch="${FUZZ_SCRATCH:-$root/.build-fuzz}"
echo "== building traverse-fuzz with -sanitize=$sanitizers" >&2
swift build -c release --scratch-path "$scratch" --product traverse-fuzz \
  -Xswiftc "-sanitize=$sanitizers" -Xswiftc -DFUZZING -Xswiftc -use-ld=lld >&2
binary="$scratch/release/traverse-fuzz"

mkdir -p Fuzz/artifacts
status=0
for target in "${targets[@]}"; do
  seeds="Fuzz/Corpus/$target"
  work="Fuzz/corpus-work/$target"
  [ -d "$seeds" ] || { echo "unknown target or missing corpus: $target" >&2; exit 2; }
  mkdir -p "$work"
  echo "== $target: ${seconds}s" >&2
  log=$(mktemp)
  if TRAVERSE_FUZZ_TARGET="$target" "$binary" "$work" "$seeds" \
      -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
      -jobs="$jobs" -workers="$jobs" -print_final_stats=1 \
      -artifact_prefix="Fuzz/artifacts/$target-" >"$log" 2>&1; then
    runs=$(grep -h 'stat::number_of_executed_units' "$log" | awk '{s+=$2} END {print s+0}')
    echo "$target: ok, $runs executions in ${seconds}s" 
  else
    status=1
    tail -40 "$log" >&2
    echo "$target: FAILED (input saved under Fuzz/artifacts/)"
  fi
  rm -f "$log"
done
exit $status
