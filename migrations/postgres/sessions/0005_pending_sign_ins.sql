-- Sign-ins with the password proven but no session yet (`domain::pending`), by the SHA-256
-- of their token; each lives minutes.
CREATE TABLE pending_sign_ins (
    token_hash BYTEA PRIMARY KEY,
    user_id BIGINT NOT NULL,
    purpose TEXT NOT NULL,
    remember_me BOOLEAN NOT NULL,
    expires_at BIGINT NOT NULL
);
