//! The errors of the domain and its storage.

use derive_more::{Display, Error, From};

use crate::id::InvalidId;
use crate::model::NodeKind;

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a request to the store failed.
#[derive(Debug, Display, Error, From)]
pub enum Error {
    /// A field's value breaks a field rule.
    #[from]
    Field(FieldError),

    /// An id in the input is malformed or of the wrong kind.
    #[display("{source}")]
    InvalidId {
        /// The JSON pointer of the field that holds the id.
        #[error(not(source))]
        field: &'static str,
        /// What is wrong with the id.
        source: InvalidId,
    },

    /// The entity named by an id does not exist.
    #[display("{entity} `{id}` was not found")]
    NotFound {
        /// The kind of entity, such as `tree`.
        entity: &'static str,
        /// The id that was looked up.
        #[error(not(source))]
        id: String,
    },

    /// An id in the input names an entity that does not exist.
    #[display("{entity} `{id}` was not found")]
    UnknownReference {
        /// The JSON pointer of the field that holds the id.
        #[error(not(source))]
        field: &'static str,
        /// The kind of entity, such as `node`.
        entity: &'static str,
        /// The id that was looked up.
        #[error(not(source))]
        id: String,
    },

    /// A node would stand under a parent of a kind it may not have.
    #[display("a {child} cannot be placed under {parent} `{parent_id}`: {}", parent_rule(*child))]
    InvalidParentKind {
        /// The kind of the node being placed.
        child: NodeKind,
        /// The proposed parent.
        #[error(not(source))]
        parent_id: String,
        /// The kind of the proposed parent.
        parent: NodeKind,
    },

    /// A node would be created with a kind that only the tree itself may create.
    #[display(
        "{kind} nodes cannot be created on their own: a tree gets its one outcome when it is created"
    )]
    KindNotCreatable {
        /// The rejected kind.
        kind: NodeKind,
    },

    /// A proposed parent belongs to another tree.
    #[display(
        "parent node `{parent_id}` belongs to tree `{parent_tree_id}`, not to tree `{tree_id}`"
    )]
    ParentInOtherTree {
        /// The proposed parent.
        #[error(not(source))]
        parent_id: String,
        /// The tree the parent belongs to.
        #[error(not(source))]
        parent_tree_id: String,
        /// The tree the node belongs to.
        #[error(not(source))]
        tree_id: String,
    },

    /// A node with children was to be deleted on its own.
    #[display("node `{id}` has {children} child node(s)")]
    NodeHasChildren {
        /// The node.
        #[error(not(source))]
        id: String,
        /// How many direct children it has.
        children: u64,
    },

    /// The root outcome was to be deleted on its own.
    #[display("node `{id}` is the root outcome of tree `{tree_id}`")]
    RootNodeDelete {
        /// The root node.
        #[error(not(source))]
        id: String,
        /// Its tree.
        #[error(not(source))]
        tree_id: String,
    },

    /// The database was written by a newer version of the service.
    #[display(
        "the database has schema version {found}, but this build supports at most {supported}"
    )]
    SchemaTooNew {
        /// The version recorded in the database.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },

    /// The database failed; the request itself may have been valid.
    #[display("database error: {_0}")]
    #[from]
    Storage(rusqlite::Error),
}

fn parent_rule(child: NodeKind) -> &'static str {
    match child {
        NodeKind::Outcome => "an outcome is always the root of its tree",
        NodeKind::Opportunity => "an opportunity goes under the outcome or another opportunity",
        NodeKind::Solution => "a solution goes under an opportunity",
        NodeKind::Experiment => "an experiment goes under a solution",
    }
}

/// A field value that breaks a field rule.
#[derive(Debug, Display, Error, Clone, PartialEq, Eq)]
pub enum FieldError {
    /// The value is empty, or only white space.
    #[display("`{field}` is empty: give it 1 to {max} characters")]
    Empty {
        /// The JSON pointer of the field, such as `/title`.
        field: &'static str,
        /// The maximum length of the field in characters.
        max: usize,
    },

    /// The value has more characters than the field allows.
    #[display("`{field}` has {length} characters: shorten it to at most {max}")]
    TooLong {
        /// The JSON pointer of the field, such as `/title`.
        field: &'static str,
        /// The value's length in characters.
        length: usize,
        /// The maximum length of the field in characters.
        max: usize,
    },
}

impl FieldError {
    /// Returns the JSON pointer of the field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            FieldError::Empty { field, .. } | FieldError::TooLong { field, .. } => field,
        }
    }
}
