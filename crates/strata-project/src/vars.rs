//! `variable "x" { type = …, default = … }`: types, `--var` values and defaults.

use hcl::Value;
use hcl::edit::Span as _;
use hcl::edit::expr::Expression;
use hcl::edit::structure::Block;

use crate::ProjectError;
use crate::body::check_body;
use crate::eval::{Evaluator, Scope, type_name};
use crate::funcs::parse_number;

/// A variable's declared type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarType {
    /// `string`.
    String,
    /// `number`.
    Number,
    /// `bool`.
    Bool,
    /// `list(T)` (`list` alone: of anything).
    List(Option<Box<VarType>>),
    /// `set(T)`.
    Set(Option<Box<VarType>>),
    /// `map(T)`.
    Map(Option<Box<VarType>>),
}

const VALID: &str = "Valid types are: string, number, bool, list, map, or set";

fn parse_type(e: &Expression, var: &str) -> Result<VarType, String> {
    let invalid = |t: &str| format!("invalid type {t:?} for variable {var:?}. {VALID}");
    match e {
        Expression::Variable(v) => match v.as_str() {
            "string" => Ok(VarType::String),
            "number" => Ok(VarType::Number),
            "bool" => Ok(VarType::Bool),
            "list" => Ok(VarType::List(None)),
            "set" => Ok(VarType::Set(None)),
            "map" => Ok(VarType::Map(None)),
            other => Err(invalid(other)),
        },
        Expression::FuncCall(f) if f.args.len() == 1 && !f.name.is_namespaced() => {
            let inner = f
                .args
                .iter()
                .next()
                .map(|a| parse_type(a, var))
                .transpose()?;
            let inner = inner.map(Box::new);
            match f.name.name.as_str() {
                "list" => Ok(VarType::List(inner)),
                "set" => Ok(VarType::Set(inner)),
                "map" => Ok(VarType::Map(inner)),
                other => Err(invalid(other)),
            }
        }
        _ => Err(invalid(e.to_string().trim())),
    }
}

/// The variable's value: from `--var` (typed by its `type`), else its default, else Atlas's
/// `missing value for required variable "x"`.
pub(crate) fn evaluate(
    ev: &mut Evaluator<'_>,
    block: &Block,
    name: &str,
    given: Option<&[String]>,
) -> Result<Value, ProjectError> {
    check_body(
        ev.text,
        &block.body,
        "variable",
        &["type", "default", "description", "sensitive"],
        &[],
    )?;
    let ty = block
        .body
        .get_attribute("type")
        .map(|a| parse_type(&a.value, name).map_err(|m| ev.err(a.span(), m)))
        .transpose()?;
    if let Some(values) = given {
        return from_input(values, ty.as_ref())
            .map_err(|m| ev.err(block.span(), format!("variable {name:?}: {m}")));
    }
    let Some(default) = block.body.get_attribute("default") else {
        return Err(ProjectError::MissingVariable(name.to_owned()));
    };
    let v = ev.eval(&default.value, &Scope::new())?;
    match &ty {
        Some(t) => convert(v, t)
            .map_err(|m| ev.err(default.span(), format!("variable {name:?}: default: {m}"))),
        None => Ok(v),
    }
}

fn from_input(values: &[String], ty: Option<&VarType>) -> Result<Value, String> {
    let list = || Value::Array(values.iter().map(|s| Value::String(s.clone())).collect());
    match (ty, values) {
        (None, [one]) => Ok(Value::String(one.clone())),
        (None, _) => Ok(list()),
        (Some(t @ (VarType::List(_) | VarType::Set(_))), _) => convert(list(), t),
        (Some(VarType::Map(_)), _) => {
            Err("a map cannot be given with --var; set it as the default".into())
        }
        (Some(t), [one]) => convert(Value::String(one.clone()), t),
        (Some(_), _) => Err(format!(
            "given {} times, but it is not a list",
            values.len()
        )),
    }
}

/// `v` converted to `t`, as HCL converts (strings to numbers and bools, a list to a set without repeats).
fn convert(v: Value, t: &VarType) -> Result<Value, String> {
    let elems = |items: Vec<Value>, inner: &Option<Box<VarType>>| -> Result<Vec<Value>, String> {
        match inner {
            Some(i) => items.into_iter().map(|x| convert(x, i)).collect(),
            None => Ok(items),
        }
    };
    match (t, v) {
        (VarType::String, Value::String(s)) => Ok(Value::String(s)),
        (VarType::String, Value::Number(n)) => Ok(Value::String(n.to_string())),
        (VarType::String, Value::Bool(b)) => Ok(Value::String(b.to_string())),
        (VarType::Number, Value::Number(n)) => Ok(Value::Number(n)),
        (VarType::Number, Value::String(s)) => parse_number(&s).map(Value::Number),
        (VarType::Bool, Value::Bool(b)) => Ok(Value::Bool(b)),
        (VarType::Bool, Value::String(s)) if s == "true" || s == "false" => {
            Ok(Value::Bool(s == "true"))
        }
        (VarType::List(i), Value::Array(a)) => Ok(Value::Array(elems(a, i)?)),
        (VarType::Set(i), Value::Array(a)) => {
            let mut out: Vec<Value> = Vec::new();
            for x in elems(a, i)? {
                if !out.contains(&x) {
                    out.push(x);
                }
            }
            Ok(Value::Array(out))
        }
        (VarType::Map(i), Value::Object(m)) => {
            let mut out = hcl::Map::new();
            for (k, x) in m {
                out.insert(
                    k,
                    match i {
                        Some(i) => convert(x, i)?,
                        None => x,
                    },
                );
            }
            Ok(Value::Object(out))
        }
        (_, Value::Null) => Ok(Value::Null),
        (t, v) => Err(format!("expected {}, got {}", type_label(t), type_name(&v))),
    }
}

fn type_label(t: &VarType) -> &'static str {
    match t {
        VarType::String => "string",
        VarType::Number => "number",
        VarType::Bool => "bool",
        VarType::List(_) => "list",
        VarType::Set(_) => "set",
        VarType::Map(_) => "map",
    }
}
