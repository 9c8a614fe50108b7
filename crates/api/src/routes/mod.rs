//! The routes of the API and how they are wired behind the service-token gate.

mod health;
mod nodes;
mod trees;

use std::sync::Arc;

use actix_web::dev::HttpServiceFactory;
use actix_web::{HttpRequest, HttpResponse, Resource, web};
use ost_linker_core::Store;
use service_token_gate::ServiceTokenGate;

use crate::error::ApiError;
use crate::extract::{BodyLimit, query_config};

/// What every worker's application shares.
#[derive(Clone)]
pub struct AppState {
    /// The store behind every route.
    pub store: Arc<dyn Store>,
    /// The service-token gate in front of every route but `GET|HEAD /health`.
    pub gate: ServiceTokenGate,
    /// The maximum request body size in bytes.
    pub body_limit: usize,
}

/// Registers the whole API on an `App` or `Scope`.
///
/// `GET` and `HEAD /health` stand outside the gate, so uptime monitors need no token. Every
/// other request, unknown paths and wrong methods included, goes through the gate before
/// routing can answer it, so a request without a valid token learns nothing about which routes
/// exist.
pub fn configure(state: AppState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::from(state.store))
            .app_data(BodyLimit(state.body_limit))
            .app_data(web::PayloadConfig::new(state.body_limit))
            .app_data(query_config())
            .service(health::open_routes())
            .service(
                web::scope("")
                    .wrap(state.gate)
                    .service(health::guarded_fallback())
                    .configure(trees::routes)
                    .configure(nodes::routes)
                    .default_service(web::to(route_not_found)),
            );
    }
}

async fn route_not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::RouteNotFound {
        path: req.path().to_owned(),
    })
}

/// Gives a resource a fallback that answers 405 with `Allow` for methods it has no route for.
fn with_allow(resource: Resource, allow: &'static str) -> impl HttpServiceFactory {
    resource.default_service(web::to(move |req: HttpRequest| async move {
        Err::<HttpResponse, _>(ApiError::MethodNotAllowed {
            method: req.method().to_string(),
            allow,
        })
    }))
}

/// Runs a store call on the blocking thread pool, so database work never holds up a worker.
async fn blocking<T, F>(store: &web::Data<dyn Store>, call: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&dyn Store) -> ost_linker_core::Result<T> + Send + 'static,
{
    let store = store.clone().into_inner();
    let result = web::block(move || call(store.as_ref()))
        .await
        .map_err(|_| ApiError::PoolGone)?;

    result.map_err(ApiError::from)
}
