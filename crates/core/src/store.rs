//! The storage interface the API is written against.

use crate::error::Result;
use crate::id::{NodeId, TreeId};
use crate::model::{
    DeleteMode, NewNode, NewTree, Node, NodePatch, Page, Tree, TreePatch, TreeWithRoot,
};

/// A request for one page of a keyset-paginated listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest<C> {
    /// How many items to return at most.
    pub limit: u32,
    /// The last item of the previous page; `None` starts at the beginning.
    pub after: Option<C>,
}

/// Stores trees and their nodes, enforcing every domain rule.
///
/// Methods block on the database, so async callers run them on a blocking thread pool. Each
/// method that changes more than one row does so in one transaction.
pub trait Store: Send + Sync + 'static {
    /// Checks that the database answers.
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
    fn create_tree(&self, new: NewTree) -> Result<TreeWithRoot>;

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
    /// Returns [`crate::Error::NotFound`] or [`crate::Error::Field`].
    fn update_tree(&self, id: TreeId, patch: TreePatch) -> Result<Tree>;

    /// Deletes a tree and all its nodes.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::NotFound`] when there is no such tree.
    fn delete_tree(&self, id: TreeId) -> Result<()>;

    /// Adds a node under an existing node of the same tree, after its last sibling.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::NotFound`] for a missing tree, and
    /// [`crate::Error::UnknownReference`], [`crate::Error::ParentInOtherTree`],
    /// [`crate::Error::InvalidParentKind`], [`crate::Error::KindNotCreatable`] or
    /// [`crate::Error::Field`] when the node breaks a rule.
    fn create_node(&self, tree_id: TreeId, new: NewNode) -> Result<Node>;

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

    /// Changes a node's title or description.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::NotFound`] or [`crate::Error::Field`].
    fn update_node(&self, id: NodeId, patch: NodePatch) -> Result<Node>;

    /// Deletes a node, or with [`DeleteMode::Subtree`] the node and all its descendants, and
    /// closes the gap in its siblings' positions. Returns how many nodes were deleted.
    ///
    /// # Errors
    ///
    /// Returns [`crate::Error::NotFound`], [`crate::Error::RootNodeDelete`] for the root
    /// outcome, and [`crate::Error::NodeHasChildren`] for a node with children in
    /// [`DeleteMode::LeafOnly`].
    fn delete_node(&self, id: NodeId, mode: DeleteMode) -> Result<u64>;
}
