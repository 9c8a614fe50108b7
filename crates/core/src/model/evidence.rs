//! Evidence: records of what customers said, wrote and did, kept apart from any one tree.

use derive_more::Display;
use serde::{Deserialize, Serialize};

use crate::id::EvidenceId;

/// The kind of record an evidence item is.
#[derive(Debug, Display, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// A quote or summary from a customer interview.
    #[display("interview_snippet")]
    InterviewSnippet,
    /// A ticket from a help desk.
    #[display("support_ticket")]
    SupportTicket,
    /// One answer to a survey question.
    #[display("survey_response")]
    SurveyResponse,
    /// A measured number; the only kind that carries a [`Metric`].
    #[display("metric")]
    Metric,
    /// A longer text: a research synthesis, a readout, a spec.
    #[display("document")]
    Document,
}

impl EvidenceKind {
    /// All kinds.
    pub const ALL: [EvidenceKind; 5] = [
        EvidenceKind::InterviewSnippet,
        EvidenceKind::SupportTicket,
        EvidenceKind::SurveyResponse,
        EvidenceKind::Metric,
        EvidenceKind::Document,
    ];

    /// Returns the stored name of the kind, as used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::InterviewSnippet => "interview_snippet",
            EvidenceKind::SupportTicket => "support_ticket",
            EvidenceKind::SurveyResponse => "survey_response",
            EvidenceKind::Metric => "metric",
            EvidenceKind::Document => "document",
        }
    }

    /// Parses a stored kind name.
    pub fn from_name(name: &str) -> Option<EvidenceKind> {
        EvidenceKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }
}

/// The origin of an evidence item. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The system it was taken from, such as `helpdesk`.
    #[serde(default)]
    pub system: Option<String>,
    /// Its id in that system; with `system`, unique across all evidence.
    #[serde(default)]
    pub external_id: Option<String>,
    /// A link to the original, `http` or `https`.
    #[serde(default)]
    pub url: Option<String>,
}

/// The customer an evidence item is about; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    /// A market segment, such as `smb-hospitality`.
    #[serde(default)]
    pub segment: Option<String>,
    /// The customer's account name.
    #[serde(default)]
    pub account: Option<String>,
}

/// The number a `metric` evidence item records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metric {
    /// The metric's name, such as `trial_d90_retention`.
    pub name: String,
    /// The measured value; finite.
    pub value: f64,
    /// The unit, such as `percent` or `days`.
    pub unit: String,
    /// The period measured, such as `2026-04-01/2026-06-30`.
    pub period: String,
}

/// A stored evidence item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// The item's id.
    pub id: EvidenceId,
    /// The kind of record.
    pub kind: EvidenceKind,
    /// A short title, 1 to 200 characters.
    pub title: String,
    /// The full text, at most 50,000 characters.
    pub content: String,
    /// The origin.
    pub source: Source,
    /// The time it was spoken, written or measured, RFC 3339 UTC.
    pub occurred_at: Option<String>,
    /// The customer it is about.
    pub customer: Option<Customer>,
    /// Short lowercase labels, sorted, without repeats.
    pub tags: Vec<String>,
    /// The number, for `metric` items only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric: Option<Metric>,
    /// Counts the changes to the item, starting at 1; sent as the `ETag`.
    pub version: u64,
    /// When it was stored, RFC 3339 UTC.
    pub created_at: String,
    /// When it last changed, RFC 3339 UTC.
    pub updated_at: String,
}

/// The fields of a new evidence item, before validation.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvidence {
    /// The kind of record.
    pub kind: EvidenceKind,
    /// A short title.
    pub title: String,
    /// The full text.
    pub content: String,
    /// The origin.
    pub source: Source,
    /// When it happened, RFC 3339 with any offset.
    pub occurred_at: Option<String>,
    /// The customer it is about.
    pub customer: Option<Customer>,
    /// Labels.
    pub tags: Vec<String>,
    /// The number, required for `metric` and refused for other kinds.
    pub metric: Option<Metric>,
}

/// Changes to an evidence item; `None` leaves a field as it is, and `Some(None)` clears an
/// optional one. The changed item must pass the same rules as a new one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EvidencePatch {
    /// A new kind.
    pub kind: Option<EvidenceKind>,
    /// A new title.
    pub title: Option<String>,
    /// New content.
    pub content: Option<String>,
    /// A new source, replacing the old one whole.
    pub source: Option<Source>,
    /// A new time.
    pub occurred_at: Option<Option<String>>,
    /// A new customer, replacing the old one whole.
    pub customer: Option<Option<Customer>>,
    /// New tags, replacing the old ones.
    pub tags: Option<Vec<String>>,
    /// A new metric.
    pub metric: Option<Option<Metric>>,
}

impl EvidencePatch {
    /// Returns whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == EvidencePatch::default()
    }
}

/// Filters for listing evidence; `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvidenceFilter {
    /// Only items of this kind.
    pub kind: Option<EvidenceKind>,
    /// Only items with this tag.
    pub tag: Option<String>,
    /// Only items from this source system.
    pub source_system: Option<String>,
    /// `Some(false)`: only items no node links to; `Some(true)`: only linked ones.
    pub linked: Option<bool>,
}

impl EvidenceFilter {
    /// Returns whether every filter set has an index in id order, so that a page reads only
    /// the rows it returns. The source system and `linked` filters have none, and a page with
    /// one of them can read much of the table to find its items.
    pub fn is_indexed(&self) -> bool {
        self.source_system.is_none() && self.linked.is_none()
    }
}

/// The few fields of an evidence item shown beside a link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceSummary {
    /// The item's id.
    pub id: EvidenceId,
    /// The kind of record.
    pub kind: EvidenceKind,
    /// Its title.
    pub title: String,
}
