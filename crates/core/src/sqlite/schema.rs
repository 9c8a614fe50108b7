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
