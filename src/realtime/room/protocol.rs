//! The y-protocols side of a room: one message per frame, document updates applied (or held
//! until their dependencies arrive), and refusals for those who may not write.

use super::*;
use yrs::encoding::read::Error as ReadError;
use yrs::updates::decoder::Decoder;

impl Room {
    pub(super) fn frame(&mut self, conn: ConnId, data: &[u8], pending: &mut Vec<Pending>, after: &mut Vec<After>) {
        let Some(c) = self.conns.get(&conn) else { return };
        // The connection already refused frames over the size limit (1009).
        match classify(&self.doc, data, c.who.may_edit(self.gate)) {
            Err(Refusal::Malformed(why)) => self.kill(conn, close::PROTOCOL_ERROR, why),
            Err(Refusal::PermissionDenied) => {
                self.metrics.updates_refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                after.push(After::Send(conn, permission_denied()));
            }
            Ok(Incoming::SyncStep1(sv)) => after.push(After::SyncStep2(conn, sv)),
            Ok(Incoming::Write { update, data }) => self.update(conn, update, data, pending, after),
            Ok(Incoming::Awareness(update)) => self.awareness(conn, update, after),
            Ok(Incoming::AwarenessQuery) => after.push(After::AllPresence(conn)),
            Ok(Incoming::Ignored) => {}
        }
    }

    pub(super) fn update(
        &mut self,
        conn: ConnId,
        update: Update,
        data: Vec<u8>,
        pending: &mut Vec<Pending>,
        after: &mut Vec<After>,
    ) {
        let Some(c) = self.conns.get(&conn) else { return };
        let from = Author { conn, user_id: c.who.user_id, session_id: c.who.session_id };
        self.apply(from, update, data, pending, after);
        self.retry_waiting(pending, after);
    }

    /// Integrates one writer's update (see [`integrate`]), queues what it added for storing and
    /// broadcasting, and keeps count of what the connection holds back.
    fn apply(
        &mut self,
        from: Author,
        update: Update,
        data: Vec<u8>,
        pending: &mut Vec<Pending>,
        after: &mut Vec<After>,
    ) {
        let size = data.len();
        let integrated = match integrate(&self.doc, update, data) {
            Integration::Applied(integrated) => integrated,
            Integration::Waits { update, data } => {
                self.waiting.push(Waiting { from, update, data });
                self.hold(from, size);
                return;
            }
            Integration::Broken => {
                // Part of it may already be in the document: rebuild it from what is stored.
                self.must_reload = true;
                self.kill(from.conn, close::PROTOCOL_ERROR, "the update does not apply to this document");
                return;
            }
        };
        let Integrated { delta, held_more, .. } = integrated;
        if let Some(data) = delta {
            pending.push(Pending {
                conn: Some(from.conn),
                session: Some(from.session_id),
                rejected: false,
                update: NewUpdate { user_id: from.user_id, data },
            });
            after.push(After::Update(pending.len() - 1));
        }
        // Whether it also released what was held is settled by `retry_waiting`, which follows.
        if held_more {
            self.hold(from, size);
        }
    }

    fn hold(&mut self, from: Author, size: usize) {
        let held =
            self.held.entry(from.conn).or_insert(Held { user_id: from.user_id, bytes: 0, since: Instant::now() });
        held.bytes += size;
        if held.bytes > self.cfg.hold_bytes {
            tracing::info!(draft = self.draft_id, conn = from.conn, bytes = held.bytes, "held updates over the limit");
            self.must_reload = true;
        }
    }

    /// Applies, in the order they came, the updates that waited for clocks the document now
    /// has (sent by an offline client before its sync reply, or completed by another instance's
    /// rows).
    pub(super) fn retry_waiting(&mut self, pending: &mut Vec<Pending>, after: &mut Vec<After>) {
        while let Some(at) = self.waiting.iter().position(|w| !skips_clocks(&self.doc, &w.update)) {
            let Waiting { from, update, data } = self.waiting.remove(at);
            self.apply(from, update, data, pending, after);
        }
        self.settle_held();
    }

    /// Forgets the hold counts once nothing waits, in the room or in the document.
    pub(super) fn settle_held(&mut self) {
        if self.waiting.is_empty() && held_fingerprint(&self.doc.transact()).is_none() {
            self.held.clear();
        }
    }

    /// Drops held updates that waited longer than `--ws-hold-secs` (the document is rebuilt
    /// without them, and their connections are closed so that they resync).
    pub(super) fn expire_held(&mut self) {
        let limit = Duration::from_secs(self.cfg.hold_secs.max(1));
        if self.held.values().any(|h| h.since.elapsed() > limit) {
            tracing::info!(draft = self.draft_id, "held updates waited too long for their dependencies");
            self.must_reload = true;
        }
    }
}

