//! Evidence rows and their tags.

mod json_page;

use std::sync::LazyLock;

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::history::{self, Change};
use super::nodes::parse_column;
use super::{check_version, idempotency, links, not_found};
use crate::error::{Error, Result};
use crate::id::EvidenceId;
use crate::model::{
    Customer, Evidence, EvidenceFilter, EvidenceKind, EvidencePatch, Metric, NewEvidence, Page,
    Source, WriteContext,
};
use crate::store::PageRequest;
use crate::{rules, time};

pub(super) use json_page::write as write_page;

const COLUMNS: &str = "id, kind, title, content, source_system, source_external_id, source_url, \
                       occurred_at, customer, tags, metric, version, created_at, updated_at";

pub(super) const FIND_BY_SOURCE_SQL: &str =
    "SELECT id FROM evidence WHERE source_system = ?1 AND source_external_id = ?2";
pub(super) static INSERT_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO evidence ({COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
    )
});
pub(super) const DELETE_TAGS_SQL: &str = "DELETE FROM evidence_tags WHERE evidence_id = ?1";
pub(super) const INSERT_TAG_SQL: &str =
    "INSERT INTO evidence_tags (tag, evidence_id) VALUES (?1, ?2)";
pub(super) static GET_SQL: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {COLUMNS} FROM evidence WHERE id = ?1"));
pub(super) const UPDATE_SQL: &str = "UPDATE evidence
     SET kind = ?2, title = ?3, content = ?4, source_system = ?5, source_external_id = ?6,
         source_url = ?7, occurred_at = ?8, customer = ?9, tags = ?10, metric = ?11,
         version = ?12, updated_at = ?13
     WHERE id = ?1";
pub(super) const DELETE_SQL: &str = "DELETE FROM evidence WHERE id = ?1";

/// The filters every listing checks row by row: `?3` source system, `?4` linked or not.
///
/// NOTE: neither has an index that yields rows in id order. So a page with a rare source
/// system reads rows until it has found `limit + 1` matches or reached the end, and so does
/// `linked=false` in a store where nearly every item is linked. [`EvidenceFilter::is_indexed`]
/// is false for a filter with either, so an index added here needs a change there.
const ROW_FILTERS: &str = "(?3 IS NULL OR evidence.source_system = ?3)
       AND (?4 IS NULL OR ?4 = EXISTS (SELECT 1 FROM links WHERE links.evidence_id = evidence.id))";

/// One page of evidence in id order, without a kind or tag filter. Every listing takes the
/// same parameters: `?1` kind, `?2` tag, `?3` source system, `?4` linked, `?5` the last id of
/// the previous page or `''` for the first page, `?6` the number of rows to return.
pub(super) static LIST_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {COLUMNS} FROM evidence
         WHERE evidence.id > ?5 AND {ROW_FILTERS}
         ORDER BY evidence.id
         LIMIT ?6"
    )
});
/// One page of the items of kind `?1`, read from the `evidence_by_kind` index in id order.
pub(super) static LIST_BY_KIND_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {COLUMNS} FROM evidence
         WHERE evidence.kind = ?1 AND evidence.id > ?5 AND {ROW_FILTERS}
         ORDER BY evidence.id
         LIMIT ?6"
    )
});
/// One page of the items with tag `?2`, read from the `evidence_tags` primary key in id order.
pub(super) static LIST_BY_TAG_SQL: LazyLock<String> = LazyLock::new(|| {
    let columns = super::qualified("evidence", COLUMNS);
    format!(
        "SELECT {columns}
         FROM evidence_tags JOIN evidence ON evidence.id = evidence_tags.evidence_id
         WHERE evidence_tags.tag = ?2 AND evidence_tags.evidence_id > ?5
           AND (?1 IS NULL OR evidence.kind = ?1) AND {ROW_FILTERS}
         ORDER BY evidence_tags.evidence_id
         LIMIT ?6"
    )
});

fn from_row(row: &Row<'_>) -> rusqlite::Result<Evidence> {
    Ok(Evidence {
        id: row.get(0)?,
        kind: parse_column(row, 1, EvidenceKind::from_name)?,
        title: row.get(2)?,
        content: row.get(3)?,
        source: Source {
            system: row.get(4)?,
            external_id: row.get(5)?,
            url: row.get(6)?,
        },
        occurred_at: row.get(7)?,
        customer: json_column(row, 8)?,
        tags: json_column(row, 9)?.unwrap_or_default(),
        metric: json_column(row, 10)?,
        version: row.get(11)?,
        created_at: row.get(12)?,
        updated_at: row.get(13)?,
    })
}

/// Parses the JSON text of column `index`, borrowing strings from it where `T` can.
fn json_column<'r, T: serde::Deserialize<'r>>(
    row: &'r Row<'_>,
    index: usize,
) -> rusqlite::Result<Option<T>> {
    text_column(row, index)?
        .map(|text| serde_json::from_str(text).map_err(|err| conversion_failure(index, err)))
        .transpose()
}

