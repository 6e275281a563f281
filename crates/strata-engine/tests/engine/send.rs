//! The engine's futures are `Send` even where their lifetimes are generic (boxed for a multi-threaded runtime, as
//! the operator's controller does). This file only has to compile: an async closure borrowing the directory under
//! a higher-ranked lifetime (the old lock helper) made `apply` fail here.

use std::future::Future;
use std::pin::Pin;

use strata_engine::report::ApplyReport;
use strata_engine::{
    ApplyOptions, Cancel, EngineError, MigrationDir, Quiet, StatusOptions, StatusReport,
};

type Boxed<'a, T> = Pin<Box<dyn Future<Output = Result<T, EngineError>> + Send + 'a>>;

fn apply_boxed<'a>(
    dir: &'a MigrationDir,
    url: &'a str,
    opts: &'a ApplyOptions,
    cancel: &'a Cancel,
) -> Boxed<'a, ApplyReport> {
    Box::pin(async move { strata_engine::apply(dir, url, opts, &mut Quiet, cancel).await })
}

fn status_boxed<'a>(
    dir: &'a MigrationDir,
    url: &'a str,
    opts: &'a StatusOptions,
) -> Boxed<'a, StatusReport> {
    Box::pin(strata_engine::status(dir, url, opts))
}

#[tokio::test]
async fn apply_and_status_futures_are_send_with_generic_lifetimes() {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", tmp.path().join("send.db").display());
    let files = vec![strata_migrate::MigrationFile::new(
        "1_t.sql",
        b"CREATE TABLE t (id int);\n".to_vec(),
    )];
    let sum = strata_migrate::sum::SumFile::compute(&files).to_bytes();
    let dir = MigrationDir::from_parts("send", files, Some(sum)).unwrap();
    let opts = ApplyOptions {
        connect: strata_engine::ConnectOptions::default().sqlite_lock_dir(tmp.path()),
        ..ApplyOptions::default()
    };
    // Run them on a spawned task of the multi-threaded kind, which requires `Send`.
    let st = StatusOptions {
        connect: opts.connect.clone(),
        ..StatusOptions::default()
    };
    let (d, u, o) = (dir.clone(), url.clone(), opts.clone());
    let cancel = Cancel::new();
    let applied = tokio::spawn(async move { apply_boxed(&d, &u, &o, &cancel).await });
    assert_eq!(applied.await.unwrap().unwrap().applied.len(), 1);
    let status = tokio::spawn(async move { status_boxed(&dir, &url, &st).await });
    let st = status.await.unwrap().unwrap();
    assert!(st.pending.is_empty());
    assert_eq!(st.current.as_deref(), Some("1"));
}
