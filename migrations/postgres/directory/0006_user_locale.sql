-- The language each user picked for the pages, a BCP 47 tag such as 'ja'; NULL: none picked.
ALTER TABLE users ADD COLUMN locale TEXT;
