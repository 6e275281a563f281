//! Status transitions (operator-spec §8): `Ready` / `Reconciling` / `Stalled` with `observedGeneration`, and the
//! `failed` counter.

use crate::crd::{AtlasMigrationStatus, Condition};

/// Ready reason of a success.
pub const APPLIED: &str = "Applied";
/// Ready reason of every in-progress phase.
pub const RECONCILING: &str = "Reconciling";
/// Ready message when the inputs changed since the last success.
pub const DATA_CHANGED: &str = "Current migration data has changed";
/// Reasons that mean "in progress", not "failed".
const IN_PROGRESS: [&str; 3] = [RECONCILING, "GettingDevDB", "ApprovalPending"];

/// RFC 3339 time, seconds precision, as `metav1.Time` serialises.
pub fn now_rfc3339() -> String {
    let now = jiff::Timestamp::now();
    jiff::Timestamp::from_second(now.as_second())
        .unwrap_or(now)
        .to_string()
}

/// Sets a condition like `meta.SetStatusCondition`: the transition time changes only when the status does.
fn set(conds: &mut Vec<Condition>, mut c: Condition) {
    match conds.iter_mut().find(|x| x.type_ == c.type_) {
        Some(old) => {
            if old.status == c.status && !old.last_transition_time.is_empty() {
                c.last_transition_time = old.last_transition_time.clone();
            }
            *old = c;
        }
        None => conds.push(c),
    }
}

/// Sets a condition of any type as `meta.SetStatusCondition` does (the transition time kept while the status
/// stays), for conditions beyond the three this module orders (`Drifted`).
pub fn set_condition(conds: &mut Vec<Condition>, c: Condition) {
    set(conds, c);
}

fn put(
    s: &mut AtlasMigrationStatus,
    generation: i64,
    ready: bool,
    reconciling: bool,
    stalled: bool,
    reason: &str,
    message: &str,
) {
    put_conditions(
        &mut s.conditions,
        generation,
        [ready, reconciling, stalled],
        reason,
        message,
    );
    s.observed_generation = generation;
}

/// Sets `Ready`, `Reconciling` and `Stalled` (`[ready, reconciling, stalled]`) with one reason, in the order the
/// reference writes them; `Reconciling` and `Stalled` carry the message only while True. Shared by both kinds.
pub(crate) fn put_conditions(
    conds: &mut Vec<Condition>,
    generation: i64,
    [ready, reconciling, stalled]: [bool; 3],
    reason: &str,
    message: &str,
) {
    put_conditions_with(
        conds,
        generation,
        [ready, reconciling, stalled],
        reason,
        [message, message],
    );
}

/// [`put_conditions`] with a Ready message apart from the Reconciling/Stalled one (AtlasSchema's in-progress
/// phases: Ready's message is exactly `Reconciling`, the detail goes to the `Reconciling` condition).
pub(crate) fn put_conditions_with(
    conds: &mut Vec<Condition>,
    generation: i64,
    [ready, reconciling, stalled]: [bool; 3],
    reason: &str,
    [ready_message, detail]: [&str; 2],
) {
    let now = now_rfc3339();
    let b = |v: bool| if v { "True" } else { "False" }.to_owned();
    let cond = |t: &str, v: bool, msg: &str| Condition {
        type_: t.into(),
        status: b(v),
        observed_generation: generation,
        last_transition_time: now.clone(),
        reason: reason.into(),
        message: msg.into(),
    };
    // Order as the reference writes them: Ready, Reconciling, Stalled.
    let mut all = std::mem::take(conds);
    set(&mut all, cond("Ready", ready, ready_message));
    set(
        &mut all,
        cond(
            "Reconciling",
            reconciling,
            if reconciling { detail } else { "" },
        ),
    );
    set(
        &mut all,
        cond("Stalled", stalled, if stalled { detail } else { "" }),
    );
    let order = |t: &str| match t {
        "Ready" => 0,
        "Reconciling" => 1,
        "Stalled" => 2,
        _ => 3,
    };
    all.sort_by_key(|c| order(&c.type_));
    *conds = all;
}

/// `reconciling(msg)`: Ready False / `Reconciling`, Reconciling True, Stalled False, `failed` reset.
pub fn reconciling(
    mut s: AtlasMigrationStatus,
    generation: i64,
    msg: &str,
) -> AtlasMigrationStatus {
    put(&mut s, generation, false, true, false, RECONCILING, msg);
    s.failed = 0;
    s
}

