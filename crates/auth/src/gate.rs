//! The public gate type, its builder methods and its `Transform` implementation.

use std::{
    fmt,
    future::{Ready, ready},
    sync::Arc,
    time::Duration,
};

use actix_web::{
    Error, HttpRequest, HttpResponse,
    body::EitherBody,
    dev::{Service, ServiceRequest, ServiceResponse, Transform},
    http::header::HeaderName,
};
use log::{info, warn};

use crate::{
    config::{ConfigError, GateConfig, TokenSource},
    log_limit::{self, LogLimiter},
    middleware::{ServiceTokenMiddleware, check_value},
    rejection::{Rejection, RejectionTemplate},
    token::{RECOMMENDED_MIN_TOKEN_LEN, TokenDigest, TokenFingerprint},
};

/// Header name used unless [`ServiceTokenGate::header_name`] sets another.
pub const DEFAULT_HEADER_NAME: &str = "X-Service-Token";

/// Function that builds the response for a rejected request.
pub(crate) type RejectionHandler =
    Arc<dyn Fn(&HttpRequest, &Rejection) -> HttpResponse + Send + Sync + 'static>;

/// Middleware that admits only requests carrying one of the configured service tokens.
///
/// Build it once before `HttpServer::new`, because construction logs the start-up lines, and
/// move clones into the app factory. Clones share their settings and their rejection log limit.
/// Wrap an `App`, a `Scope` or a `Resource` with it. The crate documentation lists the decision
/// rules.
///
/// # Example
///
/// ```
/// use actix_web::{App, HttpResponse, web};
/// use service_token_gate::{GateConfig, ServiceTokenGate};
///
/// let config = GateConfig::with_tokens(["a-long-random-token-of-at-least-32-chars"])?;
/// let gate = ServiceTokenGate::new(config).header_name("X-Billing-Token")?;
///
/// let app = App::new().service(
///     web::scope("/internal")
///         .wrap(gate.clone())
///         .route("/jobs", web::post().to(|| async { HttpResponse::Accepted().finish() })),
/// );
/// # drop(app);
/// # Ok::<(), service_token_gate::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct ServiceTokenGate {
    settings: Arc<Settings>,
}

/// Settings shared by every clone of the gate and by every worker's middleware.
#[derive(Clone)]
pub(crate) struct Settings {
    /// Digests of the accepted tokens. Empty when the gate is disabled.
    pub(crate) tokens: Arc<[TokenDigest]>,
    pub(crate) header_name: HeaderName,
    /// Header name as the caller spelled it, the challenge and the default bodies.
    pub(crate) rejection: Arc<RejectionTemplate>,
    pub(crate) rejection_handler: Option<RejectionHandler>,
    pub(crate) log_limiter: Arc<LogLimiter>,
}

impl ServiceTokenGate {
    /// Creates a gate from `config`, with the header `X-Service-Token` and the default
    /// rejection response.
    ///
    /// Logs the start-up lines. A disabled gate logs one warning that names the variable that
    /// would enable it. An enabled gate logs the fingerprint of each token at info level, and
    /// warns about each token shorter than 32 characters.
    pub fn new(config: GateConfig) -> Self {
        log_startup(&config);

        let tokens = config.tokens().iter().map(TokenDigest::new).collect();
        let settings = Settings {
            tokens,
            header_name: HeaderName::from_static("x-service-token"),
            rejection: Arc::new(
                RejectionTemplate::new(DEFAULT_HEADER_NAME)
                    .expect("the default header name fits in a header value"),
            ),
            rejection_handler: None,
            log_limiter: Arc::new(LogLimiter::new(
                log_limit::DEFAULT_MAX_LINES,
                log_limit::DEFAULT_WINDOW,
            )),
        };
        Self {
            settings: Arc::new(settings),
        }
    }

    /// Reads the configuration from `variable` and `<variable>_FILE` and creates a gate.
    ///
    /// This is [`GateConfig::from_env`] followed by [`ServiceTokenGate::new`].
    ///
    /// # Errors
    ///
    /// Returns a [`ConfigError`] in the cases that [`GateConfig::from_lookup`] lists.
    pub fn from_env(variable: &str) -> Result<Self, ConfigError> {
        Ok(Self::new(GateConfig::from_env(variable)?))
    }

