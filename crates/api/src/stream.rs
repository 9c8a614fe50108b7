//! Response bodies that a blocking call writes while the client receives them.
//!
//! [`stream_blocking`] runs the call on the blocking pool with a [`ChunkWriter`], which
//! collects its output into chunks and hands each to the response through a channel of a
//! few chunks. When the channel is full the call waits, so a body in flight uses at most
//! about `(QUEUED_CHUNKS + 1) * CHUNK_BYTES` of memory, whatever its size.

use std::future::ready;
use std::io::{self, Write};
use std::time::Duration;

use actix_web::web::{self, Bytes};
use futures_util::{Stream, StreamExt, stream};
use tokio::runtime::Handle;
use tokio::sync::mpsc;

use crate::error::ApiError;

/// The size at which a [`ChunkWriter`] sends what it has collected.
const CHUNK_BYTES: usize = 64 * 1024;

/// The number of chunks that wait for the client before the writing call waits too.
const QUEUED_CHUNKS: usize = 4;

/// How long a chunk may wait for room in the channel before the call gives up. A client that
/// reads nothing for this long loses the response, and the call frees what it holds, such
/// as a database connection and its snapshot.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// One item of a body as the response stream yields it: a chunk, or the error that cut the
/// body short. An error makes actix-web close the connection without ending the chunked
/// body, so the client can tell that the body is incomplete.
type Chunk = io::Result<Bytes>;

/// A message from the writing call to the response.
enum Message {
    /// The next bytes of the body.
    Chunk(Bytes),
    /// The body is complete. A channel that closes without it means the call failed.
    Finished,
}

/// The output of a call run by [`stream_blocking`]: it sends every [`CHUNK_BYTES`] and on
/// `flush`.
pub(crate) struct ChunkWriter {
    buffer: Vec<u8>,
    sender: mpsc::Sender<Message>,
    runtime: Handle,
    send_timeout: Duration,
    sent_any: bool,
}

impl ChunkWriter {
    fn new(sender: mpsc::Sender<Message>, runtime: Handle, send_timeout: Duration) -> Self {
        Self {
            buffer: Vec::with_capacity(CHUNK_BYTES),
            sender,
            runtime,
            send_timeout,
            sent_any: false,
        }
    }

    /// Sends what is left and marks the body complete.
    fn finish(&mut self) -> io::Result<()> {
        self.flush()?;
        self.send(Message::Finished)
    }

    fn send_buffer(&mut self) -> io::Result<()> {
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK_BYTES));
        self.send(Message::Chunk(Bytes::from(chunk)))?;
        self.sent_any = true;
        Ok(())
    }

    /// Waits until the channel takes `message`, for up to the send timeout.
    fn send(&self, message: Message) -> io::Result<()> {
        let sending = tokio::time::timeout(self.send_timeout, self.sender.send(message));
        match self.runtime.block_on(sending) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_closed)) => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the client closed the connection",
            )),
            Err(_elapsed) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the client read nothing for {:?}", self.send_timeout),
            )),
        }
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK_BYTES {
            self.send_buffer()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        self.send_buffer()
    }
}

/// Runs `write` on the blocking pool and returns its output as a response body, as soon as
/// the first chunk is ready.
///
/// An error before the first chunk is returned here, so the response can still be an error
/// response. An error after it is logged with `label` and ends the body with an error.
///
/// # Errors
///
/// Returns the error of `write` when it fails before its first chunk, and
/// [`ApiError::PoolGone`] during shutdown.
pub(crate) async fn stream_blocking<F>(
    label: String,
    write: F,
) -> Result<impl Stream<Item = Chunk> + 'static, ApiError>
where
    F: FnOnce(&mut ChunkWriter) -> ost_linker_core::Result<()> + Send + 'static,
{
    stream_blocking_with_timeout(label, SEND_TIMEOUT, write).await
}

