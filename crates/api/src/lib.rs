//! The ost-linker HTTP API.
//!
//! [`run`] serves the API on a bound listener; the `ost-linker` binary reads a [`Config`] from
//! the environment, opens the SQLite store and calls it. Tests call [`routes::configure`] on an
//! `App` directly.
//!
//! # Layout
//!
//! - [`config`]: environment variables, defaults and `--help`.
//! - [`routes`]: the routes and how they are wired behind the service-token gate.
//! - [`extract`]: strict JSON, query and path extraction.
//! - [`write`]: actor, idempotency key and `If-Match` headers, and replayed creates.
//! - [`error`] and [`problem`]: every failure as RFC 9457 problem details.
//! - [`sample`]: the `load-sample` command, which imports a sample data file.
//! - [`view_cache`]: rendered responses of reads, reused until what they show changes.
//! - `spool`: response bodies written to a temporary file before they are sent.

#![forbid(unsafe_code)]

pub mod config;
pub mod error;
pub mod extract;
pub mod problem;
pub mod routes;
pub mod sample;
mod spool;
pub mod view_cache;
pub mod write;

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::{Condition, Logger};
use actix_web::{App, HttpMessage, HttpServer};
use service_token_gate::TokenFingerprint;

pub use crate::config::Config;
pub use crate::routes::AppState;

/// The access log format: peer, request line, status, response size, seconds taken, and the
/// fingerprint of the service token the request was accepted with (`-` when none was needed
/// or the request was rejected).
///
/// It copies no request header, so a service token never reaches the log. The fingerprint
/// lets an operator watch a rotation until no request uses the old token.
const ACCESS_LOG_FORMAT: &str = r#"%a "%r" %s %b %Ts token=%{token}xo"#;

fn access_log() -> Logger {
    Logger::new(ACCESS_LOG_FORMAT).custom_response_replace("token", |response| {
        response
            .request()
            .extensions()
            .get::<TokenFingerprint>()
            .map_or_else(|| "-".to_owned(), ToString::to_string)
    })
}

/// The number of threads of each worker's blocking pool, which runs the calls to the store.
///
/// The store serves at most one read per CPU and two more, one search and one write at a
/// time. The workers run the smaller reads themselves, so more threads only wait. A write waiting for the writer still joins the next group commit, so the pool
/// leaves room for a queue of them. glibc spreads threads over up to 8 heap arenas per core,
/// each keeping memory freed in it, so fewer threads also hold less memory.
const BLOCKING_THREADS: usize = 16;

/// Starts serving the API on `listener` and returns the running server.
///
/// The server stops gracefully on SIGTERM and SIGINT: it stops accepting connections and lets
/// requests in flight finish, for up to 30 seconds.
///
/// # Errors
///
/// Returns an error when the listener can't be used.
pub fn run(listener: TcpListener, state: AppState) -> std::io::Result<Server> {
    // actix-web's `Logger` renders the request part of its format for every request, even
    // when the log filter drops the line, so it is left out when its target is filtered out.
    let log_access = log::log_enabled!(target: "actix_web::middleware::logger", log::Level::Info);
    let server = HttpServer::new(move || {
        App::new()
            .wrap(Condition::new(log_access, access_log()))
            .configure(routes::configure(state.clone()))
    })
    .worker_max_blocking_threads(BLOCKING_THREADS)
    .listen(listener)?
    .run();

    Ok(server)
}
