//! The SQLite implementation of the [`crate::Store`] traits.

mod evidence;
mod history;
mod idempotency;
mod links;
mod nodes;
mod pool;
mod schema;
mod search;
mod transfer;
mod trees;
mod views;
mod writer;

use std::num::NonZeroUsize;
use std::path::Path;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};

use self::pool::{ConnectionThreads, ReadConnection, ReaderPool};
pub use self::schema::SCHEMA_VERSION;
use self::writer::Writer;
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

/// The size in bytes that SQLite truncates the write-ahead log file to when a checkpoint
/// restarts the log. Without it the file keeps the size of its largest burst, such as the
/// writes made while a long read held its snapshot.
const JOURNAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;

/// The minimum number of read-only connections of a store in a file.
///
/// Each one lets one more read run at the same time as the others and the write. Each costs
/// its own page cache (up to 2,000 KiB, SQLite's default) and statement cache.
///
/// NOTE: the caches are separate only in a SQLite built without
/// `SQLITE_ENABLE_MEMORY_MANAGEMENT`, which the repository's `.cargo/config.toml` undefines
/// for cargo commands run inside it. Any other build needs the same `LIBSQLITE3_FLAGS`, or
/// writes can leave the read connections without a cache.
const MIN_READ_CONNECTIONS: usize = 4;

/// Returns the number of read-only connections of a store in a file: one for each CPU that
/// the process may run on and two more, or [`MIN_READ_CONNECTIONS`] if that is more.
///
/// A caller that reads on one thread per CPU, as a server's event loops do, then seldom finds
/// every connection lent out. Nothing reserves a connection for those threads, because reads
/// on other threads take theirs from the same pool.
fn read_connections() -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    (cpus + 2).max(MIN_READ_CONNECTIONS)
}

/// The maximum number of searches that run at once, whatever the number of CPUs.
///
/// Each search thread keeps the memory of its largest search for the next one (see
/// [`ConnectionThreads`]), so this bounds what searches hold.
const MAX_SEARCH_THREADS: usize = 4;

/// Returns the number of search threads: one for each CPU that the process may run on, at
/// most [`MAX_SEARCH_THREADS`]. A search keeps a CPU busy from start to end, so more threads
/// than CPUs would only share them.
fn search_threads() -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    cpus.min(MAX_SEARCH_THREADS)
}

/// The number of read-only connections that only exports use.
///
/// An export keeps its connection, and a read transaction on it, until it has written the
/// whole document to its output. Giving exports their own connections means that an export
/// to a slow output delays only other exports, never the reads of the pool.
const EXPORT_CONNECTIONS: usize = 2;

/// How long an export waits for one of the [`EXPORT_CONNECTIONS`] before it fails with
/// [`Error::ExportsBusy`].
const EXPORT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// A [`crate::Store`] in one SQLite database file, or in memory.
///
/// Opening creates the file when needed, applies the schema migrations, and turns on
/// write-ahead logging, foreign keys and `synchronous = NORMAL`. A write that returned
/// survives a crash of the process, and a power loss can lose the last writes before a
/// checkpoint.
///
/// Writes run one at a time on one read-write connection. A store in a file in
/// write-ahead-log mode also opens one read-only connection per CPU and two more, at least
/// four. Calls that only read run on them, so they neither wait for a write nor hold one up,
/// and each reads every write committed before it started. Such a store also commits the
/// writes that queue for the connection in groups, one commit for several writes, and runs
/// full-text searches on connections of their own, one per CPU and at most four. A store in
/// memory, or one whose file could not switch to write-ahead logging, runs reads on the one
/// connection too, and commits each write on its own.
pub struct SqliteStore {
    writer: Writer,
    readers: Option<ReaderPool>,
    /// The connections of exports, present when `readers` is.
    exporters: Option<ReaderPool>,
    /// The read-only connections that run full-text searches, [`search_threads`] of them,
    /// each on a thread of its own, present when `readers` is.
    ///
    /// A search ranks at most [`crate::model::SEARCH_RANKED_MATCHES`] matches. With a tree
    /// filter and a common word, it copies the tree's members into a temporary table of
    /// its own, which takes longer the larger the tree. A few threads bound the memory of
    /// those tables and leave the pool to other reads.
    /// NOTE: a quick search waits while every thread runs a slow one.
    searchers: Option<ConnectionThreads>,
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

        let in_memory = path == Path::new(":memory:");
        let wal = configure(&conn, in_memory)?;
        schema::migrate(&mut conn)?;

