//! What a write request carries besides its body: the actor, an idempotency key and an
//! `If-Match` version, and the replay of stored responses for retried creates.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use ost_linker_core::{Error as DomainError, IdempotencyKey, Store, StoredResponse, WriteContext};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::routes::blocking;

/// The header that names the person the caller acts for.
pub const ACTOR_HEADER: &str = "x-actor";
/// The header that makes a create request safe to retry.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";
/// The header set on a response replayed for a retried idempotency key.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// The maximum length of an `X-Actor` value, in characters.
const ACTOR_MAX_CHARS: usize = 200;
/// The maximum length of an idempotency key, in bytes.
const IDEMPOTENCY_KEY_MAX_BYTES: usize = 255;

/// The write headers of a request: `X-Actor`, `Idempotency-Key` and `If-Match`.
#[derive(Debug, Clone, Default)]
pub struct WriteHeaders {
    actor: Option<String>,
    idempotency_key: Option<String>,
    expected_version: Option<u64>,
    request_line: String,
}

impl WriteHeaders {
    /// Returns the version named by `If-Match`, or `None` when the header is absent or `*`.
    pub fn expected_version(&self) -> Option<u64> {
        self.expected_version
    }

    /// Returns the context of a write without a body.
    pub fn context(&self) -> WriteContext {
        WriteContext {
            actor: self.actor.clone(),
            idempotency: None,
        }
    }

    /// Returns the context of a create, whose idempotency key, if any, is bound to a digest
    /// of the request line and `body`.
    pub fn create_context(&self, body: &serde_json::Value) -> WriteContext {
        let idempotency = self.idempotency_key.as_ref().map(|key| IdempotencyKey {
            key: key.clone(),
            request_digest: request_digest(&self.request_line, body),
        });

        WriteContext {
            actor: self.actor.clone(),
            idempotency,
        }
    }
}

/// Hashes the request line with the body re-serialized, so white space and member order in
/// the body do not make a retry look like a different request.
fn request_digest(request_line: &str, body: &serde_json::Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(request_line.as_bytes());
    hasher.update(b"\n");
    hasher.update(body.to_string().as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

impl FromRequest for WriteHeaders {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(parse_headers(req))
    }
}

fn parse_headers(req: &HttpRequest) -> Result<WriteHeaders, ApiError> {
    let headers = req.headers();

    Ok(WriteHeaders {
        actor: single(headers, ACTOR_HEADER)?
            .map(parse_actor)
            .transpose()?,
        idempotency_key: single(headers, IDEMPOTENCY_HEADER)?
            .map(parse_idempotency_key)
            .transpose()?,
        expected_version: single(headers, header::IF_MATCH.as_str())?
            .map(parse_if_match)
            .transpose()?
            .flatten(),
        request_line: format!("{} {}", req.method(), req.uri()),
    })
}

/// Returns a header that may appear at most once.
fn single<'a>(
    headers: &'a HeaderMap,
    name: &'static str,
) -> Result<Option<&'a HeaderValue>, ApiError> {
    let mut values = headers.get_all(name);
    let first = values.next();
    if values.next().is_some() {
        return Err(ApiError::InvalidHeader {
            header: name,
            detail: "it is sent more than once: send it once".to_owned(),
        });
    }

    Ok(first)
}

fn parse_actor(value: &HeaderValue) -> Result<String, ApiError> {
    let invalid = |detail: &str| ApiError::InvalidHeader {
        header: ACTOR_HEADER,
        detail: detail.to_owned(),
    };
    let text = std::str::from_utf8(value.as_bytes())
        .map_err(|_| invalid("it is not UTF-8 text: send the person's name or id as UTF-8"))?
        .trim();
    if text.is_empty() {
        return Err(invalid(
            "it is empty: name the person, or leave the header out",
        ));
    }
    if text.chars().count() > ACTOR_MAX_CHARS || text.chars().any(char::is_control) {
        return Err(invalid(
            "it is longer than 200 characters or holds control characters: shorten it",
        ));
    }

    Ok(text.to_owned())
}

fn parse_idempotency_key(value: &HeaderValue) -> Result<String, ApiError> {
    let bytes = value.as_bytes();
    let valid = !bytes.is_empty()
        && bytes.len() <= IDEMPOTENCY_KEY_MAX_BYTES
        && bytes.iter().all(u8::is_ascii_graphic);
    if !valid {
        return Err(ApiError::InvalidHeader {
            header: IDEMPOTENCY_HEADER,
            detail: "it must be 1 to 255 visible ASCII characters, such as a UUID".to_owned(),
        });
    }

    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// Parses `If-Match`: `*` matches any version, and `"N"` the version N.
fn parse_if_match(value: &HeaderValue) -> Result<Option<u64>, ApiError> {
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }

    text.strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .and_then(|version| version.parse().ok())
        .map(Some)
        .ok_or_else(|| ApiError::InvalidHeader {
            header: "if-match",
            detail: format!(
                "`{}` is not an ETag this API sends: send the ETag from a GET unchanged, such as \"3\", or *",
                String::from_utf8_lossy(value.as_bytes())
            ),
        })
}

