//! Node rows: creation, depth-first listing, changes, moves and deletes.

use std::collections::HashMap;
use std::sync::LazyLock;

use rusqlite::{Connection, Row, params};

use super::history::{self, Change};
use super::{check_version, idempotency, links, not_found, trees};
use crate::error::{Error, Result};
use crate::id::{NodeId, TreeId};
use crate::model::{
    DeleteMode, ExperimentStatus, HistoryAction, NewNode, Node, NodeKind, NodePatch, WriteContext,
};
use crate::{rules, time};

pub(super) const COLUMNS: &str = "id, tree_id, parent_id, kind, title, description, position, \
                                  status, result, version, created_at, updated_at";

pub(super) static INSERT_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO nodes ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
    )
});
pub(super) const COUNT_CHILDREN_SQL: &str = "SELECT count(*) FROM nodes WHERE parent_id = ?1";
/// The position after a node's last child. Positions of siblings are dense from 0, so it
/// equals their number, and the `nodes_by_parent` index yields it with one search where
/// `count(*)` would read every child.
pub(super) const NEXT_POSITION_SQL: &str =
    "SELECT coalesce(max(position) + 1, 0) FROM nodes WHERE parent_id = ?1";
pub(super) const SHIFT_SIBLINGS_SQL: &str =
    "UPDATE nodes SET position = position + ?3, version = version + 1, updated_at = ?5
     WHERE parent_id = ?1 AND position >= ?2 AND (?4 IS NULL OR id <> ?4)";
/// A tree's nodes, in no order: [`list_in`] puts them in depth-first order. One search of
/// `nodes_by_tree` reads them all.
pub(super) static LIST_SQL: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {COLUMNS} FROM nodes WHERE tree_id = ?1"));
pub(super) static GET_SQL: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {COLUMNS} FROM nodes WHERE id = ?1"));
pub(super) const UPDATE_SQL: &str = "UPDATE nodes
     SET title = ?2, description = ?3, parent_id = ?4, position = ?5, status = ?6,
         result = ?7, version = ?8, updated_at = ?9
     WHERE id = ?1";
pub(super) const IN_SUBTREE_SQL: &str = "WITH RECURSIVE subtree (id) AS (
         SELECT ?1
         UNION ALL
         SELECT nodes.id FROM nodes JOIN subtree ON nodes.parent_id = subtree.id
     )
     SELECT EXISTS (SELECT 1 FROM subtree WHERE id = ?2)";
pub(super) const DELETE_SQL: &str = "DELETE FROM nodes WHERE id = ?1";
/// A node and its descendants, parents before children. `CROSS JOIN` makes SQLite read the
/// walk first and look each node up by id. With a plain `JOIN`, it read the whole `nodes`
/// table and probed the walk for each row.
pub(super) static SUBTREE_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH RECURSIVE subtree (id, depth) AS (
             SELECT ?1, 0
             UNION ALL
             SELECT nodes.id, subtree.depth + 1
             FROM nodes JOIN subtree ON nodes.parent_id = subtree.id
         )
         SELECT {} FROM subtree CROSS JOIN nodes ON nodes.id = subtree.id
         ORDER BY subtree.depth",
        super::qualified("nodes", COLUMNS)
    )
});

pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Node> {
    Ok(Node {
        id: row.get(0)?,
        tree_id: row.get(1)?,
        parent_id: row.get(2)?,
        kind: parse_column(row, 3, NodeKind::from_name)?,
        title: row.get(4)?,
        description: row.get(5)?,
        position: row.get(6)?,
        status: optional_column(row, 7, ExperimentStatus::from_name)?,
        result: row.get(8)?,
        version: row.get(9)?,
        created_at: row.get(10)?,
        updated_at: row.get(11)?,
    })
}

/// Reads a text column through a name parser, failing on a name the parser does not know.
pub(super) fn parse_column<T>(
    row: &Row<'_>,
    index: usize,
    parse: fn(&str) -> Option<T>,
) -> rusqlite::Result<T> {
    let name: String = row.get(index)?;
    parse(&name).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Text,
            format!("unknown stored name `{name}`").into(),
        )
    })
}

