//! Node rows.

use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use super::{not_found, trees};
use crate::error::{Error, Result};
use crate::id::{NodeId, TreeId};
use crate::model::{DeleteMode, NewNode, Node, NodeKind, NodePatch};
use crate::{rules, time};

const COLUMNS: &str =
    "id, tree_id, parent_id, kind, title, description, position, created_at, updated_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Node> {
    let kind: String = row.get(3)?;
    let kind = NodeKind::from_name(&kind).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            3,
            rusqlite::types::Type::Text,
            format!("unknown node kind `{kind}`").into(),
        )
    })?;

    Ok(Node {
        id: row.get(0)?,
        tree_id: row.get(1)?,
        parent_id: row.get(2)?,
        kind,
        title: row.get(4)?,
        description: row.get(5)?,
        position: row.get(6)?,
        created_at: row.get(7)?,
        updated_at: row.get(8)?,
    })
}

fn insert(conn: &Connection, node: &Node) -> Result<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO nodes ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    ))?
    .execute(params![
        node.id,
        node.tree_id,
        node.parent_id,
        node.kind.as_str(),
        node.title,
        node.description,
        node.position,
        node.created_at,
        node.updated_at
    ])?;

    Ok(())
}

/// Inserts the root outcome of a new tree; `outcome.parent_id` is the root's own id.
pub(super) fn insert_root(
    tx: &Transaction<'_>,
    tree_id: TreeId,
    outcome: NewNode,
    now: &str,
) -> Result<Node> {
    let root = Node {
        id: outcome.parent_id,
        tree_id,
        parent_id: None,
        kind: NodeKind::Outcome,
        title: outcome.title,
        description: outcome.description,
        position: 0,
        created_at: now.to_owned(),
        updated_at: now.to_owned(),
    };
    insert(tx, &root)?;

    Ok(root)
}

pub(super) fn create(conn: &mut Connection, tree_id: TreeId, new: NewNode) -> Result<Node> {
    if new.kind == NodeKind::Outcome {
        return Err(Error::KindNotCreatable { kind: new.kind });
    }
    let title = rules::title("/title", &new.title)?;
    let description = rules::description("/description", &new.description)?;

    let tx = conn.transaction()?;
    trees::ensure_exists(&tx, tree_id)?;
    let parent = get(&tx, new.parent_id).map_err(|err| match err {
        Error::NotFound { entity, id } => Error::UnknownReference {
            field: "/parent_id",
            entity,
            id,
        },
        other => other,
    })?;
    check_parent(&parent, tree_id, new.kind)?;

    let now = time::now();
    let node = Node {
        id: NodeId::generate(),
        tree_id,
        parent_id: Some(parent.id),
        kind: new.kind,
        title,
        description,
        position: count_children(&tx, parent.id)? as u32,
        created_at: now.clone(),
        updated_at: now,
    };
    insert(&tx, &node)?;
    tx.commit()?;

    Ok(node)
}

/// Checks that a node of `kind` in `tree_id` may stand under `parent`.
fn check_parent(parent: &Node, tree_id: TreeId, kind: NodeKind) -> Result<()> {
    if parent.tree_id != tree_id {
        return Err(Error::ParentInOtherTree {
            parent_id: parent.id.to_string(),
            parent_tree_id: parent.tree_id.to_string(),
            tree_id: tree_id.to_string(),
        });
    }

    if !kind.may_have_parent(parent.kind) {
        return Err(Error::InvalidParentKind {
            child: kind,
            parent_id: parent.id.to_string(),
            parent: parent.kind,
        });
    }

    Ok(())
}

fn count_children(conn: &Connection, id: NodeId) -> Result<u64> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM nodes WHERE parent_id = ?1")?
        .query_row([id], |row| row.get(0))?)
}

pub(super) fn list(conn: &mut Connection, tree_id: TreeId) -> Result<Vec<Node>> {
    // Read the existence check and the nodes in one snapshot.
    let tx = conn.transaction()?;
    trees::ensure_exists(&tx, tree_id)?;

    // The walk builds, for each node, a sort key of its ancestors' positions and its own,
    // zero-padded, so ordering by the key gives depth-first order with siblings by position.
    let nodes = tx
        .prepare_cached(&format!(
            "WITH RECURSIVE walk (id, sort_key) AS (
                 SELECT id, printf('%010d', position) FROM nodes
                 WHERE tree_id = ?1 AND parent_id IS NULL
                 UNION ALL
                 SELECT child.id, walk.sort_key || '/' || printf('%010d', child.position)
                 FROM nodes AS child JOIN walk ON child.parent_id = walk.id
             )
             SELECT {} FROM walk JOIN nodes ON nodes.id = walk.id ORDER BY walk.sort_key",
            qualified_columns()
        ))?
        .query_map([tree_id], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    tx.commit()?;

    Ok(nodes)
}

fn qualified_columns() -> String {
    COLUMNS
        .split(", ")
        .map(|column| format!("nodes.{column}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn get(conn: &Connection, id: NodeId) -> Result<Node> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM nodes WHERE id = ?1"))?
        .query_row([id], from_row)
        .map_err(not_found("node", id))
}

pub(super) fn update(conn: &mut Connection, id: NodeId, patch: NodePatch) -> Result<Node> {
    let title = patch
        .title
        .map(|title| rules::title("/title", &title))
        .transpose()?;
    let description = patch
        .description
        .map(|description| rules::description("/description", &description))
        .transpose()?;

    let tx = conn.transaction()?;
    let updated = tx
        .prepare_cached(&format!(
            "UPDATE nodes
             SET title = coalesce(?2, title),
                 description = coalesce(?3, description),
                 version = version + 1,
                 updated_at = ?4
             WHERE id = ?1
             RETURNING {COLUMNS}"
        ))?
        .query_row(params![id, title, description, time::now()], from_row)
        .optional()?;
    tx.commit()?;

    updated.ok_or_else(|| not_found("node", id)(rusqlite::Error::QueryReturnedNoRows))
}

pub(super) fn delete(conn: &mut Connection, id: NodeId, mode: DeleteMode) -> Result<u64> {
    let tx = conn.transaction()?;
    let node = get(&tx, id)?;
    let Some(parent_id) = node.parent_id else {
        return Err(Error::RootNodeDelete {
            id: id.to_string(),
            tree_id: node.tree_id.to_string(),
        });
    };

    let children = count_children(&tx, id)?;
    if children > 0 && mode == DeleteMode::LeafOnly {
        return Err(Error::NodeHasChildren {
            id: id.to_string(),
            children,
        });
    }

    let subtree_size = count_subtree(&tx, id)?;
    // Foreign keys cascade the delete to every descendant.
    tx.execute("DELETE FROM nodes WHERE id = ?1", [id])?;
    tx.execute(
        "UPDATE nodes SET position = position - 1 WHERE parent_id = ?1 AND position > ?2",
        params![parent_id, node.position],
    )?;
    tx.commit()?;

    Ok(subtree_size)
}

/// Counts a node and all its descendants.
fn count_subtree(conn: &Connection, id: NodeId) -> Result<u64> {
    Ok(conn
        .prepare_cached(
            "WITH RECURSIVE subtree (id) AS (
                 SELECT ?1
                 UNION ALL
                 SELECT nodes.id FROM nodes JOIN subtree ON nodes.parent_id = subtree.id
             )
             SELECT count(*) FROM subtree",
        )?
        .query_row([id], |row| row.get(0))?)
}
