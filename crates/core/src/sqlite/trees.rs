//! Tree rows.

use std::sync::LazyLock;

use rusqlite::{Connection, Row, params};

use super::history::{self, Change};
use super::{check_version, idempotency, nodes, not_found};
use crate::error::Result;
use crate::id::{NodeId, TreeId};
use crate::model::{
    HistoryAction, NewNode, NewTree, NodeKind, Page, Tree, TreePatch, TreeWithRoot, WriteContext,
};
use crate::store::PageRequest;
use crate::{rules, time};

const COLUMNS: &str = "id, title, description, root_node_id, version, created_at, updated_at";

pub(super) static INSERT_SQL: LazyLock<String> =
    LazyLock::new(|| format!("INSERT INTO trees ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
/// One page in id order. `?1` is the last id of the previous page, or `''` for the first page,
/// which sorts before every id. A plain `id > ?1` lets SQLite start the page with an index
/// search, where `?1 IS NULL OR id > ?1` would read every earlier row.
pub(super) static LIST_SQL: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {COLUMNS} FROM trees WHERE id > ?1 ORDER BY id LIMIT ?2"));
pub(super) static GET_SQL: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {COLUMNS} FROM trees WHERE id = ?1"));
pub(super) static UPDATE_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE trees
         SET title = coalesce(?2, title),
             description = coalesce(?3, description),
             version = version + 1,
             updated_at = ?4
         WHERE id = ?1
         RETURNING {COLUMNS}"
    )
});
pub(super) const DELETE_SQL: &str = "DELETE FROM trees WHERE id = ?1";
pub(super) const EXISTS_SQL: &str = "SELECT 1 FROM trees WHERE id = ?1";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Tree> {
    Ok(Tree {
        id: row.get(0)?,
        title: row.get(1)?,
        description: row.get(2)?,
        root_node_id: row.get(3)?,
        version: row.get(4)?,
        created_at: row.get(5)?,
        updated_at: row.get(6)?,
    })
}

pub(super) fn create(
    conn: &mut Connection,
    ctx: &WriteContext,
    new: NewTree,
) -> Result<TreeWithRoot> {
    let tx = conn.savepoint()?;
    let created = insert_new(&tx, new)?;

    history::record(
        &tx,
        ctx,
        Change::created(
            created.tree.id,
            "tree",
            created.tree.id.to_string(),
            &created.tree,
        ),
    )?;
    history::record(
        &tx,
        ctx,
        Change::created(
            created.tree.id,
            "node",
            created.root.id.to_string(),
            &created.root,
        ),
    )?;
    idempotency::record(&tx, ctx, 201, &created)?;
    tx.commit()?;

    Ok(created)
}

/// Validates and inserts a new tree with its root outcome inside a caller's transaction,
/// without recording history.
pub(super) fn insert_new(tx: &Connection, new: NewTree) -> Result<TreeWithRoot> {
    let now = time::now();
    let tree = Tree {
        id: TreeId::generate(),
        title: rules::title("/title", &new.title)?,
        description: rules::description("/description", &new.description)?,
        root_node_id: NodeId::generate(),
        version: 1,
        created_at: now.clone(),
        updated_at: now,
    };
    let outcome = NewNode {
        description: rules::description("/outcome/description", &new.outcome_description)?,
        ..NewNode::new(
            tree.root_node_id,
            NodeKind::Outcome,
            rules::title("/outcome/title", &new.outcome_title)?,
        )
    };

    tx.prepare_cached(&INSERT_SQL)?.execute(params![
        tree.id,
        tree.title,
        tree.description,
        tree.root_node_id,
        tree.version,
        tree.created_at,
        tree.updated_at
    ])?;
    let root = nodes::insert_root(tx, tree.id, outcome, &tree.created_at)?;

    Ok(TreeWithRoot { tree, root })
}

pub(super) fn list(conn: &Connection, page: PageRequest<TreeId>) -> Result<Page<Tree>> {
    let mut statement = conn.prepare_cached(&LIST_SQL)?;
    let after = page.after.map(|id| id.to_string()).unwrap_or_default();
    let fetch = i64::from(page.limit) + 1;
    let items = statement
        .query_map(params![after, fetch], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;

    Ok(Page::from_overfetch(items, page.limit, |tree| {
        tree.id.to_string()
    }))
}

pub(super) fn get(conn: &Connection, id: TreeId) -> Result<Tree> {
    conn.prepare_cached(&GET_SQL)?
        .query_row([id], from_row)
        .map_err(not_found("tree", id))
}

pub(super) fn update(
    conn: &mut Connection,
    ctx: &WriteContext,
    id: TreeId,
    patch: TreePatch,
    expected_version: Option<u64>,
) -> Result<Tree> {
    let title = patch
        .title
        .map(|title| rules::title("/title", &title))
        .transpose()?;
    let description = patch
        .description
        .map(|description| rules::description("/description", &description))
        .transpose()?;

    let tx = conn.savepoint()?;
    let before = get(&tx, id)?;
    check_version("tree", id, expected_version, before.version)?;

    let after = tx
        .prepare_cached(&UPDATE_SQL)?
        .query_row(params![id, title, description, time::now()], from_row)?;
    history::record(
        &tx,
        ctx,
        Change::changed(
            id,
            HistoryAction::Update,
            "tree",
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
    id: TreeId,
    expected_version: Option<u64>,
) -> Result<()> {
    let tx = conn.savepoint()?;
    let tree = get(&tx, id)?;
    check_version("tree", id, expected_version, tree.version)?;

    // Foreign keys cascade the delete to the tree's nodes and their links.
    tx.prepare_cached(DELETE_SQL)?.execute([id])?;
    history::record(&tx, ctx, Change::deleted(id, "tree", id.to_string(), &tree))?;
    tx.commit()?;

    Ok(())
}

/// Returns an error unless the tree exists.
pub(super) fn ensure_exists(conn: &Connection, id: TreeId) -> Result<()> {
    conn.prepare_cached(EXISTS_SQL)?
        .query_row([id], |_| Ok(()))
        .map_err(not_found("tree", id))
}
