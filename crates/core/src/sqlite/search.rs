//! Full-text search over the `search_index` FTS5 table, which triggers keep in step with the
//! `nodes` and `evidence` tables.
//!
//! A search runs in three steps, each bounded by [`SEARCH_RANKED_MATCHES`] rather than by the
//! size of the store: [`find`] the newest matches, [`rank`] them, and [`read_hits`] for the
//! best of them. Most searches score the matches while they find them, in one statement
//! ([`find_in_scope`]). FTS5's bm25 counts the items that contain each word of the query, once per
//! query, by reading that word's whole match list. For a word in more items than are ranked,
//! that read grows with the store, so the matches are ranked with [`bm25_no_idf`] instead,
//! which skips the count. Counted among the ranked matches only, every word would be in
//! every match and weigh the same. A search with a tree filter ranks with bm25 in a table
//! of its own, below.
//!
//! The words match in the title, body and tags columns only. A `type` or `kind` filter is
//! a phrase in the `facets` column, so FTS5 finds the matches that pass it in its index. A
//! search with a tree filter and a common word copies the tree's nodes and linked evidence
//! into a table of its own first and searches there, so its cost grows with the tree, not
//! with the store.
//!
//! NOTE: that table is in memory, so a search in a tree of many thousand nodes and linked
//! items keeps all of their text in memory while it runs.

#[allow(unsafe_code)]
mod bm25_no_idf;

use std::collections::HashMap;

use rusqlite::types::Null;
use rusqlite::{Connection, Row, params};

use super::nodes::parse_column;
use super::trees;
use crate::error::{Error, Result};
use crate::model::{
    SEARCH_MAX_LIMIT, SEARCH_MAX_WORDS, SEARCH_RANKED_MATCHES, SEARCH_TEXT_MAX_CHARS, SearchEntity,
    SearchHit, SearchKind, SearchQuery, SearchResults,
};

/// The part of the find statements after their result columns: the newest matches of `?1`,
/// which includes any `type` and `kind` filter, those with the highest row ids, which are
/// the last added to the index. When `?3` is not `NULL`, only the nodes of that tree and the
/// evidence linked to one or more of them.
///
/// `?2` is one more than [`SEARCH_RANKED_MATCHES`], so a match beyond them shows. FTS5 reads
/// the match lists from their end and stops at the limit. The tree test reads the stored
/// row of each match, so it runs only for words with few matches.
macro_rules! find_newest {
    () => {
        "
    FROM search_index
    WHERE search_index MATCH ?1
      AND (?3 IS NULL
           OR (entity_type = 'node' AND tree_id = ?3)
           OR (entity_type = 'evidence' AND EXISTS (
                   SELECT 1 FROM links JOIN nodes ON nodes.id = links.node_id
                   WHERE links.evidence_id = search_index.entity_id AND nodes.tree_id = ?3)))
    ORDER BY rowid DESC
    LIMIT ?2"
    };
}

/// The row ids of the newest matches, as [`find_newest`] describes them.
pub(super) const FIND_SQL: &str = concat!("SELECT rowid", find_newest!());

/// [`FIND_SQL`] with each match's bm25 score.
///
/// The bm25 weights follow the table's columns. The four unindexed columns and `facets` get
/// 0, and title, body and tags get 4, 1 and 2, so a word in a title counts most.
///
/// Scoring the matches while finding them reads their match lists once. [`rank`] reads them
/// a second time, for the found row ids, which took about a quarter of a common-word search.
pub(super) const FIND_SCORED_SQL: &str = concat!(
    "SELECT rowid, bm25(search_index, 0.0, 0.0, 0.0, 0.0, 4.0, 1.0, 2.0, 0.0)",
    find_newest!()
);

/// [`FIND_SCORED_SQL`] with [`bm25_no_idf`], for a search with a word in more items than a
/// search ranks.
pub(super) const FIND_SCORED_NO_IDF_SQL: &str = concat!(
    "SELECT rowid, bm25_no_idf(search_index, 0.0, 0.0, 0.0, 0.0, 4.0, 1.0, 2.0, 0.0)",
    find_newest!()
);

