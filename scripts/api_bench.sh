#!/usr/bin/env bash
# API benchmark (issue 9): P50/P95/P99 of the console's dashboard calls
# through `osprey serve` over an embedded store of 10 M sessions spread
# over one day (plus the generator's 5 000 devices and 5 000 findings),
# loaded by wrk (Debian's) from a second process on loopback. Target: P95
# ≤ 200 ms per call.
#
# The store is built once by storebench's TestMakeDataset (the dashboard
# benchmark's generator) and cached outside the tree, keyed by the
# generator's and the helper's source: $OSPREY_BENCH_CACHE (default
# ~/.cache/osprey-bench). Settings: API_BENCH_SESSIONS (10000000),
# API_BENCH_DURATION (seconds per call, 20), API_BENCH_CONNECTIONS (2),
# API_BENCH_PORT (19782), OSPREY_BIN (default bin/osprey, built when
# missing), API_BENCH_STRICT=1 to exit 2 when a call misses the target.
# Any non-2xx answer fails the run (exit 1).
set -euo pipefail
cd "$(dirname "$0")/.."
sessions=${API_BENCH_SESSIONS:-10000000}
duration=${API_BENCH_DURATION:-20}
conns=${API_BENCH_CONNECTIONS:-2}
port=${API_BENCH_PORT:-19782}
target_ms=200
cache=${OSPREY_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/osprey-bench}
command -v wrk >/dev/null || { echo "wrk missing: make deps-bench" >&2; exit 1; }

work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

bin=${OSPREY_BIN:-bin/osprey}
if [ ! -x "$bin" ]; then
  bin=$work/osprey
  go build -o "$bin" ./cmd/osprey
fi
bin=$(realpath "$bin")

# The dataset, built once per generator version and size.
key=$(cat internal/store/storetest/generator.go internal/store/storebench/dataset_test.go | sha256sum | cut -c1-12)
store=$cache/api-$sessions-$key
if [ ! -f "$store/BUILT" ]; then
  mkdir -p "$cache"
  rm -rf "$store.tmp"
  echo "building the dataset ($sessions sessions) in $store; minutes at 10 M" >&2
  start=$(date +%s)
  go test -count=1 -run '^TestMakeDataset$' -v -timeout 3h ./internal/store/storebench \
    -args -dataset "$store.tmp" -dataset-sessions "$sessions" >&2
  echo "$(( $(date +%s) - start )) s to build $sessions sessions, $(date -u +%FT%TZ)" > "$store.tmp/BUILT"
  mv "$store.tmp" "$store"
fi
echo "dataset: $store ($(du -sh "$store" | cut -f1); $(cat "$store/BUILT"))"

# The data's day (storetest.Base): absolute, so that the cached store is
# always "the last 24 h".
range='since=2026-03-01T00:00:00Z&until=2026-03-02T00:00:00Z'
# A range on minutes but not hours, as the console's "last 24 h" is: its
# ragged ends are read from the per-minute rollups or the sessions.
ragged='since=2026-03-01T00:17:00Z&until=2026-03-01T23:43:00Z'
# name|path: the calls the console's overview, sessions, segmentation,
# findings and devices pages make.
calls=(
  "overview 24h|/api/v1/overview?$range&top=10"
  "overview, ragged ends|/api/v1/overview?$ragged&top=10"
  "top src.ip by bytes|/api/v1/sessions/top?$range&dimension=src.ip&by=bytes&limit=15"
  "top src.ip, ragged|/api/v1/sessions/top?$ragged&dimension=src.ip&by=bytes&limit=15"
  "top app|/api/v1/sessions/top?$range&dimension=app&by=bytes&limit=15"
  "top device|/api/v1/sessions/top?$range&dimension=device&by=bytes&limit=15"
  "series 24h step 5m|/api/v1/sessions/series?$range&dimension=app&by=bytes&step=5m"
  "matrix by segment|/api/v1/sessions/matrix?$range&group=segment&by=bytes&limit=400"
  "findings|/api/v1/findings?$range&limit=50"
  "devices|/api/v1/devices?limit=50"
  "search, filtered|/api/v1/sessions?$range&filter=src.segment%20%3D%20corp%20and%20app%20%3D%20ssh&limit=50"
)

cat > "$work/osprey.yaml" <<EOF
api:
  tokens: $work/tokens.json
  audit_log: $work/audit.jsonl
log:
  level: warn
