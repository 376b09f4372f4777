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
  if ! go test -run='^$' -fuzz="^${func}\$" -fuzztime="$fuzztime" -fuzzminimizetime=2s "$pkg" >/tmp/osprey-fuzz.log 2>&1; then
    cat /tmp/osprey-fuzz.log; status=1
  fi
done < <(grep -rHoE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+' internal cmd | sed 's/func //' | sort -u)
exit $status
