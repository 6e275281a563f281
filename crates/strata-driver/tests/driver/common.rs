use strata_driver::{Revision, RevisionType};

/// A fresh Postgres test database, or return (skip).
#[macro_export]
macro_rules! pg_db {
    () => {
        match strata_driver::testing::postgres().await {
            Some(db) => db,
            None => return,
        }
    };
}

/// A fresh MySQL/MariaDB test database, or return (skip).
#[macro_export]
macro_rules! my_db {
    () => {
        match strata_driver::testing::mysql().await {
            Some(db) => db,
            None => return,
        }
    };
}

/// A revision like the executor writes it. `executed_at` has whole microseconds (Postgres precision).
pub fn revision(version: &str) -> Revision {
    Revision {
        version: version.to_string(),
        description: format!("desc_{version}"),
        kind: RevisionType::EXECUTED,
        applied: 1,
        total: 3,
        executed_at_unix_nanos: 1_705_400_430_123_456_000,
        execution_time_nanos: 1_500_000,
        error: "boom".into(),
        error_stmt: "CREATE TABLE t (id int);".into(),
        hash: "FifWjY2X0g2YVnb18Qm+QBPvoldDOOob7bS0LrFuCXc=".into(),
        partial_hashes: Some(vec![
            "h1:FifWjY2X0g2YVnb18Qm+QBPvoldDOOob7bS0LrFuCXc=".into(),
        ]),
        operator_version: "Strata v0.1.0".into(),
    }
}

/// Seconds precision (MySQL `timestamp`).
pub fn whole_seconds(mut r: Revision) -> Revision {
    r.executed_at_unix_nanos -= r.executed_at_unix_nanos % 1_000_000_000;
    r
}

/// Parses `url` and connects: the URL text enters here, as it does at a front end's edge.
pub async fn connect(
    url: &str,
) -> Result<Box<dyn strata_driver::Driver>, strata_driver::DriverError> {
    strata_driver::connect(&url.parse()?).await
}

/// A session on `url` with the revisions table in place and `setup` run (outside a transaction; nothing when empty),
/// for the tests of deferred commits.
pub async fn deferring_session(
    url: &str,
    setup: &str,
) -> (
    Box<dyn strata_driver::Driver>,
    strata_driver::RevisionsLocation,
) {
    let mut d = connect(url).await.unwrap();
    let loc = d.revisions_location(None).await.unwrap();
    d.ensure_revisions_table(&loc).await.unwrap();
    if !setup.is_empty() {
        d.execute(setup).await.unwrap();
    }
    (d, loc)
}

/// One file of one statement, its commit deferred.
pub async fn defer_file(
    d: &mut dyn strata_driver::Driver,
    loc: &strata_driver::RevisionsLocation,
    version: &str,
    sql: &str,
) {
    d.begin().await.unwrap();
    d.execute(sql).await.unwrap();
    d.upsert_commit(loc, &revision(version), strata_driver::Durability::Deferred)
        .await
        .unwrap();
}

/// A tiny deterministic generator for the schema engine's property tests: proptest draws seeds, each seed is one
/// schema (or one edit of it), so a failing case is reproduced from its seed alone.
pub struct Rng(pub u64);

impl Rng {
    /// The next number (xorshift64*).
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True `pct` times in a hundred.
    pub fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}
