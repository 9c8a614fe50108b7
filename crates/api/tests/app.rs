//! The application in process, through actix's test utilities: wiring, the gate's place in
//! front of the routes, the methods of each route, and the body limit.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{App, test};
use ost_linker_api::AppState;
use ost_linker_core::SqliteStore;
use serde_json::{Value, json};
use service_token_gate::{GateConfig, ServiceTokenGate};

const TOKEN: &str = "app-test-token-4f9a2c7e1b8d3f6a0c5e9b2d7f1a";

fn state(gate: GateConfig) -> AppState {
    AppState {
        store: Arc::new(SqliteStore::open_in_memory().expect("in-memory store")),
        gate: ServiceTokenGate::new(gate),
        body_limit: 1024,
        view_cache: Arc::default(),
    }
}

fn gated() -> AppState {
    state(GateConfig::with_tokens([TOKEN]).expect("token"))
}

fn open() -> AppState {
    state(GateConfig::disabled())
}

#[actix_rt::test]
async fn health_is_open_behind_gate() {
    let app =
        test::init_service(App::new().configure(ost_linker_api::routes::configure(gated()))).await;

    let response =
        test::call_service(&app, test::TestRequest::get().uri("/health").to_request()).await;

    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = test::read_body_json(response).await;
    assert_eq!(body, json!({ "status": "ok" }));
}

#[actix_rt::test]
async fn gate_answers_before_routing() {
    let app =
        test::init_service(App::new().configure(ost_linker_api::routes::configure(gated()))).await;

    for (method, uri) in [
        ("GET", "/trees"),
        ("GET", "/no/such/route"),
        ("PUT", "/trees"),
        ("POST", "/health"),
    ] {
        let request = test::TestRequest::default()
            .method(method.parse().expect("method"))
            .uri(uri)
            .to_request();

        let response = test::call_service(&app, request).await;

        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {uri}"
        );
        let body: Value = test::read_body_json(response).await;
        assert_eq!(body["code"], "missing_service_token", "{method} {uri}");
    }
}

#[actix_rt::test]
async fn body_limit_applies_to_json() {
    let app =
        test::init_service(App::new().configure(ost_linker_api::routes::configure(open()))).await;
    let body = json!({ "title": "x".repeat(2048), "outcome": { "title": "o" } });

    let request = test::TestRequest::post()
        .uri("/trees")
        .set_json(&body)
        .to_request();
    let response = test::call_service(&app, request).await;

    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let problem: Value = test::read_body_json(response).await;
    assert_eq!(problem["code"], "payload_too_large");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("1024 bytes"))
    );
}

