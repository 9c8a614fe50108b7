//! `/trees`: create, list, read, change and delete trees, and add and list their nodes.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use ost_linker_core::{NewNode, NewTree, NodeId, NodeKind, PageRequest, Store, TreeId, TreePatch};
use serde::Deserialize;
use serde_json::json;

use super::{blocking, with_allow};
use crate::error::ApiError;
use crate::extract::{StrictJson, path_id};

/// The default and maximum page sizes of `GET /trees`.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(with_allow(
        web::resource("/trees")
            .route(web::post().to(create_tree))
            .route(web::get().to(list_trees)),
        "GET, POST",
    ))
    .service(with_allow(
        web::resource("/trees/{tree_id}")
            .route(web::get().to(get_tree))
            .route(web::patch().to(update_tree))
            .route(web::delete().to(delete_tree)),
        "GET, PATCH, DELETE",
    ))
    .service(with_allow(
        web::resource("/trees/{tree_id}/nodes")
            .route(web::post().to(create_node))
            .route(web::get().to(list_nodes)),
        "GET, POST",
    ));
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateTreeBody {
    title: String,
    #[serde(default)]
    description: String,
    outcome: OutcomeBody,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutcomeBody {
    title: String,
    #[serde(default)]
    description: String,
}

async fn create_tree(
    store: web::Data<dyn Store>,
    StrictJson(body): StrictJson<CreateTreeBody>,
) -> Result<HttpResponse, ApiError> {
    let new = NewTree {
        title: body.title,
        description: body.description,
        outcome_title: body.outcome.title,
        outcome_description: body.outcome.description,
    };
    let created = blocking(&store, move |store| store.create_tree(new)).await?;

    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/trees/{}", created.tree.id)))
        .json(created))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

async fn list_trees(
    store: web::Data<dyn Store>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::InvalidQuery(format!(
            "`limit` is {limit}; use a whole number from 1 to {MAX_LIMIT}"
        )));
    }
    let after = query
        .cursor
        .as_deref()
        .map(TreeId::parse)
        .transpose()
        .map_err(|err| {
            ApiError::InvalidQuery(format!(
                "`cursor` is `{}`, which is not a cursor this API returned; pass `next_cursor` \
                 from the previous page unchanged",
                err.value
            ))
        })?;

    let page = blocking(&store, move |store| {
        store.list_trees(PageRequest { limit, after })
    })
    .await?;

    Ok(HttpResponse::Ok().json(page))
}

async fn get_tree(
    store: web::Data<dyn Store>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&path, TreeId::parse)?;
    let tree = blocking(&store, move |store| store.get_tree(id)).await?;

    Ok(HttpResponse::Ok().json(tree))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TreePatchBody {
    title: Option<String>,
    description: Option<String>,
}

async fn update_tree(
    store: web::Data<dyn Store>,
    path: web::Path<String>,
    StrictJson(body): StrictJson<TreePatchBody>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&path, TreeId::parse)?;
    if body.title.is_none() && body.description.is_none() {
        return Err(ApiError::EmptyPatch {
            allowed: "title, description",
        });
    }

    let patch = TreePatch {
        title: body.title,
        description: body.description,
    };
    let tree = blocking(&store, move |store| store.update_tree(id, patch)).await?;

    Ok(HttpResponse::Ok().json(tree))
}

async fn delete_tree(
    store: web::Data<dyn Store>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&path, TreeId::parse)?;
    blocking(&store, move |store| store.delete_tree(id)).await?;

    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateNodeBody {
    parent_id: NodeId,
    kind: NodeKind,
    title: String,
    #[serde(default)]
    description: String,
}

async fn create_node(
    store: web::Data<dyn Store>,
    path: web::Path<String>,
    StrictJson(body): StrictJson<CreateNodeBody>,
) -> Result<HttpResponse, ApiError> {
    let tree_id = path_id(&path, TreeId::parse)?;
    let new = NewNode {
        parent_id: body.parent_id,
        kind: body.kind,
        title: body.title,
        description: body.description,
    };
    let node = blocking(&store, move |store| store.create_node(tree_id, new)).await?;

    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/nodes/{}", node.id)))
        .json(node))
}

async fn list_nodes(
    store: web::Data<dyn Store>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let tree_id = path_id(&path, TreeId::parse)?;
    let nodes = blocking(&store, move |store| store.list_nodes(tree_id)).await?;

    Ok(HttpResponse::Ok().json(json!({ "items": nodes })))
}
