#!/usr/bin/env bash
# Checks that two strata binaries behave the same on Postgres: for a set of directories (successes, an empty
# file, a txmode-none file, a file name that needs quoting, a syntax error and a runtime error in a later file) and
# every --tx-mode, each binary applies twice to a fresh database; the printed output (durations and timestamps
# masked), the exit codes, the revisions table (all columns but the time-varying executed_at / execution_time)
# and the tables left in public must be identical.
#
#   bench/same_rows.sh OLD_BINARY NEW_BINARY
#
# Used to check every optimisation commit against the commit before it. PGHOST/PGPORT/PGUSER as for apply.sh.
set -euo pipefail
OLD=$1 NEW=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
WORK=${WORK:-/tmp/strata-same-rows}
rm -rf "$WORK" && mkdir -p "$WORK"
cd "$WORK"

mkdir ok
printf 'CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\n' >ok/20240101000001_first.sql
printf "SELECT 'x''y\\\\z';\n" >"ok/20240101000002_it's_odd.sql"
printf -- '-- just a comment\n' >ok/20240101000003_empty.sql
printf 'CREATE TABLE b (id int);\nDROP TABLE b;\n' >ok/20240101000005_last.sql
printf -- '-- only a comment\n' >ok/20240101000007_empty2.sql
printf 'CREATE TABLE z (id int);\n' >ok/20240101000008_z.sql
cp -r ok none
printf -- '-- atlas:txmode none\n\nCREATE INDEX CONCURRENTLY a_id ON a (id);\n' >none/20240101000004_conc.sql
cp -r ok syntax
printf 'SELEC 1;\nCREATE TABLE c (id int);\n' >syntax/20240101000009_bad.sql
cp -r ok runtime
printf 'CREATE TABLE c (id int);\nINSERT INTO nope VALUES (1);\n' >runtime/20240101000009_bad.sql
cp -r none none_syntax
printf 'SELEC 1;\n' >none_syntax/20240101000009_bad.sql
for d in ok none syntax runtime none_syntax; do "$OLD" migrate hash --dir "file://$WORK/$d"; done

run() { # run BIN DIR DB MODE
  "$ROOT/bench/freshdb.sh" "$3"
  local url="postgres://$PGUSER@$PGHOST:$PGPORT/$3?sslmode=disable" i
  for i in 1 2; do
    set +e
    "$1" migrate apply --dir "file://$WORK/$2" --url "$url" --tx-mode "$4" 2>&1 |
      sed -E 's/[0-9.]+(ms|µs|s)\b/T/g; s/20[0-9]{2}-[0-9T:.Z+-]+/TS/g'
    echo "exit=${PIPESTATUS[0]}"
    set -e
  done
  psql -X -Atq -d "$3" -c "SELECT version, description, type, applied, total, error, error_stmt, hash, partial_hashes,
    operator_version FROM atlas_schema_revisions.atlas_schema_revisions ORDER BY version" 2>&1
  psql -X -Atq -d "$3" -c "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'"
}

fail=0
for d in ok none syntax runtime none_syntax; do
  for m in file all none; do
    run "$OLD" $d same_rows_old $m >"old-$d-$m.txt"
    run "$NEW" $d same_rows_new $m >"new-$d-$m.txt"
    if cmp -s "old-$d-$m.txt" "new-$d-$m.txt"; then
      echo "same: $d --tx-mode $m"
    else
      echo "DIFFERENT: $d --tx-mode $m"
      diff "old-$d-$m.txt" "new-$d-$m.txt" || true
      fail=1
    fi
  done
done
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS same_rows_old WITH (FORCE)" -c "DROP DATABASE IF EXISTS same_rows_new WITH (FORCE)"
exit $fail
