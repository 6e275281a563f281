//! How a registry directory is named on the command line and in a spec: `strata://PROJECT[/DIR][?tag=T|?version=V]`
//! ([`DirUrl`]) and `PROJECT[/DIR]` ([`parse_name`]).

use crate::error::InvalidName;
use crate::model::{LATEST, Ref, check_name, check_tag, check_version};

/// A directory in the registry as a `--dir` URL: `strata://PROJECT[/DIR][?tag=T|?version=V]` (also `atlas://`).
/// `DIR` defaults to the project name and the reference to `tag=latest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirUrl {
    /// Project.
    pub project: String,
    /// Directory.
    pub dir: String,
    /// Tag or version.
    pub reference: Ref,
}

impl DirUrl {
    /// Whether `url` names a registry directory (`strata://` or `atlas://`).
    pub fn is_registry(url: &str) -> bool {
        let l = url.to_ascii_lowercase();
        l.starts_with("strata://") || l.starts_with("atlas://")
    }

    /// Parses `strata://NAME?tag=T`.
    pub fn parse(url: &str) -> Result<Self, InvalidName> {
        let rest = url
            .split_once("://")
            .filter(|(s, _)| s.eq_ignore_ascii_case("strata") || s.eq_ignore_ascii_case("atlas"))
            .map(|(_, r)| r)
            .ok_or_else(|| InvalidName {
                kind: "registry directory URL",
                value: url.into(),
                reason: "use strata://PROJECT[/DIR]?tag=TAG (or atlas://…)",
            })?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (project, dir) = parse_name(path.trim_end_matches('/'))?;
        let mut reference = None;
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            let r = match k.as_ref() {
                "tag" => {
                    check_tag(&v)?;
                    Ref::Tag(v.into_owned())
                }
                "version" => {
                    check_version(&v)?;
                    Ref::Version(v.into_owned())
                }
                _ => {
                    return Err(InvalidName {
                        kind: "registry directory URL parameter",
                        value: k.into_owned(),
                        reason: "use ?tag=TAG or ?version=VERSION",
                    });
                }
            };
            if reference.replace(r).is_some() {
                return Err(InvalidName {
                    kind: "registry directory URL",
                    value: url.into(),
                    reason: "give one tag or one version",
                });
            }
        }
        Ok(Self {
            project,
            dir,
            reference: reference.unwrap_or(Ref::Tag(LATEST.into())),
        })
    }
}

/// Splits `PROJECT[/DIR]`; `DIR` defaults to `PROJECT`.
pub fn parse_name(name: &str) -> Result<(String, String), InvalidName> {
    let (project, dir) = match name.split_once('/') {
        Some((p, d)) => (p, d),
        None => (name, name),
    };
    check_name("project name", project)?;
    check_name("directory name", dir)?;
    Ok((project.to_owned(), dir.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_urls() {
        let u = DirUrl::parse("strata://app?tag=v1").unwrap();
        assert_eq!((u.project.as_str(), u.dir.as_str()), ("app", "app"));
        assert_eq!(u.reference, Ref::Tag("v1".into()));
        let u = DirUrl::parse("atlas://app/core").unwrap();
        assert_eq!(u.dir, "core");
        assert_eq!(u.reference, Ref::Tag("latest".into()));
        let v = "a".repeat(64);
        assert_eq!(
            DirUrl::parse(&format!("strata://app?version={v}"))
                .unwrap()
                .reference,
            Ref::Version(v)
        );
        for bad in [
            "file://x",
            "strata://../x",
            "strata://app?tag=a&tag=b",
            "strata://app?x=1",
            "strata://app?version=zz",
        ] {
            assert!(DirUrl::parse(bad).is_err(), "{bad}");
        }
        assert!(DirUrl::is_registry("ATLAS://x"));
    }
}
