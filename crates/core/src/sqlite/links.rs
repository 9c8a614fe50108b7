//! Link rows between nodes and evidence.

use std::sync::LazyLock;

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::history::{self, Change};
use super::nodes::{self, parse_column};
use super::{check_version, evidence, idempotency, not_found};
use crate::error::{Error, Result};
use crate::id::{EvidenceId, LinkId, NodeId, TreeId};
use crate::model::{
    EvidenceKind, EvidenceLink, EvidenceSummary, HistoryAction, Link, LinkPatch, NewLink, NodeKind,
    NodeLink, NodeSummary, Relation, TreeSummary, WriteContext,
};
use crate::{rules, time};

const COLUMNS: &str = "links.id, links.node_id, links.evidence_id, links.relation, links.strength, links.note, \
     links.version, links.created_at, links.updated_at";

pub(super) const INSERT_SQL: &str =
    "INSERT INTO links (id, node_id, evidence_id, relation, strength, note, version,
                        created_at, updated_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
pub(super) const FIND_SQL: &str = "SELECT id FROM links WHERE node_id = ?1 AND evidence_id = ?2";
pub(super) static GET_SQL: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {COLUMNS} FROM links WHERE id = ?1"));
pub(super) static OF_NODE_SQL: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {COLUMNS} FROM links WHERE node_id = ?1 ORDER BY id"));
pub(super) static OF_EVIDENCE_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {COLUMNS}, nodes.tree_id FROM links JOIN nodes ON nodes.id = links.node_id
         WHERE links.evidence_id = ?1 ORDER BY links.id"
    )
});
pub(super) static LIST_FOR_NODE_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {COLUMNS}, evidence.kind, evidence.title
         FROM links JOIN evidence ON evidence.id = links.evidence_id
         WHERE links.node_id = ?1 ORDER BY links.id"
    )
});
pub(super) static LIST_FOR_EVIDENCE_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {COLUMNS}, nodes.kind, nodes.title, trees.id, trees.title
         FROM links
         JOIN nodes ON nodes.id = links.node_id
         JOIN trees ON trees.id = nodes.tree_id
         WHERE links.evidence_id = ?1 ORDER BY links.id"
    )
});
pub(super) const UPDATE_SQL: &str =
    "UPDATE links SET relation = ?2, strength = ?3, note = ?4, version = ?5, updated_at = ?6
     WHERE id = ?1";
pub(super) const DELETE_SQL: &str = "DELETE FROM links WHERE id = ?1";

/// Reads the link columns, which start every link query.
fn from_row(row: &Row<'_>) -> rusqlite::Result<Link> {
    Ok(Link {
        id: row.get(0)?,
        node_id: row.get(1)?,
        evidence_id: row.get(2)?,
        relation: parse_column(row, 3, Relation::from_name)?,
        strength: row.get(4)?,
        note: row.get(5)?,
        version: row.get(6)?,
        created_at: row.get(7)?,
        updated_at: row.get(8)?,
    })
}

fn check_note(note: &str) -> Result<String> {
    Ok(rules::within_max("/note", note, rules::NOTE_MAX_CHARS)?)
}

pub(super) fn create(
    conn: &mut Connection,
    ctx: &WriteContext,
    node_id: NodeId,
    new: NewLink,
) -> Result<Link> {
    let tx = conn.savepoint()?;
    let (link, tree_id) = insert_new(&tx, node_id, new)?;
    history::record(
        &tx,
        ctx,
        Change::created(tree_id, "link", link.id.to_string(), &link).into_link(),
    )?;
    idempotency::record(&tx, ctx, 201, &link)?;
    tx.commit()?;

    Ok(link)
}

/// Validates and inserts a new link inside the caller's transaction; returns it with the
/// id of the node's tree.
pub(super) fn insert_new(
    conn: &Connection,
    node_id: NodeId,
    new: NewLink,
) -> Result<(Link, TreeId)> {
    let strength = new.strength.map(rules::strength).transpose()?;
    let note = check_note(&new.note)?;
    let node = nodes::get(conn, node_id)?;
    evidence::get(conn, new.evidence_id).map_err(|err| nodes::reference("/evidence_id", err))?;

    if let Some(existing) = find(conn, node_id, new.evidence_id)? {
        return Err(Error::DuplicateLink {
            node_id: node_id.to_string(),
            evidence_id: new.evidence_id.to_string(),
            existing_id: existing.to_string(),
        });
    }

    let now = time::now();
    let link = Link {
        id: LinkId::generate(),
        node_id,
        evidence_id: new.evidence_id,
        relation: new.relation,
        strength,
        note,
        version: 1,
        created_at: now.clone(),
        updated_at: now,
    };
    conn.prepare_cached(INSERT_SQL)?.execute(params![
        link.id,
        link.node_id,
        link.evidence_id,
        link.relation.as_str(),
        link.strength,
        link.note,
        link.version,
        link.created_at,
        link.updated_at
    ])?;

    Ok((link, node.tree_id))
}

