#!/usr/bin/env bash
# Generates 10,000,000 codes for one promotion on PostgreSQL through the
# server, kills the server with SIGKILL half-way, restarts it, and checks
# that the job resumes and ends with exactly the requested number of
# distinct codes. Reports the peak RSS of each server process.
#
#   bench/generate10m.sh            # COUNT=10000000 by default
set -euo pipefail
count=${COUNT:-10000000}
port=${PORT:-18081}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
psql -h 127.0.0.1 -U postgres -qc 'DROP DATABASE IF EXISTS promokit_bench10m' >/dev/null
psql -h 127.0.0.1 -U postgres -qc 'CREATE DATABASE promokit_bench10m' >/dev/null
url="postgres://postgres@127.0.0.1:5432/promokit_bench10m?sslmode=disable"
go build -o "$work/promokit" "$root/cmd/promokit"
base="http://127.0.0.1:$port"
ms() { date +%s%3N; }

serve() {
  "$work/promokit" serve --addr "127.0.0.1:$port" --database-url "$url" --admin-key-file "$work/admin.key" --log-level warn >>"$work/server.log" 2>&1 &
  pid=$!
  until curl -fs "$base/readyz" >/dev/null 2>&1; do sleep 0.02; done
}
peak() { awk '/VmHWM/ {print $2}' /proc/$pid/status; }
done_count() { curl -fs "${auth[@]}" "$base/v1/jobs/$job" | sed -E 's/.*"done":([0-9]+).*/\1/'; }

serve
key=$(cat "$work/admin.key")
auth=(-H "Authorization: Bearer $key" -H 'Content-Type: application/json')
store=$(curl -fs "${auth[@]}" -d '{"name":"Bench"}' "$base/v1/stores" | sed -E 's/.*"id":"([^"]+)".*/\1/')
promo=$(curl -fs "${auth[@]}" -d "{\"store_id\":\"$store\",\"name\":\"Bench\",\"type\":\"percent_off\",\"percent_off_bp\":1000}" "$base/v1/promotions" | sed -E 's/.*"id":"(prm_[^"]+)".*/\1/')
t0=$(ms)
job=$(curl -fs "${auth[@]}" -d "{\"count\":$count,\"length\":12}" "$base/v1/promotions/$promo/code-jobs" | sed -E 's/.*"id":"(job_[^"]+)".*/\1/')
until [ "$(done_count)" -ge $(( count / 2 )) ]; do sleep 0.2; done
peak1=$(peak)
kill -9 "$pid"; wait "$pid" 2>/dev/null || true
killed_at=$(psql -h 127.0.0.1 -U postgres -d promokit_bench10m -tAc "SELECT done FROM jobs WHERE id = '$job'")
serve
until curl -fs "${auth[@]}" "$base/v1/jobs/$job" | grep -q '"state":"succeeded"'; do sleep 0.5; done
total_ms=$(( $(ms) - t0 ))
peak2=$(peak)
read -r rows distinct < <(psql -h 127.0.0.1 -U postgres -d promokit_bench10m -tAF' ' -c "SELECT count(*), count(DISTINCT code) FROM codes WHERE promotion_id = '$promo'")
echo "database: postgres; cores: $(nproc); date: $(date -u +%F)"
echo "FIGURE killed_at_done $killed_at"
echo "FIGURE rows $rows distinct $distinct (want $count)"
echo "FIGURE wall_ms_including_restart_and_lease $total_ms"
echo "FIGURE peak_rss_kB first_process $peak1 second_process $peak2"
[ "$rows" -eq "$count" ] && [ "$distinct" -eq "$count" ] && echo "RESULT exact" || { echo "RESULT WRONG"; exit 1; }
