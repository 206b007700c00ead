//! The room's durable side: append a batch (catching up when another instance took the
//! sequence number), read what other instances stored, rebuild the document, compact the log.

use super::protocol::held_fingerprint;
use super::*;

/// How an append went.
enum Appended {
    /// Stored; the new last sequence number.
    Stored(i64),
    /// Another instance took the sequence number first.
    Taken,
    /// Some senders may no longer write (session id → may write; absent: ended).
    Refused(HashMap<i64, bool>),
}

impl Room {
    /// Appends this batch's updates in one transaction, which first asks (one query) whether
    /// each sender's session is still live and may still write: nothing sent after a revocation
    /// committed is stored. Refused updates are dropped, their connections closed (4001 or 4003)
    /// and the document rebuilt without them. If another instance stored updates meanwhile (our
    /// sequence number is taken), read those first and try again.
    pub(super) async fn append(&mut self, pending: &mut Vec<Pending>, remote: &mut Vec<Vec<u8>>) -> Result<(), Fatal> {
        for _ in 0..10 {
            let updates: Vec<NewUpdate> = pending.iter().filter(|p| !p.rejected).map(|p| p.update.clone()).collect();
            if updates.is_empty() {
                return Ok(());
            }
            let mut sessions: Vec<i64> = pending.iter().filter(|p| !p.rejected).filter_map(|p| p.session).collect();
            sessions.sort_unstable();
            sessions.dedup();
            let stored = updates.len();
            let (draft_id, last_seq, instance, check) =
                (self.draft_id, self.last_seq, self.instance, self.writer_check.clone());
            let outcome = self
                .db
                .write(move |c| {
                    if !sessions.is_empty() {
                        let verdict = check(c, draft_id, &sessions)?;
                        if sessions.iter().any(|s| verdict.get(s) != Some(&true)) {
                            return Ok(Appended::Refused(verdict));
                        }
                    }
                    Ok(match store::append(c, draft_id, last_seq, &updates, instance)? {
                        Some(seq) => Appended::Stored(seq),
                        None => Appended::Taken,
                    })
                })
                .await
                .map_err(Fatal)?;
            match outcome {
                Appended::Stored(seq) => {
                    self.last_seq = seq;
                    self.metrics.updates_stored.fetch_add(stored as u64, std::sync::atomic::Ordering::Relaxed);
                    self.since_compaction += stored;
                    return Ok(());
                }
                Appended::Taken => self.catch_up(pending, remote).await?,
                Appended::Refused(verdict) => {
                    self.refuse(pending, &verdict);
                    self.reload(pending, remote).await?;
                }
            }
        }
        Err(Fatal(Error::internal(anyhow::anyhow!("could not append after 10 attempts: the log keeps moving"))))
    }

    /// Marks the updates of senders the verdict does not let write, and closes their connections.
    fn refuse(&mut self, pending: &mut [Pending], verdict: &HashMap<i64, bool>) {
        for p in pending.iter_mut().filter(|p| !p.rejected) {
            let Some(session) = p.session else { continue };
            let closing = match verdict.get(&session) {
                Some(true) => continue,
                Some(false) => (close::PERMISSIONS_CHANGED, "your permissions changed; reconnect"),
                None => (close::SESSION_ENDED, "your session has ended; sign in again"),
            };
            p.rejected = true;
            self.metrics.updates_refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if let Some(conn) = p.conn {
                self.kill(conn, closing.0, closing.1);
            }
        }
    }

    /// Reads what other instances stored after our last sequence number (one consistent read)
    /// into the document, and queues it for this instance's clients.
    pub(super) async fn catch_up(
        &mut self,
        pending: &mut Vec<Pending>,
        remote: &mut Vec<Vec<u8>>,
    ) -> Result<(), Fatal> {
        let (draft_id, after) = (self.draft_id, self.last_seq);
        let stored = self.db.read_consistent(move |c| store::load_after(c, draft_id, after)).await.map_err(Fatal)?;
        let newest = stored.last_seq();
        if stored.snapshot.is_none() && stored.updates.is_empty() {
            return Ok(());
        }
        let (folded, completed) = {
            let mut txn = self.doc.transact_mut();
            let held_before = held_fingerprint(&txn);
            let sv_before = txn.state_vector();
            for (_, data) in stored.snapshot.iter().chain(&stored.updates) {
                let update = Update::decode_v1(data)
                    .map_err(|e| Fatal(Error::internal(anyhow::anyhow!("stored update unreadable: {e}"))))?;
                txn.apply_update(update)
                    .map_err(|e| Fatal(Error::internal(anyhow::anyhow!("stored update does not apply: {e}"))))?;
            }
            // A snapshot is the whole document: send clients only what is new to them.
            let folded = stored.snapshot.is_some().then(|| txn.encode_diff_v1(&sv_before));
            // The rows completed updates we held: what that integrated is ours to store (it
            // includes the rows themselves, which is harmless: updates are idempotent).
            let completed =
                (held_before.is_some() && held_fingerprint(&txn) != held_before).then(|| txn.encode_update_v1());
            (folded, completed)
        };
        match folded {
            Some(diff) => remote.push(diff),
            None => remote.extend(stored.updates.into_iter().map(|(_, d)| d)),
        }
        if let Some(data) = completed
            && let Some(user_id) = self.held.values().map(|h| h.user_id).next()
        {
            remote.push(data.clone());
            pending.push(Pending { conn: None, session: None, rejected: false, update: NewUpdate { user_id, data } });
        }
        self.settle_held();
        if newest > self.last_seq {
            self.since_compaction += usize::try_from(newest - self.last_seq).unwrap_or(0);
            self.last_seq = newest;
        }
        Ok(())
    }

