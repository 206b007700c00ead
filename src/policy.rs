//! Who may do what: the only place where roles are checked.
//!
//! Handlers describe what they are about to do as an [`Action`] and call [`authorize`]; they
//! never look at an actor's kind or admin flag themselves. The rules follow `domain.md`: a
//! participant decides, an observer follows and speaks but never decides, a guest sees one
//! meeting, the secretariat administers and decides nothing, and nobody acts for another
//! organisation. Delegates of a suspended or withdrawn organisation may read but not write.

use crate::accounts::actor::Actor;
use crate::accounts::model::{OrganisationKind, OrganisationStatus};
use crate::error::Error;

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
    /// Read a draft and follow its live editing.
    ReadDraft,
    /// Change the text of a draft.
    EditDraft { locked: bool },
    /// Rename, lock or unlock a draft.
    ManageDraft,
}

impl Action {
    fn writes(&self) -> bool {
        !matches!(self, Self::ViewDirectory | Self::ViewAudit | Self::ManageOwnSessions | Self::ReadDraft)
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
        Action::ReadDraft if actor.kind == OrganisationKind::Guest => {
            deny("guests see only the meeting they were invited to")
        }
        Action::ReadDraft => Ok(()),
        Action::ManageDraft if admin => Ok(()),
        Action::ManageDraft => deny("only the secretariat's administrators may rename, lock or unlock a draft"),
        Action::EditDraft { locked: true } => deny("this draft is locked: nobody may change it"),
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
        let edit = Action::EditDraft { locked: false };
        assert!(authorize(&actor(OrganisationKind::Participant, false), &edit).is_ok());
        for kind in [OrganisationKind::Observer, OrganisationKind::Guest, OrganisationKind::Secretariat] {
            assert!(authorize(&actor(kind, true), &edit).is_err(), "{kind:?} may edit");
        }
        assert!(authorize(&actor(OrganisationKind::Participant, false), &Action::EditDraft { locked: true }).is_err());
    }

    #[test]
    fn suspended_organisations_read_only() {
        let mut a = actor(OrganisationKind::Participant, false);
        a.organisation_status = OrganisationStatus::Suspended;
        assert!(authorize(&a, &Action::ReadDraft).is_ok());
        assert!(authorize(&a, &Action::ManageOwnSessions).is_ok());
        assert!(authorize(&a, &Action::EditDraft { locked: false }).is_err());
    }

    #[test]
    fn admin_rights_need_the_secretariat() {
        assert!(authorize(&actor(OrganisationKind::Secretariat, true), &Action::ManageOrganisations).is_ok());
        assert!(authorize(&actor(OrganisationKind::Participant, true), &Action::ManageOrganisations).is_err());
        assert!(authorize(&actor(OrganisationKind::Secretariat, false), &Action::ViewAudit).is_err());
    }

    #[test]
    fn users_change_only_their_own_profile() {
        let a = actor(OrganisationKind::Participant, false);
        assert!(authorize(&a, &Action::UpdateUser { user_id: 1, organisation_id: 10, admin_fields: false }).is_ok());
        assert!(authorize(&a, &Action::UpdateUser { user_id: 1, organisation_id: 10, admin_fields: true }).is_err());
        assert!(authorize(&a, &Action::UpdateUser { user_id: 2, organisation_id: 10, admin_fields: false }).is_err());
    }
}
