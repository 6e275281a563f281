//! The pure functions of atlas.hcl: the part of the go-cty / Terraform standard library that project files use,
//! plus Atlas's URL helpers (`urlsetpath`, `urlqueryset`, `urluserinfo`, `urlescape`). `getenv` and `file` need
//! the host and live in the evaluator.

use hcl::{Map, Number, Value};

use crate::eval::type_name;

type F = Result<Value, String>;

/// Calls function `name`; the error is the reason, without the position (the caller adds it).
pub(crate) fn call(name: &str, args: Vec<Value>) -> F {
    let a = Args(args);
    match name {
        "upper" => Ok(Value::String(a.str(0)?.to_uppercase())),
        "lower" => Ok(Value::String(a.str(0)?.to_lowercase())),
        "title" => Ok(Value::String(title(a.str(0)?))),
        "trimspace" => Ok(Value::String(a.str(0)?.trim().to_owned())),
        "trim" => {
            let cut: Vec<char> = a.str(1)?.chars().collect();
            Ok(Value::String(
                a.str(0)?.trim_matches(cut.as_slice()).to_owned(),
            ))
        }
        "trimprefix" => Ok(Value::String(
            a.str(0)?
                .strip_prefix(a.str(1)?)
                .unwrap_or(a.str(0)?)
                .to_owned(),
        )),
        "trimsuffix" => Ok(Value::String(
            a.str(0)?
                .strip_suffix(a.str(1)?)
                .unwrap_or(a.str(0)?)
                .to_owned(),
        )),
        "replace" => Ok(Value::String(a.str(0)?.replace(a.str(1)?, a.str(2)?))),
        "startswith" => Ok(Value::Bool(a.str(0)?.starts_with(a.str(1)?))),
        "endswith" => Ok(Value::Bool(a.str(0)?.ends_with(a.str(1)?))),
        "strcontains" => Ok(Value::Bool(a.str(0)?.contains(a.str(1)?))),
        "split" => Ok(Value::Array(
            a.str(1)?
                .split(a.str(0)?)
                .map(|s| Value::String(s.to_owned()))
                .collect(),
        )),
        "join" => {
            let sep = a.str(0)?;
            let mut parts = Vec::new();
            for i in 1..a.0.len() {
                for v in a.list(i)? {
                    parts.push(scalar_string(v)?);
                }
            }
            Ok(Value::String(parts.join(sep)))
        }
        "format" => format(a.str(0)?, &a.0[1..]),
        "concat" => {
            let mut out = Vec::new();
            for i in 0..a.0.len() {
                out.extend(a.list(i)?.iter().cloned());
            }
            Ok(Value::Array(out))
        }
        "toset" | "distinct" => {
            let mut out: Vec<Value> = Vec::new();
            for v in a.list(0)? {
                if !out.contains(v) {
                    out.push(v.clone());
                }
            }
            Ok(Value::Array(out))
        }
        "tolist" => Ok(Value::Array(a.list(0)?.to_vec())),
        "tomap" => match a.get(0)? {
            Value::Object(m) => Ok(Value::Object(m.clone())),
            other => Err(format!("expects an object, got {}", type_name(other))),
        },
        "tostring" => scalar_string(a.get(0)?).map(Value::String),
        "tonumber" => match a.get(0)? {
            Value::Number(n) => Ok(Value::Number(*n)),
            Value::String(s) => parse_number(s).map(Value::Number),
            other => Err(format!("cannot convert {} to number", type_name(other))),
        },
        "tobool" => match a.get(0)? {
            Value::Bool(b) => Ok(Value::Bool(*b)),
            Value::String(s) if s == "true" => Ok(Value::Bool(true)),
            Value::String(s) if s == "false" => Ok(Value::Bool(false)),
            other => Err(format!("cannot convert {} to bool", type_name(other))),
        },
        "length" => match a.get(0)? {
            Value::Array(v) => Ok(Value::Number(Number::from(v.len() as u64))),
            Value::Object(m) => Ok(Value::Number(Number::from(m.len() as u64))),
            Value::String(s) => Ok(Value::Number(Number::from(s.chars().count() as u64))),
            other => Err(format!("cannot take the length of {}", type_name(other))),
        },
        "contains" => Ok(Value::Bool(a.list(0)?.contains(a.get(1)?))),
        "element" => {
            let l = a.list(0)?;
            let i = a.index(1)?;
            if l.is_empty() {
                return Err("cannot use element on an empty list".into());
            }
            Ok(l[i % l.len()].clone())
        }
        "keys" => Ok(Value::Array(
            a.object(0)?
                .keys()
                .map(|k| Value::String(k.clone()))
                .collect(),
        )),
        "values" => Ok(Value::Array(a.object(0)?.values().cloned().collect())),
        "lookup" => match a.object(0)?.get(a.str(1)?) {
            Some(v) => Ok(v.clone()),
            None if a.0.len() > 2 => Ok(a.get(2)?.clone()),
            None => Err(format!("no key {:?}", a.str(1)?)),
        },
        "merge" => {
            let mut out = Map::new();
            for i in 0..a.0.len() {
                for (k, v) in a.object(i)? {
                    out.insert(k.clone(), v.clone());
                }
            }
            Ok(Value::Object(out))
        }
        "coalesce" => {
            a.0.iter()
                .find(|v| !matches!(v, Value::Null) && **v != Value::String(String::new()))
                .cloned()
                .ok_or_else(|| "no non-null, non-empty argument".to_owned())
        }
        "jsonencode" => serde_json::to_string(a.get(0)?)
            .map(Value::String)
            .map_err(|e| e.to_string()),
        "jsondecode" => serde_json::from_str::<Value>(a.str(0)?).map_err(|e| e.to_string()),
        "urlescape" => Ok(Value::String(
            url::form_urlencoded::byte_serialize(a.str(0)?.as_bytes()).collect(),
        )),
        "urlsetpath" => {
            let mut u = parse_url(a.str(0)?)?;
            u.set_path(a.str(1)?);
            Ok(Value::String(u.into()))
        }
        "urlqueryset" => {
            let mut u = parse_url(a.str(0)?)?;
            let (key, value) = (a.str(1)?, a.str(2)?);
            let pairs: Vec<(String, String)> = u
                .query_pairs()
                .filter(|(k, _)| k != key)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            u.query_pairs_mut()
                .clear()
                .extend_pairs(pairs)
                .append_pair(key, value);
            Ok(Value::String(u.into()))
        }
        "urluserinfo" => {
            let mut u = parse_url(a.str(0)?)?;
            u.set_username(a.str(1)?)
                .map_err(|()| "this URL cannot have a user".to_owned())?;
            let pass = if a.0.len() > 2 { Some(a.str(2)?) } else { None };
            u.set_password(pass)
                .map_err(|()| "this URL cannot have a password".to_owned())?;
            Ok(Value::String(u.into()))
        }
        "sql" => Err("sql() belongs in schema files, not in atlas.hcl".into()),
        _ => Err("unknown function".into()),
    }
}

