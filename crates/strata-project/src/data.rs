//! Data sources (`data "<kind>" "<name>" { … }`), run when first referenced.
//!
//! | kind | attributes | value |
//! |---|---|---|
//! | `external_schema` | `program = [...]`, `working_dir` | `{ url }`: the program's stdout is the desired schema as SQL |
//! | `external` | `program = [...]`, `working_dir` | the program's stdout (one trailing line end removed) |
//! | `sql` | `url`, `query`, `args = [...]` | `{ count, values, value }`: the first column of each row, `value` the first |
//!
//! Atlas's community build refuses `external_schema`; Strata runs it. Programs run through [`crate::Host`].

use hcl::edit::Span as _;
use hcl::edit::structure::Block;
use hcl::{Map, Value};

use crate::ProjectError;
use crate::body::check_body;
use crate::eval::{Evaluator, ExternalSchema, Scope, external_schema_url};

/// Kinds Atlas has that Strata does not run (yet): named so the error says so instead of "unknown".
const NOT_YET: &[&str] = &[
    "runtimevar",
    "hcl_schema",
    "template_dir",
    "aws_rds_token",
    "gcp_cloudsql_token",
    "composite_schema",
    "remote_dir",
    "remote_schema",
];

pub(crate) fn evaluate(
    ev: &mut Evaluator<'_>,
    kind: &str,
    name: &str,
    block: &Block,
) -> Result<Value, ProjectError> {
    match kind {
        "external_schema" | "external" => {
            check_body(
                ev.text,
                &block.body,
                "data",
                &["program", "working_dir"],
                &[],
            )?;
            let Some(program) = block.body.get_attribute("program") else {
                return Err(ev.err(
                    block.span(),
                    format!("data {kind:?} {name:?}: missing required attribute \"program\""),
                ));
            };
            let scope = Scope::new();
            let argv = match ev.eval(&program.value, &scope)? {
                Value::Array(items) => items
                    .into_iter()
                    .map(|v| ev.string(v, program.value.span(), "program"))
                    .collect::<Result<Vec<_>, _>>()?,
                other => vec![ev.string(other, program.value.span(), "program")?],
            };
            if argv.is_empty() {
                return Err(ev.err(
                    program.span(),
                    "program: the list is empty; name the program to run",
                ));
            }
            let dir = match block.body.get_attribute("working_dir") {
                Some(wd) => {
                    let v = ev.eval(&wd.value, &scope)?;
                    ev.dir.join(ev.string(v, wd.value.span(), "working_dir")?)
                }
                None => ev.dir.to_path_buf(),
            };
            let stdout = ev.host.run_program(&argv, &dir).map_err(|e| {
                ev.err(
                    block.span(),
                    format!("data {kind:?} {name:?}: running {:?}: {e}", argv[0]),
                )
            })?;
            if kind == "external" {
                let out = stdout
                    .strip_suffix('\n')
                    .map(|s| s.strip_suffix('\r').unwrap_or(s))
                    .unwrap_or(&stdout);
                return Ok(Value::String(out.to_owned()));
            }
            ev.externals.push(ExternalSchema {
                name: name.to_owned(),
                sql: stdout,
            });
            let mut m = Map::new();
            m.insert("url".to_owned(), Value::String(external_schema_url(name)));
            Ok(Value::Object(m))
        }
        "sql" => {
            check_body(ev.text, &block.body, "data", &["url", "query", "args"], &[])?;
            let scope = Scope::new();
            let mut get = |key: &str| -> Result<Option<String>, ProjectError> {
                match block.body.get_attribute(key) {
                    Some(a) => {
                        let v = ev.eval(&a.value, &scope)?;
                        Ok(Some(ev.string(v, a.value.span(), key)?))
                    }
                    None => Ok(None),
                }
            };
            let (Some(url), Some(query)) = (get("url")?, get("query")?) else {
                return Err(ev.err(
                    block.span(),
                    format!("data \"sql\" {name:?}: url and query are required"),
                ));
            };
            let args = match block.body.get_attribute("args") {
                Some(a) => match ev.eval(&a.value, &scope)? {
                    Value::Array(items) => items
                        .into_iter()
                        .map(|v| ev.string(v, a.value.span(), "args"))
                        .collect::<Result<Vec<_>, _>>()?,
                    other => vec![ev.string(other, a.value.span(), "args")?],
                },
                None => Vec::new(),
            };
            let values = ev
                .host
                .query(&url, &query, &args)
                .map_err(|e| ev.err(block.span(), format!("data \"sql\" {name:?}: {e}")))?;
            let values: Vec<Value> = values
                .into_iter()
                .map(|v| v.map_or(Value::Null, Value::String))
                .collect();
            let mut m = Map::new();
            m.insert("count".to_owned(), Value::from(values.len() as u64));
            m.insert(
                "value".to_owned(),
                values.first().cloned().unwrap_or(Value::Null),
            );
            m.insert("values".to_owned(), Value::Array(values));
            Ok(Value::Object(m))
        }
        k if NOT_YET.contains(&k) => Err(ev.err(
            block.span(),
            format!("data source {k:?} is not supported by Strata yet"),
        )),
        k => Err(ev.err(
            block.span(),
            format!("missing data source handler for {k:?}"),
        )),
    }
}
