//! Trees and nodes.

use derive_more::Display;
use serde::{Deserialize, Serialize};

use crate::id::{NodeId, TreeId};

/// The kind of a node, which fixes where it may stand in a tree.
#[derive(Debug, Display, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// The desired outcome at the root of a tree.
    #[display("outcome")]
    Outcome,
    /// A customer need, pain point or desire, under the outcome or another opportunity.
    #[display("opportunity")]
    Opportunity,
    /// A way to address an opportunity.
    #[display("solution")]
    Solution,
    /// An assumption test of a solution.
    #[display("experiment")]
    Experiment,
}

impl NodeKind {
    /// All kinds, root first.
    pub const ALL: [NodeKind; 4] = [
        NodeKind::Outcome,
        NodeKind::Opportunity,
        NodeKind::Solution,
        NodeKind::Experiment,
    ];

    /// Returns the kinds a node of this kind may have as its parent.
    ///
    /// An outcome has none: it is always the root, created with its tree.
    pub fn allowed_parents(self) -> &'static [NodeKind] {
        match self {
            NodeKind::Outcome => &[],
            NodeKind::Opportunity => &[NodeKind::Outcome, NodeKind::Opportunity],
            NodeKind::Solution => &[NodeKind::Opportunity],
            NodeKind::Experiment => &[NodeKind::Solution],
        }
    }

    /// Returns whether a node of this kind may stand directly under a node of `parent` kind.
    pub fn may_have_parent(self, parent: NodeKind) -> bool {
        self.allowed_parents().contains(&parent)
    }

    /// Returns the stored name of the kind, as used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Outcome => "outcome",
            NodeKind::Opportunity => "opportunity",
            NodeKind::Solution => "solution",
            NodeKind::Experiment => "experiment",
        }
    }

    /// Parses a stored kind name.
    pub fn from_name(name: &str) -> Option<NodeKind> {
        NodeKind::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

/// An Opportunity Solution Tree: its own fields, without its nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tree {
    /// The tree's id.
    pub id: TreeId,
    /// The tree's title, trimmed, 1 to 200 characters.
    pub title: String,
    /// Free text about the tree, at most 10,000 characters; empty when none was given.
    pub description: String,
    /// The id of the outcome node at the root.
    pub root_node_id: NodeId,
    /// Counts the changes to the tree's own fields, starting at 1; sent as the `ETag`.
    pub version: u64,
    /// When the tree was created, RFC 3339 UTC.
    pub created_at: String,
    /// When the tree's own fields last changed, RFC 3339 UTC.
    pub updated_at: String,
}

/// One node of a tree.
///
/// In JSON, `status` and `result` appear on experiments only, and there always, with `result`
/// `null` until one is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The node's id.
    pub id: NodeId,
    /// The tree the node belongs to.
    pub tree_id: TreeId,
    /// The parent node; `None` only for the root outcome.
    pub parent_id: Option<NodeId>,
    /// The node's kind.
    pub kind: NodeKind,
    /// The node's title, trimmed, 1 to 200 characters.
    pub title: String,
    /// Free text about the node, at most 10,000 characters; empty when none was given.
    pub description: String,
    /// The node's place among its siblings, counting from 0 with no gaps.
    pub position: u32,
    /// The state of an experiment; `None` for every other kind.
    pub status: Option<ExperimentStatus>,
    /// The outcome of an experiment, at most 10,000 characters. Always `None` for other kinds.
    pub result: Option<String>,
    /// Counts the changes to the node, starting at 1; sent as the `ETag`.
    pub version: u64,
    /// When the node was created, RFC 3339 UTC.
    pub created_at: String,
    /// When the node last changed, RFC 3339 UTC.
    pub updated_at: String,
}

impl Serialize for Node {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;

        let is_experiment = self.kind == NodeKind::Experiment;
        let fields = if is_experiment { 13 } else { 11 };
        let mut node = serializer.serialize_struct("Node", fields)?;
        node.serialize_field("id", &self.id)?;
        node.serialize_field("tree_id", &self.tree_id)?;
        node.serialize_field("parent_id", &self.parent_id)?;
        node.serialize_field("kind", &self.kind)?;
        node.serialize_field("title", &self.title)?;
        node.serialize_field("description", &self.description)?;
        node.serialize_field("position", &self.position)?;
        if is_experiment {
            node.serialize_field("status", &self.status)?;
            node.serialize_field("result", &self.result)?;
        }
        node.serialize_field("version", &self.version)?;
        node.serialize_field("created_at", &self.created_at)?;
        node.serialize_field("updated_at", &self.updated_at)?;
        node.end()
    }
}

