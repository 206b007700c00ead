//! Paging for every list endpoint: `?limit=&cursor=`, answered as `{items, next_cursor}`.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::ApiError;

/// The paging query parameters.
#[derive(Deserialize, Debug, Default, IntoParams)]
pub struct PageQuery {
    /// How many items to return (1–200, default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    /// The page size, within bounds.
    pub fn limit(&self) -> Result<i64, ApiError> {
        match self.limit {
            None => Ok(50),
            Some(n) if (1..=200).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::invalid("limit", "must be between 1 and 200")),
        }
    }

    /// The id after which the page starts, if any.
    pub fn after(&self) -> Result<Option<i64>, ApiError> {
        match self.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => Ok(None),
            Some(c) => {
                c.parse::<i64>().map(Some).map_err(|_| ApiError::invalid("cursor", "is not a cursor of this list"))
            }
        }
    }
}

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
