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

-- migration 2: channels, messages and their history
-- Authors and owners are not foreign keys: removing an account does not
-- rewrite the history others have read.
CREATE TABLE channels (
    seq         INTEGER NOT NULL PRIMARY KEY, -- creation order
    id          BLOB    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    description TEXT,
    owner       BLOB    NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

-- seq is the storage order, which history follows (never the clock).
CREATE TABLE messages (
    seq        INTEGER NOT NULL PRIMARY KEY,
    id         BLOB    NOT NULL UNIQUE,
    channel    INTEGER NOT NULL REFERENCES channels (seq) ON DELETE CASCADE,
    author     BLOB    NOT NULL,
    content    TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

-- Every history page is one range of this index: no scan of the channel.
CREATE INDEX messages_by_channel ON messages (channel, seq);

-- migration 3: a counter that anything revoking sessions outside the server
-- (azuma user passwd/remove) bumps, so that a running server drops what it
-- holds in memory and closes the revoked tokens' websockets.
CREATE TABLE meta (
    key   TEXT    NOT NULL PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

INSERT INTO meta (key, value) VALUES ('revocations', 0);

-- migration 4: names unique by how they look, and channels counted per owner.
-- name_key is the UTS #39 confusable skeleton of the case-folded name, so
-- "admin", "Admin" and "аdmin" (Cyrillic а) cannot coexist. Names from
-- before this migration get their key when azuma next starts; where two of
-- them already look alike, the later keeps NULL (and its name).
ALTER TABLE users ADD COLUMN name_key TEXT;
CREATE UNIQUE INDEX users_by_name_key ON users (name_key);
CREATE INDEX channels_by_owner ON channels (owner);

-- migration 5: edits, deletes, search and read markers.
-- A deleted message leaves `messages` (its content is gone, and with
-- PRAGMA secure_delete the bytes are zeroed); its id and place stay in
-- message_tombstones, so it is still a valid history cursor. seq is never
-- reused: new messages take one past the highest of both tables.
ALTER TABLE messages ADD COLUMN edited_at INTEGER;

CREATE TABLE message_tombstones (
    seq     INTEGER NOT NULL PRIMARY KEY,
    id      BLOB    NOT NULL UNIQUE,
    channel INTEGER NOT NULL REFERENCES channels (seq) ON DELETE CASCADE
) STRICT;
CREATE INDEX message_tombstones_by_channel ON message_tombstones (channel);

-- Full-text search over the messages' current content, kept in step in the
-- same transaction as each write: by triggers for edits and deletes, and
-- for new messages by the writer, once at the end of each group commit
-- (FTS5 flushes its pending terms at every statement savepoint, so a
-- trigger per insert would write a segment per message). Case and
-- diacritics are
-- folded; prefix indexes keep a last word of up to four letters fast; deleted
-- entries are removed from the index itself, not only hidden.
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content,
    content = 'messages',
    content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3 4',
    columnsize = 0 -- no per-message sizes: nothing ranks by bm25
);
INSERT INTO messages_fts (messages_fts, rank) VALUES ('secure-delete', 1);
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
    VALUES ('delete', old.seq, old.content);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
    VALUES ('delete', old.seq, old.content);
    INSERT INTO messages_fts (rowid, content) VALUES (new.seq, new.content);
END;

-- Where each user has read up to in each channel; a marker only moves
-- forward. `seq` orders, `message` is the id the API shows.
CREATE TABLE read_markers (
    user    BLOB    NOT NULL,
    channel INTEGER NOT NULL REFERENCES channels (seq) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    message BLOB    NOT NULL,
    PRIMARY KEY (user, channel)
) STRICT, WITHOUT ROWID;
CREATE INDEX read_markers_by_channel ON read_markers (channel);

-- For channels a user never marked, unread counts start where the history
-- stood when the account was made. Messages are stamped in seq order, so
-- for accounts made before this migration that is the last message older
-- than the account.
ALTER TABLE users ADD COLUMN first_seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX temp_messages_by_time ON messages (created_at);
UPDATE users SET first_seq = coalesce((
    SELECT seq FROM messages WHERE created_at < users.created_at
    ORDER BY created_at DESC LIMIT 1), 0);
DROP INDEX temp_messages_by_time;

-- migration 6: deleting a channel hides it at once; its rows go later.
-- A deleted channel keeps its row, stamped `deleted_at`, until the writer
-- has purged its messages (with their search entries), tombstones and
-- markers in small batches that let sends through; `channels` shows only
-- the channels that are not deleted, so nothing reads what is being purged.
-- (Renaming the table re-points the other tables' foreign keys at it.)
ALTER TABLE channels RENAME TO channel_rows;
ALTER TABLE channel_rows ADD COLUMN deleted_at INTEGER;
CREATE VIEW channels AS
    SELECT seq, id, name, description, owner, created_at FROM channel_rows
    WHERE deleted_at IS NULL;

-- migration 7: a search in one channel stays inside the index, and seq
-- numbers outlive a purge.
-- The index gets each message's channel (its seq, as a word) as a second
-- column: a search in one channel is then an AND with that channel's word
-- inside FTS5, which skips through the other words' entries, instead of a
-- filter over every match in every channel. Rebuilt from the messages.
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;
DROP TABLE messages_fts;
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content,
    channel,
    content = 'messages',
    content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3 4',
    columnsize = 0
);
INSERT INTO messages_fts (messages_fts, rank) VALUES ('secure-delete', 1);
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content, channel)
    VALUES ('delete', old.seq, old.content, old.channel);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content, channel)
    VALUES ('delete', old.seq, old.content, old.channel);
    INSERT INTO messages_fts (rowid, content, channel)
    VALUES (new.seq, new.content, new.channel);
