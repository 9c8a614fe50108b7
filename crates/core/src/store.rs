//! The storage interface the API is written against.
//!
//! [`Store`] gathers one trait per area: [`TreeStore`] for trees, nodes and their history,
//! [`EvidenceStore`] for evidence and links, [`ViewStore`] for outlines, gap reports and
//! search, and [`TransferStore`] for whole trees as documents. Methods block on the database,
//! so async callers run them on a blocking thread pool. Every method that writes does so in
//! one transaction, which also appends the tree's history and, for a create with an
//! idempotency key in its [`WriteContext`], stores the response.
//!
//! Methods that change an entity take `expected_version`: when it is `Some` and differs from
//! the stored version, they fail with [`crate::Error::VersionMismatch`] and change nothing.

use std::io::Write;

use crate::error::Result;
use crate::id::{EvidenceId, LinkId, NodeId, TreeId};
use crate::model::{
    DeleteMode, Evidence, EvidenceFilter, EvidenceLink, EvidencePatch, HistoryEntry, Link,
    LinkPatch, NewEvidence, NewLink, NewNode, NewTree, Node, NodeLink, NodePatch, Page,
    StoredResponse, Tree, TreePatch, TreeWithRoot, WriteContext,
};
use crate::model::{Gaps, Outline, OutlineRequest, SearchQuery, SearchResults};
use crate::model::{ImportCheck, ImportedTree, TreeDocument};

/// A request for one page of a keyset-paginated listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest<C> {
    /// How many items to return at most.
    pub limit: u32,
    /// The last item of the previous page; `None` starts at the beginning.
    pub after: Option<C>,
}

/// Everything the API needs from storage.
pub trait Store: TreeStore + EvidenceStore + ViewStore + TransferStore + 'static {}

impl<T: TreeStore + EvidenceStore + ViewStore + TransferStore + 'static> Store for T {}

/// Trees, their nodes, their history, and stored idempotent responses.
pub trait TreeStore: Send + Sync {
    /// Checks that the database responds.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::Storage`] when it does not.
    fn ping(&self) -> Result<()>;

    /// Creates a tree with its root outcome node.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::Field`] when a title or description breaks a field rule.
    fn create_tree(&self, ctx: &WriteContext, new: NewTree) -> Result<TreeWithRoot>;

    /// Lists trees in creation order, one page at a time.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::Storage`] when the database fails.
    fn list_trees(&self, page: PageRequest<TreeId>) -> Result<Page<Tree>>;

    /// Returns one tree.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::NotFound`] when there is no such tree.
    fn get_tree(&self, id: TreeId) -> Result<Tree>;

    /// Changes a tree's title or description.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::NotFound`], [`crate::Error::VersionMismatch`] or
    /// [`crate::Error::Field`].
    fn update_tree(
        &self,
        ctx: &WriteContext,
        id: TreeId,
        patch: TreePatch,
        expected_version: Option<u64>,
    ) -> Result<Tree>;

    /// Deletes a tree with all its nodes and their links; its history stays.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::NotFound`] or [`crate::Error::VersionMismatch`].
    fn delete_tree(
        &self,
        ctx: &WriteContext,
        id: TreeId,
        expected_version: Option<u64>,
    ) -> Result<()>;

    /// Adds a node under an existing node of the same tree, at `new.position` or after its
    /// last sibling.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::NotFound`] for a missing tree, and
    /// [`crate::Error::UnknownReference`], [`crate::Error::ParentInOtherTree`],
    /// [`crate::Error::InvalidParentKind`], [`crate::Error::KindNotCreatable`],
    /// [`crate::Error::PositionOutOfRange`], [`crate::Error::ExperimentFieldOnOtherKind`] or
    /// [`crate::Error::Field`] when the node breaks a rule.
    fn create_node(&self, ctx: &WriteContext, tree_id: TreeId, new: NewNode) -> Result<Node>;

    /// Lists every node of a tree in depth-first order, siblings by position.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::NotFound`] when there is no such tree.
    fn list_nodes(&self, tree_id: TreeId) -> Result<Vec<Node>>;

    /// Returns one node.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::NotFound`] when there is no such node.
    fn get_node(&self, id: NodeId) -> Result<Node>;

    /// Changes a node's fields, or moves it with its subtree to another parent or position.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::NotFound`], [`crate::Error::VersionMismatch`],
    /// [`crate::Error::Field`], [`crate::Error::ExperimentFieldOnOtherKind`], and for a move
    /// [`crate::Error::RootNodeMove`], [`crate::Error::NodeCycle`],
    /// [`crate::Error::InvalidParentKind`], [`crate::Error::ParentInOtherTree`] or
    /// [`crate::Error::PositionOutOfRange`].
    fn update_node(
        &self,
        ctx: &WriteContext,
        id: NodeId,
        patch: NodePatch,
        expected_version: Option<u64>,
    ) -> Result<Node>;

