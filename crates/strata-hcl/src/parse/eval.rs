//! Values: input variables, locals, the function library and `each`, evaluated with `hcl-rs`.

use std::collections::BTreeMap;

use hcl::Value;
use hcl::edit::Span as _;
use hcl::edit::expr::{Expression, TraversalOperator};
use hcl::edit::structure::{Attribute, Block};
use hcl::edit::visit::{Visit, visit_traversal};
use hcl::eval::{Context, Evaluate as _};

use super::src::Source;
use super::{ErrorKind, HclError, Vars};

/// The key of the object `sql("…")` returns: a raw SQL expression, told apart from a string literal.
const SQL_KEY: &str = "__strata_sql";

/// The raw SQL of a `sql("…")` value.
pub(super) fn as_sql(v: &Value) -> Option<&str> {
    match v {
        Value::Object(m) if m.len() == 1 => m.get(SQL_KEY).and_then(Value::as_str),
        _ => None,
    }
}

/// `sql(expr)`: a raw SQL expression (defaults, `ON UPDATE`).
pub(super) fn sql_value(s: &str) -> Value {
    let mut m = hcl::Map::new();
    m.insert(SQL_KEY.to_owned(), Value::String(s.to_owned()));
    Value::Object(m)
}

/// Everything an expression may name: `var`, `local` and the functions.
pub(super) struct Scope {
    ctx: Context<'static>,
}

impl Scope {
    /// Evaluates the variables and locals of all files.
    pub fn new(srcs: &[Source], input: &Vars) -> Result<Scope, HclError> {
        let mut ctx = Context::new();
        super::funcs::declare(&mut ctx);
        let vars = variables(srcs, input, &ctx)?;
        ctx.declare_var("var", Value::Object(vars.into_iter().collect()));
        locals(srcs, &mut ctx)?;
        Ok(Scope { ctx })
    }

    /// The context without `each`.
    pub fn base(&self) -> &Context<'static> {
        &self.ctx
    }
}

/// Evaluates an expression of `src` in `ctx`.
pub(super) fn eval(ctx: &Context<'_>, src: &Source, expr: &Expression) -> Result<Value, HclError> {
    let e: hcl::Expression = expr.clone().into();
    e.evaluate(ctx).map_err(|errs| {
        let message = explain(&errs);
        src.err(expr.span(), ErrorKind::Eval(message))
    })
}

/// One evaluation error in the schema author's terms.
fn explain(e: &hcl::eval::Error) -> String {
    use hcl::eval::ErrorKind as K;
    let within = e.expr().map(ToString::to_string).unwrap_or_default();
    match e.kind() {
        K::NoSuchKey(k) if within.starts_with("var.") => {
            format!(
                "variable {k:?} is not declared: add variable \"{k}\" {{ type = string }} (or fix the name)"
            )
        }
        K::NoSuchKey(k) if within.starts_with("local.") => {
            format!("local {k:?} is not defined: add it to a locals block (or fix the name)")
        }
        K::UndefinedVar(v) if v.as_str() == "each" => {
            "each.key and each.value exist only inside a block with for_each".to_owned()
        }
        K::UndefinedVar(v) => format!(
            "unknown name {v}: values come from var.NAME, local.NAME and each.key/each.value (a reference to \
             a block, like column.id, only works where the attribute takes one)"
        ),
        K::UndefinedFunc(f) => format!(
            "unknown function {f}(): use sql(\"…\") or a function of Atlas's library (format, join, lower, \
             upper, replace, split, concat, merge, toset, …)"
        ),
        _ => format!("cannot evaluate this expression: {e}"),
    }
}

/// A variable's declared type.
#[derive(Debug, Clone)]
enum VarType {
    String,
    Number,
    Bool,
    Any,
    List(Box<VarType>),
    Set(Box<VarType>),
    Map(Box<VarType>),
}

