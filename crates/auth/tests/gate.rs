//! Request-level tests of the gate, run through actix-web's test service.

use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::{
    App, HttpMessage, HttpRequest, HttpResponse,
    body::to_bytes,
    dev::ServiceResponse,
    http::{
        Method, StatusCode,
        header::{self, HeaderValue},
    },
    test::{self, TestRequest},
    web,
};
use service_token_gate::{
    ConfigError, DEFAULT_HEADER_NAME, GateConfig, Rejection, RejectionReason, ServiceTokenGate,
    TokenFingerprint,
};

const TOKEN: &str = "first-token-0123456789abcdefghijklmn";
const SECOND_TOKEN: &str = "second-token-0123456789abcdefghijklm";

/// Values of the token header in one request, in order.
type HeaderValues<'a> = &'a [&'a [u8]];

/// Body of a passed request when the gate inserted no fingerprint.
const NO_FINGERPRINT: &str = "no fingerprint";

fn gate_with(tokens: &[&str]) -> ServiceTokenGate {
    let config = GateConfig::with_tokens(tokens.iter().copied()).expect("test tokens are valid");
    ServiceTokenGate::new(config)
}

/// Counts its calls and returns the fingerprint found in the request extensions.
async fn protected(req: HttpRequest, calls: web::Data<AtomicUsize>) -> HttpResponse {
    calls.fetch_add(1, Ordering::SeqCst);
    let fingerprint = req.extensions().get::<TokenFingerprint>().copied();
    match fingerprint {
        Some(fingerprint) => HttpResponse::Ok().body(fingerprint.to_string()),
        None => HttpResponse::Ok().body(NO_FINGERPRINT),
    }
}

/// Response of one request, with the number of times the wrapped handler ran.
struct Outcome {
    status: StatusCode,
    headers: header::HeaderMap,
    body: Vec<u8>,
    handler_calls: usize,
}

impl Outcome {
    fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn body_json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("rejection body is JSON")
    }

    fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// Sends `request` through an app whose every route is wrapped by `gate`.
async fn send(gate: ServiceTokenGate, request: TestRequest) -> Outcome {
    let calls = web::Data::new(AtomicUsize::new(0));
    let app = test::init_service(
        App::new()
            .app_data(calls.clone())
            .wrap(gate)
            .default_service(web::to(protected)),
    )
    .await;

    let response: ServiceResponse<_> = test::call_service(&app, request.to_request()).await;
    let status = response.status();
    let headers = response.headers().clone();
    let body = to_bytes(response.into_body())
        .await
        .expect("body can be read")
        .to_vec();

    Outcome {
        status,
        headers,
        body,
        handler_calls: calls.load(Ordering::SeqCst),
    }
}

fn request_with_values(values: HeaderValues) -> TestRequest {
    let mut request = TestRequest::get().uri("/internal/jobs");
    for value in values {
        let value = HeaderValue::from_bytes(value).expect("test header value is valid");
        request = request.append_header((DEFAULT_HEADER_NAME, value));
    }
    request
}

fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|window| window == needle)
}

