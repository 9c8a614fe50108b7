//! Read-only connections to a store's file: a pool that lends them out one call at a time,
//! and connections with a thread each.

use std::ops::{Deref, DerefMut};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, mpsc};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::prepare_connection;
use super::writer::WriterGuard;
use crate::error::Result;

/// A fixed set of read-only connections; [`ReaderPool::get`] waits while all are lent out.
pub(super) struct ReaderPool {
    state: Mutex<PoolState>,
    returned: Condvar,
}

struct PoolState {
    idle: Vec<Connection>,
    /// The callers waiting for a connection. A returned connection wakes one of them only
    /// when there are any, because `Condvar::notify_one` makes a system call even when no
    /// thread waits, and most returns find none.
    waiting: usize,
}

impl ReaderPool {
    /// Opens `size` read-only connections to the database at `path`, which must exist and be
    /// in write-ahead-log mode.
    pub(super) fn open(path: &Path, size: usize, busy_timeout: Duration) -> Result<Self> {
        let mut idle = Vec::with_capacity(size);
        for _ in 0..size {
            idle.push(open_read_only(path, busy_timeout)?);
        }

        Ok(Self {
            state: Mutex::new(PoolState { idle, waiting: 0 }),
            returned: Condvar::new(),
        })
    }

    /// Lends out an idle connection, waiting for one when all are in use.
    pub(super) fn get(&self) -> PooledConnection<'_> {
        let mut state = self.lock();
        loop {
            if let Some(conn) = state.idle.pop() {
                return PooledConnection {
                    pool: self,
                    conn: Some(conn),
                };
            }

            state.waiting += 1;
            state = self
                .returned
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            state.waiting -= 1;
        }
    }

    /// Lends out an idle connection, waiting up to `timeout` for one when all are in use.
    /// Returns `None` when none came free in time.
    pub(super) fn get_within(&self, timeout: Duration) -> Option<PooledConnection<'_>> {
        let mut state = self.lock();
        state.waiting += 1;
        let (mut state, _) = self
            .returned
            .wait_timeout_while(state, timeout, |state| state.idle.is_empty())
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        state.waiting -= 1;

        let conn = state.idle.pop()?;
        Some(PooledConnection {
            pool: self,
            conn: Some(conn),
        })
    }

    fn put_back(&self, conn: Connection) {
        let mut state = self.lock();
        state.idle.push(conn);
        let wake = state.waiting > 0;
        drop(state);

        if wake {
            self.returned.notify_one();
        }
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // Only pushes, pops and counter changes run under this lock, and none of them
        // panics, but a poisoned lock would still contain a valid state.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A connection lent out by a [`ReaderPool`], returned to it on drop.
pub(super) struct PooledConnection<'a> {
    pool: &'a ReaderPool,
    /// `Some` until the drop hands it back.
    conn: Option<Connection>,
}

impl Drop for PooledConnection<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // A call that panicked inside a transaction left it open, and a connection in a
            // read transaction would keep reading an old snapshot: roll it back first.
            if !conn.is_autocommit()
                && let Err(err) = conn.execute_batch("ROLLBACK")
            {
                log::warn!("rolling back a read transaction left open failed: {err}");
            }
            self.pool.put_back(conn);
        }
    }
}

impl Deref for PooledConnection<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        // The connection is taken only in `drop`.
        self.conn
            .as_ref()
            .expect("pooled connection is present until dropped")
    }
}

impl DerefMut for PooledConnection<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn
            .as_mut()
            .expect("pooled connection is present until dropped")
    }
}

/// The connection of a read-only call: a pooled read-only one, or the read-write one.
pub(super) enum ReadConnection<'a> {
    /// A read-only connection of the store's pool.
    Pooled(PooledConnection<'a>),
    /// The read-write connection, for stores without a pool.
    Writer(WriterGuard<'a>),
}

impl Deref for ReadConnection<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        match self {
            Self::Pooled(conn) => conn,
            Self::Writer(conn) => conn,
        }
    }
}

impl DerefMut for ReadConnection<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        match self {
            Self::Pooled(conn) => conn,
            Self::Writer(conn) => conn,
        }
    }
}

