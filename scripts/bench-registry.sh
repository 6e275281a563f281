#!/usr/bin/env bash
# Registry benchmark: fetch by tag with 50 concurrent clients (wrk) on the SQLite backend, and a push of a
# 1,000-file directory. Needs `wrk` (Debian package) and a release build:
#   cargo build --release -p strata-cli && scripts/bench-registry.sh
# Results go to stdout; BENCHMARKS.md records them with the machine they ran on.
set -euo pipefail
BIN=${STRATA_BIN:-${CARGO_TARGET_DIR:-target}/release/strata}
PORT=${PORT:-18080}
DUR=${DUR:-20s}
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
DB="sqlite://$WORK/registry.db"
BASE="http://127.0.0.1:$PORT"

TOKEN=$("$BIN" registry token create --db "$DB" --project app --scope admin | tail -n1)
"$BIN" registry serve --addr "127.0.0.1:$PORT" --db "$DB" --max-upload-bytes 67108864 2>"$WORK/server.log" &
SERVER=$!
for _ in $(seq 100); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done

# A typical directory: 20 files.
mkdir "$WORK/m"
for i in $(seq -w 1 20); do
  printf 'CREATE TABLE t%s (id bigint PRIMARY KEY, name text NOT NULL, created_at timestamptz DEFAULT now());\nCREATE INDEX t%s_name ON t%s (name);\n' "$i" "$i" "$i" > "$WORK/m/2024010100${i}00_t$i.sql"
done
"$BIN" migrate hash --dir "file://$WORK/m"
"$BIN" migrate push app:v1 --dir "file://$WORK/m" --registry "$BASE" --token "$TOKEN"

echo "== fetch by tag (JSON listing), 50 connections, $DUR"
wrk -t2 -c50 -d"$DUR" --latency -H "Authorization: Bearer $TOKEN" "$BASE/api/projects/app/dirs/app/tags/v1"
echo "== fetch by tag (tar archive), 50 connections, $DUR"
wrk -t2 -c50 -d"$DUR" --latency -H "Authorization: Bearer $TOKEN" "$BASE/api/projects/app/dirs/app/tags/v1/archive"

echo "== push of a 1,000-file directory (strata migrate push, wall clock)"
mkdir "$WORK/big"
for i in $(seq -w 1 1000); do
  printf 'CREATE TABLE big_%s (id bigint PRIMARY KEY, payload text);\n' "$i" > "$WORK/big/${i}_big.sql"
done
"$BIN" migrate hash --dir "file://$WORK/big"
for run in 1 2 3; do
  # A new last file per run so every push stores a new version.
  printf -- '-- run %s\nSELECT 1;\n' "$run" > "$WORK/big/9999_run.sql"
  "$BIN" migrate hash --dir "file://$WORK/big"
  /usr/bin/time -f "run $run: %e s wall" "$BIN" migrate push "app/big:r$run" --dir "file://$WORK/big" --registry "$BASE" --token "$TOKEN"
done
