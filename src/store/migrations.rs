//! Forward-only, numbered schema migrations, one model for every SQL backend: a file
//! `migrations/BACKEND/COMPONENT/NNNN_name.sql` per step, applied once and in order, and
//! recorded as (component, version) in the `sessiond_migrations` table of the database.
//! Append a file and its name here; never edit one that has shipped.

/// One schema step of one component (`sessions` or `directory`) of one backend.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The file's stem, `NNNN_name`, whose number is its version.
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    /// The version this step brings its component to.
    pub fn version(&self) -> i64 {
        self.name
            .split_once('_')
            .and_then(|(number, _)| number.parse().ok())
            .unwrap_or_else(|| panic!("migration {:?} is not named NNNN_name", self.name))
    }
}

/// The steps of `migrations` past the `applied` version, in order.
pub fn pending(
    migrations: &'static [Migration],
    applied: i64,
) -> impl Iterator<Item = &'static Migration> {
    migrations.iter().filter(move |m| m.version() > applied)
}

/// The table that records what has been applied, the same on every SQL backend.
pub const MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS sessiond_migrations (
    component TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (component, version)
)";

/// The highest version recorded for a component (0 when none).
pub const APPLIED_VERSION: &str =
    "SELECT COALESCE(MAX(version), 0) FROM sessiond_migrations WHERE component = $1";

/// Records one applied step.
pub const RECORD_VERSION: &str =
    "INSERT INTO sessiond_migrations (component, version) VALUES ($1, $2)";

macro_rules! migrations {
    ($dir:literal: $($name:literal),+ $(,)?) => {
        &[$(Migration {
            name: $name,
            sql: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/", $dir, "/", $name, ".sql")),
        }),+]
    };
}

pub const POSTGRES_SESSIONS: &[Migration] = migrations!(
    "postgres/sessions": "0001_sessions",
    "0002_sessions_by_address",
    "0003_sessions_first_and_last_address",
    "0004_ended_sessions",
    "0005_pending_sign_ins",
    "0006_revocation_jobs",
);
pub const POSTGRES_DIRECTORY: &[Migration] = migrations!(
    "postgres/directory": "0001_users_remember_tokens_audit",
    "0002_groups_api_tokens_alarms",
    "0003_remember_token_families",
    "0004_server_keys",
    "0005_password_change_and_deleted_usernames",
    "0006_user_locale",
);

pub const SQLITE_SESSIONS: &[Migration] = migrations!(
    "sqlite/sessions": "0001_sessions",
    "0002_listing_by_recency",
    "0003_recency_counts",
    "0004_sessions_in_user_spans",
    "0005_session_addresses",
    "0006_listing_by_last_active",
    "0007_sessions_first_and_last_address",
    "0008_ended_sessions",
    "0009_pending_sign_ins",
    "0010_revocation_jobs",
);
pub const SQLITE_DIRECTORY: &[Migration] = migrations!(
    "sqlite/directory": "0001_users_remember_tokens_audit",
    "0002_api_tokens_alarms",
    "0003_groups",
    "0004_remember_token_families",
    "0005_server_keys",
    "0006_password_change_and_deleted_usernames",
    "0007_user_locale",
);

/// The SQLite sessions schema this build brings a file to; it refuses a file past it.
pub const SQLITE_SESSIONS_VERSION: i64 = 10;
/// The SQLite directory schema this build brings a file to; it refuses a file past it.
pub const SQLITE_DIRECTORY_VERSION: i64 = 7;

/// Every list above with its folder, for the test that holds them to the files.
#[cfg(test)]
const ALL: &[(&str, &[Migration])] = &[
    ("postgres/sessions", POSTGRES_SESSIONS),
    ("postgres/directory", POSTGRES_DIRECTORY),
    ("sqlite/sessions", SQLITE_SESSIONS),
    ("sqlite/directory", SQLITE_DIRECTORY),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_up_from_one_without_gaps() {
        for (dir, migrations) in ALL {
            let versions: Vec<i64> = migrations.iter().map(Migration::version).collect();
            let expected: Vec<i64> = (1..=migrations.len() as i64).collect();
            assert_eq!(versions, expected, "migrations/{dir}");
        }
    }

    #[test]
    fn the_expected_versions_are_the_last_listed() {
        assert_eq!(SQLITE_SESSIONS.len() as i64, SQLITE_SESSIONS_VERSION);
        assert_eq!(SQLITE_DIRECTORY.len() as i64, SQLITE_DIRECTORY_VERSION);
    }

    #[test]
    fn every_file_is_listed_and_every_listed_file_exists() {
        for (dir, migrations) in ALL {
            let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(dir);
            let mut on_disk: Vec<String> = std::fs::read_dir(&folder)
                .unwrap()
                .map(|entry| entry.unwrap().file_name().into_string().unwrap())
                .collect();
            on_disk.sort();
            let listed: Vec<String> = migrations
                .iter()
                .map(|m| format!("{}.sql", m.name))
                .collect();
            assert_eq!(on_disk, listed, "{}", folder.display());
        }
    }
}
