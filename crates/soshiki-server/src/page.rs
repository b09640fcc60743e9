//! Pagination of the list endpoints: `limit` (1..=1000, default 100) and `after` (an opaque
//! cursor from the previous page's `next`). A cursor names the last row of the previous page
//! and the list it came from. A cursor that is not of this list's form (another list's prefix,
//! a wrong length, garbage) is a 400 `bad-cursor`; a well-formed cursor whose row is not in
//! this list (gone meanwhile, or another organization's or holder's row) is a 409
//! `stale-cursor`: list again from the first page. Never a 500 and never a silently shortened
//! listing.

use axum::http::StatusCode;
use soshiki_store::{PageRequest, StoreError, MAX_PAGE};

use crate::error::{codes, ApiError, ApiResult};

/// Rows per page when the client names no `limit`.
pub(crate) const DEFAULT_LIMIT: u32 = 100;

/// Which list a cursor belongs to (its prefix) and how long the row ids are (hex digits).
#[derive(Clone, Copy, Debug)]
pub(crate) enum List {
    Orgs,
    Members,
    Enrollments,
    Inbox,
    Receipts,
}

impl List {
    fn prefix(self) -> &'static str {
        match self {
            List::Orgs => "o.",
            List::Members => "m.",
            List::Enrollments => "e.",
            List::Inbox => "d.",
            List::Receipts => "r.",
        }
    }

    fn id_hex_len(self) -> usize {
        match self {
            List::Orgs | List::Members => 64,
            List::Enrollments | List::Inbox | List::Receipts => 32,
        }
    }
}

/// A validated page request of one list.
#[derive(Debug)]
pub(crate) struct PageQuery {
    list: List,
    limit: u32,
    after: Option<String>,
}

impl PageQuery {
    /// Check `limit` and `after` of a request.
    pub(crate) fn parse(list: List, limit: Option<u64>, after: Option<&str>) -> ApiResult<Self> {
        let limit = limit_or(limit, DEFAULT_LIMIT)?;
        let after = match after {
            None => None,
            Some(c) => Some(parse_cursor(list, c).ok_or_else(bad_cursor)?),
        };
        Ok(PageQuery { list, limit, after })
    }

    /// The store's page request.
    pub(crate) fn request(&self) -> PageRequest<'_> {
        PageRequest {
            after: self.after.as_deref(),
            limit: self.limit,
        }
    }

    /// The cursor of the next page, from the store's `next` row id.
    pub(crate) fn next(&self, next: Option<String>) -> Option<String> {
        next.map(|id| format!("{}{id}", self.list.prefix()))
    }

    /// Map a store error: a cursor whose row is not in this list conflicts with the list's
    /// current state (409 `stale-cursor`).
    pub(crate) fn store_err(&self) -> impl Fn(StoreError) -> ApiError {
        |e| match e {
            StoreError::NotFound(_) => ApiError::coded(
                StatusCode::CONFLICT,
                codes::STALE_CURSOR,
                "the page cursor `after` names a row that is not in this list (it is gone, or \
                 the cursor is another list's): list again from the first page",
            ),
            other => ApiError::from(other),
        }
    }
}

/// A page's `limit` (1..=1000), or `default` when the request names none; out of range is a 400
/// `bad-page-limit`, never silently clamped.
pub(crate) fn limit_or(limit: Option<u64>, default: u32) -> ApiResult<u32> {
    match limit {
        None => Ok(default),
        Some(l) if (1..=u64::from(MAX_PAGE)).contains(&l) => Ok(l as u32),
        Some(l) => Err(ApiError::coded(
            StatusCode::BAD_REQUEST,
            codes::BAD_PAGE_LIMIT,
            format!("limit {l} is out of range: 1 to {MAX_PAGE} rows per page"),
        )),
    }
}

fn parse_cursor(list: List, c: &str) -> Option<String> {
    let id = c.strip_prefix(list.prefix())?;
    let hex = id.len() == list.id_hex_len()
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    hex.then(|| id.to_owned())
}

fn bad_cursor() -> ApiError {
    ApiError::coded(
        StatusCode::BAD_REQUEST,
        codes::BAD_CURSOR,
        "the page cursor `after` is not of this list's form: pass the `next` of a previous \
         page of this same list, or list from the first page",
    )
}

/// The query of a list endpoint that has no other parameter.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct PageParams {
    /// Rows per page (1..=1000, default 100).
    pub(crate) limit: Option<u64>,
    /// The previous page's `next` cursor.
    pub(crate) after: Option<String>,
}
