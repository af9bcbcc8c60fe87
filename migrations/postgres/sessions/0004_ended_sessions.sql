-- Why a session was ended (password changed, terminated by an administrator, ...), kept by
-- its token hash until the session would have expired anyway, so that the browser still
-- holding its cookie can be told at the sign-in page.
CREATE TABLE ended_sessions (
    token_hash BYTEA PRIMARY KEY,
    reason TEXT NOT NULL,
    until BIGINT NOT NULL
);
CREATE INDEX ended_sessions_by_until ON ended_sessions (until);
