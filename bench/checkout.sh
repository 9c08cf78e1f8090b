#!/usr/bin/env bash
# Measures POST /v1/validate (a 5-line cart with 2 random codes among
# COUNT codes) at 64 connections beside /healthz in the same run.
#
#   bench/checkout.sh sqlite|postgres      # COUNT=1000000 DURATION=15s
set -euo pipefail
db=${1:-sqlite}
count=${COUNT:-1000000}
duration=${DURATION:-15s}
port=${PORT:-18082}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/promokit" "$root/cmd/promokit"
case "$db" in
  sqlite) url="sqlite:$work/promokit.db" ;;
  postgres)
    psql -h 127.0.0.1 -U postgres -qc 'DROP DATABASE IF EXISTS promokit_bench_checkout' >/dev/null
    psql -h 127.0.0.1 -U postgres -qc 'CREATE DATABASE promokit_bench_checkout' >/dev/null
    url="postgres://postgres@127.0.0.1:5432/promokit_bench_checkout?sslmode=disable" ;;
  *) echo "usage: $0 sqlite|postgres" >&2; exit 2 ;;
esac
base="http://127.0.0.1:$port"
"$work/promokit" serve --addr "127.0.0.1:$port" --database-url "$url" --admin-key-file "$work/admin.key" --log-level warn >"$work/server.log" 2>&1 &
until curl -fs "$base/readyz" >/dev/null 2>&1; do sleep 0.01; done
key=$(cat "$work/admin.key")
auth=(-H "Authorization: Bearer $key" -H 'Content-Type: application/json')
store=$(curl -fs "${auth[@]}" -d '{"name":"Bench"}' "$base/v1/stores" | sed -E 's/.*"id":"([^"]+)".*/\1/')
promo=$(curl -fs "${auth[@]}" -d "{\"store_id\":\"$store\",\"name\":\"Bench\",\"type\":\"percent_off\",\"percent_off_bp\":1000,\"per_customer\":1000000}" "$base/v1/promotions" | sed -E 's/.*"id":"(prm_[^"]+)".*/\1/')
job=$(curl -fs "${auth[@]}" -d "{\"count\":$count,\"length\":12}" "$base/v1/promotions/$promo/code-jobs" | sed -E 's/.*"id":"(job_[^"]+)".*/\1/')
until curl -fs "${auth[@]}" "$base/v1/jobs/$job" | grep -q '"state":"succeeded"'; do sleep 0.1; done
checkout=$(curl -fs "${auth[@]}" -d "{\"role\":\"checkout\",\"store_id\":\"$store\"}" "$base/v1/keys" | sed -E 's/.*"secret":"([^"]+)".*/\1/')
curl -fs -H "Authorization: Bearer $key" "$base/v1/promotions/$promo/codes.csv" | tail -n +2 | cut -d, -f1 | shuf -n 100000 >"$work/codes.txt"
health=$(wrk -t2 -c64 -d"$duration" -s "$root/bench/healthz.lua" "$base/healthz" | grep RESULT)
validate=$(CODES_FILE="$work/codes.txt" PROMOKIT_KEY="$checkout" PROMOKIT_STORE="$store" wrk -t2 -c64 -d"$duration" -s "$root/bench/validate.lua" "$base/v1/validate" | grep RESULT)
echo "database: $db; cores: $(nproc); date: $(date -u +%F); codes: $count"
echo "FIGURE healthz  $health"
echo "FIGURE validate $validate"
