//! Read-only views: a tree's outline with evidence counts, its gap report, and full-text
//! search over nodes and evidence.

use std::fmt::Write as _;

use serde::Serialize;

use crate::id::{NodeId, TreeId};
use crate::model::{EvidenceKind, ExperimentStatus, NodeKind, TreeSummary};

/// The maximum number of levels an outline shows below its start node.
pub const OUTLINE_MAX_DEPTH: u32 = 50;

/// The part of a tree that an outline shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutlineRequest {
    /// The node to start at, or `None` for the tree's root outcome.
    pub start: Option<NodeId>,
    /// How many levels below the start node to show: 0 shows the start node alone. Values
    /// above [`OUTLINE_MAX_DEPTH`] count as [`OUTLINE_MAX_DEPTH`].
    pub depth: u32,
}

impl Default for OutlineRequest {
    fn default() -> Self {
        Self {
            start: None,
            depth: OUTLINE_MAX_DEPTH,
        }
    }
}

/// A tree, or a subtree of it, as nested nodes with their evidence counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outline {
    /// The tree the outline is taken from.
    pub tree: TreeSummary,
    /// The depth limit that was applied, in levels below the start node.
    pub depth: u32,
    /// The start node, with its descendants down to `depth` levels nested in `children`.
    pub root: OutlineNode,
}

/// One node of an [`Outline`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutlineNode {
    /// The node's id.
    pub id: NodeId,
    /// The node's kind.
    pub kind: NodeKind,
    /// The node's title.
    pub title: String,
    /// An experiment's status, or `None` for every other kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ExperimentStatus>,
    /// An experiment's result, or `None` for other kinds and for experiments without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// The node's place among its siblings, counting from 0.
    pub position: u32,
    /// The number of links from this node with relation `supports`.
    pub supporting: u64,
    /// The number of links from this node with relation `contradicts`.
    pub contradicting: u64,
    /// The number of direct children that the depth limit left out. JSON omits it when 0.
    #[serde(skip_serializing_if = "is_zero")]
    pub omitted_children: u32,
    /// The children shown, by position.
    pub children: Vec<OutlineNode>,
}

fn is_zero(count: &u32) -> bool {
    *count == 0
}

impl Outline {
    /// Renders the outline as compact Markdown, one line per node.
    ///
    /// The first line is `# {tree title} ({tree id})`. Each node follows as a list item,
    /// indented by two spaces per level below the start node:
    ///
    /// ```text
    /// - [{kind}] {title} ({node id}) [{status} ]+{supporting} -{contradicting}[ ({n} children not shown)]
    /// ```
    ///
    /// Only experiments have the status, and only nodes with children cut by the depth limit
    /// have the last part. Runs of white space in titles, line breaks included, become one
    /// space, so every node stays on one line. The text ends with a line break.
    pub fn to_markdown(&self) -> String {
        let mut text = format!("# {} ({})\n", one_line(&self.tree.title), self.tree.id);
        write_markdown_node(&mut text, &self.root, 0);

        text
    }
}

fn write_markdown_node(text: &mut String, node: &OutlineNode, level: usize) {
    let indent = "  ".repeat(level);
    let status = node
        .status
        .map(|status| format!(" {status}"))
        .unwrap_or_default();
    let omitted = match node.omitted_children {
        0 => String::new(),
        1 => " (1 child not shown)".to_owned(),
        count => format!(" ({count} children not shown)"),
    };

    // Writing to a String cannot fail.
    let _ = writeln!(
        text,
        "{indent}- [{}] {} ({}){status} +{} -{}{omitted}",
        node.kind,
        one_line(&node.title),
        node.id,
        node.supporting,
        node.contradicting,
    );

    for child in &node.children {
        write_markdown_node(text, child, level + 1);
    }
}

/// Joins the words of `text` with single spaces.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The places in a tree that lack evidence or follow-up, each list in depth-first order.
///
/// Every opportunity without a `supports` link is in exactly one of the first two lists:
/// `opportunities_without_support` when it has no links at all, and
/// `opportunities_only_contradicted` when it has `contradicts` links only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Gaps {
    /// Opportunities with no link of either relation.
    pub opportunities_without_support: Vec<GapNode>,
    /// Opportunities with one or more `contradicts` links and no `supports` link.
    pub opportunities_only_contradicted: Vec<GapNode>,
    /// Solutions with no experiment under them.
    pub solutions_without_experiments: Vec<GapNode>,
    /// Experiments with status `succeeded` or `failed` whose result is missing or only white
    /// space.
    pub finished_experiments_without_result: Vec<GapNode>,
}

