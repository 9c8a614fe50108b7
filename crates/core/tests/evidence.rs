//! Evidence items: field rules, the metric rule, source uniqueness, listing and deletion.

mod common;

use common::{CTX, add, chain, evidence, field_of, link, metric, new_evidence, open, source};
use ost_linker_core::generate::{GenerateSpec, generate};
use ost_linker_core::{
    Customer, Error, Evidence, EvidenceFilter, EvidenceId, EvidenceKind, EvidencePatch,
    EvidenceStore, FieldError, NewEvidence, NodeKind, PageRequest, Source, SqliteStore, TreeStore,
};

fn create(store: &SqliteStore, new: NewEvidence) -> Result<Evidence, Error> {
    store.create_evidence(CTX, new)
}

fn patch(store: &SqliteStore, id: EvidenceId, patch: EvidencePatch) -> Result<Evidence, Error> {
    store.update_evidence(CTX, id, patch, None)
}

fn with_tags(tags: &[&str]) -> NewEvidence {
    NewEvidence {
        tags: tags.iter().map(|tag| (*tag).to_owned()).collect(),
        ..new_evidence(EvidenceKind::SupportTicket, "Import fails on merged cells")
    }
}

fn ids(items: &[Evidence]) -> Vec<EvidenceId> {
    items.iter().map(|item| item.id).collect()
}

fn list_all(store: &SqliteStore, filter: &EvidenceFilter) -> Vec<EvidenceId> {
    let page = store
        .list_evidence(
            filter,
            PageRequest {
                limit: 100,
                after: None,
            },
        )
        .expect("list evidence");
    ids(&page.items)
}

#[test]
fn evidence_creates_each_kind() {
    let store = open();

    for kind in EvidenceKind::ALL {
        let created = create(&store, new_evidence(kind, "Observation"))
            .unwrap_or_else(|err| panic!("creating {kind}: {err}"));
        let stored = store.get_evidence(created.id).expect("get evidence");

        assert_eq!(created.kind, kind, "{kind}: kind");
        assert_eq!(created.version, 1, "{kind}: version");
        assert_eq!(
            created.metric.is_some(),
            kind == EvidenceKind::Metric,
            "{kind}: metric present only for metric kind"
        );
        assert_eq!(stored, created, "{kind}: stored item equals created");
    }
}

#[test]
fn metric_kind_requires_metric() {
    let store = open();

    let err = create(
        &store,
        NewEvidence {
            metric: None,
            ..new_evidence(EvidenceKind::Metric, "Retention")
        },
    )
    .expect_err("metric kind without metric accepted");

    assert!(matches!(err, Error::MetricRequired), "{err:?}");
}

#[test]
fn metric_on_other_kinds_rejected() {
    let store = open();

    for kind in EvidenceKind::ALL
        .into_iter()
        .filter(|kind| *kind != EvidenceKind::Metric)
    {
        let err = create(
            &store,
            NewEvidence {
                metric: Some(metric()),
                ..new_evidence(kind, "Observation")
            },
        )
        .expect_err("metric on another kind accepted");

        assert!(
            matches!(err, Error::MetricNotAllowed { kind: k } if k == kind),
            "{kind}: {err:?}"
        );
    }
}

#[test]
fn metric_patch_rules() {
    let store = open();
    let snippet = create(
        &store,
        new_evidence(EvidenceKind::InterviewSnippet, "Quote"),
    )
    .expect("create snippet");
    let measured =
        create(&store, new_evidence(EvidenceKind::Metric, "Retention")).expect("create metric");

    let to_metric = patch(
        &store,
        snippet.id,
        EvidencePatch {
            kind: Some(EvidenceKind::Metric),
            ..EvidencePatch::default()
        },
    )
    .expect_err("kind changed to metric without a metric");
    let from_metric = patch(
        &store,
        measured.id,
        EvidencePatch {
            kind: Some(EvidenceKind::Document),
            ..EvidencePatch::default()
        },
    )
    .expect_err("kind changed away from metric while keeping the metric");
    let with_metric = patch(
        &store,
        snippet.id,
        EvidencePatch {
            kind: Some(EvidenceKind::Metric),
            metric: Some(Some(metric())),
            ..EvidencePatch::default()
        },
    )
    .expect("kind changed to metric with a metric");
    let cleared = patch(
        &store,
        measured.id,
        EvidencePatch {
            kind: Some(EvidenceKind::Document),
            metric: Some(None),
            ..EvidencePatch::default()
        },
    )
    .expect("kind changed away from metric, metric cleared");

    assert!(
        matches!(to_metric, Error::MetricRequired),
        "patch to metric: {to_metric:?}"
    );
    assert!(
        matches!(
            from_metric,
            Error::MetricNotAllowed {
                kind: EvidenceKind::Document
            }
        ),
        "patch from metric: {from_metric:?}"
    );
    assert_eq!(
        with_metric.metric,
        Some(metric()),
        "patch to metric with metric"
    );
    assert_eq!(
        cleared.metric, None,
        "patch from metric with metric cleared"
    );
    assert_eq!(
        store.get_evidence(snippet.id).expect("get").kind,
        EvidenceKind::Metric,
        "stored kind after the successful patch"
    );
}

