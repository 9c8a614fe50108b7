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
    http::header::{HeaderName, HeaderValue},
};
use log::{info, warn};

use crate::{
    config::{ConfigError, GateConfig, TokenSource},
    log_limit::{self, LogLimiter},
    middleware::ServiceTokenMiddleware,
    rejection::Rejection,
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
    /// Header name as the caller spelled it, for messages.
    pub(crate) header_label: Arc<str>,
    pub(crate) www_authenticate: HeaderValue,
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
            header_label: Arc::from(DEFAULT_HEADER_NAME),
            www_authenticate: HeaderValue::from_static("ServiceToken header=\"X-Service-Token\""),
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
        // A valid header name contains only token characters, so it fits in a quoted string.
        let www_authenticate = HeaderValue::from_str(&format!("ServiceToken header=\"{name}\""))
            .map_err(|_| invalid())?;

        let settings = Arc::make_mut(&mut self.settings);
        settings.header_name = header_name;
        settings.header_label = Arc::from(name);
        settings.www_authenticate = www_authenticate;
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
            .field("header_name", &self.settings.header_label)
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