#[actix_rt::test]
async fn gate_decides_by_header_values() {
    let too_long = format!("{TOKEN}x");
    let with_trailing_space = format!("{TOKEN} ");
    let with_tab = TOKEN.replacen('-', "\t", 1);
    let with_space = TOKEN.replacen('-', " ", 1);

    // (case, header values sent, expected code, or None when the request passes)
    let cases: &[(&str, HeaderValues, Option<&str>)] = &[
        ("right token", &[TOKEN.as_bytes()], None),
        ("second token", &[SECOND_TOKEN.as_bytes()], None),
        ("no header", &[], Some("missing_service_token")),
        ("empty value", &[b""], Some("invalid_service_token")),
        (
            "wrong token",
            &[b"not-the-token"],
            Some("invalid_service_token"),
        ),
        (
            "prefix of token",
            &[&TOKEN.as_bytes()[..10]],
            Some("invalid_service_token"),
        ),
        (
            "token plus one char",
            &[too_long.as_bytes()],
            Some("invalid_service_token"),
        ),
        (
            "non-UTF-8 bytes",
            &[b"\xff\xfe"],
            Some("invalid_service_token"),
        ),
        (
            "tab inside",
            &[with_tab.as_bytes()],
            Some("invalid_service_token"),
        ),
        (
            "space inside",
            &[with_space.as_bytes()],
            Some("invalid_service_token"),
        ),
        (
            "trailing space",
            &[with_trailing_space.as_bytes()],
            Some("invalid_service_token"),
        ),
        (
            "both tokens joined",
            &[b"first,second"],
            Some("invalid_service_token"),
        ),
        (
            "right token twice",
            &[TOKEN.as_bytes(), TOKEN.as_bytes()],
            Some("invalid_service_token"),
        ),
        (
            "wrong then right",
            &[b"wrong", TOKEN.as_bytes()],
            Some("invalid_service_token"),
        ),
    ];

    for (case, values, expected_code) in cases {
        let outcome = send(
            gate_with(&[TOKEN, SECOND_TOKEN]),
            request_with_values(values),
        )
        .await;

        let Some(expected_code) = expected_code else {
            assert_eq!(outcome.status, StatusCode::OK, "{case}: status");
            assert_eq!(outcome.handler_calls, 1, "{case}: handler calls");
            continue;
        };

        assert_eq!(outcome.status, StatusCode::UNAUTHORIZED, "{case}: status");
        assert_eq!(outcome.handler_calls, 0, "{case}: handler must not run");
        assert_eq!(
            outcome.header(header::CONTENT_TYPE),
            Some("application/problem+json"),
            "{case}: content type"
        );
        assert_eq!(
            outcome.header(header::WWW_AUTHENTICATE),
            Some("ServiceToken header=\"X-Service-Token\""),
            "{case}: WWW-Authenticate"
        );
        assert_eq!(outcome.body_json()["code"], *expected_code, "{case}: code");
        for value in *values {
            assert!(
                !contains_bytes(&outcome.body, value),
                "{case}: body must not contain the presented value"
            );
        }
    }
}

#[actix_rt::test]
async fn gate_rejection_body_is_problem_details() {
    let outcome = send(gate_with(&[TOKEN]), request_with_values(&[])).await;

    let expected = serde_json::json!({
        "type": "about:blank",
        "title": "Unauthorized",
        "status": 401,
        "detail": "The request has no X-Service-Token header. \
                   Send the service token in the X-Service-Token header.",
        "code": "missing_service_token",
    });
    assert_eq!(outcome.body_json(), expected);
}

