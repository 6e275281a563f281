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
    url: &'a strata_engine::DbUrl,
    opts: &'a ApplyOptions,
    cancel: &'a Cancel,
) -> Boxed<'a, ApplyReport> {
    Box::pin(async move { strata_engine::apply(dir, url, opts, &mut Quiet, cancel).await })
}

fn status_boxed<'a>(
    dir: &'a MigrationDir,
    url: &'a strata_engine::DbUrl,
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
    let applied = tokio::spawn(async move {
        apply_boxed(&d, &u.parse::<strata_driver::DbUrl>().unwrap(), &o, &cancel).await
    });
    assert_eq!(applied.await.unwrap().unwrap().applied.len(), 1);
    let status = tokio::spawn(async move {
        status_boxed(&dir, &url.parse::<strata_driver::DbUrl>().unwrap(), &st).await
    });
    let st = status.await.unwrap().unwrap();
    assert!(st.pending.is_empty());
    assert_eq!(st.current.as_deref(), Some("1"));
}

type SchemaBoxed<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, strata_engine::schema::SchemaError>> + Send + 'a>>;

fn schema_diff_boxed<'a>(
    from: &'a strata_engine::schema::Source,
    to: &'a strata_engine::schema::Source,
    opts: &'a strata_engine::schema::SchemaDiffOptions,
) -> SchemaBoxed<'a, strata_engine::schema::Plan> {
    Box::pin(strata_engine::schema::schema_diff(from, to, opts))
}

fn apply_plan_boxed<'a>(
    url: &'a strata_engine::DbUrl,
    plan: &'a strata_engine::schema::Plan,
) -> SchemaBoxed<'a, strata_engine::schema::SchemaApplyReport> {
    Box::pin(strata_engine::schema::apply_plan(
        url,
        plan,
        strata_engine::TxMode::File,
    ))
}

/// The schema engine's futures too (the `AtlasSchema` reconcile will run them on the controller's runtime).
#[tokio::test]
async fn schema_futures_are_send() {
    let tmp = tempfile::tempdir().unwrap();
    let url: strata_engine::DbUrl = format!("sqlite://{}", tmp.path().join("s.db").display())
        .parse()
        .unwrap();
    std::fs::write(tmp.path().join("s.sql"), "CREATE TABLE t (id int);\n").unwrap();
    let to = strata_engine::schema::Source::parse(&format!(
        "file://{}",
        tmp.path().join("s.sql").display()
    ))
    .unwrap();
    let applied = tokio::spawn(async move {
        let from = strata_engine::schema::Source::from(url.clone());
        let plan = schema_diff_boxed(&from, &to, &Default::default()).await?;
        apply_plan_boxed(&url, &plan).await
    });
    assert_eq!(applied.await.unwrap().unwrap().applied.len(), 1);
}
