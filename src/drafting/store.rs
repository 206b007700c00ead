//! The durable side of a draft's text: an append-only log of accepted Yjs updates (v1 encoding),
//! numbered per draft, and snapshots that fold the log.
//!
//! A draft's document is rebuilt from its latest snapshot plus the log after it. Compaction loads
//! both into a `Doc` and encodes its state (fast), never `merge_updates_v1` over many small
//! updates (minutes on a long editing session, see architecture.md).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

use crate::db::schema::{draft_snapshots, draft_updates};
use crate::db::{DbConnection, now};
use crate::http::error::ApiError;

/// The name of the shared text in every draft's document.
pub const TEXT_NAME: &str = "content";

/// One accepted update, ready to append.
#[derive(Debug, Clone)]
pub struct NewUpdate {
    pub user_id: i64,
    pub data: Vec<u8>,
}

/// What is stored for a draft.
#[derive(Debug, Default)]
pub struct Stored {
    /// The latest snapshot, if any, and the sequence number it covers.
    pub snapshot: Option<(i64, Vec<u8>)>,
    /// Updates after the snapshot, in order.
    pub updates: Vec<(i64, Vec<u8>)>,
}

impl Stored {
    /// The sequence number of the newest stored update (0 when none).
    pub fn last_seq(&self) -> i64 {
        self.updates.last().map(|(s, _)| *s).or(self.snapshot.as_ref().map(|(s, _)| *s)).unwrap_or(0)
    }

    /// Rebuilds the document.
    pub fn to_doc(&self) -> Result<Doc, ApiError> {
        let doc = Doc::new();
        doc.get_or_insert_text(TEXT_NAME);
        apply_updates(&doc, self.snapshot.iter().chain(&self.updates).map(|(_, d)| d.as_slice()))?;
        Ok(doc)
    }
}

/// Applies stored updates (v1) to a document, in order, in one transaction.
pub fn apply_updates<'a>(doc: &Doc, updates: impl IntoIterator<Item = &'a [u8]>) -> Result<(), ApiError> {
    let mut txn = doc.transact_mut();
    for data in updates {
        let update = Update::decode_v1(data)
            .map_err(|e| ApiError::internal(anyhow::anyhow!("stored update unreadable: {e}")))?;
        txn.apply_update(update)
            .map_err(|e| ApiError::internal(anyhow::anyhow!("stored update does not apply: {e}")))?;
    }
    Ok(())
}

/// Reads the latest snapshot of `draft_id` and the log after it.
pub fn load(conn: &mut DbConnection, draft_id: i64) -> Result<Stored, ApiError> {
    let snapshot: Option<(i64, Vec<u8>)> = draft_snapshots::table
        .filter(draft_snapshots::draft_id.eq(draft_id))
        .order(draft_snapshots::seq.desc())
        .select((draft_snapshots::seq, draft_snapshots::data))
        .first(conn)
        .optional()?;
    let after = snapshot.as_ref().map(|(s, _)| *s).unwrap_or(0);
    let updates = draft_updates::table
        .filter(draft_updates::draft_id.eq(draft_id))
        .filter(draft_updates::seq.gt(after))
        .order(draft_updates::seq.asc())
        .select((draft_updates::seq, draft_updates::data))
        .load(conn)?;
    Ok(Stored { snapshot, updates })
}

