//! Timestamps as the service stores and returns them.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// Returns the current time as RFC 3339 UTC with millisecond precision, such as
/// `2026-12-04T16:31:02.123Z`.
///
/// Every timestamp the service writes has this fixed width, so text order is time order.
pub fn now() -> String {
    format_utc(OffsetDateTime::now_utc())
}

/// Formats a moment as RFC 3339 UTC with millisecond precision.
pub fn format_utc(moment: OffsetDateTime) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    moment
        .to_offset(time::UtcOffset::UTC)
        .format(&format)
        // NOTE: formatting fails only for years outside 0..=9999, which neither the clock nor
        // the RFC 3339 parser below can produce.
        .unwrap_or_else(|_| moment.unix_timestamp().to_string())
}

/// Parses an RFC 3339 timestamp with any offset and returns it in the stored UTC form.
///
/// # Errors
///
/// Returns the parser's error when `text` is not RFC 3339.
pub fn parse_rfc3339(text: &str) -> Result<String, time::error::Parse> {
    OffsetDateTime::parse(text, &Rfc3339).map(format_utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_has_fixed_width() {
        let stamp = now();

        assert_eq!(stamp.len(), "2026-12-04T16:31:02.123Z".len(), "{stamp}");
        assert!(stamp.ends_with('Z'), "{stamp}");
    }

    #[test]
    fn parse_converts_offset_to_utc() {
        assert_eq!(
            parse_rfc3339("2026-07-03T16:20:00+02:00").as_deref(),
            Ok("2026-07-03T14:20:00.000Z")
        );
        assert!(parse_rfc3339("3 July 2026").is_err());
    }
}
