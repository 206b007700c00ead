//! A page of a list, `{items, next_cursor}`: what every list endpoint answers and what a service
//! that cuts a list into pages returns (the query side, `?limit=&cursor=`, is `http::page`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One page of a list.
#[derive(Serialize, Deserialize, Debug, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched in order (the extra row only tells
    /// whether there is a next page).
    pub fn from_rows<R>(mut rows: Vec<R>, limit: i64, id: impl Fn(&R) -> i64, view: impl FnMut(R) -> T) -> Self {
        let limit = usize::try_from(limit).unwrap_or(50);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|r| id(r).to_string())
        } else {
            None
        };
        Self { items: rows.into_iter().map(view).collect(), next_cursor }
    }
}