async fn stream_blocking_with_timeout<F>(
    label: String,
    send_timeout: Duration,
    write: F,
) -> Result<impl Stream<Item = Chunk> + 'static, ApiError>
where
    F: FnOnce(&mut ChunkWriter) -> ost_linker_core::Result<()> + Send + 'static,
{
    let (sender, mut receiver) = mpsc::channel(QUEUED_CHUNKS);
    let runtime = Handle::current();

    // `web::block` starts the call at once. Its result is read only when no chunk comes.
    let call = web::block(move || {
        let mut writer = ChunkWriter::new(sender, runtime, send_timeout);
        let result = write(&mut writer)
            .and_then(|()| writer.finish().map_err(ost_linker_core::Error::Output));
        if let Err(err) = &result
            && writer.sent_any
        {
            log::warn!("{label} stopped before its end: {err}");
        }
        result
    });

    let first = match receiver.recv().await {
        Some(Message::Chunk(first)) => first,
        Some(Message::Finished) => return Ok(stream::empty().left_stream()),
        None => {
            // The call ended without sending anything, so its result decides the response.
            call.await.map_err(|_| ApiError::PoolGone)??;
            return Ok(stream::empty().left_stream());
        }
    };

    let rest = stream::unfold(Some(receiver), |receiver| async move {
        let mut receiver = receiver?;
        match receiver.recv().await {
            Some(Message::Chunk(chunk)) => Some((Ok(chunk), Some(receiver))),
            Some(Message::Finished) => None,
            None => {
                let cut_short = io::Error::other("the body ended before it was complete");
                Some((Err(cut_short), None))
            }
        }
    });
    Ok(stream::once(ready(Ok(first))).chain(rest).right_stream())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn collect(body: impl Stream<Item = Chunk>) -> Vec<Chunk> {
        body.collect().await
    }

    #[actix_rt::test]
    async fn body_arrives_in_chunks_and_whole() {
        let body = stream_blocking("test body".to_owned(), |out| {
            for _ in 0..3 {
                out.write_all(&[b'x'; CHUNK_BYTES])
                    .map_err(ost_linker_core::Error::Output)?;
            }
            out.write_all(b"end")
                .map_err(ost_linker_core::Error::Output)
        })
        .await
        .expect("stream starts");

        let chunks = collect(body).await;

        let sizes: Vec<usize> = chunks
            .iter()
            .map(|chunk| chunk.as_ref().expect("chunk").len())
            .collect();
        assert_eq!(sizes, [CHUNK_BYTES, CHUNK_BYTES, CHUNK_BYTES, 3]);
    }

    #[actix_rt::test]
    async fn error_before_first_chunk_is_returned() {
        let result = stream_blocking("test body".to_owned(), |out| {
            out.write_all(b"partial")
                .map_err(ost_linker_core::Error::Output)?;
            Err(ost_linker_core::Error::NotFound {
                entity: "tree",
                id: "t_1".to_owned(),
            })
        })
        .await;

        assert!(
            matches!(
                result,
                Err(ApiError::Domain(ost_linker_core::Error::NotFound { .. }))
            ),
            "the error before any chunk should be returned"
        );
    }

    #[actix_rt::test]
    async fn error_after_first_chunk_ends_body_with_error() {
        let body = stream_blocking("test body".to_owned(), |out| {
            out.write_all(&[b'x'; CHUNK_BYTES])
                .map_err(ost_linker_core::Error::Output)?;
            Err(ost_linker_core::Error::Output(io::Error::other(
                "disk gone",
            )))
        })
        .await
        .expect("stream starts");

        let chunks = collect(body).await;

        assert_eq!(chunks.len(), 2);
        assert!(chunks[0].is_ok());
        assert!(chunks[1].is_err(), "the last item should be the error");
    }

    /// Writes more chunks than the channel queues, so a send must wait for the reader, and
    /// reports through `finished` how the writing ended.
    fn write_past_queue(
        out: &mut ChunkWriter,
        finished: &std::sync::mpsc::Sender<Result<(), io::ErrorKind>>,
    ) -> ost_linker_core::Result<()> {
        let mut outcome = Ok(());
        for _ in 0..QUEUED_CHUNKS + 3 {
            outcome = out.write_all(&[b'x'; CHUNK_BYTES]);
            if outcome.is_err() {
                break;
            }
        }

        let _ = finished.send(outcome.as_ref().map_err(io::Error::kind).copied());
        outcome.map_err(ost_linker_core::Error::Output)
    }

    #[actix_rt::test]
    async fn unread_body_times_out_and_frees_the_call() {
        let (finished, result) = std::sync::mpsc::channel();
        let body = stream_blocking_with_timeout(
            "test body".to_owned(),
            Duration::from_millis(100),
            move |out| write_past_queue(out, &finished),
        )
        .await
        .expect("stream starts");

        // Hold the body without reading it, as a stalled client does.
        let outcome = web::block(move || result.recv_timeout(Duration::from_secs(10)))
            .await
            .expect("blocking pool")
            .expect("the call finished");
        drop(body);

        assert_eq!(outcome, Err(io::ErrorKind::TimedOut));
    }

    #[actix_rt::test]
    async fn dropped_body_stops_the_call() {
        let (finished, result) = std::sync::mpsc::channel();
        let body = stream_blocking("test body".to_owned(), move |out| {
            write_past_queue(out, &finished)
        })
        .await
        .expect("stream starts");

        drop(body);
        let outcome = web::block(move || result.recv_timeout(Duration::from_secs(10)))
            .await
            .expect("blocking pool")
            .expect("the call finished");

        assert_eq!(outcome, Err(io::ErrorKind::BrokenPipe));
    }
}
