//! The floor of the load benchmark: a bare actix-web server that returns `{"status":"ok"}`,
//! the body of `GET /health`, on every path. On `/denied` it returns a copy of the gate's
//! default 401 for a wrong token.
//!
//! The two responses differ only in what they send, so their ratio shows what the size of the
//! 401 costs, apart from the gate's check.
//!
//! It has no service-token gate, no access log and no database, and it runs actix-web's
//! default number of workers, as the `ost-linker` binary does: one per CPU that the process
//! may run on. `scripts/bench.sh` compares `GET /health` of the service with it.
//!
//! Usage: `cargo run --release -p ost-linker-api --example floor [ADDRESS]`. ADDRESS defaults
//! to `127.0.0.1:0`, a free port. The server prints `floor listening on ADDRESS` and serves
//! every path until it gets SIGINT or SIGTERM.

use std::net::TcpListener;

use actix_web::http::header;
use actix_web::{App, HttpResponse, HttpServer, web};

/// The body of the gate's default 401 for a wrong token in `X-Service-Token`.
/// `scripts/bench.sh` checks that it has the length of the gated server's.
const DENIED_BODY: &str = r#"{"type":"about:blank","title":"Unauthorized","status":401,"detail":"The X-Service-Token header does not contain a valid service token. Send a current service token in the X-Service-Token header.","code":"invalid_service_token"}"#;

async fn status() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"status":"ok"}"#)
}

async fn denied() -> HttpResponse {
    HttpResponse::Unauthorized()
        .insert_header((
            header::WWW_AUTHENTICATE,
            r#"ServiceToken header="X-Service-Token""#,
        ))
        .content_type("application/problem+json")
        .body(DENIED_BODY)
}

fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let listener = TcpListener::bind(&address)?;
    println!("floor listening on {}", listener.local_addr()?);

    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(|| {
            App::new()
                .route("/denied", web::get().to(denied))
                .default_service(web::to(status))
        })
        .listen(listener)?
        .run()
        .await
    })
}
