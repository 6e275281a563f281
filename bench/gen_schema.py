#!/usr/bin/env python3
"""Prints the DDL of the issue-13 schema benchmark: N tables, each with 10 columns of mixed types, a primary key,
two secondary indexes, a foreign key to the previous table and a check.

    gen_schema.py postgres 5000 > pg.sql        # for psql
    gen_schema.py mysql 1000 > my.sql           # for the mariadb / mysql client
    gen_schema.py postgres-change 5000          # the one-table change applied to the copy

Tables are t00001 .. tNNNNN; t00001's foreign key points at itself (there is no previous table). Statements are
grouped in transactions of 250 tables on PostgreSQL (one commit flush each, and well under the lock table's
size), one statement per table on MySQL (DDL commits implicitly there).
"""

import sys

BATCH = 250


def name(i):
    return f"t{i:05d}"


def pg_table(i):
    t, prev = name(i), name(max(i - 1, 1))
    return (
        f"CREATE TABLE {t} (\n"
        f"  id bigint NOT NULL,\n"
        f"  parent_id bigint,\n"
        f"  name varchar(100) NOT NULL,\n"
        f"  email text,\n"
        f"  amount numeric(12,2) NOT NULL DEFAULT 0,\n"
        f"  created_at timestamptz NOT NULL DEFAULT now(),\n"
        f"  active boolean NOT NULL DEFAULT true,\n"
        f"  score double precision,\n"
        f"  code char(8),\n"
        f"  payload jsonb,\n"
        f"  CONSTRAINT {t}_pkey PRIMARY KEY (id),\n"
        f"  CONSTRAINT {t}_parent_fk FOREIGN KEY (parent_id) REFERENCES {prev} (id) ON DELETE SET NULL,\n"
        f"  CONSTRAINT {t}_amount_ck CHECK (amount >= 0)\n"
        f");\n"
        f"CREATE INDEX {t}_name_idx ON {t} (name);\n"
        f"CREATE INDEX {t}_created_idx ON {t} (created_at DESC, active);\n"
    )


def my_table(i):
    t, prev = name(i), name(max(i - 1, 1))
    return (
        f"CREATE TABLE {t} (\n"
        f"  id bigint NOT NULL,\n"
        f"  parent_id bigint NULL,\n"
        f"  name varchar(100) NOT NULL,\n"
        f"  email text NULL,\n"
        f"  amount decimal(12,2) NOT NULL DEFAULT 0,\n"
        f"  created_at timestamp NOT NULL DEFAULT current_timestamp(),\n"
        f"  active tinyint(1) NOT NULL DEFAULT 1,\n"
        f"  score double NULL,\n"
        f"  code char(8) NULL,\n"
        f"  payload json NULL,\n"
        f"  PRIMARY KEY (id),\n"
        f"  KEY {t}_name_idx (name),\n"
        f"  KEY {t}_created_idx (created_at DESC, active),\n"
        f"  CONSTRAINT {t}_parent_fk FOREIGN KEY (parent_id) REFERENCES {prev} (id) ON DELETE SET NULL,\n"
        f"  CONSTRAINT {t}_amount_ck CHECK (amount >= 0)\n"
        f") ENGINE=InnoDB;\n"
    )


def pg_change(n):
    t = name(n // 2 or 1)
    return (
        f"ALTER TABLE {t} ADD COLUMN extra integer NOT NULL DEFAULT 7;\n"
        f"DROP INDEX {t}_name_idx;\n"
        f"CREATE UNIQUE INDEX {t}_name_idx ON {t} (name, email);\n"
    )


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("postgres", "mysql", "postgres-change"):
        sys.exit("usage: gen_schema.py postgres|mysql|postgres-change N")
    kind, n = sys.argv[1], int(sys.argv[2])
    out = sys.stdout
    if kind == "postgres-change":
        out.write(pg_change(n))
        return
    if kind == "mysql":
        out.write("SET foreign_key_checks = 0;\n")
        for i in range(1, n + 1):
            out.write(my_table(i))
        return
    for start in range(1, n + 1, BATCH):
        out.write("BEGIN;\n")
        for i in range(start, min(start + BATCH, n + 1)):
            out.write(pg_table(i))
        out.write("COMMIT;\n")


if __name__ == "__main__":
    main()
