//! The application in process, through actix's test utilities: wiring, the gate's place in
//! front of the routes, and the body limit.

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
    }
}

fn gated() -> AppState {
    state(GateConfig::with_tokens([TOKEN]).expect("token"))
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
    let app = test::init_service(
        App::new().configure(ost_linker_api::routes::configure(state(
            GateConfig::disabled(),
        ))),
    )
    .await;
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
