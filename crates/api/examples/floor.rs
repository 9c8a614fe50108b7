//! The floor of the load benchmark: a bare actix-web server with one handler that returns
//! `{"status":"ok"}`, the body of `GET /health`.
//!
//! It has no service-token gate, no access log and no database, and it runs actix-web's
//! default number of workers, as the `ost-linker` binary does: one per CPU that the process
//! may run on. `scripts/bench.sh` compares `GET /health` of the service with it.
//!
//! Usage: `cargo run --release -p ost-linker-api --example floor [ADDRESS]`. ADDRESS defaults
//! to `127.0.0.1:0`, a free port. The server prints `floor listening on ADDRESS` and serves
//! every path until it gets SIGINT or SIGTERM.

use std::net::TcpListener;

use actix_web::{App, HttpResponse, HttpServer, web};

async fn status() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"status":"ok"}"#)
}

fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let listener = TcpListener::bind(&address)?;
    println!("floor listening on {}", listener.local_addr()?);

    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(|| App::new().default_service(web::to(status)))
            .listen(listener)?
            .run()
            .await
    })
}
