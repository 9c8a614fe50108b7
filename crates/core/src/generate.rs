//! A generator of realistic test data, for benchmarks and growth measurements.
//!
//! [`generate`] fills a database with trees of varied shape (nested opportunities, solutions,
//! experiments in every status), evidence of every kind with tags, sources and metrics, and
//! links between them. The same [`GenerateSpec`] gives the same rows, ids and timestamps on
//! every run. Rows are written with bulk inserts in large transactions, so the generator skips
//! the store's per-call checks and writes no history; everything it writes still obeys the
//! domain rules.
//!
//! Nodes and evidence go through staging tables. The schema's triggers index every inserted
//! node and evidence item in the FTS5 table `search_index`, and FTS5 writes its pending index
//! data to disk at the start of every statement that touches it. One `INSERT` per row would
//! write a tiny index segment per row and spend most of the run merging them. So each batch
//! collects its rows in a `TEMP` table and moves them with one `INSERT … SELECT`, which fires
//! the same triggers row by row inside one statement.

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rusqlite::{Connection, Transaction, params};

use crate::error::Result;
use crate::id::{EvidenceId, LinkId, NodeId, TreeId};
use crate::model::{EvidenceKind, ExperimentStatus, NodeKind};
use crate::sqlite::SqliteStore;

/// The size and seed of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerateSpec {
    /// How many nodes to write in all, outcomes included; trees are added until it is reached.
    pub nodes: u64,
    /// How many evidence items to write.
    pub evidence: u64,
    /// The seed of the random choices.
    pub seed: u64,
}

/// The counts of rows a run wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GenerateReport {
    /// Trees written.
    pub trees: u64,
    /// Nodes written, outcomes included.
    pub nodes: u64,
    /// Evidence items written.
    pub evidence: u64,
    /// Links written.
    pub links: u64,
}

/// Rows written per transaction.
const BATCH_ROWS: u64 = 50_000;

/// The generator connection's page cache, in KiB, as `PRAGMA cache_size` takes it (negative).
const CACHE_KIB: i64 = -64 * 1024;

/// The timestamp of every generated row, and the base of generated ids: 2026-01-01T00:00:00Z.
const EPOCH_MS: u64 = 1_767_225_600_000;
const TIMESTAMP: &str = "2026-01-01T00:00:00.000Z";

const THEMES: &[&str] = &[
    "onboarding",
    "scheduling",
    "availability",
    "payroll",
    "billing",
    "invites",
    "mobile",
    "templates",
    "reporting",
    "permissions",
    "notifications",
    "shift swaps",
    "time off",
    "integrations",
    "exports",
    "locations",
    "compliance",
    "forecasting",
    "budgets",
    "training",
];
const PAINS: &[&str] = &[
    "takes too long",
    "is confusing",
    "breaks on large teams",
    "needs too many clicks",
    "hides the important numbers",
    "repeats work done elsewhere",
    "fails without warning",
    "is missing for part-time staff",
    "does not fit weekly routines",
    "costs managers evenings",
];
const IDEAS: &[&str] = &[
    "guided setup",
    "bulk import",
    "smart defaults",
    "weekly digest",
    "inline help",
    "one-tap approval",
    "shared templates",
    "progress checklist",
    "calendar sync",
    "auto-fill",
];
const TAGS: &[&str] = &[
    "onboarding",
    "churned",
    "retained",
    "billing",
    "mobile-app",
    "import",
    "data-entry",
    "availability",
    "templates",
    "payroll",
    "feature-request",
    "bug",
    "research",
    "survey",
    "enterprise",
    "smb",
    "healthcare",
    "hospitality",
    "retail",
    "logistics",
];
const SYSTEMS: &[&str] = &[
    "helpdesk",
    "research-notes",
    "in-app-survey",
    "analytics",
    "wiki",
];
const WORDS: &[&str] = &[
    "staff",
    "shift",
    "week",
    "manager",
    "team",
    "schedule",
    "hours",
    "rota",
    "swap",
    "late",
    "cover",
    "holiday",
    "store",
    "clinic",
    "cafe",
    "depot",
    "export",
    "spreadsheet",
    "phone",
    "reminder",
    "approve",
    "publish",
    "draft",
    "budget",
    "overtime",
    "break",
    "roster",
    "site",
];

