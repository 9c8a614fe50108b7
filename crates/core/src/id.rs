//! Prefixed identifiers.
//!
//! Every stored entity has an opaque id made of a kind prefix and a ULID, such as
//! `tree_01JEX3Q8W5T0ZK6Y2R9V4N7M3B`. The prefix lets a caller, or an assistant acting for one,
//! tell a tree id from a node id at a glance, and lets the service reject an id of the wrong
//! kind with a precise message. ULIDs sort by creation time, which keyset pagination relies on.

use std::fmt;
use std::sync::Mutex;

use derive_more::{Display, Error};
use rusqlite::ToSql;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use ulid::{Generator, Ulid};

/// The source of every new id, shared so that ids made in the same millisecond still sort in
/// the order they were made.
static GENERATOR: Mutex<Generator> = Mutex::new(Generator::new());

fn next_ulid() -> Ulid {
    let mut generator = GENERATOR
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // The generator fails only when 2^80 ids were made in one millisecond.
    generator.generate().unwrap_or_else(|_| Ulid::new())
}

/// A string that is not a valid id of the expected kind.
#[derive(Debug, Display, Error, Clone, PartialEq, Eq)]
#[display(
    "`{value}` is not a valid {expected} id: expected `{prefix}` followed by 26 ULID characters"
)]
pub struct InvalidId {
    /// The rejected string, as given.
    #[error(not(source))]
    pub value: String,
    /// The entity the id should name, such as `tree`.
    pub expected: &'static str,
    /// The prefix a valid id starts with, such as `tree_`.
    pub prefix: &'static str,
}

macro_rules! define_id {
    ($(#[$doc:meta])* $name:ident, $entity:literal, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Ulid);

        impl $name {
            /// The prefix every id of this kind starts with.
            pub const PREFIX: &'static str = $prefix;

            /// Generates a new id, ordered after ids generated earlier by this process.
            pub fn generate() -> Self {
                Self(next_ulid())
            }

            /// Builds an id from ULID parts: milliseconds since the Unix epoch and 80 random
            /// bits (the higher bits of `random` are ignored). Generators of test data use it
            /// to make ids that are the same on every run.
            pub fn from_parts(timestamp_ms: u64, random: u128) -> Self {
                Self(Ulid::from_parts(timestamp_ms, random))
            }

            /// Parses an id in its prefixed text form.
            ///
            /// # Errors
            ///
            /// Returns [`InvalidId`] when the prefix is missing or the rest is not a ULID.
            pub fn parse(value: &str) -> Result<Self, InvalidId> {
                value
                    .strip_prefix($prefix)
                    .and_then(|rest| Ulid::from_string(rest).ok())
                    .map(Self)
                    .ok_or_else(|| InvalidId {
                        value: value.to_owned(),
                        expected: $entity,
                        prefix: $prefix,
                    })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{}", $prefix, self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.to_string()))
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                Self::parse(value.as_str()?).map_err(|err| FromSqlError::Other(Box::new(err)))
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

define_id!(
    /// The id of an Opportunity Solution Tree, `tree_…`.
    TreeId,
    "tree",
    "tree_"
);

define_id!(
    /// The id of a node in a tree, `node_…`.
    NodeId,
    "node",
    "node_"
);

define_id!(
    /// The id of an evidence item, `evid_…`.
    EvidenceId,
    "evidence",
    "evid_"
);

define_id!(
    /// The id of a link between a node and an evidence item, `link_…`.
    LinkId,
    "link",
    "link_"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_round_trips_through_text() {
        let id = TreeId::generate();
        let text = id.to_string();

        assert!(text.starts_with("tree_"), "{text}");
        assert_eq!(TreeId::parse(&text), Ok(id));
    }

    #[test]
    fn id_of_other_kind_is_rejected() {
        let node = NodeId::generate().to_string();

        let err = TreeId::parse(&node).expect_err("a node id is not a tree id");

        assert_eq!(err.expected, "tree");
        assert!(err.to_string().contains(&node), "{err}");
    }

    #[test]
    fn id_with_bad_body_is_rejected() {
        for value in [
            "tree_",
            "tree_123",
            "tree_01JEX3Q8W5T0ZK6Y2R9V4N7M3!",
            "",
            "01JEX3Q8W5T0ZK6Y2R9V4N7M3B",
        ] {
            assert!(TreeId::parse(value).is_err(), "{value:?} was accepted");
        }
    }
}