#[test]
fn title_and_content_limits() {
    let store = open();

    let at_limit = create(
        &store,
        NewEvidence {
            title: "t".repeat(200),
            content: "c".repeat(50_000),
            ..new_evidence(EvidenceKind::Document, "x")
        },
    )
    .expect("title of 200 and content of 50,000 characters");
    let long_content = create(
        &store,
        NewEvidence {
            content: "c".repeat(50_001),
            ..new_evidence(EvidenceKind::Document, "x")
        },
    )
    .expect_err("content of 50,001 characters accepted");
    let long_title = create(
        &store,
        NewEvidence {
            title: "t".repeat(201),
            ..new_evidence(EvidenceKind::Document, "x")
        },
    )
    .expect_err("title of 201 characters accepted");
    let blank_title = create(
        &store,
        NewEvidence {
            title: "  ".into(),
            ..new_evidence(EvidenceKind::Document, "x")
        },
    )
    .expect_err("blank title accepted");
    let patched_content = patch(
        &store,
        at_limit.id,
        EvidencePatch {
            content: Some("c".repeat(50_001)),
            ..EvidencePatch::default()
        },
    )
    .expect_err("patch to content of 50,001 characters accepted");

    assert_eq!(
        at_limit.content.chars().count(),
        50_000,
        "content at limit kept whole"
    );
    assert!(
        matches!(
            long_content,
            Error::Field(FieldError::TooLong {
                field: "/content",
                length: 50_001,
                max: 50_000
            })
        ),
        "content over limit: {long_content:?}"
    );
    assert_eq!(
        field_of(&long_title, "title over limit"),
        "/title",
        "title over limit"
    );
    assert!(
        matches!(
            blank_title,
            Error::Field(FieldError::Empty {
                field: "/title",
                ..
            })
        ),
        "blank title: {blank_title:?}"
    );
    assert_eq!(
        field_of(&patched_content, "patched content over limit"),
        "/content",
        "patched content over limit"
    );
}

#[test]
fn tags_sorted_on_output() {
    let store = open();

    let created = create(
        &store,
        with_tags(&["onboarding", "data-entry", "churn_risk"]),
    )
    .expect("create with tags");
    let stored = store.get_evidence(created.id).expect("get");

    let sorted = ["churn_risk", "data-entry", "onboarding"];
    assert_eq!(created.tags, sorted, "created item");
    assert_eq!(stored.tags, sorted, "stored item");
}

#[test]
fn tags_invalid_rejected_with_pointer() {
    let store = open();
    let too_many: Vec<String> = (0..31).map(|n| format!("tag-{n}")).collect();
    let too_many: Vec<&str> = too_many.iter().map(String::as_str).collect();
    let long_tag = "t".repeat(51);

    let cases: [(&str, Vec<&str>, &str); 6] = [
        ("uppercase", vec!["Onboarding"], "/tags/0"),
        ("space", vec!["ok", "data entry"], "/tags/1"),
        ("empty", vec!["ok", "fine", ""], "/tags/2"),
        ("duplicate", vec!["churn", "setup", "churn"], "/tags/2"),
        ("too long", vec!["ok", &long_tag], "/tags/1"),
        ("too many", too_many, "/tags"),
    ];
    for (case, tags, pointer) in cases {
        let err = create(&store, with_tags(&tags)).expect_err("invalid tags accepted");

        assert_eq!(field_of(&err, case), pointer, "{case}");
    }
    assert_eq!(
        list_all(&store, &EvidenceFilter::default()),
        Vec::<EvidenceId>::new(),
        "no item stored after rejected tags"
    );
}

