//! `apply::open_session_while`: the directory is read while the session opens; the directory's error wins and
//! leaves the lock free; a valid directory gets its checked `atlas.sum` and a session that applies.

use std::time::Duration;

use strata_engine::apply::{self, DirFailed, Opened};
use strata_engine::{ApplyOptions, Cancel, Quiet};
use strata_migrate::MigrationDir;

use crate::common::{Db, dir};
use crate::scenarios::{F1, F2};

fn short_wait(db: &Db) -> ApplyOptions {
    ApplyOptions {
        lock_timeout: Duration::from_secs(10),
        ..db.apply_opts()
    }
}

/// The lock was released: another session takes it. (Not at once: MariaDB's named lock is server-wide, and tests
/// running in parallel take it too.)
async fn lock_is_free(db: &Db) {
    let s = apply::open_session(&db.db_url(), &short_wait(db))
        .await
        .unwrap();
    s.close().await.unwrap();
}

async fn directory_error_wins_and_valid_directory_applies(db: &Db) {
    let opts = db.apply_opts();
    // A slow directory that fails: the session is ready first and is closed.
    let slow_failure = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        Err::<MigrationDir, _>("no such directory")
    };
    let err = apply::open_session_while(&db.db_url(), &opts, slow_failure)
        .await
        .unwrap_err();
    assert!(
        matches!(err, DirFailed::Load("no such directory")),
        "{err:?}"
    );
    lock_is_free(db).await;

    // A directory whose atlas.sum does not match.
    let mut broken = dir(&[("1_a.sql", F1)]);
    broken = MigrationDir::from_parts(
        "file://migrations",
        broken.files().to_vec(),
        Some(b"h1:AAAA\n1_a.sql h1:AAAA\n".to_vec()),
    )
    .unwrap();
    let err = apply::open_session_while(&db.db_url(), &opts, async { Ok::<_, ()>(broken) })
        .await
        .unwrap_err();
    assert!(matches!(err, DirFailed::Sum(_)), "{err:?}");
    lock_is_free(db).await;
    assert!(!db.has_revisions_table().await, "nothing was written");

    // A valid directory.
    let d = dir(&[("1_a.sql", F1), ("2_b.sql", F2)]);
    let Opened {
        source,
        sum,
        session,
    } = apply::open_session_while(&db.db_url(), &opts, async { Ok::<_, ()>(d) })
        .await
        .unwrap();
    let r = apply::apply_on(
        session.unwrap(),
        &source,
        &sum,
        &opts,
        &mut Quiet,
        &Cancel::new(),
    )
    .await
    .unwrap();
    assert_eq!(r.applied.len(), 2);
    lock_is_free(db).await;
}

#[tokio::test]
async fn postgres_directory_error_wins_and_valid_directory_applies() {
    let Some(db) = Db::postgres().await else {
        return;
    };
    directory_error_wins_and_valid_directory_applies(&db).await;
}

#[tokio::test]
async fn mysql_directory_error_wins_and_valid_directory_applies() {
    let Some(db) = Db::mysql().await else {
        return;
    };
    directory_error_wins_and_valid_directory_applies(&db).await;
}

#[tokio::test]
async fn sqlite_directory_error_wins_and_valid_directory_applies() {
    let Some(db) = Db::sqlite() else {
        return;
    };
    directory_error_wins_and_valid_directory_applies(&db).await;
}

/// SQLite: the directory is checked before the database is opened, since opening creates the file.
#[tokio::test]
async fn sqlite_invalid_directory_creates_no_database_file() {
    let t = tempfile::tempdir().unwrap();
    let file = t.path().join("new.db");
    let url = format!("sqlite://{}", file.display());
    let opts = ApplyOptions {
        connect: strata_engine::ConnectOptions::default().sqlite_lock_dir(t.path()),
        ..ApplyOptions::default()
    };
    let err = apply::open_session_while(
        &url.parse::<strata_driver::DbUrl>().unwrap(),
        &opts,
        async { Err::<MigrationDir, _>("broken") },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, DirFailed::Load("broken")), "{err:?}");
    assert!(!file.exists());
}