/// The state of an experiment.
#[derive(Debug, Display, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExperimentStatus {
    /// Designed, not started.
    #[display("planned")]
    Planned,
    /// Collecting data.
    #[display("running")]
    Running,
    /// Finished, and the assumption held.
    #[display("succeeded")]
    Succeeded,
    /// Finished, and the assumption did not hold.
    #[display("failed")]
    Failed,
}

impl ExperimentStatus {
    /// All statuses, in their usual order.
    pub const ALL: [ExperimentStatus; 4] = [
        ExperimentStatus::Planned,
        ExperimentStatus::Running,
        ExperimentStatus::Succeeded,
        ExperimentStatus::Failed,
    ];

    /// Returns the stored name of the status, as used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ExperimentStatus::Planned => "planned",
            ExperimentStatus::Running => "running",
            ExperimentStatus::Succeeded => "succeeded",
            ExperimentStatus::Failed => "failed",
        }
    }

    /// Parses a stored status name.
    pub fn from_name(name: &str) -> Option<ExperimentStatus> {
        ExperimentStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == name)
    }

    /// Returns whether the experiment has finished.
    pub fn is_finished(self) -> bool {
        matches!(self, ExperimentStatus::Succeeded | ExperimentStatus::Failed)
    }
}

/// A tree together with its root outcome node, as returned on creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TreeWithRoot {
    /// The tree.
    #[serde(flatten)]
    pub tree: Tree,
    /// Its root outcome node.
    pub root: Node,
}

/// The fields of a new tree and of its root outcome.
#[derive(Debug, Clone, Default)]
pub struct NewTree {
    /// The tree's title.
    pub title: String,
    /// The tree's description.
    pub description: String,
    /// The title of the root outcome node.
    pub outcome_title: String,
    /// The description of the root outcome node.
    pub outcome_description: String,
}

/// Changes to a tree's own fields; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct TreePatch {
    /// A new title.
    pub title: Option<String>,
    /// A new description; an empty string clears it.
    pub description: Option<String>,
}

/// The fields of a new node.
#[derive(Debug, Clone)]
pub struct NewNode {
    /// The node to place the new node under, in the same tree.
    pub parent_id: NodeId,
    /// The new node's kind.
    pub kind: NodeKind,
    /// The node's title.
    pub title: String,
    /// The node's description.
    pub description: String,
    /// The place among its siblings to insert it. `None` appends it after the last.
    pub position: Option<u32>,
    /// An experiment's state; experiments default to [`ExperimentStatus::Planned`].
    pub status: Option<ExperimentStatus>,
    /// An experiment's result.
    pub result: Option<String>,
}

impl NewNode {
    /// Describes a node with only the required fields.
    pub fn new(parent_id: NodeId, kind: NodeKind, title: impl Into<String>) -> Self {
        Self {
            parent_id,
            kind,
            title: title.into(),
            description: String::new(),
            position: None,
            status: None,
            result: None,
        }
    }
}

/// Changes to a node; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct NodePatch {
    /// A new title.
    pub title: Option<String>,
    /// A new description; an empty string clears it.
    pub description: Option<String>,
    /// A new parent in the same tree: moves the node with its subtree.
    pub parent_id: Option<NodeId>,
    /// A new place among the siblings, counting from 0.
    pub position: Option<u32>,
    /// An experiment's new state.
    pub status: Option<ExperimentStatus>,
    /// An experiment's new result; `Some(None)` clears it.
    pub result: Option<Option<String>>,
}

impl NodePatch {
    /// Returns whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.description.is_none()
            && self.parent_id.is_none()
            && self.position.is_none()
            && self.status.is_none()
            && self.result.is_none()
    }
}

/// The treatment of the descendants of a deleted node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteMode {
    /// Delete only a node without children; a node with children is an error.
    LeafOnly,
    /// Delete the node and its whole subtree.
    Subtree,
}
