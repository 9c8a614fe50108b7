//! `/trees/{id}/export` and `/trees/import`: a whole tree as one JSON document, and a
//! document imported as a new tree.
//!
//! The document is `{"format": "ost-linker/tree", "version": 1, "tree", "nodes", "evidence",
//! "links"}`, described by [`TreeDocument`]. An import returns 201 with the new tree's fields,
//! so `id` and `version` give `Location` and `ETag` as for `POST /trees`, plus the counts of
//! what it created and reused and the new id of each `ref`. With `?dry_run=true` it writes
//! nothing and returns 200 with `valid`, every problem and the same counts. A document with
//! problems is rejected with 422 `invalid_document`, whose `problems` member lists them all.

use actix_web::http::Method;
use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, web};
use ost_linker_core::{DOCUMENT_FORMAT, DOCUMENT_VERSION, Store, TreeDocument, TreeId};
use serde::Deserialize;
use serde_json::Value;

use super::{blocking, method_route, with_allow};
use crate::error::ApiError;
use crate::extract::{NoQuery, StrictJson, StrictQuery, parse, path_id};
use crate::spool::spool;
use crate::write::{WriteHeaders, respond_created};

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(with_allow(
        web::resource("/trees/import").route(method_route(Method::POST).to(import_tree)),
        "POST",
    ))
    .service(with_allow(
        web::resource("/trees/{tree_id}/export").route(method_route(Method::GET).to(export_tree)),
        "GET",
    ));
}

/// Writes the document to a temporary file from one snapshot of the store, then sends it
/// from the file with its `Content-Length`. So a large tree is never held in memory whole,
/// and a slow client never keeps the snapshot open.
///
/// A body cut short, such as for a client that takes no data for 30 s, ends before its
/// `Content-Length`, so the client can tell that it is incomplete.
async fn export_tree(
    store: web::Data<dyn Store>,
    _no_query: NoQuery,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&path, TreeId::parse)?;
    let store = store.into_inner();
    let body = spool(move |out| store.write_export(id, out)).await?;

    Ok(HttpResponse::Ok()
        .content_type(ContentType::json())
        .no_chunking(body.length())
        .streaming(body.into_stream(format!("export of tree {id}"))))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportQuery {
    #[serde(default)]
    dry_run: bool,
}

async fn import_tree(
    store: web::Data<dyn Store>,
    StrictQuery(query): StrictQuery<ImportQuery>,
    write: WriteHeaders,
    StrictJson { json, .. }: StrictJson<Value>,
) -> Result<HttpResponse, ApiError> {
    check_format(&json)?;
    let document: TreeDocument = parse(&json)?;

    if query.dry_run {
        let check = blocking(&store, move |store| store.check_import(&document)).await?;
        return Ok(HttpResponse::Ok().json(check));
    }

    respond_created(&store, write.create_context(&json), move |store, ctx| {
        store.import_tree(ctx, document)
    })
    .await
}

/// Rejects a document of another format or version before its members are parsed, so the
/// error names the format instead of the first member this build does not know.
fn check_format(json: &Value) -> Result<(), ApiError> {
    if let Some(format) = json["format"].as_str()
        && format != DOCUMENT_FORMAT
    {
        return Err(ost_linker_core::Error::UnsupportedFormat {
            format: format.to_owned(),
        }
        .into());
    }
    if let Some(version) = json["version"].as_u64()
        && version != DOCUMENT_VERSION
    {
        return Err(ost_linker_core::Error::UnsupportedVersion { version }.into());
    }

    Ok(())
}