#[test]
fn tags_at_limits_accepted() {
    let store = open();
    let thirty: Vec<String> = (0..30).map(|n| format!("tag-{n:02}")).collect();
    let thirty: Vec<&str> = thirty.iter().map(String::as_str).collect();
    let long_tag = "t".repeat(50);

    let many = create(&store, with_tags(&thirty)).expect("30 tags");
    let long = create(&store, with_tags(&[&long_tag])).expect("tag of 50 characters");

    assert_eq!(many.tags.len(), 30, "30 tags kept");
    assert_eq!(long.tags, [long_tag], "tag of 50 characters kept");
}

#[test]
fn tags_patch_checked() {
    let store = open();
    let created = create(&store, with_tags(&["setup"])).expect("create");

    let err = patch(
        &store,
        created.id,
        EvidencePatch {
            tags: Some(vec!["setup".into(), "Setup".into()]),
            ..EvidencePatch::default()
        },
    )
    .expect_err("uppercase tag accepted in patch");
    let replaced = patch(
        &store,
        created.id,
        EvidencePatch {
            tags: Some(vec!["zeta".into(), "alpha".into()]),
            ..EvidencePatch::default()
        },
    )
    .expect("replace tags");

    assert_eq!(field_of(&err, "patched tags"), "/tags/1", "patched tags");
    assert_eq!(replaced.tags, ["alpha", "zeta"], "replaced tags sorted");
}

#[test]
fn occurred_at_normalised_to_utc() {
    let store = open();

    let cases = [
        ("2026-07-03T16:20:00+02:00", "2026-07-03T14:20:00.000Z"),
        ("2026-07-03T14:20:00Z", "2026-07-03T14:20:00.000Z"),
        ("2026-07-03t14:20:00.5z", "2026-07-03T14:20:00.500Z"),
        (
            "2026-07-03T09:20:00.123456-05:00",
            "2026-07-03T14:20:00.123Z",
        ),
        ("2026-01-01T00:30:00+01:00", "2025-12-31T23:30:00.000Z"),
        ("2026-06-30T23:59:60Z", "2026-06-30T23:59:59.999Z"),
        ("0000-01-01T00:00:00Z", "0000-01-01T00:00:00.000Z"),
        ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59.000Z"),
    ];
    for (input, stored) in cases {
        let created = create(
            &store,
            NewEvidence {
                occurred_at: Some(input.into()),
                ..new_evidence(EvidenceKind::SurveyResponse, "Answer")
            },
        )
        .unwrap_or_else(|err| panic!("{input}: {err}"));

        assert_eq!(created.occurred_at.as_deref(), Some(stored), "{input}");
    }
}

#[test]
fn occurred_at_invalid_rejected() {
    let store = open();

    for input in [
        "3 July 2026",
        "2026-07-03",
        "2026-07-03T14:20:00",
        "2026-13-03T14:20:00Z",
        "",
        // Valid RFC 3339, but the UTC moment has no four-digit year.
        "0000-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
    ] {
        let err = create(
            &store,
            NewEvidence {
                occurred_at: Some(input.into()),
                ..new_evidence(EvidenceKind::SurveyResponse, "Answer")
            },
        )
        .expect_err("invalid timestamp accepted");

        assert!(
            matches!(
                &err,
                Error::Field(FieldError::InvalidTimestamp { field: "/occurred_at", value }) if value == input
            ),
            "{input:?}: {err:?}"
        );
    }
}

#[test]
fn occurred_at_cleared_by_patch() {
    let store = open();
    let created = create(
        &store,
        NewEvidence {
            occurred_at: Some("2026-07-03T14:20:00Z".into()),
            ..new_evidence(EvidenceKind::SurveyResponse, "Answer")
        },
    )
    .expect("create");

    let cleared = patch(
        &store,
        created.id,
        EvidencePatch {
            occurred_at: Some(None),
            ..EvidencePatch::default()
        },
    )
    .expect("clear occurred_at");

    assert_eq!(cleared.occurred_at, None, "cleared by patch");
}

