#!/usr/bin/env bash
# Whole-process benchmark: `osprey read --output none` over generated pcaps
# of ≥ 1 M packets, pinned to one core, against ndpiReader (libndpi-bin)
# over the same traffic in the same run. Prints packets/s per core (CPU
# time, user + sys) and the ratio.
#
# ndpiReader 4.2 does not decapsulate VXLAN (it sees only the outer UDP
# flows), so the VXLAN rows compare osprey on the VXLAN-wrapped capture
# with ndpiReader on the same traffic unwrapped (same seed, same frames).
set -euo pipefail
cd "$(dirname "$0")/.."
packets=${BENCH_PACKETS:-2000000}
flows=${BENCH_FLOWS:-20000}
runs=${BENCH_RUNS:-3}
out=bench-out
mkdir -p "$out"
bin=bin/osprey
command -v ndpiReader >/dev/null || { echo "ndpiReader missing: make deps-bench" >&2; exit 1; }

cpu_seconds() { # command… → user+sys seconds, best of $runs runs
  local best=""
  for _ in $(seq "$runs"); do
    local t
    t=$( { TIMEFORMAT='%U %S'; time "$@" >/dev/null 2>&1; } 2>&1 | tail -1 | awk '{print $1+$2}')
    if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$t; fi
  done
  echo "$best"
}

plain=$out/bench-plain.pcap
vxlan=$out/bench-vxlan.pcap
[ -f "$plain" ] || $bin synth --packets "$packets" --flows "$flows" -o "$plain"
[ -f "$vxlan" ] || $bin synth --packets "$packets" --flows "$flows" --vxlan -o "$vxlan"
printf 'meter: {tunnel_sessions: false}\n' > "$out/no-outer.yaml"
printf 'dpi: {enabled: false}\n' > "$out/no-dpi.yaml"

ndpi=$(cpu_seconds taskset -c 0 ndpiReader -q -i "$plain")
row() { # name seconds
  awk -v name="$1" -v p="$packets" -v o="$2" -v n="$ndpi" 'BEGIN{
    printf "%-34s %8.2f Mpps/core (%.2fs CPU)   ndpiReader %.2f Mpps/core (%.2fs)   ratio %.1fx\n",
      name, p/o/1e6, o, p/n/1e6, n, n/o }'
}
{
  echo "packets per file: $packets, concurrent conversations: $flows, best of $runs, pinned to CPU 0"
  with=$(cpu_seconds taskset -c 0 $bin read --output none "$plain")
  without=$(cpu_seconds taskset -c 0 $bin read --output none --config "$out/no-dpi.yaml" "$plain")
  row "plain (decode + meter + DPI)" "$with"
  row "plain (decode + meter, no DPI)" "$without"
  awk -v w="$with" -v n="$without" 'BEGIN{printf "DPI costs %.0f %% of throughput (target: at most 40 %%)\n", 100*(1-n/w)}'
  row "vxlan (+ outer tunnel sessions)" "$(cpu_seconds taskset -c 0 $bin read --output none "$vxlan")"
  row "vxlan (inner sessions only)" "$(cpu_seconds taskset -c 0 $bin read --output none --config "$out/no-outer.yaml" "$vxlan")"
} | tee "$out/bench.txt"
