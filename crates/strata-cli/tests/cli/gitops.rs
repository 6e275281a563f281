//! `examples/gitops` as CI would run it: the GitHub workflows, the action (`action.yml`) and the pre-commit hooks
//! are parsed, and every `run:` step is executed with its `${{ … }}` expressions replaced by local values — a
//! temporary git repository with an `origin`, a real `strata registry serve`, a real PostgreSQL as the dev
//! database, and the `strata` the action installs from a release laid out as GitHub serves it. An expression the
//! test does not know, a `uses:` it cannot run, or a command that does not exist fails the test. Also runs
//! `examples/gitops/run-locally.sh`, the loop end to end.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::registry::{start_server, token};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Replaces every `${{ expr }}` in `text` with its value; an unknown expression fails the test.
fn subst(text: &str, exprs: &BTreeMap<String, String>, what: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("${{") {
        out.push_str(&rest[..i]);
        let end = rest[i..]
            .find("}}")
            .unwrap_or_else(|| panic!("{what}: unclosed ${{{{"));
        let expr = rest[i + 3..i + end].trim();
        let v = exprs
            .get(expr)
            .unwrap_or_else(|| panic!("{what}: no local value for the expression `{expr}`"));
        out.push_str(v);
        rest = &rest[i + end + 2..];
    }
    out.push_str(rest);
    out
}

fn str_map(v: &Value, exprs: &BTreeMap<String, String>, what: &str) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let s = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), subst(&s, exprs, what))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A runner: the runner's files and variables, the PATH the steps added, and the outcome of every step.
struct Runner {
    temp: PathBuf,
    path: Vec<String>,
    github_path: PathBuf,
    github_output: PathBuf,
}

impl Runner {
    fn new(dir: &Path) -> Self {
        let temp = dir.join("runner-temp");
        std::fs::create_dir_all(&temp).unwrap();
        let github_path = dir.join("github-path");
        let github_output = dir.join("github-output");
        std::fs::write(&github_path, "").unwrap();
        std::fs::write(&github_output, "").unwrap();
        Self {
            temp,
            path: Vec::new(),
            github_path,
            github_output,
        }
    }

    /// Runs one `run:` script as GitHub's `bash` shell does (`bash --noprofile --norc -eo pipefail`).
    fn run(&mut self, script: &str, env: &BTreeMap<String, String>, cwd: &Path) -> Output {
        let (os, arch) = match std::env::consts::ARCH {
            "aarch64" => ("Linux", "ARM64"),
            _ => ("Linux", "X64"),
        };
        // Only the system's tools and what earlier steps put on GITHUB_PATH: `strata` comes from the action.
        let mut path = self.path.clone();
        path.extend(["/usr/local/bin", "/usr/bin", "/bin"].map(String::from));
        let out = Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
            .current_dir(cwd)
            .env_clear()
            .env("PATH", path.join(":"))
            .env("HOME", std::env::var("HOME").unwrap_or_default())
            .env("RUNNER_OS", os)
            .env("RUNNER_ARCH", arch)
            .env("RUNNER_TEMP", &self.temp)
            .env("GITHUB_PATH", &self.github_path)
            .env("GITHUB_OUTPUT", &self.github_output)
            .env("STRATA_CACHE_DIR", self.temp.join("cache"))
            .env("TMPDIR", &self.temp)
            .envs(env)
            .output()
            .unwrap();
        for line in std::fs::read_to_string(&self.github_path)
            .unwrap()
            .split_terminator('\n')
        {
            if !line.is_empty() && !self.path.iter().any(|p| p == line) {
                self.path.insert(0, line.to_owned());
            }
        }
        out
    }
}