        // Read-only connections see the writer's commits only through a shared file in
        // write-ahead-log mode. In memory or in rollback-journal mode, they would not see
        // them or would block on the writer's locks.
        let (readers, exporters, searchers) = if wal {
            (
                Some(ReaderPool::open(path, read_connections(), BUSY_TIMEOUT)?),
                Some(ReaderPool::open(path, EXPORT_CONNECTIONS, BUSY_TIMEOUT)?),
                Some(ConnectionThreads::open(
                    path,
                    search_threads(),
                    BUSY_TIMEOUT,
                    "sqlite-search",
                )?),
            )
        } else {
            (None, None, None)
        };

        Ok(Self {
            writer: Writer::new(conn, readers.is_some()),
            readers,
            exporters,
            searchers,
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
        schema::recorded_version(&self.read())
    }

    /// Returns a connection for a call that only reads: a read-only one when the store has
    /// them, else the read-write one.
    fn read(&self) -> ReadConnection<'_> {
        match &self.readers {
            Some(readers) => ReadConnection::Pooled(readers.get()),
            None => ReadConnection::Writer(self.writer.lock()),
        }
    }

    /// Returns a connection for an export: a read-only one of its own pool when the store
    /// has one, else the read-write one. Fails with [`Error::ExportsBusy`] when every
    /// connection of the pool stays in use for [`EXPORT_WAIT`].
    ///
    /// NOTE: a store without read-only connections lends an export its only connection, so
    /// writes wait for as long as the export takes to write the document to its output.
    fn export_connection(&self) -> Result<ReadConnection<'_>> {
        let Some(exporters) = &self.exporters else {
            return Ok(ReadConnection::Writer(self.writer.lock()));
        };

        let conn = exporters
            .get_within(EXPORT_WAIT)
            .ok_or(Error::ExportsBusy {
                connections: EXPORT_CONNECTIONS,
                waited_secs: EXPORT_WAIT.as_secs(),
            })?;
        Ok(ReadConnection::Pooled(conn))
    }
}

/// Sets the pragmas of the read-write connection, and returns whether it is in
/// write-ahead-log mode.
///
/// `synchronous = NORMAL` in write-ahead-log mode syncs the log only at checkpoints, not at
/// each commit. A commit is in the log file, in the operating system's cache, before the call
/// that made it returns, so it survives a crash or kill of the process. A power loss or an
/// operating-system crash can lose the last commits before a checkpoint, though never the
/// database's consistency. `FULL` would close that gap with one `fsync` per commit, which
/// bounds the write rate by the disk's sync latency. NOTE: the store chose `NORMAL` for the
/// write rate. A deployment that must keep every acknowledged write through a power loss
/// needs `FULL`, or a disk whose cache survives power loss.
///
/// A file left in a rollback-journal mode gets `FULL`. There, SQLite's documentation of
/// `PRAGMA synchronous` says that a power loss at the wrong moment can, rarely, corrupt the
/// database under `NORMAL` on older file systems, which is worse than losing commits.
///
/// [`choose_temp_store`] chooses where temporary tables and large journals go.
fn configure(conn: &Connection, in_memory: bool) -> Result<bool> {
    let mut wal = false;
    if !in_memory {
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "wal", |row| row.get(0))?;
        wal = mode.eq_ignore_ascii_case("wal");
        if !wal {
            log::warn!("SQLite kept journal mode {mode}: write-ahead logging is not available");
        }
    }

    conn.pragma_update(None, "foreign_keys", true)?;
    let synchronous = if wal || in_memory { "NORMAL" } else { "FULL" };
    conn.pragma_update(None, "synchronous", synchronous)?;
    choose_temp_store(conn, in_memory)?;
    conn.pragma_update(None, "journal_size_limit", JOURNAL_SIZE_LIMIT)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    prepare_connection(conn)?;

    Ok(wal)
}

