//! Paging for every list endpoint: `?limit=&cursor=`, answered as a [`crate::page::Page`]
//! (`{items, next_cursor}`).

use serde::Deserialize;
use utoipa::IntoParams;

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
