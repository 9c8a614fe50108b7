//! The per-worker `Service` that checks each request's token header.

use std::{fmt, sync::Arc, time::Instant};

use actix_web::{
    Error, HttpMessage,
    body::EitherBody,
    dev::{Service, ServiceRequest, ServiceResponse, forward_ready},
    http::header::HeaderMap,
};
use futures_util::future::{Either, MapOk, Ready, TryFutureExt, ready};
use log::warn;

use crate::{
    gate::Settings,
    log_limit::Admission,
    rejection::{Rejection, RejectionReason},
    token::{TokenDigest, TokenFingerprint, find_matching_token},
};

/// The response of a request that the gate forwards, with its body type widened.
type Forwarded<S, B> = MapOk<<S as Service<ServiceRequest>>::Future, WidenBody<B>>;

/// Puts the inner service's body on the left of the gate's `EitherBody`.
type WidenBody<B> = fn(ServiceResponse<B>) -> ServiceResponse<EitherBody<B>>;

/// `Service` half of [`ServiceTokenGate`](crate::ServiceTokenGate), created once per worker.
#[doc(hidden)]
pub struct ServiceTokenMiddleware<S> {
    service: S,
    settings: Arc<Settings>,
}

impl<S> fmt::Debug for ServiceTokenMiddleware<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceTokenMiddleware")
            .field("enabled", &self.settings.is_enabled())
            .field("header_name", &self.settings.rejection.header_label())
            .finish_non_exhaustive()
    }
}

impl<S> ServiceTokenMiddleware<S> {
    pub(crate) fn new(service: S, settings: Arc<Settings>) -> Self {
        Self { service, settings }
    }
}

impl<S, B> Service<ServiceRequest> for ServiceTokenMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    S::Future: 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    // Both outcomes are named types, so a request allocates no boxed future in the gate.
    type Future = Either<Ready<Result<Self::Response, Self::Error>>, Forwarded<S, B>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        if !self.settings.is_enabled() {
            return self.forward(req);
        }

        match check_token(&self.settings, req.headers()) {
            Ok(fingerprint) => {
                req.extensions_mut().insert(fingerprint);
                self.forward(req)
            }
            Err(reason) => self.reject(req, reason),
        }
    }
}

impl<S, B> ServiceTokenMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    S::Future: 'static,
    B: 'static,
{
    fn forward(&self, req: ServiceRequest) -> <Self as Service<ServiceRequest>>::Future {
        let widen: WidenBody<B> = ServiceResponse::map_into_left_body;
        Either::Right(self.service.call(req).map_ok(widen))
    }

    fn reject(
        &self,
        req: ServiceRequest,
        reason: RejectionReason,
    ) -> <Self as Service<ServiceRequest>>::Future {
        let rejection = Rejection::new(reason, Arc::clone(&self.settings.rejection));
        log_rejection(&self.settings, &req, &rejection);

        let (request, _payload) = req.into_parts();
        let response = match &self.settings.rejection_handler {
            Some(handler) => handler(&request, &rejection),
            None => rejection.problem_response(),
        };
        let response = ServiceResponse::new(request, response).map_into_right_body();
        Either::Left(ready(Ok(response)))
    }
}

/// Checks the token header of one request and returns the fingerprint of the matching token.
fn check_token(
    settings: &Settings,
    headers: &HeaderMap,
) -> Result<TokenFingerprint, RejectionReason> {
    let mut values = headers.get_all(&settings.header_name);
    let Some(value) = values.next() else {
        return Err(RejectionReason::Missing);
    };
    if values.next().is_some() {
        return Err(RejectionReason::Duplicated);
    }

    check_value(&settings.tokens, value.as_bytes())
}

/// Checks one presented token value and returns the fingerprint of the matching token.
///
/// The middleware calls it with the single header value of a request, and
/// [`ServiceTokenGate::matching_token`](crate::ServiceTokenGate::matching_token) with a value
/// from any source. The format checks run before the comparison because they depend only on
/// the presented value, never on the configured tokens.
pub(crate) fn check_value(
    tokens: &[TokenDigest],
    presented: &[u8],
) -> Result<TokenFingerprint, RejectionReason> {
    if presented.is_empty() {
        return Err(RejectionReason::Empty);
    }
    if !presented.iter().all(u8::is_ascii_graphic) {
        return Err(RejectionReason::NotVisibleAscii);
    }

    find_matching_token(tokens, presented).ok_or(RejectionReason::Mismatch)
}

/// Logs a rejection at warn level, within the gate's rate limit. The line names the method,
/// path, peer address and reason, and nothing derived from the presented value.
fn log_rejection(settings: &Settings, req: &ServiceRequest, rejection: &Rejection) {
    let limiter = &settings.log_limiter;
    let Admission::Log { suppressed_before } = limiter.admit(Instant::now()) else {
        return;
    };

    if suppressed_before > 0 {
        warn!(
            "service token gate suppressed {suppressed_before} rejection log line(s) in the \
             previous {:?} window",
            limiter.window()
        );
    }

    let peer = match req.peer_addr() {
        Some(address) => address.to_string(),
        None => "unknown peer".to_owned(),
    };
    warn!(
        "service token gate rejected {} {} from {peer}: {rejection}",
        req.method(),
        req.path()
    );
}