/// Sets `temp_store = FILE` on the read-write connection of a store in a file when SQLite
/// can create temporary files there, and `MEMORY` otherwise.
///
/// `FILE` keeps the journal of a write's savepoint in memory up to 64 KiB and in an unnamed
/// file in SQLite's temporary directory beyond. Each write is a savepoint inside its batch's
/// transaction, so that journal contains every page the write changes. SQLite cuts an in-memory
/// journal back at the end of each statement by walking it from its start. When an import
/// made FTS5 merge its largest segment, the journal grew to about 45 MB and the walks took
/// the import from 1 s to 7-15 s (BENCHMARKS.md). In a file the cut is not needed, and the
/// journal takes no memory.
///
/// SQLite takes the first writable directory of `SQLITE_TMPDIR`, `TMPDIR`, `/var/tmp`,
/// `/usr/tmp`, `/tmp` and the working directory. With none, every write whose journal passes
/// 64 KiB would fail, so the store keeps `MEMORY` and logs a warning.
fn choose_temp_store(conn: &Connection, in_memory: bool) -> Result<()> {
    // A store in memory keeps its journals in memory whatever the setting. Its searches run
    // on this connection, and their temporary tables stay in memory too.
    if in_memory {
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        return Ok(());
    }

    conn.pragma_update(None, "temp_store", "FILE")?;
    let probe = conn.execute_batch(TEMP_FILE_PROBE_SQL);
    conn.execute_batch(DEFAULT_TEMP_CACHE_SQL)?;
    let Err(err) = probe else {
        return Ok(());
    };

    log::warn!(
        "SQLite can't create a temporary file ({err}), so the journals of large writes stay \
         in memory, and an import can take ten times as long. Set SQLITE_TMPDIR or TMPDIR to \
         a writable directory"
    );
    // Changing the setting also drops the probe's table.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(())
}

/// Makes SQLite write a temporary table to a file: the table outgrows its cache of two pages.
/// A smaller one would stay in the cache and show nothing.
const TEMP_FILE_PROBE_SQL: &str = "
    PRAGMA temp.cache_size = 2;
    CREATE TEMP TABLE temp_file_probe (value BLOB);
    INSERT INTO temp_file_probe VALUES (zeroblob(200000));
    DROP TABLE temp_file_probe;";

/// Sets the cache of temporary tables to SQLite's default size, 2,000 KiB.
const DEFAULT_TEMP_CACHE_SQL: &str = "PRAGMA temp.cache_size = -2000";

