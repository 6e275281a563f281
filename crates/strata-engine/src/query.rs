//! One query's first column, for a project file's `data "sql"` (the tenants of a `for_each` env).

use strata_driver::DbUrl;

use crate::EngineError;

/// Connects to `url`, runs `sql` with text `args` and returns the first column of each row as text (`None` for
/// NULL), then closes the connection.
pub async fn first_column(
    url: &DbUrl,
    sql: &str,
    args: &[String],
) -> Result<Vec<Option<String>>, EngineError> {
    let mut drv = strata_driver::connect(url).await?;
    let r = drv.query_first_column(sql, args).await;
    let closed = drv.close().await;
    let values = r?;
    closed?;
    Ok(values)
}
