//! The change history of a tree.

use derive_more::Display;
use serde::Serialize;
use serde_json::Value;

use crate::id::TreeId;

/// The kind of change a history entry records.
#[derive(Debug, Display, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryAction {
    /// A tree or node was created.
    #[display("create")]
    Create,
    /// Fields of a tree, node or link changed.
    #[display("update")]
    Update,
    /// A node moved to another parent or position.
    #[display("move")]
    Move,
    /// A tree or node was deleted.
    #[display("delete")]
    Delete,
    /// A node was linked to evidence.
    #[display("link")]
    Link,
    /// A link was removed.
    #[display("unlink")]
    Unlink,
}

impl HistoryAction {
    /// Returns the stored name, as used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryAction::Create => "create",
            HistoryAction::Update => "update",
            HistoryAction::Move => "move",
            HistoryAction::Delete => "delete",
            HistoryAction::Link => "link",
            HistoryAction::Unlink => "unlink",
        }
    }
}

/// One change in a tree's history. Entries are appended in the transaction that made the
/// change, and never rewritten.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    /// The entry's place in the history of all trees; later entries have larger numbers.
    pub seq: i64,
    /// The tree.
    pub tree_id: TreeId,
    /// When, RFC 3339 UTC.
    pub at: String,
    /// What happened.
    pub action: String,
    /// The kind of entity changed: `tree`, `node` or `link`.
    pub entity_type: String,
    /// The entity's id.
    pub entity_id: String,
    /// The person the caller acted for, when the caller named one.
    pub actor: Option<String>,
    /// The fields that changed, as they were; `null` on create.
    pub before: Option<Value>,
    /// The fields that changed, as they became; `null` on delete.
    pub after: Option<Value>,
}