/// A call sent to [`ConnectionThreads`].
type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// Read-only connections, each owned by a thread of its own. The threads take the calls sent
/// to them from one queue, so a call waits only while every thread is busy.
///
/// SQLite allocates a query's working memory with `malloc` on the thread that runs it. glibc's
/// allocator serves each thread from an arena of its own and keeps freed memory in that arena
/// for later use. Calls that need much memory, such as searches that copy a tree's text,
/// therefore run on these few threads, so each reuses what its last call freed. On the
/// blocking pool, each thread that ran one would keep a large free block.
pub(super) struct ConnectionThreads {
    jobs: mpsc::Sender<Job>,
}

impl ConnectionThreads {
    /// Opens `count` read-only connections to the database at `path` and starts a thread for
    /// each. The threads run until the returned value is dropped.
    pub(super) fn open(
        path: &Path,
        count: usize,
        busy_timeout: Duration,
        name: &str,
    ) -> Result<Self> {
        let (jobs, received) = mpsc::channel::<Job>();
        let received = Arc::new(Mutex::new(received));

        for index in 0..count {
            let conn = open_thread_connection(path, busy_timeout)?;
            let received = Arc::clone(&received);
            let thread_name = format!("{name}-{index}");
            std::thread::Builder::new()
                .name(thread_name.clone())
                .spawn(move || run_jobs(conn, &received))
                .map_err(|err| {
                    internal_error(format!("starting the thread {thread_name} failed: {err}"))
                })?;
        }

        Ok(Self { jobs })
    }

    /// Runs `call` on the connection of the first free thread and waits for its result.
    ///
    /// `call` must not call `run` itself: once every thread waits on such a call, no thread
    /// is left to run the inner calls.
    pub(super) fn run<T: Send + 'static>(
        &self,
        call: impl FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (reply, result) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |conn| {
            // The caller waits on `result` until this sends or is dropped.
            let _ = reply.send(call(conn));
        });
        self.jobs
            .send(job)
            .map_err(|_| internal_error("the SQLite connection threads have stopped".to_owned()))?;

        result.recv().unwrap_or_else(|_| {
            Err(internal_error(
                "the call on an SQLite connection thread panicked".to_owned(),
            ))
        })
    }
}

/// Opens a read-only connection to the database at `path`, ready for the store's statements.
fn open_read_only(path: &Path, busy_timeout: Duration) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(busy_timeout)?;
    prepare_connection(&conn)?;
    Ok(conn)
}

/// Opens the read-only connection of one of [`ConnectionThreads`].
fn open_thread_connection(path: &Path, busy_timeout: Duration) -> Result<Connection> {
    let conn = open_read_only(path, busy_timeout)?;
    // Temporary tables, such as a search's copy of a tree, stay in memory.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(conn)
}

/// Runs the calls of the queue `received` on `conn`, one at a time, until every sender is
/// gone.
fn run_jobs(mut conn: Connection, received: &Mutex<mpsc::Receiver<Job>>) {
    loop {
        // The lock is held only while this thread waits for the next call, not while it runs
        // one, so the other threads take the calls that arrive meanwhile. Nothing panics while
        // holding it, and a poisoned lock still holds a usable queue.
        let job = received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .recv();
        let Ok(job) = job else {
            return;
        };

        // A panic ends the call, whose caller gets an error, and not the thread.
        if catch_unwind(AssertUnwindSafe(|| job(&mut conn))).is_err() {
            log::error!("a call on an SQLite connection thread panicked");
        }
    }
}

