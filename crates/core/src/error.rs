//! The errors of the domain and its storage.

use derive_more::{Display, Error, From};

use crate::id::InvalidId;
use crate::model::{EvidenceKind, NodeKind};

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A failed request to the store.
#[derive(Debug, Display, Error, From)]
pub enum Error {
    /// A field's value breaks a field rule.
    #[from]
    Field(FieldError),

    /// An id in the input is malformed or of the wrong kind.
    #[display("{source}")]
    InvalidId {
        /// The JSON pointer of the field that contains the id.
        #[error(not(source))]
        field: &'static str,
        /// Why the id is invalid.
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

    /// A node named as a starting point is missing or belongs to another tree.
    #[display("node `{id}` is not in tree `{tree_id}`")]
    NodeNotInTree {
        /// The node.
        #[error(not(source))]
        id: String,
        /// The tree that was asked about.
        #[error(not(source))]
        tree_id: String,
    },

    /// An id in the input names an entity that does not exist.
    #[display("{entity} `{id}` was not found")]
    UnknownReference {
        /// The JSON pointer of the field that contains the id.
        #[error(not(source))]
        field: &'static str,
        /// The kind of entity, such as `node`.
        entity: &'static str,
        /// The id that was looked up.
        #[error(not(source))]
        id: String,
    },

    /// A node would stand under a parent of a kind it may not have.
    #[display("{} {child} cannot be placed under {parent} `{parent_id}`: {}", article(*child), parent_rule(*child))]
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

    /// A node would move under itself or one of its descendants.
    #[display(
        "node `{id}` cannot move under `{parent_id}`, which is the node itself or one of its descendants"
    )]
    NodeCycle {
        /// The node being moved.
        #[error(not(source))]
        id: String,
        /// The proposed parent.
        #[error(not(source))]
        parent_id: String,
    },

    /// The root outcome was to be moved.
    #[display("node `{id}` is the root outcome of its tree and cannot move")]
    RootNodeMove {
        /// The root node.
        #[error(not(source))]
        id: String,
    },

    /// A position is past the end of the sibling list.
    #[display("position {position} is out of range: the parent has room for positions 0 to {max}")]
    PositionOutOfRange {
        /// The requested position.
        position: u32,
        /// The largest valid position.
        max: u32,
    },

    /// An experiment-only field was given for another kind of node.
    #[display("`{field}` applies only to experiments, and this node is {} {kind}", article(*kind))]
    ExperimentFieldOnOtherKind {
        /// The JSON pointer of the field.
        field: &'static str,
        /// The node's kind.
        kind: NodeKind,
    },

    /// A `metric` evidence item lacks its metric object.
    #[display("evidence of kind metric needs a `metric` object with name, value, unit and period")]
    MetricRequired,

    /// A metric object was given for evidence of another kind.
    #[display("evidence of kind {kind} cannot carry a `metric` object; only kind metric can")]
    MetricNotAllowed {
        /// The evidence kind.
        kind: EvidenceKind,
    },

    /// Another evidence item already has the same source system and external id.
    #[display(
        "evidence `{existing_id}` already has source system `{system}` and external id `{external_id}`"
    )]
    DuplicateSource {
        /// The source system.
        #[error(not(source))]
        system: String,
        /// The external id.
        #[error(not(source))]
        external_id: String,
        /// The evidence item that has them.
        #[error(not(source))]
        existing_id: String,
    },

    /// The node and evidence item are already linked.
    #[display(
        "node `{node_id}` is already linked to evidence `{evidence_id}` by link `{existing_id}`"
    )]
    DuplicateLink {
        /// The node.
        #[error(not(source))]
        node_id: String,
        /// The evidence item.
        #[error(not(source))]
        evidence_id: String,
        /// The existing link.
        #[error(not(source))]
        existing_id: String,
    },

    /// A tree document's `format` is not [`crate::model::DOCUMENT_FORMAT`].
    #[display(
        "document format `{format}` is not supported: this build reads `{}`",
        crate::model::DOCUMENT_FORMAT
    )]
    UnsupportedFormat {
        /// The format as given.
        #[error(not(source))]
        format: String,
    },

    /// A tree document's `version` is not one this build reads.
    #[display(
        "document version {version} is not supported: this build reads version {}",
        crate::model::DOCUMENT_VERSION
    )]
    UnsupportedVersion {
        /// The version as given.
        version: u64,
    },

    /// A tree document breaks one or more rules, so nothing was imported.
    #[display("the document has {} problem(s)", problems.len())]
    InvalidDocument {
        /// Every problem, in document order.
        #[error(not(source))]
        problems: Vec<crate::model::DocumentProblem>,
    },

    /// Evidence with links was to be deleted without its links.
    #[display("evidence `{id}` is linked to {links} node(s)")]
    EvidenceLinked {
        /// The evidence item.
        #[error(not(source))]
        id: String,
        /// How many links point to it.
        links: u64,
    },

    /// The caller's `If-Match` version is not the current one.
    #[display("{entity} `{id}` is at version {current}, not {expected}")]
    VersionMismatch {
        /// The kind of entity.
        entity: &'static str,
        /// The entity's id.
        #[error(not(source))]
        id: String,
        /// The version the caller expected.
        expected: u64,
        /// The stored version.
        current: u64,
    },

    /// A concurrent request stored a response for the same idempotency key first.
    #[display("idempotency key `{key}` was used by a concurrent request")]
    IdempotencyKeyTaken {
        /// The key.
        #[error(not(source))]
        key: String,
    },

    /// The database was written by a newer version of the service.
    #[display(
        "the database has schema version {found}, but this build supports at most {supported}"
    )]
    SchemaTooNew {
        /// The version recorded in the database.
        found: i64,
        /// The newest version this build supports.
        supported: i64,
    },

    /// Search text is empty, too long, or rejected by SQLite's full-text engine.
    #[display("{reason}")]
    InvalidSearchQuery {
        /// The problem with the text, and its fix.
        #[error(not(source))]
        reason: String,
    },

    /// The database failed; the request itself may have been valid.
    #[display("database error: {}", storage_message(_0))]
    #[from]
    Storage(rusqlite::Error),

    /// Every connection that exports use stayed in use while an export waited for one.
    #[display(
        "all {connections} export connections stayed in use for {waited_secs} s, each by an \
         export that is still writing its document"
    )]
    ExportsBusy {
        /// The number of export connections.
        connections: usize,
        /// How long the export waited, in seconds.
        waited_secs: u64,
    },

    /// Writing a document to the caller's output failed, such as when the output is a file
    /// on a full disk.
    #[display("writing the output failed: {_0}")]
    Output(std::io::Error),
}

