//! `/nodes/{id}`: read, change, move and delete one node.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use ost_linker_core::{DeleteMode, ExperimentStatus, NodeId, NodePatch, Store};
use serde::Deserialize;

use super::{blocking, method_route, on_worker, with_allow, with_etag};
use crate::error::ApiError;
use crate::extract::{NoQuery, StrictJson, StrictQuery, not_null, nullable, path_id};
use crate::write::WriteHeaders;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(with_allow(
        web::resource("/nodes/{node_id}")
            .route(method_route(Method::GET).to(get_node))
            .route(method_route(Method::PATCH).to(update_node))
            .route(method_route(Method::DELETE).to(delete_node)),
        "GET, PATCH, DELETE",
    ));
}

async fn get_node(
    store: web::Data<dyn Store>,
    _no_query: NoQuery,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&path, NodeId::parse)?;
    let node = on_worker(&store, |store| store.get_node(id))?;

    Ok(with_etag(&node, node.version))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodePatchBody {
    #[serde(default, deserialize_with = "not_null")]
    title: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    description: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    parent_id: Option<NodeId>,
    #[serde(default, deserialize_with = "not_null")]
    position: Option<u32>,
    #[serde(default, deserialize_with = "not_null")]
    status: Option<ExperimentStatus>,
    #[serde(default, deserialize_with = "nullable")]
    result: Option<Option<String>>,
}

async fn update_node(
    store: web::Data<dyn Store>,
    _no_query: NoQuery,
    path: web::Path<String>,
    write: WriteHeaders,
    StrictJson { body, .. }: StrictJson<NodePatchBody>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&path, NodeId::parse)?;
    let patch = NodePatch {
        title: body.title,
        description: body.description,
        parent_id: body.parent_id,
        position: body.position,
        status: body.status,
        result: body.result,
    };
    if patch.is_empty() {
        return Err(ApiError::EmptyPatch {
            allowed: "title, description, parent_id, position, status, result",
        });
    }

    let ctx = write.context();
    let expected = write.expected_version();
    let node = blocking(&store, move |store| {
        store.update_node(&ctx, id, patch, expected)
    })
    .await?;

    Ok(with_etag(&node, node.version))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CascadeQuery {
    #[serde(default)]
    cascade: bool,
}

async fn delete_node(
    store: web::Data<dyn Store>,
    path: web::Path<String>,
    StrictQuery(query): StrictQuery<CascadeQuery>,
    write: WriteHeaders,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&path, NodeId::parse)?;
    let mode = if query.cascade {
        DeleteMode::Subtree
    } else {
        DeleteMode::LeafOnly
    };
    let ctx = write.context();
    let expected = write.expected_version();
    blocking(&store, move |store| {
        store.delete_node(&ctx, id, mode, expected)
    })
    .await?;

    Ok(HttpResponse::NoContent().finish())
}
