-- Sign-ins with the password proven but no session yet (`domain::pending`), by the SHA-256
-- of their token; each lives minutes. Safe to run again on a file of an older build that
-- records no versions.
CREATE TABLE IF NOT EXISTS pending_sign_ins (
    token_hash BLOB PRIMARY KEY,
    user_id INTEGER NOT NULL,
    purpose TEXT NOT NULL,
    remember_me INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
