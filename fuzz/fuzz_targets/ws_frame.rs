//! The drafting socket's message handling: every binary frame a client can send goes through
//! `plenum::realtime::room::classify` (y-protocols decoding, one message per frame, the
//! read-only filter), and a writer's update through `integrate`, as the room does, against a
//! live document that several simulated clients edit, sync and corrupt. Nothing may panic, and:
//! - whether the sender may write never changes how a frame decodes, and a reader's frame is
//!   never a write; a reader's update let through as "nothing new" really changes nothing;
//! - what the room stores always rebuilds a document (nothing is stored that cannot be
//!   integrated), and when nothing is held or waiting it is the live document;
//! - an update that skips clocks the document lacks waits, unapplied, until they arrive.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use plenum::drafting::store;
use plenum::realtime::room::{Incoming, Integrated, Integration, Refusal, classify, integrate, skips_clocks};
use yrs::sync::protocol::SyncMessage;
use yrs::sync::{Awareness, Message};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{ClientID, Doc, GetString, Options, ReadTxn, StateVector, Text, Transact, Update};

/// Held bytes after which the room rebuilds its document (the real default is larger; small
/// here so that the fuzzer reaches it).
const HOLD_BYTES: usize = 4096;

#[derive(Arbitrary, Debug)]
enum Op {
    /// Any bytes as one frame.
    Raw { can_write: bool, bytes: Vec<u8> },
    /// A client edits its copy and sends the change (as an update, or as a sync step 2),
    /// perhaps with one byte changed on the way.
    Edit { can_write: bool, client: u8, at: u16, insert: String, delete: u8, step2: bool, flip: Option<(u16, u8)> },
    /// A client sends its sync step 1 and applies the server's answer.
    Sync { client: u8 },
    /// A client sends everything it has (a reconnecting client's sync step 2).
    Full { can_write: bool, client: u8, flip: Option<(u16, u8)> },
    /// A client sends its presence.
    Presence { can_write: bool, client: u8, state: String },
    /// Held updates expired: the room rebuilds the document from what is stored.
    Reload,
}

struct Server {
    doc: Doc,
    /// What the room stored, in order (the draft's log).
    stored: Vec<Vec<u8>>,
    /// Updates that skip clocks the document lacks, in order, as the room keeps them.
    waiting: Vec<(Update, Vec<u8>)>,
    held_bytes: usize,
}

/// A document as the server makes one (`store::options`), with a fixed client id.
fn server_doc() -> Doc {
    Doc::with_options(Options { client_id: ClientID::new(1_000_000), ..store::options() })
}

fn rebuild(stored: &[Vec<u8>]) -> Doc {
    // `WS_FRAME_DUMP=1` prints each log before it is replayed (for a crash that aborts).
    if std::env::var_os("WS_FRAME_DUMP").is_some() {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        eprintln!("rebuild: {}", stored.iter().map(|u| hex(u)).collect::<Vec<_>>().join(" "));
    }
    let doc = server_doc();
    store::apply_updates(&doc, stored.iter().map(Vec::as_slice)).expect("what the room stored always applies");
    doc
}

fn holds(doc: &Doc) -> bool {
    let txn = doc.transact();
    txn.store().pending_update().is_some() || txn.store().pending_ds().is_some()
}

/// The document as comparable facts: its text, state vector and deletions, what it holds.
fn facts(doc: &Doc) -> (String, yrs::Snapshot, Option<Vec<u8>>, Option<Vec<u8>>) {
    let text = doc.get_or_insert_text("content");
    let txn = doc.transact();
    let store = txn.store();
    (
        text.get_string(&txn),
        txn.snapshot(),
        store.pending_update().map(|p| p.update.encode_v1()),
        // A held deletion of no ranges is nothing.
        store.pending_ds().filter(|d| d.iter().any(|(_, r)| !r.is_empty())).map(|d| d.encode_v1()),
    )
}

fn flipped(mut bytes: Vec<u8>, flip: Option<(u16, u8)>) -> Vec<u8> {
    if let Some((at, value)) = flip
        && !bytes.is_empty()
    {
        let at = usize::from(at) % bytes.len();
        bytes[at] ^= value;
    }
    bytes
}

