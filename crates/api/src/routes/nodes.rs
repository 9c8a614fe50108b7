//! `/nodes/{id}`: read, change and delete one node.

use actix_web::{HttpResponse, web};
use ost_linker_core::{DeleteMode, NodeId, NodePatch, Store};
use serde::Deserialize;

use super::{blocking, with_allow};
use crate::error::ApiError;
use crate::extract::{StrictJson, path_id};

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(with_allow(
        web::resource("/nodes/{node_id}")
            .route(web::get().to(get_node))
            .route(web::patch().to(update_node))
            .route(web::delete().to(delete_node)),
        "GET, PATCH, DELETE",
    ));
}

async fn get_node(
    store: web::Data<dyn Store>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&path, NodeId::parse)?;
    let node = blocking(&store, move |store| store.get_node(id)).await?;

    Ok(HttpResponse::Ok().json(node))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodePatchBody {
    title: Option<String>,
    description: Option<String>,
}

async fn update_node(
    store: web::Data<dyn Store>,
    path: web::Path<String>,
    StrictJson(body): StrictJson<NodePatchBody>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&path, NodeId::parse)?;
    if body.title.is_none() && body.description.is_none() {
        return Err(ApiError::EmptyPatch {
            allowed: "title, description",
        });
    }

    let patch = NodePatch {
        title: body.title,
        description: body.description,
    };
    let node = blocking(&store, move |store| store.update_node(id, patch)).await?;

    Ok(HttpResponse::Ok().json(node))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeleteQuery {
    #[serde(default)]
    cascade: bool,
}

async fn delete_node(
    store: web::Data<dyn Store>,
    path: web::Path<String>,
    query: web::Query<DeleteQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&path, NodeId::parse)?;
    let mode = if query.cascade {
        DeleteMode::Subtree
    } else {
        DeleteMode::LeafOnly
    };
    blocking(&store, move |store| store.delete_node(id, mode)).await?;

    Ok(HttpResponse::NoContent().finish())
}
