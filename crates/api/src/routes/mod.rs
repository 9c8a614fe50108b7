//! The routes of the API and how they are wired behind the service-token gate.
//!
//! # Where store calls run
//!
//! A read of one item or one page calls the store on the worker that received the request,
//! through [`on_worker`]. From SQLite's page cache it takes from ten to a few hundred
//! microseconds. Handing it to the blocking pool and back cost more CPU than the smallest of
//! these reads take. Under load the hand-over also finished requests out of their order of
//! arrival: at 64 connections on one core, the p99 latency of evidence pages was 2.5 times
//! their median on the pool and 1.1 times on the worker (BENCHMARKS.md).
//!
//! Writes run on the blocking pool through [`blocking`], so the worker goes on serving other
//! requests. So do the reads whose cost grows with a tree or with the store: outlines, gap
//! reports, searches, a tree's nodes, the links of a node or an item, evidence pages with a
//! filter that has no index, exports and import checks. `/health` checks the database there
//! too, because that is the path writes take.
//!
//! NOTE: a read on the worker holds up that worker's other connections while it waits: for a
//! page that the operating system must read from disk, for a read connection when all are
//! lent out, or, in a store without read connections, for any call on its one connection.

mod evidence;
mod health;
mod links;
mod nodes;
mod transfer;
mod trees;
mod views;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use actix_web::dev::HttpServiceFactory;
use actix_web::http::Method;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, Resource, Route, guard, web};
use ost_linker_core::Store;
use service_token_gate::ServiceTokenGate;

use crate::error::ApiError;
use crate::extract::BodyLimit;
use crate::view_cache::{ViewCache, ViewKey};
use crate::write::etag;

/// The state every worker's application shares.
#[derive(Clone)]
pub struct AppState {
    /// The store behind every route.
    pub store: Arc<dyn Store>,
    /// The service-token gate in front of every route but `GET|HEAD /health`.
    pub gate: ServiceTokenGate,
    /// The maximum request body size in bytes.
    pub body_limit: usize,
    /// The rendered outlines, gap reports, evidence pages and searches, shared by every
    /// worker.
    pub view_cache: Arc<ViewCache>,
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
            .app_data(web::Data::from(state.view_cache))
            .app_data(BodyLimit(state.body_limit))
            .app_data(web::PayloadConfig::new(state.body_limit))
            .service(health::open_routes())
            .service(
                web::scope("")
                    .wrap(state.gate)
                    .service(health::guarded_fallback())
                    // Before the trees, whose `/trees/{tree_id}` would also match `/trees/import`.
                    .configure(transfer::routes)
                    .configure(trees::routes)
                    .configure(nodes::routes)
                    .configure(evidence::routes)
                    .configure(links::routes)
                    .configure(views::routes)
                    .default_service(web::to(route_not_found)),
            );
    }
}

async fn route_not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::RouteNotFound {
        path: req.path().to_owned(),
    })
}

/// Returns a route that matches the requests of `method`.
///
/// The method routes of actix-web, such as `web::get()`, also record each method that they
/// check in the request's extensions, for a 405 that lists them: an allocation and a map
/// insert for every route checked. Every resource here lists its methods itself
/// ([`with_allow`]), so its routes only compare the method.
fn method_route(method: Method) -> Route {
    web::route().guard(guard::fn_guard(move |ctx| ctx.head().method == method))
}

/// Gives a resource a fallback that responds 405 with `Allow` for methods it has no route for.
fn with_allow(resource: Resource, allow: &'static str) -> impl HttpServiceFactory {
    resource.default_service(web::to(move |req: HttpRequest| async move {
        Err::<HttpResponse, _>(ApiError::MethodNotAllowed {
            method: req.method().to_string(),
            allow,
        })
    }))
}

