#!/usr/bin/env bash
# Issue 15's `migrate lint` benchmark: the PostgreSQL directory of bench/gen_migdiff.py (FILES migrations, the
# schema growing to TABLES tables), its last file linted on a dev database.
#
#   bench/migrate_lint.sh                      # FILES=1000 TABLES=300 RUNS=5
#   RUNS=10 STRATA=target/release/strata bench/migrate_lint.sh
#
# Each round:
#   cold   strata migrate lint --latest 1    empty cache folder: the 999 base files replayed, then the last file
#                                            statement by statement
#   warm   the same again                    the base comes from the replay cache
# Once, after the rounds:
#   every  strata migrate lint --latest FILES   every file run statement by statement, inspected after each
#                                               (what linting costs without a base replay)
# Target (issue 15): warm <= 1.5 s. Medians of RUNS rounds are printed at the end.
#
# Environment: PGHOST (127.0.0.1), PGPORT (5432), PGUSER (postgres), FILES (1000), TABLES (300), RUNS (5),
# STRATA (the binary; default: build strata-cli in release into CARGO_TARGET_DIR or target/), WORK (a temp dir),
# EVERY (1: time the every-file run; 0: skip it).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
FILES=${FILES:-1000} TABLES=${TABLES:-300} RUNS=${RUNS:-5} EVERY=${EVERY:-1}
WORK=${WORK:-$(mktemp -d)}
DEVDB=bench_miglint_dev

if [[ -z "${STRATA:-}" ]]; then
  (cd "$ROOT" && cargo build --release -q -p strata-cli)
  STRATA="${CARGO_TARGET_DIR:-$ROOT/target}/release/strata"
fi
command -v psql >/dev/null || { echo "bench: psql not found (apt-get install -y postgresql-client)" >&2; exit 1; }

python3 "$ROOT/bench/gen_migdiff.py" "$WORK" "$FILES" "$TABLES"
cd "$WORK"
"$STRATA" migrate hash --dir file://migrations
psql -q -d postgres -c "DROP DATABASE IF EXISTS $DEVDB" -c "CREATE DATABASE $DEVDB"
DEV="postgres://$PGUSER@$PGHOST:$PGPORT/$DEVDB?search_path=public&sslmode=disable"
export STRATA_CACHE_DIR="$WORK/cache"

now() { date +%s.%N; }
# timed <strata args…>: prints the seconds taken; the run must print a report (exit 0, or 1 for error findings).
timed() {
  local t0 t1 out code=0
  t0=$(now)
  out=$("$STRATA" "$@") || code=$?
  t1=$(now)
  if [[ $code -gt 1 || $out != Analyzing* ]]; then
    echo "bench: unexpected result of strata $* (exit $code): $out" >&2
    exit 1
  fi
  echo "$t1 - $t0" | bc
}

: >"$WORK/times"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %8s %8s\n' round cold warm
for r in $(seq 1 "$RUNS"); do
  rm -rf "$STRATA_CACHE_DIR"
  cold=$(timed migrate lint --dir file://migrations --dev-url "$DEV" --latest 1)
  warm=$(timed migrate lint --dir file://migrations --dev-url "$DEV" --latest 1)
  printf '%-6s %8.3f %8.3f\n' "$r" "$cold" "$warm" | tee -a "$WORK/times"
done
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f", m}'; }
printf '%-6s %8s %8s\n' median "$(awk '{print $2}' "$WORK/times" | median)" "$(awk '{print $3}' "$WORK/times" | median)"
if [[ $EVERY == 1 ]]; then
  every=$(timed migrate lint --dir file://migrations --dev-url "$DEV" --latest "$FILES")
  echo "every file statement by statement (--latest $FILES): ${every}s"
fi
psql -q -d postgres -c "DROP DATABASE IF EXISTS $DEVDB"
