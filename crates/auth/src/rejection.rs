//! Rejection reasons and the default RFC 9457 problem details response.

use std::{fmt, sync::Arc};

use actix_web::{
    HttpResponse,
    http::{
        StatusCode,
        header::{self, HeaderValue},
    },
};

/// Content type of the default rejection body, from RFC 9457.
const PROBLEM_JSON: &str = "application/problem+json";

/// Reason why the gate rejected a request.
///
/// `Display` prints a short phrase for log lines, such as `missing` or `invalid: duplicated`.
/// It never includes the presented value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectionReason {
    /// The request has no token header.
    Missing,
    /// The request has the token header more than once, even if every copy is correct.
    Duplicated,
    /// The token header is empty.
    Empty,
    /// The token header contains a byte outside visible ASCII (0x21 to 0x7E), such as a space,
    /// a tab or a non-UTF-8 byte.
    NotVisibleAscii,
    /// The token header matches no configured token.
    Mismatch,
}

impl RejectionReason {
    /// Returns the stable error code: `missing_service_token` for [`Missing`](Self::Missing)
    /// and `invalid_service_token` for every other reason.
    pub fn code(self) -> &'static str {
        match self {
            Self::Missing => "missing_service_token",
            Self::Duplicated | Self::Empty | Self::NotVisibleAscii | Self::Mismatch => {
                "invalid_service_token"
            }
        }
    }
}

impl fmt::Display for RejectionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let phrase = match self {
            Self::Missing => "missing",
            Self::Duplicated => "invalid: duplicated",
            Self::Empty => "invalid: empty",
            Self::NotVisibleAscii => "invalid: not visible ASCII",
            Self::Mismatch => "invalid: mismatch",
        };
        f.write_str(phrase)
    }
}

/// Rejection of one request, passed to a custom rejection handler.
///
/// It carries the reason and the header name, but never the presented value. `Display` prints
/// a phrase for log lines, such as `X-Service-Token header invalid: duplicated`.
#[derive(Clone, Debug)]
pub struct Rejection {
    reason: RejectionReason,
    header_label: Arc<str>,
    www_authenticate: HeaderValue,
}

impl Rejection {
    pub(crate) fn new(
        reason: RejectionReason,
        header_label: Arc<str>,
        www_authenticate: HeaderValue,
    ) -> Self {
        Self {
            reason,
            header_label,
            www_authenticate,
        }
    }

    /// Returns why the request was rejected.
    pub fn reason(&self) -> RejectionReason {
        self.reason
    }

    /// Returns the stable error code, `missing_service_token` or `invalid_service_token`.
    pub fn code(&self) -> &'static str {
        self.reason.code()
    }

    /// Returns the HTTP status of the default response, which is always 401 Unauthorized.
    pub fn status(&self) -> StatusCode {
        StatusCode::UNAUTHORIZED
    }

    /// Returns the token header name as the gate was configured with it, such as
    /// `X-Service-Token`.
    pub fn header_name(&self) -> &str {
        &self.header_label
    }

    /// Returns the `WWW-Authenticate` value of the default response, such as
    /// `ServiceToken header="X-Service-Token"`.
    pub fn www_authenticate(&self) -> &HeaderValue {
        &self.www_authenticate
    }

    /// Returns two sentences for the client: what was wrong and how to fix it. Both name the
    /// header.
    pub fn detail(&self) -> String {
        let header = &self.header_label;
        match self.reason {
            RejectionReason::Missing => format!(
                "The request has no {header} header. Send the service token in the {header} \
                 header."
            ),
            RejectionReason::Duplicated => format!(
                "The request has more than one {header} header. Send the service token in \
                 exactly one {header} header."
            ),
            RejectionReason::Empty => format!(
                "The {header} header is empty. Send the service token in the {header} header."
            ),
            RejectionReason::NotVisibleAscii => format!(
                "The {header} header contains characters other than visible ASCII. Send the \
                 service token in the {header} header without spaces or other characters."
            ),
            RejectionReason::Mismatch => format!(
                "The {header} header does not contain a valid service token. Send a current \
                 service token in the {header} header."
            ),
        }
    }

    /// Builds the default response: status 401, a `WWW-Authenticate` header and an RFC 9457
    /// problem details body with the members `type`, `title`, `status`, `detail` and `code`.
    pub fn problem_response(&self) -> HttpResponse {
        /// The body, with members in the order RFC 9457 lists them.
        #[derive(serde::Serialize)]
        struct ProblemBody<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            title: &'static str,
            status: u16,
            detail: String,
            code: &'a str,
        }

        let status = self.status();
        let body = ProblemBody {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Unauthorized"),
            status: status.as_u16(),
            detail: self.detail(),
            code: self.code(),
        };

        HttpResponse::build(status)
            .content_type(PROBLEM_JSON)
            .insert_header((header::WWW_AUTHENTICATE, self.www_authenticate.clone()))
            .body(serde_json::to_string(&body).unwrap_or_default())
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} header {}", self.header_label, self.reason)
    }
}