/// The row ids of the newest `?2` entries that pass the filters `?1`, newest first.
///
/// FTS5 reads a single filter's match list from its end, one entry after another. Reading a
/// match list backwards to a row id far from its end is what makes [`FIND_SQL`] slow for
/// a common word with a filter that only older items pass (see [`find_by_filters`]).
pub(super) const FILTER_ENTRIES_SQL: &str = "
    SELECT rowid
    FROM search_index
    WHERE search_index MATCH ?1
    ORDER BY rowid DESC
    LIMIT ?2";

/// The row ids of the matches of `?1` from row id `?2` on, in ascending order.
///
/// FTS5 reaches `?2` reading forwards. In SQLite 3.50.2 a forward seek (`fts5SegIterNextFrom`)
/// steps through the doclist index without decoding an index page again, unlike a backward
/// one.
pub(super) const FIND_FROM_SQL: &str = "
    SELECT rowid
    FROM search_index
    WHERE search_index MATCH ?1
      AND rowid >= ?2
    ORDER BY rowid";

/// Copies the nodes of tree `?1` and the evidence linked to one or more of them from the
/// index into the matches table of [`MATCHES_TABLE_SQL`].
///
/// The members come from the tree's own rows and are read by row id, so the cost grows with
/// the tree. Looking each member up with `MATCH` in the index instead took about 4 ms per
/// member for a common word in a database of 1,000,000 nodes (BENCHMARKS.md).
pub(super) const COPY_TREE_SQL: &str = "
    WITH members (entity_id) AS (
        SELECT id FROM nodes WHERE tree_id = ?1
        UNION
        SELECT links.evidence_id
        FROM nodes JOIN links ON links.node_id = nodes.id
        WHERE nodes.tree_id = ?1
    )
    INSERT INTO temp.search_matches
        (rowid, entity_type, entity_id, tree_id, kind, title, body, tags, facets)
    SELECT search_index.rowid, search_index.entity_type, search_index.entity_id,
           search_index.tree_id, search_index.kind, search_index.title, search_index.body,
           search_index.tags, search_index.facets
    FROM members
    CROSS JOIN search_index_keys ON search_index_keys.entity_id = members.entity_id
    CROSS JOIN main.search_index ON search_index.rowid = search_index_keys.id";

/// [`FIND_SQL`] without its tree test, in the matches table, which contains only one
/// tree's members.
pub(super) const FIND_IN_TABLE_SQL: &str = "
    SELECT rowid
    FROM temp.search_matches
    WHERE search_matches MATCH ?1
    ORDER BY rowid DESC
    LIMIT ?2";

/// One row for each item that one word of the query matches, `?2` rows at most.
pub(super) const WORD_MATCHES_SQL: &str =
    "SELECT 1 FROM search_index WHERE search_index MATCH ?1 LIMIT ?2";

/// The [`bm25_no_idf`] scores of the found matches, whose row ids `?4` lists as a JSON
/// array, in the index, weighted as in [`FIND_SCORED_SQL`].
///
/// `?2` and `?3`, the lowest and highest of the row ids, let FTS5 skip the rest of its index.
/// The `+` keeps the `IN` list from FTS5, which would run the match once per id.
pub(super) const INDEX_RANK_NO_IDF_SQL: &str = "
    SELECT rowid, bm25_no_idf(search_index, 0.0, 0.0, 0.0, 0.0, 4.0, 1.0, 2.0, 0.0)
    FROM search_index
    WHERE search_index MATCH ?1
      AND rowid BETWEEN ?2 AND ?3
      AND +rowid IN (SELECT value FROM json_each(?4))";

/// The fields of the best matches, chosen as in [`INDEX_RANK_NO_IDF_SQL`], and a snippet of
/// each one's best-matching column.
pub(super) const INDEX_HITS_SQL: &str = "
    SELECT rowid, entity_type, entity_id, kind, title, tree_id,
           snippet(search_index, -1, '**', '**', '…', 16)
    FROM search_index
    WHERE search_index MATCH ?1
      AND rowid BETWEEN ?2 AND ?3
      AND +rowid IN (SELECT value FROM json_each(?4))";