/// Runs the steps of `job` in `workflow`: `actions/checkout` is the repository already there, `OWNER/strata@…`
/// is the action at the repository root (its steps run with the step's `with:`), anything else fails the test.
/// Returns each step's name and output; stops after the first failing step.
fn run_job(
    runner: &mut Runner,
    workflow: &Path,
    job: &str,
    exprs: &BTreeMap<String, String>,
    repo: &Path,
) -> Vec<(String, Output)> {
    let w = yaml(workflow);
    let what = workflow.display().to_string();
    let j = &w["jobs"][job];
    assert!(j.is_object(), "{what}: no job {job}");
    let mut env = str_map(&w["env"], exprs, &what);
    env.extend(str_map(&j["env"], exprs, &what));
    let mut outs = Vec::new();
    for (i, step) in j["steps"].as_array().unwrap().iter().enumerate() {
        let name = step["name"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("step {i}"));
        if let Some(uses) = step["uses"].as_str() {
            if uses.starts_with("actions/checkout@") {
                continue;
            }
            assert!(
                uses.starts_with("OWNER/strata@"),
                "{what}: step {name} uses {uses}, which this test cannot run"
            );
            let with = str_map(&step["with"], exprs, &what);
            for (n, o) in run_action(runner, &with, exprs, repo) {
                let ok = o.status.success();
                outs.push((format!("{name} / {n}"), o));
                if !ok {
                    return outs;
                }
            }
            continue;
        }
        let script = subst(step["run"].as_str().unwrap(), exprs, &what);
        let mut step_env = env.clone();
        step_env.extend(str_map(&step["env"], exprs, &what));
        let o = runner.run(&script, &step_env, repo);
        let ok = o.status.success();
        outs.push((name, o));
        if !ok {
            break;
        }
    }
    outs
}

/// The composite action's steps with `with` as its inputs (defaults from `action.yml`).
fn run_action(
    runner: &mut Runner,
    with: &BTreeMap<String, String>,
    exprs: &BTreeMap<String, String>,
    repo: &Path,
) -> Vec<(String, Output)> {
    let path = root().join("action.yml");
    let a = yaml(&path);
    let what = path.display().to_string();
    assert_eq!(a["runs"]["using"], "composite", "{what}");
    let mut inputs: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in a["inputs"].as_object().unwrap() {
        inputs.insert(k.clone(), v["default"].as_str().unwrap_or("").to_owned());
    }
    for (k, v) in with {
        assert!(inputs.contains_key(k), "{what}: no input {k}");
        inputs.insert(k.clone(), v.clone());
    }
    assert!(inputs.contains_key("download-url"), "{what}");
    inputs.insert("download-url".into(), exprs[RELEASE_URL].clone());
    let mut e = exprs.clone();
    for (k, v) in &inputs {
        e.insert(format!("inputs.{k}"), v.clone());
    }
    let repository = if inputs["repository"].is_empty() {
        exprs["github.action_repository"].clone()
    } else {
        inputs["repository"].clone()
    };
    e.insert(
        "inputs.repository || github.action_repository".into(),
        repository,
    );
    let mut outs = Vec::new();
    for (i, step) in a["runs"]["steps"].as_array().unwrap().iter().enumerate() {
        if let Some(cond) = step["if"].as_str() {
            let input = cond
                .strip_prefix("inputs.")
                .and_then(|c| c.strip_suffix(" != ''"))
                .unwrap_or_else(|| {
                    panic!("{what}: condition `{cond}` is not one this test evaluates")
                });
            if inputs[input].is_empty() {
                continue;
            }
        }
        assert_eq!(step["shell"], "bash", "{what}: step {i}");
        let env = str_map(&step["env"], &e, &what);
        let cwd = match step["working-directory"].as_str() {
            Some(d) => repo.join(subst(d, &e, &what)),
            None => repo.to_owned(),
        };
        let script = subst(step["run"].as_str().unwrap(), &e, &what);
        let o = runner.run(&script, &env, &cwd);
        let ok = o.status.success();
        outs.push((format!("action step {i}"), o));
        if !ok {
            break;
        }
    }
    outs
}

/// The key of the local release's URL among the test's values (not a GitHub expression).
const RELEASE_URL: &str = "test: release url";

fn show(outs: &[(String, Output)]) -> String {
    outs.iter()
        .map(|(n, o)| {
            format!(
                "--- {n}: {}\n{}{}",
                o.status,
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            )
        })
        .collect()
}

fn all_ok(outs: &[(String, Output)]) -> bool {
    outs.iter().all(|(_, o)| o.status.success())
}

