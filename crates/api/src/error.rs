//! [`ApiError`]: every way a request can fail, and its mapping to problem details.

use std::path::PathBuf;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use derive_more::{Display, From};
use ost_linker_core::{Error as DomainError, InvalidId};

use crate::problem::Problem;

/// A failed request.
///
/// The `ResponseError` impl maps each variant to a status, a stable code and a detail in one
/// `match` with no wildcard, so the compiler checks that every domain error has a response.
#[derive(Debug, Display, From)]
pub enum ApiError {
    /// A domain rule or a storage failure reported by the store.
    #[from]
    Domain(DomainError),

    /// The body is not well-formed JSON.
    #[display("invalid JSON: {_0}")]
    InvalidJson(#[from(ignore)] String),

    /// The body has a member the endpoint does not know.
    #[display("unknown field {field}: {message}")]
    UnknownField {
        /// JSON pointer of the unknown member.
        field: String,
        /// The parser's message, which lists the expected names.
        message: String,
    },

    /// The body lacks a required member.
    #[display("missing field {field}")]
    MissingField {
        /// JSON pointer of the missing member.
        field: String,
    },

    /// A member has the wrong JSON type or a value outside its set.
    #[display("invalid value at {field}: {message}")]
    InvalidValue {
        /// JSON pointer of the member.
        field: String,
        /// The parser's message.
        message: String,
    },

    /// A PATCH body names no field to change.
    #[display("empty patch")]
    EmptyPatch {
        /// The fields the endpoint accepts, for the detail.
        allowed: &'static str,
    },

    /// The body is not sent as JSON.
    #[display("unsupported media type")]
    UnsupportedMediaType {
        /// The Content-Type that was sent, if any.
        found: Option<String>,
    },

    /// The body is larger than the configured limit.
    #[display("payload too large")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },

    /// A query parameter is unknown or has an invalid value.
    #[display("invalid query: {_0}")]
    InvalidQuery(#[from(ignore)] String),

    /// An id in the path is malformed or of the wrong kind.
    #[display("{_0}")]
    InvalidPathId(InvalidId),

    /// No route matches the path.
    #[display("no route for {path}")]
    RouteNotFound {
        /// The request path.
        path: String,
    },

    /// The route exists but does not accept the method.
    #[display("method {method} not allowed")]
    MethodNotAllowed {
        /// The request method.
        method: String,
        /// The methods the route accepts, for the `Allow` header.
        allow: &'static str,
    },

    /// A request header has an invalid value.
    #[display("invalid {header} header: {detail}")]
    InvalidHeader {
        /// The header's name.
        header: &'static str,
        /// The fault and its fix.
        detail: String,
    },

    /// An idempotency key was first used with a different request.
    #[display("idempotency key {key} reused")]
    IdempotencyKeyReused {
        /// The key.
        key: String,
    },

    /// The blocking thread pool went away, which happens only during shutdown.
    #[display("the blocking thread pool is shut down")]
    PoolGone,

    /// A store call panicked, on the worker or on the blocking pool. The panic hook has
    /// logged its message.
    #[display("a store call panicked")]
    CallPanicked,

    /// A response body failed to serialize to JSON.
    #[display("serializing the response body failed: {_0}")]
    Render(serde_json::Error),

    /// Creating or writing the temporary file of a response body failed.
    #[display(
        "writing the response body to a temporary file in {} failed: {source}. Set TMPDIR to \
         a writable directory with room for the largest export",
        dir.display()
    )]
    Spool {
        /// The directory of temporary files, from `TMPDIR`.
        dir: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
}

impl ApiError {
    /// Builds the problem details for this error.
    pub fn problem(&self) -> Problem {
        match self {
            ApiError::Domain(err) => domain_problem(err),
            ApiError::InvalidJson(message) => Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("The request body is not valid JSON ({message}). Send one JSON object."),
            ),
            ApiError::UnknownField { field, message } => Problem::new(
                StatusCode::BAD_REQUEST,
                "unknown_field",
                format!("The body has an {message}. Remove the member or correct its name."),
            )
            .with_field(field.as_str()),
            ApiError::MissingField { field } => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "missing_field",
                format!(
                    "The body is missing the required member `{}` (at `{field}`). Add it.",
                    field.rsplit('/').next().unwrap_or_default()
                ),
            )
            .with_field(field.as_str()),
            ApiError::InvalidValue { field, message } => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_value",
                format!("The value at `{field}` is invalid: {message}."),
            )
            .with_field(field.as_str()),
            ApiError::EmptyPatch { allowed } => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "empty_patch",
                format!("The body changes nothing. Send at least one of: {allowed}."),
            ),
            ApiError::UnsupportedMediaType { found } => Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                match found {
                    Some(found) => format!(
                        "The body is sent as `{found}`. Send it as JSON with \
                         `Content-Type: application/json`."
                    ),
                    None => "The request has no Content-Type header. Send the body as JSON \
                             with `Content-Type: application/json`."
                        .to_owned(),
                },
            ),
            ApiError::PayloadTooLarge { limit } => Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!(
                    "The request body is larger than the limit of {limit} bytes. Send a smaller body."
                ),
            ),
            ApiError::InvalidQuery(message) => Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                format!("The query string is invalid: {message}."),
            ),
            ApiError::InvalidPathId(err) => Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid_id",
                format!("In the path, {err}. Use the id exactly as the API returned it."),
            ),
            ApiError::RouteNotFound { path } => Problem::new(
                StatusCode::NOT_FOUND,
                "route_not_found",
                format!(
                    "No route matches the path `{path}`. Check the path against the API's routes."
                ),
            ),
            ApiError::MethodNotAllowed { method, allow } => Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("This route does not accept {method}. Use one of: {allow}."),
            ),
            ApiError::InvalidHeader { header, detail } => Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid_header",
                format!("The {header} header is invalid: {detail}."),
            ),
            ApiError::IdempotencyKeyReused { key } => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                format!(
                    "The idempotency key `{key}` was first used with a different request. \
                     Send a new key for a new request, or the first request unchanged to get its response again."
                ),
            ),
            ApiError::PoolGone => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "shutting_down",
                "The service is shutting down. Retry the request shortly.",
            ),
            ApiError::CallPanicked | ApiError::Render(_) | ApiError::Spool { .. } => {
                internal_problem()
            }
        }
    }

    /// Returns the seconds after which the same request may succeed, sent as `Retry-After`,
    /// for errors that pass by themselves.
    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            ApiError::Domain(DomainError::ExportsBusy { waited_secs, .. }) => Some(*waited_secs),
            _ => None,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.problem().status()
    }

    fn error_response(&self) -> HttpResponse {
        let problem = self.problem();
        let retry_after = self.retry_after_secs();
        if retry_after.is_some() {
            // A condition that passes by itself, such as a full set of exports, is load,
            // not a failure of the service.
            log::warn!("request rejected with {}: {self}", problem.code());
        } else if problem.status().is_server_error() {
            log::error!("request failed with {}: {self}", problem.code());
        }

        let mut response = problem.to_response();
        if let ApiError::MethodNotAllowed { allow, .. } = self {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

fn domain_problem(err: &DomainError) -> Problem {
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    match err {
        DomainError::Field(field_error) => {
            Problem::new(unprocessable, field_error.code(), format!("{field_error}."))
                .with_field(field_error.field())
        }
        DomainError::InvalidId { field, source } => Problem::new(
            unprocessable,
            "invalid_id",
            format!("{source}. Use the id exactly as the API returned it."),
        )
        .with_field(*field),
        DomainError::NotFound { entity, .. } => Problem::new(
            StatusCode::NOT_FOUND,
            not_found_code(entity),
            format!("{err}. Check the id; it may have been deleted."),
        ),
        DomainError::NodeNotInTree { tree_id, .. } => Problem::new(
            StatusCode::NOT_FOUND,
            "node_not_in_tree",
            format!(
                "The {err}. Use a node id from `GET /trees/{tree_id}/nodes`, or leave `node` out."
            ),
        ),
        DomainError::UnknownReference { field, entity, .. } => Problem::new(
            unprocessable,
            "reference_not_found",
            format!("{err}. Use the id of an existing {entity}."),
        )
        .with_field(*field),
        DomainError::InvalidParentKind { .. } => Problem::new(
            unprocessable,
            "invalid_parent_kind",
            format!("{err}. Choose a parent of an allowed kind."),
        )
        .with_field("/parent_id"),
        DomainError::KindNotCreatable { .. } => Problem::new(
            unprocessable,
            "kind_not_creatable",
            format!("{err}. Use opportunity, solution or experiment."),
        )
        .with_field("/kind"),
        DomainError::ParentInOtherTree { .. } => Problem::new(
            unprocessable,
            "parent_in_other_tree",
            format!("{err}. Choose a parent from the same tree."),
        )
        .with_field("/parent_id"),
        DomainError::NodeHasChildren { .. } => Problem::new(
            StatusCode::CONFLICT,
            "node_has_children",
            format!(
                "{err}. Delete or move them first, or send `?cascade=true` to delete the whole subtree."
            ),
        ),
        DomainError::RootNodeDelete { tree_id, .. } => Problem::new(
            unprocessable,
            "root_node_delete",
            format!(
                "{err} and cannot be deleted on its own. Delete the tree with `DELETE /trees/{tree_id}`."
            ),
        ),
        DomainError::NodeCycle { .. } => Problem::new(
            unprocessable,
            "node_cycle",
            format!("{err}. Choose a parent outside the node's subtree."),
        )
        .with_field("/parent_id"),
        DomainError::RootNodeMove { .. } => Problem::new(
            unprocessable,
            "root_node_move",
            format!("{err}. Move its children instead."),
        ),
        DomainError::PositionOutOfRange { .. } => Problem::new(
            unprocessable,
            "invalid_position",
            format!("{err}. Leave `position` out to place the node last."),
        )
        .with_field("/position"),
        DomainError::ExperimentFieldOnOtherKind { field, .. } => Problem::new(
            unprocessable,
            "experiment_field_not_allowed",
            format!("{err}. Remove the member."),
        )
        .with_field(*field),
        DomainError::MetricRequired => Problem::new(
            unprocessable,
            "metric_required",
            format!("The {err}. Add it, or use another kind."),
        )
        .with_field("/metric"),
        DomainError::MetricNotAllowed { .. } => Problem::new(
            unprocessable,
            "metric_not_allowed",
            format!("The {err}. Remove `metric`, or use kind metric."),
        )
        .with_field("/metric"),
        DomainError::DuplicateSource { existing_id, .. } => Problem::new(
            StatusCode::CONFLICT,
            "duplicate_source",
            format!("The {err}. Use that item, or change it with `PATCH /evidence/{existing_id}`."),
        )
        .with_field("/source/external_id")
        .with_existing_id(existing_id.as_str()),
        DomainError::DuplicateLink { existing_id, .. } => Problem::new(
            StatusCode::CONFLICT,
            "duplicate_link",
            format!("The {err}. Change that link with `PATCH /links/{existing_id}` instead."),
        )
        .with_field("/evidence_id")
        .with_existing_id(existing_id.as_str()),
        DomainError::EvidenceLinked { id, .. } => Problem::new(
            StatusCode::CONFLICT,
            "evidence_linked",
            format!(
                "The {err}. Delete its links first, or send `DELETE /evidence/{id}?cascade=true` to delete them with it."
            ),
        ),
        DomainError::UnsupportedFormat { .. } => Problem::new(
            unprocessable,
            "unsupported_format",
            format!("The {err}. Send a document made by `GET /trees/{{id}}/export`."),
        )
        .with_field("/format"),
        DomainError::UnsupportedVersion { .. } => Problem::new(
            unprocessable,
            "unsupported_version",
            format!(
                "The {err}. Export the tree again with this build's `GET /trees/{{id}}/export`."
            ),
        )
        .with_field("/version"),
        DomainError::InvalidDocument { problems } => Problem::new(
            unprocessable,
            "invalid_document",
            format!(
                "The document has {} problem(s), so nothing was imported. Fix each one listed \
                 in `problems`; send `?dry_run=true` to check a document without importing it.",
                problems.len()
            ),
        )
        .with_problems(problems.clone()),
        DomainError::VersionMismatch { .. } => Problem::new(
            StatusCode::PRECONDITION_FAILED,
            "version_mismatch",
            format!(
                "The {err}, so nothing was changed. GET it again and retry with its current ETag."
            ),
        ),
        DomainError::IdempotencyKeyTaken { .. } => Problem::new(
            StatusCode::CONFLICT,
            "idempotency_key_in_use",
            format!("The {err}. Retry the request to get its response."),
        ),
        DomainError::ExportsBusy { .. } => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "exports_busy",
            format!("The export could not start: {err}. Retry the request in a few seconds."),
        ),
        DomainError::InvalidSearchQuery { .. } => Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid_search_query",
            format!("In `q`, {err}."),
        ),
        DomainError::SchemaTooNew { .. } | DomainError::Storage(_) | DomainError::Output(_) => {
            internal_problem()
        }
    }
}

fn not_found_code(entity: &str) -> &'static str {
    match entity {
        "tree" => "tree_not_found",
        "node" => "node_not_found",
        "evidence" => "evidence_not_found",
        "link" => "link_not_found",
        _ => "not_found",
    }
}

fn internal_problem() -> Problem {
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "The service failed to complete the request. It has been logged; retry later.",
    )
}

#[cfg(test)]
mod tests {
    use actix_web::http::StatusCode;
    use actix_web::http::header;
    use actix_web::{ResponseError, body};
    use ost_linker_core::Error as DomainError;
    use serde_json::Value;

    use super::ApiError;

    #[actix_rt::test]
    async fn exports_busy_has_retry_after() {
        let err = ApiError::Domain(DomainError::ExportsBusy {
            connections: 2,
            waited_secs: 10,
        });

        let response = err.error_response();

        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let retry_after = response.headers().get(header::RETRY_AFTER);
        assert_eq!(
            retry_after.and_then(|value| value.to_str().ok()),
            Some("10")
        );
        let bytes = body::to_bytes(response.into_body()).await.expect("body");
        let problem: Value = serde_json::from_slice(&bytes).expect("problem JSON");
        assert_eq!(problem["code"], "exports_busy");
    }
}
