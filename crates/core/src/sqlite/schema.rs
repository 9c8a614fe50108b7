//! The database schema and its migrations.
//!
//! Each migration is applied once, in order, inside one transaction, and `PRAGMA user_version`
//! records how many have been applied. A database from a newer build is refused rather than
//! written with an older understanding of its tables.

use rusqlite::Connection;

use crate::error::{Error, Result};

/// The migrations, oldest first; the schema version is the number applied.
const MIGRATIONS: &[&str] = &[
    // 1: trees and their nodes.
    "CREATE TABLE trees (
        id            TEXT PRIMARY KEY,
        title         TEXT NOT NULL,
        description   TEXT NOT NULL,
        root_node_id  TEXT NOT NULL,
        version       INTEGER NOT NULL DEFAULT 1,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
    ) STRICT;

    CREATE TABLE nodes (
        id           TEXT PRIMARY KEY,
        tree_id      TEXT NOT NULL REFERENCES trees (id) ON DELETE CASCADE,
        parent_id    TEXT REFERENCES nodes (id) ON DELETE CASCADE,
        kind         TEXT NOT NULL
                     CHECK (kind IN ('outcome', 'opportunity', 'solution', 'experiment')),
        title        TEXT NOT NULL,
        description  TEXT NOT NULL,
        position     INTEGER NOT NULL CHECK (position >= 0),
        version      INTEGER NOT NULL DEFAULT 1,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL
    ) STRICT;

    CREATE INDEX nodes_by_parent ON nodes (parent_id, position);
    CREATE INDEX nodes_by_tree ON nodes (tree_id);",
    // 2: experiment fields, evidence, links, history and idempotency keys.
    "ALTER TABLE nodes ADD COLUMN status TEXT
        CHECK (status IN ('planned', 'running', 'succeeded', 'failed'));
    ALTER TABLE nodes ADD COLUMN result TEXT;

    CREATE TABLE evidence (
        id                  TEXT PRIMARY KEY,
        kind                TEXT NOT NULL CHECK (kind IN ('interview_snippet', 'support_ticket',
                                'survey_response', 'metric', 'document')),
        title               TEXT NOT NULL,
        content             TEXT NOT NULL,
        source_system       TEXT,
        source_external_id  TEXT,
        source_url          TEXT,
        occurred_at         TEXT,
        customer            TEXT,
        tags                TEXT NOT NULL,
        metric              TEXT,
        version             INTEGER NOT NULL DEFAULT 1,
        created_at          TEXT NOT NULL,
        updated_at          TEXT NOT NULL
    ) STRICT;

    CREATE UNIQUE INDEX evidence_by_source ON evidence (source_system, source_external_id)
        WHERE source_system IS NOT NULL AND source_external_id IS NOT NULL;
    CREATE INDEX evidence_by_kind ON evidence (kind, id);

    CREATE TABLE evidence_tags (
        tag          TEXT NOT NULL,
        evidence_id  TEXT NOT NULL REFERENCES evidence (id) ON DELETE CASCADE,
        PRIMARY KEY (tag, evidence_id)
    ) STRICT, WITHOUT ROWID;

    CREATE INDEX evidence_tags_by_evidence ON evidence_tags (evidence_id);

    CREATE TABLE links (
        id           TEXT PRIMARY KEY,
        node_id      TEXT NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
        evidence_id  TEXT NOT NULL REFERENCES evidence (id) ON DELETE CASCADE,
        relation     TEXT NOT NULL CHECK (relation IN ('supports', 'contradicts')),
        strength     INTEGER CHECK (strength BETWEEN 1 AND 5),
        note         TEXT NOT NULL,
        version      INTEGER NOT NULL DEFAULT 1,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL,
        UNIQUE (node_id, evidence_id)
    ) STRICT;

    CREATE INDEX links_by_evidence ON links (evidence_id);

    CREATE TABLE history (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        tree_id      TEXT NOT NULL,
        at           TEXT NOT NULL,
        action       TEXT NOT NULL,
        entity_type  TEXT NOT NULL,
        entity_id    TEXT NOT NULL,
        actor        TEXT,
        before       TEXT,
        after        TEXT
    ) STRICT;

    CREATE INDEX history_by_tree ON history (tree_id, seq);

    CREATE TABLE idempotency_keys (
        key             TEXT PRIMARY KEY,
        request_digest  TEXT NOT NULL,
        status          INTEGER NOT NULL,
        body            TEXT NOT NULL,
        created_at      TEXT NOT NULL
    ) STRICT;",
    // 3: full-text search over nodes and evidence, kept in sync by triggers.
    //
    // `search_index_keys` gives each indexed entity a stable integer, used as its row id in
    // `search_index`. The row ids of `nodes` and `evidence` can't serve, because SQLite may
    // renumber the row ids of a table without an INTEGER PRIMARY KEY on VACUUM. A node's body
    // is its description and its result; an evidence item's is its content, and its tags are
    // joined with spaces. `remove_diacritics 2` lets `Malaga` match `Málaga`.
    "CREATE TABLE search_index_keys (
        id         INTEGER PRIMARY KEY,
        entity_id  TEXT NOT NULL UNIQUE
    ) STRICT;

    CREATE VIRTUAL TABLE search_index USING fts5 (
        entity_type UNINDEXED,
        entity_id UNINDEXED,
        tree_id UNINDEXED,
        kind UNINDEXED,
        title,
        body,
        tags,
        tokenize = 'unicode61 remove_diacritics 2'
    );

    CREATE TRIGGER nodes_search_insert AFTER INSERT ON nodes BEGIN
        INSERT INTO search_index_keys (entity_id) VALUES (NEW.id);
        INSERT INTO search_index (rowid, entity_type, entity_id, tree_id, kind, title, body, tags)
        VALUES (
            (SELECT id FROM search_index_keys WHERE entity_id = NEW.id),
            'node', NEW.id, NEW.tree_id, NEW.kind, NEW.title,
            NEW.description || char(10) || coalesce(NEW.result, ''), ''
        );
    END;

    CREATE TRIGGER nodes_search_update AFTER UPDATE OF title, description, result ON nodes BEGIN
        UPDATE search_index
        SET title = NEW.title, body = NEW.description || char(10) || coalesce(NEW.result, '')
        WHERE rowid = (SELECT id FROM search_index_keys WHERE entity_id = NEW.id);
    END;

    CREATE TRIGGER nodes_search_delete AFTER DELETE ON nodes BEGIN
        DELETE FROM search_index
        WHERE rowid = (SELECT id FROM search_index_keys WHERE entity_id = OLD.id);
        DELETE FROM search_index_keys WHERE entity_id = OLD.id;
    END;

    CREATE TRIGGER evidence_search_insert AFTER INSERT ON evidence BEGIN
        INSERT INTO search_index_keys (entity_id) VALUES (NEW.id);
        INSERT INTO search_index (rowid, entity_type, entity_id, tree_id, kind, title, body, tags)
        VALUES (
            (SELECT id FROM search_index_keys WHERE entity_id = NEW.id),
            'evidence', NEW.id, NULL, NEW.kind, NEW.title, NEW.content,
            coalesce((SELECT group_concat(value, ' ') FROM json_each(NEW.tags)), '')
        );
    END;

    CREATE TRIGGER evidence_search_update AFTER UPDATE OF kind, title, content, tags ON evidence
    BEGIN
        UPDATE search_index
        SET kind = NEW.kind, title = NEW.title, body = NEW.content,
            tags = coalesce((SELECT group_concat(value, ' ') FROM json_each(NEW.tags)), '')
        WHERE rowid = (SELECT id FROM search_index_keys WHERE entity_id = NEW.id);
    END;

    CREATE TRIGGER evidence_search_delete AFTER DELETE ON evidence BEGIN
        DELETE FROM search_index
        WHERE rowid = (SELECT id FROM search_index_keys WHERE entity_id = OLD.id);
        DELETE FROM search_index_keys WHERE entity_id = OLD.id;
    END;

    INSERT INTO search_index_keys (entity_id)
    SELECT id FROM nodes UNION ALL SELECT id FROM evidence;

    INSERT INTO search_index (rowid, entity_type, entity_id, tree_id, kind, title, body, tags)
    SELECT search_index_keys.id, 'node', nodes.id, nodes.tree_id, nodes.kind, nodes.title,
           nodes.description || char(10) || coalesce(nodes.result, ''), ''
    FROM nodes JOIN search_index_keys ON search_index_keys.entity_id = nodes.id;

    INSERT INTO search_index (rowid, entity_type, entity_id, tree_id, kind, title, body, tags)
    SELECT search_index_keys.id, 'evidence', evidence.id, NULL, evidence.kind, evidence.title,
           evidence.content,
           coalesce((SELECT group_concat(value, ' ') FROM json_each(evidence.tags)), '')
    FROM evidence JOIN search_index_keys ON search_index_keys.entity_id = evidence.id;",
    // 4: revision counters for the responses that read across trees.
    //
    // `evidence` moves when an evidence item or a link is added, changed or removed, since
    // the listing shows items and filters them by whether they have links. `search` also
    // moves when a node is added or removed or its indexed text changes, and not when it only
    // moves, although the store's update sets every column. Deleting a node or
    // an evidence item deletes its links through foreign keys, which runs the link triggers.
    "CREATE TABLE revisions (
        name   TEXT PRIMARY KEY,
        value  INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID;

    INSERT INTO revisions (name, value) VALUES ('evidence', 0), ('search', 0);

    CREATE TRIGGER evidence_revision_insert AFTER INSERT ON evidence BEGIN
        UPDATE revisions SET value = value + 1 WHERE name IN ('evidence', 'search');
    END;

    CREATE TRIGGER evidence_revision_update AFTER UPDATE ON evidence BEGIN
        UPDATE revisions SET value = value + 1 WHERE name IN ('evidence', 'search');
    END;

    CREATE TRIGGER evidence_revision_delete AFTER DELETE ON evidence BEGIN
        UPDATE revisions SET value = value + 1 WHERE name IN ('evidence', 'search');
    END;

    CREATE TRIGGER links_revision_insert AFTER INSERT ON links BEGIN
        UPDATE revisions SET value = value + 1 WHERE name IN ('evidence', 'search');
    END;

    CREATE TRIGGER links_revision_delete AFTER DELETE ON links BEGIN
        UPDATE revisions SET value = value + 1 WHERE name IN ('evidence', 'search');
    END;

    CREATE TRIGGER nodes_revision_insert AFTER INSERT ON nodes BEGIN
        UPDATE revisions SET value = value + 1 WHERE name = 'search';
    END;

    CREATE TRIGGER nodes_revision_update AFTER UPDATE OF title, description, result ON nodes
    WHEN OLD.title IS NOT NEW.title
      OR OLD.description IS NOT NEW.description
      OR OLD.result IS NOT NEW.result
    BEGIN
        UPDATE revisions SET value = value + 1 WHERE name = 'search';
    END;

    CREATE TRIGGER nodes_revision_delete AFTER DELETE ON nodes BEGIN
        UPDATE revisions SET value = value + 1 WHERE name = 'search';
    END;",
    // 5: search filters as index terms.
    //
    // The new `facets` column contains `node` or `evidence` and the kind, such as
    // `evidence support_ticket`. A search matches its words in title, body and tags only,
    // and each `type` or `kind` filter as a phrase in `facets`. FTS5 then finds the matches
    // that pass the filters in its index, where a test of the unindexed columns read the
    // stored row of each match. An FTS5 table gains no column by `ALTER TABLE`, so the table
    // and its triggers are made again, and filled from `nodes` and `evidence` with the row
    // ids of `search_index_keys`.
    "DROP TRIGGER nodes_search_insert;
    DROP TRIGGER nodes_search_update;
    DROP TRIGGER nodes_search_delete;
    DROP TRIGGER evidence_search_insert;
    DROP TRIGGER evidence_search_update;
    DROP TRIGGER evidence_search_delete;
    DROP TABLE search_index;

    CREATE VIRTUAL TABLE search_index USING fts5 (
        entity_type UNINDEXED,
        entity_id UNINDEXED,
        tree_id UNINDEXED,
        kind UNINDEXED,
        title,
        body,
        tags,
        facets,
        tokenize = 'unicode61 remove_diacritics 2'
    );

    CREATE TRIGGER nodes_search_insert AFTER INSERT ON nodes BEGIN
        INSERT INTO search_index_keys (entity_id) VALUES (NEW.id);
        INSERT INTO search_index
            (rowid, entity_type, entity_id, tree_id, kind, title, body, tags, facets)
        VALUES (
            (SELECT id FROM search_index_keys WHERE entity_id = NEW.id),
            'node', NEW.id, NEW.tree_id, NEW.kind, NEW.title,
            NEW.description || char(10) || coalesce(NEW.result, ''), '', 'node ' || NEW.kind
        );
    END;

    CREATE TRIGGER nodes_search_update AFTER UPDATE OF title, description, result ON nodes BEGIN
        UPDATE search_index
        SET title = NEW.title, body = NEW.description || char(10) || coalesce(NEW.result, '')
        WHERE rowid = (SELECT id FROM search_index_keys WHERE entity_id = NEW.id);
    END;

    CREATE TRIGGER nodes_search_delete AFTER DELETE ON nodes BEGIN
        DELETE FROM search_index
        WHERE rowid = (SELECT id FROM search_index_keys WHERE entity_id = OLD.id);
        DELETE FROM search_index_keys WHERE entity_id = OLD.id;
    END;

    CREATE TRIGGER evidence_search_insert AFTER INSERT ON evidence BEGIN
        INSERT INTO search_index_keys (entity_id) VALUES (NEW.id);
        INSERT INTO search_index
            (rowid, entity_type, entity_id, tree_id, kind, title, body, tags, facets)
        VALUES (
            (SELECT id FROM search_index_keys WHERE entity_id = NEW.id),
            'evidence', NEW.id, NULL, NEW.kind, NEW.title, NEW.content,
            coalesce((SELECT group_concat(value, ' ') FROM json_each(NEW.tags)), ''),
            'evidence ' || NEW.kind
        );
    END;

    CREATE TRIGGER evidence_search_update AFTER UPDATE OF kind, title, content, tags ON evidence
    BEGIN
        UPDATE search_index
        SET kind = NEW.kind, title = NEW.title, body = NEW.content,
            tags = coalesce((SELECT group_concat(value, ' ') FROM json_each(NEW.tags)), ''),
            facets = 'evidence ' || NEW.kind
        WHERE rowid = (SELECT id FROM search_index_keys WHERE entity_id = NEW.id);
    END;

    CREATE TRIGGER evidence_search_delete AFTER DELETE ON evidence BEGIN
        DELETE FROM search_index
        WHERE rowid = (SELECT id FROM search_index_keys WHERE entity_id = OLD.id);
        DELETE FROM search_index_keys WHERE entity_id = OLD.id;
    END;

    INSERT INTO search_index
        (rowid, entity_type, entity_id, tree_id, kind, title, body, tags, facets)
    SELECT search_index_keys.id, 'node', nodes.id, nodes.tree_id, nodes.kind, nodes.title,
           nodes.description || char(10) || coalesce(nodes.result, ''), '',
           'node ' || nodes.kind
    FROM nodes JOIN search_index_keys ON search_index_keys.entity_id = nodes.id;

    INSERT INTO search_index
        (rowid, entity_type, entity_id, tree_id, kind, title, body, tags, facets)
    SELECT search_index_keys.id, 'evidence', evidence.id, NULL, evidence.kind, evidence.title,
           evidence.content,
           coalesce((SELECT group_concat(value, ' ') FROM json_each(evidence.tags)), ''),
           'evidence ' || evidence.kind
    FROM evidence JOIN search_index_keys ON search_index_keys.entity_id = evidence.id;

    INSERT INTO search_index (search_index) VALUES ('optimize');",
];

/// The schema version this build creates and understands.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Returns the schema version recorded in the database.
///
/// # Errors
///
/// Returns [`Error::Storage`] when the database can't be read.
pub fn recorded_version(conn: &Connection) -> Result<i64> {
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

/// Applies every migration the database has not had yet.
///
/// # Errors
///
/// Returns [`Error::SchemaTooNew`] for a database from a newer build, and [`Error::Storage`]
/// when a migration fails, in which case the database keeps its previous version.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    let found = recorded_version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }

    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = index as i64 + 1;
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        log::info!("database schema migrated to version {version}");
    }

    Ok(())
}
