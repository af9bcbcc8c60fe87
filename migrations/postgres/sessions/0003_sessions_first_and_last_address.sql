-- The address a session was last used from, beside `ip_address`, which from now on is the one
-- it was created from and never changes. NULL in the rows stored before, whose `ip_address`
-- was the latest address: read as the same (see `SESSION_COLUMNS`).
ALTER TABLE sessions ADD COLUMN last_ip_address TEXT;
-- The admin listing's address filter finds a session by either address.
CREATE INDEX sessions_by_last_address ON sessions (last_ip_address);
