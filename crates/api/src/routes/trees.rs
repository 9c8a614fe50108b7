//! `/trees`: create, list, read, change and delete trees, add and list their nodes, and page
//! through their history.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use ost_linker_core::{
    ExperimentStatus, NewNode, NewTree, NodeId, NodeKind, PageRequest, Store, TreeId, TreePatch,
};
use serde::Deserialize;

use super::{
    blocking, items, method_route, on_worker, page_cursor, page_limit, with_allow, with_etag,
};
use crate::error::ApiError;
use crate::extract::{NoQuery, StrictJson, StrictQuery, not_null, path_id};
use crate::write::{WriteHeaders, respond_created};

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(with_allow(
        web::resource("/trees")
            .route(method_route(Method::POST).to(create_tree))
            .route(method_route(Method::GET).to(list_trees)),
        "GET, POST",
    ))
    .service(with_allow(
        web::resource("/trees/{tree_id}")
            .route(method_route(Method::GET).to(get_tree))
            .route(method_route(Method::PATCH).to(update_tree))
            .route(method_route(Method::DELETE).to(delete_tree)),
        "GET, PATCH, DELETE",
    ))
    .service(with_allow(
        web::resource("/trees/{tree_id}/nodes")
            .route(method_route(Method::POST).to(create_node))
            .route(method_route(Method::GET).to(list_nodes)),
        "GET, POST",
    ))
    .service(with_allow(
        web::resource("/trees/{tree_id}/history").route(method_route(Method::GET).to(list_history)),
        "GET",
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
    _no_query: NoQuery,
    write: WriteHeaders,
    StrictJson { body, json }: StrictJson<CreateTreeBody>,
) -> Result<HttpResponse, ApiError> {
    let new = NewTree {
        title: body.title,
        description: body.description,
        outcome_title: body.outcome.title,
        outcome_description: body.outcome.description,
    };

    respond_created(&store, write.create_context(&json), move |store, ctx| {
        store.create_tree(ctx, new)
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

async fn list_trees(
    store: web::Data<dyn Store>,
    StrictQuery(query): StrictQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = page_limit(query.limit)?;
    let after = page_cursor(query.cursor.as_deref(), TreeId::parse)?;

    let page = on_worker(&store, |store| {
        store.list_trees(PageRequest { limit, after })
    })?;

    Ok(HttpResponse::Ok().json(page))
}

async fn get_tree(
    store: web::Data<dyn Store>,
    _no_query: NoQuery,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&path, TreeId::parse)?;
    let tree = on_worker(&store, |store| store.get_tree(id))?;

    Ok(with_etag(&tree, tree.version))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TreePatchBody {
    #[serde(default, deserialize_with = "not_null")]
    title: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    description: Option<String>,
}

async fn update_tree(
    store: web::Data<dyn Store>,
    _no_query: NoQuery,
    path: web::Path<String>,
    write: WriteHeaders,
    StrictJson { body, .. }: StrictJson<TreePatchBody>,
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
    let ctx = write.context();
    let expected = write.expected_version();
    let tree = blocking(&store, move |store| {
        store.update_tree(&ctx, id, patch, expected)
    })
    .await?;

    Ok(with_etag(&tree, tree.version))
}

async fn delete_tree(
    store: web::Data<dyn Store>,
    _no_query: NoQuery,
    path: web::Path<String>,
    write: WriteHeaders,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&path, TreeId::parse)?;
    let ctx = write.context();
    let expected = write.expected_version();
    blocking(&store, move |store| store.delete_tree(&ctx, id, expected)).await?;

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
    #[serde(default, deserialize_with = "not_null")]
    position: Option<u32>,
    #[serde(default, deserialize_with = "not_null")]
    status: Option<ExperimentStatus>,
    #[serde(default)]
    result: Option<String>,
}

async fn create_node(
    store: web::Data<dyn Store>,
    _no_query: NoQuery,
    path: web::Path<String>,
    write: WriteHeaders,
    StrictJson { body, json }: StrictJson<CreateNodeBody>,
) -> Result<HttpResponse, ApiError> {
    let tree_id = path_id(&path, TreeId::parse)?;
    let new = NewNode {
        parent_id: body.parent_id,
        kind: body.kind,
        title: body.title,
        description: body.description,
        position: body.position,
        status: body.status,
        result: body.result,
    };

    respond_created(&store, write.create_context(&json), move |store, ctx| {
        store.create_node(ctx, tree_id, new)
    })
    .await
}

async fn list_nodes(
    store: web::Data<dyn Store>,
    _no_query: NoQuery,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let tree_id = path_id(&path, TreeId::parse)?;
    let nodes = blocking(&store, move |store| store.list_nodes(tree_id)).await?;

    Ok(items(nodes))
}

async fn list_history(
    store: web::Data<dyn Store>,
    path: web::Path<String>,
    StrictQuery(query): StrictQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let tree_id = path_id(&path, TreeId::parse)?;
    let limit = page_limit(query.limit)?;
    let after = page_cursor(query.cursor.as_deref(), str::parse::<i64>)?;

    let page = on_worker(&store, |store| {
        store.list_history(tree_id, PageRequest { limit, after })
    })?;

    Ok(HttpResponse::Ok().json(page))
}