#[test]
fn url_http_or_https_only() {
    let store = open();

    for url in ["https://helpdesk.example.com/t/4711", "http://example.com"] {
        let created = create(
            &store,
            NewEvidence {
                source: Source {
                    url: Some(url.into()),
                    ..Source::default()
                },
                ..new_evidence(EvidenceKind::SupportTicket, "Ticket")
            },
        )
        .unwrap_or_else(|err| panic!("{url}: {err}"));

        assert_eq!(created.source.url.as_deref(), Some(url), "{url}");
    }
    for url in [
        "ftp://example.com/t/4711",
        "mailto:someone@example.com",
        "helpdesk.example.com/t/4711",
        "https://",
        "https://help desk.example.com",
    ] {
        let err = create(
            &store,
            NewEvidence {
                source: Source {
                    url: Some(url.into()),
                    ..Source::default()
                },
                ..new_evidence(EvidenceKind::SupportTicket, "Ticket")
            },
        )
        .expect_err("invalid url accepted");

        assert!(
            matches!(
                err,
                Error::Field(FieldError::InvalidUrl {
                    field: "/source/url",
                    ..
                })
            ),
            "{url}: {err:?}"
        );
    }
}

#[test]
fn customer_fields_trimmed_and_checked() {
    let store = open();

    let created = create(
        &store,
        NewEvidence {
            customer: Some(Customer {
                segment: Some(" smb-hospitality ".into()),
                account: None,
            }),
            ..new_evidence(EvidenceKind::InterviewSnippet, "Quote")
        },
    )
    .expect("create with customer");
    let blank = create(
        &store,
        NewEvidence {
            customer: Some(Customer {
                segment: None,
                account: Some("   ".into()),
            }),
            ..new_evidence(EvidenceKind::InterviewSnippet, "Quote")
        },
    )
    .expect_err("blank account accepted");

    assert_eq!(
        created.customer.and_then(|customer| customer.segment),
        Some("smb-hospitality".into()),
        "segment trimmed"
    );
    assert_eq!(
        field_of(&blank, "blank account"),
        "/customer/account",
        "blank account"
    );
}

#[test]
fn source_duplicate_names_existing() {
    let store = open();
    let first = create(
        &store,
        NewEvidence {
            source: source("helpdesk", "4711"),
            ..new_evidence(EvidenceKind::SupportTicket, "Ticket 4711")
        },
    )
    .expect("create first");

    let err = create(
        &store,
        NewEvidence {
            source: source("helpdesk", "4711"),
            ..new_evidence(EvidenceKind::SupportTicket, "Ticket 4711 again")
        },
    )
    .expect_err("duplicate source accepted");

    match &err {
        Error::DuplicateSource {
            system,
            external_id,
            existing_id,
        } => {
            assert_eq!(system, "helpdesk", "system named");
            assert_eq!(external_id, "4711", "external id named");
            assert_eq!(existing_id, &first.id.to_string(), "existing item named");
        }
        other => panic!("expected DuplicateSource, got {other:?}"),
    }
    assert_eq!(
        list_all(&store, &EvidenceFilter::default()),
        [first.id],
        "duplicate not stored"
    );
}

#[test]
fn source_same_id_other_system_allowed() {
    let store = open();

    let helpdesk = create(
        &store,
        NewEvidence {
            source: source("helpdesk", "4711"),
            ..new_evidence(EvidenceKind::SupportTicket, "Ticket")
        },
    )
    .expect("helpdesk item");
    let survey = create(
        &store,
        NewEvidence {
            source: source("survey-tool", "4711"),
            ..new_evidence(EvidenceKind::SurveyResponse, "Answer")
        },
    );
    let without_system = create(
        &store,
        NewEvidence {
            source: Source {
                system: None,
                external_id: Some("4711".into()),
                url: None,
            },
            ..new_evidence(EvidenceKind::SurveyResponse, "Answer")
        },
    );

    assert!(survey.is_ok(), "other system: {survey:?}");
    assert!(without_system.is_ok(), "no system: {without_system:?}");
    assert_eq!(
        helpdesk.source,
        source("helpdesk", "4711"),
        "first source kept"
    );
}