/// What one binary frame from a client asks for, as [`classify`] decides it.
#[derive(Debug)]
pub enum Incoming {
    /// Sync step 1: answer with what the client's state vector lacks.
    SyncStep1(StateVector),
    /// A sync step 2 or an update from someone who may write now: apply it. `data` is the
    /// update as sent (what `update` was decoded from).
    Write { update: Update, data: Vec<u8> },
    /// Presence.
    Awareness(AwarenessUpdate),
    /// "Send me everyone's presence."
    AwarenessQuery,
    /// Nothing to do: a reader's update that would change nothing (such as its sync step 2 when
    /// it has nothing new), an auth message (permission is the server's to say, never a
    /// client's), or a message type this server does not know (so providers that add their own
    /// keep working).
    Ignored,
}

/// Why a frame is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not one well-formed y-protocols message, or a malformed document update: the connection
    /// is closed (1002) with this reason.
    Malformed(&'static str),
    /// An update that would change the document from someone who may not write: answered with
    /// `permission-denied`, never applied or stored.
    PermissionDenied,
}

/// Decides what one incoming binary frame is, for a connection that may (`can_write`) or may
/// not change the text now, against the room's document `doc` (only read, to tell whether a
/// reader's update would change anything). The size limit is the connection's (frames over it
/// never get here). A reader's frame is never [`Incoming::Write`].
pub fn classify(doc: &Doc, frame: &[u8], can_write: bool) -> Result<Incoming, Refusal> {
    // One message per frame, as y-websocket sends them: bytes after a complete message are a
    // protocol error, never silently dropped. (yrs's `MessageReader` would take a truncated
    // message for the end of the frame and silently drop it.)
    if let Some(why) = overclaims(frame) {
        return Err(Refusal::Malformed(why));
    }
    let mut decoder = DecoderV1::from(Cursor::new(frame));
    let Ok(message) = Message::decode(&mut decoder) else {
        return Err(Refusal::Malformed("malformed y-protocols message"));
    };
    if decoder.read_u8().is_ok() {
        return Err(Refusal::Malformed("bytes after the end of the message"));
    }
    match message {
        Message::Sync(SyncMessage::SyncStep1(sv)) => Ok(Incoming::SyncStep1(sv)),
        Message::Sync(SyncMessage::SyncStep2(data) | SyncMessage::Update(data)) => {
            let update = decode_update(&data).map_err(Refusal::Malformed)?;
            if can_write {
                Ok(Incoming::Write { update, data })
            } else if carries_changes(doc, &update) {
                Err(Refusal::PermissionDenied)
            } else {
                Ok(Incoming::Ignored)
            }
        }
        Message::Awareness(update) => Ok(Incoming::Awareness(update)),
        Message::AwarenessQuery => Ok(Incoming::AwarenessQuery),
        Message::Auth(_) | Message::Custom(..) => Ok(Incoming::Ignored),
    }
}

/// Whether a frame claims more entries than its bytes can hold, where yrs would reserve room
/// for the claim before reading any entry: an awareness update's clients (a 20-byte frame could
/// have it reserve 2 GiB; found by fuzz/ws_frame), a state vector's clients, and an update's
/// clients and its first client's blocks. Every entry takes at least one byte per field.
fn overclaims(frame: &[u8]) -> Option<&'static str> {
    fn claim(cursor: &mut Cursor<'_>) -> Option<usize> {
        cursor.read_var::<u64>().ok().and_then(|n| usize::try_from(n).ok())
    }
    fn left(cursor: &Cursor<'_>) -> usize {
        cursor.buf.len().saturating_sub(cursor.next)
    }
    let mut cursor = Cursor::new(frame);
    match claim(&mut cursor)? {
        // Awareness: [1, payload], payload = [count, (client, clock, json)*].
        1 => {
            let mut payload = Cursor::new(cursor.read_buf().ok()?);
            let count = claim(&mut payload)?;
            (count > left(&payload) / 3).then_some("an awareness update claims more clients than it holds")
        }
        // Sync: [0, step, …].
        0 => match claim(&mut cursor)? {
            // Step 1: a state vector, [count, (client, clock)*].
            0 => {
                let mut sv = Cursor::new(cursor.read_buf().ok()?);
                let count = claim(&mut sv)?;
                (count > left(&sv) / 2).then_some("a state vector claims more clients than it holds")
            }
            // Step 2 or update: [count, (blocks, client, clock, block*)*, delete set].
            1 | 2 => {
                let mut update = Cursor::new(cursor.read_buf().ok()?);
                let clients = claim(&mut update)?;
                if clients > left(&update) / 3 {
                    return Some("an update claims more clients than it holds");
                }
                let blocks = if clients > 0 { claim(&mut update)? } else { 0 };
                (blocks > left(&update)).then_some("an update claims more blocks than it holds")
            }
            _ => None,
        },
        _ => None,
    }
}

