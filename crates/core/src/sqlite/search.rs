//! Full-text search over the `search_index` FTS5 table, which triggers keep in step with the
//! `nodes` and `evidence` tables.

use rusqlite::{Connection, Row, params};

use super::nodes::parse_column;
use super::trees;
use crate::error::{Error, Result};
use crate::model::{
    SEARCH_MAX_LIMIT, SEARCH_TEXT_MAX_CHARS, SearchEntity, SearchHit, SearchKind, SearchQuery,
};

/// The FTS5 query: each match with a short snippet of its best column, ranked by bm25.
///
/// The bm25 weights follow the table's columns. The four unindexed columns get 0, and title,
/// body and tags get 4, 1 and 2, so a word in a title counts most. A tree filter keeps the
/// tree's nodes and the evidence linked to one or more of them.
pub(super) const SEARCH_SQL: &str = "
    SELECT entity_type, entity_id, kind, title, tree_id,
           snippet(search_index, -1, '**', '**', '…', 16),
           bm25(search_index, 0.0, 0.0, 0.0, 0.0, 4.0, 1.0, 2.0) AS score
    FROM search_index
    WHERE search_index MATCH ?1
      AND (?2 IS NULL OR entity_type = ?2)
      AND (?3 IS NULL OR kind = ?3)
      AND (?4 IS NULL
           OR (entity_type = 'node' AND tree_id = ?4)
           OR (entity_type = 'evidence' AND EXISTS (
                   SELECT 1 FROM links JOIN nodes ON nodes.id = links.node_id
                   WHERE links.evidence_id = search_index.entity_id AND nodes.tree_id = ?4)))
    ORDER BY score, entity_id
    LIMIT ?5";

pub(super) fn search(conn: &mut Connection, query: &SearchQuery) -> Result<Vec<SearchHit>> {
    let expression = match_expression(&query.text)?;

    let tx = conn.transaction()?;
    if let Some(tree_id) = query.tree_id {
        trees::ensure_exists(&tx, tree_id)?;
    }
    let hits = run(&tx, &expression, query)?;
    tx.commit()?;

    Ok(hits)
}

/// Turns user text into an FTS5 query that matches every word as written.
///
/// Each white-space-separated word becomes an FTS5 string, with any `"` doubled, so no
/// operator, column filter or bracket in the text has its FTS5 meaning. The strings are
/// joined by spaces, which FTS5 reads as AND, and the last one gets `*` to match as a prefix.
/// A word with no letter or digit, such as `-`, yields no token, and FTS5 ignores it.
fn match_expression(text: &str) -> Result<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(Error::InvalidSearchQuery {
            reason: "the search text is empty: send one or more words, such as `onboarding`"
                .to_owned(),
        });
    }

    let length = trimmed.chars().count();
    if length > SEARCH_TEXT_MAX_CHARS {
        return Err(Error::InvalidSearchQuery {
            reason: format!(
                "the search text has {length} characters: shorten it to at most \
                 {SEARCH_TEXT_MAX_CHARS}"
            ),
        });
    }

    let mut strings: Vec<String> = trimmed
        .split_whitespace()
        .map(|word| format!("\"{}\"", word.replace('"', "\"\"")))
        .collect();
    if let Some(last) = strings.last_mut() {
        last.push('*');
    }

    Ok(strings.join(" "))
}

fn run(conn: &Connection, expression: &str, query: &SearchQuery) -> Result<Vec<SearchHit>> {
    let limit = query.limit.clamp(1, SEARCH_MAX_LIMIT);
    let mut statement = conn.prepare_cached(SEARCH_SQL)?;
    let rows = statement.query_map(
        params![
            expression,
            query.entity.map(SearchEntity::as_str),
            query.kind.map(SearchKind::as_str),
            query.tree_id,
            limit
        ],
        from_row,
    );

    rows.and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(|err| rejected(err, expression))
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<SearchHit> {
    let snippet: String = row.get(5)?;

    Ok(SearchHit {
        entity: parse_column(row, 0, SearchEntity::from_name)?,
        id: row.get(1)?,
        kind: parse_column(row, 2, SearchKind::from_name)?,
        title: row.get(3)?,
        tree_id: row.get(4)?,
        snippet: snippet.split_whitespace().collect::<Vec<_>>().join(" "),
        rank: row.get(6)?,
    })
}

/// Maps an error that FTS5 raised for the query expression to
/// [`Error::InvalidSearchQuery`], and any other error to [`Error::Storage`].
///
/// [`match_expression`] quotes every word, so FTS5 should never reject its output. The
/// mapping keeps a case that was missed a client error rather than a server error.
fn rejected(err: rusqlite::Error, expression: &str) -> Error {
    let rusqlite::Error::SqliteFailure(_, Some(message)) = &err else {
        return Error::Storage(err);
    };
    if !message.starts_with("fts5") {
        return Error::Storage(err);
    }

    log::warn!("FTS5 rejected the search expression {expression:?}: {message}");
    Error::InvalidSearchQuery {
        reason: format!(
            "SQLite's full-text search rejected the text ({message}): search for plain words"
        ),
    }
}