/// Runs a store call on the blocking thread pool, so the worker goes on serving other
/// requests while it runs. See the module documentation for the calls that run here.
pub(crate) async fn blocking<T, E, F>(store: &web::Data<dyn Store>, call: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    E: Send + 'static,
    ApiError: From<E>,
    F: FnOnce(&dyn Store) -> Result<T, E> + Send + 'static,
{
    let store = store.clone().into_inner();
    let result = on_blocking_pool(move || call(store.as_ref())).await?;

    result.map_err(ApiError::from)
}

/// Runs `call` on the blocking thread pool and returns its value.
///
/// A panic in `call` becomes [`ApiError::CallPanicked`], a 500, so that
/// [`ApiError::PoolGone`], a 503 that a client may retry, means only that the pool is
/// shut down.
pub(crate) async fn on_blocking_pool<T, F>(call: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    web::block(move || catch_unwind(AssertUnwindSafe(call)))
        .await
        .map_err(|_| ApiError::PoolGone)?
        .map_err(|_| ApiError::CallPanicked)
}

/// Runs a store call on the worker itself. See the module documentation for the calls that
/// run here.
///
/// A panic in the call becomes a 500 response. Uncaught, it would end the worker's task for
/// the connection, and the client would get no response at all.
pub(crate) fn on_worker<T, E>(
    store: &web::Data<dyn Store>,
    call: impl FnOnce(&dyn Store) -> Result<T, E>,
) -> Result<T, ApiError>
where
    ApiError: From<E>,
{
    let result = catch_unwind(AssertUnwindSafe(|| call(store.as_ref())))
        .map_err(|_| ApiError::CallPanicked)?;

    result.map_err(ApiError::from)
}

/// Responds with the response `key`: the cached body when the revision of its scope has not
/// changed since it was rendered, or else the value that `load` reads, rendered by `render`
/// and then cached.
///
/// The revision is read before `load` reads the store. A write between the two makes the
/// body newer than the revision it is cached with, so the next request renders it again.
///
/// Every step runs in one call on the blocking pool. So a request that the cache does not
/// hold costs one hand-over to the pool and back, as a cached one does, and the worker never
/// renders a large body. [`respond_cached_on_worker`] runs the same steps on the worker.
async fn respond_cached<V, L, R>(
    store: &web::Data<dyn Store>,
    cache: &web::Data<ViewCache>,
    key: ViewKey,
    load: L,
    render: R,
) -> Result<HttpResponse, ApiError>
where
    L: FnOnce(&dyn Store) -> ost_linker_core::Result<V> + Send + 'static,
    R: FnOnce(V) -> Result<Rendered, ApiError> + Send + 'static,
{
    let cache = cache.clone().into_inner();
    let (content_type, body) = blocking(store, move |store| {
        cached_or_rendered(store, &cache, key, load, render)
    })
    .await?;

    Ok(HttpResponse::Ok().content_type(content_type).body(body))
}

/// Responds as [`respond_cached`] does, with every step run on the worker, for a response
/// of one page.
fn respond_cached_on_worker<V>(
    store: &web::Data<dyn Store>,
    cache: &web::Data<ViewCache>,
    key: ViewKey,
    load: impl FnOnce(&dyn Store) -> ost_linker_core::Result<V>,
    render: impl FnOnce(V) -> Result<Rendered, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let (content_type, body) = on_worker(store, |store| {
        cached_or_rendered(store, cache, key, load, render)
    })?;

    Ok(HttpResponse::Ok().content_type(content_type).body(body))
}

/// Returns the cached response `key`, or loads, renders and caches it: the steps that
/// [`respond_cached`] runs on the blocking pool and [`respond_cached_on_worker`] on the
/// worker.
fn cached_or_rendered<V>(
    store: &dyn Store,
    cache: &ViewCache,
    key: ViewKey,
    load: impl FnOnce(&dyn Store) -> ost_linker_core::Result<V>,
    render: impl FnOnce(V) -> Result<Rendered, ApiError>,
) -> Result<Rendered, ApiError> {
    let revision = key.scope().revision(store)?;
    if let Some(rendered) = cache.get(&key, revision) {
        return Ok(rendered);
    }

    let (content_type, body) = render(load(store)?)?;
    cache.put(key, revision, content_type, body.clone());

    Ok((content_type, body))
}

/// A rendered response: its media type and body.
type Rendered = (&'static str, Bytes);

/// Renders `value` as a JSON response body.
fn json_body(value: &impl serde::Serialize) -> Result<Rendered, ApiError> {
    let body = serde_json::to_vec(value).map_err(ApiError::Render)?;
    Ok(json_bytes(body))
}

/// Makes a response body of JSON that is already written.
///
/// The body keeps no spare capacity: the view cache counts a body by its length, and a
/// `Vec` grown by doubling can hold up to twice that.
fn json_bytes(mut body: Vec<u8>) -> Rendered {
    body.shrink_to_fit();
    ("application/json", Bytes::from(body))
}

/// The body of an unpaginated listing.
#[derive(serde::Serialize)]
struct Items<T> {
    items: Vec<T>,
}

/// Returns a 200 response with the items of an unpaginated listing.
fn items<T: serde::Serialize>(items: Vec<T>) -> HttpResponse {
    HttpResponse::Ok().json(Items { items })
}

/// Returns a 200 response with an entity's JSON and its version as the `ETag`.
fn with_etag<T: serde::Serialize>(entity: &T, version: u64) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((actix_web::http::header::ETAG, etag(version)))
        .json(entity)
}

/// Page sizes of every paginated listing: `?limit=` defaults to 50 and takes 1 to 200.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

/// Checks a `?limit=` value and applies the default.
fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::InvalidQuery(format!(
            "`limit` is {limit}; use a whole number from 1 to {MAX_LIMIT}"
        )));
    }

    Ok(limit)
}

