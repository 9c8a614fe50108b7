//! Rejection reasons and the default RFC 9457 problem details response.

use std::{fmt, sync::Arc};

use actix_web::{
    HttpResponse,
    http::{
        StatusCode,
        header::{self, HeaderValue},
    },
    web::Bytes,
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
    /// Every reason, each at its [`index`](Self::index).
    const ALL: [Self; 5] = [
        Self::Missing,
        Self::Duplicated,
        Self::Empty,
        Self::NotVisibleAscii,
        Self::Mismatch,
    ];

    /// Returns the position of the reason in [`ALL`](Self::ALL), where the rendered bodies
    /// are kept.
    const fn index(self) -> usize {
        match self {
            Self::Missing => 0,
            Self::Duplicated => 1,
            Self::Empty => 2,
            Self::NotVisibleAscii => 3,
            Self::Mismatch => 4,
        }
    }

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
    template: Arc<RejectionTemplate>,
}

impl Rejection {
    pub(crate) fn new(reason: RejectionReason, template: Arc<RejectionTemplate>) -> Self {
        Self { reason, template }
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
        &self.template.header_label
    }

    /// Returns the `WWW-Authenticate` value of the default response, such as
    /// `ServiceToken header="X-Service-Token"`.
    pub fn www_authenticate(&self) -> &HeaderValue {
        &self.template.www_authenticate
    }

    /// Returns two sentences for the client: what was wrong and how to fix it. Both name the
    /// header.
    pub fn detail(&self) -> String {
        detail(self.reason, &self.template.header_label)
    }

    /// Builds the default response: status 401, a `WWW-Authenticate` header and an RFC 9457
    /// problem details body with the members `type`, `title`, `status`, `detail` and `code`.
    ///
    /// The gate renders the body when it is configured, so a rejection copies no text.
    pub fn problem_response(&self) -> HttpResponse {
        // Setting the parts directly skips the response builder, which callgrind counted at
        // about 300 instructions of a rejection.
        let body = self.template.bodies[self.reason.index()].clone();
        let mut response = HttpResponse::with_body(self.status(), body).map_into_boxed_body();

        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        headers.insert(
            header::WWW_AUTHENTICATE,
            self.template.www_authenticate.clone(),
        );
        response
    }
}
impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} header {}", self.template.header_label, self.reason)
    }
}

/// Parts that every rejection of one gate shares: the header name as configured, the
/// `WWW-Authenticate` challenge, and the default body of each reason, rendered once.
pub(crate) struct RejectionTemplate {
    header_label: Box<str>,
    www_authenticate: HeaderValue,
    bodies: [Bytes; RejectionReason::ALL.len()],
}

impl fmt::Debug for RejectionTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RejectionTemplate")
            .field("header_label", &self.header_label)
            .finish_non_exhaustive()
    }
}

impl RejectionTemplate {
    /// Renders the template for the header `name`, spelled as the caller configured it.
    ///
    /// Returns `None` when `name` can't appear in a header value. A valid header name contains
    /// only token characters, so it always can.
    pub(crate) fn new(name: &str) -> Option<Self> {
        let www_authenticate =
            HeaderValue::from_str(&format!("ServiceToken header=\"{name}\"")).ok()?;
        let bodies = RejectionReason::ALL.map(|reason| problem_body(reason, name));

        Some(Self {
            header_label: Box::from(name),
            www_authenticate,
            bodies,
        })
    }

    /// Returns the header name as the caller spelled it.
    pub(crate) fn header_label(&self) -> &str {
        &self.header_label
    }
}

/// Renders the problem details body of the default response for `reason`.
fn problem_body(reason: RejectionReason, header: &str) -> Bytes {
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

    let status = StatusCode::UNAUTHORIZED;
    let body = ProblemBody {
        kind: "about:blank",
        title: status.canonical_reason().unwrap_or("Unauthorized"),
        status: status.as_u16(),
        detail: detail(reason, header),
        code: reason.code(),
    };

    Bytes::from(serde_json::to_vec(&body).unwrap_or_default())
}

/// Returns two sentences for the client: what was wrong with the `header` header, and how
/// to fix it.
fn detail(reason: RejectionReason, header: &str) -> String {
    match reason {
        RejectionReason::Missing => format!(
            "The request has no {header} header. Send the service token in the {header} \
             header."
        ),
        RejectionReason::Duplicated => format!(
            "The request has more than one {header} header. Send the service token in \
             exactly one {header} header."
        ),
        RejectionReason::Empty => {
            format!("The {header} header is empty. Send the service token in the {header} header.")
        }
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

#[cfg(test)]
mod tests {
    use super::RejectionReason;

    #[test]
    fn every_reason_sits_at_its_index() {
        for (position, reason) in RejectionReason::ALL.into_iter().enumerate() {
            assert_eq!(reason.index(), position, "{reason:?}");
        }
    }
}
