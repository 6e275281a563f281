//! (12) Bad input: every failure is a clear error, and no password ever shows in an error's Display or Debug.

use std::time::Duration;

use strata_driver::DriverError;
use strata_engine::{ApplyOptions, Cancel, EngineError, Quiet, SetOptions, StatusOptions};
use strata_migrate::DirError;
use strata_migrate::plan::PlanError;

use crate::common::{Db, dir};
use crate::scenarios::{F1, password_of};

/// Runs apply, status and set against `url` and returns their errors. A URL that does not parse fails where it
/// enters, before any of them runs (as at the front ends' edge): that one error is returned.
async fn all_fail(url: &str) -> Vec<EngineError> {
    let url = &match url.parse::<strata_driver::DbUrl>() {
        Ok(url) => url,
        Err(e) => return vec![EngineError::Driver(e)],
    };
    let d = dir(&[("1_a.sql", F1)]);
    let lock_dir = tempfile::tempdir().unwrap();
    let connect = strata_engine::ConnectOptions::default().sqlite_lock_dir(lock_dir.path());
    let apply = strata_engine::apply(
        &d,
        url,
        &ApplyOptions {
            connect: connect.clone(),
            ..ApplyOptions::default()
        },
        &mut Quiet,
        &Cancel::new(),
    )
    .await
    .expect_err("apply must fail");
    let status = strata_engine::status(
        &d,
        url,
        &StatusOptions {
            connect: connect.clone(),
            ..StatusOptions::default()
        },
    )
    .await
    .expect_err("status must fail");
    let set = strata_engine::set(
        &d,
        url,
        Some("1"),
        &SetOptions {
            connect,
            ..SetOptions::default()
        },
    )
    .await
    .expect_err("set must fail");
    vec![apply, status, set]
}

fn assert_hidden(errors: &[EngineError], secrets: &[&str]) {
    for e in errors {
        let (display, debug) = (e.to_string(), format!("{e:?}"));
        for s in secrets {
            assert!(!display.contains(s), "password in Display: {display}");
            assert!(!debug.contains(s), "password in Debug: {debug}");
        }
    }
}

fn connect_error(e: &EngineError) -> &DriverError {
    match e {
        EngineError::Driver(d @ DriverError::Connect { .. }) => d,
        other => panic!("want a connect error, got {other:?}"),
    }
}

#[tokio::test]
async fn unreachable_servers() {
    for (url, shown, hint) in [
        (
            "postgres://postgres:s3cr3t-pg-pw@127.0.0.1:1/app?sslmode=disable",
            "postgres://postgres:xxxxx@127.0.0.1:1/app?sslmode=disable",
            "check that PostgreSQL is running and reachable at 127.0.0.1:1",
        ),
        (
            "mysql://root:s3cr3t-my-pw@127.0.0.1:1/app",
            "mysql://root:xxxxx@127.0.0.1:1/app",
            "check that MySQL/MariaDB is running and reachable at 127.0.0.1:1",
        ),
        (
            "maria://root:s3cr3t-my-pw@127.0.0.1:1/app",
            "maria://root:xxxxx@127.0.0.1:1/app",
            "reachable at 127.0.0.1:1",
        ),
    ] {
        let errors = all_fail(url).await;
        for e in &errors {
            connect_error(e);
            let msg = e.to_string();
            assert!(
                msg.starts_with(&format!("connecting to {shown}: ")),
                "{msg}"
            );
            assert!(msg.contains(hint), "{msg}");
        }
        assert_hidden(&errors, &["s3cr3t-pg-pw", "s3cr3t-my-pw"]);
    }
}

#[tokio::test]
async fn sqlite_file_in_a_missing_directory() {
    let dir_ = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/no/such/dir/app.db", dir_.path().display());
    for e in all_fail(&url).await {
        connect_error(&e);
        assert!(e.to_string().contains("app.db"), "{e}");
    }
}

