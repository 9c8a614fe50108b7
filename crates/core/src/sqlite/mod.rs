//! The SQLite implementation of [`Store`].

mod nodes;
mod schema;
mod trees;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OpenFlags};

pub use self::schema::SCHEMA_VERSION;
use crate::error::{Error, Result};
use crate::id::{NodeId, TreeId};
use crate::model::{
    DeleteMode, NewNode, NewTree, Node, NodePatch, Page, Tree, TreePatch, TreeWithRoot,
};
use crate::store::{PageRequest, Store};

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

impl Store for SqliteStore {
    fn ping(&self) -> Result<()> {
        let one: i64 = self.lock().query_row("SELECT 1", [], |row| row.get(0))?;
        debug_assert_eq!(one, 1);
        Ok(())
    }

    fn create_tree(&self, new: NewTree) -> Result<TreeWithRoot> {
        trees::create(&mut self.lock(), new)
    }

    fn list_trees(&self, page: PageRequest<TreeId>) -> Result<Page<Tree>> {
        trees::list(&self.lock(), page)
    }

    fn get_tree(&self, id: TreeId) -> Result<Tree> {
        trees::get(&self.lock(), id)
    }

    fn update_tree(&self, id: TreeId, patch: TreePatch) -> Result<Tree> {
        trees::update(&mut self.lock(), id, patch)
    }

    fn delete_tree(&self, id: TreeId) -> Result<()> {
        trees::delete(&self.lock(), id)
    }

    fn create_node(&self, tree_id: TreeId, new: NewNode) -> Result<Node> {
        nodes::create(&mut self.lock(), tree_id, new)
    }

    fn list_nodes(&self, tree_id: TreeId) -> Result<Vec<Node>> {
        nodes::list(&mut self.lock(), tree_id)
    }

    fn get_node(&self, id: NodeId) -> Result<Node> {
        nodes::get(&self.lock(), id)
    }

    fn update_node(&self, id: NodeId, patch: NodePatch) -> Result<Node> {
        nodes::update(&mut self.lock(), id, patch)
    }

    fn delete_node(&self, id: NodeId, mode: DeleteMode) -> Result<u64> {
        nodes::delete(&mut self.lock(), id, mode)
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
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
