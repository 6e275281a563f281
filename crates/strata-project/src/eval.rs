//! The expression evaluator: HCL expressions (from `hcl-edit`, which keeps positions) into `hcl::Value`s.
//!
//! References are resolved on demand: `local.x` evaluates that local the first time it is read, `data.k.n`
//! runs that data source the first time it is read, so only what the selected env reaches is evaluated (and a
//! program behind `data "external"` runs only when used). A reference that comes back to itself is Atlas's
//! `cyclic reference to "local.a"`.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use hcl::edit::Span as _;
use hcl::edit::expr::{BinaryOperator, Expression, TraversalOperator, UnaryOperator};
use hcl::edit::structure::{Attribute, Block};
use hcl::edit::template::{Element, Template};
use hcl::{Map, Number, Value};

use crate::{Host, Pos, ProjectError};

/// The project file's text, with what turns byte offsets into lines.
#[derive(Debug)]
pub(crate) struct Text {
    pub name: String,
    line_starts: Vec<usize>,
}

impl Text {
    pub fn new(name: &str, text: &str) -> Text {
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Text {
            name: name.to_owned(),
            line_starts,
        }
    }

    /// 1-based line of a byte offset.
    pub fn line(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset)
    }

    pub fn pos(&self, span: Option<Range<usize>>) -> Pos {
        Pos {
            file: self.name.clone(),
            line: span.map_or(0, |s| self.line(s.start)),
        }
    }
}

/// A program's output captured for `data "external_schema"`: its stdout is the desired schema as SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalSchema {
    /// The data source's name (`data "external_schema" "<name>"`).
    pub name: String,
    /// The program's standard output.
    pub sql: String,
}

/// The URL a `data "external_schema"` evaluates to (`data.external_schema.app.url`); the env decoder turns it
/// back into the captured SQL.
pub(crate) fn external_schema_url(name: &str) -> String {
    format!("external_schema://{name}")
}

/// Names bound around an expression: `each` inside a `for_each` env, the variables of `for` expressions.
pub(crate) type Scope = Vec<(String, Value)>;

pub(crate) struct Evaluator<'a> {
    pub text: &'a Text,
    pub host: &'a dyn Host,
    /// The project file's folder: `file()` paths and programs' `working_dir` are relative to it.
    pub dir: &'a Path,
    pub vars: Map<String, Value>,
    pub atlas_env: Option<String>,
    locals: HashMap<String, &'a Attribute>,
    local_values: HashMap<String, Value>,
    data_blocks: HashMap<(String, String), &'a Block>,
    data_values: HashMap<(String, String), Value>,
    visiting: Vec<String>,
    pub externals: Vec<ExternalSchema>,
}

type R<T> = Result<T, ProjectError>;

impl<'a> Evaluator<'a> {
    pub fn new(text: &'a Text, host: &'a dyn Host, dir: &'a Path) -> Self {
        Evaluator {
            text,
            host,
            dir,
            vars: Map::new(),
            atlas_env: None,
            locals: HashMap::new(),
            local_values: HashMap::new(),
            data_blocks: HashMap::new(),
            data_values: HashMap::new(),
            visiting: Vec::new(),
            externals: Vec::new(),
        }
    }

    pub fn add_local(&mut self, attr: &'a Attribute) -> R<()> {
        let name = attr.key.as_str().to_owned();
        if let Some(prev) = self.locals.get(&name) {
            return Err(self.err(
                attr.span(),
                format!(
                    "local {name:?} is already defined on line {}",
                    self.text.pos(prev.span()).line
                ),
            ));
        }
        self.locals.insert(name, attr);
        Ok(())
    }

    pub fn add_data(&mut self, kind: &str, name: &str, block: &'a Block) -> R<()> {
        let key = (kind.to_owned(), name.to_owned());
        if let Some(prev) = self.data_blocks.get(&key) {
            return Err(self.err(
                block.span(),
                format!(
                    "data {kind:?} {name:?} is already defined on line {}",
                    self.text.pos(prev.span()).line
                ),
            ));
        }
        self.data_blocks.insert(key, block);
        Ok(())
    }