impl Server {
    fn apply(&mut self, update: Update, data: Vec<u8>) {
        let size = data.len();
        let before = facts(&self.doc);
        match integrate(&self.doc, update, data) {
            Integration::Broken => self.reload(),
            Integration::Waits { update, data } => {
                assert!(skips_clocks(&self.doc, &update));
                assert_eq!(before, facts(&self.doc), "a waiting update is not applied");
                self.waiting.push((update, data));
                self.held(size);
            }
            Integration::Applied(Integrated { delta, held_more, nothing_held }) => {
                if let Some(delta) = delta {
                    assert!(Update::decode_v1(&delta).is_ok(), "the stored delta decodes");
                    self.stored.push(delta);
                }
                assert_eq!(nothing_held, !holds(&self.doc));
                // What the room sends a syncing client and folds into a snapshot: the
                // document's own encoding must decode (and rebuild it).
                let own = store::encode_state(&self.doc, &StateVector::default());
                if let Err(e) = Update::decode_v1(&own) {
                    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
                    let log: Vec<String> = self.stored.iter().map(|u| hex(u)).collect();
                    panic!("the document's own encoding does not decode ({e}); stored: {log:?}; own: {}", hex(&own));
                }
                let rebuilt = rebuild(&self.stored);
                assert!(!holds(&rebuilt), "nothing stored waits for anything");
                if nothing_held && self.waiting.is_empty() {
                    self.held_bytes = 0;
                    assert_eq!(facts(&rebuilt), facts(&self.doc), "what is stored is the document");
                } else if held_more {
                    self.held(size);
                }
            }
        }
    }

    fn held(&mut self, size: usize) {
        self.held_bytes += size;
        if self.held_bytes > HOLD_BYTES {
            self.reload();
        }
    }

    fn reload(&mut self) {
        self.doc = rebuild(&self.stored);
        self.held_bytes = 0;
        self.waiting.clear();
        assert!(!holds(&self.doc), "a rebuilt document holds nothing back");
    }

    /// One frame from a connection that may (`can_write`) or may not write. Returns the
    /// server's answer to a sync step 1.
    fn frame(&mut self, frame: &[u8], can_write: bool) -> Option<Vec<u8>> {
        let reader = classify(&self.doc, frame, false);
        let writer = classify(&self.doc, frame, true);
        match (&reader, &writer) {
            (Err(Refusal::Malformed(a)), Err(Refusal::Malformed(b))) => assert_eq!(a, b),
            (Ok(Incoming::Write { .. }), _) => panic!("a reader's frame was classified as a write"),
            (_, Err(Refusal::PermissionDenied)) => panic!("a writer was refused"),
            (Err(Refusal::PermissionDenied), Ok(Incoming::Write { .. })) => {}
            (Ok(Incoming::Ignored), Ok(Incoming::Write { data, .. })) => {
                // "Nothing new": applying it would change nothing.
                if !holds(&self.doc) {
                    let copy = rebuild(&[store::encode_state(&self.doc, &StateVector::default())]);
                    let before = facts(&copy);
                    let update = Update::decode_v1(data).expect("it decoded before");
                    let _ = copy.transact_mut().apply_update(update);
                    let after = facts(&copy);
                    if before != after {
                        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
                        panic!(
                            "a reader's update was let through but changes the document: {before:?} / {after:?}; \
                             document {}; update {}",
                            hex(&store::encode_state(&self.doc, &StateVector::default())),
                            hex(data)
                        );
                    }
                }
            }
            (Ok(Incoming::Ignored), Ok(Incoming::Ignored))
            | (Ok(Incoming::Awareness(_)), Ok(Incoming::Awareness(_)))
            | (Ok(Incoming::AwarenessQuery), Ok(Incoming::AwarenessQuery)) => {}
            (Ok(Incoming::SyncStep1(a)), Ok(Incoming::SyncStep1(b))) => assert_eq!(a, b),
            (reader, writer) => panic!("permission changed how a frame decodes: {reader:?} / {writer:?}"),
        }
        match if can_write { writer } else { reader } {
            // As the room answers (`store::encode_state`): what the document integrated, never
            // what it holds. (yrs's `encode_state_as_update_v1` merges held updates in, and that
            // merge can panic on them; the server never calls it on a live document.)
            Ok(Incoming::SyncStep1(sv)) => Some(store::encode_state(&self.doc, &sv)),
            Ok(Incoming::Write { update, data }) => {
                self.apply(update, data);
                // As the room does: then whatever waited and can be applied now, in order.
                while let Some(at) = self.waiting.iter().position(|(u, _)| !skips_clocks(&self.doc, u)) {
                    let (update, data) = self.waiting.remove(at);
                    self.apply(update, data);
                }
                None
            }
            _ => None,
        }
    }
}

