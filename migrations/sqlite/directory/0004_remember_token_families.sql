-- A remember-me token belongs to a family: a sign-in starts one, and the token each renewal
-- issues joins the family of the one it replaces. A used token stays, with the time of its
-- use, until its family expires, so that presenting it again is recognised; each token
-- names the session it opened, so that the family's sessions can be ended. Tokens stored before this step
-- start a family each, named by their own hash; the session they opened is not known.
ALTER TABLE remember_tokens ADD COLUMN family_id TEXT NOT NULL DEFAULT '';
ALTER TABLE remember_tokens ADD COLUMN session_id TEXT;
ALTER TABLE remember_tokens ADD COLUMN used_at INTEGER;
UPDATE remember_tokens SET family_id = lower(hex(token_hash));
CREATE INDEX remember_tokens_by_family ON remember_tokens (family_id);
