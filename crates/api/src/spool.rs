//! Response bodies that a blocking call writes to a temporary file before they are sent.
//!
//! A store call that writes a body from one read snapshot, such as a tree's export, keeps a
//! database connection and its snapshot until it returns. While a snapshot is open, SQLite
//! cannot checkpoint the write-ahead log past it, so the log grows with every write. [`spool`]
//! lets the call write the whole body to an unnamed temporary file first, so the snapshot
//! lasts as long as the writing and not as long as the client takes to read. The response is
//! then sent from the file, a chunk at a time, with its `Content-Length`.
//!
//! A client that takes no chunk for [`IDLE_TIMEOUT`] loses the response, and its file is
//! emptied at once, so a stalled connection does not keep a whole document on disk.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use actix_web::rt;
use actix_web::web::{self, Bytes};
use futures_util::{Stream, stream};
use ost_linker_core::Error;

use crate::error::ApiError;
use crate::routes::on_blocking_pool;

/// The size of the reads from the file, and of the writes to it.
const CHUNK_BYTES: usize = 64 * 1024;

/// How long a client may take no chunk before the response is cut off.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// A body written to a temporary file, rewound and ready to send. The file has no name, so
/// the system removes it when it is closed, even after a crash.
#[derive(Debug)]
pub(crate) struct SpooledBody {
    file: File,
    length: u64,
}

impl SpooledBody {
    /// Returns the size of the body in bytes.
    pub(crate) fn length(&self) -> u64 {
        self.length
    }

    /// Returns the body as a stream of chunks. Each chunk is read on the blocking pool, so
    /// no thread waits for a slow client. `label` names the body in log lines.
    ///
    /// When the client takes no chunk for [`IDLE_TIMEOUT`], the file is emptied and the
    /// stream ends with an error, which closes the connection before the `Content-Length`.
    pub(crate) fn into_stream(self, label: String) -> impl Stream<Item = io::Result<Bytes>> {
        self.into_stream_with_timeout(label, IDLE_TIMEOUT)
    }

    fn into_stream_with_timeout(
        self,
        label: String,
        idle_timeout: Duration,
    ) -> impl Stream<Item = io::Result<Bytes>> {
        let progress = match self.file.try_clone() {
            Ok(watched) => {
                let progress = Arc::new(Progress::new(Some(watched)));
                rt::spawn(cut_off_when_idle(
                    Arc::downgrade(&progress),
                    label,
                    idle_timeout,
                ));
                progress
            }
            Err(err) => {
                log::warn!("{label} is sent without an idle timeout: {err}");
                Arc::new(Progress::new(None))
            }
        };

        stream::try_unfold((self.file, progress), |(file, progress)| async move {
            let (file, chunk) = web::block(move || read_chunk(file))
                .await
                .map_err(io::Error::other)??;
            if progress.is_cut_off() {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client took no data for too long",
                ));
            }

            progress.touch();
            Ok(chunk.map(|chunk| (chunk, (file, progress))))
        })
    }
}

/// When the client last took a chunk of a body, and whether the body was cut off.
///
/// Only the body's stream owns it, so the second handle of the file that it keeps for the
/// watchdog closes with the stream. Once both handles are closed, the system frees the
/// file's space.
struct Progress {
    last_taken: Mutex<Instant>,
    cut_off: AtomicBool,
    watched: Option<File>,
}

impl Progress {
    fn new(watched: Option<File>) -> Self {
        Self {
            last_taken: Mutex::new(Instant::now()),
            cut_off: AtomicBool::new(false),
            watched,
        }
    }

    fn touch(&self) {
        *self.lock() = Instant::now();
    }

    fn idle_for(&self) -> Duration {
        self.lock().elapsed()
    }

