-- The admin listing pages on an index that covers what it filters and sorts by.
DROP INDEX IF EXISTS sessions_by_activity;
CREATE INDEX IF NOT EXISTS sessions_by_recency ON sessions (last_active_at DESC, id, expires_at);