    pub fn err(&self, span: Option<Range<usize>>, message: impl Into<String>) -> ProjectError {
        ProjectError::at(self.text.pos(span), message)
    }

    /// `local.<name>`, evaluated once.
    fn local(&mut self, name: &str, span: Option<Range<usize>>) -> R<Value> {
        if let Some(v) = self.local_values.get(name) {
            return Ok(v.clone());
        }
        let Some(attr) = self.locals.get(name).copied() else {
            return Err(self.err(span, format!("unknown local value \"local.{name}\"")));
        };
        let id = format!("local.{name}");
        self.enter(&id, span.clone())?;
        let v = self.eval(&attr.value, &Scope::new());
        self.visiting.pop();
        let v = v?;
        self.local_values.insert(name.to_owned(), v.clone());
        Ok(v)
    }

    fn enter(&mut self, id: &str, span: Option<Range<usize>>) -> R<()> {
        if self.visiting.iter().any(|v| v == id) {
            return Err(self.err(span, format!("cyclic reference to {id:?}")));
        }
        self.visiting.push(id.to_owned());
        Ok(())
    }

    /// `data.<kind>.<name>`, run once.
    fn data(&mut self, kind: &str, name: &str, span: Option<Range<usize>>) -> R<Value> {
        let key = (kind.to_owned(), name.to_owned());
        if let Some(v) = self.data_values.get(&key) {
            return Ok(v.clone());
        }
        let Some(block) = self.data_blocks.get(&key).copied() else {
            return Err(self.err(span, format!("unknown data source \"data.{kind}.{name}\"")));
        };
        let id = format!("data.{kind}.{name}");
        self.enter(&id, span)?;
        let v = crate::data::evaluate(self, kind, name, block);
        self.visiting.pop();
        let v = v?;
        self.data_values.insert(key, v.clone());
        Ok(v)
    }

    fn lookup(&mut self, name: &str, scope: &Scope, span: Option<Range<usize>>) -> R<Value> {
        if let Some((_, v)) = scope.iter().rev().find(|(n, _)| n == name) {
            return Ok(v.clone());
        }
        match name {
            "var" => Ok(Value::Object(self.vars.clone())),
            "atlas" => {
                let mut m = Map::new();
                if let Some(env) = &self.atlas_env {
                    m.insert("env".to_owned(), Value::String(env.clone()));
                }
                Ok(Value::Object(m))
            }
            "local" | "data" => Err(self.err(
                span,
                format!("{name} must be followed by an attribute name, as in {name}.x"),
            )),
            "each" => Err(self.err(
                span,
                "each.key and each.value are only available in a block with for_each",
            )),
            _ => Err(self.err(span, format!("unknown variable {name:?}"))),
        }
    }

    /// An attribute whose value may be a bare symbol (`exec_order = LINEAR`, `format = atlas`): the symbol's
    /// name, or the expression's string value.
    pub fn symbol_or_string(&mut self, expr: &Expression, scope: &Scope, what: &str) -> R<String> {
        if let Expression::Variable(v) = expr
            && !scope.iter().any(|(n, _)| n == v.as_str())
        {
            return Ok(v.as_str().to_owned());
        }
        let v = self.eval(expr, scope)?;
        self.string(v, expr.span(), what)
    }

    /// A string (numbers and bools convert, as HCL converts them).
    pub fn string(&self, v: Value, span: Option<Range<usize>>, what: &str) -> R<String> {
        match v {
            Value::String(s) => Ok(s),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            other => Err(self.err(
                span,
                format!("{what}: expected a string, got {}", type_name(&other)),
            )),
        }
    }

