//! Field rules shared by every entity.

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use crate::error::FieldError;

/// The maximum length of a title, in characters.
pub const TITLE_MAX_CHARS: usize = 200;

/// The maximum length of a tree or node description, in characters.
pub const DESCRIPTION_MAX_CHARS: usize = 10_000;

/// The maximum length of an evidence item's content, in characters.
pub const CONTENT_MAX_CHARS: usize = 50_000;

/// The maximum length of a link's note, in characters.
pub const NOTE_MAX_CHARS: usize = 1_000;

/// The maximum length of a tag, in characters.
pub const TAG_MAX_CHARS: usize = 50;

/// The maximum number of tags on one evidence item.
pub const MAX_TAGS: usize = 30;

/// The maximum length of short text fields such as a source system or a metric unit.
pub const SHORT_TEXT_MAX_CHARS: usize = 200;

/// The maximum length of a URL, in characters.
pub const URL_MAX_CHARS: usize = 2_000;

/// Trims a title and checks that 1 to [`TITLE_MAX_CHARS`] characters remain.
///
/// # Errors
///
/// Returns [`FieldError`] naming `field` when the trimmed title is empty or too long.
pub fn title(field: &'static str, value: &str) -> Result<String, FieldError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(FieldError::Empty {
            field,
            max: TITLE_MAX_CHARS,
        });
    }

    within_max(field, trimmed, TITLE_MAX_CHARS)
}

/// Checks that a description has at most [`DESCRIPTION_MAX_CHARS`] characters.
///
/// Descriptions keep their white space as given, because it may be formatting.
///
/// # Errors
///
/// Returns [`FieldError`] naming `field` when the description is too long.
pub fn description(field: &'static str, value: &str) -> Result<String, FieldError> {
    within_max(field, value, DESCRIPTION_MAX_CHARS)
}

/// Checks that `value` has at most `max` characters (Unicode scalar values, not bytes).
///
/// # Errors
///
/// Returns [`FieldError::TooLong`] naming `field` otherwise.
pub fn within_max(field: &'static str, value: &str, max: usize) -> Result<String, FieldError> {
    let length = value.chars().count();
    if length > max {
        return Err(FieldError::TooLong { field, length, max });
    }

    Ok(value.to_owned())
}

/// Checks tags and returns them sorted.
///
/// A tag is 1 to [`TAG_MAX_CHARS`] lowercase letters, digits, `-` or `_`. Tags are a set, so a
/// repeat is an error rather than silently dropped.
///
/// # Errors
///
/// Returns [`FieldError`] pointing at the first tag at fault.
pub fn tags(values: Vec<String>) -> Result<Vec<String>, FieldError> {
    if values.len() > MAX_TAGS {
        return Err(FieldError::TooManyTags {
            count: values.len(),
            max: MAX_TAGS,
        });
    }

    for (index, tag) in values.iter().enumerate() {
        let length = tag.chars().count();
        let allowed = |c: char| c.is_lowercase() || c.is_numeric() || c == '-' || c == '_';
        if length == 0 || length > TAG_MAX_CHARS || !tag.chars().all(allowed) {
            return Err(FieldError::InvalidTag {
                index,
                tag: tag.clone(),
                max: TAG_MAX_CHARS,
            });
        }
        if values[..index].contains(tag) {
            return Err(FieldError::DuplicateTag {
                index,
                tag: tag.clone(),
            });
        }
    }

    let mut sorted = values;
    sorted.sort();
    Ok(sorted)
}

/// Parses an RFC 3339 timestamp and returns it in the stored UTC form.
///
/// # Errors
///
/// Returns [`FieldError::InvalidTimestamp`] naming `field`, also when the moment in UTC falls
/// outside the years 0000 to 9999.
pub fn timestamp(field: &'static str, value: &str) -> Result<String, FieldError> {
    let invalid = || FieldError::InvalidTimestamp {
        field,
        value: value.to_owned(),
    };
    let moment = OffsetDateTime::parse(value, &Rfc3339).map_err(|_| invalid())?;

    // An offset can carry a moment near year 0 or 9999 out of that range in UTC. The stored
    // form needs a four-digit year, and `time` panics converting past its own range.
    let utc_year = moment
        .checked_to_offset(UtcOffset::UTC)
        .map(|utc| utc.year());
    if !utc_year.is_some_and(|year| (0..=9999).contains(&year)) {
        return Err(invalid());
    }

    Ok(crate::time::format_utc(moment))
}

