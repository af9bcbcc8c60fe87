-- Keys every node of a deployment shares, drawn by the first to need one (e.g. the key of
-- the CSRF form tokens).
CREATE TABLE server_keys (
    name TEXT PRIMARY KEY,
    key BYTEA NOT NULL
);