    pub fn eval(&mut self, expr: &Expression, scope: &Scope) -> R<Value> {
        let span = expr.span();
        match expr {
            Expression::Null(_) => Ok(Value::Null),
            Expression::Bool(b) => Ok(Value::Bool(*b.value())),
            Expression::Number(n) => Ok(Value::Number(*n.value())),
            Expression::String(s) => Ok(Value::String(s.value().clone())),
            Expression::Array(a) => {
                let mut out = Vec::with_capacity(a.len());
                for e in a.iter() {
                    out.push(self.eval(e, scope)?);
                }
                Ok(Value::Array(out))
            }
            Expression::Object(o) => {
                let mut out = Map::new();
                for (k, v) in o.iter() {
                    let key = match k {
                        hcl::edit::expr::ObjectKey::Ident(id) => id.as_str().to_owned(),
                        hcl::edit::expr::ObjectKey::Expression(e) => {
                            let v = self.eval(e, scope)?;
                            self.string(v, e.span(), "object key")?
                        }
                    };
                    out.insert(key, self.eval(v.expr(), scope)?);
                }
                Ok(Value::Object(out))
            }
            Expression::StringTemplate(t) => self.template(t, scope),
            Expression::HeredocTemplate(h) => self.template(&h.template, scope),
            Expression::Parenthesis(p) => self.eval(p.inner(), scope),
            Expression::Variable(v) => self.lookup(v.as_str(), scope, span),
            Expression::Conditional(c) => {
                let cond = self.eval(&c.cond_expr, scope)?;
                match cond {
                    Value::Bool(true) => self.eval(&c.true_expr, scope),
                    Value::Bool(false) => self.eval(&c.false_expr, scope),
                    other => Err(self.err(
                        c.cond_expr.span(),
                        format!("condition must be a bool, got {}", type_name(&other)),
                    )),
                }
            }
            Expression::FuncCall(call) => {
                let name = call.name.name.as_str();
                if call.name.is_namespaced() {
                    return Err(self.err(span, format!("unknown function {name:?}")));
                }
                let mut args = Vec::with_capacity(call.args.len());
                for a in call.args.iter() {
                    args.push(self.eval(a, scope)?);
                }
                if call.args.expand_final() {
                    match args.pop() {
                        Some(Value::Array(rest)) => args.extend(rest),
                        Some(other) => {
                            return Err(self.err(
                                span,
                                format!(
                                    "{name}: the expanded final argument must be a list, got {}",
                                    type_name(&other)
                                ),
                            ));
                        }
                        None => {}
                    }
                }
                self.call(name, args)
                    .map_err(|m| self.err(span, format!("{name}: {m}")))
            }
            Expression::Traversal(t) => self.traversal(t, scope),
            Expression::UnaryOp(op) => {
                let v = self.eval(&op.expr, scope)?;
                match (op.operator.value(), v) {
                    (UnaryOperator::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
                    (UnaryOperator::Neg, Value::Number(n)) => Ok(Value::Number(-n)),
                    (o, v) => Err(self.err(
                        span,
                        format!("operator {} cannot apply to {}", o.as_str(), type_name(&v)),
                    )),
                }
            }
            Expression::BinaryOp(op) => {
                let operator = *op.operator.value();
                // && and || evaluate their right side only when needed.
                if matches!(operator, BinaryOperator::And | BinaryOperator::Or) {
                    let l = self.eval(&op.lhs_expr, scope)?;
                    let Value::Bool(l) = l else {
                        return Err(self.err(span, format!("{} needs bools", operator.as_str())));
                    };
                    if (operator == BinaryOperator::And) != l {
                        return Ok(Value::Bool(l));
                    }
                    return match self.eval(&op.rhs_expr, scope)? {
                        Value::Bool(r) => Ok(Value::Bool(r)),
                        _ => Err(self.err(span, format!("{} needs bools", operator.as_str()))),
                    };
                }
                let l = self.eval(&op.lhs_expr, scope)?;
                let r = self.eval(&op.rhs_expr, scope)?;
                binary(operator, l, r).map_err(|m| self.err(span, m))
            }
            Expression::ForExpr(f) => {
                let coll = self.eval(&f.intro.collection_expr, scope)?;
                let items: Vec<(Value, Value)> = match coll {
                    Value::Array(a) => a
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| (Value::Number(Number::from(i as u64)), v))
                        .collect(),
                    Value::Object(o) => o.into_iter().map(|(k, v)| (Value::String(k), v)).collect(),
                    other => {
                        return Err(self.err(
                            f.intro.collection_expr.span(),
                            format!("cannot iterate over {}", type_name(&other)),
                        ));
                    }
                };
                let mut list = Vec::new();
                let mut map = Map::new();
                for (k, v) in items {
                    let mut inner = scope.clone();
                    if let Some(kv) = &f.intro.key_var {
                        inner.push((kv.as_str().to_owned(), k));
                    }
                    inner.push((f.intro.value_var.as_str().to_owned(), v));
                    if let Some(cond) = &f.cond {
                        match self.eval(&cond.expr, &inner)? {
                            Value::Bool(true) => {}
                            Value::Bool(false) => continue,
                            other => {
                                return Err(self.err(
                                    cond.expr.span(),
                                    format!(
                                        "for condition must be a bool, got {}",
                                        type_name(&other)
                                    ),
                                ));
                            }
                        }
                    }
                    let value = self.eval(&f.value_expr, &inner)?;
                    match &f.key_expr {
                        Some(ke) => {
                            let k = self.eval(ke, &inner)?;
                            let k = self.string(k, ke.span(), "for key")?;
                            if f.grouping {
                                if let Value::Array(a) =
                                    map.entry(k).or_insert_with(|| Value::Array(Vec::new()))
                                {
                                    a.push(value);
                                }
                            } else if map.insert(k.clone(), value).is_some() {
                                return Err(self.err(
                                    span,
                                    format!(
                                        "duplicate key {k:?} in for expression (use ... to group)"
                                    ),
                                ));
                            }
                        }
                        None => list.push(value),
                    }
                }
                Ok(if f.key_expr.is_some() {
                    Value::Object(map)
                } else {
                    Value::Array(list)
                })
            }
        }
    }

