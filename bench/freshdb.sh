#!/usr/bin/env bash
# freshdb.sh NAME: drop database NAME (forcing out sessions), create it empty, and checkpoint, so no timed run
# inherits the previous run's WAL (or the new database's copy of template1) as a checkpoint due mid-run. Used as
# hyperfine --prepare, outside the timing.
set -euo pipefail
psql -X -q -v ON_ERROR_STOP=1 -d postgres \
  -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" -c "CREATE DATABASE \"$1\"" -c "CHECKPOINT" >/dev/null 2>&1