#[test]
fn source_duplicate_via_patch() {
    let store = open();
    let first = create(
        &store,
        NewEvidence {
            source: source("helpdesk", "4711"),
            ..new_evidence(EvidenceKind::SupportTicket, "Ticket 4711")
        },
    )
    .expect("create first");
    let second = create(
        &store,
        NewEvidence {
            source: source("helpdesk", "4712"),
            ..new_evidence(EvidenceKind::SupportTicket, "Ticket 4712")
        },
    )
    .expect("create second");

    let err = patch(
        &store,
        second.id,
        EvidencePatch {
            source: Some(source("helpdesk", "4711")),
            ..EvidencePatch::default()
        },
    )
    .expect_err("patch onto another item's source accepted");
    let own = patch(
        &store,
        first.id,
        EvidencePatch {
            title: Some("Ticket 4711, renamed".into()),
            source: Some(source("helpdesk", "4711")),
            ..EvidencePatch::default()
        },
    );

    assert!(
        matches!(&err, Error::DuplicateSource { existing_id, .. } if *existing_id == first.id.to_string()),
        "patch onto first's source: {err:?}"
    );
    assert_eq!(
        store.get_evidence(second.id).expect("get second"),
        second,
        "second unchanged after rejected patch"
    );
    assert!(own.is_ok(), "patch keeping own source: {own:?}");
}

#[test]
fn list_filters_kind_tag_system() {
    let store = open();
    let ticket = create(
        &store,
        NewEvidence {
            source: source("helpdesk", "1"),
            tags: vec!["setup".into()],
            ..new_evidence(EvidenceKind::SupportTicket, "Ticket")
        },
    )
    .expect("ticket");
    let answer = create(
        &store,
        NewEvidence {
            source: source("survey-tool", "1"),
            tags: vec!["setup".into(), "pricing".into()],
            ..new_evidence(EvidenceKind::SurveyResponse, "Answer")
        },
    )
    .expect("answer");
    let measured = create(&store, new_evidence(EvidenceKind::Metric, "Retention")).expect("metric");

    let by_kind = list_all(
        &store,
        &EvidenceFilter {
            kind: Some(EvidenceKind::SurveyResponse),
            ..EvidenceFilter::default()
        },
    );
    let by_tag = list_all(
        &store,
        &EvidenceFilter {
            tag: Some("setup".into()),
            ..EvidenceFilter::default()
        },
    );
    let by_system = list_all(
        &store,
        &EvidenceFilter {
            source_system: Some("helpdesk".into()),
            ..EvidenceFilter::default()
        },
    );
    let combined = list_all(
        &store,
        &EvidenceFilter {
            kind: Some(EvidenceKind::SupportTicket),
            tag: Some("pricing".into()),
            ..EvidenceFilter::default()
        },
    );
    let unfiltered = list_all(&store, &EvidenceFilter::default());

    assert_eq!(by_kind, [answer.id], "kind filter");
    assert_eq!(by_tag, [ticket.id, answer.id], "tag filter");
    assert_eq!(by_system, [ticket.id], "source system filter");
    assert_eq!(
        combined,
        Vec::<EvidenceId>::new(),
        "filters combine with and"
    );
    assert_eq!(
        unfiltered,
        [ticket.id, answer.id, measured.id],
        "no filter, creation order"
    );
}

#[test]
fn list_filter_tag_follows_patch() {
    let store = open();
    let created = create(&store, with_tags(&["setup"])).expect("create");

    patch(
        &store,
        created.id,
        EvidencePatch {
            tags: Some(vec!["pricing".into()]),
            ..EvidencePatch::default()
        },
    )
    .expect("replace tags");
    let old_tag = list_all(
        &store,
        &EvidenceFilter {
            tag: Some("setup".into()),
            ..EvidenceFilter::default()
        },
    );
    let new_tag = list_all(
        &store,
        &EvidenceFilter {
            tag: Some("pricing".into()),
            ..EvidenceFilter::default()
        },
    );

    assert_eq!(
        old_tag,
        Vec::<EvidenceId>::new(),
        "old tag no longer matches"
    );
    assert_eq!(new_tag, [created.id], "new tag matches");
}