fn optional_column<T>(
    row: &Row<'_>,
    index: usize,
    parse: fn(&str) -> Option<T>,
) -> rusqlite::Result<Option<T>> {
    let name: Option<String> = row.get(index)?;
    match name {
        None => Ok(None),
        Some(_) => parse_column(row, index, parse).map(Some),
    }
}

fn insert(conn: &Connection, node: &Node) -> Result<()> {
    conn.prepare_cached(&INSERT_SQL)?.execute(params![
        node.id,
        node.tree_id,
        node.parent_id,
        node.kind.as_str(),
        node.title,
        node.description,
        node.position,
        node.status.map(ExperimentStatus::as_str),
        node.result,
        node.version,
        node.created_at,
        node.updated_at
    ])?;

    Ok(())
}

/// Inserts the root outcome of a new tree; `outcome.parent_id` is the root's own id.
pub(super) fn insert_root(
    tx: &Connection,
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
        status: None,
        result: None,
        version: 1,
        created_at: now.to_owned(),
        updated_at: now.to_owned(),
    };
    insert(tx, &root)?;

    Ok(root)
}

pub(super) fn create(
    conn: &mut Connection,
    ctx: &WriteContext,
    tree_id: TreeId,
    new: NewNode,
) -> Result<Node> {
    let tx = conn.savepoint()?;
    let node = insert_new(&tx, tree_id, new)?;
    history::record(
        &tx,
        ctx,
        Change::created(tree_id, "node", node.id.to_string(), &node),
    )?;
    idempotency::record(&tx, ctx, 201, &node)?;
    tx.commit()?;

    Ok(node)
}

/// Validates and inserts a new node inside a caller's transaction, without recording history.
pub(super) fn insert_new(tx: &Connection, tree_id: TreeId, new: NewNode) -> Result<Node> {
    if new.kind == NodeKind::Outcome {
        return Err(Error::KindNotCreatable { kind: new.kind });
    }
    let title = rules::title("/title", &new.title)?;
    let description = rules::description("/description", &new.description)?;
    let (status, result) = experiment_fields(new.kind, new.status, new.result)?;

    trees::ensure_exists(tx, tree_id)?;
    let parent = get(tx, new.parent_id).map_err(|err| reference("/parent_id", err))?;
    check_parent(&parent, tree_id, new.kind)?;

    let siblings = next_position(tx, parent.id)?;
    let position = new.position.unwrap_or(siblings);
    if position > siblings {
        return Err(Error::PositionOutOfRange {
            position,
            max: siblings,
        });
    }
    shift_siblings(tx, parent.id, position, 1, None)?;

    let now = time::now();
    let node = Node {
        id: NodeId::generate(),
        tree_id,
        parent_id: Some(parent.id),
        kind: new.kind,
        title,
        description,
        position,
        status,
        result,
        version: 1,
        created_at: now.clone(),
        updated_at: now,
    };
    insert(tx, &node)?;

    Ok(node)
}

/// Turns "not found" for an id given in a body field into an error that points at the field.
pub(super) fn reference(field: &'static str, err: Error) -> Error {
    match err {
        Error::NotFound { entity, id } => Error::UnknownReference { field, entity, id },
        other => other,
    }
}

/// Checks the experiment-only fields of a new node and fills an experiment's default status.
fn experiment_fields(
    kind: NodeKind,
    status: Option<ExperimentStatus>,
    result: Option<String>,
) -> Result<(Option<ExperimentStatus>, Option<String>)> {
    if kind != NodeKind::Experiment {
        if status.is_some() {
            return Err(Error::ExperimentFieldOnOtherKind {
                field: "/status",
                kind,
            });
        }
        if result.is_some() {
            return Err(Error::ExperimentFieldOnOtherKind {
                field: "/result",
                kind,
            });
        }
        return Ok((None, None));
    }

    let result = result
        .map(|result| rules::description("/result", &result))
        .transpose()?;
    Ok((Some(status.unwrap_or(ExperimentStatus::Planned)), result))
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
        .prepare_cached(COUNT_CHILDREN_SQL)?
        .query_row([id], |row| row.get(0))?)
}

/// Returns the number of children of a node, read as the position after the last one.
fn next_position(conn: &Connection, id: NodeId) -> Result<u32> {
    Ok(conn
        .prepare_cached(NEXT_POSITION_SQL)?
        .query_row([id], |row| row.get(0))?)
}

