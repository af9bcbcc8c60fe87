-- Sessions by address, for the admin listing's filter: `(address, session)`, `session` a
-- rowid of `sessions`. Triggers add an entry when a session is stored or moves to another
-- address; nothing removes one when a session goes, so deleting sessions, a bulk revocation
-- above all, costs nothing more (an index on the address made that a fifth slower,
-- docs/benchmarks.md). The filter joins the entries to the sessions still at their address,
-- and the purge sweeps the others away (see `sweep_addresses`).
CREATE TABLE session_addresses (
    address TEXT NOT NULL,
    session INTEGER NOT NULL,
    PRIMARY KEY (address, session)
) WITHOUT ROWID;
CREATE TRIGGER session_address_insert AFTER INSERT ON sessions
BEGIN INSERT OR IGNORE INTO session_addresses VALUES (new.ip_address, new.rowid); END;
CREATE TRIGGER session_address_update AFTER UPDATE OF ip_address ON sessions
BEGIN INSERT OR IGNORE INTO session_addresses VALUES (new.ip_address, new.rowid); END;
INSERT INTO session_addresses SELECT ip_address, rowid FROM sessions;