#[test]
fn list_filter_linked() {
    let store = open();
    let chain = chain(&store, "Trial retention");
    let linked = evidence(&store, "Linked quote");
    let unlinked = evidence(&store, "Unlinked quote");
    link(&store, &chain.opportunity, &linked);

    let only_linked = list_all(
        &store,
        &EvidenceFilter {
            linked: Some(true),
            ..EvidenceFilter::default()
        },
    );
    let only_unlinked = list_all(
        &store,
        &EvidenceFilter {
            linked: Some(false),
            ..EvidenceFilter::default()
        },
    );

    assert_eq!(only_linked, [linked.id], "linked: Some(true)");
    assert_eq!(only_unlinked, [unlinked.id], "linked: Some(false)");
}

#[test]
fn list_pages_with_cursor() {
    let store = open();
    let created: Vec<EvidenceId> = (0..5)
        .map(|n| evidence(&store, &format!("Quote {n}")).id)
        .collect();

    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = store
            .list_evidence(&EvidenceFilter::default(), PageRequest { limit: 2, after })
            .expect("list page");
        pages += 1;
        assert!(page.items.len() <= 2, "page {pages} respects the limit");
        seen.extend(ids(&page.items));
        match page.next_cursor {
            Some(cursor) => after = Some(EvidenceId::parse(&cursor).expect("cursor is an id")),
            None => break,
        }
    }

    assert_eq!(seen, created, "every item once, in creation order");
    assert_eq!(pages, 3, "five items in pages of two");
}

#[test]
fn list_pages_with_filter() {
    let store = open();
    let mut tagged = Vec::new();
    for n in 0..4 {
        let item = create(&store, with_tags(&["setup"])).expect("tagged");
        tagged.push(item.id);
        evidence(&store, &format!("Untagged {n}"));
    }
    let filter = EvidenceFilter {
        tag: Some("setup".into()),
        ..EvidenceFilter::default()
    };

    let first = store
        .list_evidence(
            &filter,
            PageRequest {
                limit: 3,
                after: None,
            },
        )
        .expect("page 1");
    let cursor = EvidenceId::parse(first.next_cursor.as_deref().expect("cursor")).expect("parse");
    let second = store
        .list_evidence(
            &filter,
            PageRequest {
                limit: 3,
                after: Some(cursor),
            },
        )
        .expect("page 2");

    assert_eq!(ids(&first.items), tagged[..3], "first page");
    assert_eq!(ids(&second.items), tagged[3..], "second page");
    assert_eq!(second.next_cursor, None, "no cursor after the last page");
}

#[test]
fn delete_linked_needs_with_links() {
    let store = open();
    let chain = chain(&store, "Trial retention");
    let quote = evidence(&store, "Quote");
    let first = link(&store, &chain.opportunity, &quote);
    let second = link(&store, &chain.solution, &quote);

    let rejected = store
        .delete_evidence(CTX, quote.id, false, None)
        .expect_err("linked evidence deleted without with_links");
    let still_there = store.get_evidence(quote.id);
    let deleted_links = store
        .delete_evidence(CTX, quote.id, true, None)
        .expect("delete with links");

    assert!(
        matches!(&rejected, Error::EvidenceLinked { id, links: 2 } if *id == quote.id.to_string()),
        "without with_links: {rejected:?}"
    );
    assert!(still_there.is_ok(), "kept after rejection: {still_there:?}");
    assert_eq!(deleted_links, 2, "links deleted");
    assert!(
        matches!(
            store.get_evidence(quote.id),
            Err(Error::NotFound {
                entity: "evidence",
                ..
            })
        ),
        "evidence gone"
    );
    for link_id in [first.id, second.id] {
        assert!(
            matches!(store.get_link(link_id), Err(Error::NotFound { .. })),
            "link {link_id} gone"
        );
    }
    for node in [&chain.opportunity, &chain.solution] {
        assert!(store.get_node(node.id).is_ok(), "node {} kept", node.title);
    }
}

#[test]
fn delete_unlinked_evidence() {
    let store = open();
    let quote = evidence(&store, "Quote");

    let deleted_links = store
        .delete_evidence(CTX, quote.id, false, None)
        .expect("delete");
    let again = store
        .delete_evidence(CTX, quote.id, false, None)
        .expect_err("deleted twice");

    assert_eq!(deleted_links, 0, "no links to delete");
    assert!(
        matches!(again, Error::NotFound { .. }),
        "second delete: {again:?}"
    );
}

