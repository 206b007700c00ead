//! The rules of the chairmanship, as pure functions over a body's terms and a date: who is in
//! office, when the chair next changes hands, what is missing, and which terms a rotation rule
//! creates by itself. No database and no clock here: the service loads the terms, asks these
//! functions with the date it is in the body's time zone, and writes what they plan.

use chrono::NaiveDate;

use super::model::{BodyRow, Office, RotationRule, TermOrigin, TermRow, WarningCode, term_end};

/// Terms in force on `date`: the chair or co-chairs, and the vice-chair.
pub fn in_force(terms: &[TermRow], date: NaiveDate) -> (Vec<&TermRow>, Option<&TermRow>) {
    let chairs = terms.iter().filter(|t| t.chairs() && t.in_force(date)).collect();
    let vice = terms.iter().find(|t| t.office == Office::ViceChair && t.in_force(date));
    (chairs, vice)
}

/// The next day after `today` on which the chair changes hands, with the outgoing and incoming
/// chair terms; `None` when no change is known.
pub fn next_handover(terms: &[TermRow], today: NaiveDate) -> Option<(NaiveDate, Vec<&TermRow>, Vec<&TermRow>)> {
    let (current, _) = in_force(terms, today);
    let ends = current.iter().filter_map(|t| t.ends_on.succ_opt());
    let starts = terms.iter().filter(|t| t.chairs() && !t.cancelled && t.starts_on > today).map(|t| t.starts_on);
    let on = ends.chain(starts).min()?;
    let eve = on.pred_opt()?;
    let outgoing = terms.iter().filter(|t| t.chairs() && t.in_force(eve) && !t.in_force(on)).collect();
    let incoming = terms.iter().filter(|t| t.chairs() && t.in_force(on) && !t.in_force(eve)).collect();
    Some((on, outgoing, incoming))
}

/// What the chair and the secretariat should act on, as of `today`.
pub fn warnings(body: &BodyRow, terms: &[TermRow], today: NaiveDate) -> Vec<(WarningCode, String, Option<NaiveDate>)> {
    let mut out = Vec::new();
    let lead = i64::from(body.lead_days.max(0));
    let soon = |day: NaiveDate| (day - today).num_days() <= lead;
    let (chairs, vice) = in_force(terms, today);
    if chairs.is_empty() {
        let next =
            terms.iter().filter(|t| t.chairs() && !t.cancelled && t.starts_on > today).map(|t| t.starts_on).min();
        let message = match next {
            Some(day) => format!("Nobody holds the chair of {} until {day}.", body.name),
            None => format!("Nobody holds the chair of {}, and no future chair is known.", body.name),
        };
        out.push((WarningCode::NoChair, message, next));
    } else if let Some(handover) = chairs.iter().filter_map(|t| t.ends_on.succ_opt()).min()
        && soon(handover)
        && in_force(terms, handover).0.is_empty()
    {
        let how = match body.rotation_rule {
            RotationRule::ViceChairSucceeds => {
                "select a vice-chair (who succeeds automatically) or enter the next chair's term"
            }
            RotationRule::FixedRotation => "check the rotation order, or enter the next chair's term",
            RotationRule::PreviousChairOf => {
                "the outgoing chair of the source body succeeds: enter that body's next chair, or this body's next chair"
            }
            RotationRule::Elected => "elect the next chair and enter the term",
        };
        out.push((
            WarningCode::MissingSuccessor,
            format!(
                "The chair's term ends on {} and nobody is known to take over: {how}.",
                handover.pred_opt().unwrap_or(handover)
            ),
            Some(handover),
        ));
    }
    if body.rotation_rule == RotationRule::ViceChairSucceeds
        && let Some(vice) = vice
        && let Some(handover) = vice.ends_on.succ_opt()
        && soon(handover)
        && in_force(terms, handover).1.is_none()
    {
        out.push((
            WarningCode::MissingViceChair,
            format!(
                "The vice-chair becomes chair on {handover} and no vice-chair has been selected for the term that starts then."
            ),
            Some(handover),
        ));
    }
    out
}

