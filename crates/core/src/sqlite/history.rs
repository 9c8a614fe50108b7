//! History rows: appended in the transaction of each change, never rewritten.

use rusqlite::{Connection, Row, params};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::Result;
use crate::id::TreeId;
use crate::model::{HistoryAction, HistoryEntry, Page, WriteContext};
use crate::store::PageRequest;
use crate::time;

pub(super) const INSERT_SQL: &str =
    "INSERT INTO history (tree_id, at, action, entity_type, entity_id, actor, before, after)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
/// One page of a tree's history, newest first. `?2` is the last `seq` of the previous page,
/// or `i64::MAX` for the first page, so the page starts with an index search.
pub(super) const LIST_SQL: &str =
    "SELECT seq, tree_id, at, action, entity_type, entity_id, actor, before, after
     FROM history
     WHERE tree_id = ?1 AND seq < ?2
     ORDER BY seq DESC
     LIMIT ?3";
pub(super) const EXISTS_SQL: &str = "SELECT EXISTS (SELECT 1 FROM history WHERE tree_id = ?1)";
/// The `seq` of a tree's last history entry, read from the end of `history_by_tree`.
pub(super) const REVISION_SQL: &str = "SELECT max(seq) FROM history WHERE tree_id = ?1";

/// Fields that change on every write, so they carry no information about the change.
const BOOKKEEPING_FIELDS: [&str; 2] = ["version", "updated_at"];

/// One change to append to a tree's history.
pub(super) struct Change {
    pub tree_id: TreeId,
    pub action: HistoryAction,
    pub entity_type: &'static str,
    pub entity_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl Change {
    /// Builds the change for a created entity, recorded whole.
    pub fn created(
        tree_id: TreeId,
        entity_type: &'static str,
        id: String,
        entity: &impl Serialize,
    ) -> Self {
        Self::whole(
            tree_id,
            HistoryAction::Create,
            entity_type,
            id,
            None,
            Some(to_value(entity)),
        )
    }

    /// Builds the change for a deleted entity, recorded whole.
    pub fn deleted(
        tree_id: TreeId,
        entity_type: &'static str,
        id: String,
        entity: &impl Serialize,
    ) -> Self {
        Self::whole(
            tree_id,
            HistoryAction::Delete,
            entity_type,
            id,
            Some(to_value(entity)),
            None,
        )
    }

    /// Builds the change for a changed entity, recorded as the fields that differ.
    pub fn changed(
        tree_id: TreeId,
        action: HistoryAction,
        entity_type: &'static str,
        id: String,
        before: &impl Serialize,
        after: &impl Serialize,
    ) -> Self {
        let (before, after) = changed_fields(&to_value(before), &to_value(after));
        Self::whole(tree_id, action, entity_type, id, Some(before), Some(after))
    }

    /// Marks a created link as a link.
    pub fn into_link(mut self) -> Self {
        self.action = HistoryAction::Link;
        self
    }

    /// Marks a deleted link as an unlink.
    pub fn into_unlink(mut self) -> Self {
        self.action = HistoryAction::Unlink;
        self
    }

    fn whole(
        tree_id: TreeId,
        action: HistoryAction,
        entity_type: &'static str,
        entity_id: String,
        before: Option<Value>,
        after: Option<Value>,
    ) -> Self {
        Self {
            tree_id,
            action,
            entity_type,
            entity_id,
            before,
            after,
        }
    }
}

fn to_value(entity: &impl Serialize) -> Value {
    // Serializing the crate's own entities to a `Value` can't fail: they have string keys
    // and no custom serializers that error.
    serde_json::to_value(entity).unwrap_or(Value::Null)
}

/// Returns the fields of two JSON objects that differ, as they were and as they became.
///
/// A field missing from one side counts as `null`, because entities skip some empty fields
/// when serialized, such as an experiment's cleared `result`.
fn changed_fields(before: &Value, after: &Value) -> (Value, Value) {
    let (Value::Object(before), Value::Object(after)) = (before, after) else {
        return (before.clone(), after.clone());
    };

    let only_before = before.keys().filter(|key| !after.contains_key(*key));
    let mut old = Map::new();
    let mut new = Map::new();
    for key in after.keys().chain(only_before) {
        if BOOKKEEPING_FIELDS.contains(&key.as_str()) {
            continue;
        }
        let old_value = before.get(key).unwrap_or(&Value::Null);
        let new_value = after.get(key).unwrap_or(&Value::Null);
        if old_value != new_value {
            old.insert(key.clone(), old_value.clone());
            new.insert(key.clone(), new_value.clone());
        }
    }
    (Value::Object(old), Value::Object(new))
}

/// Appends a change to its tree's history.
pub(super) fn record(conn: &Connection, ctx: &WriteContext, change: Change) -> Result<()> {
    conn.prepare_cached(INSERT_SQL)?.execute(params![
        change.tree_id,
        time::now(),
        change.action.as_str(),
        change.entity_type,
        change.entity_id,
        ctx.actor,
        change.before.map(|value| value.to_string()),
        change.after.map(|value| value.to_string()),
    ])?;

    Ok(())
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<HistoryEntry> {
    let json = |index: usize| -> rusqlite::Result<Option<Value>> {
        let text: Option<String> = row.get(index)?;
        Ok(text.and_then(|text| serde_json::from_str(&text).ok()))
    };

    Ok(HistoryEntry {
        seq: row.get(0)?,
        tree_id: row.get(1)?,
        at: row.get(2)?,
        action: row.get(3)?,
        entity_type: row.get(4)?,
        entity_id: row.get(5)?,
        actor: row.get(6)?,
        before: json(7)?,
        after: json(8)?,
    })
}

/// Lists a tree's history, newest first; the cursor is the last `seq` returned.
pub(super) fn list(
    conn: &Connection,
    tree_id: TreeId,
    page: PageRequest<i64>,
) -> Result<Page<HistoryEntry>> {
    let mut statement = conn.prepare_cached(LIST_SQL)?;
    let before = page.after.unwrap_or(i64::MAX);
    let items = statement
        .query_map(
            params![tree_id, before, i64::from(page.limit) + 1],
            from_row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;

    Ok(Page::from_overfetch(items, page.limit, |entry| {
        entry.seq.to_string()
    }))
}

/// Returns whether a tree has any history, which outlives the tree itself.
pub(super) fn exists_for(conn: &Connection, tree_id: TreeId) -> Result<bool> {
    Ok(conn
        .prepare_cached(EXISTS_SQL)?
        .query_row([tree_id], |row| row.get(0))?)
}

/// Returns the `seq` of the last history entry of `tree_id`, or `None` when it has none.
pub(super) fn revision(conn: &Connection, tree_id: TreeId) -> Result<Option<i64>> {
    let revision = conn
        .prepare_cached(REVISION_SQL)?
        .query_row([tree_id], |row| row.get(0))?;
    Ok(revision)
}