    /// Deletes a node, or with [`DeleteMode::Subtree`] the node and all its descendants, with
    /// their links, and closes the gap in the siblings' positions. Returns how many nodes
    /// were deleted.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::NotFound`], [`crate::Error::VersionMismatch`],
    /// [`crate::Error::RootNodeDelete`] for the root outcome, and
    /// [`crate::Error::NodeHasChildren`] for a node with children in [`DeleteMode::LeafOnly`].
    fn delete_node(
        &self,
        ctx: &WriteContext,
        id: NodeId,
        mode: DeleteMode,
        expected_version: Option<u64>,
    ) -> Result<u64>;

    /// Lists a tree's history, newest first; the cursor is the `seq` of the last entry.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::NotFound`] when the tree never existed.
    fn list_history(&self, tree_id: TreeId, page: PageRequest<i64>) -> Result<Page<HistoryEntry>>;

    /// Returns the response stored for an idempotency key, if any.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::Storage`] when the database fails.
    fn find_stored_response(&self, key: &str) -> Result<Option<StoredResponse>>;
}

/// Evidence items and the links between them and nodes.
pub trait EvidenceStore: Send + Sync {
    /// Stores a new evidence item.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::Field`], [`crate::Error::MetricRequired`],
    /// [`crate::Error::MetricNotAllowed`], or [`crate::Error::DuplicateSource`] naming the
    /// item that already has the same source system and external id.
    fn create_evidence(&self, ctx: &WriteContext, new: NewEvidence) -> Result<Evidence>;

    /// Lists evidence in creation order, filtered, one page at a time.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::Storage`] when the database fails.
    fn list_evidence(
        &self,
        filter: &EvidenceFilter,
        page: PageRequest<EvidenceId>,
    ) -> Result<Page<Evidence>>;

    /// Writes the page that [`list_evidence`](Self::list_evidence) returns to `out` as
    /// compact JSON, the bytes that `serde_json` gives for that page, without building its
    /// items.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::Storage`] when the database fails.
    fn write_evidence_page(
        &self,
        filter: &EvidenceFilter,
        page: PageRequest<EvidenceId>,
        out: &mut Vec<u8>,
    ) -> Result<()>;

    /// Returns one evidence item.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::NotFound`] when there is no such item.
    fn get_evidence(&self, id: EvidenceId) -> Result<Evidence>;

    /// Changes an evidence item; the result must pass the rules of a new item.
    ///
    /// # Errors
    ///
    /// As [`EvidenceStore::create_evidence`], plus [`crate::Error::NotFound`] and
    /// [`crate::Error::VersionMismatch`].
    fn update_evidence(
        &self,
        ctx: &WriteContext,
        id: EvidenceId,
        patch: EvidencePatch,
        expected_version: Option<u64>,
    ) -> Result<Evidence>;

    /// Deletes an evidence item; linked items only with `with_links`, which deletes the links
    /// too. Returns how many links were deleted.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::NotFound`], [`crate::Error::VersionMismatch`], or
    /// [`crate::Error::EvidenceLinked`] when the item has links and `with_links` is false.
    fn delete_evidence(
        &self,
        ctx: &WriteContext,
        id: EvidenceId,
        with_links: bool,
        expected_version: Option<u64>,
    ) -> Result<u64>;

    /// Links a node to an evidence item.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::NotFound`] for the node, [`crate::Error::UnknownReference`]
    /// for the evidence item, [`crate::Error::Field`] for the strength or note, and
    /// [`crate::Error::DuplicateLink`] when the pair is already linked.
    fn create_link(&self, ctx: &WriteContext, node_id: NodeId, new: NewLink) -> Result<Link>;

    /// Lists a node's links, each with a summary of its evidence.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::NotFound`] when there is no such node.
    fn list_node_links(&self, node_id: NodeId) -> Result<Vec<NodeLink>>;

    /// Lists an evidence item's links, each with summaries of its node and tree.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::NotFound`] when there is no such item.
    fn list_evidence_links(&self, evidence_id: EvidenceId) -> Result<Vec<EvidenceLink>>;

    /// Returns one link.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::NotFound`] when there is no such link.
    fn get_link(&self, id: LinkId) -> Result<Link>;

    /// Changes a link's relation, strength or note.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::NotFound`], [`crate::Error::VersionMismatch`] or
    /// [`crate::Error::Field`].
    fn update_link(
        &self,
        ctx: &WriteContext,
        id: LinkId,
        patch: LinkPatch,
        expected_version: Option<u64>,
    ) -> Result<Link>;

