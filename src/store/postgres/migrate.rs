//! The schema runner: a component's pending migrations (see `store::migrations`) in one
//! transaction, one node at a time.

use crate::store::migrations::{
    APPLIED_VERSION, MIGRATIONS_TABLE, Migration, RECORD_VERSION, pending,
};
use crate::store::{StoreError, StoreResult};
use deadpool_postgres::Pool;

/// Brings `component`'s tables up to the last of `migrations`, creating `schema` when
/// missing. Refuses tables a newer sessiond has migrated past what this one knows.
pub(super) async fn migrate(
    pool: &Pool,
    component: &str,
    schema: Option<&str>,
    migrations: &'static [Migration],
) -> StoreResult<()> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    // One node migrates at a time; the others wait here and then find nothing to do.
    tx.execute("SELECT pg_advisory_xact_lock(1936028531, 1)", &[])
        .await?;
    if let Some(schema) = schema {
        tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .await?;
    }
    tx.batch_execute(MIGRATIONS_TABLE).await?;
    let applied: i32 = tx.query_one(APPLIED_VERSION, &[&component]).await?.get(0);
    let known = migrations.last().map_or(0, Migration::version);
    // This build's queries may not fit tables changed by versions it does not know.
    if i64::from(applied) > known {
        return Err(StoreError::Unavailable(format!(
            "the {component} tables are at schema version {applied}, but this sessiond knows \
             versions up to {known} only: a newer sessiond has upgraded them, so run that \
             version (or newer) here too"
        )));
    }
    for migration in pending(migrations, applied.into()) {
        tx.batch_execute(migration.sql).await?;
        let version = i32::try_from(migration.version()).expect("a migration's version fits i32");
        tx.execute(RECORD_VERSION, &[&component, &version]).await?;
    }
    tx.commit().await?;
    Ok(())
}
