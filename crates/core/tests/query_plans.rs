//! The query plan of every SQL statement that the store runs for a request: none may read a
//! whole table.
//!
//! The statements come from [`ost_linker_core::sqlite::request_statements`], the texts the
//! store prepares. The store never runs `ANALYZE`, so SQLite plans without table statistics,
//! and the plans here, on a freshly migrated database, are the plans it uses at any size.

use std::collections::BTreeSet;

use ost_linker_core::SqliteStore;
use ost_linker_core::sqlite::{add_functions, request_statements};
use rusqlite::Connection;
use rusqlite::types::Null;

/// Opens a freshly migrated database in a temporary directory.
fn migrated_database() -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("plans.db");
    drop(SqliteStore::open(&path).expect("open store"));
    let conn = Connection::open(&path).expect("open database");
    add_functions(&conn).expect("add the store's SQL functions");
    (dir, conn)
}

/// Returns the detail lines of `EXPLAIN QUERY PLAN` for `sql`, with every parameter `NULL`.
fn query_plan(conn: &Connection, sql: &str) -> Vec<String> {
    let mut statement = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap_or_else(|err| panic!("preparing the plan of {sql} failed: {err}"));
    let nulls = vec![Null; statement.parameter_count()];
    statement
        .query_map(rusqlite::params_from_iter(nulls), |row| {
            row.get::<_, String>(3)
        })
        .expect("query plan")
        .map(|row| row.expect("plan row"))
        .collect()
}

/// The names that a `SCAN` may name without reading a table that grows with the data. They
/// are the recursive common table expressions of the node walks and the members of one tree
/// that a search with a tree filter reads. The schema table has one row per table, index and
/// trigger, `json_each` reads a bound JSON array, and the temporary table contains the
/// matches of one search.
const SMALL_SCANS: [&str; 7] = [
    "walk",
    "subtree",
    "members",
    "sqlite_master",
    "json_each",
    "search_matches",
    "temp.search_matches",
];

/// Returns why a plan line reads a whole table or index, or `None` when it does not.
///
/// `SCAN t` reads every row of `t`, and `SCAN t USING [COVERING] INDEX i` every entry of
/// `i`. Allowed are the names in [`SMALL_SCANS`], `SCAN CONSTANT ROW` (a `SELECT` without a
/// table), and a `SCAN` of the FTS5 table with a `MATCH` or a row id constraint. Such a
/// constraint shows as an `M` or an `=` in the index string after `VIRTUAL TABLE INDEX n:`,
/// and the scan reads only the matching index entries or the rows with those ids.
fn full_scan(line: &str) -> Option<String> {
    let rest = line.trim().strip_prefix("SCAN ")?;
    let name = rest.split_whitespace().next().unwrap_or_default();
    if SMALL_SCANS.contains(&name) || rest == "CONSTANT ROW" {
        return None;
    }
    let fts5_index = rest
        .split_once("VIRTUAL TABLE INDEX ")
        .map(|(_, index)| index);
    let fts5_constrained = fts5_index
        .and_then(|index| index.split_once(':'))
        .is_some_and(|(_, constraints)| constraints.contains(['M', '=']));
    let fts5_table = ["search_index", "main.search_index"].contains(&name);
    if fts5_table && fts5_constrained {
        return None;
    }

    Some(format!("`{line}` reads all of `{name}`"))
}

#[test]
fn request_statements_use_indexes() {
    let (_dir, conn) = migrated_database();

    let mut failures = Vec::new();
    for (name, sql) in request_statements() {
        // A statement that creates a table is run, so that the later ones can use it.
        if sql.trim_start().starts_with("CREATE") {
            conn.execute_batch(sql)
                .unwrap_or_else(|err| panic!("{name} failed: {err}"));
            continue;
        }
        let plan = query_plan(&conn, sql);
        for line in &plan {
            if let Some(reason) = full_scan(line) {
                failures.push(format!("{name}: {reason}\n  plan: {plan:?}\n  sql: {sql}"));
            }
        }
    }

    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn request_statements_are_listed_once() {
    let statements = request_statements();
    let names: BTreeSet<&str> = statements.iter().map(|(name, _)| *name).collect();
    let texts: BTreeSet<&str> = statements.iter().map(|(_, sql)| *sql).collect();

    assert_eq!(names.len(), statements.len(), "a name is listed twice");
    assert_eq!(texts.len(), statements.len(), "a statement is listed twice");
}

#[test]
fn full_scan_detects_table_scans() {
    assert!(full_scan("SCAN nodes").is_some());
    assert!(full_scan("SCAN evidence USING INDEX evidence_by_kind").is_some());
    assert!(full_scan("SCAN links USING COVERING INDEX links_by_evidence").is_some());
    assert!(full_scan("SEARCH nodes USING INDEX nodes_by_tree (tree_id=?)").is_none());
    assert!(full_scan("SCAN walk").is_none());
    assert!(full_scan("SCAN CONSTANT ROW").is_none());
    assert!(full_scan("SCAN search_index VIRTUAL TABLE INDEX 0:M7").is_none());
    assert!(full_scan("SCAN main.search_index VIRTUAL TABLE INDEX 0:=").is_none());
    assert!(full_scan("SCAN search_index VIRTUAL TABLE INDEX 0:").is_some());
}

/// Every foreign key needs an index that starts with its child column, or deleting a parent
/// row reads the whole child table to check or cascade the delete.
#[test]
fn foreign_keys_have_indexes() {
    let (_dir, conn) = migrated_database();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%'")
        .expect("tables")
        .query_map([], |row| row.get(0))
        .expect("tables")
        .map(|row| row.expect("table"))
        .collect();

    let mut missing = Vec::new();
    for table in &tables {
        let foreign_keys: Vec<String> = conn
            .prepare(&format!(
                "SELECT \"from\" FROM pragma_foreign_key_list('{table}')"
            ))
            .expect("foreign keys")
            .query_map([], |row| row.get(0))
            .expect("foreign keys")
            .map(|row| row.expect("foreign key"))
            .collect();
        let leading_columns: BTreeSet<String> = conn
            .prepare(&format!(
                "SELECT info.name FROM pragma_index_list('{table}') AS list,
                        pragma_index_info(list.name) AS info
                 WHERE info.seqno = 0"
            ))
            .expect("indexes")
            .query_map([], |row| row.get(0))
            .expect("indexes")
            .map(|row| row.expect("index column"))
            .collect();
        for column in foreign_keys {
            if !leading_columns.contains(&column) {
                missing.push(format!("{table}.{column}"));
            }
        }
    }

    assert!(
        missing.is_empty(),
        "foreign keys without an index: {missing:?}"
    );
}
