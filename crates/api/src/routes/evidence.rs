//! `/evidence`: store, list, read, change and delete evidence items.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use ost_linker_core::{
    Customer, EvidenceFilter, EvidenceId, EvidenceKind, EvidencePatch, Metric, NewEvidence,
    PageRequest, Source, Store,
};
use serde::Deserialize;

use super::{
    blocking, json_bytes, method_route, on_worker, page_cursor, page_limit, respond_cached,
    respond_cached_on_worker, with_allow, with_etag,
};
use crate::error::ApiError;
use crate::extract::{NoQuery, StrictJson, StrictQuery, not_null, nullable, path_id};
use crate::view_cache::{ViewCache, ViewKey, ViewScope};
use crate::write::{WriteHeaders, respond_created};

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(with_allow(
        web::resource("/evidence")
            .route(method_route(Method::POST).to(create_evidence))
            .route(method_route(Method::GET).to(list_evidence)),
        "GET, POST",
    ))
    .service(with_allow(
        web::resource("/evidence/{evidence_id}")
            .route(method_route(Method::GET).to(get_evidence))
            .route(method_route(Method::PATCH).to(update_evidence))
            .route(method_route(Method::DELETE).to(delete_evidence)),
        "GET, PATCH, DELETE",
    ));
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EvidenceBody {
    kind: EvidenceKind,
    title: String,
    #[serde(default)]
    content: String,
    #[serde(default, deserialize_with = "not_null")]
    source: Option<Source>,
    #[serde(default)]
    occurred_at: Option<String>,
    #[serde(default)]
    customer: Option<Customer>,
    #[serde(default, deserialize_with = "not_null")]
    tags: Option<Vec<String>>,
    #[serde(default)]
    metric: Option<Metric>,
}

async fn create_evidence(
    store: web::Data<dyn Store>,
    _no_query: NoQuery,
    write: WriteHeaders,
    StrictJson { body, json }: StrictJson<EvidenceBody>,
) -> Result<HttpResponse, ApiError> {
    let new = NewEvidence {
        kind: body.kind,
        title: body.title,
        content: body.content,
        source: body.source.unwrap_or_default(),
        occurred_at: body.occurred_at,
        customer: body.customer,
        tags: body.tags.unwrap_or_default(),
        metric: body.metric,
    };

    respond_created(&store, write.create_context(&json), move |store, ctx| {
        store.create_evidence(ctx, new)
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<u32>,
    cursor: Option<String>,
    kind: Option<EvidenceKind>,
    tag: Option<String>,
    source_system: Option<String>,
    linked: Option<bool>,
}

/// `GET /evidence`: one page of evidence items, oldest first. The rendered page is reused until
/// an evidence item or a link changes (see [`crate::view_cache`]).
async fn list_evidence(
    store: web::Data<dyn Store>,
    cache: web::Data<ViewCache>,
    StrictQuery(query): StrictQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = page_limit(query.limit)?;
    let after = page_cursor(query.cursor.as_deref(), EvidenceId::parse)?;
    let filter = EvidenceFilter {
        kind: query.kind,
        tag: query.tag,
        source_system: query.source_system,
        linked: query.linked,
    };

    let page = PageRequest { limit, after };
    // A page of filters with an index reads only its own rows, so it is small enough for the
    // worker.
    let runs_on_worker = filter.is_indexed();

    // The key names the parsed filter and page, so spellings of the same query share one entry.
    let key = ViewKey::new(ViewScope::Evidence, format!("{filter:?} {page:?}"));
    // The store writes the page's JSON from its rows, without building the items, into a
    // buffer large enough for a page of typical items.
    let load = move |store: &dyn Store| {
        let mut body = Vec::with_capacity(limit as usize * TYPICAL_ITEM_BYTES);
        store.write_evidence_page(&filter, page, &mut body)?;
        Ok(body)
    };
    let render = |body| Ok(json_bytes(body));
    if runs_on_worker {
        respond_cached_on_worker(&store, &cache, key, load, render)
    } else {
        respond_cached(&store, &cache, key, load, render).await
    }
}

/// The size of an evidence item in JSON that a page's buffer is first made for. Items of the
/// generated data set average about 1,460 bytes, so a page of them fits without the buffer
/// growing and copying what it contains.
const TYPICAL_ITEM_BYTES: usize = 2048;

async fn get_evidence(
    store: web::Data<dyn Store>,
    _no_query: NoQuery,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&path, EvidenceId::parse)?;
    let evidence = on_worker(&store, |store| store.get_evidence(id))?;

    Ok(with_etag(&evidence, evidence.version))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EvidencePatchBody {
    #[serde(default, deserialize_with = "not_null")]
    kind: Option<EvidenceKind>,
    #[serde(default, deserialize_with = "not_null")]
    title: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    content: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    source: Option<Source>,
    #[serde(default, deserialize_with = "nullable")]
    occurred_at: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    customer: Option<Option<Customer>>,
    #[serde(default, deserialize_with = "not_null")]
    tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    metric: Option<Option<Metric>>,
}

async fn update_evidence(
    store: web::Data<dyn Store>,
    _no_query: NoQuery,
    path: web::Path<String>,
    write: WriteHeaders,
    StrictJson { body, .. }: StrictJson<EvidencePatchBody>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&path, EvidenceId::parse)?;
    let patch = EvidencePatch {
        kind: body.kind,
        title: body.title,
        content: body.content,
        source: body.source,
        occurred_at: body.occurred_at,
        customer: body.customer,
        tags: body.tags,
        metric: body.metric,
    };
    if patch.is_empty() {
        return Err(ApiError::EmptyPatch {
            allowed: "kind, title, content, source, occurred_at, customer, tags, metric",
        });
    }

    let ctx = write.context();
    let expected = write.expected_version();
    let evidence = blocking(&store, move |store| {
        store.update_evidence(&ctx, id, patch, expected)
    })
    .await?;

    Ok(with_etag(&evidence, evidence.version))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CascadeQuery {
    #[serde(default)]
    cascade: bool,
}

async fn delete_evidence(
    store: web::Data<dyn Store>,
    path: web::Path<String>,
    StrictQuery(query): StrictQuery<CascadeQuery>,
    write: WriteHeaders,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&path, EvidenceId::parse)?;
    let with_links = query.cascade;
    let ctx = write.context();
    let expected = write.expected_version();
    blocking(&store, move |store| {
        store.delete_evidence(&ctx, id, with_links, expected)
    })
    .await?;

    Ok(HttpResponse::NoContent().finish())
}