    fn template(&mut self, t: &Template, scope: &Scope) -> R<Value> {
        let mut out = String::new();
        for el in t.iter() {
            match el {
                Element::Literal(s) => out.push_str(s.value()),
                Element::Interpolation(i) => {
                    let v = self.eval(&i.expr, scope)?;
                    let s = self.string(v, i.expr.span(), "interpolation")?;
                    out.push_str(&s);
                }
                Element::Directive(d) => {
                    return Err(self.err(
                        d.span(),
                        "template directives (%{if}, %{for}) are not supported in atlas.hcl; use a conditional or a for expression",
                    ));
                }
            }
        }
        Ok(Value::String(out))
    }

    fn traversal(&mut self, t: &hcl::edit::expr::Traversal, scope: &Scope) -> R<Value> {
        let span = t.span();
        let ops: Vec<&TraversalOperator> = t.operators.iter().map(|o| o.value()).collect();
        let attr = |i: usize| match ops.get(i) {
            Some(TraversalOperator::GetAttr(id)) => Some(id.as_str().to_owned()),
            _ => None,
        };
        let (mut value, rest) = match &t.expr {
            Expression::Variable(root)
                if root.as_str() == "local" && !scope.iter().any(|(n, _)| n == "local") =>
            {
                let Some(name) = attr(0) else {
                    return Err(self.err(span, "local must be followed by an attribute name"));
                };
                (self.local(&name, span.clone())?, 1)
            }
            Expression::Variable(root)
                if root.as_str() == "data" && !scope.iter().any(|(n, _)| n == "data") =>
            {
                let (Some(kind), Some(name)) = (attr(0), attr(1)) else {
                    return Err(self.err(
                        span,
                        "data must be followed by a kind and a name, as in data.external.x",
                    ));
                };
                (self.data(&kind, &name, span.clone())?, 2)
            }
            e => (self.eval(e, scope)?, 0),
        };
        let mut path = match &t.expr {
            Expression::Variable(v) => v.as_str().to_owned(),
            _ => String::from("value"),
        };
        for op in &ops[rest.min(ops.len())..] {
            value = match op {
                TraversalOperator::GetAttr(id) => {
                    let name = id.as_str();
                    match value {
                        Value::Object(mut m) => match m.swap_remove(name) {
                            Some(v) => v,
                            None if path == "var" => {
                                return Err(self.err(
                                    span,
                                    format!("undeclared variable \"var.{name}\": add a variable \"{name}\" block"),
                                ));
                            }
                            None => {
                                return Err(self.err(
                                    span,
                                    format!("unsupported attribute {name:?} on {path}"),
                                ));
                            }
                        },
                        other => {
                            return Err(self.err(
                                span,
                                format!("cannot read attribute {name:?} of {}", type_name(&other)),
                            ));
                        }
                    }
                }
                TraversalOperator::Index(e) => {
                    let key = self.eval(e, scope)?;
                    self.index(value, key, span.clone())?
                }
                TraversalOperator::LegacyIndex(i) => {
                    self.index(value, Value::Number(Number::from(*i.value())), span.clone())?
                }
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                    return Err(self.err(
                        span,
                        "splat expressions ([*], .*) are not supported in atlas.hcl",
                    ));
                }
            };
            path.push_str(&match op {
                TraversalOperator::GetAttr(id) => format!(".{}", id.as_str()),
                _ => "[…]".to_owned(),
            });
        }
        Ok(value)
    }

    fn index(&self, value: Value, key: Value, span: Option<Range<usize>>) -> R<Value> {
        match (value, key) {
            (Value::Array(a), Value::Number(n)) => {
                let len = a.len();
                n.as_u64()
                    .and_then(|i| usize::try_from(i).ok())
                    .and_then(|i| a.into_iter().nth(i))
                    .ok_or_else(|| self.err(span, format!("index {n} out of range (length {len})")))
            }
            (Value::Object(mut m), Value::String(k)) => m
                .swap_remove(&k)
                .ok_or_else(|| self.err(span, format!("no key {k:?}"))),
            (v, k) => Err(self.err(
                span,
                format!("cannot index {} with {}", type_name(&v), type_name(&k)),
            )),
        }
    }

    fn call(&mut self, name: &str, args: Vec<Value>) -> Result<Value, String> {
        match name {
            "getenv" => {
                let [Value::String(key)] = args.as_slice() else {
                    return Err("expects one string argument".into());
                };
                Ok(Value::String(self.host.getenv(key).unwrap_or_default()))
            }
            "file" => {
                let [Value::String(path)] = args.as_slice() else {
                    return Err("expects one string argument".into());
                };
                let p = self.dir.join(path);
                self.host
                    .read_file(&p)
                    .map(Value::String)
                    .map_err(|e| format!("reading {}: {e}", p.display()))
            }
            "fileset" | "glob" => {
                let [Value::String(pattern)] = args.as_slice() else {
                    return Err(
                        "expects one string argument (a pattern such as \"schema/*.sql\")".into(),
                    );
                };
                self.glob(pattern)
                    .map(|paths| Value::Array(paths.into_iter().map(Value::String).collect()))
            }
            _ => crate::funcs::call(name, args),
        }
    }
}

