#!/usr/bin/env bash
# Load test of the service on loopback: 50 concurrent clients asking for coverage with a hall closed
# (the what-if the web page sends), 2 threads, 15 seconds; then single-request latency of a scenario change.
# Usage: scripts/load_test.sh [KLYNGE_BINARY] [STUDY]
set -euo pipefail
cd "$(dirname "$0")/.."
KLYNGE=${1:-.build/release/klynge}
STUDY=${2:-data/samsoe/study.yaml}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
STORE=$(mktemp -d)/store.gpkg
"$KLYNGE" serve "$STUDY" --port "$PORT" --store "$STORE" 2>/dev/null &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/conformance" >/dev/null && break; sleep 0.1; done
URL="http://127.0.0.1:$PORT/api/coverage?category=hall&close=node/5938809867"
echo "Single requests (a scenario change answered server-side):"
for _ in $(seq 30); do curl -s -o /dev/null -w '%{time_total}\n' "$URL"; done | sort -n | awk '{a[NR]=$1} END {printf "  median %.1f ms, max %.1f ms over %d requests\n", a[int((NR+1)/2)]*1000, a[NR]*1000, NR}'
echo "wrk: 50 connections, 2 threads, 15 s on $URL"
OUT=$(wrk -t2 -c50 -d15s --latency "$URL")
echo "$OUT"
if echo "$OUT" | grep -qE "Non-2xx|Socket errors"; then echo "FAIL: errors under load"; exit 1; fi
P99=$(echo "$OUT" | awk '/ 99%/ {print $2}')
echo "p99 latency: $P99"
