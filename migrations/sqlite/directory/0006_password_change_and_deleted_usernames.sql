-- A user whose password an administrator reset must choose a new one at the next sign-in;
-- until then the session that sign-in opens reaches nothing but the change-password step.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
-- The usernames of deleted users: giving one to a new user must be confirmed, since the
-- audit trail already names somebody else by it.
CREATE TABLE deleted_usernames (
    username TEXT PRIMARY KEY,
    deleted_at INTEGER NOT NULL
);
