//! The Helm chart renders: Debian has no `helm` package, so this test renders `deploy/helm/strata-operator` with a
//! small Go-template interpreter covering exactly the constructs the chart uses (anything else fails loudly), for
//! default and non-default values, and checks every document parses as the Kubernetes object it claims to be
//! (deserialised into the k8s-openapi type and serialised back without losing a field).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use serde_json::{Value, json};

fn chart() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/helm/strata-operator")
}

// ---------------------------------------------------------------- a Go-template subset

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Action(String),
    If(String, Vec<Node>, Vec<Node>),
    With(String, Vec<Node>),
    Range(Option<String>, String, Vec<Node>),
}

/// Splits a template into text and actions, applying `{{-` / `-}}` trimming.
fn lex(src: &str) -> Vec<(bool, String)> {
    let mut out: Vec<(bool, String)> = Vec::new();
    let mut rest = src;
    let mut trim_next = false;
    while let Some(start) = rest.find("{{") {
        let mut text = rest[..start].to_owned();
        if trim_next {
            text = text.trim_start().to_owned();
        }
        let after = &rest[start + 2..];
        let end = after.find("}}").expect("unclosed action");
        let mut inner = &after[..end];
        if let Some(s) = inner.strip_prefix('-') {
            text = text.trim_end().to_owned();
            inner = s;
        }
        trim_next = false;
        if let Some(s) = inner.strip_suffix('-') {
            trim_next = true;
            inner = s;
        }
        out.push((false, text));
        let inner = inner.trim();
        if !(inner.starts_with("/*") && inner.ends_with("*/")) {
            out.push((true, inner.to_owned()));
        }
        rest = &after[end + 2..];
    }
    let mut text = rest.to_owned();
    if trim_next {
        text = text.trim_start().to_owned();
    }
    out.push((false, text));
    out
}

/// Parses until `end` (or `else`), returning the nodes and the terminator.
fn parse(
    toks: &mut std::iter::Peekable<std::vec::IntoIter<(bool, String)>>,
    defines: &mut BTreeMap<String, Vec<Node>>,
) -> (Vec<Node>, Option<String>) {
    let mut nodes = Vec::new();
    while let Some((is_action, s)) = toks.next() {
        if !is_action {
            nodes.push(Node::Text(s));
            continue;
        }
        let (word, arg) = s.split_once(' ').unwrap_or((s.as_str(), ""));
        let arg = arg.trim().to_owned();
        match word {
            "end" | "else" => return (nodes, Some(word.to_owned())),
            "if" => {
                let (then, term) = parse(toks, defines);
                let els = if term.as_deref() == Some("else") {
                    let (e, t) = parse(toks, defines);
                    assert_eq!(t.as_deref(), Some("end"));
                    e
                } else {
                    vec![]
                };
                nodes.push(Node::If(arg, then, els));
            }
            "with" => {
                let (body, term) = parse(toks, defines);
                assert_eq!(term.as_deref(), Some("end"), "with/else is not supported");
                nodes.push(Node::With(arg, body));
            }
            "range" => {
                let (var, expr) = match arg.split_once(":=") {
                    Some((v, e)) => (Some(v.trim().to_owned()), e.trim().to_owned()),
                    None => (None, arg),
                };
                let (body, term) = parse(toks, defines);
                assert_eq!(term.as_deref(), Some("end"));
                nodes.push(Node::Range(var, expr, body));
            }
            "define" => {
                let name = arg.trim_matches('"').to_owned();
                let (body, term) = parse(toks, defines);
                assert_eq!(term.as_deref(), Some("end"));
                defines.insert(name, body);
            }
            _ => nodes.push(Node::Action(s)),
        }
    }
    (nodes, None)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Str(String),
    Num(f64),
    Ident(String),
    Field(String),
    Var(String),
    Open,
    Close,
    Pipe,
}