/// A temporary FTS5 table with the columns and tokenizer of `search_index`. It contains the
/// members of one tree while a search with a tree filter and a common word runs.
///
/// The column list repeats the table of migration 5 in `schema.rs`, whose text stays as it
/// was applied, so a change to `search_index` needs a matching change here.
pub(super) const MATCHES_TABLE_SQL: &str = "
    CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_matches USING fts5 (
        entity_type UNINDEXED,
        entity_id UNINDEXED,
        tree_id UNINDEXED,
        kind UNINDEXED,
        title,
        body,
        tags,
        facets,
        tokenize = 'unicode61 remove_diacritics 2'
    )";

/// [`INDEX_RANK_NO_IDF_SQL`] with bm25, on the matches table.
pub(super) const TABLE_RANK_SQL: &str = "
    SELECT rowid, bm25(search_matches, 0.0, 0.0, 0.0, 0.0, 4.0, 1.0, 2.0, 0.0)
    FROM temp.search_matches
    WHERE search_matches MATCH ?1
      AND rowid BETWEEN ?2 AND ?3
      AND +rowid IN (SELECT value FROM json_each(?4))";

/// [`INDEX_HITS_SQL`] on the matches table.
pub(super) const TABLE_HITS_SQL: &str = "
    SELECT rowid, entity_type, entity_id, kind, title, tree_id,
           snippet(search_matches, -1, '**', '**', '…', 16)
    FROM temp.search_matches
    WHERE search_matches MATCH ?1
      AND rowid BETWEEN ?2 AND ?3
      AND +rowid IN (SELECT value FROM json_each(?4))";

/// Adds the FTS5 functions that the statements of this module call to `conn`.
pub(super) fn add_functions(conn: &Connection) -> Result<()> {
    bm25_no_idf::register(conn)
}

/// Runs a search in one snapshot: [`find`], [`rank`] and [`read_hits`].
///
/// SQLite computes every result column of every row that a statement sorts, so a single
/// statement would build a snippet for each match. Ranking first builds one per result.
pub(super) fn search(conn: &mut Connection, query: &SearchQuery) -> Result<SearchResults> {
    let words = match_words(&query.text)?;
    let expression = in_text_columns(&words.join(" "));
    conn.prepare_cached(MATCHES_TABLE_SQL)?.execute([])?;

    let tx = conn.transaction()?;
    if let Some(tree_id) = query.tree_id {
        trees::ensure_exists(&tx, tree_id)?;
    }
    let common = has_common_word(&tx, &words)?;
    let (found, hits_sql) = find_in_scope(&tx, query, &expression, common)?;
    let ranked = SEARCH_RANKED_MATCHES as usize;
    let all_matches_ranked = found.len() <= ranked;

    let best = match found {
        Found::Unscored {
            mut rowids,
            rank_sql,
        } => {
            rowids.truncate(ranked);
            match Chosen::new(&rowids) {
                Some(chosen) => rank(&tx, rank_sql, &expression, &chosen, query.limit)?,
                None => Vec::new(),
            }
        }
        Found::Scored(mut scored) => {
            scored.truncate(ranked);
            best_of(scored, query.limit)
        }
    };
    let items = read_hits(&tx, hits_sql, &expression, &best)?;

    // Rolling back empties the matches table for the next search, faster than a delete.
    tx.rollback()?;
    Ok(SearchResults {
        items,
        all_matches_ranked,
    })
}