#[test]
fn delete_with_links_keeps_other_evidence() {
    let store = open();
    let chain = chain(&store, "Trial retention");
    let doomed = evidence(&store, "Doomed");
    let other_item = evidence(&store, "Kept");
    link(&store, &chain.opportunity, &doomed);
    let kept_link = link(&store, &chain.opportunity, &other_item);
    let extra = add(
        &store,
        &chain.tree.root,
        NodeKind::Opportunity,
        "Pricing unclear",
    );

    store
        .delete_evidence(CTX, doomed.id, true, None)
        .expect("delete with links");
    let remaining = store
        .list_node_links(chain.opportunity.id)
        .expect("list node links");

    assert_eq!(
        remaining
            .iter()
            .map(|node_link| node_link.link.id)
            .collect::<Vec<_>>(),
        [kept_link.id],
        "other item's link kept"
    );
    assert!(store.get_node(extra.id).is_ok(), "unrelated node kept");
}

#[test]
fn get_missing_evidence_not_found() {
    let store = open();

    let err = store
        .get_evidence(EvidenceId::generate())
        .expect_err("found a missing item");

    assert!(
        matches!(
            err,
            Error::NotFound {
                entity: "evidence",
                ..
            }
        ),
        "{err:?}"
    );
}

/// Returns every ASCII character and a few longer ones after `offset` letters. Over offsets
/// 0 to 63, each character that needs an escape falls at every position of a 32-byte block,
/// the width of json_escape_simd's AVX2 routine.
fn characters_after(offset: usize) -> String {
    let characters = (0..=0x7f_u8)
        .map(char::from)
        .chain(['é', '東', '\u{2028}', '🙂']);
    "x".repeat(offset).chars().chain(characters).collect()
}

/// Pages of `filter` in turn, each as the listing returns it and as `write_evidence_page`
/// writes it.
fn both_renderings(store: &SqliteStore, filter: &EvidenceFilter, limit: u32) {
    let mut after = None;
    loop {
        let page = PageRequest { limit, after };
        let listed = store.list_evidence(filter, page).expect("list page");
        let mut written = Vec::new();
        store
            .write_evidence_page(filter, page, &mut written)
            .expect("write page");

        let expected = serde_json::to_string(&listed).expect("serialize page");
        assert_eq!(
            String::from_utf8(written).expect("UTF-8"),
            expected,
            "{filter:?}, limit {limit}, after {after:?}"
        );

        match listed.next_cursor {
            Some(cursor) => after = Some(EvidenceId::parse(&cursor).expect("cursor is an id")),
            None => break,
        }
    }
}

#[test]
fn json_page_matches_the_listing() {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    let spec = GenerateSpec {
        nodes: 200,
        evidence: 120,
        seed: 3,
    };
    generate(file.path(), spec).expect("generate");
    let store = SqliteStore::open(file.path()).expect("open generated store");
    let unusual = NewEvidence {
        content: "Line one\nline \"two\"\t\\ tab, NUL \u{0} and \u{1f}, 東京, emoji 🙂".into(),
        source: Source {
            url: Some("https://help.example.com/t/1?a=b&c=\"d\"".into()),
            ..source("helpdesk", "quote-\"1\"")
        },
        occurred_at: Some("2026-03-01T10:00:00Z".into()),
        customer: Some(Customer {
            segment: Some("smb \"hospitality\"".into()),
            account: None,
        }),
        tags: vec!["résumé".into(), "setup".into()],
        ..new_evidence(EvidenceKind::Metric, "A \"quoted\" title\u{7f}")
    };
    create(&store, unusual).expect("create the unusual item");
    let long = NewEvidence {
        content: (0..64).map(characters_after).collect(),
        ..new_evidence(EvidenceKind::Document, &characters_after(17))
    };
    create(&store, long).expect("create the item of long escaped text");
    create(&store, with_tags(&["setup"])).expect("create a tagged item");

    for limit in [1, 7, 50] {
        both_renderings(&store, &EvidenceFilter::default(), limit);
    }
    let filters = [
        EvidenceFilter {
            kind: Some(EvidenceKind::Metric),
            ..EvidenceFilter::default()
        },
        EvidenceFilter {
            tag: Some("setup".into()),
            ..EvidenceFilter::default()
        },
        EvidenceFilter {
            linked: Some(false),
            ..EvidenceFilter::default()
        },
    ];
    for filter in &filters {
        both_renderings(&store, filter, 10);
    }
}