fn tokenize(s: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let cs: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '"' {
            let mut v = String::new();
            i += 1;
            while cs[i] != '"' {
                if cs[i] == '\\' {
                    i += 1;
                }
                v.push(cs[i]);
                i += 1;
            }
            i += 1;
            out.push(Tok::Str(v));
        } else if c == '(' || c == ')' || c == '|' {
            out.push(match c {
                '(' => Tok::Open,
                ')' => Tok::Close,
                _ => Tok::Pipe,
            });
            i += 1;
        } else {
            let start = i;
            while i < cs.len() && !cs[i].is_whitespace() && !"()|".contains(cs[i]) {
                i += 1;
            }
            let w: String = cs[start..i].iter().collect();
            out.push(if w.starts_with('.') {
                Tok::Field(w)
            } else if w.starts_with('$') {
                Tok::Var(w)
            } else if let Ok(n) = w.parse::<f64>() {
                Tok::Num(n)
            } else {
                Tok::Ident(w)
            });
        }
    }
    out
}

struct Renderer {
    defines: BTreeMap<String, Vec<Node>>,
    root: Value,
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn to_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn lookup(base: &Value, path: &str) -> Value {
    let mut cur = base.clone();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        cur = cur.get(part).cloned().unwrap_or(Value::Null);
    }
    cur
}

type Vars = BTreeMap<String, Value>;

impl Renderer {
    fn render(&self, nodes: &[Node], dot: &Value, vars: &Vars) -> Result<String, String> {
        let mut out = String::new();
        for n in nodes {
            match n {
                Node::Text(t) => out.push_str(t),
                Node::Action(a) => {
                    out.push_str(&to_text(&self.pipeline(&tokenize(a), dot, vars)?))
                }
                Node::If(c, then, els) => {
                    let branch = if truthy(&self.pipeline(&tokenize(c), dot, vars)?) {
                        then
                    } else {
                        els
                    };
                    out.push_str(&self.render(branch, dot, vars)?);
                }
                Node::With(e, body) => {
                    let v = self.pipeline(&tokenize(e), dot, vars)?;
                    if truthy(&v) {
                        out.push_str(&self.render(body, &v, vars)?);
                    }
                }
                Node::Range(var, e, body) => {
                    let v = self.pipeline(&tokenize(e), dot, vars)?;
                    for item in v.as_array().cloned().unwrap_or_default() {
                        let mut vars = vars.clone();
                        if let Some(name) = var {
                            vars.insert(name.clone(), item.clone());
                        }
                        out.push_str(&self.render(body, &item, &vars)?);
                    }
                }
            }
        }
        Ok(out)
    }

    fn pipeline(&self, toks: &[Tok], dot: &Value, vars: &Vars) -> Result<Value, String> {
        let mut cmds: Vec<Vec<Tok>> = vec![vec![]];
        let mut depth = 0;
        for t in toks {
            match t {
                Tok::Open => depth += 1,
                Tok::Close => depth -= 1,
                Tok::Pipe if depth == 0 => {
                    cmds.push(vec![]);
                    continue;
                }
                _ => {}
            }
            cmds.last_mut().unwrap().push(t.clone());
        }
        let mut prev: Option<Value> = None;
        for cmd in cmds {
            prev = Some(self.command(&cmd, dot, vars, prev)?);
        }
        Ok(prev.unwrap_or(Value::Null))
    }