/// Turns user text into FTS5 strings, one per word, that match the word as written.
///
/// Each word, separated by white space or control characters, becomes an FTS5 string with
/// any `"` doubled, so no operator, column filter, bracket or `*` in the text has its FTS5
/// meaning. A repeated word is kept once. Joined by spaces, which FTS5 reads as AND, the
/// strings match items that have every word. A word with no letter or digit, such as `-`,
/// yields no token, and FTS5 ignores it.
///
/// No word matches as a prefix. A prefix makes FTS5 merge the match lists of every word it
/// covers before it can return the newest match, so its cost grows with the store.
fn match_words(text: &str) -> Result<Vec<String>> {
    let length = text.trim().chars().count();
    if length > SEARCH_TEXT_MAX_CHARS {
        return Err(Error::InvalidSearchQuery {
            reason: format!(
                "the search text has {length} characters: shorten it to at most \
                 {SEARCH_TEXT_MAX_CHARS}"
            ),
        });
    }

    // Control characters separate words as white space does. SQLite reads a `MATCH` string
    // only up to a NUL, which would leave a quoted word open.
    let mut words: Vec<String> = Vec::new();
    let separators = |c: char| c.is_whitespace() || c.is_control();
    for word in text.split(separators).filter(|word| !word.is_empty()) {
        let quoted = format!("\"{}\"", word.replace('"', "\"\""));
        if !words.contains(&quoted) {
            words.push(quoted);
        }
    }

    if words.is_empty() {
        return Err(Error::InvalidSearchQuery {
            reason: "the search text is empty: send one or more words, such as `onboarding`"
                .to_owned(),
        });
    }
    if words.len() > SEARCH_MAX_WORDS {
        return Err(Error::InvalidSearchQuery {
            reason: format!(
                "the search text has {} different words: send at most {SEARCH_MAX_WORDS}",
                words.len()
            ),
        });
    }
    Ok(words)
}

/// The columns that the words of a search match in. `facets` is left out, so a word never
/// matches an item by its type or kind.
const TEXT_COLUMNS: &str = "{title body tags}";

/// Returns the FTS5 expression that matches `words`, FTS5 strings joined by spaces, in the
/// [`TEXT_COLUMNS`].
fn in_text_columns(words: &str) -> String {
    format!("{TEXT_COLUMNS} : ({words})")
}

/// Adds the query's `type` and `kind` filters to `expression`, each as a phrase that the
/// `facets` column must contain. Entity and kind names are fixed snake_case words, so they
/// need no escaping. FTS5 splits `support_ticket` into `support ticket`, the same phrase
/// as in the column.
fn with_filters(expression: &str, query: &SearchQuery) -> String {
    match filter_expression(query) {
        Some(filters) => format!("{expression} AND {filters}"),
        None => expression.to_owned(),
    }
}

/// Returns the FTS5 expression of the query's `type` and `kind` filters alone, each a phrase
/// in `facets`, or `None` when the query has neither.
fn filter_expression(query: &SearchQuery) -> Option<String> {
    let facets: Vec<String> = [
        query.entity.map(SearchEntity::as_str),
        query.kind.map(SearchKind::as_str),
    ]
    .into_iter()
    .flatten()
    .map(|facet| format!("facets : \"{facet}\""))
    .collect();

    (!facets.is_empty()).then(|| facets.join(" AND "))
}

/// The newest matches that a search found, newest first.
enum Found {
    /// Their row ids, for [`rank`] to score with the statement `rank_sql`.
    Unscored {
        rowids: Vec<i64>,
        rank_sql: &'static str,
    },
    /// Their row ids with their scores.
    Scored(Vec<(i64, f64)>),
}

impl Found {
    fn len(&self) -> usize {
        match self {
            Self::Unscored { rowids, .. } => rowids.len(),
            Self::Scored(scored) => scored.len(),
        }
    }
}