/// A release of the built `strata` laid out as `<base>/<owner>/<repo>/releases/latest/download/…` (the archive
/// holds a link to the built binary, so a 400 MB debug build is not compressed for every run).
fn fake_release(dir: &Path) -> String {
    let target = match std::env::consts::ARCH {
        "aarch64" => "aarch64-unknown-linux-gnu",
        _ => "x86_64-unknown-linux-gnu",
    };
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(assert_cmd::cargo::cargo_bin("strata"), bin.join("strata")).unwrap();
    let dl = dir.join("owner/strata/releases/latest/download");
    std::fs::create_dir_all(&dl).unwrap();
    let asset = format!("strata-{target}.tar.gz");
    let st = Command::new("tar")
        .arg("-czf")
        .arg(dl.join(&asset))
        .arg("-C")
        .arg(&bin)
        .arg("strata")
        .status()
        .unwrap();
    assert!(st.success());
    let sums = Command::new("sha256sum")
        .arg(&asset)
        .current_dir(&dl)
        .output()
        .unwrap();
    assert!(sums.status.success());
    std::fs::write(dl.join("SHA256SUMS"), sums.stdout).unwrap();
    format!("file://{}", dir.display())
}

/// The migration files of the example's ConfigMap (`manifests/10-migration-configmap.yaml`), `atlas.sum` aside.
fn example_files() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(
        root().join("examples/gitops/manifests/10-migration-configmap.yaml"),
    )
    .unwrap();
    let cm: Value = serde_saphyr::from_str(text.split("\n---\n").next().unwrap()).unwrap();
    cm["data"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.ends_with(".sql"))
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

fn write_migration(repo: &Path, name: &str, sql: &str) {
    std::fs::write(repo.join("migrations").join(name), sql).unwrap();
    let st = Command::new(assert_cmd::cargo::cargo_bin("strata"))
        .args(["migrate", "hash", "--dir", "file://migrations"])
        .current_dir(repo)
        .status()
        .unwrap();
    assert!(st.success());
}