/// Prefixes each of the comma-separated `columns` with `table`, for a statement that joins
/// `table` to another table with columns of the same names.
fn qualified(table: &str, columns: &str) -> String {
    columns
        .split(',')
        .map(|column| format!("{table}.{}", column.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Readies a new connection for the store's statements: keeps them prepared and adds the SQL
/// functions they call.
fn prepare_connection(conn: &Connection) -> Result<()> {
    reuse_statements(conn)?;
    add_functions(conn)
}

/// Adds the SQL functions that the store's statements call and SQLite lacks, so that a
/// connection opened outside the store, such as the query-plan test's, can prepare them.
///
/// # Errors
///
/// Returns [`Error::Storage`] when SQLite rejects a function.
#[doc(hidden)]
pub fn add_functions(conn: &Connection) -> Result<()> {
    search::add_functions(conn)
}

/// Makes `conn` reuse every statement that the store prepares with `prepare_cached`, plan and
/// all.
///
/// rusqlite 0.37 keeps 16 prepared statements per connection by default, fewer than the
/// store runs, so under mixed load a request would often prepare its statements again.
///
/// SQLite plans some statements with the values bound to their parameters, and prepares such
/// a statement again at its next step once one of those parameters has a new value. The
/// evidence listing is one: every page binds a new cursor, so each page parsed and planned
/// its statement anew, a sixth of the CPU time of a page. The query planner stability
/// guarantee turns this off, so a statement keeps the plan it got when first prepared, the
/// plan that the query-plan tests check.
fn reuse_statements(conn: &Connection) -> Result<()> {
    conn.set_prepared_statement_cache_capacity(request_statements().len());
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

impl TreeStore for SqliteStore {
    fn ping(&self) -> Result<()> {
        // Read the schema table, so the check touches the database file itself.
        self.read()
            .prepare_cached(PING_SQL)?
            .query_row([], |_| Ok(()))?;
        Ok(())
    }

    fn create_tree(&self, ctx: &WriteContext, new: NewTree) -> Result<TreeWithRoot> {
        self.writer.write(|conn| trees::create(conn, ctx, new))
    }

    fn list_trees(&self, page: PageRequest<TreeId>) -> Result<Page<Tree>> {
        trees::list(&self.read(), page)
    }

    fn get_tree(&self, id: TreeId) -> Result<Tree> {
        trees::get(&self.read(), id)
    }

    fn update_tree(
        &self,
        ctx: &WriteContext,
        id: TreeId,
        patch: TreePatch,
        expected_version: Option<u64>,
    ) -> Result<Tree> {
        self.writer
            .write(|conn| trees::update(conn, ctx, id, patch, expected_version))
    }

    fn delete_tree(
        &self,
        ctx: &WriteContext,
        id: TreeId,
        expected_version: Option<u64>,
    ) -> Result<()> {
        self.writer
            .write(|conn| trees::delete(conn, ctx, id, expected_version))
    }

    fn create_node(&self, ctx: &WriteContext, tree_id: TreeId, new: NewNode) -> Result<Node> {
        self.writer
            .write(|conn| nodes::create(conn, ctx, tree_id, new))
    }

    fn list_nodes(&self, tree_id: TreeId) -> Result<Vec<Node>> {
        nodes::list(&mut self.read(), tree_id)
    }

    fn get_node(&self, id: NodeId) -> Result<Node> {
        nodes::get(&self.read(), id)
    }

    fn update_node(
        &self,
        ctx: &WriteContext,
        id: NodeId,
        patch: NodePatch,
        expected_version: Option<u64>,
    ) -> Result<Node> {
        self.writer
            .write(|conn| nodes::update(conn, ctx, id, patch, expected_version))
    }

    fn delete_node(
        &self,
        ctx: &WriteContext,
        id: NodeId,
        mode: DeleteMode,
        expected_version: Option<u64>,
    ) -> Result<u64> {
        self.writer
            .write(|conn| nodes::delete(conn, ctx, id, mode, expected_version))
    }

    fn list_history(&self, tree_id: TreeId, page: PageRequest<i64>) -> Result<Page<HistoryEntry>> {
        let conn = self.read();
        let history = history::list(&conn, tree_id, page)?;
        if history.items.is_empty() && page.after.is_none() && !history::exists_for(&conn, tree_id)?
        {
            trees::ensure_exists(&conn, tree_id)?;
        }

        Ok(history)
    }

    fn find_stored_response(&self, key: &str) -> Result<Option<StoredResponse>> {
        idempotency::find(&self.read(), key)
    }
}

impl EvidenceStore for SqliteStore {
    fn create_evidence(&self, ctx: &WriteContext, new: NewEvidence) -> Result<Evidence> {
        self.writer.write(|conn| evidence::create(conn, ctx, new))
    }

    fn list_evidence(
        &self,
        filter: &EvidenceFilter,
        page: PageRequest<EvidenceId>,
    ) -> Result<Page<Evidence>> {
        evidence::list(&self.read(), filter, page)
    }

    fn write_evidence_page(
        &self,
        filter: &EvidenceFilter,
        page: PageRequest<EvidenceId>,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        evidence::write_page(&self.read(), filter, page, out)
    }

    fn get_evidence(&self, id: EvidenceId) -> Result<Evidence> {
        evidence::get(&self.read(), id)
    }

    fn update_evidence(
        &self,
        _ctx: &WriteContext,
        id: EvidenceId,
        patch: EvidencePatch,
        expected_version: Option<u64>,
    ) -> Result<Evidence> {
        self.writer
            .write(|conn| evidence::update(conn, id, patch, expected_version))
    }

    fn delete_evidence(
        &self,
        ctx: &WriteContext,
        id: EvidenceId,
        with_links: bool,
        expected_version: Option<u64>,
    ) -> Result<u64> {
        self.writer
            .write(|conn| evidence::delete(conn, ctx, id, with_links, expected_version))
    }

    fn create_link(&self, ctx: &WriteContext, node_id: NodeId, new: NewLink) -> Result<Link> {
        self.writer
            .write(|conn| links::create(conn, ctx, node_id, new))
    }

    fn list_node_links(&self, node_id: NodeId) -> Result<Vec<NodeLink>> {
        links::list_for_node(&mut self.read(), node_id)
    }

    fn list_evidence_links(&self, evidence_id: EvidenceId) -> Result<Vec<EvidenceLink>> {
        links::list_for_evidence(&mut self.read(), evidence_id)
    }

    fn get_link(&self, id: LinkId) -> Result<Link> {
        links::get(&self.read(), id)
    }

    fn update_link(
        &self,
        ctx: &WriteContext,
        id: LinkId,
        patch: LinkPatch,
        expected_version: Option<u64>,
    ) -> Result<Link> {
        self.writer
            .write(|conn| links::update(conn, ctx, id, patch, expected_version))
    }

    fn delete_link(
        &self,
        ctx: &WriteContext,
        id: LinkId,
        expected_version: Option<u64>,
    ) -> Result<()> {
        self.writer
            .write(|conn| links::delete(conn, ctx, id, expected_version))
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

/// The query of [`TreeStore::ping`].
const PING_SQL: &str = "SELECT count(*) FROM sqlite_schema";

/// Returns every SQL statement that the store runs for a request, each with a name, for the
/// query-plan test. The texts are the ones the store prepares, not copies.
///
/// Not listed: the FTS5 triggers of the schema, which look rows up by their unique
/// `entity_id`, and the lookups of foreign-key checks and cascades.
#[doc(hidden)]
pub fn request_statements() -> Vec<(&'static str, &'static str)> {
    vec![
        ("ping", PING_SQL),
        ("trees::INSERT_SQL", &trees::INSERT_SQL),
        ("trees::LIST_SQL", &trees::LIST_SQL),
        ("trees::GET_SQL", &trees::GET_SQL),
        ("trees::UPDATE_SQL", &trees::UPDATE_SQL),
        ("trees::DELETE_SQL", trees::DELETE_SQL),
        ("trees::EXISTS_SQL", trees::EXISTS_SQL),
        ("nodes::INSERT_SQL", &nodes::INSERT_SQL),
        ("nodes::COUNT_CHILDREN_SQL", nodes::COUNT_CHILDREN_SQL),
        ("nodes::NEXT_POSITION_SQL", nodes::NEXT_POSITION_SQL),
        ("nodes::SHIFT_SIBLINGS_SQL", nodes::SHIFT_SIBLINGS_SQL),
        ("nodes::LIST_SQL", &nodes::LIST_SQL),
        ("nodes::GET_SQL", &nodes::GET_SQL),
        ("nodes::UPDATE_SQL", nodes::UPDATE_SQL),
        ("nodes::IN_SUBTREE_SQL", nodes::IN_SUBTREE_SQL),
        ("nodes::DELETE_SQL", nodes::DELETE_SQL),
        ("nodes::SUBTREE_SQL", &nodes::SUBTREE_SQL),
        ("evidence::FIND_BY_SOURCE_SQL", evidence::FIND_BY_SOURCE_SQL),
        ("evidence::INSERT_SQL", &evidence::INSERT_SQL),
        ("evidence::DELETE_TAGS_SQL", evidence::DELETE_TAGS_SQL),
        ("evidence::INSERT_TAG_SQL", evidence::INSERT_TAG_SQL),
        ("evidence::GET_SQL", &evidence::GET_SQL),
        ("evidence::UPDATE_SQL", evidence::UPDATE_SQL),
        ("evidence::DELETE_SQL", evidence::DELETE_SQL),
        ("evidence::LIST_SQL", &evidence::LIST_SQL),
        ("evidence::LIST_BY_KIND_SQL", &evidence::LIST_BY_KIND_SQL),
        ("evidence::LIST_BY_TAG_SQL", &evidence::LIST_BY_TAG_SQL),
        ("links::INSERT_SQL", links::INSERT_SQL),
        ("links::FIND_SQL", links::FIND_SQL),
        ("links::GET_SQL", &links::GET_SQL),
        ("links::OF_NODE_SQL", &links::OF_NODE_SQL),
        ("links::OF_EVIDENCE_SQL", &links::OF_EVIDENCE_SQL),
        ("links::LIST_FOR_NODE_SQL", &links::LIST_FOR_NODE_SQL),
        (
            "links::LIST_FOR_EVIDENCE_SQL",
            &links::LIST_FOR_EVIDENCE_SQL,
        ),
        ("links::UPDATE_SQL", links::UPDATE_SQL),
        ("links::DELETE_SQL", links::DELETE_SQL),
        ("transfer::export::NODES_SQL", &transfer::export::NODES_SQL),
        ("history::INSERT_SQL", history::INSERT_SQL),
        ("history::LIST_SQL", history::LIST_SQL),
        ("history::EXISTS_SQL", history::EXISTS_SQL),
        ("history::REVISION_SQL", history::REVISION_SQL),
        ("idempotency::INSERT_SQL", idempotency::INSERT_SQL),
        ("idempotency::FIND_SQL", idempotency::FIND_SQL),
        ("views::LINK_COUNTS_SQL", views::LINK_COUNTS_SQL),
        ("views::COUNTER_SQL", views::COUNTER_SQL),
        ("search::FIND_SQL", search::FIND_SQL),
        ("search::FIND_SCORED_SQL", search::FIND_SCORED_SQL),
        (
            "search::FIND_SCORED_NO_IDF_SQL",
            search::FIND_SCORED_NO_IDF_SQL,
        ),
        ("search::FILTER_ENTRIES_SQL", search::FILTER_ENTRIES_SQL),
        ("search::FIND_FROM_SQL", search::FIND_FROM_SQL),
        ("search::WORD_MATCHES_SQL", search::WORD_MATCHES_SQL),
        (
            "search::INDEX_RANK_NO_IDF_SQL",
            search::INDEX_RANK_NO_IDF_SQL,
        ),
        ("search::INDEX_HITS_SQL", search::INDEX_HITS_SQL),
        ("search::MATCHES_TABLE_SQL", search::MATCHES_TABLE_SQL),
        ("search::COPY_TREE_SQL", search::COPY_TREE_SQL),
        ("search::FIND_IN_TABLE_SQL", search::FIND_IN_TABLE_SQL),
        ("search::TABLE_RANK_SQL", search::TABLE_RANK_SQL),
        ("search::TABLE_HITS_SQL", search::TABLE_HITS_SQL),
    ]
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

#[cfg(test)]
mod tests {
    use rusqlite::{StatementStatus, params};

    use super::{SqliteStore, evidence};

    #[test]
    fn listing_keeps_its_plan_across_cursors() {
        let store = SqliteStore::open_in_memory().expect("an in-memory store opens");
        let conn = store.read();
        let mut statement = conn
            .prepare_cached(&evidence::LIST_SQL)
            .expect("the listing statement prepares");

        for after in ["", "evd_01", "evd_02", "evd_03"] {
            let mut rows = statement
                .query(params![
                    None::<&str>,
                    None::<&str>,
                    None::<&str>,
                    None::<bool>,
                    after,
                    51
                ])
                .expect("the listing runs");
            while rows.next().expect("the listing steps").is_some() {}
        }

        assert_eq!(statement.get_status(StatementStatus::RePrepare), 0);
    }

    /// Reads the writer's `temp_store` (1 is FILE, 2 is MEMORY) and its cache size for
    /// temporary tables.
    fn temp_settings(store: &SqliteStore) -> (i64, i64) {
        let conn = store.writer.lock();
        let read = |pragma: &str| {
            conn.query_row(pragma, [], |row| row.get::<_, i64>(0))
                .expect("the setting reads")
        };
        (read("PRAGMA temp_store"), read("PRAGMA temp.cache_size"))
    }

    /// An in-memory journal made imports that merged a large FTS5 segment take ten times as
    /// long (see `choose_temp_store`), and nothing else shows whether the setting is in effect. The
    /// machines that run the tests have a writable temporary directory.
    #[test]
    fn writer_keeps_large_journals_in_a_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path().join("store.db")).expect("the store opens");
        let default_cache: i64 = rusqlite::Connection::open_in_memory()
            .and_then(|conn| conn.query_row("PRAGMA temp.cache_size", [], |row| row.get(0)))
            .expect("a new connection reads its cache size");

        let (temp_store, temp_cache) = temp_settings(&store);

        assert_eq!(temp_store, 1, "FILE");
        assert_eq!(
            temp_cache, default_cache,
            "the probe restores the cache size"
        );
    }

    #[test]
    fn in_memory_store_keeps_temporary_tables_in_memory() {
        let store = SqliteStore::open_in_memory().expect("an in-memory store opens");

        let (temp_store, _) = temp_settings(&store);

        assert_eq!(temp_store, 2, "MEMORY");
    }

    #[test]
    fn connections_have_own_page_caches() {
        let store = SqliteStore::open_in_memory().expect("an in-memory store opens");
        let conn = store.read();
        let mut statement = conn
            .prepare("PRAGMA compile_options")
            .expect("the compile options statement prepares");
        let options = statement
            .query_map([], |row| row.get::<_, String>(0))
            .expect("the compile options list")
            .collect::<Result<Vec<_>, _>>()
            .expect("each compile option reads as text");

        let shared_cache = options
            .iter()
            .any(|option| option == "ENABLE_MEMORY_MANAGEMENT");
        assert!(
            !shared_cache,
            "SQLite was built with ENABLE_MEMORY_MANAGEMENT, so all connections share one page \
             cache. Run cargo inside the repository, whose .cargo/config.toml sets \
             LIBSQLITE3_FLAGS to undefine it, and leave LIBSQLITE3_FLAGS unset in the \
             environment."
        );
    }
}
