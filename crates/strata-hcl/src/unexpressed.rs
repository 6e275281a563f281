//! What Atlas's HCL schema language cannot hold, in one place: sequences that no column owns (an owned one is a
//! `serial` column), extensions, and the functions, procedures and triggers whose definition does not come apart
//! into Atlas's attributes exactly ([`crate::routine`]: PostgreSQL's `COST` or `SET`, an overloaded name, a
//! trigger with arguments or on a view, a SQLite trigger not in Strata's spelling; SQLite has no routines). The
//! printer prints, and the parser reads, the others as `function` / `procedure` / `trigger` blocks.
//!
//! Two consequences, both decided here: `schema inspect` says what its HCL leaves out ([`LeftOut`]), and an HCL
//! desired state leaves such objects of the other side as they are ([`keep_unexpressed`]) — an HCL file cannot
//! say "drop this function", so planning a drop for every function it does not mention would destroy what it
//! was never able to describe.

use strata_schema::Realm;
use strata_schema::model::{Function, RoutineKind, Schema, Trigger};

use crate::routine::{Routine, TriggerSpec};

/// The routines of `s` HCL holds, with their parts: those whose definition comes apart exactly and whose name
/// no other routine of the schema has (a block label names one routine).
pub fn routines<'a>(realm: &Realm, s: &'a Schema) -> Vec<(&'a Function, Routine)> {
    s.functions
        .iter()
        .filter(|f| s.functions.iter().filter(|g| g.name == f.name).count() == 1)
        .filter_map(|f| Some((f, Routine::read(realm.dialect, &s.name, f)?)))
        .collect()
}

/// The triggers of `s` HCL holds, with their parts: those whose definition comes apart exactly, on a table of
/// the schema, and (PostgreSQL) executing a function HCL holds and that takes no arguments.
pub fn triggers<'a>(realm: &Realm, s: &'a Schema) -> Vec<(&'a Trigger, TriggerSpec)> {
    s.triggers
        .iter()
        .filter(|t| s.table(&t.table).is_some())
        .filter_map(|t| Some((t, TriggerSpec::read(realm.dialect, &s.name, t)?)))
        .filter(|(_, spec)| match &spec.execute {
            None => true,
            Some((fs, fname)) => realm.schema(fs).is_some_and(|fs| {
                routines(realm, fs).iter().any(|(f, _)| {
                    &f.name == fname && f.kind == RoutineKind::Function && f.args.is_empty()
                })
            }),
        })
        .collect()
}

fn routine_held(realm: &Realm, s: &Schema, f: &Function) -> bool {
    routines(realm, s).iter().any(|(g, _)| *g == f)
}

fn trigger_held(realm: &Realm, s: &Schema, t: &Trigger) -> bool {
    triggers(realm, s).iter().any(|(u, _)| *u == t)
}

/// Counts of the objects a realm holds that HCL cannot express.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LeftOut {
    /// Functions and procedures.
    pub routines: usize,
    /// Triggers.
    pub triggers: usize,
    /// Sequences no column owns.
    pub sequences: usize,
    /// Extensions.
    pub extensions: usize,
}

impl LeftOut {
    /// What `realm` holds that its HCL form leaves out.
    pub fn of(realm: &Realm) -> Self {
        let mut n = LeftOut {
            extensions: realm.extensions.len(),
            ..LeftOut::default()
        };
        for s in &realm.schemas {
            n.routines += s.functions.len() - routines(realm, s).len();
            n.triggers += s.triggers.len() - triggers(realm, s).len();
            n.sequences += s.sequences.iter().filter(|q| q.owned_by.is_none()).count();
        }
        n
    }

    /// Nothing is left out.
    pub fn is_empty(&self) -> bool {
        *self == LeftOut::default()
    }
}

impl std::fmt::Display for LeftOut {
    /// `2 functions or procedures, 1 trigger` (only the kinds present).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = [
            (
                self.routines,
                "function or procedure",
                "functions or procedures",
            ),
            (self.triggers, "trigger", "triggers"),
            (self.sequences, "sequence", "sequences"),
            (self.extensions, "extension", "extensions"),
        ]
        .into_iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, one, many)| format!("{n} {}", if n == 1 { one } else { many }))
        .collect();
        f.write_str(&parts.join(", "))
    }
}

