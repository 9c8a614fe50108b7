//! The SQLite implementation of the [`crate::Store`] traits.

mod evidence;
mod history;
mod idempotency;
mod links;
mod nodes;
mod schema;
mod search;
mod transfer;
mod trees;
mod views;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OpenFlags};

pub use self::schema::SCHEMA_VERSION;
use crate::error::{Error, Result};
use crate::id::{EvidenceId, LinkId, NodeId, TreeId};
use crate::model::{
    DeleteMode, Evidence, EvidenceFilter, EvidenceLink, EvidencePatch, HistoryEntry, Link,
    LinkPatch, NewEvidence, NewLink, NewNode, NewTree, Node, NodeLink, NodePatch, Page,
    StoredResponse, Tree, TreePatch, TreeWithRoot, WriteContext,
};
use crate::store::{EvidenceStore, PageRequest, TreeStore};

/// How long a statement waits for a lock held by another connection before failing.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// A [`Store`] in one SQLite database file, or in memory.
///
/// Opening creates the file when needed, applies the schema migrations, and turns on
/// write-ahead logging, foreign keys and `synchronous = FULL`, so a change is on disk before
/// the call that made it returns.
///
/// NOTE: one connection serves every call, behind a mutex, so calls run one at a time.
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens or creates the database at `path`; `:memory:` gives a private in-memory store.
    ///
    /// # Errors
    ///
    /// Returns [`Error::Storage`] when the file can't be opened or migrated, and
    /// [`Error::SchemaTooNew`] when a newer build wrote it.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(path, flags)?;

        configure(&conn, path == Path::new(":memory:"))?;
        schema::migrate(&mut conn)?;

        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    /// Opens a private in-memory store, for tests.
    ///
    /// # Errors
    ///
    /// Returns [`Error::Storage`] when SQLite fails to set it up.
    pub fn open_in_memory() -> Result<Self> {
        Self::open(":memory:")
    }

    /// Returns the schema version recorded in the database.
    ///
    /// # Errors
    ///
    /// Returns [`Error::Storage`] when the database can't be read.
    pub fn schema_version(&self) -> Result<i64> {
        schema::recorded_version(&self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held leaves nothing half-done: an open transaction is
        // rolled back when it is dropped. So a poisoned lock is safe to take over.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn configure(conn: &Connection, in_memory: bool) -> Result<()> {
    if !in_memory {
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "wal", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            log::warn!("SQLite kept journal mode {mode}: write-ahead logging is not available");
        }
    }

    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.busy_timeout(BUSY_TIMEOUT)?;

    Ok(())
}

impl TreeStore for SqliteStore {
    fn ping(&self) -> Result<()> {
        // Read the schema table, so the check touches the database file itself.
        self.lock()
            .query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))?;
        Ok(())
    }

    fn create_tree(&self, ctx: &WriteContext, new: NewTree) -> Result<TreeWithRoot> {
        trees::create(&mut self.lock(), ctx, new)
    }

    fn list_trees(&self, page: PageRequest<TreeId>) -> Result<Page<Tree>> {
        trees::list(&self.lock(), page)
    }

    fn get_tree(&self, id: TreeId) -> Result<Tree> {
        trees::get(&self.lock(), id)
    }

    fn update_tree(
        &self,
        ctx: &WriteContext,
        id: TreeId,
        patch: TreePatch,
        expected_version: Option<u64>,
    ) -> Result<Tree> {
        trees::update(&mut self.lock(), ctx, id, patch, expected_version)
    }

    fn delete_tree(
        &self,
        ctx: &WriteContext,
        id: TreeId,
        expected_version: Option<u64>,
    ) -> Result<()> {
        trees::delete(&mut self.lock(), ctx, id, expected_version)
    }

    fn create_node(&self, ctx: &WriteContext, tree_id: TreeId, new: NewNode) -> Result<Node> {
        nodes::create(&mut self.lock(), ctx, tree_id, new)
    }

    fn list_nodes(&self, tree_id: TreeId) -> Result<Vec<Node>> {
        nodes::list(&mut self.lock(), tree_id)
    }

    fn get_node(&self, id: NodeId) -> Result<Node> {
        nodes::get(&self.lock(), id)
    }

    fn update_node(
        &self,
        ctx: &WriteContext,
        id: NodeId,
        patch: NodePatch,
        expected_version: Option<u64>,
    ) -> Result<Node> {
        nodes::update(&mut self.lock(), ctx, id, patch, expected_version)
    }

    fn delete_node(
        &self,
        ctx: &WriteContext,
        id: NodeId,
        mode: DeleteMode,
        expected_version: Option<u64>,
    ) -> Result<u64> {
        nodes::delete(&mut self.lock(), ctx, id, mode, expected_version)
    }

    fn list_history(&self, tree_id: TreeId, page: PageRequest<i64>) -> Result<Page<HistoryEntry>> {
        let conn = self.lock();
        let history = history::list(&conn, tree_id, page)?;
        if history.items.is_empty() && page.after.is_none() && !history::exists_for(&conn, tree_id)?
        {
            trees::ensure_exists(&conn, tree_id)?;
        }

        Ok(history)
    }

    fn find_stored_response(&self, key: &str) -> Result<Option<StoredResponse>> {
        idempotency::find(&self.lock(), key)
    }
}