    fn is_cut_off(&self) -> bool {
        self.cut_off.load(Ordering::Acquire)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Instant> {
        // Nothing panics while the lock is held, so a poisoned value is still valid.
        self.last_taken
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Empties the watched file and cuts off its body once the client has taken no chunk for
/// `idle_timeout`. Ends when the body's stream is dropped, at the latest `idle_timeout`
/// later, and keeps no handle of the file meanwhile.
async fn cut_off_when_idle(progress: Weak<Progress>, label: String, idle_timeout: Duration) {
    loop {
        let Some(progress) = progress.upgrade() else {
            return;
        };
        let idle = progress.idle_for();
        if idle >= idle_timeout {
            progress.cut_off.store(true, Ordering::Release);
            if let Some(file) = &progress.watched
                && let Err(err) = file.set_len(0)
            {
                log::warn!("emptying the temporary file of {label} failed: {err}");
            }
            log::warn!("{label} stopped: the client took no data for {idle_timeout:?}");
            return;
        }

        drop(progress);
        rt::time::sleep(idle_timeout - idle).await;
    }
}

/// Runs `write` on the blocking pool with a new temporary file as its output, and returns
/// the written body.
///
/// # Errors
///
/// Returns the error of `write`, [`ApiError::Spool`] when the file can't be created or
/// written, for example on a full disk, [`ApiError::CallPanicked`] when `write` panics, and
/// [`ApiError::PoolGone`] during shutdown.
pub(crate) async fn spool<F>(write: F) -> Result<SpooledBody, ApiError>
where
    F: FnOnce(&mut dyn Write) -> ost_linker_core::Result<()> + Send + 'static,
{
    let written = on_blocking_pool(move || write_to_file(write)).await?;

    // The file is the only output, so every output error is the file's.
    written.map_err(|err| match err {
        Error::Output(source) => ApiError::Spool {
            dir: std::env::temp_dir(),
            source,
        },
        other => ApiError::Domain(other),
    })
}

fn write_to_file(
    write: impl FnOnce(&mut dyn Write) -> ost_linker_core::Result<()>,
) -> ost_linker_core::Result<SpooledBody> {
    let file = tempfile::tempfile().map_err(Error::Output)?;
    let mut output = BufWriter::with_capacity(CHUNK_BYTES, file);
    write(&mut output)?;

    let mut file = output
        .into_inner()
        .map_err(|err| Error::Output(err.into_error()))?;
    let length = file.stream_position().map_err(Error::Output)?;
    file.rewind().map_err(Error::Output)?;

    Ok(SpooledBody { file, length })
}

/// Reads the next chunk of `file`, or `None` at its end, and hands the file back.
fn read_chunk(mut file: File) -> io::Result<(File, Option<Bytes>)> {
    let mut chunk = Vec::with_capacity(CHUNK_BYTES);
    Read::by_ref(&mut file)
        .take(CHUNK_BYTES as u64)
        .read_to_end(&mut chunk)?;

    let chunk = (!chunk.is_empty()).then(|| Bytes::from(chunk));
    Ok((file, chunk))
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::pin::pin;
    use std::time::Duration;

    use futures_util::{StreamExt, TryStreamExt};
    use ost_linker_core::Error;

    use super::{CHUNK_BYTES, SpooledBody, spool};
    use crate::error::ApiError;

    /// Spools `bytes` as a body.
    async fn spooled(bytes: Vec<u8>) -> SpooledBody {
        spool(move |out| out.write_all(&bytes).map_err(Error::Output))
            .await
            .expect("spooled")
    }

    #[actix_rt::test]
    async fn idle_client_is_cut_off() {
        let body = spooled(vec![b'x'; CHUNK_BYTES * 3]).await;
        let timeout = Duration::from_millis(100);
        let mut chunks = pin!(body.into_stream_with_timeout("test body".to_owned(), timeout));

        let first = chunks.next().await.expect("a first chunk");
        actix_rt::time::sleep(timeout * 3).await;
        let second = chunks.next().await.expect("an error after the idle time");

        assert_eq!(first.expect("first chunk").len(), CHUNK_BYTES);
        let err = second.expect_err("the body should be cut off");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    #[cfg(target_os = "linux")]
    #[actix_rt::test]
    async fn sent_body_closes_its_file() {
        let body = spooled(vec![b'x'; CHUNK_BYTES * 2]).await;
        let file_id = linux::file_id(&body.file);
        assert_eq!(linux::open_handles(file_id), 1);

        let chunks: Vec<_> = body
            .into_stream("test body".to_owned())
            .try_collect()
            .await
            .expect("read");

        assert_eq!(chunks.len(), 2);
        assert_eq!(
            linux::open_handles(file_id),
            0,
            "no handle, the idle watchdog's included, should keep a sent body's file"
        );
    }

    #[actix_rt::test]
    async fn body_arrives_whole_in_chunks() {
        let written: Vec<u8> = (0..CHUNK_BYTES * 5 / 2).map(|index| index as u8).collect();
        let expected = written.clone();

        let body = spooled(written).await;
        let length = body.length();
        let chunks: Vec<_> = body
            .into_stream("test body".to_owned())
            .try_collect()
            .await
            .expect("read");

        assert_eq!(length, expected.len() as u64);
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks.concat(), expected);
    }

    #[actix_rt::test]
    async fn empty_body_has_no_chunks() {
        let body = spool(|_| Ok(())).await.expect("spooled");

        assert_eq!(body.length(), 0);
        let chunks: Vec<_> = body
            .into_stream("test body".to_owned())
            .try_collect()
            .await
            .expect("read");
        assert!(chunks.is_empty());
    }

    #[actix_rt::test]
    async fn failed_write_returns_its_error() {
        let result = spool(|out| {
            out.write_all(b"{\"partial\":").map_err(Error::Output)?;
            Err(Error::NotFound {
                entity: "tree",
                id: "tree_01JEX3Q8W5T0ZK6Y2R9V4N7M3B".to_owned(),
            })
        })
        .await;

        assert!(
            matches!(result, Err(ApiError::Domain(Error::NotFound { .. }))),
            "{result:?}"
        );
    }

    #[cfg(target_os = "linux")]
    mod linux {
        use std::fs::{self, File};
        use std::os::unix::fs::MetadataExt;

        /// Returns the device and inode of `file`.
        pub(super) fn file_id(file: &File) -> (u64, u64) {
            let metadata = file.metadata().expect("file metadata");
            (metadata.dev(), metadata.ino())
        }

        /// Counts the open handles of this process on the file `file_id`, unnamed files
        /// included, from `/proc/self/fd`.
        pub(super) fn open_handles(file_id: (u64, u64)) -> usize {
            fs::read_dir("/proc/self/fd")
                .expect("list of open files")
                .filter_map(|entry| fs::metadata(entry.ok()?.path()).ok())
                .filter(|metadata| (metadata.dev(), metadata.ino()) == file_id)
                .count()
        }
    }
}
