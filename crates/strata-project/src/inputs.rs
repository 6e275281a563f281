//! What the command line gives a project: the config location (`-c/--config`) and input variables (`--var`).

use std::path::PathBuf;

use hcl::Map;

use crate::ProjectError;

/// The default of `-c/--config`.
pub const DEFAULT_CONFIG: &str = "file://atlas.hcl";

/// `--config file://path` read into a path. Atlas accepts only `file://`.
pub fn config_path(url: &str) -> Result<PathBuf, ProjectError> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(ProjectError::MissingScheme(url.to_owned()));
    };
    if scheme != "file" {
        return Err(ProjectError::UnsupportedDriver(scheme.to_owned()));
    }
    let path = rest.split(['?', '#']).next().unwrap_or_default();
    Ok(PathBuf::from(path))
}

/// `--var` values by name, in the order first given. Each value is a list: a key given more than once becomes a
/// list (Atlas's rule), so `--var tenant=a --var tenant=b` is `["a", "b"]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputVars(pub Map<String, Vec<String>>);

impl InputVars {
    /// Reads `--var` arguments: each is `k=v`, or several separated by commas (`a=1,b=2`; a double-quoted field
    /// keeps its commas, as in CSV).
    pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<InputVars, ProjectError> {
        let mut vars: Map<String, Vec<String>> = Map::new();
        for arg in args {
            for field in csv_fields(arg.as_ref()) {
                let Some((k, v)) = field.split_once('=') else {
                    return Err(ProjectError::VarFormat(field));
                };
                vars.entry(k.to_owned()).or_default().push(v.to_owned());
            }
        }
        Ok(InputVars(vars))
    }

    /// The values given for `name`.
    pub fn get(&self, name: &str) -> Option<&[String]> {
        self.0.get(name).map(Vec::as_slice)
    }
}

/// Splits one CSV record: commas separate fields, `"…"` quotes a field (`""` inside is a quote).
fn csv_fields(s: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    fields.push(cur);
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_urls() {
        assert_eq!(
            config_path("file://atlas.hcl").unwrap(),
            PathBuf::from("atlas.hcl")
        );
        assert_eq!(
            config_path("file://conf/atlas.hcl?x=1").unwrap(),
            PathBuf::from("conf/atlas.hcl")
        );
        assert_eq!(
            config_path("atlas.hcl").unwrap_err().to_string(),
            "missing scheme for config file. Did you mean file://atlas.hcl?"
        );
        assert_eq!(
            config_path("s3://b/atlas.hcl").unwrap_err().to_string(),
            "unsupported config file driver \"s3\""
        );
    }

    #[test]
    fn vars_csv_and_repeats() {
        let v = InputVars::parse(&["a=1,b=2", "a=3", "q=\"x,y\"", "e="]).unwrap();
        assert_eq!(v.get("a").unwrap(), ["1", "3"]);
        assert_eq!(v.get("b").unwrap(), ["2"]);
        assert_eq!(v.get("q").unwrap(), ["x,y"]);
        assert_eq!(v.get("e").unwrap(), [""]);
        assert_eq!(
            InputVars::parse(&["a=1,oops"]).unwrap_err().to_string(),
            "variables must be format as key=value, got: \"oops\""
        );
    }
}
