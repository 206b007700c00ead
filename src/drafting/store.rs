//! The durable side of a draft's text: an append-only log of accepted Yjs updates (v1 encoding),
//! numbered per draft, and snapshots that fold the log. A row of the log holds one stored batch
//! (up to [`ROW_BYTES`]): one update as it is, or several packed (see [`pack`]); each update
//! keeps its own number, so a row of `n` updates ending at `seq` holds `seq - n + 1 ..= seq`.
//!
//! A draft's document is rebuilt from its latest snapshot plus the log after it. Compaction loads
//! both into a `Doc` and encodes its state (fast), never `merge_updates_v1` over many small
//! updates (minutes on a long editing session, see architecture.md).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use yrs::updates::decoder::Decode;
use yrs::{Doc, OffsetKind, Options, ReadTxn, StateVector, Transact, Update};

use crate::db::schema::{draft_snapshots, draft_updates, drafts};
use crate::db::{DbConnection, now};
use crate::error::Error;

/// The name of the shared text in every draft's document.
pub const TEXT_NAME: &str = "content";

/// How the server makes every draft document: with a fresh client id and text measured in UTF-16
/// code units, as Yjs measures it.
///
/// yrs's default counts a text's length in bytes, and 0.28.1 keeps that count wrong when a
/// deletion splits a character that UTF-16 writes as two units (an emoji, say): both halves
/// become U+FFFD, three bytes each where the character had four, and deleting them and then more
/// of the text subtracts past zero and panics. Any Yjs client can send such a deletion (Yjs
/// counts UTF-16 units, so half a pair is an ordinary range), and a document that once took one
/// could then fail to rebuild from its log. In UTF-16 units each half is one unit, as the block
/// was two, and the count stays right. The server never addresses text by offset, so nothing
/// else depends on the unit.
pub fn options() -> Options {
    Options { offset_kind: OffsetKind::Utf16, ..Options::default() }
}

/// A new, empty draft document made with [`options`].
pub fn new_doc() -> Doc {
    Doc::with_options(options())
}

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
    pub fn to_doc(&self) -> Result<Doc, Error> {
        let doc = new_doc();
        doc.get_or_insert_text(TEXT_NAME);
        apply_updates(&doc, self.snapshot.iter().chain(&self.updates).map(|(_, d)| d.as_slice()))?;
        Ok(doc)
    }
}

/// Applies stored updates (v1) to a document, in order.
///
/// Each update is applied in a transaction of its own, as the room applied it live: what yrs
/// does at a transaction's end (garbage-collecting deleted content, merging blocks) then happens
/// at the same points, so the rebuilt document is the one the room had. In one transaction for
/// all, a crafted update the live document took (its parent a deleted, collected item) was
/// refused on reload, and the draft could not be opened (fuzz/ws_frame).
pub fn apply_updates<'a>(doc: &Doc, updates: impl IntoIterator<Item = &'a [u8]>) -> Result<(), Error> {
    for data in updates {
        let update =
            Update::decode_v1(data).map_err(|e| Error::internal(anyhow::anyhow!("stored update unreadable: {e}")))?;
        doc.transact_mut()
            .apply_update(update)
            .map_err(|e| Error::internal(anyhow::anyhow!("stored update does not apply: {e}")))?;
    }
    Ok(())
}

/// Reads the latest snapshot of `draft_id` and the log after it. Call it inside
/// [`crate::db::Db::read_consistent`], so another instance's compaction cannot fall between the
/// two reads (the old snapshot plus only the rows after the new one would miss edits).
pub fn load(conn: &mut DbConnection, draft_id: i64) -> Result<Stored, Error> {
    load_after(conn, draft_id, 0)
}

