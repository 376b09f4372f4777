#!/usr/bin/env bash
# Runs every Go fuzz target in the module for $FUZZTIME each.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-4s}
status=0
while IFS=: read -r file func; do
  pkg=./$(dirname "$file")
  echo "fuzz $pkg $func ($fuzztime)"
  # A short minimisation budget: the default (60 s) would swallow a brief run.
  run() { go test -run='^$' -fuzz="^${func}\$" -fuzztime="$fuzztime" -fuzzminimizetime=2s "$pkg" >/tmp/osprey-fuzz.log 2>&1; }
  if ! run; then
    # Go 1.26's fuzzing coordinator can end a run with a bare "context
    # deadline exceeded" as -fuzztime runs out (a race it reports as the
    # target's failure: go.dev/issue/75804, fixed in Go 1.27). It writes no
    # failing input, so it is no finding; a retry could meet the race again
    # (a clean clone's CI did, twice in a row), so such a run passes when
    # the target's seeds and committed corpus replay clean.
    if grep -q 'context deadline exceeded' /tmp/osprey-fuzz.log && ! grep -q 'Failing input' /tmp/osprey-fuzz.log &&
      go test -count=1 -run="^${func}\$" "$pkg" >>/tmp/osprey-fuzz.log 2>&1; then
      echo "  the fuzzing coordinator's end-of-time race (go.dev/issue/75804); the corpus replays clean"
      continue
    fi
    cat /tmp/osprey-fuzz.log; status=1
  fi
done < <(grep -rHoE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+' internal cmd | sed 's/func //' | sort -u)
exit $status
