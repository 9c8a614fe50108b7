//! Extractors that turn malformed requests into [`ApiError`]s.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest};
use ost_linker_core::InvalidId;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_path_to_error::{Path, Segment};

use crate::error::ApiError;

/// The maximum request body size in bytes, shared with the JSON extractor's messages.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON request body, parsed strictly.
///
/// The body must be sent as `application/json` (or another `+json` type) and fit in the
/// configured [`BodyLimit`]. Parse errors carry a JSON pointer to the member at fault, and
/// request types deny unknown fields, so a client's typo is reported instead of dropped.
#[derive(Debug)]
pub struct StrictJson<T> {
    /// The body as the endpoint's request type.
    pub body: T,
    /// The body as parsed JSON, for digests of the request.
    pub json: Value,
}

impl<T: DeserializeOwned + 'static> FromRequest for StrictJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = check_content_type(req);
        let limit = req.app_data::<BodyLimit>().map_or(0, |limit| limit.0);
        let body = Bytes::from_request(req, payload);

        Box::pin(async move {
            content_type?;
            let bytes = body.await.map_err(|err| {
                if err.as_response_error().status_code()
                    == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE
                {
                    ApiError::PayloadTooLarge { limit }
                } else {
                    ApiError::InvalidJson(format!("the body could not be read: {err}"))
                }
            })?;
            let json = parse_value(&bytes)?;
            let body = parse(&json)?;
            Ok(StrictJson { body, json })
        })
    }
}

fn check_content_type(req: &HttpRequest) -> Result<(), ApiError> {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return Err(ApiError::UnsupportedMediaType { found: None });
    };

    let text = value.to_str().unwrap_or_default();
    let essence = text
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let is_json = essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"));
    if is_json {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType {
            found: Some(String::from_utf8_lossy(value.as_bytes()).into_owned()),
        })
    }
}

/// Parses the bytes of a body as one JSON object.
///
/// # Errors
///
/// Returns [`ApiError::InvalidJson`] for malformed JSON and [`ApiError::InvalidValue`] for
/// JSON that is not an object.
pub fn parse_value(bytes: &[u8]) -> Result<Value, ApiError> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|err| ApiError::InvalidJson(err.to_string()))?;
    if !value.is_object() {
        return Err(ApiError::InvalidValue {
            field: String::new(),
            message: "the body must be a JSON object".to_owned(),
        });
    }

    Ok(value)
}

/// Converts a parsed body into `T`, mapping each kind of mismatch to its [`ApiError`].
///
/// # Errors
///
/// Returns [`ApiError::UnknownField`], [`ApiError::MissingField`] or
/// [`ApiError::InvalidValue`], each with a JSON pointer to the member at fault.
pub fn parse<T: DeserializeOwned>(json: &Value) -> Result<T, ApiError> {
    let err = match serde_path_to_error::deserialize(json) {
        Ok(value) => return Ok(value),
        Err(err) => err,
    };

    let pointer = json_pointer(err.path());
    let message = strip_position(&err.into_inner().to_string());
    if message.starts_with("unknown field") {
        return Err(ApiError::UnknownField {
            field: pointer,
            message,
        });
    }
    if let Some(name) = missing_field_name(&message) {
        return Err(ApiError::MissingField {
            field: format!("{}/{}", pointer.trim_end_matches('/'), escape_pointer(name)),
        });
    }

    Err(ApiError::InvalidValue {
        field: pointer,
        message,
    })
}

/// Renders a deserializer path as an RFC 6901 JSON pointer; the root is the empty string.
fn json_pointer(path: &Path) -> String {
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } => pointer.push_str(&format!("/{}", escape_pointer(key))),
            Segment::Enum { variant } => pointer.push_str(&format!("/{}", escape_pointer(variant))),
            Segment::Unknown => {}
        }
    }
    pointer
}

fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Removes serde_json's " at line L column C" suffix, which the pointer replaces.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

/// Returns the name in serde's "missing field `name`" message.
fn missing_field_name(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.split('`').next()
}

/// Deserializes a field that may be `null`: absent gives `None`, `null` gives `Some(None)`.
///
/// Use with `#[serde(default, deserialize_with = "nullable")]` on an `Option<Option<T>>`.
///
/// # Errors
///
/// Returns the deserializer's error for a value that is neither `null` nor a `T`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Deserializes a field that may be absent but not `null`.
///
/// Use with `#[serde(default, deserialize_with = "not_null")]` on an `Option<T>`, so a
/// `null` in a patch is an error instead of meaning "leave as it is".
///
/// # Errors
///
/// Returns the deserializer's error for `null` or a value that is not a `T`.
pub fn not_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Parses an id taken from the path.
///
/// # Errors
///
/// Returns [`ApiError::InvalidPathId`] when the text is not an id of the expected kind.
pub fn path_id<T>(text: &str, parse: fn(&str) -> Result<T, InvalidId>) -> Result<T, ApiError> {
    parse(text).map_err(ApiError::InvalidPathId)
}

/// A query string, parsed strictly.
///
/// Query types deny unknown parameters, and every error names the parameter at fault, so a
/// misspelt filter is reported instead of silently matching everything.
#[derive(Debug)]
pub struct StrictQuery<T>(pub T);

