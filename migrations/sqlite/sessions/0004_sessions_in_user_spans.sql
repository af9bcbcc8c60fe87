-- Each user's sessions are stored in the user's own span of rowids (see `user_span`: the
-- user id's low 31 bits, shifted up 32), so a user's rows are neighbours: revoking users
-- deletes runs of rows instead of rows all over the table (a tenth to a sixth less time for
-- 100k sessions, docs/benchmarks.md), and no index by user is needed. The stored sessions
-- move into their spans, in order of creation. Dropping the table drops its indexes and
-- triggers, made again below; the address entries name the old rowids, so they go too.
CREATE TABLE sessions_placed (
    id TEXT PRIMARY KEY,
    token_hash BLOB NOT NULL UNIQUE,
    user_id INTEGER NOT NULL,
    username TEXT NOT NULL,
    ip_address TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    browser TEXT NOT NULL,
    os TEXT NOT NULL,
    device_type TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_active_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    absolute_expires_at INTEGER NOT NULL,
    remember_me INTEGER NOT NULL
);
INSERT INTO sessions_placed (rowid, id, token_hash, user_id, username, ip_address, user_agent,
        browser, os, device_type, created_at, last_active_at, expires_at, absolute_expires_at,
        remember_me)
    SELECT ((user_id & 2147483647) << 32) - 1 + ROW_NUMBER() OVER (
               PARTITION BY ((user_id & 2147483647) << 32) ORDER BY created_at, id),
           id, token_hash, user_id, username, ip_address, user_agent, browser, os, device_type,
           created_at, last_active_at, expires_at, absolute_expires_at, remember_me
    FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_placed RENAME TO sessions;
DROP TABLE IF EXISTS session_addresses;
CREATE INDEX sessions_by_recency ON sessions (last_active_at DESC, id, expires_at);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
-- Refuses a session stored elsewhere, say by an older build, which would otherwise escape
-- its user's listing and revocation.
CREATE TRIGGER sessions_in_user_span AFTER INSERT ON sessions
WHEN new.rowid NOT BETWEEN ((new.user_id & 2147483647) << 32)
    AND ((new.user_id & 2147483647) << 32) | 4294967295
BEGIN
    SELECT RAISE(ABORT, 'a session must be stored in its user''s span of rowids; this sessiond is older than the database');
END;
-- The listing's counts stay as they are (the same sessions, the same activity); their
-- triggers, dropped with the table, as in 0003.
CREATE TRIGGER session_recency_insert AFTER INSERT ON sessions BEGIN
    INSERT INTO session_recency VALUES (18, new.last_active_at >> 18, 1) ON CONFLICT DO UPDATE SET sessions = sessions + 1;
    INSERT INTO session_recency VALUES (10, new.last_active_at >> 10, 1) ON CONFLICT DO UPDATE SET sessions = sessions + 1;
END;
CREATE TRIGGER session_recency_update_18 AFTER UPDATE OF last_active_at ON sessions
WHEN old.last_active_at >> 18 <> new.last_active_at >> 18 BEGIN
    UPDATE session_recency SET sessions = sessions - 1 WHERE bits = 18 AND bucket = old.last_active_at >> 18;
    INSERT INTO session_recency VALUES (18, new.last_active_at >> 18, 1) ON CONFLICT DO UPDATE SET sessions = sessions + 1;
END;
CREATE TRIGGER session_recency_update_10 AFTER UPDATE OF last_active_at ON sessions
WHEN old.last_active_at >> 10 <> new.last_active_at >> 10 BEGIN
    UPDATE session_recency SET sessions = sessions - 1 WHERE bits = 10 AND bucket = old.last_active_at >> 10;
    INSERT INTO session_recency VALUES (10, new.last_active_at >> 10, 1) ON CONFLICT DO UPDATE SET sessions = sessions + 1;
END;
CREATE TRIGGER session_recency_delete AFTER DELETE ON sessions BEGIN
    UPDATE session_recency SET sessions = sessions - 1 WHERE bits = 18 AND bucket = old.last_active_at >> 18;
    UPDATE session_recency SET sessions = sessions - 1 WHERE bits = 10 AND bucket = old.last_active_at >> 10;
END;
