-- Why a session was ended (password changed, terminated by an administrator, ...), kept by
-- its token hash until the session would have expired anyway, so that the browser still
-- holding its cookie can be told at the sign-in page. IF NOT EXISTS: a file adopted from an
-- older build (see `adopt_legacy`) may have it already when the steps before it run again.
CREATE TABLE IF NOT EXISTS ended_sessions (
    token_hash BLOB PRIMARY KEY,
    reason TEXT NOT NULL,
    until INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ended_sessions_by_until ON ended_sessions (until);
