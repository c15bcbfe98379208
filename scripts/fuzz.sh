#!/usr/bin/env bash
# Runs every Go fuzz target of the module (func FuzzXxx in a _test.go file,
# outside benchmarks/) for a fixed time each, one after the other, and prints
# the executions and the outcome per target. With SCHEMATHESIS=1 it then runs
# schemathesis against a running predict binary (tests/reliability's
# TestSchemathesis) with SCHEMATHESIS_EXAMPLES examples per operation.
#
#   scripts/fuzz.sh                       5 s per target (make test)
#   FUZZTIME=2m SCHEMATHESIS=1 scripts/fuzz.sh   (make fuzz)
#   FUZZ_ONLY=FuzzDecode scripts/fuzz.sh  targets whose name matches a regexp
#
# Each target must run at least FUZZ_MIN_EXECS (250) inputs, or it fails:
# a target that hardly runs does not fuzz. New inputs are minimized for
# FUZZMINIMIZETIME (100 runs), not Go's 60 s, which left the Parquet
# decoders' workers minimizing instead of fuzzing (116 to 176 inputs in
# 5 s, against 1,664 and more with the cap).
#
# A failing input is written by `go test` under the package's
# testdata/fuzz/<Target>/; commit it with the fix, and `go test` replays it.
# The summary is also written to $FUZZ_RESULTS (default bin/fuzz-results.txt).
set -uo pipefail
cd "$(dirname "$0")/.."

FUZZTIME=${FUZZTIME:-5s}
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-100x}
FUZZ_MIN_EXECS=${FUZZ_MIN_EXECS:-250}
FUZZ_ONLY=${FUZZ_ONLY:-.}
FUZZ_RESULTS=${FUZZ_RESULTS:-bin/fuzz-results.txt}
SCHEMATHESIS=${SCHEMATHESIS:-0}
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
mkdir -p "$(dirname "$FUZZ_RESULTS")"

targets=$(git ls-files --cached --others --exclude-standard '*_test.go' | grep -v '^benchmarks/' |
  xargs grep -Hos '^func Fuzz[A-Za-z0-9_]*(f \*testing\.F)' | sed 's/(f \*testing\.F)//; s/:func / /' |
  awk '{ d=$1; sub(/\/[^\/]*$/, "", d); print "./" d, $2 }' | sort -u | grep -E " .*${FUZZ_ONLY}")
if [ -z "$targets" ]; then
  echo "fuzz: no targets match $FUZZ_ONLY" >&2
  exit 1
fi

# coordinator_race OUT: true when the one failure a run printed is the
# coordinator's deadline error alone (one "--- FAIL" whose only message is
# "context deadline exceeded") and no failing input was written.
coordinator_race() {
  ! grep -q 'Failing input written' "$1" &&
    awk '/^--- FAIL: /{fails++; inblock=1; next}
         inblock && /^FAIL$/{inblock=0; next}
         inblock{lines++; if ($0 != "    context deadline exceeded") other=1}
         END{exit !(fails == 1 && lines == 1 && !other)}' "$1"
}

# fuzz_target PKG NAME OUT: fuzzes one target for FUZZTIME into OUT.
fuzz_target() {
  go test -run '^$' -fuzz "^${2}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" "$1" >"$3" 2>&1
}

failed=0
total=0
summary="$log/summary"
printf '%-28s %-26s %12s  %s\n' package target executions result >"$summary"
while read -r pkg name; do
  total=$((total + 1))
  out="$log/$total.out"
  fuzz_target "$pkg" "$name" "$out"
  rc=$?
  note=
  if [ $rc -ne 0 ] && coordinator_race "$out"; then
    # Go's fuzz coordinator can report its own -fuzztime deadline as a failure
    # (golang/go#75804, fixed in Go 1.27): no input failed and none was
    # written. Say so and run the target once more; a second failure counts.
    echo "== $pkg $name: 'context deadline exceeded' with no failing input (golang/go#75804); running it again" >&2
    fuzz_target "$pkg" "$name" "$out"
    rc=$?
    note=" (rerun after golang/go#75804)"
  fi
  execs=$(grep -o 'execs: [0-9]*' "$out" | tail -1 | awk '{print $2}')
  if [ $rc -eq 0 ] && [ "${execs:-0}" -lt "$FUZZ_MIN_EXECS" ]; then
    result="FAIL (fewer than $FUZZ_MIN_EXECS executions)"
    failed=$((failed + 1))
    echo "== $pkg $name ran only ${execs:-0} inputs in $FUZZTIME (FUZZ_MIN_EXECS=$FUZZ_MIN_EXECS): it is not fuzzing" >&2
  elif [ $rc -eq 0 ]; then
    result="ok$note"
  else
    result=FAIL
    failed=$((failed + 1))
    echo "== $pkg $name failed:" >&2
    grep -v '^{' "$out" | tail -30 >&2
  fi
  printf '%-28s %-26s %12s  %s\n' "${pkg#./}" "$name" "${execs:-0}" "$result" >>"$summary"
done <<<"$targets"

{
  echo "Go fuzzing, $FUZZTIME per target, $(date -u +%Y-%m-%dT%H:%M:%SZ):"
  cat "$summary"
  echo "$total target(s), $failed failure(s)"
} | tee "$FUZZ_RESULTS"

if [ "$SCHEMATHESIS" = 1 ]; then
  echo "== schemathesis against the predict binary (${SCHEMATHESIS_EXAMPLES:-200} examples per operation)"
  CLAIMRISK_SCHEMATHESIS_EXAMPLES=${SCHEMATHESIS_EXAMPLES:-200} \
    go test -count=1 -timeout 60m -run '^TestSchemathesis$' -v ./tests/reliability/ 2>&1 |
    grep -E '^(=== RUN|--- |PASS|FAIL|ok|\s+schemathesis)|schemathesis' | tee -a "$FUZZ_RESULTS"
  [ "${PIPESTATUS[0]}" -eq 0 ] || failed=$((failed + 1))
fi
[ $failed -eq 0 ]