fn var_type(expr: &Expression) -> Result<VarType, String> {
    let simple = |name: &str| match name {
        "string" => Some(VarType::String),
        "number" => Some(VarType::Number),
        "bool" => Some(VarType::Bool),
        "any" => Some(VarType::Any),
        "list" => Some(VarType::List(Box::new(VarType::Any))),
        "set" => Some(VarType::Set(Box::new(VarType::Any))),
        "map" => Some(VarType::Map(Box::new(VarType::Any))),
        _ => None,
    };
    match expr {
        Expression::Variable(v) => simple(v.as_str()).ok_or_else(|| v.as_str().to_owned()),
        Expression::FuncCall(f) if f.name.namespace.is_empty() => {
            let name = f.name.name.as_str();
            let args: Vec<&Expression> = f.args.iter().collect();
            let elem = match args.as_slice() {
                [one] => var_type(one)?,
                _ => return Err(format!("{name}(…)")),
            };
            match name {
                "list" => Ok(VarType::List(Box::new(elem))),
                "set" => Ok(VarType::Set(Box::new(elem))),
                "map" => Ok(VarType::Map(Box::new(elem))),
                other => Err(format!("{other}(…)")),
            }
        }
        Expression::String(s) => Err(s.as_str().to_owned()),
        _ => Err("an expression".to_owned()),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

/// `v` converted to `ty` (strings to numbers and bools where they read as one; a single value to a list).
fn convert(v: Value, ty: &VarType) -> Result<Value, String> {
    match (ty, v) {
        (VarType::Any, v) => Ok(v),
        (VarType::String, Value::String(s)) => Ok(Value::String(s)),
        (VarType::String, Value::Number(n)) => Ok(Value::String(n.to_string())),
        (VarType::String, Value::Bool(b)) => Ok(Value::String(b.to_string())),
        (VarType::Number, Value::Number(n)) => Ok(Value::Number(n)),
        (VarType::Number, Value::String(s)) => number(&s)
            .map(Value::Number)
            .ok_or_else(|| format!("{s:?} is not a number")),
        (VarType::Bool, Value::Bool(b)) => Ok(Value::Bool(b)),
        (VarType::Bool, Value::String(s)) if s == "true" || s == "false" => {
            Ok(Value::Bool(s == "true"))
        }
        (VarType::List(e) | VarType::Set(e), Value::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                let c = convert(i, e)?;
                if matches!(ty, VarType::List(_)) || !out.contains(&c) {
                    out.push(c);
                }
            }
            Ok(Value::Array(out))
        }
        (
            VarType::List(e) | VarType::Set(e),
            v @ (Value::String(_) | Value::Number(_) | Value::Bool(_)),
        ) => Ok(Value::Array(vec![convert(v, e)?])),
        (VarType::Map(e), Value::Object(m)) => m
            .into_iter()
            .map(|(k, v)| Ok((k, convert(v, e)?)))
            .collect::<Result<hcl::Map<_, _>, String>>()
            .map(Value::Object),
        (ty, v) => Err(format!("expected {}, got {}", type_name(ty), kind_of(&v))),
    }
}

fn type_name(ty: &VarType) -> &'static str {
    match ty {
        VarType::String => "a string",
        VarType::Number => "a number",
        VarType::Bool => "a bool",
        VarType::Any => "any value",
        VarType::List(_) => "a list",
        VarType::Set(_) => "a set",
        VarType::Map(_) => "a map",
    }
}

/// A number written as text (`42`, `-1`, `1.5`).
pub(super) fn number(s: &str) -> Option<hcl::Number> {
    let s = s.trim();
    if let Ok(i) = s.parse::<i64>() {
        return Some(hcl::Number::from(i));
    }
    s.parse::<f64>().ok().and_then(hcl::Number::from_f64)
}

fn label_count_err(src: &Source, b: &Block, expected: &'static str) -> HclError {
    src.err(
        b.ident.span(),
        ErrorKind::Labels {
            block: format!("{} block", b.ident.as_str()),
            expected,
            found: b.labels.len(),
        },
    )
}

fn variables(
    srcs: &[Source],
    input: &Vars,
    ctx: &Context<'_>,
) -> Result<BTreeMap<String, Value>, HclError> {
    let mut out = BTreeMap::new();
    let mut first: BTreeMap<String, String> = BTreeMap::new();
    for src in srcs {
        for b in src.body.blocks().filter(|b| b.ident.as_str() == "variable") {
            let [label] = b.labels.as_slice() else {
                return Err(label_count_err(src, b, "one label (the variable's name)"));
            };
            let name = label.as_str().to_owned();
            if let Some(f) = first.get(&name) {
                return Err(src.err(
                    b.span(),
                    ErrorKind::Duplicate {
                        kind: "variable",
                        name,
                        first: f.clone(),
                    },
                ));
            }
            first.insert(name.clone(), src.at(b.span()));
            if let Some(inner) = b.body.blocks().next() {
                return Err(src.err(
                    inner.span(),
                    ErrorKind::UnknownBlock {
                        name: inner.ident.as_str().to_owned(),
                        within: format!("variable {name:?}"),
                        expected: "no blocks (only type, default and description)".to_owned(),
                    },
                ));
            }
            let mut ty = None;
            let mut default = None;
            for a in b.body.attributes() {
                match a.key.as_str() {
                    "type" => ty = Some(a),
                    "default" => default = Some(a),
                    "description" => {}
                    other => {
                        return Err(src.err(
                            a.span(),
                            ErrorKind::UnknownAttribute {
                                name: other.to_owned(),
                                within: format!("variable {name:?}"),
                                expected: "type, default or description".to_owned(),
                            },
                        ));
                    }
                }
            }
            let ty = match ty {
                None => VarType::Any,
                Some(a) => var_type(&a.value).map_err(|t| {
                    src.err(
                        a.value.span(),
                        ErrorKind::VariableType {
                            ty: t,
                            name: name.clone(),
                        },
                    )
                })?,
            };
            let (value, span) = match (input.get(&name), default) {
                (Some(v), _) => (v.clone(), b.span()),
                (None, Some(d)) => (eval(ctx, src, &d.value)?, d.value.span()),
                (None, None) => {
                    return Err(src.err(b.span(), ErrorKind::MissingVariable(name)));
                }
            };
            let v = convert(value, &ty).map_err(|message| {
                src.err(
                    span,
                    ErrorKind::VariableValue {
                        name: name.clone(),
                        message,
                    },
                )
            })?;
            out.insert(name, v);
        }
    }
    Ok(out)
}

