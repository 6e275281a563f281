#!/usr/bin/env bash
# Issue 13's schema benchmark: Strata's inspection (and diff + plan) against pg_dump, mysqldump and migra.
#
#   bench/schema.sh                 # set up the databases (if missing), then time everything
#   PG_TABLES=1000 RUNS=5 bench/schema.sh
#   SETUP=force bench/schema.sh     # re-create the databases
#
# Databases (bench/gen_schema.py: N tables of 10 columns, a primary key, two indexes, a foreign key to the previous
# table, a check):
#   PostgreSQL bench_schema (PG_TABLES, default 5,000) and bench_schema_changed (its copy, made with
#   CREATE DATABASE … TEMPLATE, with one table changed: a column added, an index replaced);
#   MariaDB bench_schema (MY_TABLES, default 1,000).
# Comparisons, each in RUNS interleaved rounds (default 10; every round runs each command once with
# `hyperfine -N --runs 1`, starting one further along each round, so load from other work hits all alike), after
# one untimed warm-up round:
#   1  inspect_bench PG inspect           vs pg_dump --schema-only          target: inspect <= 0.5 x pg_dump
#      (also --one-session: the constraint query kept on the driver's session instead of a second one)
#                                         (and migra of the database against itself, if migra is installed)
#   2  inspect_bench diff + plan of bench_schema -> bench_schema_changed (both inspected in parallel on two
#      connections; also --sequential, and both with --one-session)    target: <= 1.2 x the single inspect
#   3  inspect_bench MariaDB inspect      vs mysqldump --no-data            target: inspect <= 0.5 x mysqldump
# The 5,000-table inspect's peak RSS (VmHWM, printed by inspect_bench) is recorded too: target <= 100 MB.
#
# Environment: PGHOST (127.0.0.1), PGPORT (5432), PGUSER (postgres), MYHOST (127.0.0.1), MYPORT (3306), MYUSER (root),
# RUNS (10), MIGRA_RUNS (3), OUT (bench/results-schema), INSPECT_BENCH (the example binary; default: build it in release),
# INSPECT_BENCH_BASE (optional: an older build of the example, timed alongside in 1 and 3),
# MIGRA (migra command; default: `migra` on PATH), SETUP (auto|force|skip), CARGO_TARGET_DIR.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
MYHOST=${MYHOST:-127.0.0.1} MYPORT=${MYPORT:-3306} MYUSER=${MYUSER:-root}
PG_TABLES=${PG_TABLES:-5000} MY_TABLES=${MY_TABLES:-1000}
RUNS=${RUNS:-10}
MIGRA_RUNS=${MIGRA_RUNS:-3} # migra takes ~30 s a run at 5,000 tables: it joins only the first MIGRA_RUNS rounds
OUT=${OUT:-$ROOT/bench/results-schema}
SETUP=${SETUP:-auto}
STEPS=("${@:-1 2 3}")
STEPS=(${STEPS[*]})
DB=bench_schema DB2=bench_schema_changed

need() { command -v "$1" >/dev/null 2>&1 || { echo "bench: $1 not found ($2)" >&2; exit 1; }; }
need psql "apt-get install -y postgresql-client"
need pg_dump "apt-get install -y postgresql-client"
need python3 "python3 runs the generator"
MYSQL=$(command -v mariadb || command -v mysql || true)
MYSQLDUMP=$(command -v mariadb-dump || command -v mysqldump || true)
MIGRA=${MIGRA:-$(command -v migra || true)}
[[ -n $MIGRA ]] || echo "bench: migra not found (pip install migra psycopg2-binary); skipped" >&2
HYPERFINE=$(command -v hyperfine || true)
[[ -n $HYPERFINE ]] || echo "bench: hyperfine not found (apt-get install -y hyperfine); timing with date instead" >&2

if [[ -z "${INSPECT_BENCH:-}" ]]; then
  (cd "$ROOT" && cargo build --release -q -p strata-driver --example inspect_bench)
  INSPECT_BENCH="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/inspect_bench"
fi

pg_url() { echo "postgres://$PGUSER@$PGHOST:$PGPORT/$1?sslmode=disable"; }
# migra goes through SQLAlchemy 2, whose bare postgresql:// wants psycopg 3; name the driver installed with it.
migra_url() { echo "postgresql+psycopg2://$PGUSER@$PGHOST:$PGPORT/$1"; }
# search_path=public: the tables' schema, bound as a user would (pg_dump gets -n public; migra compares every
# schema, and public is the only one).
pg_url_public() { echo "postgres://$PGUSER@$PGHOST:$PGPORT/$1?sslmode=disable&search_path=public"; }
my_url() { echo "mysql://$MYUSER@$MYHOST:$MYPORT/$1"; }
my() { "$MYSQL" -h "$MYHOST" -P "$MYPORT" -u "$MYUSER" "$@"; }
mkdir -p "$OUT"