/// Decodes a client's document update (v1), refusing those yrs would corrupt the document with.
///
/// Every encoder (Yjs and yrs) writes each client's blocks as one run of consecutive clocks. yrs
/// 0.28.1 appends a repeated client's second run to the first without checking that its clocks
/// follow on, and then integrates blocks whose clocks overlap: `BlockStore::push` overwrites,
/// and frees, an item other items still link to. The document's memory is corrupted (a
/// 30-byte update is enough; found by fuzz/ws_frame, a heap-use-after-free under ASan). So the
/// client of each run is read through [`Runs`], which notes a repeat, and such an update is
/// never applied.
///
/// It also refuses JSON content (y-protocols content type 2, which Yjs itself no longer
/// writes): yrs 0.28.1 writes such an item's count as Yjs does but reads one entry more
/// (`while remaining >= 0`), so a document holding one encodes to bytes that do not decode.
/// Every sync answer and the next snapshot would be unreadable and the draft could not be
/// opened again (found by fuzz/ws_frame).
///
/// And it refuses an item placed anywhere but in the draft's one text ([`store::TEXT_NAME`]):
/// in another root type, or inside a nested type (which a draft's plain text never holds). yrs
/// 0.28.1 integrates the rest of a block whose start the document already has after the block's
/// previous part, in that part's list, but counts it in the parent the update names; a crafted
/// update naming another parent thus left lengths that a later deletion subtracted past zero,
/// and the stored log no longer rebuilt (found by fuzz/ws_frame). With one parent for every
/// item, the two always agree.
pub fn decode_update(data: &[u8]) -> Result<Update, &'static str> {
    let mut decoder = Runs {
        inner: DecoderV1::from(data),
        clients: Vec::new(),
        repeated: false,
        json: false,
        parent: Parent::NotNext,
        foreign_parent: false,
    };
    let update = Update::decode(&mut decoder).map_err(|_| "malformed document update")?;
    if decoder.repeated {
        return Err("a document update names the same client twice");
    }
    if decoder.json {
        return Err("a document update carries JSON content, which a draft's text never holds");
    }
    if decoder.foreign_parent {
        return Err("a document update places an item outside the draft's text");
    }
    Ok(update)
}

/// A v1 decoder that remembers the client of each run of blocks (`read_client` is called once
/// per run and nowhere else) and whether one came twice, whether a block's content is JSON
/// (`read_info` is called once per block and nowhere else), and whether an item names a parent
/// other than the draft's text (`read_parent_info` says which read comes next: the root's name,
/// or a nested type's id).
struct Runs<'a> {
    inner: DecoderV1<'a>,
    clients: Vec<ClientID>,
    repeated: bool,
    json: bool,
    parent: Parent,
    foreign_parent: bool,
}

/// What the next read is, after an item's parent info.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Parent {
    NotNext,
    RootName,
    NestedTypeId,
}

/// How yrs tells block kinds apart: a GC block's info is 0 and a skip's is 10 exactly; any
/// other info is an item, whose content type is the low four bits (2: JSON).
const GC_INFO: u8 = 0;
const SKIP_INFO: u8 = 10;
const JSON_CONTENT: u8 = 2;

impl Read for Runs<'_> {
    fn read_exact(&mut self, len: usize) -> Result<&[u8], ReadError> {
        self.inner.read_exact(len)
    }
    fn read_u8(&mut self) -> Result<u8, ReadError> {
        self.inner.read_u8()
    }
    fn read_string(&mut self) -> Result<&str, ReadError> {
        let parent = std::mem::replace(&mut self.parent, Parent::NotNext);
        let s = self.inner.read_string()?;
        self.foreign_parent |= parent == Parent::RootName && s != store::TEXT_NAME;
        Ok(s)
    }
}

impl Decoder for Runs<'_> {
    fn reset_ds_cur_val(&mut self) {
        self.inner.reset_ds_cur_val()
    }
    fn read_ds_clock(&mut self) -> Result<u32, ReadError> {
        self.inner.read_ds_clock()
    }
    fn read_ds_len(&mut self) -> Result<u32, ReadError> {
        self.inner.read_ds_len()
    }
    fn read_left_id(&mut self) -> Result<ID, ReadError> {
        self.foreign_parent |= std::mem::replace(&mut self.parent, Parent::NotNext) == Parent::NestedTypeId;
        self.inner.read_left_id()
    }
    fn read_right_id(&mut self) -> Result<ID, ReadError> {
        self.inner.read_right_id()
    }
    fn read_client(&mut self) -> Result<ClientID, ReadError> {
        let client = self.inner.read_client()?;
        // A linear search: the runs are few (one per author of the update), and an update that
        // claims many clients was refused by `overclaims` before.
        self.repeated |= self.clients.contains(&client);
        self.clients.push(client);
        Ok(client)
    }
    fn read_info(&mut self) -> Result<u8, ReadError> {
        let info = self.inner.read_info()?;
        self.json |= info != GC_INFO && info != SKIP_INFO && info & 0b1111 == JSON_CONTENT;
        Ok(info)
    }
    fn read_parent_info(&mut self) -> Result<bool, ReadError> {
        let named = self.inner.read_parent_info()?;
        self.parent = if named { Parent::RootName } else { Parent::NestedTypeId };
        Ok(named)
    }
    fn read_type_ref(&mut self) -> Result<u8, ReadError> {
        self.inner.read_type_ref()
    }
    fn read_len(&mut self) -> Result<u32, ReadError> {
        self.inner.read_len()
    }
    fn read_any(&mut self) -> Result<yrs::Any, ReadError> {
        self.inner.read_any()
    }
    fn read_json(&mut self) -> Result<yrs::Any, ReadError> {
        self.inner.read_json()
    }
    fn read_key(&mut self) -> Result<std::sync::Arc<str>, ReadError> {
        self.inner.read_key()
    }
    fn read_to_end(&mut self) -> Result<&[u8], ReadError> {
        self.inner.read_to_end()
    }
}