/// Returns the `ETag` value of an entity version.
pub fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

/// Returns the path of the resource an id names, from its prefix.
pub fn location_of(id: &str) -> Option<String> {
    let collection = [
        ("tree_", "trees"),
        ("node_", "nodes"),
        ("evid_", "evidence"),
        ("link_", "links"),
    ]
    .into_iter()
    .find_map(|(prefix, collection)| id.starts_with(prefix).then_some(collection))?;

    Some(format!("/{collection}/{id}"))
}

/// Runs a create and responds 201 with `Location` and `ETag`, or replays the stored response
/// when the request repeats an idempotency key with the same request.
///
/// # Errors
///
/// Returns [`ApiError::IdempotencyKeyReused`] when the key was first used with another
/// request, and the create's own errors otherwise.
pub async fn respond_created<T, F>(
    store: &web::Data<dyn Store>,
    ctx: WriteContext,
    create: F,
) -> Result<HttpResponse, ApiError>
where
    T: Serialize + Send + 'static,
    F: FnOnce(&dyn Store, &WriteContext) -> ost_linker_core::Result<T> + Send + 'static,
{
    if let Some(replay) = replay(store, &ctx).await? {
        return Ok(replay);
    }

    let key_ctx = ctx.clone();
    match blocking(store, move |store| create(store, &key_ctx)).await {
        Ok(created) => {
            let body = serde_json::to_string(&created).unwrap_or_default();
            Ok(created_response(StatusCode::CREATED, body, false))
        }
        // A concurrent request with the same key committed first, so respond as its retry. The
        // stored response is there unless the other request's transaction rolled back since.
        Err(ApiError::Domain(taken @ DomainError::IdempotencyKeyTaken { .. })) => {
            replay(store, &ctx).await?.ok_or(ApiError::Domain(taken))
        }
        Err(err) => Err(err),
    }
}

async fn replay(
    store: &web::Data<dyn Store>,
    ctx: &WriteContext,
) -> Result<Option<HttpResponse>, ApiError> {
    let Some(key) = ctx.idempotency.clone() else {
        return Ok(None);
    };

    let lookup_key = key.key.clone();
    let Some(stored) =
        blocking(store, move |store| store.find_stored_response(&lookup_key)).await?
    else {
        return Ok(None);
    };
    if stored.request_digest != key.request_digest {
        return Err(ApiError::IdempotencyKeyReused { key: key.key });
    }

    Ok(Some(replayed_response(&stored)))
}

/// Returns a response with the stored status and the stored body, byte for byte.
fn replayed_response(stored: &StoredResponse) -> HttpResponse {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::CREATED);
    created_response(status, stored.body.clone(), true)
}

/// Returns a response with a JSON body, with `Location` and `ETag` taken from its `id` and `version`.
fn created_response(status: StatusCode, body: String, replayed: bool) -> HttpResponse {
    #[derive(serde::Deserialize)]
    struct Identity {
        id: Option<String>,
        version: Option<u64>,
    }

    let identity: Option<Identity> = serde_json::from_str(&body).ok();
    let mut response = HttpResponse::build(status);
    if let Some(location) = identity
        .as_ref()
        .and_then(|it| it.id.as_deref())
        .and_then(location_of)
    {
        response.insert_header((header::LOCATION, location));
    }
    if let Some(version) = identity.and_then(|it| it.version) {
        response.insert_header((header::ETAG, etag(version)));
    }
    if replayed {
        response.insert_header((REPLAYED_HEADER, "true"));
    }

    response.content_type(mime_json()).body(body)
}

fn mime_json() -> HeaderValue {
    HeaderValue::from_static("application/json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_forms() {
        let parse = |text: &'static str| parse_if_match(&HeaderValue::from_static(text));

        assert_eq!(parse("\"3\"").ok(), Some(Some(3)));
        assert_eq!(parse("*").ok(), Some(None));
        for bad in ["3", "W/\"3\"", "\"x\"", "\"1\", \"2\""] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn location_by_prefix() {
        assert_eq!(location_of("evid_01").as_deref(), Some("/evidence/evid_01"));
        assert_eq!(location_of("link_01").as_deref(), Some("/links/link_01"));
        assert_eq!(location_of("other"), None);
    }

    #[test]
    fn digest_ignores_member_order() {
        let first: serde_json::Value = serde_json::from_str(r#"{"a":1,"b":2}"#).expect("json");
        let second: serde_json::Value =
            serde_json::from_str(r#"{ "b": 2, "a": 1 }"#).expect("json");

        assert_eq!(
            request_digest("POST /trees", &first),
            request_digest("POST /trees", &second)
        );
        assert_ne!(
            request_digest("POST /trees", &first),
            request_digest("POST /evidence", &first)
        );
    }
}
