//! Links between nodes and evidence: `/nodes/{id}/links`, `/evidence/{id}/links` and
//! `/links/{id}`.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use ost_linker_core::{EvidenceId, LinkId, LinkPatch, NewLink, NodeId, Relation, Store};
use serde::Deserialize;

use super::{blocking, items, method_route, on_worker, with_allow, with_etag};
use crate::error::ApiError;
use crate::extract::{NoQuery, StrictJson, not_null, nullable, path_id};
use crate::write::{WriteHeaders, respond_created};

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(with_allow(
        web::resource("/nodes/{node_id}/links")
            .route(method_route(Method::POST).to(create_link))
            .route(method_route(Method::GET).to(list_node_links)),
        "GET, POST",
    ))
    .service(with_allow(
        web::resource("/evidence/{evidence_id}/links")
            .route(method_route(Method::GET).to(list_evidence_links)),
        "GET",
    ))
    .service(with_allow(
        web::resource("/links/{link_id}")
            .route(method_route(Method::GET).to(get_link))
            .route(method_route(Method::PATCH).to(update_link))
            .route(method_route(Method::DELETE).to(delete_link)),
        "GET, PATCH, DELETE",
    ));
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkBody {
    evidence_id: EvidenceId,
    relation: Relation,
    #[serde(default)]
    strength: Option<i64>,
    #[serde(default)]
    note: String,
}

async fn create_link(
    store: web::Data<dyn Store>,
    _no_query: NoQuery,
    path: web::Path<String>,
    write: WriteHeaders,
    StrictJson { body, json }: StrictJson<LinkBody>,
) -> Result<HttpResponse, ApiError> {
    let node_id = path_id(&path, NodeId::parse)?;
    let new = NewLink {
        evidence_id: body.evidence_id,
        relation: body.relation,
        strength: body.strength,
        note: body.note,
    };

    respond_created(&store, write.create_context(&json), move |store, ctx| {
        store.create_link(ctx, node_id, new)
    })
    .await
}

async fn list_node_links(
    store: web::Data<dyn Store>,
    _no_query: NoQuery,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let node_id = path_id(&path, NodeId::parse)?;
    let links = blocking(&store, move |store| store.list_node_links(node_id)).await?;

    Ok(items(links))
}

async fn list_evidence_links(
    store: web::Data<dyn Store>,
    _no_query: NoQuery,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let evidence_id = path_id(&path, EvidenceId::parse)?;
    let links = blocking(&store, move |store| store.list_evidence_links(evidence_id)).await?;

    Ok(items(links))
}

async fn get_link(
    store: web::Data<dyn Store>,
    _no_query: NoQuery,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&path, LinkId::parse)?;
    let link = on_worker(&store, |store| store.get_link(id))?;

    Ok(with_etag(&link, link.version))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkPatchBody {
    #[serde(default, deserialize_with = "not_null")]
    relation: Option<Relation>,
    #[serde(default, deserialize_with = "nullable")]
    strength: Option<Option<i64>>,
    #[serde(default, deserialize_with = "not_null")]
    note: Option<String>,
}

async fn update_link(
    store: web::Data<dyn Store>,
    _no_query: NoQuery,
    path: web::Path<String>,
    write: WriteHeaders,
    StrictJson { body, .. }: StrictJson<LinkPatchBody>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&path, LinkId::parse)?;
    let patch = LinkPatch {
        relation: body.relation,
        strength: body.strength,
        note: body.note,
    };
    if patch.is_empty() {
        return Err(ApiError::EmptyPatch {
            allowed: "relation, strength, note",
        });
    }

    let ctx = write.context();
    let expected = write.expected_version();
    let link = blocking(&store, move |store| {
        store.update_link(&ctx, id, patch, expected)
    })
    .await?;

    Ok(with_etag(&link, link.version))
}

async fn delete_link(
    store: web::Data<dyn Store>,
    _no_query: NoQuery,
    path: web::Path<String>,
    write: WriteHeaders,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&path, LinkId::parse)?;
    let ctx = write.context();
    let expected = write.expected_version();
    blocking(&store, move |store| store.delete_link(&ctx, id, expected)).await?;

    Ok(HttpResponse::NoContent().finish())
}