/// What is stored after `after_seq`: the newest snapshot if it is past `after_seq` (the log was
/// folded meanwhile), then the updates after whichever of the two is newer. Call it inside
/// [`crate::db::Db::read_consistent`], like [`load`].
pub fn load_after(conn: &mut DbConnection, draft_id: i64, after_seq: i64) -> Result<Stored, Error> {
    let snapshot: Option<(i64, Vec<u8>)> = draft_snapshots::table
        .filter(draft_snapshots::draft_id.eq(draft_id))
        .filter(draft_snapshots::seq.gt(after_seq))
        .order(draft_snapshots::seq.desc())
        .select((draft_snapshots::seq, draft_snapshots::data))
        .first(conn)
        .optional()?;
    let from = snapshot.as_ref().map(|(s, _)| *s).unwrap_or(after_seq);
    // Every number a room or a snapshot knows ends a row (rows are appended and compacted
    // whole), so the rows after `from` hold exactly the updates after it.
    let rows: Vec<(i64, i32, Vec<u8>)> = draft_updates::table
        .filter(draft_updates::draft_id.eq(draft_id))
        .filter(draft_updates::seq.gt(from))
        .order(draft_updates::seq.asc())
        .select((draft_updates::seq, draft_updates::updates, draft_updates::data))
        .load(conn)?;
    let mut updates = Vec::with_capacity(
        rows.iter().map(|(_, n, data)| usize::try_from(*n).unwrap_or(1).min(data.len().max(1))).sum(),
    );
    for (seq, n, data) in rows {
        if n <= 1 {
            updates.push((seq, data));
            continue;
        }
        let first = seq - i64::from(n) + 1;
        for (i, (_, update)) in unpack(&data, n).map_err(|e| unreadable(draft_id, seq, e))?.into_iter().enumerate() {
            updates.push((first + i64::try_from(i).map_err(Error::internal)?, update));
        }
    }
    Ok(Stored { snapshot, updates })
}

fn unreadable(draft_id: i64, seq: i64, why: impl std::fmt::Display) -> Error {
    Error::internal(anyhow::anyhow!("draft {draft_id}: the stored row ending at update {seq} is unreadable: {why}"))
}

/// The most a row of several updates holds (one larger update is a row of its own), well under
/// what either database takes in one value.
pub const ROW_BYTES: usize = 8 * 1024 * 1024;

/// A row of several updates: for each, in order, its sender's user id, then its length and
/// bytes (lib0 varints, as Yjs encodes).
pub fn pack(updates: &[NewUpdate]) -> Vec<u8> {
    use yrs::encoding::write::Write;
    let mut out = Vec::with_capacity(updates.iter().map(|u| u.data.len() + 8).sum());
    for update in updates {
        out.write_var(update.user_id.max(0).unsigned_abs());
        out.write_buf(&update.data);
    }
    out
}

/// The `n` updates of a row [`pack`] wrote, with their senders.
pub fn unpack(data: &[u8], n: i32) -> Result<Vec<(i64, Vec<u8>)>, String> {
    use yrs::encoding::read::{Cursor, Read};
    let mut cursor = Cursor::new(data);
    // Each update takes two bytes at least: a damaged count cannot make this reserve more.
    let mut out = Vec::with_capacity(usize::try_from(n).unwrap_or(0).min(data.len() / 2));
    for i in 0..n {
        let user: u64 = cursor.read_var().map_err(|e| format!("update {i}: {e}"))?;
        let bytes = cursor.read_buf().map_err(|e| format!("update {i}: {e}"))?;
        out.push((i64::try_from(user).map_err(|e| format!("update {i}: {e}"))?, bytes.to_vec()));
    }
    if cursor.next != data.len() {
        return Err(format!("{} bytes after its {n} updates", data.len() - cursor.next));
    }
    Ok(out)
}

/// The newest sequence number handed out for the draft (what a room compares its own with to
/// learn that another instance stored something).
pub fn last_seq(conn: &mut DbConnection, draft_id: i64) -> Result<i64, Error> {
    Ok(drafts::table.find(draft_id).select(drafts::last_seq).first(conn)?)
}

