//! A minimal y-protocols client written on yrs, for the integration tests that talk to a
//! drafting room over its websocket (stock Yjs clients are driven from Node in tests/yjs/).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use yrs::sync::Message;
use yrs::sync::protocol::{MessageReader, SyncMessage};
use yrs::updates::decoder::{Decode, DecoderV1};
use yrs::updates::encoder::Encode;
use yrs::{Doc, GetString, ReadTxn, Text, Transact, Update};

use super::TestApp;

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub fn ws_url(app: &TestApp, draft: i64, token: Option<&str>) -> String {
    let base = app.base.replace("http://", "ws://");
    match token {
        Some(t) => format!("{base}/api/drafts/{draft}/ws?token={t}"),
        None => format!("{base}/api/drafts/{draft}/ws"),
    }
}

/// The HTTP status of a refused upgrade.
pub async fn refused_with(url: &str) -> u16 {
    match tokio_tungstenite::connect_async(url.into_client_request().expect("request")).await {
        Ok(_) => panic!("{url}: the upgrade was accepted"),
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => res.status().as_u16(),
        Err(other) => panic!("{url}: unexpected error {other}"),
    }
}

/// A y-protocols client on a yrs document.
pub struct Client {
    pub ws: Socket,
    pub doc: Doc,
    pub denied: usize,
    pub awareness: usize,
    /// Presence states removed (someone left).
    pub departures: usize,
    /// The server's sync step 2 arrived: the client holds the document.
    pub synced: bool,
    /// Stage notices received (only when connected with `?events=stage`).
    pub stages: Vec<serde_json::Value>,
}

impl Client {
    pub async fn connect(app: &TestApp, draft: i64, token: &str) -> Self {
        Self::connect_to(ws_url(app, draft, Some(token))).await
    }

    /// Connects asking for the draft's stage notices too (`?events=stage`), as the web UI does.
    pub async fn connect_following_stages(app: &TestApp, draft: i64, token: &str) -> Self {
        Self::connect_to(format!("{}&events=stage", ws_url(app, draft, Some(token)))).await
    }

    pub async fn connect_to(url: String) -> Self {
        let (ws, _) = tokio_tungstenite::connect_async(url).await.expect("upgrade");
        let mut c =
            Self { ws, doc: Doc::new(), denied: 0, awareness: 0, departures: 0, synced: false, stages: Vec::new() };
        c.doc.get_or_insert_text("content");
        let sv = c.doc.transact().state_vector();
        c.send(Message::Sync(SyncMessage::SyncStep1(sv))).await;
        let closed = c.pump_until("the server's sync step 2", Duration::from_secs(5), |c| c.synced).await;
        assert_eq!(closed, None, "closed while syncing");
        c
    }

    pub async fn send(&mut self, m: Message) {
        self.ws.send(WsMessage::Binary(m.encode_v1().into())).await.expect("send");
    }

    pub async fn send_raw(&mut self, bytes: Vec<u8>) {
        let _ = self.ws.send(WsMessage::Binary(bytes.into())).await;
    }

    /// Handles what arrives for `wait`; returns the close code if the server closed.
    pub async fn pump(&mut self, wait: Duration) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let next = tokio::time::timeout_at(deadline, self.ws.next()).await;
            let frame = match next {
                Err(_) => return None,
                Ok(None) => return Some(1006),
                Ok(Some(Err(_))) => return Some(1006),
                Ok(Some(Ok(frame))) => frame,
            };
            match frame {
                WsMessage::Binary(data) => {
                    let mut decoder = DecoderV1::from(data.as_ref());
                    for m in MessageReader::new(&mut decoder) {
                        match m.expect("server sends valid messages") {
                            Message::Sync(SyncMessage::SyncStep1(sv)) => {
                                let diff = self.doc.transact().encode_state_as_update_v1(&sv);
                                self.send(Message::Sync(SyncMessage::SyncStep2(diff))).await;
                            }
                            Message::Sync(SyncMessage::SyncStep2(u)) => {
                                self.synced = true;
                                self.doc
                                    .transact_mut()
                                    .apply_update(Update::decode_v1(&u).expect("update"))
                                    .expect("apply");
                            }
                            Message::Sync(SyncMessage::Update(u)) => {
                                self.doc
                                    .transact_mut()
                                    .apply_update(Update::decode_v1(&u).expect("update"))
                                    .expect("apply");
                            }
                            Message::Auth(Some(_)) => self.denied += 1,
                            Message::Custom(100, notice) => {
                                self.stages.push(serde_json::from_slice(&notice).expect("a JSON stage notice"));
                            }
                            Message::Awareness(update) => {
                                self.awareness += 1;
                                self.departures += update.clients.values().filter(|e| &*e.json == "null").count();
                            }
                            _ => {}
                        }
                    }
                }
                WsMessage::Close(frame) => return Some(frame.map(|f| u16::from(f.code)).unwrap_or(1005)),
                _ => {}
            }
        }
    }

    /// Handles what arrives until `done` holds, failing after `within` with what it waited for.
    /// Returns early (with the close code) if the server closes the connection.
    pub async fn pump_until(&mut self, what: &str, within: Duration, done: impl Fn(&Self) -> bool) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + within;
        while !done(self) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out after {within:?} waiting for {what}; text: {:?}",
                self.text()
            );
            if let Some(code) = self.pump(Duration::from_millis(20)).await {
                return Some(code);
            }
        }
        None
    }

    /// Types `s` at the start of the text and sends the update.
    pub async fn type_text(&mut self, s: &str) {
        let text = self.doc.get_or_insert_text("content");
        let update = {
            let mut txn = self.doc.transact_mut();
            text.insert(&mut txn, 0, s);
            txn.encode_update_v1()
        };
        self.send(Message::Sync(SyncMessage::Update(update))).await;
    }

    pub fn text(&self) -> String {
        self.doc.get_or_insert_text("content").get_string(&self.doc.transact())
    }
}