/// A node listed in [`Gaps`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GapNode {
    /// The node's id.
    pub id: NodeId,
    /// The node's kind.
    pub kind: NodeKind,
    /// The node's title.
    pub title: String,
    /// An experiment's status, or `None` for every other kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ExperimentStatus>,
    /// The number of links from this node with relation `supports`.
    pub supporting: u64,
    /// The number of links from this node with relation `contradicts`.
    pub contradicting: u64,
}

/// The default number of search results.
pub const SEARCH_DEFAULT_LIMIT: u32 = 20;

/// The maximum number of search results.
pub const SEARCH_MAX_LIMIT: u32 = 50;

/// The maximum length of search text, in characters.
pub const SEARCH_TEXT_MAX_CHARS: usize = 1_000;

/// The maximum number of different words in search text. FTS5 intersects the match lists of
/// every word for each match it finds, so each word adds to the time of a search.
pub const SEARCH_MAX_WORDS: usize = 16;

/// The number of matches a search ranks at most: the ones added to the search index last.
///
/// Ranking costs time for every match, so a word found in most items would make search grow
/// with the store. Past this many matches, the results are the best of the newest
/// `SEARCH_RANKED_MATCHES`, and [`SearchResults::all_matches_ranked`] is false.
pub const SEARCH_RANKED_MATCHES: u32 = 1_000;

/// The two kinds of entity that search finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchEntity {
    /// A node of a tree.
    Node,
    /// An evidence item.
    Evidence,
}

impl SearchEntity {
    /// Returns the stored name, as used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            SearchEntity::Node => "node",
            SearchEntity::Evidence => "evidence",
        }
    }

    /// Parses a stored name.
    pub fn from_name(name: &str) -> Option<SearchEntity> {
        [SearchEntity::Node, SearchEntity::Evidence]
            .into_iter()
            .find(|entity| entity.as_str() == name)
    }
}

/// The kind of a search result: a node kind or an evidence kind, whose names never overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum SearchKind {
    /// A node kind.
    Node(NodeKind),
    /// An evidence kind.
    Evidence(EvidenceKind),
}

impl SearchKind {
    /// Returns the stored name, as used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            SearchKind::Node(kind) => kind.as_str(),
            SearchKind::Evidence(kind) => kind.as_str(),
        }
    }

    /// Parses a node kind or an evidence kind name.
    pub fn from_name(name: &str) -> Option<SearchKind> {
        NodeKind::from_name(name)
            .map(SearchKind::Node)
            .or_else(|| EvidenceKind::from_name(name).map(SearchKind::Evidence))
    }

    /// Returns the kind of entity this kind belongs to.
    pub fn entity(self) -> SearchEntity {
        match self {
            SearchKind::Node(_) => SearchEntity::Node,
            SearchKind::Evidence(_) => SearchEntity::Evidence,
        }
    }
}

/// A full-text search and its filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// The user's words. Each word is matched as a whole word, as written, never as FTS5
    /// query syntax.
    pub text: String,
    /// Only nodes of this tree, and evidence linked to one or more nodes of it.
    pub tree_id: Option<TreeId>,
    /// Only this kind of entity.
    pub entity: Option<SearchEntity>,
    /// Only this node or evidence kind.
    pub kind: Option<SearchKind>,
    /// How many results to return at most, 1 to [`SEARCH_MAX_LIMIT`].
    pub limit: u32,
}

impl SearchQuery {
    /// Describes a search for `text` with no filters and the default limit.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            tree_id: None,
            entity: None,
            kind: None,
            limit: SEARCH_DEFAULT_LIMIT,
        }
    }
}

/// The results of one search, best first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResults {
    /// The best matches, at most the query's limit.
    pub items: Vec<SearchHit>,
    /// Whether every match was ranked. False when the text matched more than
    /// [`SEARCH_RANKED_MATCHES`] items that pass the filters: the items are then the best of
    /// the newest matches, and more words or a filter reach the others.
    pub all_matches_ranked: bool,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    /// Whether the result is a node or an evidence item.
    #[serde(rename = "type")]
    pub entity: SearchEntity,
    /// The node's or evidence item's id.
    pub id: String,
    /// The node's or evidence item's kind.
    pub kind: SearchKind,
    /// The title.
    pub title: String,
    /// The node's tree, or `None` for evidence, which belongs to no single tree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tree_id: Option<TreeId>,
    /// A short excerpt of the best-matching field, with matched words between `**` markers
    /// and cuts marked by `…`.
    pub snippet: String,
    /// The FTS5 bm25 score with title, body and tags weighted 4, 1 and 2. More negative is
    /// a better match, and results are sorted by it, best first.
    pub rank: f64,
}