/// Returns the text of column `index`, or `None` when it is null, borrowed from the row.
fn text_column<'r>(row: &'r Row<'_>, index: usize) -> rusqlite::Result<Option<&'r str>> {
    row.get_ref(index)?
        .as_str_or_null()
        .map_err(|err| conversion_failure(index, err))
}

fn conversion_failure(
    index: usize,
    err: impl std::error::Error + Send + Sync + 'static,
) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(err))
}

fn to_json(value: &impl serde::Serialize) -> String {
    // The crate's own value types always serialize.
    serde_json::to_string(value).unwrap_or_default()
}

/// Checks every field rule of an evidence item and returns it in stored form.
pub(super) fn validate(new: NewEvidence) -> Result<NewEvidence> {
    match (new.kind, &new.metric) {
        (EvidenceKind::Metric, None) => return Err(Error::MetricRequired),
        (kind, Some(_)) if kind != EvidenceKind::Metric => {
            return Err(Error::MetricNotAllowed { kind });
        }
        _ => {}
    }

    Ok(NewEvidence {
        kind: new.kind,
        title: rules::title("/title", &new.title)?,
        content: rules::within_max("/content", &new.content, rules::CONTENT_MAX_CHARS)?,
        source: Source {
            system: optional(new.source.system, |value| {
                rules::short_text("/source/system", &value)
            })?,
            external_id: optional(new.source.external_id, |value| {
                rules::short_text("/source/external_id", &value)
            })?,
            url: optional(new.source.url, |value| rules::url("/source/url", &value))?,
        },
        occurred_at: optional(new.occurred_at, |value| {
            rules::timestamp("/occurred_at", &value)
        })?,
        customer: optional(new.customer, |customer| {
            Ok::<_, Error>(Customer {
                segment: optional(customer.segment, |value| {
                    rules::short_text("/customer/segment", &value)
                })?,
                account: optional(customer.account, |value| {
                    rules::short_text("/customer/account", &value)
                })?,
            })
        })?,
        tags: rules::tags(new.tags)?,
        metric: optional(new.metric, |metric| {
            Ok::<_, Error>(Metric {
                name: rules::short_text("/metric/name", &metric.name)?,
                value: rules::finite("/metric/value", metric.value)?,
                unit: rules::short_text("/metric/unit", &metric.unit)?,
                period: rules::short_text("/metric/period", &metric.period)?,
            })
        })?,
    })
}

fn optional<T, U, E>(value: Option<T>, check: impl FnOnce(T) -> Result<U, E>) -> Result<Option<U>>
where
    Error: From<E>,
{
    Ok(value.map(check).transpose()?)
}

/// Returns an error when another item has the same source system and external id.
fn check_source_unique(
    conn: &Connection,
    source: &Source,
    except: Option<EvidenceId>,
) -> Result<()> {
    let (Some(system), Some(external_id)) = (&source.system, &source.external_id) else {
        return Ok(());
    };

    match find_by_source(conn, system, external_id)? {
        Some(existing) if Some(existing) != except => Err(Error::DuplicateSource {
            system: system.clone(),
            external_id: external_id.clone(),
            existing_id: existing.to_string(),
        }),
        _ => Ok(()),
    }
}

/// Returns the id of the item with this source system and external id, if any.
pub(super) fn find_by_source(
    conn: &Connection,
    system: &str,
    external_id: &str,
) -> Result<Option<EvidenceId>> {
    Ok(conn
        .prepare_cached(FIND_BY_SOURCE_SQL)?
        .query_row([system, external_id], |row| row.get(0))
        .optional()?)
}

pub(super) fn create(
    conn: &mut Connection,
    ctx: &WriteContext,
    new: NewEvidence,
) -> Result<Evidence> {
    let tx = conn.savepoint()?;
    let evidence = insert_new(&tx, new)?;
    idempotency::record(&tx, ctx, 201, &evidence)?;
    tx.commit()?;

    Ok(evidence)
}

/// Validates and inserts a new item inside the caller's transaction.
pub(super) fn insert_new(conn: &Connection, new: NewEvidence) -> Result<Evidence> {
    let new = validate(new)?;
    check_source_unique(conn, &new.source, None)?;

    let now = time::now();
    let evidence = Evidence {
        id: EvidenceId::generate(),
        kind: new.kind,
        title: new.title,
        content: new.content,
        source: new.source,
        occurred_at: new.occurred_at,
        customer: new.customer,
        tags: new.tags,
        metric: new.metric,
        version: 1,
        created_at: now.clone(),
        updated_at: now,
    };
    conn.prepare_cached(&INSERT_SQL)?.execute(params![
        evidence.id,
        evidence.kind.as_str(),
        evidence.title,
        evidence.content,
        evidence.source.system,
        evidence.source.external_id,
        evidence.source.url,
        evidence.occurred_at,
        evidence.customer.as_ref().map(to_json),
        to_json(&evidence.tags),
        evidence.metric.as_ref().map(to_json),
        evidence.version,
        evidence.created_at,
        evidence.updated_at
    ])?;
    write_tags(conn, &evidence)?;

    Ok(evidence)
}

