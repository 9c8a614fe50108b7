//! The test-data generator at a small size: it writes what it reports, obeys the domain
//! rules, and is the same on every run for a seed.

use std::path::Path;

use ost_linker_core::generate::{GenerateSpec, generate};
use ost_linker_core::{NodeKind, SqliteStore, TreeStore};
use rusqlite::Connection;

const SPEC: GenerateSpec = GenerateSpec {
    nodes: 1_200,
    evidence: 400,
    seed: 7,
};

fn count(conn: &Connection, sql: &str) -> u64 {
    conn.query_row(sql, [], |row| row.get(0)).expect(sql)
}

/// Returns every generated row as text, in id order, to compare two runs.
fn dump(path: &Path) -> Vec<String> {
    let conn = Connection::open(path).expect("open");
    let mut rows = Vec::new();
    for sql in [
        "SELECT id || title || root_node_id FROM trees ORDER BY id",
        "SELECT id || tree_id || coalesce(parent_id, '') || kind || title || position || coalesce(status, '') FROM nodes ORDER BY id",
        "SELECT id || kind || title || content || tags || coalesce(metric, '') FROM evidence ORDER BY id",
        "SELECT id || node_id || evidence_id || relation || strength FROM links ORDER BY id",
    ] {
        let mut statement = conn.prepare(sql).expect(sql);
        let texts = statement
            .query_map([], |row| row.get::<_, String>(0))
            .expect(sql)
            .map(|row| row.expect("row"));
        rows.extend(texts);
    }
    rows
}

#[test]
fn generator_writes_what_it_reports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("generated.db");

    let report = generate(&path, SPEC).expect("generate");

    let conn = Connection::open(&path).expect("open");
    assert_eq!(report.nodes, SPEC.nodes);
    assert_eq!(report.evidence, SPEC.evidence);
    assert_eq!(count(&conn, "SELECT count(*) FROM nodes"), report.nodes);
    assert_eq!(count(&conn, "SELECT count(*) FROM trees"), report.trees);
    assert_eq!(
        count(&conn, "SELECT count(*) FROM evidence"),
        report.evidence
    );
    assert_eq!(count(&conn, "SELECT count(*) FROM links"), report.links);
    assert!(report.trees > 10, "{report:?}");
    assert!(report.links > report.evidence / 2, "{report:?}");
}

#[test]
fn generator_obeys_domain_rules() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("generated.db");
    generate(&path, SPEC).expect("generate");
    let conn = Connection::open(&path).expect("open");

    let mut statement = conn
        .prepare(
            "SELECT child.kind, parent.kind FROM nodes AS child
             JOIN nodes AS parent ON parent.id = child.parent_id",
        )
        .expect("prepare");
    let pairs = statement
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })
        .expect("query");
    for pair in pairs {
        let (child, parent) = pair.expect("row");
        let child = NodeKind::from_name(&child).expect("child kind");
        let parent = NodeKind::from_name(&parent).expect("parent kind");
        assert!(child.may_have_parent(parent), "{child} under {parent}");
    }

    let gaps = count(
        &conn,
        "SELECT count(*) FROM (SELECT parent_id, count(*) AS n, max(position) AS top
                               FROM nodes WHERE parent_id IS NOT NULL GROUP BY parent_id)
         WHERE top <> n - 1",
    );
    assert_eq!(gaps, 0, "sibling positions are not dense");
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM evidence WHERE (kind = 'metric') <> (metric IS NOT NULL)"
        ),
        0
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM nodes WHERE (kind = 'experiment') <> (status IS NOT NULL)"
        ),
        0
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM trees JOIN nodes ON nodes.id = trees.root_node_id WHERE nodes.kind <> 'outcome'"
        ),
        0
    );

    let store = SqliteStore::open(&path).expect("store opens generated data");
    let tree = store
        .list_trees(ost_linker_core::PageRequest {
            limit: 1,
            after: None,
        })
        .expect("list");
    let nodes = store.list_nodes(tree.items[0].id).expect("nodes");
    assert_eq!(nodes[0].kind, NodeKind::Outcome);
}

#[test]
fn generator_is_deterministic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = dir.path().join("first.db");
    let second = dir.path().join("second.db");
    let other_seed = dir.path().join("other.db");

    generate(&first, SPEC).expect("first run");
    generate(&second, SPEC).expect("second run");
    generate(&other_seed, GenerateSpec { seed: 8, ..SPEC }).expect("other seed");

    assert_eq!(dump(&first), dump(&second));
    assert_ne!(dump(&first), dump(&other_seed));
}
