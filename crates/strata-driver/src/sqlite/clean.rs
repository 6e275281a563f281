//! Catalog lookups (`sqlite_master`, `pragma_database_list`) and Atlas's clean check.

use super::SqliteDriver;
use crate::DriverError as E;
use crate::error::DriverError;
use crate::revisions::RevisionsLocation;

impl SqliteDriver {
    pub(super) fn tables(&mut self) -> Result<Vec<String>, DriverError> {
        self.names(
            "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
    }

    /// The first column of every row of `sql`, as text.
    fn names(&mut self, sql: &str) -> Result<Vec<String>, DriverError> {
        self.with_conn(|c| {
            let mut stmt = c.prepare(sql)?;
            let names = stmt.query_map([], |r| r.get(0))?;
            names.collect::<rusqlite::Result<Vec<String>>>()
        })
        .map_err(E::sqlite)
    }

    /// [`Driver::check_clean`](crate::Driver::check_clean) on this dialect.
    pub(super) async fn unclean_reason(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<Option<String>, DriverError> {
        let schemas =
            self.names("SELECT name FROM pragma_database_list WHERE name <> 'temp' ORDER BY seq")?;
        match schemas.as_slice() {
            [] => return Ok(None),
            [s] if s != "main" => return Ok(Some(format!("found schema {s:?}"))),
            [_] => {}
            many => return Ok(Some(format!("found multiple schemas: {}", many.len()))),
        }
        let tables = self.tables()?;
        Ok(match tables.as_slice() {
            [] => None,
            [t] if *t == loc.table => None,
            [t] => Some(format!("found table {t:?}")),
            many => Some(format!("found multiple tables: {}", many.len())),
        })
    }
}
