//! The entities the service stores, and the inputs that create and change them.

mod evidence;
mod history;
mod link;
mod transfer;
mod tree;
mod views;

pub use self::evidence::*;
pub use self::history::*;
pub use self::link::*;
pub use self::transfer::*;
pub use self::tree::*;
pub use self::views::*;

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Page<T> {
    /// The items on this page, in listing order.
    pub items: Vec<T>,
    /// The cursor for the next page, or `None` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from a query that fetched up to `limit + 1` items: the extra item, when
    /// present, shows that another page follows, whose cursor is the last item kept.
    pub fn from_overfetch(mut items: Vec<T>, limit: u32, cursor_of: impl Fn(&T) -> String) -> Self {
        let limit = limit as usize;
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(cursor_of)
        } else {
            None
        };

        Self { items, next_cursor }
    }
}

/// The author of a write, and the key that recognises a retried request.
#[derive(Debug, Clone, Default)]
pub struct WriteContext {
    /// The person the caller acts for, recorded in the tree's history.
    pub actor: Option<String>,
    /// The idempotency key of a create request; its response is stored with the write.
    pub idempotency: Option<IdempotencyKey>,
}

/// An idempotency key and a digest of the request it was first used with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// The key as the client sent it.
    pub key: String,
    /// A digest of the request's method, path and body, to tell a retry from a reuse.
    pub request_digest: String,
}

/// The response stored for an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// The digest of the request that first used the key.
    pub request_digest: String,
    /// The HTTP status of the first response.
    pub status: u16,
    /// The JSON body of the first response.
    pub body: String,
}