/// Checks that a URL is an absolute `http` or `https` URL of at most [`URL_MAX_CHARS`].
///
/// # Errors
///
/// Returns [`FieldError`] naming `field`.
pub fn url(field: &'static str, value: &str) -> Result<String, FieldError> {
    let value = within_max(field, value, URL_MAX_CHARS)?;
    // Schemes are case-insensitive (RFC 3986, section 3.1).
    let scheme_end = value.find("://").map_or(0, |index| index + 3);
    let scheme = value[..scheme_end].to_ascii_lowercase();
    let rest = (scheme == "https://" || scheme == "http://").then(|| &value[scheme_end..]);
    let has_host = rest.is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
    if !has_host || value.chars().any(char::is_whitespace) {
        return Err(FieldError::InvalidUrl { field, value });
    }

    Ok(value)
}

/// Checks that an optional short text is non-blank and at most [`SHORT_TEXT_MAX_CHARS`].
///
/// # Errors
///
/// Returns [`FieldError`] naming `field`.
pub fn short_text(field: &'static str, value: &str) -> Result<String, FieldError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(FieldError::Empty {
            field,
            max: SHORT_TEXT_MAX_CHARS,
        });
    }

    within_max(field, trimmed, SHORT_TEXT_MAX_CHARS)
}

/// Checks that a number is finite: JSON has no NaN or infinity, so neither may be stored.
///
/// # Errors
///
/// Returns [`FieldError::NotFinite`] naming `field`.
pub fn finite(field: &'static str, value: f64) -> Result<f64, FieldError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(FieldError::NotFinite { field })
    }
}

/// Checks a link's strength, 1 to 5.
///
/// # Errors
///
/// Returns [`FieldError::OutOfRange`] for `/strength`.
pub fn strength(value: i64) -> Result<u8, FieldError> {
    match u8::try_from(value) {
        Ok(strength @ 1..=5) => Ok(strength),
        _ => Err(FieldError::OutOfRange {
            field: "/strength",
            value,
            min: 1,
            max: 5,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_is_trimmed() {
        assert_eq!(
            title("/title", "  Raise retention \n"),
            Ok("Raise retention".into())
        );
    }

    #[test]
    fn title_rejects_blank() {
        for blank in ["", "   ", "\n\t"] {
            assert_eq!(
                title("/title", blank),
                Err(FieldError::Empty {
                    field: "/title",
                    max: 200
                }),
                "{blank:?}"
            );
        }
    }

    #[test]
    fn title_counts_characters_not_bytes() {
        let at_limit = "é".repeat(200);
        let over_limit = "é".repeat(201);

        assert!(title("/title", &at_limit).is_ok());
        assert_eq!(
            title("/title", &over_limit),
            Err(FieldError::TooLong {
                field: "/title",
                length: 201,
                max: 200
            })
        );
    }

    #[test]
    fn tags_are_sorted_and_checked() {
        let ok = tags(vec![
            "onboarding".into(),
            "data-entry".into(),
            "señal".into(),
        ]);
        assert_eq!(
            ok,
            Ok(vec![
                "data-entry".into(),
                "onboarding".into(),
                "señal".into()
            ])
        );

        for (bad, index) in [
            (vec!["Onboarding"], 0),
            (vec!["ok", ""], 1),
            (vec!["a b"], 0),
        ] {
            let err =
                tags(bad.iter().map(|tag| (*tag).to_owned()).collect()).expect_err("accepted");
            assert_eq!(err.field(), format!("/tags/{index}"), "{bad:?}");
        }
        assert!(matches!(
            tags(vec!["churned".into(), "churned".into()]),
            Err(FieldError::DuplicateTag { index: 1, .. })
        ));
    }

    #[test]
    fn url_needs_http_scheme_and_host() {
        assert!(url("/source/url", "https://analytics.example.com/x?a=1&b=2").is_ok());
        for bad in [
            "ftp://example.com",
            "https://",
            "https:///path",
            "example.com",
            "https://a b",
        ] {
            assert!(url("/source/url", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn strength_range() {
        assert_eq!(strength(1), Ok(1));
        assert_eq!(strength(5), Ok(5));
        assert!(strength(0).is_err());
        assert!(strength(6).is_err());
        assert!(strength(-1).is_err());
    }

    #[test]
    fn description_limit() {
        assert!(description("/description", &"x".repeat(10_000)).is_ok());
        assert_eq!(
            description("/description", &"x".repeat(10_001)).map_err(|err| err.field()),
            Err("/description".to_owned())
        );
    }
}