    /// Deletes a link; the node and the evidence stay.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::NotFound`] or [`crate::Error::VersionMismatch`].
    fn delete_link(
        &self,
        ctx: &WriteContext,
        id: LinkId,
        expected_version: Option<u64>,
    ) -> Result<()>;
}

/// Read-only views across trees and evidence: outlines, gap reports and full-text search.
pub trait ViewStore: Send + Sync {
    /// Returns a tree, or the subtree under `request.start`, as nested nodes, each with the
    /// number of its `supports` and `contradicts` links.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::NotFound`] for a missing tree, and for a start node that does
    /// not exist or belongs to another tree.
    fn outline(&self, tree_id: TreeId, request: OutlineRequest) -> Result<Outline>;

    /// Lists the opportunities without supporting evidence, the solutions without
    /// experiments, and the finished experiments without a result of one tree.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::NotFound`] when there is no such tree.
    fn gaps(&self, tree_id: TreeId) -> Result<Gaps>;

    /// Returns the revision of a tree: the sequence number of its last history entry, or
    /// `None` when it has none, as for a generated tree or a missing one.
    ///
    /// Every write that changes the tree's outline or gaps appends to its history, since
    /// each change to its title, its nodes or their links does. So an outline read while the
    /// revision was R is still current while the revision is R.
    fn tree_revision(&self, tree_id: TreeId) -> Result<Option<i64>>;

    /// Returns the revision of the evidence listing, a number that moves whenever an evidence
    /// item or a link is created, changed or deleted. A page listed while the revision was R
    /// is still current while the revision is R.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::Storage`] when the database fails.
    fn evidence_revision(&self) -> Result<i64>;

    /// Returns the revision of search, which moves as the evidence revision does and also
    /// whenever a node is created or deleted or its title, description or result changes. A
    /// search run while the revision was R gives the same results while the revision is R.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::Storage`] when the database fails.
    fn search_revision(&self) -> Result<i64>;

    /// Searches node titles, descriptions and experiment results, and evidence titles,
    /// contents and tags, best match first.
    ///
    /// It ranks at most the [`crate::model::SEARCH_RANKED_MATCHES`] newest matches, and
    /// reports in [`SearchResults::all_matches_ranked`] whether there were more.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::InvalidSearchQuery`] for text that is empty after trimming or
    /// longer than [`crate::model::SEARCH_TEXT_MAX_CHARS`], and [`crate::Error::NotFound`]
    /// when `query.tree_id` names a missing tree.
    fn search(&self, query: &SearchQuery) -> Result<SearchResults>;
}

/// Whole trees as portable documents: export, and import as a new tree.
pub trait TransferStore: Send + Sync {
    /// Writes a tree as a document to `out` in compact JSON: its nodes depth-first, their
    /// links, and the evidence those links point to, read in one snapshot. Refs in the
    /// document are the current ids. Memory use does not grow with the tree, because each
    /// entry is written before the next is read.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::NotFound`] before writing anything when there is no such tree,
    /// [`crate::Error::ExportsBusy`] before writing anything when other exports keep every
    /// connection for exports in use, and [`crate::Error::Output`] when writing to `out`
    /// fails, which leaves the document cut short.
    fn write_export(&self, id: TreeId, out: &mut dyn Write) -> Result<()>;

    /// Returns a tree as a document, the one that [`TransferStore::write_export`] writes.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::NotFound`] when there is no such tree.
    fn export_tree(&self, id: TreeId) -> Result<TreeDocument> {
        let mut json = Vec::new();
        self.write_export(id, &mut json)?;

        serde_json::from_slice(&json).map_err(|err| crate::Error::Output(err.into()))
    }

    /// Validates a document as [`TransferStore::import_tree`] would, and counts what it would
    /// create and reuse, without writing anything.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::UnsupportedFormat`] or [`crate::Error::UnsupportedVersion`]
    /// for a document of another format; every other problem is listed in the result.
    fn check_import(&self, document: &TreeDocument) -> Result<ImportCheck>;

    /// Creates a new tree from a document, in one transaction: new ids for the tree and its
    /// nodes, new evidence items except where a stored item has the same source system and
    /// external id, which is used as it is, and the links. Appends the new tree's history.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::UnsupportedFormat`] or [`crate::Error::UnsupportedVersion`]
    /// for a document of another format, and [`crate::Error::InvalidDocument`] listing every
    /// problem when the document breaks a rule. Either way nothing is written.
    fn import_tree(&self, ctx: &WriteContext, document: TreeDocument) -> Result<ImportedTree>;
}