    /// Sets the name of the header that carries the token. The default is `X-Service-Token`.
    ///
    /// Requests match the name case-insensitively. Rejection messages and the
    /// `WWW-Authenticate` challenge spell it as passed here.
    ///
    /// # Errors
    ///
    /// Returns [`ConfigError::InvalidHeaderName`] when `name` is not a valid HTTP header name.
    pub fn header_name(mut self, name: &str) -> Result<Self, ConfigError> {
        let invalid = || ConfigError::InvalidHeaderName {
            name: name.to_owned(),
        };
        let header_name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
        let rejection = RejectionTemplate::new(name).ok_or_else(invalid)?;

        let settings = Arc::make_mut(&mut self.settings);
        settings.header_name = header_name;
        settings.rejection = Arc::new(rejection);
        Ok(self)
    }

    /// Replaces the default problem details response with the one that `handler` builds.
    ///
    /// The gate sends the handler's response as it is. Add the `WWW-Authenticate` header from
    /// [`Rejection::www_authenticate`] if the status stays 401. The gate still logs the
    /// rejection, and the wrapped service is still not called.
    #[must_use]
    pub fn rejection_handler<F>(mut self, handler: F) -> Self
    where
        F: Fn(&HttpRequest, &Rejection) -> HttpResponse + Send + Sync + 'static,
    {
        Arc::make_mut(&mut self.settings).rejection_handler = Some(Arc::new(handler));
        self
    }

    /// Sets the maximum number of rejection log lines per window. The default is 20 lines
    /// per 60 seconds, and a `max_lines` of 0 counts as 1.
    ///
    /// The first line logged after a window that suppressed lines is preceded by a line with
    /// the suppressed count. This gate and its later clones share one new limit.
    #[must_use]
    pub fn rejection_log_limit(mut self, max_lines: u32, window: Duration) -> Self {
        Arc::make_mut(&mut self.settings).log_limiter =
            Arc::new(LogLimiter::new(max_lines, window));
        self
    }

    /// Returns whether the gate checks tokens. A disabled gate passes every request.
    pub fn is_enabled(&self) -> bool {
        self.settings.is_enabled()
    }

    /// Checks one presented token value and returns the fingerprint of the configured token it
    /// equals, or `None`.
    ///
    /// This runs the same function as the middleware runs on the single header value of a
    /// request. It applies rules 3 to 6 of the crate documentation, so it returns `None` for an
    /// empty value, for a value with a byte outside visible ASCII (0x21 to 0x7E) and for a
    /// value that equals no configured token. The comparison with the tokens is written to
    /// take the same time whichever token matches, and whether one does, and `benches/timing`
    /// checks that. The format checks and the hashing take time that grows with the length of
    /// `presented`. Use it where a token arrives outside an HTTP request that the middleware
    /// sees, such as the first message of a WebSocket connection.
    ///
    /// A disabled gate returns `None` for every value, although its middleware passes every
    /// request. Call [`is_enabled`](Self::is_enabled) first if an unconfigured service should
    /// stay open. This method logs nothing, so the caller logs its own rejections.
    ///
    /// # Example
    ///
    /// ```
    /// use service_token_gate::{GateConfig, ServiceTokenGate};
    ///
    /// const OLD: &str = "old-token-0123456789abcdefghijklmnop";
    /// const NEW: &str = "new-token-0123456789abcdefghijklmnop";
    /// let gate = ServiceTokenGate::new(GateConfig::with_tokens([OLD, NEW])?);
    ///
    /// let fingerprints = gate.fingerprints();
    /// assert_eq!(gate.matching_token(NEW.as_bytes()), Some(fingerprints[1]));
    /// assert_eq!(gate.matching_token(b"wrong-token"), None);
    /// # Ok::<(), service_token_gate::ConfigError>(())
    /// ```
    pub fn matching_token(&self, presented: &[u8]) -> Option<TokenFingerprint> {
        check_value(&self.settings.tokens, presented).ok()
    }

    /// Returns the fingerprint of each accepted token, in configuration order.
    pub fn fingerprints(&self) -> Vec<TokenFingerprint> {
        self.settings
            .tokens
            .iter()
            .map(TokenDigest::fingerprint)
            .collect()
    }
}

impl Settings {
    pub(crate) fn is_enabled(&self) -> bool {
        !self.tokens.is_empty()
    }
}

impl fmt::Debug for ServiceTokenGate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceTokenGate")
            .field("enabled", &self.is_enabled())
            .field("fingerprints", &self.fingerprints())
            .field("header_name", &self.settings.rejection.header_label())
            .field(
                "custom_rejection_handler",
                &self.settings.rejection_handler.is_some(),
            )
            .finish()
    }
}

