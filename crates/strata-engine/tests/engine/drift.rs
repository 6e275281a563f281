//! Drift detection (`schema::migration_drift`) on real databases: a directory applied up to a version, then the
//! target changed by hand; the check names each change, expects only the files up to the applied version, reads
//! the expected state from the replay cache the second time, and never writes to the target (its catalog, its
//! revisions rows and a table's rows are the same before and after; the session it uses refuses writes).

use strata_driver::DbUrl;
use strata_driver::testing;
use strata_engine::MigrationDir;
use strata_engine::schema::drift::{DriftOptions, connect_read_only, migration_drift};
use strata_engine::schema::{self, InspectOptions, ReplayCache, SchemaError};

use crate::common::{Db, Kind, dir};

/// Three files: users (with an index and a row), posts, tags.
fn files() -> MigrationDir {
    dir(&[
        (
            "1_users.sql",
            "CREATE TABLE users (id int NOT NULL, name varchar(50) NULL, PRIMARY KEY (id));\n\
             CREATE INDEX users_name ON users (name);\n\
             INSERT INTO users (id, name) VALUES (1, 'ada');\n",
        ),
        (
            "2_posts.sql",
            "CREATE TABLE posts (id int NOT NULL, PRIMARY KEY (id));\n",
        ),
        (
            "3_tags.sql",
            "CREATE TABLE tags (id int NOT NULL, PRIMARY KEY (id));\n",
        ),
    ])
}

/// The first `n` files of [`files`], with their own `atlas.sum`.
fn first(n: usize) -> MigrationDir {
    let all = files();
    let owned: Vec<(String, String)> = all.files()[..n]
        .iter()
        .map(|f| (f.name().to_owned(), f.text().unwrap().to_owned()))
        .collect();
    let refs: Vec<(&str, &str)> = owned
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    dir(&refs)
}

/// Everything a write could change: the catalog (revisions table included), the revisions rows, the rows of
/// `users`.
async fn snapshot(db: &Db) -> String {
    let realm = schema::inspect(
        &db.db_url(),
        &InspectOptions::default().include_revisions_table(true),
    )
    .await
    .unwrap();
    let revs = db
        .query(&format!(
            "SELECT version, hash, description FROM {} ORDER BY version",
            db.rev_table()
        ))
        .await;
    let rows = db.query("SELECT name FROM users ORDER BY name").await;
    format!(
        "{}\n{revs:?}\n{rows:?}",
        serde_json::to_string(&realm).unwrap()
    )
}

/// The dev database of each kind: a throw-away database on the target's server (PostgreSQL), a second test
/// database (MariaDB: the test user may not create databases), in memory (SQLite).
async fn dev_for(db: &Db) -> (DbUrl, Option<testing::TestDb>) {
    match db.kind {
        Kind::Postgres => (
            format!("{}&strata_dev=scratch", db.url()).parse().unwrap(),
            None,
        ),
        Kind::Mysql => {
            let dev = testing::mysql().await.expect("second MariaDB database");
            (dev.url.parse().unwrap(), Some(dev))
        }
        Kind::Sqlite => ("sqlite://dev?mode=memory".parse().unwrap(), None),
    }
}

async fn drift_is_reported_and_nothing_written(db: Db) {
    db.apply(&first(2))
        .await
        .expect("apply the first two files");
    let (dev, _keep) = dev_for(&db).await;
    let cache_dir = tempfile::tempdir().unwrap();
    let opts = DriftOptions::new(dev).cache(Some(ReplayCache::new(cache_dir.path())));
    let target = db.db_url();
    let all = files();

    // In sync at the applied version; the file after it is not expected.
    let d = migration_drift(&target, &all, Some("2"), &opts)
        .await
        .unwrap();
    assert!(d.is_empty(), "{:?}", d.lines);
    assert_eq!((d.replay.executed, d.replay.cached), (2, 0));
    // The second check runs nothing: the expected state is the cached model.
    let d = migration_drift(&target, &all, Some("2"), &opts)
        .await
        .unwrap();
    assert!(d.is_empty(), "{:?}", d.lines);
    assert_eq!((d.replay.executed, d.replay.cached), (0, 2));
    let entries = std::fs::read_dir(cache_dir.path().join("replay"))
        .unwrap()
        .count();
    assert!(entries >= 1, "the cache holds the replayed state");
    // Checked against the whole directory, the third file's table is missing from the target.
    let d = migration_drift(&target, &all, None, &opts).await.unwrap();
    assert_eq!(d.lines, ["table \"tags\" dropped"]);

    // Changed by hand: a column added, an index dropped.
    db.exec("ALTER TABLE users ADD COLUMN nickname varchar(20) NULL")
        .await;
    let d = migration_drift(&target, &all, Some("2"), &opts)
        .await
        .unwrap();
    assert_eq!(d.lines, ["table \"users\": column \"nickname\" added"]);
    let drop_index = match db.kind {
        Kind::Mysql => "DROP INDEX users_name ON users",
        _ => "DROP INDEX users_name",
    };
    db.exec(drop_index).await;
    let before = snapshot(&db).await;
    let d = migration_drift(&target, &all, Some("2"), &opts)
        .await
        .unwrap();
    assert_eq!(
        d.lines,
        [
            "table \"users\": index \"users_name\" dropped",
            "table \"users\": column \"nickname\" added"
        ]
    );
    assert_eq!(d.replay.executed, 0, "still from the cache");
    assert_eq!(before, snapshot(&db).await, "the check wrote nothing");

    // A version the directory does not have.
    let e = migration_drift(&target, &all, Some("9"), &opts)
        .await
        .unwrap_err();
    assert!(matches!(e, SchemaError::DriftVersion { .. }), "{e}");

    // The session the check inspects through refuses writes.
    let mut ro = connect_read_only(&target).await.unwrap();
    let write = ro.execute(&format!("DELETE FROM {}", db.rev_table())).await;
    assert!(write.is_err(), "a read-only session wrote");
    let _ = ro.close().await;
    assert_eq!(before, snapshot(&db).await);
}

#[tokio::test]
async fn postgres() {
    let Some(db) = Db::postgres().await else {
        return;
    };
    drift_is_reported_and_nothing_written(db).await;
}

#[tokio::test]
async fn mysql() {
    let Some(db) = Db::mysql().await else { return };
    drift_is_reported_and_nothing_written(db).await;
}

#[tokio::test]
async fn sqlite() {
    let Some(db) = Db::sqlite() else { return };
    drift_is_reported_and_nothing_written(db).await;
}
