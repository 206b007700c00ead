//! Who may do what: the only place where roles are checked.
//!
//! Handlers describe what they are about to do as an [`Action`] and call [`authorize`]; they
//! never look at an actor's kind or admin flag themselves. The rules follow `domain.md`: a
//! participant decides, an observer follows and speaks but never decides, a guest sees one
//! meeting, the secretariat administers and decides nothing, and nobody acts for another
//! organisation. Delegates of a suspended or withdrawn organisation may read but not write.
//!
//! A body's chair has powers nobody else has; who holds the chair is not a role but a fact of
//! the terms in force at the moment of the request. The caller reads it as a [`Standing`]
//! (`bodies::service::standing`, at the clock's now) and hands it in with the action, so the
//! powers change hands on the handover instant with nothing written anywhere.

use crate::accounts::actor::Actor;
use crate::accounts::model::{OrganisationKind, OrganisationStatus};
use crate::drafting::model::TextGate;
use crate::error::Error;

/// What an actor holds in one body at the moment of a request, read from the terms in force.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Standing {
    /// The actor's organisation holds the chair or a co-chair (and, where the term names one
    /// delegate, the actor is that delegate).
    pub chair: bool,
    /// Likewise for the vice-chair.
    pub vice_chair: bool,
    /// The vice-chair has been switched on as acting chair.
    pub acting_chair: bool,
}

impl Standing {
    /// Whether the actor may use the chair's powers: the chair, or the vice-chair while acting.
    pub fn chairs(&self) -> bool {
        self.chair || (self.vice_chair && self.acting_chair)
    }
}

/// Something an actor wants to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Read the lists of organisations and delegates.
    ViewDirectory,
    /// Create organisations or change their name, status, admission or countries.
    ManageOrganisations,
    /// Invite a new delegate into `organisation_id`.
    InviteDelegate { organisation_id: i64 },
    /// Change a user's profile; `admin_fields` when disabling, or granting admin rights.
    UpdateUser { user_id: i64, organisation_id: i64, admin_fields: bool },
    /// Read the audit log.
    ViewAudit,
    /// See or end one's own sessions (allowed even while suspended: signing out is always allowed).
    ManageOwnSessions,
    /// Open a new decision draft.
    CreateDraft,
    /// Read a draft and follow its live editing; `linked_for_guest`: the draft is linked to an
    /// open item of a meeting the actor's (guest) organisation is invited to.
    ReadDraft { linked_for_guest: bool },
    /// Change the text of a draft: `gate` from its stage and lock, `standing` in its body (read
    /// only when the gate is the chair's).
    EditDraft { gate: TextGate, standing: Standing },
    /// Rename, lock or unlock a draft; `standing` in the body the draft belongs to.
    ManageDraft { standing: Standing },
    /// See bodies, their members and the history of their chairs.
    ViewBodies,
    /// Create a body below a parent (`parent`: the actor's standing there; default for a plenary).
    CreateBody { parent: Standing },
    /// Change a body, its members or its terms.
    ManageBody { standing: Standing },
    /// Switch the vice-chair's acting on (`on`) or off.
    SetActingChair { standing: Standing, on: bool },
    /// See a meeting: `invited` (the actor's organisation is), `draft` (not yet convened),
    /// `standing` in its body.
    ReadMeeting { invited: bool, draft: bool, standing: Standing },
    /// See closed-session agenda items, their documents and events.
    SeeClosedSession,
    /// Create a meeting of a body, convene, open, close or cancel it, run its agenda, invite
    /// guests: the body's chair, or the secretariat on the chair's behalf.
    ChairMeeting { standing: Standing },
    /// Move a draft towards a decision (final reading, call for objections, declare adoption,
    /// written procedure, withdraw): the chair of its body at that instant, and nobody else —
    /// the secretariat decides nothing.
    ConductDecision { standing: Standing },
    /// Object to (or abstain on) a draft under a call for objections or a written procedure.
    Object,
    /// Save a named version of a draft.
    SaveVersion,
    /// Register delegates of `organisation_id` to attend a meeting (`invited`: that
    /// organisation is invited).
    RegisterAttendance { organisation_id: i64, invited: bool },
    /// Read recommendations, their implementation records, review visits and the stocktaking;
    /// `restricted`: the recommendation (or visit) is not for observers.
    ReadRecommendation { restricted: bool },
    /// Issue or change recommendations of a body, or plan and report a review visit followed up
    /// by it: the body's chair (`standing` there) or the secretariat's administrators.
    ManageRecommendations { standing: Standing },
    /// Record progress on one addressee's implementation record: `own` — the addressee is the
    /// actor's organisation (or a body the actor chairs); `standing` in the issuing body.
    RecordImplementation { own: bool, standing: Standing },
    /// Define the status vocabularies recommendations are tracked with.
    ManageVocabularies,
}