/// Appends updates after `last_seq` (call inside a transaction); returns the new last sequence
/// number. The unique `(draft_id, seq)` key makes a second writer with a stale view fail rather
/// than interleave.
pub fn append(
    conn: &mut DbConnection,
    draft_id: i64,
    last_seq: i64,
    updates: &[NewUpdate],
    instance: u64,
) -> Result<i64, ApiError> {
    let at: NaiveDateTime = now();
    let rows: Vec<_> = updates
        .iter()
        .zip(last_seq + 1..)
        .map(|(update, seq)| {
            (
                draft_updates::draft_id.eq(draft_id),
                draft_updates::seq.eq(seq),
                draft_updates::user_id.eq(update.user_id),
                draft_updates::created_at.eq(at),
                draft_updates::data.eq(update.data.as_slice()),
            )
        })
        .collect();
    match conn {
        // PostgreSQL takes many rows per statement (one round trip per chunk, not per update).
        DbConnection::Postgresql(pg) => {
            for chunk in rows.chunks(1000) {
                diesel::insert_into(draft_updates::table).values(chunk).execute(pg)?;
            }
        }
        // SQLite is in-process: a statement per row costs no round trip.
        DbConnection::Sqlite(lite) => {
            for row in rows {
                diesel::insert_into(draft_updates::table).values(row).execute(lite)?;
            }
        }
    }
    let new_last = last_seq + i64::try_from(updates.len()).unwrap_or(0);
    // Other instances learn of new rows at commit (PostgreSQL delivers NOTIFY then) and read them
    // themselves: the message carries only the draft, the sequence number and who wrote it.
    if let DbConnection::Postgresql(pg) = conn {
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<diesel::sql_types::Text, _>(NOTIFY_CHANNEL)
            .bind::<diesel::sql_types::Text, _>(format!("{draft_id}:{new_last}:{instance}"))
            .execute(pg)?;
    }
    Ok(new_last)
}

/// The PostgreSQL channel on which instances announce new updates.
pub const NOTIFY_CHANNEL: &str = "plenum_draft_updates";

/// What another instance stored after `after_seq`: a newer snapshot if the log was folded past
/// `after_seq` meanwhile, then the updates after it.
pub fn load_after(conn: &mut DbConnection, draft_id: i64, after_seq: i64) -> Result<Stored, ApiError> {
    let snapshot: Option<(i64, Vec<u8>)> = draft_snapshots::table
        .filter(draft_snapshots::draft_id.eq(draft_id))
        .filter(draft_snapshots::seq.gt(after_seq))
        .order(draft_snapshots::seq.desc())
        .select((draft_snapshots::seq, draft_snapshots::data))
        .first(conn)
        .optional()?;
    let from = snapshot.as_ref().map(|(s, _)| *s).unwrap_or(after_seq);
    let updates = draft_updates::table
        .filter(draft_updates::draft_id.eq(draft_id))
        .filter(draft_updates::seq.gt(from))
        .order(draft_updates::seq.asc())
        .select((draft_updates::seq, draft_updates::data))
        .load(conn)?;
    Ok(Stored { snapshot, updates })
}

/// Folds everything up to `seq` into one snapshot (the full state of `doc`, which must be exactly
/// the stored state up to `seq`) and deletes the folded log, atomically (call inside a transaction).
pub fn compact(conn: &mut DbConnection, draft_id: i64, seq: i64, doc: &Doc) -> Result<usize, ApiError> {
    let state = doc.transact().encode_state_as_update_v1(&StateVector::default());
    diesel::insert_into(draft_snapshots::table)
        .values((
            draft_snapshots::draft_id.eq(draft_id),
            draft_snapshots::seq.eq(seq),
            draft_snapshots::created_at.eq(now()),
            draft_snapshots::data.eq(state),
        ))
        .execute(conn)?;
    diesel::delete(
        draft_snapshots::table.filter(draft_snapshots::draft_id.eq(draft_id)).filter(draft_snapshots::seq.lt(seq)),
    )
    .execute(conn)?;
    Ok(diesel::delete(
        draft_updates::table.filter(draft_updates::draft_id.eq(draft_id)).filter(draft_updates::seq.le(seq)),
    )
    .execute(conn)?)
}

/// The plain text of a document.
pub fn text_of(doc: &Doc) -> String {
    use yrs::GetString;
    let text = doc.get_or_insert_text(TEXT_NAME);
    text.get_string(&doc.transact())
}