/// Fills the database at `path`, creating and migrating it first when needed.
///
/// # Errors
///
/// Returns [`crate::Error::Storage`] when the database can't be opened or written.
pub fn generate(path: &Path, spec: GenerateSpec) -> Result<GenerateReport> {
    drop(SqliteStore::open(path)?);
    let mut conn = Connection::open(path)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    // A crash of the process mid-run loses the run, not the database's consistency. An
    // operating-system crash or a power loss during the run can corrupt the file.
    conn.pragma_update(None, "synchronous", "OFF")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "cache_size", CACHE_KIB)?;
    // Same columns, no constraints and no triggers.
    conn.execute_batch(
        "CREATE TEMP TABLE generated_nodes AS SELECT * FROM main.nodes LIMIT 0;
         CREATE TEMP TABLE generated_evidence AS SELECT * FROM main.evidence LIMIT 0;",
    )?;

    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let mut report = GenerateReport::default();
    let mut link_targets = Vec::new();

    while report.nodes < spec.nodes {
        let tx = conn.transaction()?;
        let batch_end = (report.nodes + BATCH_ROWS).min(spec.nodes);
        while report.nodes < batch_end {
            let remaining = spec.nodes - report.nodes;
            write_tree(&tx, &mut rng, remaining, &mut report, &mut link_targets)?;
        }
        move_staged(&tx, "nodes")?;
        tx.commit()?;
    }

    while report.evidence < spec.evidence {
        let tx = conn.transaction()?;
        // Tags and links are written before their evidence leaves the staging table, so
        // their foreign keys are checked at commit.
        tx.pragma_update(None, "defer_foreign_keys", true)?;
        let batch_end = (report.evidence + BATCH_ROWS).min(spec.evidence);
        while report.evidence < batch_end {
            write_evidence(&tx, &mut rng, &link_targets, &mut report)?;
        }
        move_staged(&tx, "evidence")?;
        tx.commit()?;
    }

    // Each batch left a full-text index segment of the same size. Later writes through the
    // API would make FTS5 merge those large segments bit by bit, in their own transactions.
    // So the index is merged into one segment now.
    conn.execute(
        "INSERT INTO search_index (search_index) VALUES ('optimize')",
        [],
    )?;

    Ok(report)
}

/// Moves the staged rows of `table` (`nodes` or `evidence`) into the database in one
/// statement, in the order they were written.
fn move_staged(tx: &Transaction<'_>, table: &str) -> Result<()> {
    tx.execute_batch(&format!(
        "INSERT INTO main.{table} SELECT * FROM temp.generated_{table} ORDER BY rowid;
         DELETE FROM temp.generated_{table};"
    ))?;
    Ok(())
}

/// Returns a deterministic id body: the row's number in the time part, random bits after.
fn id_parts(rng: &mut ChaCha8Rng, number: u64) -> (u64, u128) {
    (EPOCH_MS + number, rng.random::<u128>())
}

fn pick<'a>(rng: &mut ChaCha8Rng, list: &[&'a str]) -> &'a str {
    list[rng.random_range(0..list.len())]
}

fn sentence(rng: &mut ChaCha8Rng, words: usize) -> String {
    (0..words)
        .map(|_| pick(rng, WORDS))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One node to insert, before it has an id.
struct PlannedNode {
    parent: Option<usize>,
    kind: NodeKind,
    position: u32,
}

/// Plans a tree of at most `max_nodes` nodes: the outcome, two to five opportunities with
/// nested ones, solutions under opportunities and experiments under solutions.
fn plan_tree(rng: &mut ChaCha8Rng, max_nodes: u64) -> Vec<PlannedNode> {
    let mut plan = vec![PlannedNode {
        parent: None,
        kind: NodeKind::Outcome,
        position: 0,
    }];
    let mut open = vec![(0usize, 0u32)];

    while let Some((parent, depth)) = open.pop() {
        let kind = plan[parent].kind;
        let children: Vec<NodeKind> = match kind {
            NodeKind::Outcome => vec![NodeKind::Opportunity; rng.random_range(2..=5)],
            NodeKind::Opportunity if depth < 3 && rng.random_bool(0.4) => {
                vec![NodeKind::Opportunity; rng.random_range(1..=3)]
            }
            NodeKind::Opportunity => vec![NodeKind::Solution; rng.random_range(0..=3)],
            NodeKind::Solution => vec![NodeKind::Experiment; rng.random_range(0..=3)],
            NodeKind::Experiment => Vec::new(),
        };

        for (position, child) in (0u32..).zip(children) {
            if plan.len() as u64 >= max_nodes {
                return plan;
            }
            plan.push(PlannedNode {
                parent: Some(parent),
                kind: child,
                position,
            });
            open.push((plan.len() - 1, depth + 1));
        }
    }

    plan
}

fn write_tree(
    tx: &Transaction<'_>,
    rng: &mut ChaCha8Rng,
    max_nodes: u64,
    report: &mut GenerateReport,
    link_targets: &mut Vec<NodeId>,
) -> Result<()> {
    let (ms, random) = id_parts(rng, report.trees);
    let tree_id = TreeId::from_parts(ms, random);
    let plan = plan_tree(rng, max_nodes);
    let ids: Vec<NodeId> = plan
        .iter()
        .enumerate()
        .map(|(index, _)| {
            let (ms, random) = id_parts(rng, report.nodes + index as u64);
            NodeId::from_parts(ms, random)
        })
        .collect();

    let theme = pick(rng, THEMES);
    tx.prepare_cached(
        "INSERT INTO trees (id, title, description, root_node_id, version, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5)",
    )?
    .execute(params![
        tree_id,
        format!("Improve {theme} for trial accounts"),
        sentence(rng, 12),
        ids[0],
        TIMESTAMP
    ])?;

    let mut insert = tx.prepare_cached(
        "INSERT INTO temp.generated_nodes (id, tree_id, parent_id, kind, title, description,
                                           position, status, result, version, created_at,
                                           updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?10, ?10)",
    )?;
    for (index, planned) in plan.iter().enumerate() {
        let (status, result) = experiment_fields(rng, planned.kind);
        insert.execute(params![
            ids[index],
            tree_id,
            planned.parent.map(|parent| ids[parent]),
            planned.kind.as_str(),
            node_title(rng, planned.kind, theme),
            sentence(rng, 20),
            planned.position,
            status.map(ExperimentStatus::as_str),
            result,
            TIMESTAMP
        ])?;
        if matches!(planned.kind, NodeKind::Opportunity | NodeKind::Solution) {
            link_targets.push(ids[index]);
        }
    }

    report.trees += 1;
    report.nodes += plan.len() as u64;
    Ok(())
}