/// Copies into `desired` (an HCL desired state) the objects of `current` HCL cannot express and `desired` does not
/// hold already (what HCL can express, a desired state that leaves out means to drop), schema by schema (by name, after the two realms were aligned), so the plan between them leaves
/// those objects alone.
pub fn keep_unexpressed(current: &Realm, desired: &mut Realm) {
    for e in &current.extensions {
        if !desired.extensions.iter().any(|d| d.name == e.name) {
            desired.extensions.push(e.clone());
        }
    }
    for cs in &current.schemas {
        let Some(ds) = desired.schemas.iter_mut().find(|d| d.name == cs.name) else {
            continue;
        };
        for f in cs
            .functions
            .iter()
            .filter(|f| !routine_held(current, cs, f))
        {
            if !ds
                .functions
                .iter()
                .any(|d| d.name == f.name && d.args == f.args)
            {
                ds.functions.push(f.clone());
            }
        }
        for t in cs.triggers.iter().filter(|t| !trigger_held(current, cs, t)) {
            if !ds
                .triggers
                .iter()
                .any(|d| d.name == t.name && d.table == t.table)
            {
                ds.triggers.push(t.clone());
            }
        }
        for q in cs.sequences.iter().filter(|q| q.owned_by.is_none()) {
            if !ds.sequences.iter().any(|d| d.name == q.name) {
                ds.sequences.push(q.clone());
            }
        }
    }
    desired.sort();
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_migrate::Dialect;
    use strata_schema::model::{Function, RoutineKind, Schema, Sequence, Trigger};

    fn current() -> Realm {
        let mut r = Realm::new(Dialect::Postgres);
        let mut s = Schema::new("public");
        s.functions.push(Function {
            name: "f".into(),
            kind: RoutineKind::Function,
            args: "integer".into(),
            definition:
                "CREATE FUNCTION public.f(integer) RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$"
                    .into(),
        });
        s.triggers.push(Trigger {
            name: "t".into(),
            table: "users".into(),
            definition:
                "CREATE TRIGGER t BEFORE INSERT ON public.users FOR EACH ROW EXECUTE FUNCTION g()"
                    .into(),
        });
        let free = Sequence {
            name: "ticket".into(),
            data_type: None,
            start: 1,
            increment: 1,
            min_value: 1,
            max_value: i64::MAX,
            cache: 1,
            cycle: false,
            owned_by: None,
        };
        let owned = Sequence {
            name: "users_id_seq".into(),
            owned_by: Some("users.id".into()),
            ..free.clone()
        };
        s.sequences.push(free);
        s.sequences.push(owned);
        r.schemas.push(s);
        r
    }

    #[test]
    fn counts_what_hcl_leaves_out() {
        let n = LeftOut::of(&current());
        assert_eq!(
            n,
            LeftOut {
                routines: 1,
                triggers: 1,
                sequences: 1,
                extensions: 0
            }
        );
        assert_eq!(
            n.to_string(),
            "1 function or procedure, 1 trigger, 1 sequence"
        );
        assert!(LeftOut::of(&Realm::new(Dialect::Sqlite)).is_empty());
    }

    #[test]
    fn an_hcl_desired_state_keeps_them() {
        let cur = current();
        let mut desired = Realm::new(Dialect::Postgres);
        desired.schemas.push(Schema::new("public"));
        keep_unexpressed(&cur, &mut desired);
        let s = &desired.schemas[0];
        assert_eq!(s.functions, cur.schemas[0].functions);
        assert_eq!(s.triggers, cur.schemas[0].triggers);
        // The owned sequence is the serial column's business: HCL says whether it exists.
        assert_eq!(s.sequences.len(), 1);
        assert_eq!(s.sequences[0].name, "ticket");
        // Schemas the desired state does not hold are dropped as a whole: nothing is kept for them.
        let mut none = Realm::new(Dialect::Postgres);
        keep_unexpressed(&cur, &mut none);
        assert!(none.schemas.is_empty());
    }
}
