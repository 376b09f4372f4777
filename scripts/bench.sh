#!/usr/bin/env bash
# Whole-process benchmark: osprey read --output none over a generated pcap
# of ≥ 1 M packets, pinned to one core, against ndpiReader (libndpi-bin)
# over the same file in the same run. Prints packets/s per core and the
# ratio; figures go to docs/benchmarks.md by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
packets=${BENCH_PACKETS:-2000000}
flows=${BENCH_FLOWS:-20000}
runs=${BENCH_RUNS:-3}
out=bench-out
mkdir -p "$out"
bin=bin/osprey
command -v ndpiReader >/dev/null || { echo "ndpiReader missing: make deps-bench" >&2; exit 1; }

cpu_seconds() { # command… → user+sys seconds of the best of $runs runs
  local best=""
  for _ in $(seq "$runs"); do
    local t
    t=$( { /usr/bin/env TIMEFORMAT='%U %S' bash -c 'time "$@" >/dev/null 2>&1' _ "$@"; } 2>&1 | tail -1 | awk '{print $1+$2}')
    if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$t; fi
  done
  echo "$best"
}

for mode in plain vxlan; do
  pcap=$out/bench-$mode.pcap
  flag=""; [ "$mode" = vxlan ] && flag=--vxlan
  [ -f "$pcap" ] || $bin synth --packets "$packets" --flows "$flows" $flag -o "$pcap"
  o=$(cpu_seconds taskset -c 0 $bin read --output none "$pcap")
  n=$(cpu_seconds taskset -c 0 ndpiReader -q -i "$pcap")
  awk -v mode="$mode" -v p="$packets" -v o="$o" -v n="$n" 'BEGIN{
    printf "%-6s packets=%d  osprey: %.2fs CPU = %.2f Mpps/core   ndpiReader: %.2fs CPU = %.2f Mpps/core   ratio osprey/ndpiReader = %.2fx\n",
      mode, p, o, p/o/1e6, n, p/n/1e6, n/o }'
done | tee "$out/bench.txt"
