//! The deployment record of an apply run, as the CLI and the operator report it (`POST …/deployments`).
//!
//! Neither the target nor an error text holds a credential of the target URL: the target keeps only host, port,
//! database and non-secret parameters ([`target_of`]) and texts are scrubbed of the URL's secrets.

use crate::model::{DeployStatus, NewDeployment};

/// A database URL as deployments show it: credentials removed entirely (user and password), secret query
/// parameters redacted. The driver's redaction does it ([`strata_driver::without_credentials`]), so it finds a
/// password wherever `redact` does, also in a URL that does not parse.
pub fn target_of(url: &str) -> String {
    strata_driver::without_credentials(url)
}

/// A deployment record for a run that failed before executing anything (no report). `error` is scrubbed of
/// `target_url`'s credentials.
pub fn failed_deployment(
    dir: &str,
    target_url: &str,
    tag: Option<&str>,
    version: Option<&str>,
    error: &str,
) -> NewDeployment {
    let now = jiff::Timestamp::now().to_string();
    NewDeployment {
        dir: dir.to_owned(),
        target: target_of(target_url),
        tag: tag.map(str::to_owned),
        version: version.map(str::to_owned),
        from_version: String::new(),
        to_version: String::new(),
        status: DeployStatus::Failed,
        error: Some(strata_driver::scrub(error, target_url)),
        files: Vec::new(),
        statements: 0,
        duration_ms: 0,
        started_at: now.clone(),
        finished_at: now,
    }
}

#[cfg(feature = "engine")]
pub use with_engine::deployment_from_report;

#[cfg(feature = "engine")]
mod with_engine {
    use strata_engine::report::ApplyReport;

    use super::target_of;
    use crate::model::{DeployStatus, DeployedFile, NewDeployment};

    /// The record of an apply report as it stands: `failed` when it carries an error, `noop` when no file ran,
    /// `succeeded` otherwise. Neither the target nor an error text holds a credential of `target_url`.
    pub fn deployment_from_report(
        dir: &str,
        target_url: &str,
        tag: Option<&str>,
        version: Option<&str>,
        report: &ApplyReport,
    ) -> NewDeployment {
        let files: Vec<DeployedFile> = report
            .applied
            .iter()
            .map(|f| DeployedFile {
                name: f.file.name.clone(),
                statements: f.applied.len() as i64,
                error: f
                    .error
                    .as_ref()
                    .map(|e| strata_driver::scrub(&e.text, target_url)),
            })
            .collect();
        let status = if !report.error.is_empty() {
            DeployStatus::Failed
        } else if report.applied.is_empty() {
            DeployStatus::Noop
        } else {
            DeployStatus::Succeeded
        };
        let duration = report.end.duration_since(report.start).as_millis() as i64;
        NewDeployment {
            dir: dir.to_owned(),
            target: target_of(target_url),
            tag: tag.map(str::to_owned),
            version: version.map(str::to_owned),
            from_version: report.current.clone(),
            to_version: if report.target.is_empty() {
                report.current.clone()
            } else {
                report.target.clone()
            },
            status,
            error: (!report.error.is_empty())
                .then(|| strata_driver::scrub(&report.error, target_url)),
            statements: files.iter().map(|f| f.statements).sum(),
            files,
            duration_ms: duration.max(0),
            started_at: report.start.to_string(),
            finished_at: report.end.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_lose_credentials() {
        assert_eq!(
            target_of("postgres://u:secret@db:5432/app?sslmode=disable"),
            "postgres://db:5432/app?sslmode=disable"
        );
        assert_eq!(
            target_of("mysql://root:pw@localhost/x"),
            "mysql://localhost/x"
        );
        assert!(!target_of("postgres://db/app?password=hunter2").contains("hunter2"));
        assert_eq!(target_of("sqlite://file.db"), "sqlite://file.db");
        // Issue 10 item 8: the password used to survive when it held a '/', '?' or '#'.
        assert_eq!(
            target_of("postgres://u:S3cr/3tPW@host:1/x"),
            "postgres://host:1/x"
        );
        assert_eq!(
            target_of("mysql://u:S3cr?3t#PW@host:1/x"),
            "mysql://host:1/x"
        );
    }
}
