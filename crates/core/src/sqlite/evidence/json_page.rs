//! A page of the evidence listing written as JSON straight from SQLite's rows.
//!
//! [`super::list`] builds an [`Evidence`](crate::model::Evidence) for each row, with a
//! `String` for every text column and the JSON columns parsed into owned values, which the
//! caller then serializes and drops. Here each row is serialized from text borrowed from the
//! row itself. An item then allocates only for its tags and for strings of the JSON columns
//! that contain escapes, not once per text column and per string. Every string of an item is
//! escaped with the SIMD routines of `json_escape_simd`. Only the metric and the version go
//! through serde_json, which escapes a byte at a time. The bytes are those that
//! serializing the page of [`super::list`] gives, which the test
//! `json_page_matches_the_listing` in `tests/evidence.rs` checks.

use std::borrow::Cow;
use std::io;

use rusqlite::{Connection, Row};
use serde::{Deserialize, Serialize};

use super::super::nodes::parse_column;
use super::{conversion_failure, for_each_listed, json_column, text_column};
use crate::error::{Error, Result};
use crate::id::EvidenceId;
use crate::model::{EvidenceFilter, EvidenceKind};
use crate::store::PageRequest;

/// Writes the page of the listing for `filter` and `page` to `out` as JSON:
/// `{"items": [...], "next_cursor": ...}`, the members in the order of
/// [`Page`](crate::model::Page) and [`Evidence`](crate::model::Evidence).
pub(in crate::sqlite) fn write(
    conn: &Connection,
    filter: &EvidenceFilter,
    page: PageRequest<EvidenceId>,
    out: &mut Vec<u8>,
) -> Result<()> {
    let limit = page.limit as usize;
    let mut written = 0;
    let mut last_id = String::new();
    let mut more = false;

    out.extend_from_slice(b"{\"items\":[");
    for_each_listed(conn, filter, page, |row| {
        // The listing reads one row past the page when another page follows.
        if written == limit {
            more = true;
            return Ok(());
        }

        let item = ListedItem::from_row(row)?;
        if written > 0 {
            out.push(b',');
        }
        item.write_json(out)?;
        last_id.clear();
        last_id.push_str(item.id);
        written += 1;
        Ok(())
    })?;

    out.extend_from_slice(b"],\"next_cursor\":");
    write_json(out, &more.then_some(last_id.as_str()))?;
    out.push(b'}');
    Ok(())
}

fn write_json(out: &mut Vec<u8>, value: &impl Serialize) -> Result<()> {
    // The values contain only strings, integers, finite numbers and string-keyed maps, which
    // serialize into a `Vec` without error.
    serde_json::to_writer(out, value).map_err(|err| Error::Output(io::Error::from(err)))
}

/// One item of the page, borrowed from its row.
struct ListedItem<'r> {
    id: &'r str,
    kind: EvidenceKind,
    title: &'r str,
    content: &'r str,
    source: ListedSource<'r>,
    occurred_at: Option<&'r str>,
    customer: Option<ListedCustomer<'r>>,
    tags: Vec<Text<'r>>,
    metric: Option<ListedMetric<'r>>,
    version: u64,
    created_at: &'r str,
    updated_at: &'r str,
}

