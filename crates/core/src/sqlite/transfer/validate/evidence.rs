//! The rules of a document's evidence items: refs, every field rule of a stored item, and one
//! item per source.

use std::collections::HashMap;

use super::{Problems, index_refs};
use crate::error::Error;
use crate::model::{Customer, DocumentEvidence, EvidenceKind, Metric, NewEvidence, Source};
use crate::rules;
use crate::sqlite::evidence;

/// Checks every evidence item and returns the index of each item by its ref.
pub(super) fn check_evidence<'a>(
    problems: &mut Problems,
    items: &'a [DocumentEvidence],
) -> HashMap<&'a str, usize> {
    let refs = index_refs(
        problems,
        "evidence",
        items.iter().map(|item| item.reference.as_str()),
    );

    let mut sources: HashMap<(&str, &str), usize> = HashMap::new();
    for (index, item) in items.iter().enumerate() {
        let prefix = format!("/evidence/{index}");
        let before = problems.0.len();
        check_evidence_fields(problems, &prefix, item);

        // The store checks the same rules on insert. Its first error is reported here too,
        // should a rule differ from the checks above.
        if problems.0.len() == before
            && let Err(err) = evidence::validate(to_new_evidence(item))
        {
            push_error(problems, &prefix, &err);
        }

        let (Some(system), Some(external_id)) = (&item.source.system, &item.source.external_id)
        else {
            continue;
        };
        let key = (system.trim(), external_id.trim());
        if let Some(first) = sources.get(&key) {
            problems.push(
                format!("{prefix}/source/external_id"),
                "duplicate_source",
                format!(
                    "/evidence/{first} already has source system `{}` and external id `{}`: \
                     merge the two items, or give each its own external id",
                    key.0, key.1
                ),
            );
            continue;
        }
        sources.insert(key, index);
    }

    refs
}

/// Checks each field of an evidence item on its own, so that every broken field is reported.
fn check_evidence_fields(problems: &mut Problems, prefix: &str, item: &DocumentEvidence) {
    match (item.kind, &item.metric) {
        (EvidenceKind::Metric, None) => push_error(problems, prefix, &Error::MetricRequired),
        (kind, Some(_)) if kind != EvidenceKind::Metric => {
            push_error(problems, prefix, &Error::MetricNotAllowed { kind });
        }
        _ => {}
    }

    problems.check(prefix, rules::title("/title", &item.title).map(drop));
    problems.check(
        prefix,
        rules::within_max("/content", &item.content, rules::CONTENT_MAX_CHARS).map(drop),
    );
    check_source(problems, prefix, &item.source);
    if let Some(occurred_at) = &item.occurred_at {
        problems.check(
            prefix,
            rules::timestamp("/occurred_at", occurred_at).map(drop),
        );
    }
    if let Some(customer) = &item.customer {
        check_customer(problems, prefix, customer);
    }
    problems.check(prefix, rules::tags(item.tags.clone()).map(drop));
    if let Some(metric) = &item.metric {
        check_metric(problems, prefix, metric);
    }
}

fn check_source(problems: &mut Problems, prefix: &str, source: &Source) {
    if let Some(system) = &source.system {
        problems.check(
            prefix,
            rules::short_text("/source/system", system).map(drop),
        );
    }
    if let Some(external_id) = &source.external_id {
        problems.check(
            prefix,
            rules::short_text("/source/external_id", external_id).map(drop),
        );
    }
    if let Some(url) = &source.url {
        problems.check(prefix, rules::url("/source/url", url).map(drop));
    }
}

fn check_customer(problems: &mut Problems, prefix: &str, customer: &Customer) {
    if let Some(segment) = &customer.segment {
        problems.check(
            prefix,
            rules::short_text("/customer/segment", segment).map(drop),
        );
    }
    if let Some(account) = &customer.account {
        problems.check(
            prefix,
            rules::short_text("/customer/account", account).map(drop),
        );
    }
}

fn check_metric(problems: &mut Problems, prefix: &str, metric: &Metric) {
    problems.check(
        prefix,
        rules::short_text("/metric/name", &metric.name).map(drop),
    );
    problems.check(
        prefix,
        rules::finite("/metric/value", metric.value).map(drop),
    );
    problems.check(
        prefix,
        rules::short_text("/metric/unit", &metric.unit).map(drop),
    );
    problems.check(
        prefix,
        rules::short_text("/metric/period", &metric.period).map(drop),
    );
}

/// Records a domain error about an evidence item with its code and pointer.
fn push_error(problems: &mut Problems, prefix: &str, err: &Error) {
    match err {
        Error::Field(field_error) => problems.field(prefix, field_error),
        Error::MetricRequired => problems.push(
            format!("{prefix}/metric"),
            "metric_required",
            format!("the {err}. Add it, or use another kind"),
        ),
        Error::MetricNotAllowed { .. } => problems.push(
            format!("{prefix}/metric"),
            "metric_not_allowed",
            format!("the {err}. Remove `metric`, or use kind metric"),
        ),
        other => problems.push(prefix.to_owned(), "invalid_evidence", other.to_string()),
    }
}

/// Returns the fields of a document's evidence item as a new item.
pub(in crate::sqlite::transfer) fn to_new_evidence(item: &DocumentEvidence) -> NewEvidence {
    NewEvidence {
        kind: item.kind,
        title: item.title.clone(),
        content: item.content.clone(),
        source: item.source.clone(),
        occurred_at: item.occurred_at.clone(),
        customer: item.customer.clone(),
        tags: item.tags.clone(),
        metric: item.metric.clone(),
    }
}
