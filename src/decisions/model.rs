//! Decisions and the steps towards them: requests, recorded objections, versions, and the
//! published decisions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

crate::text_enum!(
    /// How a text was (or is being) adopted.
    pub Procedure {
        /// In the meeting: the chair calls for objections and declares adoption.
        Consensus => "consensus",
        /// In writing: adopted when the deadline passes in silence.
        Written => "written",
    }
);

crate::text_enum!(
    /// What a participant records on a draft.
    pub Stance {
        /// Blocks adoption.
        Objection => "objection",
        /// Recorded; does not block.
        Abstention => "abstention",
    }
);

/// Calls for objections, optionally for a limited time (the room shows a countdown).
#[derive(Deserialize, Debug, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallForObjections {
    /// Minutes to object (1–10080); omitted: until the chair declares adoption.
    pub minutes: Option<i64>,
}

/// An objection or an abstention.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewObjection {
    /// `objection` (default) or `abstention`.
    pub kind: Option<Stance>,
    pub reason: String,
}

/// Circulates a clean text in writing.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WrittenProcedureRequest {
    /// When silence is established if nobody objects (in the future).
    pub deadline: DateTime<Utc>,
}

/// A named version, saved on demand.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVersion {
    /// "as circulated 12 June".
    pub label: String,
}

/// A recorded objection or abstention.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct Objection {
    pub id: i64,
    pub round: i32,
    pub procedure: Procedure,
    pub kind: Stance,
    pub user: String,
    pub organisation: String,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

/// A saved version of a draft (without its text).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct VersionSummary {
    pub n: i32,
    pub label: String,
    /// The draft's stage when it was saved.
    pub stage: String,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A saved version with its text.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct Version {
    #[serde(flatten)]
    pub summary: VersionSummary,
    pub text: String,
}

/// One piece of a word-level diff.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
pub struct DiffPart {
    /// `equal`, `insert` or `delete`.
    pub op: String,
    pub text: String,
}

/// A word-level diff between two versions (or a version and the current text).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct Diff {
    pub from: i32,
    /// `null`: the current text.
    pub to: Option<i32>,
    pub parts: Vec<DiffPart>,
}

/// `?from=&to=` of a diff.
#[derive(Deserialize, Debug, IntoParams)]
pub struct DiffQuery {
    pub from: i32,
    /// Omitted: the current text.
    pub to: Option<i32>,
}

crate::text_enum!(
    /// How a decision bears on an earlier one.
    pub RelationKind {
        /// Changes some of it.
        Amends => "amends",
        /// Ends it.
        Repeals => "repeals",
    }
);

/// A link between decisions.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct DecisionLink {
    pub kind: RelationKind,
    pub decision_id: i64,
    pub number: String,
    pub title: String,
}

/// Declares that a draft, once adopted, amends or repeals a decision.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRelation {
    pub kind: RelationKind,
    pub decision_id: i64,
}

/// An adopted decision: numbered, frozen, published.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct Decision {
    pub id: i64,
    /// `AD 2007/03`.
    pub number: String,
    pub title: String,
    pub text: String,
    pub body_id: Option<i64>,
    pub draft_id: i64,
    pub procedure: Procedure,
    /// For a written procedure, the deadline at which silence was established.
    pub adopted_at: DateTime<Utc>,
    /// The version of the draft that was adopted.
    pub version: i32,
    /// The earlier decisions this one amends or repeals.
    pub relates_to: Vec<DecisionLink>,
    /// The later decisions that amend or repeal this one.
    pub related_by: Vec<DecisionLink>,
}

/// `?body_id=&year=&q=` of the register.
#[derive(Deserialize, Debug, IntoParams)]
pub struct DecisionQuery {
    pub body_id: Option<i64>,
    pub year: Option<i32>,
    /// Words to find in the number, title or text.
    pub q: Option<String>,
}

/// Formats a decision number: `{year}`, `{seq}`, `{seq:02}`, `{body}` are replaced.
pub fn number(format: &str, year: i32, seq: i32, body: &str) -> String {
    format
        .replace("{year}", &year.to_string())
        .replace("{seq:02}", &format!("{seq:02}"))
        .replace("{seq:03}", &format!("{seq:03}"))
        .replace("{seq}", &seq.to_string())
        .replace("{body}", body)
}

/// The word-level diff of two texts.
pub fn diff(old: &str, new: &str) -> Vec<DiffPart> {
    use similar::{ChangeTag, TextDiff};
    let mut parts: Vec<DiffPart> = Vec::new();
    for change in TextDiff::from_words(old, new).iter_all_changes() {
        let op = match change.tag() {
            ChangeTag::Equal => "equal",
            ChangeTag::Insert => "insert",
            ChangeTag::Delete => "delete",
        };
        match parts.last_mut() {
            Some(last) if last.op == op => last.text.push_str(change.value()),
            _ => parts.push(DiffPart { op: op.into(), text: change.value().to_string() }),
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_format() {
        assert_eq!(number("AD {year}/{seq:02}", 2007, 3, "KP"), "AD 2007/03");
        assert_eq!(
            number("{body}/{year}/Plenary/Administrative Decision {seq}", 2017, 1, "KP"),
            "KP/2017/Plenary/Administrative Decision 1"
        );
    }

    #[test]
    fn diffs_are_word_level() {
        let parts = diff("a visit [at least once every three years]", "a visit at least once every three years");
        assert!(parts.iter().any(|p| p.op == "delete" && p.text.contains('[')), "{parts:?}");
        assert!(parts.iter().any(|p| p.op == "equal" && p.text.contains("a visit")));
        let joined: String = parts.iter().filter(|p| p.op != "delete").map(|p| p.text.as_str()).collect();
        assert_eq!(joined, "a visit at least once every three years");
    }
}

/// A passage of a text and who wrote it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct Passage {
    pub text: String,
    /// `null` when the index does not know (text older than the index).
    pub user: Option<crate::bodies::model::PersonRef>,
    pub organisation: Option<crate::accounts::model::OrganisationRef>,
}

/// How much of a text an organisation wrote.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct AuthorShare {
    pub organisation: crate::accounts::model::OrganisationRef,
    pub characters: usize,
}

/// The text of a draft (or of one of its versions) as passages by author.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct Authorship {
    /// `null`: the current text.
    pub version: Option<i32>,
    pub passages: Vec<Passage>,
    /// Every organisation that wrote some of it, most first: the colours' legend.
    pub legend: Vec<AuthorShare>,
}

/// `?version=` of the authorship view.
#[derive(Deserialize, Debug, IntoParams)]
pub struct AuthorshipQuery {
    /// A saved version's number; omitted: the current text.
    pub version: Option<i32>,
}
