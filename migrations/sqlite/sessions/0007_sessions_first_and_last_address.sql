-- The address a session was last used from, beside `ip_address`, which from now on is the one
-- it was created from and never changes. NULL in the rows stored before, whose `ip_address`
-- was the latest address: read as the same (see `SESSION_COLUMNS`).
ALTER TABLE sessions ADD COLUMN last_ip_address TEXT;
-- The admin listing's address filter finds a session by either address: the last one gets
-- its entry too (the first has one from `session_address_insert`).
CREATE TRIGGER session_last_address_insert AFTER INSERT ON sessions
WHEN new.last_ip_address IS NOT NULL AND new.last_ip_address <> new.ip_address
BEGIN INSERT OR IGNORE INTO session_addresses VALUES (new.last_ip_address, new.rowid); END;
CREATE TRIGGER session_last_address_update AFTER UPDATE OF last_ip_address ON sessions
WHEN new.last_ip_address IS NOT NULL
BEGIN INSERT OR IGNORE INTO session_addresses VALUES (new.last_ip_address, new.rowid); END;
