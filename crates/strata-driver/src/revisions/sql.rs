//! The SQL of the `atlas_schema_revisions` table, written once. What differs per dialect (quoting, column
//! types, bind parameters, the upsert's conflict clause) is data: each dialect module holds one [`RevisionsSql`].

use super::{COLUMNS, RevisionsLocation, updated_columns};

/// How one dialect writes the revisions table.
pub(crate) struct RevisionsSql {
    /// Quotes an identifier (see [`crate::quote`]).
    pub quote: fn(&str) -> String,
    /// Column definitions in [`COLUMNS`] order, as Atlas's ent schema creates them.
    pub column_defs: [(&'static str, &'static str); 12],
    /// Whether `CREATE TABLE` names the schema (SQLite creates the table alone, in `main`).
    pub create_qualified: bool,
    /// Table options after `CREATE TABLE`'s column list (with a leading space), if any.
    pub create_options: &'static str,
    /// The bind parameter of a one-value `WHERE` (`$1`, `?`).
    pub param: &'static str,
    /// The bind parameters of the upsert's twelve values.
    pub upsert_params: &'static str,
    /// The upsert's conflict clause.
    pub upsert: Upsert,
}

/// How an upsert updates an existing row.
pub(crate) enum Upsert {
    /// `ON CONFLICT ("version") DO UPDATE SET "c" = <excluded>."c"`, the pseudo-table spelled as given.
    OnConflict {
        /// `EXCLUDED` or `excluded`.
        excluded: &'static str,
    },
    /// `ON DUPLICATE KEY UPDATE c = VALUES(c)`, then `executed_at` assigned to itself: that keeps it fixed even on
    /// servers where a `timestamp` column got ON UPDATE CURRENT_TIMESTAMP (explicit_defaults_for_timestamp=OFF).
    OnDuplicateKey,
}

/// Zero-value defaults used when an older table lacks a NOT NULL column (as ent does when adding one).
fn add_column_default(col: &str) -> &'static str {
    match col {
        "executed_at" => " DEFAULT CURRENT_TIMESTAMP",
        "execution_time" => " DEFAULT 0",
        "description" | "hash" | "operator_version" => " DEFAULT ''",
        _ => "",
    }
}

impl RevisionsSql {
    fn q(&self, ident: &str) -> String {
        (self.quote)(ident)
    }

    /// `schema.table`, quoted.
    pub(crate) fn table(&self, loc: &RevisionsLocation) -> String {
        format!("{}.{}", self.q(&loc.schema), self.q(&loc.table))
    }

    /// `CREATE TABLE` of the whole table.
    pub(crate) fn create_table(&self, loc: &RevisionsLocation) -> String {
        let cols: Vec<String> = self
            .column_defs
            .iter()
            .map(|(n, d)| format!("{} {d}", self.q(n)))
            .collect();
        let table = if self.create_qualified {
            self.table(loc)
        } else {
            self.q(&loc.table)
        };
        format!(
            "CREATE TABLE {table} ({}, PRIMARY KEY ({})){}",
            cols.join(", "),
            self.q("version"),
            self.create_options
        )
    }

    /// The `ALTER TABLE … ADD COLUMN` statements for the columns `existing` lacks, in [`COLUMNS`] order.
    pub(crate) fn add_missing_columns(
        &self,
        loc: &RevisionsLocation,
        existing: &[String],
    ) -> Vec<String> {
        self.column_defs
            .iter()
            .filter(|(name, _)| !existing.iter().any(|c| c == name))
            .map(|(name, def)| {
                format!(
                    "ALTER TABLE {} ADD COLUMN {} {def}{}",
                    self.table(loc),
                    self.q(name),
                    add_column_default(name)
                )
            })
            .collect()
    }

    /// The upsert of a revision with `values` (the twelve values in [`COLUMNS`] order).
    pub(crate) fn upsert(&self, loc: &RevisionsLocation, values: &str) -> String {
        let cols: Vec<String> = COLUMNS.iter().map(|c| self.q(c)).collect();
        let conflict = match self.upsert {
            Upsert::OnConflict { excluded } => {
                let sets: Vec<String> = updated_columns()
                    .map(|c| format!("{} = {excluded}.{}", self.q(c), self.q(c)))
                    .collect();
                format!(
                    "ON CONFLICT ({}) DO UPDATE SET {}",
                    self.q("version"),
                    sets.join(", ")
                )
            }
            Upsert::OnDuplicateKey => {
                let mut sets: Vec<String> = updated_columns()
                    .map(|c| format!("{} = VALUES({})", self.q(c), self.q(c)))
                    .collect();
                let at = self.q("executed_at");
                sets.push(format!("{at} = {at}"));
                format!("ON DUPLICATE KEY UPDATE {}", sets.join(", "))
            }
        };
        format!(
            "INSERT INTO {} ({}) VALUES ({values}) {conflict}",
            self.table(loc),
            cols.join(", ")
        )
    }

    /// The upsert with bind parameters.
    pub(crate) fn upsert_bound(&self, loc: &RevisionsLocation) -> String {
        self.upsert(loc, self.upsert_params)
    }