/// Adds `delta` to the position of every child of `parent_id` at `from` or later, except
/// `except`, to open or close a gap.
fn shift_siblings(
    conn: &Connection,
    parent_id: NodeId,
    from: u32,
    delta: i64,
    except: Option<NodeId>,
) -> Result<()> {
    // A sibling's position is part of what its ETag stands for, so a shift bumps its version.
    conn.prepare_cached(SHIFT_SIBLINGS_SQL)?.execute(params![
        parent_id,
        from,
        delta,
        except,
        time::now()
    ])?;

    Ok(())
}

pub(super) fn list(conn: &mut Connection, tree_id: TreeId) -> Result<Vec<Node>> {
    // Read the existence check and the nodes in one snapshot.
    let tx = conn.transaction()?;
    trees::ensure_exists(&tx, tree_id)?;
    let nodes = list_in(&tx, tree_id)?;
    tx.commit()?;

    Ok(nodes)
}

/// Lists a tree's nodes depth-first, siblings by position, inside the caller's transaction.
pub(super) fn list_in(conn: &Connection, tree_id: TreeId) -> Result<Vec<Node>> {
    let nodes = conn
        .prepare_cached(&LIST_SQL)?
        .query_map([tree_id], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;

    Ok(depth_first(nodes))
}

/// Orders a tree's nodes depth-first from its root, siblings by position. A node whose parent
/// is not among `nodes` is left out. That cannot happen in a stored tree, because the
/// foreign key on `parent_id` and the parent checks of every write keep parents in the tree.
fn depth_first(nodes: Vec<Node>) -> Vec<Node> {
    let mut roots = Vec::new();
    let mut children: HashMap<NodeId, Vec<usize>> = HashMap::new();
    for (index, node) in nodes.iter().enumerate() {
        match node.parent_id {
            Some(parent_id) => children.entry(parent_id).or_default().push(index),
            None => roots.push(index),
        }
    }
    roots.sort_by_key(|&index| nodes[index].position);
    for siblings in children.values_mut() {
        siblings.sort_by_key(|&index| nodes[index].position);
    }

    // A stack of the nodes still to visit, the next one on top.
    let mut order = Vec::with_capacity(nodes.len());
    let mut pending: Vec<usize> = roots.into_iter().rev().collect();
    while let Some(index) = pending.pop() {
        order.push(index);
        if let Some(siblings) = children.get(&nodes[index].id) {
            pending.extend(siblings.iter().rev());
        }
    }

    let mut slots: Vec<Option<Node>> = nodes.into_iter().map(Some).collect();
    order
        .into_iter()
        .filter_map(|index| slots[index].take())
        .collect()
}

pub(super) fn get(conn: &Connection, id: NodeId) -> Result<Node> {
    conn.prepare_cached(&GET_SQL)?
        .query_row([id], from_row)
        .map_err(not_found("node", id))
}

pub(super) fn update(
    conn: &mut Connection,
    ctx: &WriteContext,
    id: NodeId,
    patch: NodePatch,
    expected_version: Option<u64>,
) -> Result<Node> {
    let tx = conn.savepoint()?;
    let before = get(&tx, id)?;
    check_version("node", id, expected_version, before.version)?;

    let mut after = before.clone();
    apply_fields(&mut after, &patch)?;
    let moved = patch.parent_id.is_some() || patch.position.is_some();
    if moved {
        move_node(&tx, &mut after, patch.parent_id, patch.position)?;
    }

    after.version = before.version + 1;
    after.updated_at = time::now();
    tx.prepare_cached(UPDATE_SQL)?.execute(params![
        id,
        after.title,
        after.description,
        after.parent_id,
        after.position,
        after.status.map(ExperimentStatus::as_str),
        after.result,
        after.version,
        after.updated_at
    ])?;

    let action = if moved {
        HistoryAction::Move
    } else {
        HistoryAction::Update
    };
    history::record(
        &tx,
        ctx,
        Change::changed(
            after.tree_id,
            action,
            "node",
            id.to_string(),
            &before,
            &after,
        ),
    )?;
    tx.commit()?;

    Ok(after)
}

/// Applies a patch's field changes to `node`, checking each field's rule.
fn apply_fields(node: &mut Node, patch: &NodePatch) -> Result<()> {
    if let Some(title) = &patch.title {
        node.title = rules::title("/title", title)?;
    }
    if let Some(description) = &patch.description {
        node.description = rules::description("/description", description)?;
    }

    let is_experiment = node.kind == NodeKind::Experiment;
    if let Some(status) = patch.status {
        if !is_experiment {
            return Err(Error::ExperimentFieldOnOtherKind {
                field: "/status",
                kind: node.kind,
            });
        }
        node.status = Some(status);
    }
    if let Some(result) = &patch.result {
        if !is_experiment {
            return Err(Error::ExperimentFieldOnOtherKind {
                field: "/result",
                kind: node.kind,
            });
        }
        node.result = result
            .as_deref()
            .map(|result| rules::description("/result", result))
            .transpose()?;
    }

    Ok(())
}

/// Moves `node` to a new parent and position, checking the parent rules, and keeps the
/// positions of the old and new siblings dense. The subtree moves with the node, because
/// its descendants keep pointing at it.
fn move_node(
    tx: &Connection,
    node: &mut Node,
    parent_id: Option<NodeId>,
    position: Option<u32>,
) -> Result<()> {
    let Some(old_parent_id) = node.parent_id else {
        return Err(Error::RootNodeMove {
            id: node.id.to_string(),
        });
    };

    let new_parent_id = parent_id.unwrap_or(old_parent_id);
    let same_parent = new_parent_id == old_parent_id;
    if !same_parent {
        let parent = get(tx, new_parent_id).map_err(|err| reference("/parent_id", err))?;
        check_parent(&parent, node.tree_id, node.kind)?;
        if is_in_subtree(tx, node.id, new_parent_id)? {
            return Err(Error::NodeCycle {
                id: node.id.to_string(),
                parent_id: new_parent_id.to_string(),
            });
        }
    }

    let siblings = next_position(tx, new_parent_id)? - u32::from(same_parent);
    let new_position = position.unwrap_or(if same_parent { node.position } else { siblings });
    if new_position > siblings {
        return Err(Error::PositionOutOfRange {
            position: new_position,
            max: siblings,
        });
    }

    shift_siblings(tx, old_parent_id, node.position + 1, -1, Some(node.id))?;
    shift_siblings(tx, new_parent_id, new_position, 1, Some(node.id))?;
    node.parent_id = Some(new_parent_id);
    node.position = new_position;

    Ok(())
}

/// Returns whether `candidate` is `root` or one of its descendants.
fn is_in_subtree(conn: &Connection, root: NodeId, candidate: NodeId) -> Result<bool> {
    Ok(conn
        .prepare_cached(IN_SUBTREE_SQL)?
        .query_row(params![root, candidate], |row| row.get(0))?)
}

pub(super) fn delete(
    conn: &mut Connection,
    ctx: &WriteContext,
    id: NodeId,
    mode: DeleteMode,
    expected_version: Option<u64>,
) -> Result<u64> {
    let tx = conn.savepoint()?;
    let node = get(&tx, id)?;
    check_version("node", id, expected_version, node.version)?;
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

    // Record every node and link the delete removes, deepest first, before foreign keys
    // cascade the delete to them.
    let subtree = subtree_of(&tx, id)?;
    for doomed in subtree.iter().rev() {
        for link in links::of_node(&tx, doomed.id)? {
            history::record(
                &tx,
                ctx,
                Change::deleted(node.tree_id, "link", link.id.to_string(), &link).into_unlink(),
            )?;
        }
        history::record(
            &tx,
            ctx,
            Change::deleted(node.tree_id, "node", doomed.id.to_string(), doomed),
        )?;
    }

    tx.prepare_cached(DELETE_SQL)?.execute([id])?;
    shift_siblings(&tx, parent_id, node.position + 1, -1, None)?;
    tx.commit()?;

    Ok(subtree.len() as u64)
}

/// Returns a node and its descendants, parents before children.
fn subtree_of(conn: &Connection, id: NodeId) -> Result<Vec<Node>> {
    let nodes = conn
        .prepare_cached(&SUBTREE_SQL)?
        .query_map([id], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;

    Ok(nodes)
}