/// Builds the error for a failure of the store's own machinery, reported as a storage error.
fn internal_error(message: String) -> crate::Error {
    crate::Error::Storage(rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_INTERNAL),
        Some(message),
    ))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, mpsc};
    use std::thread;
    use std::time::Duration;

    use super::{ConnectionThreads, ReaderPool};
    use crate::sqlite::SqliteStore;

    /// How long a test waits for the waiting thread. The hand-over takes far less, so only a
    /// lost wake-up runs into it.
    const HAND_OVER_LIMIT: Duration = Duration::from_secs(60);

    /// Opens a pool of one connection to a new store in a file in `dir`.
    fn pool_of_one(dir: &tempfile::TempDir) -> Arc<ReaderPool> {
        let path = dir.path().join("pool.db");
        drop(SqliteStore::open(&path).expect("the store opens"));

        Arc::new(ReaderPool::open(&path, 1, Duration::from_secs(5)).expect("the pool opens"))
    }

    /// Runs `take` on another thread while the pool's only connection is lent out, returns
    /// the connection once `take` waits, and checks that `take` then gets it.
    fn check_returned_connection_reaches(
        pool: &Arc<ReaderPool>,
        take: impl FnOnce(&ReaderPool) -> bool + Send + 'static,
    ) {
        let lent = pool.get();
        let (sender, result) = mpsc::channel();
        let waiter_pool = Arc::clone(pool);
        thread::spawn(move || sender.send(take(&waiter_pool)));
        while pool.lock().waiting == 0 {
            thread::yield_now();
        }

        drop(lent);

        let got = result
            .recv_timeout(HAND_OVER_LIMIT)
            .expect("the waiting thread gets the returned connection");
        assert!(got, "the waiting thread's call succeeds");
        assert_eq!(pool.lock().waiting, 0);
    }

    #[test]
    fn get_waits_for_a_returned_connection() {
        let dir = tempfile::tempdir().expect("temp dir");
        let pool = pool_of_one(&dir);

        check_returned_connection_reaches(&pool, |pool| {
            let conn = pool.get();
            conn.query_row("SELECT 1", [], |row| row.get::<_, i64>(0))
                .is_ok()
        });
    }

    #[test]
    fn get_within_waits_for_a_returned_connection() {
        let dir = tempfile::tempdir().expect("temp dir");
        let pool = pool_of_one(&dir);

        // Longer than the test waits, so a lost wake-up fails the test instead of ending in a
        // timeout that still finds the returned connection.
        check_returned_connection_reaches(&pool, |pool| {
            pool.get_within(HAND_OVER_LIMIT * 2).is_some()
        });
    }

    /// Opens `count` connection threads to a new store in a file in `dir`.
    fn threads(dir: &tempfile::TempDir, count: usize) -> ConnectionThreads {
        let path = dir.path().join("threads.db");
        drop(SqliteStore::open(&path).expect("the store opens"));

        ConnectionThreads::open(&path, count, Duration::from_secs(5), "test-thread")
            .expect("the threads start")
    }

    #[test]
    fn threads_run_calls_at_the_same_time() {
        let dir = tempfile::tempdir().expect("temp dir");
        let threads = Arc::new(threads(&dir, 2));
        let (started, each_start) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let released = Arc::new(std::sync::Mutex::new(released));

        // Each call reports that it started and then waits to be released, so the second call
        // starts only if another thread takes it while the first one waits.
        let callers: Vec<_> = (0..2)
            .map(|_| {
                let threads = Arc::clone(&threads);
                let started = started.clone();
                let released = Arc::clone(&released);
                thread::spawn(move || {
                    threads.run(move |conn| {
                        started.send(()).expect("the test listens");
                        let waited = released.lock().expect("lock").recv_timeout(HAND_OVER_LIMIT);
                        Ok(waited.is_ok() && conn.is_readonly(rusqlite::MAIN_DB)?)
                    })
                })
            })
            .collect();

        for call in 0..2 {
            each_start
                .recv_timeout(HAND_OVER_LIMIT)
                .unwrap_or_else(|_| panic!("call {call} starts while the other one runs"));
        }
        for _ in 0..2 {
            release.send(()).expect("a call waits");
        }
        for caller in callers {
            let result = caller.join().expect("the caller ends");
            assert!(
                result.expect("the call succeeds"),
                "released, on a read-only connection"
            );
        }
    }

    #[test]
    fn threads_survive_a_panicking_call() {
        let dir = tempfile::tempdir().expect("temp dir");
        let threads = threads(&dir, 1);

        let panicked = threads.run(|_| -> crate::error::Result<()> { panic!("a failing call") });
        let next = threads.run(|conn| {
            let sum: i64 = conn.query_row("SELECT 41 + 1", [], |row| row.get(0))?;
            Ok(sum)
        });

        assert!(
            panicked.is_err(),
            "the caller of a panicking call gets an error"
        );
        assert_eq!(next.expect("the next call runs"), 42);
    }
}
