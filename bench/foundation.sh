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
source "$(dirname "$0")/lib.sh"
url=$(database_url "$db" promokit_bench)

t0=$(ms)
serve "$url" "${PORT:-18080}"
start_ms=$(( $(ms) - t0 ))
new_promotion

t0=$(ms)
start_job "$count"
wait_job
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
