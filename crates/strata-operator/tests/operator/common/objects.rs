//! Builders of the objects the operator reads: migration files with a correct `atlas.sum`, and `AtlasMigration`s
//! with a local or a remote directory.

use std::collections::BTreeMap;

use strata_migrate::sum::SumFile;
use strata_migrate::{MigrationDir, MigrationFile};
use strata_operator::AtlasMigration;
use strata_operator::crd::{
    AtlasMigrationSpec, Cloud, Dir, KeyRef, Remote, ValueFrom, new_migration,
};

/// The namespace of the test resources.
pub const NS: &str = "apps";
/// The registry project of the remote resources (the canonical manifest's).
pub const PROJECT: &str = "atlasdemo";

pub const F1: (&str, &str) = ("1_users.sql", "CREATE TABLE users (id int PRIMARY KEY);\n");
pub const F2: (&str, &str) = ("2_posts.sql", "CREATE TABLE posts (id int PRIMARY KEY);\n");
pub const F3: (&str, &str) = (
    "3_comments.sql",
    "CREATE TABLE comments (id int PRIMARY KEY);\n",
);

/// `(name, sql)` files as `MigrationFile`s, and their `atlas.sum` (computed over the files in name order).
fn with_sum(files: &[(&str, &str)]) -> (Vec<MigrationFile>, Vec<u8>) {
    let mf: Vec<MigrationFile> = files
        .iter()
        .map(|(n, s)| MigrationFile::new(*n, s.as_bytes().to_vec()))
        .collect();
    let mut sorted = mf.clone();
    sorted.sort_by(|a, b| a.name().cmp(b.name()));
    let sum = SumFile::compute(&sorted).to_bytes();
    (mf, sum)
}

/// `(name, sql)` files → a `dir.local` map with a correct `atlas.sum`.
pub fn local(files: &[(&str, &str)]) -> BTreeMap<String, String> {
    let sum = String::from_utf8(with_sum(files).1).unwrap();
    let mut m: BTreeMap<String, String> = files
        .iter()
        .map(|(n, s)| ((*n).to_owned(), (*s).to_owned()))
        .collect();
    m.insert("atlas.sum".into(), sum);
    m
}

/// A directory of `(name, sql)` files with a correct `atlas.sum`.
pub fn migration_dir(files: &[(&str, &str)]) -> MigrationDir {
    let (mf, sum) = with_sum(files);
    MigrationDir::from_parts("test", mf, Some(sum)).unwrap()
}

/// A value read from key `key` of Secret `name`.
pub fn secret_ref(name: &str, key: &str) -> Option<ValueFrom> {
    Some(ValueFrom {
        secret_key_ref: Some(KeyRef {
            name: name.into(),
            key: key.into(),
            optional: None,
        }),
    })
}

/// `apps/app` with `files` inline (`dir.local`), its URL from key `url` of Secret `db`.
pub fn local_migration(files: &[(&str, &str)]) -> AtlasMigration {
    new_migration(
        "app",
        NS,
        AtlasMigrationSpec {
            url_from: secret_ref("db", "url"),
            dir: Dir {
                local: Some(local(files)),
                ..Dir::default()
            },
            ..AtlasMigrationSpec::default()
        },
    )
}

/// The canonical manifest's shape: `apps/migration` with remote `atlasdemo` at `tag`, project `atlasdemo`, the URL
/// from Secret `postgres-credentials`, the token from Secret `atlas-credentials`.
pub fn remote_migration(tag: &str, cloud_url: Option<&str>) -> AtlasMigration {
    new_migration(
        "migration",
        NS,
        AtlasMigrationSpec {
            url_from: secret_ref("postgres-credentials", "url"),
            cloud: Some(Cloud {
                url: cloud_url.map(Into::into),
                project: Some(PROJECT.into()),
                token_from: secret_ref("atlas-credentials", "token"),
            }),
            dir: Dir {
                remote: Some(Remote {
                    name: "atlasdemo".into(),
                    tag: tag.into(),
                }),
                ..Dir::default()
            },
            ..AtlasMigrationSpec::default()
        },
    )
}

/// `obj` as the API server returns it: with a uid and a resource version.
pub fn stored(mut obj: AtlasMigration) -> AtlasMigration {
    obj.metadata.uid = Some("7b5c3c8e-0000-4000-8000-000000000001".into());
    obj.metadata.resource_version = Some("1".into());
    obj
}