fn write_tags(conn: &Connection, evidence: &Evidence) -> Result<()> {
    conn.prepare_cached(DELETE_TAGS_SQL)?
        .execute([evidence.id])?;
    let mut insert = conn.prepare_cached(INSERT_TAG_SQL)?;
    for tag in &evidence.tags {
        insert.execute(params![tag, evidence.id])?;
    }

    Ok(())
}

pub(super) fn list(
    conn: &Connection,
    filter: &EvidenceFilter,
    page: PageRequest<EvidenceId>,
) -> Result<Page<Evidence>> {
    let mut items = Vec::new();
    for_each_listed(conn, filter, page, |row| {
        items.push(from_row(row)?);
        Ok(())
    })?;

    Ok(Page::from_overfetch(items, page.limit, |evidence| {
        evidence.id.to_string()
    }))
}

/// Runs the listing for `filter` and `page`, and calls `each` with every row it reads, in id
/// order: the rows of the page and, when another page follows, one more.
fn for_each_listed(
    conn: &Connection,
    filter: &EvidenceFilter,
    page: PageRequest<EvidenceId>,
    mut each: impl FnMut(&Row<'_>) -> Result<()>,
) -> Result<()> {
    // Each filter that has an index in id order gets its own statement, so the page starts
    // with an index search instead of a read of the table from its first row.
    let sql: &str = match (&filter.tag, filter.kind) {
        (Some(_), _) => &LIST_BY_TAG_SQL,
        (None, Some(_)) => &LIST_BY_KIND_SQL,
        (None, None) => &LIST_SQL,
    };
    let mut statement = conn.prepare_cached(sql)?;
    let after = page.after.map(|id| id.to_string()).unwrap_or_default();
    let mut rows = statement.query(params![
        filter.kind.map(EvidenceKind::as_str),
        filter.tag,
        filter.source_system,
        filter.linked,
        after,
        i64::from(page.limit) + 1
    ])?;

    while let Some(row) = rows.next()? {
        each(row)?;
    }
    Ok(())
}

pub(super) fn get(conn: &Connection, id: EvidenceId) -> Result<Evidence> {
    conn.prepare_cached(&GET_SQL)?
        .query_row([id], from_row)
        .map_err(not_found("evidence", id))
}

pub(super) fn update(
    conn: &mut Connection,
    id: EvidenceId,
    patch: EvidencePatch,
    expected_version: Option<u64>,
) -> Result<Evidence> {
    let tx = conn.savepoint()?;
    let before = get(&tx, id)?;
    check_version("evidence", id, expected_version, before.version)?;

    let merged = validate(NewEvidence {
        kind: patch.kind.unwrap_or(before.kind),
        title: patch.title.unwrap_or(before.title),
        content: patch.content.unwrap_or(before.content),
        source: patch.source.unwrap_or(before.source),
        occurred_at: patch.occurred_at.unwrap_or(before.occurred_at),
        customer: patch.customer.unwrap_or(before.customer),
        tags: patch.tags.unwrap_or(before.tags),
        metric: patch.metric.unwrap_or(before.metric),
    })?;
    check_source_unique(&tx, &merged.source, Some(id))?;

    let after = Evidence {
        id,
        kind: merged.kind,
        title: merged.title,
        content: merged.content,
        source: merged.source,
        occurred_at: merged.occurred_at,
        customer: merged.customer,
        tags: merged.tags,
        metric: merged.metric,
        version: before.version + 1,
        created_at: before.created_at,
        updated_at: time::now(),
    };
    tx.prepare_cached(UPDATE_SQL)?.execute(params![
        id,
        after.kind.as_str(),
        after.title,
        after.content,
        after.source.system,
        after.source.external_id,
        after.source.url,
        after.occurred_at,
        after.customer.as_ref().map(to_json),
        to_json(&after.tags),
        after.metric.as_ref().map(to_json),
        after.version,
        after.updated_at
    ])?;
    write_tags(&tx, &after)?;
    tx.commit()?;

    Ok(after)
}

/// Deletes an item; with `with_links`, its links go too, each recorded as an unlink in the
/// history of its node's tree. Returns how many links were deleted.
pub(super) fn delete(
    conn: &mut Connection,
    ctx: &WriteContext,
    id: EvidenceId,
    with_links: bool,
    expected_version: Option<u64>,
) -> Result<u64> {
    let tx = conn.savepoint()?;
    let evidence = get(&tx, id)?;
    check_version("evidence", id, expected_version, evidence.version)?;

    let linked = links::of_evidence(&tx, id)?;
    if !linked.is_empty() && !with_links {
        return Err(Error::EvidenceLinked {
            id: id.to_string(),
            links: linked.len() as u64,
        });
    }

    for (link, tree_id) in &linked {
        history::record(
            &tx,
            ctx,
            Change::deleted(*tree_id, "link", link.id.to_string(), link).into_unlink(),
        )?;
    }
    // Foreign keys cascade the delete to the item's links and tags.
    tx.prepare_cached(DELETE_SQL)?.execute([id])?;
    tx.commit()?;

    Ok(linked.len() as u64)
}
