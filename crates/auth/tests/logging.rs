//! Log tests. They install a capturing logger, which is global to the process, so this file
//! contains a single test.

use std::{
    net::SocketAddr,
    sync::{Mutex, PoisonError},
    time::Duration,
};

use actix_web::{
    App, HttpResponse,
    http::StatusCode,
    test::{self, TestRequest},
    web,
};
use log::{Level, LevelFilter, Log, Metadata, Record};
use service_token_gate::{DEFAULT_HEADER_NAME, GateConfig, ServiceTokenGate};

const LONG_TOKEN: &str = "long-token-0123456789abcdefghijklmn";
const SHORT_TOKEN: &str = "short-token";
const PRESENTED_VALUE: &str = "presented-wrong-value";
const UNSET_VAR: &str = "LOGGING_TEST_SERVICE_TOKEN";

/// Records the lines that this crate logs.
struct CaptureLogger {
    lines: Mutex<Vec<(Level, String)>>,
}

static LOGGER: CaptureLogger = CaptureLogger {
    lines: Mutex::new(Vec::new()),
};

impl Log for CaptureLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target().starts_with("service_token_gate")
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            let line = (record.level(), record.args().to_string());
            self.lines
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(line);
        }
    }

    fn flush(&self) {}
}

/// Returns and clears the captured lines.
fn take_lines() -> Vec<(Level, String)> {
    std::mem::take(&mut *LOGGER.lines.lock().unwrap_or_else(PoisonError::into_inner))
}

fn assert_no_secret(lines: &[(Level, String)], secrets: &[&str]) {
    for (_, line) in lines {
        for secret in secrets {
            assert!(!line.contains(secret), "log line contains a secret: {line}");
        }
    }
}

#[actix_rt::test]
async fn gate_logs_startup_and_limited_rejections() {
    log::set_logger(&LOGGER).expect("no other logger is installed");
    log::set_max_level(LevelFilter::Info);

    // Disabled gate: one warning that names the variable.
    let config = GateConfig::from_lookup(UNSET_VAR, |_| None).expect("unset variable is valid");
    let _disabled = ServiceTokenGate::new(config);
    let lines = take_lines();
    assert_eq!(lines.len(), 1, "disabled gate logs one line: {lines:?}");
    assert_eq!(lines[0].0, Level::Warn, "disabled gate line level");
    assert!(
        lines[0].1.contains(UNSET_VAR),
        "disabled gate line: {}",
        lines[0].1
    );

    // Enabled gate: fingerprints at info, a warning for the short token, no token.
    let config = GateConfig::with_tokens([LONG_TOKEN, SHORT_TOKEN]).expect("tokens are valid");
    let fingerprints = config.fingerprints();
    let gate = ServiceTokenGate::new(config).rejection_log_limit(2, Duration::from_secs(3600));
    let lines = take_lines();
    for fingerprint in &fingerprints {
        let fingerprint = fingerprint.to_string();
        assert!(
            lines
                .iter()
                .any(|(level, line)| *level == Level::Info && line.contains(&fingerprint)),
            "info line with fingerprint {fingerprint}: {lines:?}"
        );
    }
    let short_warnings: Vec<_> = lines
        .iter()
        .filter(|(level, line)| *level == Level::Warn && line.contains("shorter than 32"))
        .collect();
    assert_eq!(short_warnings.len(), 1, "short token warnings: {lines:?}");
    assert!(
        short_warnings[0].1.contains(&fingerprints[1].to_string()),
        "short token warning names its fingerprint: {}",
        short_warnings[0].1
    );
    assert_no_secret(&lines, &[LONG_TOKEN, SHORT_TOKEN]);

    // Rejections: two lines within the limit, then silence.
    let app = test::init_service(
        App::new()
            .wrap(gate)
            .default_service(web::to(HttpResponse::Ok)),
    )
    .await;
    let peer: SocketAddr = "192.0.2.7:4321".parse().expect("address is valid");
    for _ in 0..5 {
        let request = TestRequest::post()
            .uri("/internal/jobs?secret=query")
            .peer_addr(peer)
            .insert_header((DEFAULT_HEADER_NAME, PRESENTED_VALUE))
            .to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "wrong token rejected"
        );
    }

    let lines = take_lines();
    assert_eq!(
        lines.len(),
        2,
        "rejection lines within the limit: {lines:?}"
    );
    for (level, line) in &lines {
        assert_eq!(*level, Level::Warn, "rejection line level: {line}");
        assert!(
            line.contains("POST /internal/jobs"),
            "method and path: {line}"
        );
        assert!(line.contains("192.0.2.7:4321"), "peer address: {line}");
        assert!(line.contains("invalid: mismatch"), "reason: {line}");
        assert!(
            !line.contains("secret=query"),
            "query string not logged: {line}"
        );
    }
    assert_no_secret(&lines, &[PRESENTED_VALUE, LONG_TOKEN, SHORT_TOKEN]);
}