    /// Splits a command's arguments into operands (a parenthesised group is one operand).
    fn operands(&self, toks: &[Tok], dot: &Value, vars: &Vars) -> Result<Vec<Value>, String> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < toks.len() {
            if toks[i] == Tok::Open {
                let mut depth = 0;
                let start = i + 1;
                loop {
                    match toks[i] {
                        Tok::Open => depth += 1,
                        Tok::Close => depth -= 1,
                        _ => {}
                    }
                    if depth == 0 {
                        break;
                    }
                    i += 1;
                }
                out.push(self.pipeline(&toks[start..i], dot, vars)?);
            } else {
                out.push(self.operand(&toks[i], dot, vars)?);
            }
            i += 1;
        }
        Ok(out)
    }

    fn operand(&self, t: &Tok, dot: &Value, vars: &Vars) -> Result<Value, String> {
        Ok(match t {
            Tok::Str(s) => Value::String(s.clone()),
            Tok::Num(n) => json!(n),
            Tok::Field(f) => lookup(dot, f),
            Tok::Var(v) => {
                let (name, path) = match v.find('.') {
                    Some(i) => (&v[..i], &v[i..]),
                    None => (v.as_str(), ""),
                };
                let base = if name == "$" {
                    self.root.clone()
                } else {
                    vars.get(name).cloned().ok_or(format!("undefined {name}"))?
                };
                lookup(&base, path)
            }
            Tok::Ident(i) if i == "true" || i == "false" => Value::Bool(i == "true"),
            other => return Err(format!("unsupported operand {other:?}")),
        })
    }

    fn command(
        &self,
        toks: &[Tok],
        dot: &Value,
        vars: &Vars,
        piped: Option<Value>,
    ) -> Result<Value, String> {
        let Some(Tok::Ident(f)) = toks.first() else {
            assert!(piped.is_none(), "a value cannot be piped into an operand");
            let mut ops = self.operands(toks, dot, vars)?;
            assert_eq!(ops.len(), 1, "{toks:?}");
            return Ok(ops.remove(0));
        };
        if f == "true" || f == "false" {
            return Ok(Value::Bool(f == "true"));
        }
        let mut args = self.operands(&toks[1..], dot, vars)?;
        args.extend(piped);
        let s = |i: usize| to_text(&args[i]);
        let n = |i: usize| args[i].as_f64().unwrap_or(0.0) as usize;
        Ok(match (f.as_str(), args.len()) {
            ("include", 2) => {
                let body = self
                    .defines
                    .get(&s(0))
                    .ok_or(format!("no template {}", s(0)))?;
                Value::String(self.render(body, &args[1], vars)?)
            }
            ("default", 2) => {
                if truthy(&args[1]) {
                    args[1].clone()
                } else {
                    args[0].clone()
                }
            }
            ("quote", 1) => Value::String(format!("{:?}", s(0))),
            ("trunc", 2) => Value::String(s(1).chars().take(n(0)).collect()),
            ("trimSuffix", 2) => {
                Value::String(s(1).strip_suffix(&s(0)).unwrap_or(&s(1)).to_owned())
            }
            ("replace", 3) => Value::String(s(2).replace(&s(0), &s(1))),
            ("printf", _) => {
                let mut out = s(0);
                for a in &args[1..] {
                    out = out.replacen("%s", &to_text(a), 1);
                }
                Value::String(out)
            }
            ("join", 2) => Value::String(
                args[1]
                    .as_array()
                    .ok_or("join needs a list")?
                    .iter()
                    .map(to_text)
                    .collect::<Vec<_>>()
                    .join(&s(0)),
            ),
            ("toYaml", 1) => Value::String(
                serde_saphyr::to_string(&args[0])
                    .map_err(|e| e.to_string())?
                    .trim_end_matches('\n')
                    .to_owned(),
            ),
            ("nindent", 2) | ("indent", 2) => {
                let pad = " ".repeat(n(0));
                let body = s(1)
                    .split('\n')
                    .map(|l| format!("{pad}{l}"))
                    .collect::<Vec<_>>()
                    .join("\n");
                Value::String(if f == "nindent" {
                    format!("\n{body}")
                } else {
                    body
                })
            }
            ("not", 1) => Value::Bool(!truthy(&args[0])),
            ("and", _) => args
                .iter()
                .find(|a| !truthy(a))
                .unwrap_or(args.last().unwrap())
                .clone(),
            ("or", _) => args
                .iter()
                .find(|a| truthy(a))
                .unwrap_or(args.last().unwrap())
                .clone(),
            ("fail", 1) => return Err(s(0)),
            (other, k) => return Err(format!("unsupported function {other}/{k}")),
        })
    }
}

fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                merge(b.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (b, o) => *b = o.clone(),
    }
}

