//! This instance's memory of rendered agendas, so that the most-read page of a meeting (every
//! delegate's screen follows it) is answered without a trip to the database.
//!
//! For each meeting read recently it keeps the agenda as JSON, once as participants see it and
//! once as observers and guests may (closed-session items left out), with the facts that decide
//! who may read it: the meeting's state and the organisations invited. Reading it needs no
//! session standing: a meeting being prepared (`draft`), or a reader the policy admits only as the
//! body's chair, is always answered from the database.
//!
//! Every change an agenda's reader could see is a meeting event (`meetings::live`), and every
//! event wakes the meeting's live feed on every instance — this one's handler after the commit
//! and before it answers, the others through PostgreSQL `NOTIFY` — and the wake-up forgets the
//! meeting here ([`AgendaCache::forget`]). So the next read after a change on this instance
//! sees it, and on another instance within the notification's latency. A read that raced a
//! change does not store what it read (an epoch counter, as the session cache does). Entries
//! are also read again after `--agenda-cache-ms` in any case: that bounds a change nobody
//! announced (the CLI writing beside a running server, a notification lost while the listener
//! reconnects, which also clears everything). Then one request reads it while the others go on
//! with it ([`Freshness`]), so that the readers of a busy meeting do not all go to the database
//! at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;

use super::model::MeetingState;
use crate::accounts::actor::Actor;
use crate::freshness::Freshness;
use crate::policy::{Action, Standing, authorize};

/// At most this many meetings are kept; past it, expired entries go, then everything.
const CACHE_MAX: usize = 1_000;

/// Who may read a meeting's agenda without a standing in its body, read with the agenda.
#[derive(Clone, Debug)]
pub struct ReadFacts {
    pub state: MeetingState,
    /// The organisations invited (members and observers of the body, and guests).
    pub invited: Vec<i64>,
}

impl ReadFacts {
    /// Whether the policy lets `actor` read the meeting whatever its standing in the body (a
    /// standing only adds rights: when this says no, the database decides).
    fn admit(&self, actor: &Actor) -> bool {
        let invited = self.invited.contains(&actor.organisation_id);
        let draft = self.state == MeetingState::Draft;
        authorize(actor, &Action::ReadMeeting { invited, draft, standing: Standing::default() }).is_ok()
    }
}

/// See the module's documentation.
#[derive(Debug)]
pub struct AgendaCache {
    ttl: Duration,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<i64, Entry>,
    /// Counts the changes announced, so that a read can tell whether one came meanwhile.
    epoch: u64,
}

#[derive(Debug, Default)]
struct Entry {
    /// The agenda as participants see it, and as observers and guests may, once read.
    full: Option<Version>,
    public: Option<Version>,
}

#[derive(Debug)]
struct Version {
    json: Bytes,
    facts: ReadFacts,
    freshness: Freshness,
}