impl EvidenceStore for SqliteStore {
    fn create_evidence(&self, ctx: &WriteContext, new: NewEvidence) -> Result<Evidence> {
        evidence::create(&mut self.lock(), ctx, new)
    }

    fn list_evidence(
        &self,
        filter: &EvidenceFilter,
        page: PageRequest<EvidenceId>,
    ) -> Result<Page<Evidence>> {
        evidence::list(&self.lock(), filter, page)
    }

    fn get_evidence(&self, id: EvidenceId) -> Result<Evidence> {
        evidence::get(&self.lock(), id)
    }

    fn update_evidence(
        &self,
        _ctx: &WriteContext,
        id: EvidenceId,
        patch: EvidencePatch,
        expected_version: Option<u64>,
    ) -> Result<Evidence> {
        evidence::update(&mut self.lock(), id, patch, expected_version)
    }

    fn delete_evidence(
        &self,
        ctx: &WriteContext,
        id: EvidenceId,
        with_links: bool,
        expected_version: Option<u64>,
    ) -> Result<u64> {
        evidence::delete(&mut self.lock(), ctx, id, with_links, expected_version)
    }

    fn create_link(&self, ctx: &WriteContext, node_id: NodeId, new: NewLink) -> Result<Link> {
        links::create(&mut self.lock(), ctx, node_id, new)
    }

    fn list_node_links(&self, node_id: NodeId) -> Result<Vec<NodeLink>> {
        links::list_for_node(&mut self.lock(), node_id)
    }

    fn list_evidence_links(&self, evidence_id: EvidenceId) -> Result<Vec<EvidenceLink>> {
        links::list_for_evidence(&mut self.lock(), evidence_id)
    }

    fn get_link(&self, id: LinkId) -> Result<Link> {
        links::get(&self.lock(), id)
    }

    fn update_link(
        &self,
        ctx: &WriteContext,
        id: LinkId,
        patch: LinkPatch,
        expected_version: Option<u64>,
    ) -> Result<Link> {
        links::update(&mut self.lock(), ctx, id, patch, expected_version)
    }

    fn delete_link(
        &self,
        ctx: &WriteContext,
        id: LinkId,
        expected_version: Option<u64>,
    ) -> Result<()> {
        links::delete(&mut self.lock(), ctx, id, expected_version)
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

/// Fails with [`Error::VersionMismatch`] when the caller expected another version.
fn check_version(
    entity: &'static str,
    id: impl ToString,
    expected: Option<u64>,
    current: u64,
) -> Result<()> {
    match expected {
        Some(expected) if expected != current => Err(Error::VersionMismatch {
            entity,
            id: id.to_string(),
            expected,
            current,
        }),
        _ => Ok(()),
    }
}

/// Maps "no row" to [`Error::NotFound`] for the given entity and id.
fn not_found(entity: &'static str, id: impl ToString) -> impl FnOnce(rusqlite::Error) -> Error {
    move |err| match err {
        rusqlite::Error::QueryReturnedNoRows => Error::NotFound {
            entity,
            id: id.to_string(),
        },
        other => Error::Storage(other),
    }
}