/// Returns the titles of the outline's nodes below the root.
fn child_titles(outline: &Value) -> Vec<String> {
    outline["root"]["children"]
        .as_array()
        .map(|children| {
            children
                .iter()
                .map(|child| child["title"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[actix_rt::test]
async fn outline_follows_tree_changes() {
    let app =
        test::init_service(App::new().configure(ost_linker_api::routes::configure(open()))).await;
    let create_tree = test::TestRequest::post().uri("/trees").set_json(json!({
        "title": "Cached outline",
        "outcome": { "title": "Raise retention" }
    }));
    let tree: Value = test::call_and_read_body_json(&app, create_tree.to_request()).await;
    let tree_id = tree["id"].as_str().expect("tree id").to_owned();
    let outline_uri = format!("/trees/{tree_id}/outline");
    let get_outline = || test::TestRequest::get().uri(&outline_uri).to_request();

    let empty: Value = test::call_and_read_body_json(&app, get_outline()).await;
    let again: Value = test::call_and_read_body_json(&app, get_outline()).await;
    let add_node = test::TestRequest::post()
        .uri(&format!("/trees/{tree_id}/nodes"))
        .set_json(json!({
            "parent_id": tree["root_node_id"],
            "kind": "opportunity",
            "title": "Setup is slow"
        }));
    let created = test::call_service(&app, add_node.to_request()).await;
    let status = created.status();
    let changed: Value = test::call_and_read_body_json(&app, get_outline()).await;

    assert_eq!(child_titles(&empty), Vec::<String>::new());
    assert_eq!(again, empty);
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(child_titles(&changed), ["Setup is slow"]);
}

fn item_titles(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item["title"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[actix_rt::test]
async fn evidence_pages_and_searches_follow_changes() {
    let app =
        test::init_service(App::new().configure(ost_linker_api::routes::configure(open()))).await;
    let get = |uri: &str| test::TestRequest::get().uri(uri).to_request();

    let empty_page: Value = test::call_and_read_body_json(&app, get("/evidence")).await;
    let empty_search: Value = test::call_and_read_body_json(&app, get("/search?q=quokka")).await;
    let add_evidence = test::TestRequest::post().uri("/evidence").set_json(json!({
        "kind": "document",
        "title": "Quokka census"
    }));
    let added = test::call_service(&app, add_evidence.to_request()).await;
    let added_status = added.status();
    let one_page: Value = test::call_and_read_body_json(&app, get("/evidence")).await;
    let one_hit: Value = test::call_and_read_body_json(&app, get("/search?q=quokka")).await;
    let create_tree = test::TestRequest::post().uri("/trees").set_json(json!({
        "title": "Wildlife",
        "outcome": { "title": "Count every quokka" }
    }));
    let created = test::call_service(&app, create_tree.to_request()).await;
    let created_status = created.status();
    let two_hits: Value = test::call_and_read_body_json(&app, get("/search?q=quokka")).await;

    assert_eq!(item_titles(&empty_page), Vec::<String>::new());
    assert_eq!(item_titles(&empty_search), Vec::<String>::new());
    assert_eq!(added_status, StatusCode::CREATED);
    assert_eq!(item_titles(&one_page), ["Quokka census"]);
    assert_eq!(item_titles(&one_hit), ["Quokka census"]);
    assert_eq!(created_status, StatusCode::CREATED);
    let mut titles = item_titles(&two_hits);
    titles.sort();
    assert_eq!(titles, ["Count every quokka", "Quokka census"]);
}

#[actix_rt::test]
async fn routes_answer_only_their_methods() {
    let app =
        test::init_service(App::new().configure(ost_linker_api::routes::configure(open()))).await;
    let tree = "/trees/tree_01KDVDNA00HSNPE2ACXA6A83DH";
    let resources = [
        ("/trees".to_owned(), "GET, POST"),
        (tree.to_owned(), "GET, PATCH, DELETE"),
        (format!("{tree}/nodes"), "GET, POST"),
        (format!("{tree}/history"), "GET"),
        (format!("{tree}/outline"), "GET"),
        (format!("{tree}/gaps"), "GET"),
        (format!("{tree}/export"), "GET"),
        ("/trees/import".to_owned(), "POST"),
        (
            "/nodes/node_01KDVDNA00HSNPE2ACXA6A83DH".to_owned(),
            "GET, PATCH, DELETE",
        ),
        (
            "/nodes/node_01KDVDNA00HSNPE2ACXA6A83DH/links".to_owned(),
            "GET, POST",
        ),
        ("/evidence".to_owned(), "GET, POST"),
        (
            "/evidence/evid_01KDVDNA00HSNPE2ACXA6A83DH".to_owned(),
            "GET, PATCH, DELETE",
        ),
        (
            "/evidence/evid_01KDVDNA00HSNPE2ACXA6A83DH/links".to_owned(),
            "GET",
        ),
        (
            "/links/link_01KDVDNA00HSNPE2ACXA6A83DH".to_owned(),
            "GET, PATCH, DELETE",
        ),
        ("/search".to_owned(), "GET"),
        ("/health".to_owned(), "GET, HEAD"),
    ];

    for (path, allow) in &resources {
        for method in ["GET", "HEAD", "POST", "PATCH", "DELETE", "PUT"] {
            let request = test::TestRequest::default()
                .method(method.parse().expect("method"))
                .uri(path)
                .to_request();

            let response = test::call_service(&app, request).await;

            let allowed = allow.split(", ").any(|name| name == method);
            if allowed {
                assert_ne!(
                    response.status(),
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path}"
                );
            } else {
                assert_eq!(
                    response.status(),
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path}"
                );
                let header = response
                    .headers()
                    .get("allow")
                    .and_then(|value| value.to_str().ok());
                assert_eq!(header, Some(*allow), "{method} {path}");
            }
        }
    }
}
