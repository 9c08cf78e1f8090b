#!/usr/bin/env bash
# Measures the foundation's figures on one database, end to end through the
# server: start-up time, generation of 1,000,000 codes through a job, CSV
# export of them (with the server's peak memory), and GET of one code by its
# value among them at 64 connections beside /healthz in the same run.
#
#   bench/foundation.sh sqlite
#   bench/foundation.sh postgres   # uses database promokit_bench on 127.0.0.1
#
# Needs wrk and curl. Prints lines "FIGURE name value" at the end.
set -euo pipefail
db=${1:-sqlite}
count=${COUNT:-1000000}
duration=${DURATION:-15s}
port=${PORT:-18080}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

go build -o "$work/promokit" "$root/cmd/promokit"
case "$db" in
  sqlite) url="sqlite:$work/promokit.db" ;;
  postgres)
    psql -h 127.0.0.1 -U postgres -qc 'DROP DATABASE IF EXISTS promokit_bench' >/dev/null
    psql -h 127.0.0.1 -U postgres -qc 'CREATE DATABASE promokit_bench' >/dev/null
    url="postgres://postgres@127.0.0.1:5432/promokit_bench?sslmode=disable" ;;
  *) echo "usage: $0 sqlite|postgres" >&2; exit 2 ;;
esac
base="http://127.0.0.1:$port"

ms() { date +%s%3N; }
t0=$(ms)
"$work/promokit" serve --addr "127.0.0.1:$port" --database-url "$url" --admin-key-file "$work/admin.key" --log-level warn >"$work/server.log" 2>&1 &
pid=$!
until curl -fs "$base/readyz" >/dev/null 2>&1; do sleep 0.005; done
start_ms=$(( $(ms) - t0 ))
key=$(cat "$work/admin.key")
auth=(-H "Authorization: Bearer $key" -H 'Content-Type: application/json')

store=$(curl -fs "${auth[@]}" -d '{"name":"Bench"}' "$base/v1/stores" | sed -E 's/.*"id":"([^"]+)".*/\1/')
promo=$(curl -fs "${auth[@]}" -d "{\"store_id\":\"$store\",\"name\":\"Bench\",\"type\":\"percent_off\",\"percent_off_bp\":1000}" "$base/v1/promotions" | sed -E 's/.*"id":"(prm_[^"]+)".*/\1/')

t0=$(ms)
job=$(curl -fs "${auth[@]}" -d "{\"count\":$count,\"length\":12}" "$base/v1/promotions/$promo/code-jobs" | sed -E 's/.*"id":"(job_[^"]+)".*/\1/')
until curl -fs "${auth[@]}" "$base/v1/jobs/$job" | grep -q '"state":"succeeded"'; do
  if curl -fs "${auth[@]}" "$base/v1/jobs/$job" | grep -q '"state":"failed"'; then echo "job failed" >&2; exit 1; fi
  sleep 0.05
done
gen_ms=$(( $(ms) - t0 ))

hwm_before=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
t0=$(ms)
curl -fs -H "Authorization: Bearer $key" "$base/v1/promotions/$promo/codes.csv" -o "$work/codes.csv"
export_ms=$(( $(ms) - t0 ))
hwm_after=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
rows=$(( $(wc -l <"$work/codes.csv") - 1 ))

# Baseline for the export: paging through the JSON list, 1,000 codes a page.
t0=$(ms); after=""; listed=0
while :; do
  page=$(curl -fs -H "Authorization: Bearer $key" "$base/v1/promotions/$promo/codes?limit=1000&after=$after")
  n=$( (grep -o '"code":"' <<<"$page" || true) | wc -l)
  listed=$(( listed + n ))
  after=$(sed -nE 's/.*"next_cursor":"([^"]+)".*/\1/p' <<<"$page")
  if [ -z "$after" ] || [ "$n" -eq 0 ]; then break; fi
done
list_ms=$(( $(ms) - t0 ))

tail -n +2 "$work/codes.csv" | cut -d, -f1 | shuf -n 100000 >"$work/codes.txt"
health=$(wrk -t2 -c64 -d"$duration" -s "$root/bench/healthz.lua" "$base/healthz" | grep RESULT)
lookup=$(CODES_FILE="$work/codes.txt" PROMOKIT_KEY="$key" wrk -t2 -c64 -d"$duration" -s "$root/bench/lookup.lua" "$base/v1/codes/x" | grep RESULT)
hwm_end=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)

echo "database: $db; cores: $(nproc); date: $(date -u +%F)"
echo "FIGURE start_ms $start_ms"
echo "FIGURE generate_${count}_ms $gen_ms ($(( count * 1000 / (gen_ms > 0 ? gen_ms : 1) )) codes/s)"
echo "FIGURE export_rows $rows in ${export_ms} ms ($(( rows * 1000 / (export_ms > 0 ? export_ms : 1) )) rows/s); peak RSS before ${hwm_before} kB, after ${hwm_after} kB"
echo "FIGURE export_baseline_json_pages $listed codes in ${list_ms} ms ($(( listed * 1000 / (list_ms > 0 ? list_ms : 1) )) codes/s)"
echo "FIGURE healthz $health"
echo "FIGURE lookup  $lookup"
echo "FIGURE peak_rss_kB $hwm_end"