/// Finds the newest matches of `expression` that pass the query's filters, and returns them
/// with the statement that reads the hits, in the table they were found in.
///
/// Without a tree filter, they are found and scored in the index in one statement, with
/// [`bm25_no_idf`] when a word is common. A common word with a `type` or `kind` filter is
/// found by [`find_by_filters`] and scored by [`rank`]. With a tree filter and no common
/// word, the matches are found and scored in the index as well: every word then has at most
/// [`SEARCH_RANKED_MATCHES`] matches, so testing each match for the tree reads few rows.
/// With a tree filter and a common word, this fills the matches table with the tree's
/// members and finds them there, for [`rank`] to score with bm25.
fn find_in_scope(
    tx: &Connection,
    query: &SearchQuery,
    expression: &str,
    common: bool,
) -> Result<(Found, &'static str)> {
    let filtered = with_filters(expression, query);

    match (query.tree_id, common, filter_expression(query)) {
        (None, true, Some(filters)) => {
            let rowids = find_by_filters(tx, &filtered, &filters)?;
            let rank_sql = INDEX_RANK_NO_IDF_SQL;
            Ok((Found::Unscored { rowids, rank_sql }, INDEX_HITS_SQL))
        }
        (Some(tree_id), true, _) => {
            tx.prepare_cached(COPY_TREE_SQL)?.execute([tree_id])?;
            let rowids = find(
                tx,
                FIND_IN_TABLE_SQL,
                &filtered,
                params![filtered, FIND_LIMIT],
            )?;
            let rank_sql = TABLE_RANK_SQL;
            Ok((Found::Unscored { rowids, rank_sql }, TABLE_HITS_SQL))
        }
        _ => {
            let sql = if common {
                FIND_SCORED_NO_IDF_SQL
            } else {
                FIND_SCORED_SQL
            };
            let found = select(
                tx,
                sql,
                &filtered,
                params![filtered, FIND_LIMIT, query.tree_id],
                scored_row,
            )?;
            Ok((Found::Scored(found), INDEX_HITS_SQL))
        }
    }
}

/// The number of matches that a search finds: one more than it ranks, so a match beyond
/// them shows.
const FIND_LIMIT: u32 = SEARCH_RANKED_MATCHES + 1;

/// The number of the filters' newest entries that [`find_by_filters`] starts from, four
/// times the matches it needs. In the benchmark's kind-filter searches one round sufficed.
const FIRST_FILTER_WINDOW: u32 = 4 * FIND_LIMIT;

/// The rounds of [`find_by_filters`] before it falls back to [`FIND_SQL`]: it reads at most
/// 4,004 and then 16,016 filter entries.
const FILTER_ROUNDS: usize = 2;

/// Finds the newest matches of `filtered`, a common word's expression with `filters`, as
/// [`FIND_SQL`] would, newest first, but reading the word's match lists forwards.
///
/// Every match passes the filters, so the matches from the row id of the filters' N-th
/// newest entry on are the matches among those N entries, and if there are enough of them,
/// the newest are the newest of all. N starts at [`FIRST_FILTER_WINDOW`] and grows fourfold
/// until enough matches turn up or the filters have no older entry.
///
/// When matches are sparse among the filters' entries, say `type=node` for a word common
/// only in evidence, reading on would read most entries of the filter. After
/// [`FILTER_ROUNDS`] rounds it runs [`FIND_SQL`] instead, which then costs what it did
/// before plus the rounds.
fn find_by_filters(tx: &Connection, filtered: &str, filters: &str) -> Result<Vec<i64>> {
    let needed = FIND_LIMIT as usize;
    let mut window = FIRST_FILTER_WINDOW;
    for _ in 0..FILTER_ROUNDS {
        let entries = find(tx, FILTER_ENTRIES_SQL, filters, params![filters, window])?;
        let Some(&oldest_entry) = entries.last() else {
            return Ok(Vec::new());
        };
        let every_entry = entries.len() < window as usize;

        let mut found = find(tx, FIND_FROM_SQL, filtered, params![filtered, oldest_entry])?;
        if found.len() >= needed || every_entry {
            // Newest first, then the newest `needed` of them.
            found.reverse();
            found.truncate(needed);
            return Ok(found);
        }
        window *= 4;
    }

    find(tx, FIND_SQL, filtered, params![filtered, FIND_LIMIT, Null])
}