/// What [`integrate`] did with a writer's update.
#[derive(Debug)]
pub enum Integration {
    /// Applied to the document (perhaps partly held back there, waiting for dependencies).
    Applied(Integrated),
    /// Not applied: it has content after clocks of its client that the document does not have
    /// yet (a stock client that edited offline sends its new edits before its sync reply). It
    /// is handed back, to be applied once [`skips_clocks`] is false. (yrs would integrate such
    /// content behind a hole its state vector stops at, so that it would be neither stored
    /// nor sent, nor in a snapshot.)
    Waits { update: Update, data: Vec<u8> },
    /// It does not apply, and part of it may already be in the document (the room rebuilds it
    /// from what is stored).
    Broken,
}

/// What applying one writer's update did to the document: see [`integrate`].
#[derive(Debug)]
pub struct Integrated {
    /// What to store and broadcast (`None`: the document already had all of it).
    pub delta: Option<Vec<u8>>,
    /// The document now holds back more than before (parts waiting for their dependencies).
    pub held_more: bool,
    /// Nothing is held back in the document any more.
    pub nothing_held: bool,
}

/// Applies a writer's `update` (decoded from `data`) to `doc` as the room does.
///
/// yrs can panic on a crafted update (0.28.1 subtracts with overflow in `TransactionMut::delete`
/// on some that the fuzzer builds; the release profile turns overflow checks on for yrs so that
/// this is a panic, not a silently corrupted length). Such a panic is caught here and the update
/// is [`Integration::Broken`]: the room rebuilds the document from what is stored, which never
/// holds that update, and closes the sender's connection.
pub fn integrate(doc: &Doc, update: Update, data: Vec<u8>) -> Integration {
    if skips_clocks(doc, &update) {
        return Integration::Waits { update, data };
    }
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| apply_to(doc, update, data))) {
        Ok(Some(integrated)) => Integration::Applied(integrated),
        Ok(None) => Integration::Broken,
        Err(_) => {
            tracing::warn!("applying an update panicked in yrs: refused, the document is rebuilt");
            Integration::Broken
        }
    }
}

fn apply_to(doc: &Doc, update: Update, mut data: Vec<u8>) -> Option<Integrated> {
    let mut txn = doc.transact_mut();
    let held_before = held_fingerprint(&txn);
    let before = txn.state_vector();
    txn.apply_update(update).ok()?;
    let changed = txn.state_vector() != before || !txn.delete_set().is_empty();
    let held_after = held_fingerprint(&txn);
    // What this transaction integrated. When nothing is or was held, that is the update as
    // sent (parts the document already had are harmless: updates are idempotent), so it is
    // stored as it came; otherwise the transaction's own delta: this update and any held one
    // it completed, without parts still waiting.
    let delta = match (changed, held_before.is_none() && held_after.is_none()) {
        (false, _) => None,
        (true, true) => Some(std::mem::take(&mut data)),
        (true, false) => Some(txn.encode_update_v1()),
    };
    let held_more = held_after.is_some() && held_after != held_before;
    Some(Integrated { delta, held_more, nothing_held: held_after.is_none() })
}

/// Whether `update` has content that starts after a clock of its client that `doc` does not
/// have (counting what the update itself brings before it).
pub fn skips_clocks(doc: &Doc, update: &Update) -> bool {
    let sv = doc.transact().state_vector();
    let insertions = update.insertions(true);
    insertions.iter().any(|(client, ranges)| {
        let mut ranges: Vec<std::ops::Range<u32>> = ranges.iter().cloned().collect();
        ranges.sort_by_key(|r| r.start);
        let mut known = sv.get(client);
        ranges.into_iter().any(|r| {
            let gap = r.start > known;
            known = known.max(r.end);
            gap
        })
    })
}

pub(super) fn permission_denied() -> Bytes {
    Bytes::from(Message::Auth(Some("permission-denied".into())).encode_v1())
}

/// What the document holds back for missing dependencies, as comparable bytes (`None`: nothing).
pub(super) fn held_fingerprint<T: ReadTxn>(txn: &T) -> Option<Vec<u8>> {
    let store = txn.store();
    let (update, deletes) = (store.pending_update(), store.pending_ds());
    if update.is_none() && deletes.is_none() {
        return None;
    }
    let mut bytes = update.map(|p| p.update.encode_v1()).unwrap_or_default();
    bytes.extend(deletes.map(|d| d.encode_v1()).unwrap_or_default());
    Some(bytes)
}

