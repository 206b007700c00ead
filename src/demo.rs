//! `plenum demo`: seeds a realistic body — the Kimberley Process in 2007 — so a new user has
//! something to look at. Idempotent: what exists is left alone. Demo accounts live under the
//! reserved `.example` top-level domain, which is how the server recognises them at start-up.

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::accounts::model::{Email, OrganisationKind as K, OrganisationStatus as S};
use crate::accounts::password;
use crate::accounts::service::{create_user, ensure_organisation};
use crate::db::Db;
use crate::db::schema::users;
use crate::error::Error;

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "kimberley-2007";

/// The EU's 27 member states in 2007, represented by the European Community.
const EU_2007: [&str; 27] = [
    "Austria",
    "Belgium",
    "Bulgaria",
    "Cyprus",
    "Czech Republic",
    "Denmark",
    "Estonia",
    "Finland",
    "France",
    "Germany",
    "Greece",
    "Hungary",
    "Ireland",
    "Italy",
    "Latvia",
    "Lithuania",
    "Luxembourg",
    "Malta",
    "Netherlands",
    "Poland",
    "Portugal",
    "Romania",
    "Slovakia",
    "Slovenia",
    "Spain",
    "Sweden",
    "United Kingdom",
];

struct Org {
    name: &'static str,
    code: &'static str,
    kind: K,
    status: S,
    admitted: (i32, u32, u32),
    delegates: &'static [(&'static str, &'static str)],
}

const ORGS: &[Org] = &[
    Org {
        name: "Kimberley Process Secretariat",
        code: "KPS",
        kind: K::Secretariat,
        status: S::Active,
        admitted: (2003, 1, 1),
        delegates: &[("Sam Okafor", "admin@secretariat.kp.example")],
    },
    Org {
        name: "European Community",
        code: "EC",
        kind: K::Participant,
        status: S::Active,
        admitted: (2003, 1, 1),
        delegates: &[("Elena Martens", "elena.martens@ec.kp.example"), ("Jan de Vries", "jan.devries@ec.kp.example")],
    },
    Org {
        name: "Botswana",
        code: "BW",
        kind: K::Participant,
        status: S::Active,
        admitted: (2003, 1, 1),
        delegates: &[("Kabo Molefe", "kabo.molefe@bw.kp.example")],
    },
    Org {
        name: "India",
        code: "IN",
        kind: K::Participant,
        status: S::Active,
        admitted: (2003, 1, 1),
        delegates: &[("Priya Raman", "priya.raman@in.kp.example")],
    },
    Org {
        name: "Namibia",
        code: "NA",
        kind: K::Participant,
        status: S::Active,
        admitted: (2003, 1, 1),
        delegates: &[("Ndapewa Shikongo", "ndapewa.shikongo@na.kp.example")],
    },
    Org {
        name: "Ghana",
        code: "GH",
        kind: K::Participant,
        status: S::Active,
        admitted: (2003, 1, 1),
        delegates: &[("Kwame Mensah", "kwame.mensah@gh.kp.example")],
    },
    Org {
        name: "Liberia",
        code: "LR",
        kind: K::Participant,
        status: S::Active,
        admitted: (2007, 5, 4),
        delegates: &[("Musu Kollie", "musu.kollie@lr.kp.example")],
    },
    Org {
        name: "Côte d'Ivoire",
        code: "CI",
        kind: K::Participant,
        status: S::Suspended,
        admitted: (2003, 1, 1),
        delegates: &[("Awa Koné", "awa.kone@ci.kp.example")],
    },
    Org {
        name: "Canada",
        code: "CA",
        kind: K::Participant,
        status: S::Active,
        admitted: (2003, 1, 1),
        delegates: &[("Claire Tremblay", "claire.tremblay@ca.kp.example")],
    },
    Org {
        name: "South Africa",
        code: "ZA",
        kind: K::Participant,
        status: S::Active,
        admitted: (2003, 1, 1),
        delegates: &[("Thabo Nkosi", "thabo.nkosi@za.kp.example")],
    },
    Org {
        name: "Russian Federation",
        code: "RU",
        kind: K::Participant,
        status: S::Active,
        admitted: (2003, 1, 1),
        delegates: &[("Dmitri Volkov", "dmitri.volkov@ru.kp.example")],
    },
    Org {
        name: "Israel",
        code: "IL",
        kind: K::Participant,
        status: S::Active,
        admitted: (2003, 1, 1),
        delegates: &[("Noa Levi", "noa.levi@il.kp.example")],
    },
    Org {
        name: "Angola",
        code: "AO",
        kind: K::Participant,
        status: S::Active,
        admitted: (2003, 1, 1),
        delegates: &[("Joana Neto", "joana.neto@ao.kp.example")],
    },
    Org {
        name: "Sierra Leone",
        code: "SL",
        kind: K::Participant,
        status: S::Active,
        admitted: (2003, 1, 1),
        delegates: &[("Foday Sesay", "foday.sesay@sl.kp.example")],
    },
    Org {
        name: "World Diamond Council",
        code: "WDC",
        kind: K::Observer,
        status: S::Active,
        admitted: (2003, 1, 1),
        delegates: &[("Rafael Adler", "rafael.adler@wdc.kp.example")],
    },
    Org {
        name: "Civil Society Coalition",
        code: "CSC",
        kind: K::Observer,
        status: S::Active,
        admitted: (2003, 1, 1),
        delegates: &[("Alice Mwangi", "alice.mwangi@csc.kp.example")],
    },
];

