//! Read-only views: a tree's outline and gap report, and full-text search over nodes and
//! evidence.
//!
//! Every route takes only `GET`. Unknown query parameters are rejected with 400
//! `invalid_query`, like everywhere else in the API.

use actix_web::http::Method;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use ost_linker_core::{
    NodeId, OUTLINE_MAX_DEPTH, Outline, OutlineRequest, SEARCH_DEFAULT_LIMIT, SEARCH_MAX_LIMIT,
    SearchEntity, SearchKind, SearchQuery, Store, TreeId,
};
use serde::Deserialize;

use super::{json_body, method_route, respond_cached, with_allow};
use crate::error::ApiError;
use crate::extract::{NoQuery, StrictQuery, path_id};
use crate::view_cache::{ViewCache, ViewKey, ViewScope};

/// The media type of the Markdown outline.
const MARKDOWN: &str = "text/markdown; charset=utf-8";

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(with_allow(
        web::resource("/trees/{tree_id}/outline").route(method_route(Method::GET).to(outline)),
        "GET",
    ))
    .service(with_allow(
        web::resource("/trees/{tree_id}/gaps").route(method_route(Method::GET).to(gaps)),
        "GET",
    ))
    .service(with_allow(
        web::resource("/search").route(method_route(Method::GET).to(search)),
        "GET",
    ));
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutlineQuery {
    format: Option<String>,
    node: Option<String>,
    depth: Option<String>,
}

/// `GET /trees/{tree_id}/outline`: the tree as nested nodes with their evidence counts.
///
/// Query parameters, all optional:
///
/// - `format`: `json` (the default) or `markdown`.
/// - `node`: a node of this tree to start at instead of the root outcome. A node that does
///   not exist or belongs to another tree gives 404 `node_not_in_tree`.
/// - `depth`: how many levels below the start node to show, 0 to 50. 0 shows the start node
///   alone, and the default is 50.
///
/// The JSON body is `{"tree": {"id", "title"}, "depth", "root"}`, where `root` is the start
/// node. Each node has `id`, `kind`, `title`, `status` and `result` (experiments only, each
/// left out when unset), `position`, `supporting` and `contradicting` (its number of
/// `supports` and `contradicts` links), `omitted_children` (only when the depth limit cut
/// its children, and then their number) and `children`.
///
/// `format=markdown` returns `text/markdown; charset=utf-8` with one line per node, sized
/// for a language model's context:
///
/// ```text
/// # Trial retention (tree_…)
/// - [outcome] Raise 90-day trial retention from 18% to 26% (node_…) +1 -0
///   - [opportunity] Setup takes too long (node_…) +3 -1
///     - [solution] Spreadsheet import (node_…) +0 -0
///       - [experiment] Fake door test (node_…) succeeded +2 -0
///   - [opportunity] Value is invisible (node_…) +0 -0 (2 children not shown)
/// ```
///
/// Each level indents by two spaces. `+N -M` are the supporting and contradicting counts,
/// experiments show their status before them, and a node whose children the depth limit cut
/// ends with how many were left out. White space in titles is collapsed to single spaces.
///
/// The rendered body is reused until the tree changes (see [`crate::view_cache`]).
async fn outline(
    store: web::Data<dyn Store>,
    cache: web::Data<ViewCache>,
    path: web::Path<String>,
    StrictQuery(query): StrictQuery<OutlineQuery>,
) -> Result<HttpResponse, ApiError> {
    let tree_id = path_id(&path, TreeId::parse)?;
    let markdown = parse_format(query.format.as_deref())?;
    let request = OutlineRequest {
        start: parse_node(query.node.as_deref())?,
        depth: parse_depth(query.depth.as_deref())?,
    };

    // The key names the parsed request, so spellings of the same query share one entry.
    let start = request.start.map_or_else(String::new, |id| id.to_string());
    let key = ViewKey::new(
        ViewScope::Tree(tree_id),
        format!(
            "outline markdown={markdown} node={start} depth={}",
            request.depth
        ),
    );
    let load = move |store: &dyn Store| store.outline(tree_id, request);
    let render = move |outline: Outline| {
        if markdown {
            return Ok((MARKDOWN, Bytes::from(outline.to_markdown())));
        }
        json_body(&outline)
    };
    respond_cached(&store, &cache, key, load, render).await
}