/// Appends updates after `last_seq` (call inside a transaction). Returns the new last sequence
/// number, or `None` when `last_seq` is no longer the draft's newest: another instance stored
/// updates meanwhile, and the caller must read them and try again.
///
/// The sequence numbers are taken by a compare-and-set on `drafts.last_seq` in the same
/// transaction as the rows are inserted, so a number is never handed out twice, not even after
/// compaction deleted the rows that carried it (the unique `(draft_id, seq)` key alone allowed
/// that). On PostgreSQL the update locks the draft's row until commit, which also serialises
/// appends with [`compact`].
///
/// The batch is stored as one row (a statement, an index entry, and one deletion when it is
/// compacted, however many keystrokes it holds), or as a few when it is larger than
/// [`ROW_BYTES`].
pub fn append(
    conn: &mut DbConnection,
    draft_id: i64,
    last_seq: i64,
    updates: &[NewUpdate],
    instance: u64,
) -> Result<Option<i64>, Error> {
    let new_last = last_seq + i64::try_from(updates.len()).map_err(Error::internal)?;
    let taken = diesel::update(drafts::table.filter(drafts::id.eq(draft_id)).filter(drafts::last_seq.eq(last_seq)))
        .set(drafts::last_seq.eq(new_last))
        .execute(conn)?;
    if taken == 0 {
        return Ok(None);
    }
    let at: NaiveDateTime = now();
    let mut seq = last_seq;
    for row in rows_of(updates) {
        seq += i64::try_from(row.len()).map_err(Error::internal)?;
        let packed;
        let data = match row {
            [one] => one.data.as_slice(),
            several => {
                packed = pack(several);
                packed.as_slice()
            }
        };
        diesel::insert_into(draft_updates::table)
            .values((
                draft_updates::draft_id.eq(draft_id),
                draft_updates::seq.eq(seq),
                draft_updates::user_id.eq(row[0].user_id),
                draft_updates::created_at.eq(at),
                draft_updates::data.eq(data),
                draft_updates::updates.eq(i32::try_from(row.len()).map_err(Error::internal)?),
            ))
            .execute(conn)?;
    }
    record_authors(conn, draft_id, updates)?;
    // Other instances learn of new rows at commit (PostgreSQL delivers NOTIFY then) and read them
    // themselves: the message carries only the draft, the sequence number and who wrote it.
    if let DbConnection::Postgresql(pg) = conn {
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<diesel::sql_types::Text, _>(NOTIFY_CHANNEL)
            .bind::<diesel::sql_types::Text, _>(format!("{draft_id}:{new_last}:{instance}"))
            .execute(pg)?;
    }
    Ok(Some(new_last))
}

/// Cuts a batch into rows: as many updates as fit in [`ROW_BYTES`] each (an update larger than
/// that is a row of its own).
fn rows_of(updates: &[NewUpdate]) -> impl Iterator<Item = &[NewUpdate]> {
    let mut rest = updates;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut bytes = 0;
        let fits = rest
            .iter()
            .take_while(|u| {
                bytes += u.data.len() + 8;
                bytes <= ROW_BYTES
            })
            .count()
            .max(1);
        let (row, after) = rest.split_at(fits);
        rest = after;
        Some(row)
    })
}