pg_tables() { psql -X -Atq -d "$1" -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'" 2>/dev/null || echo 0; }
setup_pg() {
  if [[ $SETUP == auto && $(pg_tables $DB) == "$PG_TABLES" && $(pg_tables $DB2) == "$PG_TABLES" ]]; then return; fi
  echo "== setup: PostgreSQL $DB with $PG_TABLES tables"
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB2 WITH (FORCE)" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" \
    -c "CREATE DATABASE $DB"
  python3 "$ROOT/bench/gen_schema.py" postgres "$PG_TABLES" | psql -X -q -v ON_ERROR_STOP=1 -o /dev/null -d $DB
  psql -X -q -d $DB -c "VACUUM ANALYZE" # settle the catalogs as a long-lived database's would be
  psql -X -q -d postgres -c "CREATE DATABASE $DB2 TEMPLATE $DB"
  python3 "$ROOT/bench/gen_schema.py" postgres-change "$PG_TABLES" | psql -X -q -v ON_ERROR_STOP=1 -d $DB2
}
my_tables() { my -N -e "SELECT count(*) FROM information_schema.tables WHERE table_schema = '$DB'" 2>/dev/null || echo 0; }
setup_my() {
  if [[ $SETUP == auto && $(my_tables) == "$MY_TABLES" ]]; then return; fi
  echo "== setup: MariaDB $DB with $MY_TABLES tables"
  my -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB"
  python3 "$ROOT/bench/gen_schema.py" mysql "$MY_TABLES" | my $DB
}

NAMES=() CMDS=()
add() { NAMES+=("$1"); CMDS+=("$2"); }
time_one() { # time_one NAME CMD JSON: one timed run
  if [[ -n $HYPERFINE ]]; then
    # -i: migra exits 2 when it finds differences; every command's exit was checked in the warm-up round.
    "$HYPERFINE" -N -i --style none --runs 1 -n "$1" --export-json "$3" "$2" >/dev/null
  else
    local s e
    s=$(date +%s.%N); $2 >/dev/null 2>&1; e=$(date +%s.%N)
    python3 -c "import json,sys; json.dump({'results':[{'command':sys.argv[1],'times':[float(sys.argv[3])-float(sys.argv[2])]}]}, open(sys.argv[4],'w'))" "$1" "$s" "$e" "$3"
  fi
}
run() { # run STEP: a warm-up round, then RUNS interleaved rounds over CMDS; prints the summary
  local n=${#CMDS[@]} r k i
  local rc
  for i in "${!CMDS[@]}"; do
    rc=0; ${CMDS[$i]} >/dev/null 2>"$OUT/warmup.err" || rc=$?
    # migra: 0 no differences, 2 differences found; anything else is a failure.
    if [[ $rc != 0 && ! ($rc == 2 && ${NAMES[$i]} == migra*) ]]; then
      echo "bench: '${NAMES[$i]}' failed (exit $rc):" >&2; cat "$OUT/warmup.err" >&2; exit 1
    fi
  done
  rm -f "$OUT/s$1".*.json
  for ((r = 0; r < RUNS; r++)); do
    for ((k = 0; k < n; k++)); do
      i=$(((k + r) % n))
      [[ ${NAMES[$i]} == migra* && $r -ge $MIGRA_RUNS ]] && continue
      time_one "${NAMES[$i]}" "${CMDS[$i]}" "$OUT/s$1.$i.$r.json"
    done
    printf '.'
  done
  echo
  python3 - "$OUT" "$1" <<'EOF' | tee "$OUT/s$1.md"
import glob, json, os, statistics, sys
d, step = sys.argv[1], sys.argv[2]
by = {}
for p in sorted(glob.glob(os.path.join(d, f"s{step}.*.*.json")), key=lambda p: tuple(int(x) for x in p.rsplit(".", 3)[1:3])):
    i, r = (int(x) for x in p.rsplit(".", 3)[1:3])
    for res in json.load(open(p))["results"]:
        by.setdefault((i, res["command"]), {})[r] = res["times"][0]
names = sorted(by)
print(f"| command | mean | median | min | max | paired median ratio vs {names[0][1]} |")
print("|---|---:|---:|---:|---:|---:|")
base = by[names[0]]
for key in names:
    t = by[key]
    v = list(t.values())
    ratios = [t[r] / base[r] for r in t if r in base]
    print(f"| {key[1]} | {statistics.fmean(v)*1e3:.0f} ms | {statistics.median(v)*1e3:.0f} ms | {min(v)*1e3:.0f} ms"
          f" | {max(v)*1e3:.0f} ms | {statistics.median(ratios):.2f} |")
EOF
  NAMES=() CMDS=()
}

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "commit: $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet || echo -dirty)"
  echo "machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(free -g | awk '/Mem:/ {print $2}') GiB RAM"
  echo "server: $(psql -X -Atq -d postgres -c "SELECT version()")"
  [[ -n $MYSQL ]] && echo "mariadb: $(my -N -e 'SELECT version()')"
  echo "pg_dump: $(pg_dump --version); mysqldump: ${MYSQLDUMP:+$($MYSQLDUMP --version)}"
  [[ -n $MIGRA ]] && echo "migra: $("${MIGRA%/migra}/pip" show migra 2>/dev/null | sed -n 's/^Version: //p' || true)"
  [[ -n $HYPERFINE ]] && echo "hyperfine: $($HYPERFINE --version)"
  echo "RUNS=$RUNS PG_TABLES=$PG_TABLES MY_TABLES=$MY_TABLES"
} | tee "$OUT/machine.txt"

for s in "${STEPS[@]}"; do
  case $s in
    1)
      setup_pg
      echo "== 1: PostgreSQL inspect ($PG_TABLES tables) vs pg_dump --schema-only"
      "$INSPECT_BENCH" "$(pg_url_public $DB)" | tee "$OUT/s1-inspect.txt"
      add strata-inspect "$INSPECT_BENCH $(pg_url_public $DB)"
      add strata-inspect-one-session "$INSPECT_BENCH --one-session $(pg_url_public $DB)"
      [[ -n ${INSPECT_BENCH_BASE:-} ]] && add strata-inspect-base "$INSPECT_BENCH_BASE $(pg_url_public $DB)"
      add pg_dump "pg_dump --schema-only -n public -f /dev/null -d $(pg_url $DB)"
      [[ -n $MIGRA ]] && add migra-self "$MIGRA --unsafe $(migra_url $DB) $(migra_url $DB)"
      run 1
      ;;
    2)
      setup_pg
      echo "== 2: diff + plan $DB -> $DB2 (inspect both, diff, plan)"
      "$INSPECT_BENCH" "$(pg_url_public $DB)" "$(pg_url_public $DB2)" | tee "$OUT/s2-diff.txt"
      "$INSPECT_BENCH" --sequential "$(pg_url_public $DB)" "$(pg_url_public $DB2)" | tee "$OUT/s2-diff-sequential.txt"
      add strata-inspect "$INSPECT_BENCH $(pg_url_public $DB)"
      add strata-diff-parallel "$INSPECT_BENCH $(pg_url_public $DB) $(pg_url_public $DB2)"
      add strata-diff-sequential "$INSPECT_BENCH --sequential $(pg_url_public $DB) $(pg_url_public $DB2)"
      add strata-inspect-one-session "$INSPECT_BENCH --one-session $(pg_url_public $DB)"
      add strata-diff-parallel-one-session "$INSPECT_BENCH --one-session $(pg_url_public $DB) $(pg_url_public $DB2)"
      [[ -n $MIGRA ]] && add migra-diff "$MIGRA --unsafe $(migra_url $DB) $(migra_url $DB2)"
      run 2
      ;;
    3)
      [[ -n $MYSQL && -n $MYSQLDUMP ]] || { echo "bench: no mariadb/mysql client; step 3 skipped" >&2; continue; }
      setup_my
      echo "== 3: MariaDB inspect ($MY_TABLES tables) vs mysqldump --no-data"
      "$INSPECT_BENCH" "$(my_url $DB)" | tee "$OUT/s3-inspect.txt"
      add strata-inspect "$INSPECT_BENCH $(my_url $DB)"
      [[ -n ${INSPECT_BENCH_BASE:-} ]] && add strata-inspect-base "$INSPECT_BENCH_BASE $(my_url $DB)"
      add mysqldump "$MYSQLDUMP --no-data -h $MYHOST -P $MYPORT -u $MYUSER -r /dev/null $DB"
      run 3
      ;;
    *) echo "bench: unknown step $s" >&2; exit 2 ;;
  esac
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"