/// A term a rotation rule creates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    pub organisation_id: i64,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub origin: TermOrigin,
}

fn overlaps_a_chair(terms: &[TermRow], planned: &[Planned], start: NaiveDate, end: NaiveDate) -> bool {
    terms.iter().any(|t| t.chairs() && !t.cancelled && t.starts_on <= end && start <= t.ends_on)
        || planned.iter().any(|p| p.starts_on <= end && start <= p.ends_on)
}

/// The chair terms `body`'s rule creates by itself as of `today`. `source` holds the terms the
/// rule follows: the body's own (vice-chair succeeds, fixed rotation), or the chair terms of the
/// source body (previous chair of). Only terms that are not over by `today` are planned (history
/// is never back-filled), and never over an existing chair's term.
pub fn plan(body: &BodyRow, terms: &[TermRow], source: &[TermRow], today: NaiveDate) -> Vec<Planned> {
    let mut planned: Vec<Planned> = Vec::new();
    match body.rotation_rule {
        RotationRule::Elected => {}
        RotationRule::ViceChairSucceeds | RotationRule::PreviousChairOf => {
            let leaders = |t: &&TermRow| match body.rotation_rule {
                RotationRule::ViceChairSucceeds => t.office == Office::ViceChair,
                _ => t.chairs(),
            };
            let mut sources: Vec<&TermRow> = source.iter().filter(|t| !t.cancelled).filter(leaders).collect();
            sources.sort_by_key(|t| t.ends_on);
            for s in sources {
                let Some(start) = s.ends_on.succ_opt() else { continue };
                let Some(end) = term_end(start, body.term_months) else { continue };
                if end < today || overlaps_a_chair(terms, &planned, start, end) {
                    continue;
                }
                planned.push(Planned {
                    organisation_id: s.organisation_id,
                    starts_on: start,
                    ends_on: end,
                    origin: TermOrigin::Succession,
                });
            }
        }
        RotationRule::FixedRotation => {
            let order = body.order();
            let Some(last) = terms.iter().filter(|t| t.chairs() && !t.cancelled).max_by_key(|t| t.ends_on) else {
                return planned;
            };
            if order.is_empty() {
                return planned;
            }
            let (mut org, mut end) = (last.organisation_id, last.ends_on);
            let horizon = today + chrono::Duration::days(i64::from(body.lead_days.max(0)));
            // Keep the next handover known a lead time ahead; a server that was down for years
            // catches up by at most 50 terms a run.
            while end < horizon && planned.len() < 50 {
                let next = order.iter().position(|o| *o == org).map_or(0, |i| (i + 1) % order.len());
                let (Some(start), Some(org_next)) = (end.succ_opt(), order.get(next)) else { break };
                let Some(new_end) = term_end(start, body.term_months) else { break };
                if overlaps_a_chair(terms, &planned, start, new_end) {
                    break;
                }
                planned.push(Planned {
                    organisation_id: *org_next,
                    starts_on: start,
                    ends_on: new_end,
                    origin: TermOrigin::Rotation,
                });
                (org, end) = (*org_next, new_end);
            }
        }
    }
    planned
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bodies::model::BodyKind;
    use chrono::NaiveDateTime;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    fn body(rule: RotationRule, order: &[i64], months: i32) -> BodyRow {
        BodyRow {
            id: 1,
            name: "Plenary".into(),
            short_name: "KP".into(),
            kind: BodyKind::Plenary,
            mandate: String::new(),
            parent_id: None,
            created_on: d(2003, 1, 1),
            ends_on: None,
            observers_may_join: true,
            observers_may_chair: false,
            time_zone: "UTC".into(),
            rotation_rule: rule,
            rotation_order: serde_json::to_string(order).unwrap_or_default(),
            term_months: months,
            lead_days: 60,
            rotation_source_id: None,
            created_at: NaiveDateTime::MIN,
            updated_at: NaiveDateTime::MIN,
        }
    }

    fn term(id: i64, office: Office, org: i64, from: NaiveDate, to: NaiveDate) -> TermRow {
        TermRow {
            id,
            body_id: 1,
            office,
            organisation_id: org,
            person_user_id: None,
            starts_on: from,
            ends_on: to,
            origin: TermOrigin::Selected,
            note: String::new(),
            cancelled: false,
            created_at: NaiveDateTime::MIN,
        }
    }

    #[test]
    fn the_vice_chair_succeeds_on_1_january() {
        let b = body(RotationRule::ViceChairSucceeds, &[], 12);
        let terms = vec![
            term(1, Office::Chair, 10, d(2024, 1, 1), d(2024, 12, 31)),
            term(2, Office::ViceChair, 20, d(2024, 1, 1), d(2024, 12, 31)),
        ];
        let planned = plan(&b, &terms, &terms, d(2024, 11, 20));
        assert_eq!(
            planned,
            vec![Planned {
                organisation_id: 20,
                starts_on: d(2025, 1, 1),
                ends_on: d(2025, 12, 31),
                origin: TermOrigin::Succession
            }]
        );
        // Once the successor exists nothing more is planned, and history is never back-filled.
        let mut with = terms.clone();
        with.push(term(3, Office::Chair, 20, d(2025, 1, 1), d(2025, 12, 31)));
        assert!(plan(&b, &with, &with, d(2024, 11, 20)).is_empty());
        assert!(plan(&b, &terms, &terms, d(2026, 3, 1)).is_empty());
    }

    #[test]
    fn a_fixed_rotation_keeps_the_next_presidency_known() {
        let b = body(RotationRule::FixedRotation, &[1, 2, 3], 6);
        let terms = vec![term(1, Office::Chair, 2, d(2025, 1, 1), d(2025, 6, 30))];
        let planned = plan(&b, &terms, &terms, d(2025, 6, 1));
        assert_eq!(planned.len(), 1);
        assert_eq!(
            (planned[0].organisation_id, planned[0].starts_on, planned[0].ends_on),
            (3, d(2025, 7, 1), d(2025, 12, 31))
        );
        // Far from the end: nothing yet.
        assert!(plan(&b, &terms, &terms, d(2025, 2, 1)).is_empty());
    }

    #[test]
    fn handovers_and_warnings() {
        let b = body(RotationRule::ViceChairSucceeds, &[], 12);
        let terms = vec![term(1, Office::Chair, 10, d(2024, 1, 1), d(2024, 12, 31))];
        let (on, out, inc) = next_handover(&terms, d(2024, 6, 1)).unwrap_or((d(1, 1, 1), vec![], vec![]));
        assert_eq!((on, out.len(), inc.len()), (d(2025, 1, 1), 1, 0));
        assert!(warnings(&b, &terms, d(2024, 6, 1)).is_empty(), "too early to warn");
        let w = warnings(&b, &terms, d(2024, 11, 15));
        assert_eq!(w.iter().map(|w| w.0).collect::<Vec<_>>(), vec![WarningCode::MissingSuccessor]);
        assert_eq!(warnings(&b, &terms, d(2025, 1, 2))[0].0, WarningCode::NoChair);
        let mut with_vice = terms.clone();
        with_vice.push(term(2, Office::ViceChair, 20, d(2024, 1, 1), d(2024, 12, 31)));
        with_vice.push(term(3, Office::Chair, 20, d(2025, 1, 1), d(2025, 12, 31)));
        let w = warnings(&b, &with_vice, d(2024, 11, 15));
        assert_eq!(w.iter().map(|w| w.0).collect::<Vec<_>>(), vec![WarningCode::MissingViceChair]);
    }
}
