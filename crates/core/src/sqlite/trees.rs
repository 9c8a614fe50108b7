//! Tree rows.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{nodes, not_found};
use crate::error::Result;
use crate::id::{NodeId, TreeId};
use crate::model::{NewNode, NewTree, NodeKind, Page, Tree, TreePatch, TreeWithRoot};
use crate::store::PageRequest;
use crate::{rules, time};

const COLUMNS: &str = "id, title, description, root_node_id, created_at, updated_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Tree> {
    Ok(Tree {
        id: row.get(0)?,
        title: row.get(1)?,
        description: row.get(2)?,
        root_node_id: row.get(3)?,
        created_at: row.get(4)?,
        updated_at: row.get(5)?,
    })
}

pub(super) fn create(conn: &mut Connection, new: NewTree) -> Result<TreeWithRoot> {
    let now = time::now();
    let tree = Tree {
        id: TreeId::generate(),
        title: rules::title("/title", &new.title)?,
        description: rules::description("/description", &new.description)?,
        root_node_id: NodeId::generate(),
        created_at: now.clone(),
        updated_at: now,
    };
    let outcome = NewNode {
        parent_id: tree.root_node_id,
        kind: NodeKind::Outcome,
        title: rules::title("/outcome/title", &new.outcome_title)?,
        description: rules::description("/outcome/description", &new.outcome_description)?,
    };

    let tx = conn.transaction()?;
    tx.execute(
        &format!("INSERT INTO trees ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        params![
            tree.id,
            tree.title,
            tree.description,
            tree.root_node_id,
            tree.created_at,
            tree.updated_at
        ],
    )?;
    let root = nodes::insert_root(&tx, tree.id, outcome, &tree.created_at)?;
    tx.commit()?;

    Ok(TreeWithRoot { tree, root })
}

pub(super) fn list(conn: &Connection, page: PageRequest<TreeId>) -> Result<Page<Tree>> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM trees WHERE ?1 IS NULL OR id > ?1 ORDER BY id LIMIT ?2"
    ))?;
    let fetch = i64::from(page.limit) + 1;
    let mut items = statement
        .query_map(params![page.after, fetch], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;

    let next_cursor = if items.len() > page.limit as usize {
        items.truncate(page.limit as usize);
        items.last().map(|tree| tree.id.to_string())
    } else {
        None
    };

    Ok(Page { items, next_cursor })
}

pub(super) fn get(conn: &Connection, id: TreeId) -> Result<Tree> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM trees WHERE id = ?1"))?
        .query_row([id], from_row)
        .map_err(not_found("tree", id))
}

pub(super) fn update(conn: &mut Connection, id: TreeId, patch: TreePatch) -> Result<Tree> {
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
            "UPDATE trees
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

    updated.ok_or_else(|| not_found("tree", id)(rusqlite::Error::QueryReturnedNoRows))
}

pub(super) fn delete(conn: &Connection, id: TreeId) -> Result<()> {
    let deleted = conn.execute("DELETE FROM trees WHERE id = ?1", [id])?;
    if deleted == 0 {
        return Err(not_found("tree", id)(rusqlite::Error::QueryReturnedNoRows));
    }

    Ok(())
}

/// Returns an error unless the tree exists.
pub(super) fn ensure_exists(conn: &Connection, id: TreeId) -> Result<()> {
    conn.prepare_cached("SELECT 1 FROM trees WHERE id = ?1")?
        .query_row([id], |_| Ok(()))
        .map_err(not_found("tree", id))
}
