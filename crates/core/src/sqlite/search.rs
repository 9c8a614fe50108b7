//! Full-text search over the `search_index` FTS5 table, which triggers keep in step with the
//! `nodes` and `evidence` tables.

use std::collections::HashMap;

use rusqlite::{Connection, Row, params};

use super::nodes::parse_column;
use super::trees;
use crate::error::{Error, Result};
use crate::model::{
    SEARCH_MAX_LIMIT, SEARCH_RANKED_MATCHES, SEARCH_TEXT_MAX_CHARS, SearchEntity, SearchHit,
    SearchKind, SearchQuery, SearchResults,
};

/// The first step: the row ids and bm25 scores of the newest matches that pass the filters,
/// those with the highest row ids, which are the last added to the index.
///
/// `?5` is one more than [`SEARCH_RANKED_MATCHES`], so a match beyond them shows. The bm25
/// weights follow the table's columns. The four unindexed columns get 0, and title, body and
/// tags get 4, 1 and 2, so a word in a title counts most. A tree filter keeps the tree's
/// nodes and the evidence linked to one or more of them.
pub(super) const RANK_SQL: &str = "
    SELECT rowid, bm25(search_index, 0.0, 0.0, 0.0, 0.0, 4.0, 1.0, 2.0)
    FROM search_index
    WHERE search_index MATCH ?1
      AND (?2 IS NULL OR entity_type = ?2)
      AND (?3 IS NULL OR kind = ?3)
      AND (?4 IS NULL
           OR (entity_type = 'node' AND tree_id = ?4)
           OR (entity_type = 'evidence' AND EXISTS (
                   SELECT 1 FROM links JOIN nodes ON nodes.id = links.node_id
                   WHERE links.evidence_id = search_index.entity_id AND nodes.tree_id = ?4)))
    ORDER BY rowid DESC
    LIMIT ?5";

/// The second step when every match was ranked: the fields of the chosen matches, whose row
/// ids `?4` lists as a JSON array, and a snippet of each one's best-matching column.
///
/// `?2` and `?3`, the lowest and highest of those row ids, let FTS5 skip the rest of its
/// index. The `+` keeps the `IN` list from FTS5, which would run the match once per id.
pub(super) const INDEX_HITS_SQL: &str = "
    SELECT rowid, entity_type, entity_id, kind, title, tree_id,
           snippet(search_index, -1, '**', '**', '…', 16)
    FROM search_index
    WHERE search_index MATCH ?1
      AND rowid BETWEEN ?2 AND ?3
      AND +rowid IN (SELECT value FROM json_each(?4))";

/// A temporary FTS5 table with the columns and tokenizer of `search_index`. It keeps the hits
/// of one search while their snippets are built, when there were more matches than were
/// ranked.
///
/// The column list repeats the table of migration 3 in `schema.rs`, whose text stays as it
/// was applied, so a change to `search_index` needs a matching change here.
///
/// `snippet()` works only in a full-text query. Run on `search_index`, that query finds
/// every match again, and for a prefix FTS5 merges the match lists of all the words it
/// covers, which costs as much as the ranking. On this table of at most [`SEARCH_MAX_LIMIT`]
/// rows it finds only the hits. Filling the table costs more than [`INDEX_HITS_SQL`] for a
/// few hundred matches, so it serves only searches with more.
pub(super) const HITS_TABLE_SQL: &str = "
    CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_hits USING fts5 (
        entity_type UNINDEXED,
        entity_id UNINDEXED,
        tree_id UNINDEXED,
        kind UNINDEXED,
        title,
        body,
        tags,
        tokenize = 'unicode61 remove_diacritics 2'
    )";

/// Empties [`HITS_TABLE_SQL`]'s table before a search fills it.
pub(super) const CLEAR_HITS_SQL: &str = "DELETE FROM temp.search_hits";

/// Copies the chosen matches, whose row ids `?1` lists as a JSON array, into the hits table.
pub(super) const COPY_HITS_SQL: &str = "
    INSERT INTO temp.search_hits (rowid, entity_type, entity_id, tree_id, kind, title, body, tags)
    SELECT rowid, entity_type, entity_id, tree_id, kind, title, body, tags
    FROM main.search_index
    WHERE rowid IN (SELECT value FROM json_each(?1))";

/// The second step when there were more matches than were ranked: the fields of the hits
/// copied by [`COPY_HITS_SQL`] and a snippet of each one's best-matching column.
pub(super) const TABLE_HITS_SQL: &str = "
    SELECT rowid, entity_type, entity_id, kind, title, tree_id,
           snippet(search_hits, -1, '**', '**', '…', 16)
    FROM temp.search_hits
    WHERE search_hits MATCH ?1";

