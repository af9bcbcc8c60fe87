//! PostgreSQL: every conformance check, and how a URL's options reach the server.

use super::isolated;
use crate::services::{Backend, psql};
use sessiond::config::StorageSettings;

session_checks!(Backend::Postgres);
directory_checks!(Backend::Postgres);

/// A PostgreSQL URL's own `options` reach the server alongside `?schema=`, which sets an
/// option of its own (the search path) and once replaced them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_options_are_kept_with_a_schema() {
    let Some(chosen) = isolated(Backend::Postgres) else {
        return;
    };
    let schema = chosen.url.rsplit_once("schema=").unwrap().1.to_owned();
    let application = format!("{schema}_options");
    let other = Backend::Sqlite.isolated().unwrap();
    let settings = StorageSettings {
        sessions: other.url.clone(),
        directory: format!(
            "{}&options=-c%20application_name%3D{application}",
            chosen.url
        ),
    };
    // The pool keeps the connection its migrations used.
    let _stores = sessiond::store::open(&settings).await.unwrap();
    let connected = |sql: String| psql(&sql).expect("psql runs");
    assert_ne!(
        connected(format!(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = '{application}'"
        )),
        "0",
        "a connection with the URL's options"
    );
    assert_ne!(
        connected(format!(
            "SELECT count(*) FROM pg_tables WHERE schemaname = '{schema}' AND tablename = 'users'"
        )),
        "0",
        "the directory's tables in the URL's schema"
    );
}