END;

-- The highest seq ever given: a purge removes a channel's messages and
-- tombstones, and with them maybe the highest seqs; new messages must
-- still take seqs above every one an account has seen (unread counts
-- start from them). The purge raises it before it removes anything.
INSERT INTO meta (key, value) VALUES ('seq_high', max(
    coalesce((SELECT max(seq) FROM messages), 0),
    coalesce((SELECT max(seq) FROM message_tombstones), 0)));

-- migration 8: private and direct channels, their members, and invitations.
-- A private or direct channel exists only for its members: every read of a
-- channel by a user goes through the visibility test in
-- src/domain/channels.rs (`SEEN`), which joins these tables.
ALTER TABLE channel_rows ADD COLUMN kind TEXT NOT NULL DEFAULT 'public'
    CHECK (kind IN ('public', 'private', 'direct'));
-- A direct channel's people, as their sorted ids: one channel per set.
ALTER TABLE channel_rows ADD COLUMN direct_key BLOB;
CREATE UNIQUE INDEX channel_rows_by_direct_key ON channel_rows (direct_key);
DROP VIEW channels;
CREATE VIEW channels AS
    SELECT seq, id, name, description, owner, created_at, kind FROM channel_rows
    WHERE deleted_at IS NULL;
-- The members of private and direct channels; `joined` orders them (the
-- earliest takes over a channel its owner leaves).
CREATE TABLE channel_members (
    joined INTEGER PRIMARY KEY,
    channel INTEGER NOT NULL REFERENCES channel_rows (seq) ON DELETE CASCADE,
    user BLOB NOT NULL,
    UNIQUE (channel, user)
);
CREATE INDEX channel_members_by_user ON channel_members (user, channel);
-- One-use codes that let someone register on an invite-only server; only a
-- digest of each code is kept, as for tokens. created_by is NULL for codes
-- made on the command line.
CREATE TABLE invites (
    digest BLOB PRIMARY KEY,
    created_by BLOB,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE INDEX invites_by_creator ON invites (created_by, created_at);

-- migration 9: attachments, stored in this file, in chunks.
-- An upload is written a chunk per transaction, so it never holds the write
-- lock for long; it becomes visible (`complete`) once all of it, and its
-- thumbnail, are stored. `message` is the seq of the message that carries
-- it, NULL while it is its uploader's alone. Deleting a message deletes its
-- attachments and their chunks (with PRAGMA secure_delete, their bytes
-- are zeroed), whether one message goes or a channel's purge takes many.
CREATE TABLE attachments (
    seq INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    owner BLOB NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    size INTEGER NOT NULL DEFAULT 0,
    width INTEGER,
    height INTEGER,
    thumbnail_type TEXT,
    created_at INTEGER NOT NULL,
    complete INTEGER NOT NULL DEFAULT 0,
    message INTEGER
);
CREATE INDEX attachments_by_message ON attachments (message);
CREATE INDEX attachments_unused ON attachments (created_at) WHERE message IS NULL;
-- variant 0 is the file, 1 its thumbnail; n counts a variant's chunks.
CREATE TABLE attachment_chunks (
    attachment INTEGER NOT NULL REFERENCES attachments (seq) ON DELETE CASCADE,
    variant INTEGER NOT NULL,
    n INTEGER NOT NULL,
    data BLOB NOT NULL,
    UNIQUE (attachment, variant, n)
);
-- A message's attachments' names, one per line (NULL for none): search
-- finds a message by them as by its words.
ALTER TABLE messages ADD COLUMN files TEXT;
CREATE TRIGGER messages_attachments_delete AFTER DELETE ON messages
WHEN old.files IS NOT NULL BEGIN
    DELETE FROM attachments WHERE message = old.seq;
END;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content, channel)
    VALUES ('delete', old.seq, old.content || coalesce(char(10) || old.files, ''), old.channel);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content, channel)
    VALUES ('delete', old.seq, old.content || coalesce(char(10) || old.files, ''), old.channel);
    INSERT INTO messages_fts (rowid, content, channel)
    VALUES (new.seq, new.content || coalesce(char(10) || new.files, ''), new.channel);
