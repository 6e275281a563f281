#!/usr/bin/env bash
# freshdb.sh NAME | mysql:NAME | sqlite:PATH — an empty target before each timed run (hyperfine --prepare, outside
# the timing).
#   NAME         PostgreSQL: drop database NAME (forcing out sessions), create it empty, and checkpoint, so no timed
#                run inherits the previous run's WAL (or the new database's copy of template1) as a checkpoint due
#                mid-run.
#   mysql:NAME   MariaDB/MySQL (MYSQL_HOST/MYSQL_PORT/MYSQL_USER): drop and create database NAME.
#   sqlite:PATH  remove the file and its journals and leave an empty file (an empty file is an empty database, so
#                every tool opens an existing file and none of them pays for creating it).
set -euo pipefail
case $1 in
  mysql:*)
    db=${1#mysql:}
    mysql -h"${MYSQL_HOST:-127.0.0.1}" -P"${MYSQL_PORT:-3306}" -u"${MYSQL_USER:-root}" \
      -e "DROP DATABASE IF EXISTS \`$db\`; CREATE DATABASE \`$db\`"
    ;;
  sqlite:*)
    f=${1#sqlite:}
    rm -f "$f" "$f-journal" "$f-wal" "$f-shm"
    : >"$f"
    ;;
  *)
    psql -X -q -v ON_ERROR_STOP=1 -d postgres \
      -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" -c "CREATE DATABASE \"$1\"" -c "CHECKPOINT" >/dev/null 2>&1
    ;;
esac
