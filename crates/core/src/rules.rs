//! Field rules shared by every entity.

use crate::error::FieldError;

/// The maximum length of a title, in characters.
pub const TITLE_MAX_CHARS: usize = 200;

/// The maximum length of a tree or node description, in characters.
pub const DESCRIPTION_MAX_CHARS: usize = 10_000;

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
    fn description_limit() {
        assert!(description("/description", &"x".repeat(10_000)).is_ok());
        assert_eq!(
            description("/description", &"x".repeat(10_001)).map_err(|err| err.field()),
            Err("/description")
        );
    }
}
