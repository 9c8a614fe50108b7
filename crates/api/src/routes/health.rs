//! `GET` and `HEAD /health`: whether the service and its database answer.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, Resource, guard, web};
use ost_linker_core::Store;
use serde_json::json;

use super::{blocking, with_allow};
use crate::problem::Problem;

/// The health route, registered outside the gate: it answers only `GET` and `HEAD`, and any
/// other method falls through to the gated scope.
pub(super) fn open_routes() -> Resource {
    web::resource("/health")
        .guard(guard::Any(guard::Get()).or(guard::Head()))
        .to(health)
}

/// The same path inside the gate, where other methods get 405 once the token is valid.
pub(super) fn guarded_fallback() -> impl actix_web::dev::HttpServiceFactory {
    with_allow(web::resource("/health"), "GET, HEAD")
}

async fn health(store: web::Data<dyn Store>) -> HttpResponse {
    match blocking(&store, |store| store.ping()).await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ok" })),
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
