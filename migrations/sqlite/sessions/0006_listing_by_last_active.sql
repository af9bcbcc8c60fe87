-- The admin listing's index (see `scan_all`): the time of last activity alone, ties in rowid
-- order. The wider one it replaces also held the public id and the expiry: three times the
-- size, and changed all over by every bulk delete (docs/benchmarks.md).
DROP INDEX IF EXISTS sessions_by_recency;
CREATE INDEX IF NOT EXISTS sessions_by_last_active ON sessions (last_active_at DESC);
