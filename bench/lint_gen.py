#!/usr/bin/env python3
"""Generate one PostgreSQL migration file of COUNT statements for the lint benchmark.

    lint_gen.py OUT_FILE COUNT

A mix of ten statement shapes, repeated with fresh names: tables and indexes created in the file (which the lock
rules must let pass) and changes to existing tables (which they must report): indexes without CONCURRENTLY, checks
and foreign keys with and without NOT VALID, SET NOT NULL, an UPDATE back-fill, a dropped index.
"""

import sys

SHAPES = [
    "CREATE TABLE t{i} (id bigint PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());",
    "CREATE INDEX t{i}_name ON t{i} (name);",
    "ALTER TABLE users ADD COLUMN c{i} text;",
    "CREATE INDEX users_c{i} ON users (c{i});",
    "ALTER TABLE users ADD CONSTRAINT users_c{i}_len CHECK (length(c{i}) < 100);",
    "UPDATE users SET c{i} = '' WHERE c{i} IS NULL;",
    "ALTER TABLE users ALTER COLUMN c{i} SET NOT NULL;",
    "ALTER TABLE pets ADD CONSTRAINT pets_fk{i} FOREIGN KEY (owner_id) REFERENCES users (id) NOT VALID;",
    "ALTER TABLE pets VALIDATE CONSTRAINT pets_fk{i};",
    "DROP INDEX users_c{i};",
]


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    out, count = sys.argv[1], int(sys.argv[2])
    with open(out, "w") as f:
        for n in range(count):
            f.write(SHAPES[n % len(SHAPES)].format(i=n // len(SHAPES)) + "\n\n")


if __name__ == "__main__":
    main()
