//! Mail through a real SMTP server (Debian's aiosmtpd, started by the test): an invitation
//! is delivered, read out of the received message and accepted; and a mail sent while the SMTP
//! server is down is delivered once it is back.

mod common;

use common::*;
use plenum::config::{MailConfig, MailTransport, SmtpSecurity};
use serde_json::json;

fn smtp_to(port: u16) -> MailConfig {
    MailConfig {
        transport: MailTransport::Smtp,
        smtp_host: "127.0.0.1".into(),
        smtp_port: port,
        smtp_security: SmtpSecurity::None,
        body_name: "Kimberley Process".into(),
        from: "KP Secretariat <secretariat@kp.example.org>".into(),
        ..MailConfig::memory()
    }
}

async fn invitation_is_delivered_by_smtp(backend: Backend) {
    let sink = SmtpSink::start(None);
    let app = TestApp::spawn_with(backend, |c| c.mail = smtp_to(sink.port)).await;
    app.seed_demo().await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let na = app.organisation_id(&admin, "NA").await;
    let res = admin
        .post(
            "/api/invitations",
            &json!({"email": "hage@na.example.org", "name": "Hage Nujoma", "organisation_id": na}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let mail = sink.wait_for(1, 20).await;
    let raw = &mail[0];
    assert!(raw.contains("X-Envelope-To: hage@na.example.org"), "{raw}");
    assert!(raw.contains("Subject: Kimberley Process: you are invited"), "{raw}");
    assert!(raw.contains("multipart/alternative"), "{raw}");
    let text = decode_quoted_printable(raw);
    assert!(text.contains("Dear Hage Nujoma"), "{text}");
    let token = token_from_link(&text, &format!("{}/invitation?token=", app.state.config.public_url));
    let res = app
        .post_json("/api/invitations/accept", &json!({"token": token, "password": "windhoek nineteen ninety"}))
        .await;
    assert_eq!(res.status(), 200);
    let me = app.login("hage@na.example.org", "windhoek nineteen ninety").await;
    assert_eq!(me.user["organisation"]["short_code"], "NA");
}

async fn mail_waits_for_the_smtp_server(backend: Backend) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
    let app = TestApp::spawn_with(backend, |c| c.mail = smtp_to(port)).await;
    app.seed_demo().await;
    assert_eq!(app.post_json("/api/auth/password-reset", &json!({"email": BOTSWANA})).await.status(), 202);
    // The first attempt fails and is recorded; the mail stays in the outbox.
    let mut failed = false;
    for _ in 0..100 {
        let (attempts, error, sent) = outbox_state(&app).await;
        assert!(!sent);
        if attempts > 0 {
            assert!(error.is_some());
            failed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(failed, "no delivery attempt was made");
    // The server comes back: the mail goes out.
    let sink = SmtpSink::start(Some(port));
    let mail = sink.wait_for(1, 20).await;
    assert!(decode_quoted_printable(&mail[0]).contains("/reset-password?token="));
    for _ in 0..50 {
        if outbox_state(&app).await.2 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the outbox row was not marked sent");
}

async fn outbox_state(app: &TestApp) -> (i32, Option<String>, bool) {
    use diesel::prelude::*;
    use plenum::db::schema::mail_outbox;
    app.state
        .db
        .read(|c| {
            let (attempts, error, sent) = mail_outbox::table
                .select((mail_outbox::attempts, mail_outbox::last_error, mail_outbox::sent_at))
                .first::<(i32, Option<String>, Option<chrono::NaiveDateTime>)>(c)?;
            Ok((attempts, error, sent.is_some()))
        })
        .await
        .expect("outbox")
}

#[actix_web::test]
async fn invitation_is_delivered_by_smtp_sqlite() {
    invitation_is_delivered_by_smtp(Backend::Sqlite).await;
}

#[actix_web::test]
async fn invitation_is_delivered_by_smtp_postgres() {
    invitation_is_delivered_by_smtp(Backend::Postgres).await;
}

#[actix_web::test]
async fn mail_waits_for_the_smtp_server_sqlite() {
    mail_waits_for_the_smtp_server(Backend::Sqlite).await;
}

#[actix_web::test]
async fn mail_waits_for_the_smtp_server_postgres() {
    mail_waits_for_the_smtp_server(Backend::Postgres).await;
}
