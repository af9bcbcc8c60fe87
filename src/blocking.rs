//! Blocking work (Argon2, SQLite) called from async code.

use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::task::JoinError;

/// Runs `work`, which blocks. On a multi-threaded runtime it runs right here, Tokio handing
/// this worker's other tasks to another thread: the caller goes on the moment it is done,
/// where a hand-off to the blocking pool and back waits for two threads to wake, each likely
/// on an idle, halted core (~0.25 ms a sign-in, docs/benchmarks.md). A current-thread runtime
/// (tests) cannot, and uses the pool.
pub(crate) async fn run_blocking<T, F>(work: F) -> Result<T, JoinError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    if Handle::current().runtime_flavor() == RuntimeFlavor::MultiThread {
        Ok(tokio::task::block_in_place(work))
    } else {
        tokio::task::spawn_blocking(work).await
    }
}
