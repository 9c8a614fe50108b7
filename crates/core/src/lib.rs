//! The domain of ost-linker: Opportunity Solution Trees and their storage.
//!
//! A tree has one desired outcome at its root. Opportunities stand under the outcome or under
//! other opportunities, solutions under opportunities, and experiments (assumption tests)
//! under solutions. This crate enforces those rules and the field rules, and stores trees in
//! SQLite behind the [`Store`] trait. It has no HTTP code, because the API crate maps its
//! [`Error`] to responses.
//!
//! # Layout
//!
//! - [`model`]: trees, nodes, evidence, links and history, and the inputs that create and
//!   change them.
//! - [`rules`]: field rules shared by every entity.
//! - [`id`]: prefixed ids such as `tree_…` and `node_…`.
//! - [`store`]: the [`Store`] trait; [`sqlite`]: its SQLite implementation.
//! - [`generate`]: realistic test data in bulk, for benchmarks.
//!
//! # Example
//!
//! ```
//! use ost_linker_core::{NewNode, NewTree, NodeKind, SqliteStore, TreeStore, WriteContext};
//!
//! let store = SqliteStore::open_in_memory()?;
//! let ctx = WriteContext::default();
//! let created = store.create_tree(&ctx, NewTree {
//!     title: "Trial retention".into(),
//!     outcome_title: "Raise 90-day trial retention to 26%".into(),
//!     ..NewTree::default()
//! })?;
//! let opportunity = store.create_node(
//!     &ctx,
//!     created.tree.id,
//!     NewNode::new(created.root.id, NodeKind::Opportunity, "Setting up the first schedule takes too long"),
//! )?;
//! assert_eq!(opportunity.position, 0);
//! # Ok::<(), ost_linker_core::Error>(())
//! ```

#![warn(missing_docs)]

pub mod error;
pub mod generate;
pub mod id;
pub mod model;
pub mod rules;
pub mod sqlite;
pub mod store;
pub mod time;

pub use crate::error::{Error, FieldError, Result};
pub use crate::id::{EvidenceId, InvalidId, LinkId, NodeId, TreeId};
pub use crate::model::*;
pub use crate::sqlite::SqliteStore;
pub use crate::store::{EvidenceStore, PageRequest, Store, TransferStore, TreeStore, ViewStore};