/// HCL's name for a value's type, in messages.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

impl Evaluator<'_> {
    /// The files matching `pattern` (`*` and `?` in the last path component), relative to the project folder
    /// and written with the pattern's folder, in byte order.
    fn glob(&self, pattern: &str) -> Result<Vec<String>, String> {
        let (folder, name) = match pattern.rsplit_once('/') {
            Some((f, n)) => (Some(f), n),
            None => (None, pattern),
        };
        if folder.is_some_and(|f| f.contains(['*', '?'])) {
            return Err("wildcards are supported in the file name only, not in folders".into());
        }
        let dir = self.dir.join(folder.unwrap_or("."));
        let mut out: Vec<String> = self
            .host
            .list_dir(&dir)
            .map_err(|e| format!("reading {}: {e}", dir.display()))?
            .into_iter()
            .filter(|n| wildcard(name.as_bytes(), n.as_bytes()))
            .map(|n| match folder {
                Some(f) => format!("{f}/{n}"),
                None => n,
            })
            .collect();
        out.sort();
        Ok(out)
    }
}

/// `*` (any run) and `?` (one byte) matching.
fn wildcard(p: &[u8], s: &[u8]) -> bool {
    match (p.split_first(), s.split_first()) {
        (None, None) => true,
        (Some((b'*', rest)), _) => wildcard(rest, s) || (!s.is_empty() && wildcard(p, &s[1..])),
        (Some((b'?', rest)), Some((_, srest))) => wildcard(rest, srest),
        (Some((a, rest)), Some((b, srest))) if a == b => wildcard(rest, srest),
        _ => false,
    }
}

