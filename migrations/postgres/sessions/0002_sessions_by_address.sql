-- The admin listing's address filter reads just the address's rows. Not with the activity
-- time: then every activity write would move the entry.
CREATE INDEX sessions_by_address ON sessions (ip_address);