struct Args(Vec<Value>);

impl Args {
    fn get(&self, i: usize) -> Result<&Value, String> {
        self.0
            .get(i)
            .ok_or_else(|| format!("missing argument {}", i + 1))
    }
    fn str(&self, i: usize) -> Result<&str, String> {
        match self.get(i)? {
            Value::String(s) => Ok(s),
            other => Err(format!(
                "argument {} must be a string, got {}",
                i + 1,
                type_name(other)
            )),
        }
    }
    fn list(&self, i: usize) -> Result<&[Value], String> {
        match self.get(i)? {
            Value::Array(v) => Ok(v),
            other => Err(format!(
                "argument {} must be a list, got {}",
                i + 1,
                type_name(other)
            )),
        }
    }
    fn object(&self, i: usize) -> Result<&Map<String, Value>, String> {
        match self.get(i)? {
            Value::Object(m) => Ok(m),
            other => Err(format!(
                "argument {} must be a map, got {}",
                i + 1,
                type_name(other)
            )),
        }
    }
    fn index(&self, i: usize) -> Result<usize, String> {
        match self.get(i)? {
            Value::Number(n) => n
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| format!("argument {} must be a whole number", i + 1)),
            other => Err(format!(
                "argument {} must be a number, got {}",
                i + 1,
                type_name(other)
            )),
        }
    }
}

fn parse_url(s: &str) -> Result<url::Url, String> {
    url::Url::parse(s).map_err(|e| format!("invalid URL: {e}"))
}

pub(crate) fn parse_number(s: &str) -> Result<Number, String> {
    if let Ok(i) = s.parse::<i64>() {
        return Ok(Number::from(i));
    }
    s.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .ok_or_else(|| format!("{s:?} is not a number"))
}

fn scalar_string(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!("cannot convert {} to string", type_name(other))),
    }
}

fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = c.is_whitespace();
    }
    out
}

/// `format(spec, args…)` with the verbs project files use: `%s`, `%d`, `%v`, `%q`, `%%`.
fn format(spec: &str, args: &[Value]) -> F {
    let mut out = String::new();
    let mut next = args.iter();
    let mut chars = spec.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let verb = chars.next().ok_or("the spec ends with a lone %")?;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let arg = next
            .next()
            .ok_or_else(|| format!("not enough arguments for %{verb}"))?;
        match verb {
            's' | 'v' | 'd' => out.push_str(&scalar_string(arg)?),
            'q' => out.push_str(&format!("{:?}", scalar_string(arg)?)),
            other => return Err(format!("unsupported verb %{other}: use %s, %d, %v or %q")),
        }
    }
    Ok(Value::String(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::String(v.to_owned())
    }

    #[test]
    fn url_helpers() {
        assert_eq!(
            call(
                "urlsetpath",
                vec![s("mysql://root@localhost:3306/"), s("tenant_a")]
            ),
            Ok(s("mysql://root@localhost:3306/tenant_a"))
        );
        assert_eq!(
            call(
                "urlqueryset",
                vec![
                    s("postgres://h/db?sslmode=disable&search_path=x"),
                    s("search_path"),
                    s("t1")
                ]
            ),
            Ok(s("postgres://h/db?sslmode=disable&search_path=t1"))
        );
        assert_eq!(
            call(
                "urluserinfo",
                vec![s("postgres://h/db"), s("app"), s("p@ss")]
            ),
            Ok(s("postgres://app:p%40ss@h/db"))
        );
        assert_eq!(call("urlescape", vec![s("a b&c")]), Ok(s("a+b%26c")));
    }

    #[test]
    fn strings_and_collections() {
        assert_eq!(
            call(
                "format",
                vec![s("%s-%d %q 100%%"), s("a"), Value::from(3), s("x")]
            ),
            Ok(s("a-3 \"x\" 100%"))
        );
        assert_eq!(
            call("toset", vec![Value::from(vec![s("a"), s("b"), s("a")])]),
            Ok(Value::from(vec![s("a"), s("b")]))
        );
        assert_eq!(
            call("join", vec![s(","), Value::from(vec![s("a"), s("b")])]),
            Ok(s("a,b"))
        );
        assert_eq!(call("nope", vec![]), Err("unknown function".to_owned()));
        assert_eq!(
            call("upper", vec![Value::from(1)]),
            Err("argument 1 must be a string, got number".to_owned())
        );
    }
}