/// One seeded account, for the listing printed after seeding.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub email: &'static str,
    pub name: &'static str,
    pub organisation: &'static str,
    pub kind: K,
    pub admin: bool,
    pub created: bool,
}

/// Seeds the demo body; returns every demo account (created now or before).
pub fn seed(db: &Db) -> anyhow::Result<Vec<DemoAccount>> {
    let hash = password::hash(DEMO_PASSWORD)?;
    let accounts = db
        .write_blocking(|c| {
            let mut out = Vec::new();
            for org in ORGS {
                let (y, m, d) = org.admitted;
                let countries: &[&str] = if org.code == "EC" { &EU_2007 } else { &[] };
                let id = ensure_organisation(
                    c,
                    org.name,
                    org.kind,
                    org.code,
                    org.status,
                    NaiveDate::from_ymd_opt(y, m, d),
                    countries,
                )?;
                for (name, email) in org.delegates {
                    let parsed = Email::parse("email", email).map_err(Error::from)?;
                    let admin = org.kind == K::Secretariat;
                    let created = create_user(c, id, &parsed, name, &hash, admin)?.is_some();
                    out.push(DemoAccount { email, name, organisation: org.name, kind: org.kind, admin, created });
                }
            }
            seed_draft(c)?;
            Ok(out)
        })
        .map_err(|e| anyhow::anyhow!("seeding failed: {e}"))?;
    Ok(accounts)
}

/// The title of the demo's decision draft.
pub const DEMO_DRAFT_TITLE: &str = "Brussels Plenary 2007 — Administrative decision on peer review visits";

const DEMO_DRAFT_TEXT: &str = "The Plenary of the Kimberley Process Certification Scheme, meeting in Brussels on 5–8 November 2007,

Recalling the Administrative Decision on the Peer Review Mechanism adopted at Sun City in 2003, and the review visits conducted since,

Recognising the value of review visits in strengthening the implementation of the Certification Scheme by all Participants,

Decides:

1. Every Participant shall receive a review visit [at least once every three years] / [within five years of its last visit], on its own invitation.

2. A review visit team shall be composed of [up to five] experts from Participants and Observers, with [at least one] expert from the Working Group of Diamond Experts.

3. The team shall report to the Working Group on Monitoring [within three months] of the visit; the report shall be confidential to Participants and Observers.

4. The Working Group on Monitoring shall follow up the recommendations of each report and report annually to the Plenary.
";

fn seed_draft(c: &mut crate::db::DbConnection) -> Result<(), Error> {
    use crate::db::schema::drafts;
    let exists: i64 = drafts::table.filter(drafts::title.eq(DEMO_DRAFT_TITLE)).count().get_result(c)?;
    if exists > 0 {
        return Ok(());
    }
    let author: i64 =
        users::table.filter(users::email_normalized.eq("elena.martens@ec.kp.example")).select(users::id).first(c)?;
    use crate::drafting::model::{NewDraft, ValidNewDraft};
    let input = ValidNewDraft::try_from(NewDraft {
        title: DEMO_DRAFT_TITLE.into(),
        reference: "Brussels Plenary 2007".into(),
    })?;
    crate::drafting::service::insert(c, author, crate::db::now(), &input, DEMO_DRAFT_TEXT)?;
    Ok(())
}

/// How many demo accounts (addresses under `.example`) exist; the server warns while any do.
pub fn count_demo_accounts(db: &Db) -> Result<i64, Error> {
    db.read_blocking(|c| Ok(users::table.filter(users::email_normalized.like("%.example")).count().get_result(c)?))
}
