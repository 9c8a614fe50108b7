//! Links between nodes and evidence.

use derive_more::Display;
use serde::{Deserialize, Serialize};

use crate::id::{EvidenceId, LinkId, NodeId, TreeId};
use crate::model::{EvidenceSummary, NodeKind};

/// How an evidence item relates to a node: it supports it or contradicts it.
#[derive(Debug, Display, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// The evidence supports the node.
    #[display("supports")]
    Supports,
    /// The evidence contradicts the node.
    #[display("contradicts")]
    Contradicts,
}

impl Relation {
    /// Returns the stored name, as used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Supports => "supports",
            Relation::Contradicts => "contradicts",
        }
    }

    /// Parses a stored name.
    pub fn from_name(name: &str) -> Option<Relation> {
        [Relation::Supports, Relation::Contradicts]
            .into_iter()
            .find(|relation| relation.as_str() == name)
    }
}

/// A stored link: one node, one evidence item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    /// The link's id.
    pub id: LinkId,
    /// The node.
    pub node_id: NodeId,
    /// The evidence item.
    pub evidence_id: EvidenceId,
    /// How the evidence relates to the node.
    pub relation: Relation,
    /// The strength, 1 to 5, when the caller judged it.
    pub strength: Option<u8>,
    /// The reason for the link, at most 1,000 characters.
    pub note: String,
    /// Counts the changes to the link, starting at 1; sent as the `ETag`.
    pub version: u64,
    /// When it was made, RFC 3339 UTC.
    pub created_at: String,
    /// When it last changed, RFC 3339 UTC.
    pub updated_at: String,
}

/// The fields of a new link from a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLink {
    /// The evidence item to link.
    pub evidence_id: EvidenceId,
    /// How the evidence relates to the node.
    pub relation: Relation,
    /// The strength, 1 to 5, checked by the store.
    pub strength: Option<i64>,
    /// Why.
    pub note: String,
}

/// Changes to a link; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkPatch {
    /// A new relation.
    pub relation: Option<Relation>,
    /// A new strength, 1 to 5; `Some(None)` clears it.
    pub strength: Option<Option<i64>>,
    /// A new note.
    pub note: Option<String>,
}

impl LinkPatch {
    /// Returns whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == LinkPatch::default()
    }
}

/// A link as listed from its node, with a summary of its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeLink {
    /// The link.
    #[serde(flatten)]
    pub link: Link,
    /// The evidence it points to.
    pub evidence: EvidenceSummary,
}

/// The few fields of a node and its tree shown beside a link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeSummary {
    /// The node's id.
    pub id: NodeId,
    /// The node's kind.
    pub kind: NodeKind,
    /// Its title.
    pub title: String,
}

/// The few fields of a tree shown beside a link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TreeSummary {
    /// The tree's id.
    pub id: TreeId,
    /// Its title.
    pub title: String,
}

/// A link as listed from its evidence, with summaries of its node and tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceLink {
    /// The link.
    #[serde(flatten)]
    pub link: Link,
    /// The node it points to.
    pub node: NodeSummary,
    /// The node's tree.
    pub tree: TreeSummary,
}
