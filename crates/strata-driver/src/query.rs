//! The first column of query rows as text, for every dialect (`Driver::query_first_column`).

/// Reads column 0 of `$row` as text: the first of text, whole numbers, floats and bools that decodes.
macro_rules! first_column_text {
    ($row:expr, $dialect:expr) => {{
        use sqlx::{Column as _, Row as _, TypeInfo as _};
        let row = $row;
        if let Ok(v) = row.try_get::<Option<String>, _>(0) {
            Ok(v)
        } else if let Ok(v) = row.try_get::<Option<i64>, _>(0) {
            Ok(v.map(|x| x.to_string()))
        } else if let Ok(v) = row.try_get::<Option<i32>, _>(0) {
            Ok(v.map(|x| x.to_string()))
        } else if let Ok(v) = row.try_get::<Option<i16>, _>(0) {
            Ok(v.map(|x| x.to_string()))
        } else if let Ok(v) = row.try_get::<Option<f64>, _>(0) {
            Ok(v.map(|x| x.to_string()))
        } else if let Ok(v) = row.try_get::<Option<bool>, _>(0) {
            Ok(v.map(|x| x.to_string()))
        } else {
            let ty = row
                .columns()
                .first()
                .map(|c| c.type_info().name().to_owned())
                .unwrap_or_default();
            Err($crate::error::DriverError::Unsupported {
                what: format!("reading a first column of type {ty}"),
                dialect: $dialect,
                hint: "cast the column to text in the query".to_owned(),
            })
        }
    }};
}

pub(crate) use first_column_text;

/// Runs `$sql` with the text `$args` bound in order on `$conn` and reads each row's first column as text: the one
/// body of every dialect's `Driver::query_first_column` (only the connection and row types differ).
macro_rules! query_first_column {
    ($conn:expr, $sql:expr, $args:expr, $dialect:expr) => {{
        let mut q = sqlx::query(sqlx::AssertSqlSafe($sql.to_owned()));
        for a in $args {
            q = q.bind(a.clone());
        }
        let rows = q
            .fetch_all($conn)
            .await
            .map_err($crate::error::DriverError::sql)?;
        rows.iter()
            .map(|row| $crate::query::first_column_text!(row, $dialect))
            .collect()
    }};
}

pub(crate) use query_first_column;
