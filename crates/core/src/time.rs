//! Timestamps as the service stores and returns them.

use time::OffsetDateTime;
use time::macros::format_description;

/// Returns the current time as RFC 3339 UTC with millisecond precision, such as
/// `2026-12-04T16:31:02.123Z`.
///
/// Every timestamp the service writes has this fixed width, so text order is time order.
pub fn now() -> String {
    format_utc(OffsetDateTime::now_utc())
}

/// Formats a moment as RFC 3339 UTC with millisecond precision.
///
/// The moment's UTC year must be 0 to 9999: the clock's always is, and
/// [`crate::rules::timestamp`] rejects parsed moments outside that range before calling this.
pub fn format_utc(moment: OffsetDateTime) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    moment
        .to_offset(time::UtcOffset::UTC)
        .format(&format)
        // Formatting fails only for years outside 0..=9999, which the callers exclude.
        .unwrap_or_else(|_| moment.unix_timestamp().to_string())
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
}
