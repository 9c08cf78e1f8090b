# Shared steps of the bench scripts; source it after `set -euo pipefail`.
# It sets root and work, and removes work and stops the servers on exit.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/promokit" "$root/cmd/promokit"

ms() { date +%s%3N; }

# database_url KIND NAME prints the URL of a new database: a SQLite file in
# work, or a PostgreSQL database NAME created afresh on 127.0.0.1.
database_url() {
  case "$1" in
    sqlite) echo "sqlite:$work/$2.db" ;;
    postgres)
      psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $2" >/dev/null 2>&1
      psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $2" >/dev/null
      echo "postgres://postgres@127.0.0.1:5432/$2?sslmode=disable" ;;
    *) echo "usage: $0 sqlite|postgres" >&2; exit 2 ;;
  esac
}

# serve URL PORT starts promokit serve on the database URL, waits until it
# is ready, and sets pid, base, and the admin key in key and auth.
serve() {
  "$work/promokit" serve --addr "127.0.0.1:$2" --database-url "$1" --admin-key-file "$work/admin.key" --log-level warn >>"$work/server.log" 2>&1 &
  pid=$!
  base="http://127.0.0.1:$2"
  until curl -fs "$base/readyz" >/dev/null 2>&1; do sleep 0.005; done
  key=$(cat "$work/admin.key")
  auth=(-H "Authorization: Bearer $key" -H 'Content-Type: application/json')
}

# id prints the first "id" of a JSON object read from standard input.
id() { sed -E 's/^\{"id":"([^"]+)".*/\1/'; }

# new_promotion [EXTRA_JSON] creates a store and a 10% promotion in it, and
# sets store and promo.
new_promotion() {
  store=$(curl -fs "${auth[@]}" -d '{"name":"Bench"}' "$base/v1/stores" | id)
  promo=$(curl -fs "${auth[@]}" -d "{\"store_id\":\"$store\",\"name\":\"Bench\",\"type\":\"percent_off\",\"percent_off_bp\":1000${1:+,$1}}" "$base/v1/promotions" | id)
}

# start_job COUNT starts the generation of COUNT codes of promo and sets job.
start_job() {
  job=$(curl -fs "${auth[@]}" -d "{\"count\":$1,\"length\":12}" "$base/v1/promotions/$promo/code-jobs" | id)
}

# wait_job waits until job has succeeded, and fails if it failed.
wait_job() {
  local state
  while :; do
    state=$(curl -fs "${auth[@]}" "$base/v1/jobs/$job" | sed -E 's/.*"state":"([a-z]+)".*/\1/')
    case "$state" in
      succeeded) return ;;
      failed) echo "job $job failed" >&2; exit 1 ;;
    esac
    sleep 0.05
  done
}
