//! The one error format of the API: RFC 9457 problem details.
//!
//! Every error response, from a handler, an extractor, the router's fallbacks or the
//! service-token gate, is `application/problem+json` with the standard members `type`, `title`,
//! `status` and `detail`, and two extension members: `code`, a stable snake_case name a client
//! can branch on, and `field`, a JSON pointer to the request body field at fault when there is
//! one. A 409 for a duplicate also carries `existing_id`, the id of the entity it collides
//! with, and a 422 for an invalid tree document carries `problems`, every problem found. `type` is always `about:blank`, so `title` is the HTTP status phrase.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use ost_linker_core::DocumentProblem;
use serde::Serialize;

/// The media type of problem details bodies.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem details body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    status: u16,
    detail: String,
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    existing_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    problems: Option<Vec<DocumentProblem>>,
}

impl Problem {
    /// Describes a problem with its status, stable code and a detail that names the value at
    /// fault and the fix.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: detail.into(),
            code,
            field: None,
            existing_id: None,
            problems: None,
        }
    }

    /// Lists every problem of an invalid tree document, each with its JSON pointer, code and
    /// detail, in the extension member `problems`.
    pub fn with_problems(mut self, problems: Vec<DocumentProblem>) -> Self {
        self.problems = Some(problems);
        self
    }

    /// Names the stored entity that a conflicting request collides with, so a client can
    /// use it instead of guessing.
    pub fn with_existing_id(mut self, id: impl Into<String>) -> Self {
        self.existing_id = Some(id.into());
        self
    }

    /// Points the problem at a request body field, as a JSON pointer such as `/outcome/title`.
    pub fn with_field(mut self, pointer: impl Into<String>) -> Self {
        self.field = Some(pointer.into());
        self
    }

    /// Returns the HTTP status.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// Returns the stable code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// Builds the response.
    pub fn to_response(&self) -> HttpResponse {
        HttpResponse::build(self.status())
            .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)))
            .json(self)
    }
}
