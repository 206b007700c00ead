//! Who wrote which passage. The update log knows who sent each update, but compaction folds it
//! into a snapshot; `store` therefore keeps an authorship index (Yjs client id and clock range →
//! user) that compaction never touches. Here the text of a document — the current one or a saved
//! version — is cut into passages, each traced through the ids of the Yjs items that hold it.

use yrs::types::text::{Diff, YChange};
use yrs::{Doc, Out, ReadTxn, Snapshot, Text, Transact};

use super::store::TEXT_NAME;

/// One range of the index: `client` wrote clocks `start..end` as `user`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthorRange {
    pub client: u64,
    pub start: u64,
    pub end: u64,
    pub user: i64,
}

/// The text of `doc` as consecutive passages, each with the user who wrote it (`None` when the
/// index does not know: text written before the index existed).
pub fn passages(doc: &Doc, index: &[AuthorRange]) -> Vec<(String, Option<i64>)> {
    let text = doc.get_or_insert_text(TEXT_NAME);
    let mut txn = doc.transact_mut();
    let current = txn.snapshot();
    // Against an empty snapshot every visible item counts as added, and carries its id.
    let chunks: Vec<Diff<YChange>> =
        text.diff_range(&mut txn, Some(&current), Some(&Snapshot::default()), YChange::identity);
    let mut out: Vec<(String, Option<i64>)> = Vec::new();
    for chunk in chunks {
        let Out::Any(yrs::Any::String(s)) = &chunk.insert else { continue };
        let user = chunk.ychange.as_ref().and_then(|c| {
            let (client, clock) = (c.id.client.get(), u64::from(c.id.clock));
            index.iter().find(|r| r.client == client && r.start <= clock && clock < r.end).map(|r| r.user)
        });
        match out.last_mut() {
            Some(last) if last.1 == user => last.0.push_str(s),
            _ => out.push((s.to_string(), user)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::updates::decoder::Decode;
    use yrs::{ClientID, GetString, Options};

    #[test]
    fn passages_follow_their_writers() {
        let a = Doc::with_options(Options { client_id: ClientID::new(7), ..Options::default() });
        let b = Doc::with_options(Options { client_id: ClientID::new(9), ..Options::default() });
        let (ta, tb) = (a.get_or_insert_text(TEXT_NAME), b.get_or_insert_text(TEXT_NAME));
        ta.insert(&mut a.transact_mut(), 0, "Decides that ");
        let update = a.transact().encode_state_as_update_v1(&yrs::StateVector::default());
        let decoded = yrs::Update::decode_v1(&update);
        assert!(decoded.is_ok());
        if let Ok(decoded) = decoded {
            assert!(b.transact_mut().apply_update(decoded).is_ok());
        }
        let len = tb.get_string(&b.transact()).len() as u32;
        tb.insert(&mut b.transact_mut(), len, "visits are annual.");
        let index = [
            AuthorRange { client: 7, start: 0, end: 13, user: 1 },
            AuthorRange { client: 9, start: 0, end: 18, user: 2 },
        ];
        let got = passages(&b, &index);
        assert_eq!(got, vec![("Decides that ".to_string(), Some(1)), ("visits are annual.".to_string(), Some(2))]);
    }
}