impl AgendaCache {
    /// An empty cache whose entries are read again after `ttl` (zero: nothing is kept).
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, inner: Mutex::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The agenda of `meeting_id` as `actor` may see it (`restricted`: without closed-session
    /// items), if this instance has it and the policy admits the actor on the facts kept with it.
    /// Past `--agenda-cache-ms`, one request is told `None` and reads it again while the others
    /// go on with it ([`Freshness`]).
    pub fn get(&self, meeting_id: i64, actor: &Actor, restricted: bool) -> Option<Bytes> {
        let mut inner = self.lock();
        let entry = inner.entries.get_mut(&meeting_id)?;
        let version = if restricted { entry.public.as_mut() } else { entry.full.as_mut() }?;
        if !version.facts.admit(actor) || !version.freshness.serve(self.ttl) {
            return None;
        }
        Some(version.json.clone())
    }

    /// The epoch to hand back to [`AgendaCache::put`]: take it before reading the database.
    pub fn epoch(&self) -> u64 {
        self.lock().epoch
    }

    /// Keeps an agenda read from the database, unless a change was announced since `epoch`
    /// (what was read may predate it).
    pub fn put(&self, meeting_id: i64, epoch: u64, facts: ReadFacts, restricted: bool, json: Bytes) {
        if self.ttl.is_zero() {
            return;
        }
        let mut inner = self.lock();
        if inner.epoch != epoch {
            return;
        }
        if inner.entries.len() >= CACHE_MAX && !inner.entries.contains_key(&meeting_id) {
            let limit = self.ttl * 2;
            inner
                .entries
                .retain(|_, e| [&e.full, &e.public].into_iter().flatten().any(|v| !v.freshness.expired(limit)));
            if inner.entries.len() >= CACHE_MAX {
                inner.entries.clear();
            }
        }
        let entry = inner.entries.entry(meeting_id).or_default();
        let version = Some(Version { json, facts, freshness: Freshness::new() });
        if restricted {
            entry.public = version;
        } else {
            entry.full = version;
        }
    }

    /// Forgets a meeting: something its readers could see changed (called on every event).
    pub fn forget(&self, meeting_id: i64) {
        let mut inner = self.lock();
        inner.epoch += 1;
        inner.entries.remove(&meeting_id);
    }

    /// Forgets everything (announcements may have been missed).
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.epoch += 1;
        inner.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::model::{OrganisationKind, OrganisationStatus};

    fn actor(organisation_id: i64, kind: OrganisationKind) -> Actor {
        Actor {
            user_id: organisation_id * 10,
            display_name: "A".into(),
            email: "a@example.org".into(),
            organisation_id,
            organisation_name: "Org".into(),
            kind,
            organisation_status: OrganisationStatus::Active,
            is_admin: false,
            session_id: 1,
            request_id: None,
        }
    }

    fn facts(state: MeetingState, invited: &[i64]) -> ReadFacts {
        ReadFacts { state, invited: invited.to_vec() }
    }

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn each_reader_gets_its_own_version_and_only_when_admitted() {
        let cache = AgendaCache::new(HOUR);
        let participant = actor(1, OrganisationKind::Participant);
        let observer = actor(2, OrganisationKind::Observer);
        let stranger = actor(3, OrganisationKind::Observer);
        let epoch = cache.epoch();
        cache.put(7, epoch, facts(MeetingState::Convened, &[1, 2]), false, Bytes::from_static(b"full"));
        assert_eq!(cache.get(7, &participant, false).as_deref(), Some(&b"full"[..]));
        // The public version was never read: the observer goes to the database.
        assert_eq!(cache.get(7, &observer, true), None);
        cache.put(7, epoch, facts(MeetingState::Convened, &[1, 2]), true, Bytes::from_static(b"public"));
        assert_eq!(cache.get(7, &observer, true).as_deref(), Some(&b"public"[..]));
        assert_eq!(cache.get(7, &participant, false).as_deref(), Some(&b"full"[..]));
        // Not invited: the database decides (and answers 404 unless the body's chair asks).
        assert_eq!(cache.get(7, &stranger, true), None);
        assert_eq!(cache.get(8, &participant, false), None);
    }

    #[test]
    fn a_meeting_in_preparation_is_never_answered_from_memory() {
        let cache = AgendaCache::new(HOUR);
        let epoch = cache.epoch();
        cache.put(7, epoch, facts(MeetingState::Draft, &[1]), false, Bytes::from_static(b"full"));
        assert_eq!(cache.get(7, &actor(1, OrganisationKind::Participant), false), None);
    }

    #[test]
    fn a_change_forgets_the_meeting_and_a_read_that_raced_it_is_not_kept() {
        let cache = AgendaCache::new(HOUR);
        let participant = actor(1, OrganisationKind::Participant);
        let before = cache.epoch();
        cache.put(7, before, facts(MeetingState::Convened, &[1]), false, Bytes::from_static(b"old"));
        cache.forget(7);
        assert_eq!(cache.get(7, &participant, false), None);
        // Read before the change, stored after it: dropped.
        cache.put(7, before, facts(MeetingState::Convened, &[1]), false, Bytes::from_static(b"old"));
        assert_eq!(cache.get(7, &participant, false), None);
        cache.put(7, cache.epoch(), facts(MeetingState::Convened, &[1]), false, Bytes::from_static(b"new"));
        assert_eq!(cache.get(7, &participant, false).as_deref(), Some(&b"new"[..]));
        cache.clear();
        assert_eq!(cache.get(7, &participant, false), None);
    }

    #[test]
    fn entries_expire_and_a_zero_limit_keeps_nothing() {
        let cache = AgendaCache::new(Duration::from_millis(20));
        let participant = actor(1, OrganisationKind::Participant);
        cache.put(7, cache.epoch(), facts(MeetingState::Convened, &[1]), false, Bytes::from_static(b"full"));
        assert!(cache.get(7, &participant, false).is_some());
        // Past the limit, one request reads it again; then, past twice the limit, everyone.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let mut misses = 0;
        while misses < 2 {
            assert!(std::time::Instant::now() < deadline, "the entry outlived its limit");
            misses += usize::from(cache.get(7, &participant, false).is_none());
            std::thread::yield_now();
        }
        let off = AgendaCache::new(Duration::ZERO);
        off.put(7, off.epoch(), facts(MeetingState::Convened, &[1]), false, Bytes::from_static(b"full"));
        assert_eq!(off.get(7, &participant, false), None);
    }
}
