//! Response bodies that a blocking call writes to a temporary file before they are sent.
//!
//! A store call that writes a body from one read snapshot, such as a tree's export, keeps a
//! database connection and its snapshot until it returns. While a snapshot is open, SQLite
//! cannot checkpoint the write-ahead log past it, so the log grows with every write. [`spool`]
//! lets the call write the whole body to an unnamed temporary file first, so the snapshot
//! lasts as long as the writing and not as long as the client takes to read. The response is
//! then sent from the file, a chunk at a time, with its `Content-Length`.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, Write};

use actix_web::web::{self, Bytes};
use futures_util::{Stream, stream};
use ost_linker_core::Error;

use crate::error::ApiError;

/// The size of the reads from the file, and of the writes to it.
const CHUNK_BYTES: usize = 64 * 1024;

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
    /// no thread waits for a slow client.
    pub(crate) fn into_stream(self) -> impl Stream<Item = io::Result<Bytes>> + 'static {
        stream::try_unfold(self.file, |file| async move {
            let (file, chunk) = web::block(move || read_chunk(file))
                .await
                .map_err(io::Error::other)??;

            Ok(chunk.map(|chunk| (chunk, file)))
        })
    }
}

/// Runs `write` on the blocking pool with a new temporary file as its output, and returns
/// the written body.
///
/// # Errors
///
/// Returns the error of `write`, [`Error::Output`] when the file can't be created or
/// written, for example on a full disk, and [`ApiError::PoolGone`] during shutdown.
pub(crate) async fn spool<F>(write: F) -> Result<SpooledBody, ApiError>
where
    F: FnOnce(&mut dyn Write) -> ost_linker_core::Result<()> + Send + 'static,
{
    let body = web::block(move || write_to_file(write))
        .await
        .map_err(|_| ApiError::PoolGone)??;

    Ok(body)
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
    use futures_util::TryStreamExt;
    use ost_linker_core::Error;

    use super::{CHUNK_BYTES, spool};
    use crate::error::ApiError;

    #[actix_rt::test]
    async fn body_arrives_whole_in_chunks() {
        let written: Vec<u8> = (0..CHUNK_BYTES * 5 / 2).map(|index| index as u8).collect();
        let expected = written.clone();

        let body = spool(move |out| out.write_all(&written).map_err(Error::Output))
            .await
            .expect("spooled");
        let length = body.length();
        let chunks: Vec<_> = body.into_stream().try_collect().await.expect("read");

        assert_eq!(length, expected.len() as u64);
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks.concat(), expected);
    }

    #[actix_rt::test]
    async fn empty_body_has_no_chunks() {
        let body = spool(|_| Ok(())).await.expect("spooled");

        assert_eq!(body.length(), 0);
        let chunks: Vec<_> = body.into_stream().try_collect().await.expect("read");
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
}