impl<T: DeserializeOwned> FromRequest for StrictQuery<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(StrictQuery))
    }
}

/// Rejects a query whose percent-encoded bytes are not UTF-8. `form_urlencoded` would turn
/// them into U+FFFD replacement characters, and the route would act on text the client did
/// not send.
fn check_utf8(query: &str) -> Result<(), ApiError> {
    for pair in query.split('&') {
        if percent_encoding::percent_decode_str(pair)
            .decode_utf8()
            .is_ok()
        {
            continue;
        }

        let name = pair.split('=').next().unwrap_or_default();
        let name = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
        return Err(ApiError::InvalidQuery(format!(
            "`{name}` is invalid: its percent-encoded bytes are not UTF-8; encode the text as \
             UTF-8 before percent-encoding it"
        )));
    }

    Ok(())
}

/// The query of a route that takes no parameters: any parameter is rejected, not ignored.
#[derive(Debug)]
pub struct NoQuery;

impl FromRequest for NoQuery {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let first = form_urlencoded::parse(req.query_string().as_bytes()).next();
        std::future::ready(match first {
            None => Ok(NoQuery),
            Some((name, _)) => Err(ApiError::InvalidQuery(format!(
                "unknown parameter `{name}`: this route takes no query parameters"
            ))),
        })
    }
}

/// Parses a query string into `T`, naming the parameter at fault in any error.
///
/// # Errors
///
/// Returns [`ApiError::InvalidQuery`].
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    check_utf8(query)?;
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let parameter = err.path().to_string();
        let message = err.into_inner().to_string();
        let message = message
            .replace("unknown field", "unknown parameter")
            .replace("missing field", "missing parameter");
        if parameter.is_empty() || parameter == "." || message.starts_with("unknown parameter") {
            ApiError::InvalidQuery(message)
        } else {
            ApiError::InvalidQuery(format!("`{parameter}` is invalid: {message}"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        title: String,
        outcome: Inner,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        title: String,
    }

    fn parse_body(body: &str) -> Result<Outer, ApiError> {
        parse(&parse_value(body.as_bytes())?)
    }

    fn field_of(result: Result<Outer, ApiError>) -> (String, Option<String>) {
        let err = result.expect_err("parsed");
        let problem = err.problem();
        let json = serde_json::to_value(&problem).expect("serialize");
        (
            problem.code().to_owned(),
            json["field"].as_str().map(str::to_owned),
        )
    }

    #[test]
    fn parse_reports_pointer_of_each_failure() {
        // (case, body, expected code, expected pointer)
        let cases = [
            ("malformed", r#"{"title": "#, "invalid_json", None),
            ("not an object", "[1]", "invalid_value", Some("")),
            (
                "unknown nested",
                r#"{"title":"t","outcome":{"title":"o","titel":"x"}}"#,
                "unknown_field",
                Some("/outcome/titel"),
            ),
            (
                "missing nested",
                r#"{"title":"t","outcome":{}}"#,
                "missing_field",
                Some("/outcome/title"),
            ),
            (
                "missing top",
                r#"{"outcome":{"title":"o"}}"#,
                "missing_field",
                Some("/title"),
            ),
            (
                "wrong type",
                r#"{"title":5,"outcome":{"title":"o"}}"#,
                "invalid_value",
                Some("/title"),
            ),
        ];
        for (case, body, code, pointer) in cases {
            let (found_code, found_pointer) = field_of(parse_body(body));

            assert_eq!(found_code, code, "{case}");
            assert_eq!(found_pointer.as_deref(), pointer, "{case}");
        }
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Query {
        limit: Option<u32>,
        #[serde(default)]
        cascade: bool,
    }

    #[test]
    fn query_errors_name_parameter() {
        let message = |query: &str| match parse_query::<Query>(query) {
            Err(ApiError::InvalidQuery(message)) => message,
            other => panic!("{query}: {other:?}"),
        };

        assert!(
            message("cascade=yes").contains("`cascade`"),
            "{}",
            message("cascade=yes")
        );
        assert!(
            message("limit=-1").contains("`limit`"),
            "{}",
            message("limit=-1")
        );
        assert!(
            message("limt=5").contains("unknown parameter `limt`"),
            "{}",
            message("limt=5")
        );
        assert!(parse_query::<Query>("limit=5&cascade=true").is_ok());
    }

    #[test]
    fn pointer_escapes_special_characters() {
        assert_eq!(escape_pointer("a/b~c"), "a~1b~0c");
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct SearchText {
        q: String,
    }

    #[test]
    fn query_rejects_bytes_that_are_not_utf8() {
        let cases = ["q=%FF", "q=staff%C3", "q=%E2%82"];

        for query in cases {
            let err = parse_query::<SearchText>(query).expect_err(query);
            let ApiError::InvalidQuery(message) = err else {
                panic!("{query}: expected an invalid query, got {err:?}");
            };
            assert!(message.starts_with("`q` is invalid"), "{query}: {message}");
        }
    }

    #[test]
    fn query_decodes_utf8_and_plus() {
        let parsed = parse_query::<SearchText>("q=M%C3%A1laga+caf%C3%A9").expect("parsed");

        assert_eq!(parsed.q, "Málaga café");
    }
}
