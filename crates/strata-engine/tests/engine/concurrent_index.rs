//! `diff.concurrent_index` on PostgreSQL end to end: the plan builds and drops indexes of existing tables
//! `CONCURRENTLY` outside the transaction (PostgreSQL refuses them inside one, so a success proves where they ran),
//! keeps every row, and a failed concurrent build leaves no invalid index behind while what committed before it
//! stays and is reported.

use sqlx::Connection as _;
use strata_driver::DbUrl;
use strata_engine::TxMode;
use strata_engine::schema::{
    ConcurrentIndex, SchemaDiffOptions, SchemaError, Source, apply_plan, schema_diff,
};

const BOTH: ConcurrentIndex = ConcurrentIndex {
    create: true,
    drop: true,
};

fn desired(dir: &std::path::Path, sql: &str) -> Source {
    let p = dir.join("schema.sql");
    std::fs::write(&p, sql).unwrap();
    Source::parse(&format!("file://{}", p.display())).unwrap()
}

/// `(index name, valid)` of every index of `public.t`, by name.
async fn indexes(url: &str) -> Vec<(String, bool)> {
    let mut c = sqlx::PgConnection::connect(url).await.unwrap();
    let rows: Vec<(String, bool)> = sqlx::query_as(
        "SELECT c.relname::text, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         WHERE i.indrelid = 'public.t'::regclass ORDER BY 1",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    c.close().await.unwrap();
    rows
}

async fn count(url: &str) -> i64 {
    let mut c = sqlx::PgConnection::connect(url).await.unwrap();
    let n = sqlx::query_scalar("SELECT count(*) FROM public.t")
        .fetch_one(&mut c)
        .await
        .unwrap();
    c.close().await.unwrap();
    n
}

#[tokio::test]
async fn concurrent_index_changes_run_outside_the_transaction_and_clean_up_a_failed_build() {
    let (Some(db), Some(dev)) = (
        strata_driver::testing::postgres().await,
        strata_driver::testing::postgres().await,
    ) else {
        return;
    };
    let target: DbUrl = db.url_with_search_path("public").parse().unwrap();
    let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
    for sql in [
        "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL)",
        "CREATE INDEX t_old ON t (id, v)",
        "INSERT INTO t SELECT g, g % 10 FROM generate_series(1, 1000) g",
    ] {
        sqlx::query(sql).execute(&mut c).await.unwrap();
    }
    c.close().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dev_url: DbUrl = dev.url_with_search_path("public").parse().unwrap();
    let opts = SchemaDiffOptions::default()
        .dev_url(Some(dev_url))
        .concurrent_index(BOTH);
    let from = Source::from(target.clone());

    // 1. A new index on the existing table, the old one dropped, a new table with its own index.
    let v2 = "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL);\n\
              CREATE INDEX t_v ON t (v);\n\
              CREATE TABLE n (id int NOT NULL);\n\
              CREATE INDEX n_id ON n (id);\n";
    let plan = schema_diff(&from, &desired(dir.path(), v2), &opts)
        .await
        .unwrap();
    let sql = plan.to_sql();
    assert!(sql.contains("CREATE INDEX CONCURRENTLY \"t_v\""), "{sql}");
    assert!(sql.contains("DROP INDEX CONCURRENTLY \"t_old\""), "{sql}");
    assert!(sql.contains("CREATE INDEX \"n_id\""), "{sql}");
    let report = apply_plan(&target, &plan, TxMode::File).await.unwrap();
    assert_eq!(report.applied.len(), plan.statements.len());
    assert_eq!(
        indexes(&db.url).await,
        vec![("t_pkey".into(), true), ("t_v".into(), true)]
    );
    assert_eq!(count(&db.url).await, 1000);
    let again = schema_diff(&from, &desired(dir.path(), v2), &opts)
        .await
        .unwrap();
    assert!(again.is_empty(), "{}", again.to_sql());

    // 2. A column (in a transaction) then a unique index the rows violate: the build fails, its invalid index
    //    is dropped, the column stays, and the report says which statements ran.
    let v3 = format!(
        "{}CREATE UNIQUE INDEX t_u ON t (v);\n",
        v2.replace("v int NOT NULL)", "v int NOT NULL, w int)")
    );
    let plan = schema_diff(&from, &desired(dir.path(), &v3), &opts)
        .await
        .unwrap();
    assert_eq!(plan.statements.len(), 2, "{}", plan.to_sql());
    let err = apply_plan(&target, &plan, TxMode::File).await.unwrap_err();
    let SchemaError::Execution(report) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(report.applied, vec![plan.statements[0].sql.clone()]);
    assert_eq!(report.pending, vec![plan.statements[1].sql.clone()]);
    let text = err.to_string();
    assert!(
        text.contains("create index \"t_u\"")
            && text.contains("1 statement(s) before it were applied"),
        "{text}"
    );
    assert!(text.contains("half-built was removed"), "{text}");
    assert_eq!(
        indexes(&db.url).await,
        vec![("t_pkey".into(), true), ("t_v".into(), true)],
        "the failed build's invalid index must be gone"
    );
    // The next plan still wants the index: nothing claims it exists.
    let next = schema_diff(&from, &desired(dir.path(), &v3), &opts)
        .await
        .unwrap();
    assert_eq!(next.statements.len(), 1, "{}", next.to_sql());
    assert!(
        next.statements[0]
            .sql
            .starts_with("CREATE UNIQUE INDEX CONCURRENTLY")
    );

    // 3. The cleanup drops an index only when it is invalid: a valid one of that name stays.
    let cleanup = next.statements[0].cleanup.clone().unwrap();
    let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::query("CREATE INDEX t_u ON t (w)")
        .execute(&mut c)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(cleanup))
        .execute(&mut c)
        .await
        .unwrap();
    c.close().await.unwrap();
    assert!(indexes(&db.url).await.contains(&("t_u".into(), true)));
}