/// `ready`: the whole status is replaced (hash, version, timestamp), then Ready True / `Applied`.
pub fn ready(
    old: &AtlasMigrationStatus,
    generation: i64,
    hash: &str,
    version: &str,
    last_applied: i64,
) -> AtlasMigrationStatus {
    let mut s = AtlasMigrationStatus {
        conditions: old.conditions.clone(),
        observed_hash: hash.into(),
        last_applied_version: version.into(),
        last_applied,
        ..AtlasMigrationStatus::default()
    };
    put(&mut s, generation, true, false, false, APPLIED, "");
    s
}

/// A failure that passes without the user (database or registry unreachable, a referenced object missing): Ready
/// False with the failure's reason and message (as Atlas writes it), Reconciling True with the same, Stalled False,
/// `failed` + 1 (the retry delay and `backoffLimit` count on). kstatus readers (Flux, `kubectl wait`, Helm) see
/// "in progress", not "failed".
pub fn retrying(
    mut s: AtlasMigrationStatus,
    generation: i64,
    reason: &str,
    msg: &str,
) -> AtlasMigrationStatus {
    put(&mut s, generation, false, true, false, reason, msg);
    s.failed += 1;
    s
}

/// `not-ready(reason, msg)`: in-progress reasons keep `failed` and set Reconciling; any other reason is a failure
/// that needs the user (bad spec, checksum mismatch, a failed statement, `backoffLimit` exhausted): Stalled True and
/// `failed` + 1.
pub fn not_ready(
    mut s: AtlasMigrationStatus,
    generation: i64,
    reason: &str,
    msg: &str,
) -> AtlasMigrationStatus {
    if IN_PROGRESS.contains(&reason) {
        put(&mut s, generation, false, true, false, reason, msg);
    } else {
        put(&mut s, generation, false, false, true, reason, msg);
        s.failed += 1;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(s: &AtlasMigrationStatus) -> Vec<(&str, &str, &str)> {
        s.conditions
            .iter()
            .map(|c| (c.type_.as_str(), c.status.as_str(), c.reason.as_str()))
            .collect()
    }

    #[test]
    fn transitions_follow_the_table() {
        let s = reconciling(AtlasMigrationStatus::default(), 1, "Reconciling");
        assert_eq!(
            types(&s),
            [
                ("Ready", "False", "Reconciling"),
                ("Reconciling", "True", "Reconciling"),
                ("Stalled", "False", "Reconciling")
            ]
        );
        assert_eq!(s.observed_generation, 1);
        let s = not_ready(s, 1, "ReadingMigrationData", "no directory specified");
        assert_eq!(s.failed, 1);
        assert_eq!(
            types(&s),
            [
                ("Ready", "False", "ReadingMigrationData"),
                ("Reconciling", "False", "ReadingMigrationData"),
                ("Stalled", "True", "ReadingMigrationData")
            ]
        );
        assert_eq!(s.conditions[2].message, "no directory specified");
        let s = not_ready(s, 2, RECONCILING, "waiting for the migration lock");
        assert_eq!(s.failed, 1, "in-progress reasons do not count");
        assert!(s.conditions.iter().all(|c| c.observed_generation == 2));
        let s = ready(&s, 2, "abc", "3", 1700124387);
        assert_eq!(s.failed, 0);
        assert_eq!(
            types(&s),
            [
                ("Ready", "True", "Applied"),
                ("Reconciling", "False", "Applied"),
                ("Stalled", "False", "Applied")
            ]
        );
        assert!(s.conditions.iter().all(|c| c.message.is_empty()));
        let s = retrying(s, 3, "Migrating", "connecting to postgres://h/db: refused");
        assert_eq!(s.failed, 1);
        assert_eq!(
            types(&s),
            [
                ("Ready", "False", "Migrating"),
                ("Reconciling", "True", "Migrating"),
                ("Stalled", "False", "Migrating")
            ]
        );
        assert_eq!(s.conditions[0].message, s.conditions[1].message);
        assert_eq!(s.conditions[2].message, "");
        assert_eq!(retrying(s, 3, "Migrating", "again").failed, 2);
    }

    #[test]
    fn transition_time_changes_only_with_the_status() {
        let mut s = reconciling(AtlasMigrationStatus::default(), 1, "x");
        for c in &mut s.conditions {
            c.last_transition_time = "2000-01-01T00:00:00Z".into();
        }
        let s = reconciling(s, 1, "y");
        assert!(
            s.conditions
                .iter()
                .all(|c| c.last_transition_time == "2000-01-01T00:00:00Z")
        );
        let s = ready(&s, 1, "h", "1", 1);
        assert_ne!(s.conditions[0].last_transition_time, "2000-01-01T00:00:00Z");
        // Stalled stays False: its time is kept.
        assert_eq!(s.conditions[2].last_transition_time, "2000-01-01T00:00:00Z");
    }
}
