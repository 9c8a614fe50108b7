//! Tree documents: one tree with its nodes, links and linked evidence, as exported and
//! imported.
//!
//! A document names its entities by `ref` strings instead of ids. An export uses the current
//! ids as refs, and an import accepts any non-empty strings, so a hand-written or converted
//! document may use readable keys. An import creates every node anew, so the refs of the
//! imported tree's nodes differ from the document's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::id::{EvidenceId, NodeId};
use crate::model::{
    Customer, EvidenceKind, ExperimentStatus, Metric, NodeKind, Relation, Source, Tree,
};

/// The `format` member of every tree document.
pub const DOCUMENT_FORMAT: &str = "ost-linker/tree";

/// The `version` of the document layout this build writes and reads.
pub const DOCUMENT_VERSION: u64 = 1;

/// One tree as a self-contained JSON document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreeDocument {
    /// Always [`DOCUMENT_FORMAT`].
    pub format: String,
    /// The layout version, [`DOCUMENT_VERSION`].
    pub version: u64,
    /// The tree's own fields.
    pub tree: DocumentTree,
    /// The nodes depth-first, siblings by position, starting with the root outcome.
    pub nodes: Vec<DocumentNode>,
    /// The evidence items the links point to, in the order links first use them.
    #[serde(default)]
    pub evidence: Vec<DocumentEvidence>,
    /// The links, grouped by node in node order, each node's links oldest first.
    #[serde(default)]
    pub links: Vec<DocumentLink>,
}

/// The tree's own fields in a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentTree {
    /// The tree's title.
    pub title: String,
    /// The tree's description.
    #[serde(default)]
    pub description: String,
}

/// One node in a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentNode {
    /// The node's name within the document; an export uses the node's id.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The `ref` of the parent, which comes earlier in the document; `null` for the root.
    pub parent_ref: Option<String>,
    /// The node's kind.
    pub kind: NodeKind,
    /// The node's title.
    pub title: String,
    /// The node's description.
    #[serde(default)]
    pub description: String,
    /// The node's place among its siblings; when given, it must equal the node's place
    /// among the parent's children in document order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u32>,
    /// An experiment's state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ExperimentStatus>,
    /// An experiment's result text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
}

/// One evidence item in a document, with every field of a stored item but its id, version
/// and timestamps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentEvidence {
    /// The item's name within the document; an export uses the item's id.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The item's kind.
    pub kind: EvidenceKind,
    /// A short title.
    pub title: String,
    /// The full text.
    #[serde(default)]
    pub content: String,
    /// The item's origin. An import reuses the stored item with the same source system and
    /// external id instead of creating a second one.
    #[serde(default)]
    pub source: Source,
    /// The time it was said, written or measured, RFC 3339.
    #[serde(default)]
    pub occurred_at: Option<String>,
    /// The customer it is about.
    #[serde(default)]
    pub customer: Option<Customer>,
    /// Short lowercase labels.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The number, for `metric` items only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<Metric>,
}

/// One link in a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentLink {
    /// The `ref` of the node.
    pub node_ref: String,
    /// The `ref` of the evidence item.
    pub evidence_ref: String,
    /// The evidence's relation to the node.
    pub relation: Relation,
    /// The strength of the relation, 1 to 5.
    #[serde(default)]
    pub strength: Option<i64>,
    /// The reason for the link.
    #[serde(default)]
    pub note: String,
}

/// One thing wrong with a document, found by validation before anything is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentProblem {
    /// The JSON pointer of the member at fault, such as `/nodes/3/title`.
    pub pointer: String,
    /// A stable snake_case name of the problem, such as `unknown_ref`.
    pub code: &'static str,
    /// What is wrong, with the value at fault, and the fix.
    pub detail: String,
}

/// How many entities an import creates or reuses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    /// Nodes created, the root outcome included.
    pub nodes_created: u64,
    /// Evidence items created.
    pub evidence_created: u64,
    /// Stored evidence items used instead of creating one, found by source system and
    /// external id.
    pub evidence_reused: u64,
    /// Links created.
    pub links_created: u64,
}

/// The result of validating a document without importing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportCheck {
    /// Whether an import of the document would succeed; `problems` is then empty.
    pub valid: bool,
    /// Every problem found, in document order.
    pub problems: Vec<DocumentProblem>,
    /// What an import would create and reuse, counted from the document as it is.
    #[serde(flatten)]
    pub counts: ImportCounts,
}

/// A tree created by an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportedTree {
    /// The new tree.
    #[serde(flatten)]
    pub tree: Tree,
    /// What the import created and reused.
    #[serde(flatten)]
    pub counts: ImportCounts,
    /// The id of each node, by its `ref` in the document.
    pub node_ids: BTreeMap<String, NodeId>,
    /// The id of each evidence item, created or reused, by its `ref` in the document.
    pub evidence_ids: BTreeMap<String, EvidenceId>,
}