impl<'r> ListedItem<'r> {
    /// Reads an item from a row of the listing, whose columns are those of
    /// [`super::from_row`].
    fn from_row(row: &'r Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: required_text(row, 0)?,
            kind: parse_column(row, 1, EvidenceKind::from_name)?,
            title: required_text(row, 2)?,
            content: required_text(row, 3)?,
            source: ListedSource {
                system: text_column(row, 4)?,
                external_id: text_column(row, 5)?,
                url: text_column(row, 6)?,
            },
            occurred_at: text_column(row, 7)?,
            customer: json_column(row, 8)?,
            tags: json_column(row, 9)?.unwrap_or_default(),
            metric: json_column(row, 10)?,
            version: row.get(11)?,
            created_at: required_text(row, 12)?,
            updated_at: required_text(row, 13)?,
        })
    }

    /// Appends the item to `out` as the JSON object of its
    /// [`Evidence`](crate::model::Evidence): the same members, in the same order, and no
    /// `metric` member when it has none.
    fn write_json(&self, out: &mut Vec<u8>) -> Result<()> {
        out.extend_from_slice(b"{\"id\":");
        write_str(out, self.id);
        out.extend_from_slice(b",\"kind\":");
        write_str(out, self.kind.as_str());
        out.extend_from_slice(b",\"title\":");
        write_str(out, self.title);
        out.extend_from_slice(b",\"content\":");
        write_str(out, self.content);
        out.extend_from_slice(b",\"source\":");
        self.source.write_json(out);
        out.extend_from_slice(b",\"occurred_at\":");
        write_optional_str(out, self.occurred_at);
        out.extend_from_slice(b",\"customer\":");
        match &self.customer {
            Some(customer) => customer.write_json(out),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"tags\":");
        write_tags(out, &self.tags);
        if let Some(metric) = &self.metric {
            out.extend_from_slice(b",\"metric\":");
            write_json(out, metric)?;
        }
        out.extend_from_slice(b",\"version\":");
        write_json(out, &self.version)?;
        out.extend_from_slice(b",\"created_at\":");
        write_str(out, self.created_at);
        out.extend_from_slice(b",\"updated_at\":");
        write_str(out, self.updated_at);
        out.push(b'}');
        Ok(())
    }
}

/// Appends `value` to `out` as a JSON string, with the escapes that serde_json writes.
fn write_str(out: &mut Vec<u8>, value: &str) {
    json_escape_simd::escape_into(value, out);
}

/// Appends `value` to `out` as a JSON string, or `null` when it is `None`.
fn write_optional_str(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        Some(value) => write_str(out, value),
        None => out.extend_from_slice(b"null"),
    }
}

/// Appends `tags` to `out` as a JSON array of strings.
fn write_tags(out: &mut Vec<u8>, tags: &[Text<'_>]) {
    out.push(b'[');
    for (index, tag) in tags.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_str(out, &tag.0);
    }
    out.push(b']');
}

struct ListedSource<'r> {
    system: Option<&'r str>,
    external_id: Option<&'r str>,
    url: Option<&'r str>,
}

impl ListedSource<'_> {
    /// Appends the source to `out` as the JSON object of its
    /// [`Source`](crate::model::Source).
    fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"system\":");
        write_optional_str(out, self.system);
        out.extend_from_slice(b",\"external_id\":");
        write_optional_str(out, self.external_id);
        out.extend_from_slice(b",\"url\":");
        write_optional_str(out, self.url);
        out.push(b'}');
    }
}

/// The stored customer, with the fields and rules of [`Customer`](crate::model::Customer).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListedCustomer<'r> {
    #[serde(default, borrow)]
    segment: Option<Text<'r>>,
    #[serde(default, borrow)]
    account: Option<Text<'r>>,
}

impl ListedCustomer<'_> {
    /// Appends the customer to `out` as the JSON object of its
    /// [`Customer`](crate::model::Customer).
    fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"segment\":");
        write_optional_str(out, self.segment.as_ref().map(|text| &*text.0));
        out.extend_from_slice(b",\"account\":");
        write_optional_str(out, self.account.as_ref().map(|text| &*text.0));
        out.push(b'}');
    }
}

/// The stored metric, with the fields and rules of [`Metric`](crate::model::Metric).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListedMetric<'r> {
    #[serde(borrow)]
    name: Text<'r>,
    value: f64,
    #[serde(borrow)]
    unit: Text<'r>,
    #[serde(borrow)]
    period: Text<'r>,
}

/// A string of a JSON column: borrowed from the column's text, or unescaped into a `String`
/// when the text escapes a character.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
struct Text<'r>(#[serde(borrow)] Cow<'r, str>);

fn required_text<'r>(row: &'r Row<'_>, index: usize) -> rusqlite::Result<&'r str> {
    row.get_ref(index)?
        .as_str()
        .map_err(|err| conversion_failure(index, err))
}
