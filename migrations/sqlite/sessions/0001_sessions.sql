CREATE TABLE sessions (
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
CREATE INDEX sessions_by_user ON sessions (user_id, last_active_at);
CREATE INDEX sessions_by_activity ON sessions (last_active_at);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
