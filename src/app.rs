//! What handlers share: the application state, at the bottom of the module graph so that any
//! area's `http.rs` can take it without depending on `startup`.

use std::sync::Arc;

use crate::accounts::throttle::LoginThrottle;
use crate::clock::SharedClock;
use crate::config::ServerConfig;
use crate::db::Db;
use crate::mail::Mailer;

/// What every handler can reach, as `web::Data<AppState>`.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// The server's configuration.
    pub config: ServerConfig,
    /// Outgoing mail.
    pub mailer: Arc<Mailer>,
    /// Sign-in failure counters.
    pub throttle: Arc<LoginThrottle>,
    /// Sessions this instance confirmed recently (forgotten when someone's access changes).
    pub sessions: Arc<crate::accounts::sessions::SessionCache>,
    /// The live drafting rooms.
    pub hub: crate::realtime::Hub,
    /// The meetings' live feeds.
    pub meetings: crate::realtime::meetings::MeetingFeeds,
    /// Agendas this instance rendered recently (forgotten at every event of their meeting).
    pub agendas: Arc<crate::meetings::cache::AgendaCache>,
    /// Counters for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Where the time comes from.
    pub clock: SharedClock,
}

impl AppState {
    /// After a draft's stage, lock or title changed (the change committed): its live room
    /// applies who may now write and tells its clients, the mail goes out, and the live feeds
    /// (and rendered agendas) of meetings whose agenda links the draft show its new stage and
    /// title. (Other instances learn it by NOTIFY.)
    pub async fn draft_stepped(&self, draft_id: i64) {
        self.hub.stage_changed(draft_id).await;
        self.mailer.wake();
        let meetings =
            self.db.read(move |c| crate::meetings::service::meetings_linking(c, draft_id)).await.unwrap_or_default();
        for meeting in meetings {
            self.meetings.wake(meeting).await;
        }
    }

    /// What the decision steps need from the configuration.
    pub fn decision_context(&self) -> crate::decisions::service::DecisionContext {
        crate::decisions::service::DecisionContext {
            mail: self.mail_context(),
            number_format: self.config.decision_number_format.clone(),
            reminder: chrono::Duration::hours(self.config.reminder_hours.max(0)),
        }
    }

    /// What the services that send mail need from the configuration: how mail looks, where
    /// links point, how long links live.
    pub fn mail_context(&self) -> crate::accounts::service::MailContext {
        crate::accounts::service::MailContext {
            mail: self.mailer.config().clone(),
            public_url: self.config.public_url.clone(),
            accounts: self.config.accounts.clone(),
        }
    }
}