/// Runs `sql`, [`FIND_SQL`] or another statement that selects row ids only, with `params`
/// and returns the row ids it selects.
fn find(
    conn: &Connection,
    sql: &str,
    expression: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<i64>> {
    select(conn, sql, expression, params, |row| row.get::<_, i64>(0))
}

/// Runs `sql` with `params` and returns its rows, each read by `read`. `expression`, the text
/// of `params` that FTS5 parses, names the search in an error.
fn select<T>(
    conn: &Connection,
    sql: &str,
    expression: &str,
    params: impl rusqlite::Params,
    read: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let mut statement = conn.prepare_cached(sql)?;
    let rows = statement.query_map(params, read);

    rows.and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(|err| rejected(err, expression))
}

/// Reads a row of a statement that selects a row id and its score.
fn scored_row(row: &Row<'_>) -> rusqlite::Result<(i64, f64)> {
    Ok((row.get(0)?, row.get(1)?))
}

/// Returns whether one of `words` matches more items than a search ranks, counting each up
/// to one more than that.
fn has_common_word(conn: &Connection, words: &[String]) -> Result<bool> {
    let mut statement = conn.prepare_cached(WORD_MATCHES_SQL)?;
    for word in words {
        let word = in_text_columns(word);
        let mut rows = statement
            .query(params![word, SEARCH_RANKED_MATCHES + 1])
            .map_err(|err| rejected(err, &word))?;
        let mut count = 0;
        while rows.next().map_err(|err| rejected(err, &word))?.is_some() {
            count += 1;
        }
        if count > SEARCH_RANKED_MATCHES {
            return Ok(true);
        }
    }

    Ok(false)
}

/// Scores the found matches with `rank_sql` and returns the best `limit` of them as row ids
/// with their scores, best first. Equal scores keep the older match first.
fn rank(
    conn: &Connection,
    rank_sql: &str,
    expression: &str,
    found: &Chosen,
    limit: u32,
) -> Result<Vec<(i64, f64)>> {
    let scored = select(
        conn,
        rank_sql,
        expression,
        params![expression, found.lowest, found.highest, found.listed],
        scored_row,
    )?;

    Ok(best_of(scored, limit))
}

/// Returns the best `limit` of the scored matches, best first. Equal scores keep the older
/// match first.
fn best_of(mut scored: Vec<(i64, f64)>, limit: u32) -> Vec<(i64, f64)> {
    scored.sort_by(|(rowid_a, score_a), (rowid_b, score_b)| {
        score_a.total_cmp(score_b).then(rowid_a.cmp(rowid_b))
    });
    scored.truncate(limit.clamp(1, SEARCH_MAX_LIMIT) as usize);
    scored
}

/// Reads the fields and snippets of the best matches, in the order of `best`.
fn read_hits(
    conn: &Connection,
    hits_sql: &str,
    expression: &str,
    best: &[(i64, f64)],
) -> Result<Vec<SearchHit>> {
    let rowids: Vec<i64> = best.iter().map(|&(rowid, _)| rowid).collect();
    let Some(chosen) = Chosen::new(&rowids) else {
        return Ok(Vec::new());
    };

    let mut statement = conn.prepare_cached(hits_sql)?;
    let rows = statement.query_map(
        params![expression, chosen.lowest, chosen.highest, chosen.listed],
        from_row,
    );
    let mut hits = rows
        .and_then(|rows| rows.collect::<rusqlite::Result<HashMap<_, _>>>())
        .map_err(|err| rejected(err, expression))?;

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

/// Row ids that a statement picks out of an FTS5 table: their bounds, and the ids as a JSON
/// array for `json_each`.
struct Chosen {
    lowest: i64,
    highest: i64,
    listed: String,
}

impl Chosen {
    /// Describes `rowids`, or returns `None` when there are none.
    fn new(rowids: &[i64]) -> Option<Self> {
        let listed: Vec<String> = rowids.iter().map(i64::to_string).collect();

        Some(Self {
            lowest: *rowids.iter().min()?,
            highest: *rowids.iter().max()?,
            listed: format!("[{}]", listed.join(",")),
        })
    }
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
