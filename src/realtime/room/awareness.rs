//! Presence: who is in the room and where their cursor is, stamped with the session's identity,
//! owned per connection, bounded in rate and size.

use super::*;

impl Room {
    pub(super) fn awareness(&mut self, conn: ConnId, update: AwarenessUpdate, after: &mut Vec<After>) {
        let rate = f64::from(self.cfg.awareness_per_sec.max(1));
        let Some(c) = self.conns.get_mut(&conn) else { return };
        let now = Instant::now();
        c.awareness_budget = (c.awareness_budget + now.duration_since(c.awareness_at).as_secs_f64() * rate).min(rate);
        c.awareness_at = now;
        if c.awareness_budget < 1.0 {
            return;
        }
        c.awareness_budget -= 1.0;
        let mut out = HashMap::new();
        for (client_id, entry) in update.clients {
            // One client's presence is a cursor and a name, not a payload: larger states are
            // refused (not stored, not forwarded).
            if entry.json.len() > self.cfg.presence_bytes {
                self.metrics.updates_refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                continue;
            }
            let claimed_by_other = self.presence.get(&client_id).is_some_and(|p| p.owner != conn);
            let Some(c) = self.conns.get_mut(&conn) else { return };
            if c.client_id.is_none() && !claimed_by_other {
                c.client_id = Some(client_id);
            }
            if c.client_id != Some(client_id) {
                continue;
            }
            if self.presence.get(&client_id).is_some_and(|p| entry.clock < p.clock) {
                continue;
            }
            if &*entry.json == "null" {
                self.presence.remove(&client_id);
                out.insert(client_id, entry);
                continue;
            }
            let Some(json) = stamp_user(&entry.json, &c.who, self.gate) else { continue };
            self.presence.insert(client_id, Presence { clock: entry.clock, json: json.clone(), owner: conn });
            out.insert(client_id, AwarenessUpdateEntry { clock: entry.clock, json });
        }
        if !out.is_empty() {
            let bytes = Bytes::from(Message::Awareness(AwarenessUpdate { clients: out }).encode_v1());
            after.push(After::Broadcast { except: Some(conn), bytes });
        }
    }

    pub(super) fn drop_presence_of(&mut self, conn: ConnId) {
        let gone: Vec<(ClientID, u32)> =
            self.presence.iter().filter(|(_, p)| p.owner == conn).map(|(id, p)| (*id, p.clock)).collect();
        if gone.is_empty() {
            return;
        }
        let mut clients = HashMap::new();
        for (id, clock) in gone {
            self.presence.remove(&id);
            clients.insert(id, AwarenessUpdateEntry { clock: clock + 1, json: Arc::from("null") });
        }
        let bytes = Bytes::from(Message::Awareness(AwarenessUpdate { clients }).encode_v1());
        self.deferred.push(After::Broadcast { except: None, bytes });
    }
}

/// Replaces the `user` field of a presence state with who the session says this is.
pub(super) fn stamp_user(json: &str, who: &Participant, gate: TextGate) -> Option<Arc<str>> {
    let mut state: serde_json::Value = serde_json::from_str(json).ok()?;
    let obj = state.as_object_mut()?;
    let (color, light) = who.color();
    obj.insert(
        "user".into(),
        serde_json::json!({
            "id": who.user_id,
            "name": who.name,
            "organisation": who.organisation,
            "kind": who.kind,
            "color": color,
            "colorLight": light,
            "readOnly": !who.may_edit(gate),
        }),
    );
    Some(Arc::from(state.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(may_write: bool) -> Participant {
        Participant {
            user_id: 7,
            session_id: 70,
            name: "Kabo Molefe".into(),
            organisation: "Botswana".into(),
            kind: "participant".into(),
            may_write,
            chairs: false,
            stage_events: false,
        }
    }

    #[test]
    fn presence_names_come_from_the_session() {
        let json = stamp_user(
            r##"{"user":{"name":"Impostor","color":"#000"},"cursor":{"anchor":1}}"##,
            &who(true),
            TextGate::Open,
        )
        .expect("object");
        let v: serde_json::Value = serde_json::from_str(&json).expect("json");
        assert_eq!(v["user"]["name"], "Kabo Molefe");
        assert_eq!(v["user"]["organisation"], "Botswana");
        assert_eq!(v["user"]["readOnly"], false);
        assert_eq!(v["cursor"]["anchor"], 1);
        assert!(stamp_user("[1,2]", &who(true), TextGate::Open).is_none());
        let locked = stamp_user("{}", &who(true), TextGate::Closed).expect("object");
        assert!(locked.contains("\"readOnly\":true"));
        // In final reading the chair alone writes.
        let reading = stamp_user("{}", &who(true), TextGate::ChairOnly).expect("object");
        assert!(reading.contains("\"readOnly\":true"));
        let chair = Participant { chairs: true, ..who(true) };
        assert!(stamp_user("{}", &chair, TextGate::ChairOnly).expect("object").contains("\"readOnly\":false"));
    }
}
