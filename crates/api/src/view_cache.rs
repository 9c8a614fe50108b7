//! Rendered read responses, kept while the revision of what they read stays the same.
//!
//! An outline of a 200-node tree or a page of 50 evidence items costs a few hundred
//! microseconds of CPU to read and render, and a search of common words about 15 ms. Reading
//! a revision costs one index search. So a request for such a response reads the revision
//! first and reuses the body rendered at that revision. Data that assistants read more often
//! than it changes is then rendered once per change.

use std::num::NonZeroUsize;
use std::sync::{Mutex, PoisonError};

use actix_web::web::Bytes;
use lru::LruCache;
use ost_linker_core::{Store, TreeId};

/// The number of rendered responses kept at most.
const MAX_ENTRIES: NonZeroUsize = NonZeroUsize::new(256).expect("256 is not zero");

/// The total size of the kept bodies at most, in bytes. The least recently used bodies go
/// first when a new one would pass it.
const MAX_TOTAL_BYTES: usize = 8 * 1024 * 1024;

/// The size of the largest body that is kept. A larger one is rendered for each request.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What a rendered response reads, which decides the revision it is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ViewScope {
    /// A view of one tree, such as its outline.
    Tree(TreeId),
    /// A page of the evidence listing.
    Evidence,
    /// A search.
    Search,
}

impl ViewScope {
    /// Reads the revision of what the scope covers. A response rendered at a revision is
    /// current while the revision stays the same.
    pub fn revision(self, store: &dyn Store) -> ost_linker_core::Result<Option<i64>> {
        match self {
            Self::Tree(tree_id) => store.tree_revision(tree_id),
            Self::Evidence => store.evidence_revision().map(Some),
            Self::Search => store.search_revision().map(Some),
        }
    }
}

/// The identity of one rendered response: its scope, and a text that names the response and
/// the parsed parameters that chose its content and format.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ViewKey {
    scope: ViewScope,
    view: String,
}

impl ViewKey {
    /// Creates the key of response `view`, such as `gaps`, in `scope`.
    pub fn new(scope: ViewScope, view: String) -> Self {
        Self { scope, view }
    }

    /// Returns the scope whose revision decides whether the response is current.
    pub fn scope(&self) -> ViewScope {
        self.scope
    }
}

/// A rendered body and the revision it was rendered at.
struct Entry {
    revision: Option<i64>,
    content_type: &'static str,
    body: Bytes,
}

/// A bounded cache of rendered responses, shared by every worker.
pub struct ViewCache {
    state: Mutex<State>,
}

struct State {
    entries: LruCache<ViewKey, Entry>,
    total_bytes: usize,
}

impl Default for ViewCache {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                entries: LruCache::new(MAX_ENTRIES),
                total_bytes: 0,
            }),
        }
    }
}

impl ViewCache {
    /// Returns the content type and body of `key` when it was rendered at `revision`.
    pub fn get(&self, key: &ViewKey, revision: Option<i64>) -> Option<(&'static str, Bytes)> {
        let mut state = self.lock();
        let entry = state.entries.get(key)?;

        (entry.revision == revision).then(|| (entry.content_type, entry.body.clone()))
    }

    /// Keeps `body`, rendered at `revision`, for `key`, unless it is larger than
    /// `MAX_BODY_BYTES`.
    pub fn put(
        &self,
        key: ViewKey,
        revision: Option<i64>,
        content_type: &'static str,
        body: Bytes,
    ) {
        if body.len() > MAX_BODY_BYTES {
            return;
        }

        let mut state = self.lock();
        state.total_bytes += body.len();
        let entry = Entry {
            revision,
            content_type,
            body,
        };
        if let Some((_, replaced)) = state.entries.push(key, entry) {
            state.total_bytes -= replaced.body.len();
        }
        while state.total_bytes > MAX_TOTAL_BYTES {
            let Some((_, evicted)) = state.entries.pop_lru() else {
                break;
            };
            state.total_bytes -= evicted.body.len();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Nothing panics while the lock is held, so a poisoned state is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