    /// Rebuilds the document from the database (one consistent read) plus this batch's accepted,
    /// not yet stored updates. Whatever other instances stored meanwhile goes to this instance's
    /// clients; held updates are dropped, and their connections closed so they resync.
    pub(super) async fn reload(&mut self, pending: &[Pending], remote: &mut Vec<Vec<u8>>) -> Result<(), Fatal> {
        let draft_id = self.draft_id;
        let stored = self.db.read_consistent(move |c| store::load(c, draft_id)).await.map_err(Fatal)?;
        let doc = stored.to_doc().map_err(Fatal)?;
        store::apply_updates(&doc, pending.iter().filter(|p| !p.rejected).map(|p| p.update.data.as_slice()))
            .map_err(Fatal)?;
        let sv_before = self.doc.transact().state_vector();
        if doc.transact().state_vector() != sv_before || stored.last_seq() > self.last_seq {
            remote.push(store::encode_state(&doc, &sv_before));
        }
        self.doc = doc;
        self.since_compaction = stored.updates.len() + pending.len();
        self.last_seq = stored.last_seq();
        self.must_reload = false;
        self.waiting.clear();
        for conn in std::mem::take(&mut self.held).into_keys() {
            self.kill(conn, close::PROTOCOL_ERROR, "updates that depend on content this document does not have");
        }
        Ok(())
    }

    /// Folds the log into a snapshot, off the room's path: the document holds everything stored
    /// up to `last_seq` here (every applied update was committed), so its encoded state is the
    /// snapshot; it is encoded now and written by a task of its own while the room goes on
    /// (the store's transaction keeps it atomic against the room's own appends and other
    /// instances). One runs at a time, and the next waits nine times as long as this one took
    /// (`COMPACT_SHARE`). After a failure the room waits (doubling, up to five minutes) instead of
    /// encoding the whole document again on every batch.
    pub(super) fn start_compaction(&mut self) {
        let (draft_id, seq) = (self.draft_id, self.last_seq);
        let state = store::encode_state(&self.doc, &yrs::StateVector::default());
        let covers = std::mem::take(&mut self.since_compaction);
        let db = self.db.clone();
        let task = tokio::spawn(async move { db.write(move |c| store::compact_state(c, draft_id, seq, state)).await });
        self.compacting = Some(Compaction { task, seq, covers, started: Instant::now() });
    }

    /// Takes the result of the compaction in flight, if it has finished (`wait`: waits for it).
    pub(super) async fn finish_compaction(&mut self, wait: bool) {
        let Some(running) = self.compacting.take_if(|c| wait || c.task.is_finished()) else { return };
        let result =
            running.task.await.unwrap_or_else(|err| Err(Error::Internal(anyhow::anyhow!("compaction task: {err}"))));
        let (draft_id, seq) = (self.draft_id, running.seq);
        match result {
            Ok(folded) => {
                self.compact_retry_at = Some(Instant::now() + running.started.elapsed() * COMPACT_SHARE);
                self.compact_backoff = COMPACT_BACKOFF_MIN;
                tracing::info!(
                    draft = draft_id,
                    seq,
                    folded = folded.unwrap_or(0),
                    skipped = folded.is_none(),
                    ms = running.started.elapsed().as_millis() as u64,
                    "log compacted"
                );
            }
            Err(err) => {
                tracing::warn!(draft = draft_id, error = %err, retry_in_secs = self.compact_backoff.as_secs(), "compaction failed");
                self.since_compaction += running.covers;
                self.compact_retry_at = Some(Instant::now() + self.compact_backoff);
                self.compact_backoff = (self.compact_backoff * 2).min(COMPACT_BACKOFF_MAX);
            }
        }
    }
}