/// Adds the batch's client-id and clock ranges to the draft's authorship index (which
/// compaction never touches). A range that continues the client's last one by the same user —
/// a delegate typing — extends that row instead of adding one.
fn record_authors(conn: &mut DbConnection, draft_id: i64, updates: &[NewUpdate]) -> Result<(), Error> {
    use crate::db::schema::draft_authors;
    use yrs::updates::decoder::Decode;
    let mut ranges: Vec<(u64, u32, u32, i64)> = Vec::new();
    for update in updates {
        let Ok(decoded) = yrs::Update::decode_v1(&update.data) else { continue };
        let lower = decoded.state_vector_lower();
        for (client, hi) in decoded.state_vector().iter() {
            let lo = lower.get(client);
            if *hi <= lo {
                continue;
            }
            let client = client.get();
            match ranges.iter_mut().find(|r| r.0 == client && r.2 == lo && r.3 == update.user_id) {
                Some(r) => r.2 = *hi,
                None => ranges.push((client, lo, *hi, update.user_id)),
            }
        }
    }
    for (client, lo, hi, user) in ranges {
        // Client ids are 53-bit (Yjs) and fit an i64.
        let client = i64::try_from(client).map_err(Error::internal)?;
        let extended = diesel::update(
            draft_authors::table
                .filter(draft_authors::draft_id.eq(draft_id))
                .filter(draft_authors::client_id.eq(client))
                .filter(draft_authors::clock_end.eq(i64::from(lo)))
                .filter(draft_authors::user_id.eq(user)),
        )
        .set(draft_authors::clock_end.eq(i64::from(hi)))
        .execute(conn)?;
        if extended == 0 {
            diesel::insert_into(draft_authors::table)
                .values((
                    draft_authors::draft_id.eq(draft_id),
                    draft_authors::client_id.eq(client),
                    draft_authors::clock_start.eq(i64::from(lo)),
                    draft_authors::clock_end.eq(i64::from(hi)),
                    draft_authors::user_id.eq(user),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// The PostgreSQL channel on which instances announce new updates.
pub const NOTIFY_CHANNEL: &str = "plenum_draft_updates";

/// The full integrated state of a document (v1), without updates it holds back for missing
/// dependencies: what a snapshot stores and what a sync step 2 answers from.
pub fn encode_state(doc: &Doc, since: &StateVector) -> Vec<u8> {
    doc.transact().encode_diff_v1(since)
}

/// Folds everything up to `seq` into one snapshot and deletes the folded log, atomically (call
/// inside a transaction). `doc` must hold everything stored up to `seq` (it may hold more:
/// updates are idempotent). Returns how many log rows were folded, or `None` when a snapshot at
/// or past `seq` already exists (another instance compacted first).
pub fn compact(conn: &mut DbConnection, draft_id: i64, seq: i64, doc: &Doc) -> Result<Option<usize>, Error> {
    compact_state(conn, draft_id, seq, encode_state(doc, &StateVector::default()))
}

/// [`compact`] with the document already encoded ([`encode_state`] from the empty state vector),
/// for a caller that encodes where the document lives and stores elsewhere (the room).
pub fn compact_state(conn: &mut DbConnection, draft_id: i64, seq: i64, state: Vec<u8>) -> Result<Option<usize>, Error> {
    // Lock the draft's row (a no-op update locks it on PostgreSQL; SQLite has one writer), so
    // no append commits between our check and our delete.
    diesel::update(drafts::table.find(draft_id)).set(drafts::last_seq.eq(drafts::last_seq)).execute(conn)?;
    let newest: Option<i64> = draft_snapshots::table
        .filter(draft_snapshots::draft_id.eq(draft_id))
        .select(diesel::dsl::max(draft_snapshots::seq))
        .first(conn)?;
    if newest.is_some_and(|n| n >= seq) {
        return Ok(None);
    }
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
    Ok(Some(
        diesel::delete(
            draft_updates::table.filter(draft_updates::draft_id.eq(draft_id)).filter(draft_updates::seq.le(seq)),
        )
        .execute(conn)?,
    ))
}

/// The plain text of a document.
pub fn text_of(doc: &Doc) -> String {
    use yrs::GetString;
    let text = doc.get_or_insert_text(TEXT_NAME);
    text.get_string(&doc.transact())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// A packed row gives back exactly the updates and senders it was made of.
        #[test]
        fn packed_rows_read_back_as_written(
            updates in proptest::collection::vec((1i64..i64::MAX, proptest::collection::vec(any::<u8>(), 0..300)), 2..40)
        ) {
            let batch: Vec<NewUpdate> = updates.iter().map(|(u, d)| NewUpdate { user_id: *u, data: d.clone() }).collect();
            let n = i32::try_from(batch.len()).expect("few");
            prop_assert_eq!(unpack(&pack(&batch), n), Ok(updates));
        }

        /// Whatever a row holds, reading it never panics: it gives the updates or says why not.
        #[test]
        fn any_bytes_unpack_or_are_refused(data in proptest::collection::vec(any::<u8>(), 0..200), n in prop_oneof![0i32..50, Just(i32::MAX)]) {
            let _ = unpack(&data, n);
        }
    }

    #[test]
    fn a_row_with_bytes_left_over_is_refused() {
        let batch = [NewUpdate { user_id: 3, data: vec![1, 2] }, NewUpdate { user_id: 4, data: vec![3] }];
        let mut packed = pack(&batch);
        assert!(unpack(&packed, 2).is_ok());
        assert!(unpack(&packed, 3).is_err(), "one update too many");
        packed.push(0);
        assert!(unpack(&packed, 2).is_err(), "a byte after the last update");
    }

    #[test]
    fn large_batches_are_cut_into_rows_of_at_most_row_bytes() {
        let update = |len| NewUpdate { user_id: 1, data: vec![0; len] };
        let batch =
            vec![update(ROW_BYTES / 3), update(ROW_BYTES / 3), update(ROW_BYTES / 3), update(ROW_BYTES + 1), update(5)];
        let sizes: Vec<usize> = rows_of(&batch).map(<[NewUpdate]>::len).collect();
        assert_eq!(sizes, vec![2, 1, 1, 1], "two thirds fit a row, a third more does not; a huge one is alone");
        assert_eq!(rows_of(&[]).count(), 0);
    }
}