/// Returns whether `format` requests Markdown rather than JSON.
fn parse_format(format: Option<&str>) -> Result<bool, ApiError> {
    match format {
        None | Some("json") => Ok(false),
        Some("markdown") => Ok(true),
        Some(other) => Err(ApiError::InvalidQuery(format!(
            "`format` is `{other}`. Use `json` or `markdown`"
        ))),
    }
}

fn parse_node(node: Option<&str>) -> Result<Option<NodeId>, ApiError> {
    node.map(|text| {
        NodeId::parse(text).map_err(|_| {
            ApiError::InvalidQuery(format!(
                "`node` is `{text}`, which is not a node id. Use the id exactly as the API \
                 returned it"
            ))
        })
    })
    .transpose()
}

fn parse_depth(depth: Option<&str>) -> Result<u32, ApiError> {
    let Some(text) = depth else {
        return Ok(OUTLINE_MAX_DEPTH);
    };

    match text.parse::<u32>() {
        Ok(depth) if depth <= OUTLINE_MAX_DEPTH => Ok(depth),
        _ => Err(ApiError::InvalidQuery(format!(
            "`depth` is `{text}`. Use a whole number from 0 to {OUTLINE_MAX_DEPTH}"
        ))),
    }
}

/// `GET /trees/{tree_id}/gaps`: where the tree lacks evidence or follow-up. The route takes
/// no query parameters.
///
/// The body is `{"opportunities_without_support": [...], "opportunities_only_contradicted":
/// [...], "solutions_without_experiments": [...], "finished_experiments_without_result":
/// [...]}`, each a list in depth-first order of `{id, kind, title, status?, supporting,
/// contradicting}`, where `status` is set for experiments only.
///
/// - `opportunities_without_support`: opportunities with no link at all.
/// - `opportunities_only_contradicted`: opportunities with `contradicts` links and no
///   `supports` link. The two lists never share a node.
/// - `solutions_without_experiments`: solutions with no experiment under them.
/// - `finished_experiments_without_result`: experiments with status `succeeded` or `failed`
///   whose result is missing or only white space.
async fn gaps(
    store: web::Data<dyn Store>,
    cache: web::Data<ViewCache>,
    _no_query: NoQuery,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let tree_id = path_id(&path, TreeId::parse)?;

    let key = ViewKey::new(ViewScope::Tree(tree_id), "gaps".to_owned());
    let load = move |store: &dyn Store| store.gaps(tree_id);
    respond_cached(&store, &cache, key, load, |gaps| json_body(&gaps)).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchParams {
    q: String,
    tree_id: Option<String>,
    #[serde(rename = "type")]
    entity: Option<String>,
    kind: Option<String>,
    limit: Option<String>,
}

/// `GET /search?q=`: full-text search over node titles, descriptions and experiment
/// results, and evidence titles, contents and tags, best match first.
///
/// Every word of `q` must match as a whole word, as written: quotes, `AND`, `NEAR(`, `*`,
/// `-` and `col:` have no special meaning. Accents are ignored, so `Malaga` finds `Málaga`.
/// Punctuation and emoji are not indexed.
///
/// Filters, all optional:
///
/// - `tree_id`: only nodes of this tree and evidence linked to one or more of its nodes. A
///   missing tree gives 404 `tree_not_found`.
/// - `type`: `node` or `evidence`.
/// - `kind`: a node kind or an evidence kind. It must agree with `type` when both are given.
/// - `limit`: 1 to 50 results, 20 by default.
///
/// The body is `{"items": [{"type", "id", "kind", "title", "tree_id", "snippet", "rank"}],
/// "all_matches_ranked"}`. `tree_id` is set for nodes only. `snippet` is a short excerpt of
/// the best-matching field, with the matched words between `**` markers and cuts marked by
/// `…`. `rank` is the FTS5 bm25 score: more negative is better, and items are sorted by it.
/// It orders the items of one response and is not comparable across searches.
///
/// Search ranks at most 1,000 matches that pass the filters, the ones added to the search
/// index last. When the text matches more, `all_matches_ranked` is false and the items are
/// the best of those. When a word is in more than 1,000 items, bm25 weighs the words among
/// the ranked matches only, where each word is in every match, so all words weigh the same.
///
/// The rendered results are reused until a node, an evidence item or a link changes (see
/// [`crate::view_cache`]).
///
/// A `q` that is missing gives 400 `invalid_query`. A `q` that is empty after trimming, or
/// longer than 1,000 characters, gives 400 `invalid_search_query`.
async fn search(
    store: web::Data<dyn Store>,
    cache: web::Data<ViewCache>,
    StrictQuery(query): StrictQuery<SearchParams>,
) -> Result<HttpResponse, ApiError> {
    let params = query;
    let entity = parse_entity(params.entity.as_deref())?;
    let kind = parse_kind(params.kind.as_deref(), entity)?;
    let search = SearchQuery {
        text: params.q,
        tree_id: parse_tree_id(params.tree_id.as_deref())?,
        entity,
        kind,
        limit: parse_limit(params.limit.as_deref())?,
    };

    // The key names the parsed search, so spellings of the same query share one entry.
    let key = ViewKey::new(ViewScope::Search, format!("{search:?}"));
    let load = move |store: &dyn Store| store.search(&search);
    respond_cached(&store, &cache, key, load, |results| json_body(&results)).await
}

fn parse_tree_id(tree_id: Option<&str>) -> Result<Option<TreeId>, ApiError> {
    tree_id
        .map(|text| {
            TreeId::parse(text).map_err(|_| {
                ApiError::InvalidQuery(format!(
                    "`tree_id` is `{text}`, which is not a tree id. Use the id exactly as the \
                     API returned it"
                ))
            })
        })
        .transpose()
}

fn parse_entity(entity: Option<&str>) -> Result<Option<SearchEntity>, ApiError> {
    entity
        .map(|text| {
            SearchEntity::from_name(text).ok_or_else(|| {
                ApiError::InvalidQuery(format!("`type` is `{text}`. Use `node` or `evidence`"))
            })
        })
        .transpose()
}

fn parse_kind(
    kind: Option<&str>,
    entity: Option<SearchEntity>,
) -> Result<Option<SearchKind>, ApiError> {
    let Some(text) = kind else {
        return Ok(None);
    };
    let Some(kind) = SearchKind::from_name(text) else {
        return Err(ApiError::InvalidQuery(format!(
            "`kind` is `{text}`. Use a node kind (outcome, opportunity, solution, experiment) \
             or an evidence kind (interview_snippet, support_ticket, survey_response, metric, \
             document)"
        )));
    };

    match entity {
        Some(entity) if entity != kind.entity() => Err(ApiError::InvalidQuery(format!(
            "`kind` is `{text}`, a kind of {}, but `type` is `{}`. Leave one out or make them \
             agree",
            kind.entity().as_str(),
            entity.as_str()
        ))),
        _ => Ok(Some(kind)),
    }
}

fn parse_limit(limit: Option<&str>) -> Result<u32, ApiError> {
    let Some(text) = limit else {
        return Ok(SEARCH_DEFAULT_LIMIT);
    };

    match text.parse::<u32>() {
        Ok(limit) if (1..=SEARCH_MAX_LIMIT).contains(&limit) => Ok(limit),
        _ => Err(ApiError::InvalidQuery(format!(
            "`limit` is `{text}`. Use a whole number from 1 to {SEARCH_MAX_LIMIT}"
        ))),
    }
}