fn curl_json(url: &str, token: &str) -> Value {
    let out = Command::new("curl")
        .args(["-fsS", "-H", &format!("Authorization: Bearer {token}"), url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{url}: {out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn curl_text(url: &str, token: &str) -> String {
    let out = Command::new("curl")
        .args(["-fsS", "-H", &format!("Authorization: Bearer {token}"), url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{url}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_workflows_the_action_and_the_hooks_run_against_a_local_registry() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(pg) = rt.block_on(strata_driver::testing::postgres()) else {
        return;
    };
    // The service container's mapped port is the test server's.
    let port = pg
        .url
        .rsplit_once('@')
        .and_then(|(_, h)| h.split_once('/'))
        .and_then(|(h, _)| h.rsplit_once(':'))
        .map(|(_, p)| p.to_owned())
        .unwrap_or_else(|| "5432".into());
    let tmp = tempfile::tempdir().unwrap();
    let gitops = root().join("examples/gitops");
    let workflows = gitops.join(".github/workflows");

    // origin (bare) and the checkout: main holds two migrations and the remote AtlasMigration manifest.
    let origin = tmp.path().join("origin.git");
    std::fs::create_dir_all(&origin).unwrap();
    git(&origin, &["init", "-q", "--bare", "-b", "main"]);
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(repo.join("migrations")).unwrap();
    std::fs::create_dir_all(repo.join("manifests")).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(
        &repo,
        &["remote", "add", "origin", origin.to_str().unwrap()],
    );
    let files = example_files();
    assert_eq!(files.len(), 2, "{files:?}");
    for (name, sql) in &files {
        write_migration(&repo, name, sql);
    }
    std::fs::copy(
        gitops.join("remote/migration.yaml"),
        repo.join("manifests/migration.yaml"),
    )
    .unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "initial"]);
    git(&repo, &["push", "-q", "origin", "main"]);

    let mut exprs: BTreeMap<String, String> = BTreeMap::new();
    exprs.insert("github.action_repository".into(), "owner/strata".into());
    exprs.insert("github.base_ref".into(), "main".into());
    exprs.insert(
        "job.services.postgres.ports['5432']".into(),
        port.to_string(),
    );
    let mut runner = Runner::new(tmp.path());
    // The action downloads from the local release (its `download-url` input, as for a GitHub Enterprise mirror).
    exprs.insert(
        RELEASE_URL.into(),
        fake_release(&tmp.path().join("release")),
    );

    // Pull request, safe: a new table on a branch. The action installs strata; validate and lint pass.
    git(&repo, &["checkout", "-q", "-b", "comments"]);
    write_migration(
        &repo,
        "20240103000000_create_comments.sql",
        "CREATE TABLE comments (\n  id bigserial PRIMARY KEY,\n  body text NOT NULL\n);\n",
    );
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "comments"]);
    let pr = workflows.join("pull-request.yml");
    let outs = run_job(&mut runner, &pr, "verify", &exprs, &repo);
    assert!(all_ok(&outs), "{}", show(&outs));
    assert_eq!(outs.len(), 3, "{}", show(&outs));
    assert!(
        !runner.path.is_empty(),
        "the action put nothing on GITHUB_PATH"
    );

    // The action's `args` runs one command in `working-directory`; a release whose archive does not match
    // SHA256SUMS is refused before it is unpacked.
    let with: BTreeMap<String, String> = [
        ("args", "migrate validate --dir 'file://migrations'"),
        ("working-directory", "."),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .into();
    let outs = run_action(&mut runner, &with, &exprs, &repo);
    assert_eq!(outs.len(), 2, "{}", show(&outs));
    assert!(all_ok(&outs), "{}", show(&outs));
    let tampered = tmp.path().join("tampered");
    let mut bad = exprs.clone();
    bad.insert(RELEASE_URL.into(), fake_release(&tampered));
    let sums = tampered.join("owner/strata/releases/latest/download/SHA256SUMS");
    let text = std::fs::read_to_string(&sums).unwrap();
    std::fs::write(&sums, format!("{}{}", "0".repeat(64), &text[64..])).unwrap();
    let mut fresh = Runner::new(&tampered);
    let outs = run_action(&mut fresh, &BTreeMap::new(), &bad, &repo);
    let (_, o) = outs.last().unwrap();
    assert!(!o.status.success(), "{}", show(&outs));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("checksum mismatch"),
        "{}",
        show(&outs)
    );
    assert!(
        fresh.path.is_empty(),
        "a refused archive is not put on PATH"
    );

    // Pull request, destructive: dropping a table fails lint with a GitHub annotation.
    git(&repo, &["checkout", "-q", "-b", "drop-posts", "main"]);
    write_migration(
        &repo,
        "20240103000000_drop_posts.sql",
        "DROP TABLE posts;\n",
    );
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "drop posts"]);
    let outs = run_job(&mut runner, &pr, "verify", &exprs, &repo);
    let (last, o) = outs.last().unwrap();
    assert_eq!(last, "Lint the files of this branch", "{}", show(&outs));
    assert_eq!(o.status.code(), Some(1), "{}", show(&outs));
    let stdout = String::from_utf8_lossy(&o.stdout);
    // On the changed line of the file, named from the repository root, as GitHub needs it.
    assert!(
        stdout.contains("::error file=migrations/20240103000000_drop_posts.sql,line=1,")
            && stdout.contains("(DS102)"),
        "{stdout}"
    );

    // Merge the safe branch; push.yml stores the directory under the commit sha (and latest).
    git(&repo, &["checkout", "-q", "main"]);
    git(&repo, &["merge", "-q", "--ff-only", "comments"]);
    git(&repo, &["push", "-q", "origin", "main"]);
    let sha = git(&repo, &["rev-parse", "HEAD"]);
    let reg_dir = tmp.path().join("registry");
    let reg_db = format!("sqlite://{}", reg_dir.join("registry.db").display());
    std::fs::create_dir_all(&reg_dir).unwrap();
    let server = start_server(&reg_db, &reg_dir);
    let push_token = token(&reg_db, "atlasdemo", "push", tmp.path());
    let read_token = token(&reg_db, "atlasdemo", "read", tmp.path());
    let mut e = exprs.clone();
    e.insert("github.sha".into(), sha.clone());
    e.insert("vars.STRATA_REGISTRY".into(), server.base.clone());
    e.insert("secrets.STRATA_TOKEN".into(), push_token.clone());
    let outs = run_job(&mut runner, &workflows.join("push.yml"), "push", &e, &repo);
    assert!(all_ok(&outs), "{}", show(&outs));
    assert!(!show(&outs).contains(&push_token), "{}", show(&outs));
    let tags = format!("{}/api/projects/atlasdemo/dirs/atlasdemo/tags", server.base);
    let at_sha = curl_json(&format!("{tags}/{sha}"), &read_token);
    let latest = curl_json(&format!("{tags}/latest"), &read_token);
    assert_eq!(at_sha["version"]["id"], latest["version"]["id"]);
    let names: Vec<&str> = at_sha["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert!(
        names.contains(&"20240103000000_create_comments.sql"),
        "{at_sha}"
    );
    // The version carries the lint report of the files the push added and the schema replayed on the dev
    // database: the version page shows the report, the schema page the tables in its ER diagram.
    let version = at_sha["version"]["id"].as_str().unwrap();
    let page = format!(
        "{}/projects/atlasdemo/dirs/atlasdemo/versions/{version}",
        server.base
    );
    let html = curl_text(&page, &read_token);
    assert!(html.contains("id=\"lint-report\""), "{html}");
    assert!(
        html.contains("20240103000000_create_comments.sql"),
        "{html}"
    );
    let schema = curl_text(&format!("{page}/schema"), &read_token);
    for table in ["posts", "comments"] {
        assert!(
            schema.contains(&format!("<g class=\"er-table\" data-table=\"{table}\"")),
            "{table}: {schema}"
        );
    }

    // bump-tag.yml: the manifest on origin's main now names the commit.
    let w = yaml(&workflows.join("bump-tag.yml"));
    assert_eq!(
        w["jobs"]["bump"]["if"],
        "github.event.workflow_run.conclusion == 'success'"
    );
    e.insert("github.event.workflow_run.head_sha".into(), sha.clone());
    let outs = run_job(
        &mut runner,
        &workflows.join("bump-tag.yml"),
        "bump",
        &e,
        &repo,
    );
    assert!(all_ok(&outs), "{}", show(&outs));
    let on_origin = git(&origin, &["show", "main:manifests/migration.yaml"]);
    let m: Value = serde_saphyr::from_str(&on_origin).unwrap();
    assert_eq!(
        m["spec"]["dir"]["remote"]["tag"],
        sha.as_str(),
        "{on_origin}"
    );
    assert_eq!(m["kind"], "AtlasMigration");

    // The pre-commit hooks, as pre-commit calls them (entry, args, then the matching staged files).
    let hooks = yaml(&root().join(".pre-commit-hooks.yaml"));
    let files: Vec<String> = std::fs::read_dir(repo.join("migrations"))
        .unwrap()
        .map(|e| format!("migrations/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    let mut ids = Vec::new();
    for h in hooks.as_array().unwrap() {
        assert_eq!(h["language"], "system");
        let re = regex::Regex::new(h["files"].as_str().unwrap()).unwrap();
        let mut cmd: Vec<String> = h["entry"]
            .as_str()
            .unwrap()
            .split_whitespace()
            .map(String::from)
            .collect();
        cmd.extend(
            h["args"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| a.as_str().unwrap().to_owned()),
        );
        if h["pass_filenames"] != false {
            cmd.extend(files.iter().filter(|f| re.is_match(f)).cloned());
        }
        let script = cmd
            .iter()
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(" ");
        let o = runner.run(&script, &BTreeMap::new(), &repo);
        assert!(o.status.success(), "{}: {o:?}", h["id"]);
        ids.push(h["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids, ["strata-lint", "strata-migrate-validate"]);
    drop(server);
}

/// The project's release workflow builds exactly the assets `action.yml` downloads: one `strata-<target>.tar.gz`
/// per target the action maps a runner to, holding `strata`, and `SHA256SUMS`.
#[test]
fn the_release_workflow_builds_the_assets_the_action_downloads() {
    let release = yaml(&root().join(".github/workflows/release.yml"));
    let mut built: Vec<String> = release["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["target"].as_str().unwrap().to_owned())
        .collect();
    built.sort();
    let text = serde_json::to_string(&release).unwrap();
    assert!(
        text.contains(r#"tar -czf \"dist/strata-${{ matrix.target }}.tar.gz\""#),
        "{text}"
    );
    assert!(
        text.contains("sha256sum strata-*.tar.gz > SHA256SUMS"),
        "{text}"
    );
    let action = std::fs::read_to_string(root().join("action.yml")).unwrap();
    let re = regex::Regex::new(r"(?m)^ +[A-Za-z]+-[A-Z0-9]+\) target=([a-z0-9_-]+) ;;$").unwrap();
    let mut mapped: Vec<String> = re.captures_iter(&action).map(|c| c[1].to_owned()).collect();
    mapped.sort();
    assert_eq!(built.len(), 4, "{built:?}");
    assert_eq!(built, mapped);
    assert!(action.contains(r#"asset="strata-${target}.tar.gz""#));
    assert!(action.contains(r#""$base/SHA256SUMS""#));
}

/// `examples/gitops/run-locally.sh` with the built `strata` (the operator through `strata operator`), against the
/// test PostgreSQL server.
#[test]
fn run_locally_sh_runs_the_loop_end_to_end() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    // Reachability (and CI=true's failure when not); the script makes a database of its own.
    let Some(_pg) = rt.block_on(strata_driver::testing::postgres()) else {
        return;
    };
    let admin = std::env::var("STRATA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| strata_driver::testing::DEFAULT_POSTGRES_URL.to_owned());
    let strata = assert_cmd::cargo::cargo_bin("strata");
    let tmp = tempfile::tempdir().unwrap();
    let pages = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg(root().join("examples/gitops/run-locally.sh"))
        .env("PAGES_DIR", pages.path())
        .env("STRATA", &strata)
        .env("STRATA_OPERATOR", format!("{} operator", strata.display()))
        .env("PG_ADMIN_URL", &admin)
        .env("TMPDIR", tmp.path())
        .env_remove("KEEP")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("==> OK: the loop works end to end"),
        "{stdout}"
    );
    assert!(stdout.contains("lint refused it, as it should"), "{stdout}");
    // The script cleaned up after itself.
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    render_the_pages_the_loop_filled(pages.path());
}

/// The registry pages the loop filled, as the registry served them (kept by the script in `PAGES_DIR`), rendered
/// by headless Chromium: a screenshot each under `target/tmp/loop-screenshots/`, and the rendered DOM checked —
/// the ER diagram holds the tables `users` and `posts` and the foreign key between them. Skipped without Chromium
/// unless `STRATA_REQUIRE_CHROMIUM` is set (scripts/test sets it under CI=true).
fn render_the_pages_the_loop_filled(pages: &Path) {
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new("which")
                .arg(b)
                .output()
                .is_ok_and(|o| o.status.success())
        });
    let Some(chromium) = chromium else {
        assert!(
            std::env::var("STRATA_REQUIRE_CHROMIUM").is_err(),
            "chromium is not installed (apt-get install chromium)"
        );
        eprintln!("chromium not installed: the loop's pages were not rendered");
        return;
    };
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("loop-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let render = |page: &str, what: &str| {
        // The stylesheet is linked from the server's root; the kept copy sits beside the page.
        let html = std::fs::read_to_string(pages.join(format!("{page}.html"))).unwrap();
        let local = pages.join(format!("{page}.local.html"));
        std::fs::write(&local, html.replace("href=\"/ui.css\"", "href=\"ui.css\"")).unwrap();
        let profile = tempfile::tempdir().unwrap();
        let out = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--window-size=1280,900",
                "--allow-file-access-from-files",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(what)
            .arg(format!("file://{}", local.display()))
            .current_dir(&shots)
            .output()
            .unwrap();
        assert!(out.status.success(), "{page}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for page in ["overview", "version", "schema", "deployment"] {
        let png = shots.join(format!("{page}.png"));
        let _ = std::fs::remove_file(&png);
        render(page, &format!("--screenshot={}", png.display()));
        let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
        assert!(size > 1000, "{page}: no screenshot at {}", png.display());
    }
    let dom = render("schema", "--dump-dom");
    let tables = dom.matches("<g class=\"er-table\"").count();
    assert_eq!(tables, 2, "users and posts: {dom}");
    assert!(
        dom.contains("data-table=\"users\"") && dom.contains("data-table=\"posts\""),
        "{dom}"
    );
    assert!(
        dom.contains("class=\"er-fk\" data-from=\"posts\" data-to=\"users\""),
        "the foreign key posts → users: {dom}"
    );
    let overview = render("overview", "--dump-dom");
    assert!(overview.contains("succeeded"), "{overview}");
}