#[actix_rt::test]
async fn gate_detail_names_each_reason() {
    // (case, header values sent, phrase expected in the detail)
    let cases: &[(&str, HeaderValues, &str)] = &[
        (
            "duplicated",
            &[TOKEN.as_bytes(), TOKEN.as_bytes()],
            "more than one X-Service-Token",
        ),
        ("empty", &[b""], "X-Service-Token header is empty"),
        ("not visible ASCII", &[b"a b"], "other than visible ASCII"),
        (
            "mismatch",
            &[b"wrong"],
            "does not contain a valid service token",
        ),
    ];

    for (case, values, phrase) in cases {
        let outcome = send(gate_with(&[TOKEN]), request_with_values(values)).await;

        let detail = outcome.body_json()["detail"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(detail.contains(phrase), "{case}: detail {detail:?}");
    }
}

#[actix_rt::test]
async fn gate_inserts_fingerprint_of_matched_token() {
    let gate = gate_with(&[TOKEN, SECOND_TOKEN]);
    let fingerprints = gate.fingerprints();

    let first = send(gate.clone(), request_with_values(&[TOKEN.as_bytes()])).await;
    let second = send(gate, request_with_values(&[SECOND_TOKEN.as_bytes()])).await;

    assert_eq!(
        first.body_text(),
        fingerprints[0].to_string(),
        "first token"
    );
    assert_eq!(
        second.body_text(),
        fingerprints[1].to_string(),
        "second token"
    );
    assert_ne!(fingerprints[0], fingerprints[1], "fingerprints differ");
}

#[actix_rt::test]
async fn matching_token_agrees_with_middleware() {
    let gate = gate_with(&[TOKEN, SECOND_TOKEN]);
    let with_space = TOKEN.replacen('-', " ", 1);

    // (case, single header value sent)
    let cases: &[(&str, &[u8])] = &[
        ("right token", TOKEN.as_bytes()),
        ("second token", SECOND_TOKEN.as_bytes()),
        ("wrong token", b"not-the-token"),
        ("prefix of token", &TOKEN.as_bytes()[..10]),
        ("space inside", with_space.as_bytes()),
        ("non-UTF-8 bytes", b"\xff\xfe"),
        ("empty value", b""),
    ];
    for (case, value) in cases {
        let outcome = send(gate.clone(), request_with_values(&[value])).await;
        let direct = gate.matching_token(value);

        match direct {
            Some(fingerprint) => {
                assert_eq!(outcome.status, StatusCode::OK, "{case}: status");
                assert_eq!(
                    outcome.body_text(),
                    fingerprint.to_string(),
                    "{case}: fingerprint"
                );
            }
            None => assert_eq!(outcome.status, StatusCode::UNAUTHORIZED, "{case}: status"),
        }
    }
}

#[actix_rt::test]
async fn gate_disabled_passes_everything() {
    let gate = ServiceTokenGate::new(GateConfig::disabled());
    assert!(!gate.is_enabled());

    // (case, header values sent)
    let cases: &[(&str, HeaderValues)] = &[
        ("no header", &[]),
        ("any value", &[b"anything"]),
        ("duplicated", &[b"a", b"b"]),
    ];
    for (case, values) in cases {
        let outcome = send(gate.clone(), request_with_values(values)).await;

        assert_eq!(outcome.status, StatusCode::OK, "{case}: status");
        assert_eq!(outcome.handler_calls, 1, "{case}: handler calls");
        assert_eq!(
            outcome.body_text(),
            NO_FINGERPRINT,
            "{case}: no fingerprint inserted"
        );
    }
}

#[actix_rt::test]
async fn gate_matches_header_name_in_any_case() {
    for name in ["x-service-token", "X-SERVICE-TOKEN", "x-SeRvIcE-tOkEn"] {
        let request = TestRequest::get().insert_header((name, TOKEN));

        let outcome = send(gate_with(&[TOKEN]), request).await;

        assert_eq!(outcome.status, StatusCode::OK, "header name {name}");
    }
}

#[actix_rt::test]
async fn gate_checks_every_method() {
    let methods = [
        Method::GET,
        Method::POST,
        Method::DELETE,
        Method::OPTIONS,
        Method::HEAD,
    ];

    for method in methods {
        let without_token = TestRequest::default().method(method.clone());
        let with_token = TestRequest::default()
            .method(method.clone())
            .insert_header((DEFAULT_HEADER_NAME, TOKEN));

        let rejected = send(gate_with(&[TOKEN]), without_token).await;
        let passed = send(gate_with(&[TOKEN]), with_token).await;

        assert_eq!(
            rejected.status,
            StatusCode::UNAUTHORIZED,
            "{method} without token"
        );
        assert_eq!(
            rejected.handler_calls, 0,
            "{method} without token: handler calls"
        );
        assert_eq!(passed.status, StatusCode::OK, "{method} with token");
        assert_eq!(
            passed.handler_calls, 1,
            "{method} with token: handler calls"
        );
    }
}

#[actix_rt::test]
async fn gate_with_custom_header_name() {
    let gate = gate_with(&[TOKEN])
        .header_name("X-Inventory-Token")
        .expect("header name is valid");

    let default_header = TestRequest::get().insert_header((DEFAULT_HEADER_NAME, TOKEN));
    let custom_header = TestRequest::get().insert_header(("X-Inventory-Token", TOKEN));
    let rejected = send(gate.clone(), default_header).await;
    let passed = send(gate, custom_header).await;

    assert_eq!(
        rejected.status,
        StatusCode::UNAUTHORIZED,
        "default header name"
    );
    assert_eq!(rejected.body_json()["code"], "missing_service_token");
    assert_eq!(
        rejected.header(header::WWW_AUTHENTICATE),
        Some("ServiceToken header=\"X-Inventory-Token\""),
    );
    let detail = rejected.body_json()["detail"].clone();
    assert!(
        detail
            .as_str()
            .is_some_and(|text| text.contains("X-Inventory-Token")),
        "detail names the custom header: {detail}"
    );
    assert_eq!(passed.status, StatusCode::OK, "custom header name");
}

#[test]
fn gate_rejects_invalid_header_name() {
    for name in ["", "X Service Token", "X-Token:", "X-Tøken"] {
        let result = gate_with(&[TOKEN]).header_name(name);

        assert!(
            matches!(result, Err(ConfigError::InvalidHeaderName { .. })),
            "header name {name:?}"
        );
    }
}

#[actix_rt::test]
async fn gate_uses_custom_rejection_handler() {
    let gate = gate_with(&[TOKEN]).rejection_handler(|req: &HttpRequest, rejection: &Rejection| {
        HttpResponse::Forbidden()
            .insert_header((
                header::WWW_AUTHENTICATE,
                rejection.www_authenticate().clone(),
            ))
            .json(serde_json::json!({
                "error": rejection.code(),
                "mismatch": rejection.reason() == RejectionReason::Mismatch,
                "path": req.path(),
                "header": rejection.header_name(),
            }))
    });

    let request = request_with_values(&[b"wrong-token"]);
    let outcome = send(gate, request).await;

    assert_eq!(outcome.status, StatusCode::FORBIDDEN);
    assert_eq!(outcome.handler_calls, 0, "handler must not run");
    assert_eq!(
        outcome.body_json(),
        serde_json::json!({
            "error": "invalid_service_token",
            "mismatch": true,
            "path": "/internal/jobs",
            "header": "X-Service-Token",
        })
    );
    assert_eq!(
        outcome.header(header::WWW_AUTHENTICATE),
        Some("ServiceToken header=\"X-Service-Token\"")
    );
}

#[actix_rt::test]
async fn gate_wraps_scope_only() {
    let calls = web::Data::new(AtomicUsize::new(0));
    let app = test::init_service(
        App::new()
            .app_data(calls.clone())
            .route("/health", web::get().to(HttpResponse::Ok))
            .service(
                web::scope("/internal")
                    .wrap(gate_with(&[TOKEN]))
                    .default_service(web::to(protected)),
            ),
    )
    .await;

    let health = test::call_service(&app, TestRequest::get().uri("/health").to_request()).await;
    let internal =
        test::call_service(&app, TestRequest::get().uri("/internal/jobs").to_request()).await;

    assert_eq!(health.status(), StatusCode::OK, "route outside the scope");
    assert_eq!(
        internal.status(),
        StatusCode::UNAUTHORIZED,
        "route inside the scope"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0, "gated handler calls");
}

#[test]
fn gate_is_clone_send_sync() {
    fn assert_shareable<T: Clone + Send + Sync + 'static>() {}

    assert_shareable::<ServiceTokenGate>();
}

#[test]
fn gate_debug_hides_tokens() {
    let config = GateConfig::with_tokens([TOKEN]).expect("test token is valid");
    let config_debug = format!("{config:?}");
    let gate_debug = format!("{:?}", ServiceTokenGate::new(config));

    assert!(
        !config_debug.contains(TOKEN),
        "GateConfig debug: {config_debug}"
    );
    assert!(
        !gate_debug.contains(TOKEN),
        "ServiceTokenGate debug: {gate_debug}"
    );
}
