//! `plenum demo`: seeds a realistic body — the Kimberley Process in 2007 — so a new user has
//! something to look at. Idempotent: what exists is left alone. Demo accounts live under the
//! reserved `.example` top-level domain, which is how the server recognises them at start-up.

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::accounts::model::{Email, NewOrganisationRow, OrganisationKind as K, OrganisationStatus as S};
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
        name: "United States",
        code: "US",
        kind: K::Participant,
        status: S::Active,
        admitted: (2003, 1, 1),
        delegates: &[("Grace Whitfield", "grace.whitfield@us.kp.example")],
    },
    Org {
        name: "Democratic Republic of the Congo",
        code: "CD",
        kind: K::Participant,
        status: S::Active,
        admitted: (2003, 1, 1),
        delegates: &[("Patrick Ilunga", "patrick.ilunga@cd.kp.example")],
    },
    Org {
        name: "China",
        code: "CN",
        kind: K::Participant,
        status: S::Active,
        admitted: (2003, 1, 1),
        delegates: &[("Li Wei", "li.wei@cn.kp.example")],
    },
    Org {
        name: "United Arab Emirates",
        code: "AE",
        kind: K::Participant,
        status: S::Active,
        admitted: (2003, 11, 1),
        delegates: &[("Mariam Al Falasi", "mariam.alfalasi@ae.kp.example")],
    },
    Org {
        name: "Australia",
        code: "AU",
        kind: K::Participant,
        status: S::Active,
        admitted: (2003, 1, 1),
        delegates: &[("Tom Harding", "tom.harding@au.kp.example")],
    },
    Org {
        name: "Zimbabwe",
        code: "ZW",
        kind: K::Participant,
        status: S::Active,
        admitted: (2003, 1, 1),
        delegates: &[("Tendai Moyo", "tendai.moyo@zw.kp.example")],
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
                let new = NewOrganisationRow {
                    kind: org.kind,
                    name: org.name,
                    short_code: org.code,
                    status: org.status,
                    admitted_on: NaiveDate::from_ymd_opt(y, m, d),
                    countries,
                };
                let id = ensure_organisation(c, new, crate::db::now())?;
                for (name, email) in org.delegates {
                    let parsed = Email::parse("email", email).map_err(Error::from)?;
                    let admin = org.kind == K::Secretariat;
                    let created = create_user(c, id, &parsed, name, &hash, admin, crate::db::now())?.is_some();
                    out.push(DemoAccount { email, name, organisation: org.name, kind: org.kind, admin, created });
                }
            }
            let plenary = seed_bodies(c)?;
            let draft = seed_draft(c, plenary)?;
            seed_meetings(c, plenary, draft)?;
            seed_recommendations(c, plenary)?;
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

/// The KP's chairs, by year (the Plenary's history as the issue and `domain.md` give it).
const KP_CHAIRS: &[(i32, i32, &str, &str)] = &[
    (2003, 2003, "ZA", ""),
    (2004, 2004, "CA", ""),
    (2005, 2005, "RU", ""),
    (2006, 2006, "BW", ""),
    (2007, 2007, "EC", ""),
    (2008, 2008, "IN", ""),
    (2009, 2009, "NA", ""),
    (2010, 2010, "IL", ""),
    (2011, 2011, "CD", ""),
    (2012, 2012, "US", ""),
    (2013, 2013, "ZA", ""),
    (2014, 2014, "CN", ""),
    (2015, 2015, "AO", ""),
    (2016, 2016, "AE", ""),
    (2017, 2017, "AU", ""),
    (2018, 2018, "EC", "as the European Union"),
    (2019, 2019, "IN", ""),
    (2020, 2021, "RU", "extended to 2021 by written procedure: the 2020 plenary was postponed"),
    (2022, 2022, "BW", ""),
    (2023, 2023, "ZW", ""),
    (2024, 2024, "AE", ""),
];