/// Renders every template with the chart's values overridden by `overrides`; returns `(file, document)` pairs.
fn render(overrides: Value) -> Result<Vec<(String, Value)>, String> {
    let dir = chart();
    let chart_meta: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(dir.join("Chart.yaml")).unwrap()).unwrap();
    let mut values: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(dir.join("values.yaml")).unwrap()).unwrap();
    merge(&mut values, &overrides);
    let root = json!({
        "Values": values,
        "Release": {"Name": "strata", "Namespace": "strata-system", "Service": "Helm"},
        "Chart": {"Name": chart_meta["name"], "Version": chart_meta["version"], "AppVersion": chart_meta["appVersion"]},
    });
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("templates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut defines = BTreeMap::new();
    let mut parsed = Vec::new();
    for f in &files {
        let src = std::fs::read_to_string(f).unwrap();
        let mut toks = lex(&src).into_iter().peekable();
        let (nodes, term) = parse(&mut toks, &mut defines);
        assert_eq!(term, None, "{}: unbalanced end", f.display());
        parsed.push((f.file_name().unwrap().to_string_lossy().into_owned(), nodes));
    }
    let r = Renderer {
        defines,
        root: root.clone(),
    };
    let mut docs = Vec::new();
    for (name, nodes) in parsed {
        if name.starts_with('_') {
            continue;
        }
        let text = r.render(&nodes, &root, &Vars::new())?;
        for doc in text.split("\n---\n") {
            let v: Value = serde_saphyr::from_str(doc)
                .unwrap_or_else(|e| panic!("{name} does not render valid YAML: {e}\n{doc}"));
            if !v.is_null() {
                docs.push((name.clone(), v));
            }
        }
    }
    Ok(docs)
}

fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(o) => {
            o.retain(|_, v| !v.is_null());
            o.values_mut().for_each(strip_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// Deserialises into `T` and back: every field must survive (a misspelt field would be dropped).
fn check_typed<T: serde::de::DeserializeOwned + serde::Serialize>(file: &str, doc: &Value) {
    let typed: T =
        serde_json::from_value(doc.clone()).unwrap_or_else(|e| panic!("{file}: {e}\n{doc:#}"));
    let mut back = serde_json::to_value(&typed).unwrap();
    let mut orig = doc.clone();
    strip_nulls(&mut back);
    strip_nulls(&mut orig);
    assert_eq!(
        back, orig,
        "{file}: fields lost in a round trip through the typed object"
    );
}

/// Checks every document and returns them by kind.
fn check_all(docs: &[(String, Value)]) -> BTreeMap<String, Vec<Value>> {
    let mut by_kind: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (file, d) in docs {
        let kind = d["kind"]
            .as_str()
            .unwrap_or_else(|| panic!("{file}: no kind"))
            .to_owned();
        match kind.as_str() {
            "Deployment" => check_typed::<Deployment>(file, d),
            "ServiceAccount" => check_typed::<ServiceAccount>(file, d),
            "Service" => check_typed::<Service>(file, d),
            "ClusterRole" => check_typed::<ClusterRole>(file, d),
            "ClusterRoleBinding" => check_typed::<ClusterRoleBinding>(file, d),
            "Role" => check_typed::<Role>(file, d),
            "RoleBinding" => check_typed::<RoleBinding>(file, d),
            "PodMonitor" | "ServiceMonitor" => {
                assert_eq!(d["apiVersion"], "monitoring.coreos.com/v1", "{file}");
                assert!(d["spec"]["selector"]["matchLabels"].is_object(), "{file}");
                let eps = if kind == "PodMonitor" {
                    "podMetricsEndpoints"
                } else {
                    "endpoints"
                };
                assert_eq!(d["spec"][eps][0]["port"], "metrics", "{file}");
            }
            other => panic!("{file}: unexpected kind {other}"),
        }
        by_kind.entry(kind).or_default().push(d.clone());
    }
    by_kind
}

fn args(d: &Value) -> Vec<String> {
    d["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect()
}

/// The container runs `/strata-operator` (which the Dockerfile installs), and that binary's command line accepts the
/// rendered arguments.
fn runs_the_lean_binary_with_flags_it_accepts(dep: &Value) {
    use clap::Parser;
    #[derive(Parser)]
    struct Bin {
        #[command(subcommand)]
        command: strata_operator::cli::Operator,
    }
    let c = &dep["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["command"], json!(["/strata-operator"]));
    let dockerfile =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Dockerfile"))
            .unwrap();
    assert!(
        dockerfile.contains("COPY --from=build /out/strata-operator /strata-operator"),
        "the image has the binary the chart runs"
    );
    let a = args(dep);
    let parsed =
        Bin::try_parse_from(std::iter::once("strata-operator".to_owned()).chain(a.clone()))
            .unwrap_or_else(|e| panic!("{a:?}: {e}"));
    assert!(matches!(
        parsed.command,
        strata_operator::cli::Operator::Run(_)
    ));
}

fn secret_rules(d: &Value) -> bool {
    d["rules"].as_array().unwrap().iter().any(|r| {
        r["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x == "secrets")
    })
}

/// Whether `role` grants what dev-database Deployments need: get/create/patch/delete deployments, list pods.
fn workload_rules(role: &Value) -> bool {
    let rules = role["rules"].as_array().cloned().unwrap_or_default();
    let grants = |group: &str, resource: &str, verbs: &[&str]| {
        rules.iter().any(|r| {
            r["apiGroups"]
                .as_array()
                .is_some_and(|g| g.iter().any(|x| x == group))
                && r["resources"]
                    .as_array()
                    .is_some_and(|g| g.iter().any(|x| x == resource))
                && verbs.iter().all(|v| {
                    r["verbs"]
                        .as_array()
                        .is_some_and(|g| g.iter().any(|x| x == v))
                })
        })
    };
    grants("apps", "deployments", &["get", "create", "patch", "delete"])
        && grants("", "pods", &["list"])
}

#[test]
fn default_values_render_valid_objects() {
    let docs = render(json!({})).unwrap();
    let k = check_all(&docs);
    let kinds: Vec<&str> = k.keys().map(String::as_str).collect();
    assert_eq!(
        kinds,
        [
            "ClusterRole",
            "ClusterRoleBinding",
            "Deployment",
            "Role",
            "RoleBinding",
            "Service",
            "ServiceAccount"
        ]
    );
    let dep = &k["Deployment"][0];
    assert_eq!(dep["metadata"]["name"], "strata-strata-operator");
    let c = &dep["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["name"], "manager");
    assert_eq!(c["image"], "ghcr.io/strata/strata:0.1.0");
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(c["securityContext"]["runAsUser"], 65532);
    assert_eq!(
        dep["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"],
        true
    );
    assert_eq!(
        dep["spec"]["template"]["spec"]["terminationGracePeriodSeconds"],
        10
    );
    let a = args(dep);
    assert!(a.contains(&"--leader-elect=true".to_owned()), "{a:?}");
    // Drift checks: off for AtlasMigration, every 10 minutes for AtlasSchema, as the operator's own defaults.
    for want in [
        "--drift-interval-migration=off",
        "--drift-interval-schema=10m",
    ] {
        assert!(a.contains(&want.to_owned()), "{want} missing from {a:?}");
    }
    runs_the_lean_binary_with_flags_it_accepts(dep);
    assert!(!a.iter().any(|x| x.starts_with("--namespace")));
    // No dev-database Deployments by default, so no rights on deployments or pods.
    assert!(!a.contains(&"--dev-db-deployments".to_owned()), "{a:?}");
    assert!(!workload_rules(&k["ClusterRole"][0]));
    // Cluster-wide Secret access by default (the reference's behaviour); the leader-election Role has leases.
    assert!(secret_rules(&k["ClusterRole"][0]));
    assert_eq!(k["Role"].len(), 1);
    assert_eq!(k["Role"][0]["rules"][0]["resources"], json!(["leases"]));
    assert_eq!(k["Service"][0]["spec"]["ports"][0]["port"], 8080);
    // Selector labels of the Service match the pod template.
    let pod_labels = &dep["spec"]["template"]["metadata"]["labels"];
    for (key, v) in k["Service"][0]["spec"]["selector"].as_object().unwrap() {
        assert_eq!(&pod_labels[key], v);
    }
}

#[test]
fn non_default_values_render_valid_objects() {
    let docs = render(json!({
        "replicaCount": 2,
        "fullnameOverride": "strata-op",
        "image": {"tag": "9.9.9"},
        "imagePullSecrets": [{"name": "regcred"}],
        "rbac": {"clusterWideSecretAccess": false, "aggregateClusterRoles": true},
        "watchNamespaces": ["team-a", "team-b"],
        "labelSelector": "strata=yes",
        "registry": {"url": "https://registry.internal"},
        "allowCustomConfig": true,
        "devDB": {"deployments": true},
        "drift": {"migrationInterval": "15m", "schemaInterval": "0"},
        "serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": "arn:x"}, "labels": {"a": "b"}},
        "podAnnotations": {"x": "y"},
        "podLabels": {"team": "db"},
        "resources": {"limits": {"memory": "64Mi"}},
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [{"key": "k", "operator": "Exists"}],
        "priorityClassName": "high",
        "revisionHistoryLimit": 3,
        "extraEnvs": [{"name": "FOO", "value": "bar"}],
        "extraVolumes": [{"name": "certs", "secret": {"secretName": "certs"}}],
        "extraVolumeMounts": [{"name": "certs", "mountPath": "/certs"}],
        "metrics": {"podMonitor": {"enabled": true, "labels": {"release": "prom"}}, "serviceMonitor": {"enabled": true}},
        "leaderElection": {"enabled": false},
    }))
    .unwrap();
    let k = check_all(&docs);
    let dep = &k["Deployment"][0];
    assert_eq!(dep["metadata"]["name"], "strata-op");
    assert_eq!(dep["spec"]["replicas"], 2);
    assert_eq!(dep["spec"]["revisionHistoryLimit"], 3);
    runs_the_lean_binary_with_flags_it_accepts(dep);
    let a = args(dep);
    for want in [
        "--namespace=team-a,team-b",
        "--label-selector=strata=yes",
        "--registry=https://registry.internal",
        "--allow-custom-config",
        "--dev-db-deployments",
        "--leader-elect=false",
        "--drift-interval-migration=15m",
        "--drift-interval-schema=0",
    ] {
        assert!(a.contains(&want.to_owned()), "{want} missing from {a:?}");
    }
    let spec = &dep["spec"]["template"]["spec"];
    assert_eq!(
        spec["containers"][0]["image"],
        "ghcr.io/strata/strata:9.9.9"
    );
    assert_eq!(spec["volumes"][1]["name"], "certs");
    assert_eq!(
        spec["containers"][0]["volumeMounts"][1]["mountPath"],
        "/certs"
    );
    assert_eq!(spec["containers"][0]["env"][3]["name"], "FOO");
    assert_eq!(spec["tolerations"][0]["key"], "k");
    // Least privilege: no cluster-wide Secret rule; a Role per watched namespace instead; no leader-election Role.
    let main_role = k["ClusterRole"]
        .iter()
        .find(|r| r["metadata"]["name"] == "strata-op")
        .unwrap();
    assert!(!secret_rules(main_role));
    // Dev-database Deployments on: exactly the verbs the operator uses on deployments and pods.
    assert!(workload_rules(main_role));
    let ns: Vec<&str> = k["Role"]
        .iter()
        .map(|r| r["metadata"]["namespace"].as_str().unwrap())
        .collect();
    assert_eq!(ns, ["team-a", "team-b"]);
    assert!(k["Role"].iter().all(secret_rules));
    assert_eq!(k["RoleBinding"].len(), 2);
    assert_eq!(k["ClusterRole"].len(), 3, "main + aggregated edit/view");
    assert!(k.contains_key("PodMonitor") && k.contains_key("ServiceMonitor"));
    assert_eq!(k["PodMonitor"][0]["metadata"]["labels"]["release"], "prom");
}

#[test]
fn limiting_secret_access_without_namespaces_is_refused() {
    let err = render(json!({"rbac": {"clusterWideSecretAccess": false}})).unwrap_err();
    assert!(err.contains("needs watchNamespaces"), "{err}");
}

#[test]
fn rbac_can_be_left_to_the_cluster_admin() {
    let docs = render(json!({"rbac": {"create": false}, "serviceAccount": {"create": false}, "metrics": {"service": {"enabled": false}}})).unwrap();
    let k = check_all(&docs);
    assert_eq!(k.keys().collect::<Vec<_>>(), ["Deployment"]);
    assert_eq!(
        k["Deployment"][0]["spec"]["template"]["spec"]["serviceAccountName"],
        "default"
    );
}