#[tokio::test]
async fn wrong_password() {
    let Some(db) = Db::mysql().await else { return };
    let real = password_of(db.url()).expect("the test user has a password");
    let wrong = db.url().replace(&real, "Wr0ng-Passw0rd");
    let errors = all_fail(&wrong).await;
    for e in &errors {
        connect_error(e);
        let msg = e.to_string();
        assert!(msg.contains("Access denied"), "{msg}");
        assert!(
            msg.contains("check the user name and password in the URL"),
            "{msg}"
        );
        assert!(msg.contains(":xxxxx@"), "{msg}");
    }
    assert_hidden(&errors, &["Wr0ng-Passw0rd", &real]);

    // Right password, database the user may not use: still no password in the error.
    let other = format!("{}_nope", db.url());
    let errors = all_fail(&other).await;
    for e in &errors {
        connect_error(e);
    }
    assert_hidden(&errors, &[&real]);
}

#[tokio::test]
async fn unknown_scheme() {
    for url in [
        "oracle://scott:tiger-pw@h/db",
        "tiger-pw",
        "file:///tmp/x.db",
    ] {
        let errors = all_fail(url).await;
        for e in &errors {
            assert!(
                matches!(e, EngineError::Driver(DriverError::UnknownScheme { .. })),
                "{url}: {e:?}"
            );
            assert!(e.to_string().contains("postgres://"), "{e}");
        }
        assert_hidden(&errors, &["tiger-pw"]);
    }
}

#[tokio::test]
async fn malformed_urls() {
    for (url, field) in [
        ("postgres://u:tiger-pw@127.0.0.1:notaport/db", "port"),
        ("mysql://u:tiger-pw@127.0.0.1:99999/db", "port"),
        (
            "postgres://u:tiger-pw@127.0.0.1/db?sslmode=sometimes",
            "sslmode",
        ),
        ("mysql://u:tiger-pw@127.0.0.1/db%zz", "path"),
        ("postgres://u:tiger-pw@[::1/db", "host"),
        ("mysql://u:tiger-pw%zz@127.0.0.1/db", "password"),
    ] {
        let errors = all_fail(url).await;
        for e in &errors {
            let EngineError::Driver(DriverError::InvalidUrl { field: f, .. }) = e else {
                panic!("{url}: want an invalid-URL error, got {e:?}")
            };
            if !field.is_empty() {
                assert_eq!(f, field, "{url}: {e}");
            }
            assert!(e.to_string().starts_with("invalid database URL "), "{e}");
        }
        assert_hidden(&errors, &["tiger-pw"]);
    }
}

#[tokio::test]
async fn a_nul_byte_fails_apply_on_sqlite_and_releases_the_lock() {
    // Once: the NUL byte reached SQLite, whose driver spun on it forever while holding the migration lock.
    let Some(db) = Db::sqlite() else { return };
    let a = ("1_a.sql", "CREATE TABLE a (id int);\n");
    let d = dir(&[a, ("2_b.sql", "CREATE TABLE b (id int);\n\0")]);
    for run in [
        tokio::time::timeout(Duration::from_secs(60), async {
            db.apply(&d).await.map(|_| ())
        })
        .await,
        tokio::time::timeout(Duration::from_secs(60), async {
            db.status(&d).await.map(|_| ())
        })
        .await,
    ] {
        let e = run
            .expect("the run hung on a NUL byte")
            .expect_err("a NUL byte must fail");
        let (EngineError::Dir(dir_error) | EngineError::Plan(PlanError::Dir(dir_error))) = &e
        else {
            panic!("want the directory's error, got {e:?}")
        };
        assert!(
            matches!(dir_error, DirError::NulByte { file, line: 2, column: 1 } if file == "2_b.sql"),
            "{e:?}"
        );
    }
    assert!(
        !db.has_table("a").await,
        "nothing runs before every pending file is checked"
    );
    // The lock was released: without the NUL byte the run goes through at once.
    let fixed = dir(&[a, ("2_b.sql", "CREATE TABLE b (id int);\n")]);
    let opts = ApplyOptions {
        lock_timeout: Duration::from_secs(1),
        ..db.apply_opts()
    };
    let report = db.apply_with(&fixed, &opts).await.unwrap();
    assert_eq!(report.applied.len(), 2);
    assert!(db.has_table("b").await);
}