END;
-- The server's secret keys: `links` signs attachment links.
CREATE TABLE secrets (
    name TEXT NOT NULL PRIMARY KEY,
    key  BLOB NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO secrets (name, key) VALUES ('links', randomblob(32));

-- migration 10: notifications: mentions, levels, push subscriptions.
-- A message's mentions, as the 16-byte ids of the accounts it names, one
-- after another (NULL for none); `mentions` indexes them per account and
-- channel, for unread counts. Deleting a message deletes its rows.
ALTER TABLE messages ADD COLUMN mentions BLOB;
CREATE TABLE mentions (
    user    BLOB    NOT NULL,
    channel INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    PRIMARY KEY (user, channel, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX mentions_by_seq ON mentions (seq);
CREATE TRIGGER messages_mentions_delete AFTER DELETE ON messages
WHEN old.mentions IS NOT NULL BEGIN
    DELETE FROM mentions WHERE seq = old.seq;
END;
-- A user's notification level in a channel, where it is not the default
-- (`all` in private and direct channels, `mentions` in public ones).
CREATE TABLE notification_levels (
    user    BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel INTEGER NOT NULL REFERENCES channel_rows (seq) ON DELETE CASCADE,
    level   TEXT    NOT NULL CHECK (level IN ('all', 'mentions', 'none')),
    PRIMARY KEY (user, channel)
) STRICT, WITHOUT ROWID;
CREATE INDEX notification_levels_by_channel ON notification_levels (channel);
-- Web Push subscriptions, each a browser's, made with (and ended with) one
-- session. The VAPID key pair is made on first start (`secrets`, 'vapid').
CREATE TABLE push_subscriptions (
    endpoint   TEXT    NOT NULL PRIMARY KEY,
    session    BLOB    NOT NULL REFERENCES sessions (token_hash) ON DELETE CASCADE,
    user       BLOB    NOT NULL,
    p256dh     TEXT    NOT NULL,
    auth       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user, created_at);
CREATE INDEX push_subscriptions_by_session ON push_subscriptions (session);

-- migration 11: a purge that deletes most of the messages rebuilds the
-- search index without them, instead of deleting their entries (which
-- FTS5 would then merge away in steps it cannot bound).
-- While it does, meta 'unindexed' names the purged channel, whose
-- messages leave the table without touching the index; the new index,
-- `messages_fts_next`, is filled up to meta 'reindexed_to' and kept in
-- step up to there by copies of these triggers (src/domain/reindex.rs).
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.channel IS NOT (SELECT value FROM meta WHERE key = 'unindexed') BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content, channel)
    VALUES ('delete', old.seq, old.content || coalesce(char(10) || old.files, ''), old.channel);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages
WHEN old.channel IS NOT (SELECT value FROM meta WHERE key = 'unindexed') BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content, channel)
    VALUES ('delete', old.seq, old.content || coalesce(char(10) || old.files, ''), old.channel);
    INSERT INTO messages_fts (rowid, content, channel)
    VALUES (new.seq, new.content || coalesce(char(10) || new.files, ''), new.channel);
END;

-- migration 12: unread counts at their cap without counting to it.
-- Each channel keeps how many messages it holds and the seq of its
-- 1000th newest (NULL while it holds fewer; 1000 is the cap on unread
-- counts, markers::UNREAD_CAP): a reader whose marker is below that seq
-- has the cap's worth unread, known without walking a thousand index
-- entries per channel. A new message moves it one message on; deleting
-- one at or above it moves it one back.
ALTER TABLE channel_rows ADD COLUMN message_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE channel_rows ADD COLUMN cap_seq INTEGER;
UPDATE channel_rows SET
    message_count = (SELECT count(*) FROM messages m WHERE m.channel = channel_rows.seq),
    cap_seq = (SELECT m.seq FROM messages m WHERE m.channel = channel_rows.seq
               ORDER BY m.seq DESC LIMIT 1 OFFSET 999);
CREATE TRIGGER messages_cap_insert AFTER INSERT ON messages BEGIN
    UPDATE channel_rows SET
        message_count = message_count + 1,
        cap_seq = CASE
            WHEN message_count + 1 < 1000 THEN NULL
            WHEN message_count + 1 = 1000 THEN
                (SELECT min(m.seq) FROM messages m WHERE m.channel = new.channel)
            ELSE (SELECT min(m.seq) FROM messages m
                  WHERE m.channel = new.channel AND m.seq > cap_seq)
        END
    WHERE seq = new.channel;
END;
CREATE TRIGGER messages_cap_delete AFTER DELETE ON messages BEGIN
    UPDATE channel_rows SET
        message_count = message_count - 1,
        cap_seq = CASE
            WHEN message_count - 1 < 1000 THEN NULL
            WHEN old.seq >= cap_seq THEN
                (SELECT max(m.seq) FROM messages m
                 WHERE m.channel = old.channel AND m.seq < cap_seq)
            ELSE cap_seq
        END
    WHERE seq = old.channel;
END;