/// Parses a `?cursor=` value with the parser of the listed entity's ids.
fn page_cursor<T, E>(
    cursor: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<Option<T>, ApiError> {
    cursor
        .map(|text| {
            parse(text).map_err(|_| {
                ApiError::InvalidQuery(format!(
                    "`cursor` is `{text}`, which is not a cursor this API returned; pass \
                     `next_cursor` from the previous page unchanged"
                ))
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use actix_web::ResponseError;
    use actix_web::http::StatusCode;
    use actix_web::web;
    use ost_linker_core::{SqliteStore, Store, TreeId};

    use super::{blocking, on_worker};
    use crate::error::ApiError;

    fn in_memory_store() -> web::Data<dyn Store> {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().expect("store opens"));
        web::Data::from(store)
    }

    #[test]
    fn on_worker_returns_the_call_result() {
        let store = in_memory_store();

        let result = on_worker(&store, |store| store.ping().map(|()| 42));

        assert_eq!(result.ok(), Some(42));
    }

    #[test]
    fn on_worker_maps_store_errors() {
        let store = in_memory_store();

        let result = on_worker(&store, |store| store.get_tree(TreeId::generate()));

        let err = result.expect_err("an unknown tree is an error");
        assert_eq!(err.status_code(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn on_worker_turns_a_panic_into_500() {
        let store = in_memory_store();

        let result = on_worker(&store, |_| -> ost_linker_core::Result<()> {
            panic!("a store call failed unexpectedly")
        });

        let err = result.expect_err("the panic is an error");
        assert!(matches!(err, ApiError::CallPanicked), "{err:?}");
        assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[actix_rt::test]
    async fn blocking_turns_a_panic_into_500() {
        let store = in_memory_store();

        let result = blocking(&store, |_| -> ost_linker_core::Result<()> {
            panic!("a store call failed unexpectedly")
        })
        .await;

        let err = result.expect_err("the panic is an error");
        assert!(matches!(err, ApiError::CallPanicked), "{err:?}");
        assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
