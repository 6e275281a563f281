//! PostgreSQL's one-round-trip paths (the single catalog query of `ensure_revisions_table`) behave exactly like
//! the step-by-step calls they replace.

use strata_driver::{RevisionsLocation, connect};

use crate::common::revision;
use crate::pg_db;

async fn rows(db_url: &str, sql: &str) -> Vec<String> {
    use sqlx::{Connection, Row};
    let mut c = sqlx::PgConnection::connect(db_url).await.unwrap();
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_all(&mut c)
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            r.try_get::<Option<String>, _>(0)
                .unwrap()
                .unwrap_or_else(|| "<NULL>".into())
        })
        .collect()
}

#[tokio::test]
async fn ensure_sees_columns_as_information_schema_does() {
    let db = pg_db!();
    let mut d = connect(&db.url).await.unwrap();
    let loc = RevisionsLocation::new("atlas_schema_revisions");
    // An older table: two columns missing, one dropped.
    d.execute(
        "CREATE SCHEMA atlas_schema_revisions; CREATE TABLE atlas_schema_revisions.atlas_schema_revisions (\
         version character varying NOT NULL PRIMARY KEY, description character varying NOT NULL, \
         type bigint NOT NULL DEFAULT 2, applied bigint NOT NULL DEFAULT 0, total bigint NOT NULL DEFAULT 0, \
         executed_at timestamptz NOT NULL, execution_time bigint NOT NULL, error text NULL, \
         error_stmt text NULL, hash character varying NOT NULL, operator_version int); \
         ALTER TABLE atlas_schema_revisions.atlas_schema_revisions DROP COLUMN operator_version",
    )
    .await
    .unwrap();
    d.ensure_revisions_table(&loc).await.unwrap();
    d.ensure_revisions_table(&loc).await.unwrap();
    let cols = rows(
        &db.url,
        "SELECT column_name || ' ' || data_type FROM information_schema.columns \
         WHERE table_schema = 'atlas_schema_revisions' AND table_name = 'atlas_schema_revisions' \
         ORDER BY ordinal_position",
    )
    .await;
    assert_eq!(
        cols,
        [
            "version character varying",
            "description character varying",
            "type bigint",
            "applied bigint",
            "total bigint",
            "executed_at timestamp with time zone",
            "execution_time bigint",
            "error text",
            "error_stmt text",
            "hash character varying",
            "partial_hashes jsonb",
            "operator_version character varying",
        ]
    );
    assert!(d.ensure_revisions_table_existed(&loc).await.unwrap());
    // Names that need quoting as literals.
    let odd = RevisionsLocation::new("o'dd \\ schema");
    assert!(!d.ensure_revisions_table_existed(&odd).await.unwrap());
    assert!(d.ensure_revisions_table_existed(&odd).await.unwrap());
    assert!(d.revisions_table_exists(&odd).await.unwrap());
    d.upsert_revision(&odd, &revision("1")).await.unwrap();
    assert_eq!(d.read_revisions(&odd).await.unwrap().len(), 1);
}