impl<S, B> Transform<S, ServiceRequest> for ServiceTokenGate
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    S::Future: 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = ServiceTokenMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    /// Runs once per worker, so it only shares the settings and logs nothing.
    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ServiceTokenMiddleware::new(
            service,
            Arc::clone(&self.settings),
        )))
    }
}

fn log_startup(config: &GateConfig) {
    if !config.is_enabled() {
        match config.origin() {
            TokenSource::Variable { name } => warn!(
                "service token gate is disabled because neither {name} nor {name}_FILE is set, \
                 so the wrapped routes accept every request. Set {name} to require a token"
            ),
            _ => warn!(
                "service token gate is disabled by explicit configuration, so the wrapped routes \
                 accept every request"
            ),
        }
        return;
    }

    info!(
        "service token gate is enabled with {} token(s) from {}",
        config.tokens().len(),
        config.origin()
    );
    for token in config.tokens() {
        let fingerprint = token.fingerprint();
        info!("service token gate accepts the token with fingerprint {fingerprint}");
        if token.is_shorter_than_recommended() {
            warn!(
                "service token with fingerprint {fingerprint} is shorter than \
                 {RECOMMENDED_MIN_TOKEN_LEN} characters. Replace it with a random token of at \
                 least {RECOMMENDED_MIN_TOKEN_LEN} characters"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST: &str = "first-token-0123456789abcdefghijklmn";
    const SECOND: &str = "second-token-0123456789abcdefghijklm";

    fn gate_with(tokens: &[&str]) -> ServiceTokenGate {
        let config =
            GateConfig::with_tokens(tokens.iter().copied()).expect("test tokens are valid");
        ServiceTokenGate::new(config)
    }

    #[test]
    fn matching_token_accepts_each_token() {
        let gate = gate_with(&[FIRST, SECOND]);
        let fingerprints = gate.fingerprints();

        assert_eq!(gate.matching_token(FIRST.as_bytes()), Some(fingerprints[0]));
        assert_eq!(
            gate.matching_token(SECOND.as_bytes()),
            Some(fingerprints[1])
        );
    }

    #[test]
    fn matching_token_rejects_wrong_values() {
        let gate = gate_with(&[FIRST, SECOND]);
        let mut last_byte_changed = FIRST.as_bytes().to_vec();
        *last_byte_changed.last_mut().expect("token is not empty") = b'o';

        let cases: &[(&str, &[u8])] = &[
            (
                "wrong, same length",
                b"third-token-0123456789abcdefghijklmn",
            ),
            ("wrong, other length", b"third-token"),
            ("last byte changed", &last_byte_changed),
            ("prefix", &FIRST.as_bytes()[..FIRST.len() - 1]),
            (
                "token with suffix",
                b"first-token-0123456789abcdefghijklmnX",
            ),
            ("case changed", b"FIRST-TOKEN-0123456789ABCDEFGHIJKLMN"),
            (
                "two tokens joined",
                b"first-token-0123456789abcdefghijklmn,second-token",
            ),
        ];
        for (case, presented) in cases {
            assert_eq!(
                gate.matching_token(presented),
                None,
                "{case} should match no token"
            );
        }
    }

    #[test]
    fn matching_token_rejects_empty_value() {
        let gate = gate_with(&[FIRST]);

        assert_eq!(gate.matching_token(b""), None);
    }

    #[test]
    fn matching_token_rejects_bytes_outside_visible_ascii() {
        let gate = gate_with(&[FIRST]);
        let with_byte = |byte: u8| {
            let mut value = FIRST.as_bytes().to_vec();
            value.push(byte);
            value
        };

        let cases: &[(&str, Vec<u8>)] = &[
            ("leading space", format!(" {FIRST}").into_bytes()),
            ("trailing space", with_byte(b' ')),
            ("trailing tab", with_byte(b'\t')),
            ("trailing newline", with_byte(b'\n')),
            ("trailing NUL", with_byte(0)),
            ("trailing DEL", with_byte(0x7f)),
            ("trailing non-UTF-8 byte", with_byte(0xff)),
            ("trailing UTF-8 letter", format!("{FIRST}é").into_bytes()),
        ];
        for (case, presented) in cases {
            assert_eq!(
                gate.matching_token(presented),
                None,
                "{case} should match no token"
            );
        }
    }

    #[test]
    fn matching_token_of_disabled_gate_is_none() {
        let gate = ServiceTokenGate::new(GateConfig::disabled());

        assert!(!gate.is_enabled());
        assert_eq!(gate.matching_token(FIRST.as_bytes()), None);
        assert_eq!(gate.matching_token(b""), None);
    }
}
