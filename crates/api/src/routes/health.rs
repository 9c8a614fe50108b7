//! `GET` and `HEAD /health`: whether the service and its database respond.

use std::cell::Cell;
use std::time::{Duration, Instant};

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, Resource, guard, web};
use ost_linker_core::Store;

use super::{blocking, with_allow};
use crate::problem::Problem;

/// The health route, registered outside the gate. It matches only `GET` and `HEAD`, and any
/// other method falls through to the gated scope. Its guard compares the method and nothing
/// more, for the reason given at [`super::method_route`].
pub(super) fn open_routes() -> Resource {
    web::resource("/health")
        .guard(guard::fn_guard(|ctx| {
            let method = &ctx.head().method;
            method == Method::GET || method == Method::HEAD
        }))
        .app_data(web::Data::new(LastCheck::default()))
        .to(health)
}

/// How long `/health` reuses a successful database check before a request checks again.
///
/// A check runs on the blocking thread pool, and the hand-over to it and back cost about
/// twice the rest of the request under load. A failed check is never reused, so a `503`
/// shows at once and clears with the first check that passes.
const CHECK_REUSE: Duration = Duration::from_secs(1);

/// When one worker's last successful database check ran. The application factory runs once
/// per worker, so each worker has its own and no lock is needed.
#[derive(Debug, Default)]
struct LastCheck(Cell<Option<Instant>>);

/// The same path inside the gate, where other methods get 405 once the token is valid.
pub(super) fn guarded_fallback() -> impl actix_web::dev::HttpServiceFactory {
    with_allow(web::resource("/health"), "GET, HEAD")
}

async fn health(store: web::Data<dyn Store>, last_check: web::Data<LastCheck>) -> HttpResponse {
    let started = Instant::now();
    if let Some(passed) = last_check.0.get()
        && started.duration_since(passed) < CHECK_REUSE
    {
        return ok();
    }

    match blocking(&store, |store| store.ping()).await {
        Ok(()) => {
            last_check.0.set(Some(started));
            ok()
        }
        Err(err) => {
            log::error!("health check failed: {err}");
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                "The database does not answer. Check the service's log and its database file.",
            )
            .to_response()
        }
    }
}

fn ok() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"status":"ok"}"#)
}
