#!/usr/bin/env bash
# Checks that two strata binaries behave the same on Postgres: for a set of directories (successes, an empty
# file, a txmode-none file, a file name that needs quoting, a syntax error and a runtime error in a later file) and
# every --tx-mode, each binary applies twice to a fresh database; the printed output (durations and timestamps
# masked), the exit codes, the revisions table (all columns but the time-varying executed_at / execution_time)
# and the tables left in public must be identical.
#
#   bench/same_rows.sh OLD_BINARY NEW_BINARY
#   DIALECT=mysql bench/same_rows.sh OLD NEW     # the same on MariaDB/MySQL (MYSQL_HOST/MYSQL_PORT/MYSQL_USER)
#   DIALECT=sqlite bench/same_rows.sh OLD NEW    # and on SQLite files
#
# Used to check every optimisation commit against the commit before it. PGHOST/PGPORT/PGUSER as for apply.sh.
set -euo pipefail
OLD=$1 NEW=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
export MYSQL_HOST=${MYSQL_HOST:-127.0.0.1} MYSQL_PORT=${MYSQL_PORT:-3306} MYSQL_USER=${MYSQL_USER:-root}
DIALECT=${DIALECT:-postgres}
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
if [[ $DIALECT == postgres ]]; then
  printf -- '-- atlas:txmode none\n\nCREATE INDEX CONCURRENTLY a_id ON a (id);\n' >none/20240101000004_conc.sql
else
  printf -- '-- atlas:txmode none\n\nCREATE INDEX a_id ON a (id);\nINSERT INTO a VALUES (2);\n' >none/20240101000004_conc.sql
fi
cp -r ok syntax
printf 'SELEC 1;\nCREATE TABLE c (id int);\n' >syntax/20240101000009_bad.sql
cp -r ok runtime
printf 'CREATE TABLE c (id int);\nINSERT INTO nope VALUES (1);\n' >runtime/20240101000009_bad.sql
cp -r none none_syntax
printf 'SELEC 1;\n' >none_syntax/20240101000009_bad.sql
for d in ok none syntax runtime none_syntax; do "$OLD" migrate hash --dir "file://$WORK/$d"; done

my() { mysql -h"$MYSQL_HOST" -P"$MYSQL_PORT" -u"$MYSQL_USER" -N -B "$@"; }
run() { # run BIN DIR DB MODE
  local url i
  case $DIALECT in
    postgres)
      "$ROOT/bench/freshdb.sh" "$3"
      url="postgres://$PGUSER@$PGHOST:$PGPORT/$3?sslmode=disable"
      ;;
    mysql)
      "$ROOT/bench/freshdb.sh" "mysql:$3"
      url="mysql://$MYSQL_USER@$MYSQL_HOST:$MYSQL_PORT/$3"
      ;;
    sqlite)
      "$ROOT/bench/freshdb.sh" "sqlite:$WORK/$3.db"
      url="sqlite://$WORK/$3.db"
      ;;
  esac
  for i in 1 2; do
    set +e
    "$1" migrate apply --dir "file://$WORK/$2" --url "$url" --tx-mode "$4" 2>&1 |
      sed -E 's/[0-9.]+(ns|ms|µs|s)\b/T/g; s/20[0-9]{2}-[0-9T:.Z+-]+/TS/g; s/connection [0-9]+/connection N/g; s/same_rows_(old|new)/same_rows_X/g'
    echo "exit=${PIPESTATUS[0]}"
    set -e
  done
  local cols="version, description, type, applied, total, error, error_stmt, hash, partial_hashes, operator_version"
  case $DIALECT in
    postgres)
      psql -X -Atq -d "$3" -c "SELECT $cols FROM atlas_schema_revisions.atlas_schema_revisions ORDER BY version" 2>&1
      psql -X -Atq -d "$3" -c "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'"
      ;;
    mysql)
      my -e "SELECT $cols FROM \`$3\`.atlas_schema_revisions ORDER BY version" 2>&1 | sed -E 's/connection [0-9]+/connection N/g; s/same_rows_(old|new)/same_rows_X/g'
      my -e "SELECT GROUP_CONCAT(table_name ORDER BY table_name) FROM information_schema.tables WHERE table_schema = '$3'"
      ;;
    sqlite)
      sqlite3 "$WORK/$3.db" "SELECT $cols, typeof(partial_hashes) FROM atlas_schema_revisions ORDER BY version" 2>&1
      sqlite3 "$WORK/$3.db" "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name)"
      ;;
  esac
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
case $DIALECT in
  postgres) psql -X -q -d postgres -c "DROP DATABASE IF EXISTS same_rows_old WITH (FORCE)" -c "DROP DATABASE IF EXISTS same_rows_new WITH (FORCE)" ;;
  mysql) my -e "DROP DATABASE IF EXISTS same_rows_old; DROP DATABASE IF EXISTS same_rows_new" ;;
esac
exit $fail