/// A subsidiary body: short name, name, kind, mandate, whether observers may chair, members.
type SubBody =
    (&'static str, &'static str, crate::bodies::model::BodyKind, &'static str, bool, &'static [&'static str]);

/// The KP's working groups and committees.
const KP_BODIES: &[SubBody] = {
    use crate::bodies::model::BodyKind::{Committee, WorkingGroup};
    &[
        (
            "WGM",
            "Working Group on Monitoring",
            WorkingGroup,
            "Monitors the implementation of the Certification Scheme by the Participants: review visits, annual reports and their follow-up.",
            false,
            &["EC", "BW", "IN", "NA", "ZA", "CA", "WDC", "CSC"],
        ),
        (
            "WGS",
            "Working Group on Statistics",
            WorkingGroup,
            "Collects and analyses the Participants' production and trade statistics.",
            false,
            &["EC", "CA", "RU", "AO", "IN"],
        ),
        (
            "WGDE",
            "Working Group of Diamond Experts",
            WorkingGroup,
            "Technical matters: footprints of production, valuation, the distinguishing of rough diamonds.",
            true,
            &["BW", "EC", "IN", "ZA", "RU", "WDC"],
        ),
        (
            "WGAAP",
            "Working Group on Artisanal and Alluvial Production",
            WorkingGroup,
            "Internal controls over artisanal and alluvial production.",
            false,
            &["SL", "LR", "GH", "AO", "CD", "CSC"],
        ),
        (
            "CPC",
            "Committee on Participation and Chairmanship",
            Committee,
            "Applications for participation, and the selection of the Chair and Vice-Chair. Chaired by the outgoing Chair of the Plenary.",
            false,
            &["EC", "IN", "NA", "RU", "ZA"],
        ),
        (
            "CRP",
            "Committee on Rules and Procedures",
            Committee,
            "The Scheme's rules of procedure and administrative decisions.",
            false,
            &["EC", "CA", "US", "ZA"],
        ),
    ]
};

fn org_id(c: &mut crate::db::DbConnection, code: &str) -> Result<i64, Error> {
    use crate::db::schema::organisations;
    Ok(organisations::table.filter(organisations::short_code.eq(code)).select(organisations::id).first(c)?)
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

/// The Plenary with the KP chairs 2003–2024 (and the vice-chairs who succeeded them), its
/// working groups and committees, their members, and the WGDE's chair (the World Diamond
/// Council, an observer). Returns the Plenary's id.
fn seed_bodies(c: &mut crate::db::DbConnection) -> Result<i64, Error> {
    use crate::bodies::model::{
        BodyKind, NewBody, Office, RotationInput, RotationRule, TermOrigin, ValidNewBody, ValidTerm,
    };
    use crate::bodies::service::{insert_body, insert_member, insert_term, terms_of};
    use crate::db::schema::bodies;
    if let Some(id) = bodies::table.filter(bodies::short_name.eq("KP")).select(bodies::id).first(c).optional()? {
        return Ok(id);
    }
    let now = crate::db::now().and_utc();
    let body = |name: &str, short: &str, kind, mandate: &str, parent, chair_observers, rotation| NewBody {
        name: name.into(),
        short_name: short.into(),
        kind,
        mandate: mandate.into(),
        parent_id: parent,
        created_on: Some(ymd(2003, 1, 1)),
        ends_on: None,
        observers_may_join: Some(true),
        observers_may_chair: Some(chair_observers),
        time_zone: Some("Europe/Brussels".into()),
        rotation: Some(rotation),
    };
    let plenary_input = ValidNewBody::try_from(body(
        "Plenary of the Kimberley Process",
        "KP",
        BodyKind::Plenary,
        "The Kimberley Process Certification Scheme: the Participants meet in plenary once a year and take decisions by consensus.",
        None,
        false,
        RotationInput { rule: Some(RotationRule::ViceChairSucceeds), ..Default::default() },
    ))?;
    let plenary = insert_body(c, &plenary_input, now)?;
    let term = |office, org, from: NaiveDate, to: NaiveDate, origin, note: &str| ValidTerm {
        office,
        organisation_id: org,
        person_user_id: None,
        starts_on: from,
        ends_on: to,
        origin,
        note: note.into(),
        cancelled: false,
    };
    for (i, (from, to, code, note)) in KP_CHAIRS.iter().enumerate() {
        let org = org_id(c, code)?;
        let chair = term(Office::Chair, org, ymd(*from, 1, 1), ymd(*to, 12, 31), TermOrigin::Selected, note);
        insert_term(c, plenary, &chair, None, now)?;
        // The vice-chair of the years before a chair's term is the chair-to-be.
        if i > 0 && *from >= 2007 {
            let (prev_from, prev_to, _, _) = KP_CHAIRS[i - 1];
            let vice =
                term(Office::ViceChair, org, ymd(prev_from, 1, 1), ymd(prev_to, 12, 31), TermOrigin::Selected, "");
            insert_term(c, plenary, &vice, None, now)?;
        }
    }
    let mut participants: Vec<i64> = Vec::new();
    for org in ORGS.iter().filter(|o| matches!(o.kind, K::Participant | K::Observer)) {
        participants.push(org_id(c, org.code)?);
    }
    for org in &participants {
        insert_member(c, plenary, *org, ymd(2003, 1, 1), false, now)?;
    }
    for (short, name, kind, mandate, chair_observers, members) in KP_BODIES {
        let rotation = if *short == "CPC" {
            RotationInput {
                rule: Some(RotationRule::PreviousChairOf),
                source_body_id: Some(Some(plenary)),
                ..Default::default()
            }
        } else {
            RotationInput::default()
        };
        let input =
            ValidNewBody::try_from(body(name, short, *kind, mandate, Some(plenary), *chair_observers, rotation))?;
        let id = insert_body(c, &input, now)?;
        for code in *members {
            let member = org_id(c, code)?;
            insert_member(c, id, member, ymd(2003, 1, 1), false, now)?;
        }
        if *short == "WGDE" {
            let wdc = org_id(c, "WDC")?;
            let note = "The World Diamond Council, an observer, chairs the WGDE (demo history; dates approximate).";
            insert_term(
                c,
                id,
                &term(Office::Chair, wdc, ymd(2003, 1, 1), ymd(2024, 12, 31), TermOrigin::Selected, note),
                None,
                now,
            )?;
        }
        if *short == "CPC" {
            // The rule's history: each year's outgoing Plenary chair chaired the CPC the year after.
            let source = terms_of(c, plenary)?;
            let row = crate::bodies::service::load_body(c, id)?;
            for planned in crate::bodies::rotation::plan(&row, &[], &source, ymd(2003, 1, 1)) {
                let t = term(
                    Office::Chair,
                    planned.organisation_id,
                    planned.starts_on,
                    planned.ends_on,
                    planned.origin,
                    "",
                );
                insert_term(c, id, &t, None, now)?;
            }
        }
    }
    Ok(plenary)
}

/// One agenda item of the demo: depth (0 or 1), title, purpose, presenter, minutes, closed session.
type DemoItem = (u8, &'static str, crate::meetings::model::Purpose, &'static str, i32, bool);

const INTERSESSIONAL_2007: &[DemoItem] = {
    use crate::meetings::model::Purpose::{ForDecision as D, ForDiscussion as S, ForInformation as I};
    &[
        (0, "Opening of the meeting and adoption of the agenda", D, "Chair (European Community)", 15, false),
        (
            0,
            "Stocktaking on the implementation of the Gaborone recommendations",
            S,
            "Working Group on Monitoring",
            90,
            false,
        ),
        (1, "Review visits conducted since the Gaborone plenary", I, "Working Group on Monitoring", 30, false),
        (
            1,
            "Follow-up of review-visit recommendations, participant by participant",
            S,
            "Working Group on Monitoring",
            60,
            false,
        ),
        (0, "Côte d'Ivoire and Ghana: joint action plan against the trade in conflict diamonds", S, "Ghana", 90, false),
        (1, "Report of the expert mission to Ghana", S, "Working Group of Diamond Experts", 45, true),
        (0, "Improving the peer review mechanism", D, "Working Group on Monitoring", 60, false),
        (
            0,
            "Scientific expertise on the origin of diamonds (footprints of production)",
            I,
            "Working Group of Diamond Experts",
            45,
            false,
        ),
        (0, "Liberia: its first meeting as a full Participant", I, "Liberia", 20, false),
        (0, "Participation: applications and compliance", S, "Committee on Participation and Chairmanship", 60, true),
        (0, "Preparation of the Brussels Plenary, November 2007", D, "Chair (European Community)", 30, false),
        (0, "Any other business and closing", I, "Chair (European Community)", 15, false),
    ]
};

const PLENARY_2007: &[DemoItem] = {
    use crate::meetings::model::Purpose::{ForDecision as D, ForDiscussion as S, ForInformation as I};
    &[
        (0, "Opening of the plenary", I, "Chair (European Community)", 20, false),
        (0, "Adoption of the agenda", D, "Chair (European Community)", 10, false),
        (0, "Report of the Chair", I, "Chair (European Community)", 30, false),
        (0, "Reports of the working groups", S, "Working group chairs", 120, false),
        (1, "Working Group on Monitoring", S, "Working Group on Monitoring", 45, false),
        (1, "Working Group on Statistics", I, "Working Group on Statistics", 30, false),
        (1, "Working Group of Diamond Experts", I, "Working Group of Diamond Experts", 30, false),
        (0, "Administrative decision on peer review visits", D, "Working Group on Monitoring", 90, false),
        (0, "Côte d'Ivoire: compliance and the UN embargo", S, "Committee on Participation and Chairmanship", 60, true),
        (0, "Selection of the Vice-Chair for 2008", D, "Committee on Participation and Chairmanship", 30, false),
        (0, "Final communiqué and closing", D, "Chair (European Community)", 45, false),
    ]
};

/// The Brussels intersessional of 12–14 June 2007 (held, closed) and the Brussels plenary of
/// 5–8 November 2007 (convened), with their agendas; the demo draft belongs to the plenary's
/// peer-review item, which lists it.
fn seed_meetings(c: &mut crate::db::DbConnection, plenary: i64, draft: i64) -> Result<(), Error> {
    use crate::db::schema::{agenda_item_drafts, drafts, meetings};
    use crate::meetings::model::{AgendaState, ItemState, MeetingKind, MeetingState, check_item, check_meeting};
    use crate::meetings::service::{insert_item, insert_meeting};
    let exists: i64 = meetings::table.filter(meetings::body_id.eq(plenary)).count().get_result(c)?;
    if exists > 0 {
        return Ok(());
    }
    let admin: i64 =
        users::table.filter(users::email_normalized.eq("admin@secretariat.kp.example")).select(users::id).first(c)?;
    let now = crate::db::now().and_utc();
    let utc = |y, m, d, h| chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, y, m, d, h, 0, 0).single().unwrap_or(now);
    let meetings_to_seed = [
        (
            "Brussels Intersessional Meeting 2007",
            MeetingKind::Intersessional,
            utc(2007, 6, 12, 7),
            utc(2007, 6, 14, 16),
            MeetingState::Closed,
            INTERSESSIONAL_2007,
        ),
        (
            "Brussels Plenary 2007",
            MeetingKind::Plenary,
            utc(2007, 11, 5, 8),
            utc(2007, 11, 8, 17),
            MeetingState::Convened,
            PLENARY_2007,
        ),
    ];
    for (title, kind, starts, ends, state, items) in meetings_to_seed {
        let valid = check_meeting(title, "Charlemagne building, Brussels", None, "Europe/Brussels", starts, ends)?;
        let id = insert_meeting(c, admin, plenary, kind, &valid, now)?;
        let (mut top, mut sub, mut parent) = (0, 0, None);
        for (depth, title, purpose, presenter, minutes, closed) in items {
            let item = check_item(title, "", *purpose, presenter, Some(*minutes), *closed)?;
            let done = if state == MeetingState::Closed { ItemState::Done } else { ItemState::Pending };
            let item_id = if *depth == 0 {
                let id = insert_item(c, id, None, top, &item, done, now)?;
                (top, sub, parent) = (top + 1, 0, Some(id));
                id
            } else {
                sub += 1;
                insert_item(c, id, parent, sub - 1, &item, done, now)?
            };
            if title.starts_with("Administrative decision on peer review") {
                diesel::insert_into(agenda_item_drafts::table)
                    .values((agenda_item_drafts::item_id.eq(item_id), agenda_item_drafts::draft_id.eq(draft)))
                    .execute(c)?;
                // The draft belongs to the plenary and to this item of its agenda.
                diesel::update(drafts::table.find(draft))
                    .set((drafts::meeting_id.eq(id), drafts::agenda_item_id.eq(item_id)))
                    .execute(c)?;
            }
        }
        let adopted = (state == MeetingState::Closed).then(|| starts.naive_utc());
        diesel::update(meetings::table.find(id))
            .set((
                meetings::state.eq(state.as_str()),
                meetings::agenda_state
                    .eq(if adopted.is_some() { AgendaState::Adopted } else { AgendaState::Proposed }.as_str()),
                meetings::agenda_adopted_at.eq(adopted),
            ))
            .execute(c)?;
    }
    Ok(())
}

fn seed_draft(c: &mut crate::db::DbConnection, plenary: i64) -> Result<i64, Error> {
    use crate::db::schema::drafts;
    if let Some(id) = drafts::table.filter(drafts::title.eq(DEMO_DRAFT_TITLE)).select(drafts::id).first(c).optional()? {
        return Ok(id);
    }
    let author: i64 =
        users::table.filter(users::email_normalized.eq("elena.martens@ec.kp.example")).select(users::id).first(c)?;
    use crate::drafting::model::{NewDraft, ValidNewDraft};
    let input = ValidNewDraft::try_from(NewDraft {
        title: DEMO_DRAFT_TITLE.into(),
        body_id: Some(plenary),
        ..NewDraft::default()
    })?;
    crate::drafting::service::insert(c, author, crate::db::now(), &input, DEMO_DRAFT_TEXT)
}

// ---- recommendations and their implementation ------------------------------------------

/// A demo delegate as the services see a signed-in one.
fn demo_actor(c: &mut crate::db::DbConnection, email: &str) -> Result<crate::accounts::actor::Actor, Error> {
    use crate::accounts::model::{OrganisationRow, UserRow};
    use crate::db::schema::organisations;
    let (user, org): (UserRow, OrganisationRow) = users::table
        .inner_join(organisations::table)
        .filter(users::email_normalized.eq(email))
        .select((UserRow::as_select(), OrganisationRow::as_select()))
        .first(c)?;
    Ok(crate::accounts::actor::Actor {
        user_id: user.id,
        display_name: user.display_name,
        email: user.email,
        organisation_id: org.id,
        organisation_name: org.name,
        kind: org.kind,
        organisation_status: org.status,
        is_admin: user.is_admin,
        session_id: 0,
        request_id: None,
    })
}

/// Noon UTC on a date: the instant demo entries are recorded at.
fn noon(y: i32, m: u32, d: u32) -> chrono::DateTime<chrono::Utc> {
    ymd(y, m, d).and_hms_opt(12, 0, 0).unwrap_or_default().and_utc()
}

/// One step of a demo record: when, which status, what the delegation wrote, and a link.
type Step = ((i32, u32, u32), &'static str, &'static str, Option<(&'static str, &'static str)>);

/// The Gaborone recommendations: code, title, text, theme, due date, and the histories that
/// participants are given in turn (by their place in the list of participants, so the mix is
/// fixed and realistic: some implemented, many in progress, some not started).
type GaboroneRecommendation =
    (&'static str, &'static str, &'static str, &'static str, (i32, u32, u32), &'static [&'static [Step]]);

const STATS_SITE: &str = "https://kimberleyprocessstatistics.org/public_statistics";

const GABORONE: &[GaboroneRecommendation] = &[
    (
        "GAB-2006/01",
        "Increase transparency",
        "Participants should make the operation of their national certification schemes more transparent: publish the laws, regulations and procedures that implement the Kimberley Process Certification Scheme, name the authorities responsible, and make the annual reports available to the public.",
        "transparency",
        (2007, 11, 5),
        &[
            &[
                (
                    (2007, 1, 22),
                    "in_progress",
                    "Implementing regulations are being compiled for publication on the ministry's website.",
                    None,
                ),
                (
                    (2007, 6, 8),
                    "implemented",
                    "The laws, regulations and the contact points of the KP authority are published; the 2006 annual report is public.",
                    Some(("https://www.kimberleyprocess.com/", "Annual report 2006")),
                ),
            ],
            &[(
                (2007, 3, 14),
                "in_progress",
                "A draft transparency policy is before the inter-ministerial committee.",
                None,
            )],
            &[
                (
                    (2007, 2, 5),
                    "in_progress",
                    "The certification procedures are being translated for publication.",
                    None,
                ),
                (
                    (2007, 9, 17),
                    "partially_implemented",
                    "Procedures published; the annual report will follow after parliamentary review.",
                    None,
                ),
            ],
            &[],
            &[(
                (2007, 4, 30),
                "in_progress",
                "Consultations with industry and civil society on what to publish have begun.",
                None,
            )],
            &[(
                (2007, 8, 13),
                "in_progress",
                "The KP authority's website is being rebuilt to host the published documents.",
                None,
            )],
        ],
    ),
    (
        "GAB-2006/02",
        "Publish statistics",
        "Participants should submit production and trade statistics to the Working Group on Statistics on time, every half year, and publish their statistics in the format agreed by the Plenary.",
        "statistics",
        (2007, 6, 12),
        &[
            &[(
                (2007, 3, 2),
                "implemented",
                "Half-yearly statistics for 2006 submitted to the WGS and published.",
                Some((STATS_SITE, "KP public statistics")),
            )],
            &[
                (
                    (2007, 1, 15),
                    "in_progress",
                    "Export data are being reconciled with the customs administration.",
                    None,
                ),
                (
                    (2007, 5, 21),
                    "implemented",
                    "2006 production and trade statistics submitted and published.",
                    Some((STATS_SITE, "KP public statistics")),
                ),
            ],
            &[((2007, 4, 11), "implemented", "Statistics submitted to the WGS within the deadline.", None)],
            &[
                ((2006, 12, 18), "in_progress", "A new data system for the mining cadastre is being set up.", None),
                (
                    (2007, 6, 4),
                    "implemented",
                    "Statistics for 2006 submitted; the data system is in use.",
                    Some((STATS_SITE, "KP public statistics")),
                ),
            ],
            &[((2007, 2, 26), "in_progress", "Production figures from artisanal areas are still incomplete.", None)],
            &[(
                (2007, 3, 19),
                "implemented",
                "Trade statistics submitted; production statistics published by the statistical office.",
                None,
            )],
            &[
                (
                    (2007, 2, 2),
                    "in_progress",
                    "Statistics compiled; awaiting the minister's approval for publication.",
                    None,
                ),
                (
                    (2007, 4, 23),
                    "implemented",
                    "Approved, submitted and published.",
                    Some((STATS_SITE, "KP public statistics")),
                ),
            ],
            &[((2007, 5, 30), "implemented", "Half-yearly statistics submitted to the WGS.", None)],
            &[(
                (2007, 1, 29),
                "implemented",
                "Statistics for 2006 submitted and published on the customs website.",
                None,
            )],
        ],
    ),
    (
        "GAB-2006/03",
        "Co-ordinate technical assistance",
        "Participants able to do so should offer technical assistance to Participants that need it, in particular on internal controls over artisanal and alluvial production, and co-ordinate it through the Chair so that efforts are not duplicated.",
        "technical_assistance",
        (2007, 12, 31),
        &[
            &[(
                (2007, 5, 3),
                "in_progress",
                "A needs assessment was shared with the Chair; two offers of assistance are under discussion.",
                None,
            )],
            &[],
            &[
                ((2007, 2, 19), "in_progress", "Training of customs officers planned with a donor programme.", None),
                (
                    (2007, 10, 8),
                    "partially_implemented",
                    "Two training sessions held; the footprint database project has started.",
                    None,
                ),
            ],
            &[((2007, 7, 2), "in_progress", "Offered experts to the WGAAP for its work in West Africa.", None)],
            &[],
            &[
                ((2007, 3, 27), "in_progress", "Assistance co-ordinated with the WGAAP.", None),
                (
                    (2007, 9, 28),
                    "implemented",
                    "The assistance programme is agreed and running; reported to the Chair.",
                    None,
                ),
            ],
            &[(
                (2007, 6, 25),
                "in_progress",
                "Bilateral support to a neighbouring Participant's customs is being prepared.",
                None,
            )],
            &[(
                (2007, 4, 16),
                "in_progress",
                "Asked the Chair for experts on internal controls; a mission is being planned.",
                None,
            )],
        ],
    ),
];

/// The action plan after the review visit to Ghana: code, title, text, themes, due date, steps.
type PlanItem = (&'static str, &'static str, &'static str, &'static [&'static str], (i32, u32, u32), &'static [Step]);

const GHANA_PLAN: &[PlanItem] = &[
    (
        "GHA-RV-2007/01",
        "Strengthen internal controls in the alluvial areas",
        "Ghana should strengthen its internal controls over alluvial production in the Akwatia and Birim areas, where production is artisanal, so that no rough diamonds from Côte d'Ivoire enter its exports.",
        &["internal_controls", "artisanal_mining"],
        (2007, 11, 5),
        &[
            (
                (2007, 7, 16),
                "in_progress",
                "Field monitoring teams of the Precious Minerals Marketing Company deployed to Akwatia.",
                None,
            ),
            (
                (2007, 10, 22),
                "partially_implemented",
                "Monitoring in Akwatia in place; the Birim area follows in 2008.",
                None,
            ),
        ],
    ),
    (
        "GHA-RV-2007/02",
        "Register diggers and licensed buyers",
        "Ghana should register all diggers and licensed buyers, and keep the register current.",
        &["internal_controls"],
        (2007, 9, 30),
        &[((2007, 8, 6), "in_progress", "Registration campaign under way; 60% of licensed buyers registered.", None)],
    ),
    (
        "GHA-RV-2007/03",
        "Reconcile production and export statistics",
        "Ghana should reconcile its production and export statistics every month and explain the differences to the WGM.",
        &["statistics"],
        (2007, 11, 5),
        &[(
            (2007, 9, 3),
            "implemented",
            "Monthly reconciliation in place since July; first report sent to the WGM.",
            None,
        )],
    ),
];

/// The WGM's recommendations on Côte d'Ivoire (suspended; under the UN embargo): code, title,
/// text, themes, due date, restricted, steps recorded by the secretariat.
type MonitoringItem =
    (&'static str, &'static str, &'static str, &'static [&'static str], (i32, u32, u32), bool, &'static [Step]);

const IVORY_COAST: &[MonitoringItem] = &[
    (
        "CIV-2007/01",
        "Support the monitoring of production in the north",
        "Côte d'Ivoire should support the UN Group of Experts and the KP in monitoring diamond production in the Séguéla and Tortiya areas.",
        &["monitoring", "conflict_diamonds"],
        (2007, 11, 5),
        false,
        &[(
            (2007, 9, 10),
            "in_progress",
            "The authorities facilitated a visit of the UN Group of Experts to Séguéla (reported by the secretariat).",
            None,
        )],
    ),
    (
        "CIV-2007/02",
        "Establish an inventory of rough diamond stockpiles",
        "Côte d'Ivoire should establish an inventory of rough diamond stockpiles held in the country, as a condition for resuming KP-compliant exports.",
        &["internal_controls"],
        (2008, 6, 30),
        false,
        &[],
    ),
    (
        "CIV-2007/03",
        "Report on preparations to resume exports",
        "Côte d'Ivoire should report to the WGM on the preparations for a KP-compliant export regime, for consideration by the Participants only.",
        &["monitoring"],
        (2008, 6, 30),
        true,
        &[],
    ),
];

/// The Gaborone plenary of November 2006 (held, closed): the source of its recommendations.
fn seed_gaborone_meeting(c: &mut crate::db::DbConnection, plenary: i64, admin: i64) -> Result<i64, Error> {
    use crate::db::schema::meetings;
    use crate::meetings::model::{AgendaState, MeetingKind, MeetingState, check_meeting};
    const TITLE: &str = "Gaborone Plenary 2006";
    if let Some(id) = meetings::table.filter(meetings::title.eq(TITLE)).select(meetings::id).first(c).optional()? {
        return Ok(id);
    }
    let (starts, ends) =
        (noon(2006, 11, 6) - chrono::Duration::hours(5), noon(2006, 11, 9) + chrono::Duration::hours(4));
    let valid =
        check_meeting(TITLE, "Gaborone International Convention Centre", None, "Africa/Gaborone", starts, ends)?;
    let id = crate::meetings::service::insert_meeting(c, admin, plenary, MeetingKind::Plenary, &valid, starts)?;
    diesel::update(meetings::table.find(id))
        .set((
            meetings::state.eq(MeetingState::Closed.as_str()),
            meetings::agenda_state.eq(AgendaState::Adopted.as_str()),
            meetings::agenda_adopted_at.eq(Some(starts.naive_utc())),
        ))
        .execute(c)?;
    Ok(id)
}

/// Records the steps of one record, each with the clock at its date.
fn record_steps(
    c: &mut crate::db::DbConnection,
    by: &crate::accounts::actor::Actor,
    recommendation: i64,
    organisation: i64,
    steps: &[Step],
) -> Result<(), Error> {
    use crate::recommendations::model::ValidLink;
    use crate::recommendations::service::{Target, record};
    for ((y, m, d), status, note, link) in steps {
        let links = link.map(|(url, label)| ValidLink { url: url.into(), label: label.into() }).into_iter().collect();
        let entry = crate::recommendations::model::ValidEntry {
            status: (*status).into(),
            note: (*note).into(),
            links,
            upload_ids: Vec::new(),
            corrects_id: None,
        };
        record(c, by, noon(*y, *m, *d), recommendation, Target::Organisation(organisation), entry)?;
    }
    Ok(())
}

fn new_recommendation(
    code: &str,
    title: &str,
    text: &str,
    issued_on: NaiveDate,
    due: (i32, u32, u32),
    themes: &[&str],
    source: crate::recommendations::model::SourceInput,
) -> crate::recommendations::model::NewRecommendation {
    use crate::recommendations::model::{AddressedTo, NewRecommendation};
    NewRecommendation {
        code: code.into(),
        title: title.into(),
        text: text.into(),
        body_id: None,
        issued_on,
        due_on: Some(ymd(due.0, due.1, due.2)),
        priority: None,
        vocabulary_id: None,
        parent_id: None,
        source,
        addressed_to: Some(AddressedTo::AllParticipants),
        organisation_ids: Vec::new(),
        addressee_body_id: None,
        themes: themes.iter().map(|t| (*t).to_string()).collect(),
        restricted: false,
    }
}

fn source(kind: crate::recommendations::model::SourceKind) -> crate::recommendations::model::SourceInput {
    crate::recommendations::model::SourceInput {
        kind,
        meeting_id: None,
        decision_id: None,
        visit_id: None,
        body_id: None,
        title: None,
    }
}

/// The Gaborone recommendations with their implementation by each participant (recorded by its
/// delegates over 2006–2007), the review visit to Ghana and its action plan, and the WGM's
/// recommendations on Côte d'Ivoire. Everything goes through the services, with the clock at
/// the date of each step, so the history is dated as it happened.
fn seed_recommendations(c: &mut crate::db::DbConnection, plenary: i64) -> Result<(), Error> {
    use crate::db::schema::{bodies, recommendations};
    use crate::recommendations::model::{
        AddressedTo, ReviewVisitUpdate, SourceKind, TeamMemberInput, TeamRole, VisitOrigin, VisitState,
    };
    use crate::recommendations::{service, visits};
    let exists: i64 = recommendations::table.filter(recommendations::code.eq("GAB-2006/01")).count().get_result(c)?;
    if exists > 0 {
        return Ok(());
    }
    let admin = demo_actor(c, "admin@secretariat.kp.example")?;
    let meeting = seed_gaborone_meeting(c, plenary, admin.user_id)?;
    let issued = ymd(2006, 11, 9);
    // Each participant's first delegate records its progress (Côte d'Ivoire is suspended: the
    // secretariat records for it).
    let mut delegates: Vec<(i64, crate::accounts::actor::Actor)> = Vec::new();
    for org in ORGS.iter().filter(|o| o.kind == K::Participant) {
        let Some((_, email)) = org.delegates.first() else { continue };
        let id = org_id(c, org.code)?;
        let actor = if org.status == S::Active { demo_actor(c, email)? } else { admin.clone() };
        delegates.push((id, actor));
    }
    for (code, title, text, theme, due, histories) in GABORONE {
        let mut input = new_recommendation(code, title, text, issued, *due, &[theme], source(SourceKind::Meeting));
        input.body_id = Some(plenary);
        input.source.meeting_id = Some(meeting);
        let rec = service::create(c, &admin, noon(2006, 11, 9), input)?;
        let addressed: Vec<i64> = rec.addressees.iter().filter_map(|a| a.organisation.as_ref().map(|o| o.id)).collect();
        for (i, (org, actor)) in delegates.iter().filter(|(o, _)| addressed.contains(o)).enumerate() {
            let steps = histories.get(i % histories.len()).copied().unwrap_or(&[]);
            record_steps(c, actor, rec.id, *org, steps)?;
        }
    }

    // The review visit to Ghana, its report adopted at the June 2007 intersessional.
    let wgm: i64 = bodies::table.filter(bodies::short_name.eq("WGM")).select(bodies::id).first(c)?;
    let ghana = org_id(c, "GH")?;
    let mut member = |code: &str, role| -> Result<TeamMemberInput, Error> {
        Ok(TeamMemberInput { organisation_id: org_id(c, code)?, role })
    };
    let team = vec![
        member("EC", TeamRole::Leader)?,
        member("CA", TeamRole::Member)?,
        member("ZA", TeamRole::Member)?,
        member("WDC", TeamRole::Member)?,
        member("CSC", TeamRole::Member)?,
    ];
    let visit = visits::create(
        c,
        &admin,
        noon(2007, 2, 20),
        crate::recommendations::model::NewReviewVisit {
            participant_id: ghana,
            body_id: wgm,
            origin: VisitOrigin::Requested,
            starts_on: Some(ymd(2007, 4, 23)),
            ends_on: Some(ymd(2007, 4, 27)),
            team,
            report_title: "Report of the review visit to Ghana, April 2007".into(),
            vocabulary_id: None,
            notes: "Requested by Ghana after the expert mission of early 2007 found rough diamonds of Ivorian origin could enter its exports.".into(),
        },
    )?;
    visits::update(
        c,
        &admin,
        noon(2007, 4, 28),
        visit.id,
        ReviewVisitUpdate { state: Some(VisitState::Visited), ..Default::default() },
    )?;
    let report = crate::meetings::documents::check(
        "review-visit-ghana-2007.md",
        Some("text/markdown"),
        GHANA_REPORT.as_bytes().to_vec(),
        usize::MAX,
    )?;
    let report = service::store_upload(c, &admin, noon(2007, 6, 1), report)?;
    visits::update(
        c,
        &admin,
        noon(2007, 6, 14),
        visit.id,
        ReviewVisitUpdate {
            state: Some(VisitState::ReportAdopted),
            report_upload_id: Some(Some(report.id)),
            report_adopted_on: Some(ymd(2007, 6, 14)),
            ..Default::default()
        },
    )?;
    let ghana_delegate =
        delegates.iter().find(|(o, _)| *o == ghana).map(|(_, a)| a.clone()).unwrap_or_else(|| admin.clone());
    let visit_source =
        || crate::recommendations::model::SourceInput { visit_id: Some(visit.id), ..source(SourceKind::ReviewVisit) };
    let adopted = ymd(2007, 6, 14);
    let mut parent_input = new_recommendation(
        "GHA-RV-2007",
        "Action plan after the review visit to Ghana",
        "The action plan agreed with Ghana on the recommendations of the review visit of April 2007; its progress is that of its parts.",
        adopted,
        (2007, 11, 5),
        &["internal_controls"],
        visit_source(),
    );
    parent_input.addressed_to = None;
    let parent = service::create(c, &admin, noon(2007, 6, 14), parent_input)?;
    for (code, title, text, themes, due, steps) in GHANA_PLAN {
        let mut input = new_recommendation(code, title, text, adopted, *due, themes, visit_source());
        input.addressed_to = None;
        input.parent_id = Some(parent.id);
        let rec = service::create(c, &admin, noon(2007, 6, 14), input)?;
        record_steps(c, &ghana_delegate, rec.id, ghana, steps)?;
    }

    // The WGM's monitoring of Côte d'Ivoire.
    let ivory_coast = org_id(c, "CI")?;
    for (code, title, text, themes, due, restricted, steps) in IVORY_COAST {
        let report = crate::recommendations::model::SourceInput {
            body_id: Some(wgm),
            title: Some("Report of the WGM on Côte d'Ivoire, June 2007".into()),
            ..source(SourceKind::Report)
        };
        let mut input = new_recommendation(code, title, text, adopted, *due, themes, report);
        input.body_id = Some(wgm);
        input.addressed_to = Some(AddressedTo::Participants);
        input.organisation_ids = vec![ivory_coast];
        input.restricted = *restricted;
        let rec = service::create(c, &admin, noon(2007, 6, 14), input)?;
        record_steps(c, &admin, rec.id, ivory_coast, steps)?;
    }
    Ok(())
}

const GHANA_REPORT: &str = "# Report of the review visit to Ghana, 23–27 April 2007

The team (European Community, leader; Canada; South Africa; the World Diamond Council; the Civil
Society Coalition) met the Minerals Commission, the Precious Minerals Marketing Company, customs and
licensed buyers in Accra, Akwatia and the Birim area.

## Findings
- The legal framework meets the minimum requirements of the Certification Scheme.
- Internal controls over alluvial production are weak in parts of the Akwatia and Birim areas.
- Diggers and buyers are not all registered.
- Production and export statistics are not reconciled.

## Recommendations
1. Strengthen internal controls in the alluvial areas.
2. Register diggers and licensed buyers.
3. Reconcile production and export statistics every month.
";

/// How many demo accounts (addresses under `.example`) exist; the server warns while any do.
pub fn count_demo_accounts(db: &Db) -> Result<i64, Error> {
    db.read_blocking(|c| Ok(users::table.filter(users::email_normalized.like("%.example")).count().get_result(c)?))
}