    /// `DELETE` of one version (bound).
    pub(crate) fn delete(&self, loc: &RevisionsLocation) -> String {
        format!(
            "DELETE FROM {} WHERE {} = {}",
            self.table(loc),
            self.q("version"),
            self.param
        )
    }

    /// `select` narrowed to one version (bound).
    pub(crate) fn where_version(&self, select: &str) -> String {
        format!("{select} WHERE {} = {}", self.q("version"), self.param)
    }

    /// `select` without one version (bound: the cloud-identifier row), ordered by version.
    pub(crate) fn where_not_version_ordered(&self, select: &str) -> String {
        let v = self.q("version");
        format!("{select} WHERE {v} <> {} ORDER BY {v}", self.param)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every text `sql` builds, one a line: CREATE TABLE, the upsert, DELETE, the two version filters, then the
    /// ADD COLUMNs for a table that has only `version` and `type`.
    fn texts(sql: &RevisionsSql) -> String {
        let loc = RevisionsLocation::new("s");
        let mut out = vec![
            sql.create_table(&loc),
            sql.upsert_bound(&loc),
            sql.delete(&loc),
            sql.where_version("SELECT 1 FROM t"),
            sql.where_not_version_ordered("SELECT 1 FROM t"),
        ];
        out.extend(sql.add_missing_columns(&loc, &["version".into(), "type".into()]));
        out.join("\n")
    }

    /// The texts each dialect sends, written out: the single template must produce exactly what the three
    /// hand-written copies did.
    #[test]
    fn texts_per_dialect() {
        let cases = [
            (
                &crate::postgres::revisions_table::REVISIONS,
                r#"CREATE TABLE "s"."atlas_schema_revisions" ("version" character varying NOT NULL, "description" character varying NOT NULL, "type" bigint NOT NULL DEFAULT 2, "applied" bigint NOT NULL DEFAULT 0, "total" bigint NOT NULL DEFAULT 0, "executed_at" timestamptz NOT NULL, "execution_time" bigint NOT NULL, "error" text NULL, "error_stmt" text NULL, "hash" character varying NOT NULL, "partial_hashes" jsonb NULL, "operator_version" character varying NOT NULL, PRIMARY KEY ("version"))
INSERT INTO "s"."atlas_schema_revisions" ("version", "description", "type", "applied", "total", "executed_at", "execution_time", "error", "error_stmt", "hash", "partial_hashes", "operator_version") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12) ON CONFLICT ("version") DO UPDATE SET "type" = EXCLUDED."type", "applied" = EXCLUDED."applied", "total" = EXCLUDED."total", "execution_time" = EXCLUDED."execution_time", "error" = EXCLUDED."error", "error_stmt" = EXCLUDED."error_stmt", "hash" = EXCLUDED."hash", "partial_hashes" = EXCLUDED."partial_hashes", "operator_version" = EXCLUDED."operator_version"
DELETE FROM "s"."atlas_schema_revisions" WHERE "version" = $1
SELECT 1 FROM t WHERE "version" = $1
SELECT 1 FROM t WHERE "version" <> $1 ORDER BY "version"
ALTER TABLE "s"."atlas_schema_revisions" ADD COLUMN "description" character varying NOT NULL DEFAULT ''
ALTER TABLE "s"."atlas_schema_revisions" ADD COLUMN "applied" bigint NOT NULL DEFAULT 0
ALTER TABLE "s"."atlas_schema_revisions" ADD COLUMN "total" bigint NOT NULL DEFAULT 0
ALTER TABLE "s"."atlas_schema_revisions" ADD COLUMN "executed_at" timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP
ALTER TABLE "s"."atlas_schema_revisions" ADD COLUMN "execution_time" bigint NOT NULL DEFAULT 0
ALTER TABLE "s"."atlas_schema_revisions" ADD COLUMN "error" text NULL
ALTER TABLE "s"."atlas_schema_revisions" ADD COLUMN "error_stmt" text NULL
ALTER TABLE "s"."atlas_schema_revisions" ADD COLUMN "hash" character varying NOT NULL DEFAULT ''
ALTER TABLE "s"."atlas_schema_revisions" ADD COLUMN "partial_hashes" jsonb NULL
ALTER TABLE "s"."atlas_schema_revisions" ADD COLUMN "operator_version" character varying NOT NULL DEFAULT ''"#,
            ),
            (
                &crate::mysql::revisions_table::REVISIONS,
                r#"CREATE TABLE `s`.`atlas_schema_revisions` (`version` varchar(255) NOT NULL, `description` varchar(255) NOT NULL, `type` bigint unsigned NOT NULL DEFAULT 2, `applied` bigint NOT NULL DEFAULT 0, `total` bigint NOT NULL DEFAULT 0, `executed_at` timestamp NOT NULL, `execution_time` bigint NOT NULL, `error` longtext NULL, `error_stmt` longtext NULL, `hash` varchar(255) NOT NULL, `partial_hashes` json NULL, `operator_version` varchar(255) NOT NULL, PRIMARY KEY (`version`)) CHARSET utf8mb4 COLLATE utf8mb4_bin
INSERT INTO `s`.`atlas_schema_revisions` (`version`, `description`, `type`, `applied`, `total`, `executed_at`, `execution_time`, `error`, `error_stmt`, `hash`, `partial_hashes`, `operator_version`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE `type` = VALUES(`type`), `applied` = VALUES(`applied`), `total` = VALUES(`total`), `execution_time` = VALUES(`execution_time`), `error` = VALUES(`error`), `error_stmt` = VALUES(`error_stmt`), `hash` = VALUES(`hash`), `partial_hashes` = VALUES(`partial_hashes`), `operator_version` = VALUES(`operator_version`), `executed_at` = `executed_at`
DELETE FROM `s`.`atlas_schema_revisions` WHERE `version` = ?
SELECT 1 FROM t WHERE `version` = ?
SELECT 1 FROM t WHERE `version` <> ? ORDER BY `version`
ALTER TABLE `s`.`atlas_schema_revisions` ADD COLUMN `description` varchar(255) NOT NULL DEFAULT ''
ALTER TABLE `s`.`atlas_schema_revisions` ADD COLUMN `applied` bigint NOT NULL DEFAULT 0
ALTER TABLE `s`.`atlas_schema_revisions` ADD COLUMN `total` bigint NOT NULL DEFAULT 0
ALTER TABLE `s`.`atlas_schema_revisions` ADD COLUMN `executed_at` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
ALTER TABLE `s`.`atlas_schema_revisions` ADD COLUMN `execution_time` bigint NOT NULL DEFAULT 0
ALTER TABLE `s`.`atlas_schema_revisions` ADD COLUMN `error` longtext NULL
ALTER TABLE `s`.`atlas_schema_revisions` ADD COLUMN `error_stmt` longtext NULL
ALTER TABLE `s`.`atlas_schema_revisions` ADD COLUMN `hash` varchar(255) NOT NULL DEFAULT ''
ALTER TABLE `s`.`atlas_schema_revisions` ADD COLUMN `partial_hashes` json NULL
ALTER TABLE `s`.`atlas_schema_revisions` ADD COLUMN `operator_version` varchar(255) NOT NULL DEFAULT ''"#,
            ),
            (
                &crate::sqlite::revisions_table::REVISIONS,
                r#"CREATE TABLE `atlas_schema_revisions` (`version` text NOT NULL, `description` text NOT NULL, `type` integer NOT NULL DEFAULT (2), `applied` integer NOT NULL DEFAULT (0), `total` integer NOT NULL DEFAULT (0), `executed_at` datetime NOT NULL, `execution_time` integer NOT NULL, `error` text NULL, `error_stmt` text NULL, `hash` text NOT NULL, `partial_hashes` json NULL, `operator_version` text NOT NULL, PRIMARY KEY (`version`))
INSERT INTO `s`.`atlas_schema_revisions` (`version`, `description`, `type`, `applied`, `total`, `executed_at`, `execution_time`, `error`, `error_stmt`, `hash`, `partial_hashes`, `operator_version`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (`version`) DO UPDATE SET `type` = excluded.`type`, `applied` = excluded.`applied`, `total` = excluded.`total`, `execution_time` = excluded.`execution_time`, `error` = excluded.`error`, `error_stmt` = excluded.`error_stmt`, `hash` = excluded.`hash`, `partial_hashes` = excluded.`partial_hashes`, `operator_version` = excluded.`operator_version`
DELETE FROM `s`.`atlas_schema_revisions` WHERE `version` = ?
SELECT 1 FROM t WHERE `version` = ?
SELECT 1 FROM t WHERE `version` <> ? ORDER BY `version`
ALTER TABLE `s`.`atlas_schema_revisions` ADD COLUMN `description` text NOT NULL DEFAULT ''
ALTER TABLE `s`.`atlas_schema_revisions` ADD COLUMN `applied` integer NOT NULL DEFAULT (0)
ALTER TABLE `s`.`atlas_schema_revisions` ADD COLUMN `total` integer NOT NULL DEFAULT (0)
ALTER TABLE `s`.`atlas_schema_revisions` ADD COLUMN `executed_at` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP
ALTER TABLE `s`.`atlas_schema_revisions` ADD COLUMN `execution_time` integer NOT NULL DEFAULT 0
ALTER TABLE `s`.`atlas_schema_revisions` ADD COLUMN `error` text NULL
ALTER TABLE `s`.`atlas_schema_revisions` ADD COLUMN `error_stmt` text NULL
ALTER TABLE `s`.`atlas_schema_revisions` ADD COLUMN `hash` text NOT NULL DEFAULT ''
ALTER TABLE `s`.`atlas_schema_revisions` ADD COLUMN `partial_hashes` json NULL
ALTER TABLE `s`.`atlas_schema_revisions` ADD COLUMN `operator_version` text NOT NULL DEFAULT ''"#,
            ),
        ];
        for (sql, want) in cases {
            assert_eq!(texts(sql), want);
        }
    }
}
