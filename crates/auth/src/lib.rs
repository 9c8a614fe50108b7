//! An actix-web 4 middleware that admits only requests carrying a shared service token in a
//! header.
//!
//! Services that call each other share a secret, and [`ServiceTokenGate`] checks it on every
//! request to the routes it wraps. Wrap an `App`, a `Scope` or a `Resource` with it. The caller
//! names the environment variable that contains the tokens and may rename the header, which is
//! `X-Service-Token` by default.
//!
//! # Decision rules
//!
//! When no token is configured, the gate is disabled and passes every request to the wrapped
//! service unchanged. Otherwise it applies these rules to every request, whatever its method,
//! `OPTIONS` and `HEAD` included:
//!
//! 1. No token header: reject with code `missing_service_token`.
//! 2. The header appears more than once: reject with code `invalid_service_token`, even when
//!    every copy contains a correct token.
//! 3. The value is empty: reject with `invalid_service_token`.
//! 4. The value contains a byte outside visible ASCII (0x21 to 0x7E), such as a space, a tab or
//!    a byte that is not UTF-8: reject with `invalid_service_token`. The gate does not trim the
//!    value, but the HTTP/1 parser of actix-web 4.18 already strips spaces and tabs around
//!    header values.
//! 5. The value equals no configured token: reject with `invalid_service_token`.
//! 6. Otherwise the request passes. The gate inserts the [`TokenFingerprint`] of the matching
//!    token into the request extensions, so a handler or access log can show which token a
//!    caller used during a rotation.
//!
//! Header names match case-insensitively. Rules 1 to 4 check only the format of the presented
//! value. Rule 5 compares the SHA-256 digest of the value with the digest of every configured
//! token in constant time, without stopping at the first match.
//!
//! [`ServiceTokenGate::matching_token`] applies rules 3 to 6 to a token that arrives outside
//! an HTTP header, such as in the first message of a WebSocket connection, and returns the
//! fingerprint of the matching token.
//!
//! A rejected request never reaches the wrapped service. It gets status 401, a
//! `WWW-Authenticate: ServiceToken header="X-Service-Token"` header that names the configured
//! header, and an RFC 9457 problem details body with `Content-Type: application/problem+json`:
//!
//! ```json
//! {
//!   "type": "about:blank",
//!   "title": "Unauthorized",
//!   "status": 401,
//!   "detail": "The request has no X-Service-Token header. Send the service token in the X-Service-Token header.",
//!   "code": "missing_service_token"
//! }
//! ```
//!
//! [`ServiceTokenGate::rejection_handler`] replaces this response with one that the caller
//! builds from the [`Rejection`]. No response or log line contains the presented value.
//!
//! # Configuration
//!
//! [`ServiceTokenGate::from_env`] reads the configuration once, when it is called. For a
//! variable named `VAR`:
//!
//! - Neither `VAR` nor `VAR_FILE` is set: the gate is disabled and logs one warning that names
//!   `VAR`.
//! - `VAR` is set: it contains one or more tokens separated by commas. Accepting several tokens at
//!   once lets a rotation add the new token before the old one is removed.
//! - `VAR_FILE` is set: it names a file with one token per line, as container secret mounts
//!   provide. A final newline is allowed.
//! - Each token is trimmed of ASCII whitespace and must then contain only visible ASCII
//!   characters other than the comma.
//!
//! Anything else is a [`ConfigError`] that names the variable and gives the fix, so a
//! deployment meant to be closed never starts open. That covers `VAR` and `VAR_FILE` both set,
//! a value that is empty or contains only whitespace and commas, an empty entry such as `a,,b`, a
//! blank line in the file, a character outside the allowed set, a value that is not UTF-8 and a
//! file that cannot be read.
//!
//! The gate logs the fingerprint of each token at info level when it is built, and a warning
//! for each token shorter than 32 characters. Build it once, before `HttpServer::new`, and
//! clone it into the app factory: clones share the settings and log nothing. Tests and callers
//! with their own configuration source can use [`GateConfig::from_lookup`] or
//! [`GateConfig::with_tokens`] with [`ServiceTokenGate::new`].
//!
//! Rejections are logged at warn level with the method, path, peer address and reason. At most
//! 20 such lines are logged per 60 seconds by default, and the first line after a window with
//! suppressed lines is preceded by their count. [`ServiceTokenGate::rejection_log_limit`]
//! changes the limit.
//!
//! # Example
//!
//! ```no_run
//! use actix_web::{App, HttpMessage, HttpRequest, HttpResponse, HttpServer, web};
//! use service_token_gate::{ServiceTokenGate, TokenFingerprint};
//!
//! async fn list_jobs(req: HttpRequest) -> HttpResponse {
//!     let token = req.extensions().get::<TokenFingerprint>().map(ToString::to_string);
//!     HttpResponse::Ok().json(serde_json::json!({ "jobs": [], "token": token }))
//! }
//!
//! #[actix_web::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // Reads BILLING_SERVICE_TOKEN or BILLING_SERVICE_TOKEN_FILE and logs the outcome.
//!     let gate = ServiceTokenGate::from_env("BILLING_SERVICE_TOKEN")?;
//!
//!     HttpServer::new(move || {
//!         App::new()
//!             .route("/health", web::get().to(|| async { HttpResponse::Ok().finish() }))
//!             .service(
//!                 web::scope("/internal")
//!                     .wrap(gate.clone())
//!                     .route("/jobs", web::get().to(list_jobs)),
//!             )
//!     })
//!     .bind(("127.0.0.1", 8080))?
//!     .run()
//!     .await?;
//!     Ok(())
//! }
//! ```
//!
//! # Security
//!
//! - The token crosses the network in clear text unless TLS is in front of the service. Run the
//!   gate behind TLS or on a network that only the calling services can reach.
//! - The token is a shared secret. It shows that the caller holds a configured token, not which
//!   user or which service sent the request, so it does not replace per-user authorization.
//! - The gate does not limit the request rate, so the token's entropy is what resists guessing.
//!   Use random tokens of at least 32 characters.
//! - A fingerprint is the first 32 bits of the token's SHA-256 digest. It distinguishes tokens in
//!   logs and is not secret. It cannot recover a random token, but it could confirm a guess of a
//!   short or predictable one.
//! - The comparison takes the same time whichever token matches, and whether one does. Hashing
//!   the presented value takes time that grows with its length, which reveals nothing about the
//!   tokens.
//! - The peer address in log lines is the TCP peer, which is the proxy when one is in front.
//! - CORS preflight requests carry no custom headers, so the gate rejects them. If browsers must
//!   call the wrapped routes, register CORS middleware with a later `wrap` call than the gate,
//!   which makes it the outer middleware.
//! - The gate keeps only the SHA-256 digest of each token. The token strings in a
//!   [`GateConfig`] are dropped without being zeroed.

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]

mod config;
mod gate;
mod log_limit;
mod middleware;
mod rejection;
mod token;

pub use crate::{
    config::{ConfigError, GateConfig, TokenSource},
    gate::{DEFAULT_HEADER_NAME, ServiceTokenGate},
    middleware::ServiceTokenMiddleware,
    rejection::{Rejection, RejectionReason},
    token::{ServiceToken, TokenFingerprint},
};