fn find(conn: &Connection, node_id: NodeId, evidence_id: EvidenceId) -> Result<Option<LinkId>> {
    Ok(conn
        .prepare_cached(FIND_SQL)?
        .query_row(params![node_id, evidence_id], |row| row.get(0))
        .optional()?)
}

pub(super) fn get(conn: &Connection, id: LinkId) -> Result<Link> {
    conn.prepare_cached(&GET_SQL)?
        .query_row([id], from_row)
        .map_err(not_found("link", id))
}

/// Returns the links of one node, oldest first.
pub(super) fn of_node(conn: &Connection, node_id: NodeId) -> Result<Vec<Link>> {
    Ok(conn
        .prepare_cached(&OF_NODE_SQL)?
        .query_map([node_id], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Returns the links to one evidence item, each with its node's tree id.
pub(super) fn of_evidence(
    conn: &Connection,
    evidence_id: EvidenceId,
) -> Result<Vec<(Link, TreeId)>> {
    Ok(conn
        .prepare_cached(&OF_EVIDENCE_SQL)?
        .query_map([evidence_id], |row| Ok((from_row(row)?, row.get(9)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn list_for_node(conn: &mut Connection, node_id: NodeId) -> Result<Vec<NodeLink>> {
    let tx = conn.transaction()?;
    nodes::get(&tx, node_id)?;
    let links = tx
        .prepare_cached(&LIST_FOR_NODE_SQL)?
        .query_map([node_id], |row| {
            let link = from_row(row)?;
            let evidence = EvidenceSummary {
                id: link.evidence_id,
                kind: parse_column(row, 9, EvidenceKind::from_name)?,
                title: row.get(10)?,
            };
            Ok(NodeLink { link, evidence })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    tx.commit()?;

    Ok(links)
}

pub(super) fn list_for_evidence(
    conn: &mut Connection,
    evidence_id: EvidenceId,
) -> Result<Vec<EvidenceLink>> {
    let tx = conn.transaction()?;
    evidence::get(&tx, evidence_id)?;
    let links = tx
        .prepare_cached(&LIST_FOR_EVIDENCE_SQL)?
        .query_map([evidence_id], |row| {
            let link = from_row(row)?;
            let node = NodeSummary {
                id: link.node_id,
                kind: parse_column(row, 9, NodeKind::from_name)?,
                title: row.get(10)?,
            };
            let tree = TreeSummary {
                id: row.get(11)?,
                title: row.get(12)?,
            };
            Ok(EvidenceLink { link, node, tree })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    tx.commit()?;

    Ok(links)
}

pub(super) fn update(
    conn: &mut Connection,
    ctx: &WriteContext,
    id: LinkId,
    patch: LinkPatch,
    expected_version: Option<u64>,
) -> Result<Link> {
    let tx = conn.savepoint()?;
    let before = get(&tx, id)?;
    check_version("link", id, expected_version, before.version)?;

    let mut after = before.clone();
    if let Some(relation) = patch.relation {
        after.relation = relation;
    }
    if let Some(strength) = patch.strength {
        after.strength = strength.map(rules::strength).transpose()?;
    }
    if let Some(note) = &patch.note {
        after.note = check_note(note)?;
    }
    after.version = before.version + 1;
    after.updated_at = time::now();

    tx.prepare_cached(UPDATE_SQL)?.execute(params![
        id,
        after.relation.as_str(),
        after.strength,
        after.note,
        after.version,
        after.updated_at
    ])?;
    let tree_id = nodes::get(&tx, after.node_id)?.tree_id;
    history::record(
        &tx,
        ctx,
        Change::changed(
            tree_id,
            HistoryAction::Update,
            "link",
            id.to_string(),
            &before,
            &after,
        ),
    )?;
    tx.commit()?;

    Ok(after)
}

pub(super) fn delete(
    conn: &mut Connection,
    ctx: &WriteContext,
    id: LinkId,
    expected_version: Option<u64>,
) -> Result<()> {
    let tx = conn.savepoint()?;
    let link = get(&tx, id)?;
    check_version("link", id, expected_version, link.version)?;

    let tree_id = nodes::get(&tx, link.node_id)?.tree_id;
    tx.prepare_cached(DELETE_SQL)?.execute([id])?;
    history::record(
        &tx,
        ctx,
        Change::deleted(tree_id, "link", id.to_string(), &link).into_unlink(),
    )?;
    tx.commit()?;

    Ok(())
}
