#!/usr/bin/env bash
# Load test of the service on loopback (wrk), in three parts:
#  1. light mix alone: conformance, items and coverage of a saved scenario, 50 connections;
#  2. heavy mix: 50 connections asking for a what-if (a hall closed) while four map renders run without
#     pause, with a second wrk measuring /conformance at the same time (target: p99 < 50 ms, 0 errors);
#  3. abandoned requests: ten map requests whose clients hang up after 0.3 s; the service's CPU use
#     one second later must be near zero.
# Usage: scripts/load_test.sh [KLYNGE_BINARY] [STUDY]   (prints req/s and p99 for each part; exits 1 on errors)
set -euo pipefail
cd "$(dirname "$0")/.."
KLYNGE=${1:-.build/release/klynge}
STUDY=${2:-data/samsoe/study.yaml}
DURATION=${LOAD_SECONDS:-20}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TMP=$(mktemp -d)
TOKEN=load-test-token-0123
"$KLYNGE" serve "$STUDY" --port "$PORT" --store "$TMP/store.gpkg" --token "$TOKEN" 2>"$TMP/serve.log" &
PID=$!
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; kill $PID 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 200); do curl -sf "$BASE/conformance" >/dev/null && break; sleep 0.1; done
curl -sf -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"name": "Belastning", "close": ["node/5938809867"]}' "$BASE/api/scenarios" >/dev/null
echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load before: $(cut -d' ' -f1-3 /proc/loadavg)"

cat > "$TMP/light.lua" <<'LUA'
local paths = {"/conformance", "/collections/demand/items?limit=10", "/api/coverage?scenario=belastning&category=hall&points=none",
               "/collections/coverage-belastning/items?limit=50"}
local i = 0
request = function() i = i % #paths + 1; return wrk.format("GET", paths[i]) end
LUA

summary() {  # name, wrk output
  local rps p99 errors
  rps=$(echo "$2" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$2" | awk '/ 99%/ {print $2}')
  errors=$(echo "$2" | grep -E "Non-2xx|Socket errors" || true)
  printf "%-44s %10s req/s   p99 %8s   %s\n" "$1" "$rps" "$p99" "${errors:-0 errors}"
  [ -z "$errors" ]
}
ms() { echo "$1" | awk '{v=$1; if (v ~ /us$/) {sub("us","",v); v/=1000} else if (v ~ /ms$/) {sub("ms","",v)} else if (v ~ /s$/) {sub("s","",v); v*=1000}; print v}'; }

status=0
OUT=$(wrk -t2 -c50 -d"${DURATION}s" --latency -s "$TMP/light.lua" "$BASE")
summary "light mix (50 connections)" "$OUT" || status=1

# Four renders without pause: A3 at 150 dpi, the coverage map.
for k in 1 2 3 4; do
  ( while true; do curl -s -o /dev/null "$BASE/maps/coverage.png?category=hall&paper=A3&dpi=150"; done ) &
  PIDS+=($!)
done
sleep 1
wrk -t1 -c4 -d"${DURATION}s" --latency "$BASE/conformance" > "$TMP/conformance.txt" &
CONF=$!
HEAVY=$(wrk -t2 -c50 -d"${DURATION}s" --latency "$BASE/api/coverage?category=hall&close=node/5938809867&points=changed")
wait $CONF
for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
PIDS=()
summary "what-if, 50 connections, 4 renders running" "$HEAVY" || status=1
CONFOUT=$(cat "$TMP/conformance.txt")
summary "/conformance during the same" "$CONFOUT" || status=1
P99=$(ms "$(echo "$CONFOUT" | awk '/ 99%/ {print $2}')")
if awk -v p="$P99" 'BEGIN {exit !(p >= 50)}'; then echo "FAIL: /conformance p99 $P99 ms is not under 50 ms"; status=1; fi
sleep 3  # renders still in the pool finish

# Abandoned requests: clients that hang up stop costing CPU within a second.
ticks() { awk '{print $14 + $15}' /proc/$PID/stat; }
ABANDONED=()
for k in $(seq 10); do curl -s -o /dev/null --max-time 0.3 "$BASE/maps/coverage.png?category=hall&paper=A2&dpi=200" & ABANDONED+=($!); done
wait "${ABANDONED[@]}" 2>/dev/null || true
sleep 1
T0=$(ticks); sleep 1; T1=$(ticks)
HZ=$(getconf CLK_TCK)
CPU=$(awk -v a="$T0" -v b="$T1" -v hz="$HZ" 'BEGIN {printf "%.0f", (b - a) * 100 / hz}')
echo "abandoned requests: ten maps cancelled after 0.3 s; CPU one second later: ${CPU}% of a core"
if [ "$CPU" -gt 20 ]; then echo "FAIL: abandoned requests still use the CPU"; status=1; fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status