/// The names of the locals an expression reads (`local.x`).
struct LocalRefs(Vec<String>);

impl Visit for LocalRefs {
    fn visit_traversal(&mut self, node: &hcl::edit::expr::Traversal) {
        if let Expression::Variable(v) = &node.expr
            && v.as_str() == "local"
            && let Some(op) = node.operators.first()
            && let TraversalOperator::GetAttr(name) = op.value()
        {
            self.0.push(name.as_str().to_owned());
        }
        visit_traversal(self, node);
    }
}

fn locals(srcs: &[Source], ctx: &mut Context<'static>) -> Result<(), HclError> {
    // name → (file, attribute)
    let mut defs: BTreeMap<String, (usize, &Attribute)> = BTreeMap::new();
    for (i, src) in srcs.iter().enumerate() {
        for b in src.body.blocks().filter(|b| b.ident.as_str() == "locals") {
            if !b.labels.is_empty() {
                return Err(label_count_err(src, b, "no labels"));
            }
            if let Some(inner) = b.body.blocks().next() {
                return Err(src.err(
                    inner.span(),
                    ErrorKind::UnknownBlock {
                        name: inner.ident.as_str().to_owned(),
                        within: "locals".to_owned(),
                        expected: "attributes only (name = value)".to_owned(),
                    },
                ));
            }
            for a in b.body.attributes() {
                let name = a.key.as_str().to_owned();
                if let Some((fi, fa)) = defs.get(&name) {
                    return Err(src.err(
                        a.span(),
                        ErrorKind::Duplicate {
                            kind: "local",
                            name,
                            first: srcs[*fi].at(fa.span()),
                        },
                    ));
                }
                defs.insert(name, (i, a));
            }
        }
    }
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Visiting,
        Done,
    }
    let mut state: BTreeMap<String, State> = BTreeMap::new();
    let mut values = hcl::Map::new();
    // Iterative depth-first walk (no recursion on user input).
    for root in defs.keys() {
        let mut stack: Vec<(String, bool)> = vec![(root.clone(), false)];
        while let Some((name, expanded)) = stack.pop() {
            if expanded {
                let (fi, a) = defs[&name];
                ctx.declare_var("local", Value::Object(values.clone()));
                let v = eval(ctx, &srcs[fi], &a.value)?;
                values.insert(name.clone(), v);
                state.insert(name, State::Done);
                continue;
            }
            match state.get(&name) {
                Some(State::Done) => continue,
                Some(State::Visiting) => {
                    let (fi, a) = defs[&name];
                    return Err(srcs[fi].err(a.span(), ErrorKind::Cycle(format!("local.{name}"))));
                }
                None => {}
            }
            state.insert(name.clone(), State::Visiting);
            stack.push((name.clone(), true));
            let (_, a) = defs[&name];
            let mut refs = LocalRefs(Vec::new());
            refs.visit_expr(&a.value);
            for dep in refs.0 {
                if !defs.contains_key(&dep) {
                    continue; // evaluation reports the unknown local
                }
                match state.get(&dep) {
                    Some(State::Done) => {}
                    Some(State::Visiting) => {
                        let (fi, da) = defs[&dep];
                        return Err(
                            srcs[fi].err(da.span(), ErrorKind::Cycle(format!("local.{dep}")))
                        );
                    }
                    None => stack.push((dep, false)),
                }
            }
        }
    }
    ctx.declare_var("local", Value::Object(values));
    Ok(())
}
