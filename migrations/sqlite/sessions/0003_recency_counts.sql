-- The order-statistic aid of the admin listing (see `scan_all`): stored sessions (expired ones
-- included) per span of `last_active_at`, at each of `RECENCY_LEVELS` (2^18 ms, ~4.4 minutes,
-- and 2^10 ms, ~1 second). Spans emptied keep a zero row until the next purge. Triggers keep
-- it exact whoever writes the file: sessiond, the CLI, an older build, `sqlite3`.
CREATE TABLE session_recency (
    bits INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    sessions INTEGER NOT NULL,
    PRIMARY KEY (bits, bucket)
) WITHOUT ROWID;
INSERT INTO session_recency SELECT 18, last_active_at >> 18, COUNT(*) FROM sessions GROUP BY 2;
INSERT INTO session_recency SELECT 10, last_active_at >> 10, COUNT(*) FROM sessions GROUP BY 2;
CREATE TRIGGER session_recency_insert AFTER INSERT ON sessions BEGIN
    INSERT INTO session_recency VALUES (18, new.last_active_at >> 18, 1) ON CONFLICT DO UPDATE SET sessions = sessions + 1;
    INSERT INTO session_recency VALUES (10, new.last_active_at >> 10, 1) ON CONFLICT DO UPDATE SET sessions = sessions + 1;
END;
-- One update trigger per level: an activity write (once a minute) moves a session to
-- another second, but seldom to another 4.4-minute span.
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
-- A bulk delete replaces this one for its transaction (see `delete_sessions_of`).
CREATE TRIGGER session_recency_delete AFTER DELETE ON sessions BEGIN
    UPDATE session_recency SET sessions = sessions - 1 WHERE bits = 18 AND bucket = old.last_active_at >> 18;
    UPDATE session_recency SET sessions = sessions - 1 WHERE bits = 10 AND bucket = old.last_active_at >> 10;
END;