fn node_title(rng: &mut ChaCha8Rng, kind: NodeKind, theme: &str) -> String {
    match kind {
        NodeKind::Outcome => format!("Raise 90-day retention of trials that use {theme}"),
        NodeKind::Opportunity => format!("{} {}", capitalised(pick(rng, THEMES)), pick(rng, PAINS)),
        NodeKind::Solution => format!(
            "{} for {}",
            capitalised(pick(rng, IDEAS)),
            pick(rng, THEMES)
        ),
        NodeKind::Experiment => format!(
            "Test {} with {} trials",
            pick(rng, IDEAS),
            rng.random_range(10..500)
        ),
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn experiment_fields(
    rng: &mut ChaCha8Rng,
    kind: NodeKind,
) -> (Option<ExperimentStatus>, Option<String>) {
    if kind != NodeKind::Experiment {
        return (None, None);
    }

    let status = ExperimentStatus::ALL[rng.random_range(0..ExperimentStatus::ALL.len())];
    let result = (status.is_finished() && rng.random_bool(0.8)).then(|| sentence(rng, 15));
    (Some(status), result)
}

fn write_evidence(
    tx: &Transaction<'_>,
    rng: &mut ChaCha8Rng,
    link_targets: &[NodeId],
    report: &mut GenerateReport,
) -> Result<()> {
    let (ms, random) = id_parts(rng, report.evidence);
    let id = EvidenceId::from_parts(ms, random);
    let kind = EvidenceKind::ALL[rng.random_range(0..EvidenceKind::ALL.len())];
    let system = pick(rng, SYSTEMS);
    let metric = (kind == EvidenceKind::Metric).then(|| {
        serde_json::json!({
            "name": format!("trial_{}_rate", pick(rng, WORDS)),
            "value": f64::from(rng.random_range(0..1000u32)) / 10.0,
            "unit": "percent",
            "period": "2026-04-01/2026-06-30",
        })
        .to_string()
    });
    let content_words = rng.random_range(20..300);
    let mut tags: Vec<&str> = (0..rng.random_range(0..=4))
        .map(|_| pick(rng, TAGS))
        .collect();
    tags.sort_unstable();
    tags.dedup();

    tx.prepare_cached(
        "INSERT INTO temp.generated_evidence (id, kind, title, content, source_system,
                                              source_external_id, source_url, occurred_at,
                                              customer, tags, metric, version, created_at,
                                              updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7, NULL, ?8, ?9, 1, ?7, ?7)",
    )?
    .execute(params![
        id,
        kind.as_str(),
        format!("{} {}", capitalised(pick(rng, THEMES)), pick(rng, PAINS)),
        sentence(rng, content_words),
        system,
        format!("{system}-{}", report.evidence),
        TIMESTAMP,
        serde_json::to_string(&tags).unwrap_or_default(),
        metric
    ])?;
    let mut insert_tag =
        tx.prepare_cached("INSERT INTO evidence_tags (tag, evidence_id) VALUES (?1, ?2)")?;
    for tag in &tags {
        insert_tag.execute(params![tag, id])?;
    }

    write_links(tx, rng, id, link_targets, report)?;
    report.evidence += 1;
    Ok(())
}

/// Links an evidence item to up to three distinct nodes; about a fifth get none.
fn write_links(
    tx: &Transaction<'_>,
    rng: &mut ChaCha8Rng,
    evidence_id: EvidenceId,
    link_targets: &[NodeId],
    report: &mut GenerateReport,
) -> Result<()> {
    if link_targets.is_empty() || rng.random_bool(0.2) {
        return Ok(());
    }

    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO links (id, node_id, evidence_id, relation, strength, note, version,
                                      created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, '', 1, ?6, ?6)",
    )?;
    for _ in 0..rng.random_range(1..=3) {
        let (ms, random) = id_parts(rng, report.links);
        let node = link_targets[rng.random_range(0..link_targets.len())];
        let relation = if rng.random_bool(0.15) {
            "contradicts"
        } else {
            "supports"
        };
        let inserted = insert.execute(params![
            LinkId::from_parts(ms, random),
            node,
            evidence_id,
            relation,
            rng.random_range(1..=5),
            TIMESTAMP
        ])?;
        report.links += inserted as u64;
    }

    Ok(())
}
