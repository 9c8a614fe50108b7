//! A small inventory service whose `/inventory` routes require the `X-Inventory-Token` header.
//!
//! ```sh
//! INVENTORY_SERVICE_TOKEN=change-me-to-a-long-random-token-of-32-chars \
//!     cargo run -p service-token-gate --example sibling_service
//! curl -i http://127.0.0.1:8081/inventory/items
//! curl -i -H 'X-Inventory-Token: change-me-to-a-long-random-token-of-32-chars' \
//!     http://127.0.0.1:8081/inventory/items
//! ```
//!
//! `INVENTORY_ADDR` sets the listen address, which defaults to `127.0.0.1:8081`. Without
//! `INVENTORY_SERVICE_TOKEN` or `INVENTORY_SERVICE_TOKEN_FILE` the routes are open, and the
//! service logs a warning at start-up.

use actix_web::{
    App, HttpMessage, HttpRequest, HttpResponse, HttpServer, http::header, middleware::Logger, web,
};
use service_token_gate::{ConfigError, Rejection, ServiceTokenGate, TokenFingerprint};

const DEFAULT_ADDR: &str = "127.0.0.1:8081";

/// Returns the stock list and the fingerprint of the token the caller used.
async fn list_items(req: HttpRequest) -> HttpResponse {
    let token = req
        .extensions()
        .get::<TokenFingerprint>()
        .map(ToString::to_string);

    HttpResponse::Ok().json(serde_json::json!({
        "items": [{ "sku": "bolt-m6", "count": 120 }],
        "token_fingerprint": token,
    }))
}

/// Builds this service's own error shape in place of the default problem details.
fn reject(_req: &HttpRequest, rejection: &Rejection) -> HttpResponse {
    HttpResponse::build(rejection.status())
        .insert_header((
            header::WWW_AUTHENTICATE,
            rejection.www_authenticate().clone(),
        ))
        .json(serde_json::json!({
            "error": { "code": rejection.code(), "message": rejection.detail() },
        }))
}

/// Reads `INVENTORY_SERVICE_TOKEN` or `INVENTORY_SERVICE_TOKEN_FILE` and builds the gate.
fn build_gate() -> Result<ServiceTokenGate, ConfigError> {
    let gate = ServiceTokenGate::from_env("INVENTORY_SERVICE_TOKEN")?
        .header_name("X-Inventory-Token")?
        .rejection_handler(reject);
    Ok(gate)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();

    let addr = std::env::var("INVENTORY_ADDR").unwrap_or_else(|_| DEFAULT_ADDR.to_owned());
    let gate = match build_gate() {
        Ok(gate) => gate,
        Err(error) => {
            log::error!("invalid service token configuration: {error}");
            std::process::exit(1);
        }
    };

    log::info!("inventory service listening on http://{addr}");
    HttpServer::new(move || {
        App::new()
            // Unlike Logger::default, this format copies no request header into the log.
            .wrap(Logger::new("%a \"%r\" %s %b %T"))
            .route("/health", web::get().to(HttpResponse::Ok))
            .service(
                web::scope("/inventory")
                    .wrap(gate.clone())
                    .route("/items", web::get().to(list_items)),
            )
    })
    .workers(2)
    .bind(addr)?
    .run()
    .await
}
