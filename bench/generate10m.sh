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
source "$(dirname "$0")/lib.sh"
url=$(database_url postgres promokit_bench10m)
sql() { psql -h 127.0.0.1 -U postgres -d promokit_bench10m -tA "$@"; }
peak() { awk '/VmHWM/ {print $2}' /proc/$pid/status; }
done_count() { curl -fs "${auth[@]}" "$base/v1/jobs/$job" | sed -E 's/.*"done":([0-9]+).*/\1/'; }

serve "$url" "$port"
new_promotion
t0=$(ms)
start_job "$count"
until [ "$(done_count)" -ge $(( count / 2 )) ]; do sleep 0.2; done
peak1=$(peak)
kill -9 "$pid"; wait "$pid" 2>/dev/null || true
killed_at=$(sql -c "SELECT done FROM jobs WHERE id = '$job'")
serve "$url" "$port"
wait_job
total_ms=$(( $(ms) - t0 ))
peak2=$(peak)
read -r rows distinct < <(sql -F' ' -c "SELECT count(*), count(DISTINCT code) FROM codes WHERE promotion_id = '$promo'")
echo "database: postgres; cores: $(nproc); date: $(date -u +%F)"
echo "FIGURE killed_at_done $killed_at"
echo "FIGURE rows $rows distinct $distinct (want $count)"
echo "FIGURE wall_ms_including_restart_and_lease $total_ms"
echo "FIGURE peak_rss_kB first_process $peak1 second_process $peak2"
[ "$rows" -eq "$count" ] && [ "$distinct" -eq "$count" ] && echo "RESULT exact" || { echo "RESULT WRONG"; exit 1; }