impl Action {
    fn writes(&self) -> bool {
        !matches!(
            self,
            Self::ViewDirectory
                | Self::ViewAudit
                | Self::ManageOwnSessions
                | Self::ReadDraft { .. }
                | Self::ViewBodies
                | Self::ReadMeeting { .. }
                | Self::SeeClosedSession
                | Self::ReadRecommendation { .. }
        )
    }
}

fn deny(why: &str) -> Result<(), Error> {
    Err(Error::Forbidden(why.to_string()))
}

/// `Ok(())` when `actor` may perform `action`, otherwise 403 with the reason.
pub fn authorize(actor: &Actor, action: &Action) -> Result<(), Error> {
    if action.writes() && actor.organisation_status != OrganisationStatus::Active {
        return deny("your organisation is suspended or has withdrawn: its delegates may read but not change anything");
    }
    let admin = actor.is_admin && actor.kind == OrganisationKind::Secretariat;
    match action {
        Action::ViewDirectory if actor.kind == OrganisationKind::Guest => {
            deny("guests see only the meeting they were invited to")
        }
        Action::ViewDirectory | Action::ManageOwnSessions => Ok(()),
        Action::ManageOrganisations | Action::ViewAudit | Action::InviteDelegate { .. } if admin => Ok(()),
        Action::ManageOrganisations | Action::InviteDelegate { .. } => {
            deny("only the secretariat's administrators may do this")
        }
        Action::ViewAudit => deny("only the secretariat's administrators may read the audit log"),
        Action::UpdateUser { .. } if admin => Ok(()),
        Action::UpdateUser { user_id, admin_fields: false, .. } if *user_id == actor.user_id => Ok(()),
        Action::UpdateUser { .. } => deny("you may change only your own profile"),
        Action::CreateDraft if actor.kind == OrganisationKind::Participant || admin => Ok(()),
        Action::CreateDraft => deny("only participants and the secretariat may open a draft"),
        Action::ReadDraft { linked_for_guest: false } if actor.kind == OrganisationKind::Guest => {
            deny("guests see only the drafts linked to the meeting they were invited to")
        }
        Action::ReadDraft { .. } => Ok(()),
        Action::ManageDraft { .. } if admin => Ok(()),
        Action::ManageDraft { standing } if standing.chairs() => Ok(()),
        Action::ManageDraft { .. } => deny(
            "only the chair of the draft's body and the secretariat's administrators may rename, lock or unlock it",
        ),
        Action::ViewBodies if actor.kind == OrganisationKind::Guest => {
            deny("guests see only the meeting they were invited to")
        }
        Action::ViewBodies => Ok(()),
        Action::CreateBody { .. } if admin => Ok(()),
        Action::CreateBody { parent } if parent.chairs() => Ok(()),
        Action::CreateBody { .. } => {
            deny("only the secretariat's administrators and the chair of the parent body may create a body")
        }
        Action::ManageBody { .. } if admin => Ok(()),
        Action::ManageBody { standing } if standing.chairs() => Ok(()),
        Action::ManageBody { .. } => {
            deny("only the body's chair (or acting chair) and the secretariat's administrators may change it")
        }
        Action::SetActingChair { .. } if admin => Ok(()),
        Action::SetActingChair { standing, .. } if standing.chair => Ok(()),
        Action::SetActingChair { standing, on: false } if standing.vice_chair => Ok(()),
        Action::SetActingChair { .. } => {
            deny("only the body's chair and the secretariat's administrators may make the vice-chair acting chair")
        }
        Action::ReadMeeting { standing, .. } if admin || standing.chairs() => Ok(()),
        Action::ReadMeeting { draft: true, .. } => deny("this meeting is being prepared and has not been convened"),
        Action::ReadMeeting { .. }
            if matches!(actor.kind, OrganisationKind::Participant | OrganisationKind::Secretariat) =>
        {
            Ok(())
        }
        Action::ReadMeeting { invited: true, .. } => Ok(()),
        Action::ReadMeeting { .. } => deny("your organisation is not invited to this meeting"),
        Action::SeeClosedSession
            if matches!(actor.kind, OrganisationKind::Participant | OrganisationKind::Secretariat) =>
        {
            Ok(())
        }
        Action::SeeClosedSession => deny("closed sessions are for participants only"),
        Action::ChairMeeting { standing } if admin || standing.chairs() => Ok(()),
        Action::ChairMeeting { .. } => {
            deny("only the body's chair (or the secretariat on the chair's behalf) may run its meetings")
        }
        Action::ConductDecision { standing } if standing.chairs() => Ok(()),
        Action::ConductDecision { .. } => deny("only the chair of the draft's body takes it towards a decision"),
        Action::Object if actor.kind == OrganisationKind::Participant => Ok(()),
        Action::Object => {
            deny("only participants' delegates may object or abstain: observers and the secretariat do not decide")
        }
        Action::SaveVersion if actor.kind == OrganisationKind::Participant || admin => Ok(()),
        Action::SaveVersion => deny("only participants' delegates and the secretariat save versions"),
        Action::RegisterAttendance { .. } if admin => Ok(()),
        Action::RegisterAttendance { organisation_id, invited: true } if *organisation_id == actor.organisation_id => {
            Ok(())
        }
        Action::RegisterAttendance { .. } => {
            deny("a delegation registers its own delegates, and only to a meeting it is invited to")
        }
        Action::ReadRecommendation { .. } if actor.kind == OrganisationKind::Guest => {
            deny("guests see only the meeting they were invited to")
        }
        Action::ReadRecommendation { restricted: true } if actor.kind == OrganisationKind::Observer => {
            deny("this recommendation is restricted to participants")
        }
        Action::ReadRecommendation { .. } => Ok(()),
        Action::ManageRecommendations { .. } if admin => Ok(()),
        Action::ManageRecommendations { standing } if standing.chairs() => Ok(()),
        Action::ManageRecommendations { .. } => deny(
            "only the body's chair and the secretariat's administrators issue recommendations and plan review visits",
        ),
        Action::RecordImplementation { .. } if admin => Ok(()),
        Action::RecordImplementation { .. } if actor.kind != OrganisationKind::Participant => {
            deny("observers follow the implementation of recommendations but do not record it")
        }
        Action::RecordImplementation { standing, .. } if standing.chairs() => Ok(()),
        Action::RecordImplementation { own: true, .. } => Ok(()),
        Action::RecordImplementation { .. } => {
            deny("a delegation records progress on its own recommendations only; the chair and the secretariat on any")
        }
        Action::ManageVocabularies if admin => Ok(()),
        Action::ManageVocabularies => deny("only the secretariat's administrators define vocabularies"),
        Action::EditDraft { gate: TextGate::Closed, .. } => {
            deny("this text is closed: it is locked, on its way to a decision, adopted or withdrawn")
        }
        Action::EditDraft { gate: TextGate::ChairOnly, standing } if standing.chairs() => Ok(()),
        Action::EditDraft { gate: TextGate::ChairOnly, .. } => {
            deny("in final reading only the chair of the draft's body changes the text")
        }
        Action::EditDraft { .. } if actor.kind == OrganisationKind::Participant => Ok(()),
        Action::EditDraft { .. } => deny("only participants' delegates may change the text of a draft"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(kind: OrganisationKind, admin: bool) -> Actor {
        Actor {
            user_id: 1,
            display_name: "A".into(),
            email: "a@example.org".into(),
            organisation_id: 10,
            organisation_name: "Org".into(),
            kind,
            organisation_status: OrganisationStatus::Active,
            is_admin: admin,
            session_id: 1,
            request_id: None,
        }
    }

    #[test]
    fn observers_never_edit_and_participants_do() {
        let edit = Action::EditDraft { gate: TextGate::Open, standing: Standing::default() };
        assert!(authorize(&actor(OrganisationKind::Participant, false), &edit).is_ok());
        for kind in [OrganisationKind::Observer, OrganisationKind::Guest, OrganisationKind::Secretariat] {
            assert!(authorize(&actor(kind, true), &edit).is_err(), "{kind:?} may edit");
        }
        let closed = Action::EditDraft { gate: TextGate::Closed, standing: Standing::default() };
        assert!(authorize(&actor(OrganisationKind::Participant, false), &closed).is_err());
    }

    #[test]
    fn in_final_reading_only_the_chair_edits() {
        let chair = Standing { chair: true, ..Standing::default() };
        let acting = Standing { vice_chair: true, acting_chair: true, ..Standing::default() };
        let vice = Standing { vice_chair: true, ..Standing::default() };
        let delegate = actor(OrganisationKind::Participant, false);
        for standing in [chair, acting] {
            assert!(authorize(&delegate, &Action::EditDraft { gate: TextGate::ChairOnly, standing }).is_ok());
        }
        for standing in [vice, Standing::default()] {
            assert!(authorize(&delegate, &Action::EditDraft { gate: TextGate::ChairOnly, standing }).is_err());
        }
        assert!(authorize(&delegate, &Action::EditDraft { gate: TextGate::Closed, standing: chair }).is_err());
    }

    #[test]
    fn suspended_organisations_read_only() {
        let mut a = actor(OrganisationKind::Participant, false);
        a.organisation_status = OrganisationStatus::Suspended;
        assert!(authorize(&a, &Action::ReadDraft { linked_for_guest: false }).is_ok());
        assert!(authorize(&a, &Action::ManageOwnSessions).is_ok());
        assert!(authorize(&a, &Action::EditDraft { gate: TextGate::Open, standing: Standing::default() }).is_err());
    }

    #[test]
    fn admin_rights_need_the_secretariat() {
        assert!(authorize(&actor(OrganisationKind::Secretariat, true), &Action::ManageOrganisations).is_ok());
        assert!(authorize(&actor(OrganisationKind::Participant, true), &Action::ManageOrganisations).is_err());
        assert!(authorize(&actor(OrganisationKind::Secretariat, false), &Action::ViewAudit).is_err());
    }

    #[test]
    fn the_chair_s_powers_follow_the_standing() {
        let delegate = actor(OrganisationKind::Participant, false);
        let chair = Standing { chair: true, ..Default::default() };
        let vice = Standing { vice_chair: true, ..Default::default() };
        let acting = Standing { vice_chair: true, acting_chair: true, ..Default::default() };
        assert!(authorize(&delegate, &Action::ManageBody { standing: chair }).is_ok());
        assert!(authorize(&delegate, &Action::ManageBody { standing: vice }).is_err());
        assert!(authorize(&delegate, &Action::ManageBody { standing: acting }).is_ok());
        assert!(authorize(&delegate, &Action::ManageBody { standing: Standing::default() }).is_err());
        assert!(authorize(&delegate, &Action::SetActingChair { standing: acting, on: true }).is_err());
        assert!(authorize(&delegate, &Action::SetActingChair { standing: vice, on: false }).is_ok());
        // An observer named to chair a working group has the chair's powers there.
        assert!(authorize(&actor(OrganisationKind::Observer, false), &Action::ManageDraft { standing: chair }).is_ok());
        let mut suspended = delegate.clone();
        suspended.organisation_status = OrganisationStatus::Suspended;
        assert!(authorize(&suspended, &Action::ManageBody { standing: chair }).is_err());
    }

    #[test]
    fn users_change_only_their_own_profile() {
        let a = actor(OrganisationKind::Participant, false);
        assert!(authorize(&a, &Action::UpdateUser { user_id: 1, organisation_id: 10, admin_fields: false }).is_ok());
        assert!(authorize(&a, &Action::UpdateUser { user_id: 1, organisation_id: 10, admin_fields: true }).is_err());
        assert!(authorize(&a, &Action::UpdateUser { user_id: 2, organisation_id: 10, admin_fields: false }).is_err());
    }
}