EOF
token=$("$bin" --config "$work/osprey.yaml" token create --tenant default --role viewer --name api-bench 2>/dev/null)
base=http://127.0.0.1:$port
if curl -s -o /dev/null "$base/"; then echo "port $port is taken: API_BENCH_PORT=…" >&2; exit 1; fi
# Its log goes to a file: wrk cancels the requests in flight when it
# stops, which the server logs.
(cd "$work" && exec "$bin" --config "$work/osprey.yaml" serve --store "$store" --listen "127.0.0.1:$port" 2>"$work/serve.log") &
server=$!

# get PATH: one call; any answer but 2xx fails the run.
get() {
  local code
  code=$(curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $token" "$base$1") || code=000
  case $code in
  2??) ;;
  *) echo "FAIL: GET $1 answered $code: $(head -c 400 "$work/body" 2>/dev/null)" >&2; return 1 ;;
  esac
}
for _ in $(seq 120); do
  if get /api/v1/whoami 2>/dev/null; then break; fi
  kill -0 "$server" 2>/dev/null || { echo "osprey serve exited:" >&2; cat "$work/serve.log" >&2; exit 1; }
  sleep 0.5
done
get /api/v1/whoami

# wrk's Lua: the token, non-2xx answers counted per thread (wrk counts
# only ≥ 400), and one line of figures (latencies in µs).
cat > "$work/bench.lua" <<'EOF'
wrk.headers["Authorization"] = "Bearer " .. os.getenv("OSPREY_TOKEN")
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body)
  if status < 200 or status > 299 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + t:get("bad") end
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d\n", summary.requests,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    bad, e.connect + e.read + e.write + e.timeout))
end
EOF

# Warm-up: each call three times (the store's files into the page cache,
# DuckDB's caches), checking every answer.
for c in "${calls[@]}"; do
  for _ in 1 2 3; do get "${c#*|}"; done
done

# One wrk thread with $conns connections: the machine has 2 cores, which
# DuckDB's parallel scans fill; more connections than cores only measure
# queueing, and a second wrk thread would take CPU from the server.
# Two connections are two panels of a page loading side by side.
ms() { awk -v us="$1" 'BEGIN{printf "%.1f", us/1000}'; }
{
  printf 'osprey serve, %s sessions, wrk -t1 -c%s -d%ss per call, %s cores, load average %s\n' \
    "$sessions" "$conns" "$duration" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf '%-22s %8s %9s %9s %9s %9s %6s  %s\n' call requests 'P50 ms' 'P95 ms' 'P99 ms' 'max ms' errors "P95 ≤ ${target_ms} ms"
} | tee "$work/table"
failed=0 missed=0
for c in "${calls[@]}"; do
  name=${c%%|*} path=${c#*|}
  out=$(OSPREY_TOKEN=$token wrk -t1 -c"$conns" -d"${duration}s" --timeout 60s -s "$work/bench.lua" "$base$path")
  if ! result=$(grep '^RESULT ' <<<"$out"); then
    echo "FAIL: wrk printed no figures for $path:" >&2
    echo "$out" >&2
    exit 1
  fi
  read -r _ n p50 p95 p99 max bad sockerr <<<"$result"
  verdict=PASS
  if [ "$bad" -gt 0 ] || [ "$sockerr" -gt 0 ] || [ "$n" -eq 0 ]; then
    verdict=ERROR failed=1
  elif [ "$p95" -gt $((target_ms * 1000)) ]; then
    verdict=FAIL missed=1
  fi
  printf '%-22s %8d %9s %9s %9s %9s %6d  %s\n' "$name" "$n" "$(ms "$p50")" "$(ms "$p95")" "$(ms "$p99")" "$(ms "$max")" \
    $((bad + sockerr)) "$verdict" | tee -a "$work/table"
  if [ "$verdict" = ERROR ]; then get "$path" || true; tail -5 "$work/serve.log" >&2; fi
done
kill -0 "$server" 2>/dev/null || { echo "FAIL: osprey serve died during the run" >&2; exit 1; }
if [ "$failed" = 1 ]; then echo "FAIL: non-2xx answers or socket errors (above)" >&2; exit 1; fi
if [ "$missed" = 1 ]; then
  echo "target P95 ≤ ${target_ms} ms: missed by the calls marked FAIL"
  [ "${API_BENCH_STRICT:-}" = 1 ] && exit 2
else
  echo "target P95 ≤ ${target_ms} ms: met by every call"
fi