/// Runs a search in two steps in one snapshot: [`rank`] and [`read_hits`].
///
/// SQLite computes every result column of every row that a statement sorts, so a single
/// statement would build a snippet for each match. The two steps build one per result.
pub(super) fn search(conn: &mut Connection, query: &SearchQuery) -> Result<SearchResults> {
    let expression = match_expression(&query.text)?;

    let tx = conn.transaction()?;
    if let Some(tree_id) = query.tree_id {
        trees::ensure_exists(&tx, tree_id)?;
    }
    let ranked = rank(&tx, &expression, query)?;
    let items = read_hits(&tx, &expression, &ranked)?;
    tx.commit()?;

    Ok(SearchResults {
        items,
        all_matches_ranked: ranked.all_matches_ranked,
    })
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

/// The best matches of a search, as row ids with their bm25 scores, best first.
struct Ranked {
    best: Vec<(i64, f64)>,
    all_matches_ranked: bool,
}

/// Scores the newest matches, at most [`SEARCH_RANKED_MATCHES`], and keeps the best
/// `query.limit` of them. Equal scores keep the older match first.
fn rank(conn: &Connection, expression: &str, query: &SearchQuery) -> Result<Ranked> {
    let mut statement = conn.prepare_cached(RANK_SQL)?;
    let rows = statement.query_map(
        params![
            expression,
            query.entity.map(SearchEntity::as_str),
            query.kind.map(SearchKind::as_str),
            query.tree_id,
            SEARCH_RANKED_MATCHES + 1
        ],
        |row| Ok((row.get::<_, i64>(0)?, row.get::<_, f64>(1)?)),
    );
    let mut scored = rows
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(|err| rejected(err, expression))?;

    let all_matches_ranked = scored.len() <= SEARCH_RANKED_MATCHES as usize;
    scored.truncate(SEARCH_RANKED_MATCHES as usize);
    scored.sort_by(|(rowid_a, score_a), (rowid_b, score_b)| {
        score_a.total_cmp(score_b).then(rowid_a.cmp(rowid_b))
    });
    scored.truncate(query.limit.clamp(1, SEARCH_MAX_LIMIT) as usize);

    Ok(Ranked {
        best: scored,
        all_matches_ranked,
    })
}

/// Reads the fields and snippets of the ranked matches, best first: from the index when
/// every match was ranked, or else through the table of [`HITS_TABLE_SQL`], which it creates
/// on first use.
fn read_hits(conn: &Connection, expression: &str, ranked: &Ranked) -> Result<Vec<SearchHit>> {
    let best = &ranked.best;
    let rowids = best.iter().map(|&(rowid, _)| rowid);
    let (Some(lowest), Some(highest)) = (rowids.clone().min(), rowids.clone().max()) else {
        return Ok(Vec::new());
    };
    let listed = rowids.map(|rowid| rowid.to_string()).collect::<Vec<_>>();
    let listed = format!("[{}]", listed.join(","));

    let rows = if ranked.all_matches_ranked {
        conn.prepare_cached(INDEX_HITS_SQL)?
            .query_map(params![expression, lowest, highest, listed], from_row)
            .and_then(|rows| rows.collect::<rusqlite::Result<HashMap<_, _>>>())
    } else {
        conn.prepare_cached(HITS_TABLE_SQL)?.execute([])?;
        conn.prepare_cached(CLEAR_HITS_SQL)?.execute([])?;
        conn.prepare_cached(COPY_HITS_SQL)?.execute([listed])?;
        conn.prepare_cached(TABLE_HITS_SQL)?
            .query_map([expression], from_row)
            .and_then(|rows| rows.collect::<rusqlite::Result<HashMap<_, _>>>())
    };
    let mut hits = rows.map_err(|err| rejected(err, expression))?;

    let ordered = best
        .iter()
        .filter_map(|&(rowid, score)| {
            let mut hit = hits.remove(&rowid)?;
            hit.rank = score;
            Some(hit)
        })
        .collect();
    Ok(ordered)
}

/// Reads one row of [`INDEX_HITS_SQL`] or [`TABLE_HITS_SQL`] as its row id and a hit whose
/// `rank` the caller sets.
fn from_row(row: &Row<'_>) -> rusqlite::Result<(i64, SearchHit)> {
    let snippet: String = row.get(6)?;

    let hit = SearchHit {
        entity: parse_column(row, 1, SearchEntity::from_name)?,
        id: row.get(2)?,
        kind: parse_column(row, 3, SearchKind::from_name)?,
        title: row.get(4)?,
        tree_id: row.get(5)?,
        snippet: snippet.split_whitespace().collect::<Vec<_>>().join(" "),
        rank: 0.0,
    };
    Ok((row.get(0)?, hit))
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