/// Arithmetic without panics: whole numbers stay whole while they fit, division by zero and results that are not
/// finite are errors.
fn arith(op: BinaryOperator, a: Number, b: Number) -> Result<Number, String> {
    use BinaryOperator as B;
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        let whole = match op {
            B::Plus => x.checked_add(y),
            B::Minus => x.checked_sub(y),
            B::Mul => x.checked_mul(y),
            B::Mod => x.checked_rem(y),
            B::Div if y != 0 && x.checked_rem(y) == Some(0) => x.checked_div(y),
            _ => None,
        };
        if let Some(v) = whole {
            return Ok(Number::from(v));
        }
    }
    let (x, y) = (
        a.as_f64().unwrap_or(f64::NAN),
        b.as_f64().unwrap_or(f64::NAN),
    );
    if y == 0.0 && matches!(op, B::Div | B::Mod) {
        return Err("division by zero".into());
    }
    let v = match op {
        B::Plus => x + y,
        B::Minus => x - y,
        B::Mul => x * y,
        B::Div => x / y,
        _ => x % y,
    };
    Number::from_f64(v).ok_or_else(|| format!("{} gives a number that is not finite", op.as_str()))
}

fn binary(op: BinaryOperator, l: Value, r: Value) -> Result<Value, String> {
    use BinaryOperator as B;
    match op {
        B::Eq => return Ok(Value::Bool(l == r)),
        B::NotEq => return Ok(Value::Bool(l != r)),
        _ => {}
    }
    let num = |v: &Value| -> Result<Number, String> {
        match v {
            Value::Number(n) => Ok(*n),
            Value::String(s) => s
                .parse::<f64>()
                .ok()
                .and_then(Number::from_f64)
                .ok_or_else(|| format!("{s:?} is not a number")),
            other => Err(format!(
                "{} needs numbers, got {}",
                op.as_str(),
                type_name(other)
            )),
        }
    };
    let (a, b) = (num(&l)?, num(&r)?);
    Ok(match op {
        B::Plus | B::Minus | B::Mul | B::Div | B::Mod => Value::Number(arith(op, a, b)?),
        B::Less => Value::Bool(a.as_f64() < b.as_f64()),
        B::LessEq => Value::Bool(a.as_f64() <= b.as_f64()),
        B::Greater => Value::Bool(a.as_f64() > b.as_f64()),
        B::GreaterEq => Value::Bool(a.as_f64() >= b.as_f64()),
        _ => return Err(format!("unsupported operator {}", op.as_str())),
    })
}
