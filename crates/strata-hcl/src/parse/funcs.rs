//! The functions a schema file may call: `sql()` and the part of the go-cty/Terraform library Atlas documents
//! that schemas use (strings, collections, conversions, `format`, `json*`), with Terraform's semantics.

use hcl::Value;
use hcl::eval::{Context, FuncArgs, FuncDef, ParamType};

use super::eval::{number, sql_value};

type R = Result<Value, String>;

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn arr(v: &Value) -> &[Value] {
    match v {
        Value::Array(a) => a,
        _ => &[],
    }
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_default()
}

fn from_f64(f: f64) -> R {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        // An integral result reads as an integer (`ceil(1.5)` is `2`, not `2.0`).
        return Ok(Value::Number(hcl::Number::from(f as i64)));
    }
    hcl::Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| "the result is not a finite number".to_owned())
}

/// Text of a primitive value (`tostring`, `join`, `format`'s `%s`).
fn text(v: &Value) -> Result<String, String> {
    match v {
        Value::String(x) => Ok(x.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Err("a null value has no text".to_owned()),
        other => Err(format!("cannot convert {other} to a string")),
    }
}

fn f_sql(a: FuncArgs) -> R {
    Ok(sql_value(s(&a[0])))
}
fn f_upper(a: FuncArgs) -> R {
    Ok(s(&a[0]).to_uppercase().into())
}
fn f_lower(a: FuncArgs) -> R {
    Ok(s(&a[0]).to_lowercase().into())
}
fn f_title(a: FuncArgs) -> R {
    let mut out = String::new();
    let mut start = true;
    for c in s(&a[0]).chars() {
        if start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = !c.is_alphanumeric();
    }
    Ok(out.into())
}
fn f_trimspace(a: FuncArgs) -> R {
    Ok(s(&a[0]).trim().into())
}
fn f_trim(a: FuncArgs) -> R {
    let cut = s(&a[1]);
    Ok(s(&a[0]).trim_matches(|c| cut.contains(c)).into())
}
fn f_trimprefix(a: FuncArgs) -> R {
    let (x, p) = (s(&a[0]), s(&a[1]));
    Ok(x.strip_prefix(p).unwrap_or(x).into())
}
fn f_trimsuffix(a: FuncArgs) -> R {
    let (x, p) = (s(&a[0]), s(&a[1]));
    Ok(x.strip_suffix(p).unwrap_or(x).into())
}
fn f_chomp(a: FuncArgs) -> R {
    Ok(s(&a[0]).trim_end_matches(['\n', '\r']).into())
}
fn f_replace(a: FuncArgs) -> R {
    Ok(s(&a[0]).replace(s(&a[1]), s(&a[2])).into())
}
fn f_split(a: FuncArgs) -> R {
    let (sep, x) = (s(&a[0]), s(&a[1]));
    if sep.is_empty() {
        return Err("split needs a non-empty separator".to_owned());
    }
    Ok(Value::Array(x.split(sep).map(Value::from).collect()))
}
fn f_join(a: FuncArgs) -> R {
    let sep = s(&a[0]);
    let mut parts = Vec::new();
    for l in a.iter().skip(1) {
        for v in arr(l) {
            parts.push(text(v)?);
        }
    }
    Ok(parts.join(sep).into())
}
fn f_startswith(a: FuncArgs) -> R {
    Ok(s(&a[0]).starts_with(s(&a[1])).into())
}
fn f_endswith(a: FuncArgs) -> R {
    Ok(s(&a[0]).ends_with(s(&a[1])).into())
}
fn f_substr(a: FuncArgs) -> R {
    let chars: Vec<char> = s(&a[0]).chars().collect();
    let len = chars.len() as i64;
    let mut off = num(&a[1]) as i64;
    if off < 0 {
        off += len;
    }
    let off = off.clamp(0, len) as usize;
    let n = num(&a[2]) as i64;
    let end = if n < 0 {
        chars.len()
    } else {
        off.saturating_add(usize::try_from(n).unwrap_or(usize::MAX))
            .min(chars.len())
    };
    Ok(chars[off..end].iter().collect::<String>().into())
}
fn f_format(a: FuncArgs) -> R {
    let spec = s(&a[0]);
    let mut args = a.iter().skip(1);
    let mut out = String::new();
    let mut chars = spec.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let verb = chars.next().ok_or("format ends with a lone %")?;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let v = args
            .next()
            .ok_or_else(|| format!("format has more verbs than arguments (at %{verb})"))?;
        match verb {
            's' | 'v' => out.push_str(&text(v)?),
            'd' => out.push_str(&format!("{}", num(v) as i64)),
            'f' => out.push_str(&format!("{:.6}", num(v))),
            'q' => out.push_str(&crate::print::quote::go_quote(&text(v)?)),
            't' => out.push_str(&text(v)?),
            other => {
                return Err(format!(
                    "format verb %{other} is not supported: use %s, %d, %f, %q, %t or %v"
                ));
            }
        }
    }
    Ok(out.into())
}
fn f_concat(a: FuncArgs) -> R {
    Ok(Value::Array(
        a.iter().flat_map(|l| arr(l).iter().cloned()).collect(),
    ))
}
fn f_length(a: FuncArgs) -> R {
    Ok(match &a[0] {
        Value::String(x) => x.chars().count(),
        Value::Array(x) => x.len(),
        Value::Object(x) => x.len(),
        _ => return Err("length takes a string, a list or a map".to_owned()),
    }
    .into())
}
fn f_contains(a: FuncArgs) -> R {
    Ok(arr(&a[0]).contains(&a[1]).into())
}
fn f_keys(a: FuncArgs) -> R {
    match &a[0] {
        Value::Object(m) => Ok(Value::Array(
            m.keys().map(|k| Value::from(k.as_str())).collect(),
        )),
        _ => Err("keys takes a map".to_owned()),
    }
}
fn f_values(a: FuncArgs) -> R {
    match &a[0] {
        Value::Object(m) => Ok(Value::Array(m.values().cloned().collect())),
        _ => Err("values takes a map".to_owned()),
    }
}
fn f_merge(a: FuncArgs) -> R {
    let mut out = hcl::Map::new();
    for m in a.iter() {
        match m {
            Value::Object(m) => out.extend(m.iter().map(|(k, v)| (k.clone(), v.clone()))),
            Value::Null => {}
            _ => return Err("merge takes maps".to_owned()),
        }
    }
    Ok(Value::Object(out))
}
fn f_flatten(a: FuncArgs) -> R {
    let mut out = Vec::new();
    let mut stack: Vec<&Value> = arr(&a[0]).iter().rev().collect();
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(inner) => stack.extend(inner.iter().rev()),
            v => out.push(v.clone()),
        }
    }
    Ok(Value::Array(out))
}
fn f_distinct(a: FuncArgs) -> R {
    let mut out: Vec<Value> = Vec::new();
    for v in arr(&a[0]) {
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    Ok(Value::Array(out))
}
fn f_reverse(a: FuncArgs) -> R {
    Ok(Value::Array(arr(&a[0]).iter().rev().cloned().collect()))
}
fn f_sort(a: FuncArgs) -> R {
    let mut v = arr(&a[0]).iter().map(text).collect::<Result<Vec<_>, _>>()?;
    v.sort();
    Ok(Value::Array(v.into_iter().map(Value::from).collect()))
}
fn f_identity(a: FuncArgs) -> R {
    Ok(a[0].clone())
}
fn f_tostring(a: FuncArgs) -> R {
    Ok(text(&a[0])?.into())
}
fn f_tonumber(a: FuncArgs) -> R {
    match &a[0] {
        Value::Number(n) => Ok(Value::Number(*n)),
        Value::String(x) => number(x)
            .map(Value::Number)
            .ok_or_else(|| format!("{x:?} is not a number")),
        other => Err(format!("cannot convert {other} to a number")),
    }
}
fn f_tobool(a: FuncArgs) -> R {
    match &a[0] {
        Value::Bool(b) => Ok(Value::Bool(*b)),
        Value::String(x) if x == "true" || x == "false" => Ok(Value::Bool(x == "true")),
        other => Err(format!("cannot convert {other} to a bool")),
    }
}
fn f_coalesce(a: FuncArgs) -> R {
    a.iter()
        .find(|v| !v.is_null() && v.as_str() != Some(""))
        .cloned()
        .ok_or_else(|| "coalesce: every argument is null or empty".to_owned())
}
fn f_min(a: FuncArgs) -> R {
    from_f64(a.iter().map(num).fold(f64::INFINITY, f64::min))
}
fn f_max(a: FuncArgs) -> R {
    from_f64(a.iter().map(num).fold(f64::NEG_INFINITY, f64::max))
}
fn f_abs(a: FuncArgs) -> R {
    from_f64(num(&a[0]).abs())
}
fn f_ceil(a: FuncArgs) -> R {
    from_f64(num(&a[0]).ceil())
}
fn f_floor(a: FuncArgs) -> R {
    from_f64(num(&a[0]).floor())
}
fn f_lookup(a: FuncArgs) -> R {
    match &a[0] {
        Value::Object(m) => match m.get(s(&a[1])) {
            Some(v) => Ok(v.clone()),
            None => a
                .get(2)
                .cloned()
                .ok_or_else(|| format!("lookup: no key {:?} and no default", s(&a[1]))),
        },
        _ => Err("lookup takes a map".to_owned()),
    }
}
fn f_element(a: FuncArgs) -> R {
    let l = arr(&a[0]);
    if l.is_empty() {
        return Err("element: the list is empty".to_owned());
    }
    let i = num(&a[1]) as i64;
    Ok(l[i.rem_euclid(l.len() as i64) as usize].clone())
}
fn f_jsonencode(a: FuncArgs) -> R {
    serde_json::to_string(&a[0])
        .map(Value::from)
        .map_err(|e| e.to_string())
}
fn f_jsondecode(a: FuncArgs) -> R {
    serde_json::from_str::<Value>(s(&a[0])).map_err(|e| e.to_string())
}
fn f_urlescape(a: FuncArgs) -> R {
    let mut out = String::new();
    for b in s(&a[0]).bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Ok(out.into())
}

/// Declares every function in `ctx`.
pub(super) fn declare(ctx: &mut Context<'_>) {
    use ParamType::{Any, Number, String as Str};
    let list = || ParamType::array_of(Any);
    let map = || ParamType::object_of(Any);
    let one = |p: ParamType, f| FuncDef::builder().param(p).build(f);
    let two = |p: ParamType, q: ParamType, f| FuncDef::builder().param(p).param(q).build(f);
    let many = |p: ParamType, f| FuncDef::builder().variadic_param(p).build(f);
    let defs: Vec<(&str, FuncDef)> = vec![
        ("sql", one(Str, f_sql)),
        ("upper", one(Str, f_upper)),
        ("lower", one(Str, f_lower)),
        ("title", one(Str, f_title)),
        ("trimspace", one(Str, f_trimspace)),
        ("trim", two(Str, Str, f_trim)),
        ("trimprefix", two(Str, Str, f_trimprefix)),
        ("trimsuffix", two(Str, Str, f_trimsuffix)),
        ("chomp", one(Str, f_chomp)),
        (
            "replace",
            FuncDef::builder().params([Str, Str, Str]).build(f_replace),
        ),
        ("split", two(Str, Str, f_split)),
        (
            "join",
            FuncDef::builder()
                .param(Str)
                .variadic_param(list())
                .build(f_join),
        ),
        ("startswith", two(Str, Str, f_startswith)),
        ("endswith", two(Str, Str, f_endswith)),
        (
            "substr",
            FuncDef::builder()
                .params([Str, Number, Number])
                .build(f_substr),
        ),
        (
            "format",
            FuncDef::builder()
                .param(Str)
                .variadic_param(Any)
                .build(f_format),
        ),
        ("concat", many(list(), f_concat)),
        ("length", one(Any, f_length)),
        ("contains", two(list(), Any, f_contains)),
        ("keys", one(map(), f_keys)),
        ("values", one(map(), f_values)),
        ("merge", many(Any, f_merge)),
        ("flatten", one(list(), f_flatten)),
        ("distinct", one(list(), f_distinct)),
        ("toset", one(list(), f_distinct)),
        ("reverse", one(list(), f_reverse)),
        ("sort", one(list(), f_sort)),
        ("tolist", one(list(), f_identity)),
        ("tomap", one(map(), f_identity)),
        ("tostring", one(Any, f_tostring)),
        ("tonumber", one(Any, f_tonumber)),
        ("tobool", one(Any, f_tobool)),
        ("coalesce", many(Any, f_coalesce)),
        ("min", many(Number, f_min)),
        ("max", many(Number, f_max)),
        ("abs", one(Number, f_abs)),
        ("ceil", one(Number, f_ceil)),
        ("floor", one(Number, f_floor)),
        (
            "lookup",
            FuncDef::builder()
                .param(map())
                .param(Str)
                .variadic_param(Any)
                .build(f_lookup),
        ),
        ("element", two(list(), Number, f_element)),
        ("jsonencode", one(Any, f_jsonencode)),
        ("jsondecode", one(Str, f_jsondecode)),
        ("urlescape", one(Str, f_urlescape)),
        ("print", one(Any, f_identity)),
    ];
    for (name, def) in defs {
        ctx.declare_func(name, def);
    }
}
