#!/usr/bin/env bash
# Issue 14's `migrate diff` benchmark: a PostgreSQL migration directory of FILES migrations in which the schema grows
# to TABLES tables (bench/gen_migdiff.py), diffed against its own final state (synced) and then against that state
# plus one table, through the replay cache.
#
#   bench/migrate_diff.sh                      # FILES=1000 TABLES=300 RUNS=5
#   RUNS=10 STRATA=target/release/strata bench/migrate_diff.sh
#
# Each round, with an empty cache folder and the generated directory as generated:
#   first    strata migrate diff --to file://schema.sql          cold cache: the 1,000 files replayed, synced
#   second   strata migrate diff extra --to file://schema2.sql   one table added to the desired state: writes a file
#   third    strata migrate diff --to file://schema2.sql         the directory has the new file: synced
#   edit     strata migrate diff edit --to file://schema3.sql    a column added to the first table instead: the
#            directory comes from the cache, the edited desired state runs whole (no append to reuse)
#   nocache  the second run again with STRATA_CACHE_DIR="" (no cache), on the directory without the new file
#   hcl1     strata migrate diff --to file://schema.hcl          the same state in Atlas HCL: synced; the directory
#            from the cache, the HCL's 300 tables created on the dev database and inspected (not cached yet)
#   hcl2     the same again: the HCL's model from the cache too, nothing runs on the dev database
# Target (issue 14): second <= 1.5 s and <= 0.2 x first. Medians of RUNS rounds are printed at the end.
#
# Environment: PGHOST (127.0.0.1), PGPORT (5432), PGUSER (postgres), FILES (1000), TABLES (300), RUNS (5),
# STRATA (the binary; default: build strata-cli in release into CARGO_TARGET_DIR or target/), WORK (a temp dir).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
FILES=${FILES:-1000} TABLES=${TABLES:-300} RUNS=${RUNS:-5}
WORK=${WORK:-$(mktemp -d)}
DEVDB=bench_migdiff_dev

if [[ -z "${STRATA:-}" ]]; then
  (cd "$ROOT" && cargo build --release -q -p strata-cli)
  STRATA="${CARGO_TARGET_DIR:-$ROOT/target}/release/strata"
fi
command -v psql >/dev/null || { echo "bench: psql not found (apt-get install -y postgresql-client)" >&2; exit 1; }

python3 "$ROOT/bench/gen_migdiff.py" "$WORK" "$FILES" "$TABLES"
cd "$WORK"
"$STRATA" migrate hash --dir file://migrations
cp migrations/atlas.sum atlas.sum.orig
psql -q -d postgres -c "DROP DATABASE IF EXISTS $DEVDB" -c "CREATE DATABASE $DEVDB"
DEV="postgres://$PGUSER@$PGHOST:$PGPORT/$DEVDB?search_path=public&sslmode=disable"
export STRATA_CACHE_DIR="$WORK/cache"

now() { date +%s.%N; }
# timed <expected stdout prefix or "-" for none> <strata args…>: prints the seconds taken.
timed() {
  local expect=$1; shift
  local t0 t1 out
  t0=$(now)
  out=$("$STRATA" "$@")
  t1=$(now)
  if [[ $expect == - && -n $out ]] || [[ $expect != - && $out != "$expect"* ]]; then
    echo "bench: unexpected output of strata $*: $out" >&2
    exit 1
  fi
  echo "$t1 - $t0" | bc
}
reset_dir() {
  rm -f migrations/*_extra.sql
  cp atlas.sum.orig migrations/atlas.sum
}

SYNCED="The migration directory is synced"
: >"$WORK/times"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %8s %8s %8s %8s %8s %8s %8s %8s\n' round first second third edit nocache hcl1 hcl2 second/first
for r in $(seq 1 "$RUNS"); do
  reset_dir
  rm -rf "$STRATA_CACHE_DIR"
  first=$(timed "$SYNCED" migrate diff --to file://schema.sql --dev-url "$DEV")
  second=$(timed - migrate diff extra --to file://schema2.sql --dev-url "$DEV")
  ls migrations/*_extra.sql >/dev/null
  third=$(timed "$SYNCED" migrate diff --to file://schema2.sql --dev-url "$DEV")
  reset_dir
  edit=$(timed - migrate diff edit --to file://schema3.sql --dev-url "$DEV")
  rm -f migrations/*_edit.sql
  reset_dir
  hcl1=$(timed "$SYNCED" migrate diff --to file://schema.hcl --dev-url "$DEV")
  hcl2=$(timed "$SYNCED" migrate diff --to file://schema.hcl --dev-url "$DEV")
  nocache=$(STRATA_CACHE_DIR= timed - migrate diff extra --to file://schema2.sql --dev-url "$DEV")
  ratio=$(echo "scale=3; $second / $first" | bc)
  printf '%-6s %8.3f %8.3f %8.3f %8.3f %8.3f %8.3f %8.3f %8s\n' "$r" "$first" "$second" "$third" "$edit" "$nocache" \
    "$hcl1" "$hcl2" "$ratio"
  echo "$first $second $third $edit $nocache $hcl1 $hcl2" >>"$WORK/times"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$WORK/times" <<'EOF'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
med = [statistics.median(c) for c in zip(*rows)]
first, second, third, edit, nocache, hcl1, hcl2 = med
print(f"median  first {first:.3f} s  second {second:.3f} s  third {third:.3f} s  edit {edit:.3f} s  "
      f"second without cache {nocache:.3f} s")
print(f"median  schema.hcl first {hcl1:.3f} s  schema.hcl second (cached) {hcl2:.3f} s")
print(f"second / first = {second / first:.3f}  (target <= 0.2);  second = {second:.3f} s  (target <= 1.5 s)")
EOF
psql -q -d postgres -c "DROP DATABASE IF EXISTS $DEVDB"
