#!/usr/bin/env bash
# Measures POST /v1/validate (a 5-line cart with 2 random codes among
# COUNT codes) at 64 connections beside /healthz in the same run.
#
#   bench/checkout.sh sqlite|postgres      # COUNT=1000000 DURATION=15s
set -euo pipefail
db=${1:-sqlite}
count=${COUNT:-1000000}
duration=${DURATION:-15s}
source "$(dirname "$0")/lib.sh"
serve "$(database_url "$db" promokit_bench_checkout)" "${PORT:-18082}"
new_promotion '"per_customer":1000000'
start_job "$count"
wait_job
checkout=$(curl -fs "${auth[@]}" -d "{\"role\":\"checkout\",\"store_id\":\"$store\"}" "$base/v1/keys" | sed -E 's/.*"secret":"([^"]+)".*/\1/')
curl -fs -H "Authorization: Bearer $key" "$base/v1/promotions/$promo/codes.csv" | tail -n +2 | cut -d, -f1 | shuf -n 100000 >"$work/codes.txt"
health=$(wrk -t2 -c64 -d"$duration" -s "$root/bench/healthz.lua" "$base/healthz" | grep RESULT)
validate=$(CODES_FILE="$work/codes.txt" PROMOKIT_KEY="$checkout" PROMOKIT_STORE="$store" wrk -t2 -c64 -d"$duration" -s "$root/bench/validate.lua" "$base/v1/validate" | grep RESULT)
echo "database: $db; cores: $(nproc); date: $(date -u +%F); codes: $count"
echo "FIGURE healthz  $health"
echo "FIGURE validate $validate"