/// Whether an update would change the document (new content, or deleting something not yet deleted).
pub(super) fn carries_changes(doc: &Doc, update: &Update) -> bool {
    let txn = doc.transact();
    let sv = txn.state_vector();
    // Any block (an item, deleted or not, or a GC range; skips are not blocks) that ends past
    // the document's clocks for its client is new. This covers what `Update::extends` sees
    // (a block across the state vector) and what it misses: content past a skip, after clocks
    // the document lacks, which yrs stores all the same.
    if update.insertions(true).iter().any(|(client, ranges)| ranges.iter().any(|r| r.end > sv.get(client))) {
        return true;
    }
    let deletes = update.delete_set();
    if deletes.is_empty() {
        return false;
    }
    let snapshot = txn.snapshot();
    for (client, ranges) in deletes.iter() {
        for range in ranges.iter() {
            if range.clone().any(|clock| !snapshot.delete_set.contains(&ID::new(*client, clock))) {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_past_a_skip_is_a_change_a_reader_may_not_make() {
        // Found by fuzz/ws_frame: a reader's update with a skip, then a GC block, past the end of
        // client 1's clocks. `extends` and the lower state vector see nothing new, but yrs
        // stores the block (and counts it deleted), so it must be refused, not ignored.
        let unhex = |s: &str| {
            (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect::<Vec<u8>>()
        };
        let server = Doc::new();
        let state = unhex("02010200040107636f6e74656e740b000000000000000000005d01010081020a8a8401010101008a8401");
        server.transact_mut().apply_update(Update::decode_v1(&state).expect("decode")).expect("apply");
        let update = unhex("02010200010107636f6e74656e740b03010081020a8a84010a0300050081010d06020102000b0e060201000b");
        let decoded = Update::decode_v1(&update).expect("decode");
        assert!(!decoded.extends(&server.transact().state_vector()), "what yrs's own check says");
        assert!(carries_changes(&server, &decoded));
        let frame = Message::Sync(SyncMessage::Update(update)).encode_v1();
        assert_eq!(classify(&server, &frame, false).err(), Some(Refusal::PermissionDenied));
    }

    #[test]
    fn changes_are_recognised() {
        use yrs::{GetString, Text};
        let server = Doc::new();
        let client = Doc::new();
        let text = client.get_or_insert_text("content");
        let mut txn = client.transact_mut();
        text.insert(&mut txn, 0, "[option A] / [option B]");
        let update = Update::decode_v1(&txn.encode_update_v1()).expect("update");
        drop(txn);
        assert!(carries_changes(&server, &update));
        let full = client.transact().encode_state_as_update_v1(&StateVector::default());
        server.transact_mut().apply_update(Update::decode_v1(&full).expect("decode")).expect("apply");
        assert!(!carries_changes(&server, &Update::decode_v1(&full).expect("decode")), "nothing new");
        let mut txn = client.transact_mut();
        text.remove_range(&mut txn, 0, 1);
        let deletion = Update::decode_v1(&txn.encode_update_v1()).expect("update");
        drop(txn);
        assert!(carries_changes(&server, &deletion), "a new deletion is a change");
        assert_eq!(text.get_string(&client.transact()), "option A] / [option B]");
    }

    #[test]
    fn an_update_after_a_gap_in_its_clocks_waits_until_the_gap_is_filled() {
        use yrs::{GetString, Text};
        let decode = |data: &[u8]| Update::decode_v1(data).expect("decode");
        let apply = |doc: &Doc, data: &[u8]| doc.transact_mut().apply_update(decode(data)).expect("apply");
        let server = Doc::with_client_id(1);
        let (b, a) = (Doc::with_client_id(2), Doc::with_client_id(3));
        let text_b = b.get_or_insert_text("content");
        let xy = {
            let mut txn = b.transact_mut();
            text_b.insert(&mut txn, 0, "xy");
            txn.encode_update_v1()
        };
        apply(&server, &xy);
        apply(&a, &xy);
        let text_a = a.get_or_insert_text("content");
        let edit = |at: u32, s: &str| {
            let mut txn = a.transact_mut();
            text_a.insert(&mut txn, at, s);
            txn.encode_update_v1()
        };
        // a's second edit depends only on b's text, not on a's first edit (its clock 0).
        let (first, second) = (edit(0, "1"), edit(3, "2"));

        // Left to itself, yrs integrates the second behind a hole its state vector stops at:
        // content that would be neither stored nor sent, nor in a snapshot.
        let bare = Doc::with_client_id(9);
        apply(&bare, &xy);
        apply(&bare, &second);
        assert_eq!(bare.get_or_insert_text("content").get_string(&bare.transact()), "xy2");
        assert_eq!(bare.transact().state_vector().get(&a.client_id()), 0);

        assert!(skips_clocks(&server, &decode(&second)));
        let Integration::Waits { update: waiting, data } = integrate(&server, decode(&second), second.clone()) else {
            panic!("an update after a gap must wait");
        };
        assert_eq!(data, second);
        let text = server.get_or_insert_text("content");
        assert_eq!(text.get_string(&server.transact()), "xy", "nothing of it applied");
        assert!(!skips_clocks(&server, &decode(&first)));
        let Integration::Applied(done) = integrate(&server, decode(&first), first.clone()) else { panic!("applies") };
        assert_eq!(done.delta.as_deref(), Some(first.as_slice()));
        assert!(!skips_clocks(&server, &waiting), "the gap is filled");
        let Integration::Applied(done) = integrate(&server, waiting, data) else { panic!("applies") };
        assert!(done.nothing_held);
        assert_eq!(text.get_string(&server.transact()), "1xy2");
        // What was stored (the two deltas, in that order) is the document.
        let rebuilt = Doc::with_client_id(10);
        for data in [&xy, &first, &done.delta.expect("stored")] {
            apply(&rebuilt, data);
        }
        assert_eq!(rebuilt.transact().state_vector(), server.transact().state_vector());
        assert_eq!(rebuilt.get_or_insert_text("content").get_string(&rebuilt.transact()), "1xy2");
    }

    /// A crafted sequence the fuzzer found (fuzz/ws_frame): one client's edits with one byte
    /// flipped on the way. yrs 0.28.1 panicked on the last (subtract with overflow in
    /// `TransactionMut::delete`): the third had put part of a block in the text but counted it
    /// in another root (its name changed by the flip). `decode_update` now refuses the third,
    /// and what was stored still rebuilds the document.
    #[test]
    fn an_update_yrs_panics_on_is_refused() {
        use yrs::{GetString, Text};
        let client = Doc::with_client_id(1);
        let text = client.get_or_insert_text("content");
        let flip = |mut bytes: Vec<u8>, at: usize, value: u8| {
            let at = at % bytes.len();
            bytes[at] ^= value;
            bytes
        };
        let edit = |at: usize, insert: &str, delete: usize| {
            let mut txn = client.transact_mut();
            let current = text.get_string(&txn);
            let bounds: Vec<usize> =
                current.char_indices().map(|(i, _)| i).chain(std::iter::once(current.len())).collect();
            let from = at % bounds.len();
            let to = (from + delete).min(bounds.len() - 1);
            let (start, end) = (bounds[from] as u32, bounds[to] as u32);
            if end > start {
                text.remove_range(&mut txn, start, end - start);
            }
            text.insert(&mut txn, start, insert);
            txn.encode_update_v1()
        };
        let server = crate::drafting::store::new_doc();
        let mut stored: Vec<Vec<u8>> = Vec::new();
        let mut refused: Vec<&str> = Vec::new();
        let mut send = |data: Vec<u8>| {
            let frame = Message::Sync(SyncMessage::Update(data)).encode_v1();
            match classify(&server, &frame, true) {
                Err(Refusal::Malformed(why)) => refused.push(why),
                Ok(Incoming::Write { update, data }) => match integrate(&server, update, data) {
                    Integration::Applied(Integrated { delta: Some(delta), .. }) => stored.push(delta),
                    Integration::Broken => refused.push("yrs panicked"),
                    _ => {}
                },
                _ => {}
            }
        };
        send(flip(edit(0, "\0", 0), 16191, 63));
        send(flip(edit(16191, "?=?\u{1f}?/??", 133), 34181, 133));
        send(flip(client.transact().encode_state_as_update_v1(&StateVector::default()), 16191, 63));
        send(flip(edit(16191, "???", 63), 16191, 63));
        // (The fourth, its byte flipped elsewhere, does not decode at all.)
        assert_eq!(refused, ["a document update places an item outside the draft's text", "malformed document update"]);
        let rebuilt = crate::drafting::store::new_doc();
        for data in &stored {
            rebuilt
                .transact_mut()
                .apply_update(Update::decode_v1(data).expect("decode"))
                .expect("what is stored applies");
        }
    }

    #[test]
    fn items_outside_the_drafts_text_are_refused() {
        use yrs::{Array, ArrayPrelim, ArrayRef, Text};
        let typed = |root: &str, s: &str| {
            let doc = Doc::with_client_id(1);
            doc.get_or_insert_text(root).insert(&mut doc.transact_mut(), 0, s);
            doc.transact().encode_state_as_update_v1(&StateVector::default())
        };
        assert!(decode_update(&typed(store::TEXT_NAME, "agreed text")).is_ok());
        // As the fuzzer found it: client 1's first clocks again, longer, in a root named like
        // the text but for one byte. The document has clocks 0..10 in the text; yrs would put
        // 10..14 after them there but count them in the other root.
        assert_eq!(
            decode_update(&typed("co]tent", "agreed text, ")).err(),
            Some("a document update places an item outside the draft's text")
        );
        // An item inside a nested type (its parent given by the type's id).
        let doc = Doc::with_client_id(2);
        let text = doc.get_or_insert_text(store::TEXT_NAME);
        let nested: ArrayRef = text.insert_embed(&mut doc.transact_mut(), 0, ArrayPrelim::default());
        let sv = doc.transact().state_vector();
        nested.push_back(&mut doc.transact_mut(), 1);
        let inside = doc.transact().encode_state_as_update_v1(&sv);
        assert_eq!(decode_update(&inside).err(), Some("a document update places an item outside the draft's text"));
    }

    #[test]
    fn deleting_half_of_an_emoji_then_the_rest_rebuilds_from_the_log() {
        // Found by fuzz/ws_frame (a stored log yrs panicked on when replaying it). Yjs counts
        // text in UTF-16 units, so half of "😀" is an ordinary range for a client to delete; yrs
        // turns both halves into U+FFFD. Counted in bytes (yrs's default) the text then has two
        // bytes more than it holds, and deleting the halves and then "a" subtracted past zero.
        use crate::drafting::store::{self, Stored};
        use yrs::{GetString, Text};
        let client = Doc::with_client_id(1);
        client.get_or_insert_text(store::TEXT_NAME).insert(&mut client.transact_mut(), 0, "a\u{1F600}b");
        let typed = client.transact().encode_state_as_update_v1(&StateVector::default());
        // Deletions of client 1's clocks: 2 (the emoji's second half), 1 (its first), 0 ("a").
        let delete = |clock: u8| vec![0, 1, 1, 1, clock, 1];
        let server = store::new_doc();
        let mut stored: Vec<(i64, Vec<u8>)> = Vec::new();
        for data in [typed, delete(2), delete(1), delete(0)] {
            let update = decode_update(&data).expect("decodes");
            let Integration::Applied(Integrated { delta: Some(delta), .. }) = integrate(&server, update, data) else {
                panic!("the update applies");
            };
            stored.push((stored.len() as i64 + 1, delta));
        }
        assert_eq!(store::text_of(&server), "b");
        let rebuilt = Stored { snapshot: None, updates: stored }.to_doc().expect("the log rebuilds");
        assert_eq!(rebuilt.get_or_insert_text(store::TEXT_NAME).get_string(&rebuilt.transact()), "b");
    }

    #[test]
    fn claims_bigger_than_the_frame_are_refused_before_decoding() {
        use yrs::Text;
        use yrs::encoding::write::Write;
        use yrs::updates::encoder::{Encoder, EncoderV1};
        let server = Doc::new();
        let frame = |tag: &[u64], inner: &dyn Fn(&mut EncoderV1)| {
            let mut body = EncoderV1::new();
            inner(&mut body);
            let mut e = EncoderV1::new();
            for t in tag {
                e.write_var(*t);
            }
            e.write_buf(body.to_vec());
            e.to_vec()
        };
        // An awareness update claiming 2^26 clients in a few bytes (yrs would reserve ~2 GiB).
        let awareness = frame(&[1], &|e| {
            e.write_var(1u64 << 26);
            e.write_var(7u64);
            e.write_var(1u32);
            e.write_string("{}");
        });
        assert_eq!(
            classify(&server, &awareness, false).err(),
            Some(Refusal::Malformed("an awareness update claims more clients than it holds"))
        );
        let sv = frame(&[0, 0], &|e| e.write_var(u64::from(u32::MAX)));
        assert_eq!(
            classify(&server, &sv, false).err(),
            Some(Refusal::Malformed("a state vector claims more clients than it holds"))
        );
        let update = frame(&[0, 2], &|e| {
            e.write_var(1u64);
            e.write_var(1u64 << 40);
            e.write_var(5u64);
            e.write_var(0u64);
        });
        assert_eq!(
            classify(&server, &update, true).err(),
            Some(Refusal::Malformed("an update claims more blocks than it holds"))
        );
        // Honest messages pass: a real presence, state vector and update.
        let client = Doc::new();
        client.get_or_insert_text("content").insert(&mut client.transact_mut(), 0, "[option A]");
        let mut awareness = yrs::sync::Awareness::new(client.clone());
        awareness.set_local_state_raw("{\"user\":{\"name\":\"Kabo\"}}");
        let presence = Message::Awareness(awareness.update().expect("update")).encode_v1();
        assert!(matches!(classify(&server, &presence, false), Ok(Incoming::Awareness(_))));
        let step1 = Message::Sync(SyncMessage::SyncStep1(client.transact().state_vector())).encode_v1();
        assert!(matches!(classify(&server, &step1, false), Ok(Incoming::SyncStep1(_))));
        let all = client.transact().encode_state_as_update_v1(&StateVector::default());
        let step2 = Message::Sync(SyncMessage::SyncStep2(all)).encode_v1();
        assert!(matches!(classify(&server, &step2, true), Ok(Incoming::Write { .. })));
    }

    #[test]
    fn updates_yrs_would_corrupt_the_document_with_are_refused_before_it_integrates_them() {
        use yrs::encoding::write::Write;
        use yrs::updates::encoder::{Encoder, EncoderV1};
        use yrs::{GetString, Text};
        // Client 5 twice: "abc" at clocks 0..3 under the root text, then "xy" at clocks 1..3
        // after (5,0). yrs 0.28.1 takes both runs as one list and integrates the overlapping
        // blocks; BlockStore::push then frees "abc" while the text still links to it (valgrind:
        // invalid reads and writes in get_string and at commit; the next edit loops forever).
        let mut e = EncoderV1::new();
        e.write_var(2u32);
        e.write_var(1u32);
        e.write_var(5u64);
        e.write_var(0u32);
        e.write_u8(4); // a string, no origins: the parent follows
        e.write_var(1u32); // a named root type
        e.write_string("content");
        e.write_string("abc");
        e.write_var(1u32);
        e.write_var(5u64);
        e.write_var(1u32);
        e.write_u8(4 | 0x80); // a string with a left origin
        e.write_var(5u64);
        e.write_var(0u32);
        e.write_string("xy");
        e.write_var(0u32); // no deletions
        let crafted = e.to_vec();
        assert!(Update::decode_v1(&crafted).is_ok(), "yrs itself decodes it");
        assert_eq!(decode_update(&crafted).err(), Some("a document update names the same client twice"));
        let server = Doc::new();
        let frame = Message::Sync(SyncMessage::Update(crafted)).encode_v1();
        assert_eq!(
            classify(&server, &frame, true).err(),
            Some(Refusal::Malformed("a document update names the same client twice"))
        );
        assert_eq!(server.get_or_insert_text("content").get_string(&server.transact()), "");

        // JSON content: yrs takes it, but the document's own encoding then does not decode.
        let mut e = EncoderV1::new();
        e.write_var(1u32);
        e.write_var(1u32);
        e.write_var(7u64);
        e.write_var(0u32);
        e.write_u8(2); // JSON content, no origins: the parent follows
        e.write_var(1u32);
        e.write_string("content");
        e.write_var(1u32); // one entry (yrs reads two)
        e.write_string("1");
        e.write_string("2");
        e.write_var(0u32);
        let json = e.to_vec();
        let taken = Doc::new();
        taken.transact_mut().apply_update(Update::decode_v1(&json).expect("yrs decodes it")).expect("and takes it");
        let own = taken.transact().encode_state_as_update_v1(&StateVector::default());
        assert!(Update::decode_v1(&own).is_err(), "yrs 0.28.1 cannot read its own encoding back");
        assert_eq!(
            decode_update(&json).err(),
            Some("a document update carries JSON content, which a draft's text never holds")
        );

        // Honest updates naming several clients pass and apply.
        let (a, b) = (Doc::with_client_id(5), Doc::with_client_id(6));
        a.get_or_insert_text("content").insert(&mut a.transact_mut(), 0, "[option A]");
        let from_a = a.transact().encode_state_as_update_v1(&StateVector::default());
        b.transact_mut().apply_update(Update::decode_v1(&from_a).expect("decode")).expect("apply");
        b.get_or_insert_text("content").insert(&mut b.transact_mut(), 10, " or [option B]");
        let both = b.transact().encode_state_as_update_v1(&StateVector::default());
        let frame = Message::Sync(SyncMessage::SyncStep2(both)).encode_v1();
        let Ok(Incoming::Write { update, .. }) = classify(&server, &frame, true) else { panic!("an honest update") };
        assert_eq!(update.state_vector().len(), 2);
        server.transact_mut().apply_update(update).expect("apply");
        assert_eq!(server.get_or_insert_text("content").get_string(&server.transact()), "[option A] or [option B]");
    }

    #[test]
    fn frames_are_classified_and_readers_never_write() {
        use yrs::Text;
        let server = Doc::new();
        let client = Doc::new();
        let text = client.get_or_insert_text("content");
        text.insert(&mut client.transact_mut(), 0, "[option A]");
        let update = client.transact().encode_state_as_update_v1(&StateVector::default());
        let frame = Message::Sync(SyncMessage::Update(update.clone())).encode_v1();
        assert!(matches!(classify(&server, &frame, true), Ok(Incoming::Write { data, .. }) if data == update));
        assert_eq!(classify(&server, &frame, false).err(), Some(Refusal::PermissionDenied));
        server.transact_mut().apply_update(Update::decode_v1(&update).expect("decode")).expect("apply");
        assert!(matches!(classify(&server, &frame, false), Ok(Incoming::Ignored)), "nothing new: no refusal");
        let step1 = Message::Sync(SyncMessage::SyncStep1(StateVector::default())).encode_v1();
        assert!(matches!(classify(&server, &step1, false), Ok(Incoming::SyncStep1(_))));
        let mut trailing = step1.clone();
        trailing.push(0);
        assert_eq!(
            classify(&server, &trailing, true).err(),
            Some(Refusal::Malformed("bytes after the end of the message"))
        );
        assert_eq!(classify(&server, &step1[..step1.len() - 1], true).err().map(|_| ()), Some(()));
        let bad_update = Message::Sync(SyncMessage::Update(vec![0xff, 0xff])).encode_v1();
        assert_eq!(classify(&server, &bad_update, false).err(), Some(Refusal::Malformed("malformed document update")));
        let auth = Message::Auth(Some("granted".into())).encode_v1();
        assert!(matches!(classify(&server, &auth, false), Ok(Incoming::Ignored)));
        assert!(matches!(classify(&server, &Message::AwarenessQuery.encode_v1(), false), Ok(Incoming::AwarenessQuery)));
    }
}