/// Returns rusqlite's message for `err`, with SQLite's extended result code when SQLite gave
/// a message of its own, which names only the primary code. A bare `disk I/O error` is then,
/// for example, `disk I/O error (extended code 6410)`, which `sqlite3.h` defines as
/// `SQLITE_IOERR_GETTEMPPATH`: no writable temporary directory.
fn storage_message(err: &rusqlite::Error) -> String {
    match err {
        rusqlite::Error::SqliteFailure(code, Some(message)) => {
            format!("{message} (extended code {})", code.extended_code)
        }
        other => other.to_string(),
    }
}

/// Returns the indefinite article for a kind's name.
fn article(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Outcome | NodeKind::Opportunity | NodeKind::Experiment => "an",
        NodeKind::Solution => "a",
    }
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

    /// A tag is not a short lowercase label.
    #[display(
        "tag `{tag}` is invalid: use 1 to {max} lowercase letters, digits, `-` or `_`, such as `data-entry`"
    )]
    InvalidTag {
        /// The tag's index in the list.
        index: usize,
        /// The tag as given.
        tag: String,
        /// The maximum length of a tag in characters.
        max: usize,
    },

    /// A tag appears twice.
    #[display("tag `{tag}` appears more than once: list each tag once")]
    DuplicateTag {
        /// The index of the repeat.
        index: usize,
        /// The tag.
        tag: String,
    },

    /// There are more tags than allowed.
    #[display("there are {count} tags: keep at most {max}")]
    TooManyTags {
        /// How many were given.
        count: usize,
        /// The maximum.
        max: usize,
    },

    /// A timestamp is not RFC 3339.
    #[display(
        "`{field}` is `{value}`, which is not an RFC 3339 timestamp: use a form such as `2026-07-03T14:20:00Z`"
    )]
    InvalidTimestamp {
        /// The JSON pointer of the field.
        field: &'static str,
        /// The value as given.
        value: String,
    },

    /// A URL is not an absolute `http` or `https` URL.
    #[display(
        "`{field}` is `{value}`, which is not an http or https URL: give an absolute URL such as `https://example.com/ticket/42`"
    )]
    InvalidUrl {
        /// The JSON pointer of the field.
        field: &'static str,
        /// The value as given.
        value: String,
    },

    /// A number is NaN or infinite.
    #[display("`{field}` is not a finite number: give a plain decimal number")]
    NotFinite {
        /// The JSON pointer of the field.
        field: &'static str,
    },

    /// A number is outside its range.
    #[display("`{field}` is {value}: use a whole number from {min} to {max}")]
    OutOfRange {
        /// The JSON pointer of the field.
        field: &'static str,
        /// The value as given.
        value: i64,
        /// The smallest allowed value.
        min: i64,
        /// The largest allowed value.
        max: i64,
    },
}

impl FieldError {
    /// Returns the stable snake_case code of the rule broken, as the API reports it.
    pub fn code(&self) -> &'static str {
        match self {
            FieldError::Empty { .. } => "empty_value",
            FieldError::TooLong { .. } => "value_too_long",
            FieldError::InvalidTag { .. } => "invalid_tag",
            FieldError::DuplicateTag { .. } => "duplicate_tag",
            FieldError::TooManyTags { .. } => "too_many_tags",
            FieldError::InvalidTimestamp { .. } => "invalid_timestamp",
            FieldError::InvalidUrl { .. } => "invalid_url",
            FieldError::NotFinite { .. } => "not_finite",
            FieldError::OutOfRange { .. } => "out_of_range",
        }
    }

    /// Returns the JSON pointer of the field at fault.
    pub fn field(&self) -> String {
        match self {
            FieldError::Empty { field, .. } | FieldError::TooLong { field, .. } => {
                (*field).to_owned()
            }
            FieldError::InvalidTag { index, .. } | FieldError::DuplicateTag { index, .. } => {
                format!("/tags/{index}")
            }
            FieldError::TooManyTags { .. } => "/tags".to_owned(),
            FieldError::InvalidTimestamp { field, .. }
            | FieldError::InvalidUrl { field, .. }
            | FieldError::NotFinite { field }
            | FieldError::OutOfRange { field, .. } => (*field).to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::ffi;

    use super::Error;

    #[test]
    fn storage_error_names_extended_code() {
        let failure = rusqlite::Error::SqliteFailure(
            ffi::Error::new(ffi::SQLITE_IOERR_GETTEMPPATH),
            Some("disk I/O error".to_owned()),
        );

        let message = Error::Storage(failure).to_string();

        assert_eq!(
            message,
            "database error: disk I/O error (extended code 6410)"
        );
    }
}