fuzz_target!(|ops: Vec<Op>| {
    // libfuzzer-sys's panic hook aborts at once, even inside a `catch_unwind`; `integrate`
    // catches yrs's panics on crafted updates (refusing them), so keep the standard hook. A
    // panic anywhere else, an assertion here included, still ends the run as a crash.
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| std::panic::set_hook(Box::new(|info| eprintln!("{info}"))));
    let mut server = Server { doc: server_doc(), stored: Vec::new(), waiting: Vec::new(), held_bytes: 0 };
    let clients: Vec<Doc> = (1..=3).map(Doc::with_client_id).collect();
    for op in ops.into_iter().take(64) {
        match op {
            Op::Raw { can_write, bytes } => {
                server.frame(&bytes, can_write);
            }
            Op::Edit { can_write, client, at, insert, delete, step2, flip } => {
                let doc = &clients[usize::from(client) % clients.len()];
                let text = doc.get_or_insert_text("content");
                // The simulated client edits through yrs's text API, which can panic on text the
                // server rightly took (a string item split inside a character by a crafted
                // origin: `SplittableString::block_offset` overflows). That is this client's
                // problem, not the server's (which never edits a live document through that API,
                // and whose real clients are Yjs): such an edit is skipped.
                let edit = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let mut txn = doc.transact_mut();
                    let current = text.get_string(&txn);
                    // Character boundaries, as byte offsets (the document counts bytes).
                    let bounds: Vec<usize> =
                        current.char_indices().map(|(i, _)| i).chain(std::iter::once(current.len())).collect();
                    let from = usize::from(at) % bounds.len();
                    let to = (from + usize::from(delete)).min(bounds.len() - 1);
                    let (start, end) = (bounds[from] as u32, bounds[to] as u32);
                    if end > start {
                        text.remove_range(&mut txn, start, end - start);
                    }
                    text.insert(&mut txn, start, &insert);
                    txn.encode_update_v1()
                }));
                let Ok(update) = edit else { continue };
                let update = flipped(update, flip);
                let message = if step2 { SyncMessage::SyncStep2(update) } else { SyncMessage::Update(update) };
                server.frame(&Message::Sync(message).encode_v1(), can_write);
            }
            Op::Sync { client } => {
                let doc = &clients[usize::from(client) % clients.len()];
                let sv = doc.transact().state_vector();
                let answer = server.frame(&Message::Sync(SyncMessage::SyncStep1(sv)).encode_v1(), false);
                let answer = answer.expect("a sync step 1 is answered");
                let update = Update::decode_v1(&answer).expect("the server's sync step 2 decodes");
                doc.transact_mut().apply_update(update).expect("the server's sync step 2 applies");
            }
            Op::Full { can_write, client, flip } => {
                let doc = &clients[usize::from(client) % clients.len()];
                let all = doc.transact().encode_state_as_update_v1(&StateVector::default());
                let frame = Message::Sync(SyncMessage::SyncStep2(flipped(all, flip))).encode_v1();
                server.frame(&frame, can_write);
            }
            Op::Presence { can_write, client, state } => {
                let doc = clients[usize::from(client) % clients.len()].clone();
                let mut awareness = Awareness::new(doc);
                awareness.set_local_state_raw(state.as_str());
                if let Ok(update) = awareness.update() {
                    server.frame(&Message::Awareness(update).encode_v1(), can_write);
                }
            }
            Op::Reload => server.reload(),
        }
    }
});
