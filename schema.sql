-- The azuma database schema, and the one place it is written down.
--
-- Each "-- migration N: ..." section takes a database from schema version N-1
-- to N. At start azuma applies, in one transaction, every section above the
-- file's PRAGMA user_version, then sets user_version to the last one. A
-- section that has shipped is never edited: change the schema by adding one.
--
-- Conventions: ids are UUIDs stored as their 16 bytes; times are INTEGER
-- microseconds since the Unix epoch, UTC.

-- migration 1: accounts and sessions
PRAGMA application_id = 1098544493; -- "Azum": marks the file as an azuma database

CREATE TABLE users (
    id         BLOB    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    password   TEXT    NOT NULL, -- scrypt, as a PHC string
    created_at INTEGER NOT NULL
) STRICT;

-- Only a digest of each token is kept: a copy of the file hands out no sessions.
CREATE TABLE sessions (
    token_hash BLOB    NOT NULL PRIMARY KEY, -- SHA-256 of the token's 16 bytes
    user_id    BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
