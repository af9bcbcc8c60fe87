-- Group revocations run in the background for the console (`domain::revocation_job`), by the
-- random id of their progress page, so that every node shows them; each lives an hour past
-- its last update. Safe to run again on a file of an older build that records no versions.
CREATE TABLE IF NOT EXISTS revocation_jobs (
    id TEXT PRIMARY KEY,
    job TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
