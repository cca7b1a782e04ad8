#!/usr/bin/env bash
# Runs every native fuzz target (func FuzzX in a *_test.go file) for a short
# time each and fails if any target fails. FUZZTIME overrides the per-target
# time (default 10s); with 13 targets the whole run stays under ~4 minutes
# on 2 cores, compile time included. FUZZING.md records longer runs.
# FUZZMINIMIZETIME (default 5s) bounds how long the fuzzer spends shrinking
# each new interesting or failing input: at Go's default of 60s a short run
# of a target with large seeds (FuzzReadSavedModel, FuzzDecodeText) spent
# nearly all its time minimizing and executed a few dozen inputs.
#
# Go 1.26's fuzz coordinator can end a healthy run with a bare "context
# deadline exceeded" at the -fuzztime boundary when its workers are starved
# of CPU (golang/go#75804, fixed in Go 1.27). Such a failure writes no
# crasher: it is counted as a flake, reported, and the target's corpus is
# replayed as a plain test to make sure nothing was found; a failure that
# writes an input, or any other failure, fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-10s}
minimizetime=${FUZZMINIMIZETIME:-5s}
failed=()
flaked=()
count=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Each line: ./pkg/dir/file_test.go:LINE:func FuzzName(f *testing.F) {
while IFS= read -r line; do
  file=${line%%:*}
  name=${line#*func }
  name=${name%%(*}
  pkg=./$(dirname "${file#./}")
  count=$((count + 1))
  echo "== fuzz $pkg $name ($fuzztime)"
  if go test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" -fuzzminimizetime="$minimizetime" "$pkg" 2>&1 | tee "$log"; then
    continue
  fi
  if ! grep -q 'Failing input written to' "$log" && grep -q '^    context deadline exceeded$' "$log" &&
    go test -run="^${name}\$" "$pkg"; then
    echo "fuzz: $name: coordinator deadline race (golang/go#75804), no crasher; corpus replays clean"
    flaked+=("$pkg $name")
    continue
  fi
  failed+=("$pkg $name")
done < <(grep -rn --include='*_test.go' '^func Fuzz' . | grep -v '^./beam/' | sort)

if [ "$count" -eq 0 ]; then
  echo "fuzz: no fuzz targets found" >&2
  exit 1
fi
if [ "${#failed[@]}" -ne 0 ]; then
  echo "fuzz: ${#failed[@]} of $count targets failed:" >&2
  printf '  %s\n' "${failed[@]}" >&2
  echo "fuzz: crashers are in the package's testdata/fuzz/<Target>/; keep them as regression seeds" >&2
  exit 1
fi
if [ "${#flaked[@]}" -ne 0 ]; then
  echo "fuzz: ${#flaked[@]} targets ended with the coordinator's deadline race (no crasher):"
  printf '  %s\n' "${flaked[@]}"
fi
echo "fuzz: all $count targets passed"
