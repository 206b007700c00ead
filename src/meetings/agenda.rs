//! The agenda as a tree, as pure functions: depth-first order with numbers (1, 2, 2.1 …), and
//! where every item goes when one is moved. The service loads the rows and writes the result.

use std::collections::HashMap;

use super::model::ItemRow;

fn children(items: &[ItemRow]) -> HashMap<Option<i64>, Vec<&ItemRow>> {
    let ids: std::collections::HashSet<i64> = items.iter().map(|i| i.id).collect();
    let mut out: HashMap<Option<i64>, Vec<&ItemRow>> = HashMap::new();
    for item in items {
        // An item whose parent is gone is shown at the top level rather than lost.
        out.entry(item.parent_id.filter(|p| ids.contains(p))).or_default().push(item);
    }
    for list in out.values_mut() {
        list.sort_by_key(|i| (i.position, i.id));
    }
    out
}

/// Every item, depth-first in agenda order, with its number.
pub fn numbered(items: &[ItemRow]) -> Vec<(&ItemRow, String)> {
    let tree = children(items);
    let mut out = Vec::with_capacity(items.len());
    fn walk<'a>(
        tree: &HashMap<Option<i64>, Vec<&'a ItemRow>>,
        parent: Option<i64>,
        prefix: &str,
        out: &mut Vec<(&'a ItemRow, String)>,
    ) {
        for (i, item) in tree.get(&parent).into_iter().flatten().enumerate() {
            let number = if prefix.is_empty() { format!("{}", i + 1) } else { format!("{prefix}.{}", i + 1) };
            out.push((item, number.clone()));
            walk(tree, Some(item.id), &number, out);
        }
    }
    walk(&tree, None, "", &mut out);
    out
}

/// Whether `candidate` is `item` or lies below it (an item cannot move under itself).
pub fn is_within(items: &[ItemRow], item: i64, candidate: i64) -> bool {
    let parents: HashMap<i64, Option<i64>> = items.iter().map(|i| (i.id, i.parent_id)).collect();
    let mut at = Some(candidate);
    let mut steps = 0;
    while let Some(id) = at {
        if id == item {
            return true;
        }
        at = parents.get(&id).copied().flatten();
        steps += 1;
        if steps > items.len() {
            break;
        }
    }
    false
}

/// The `(id, parent, position)` of every item whose place changes when `item` moves under
/// `parent` at `position` (0-based among its new siblings; past the end means last). Positions
/// are renumbered 0, 1, 2 … in both the old and the new sibling lists.
pub fn moved(items: &[ItemRow], item: i64, parent: Option<i64>, position: usize) -> Vec<(i64, Option<i64>, i32)> {
    let tree = children(items);
    let Some(moving) = items.iter().find(|i| i.id == item) else { return Vec::new() };
    let mut out = Vec::new();
    let old_parent = moving.parent_id;
    if old_parent != parent {
        let old: Vec<&ItemRow> =
            tree.get(&old_parent).into_iter().flatten().copied().filter(|i| i.id != item).collect();
        for (n, sibling) in old.iter().enumerate() {
            out.push((sibling.id, old_parent, i32::try_from(n).unwrap_or(i32::MAX)));
        }
    }
    let mut new: Vec<&ItemRow> = tree.get(&parent).into_iter().flatten().copied().filter(|i| i.id != item).collect();
    new.insert(position.min(new.len()), moving);
    for (n, sibling) in new.iter().enumerate() {
        out.push((sibling.id, parent, i32::try_from(n).unwrap_or(i32::MAX)));
    }
    out.retain(|(id, p, pos)| items.iter().any(|i| i.id == *id && (i.parent_id != *p || i.position != *pos)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meetings::model::{ItemState, Purpose};

    fn item(id: i64, parent: Option<i64>, position: i32) -> ItemRow {
        ItemRow {
            id,
            meeting_id: 1,
            parent_id: parent,
            position,
            title: format!("item {id}"),
            description: String::new(),
            purpose: Purpose::ForDiscussion,
            presenter: String::new(),
            duration_minutes: None,
            closed_session: false,
            state: ItemState::Pending,
            current_since: None,
        }
    }

    fn numbers(items: &[ItemRow]) -> Vec<(i64, String)> {
        numbered(items).into_iter().map(|(i, n)| (i.id, n)).collect()
    }

    fn apply(items: &mut [ItemRow], changes: &[(i64, Option<i64>, i32)]) {
        for (id, parent, position) in changes {
            if let Some(i) = items.iter_mut().find(|i| i.id == *id) {
                i.parent_id = *parent;
                i.position = *position;
            }
        }
    }

    #[test]
    fn numbers_follow_the_tree_and_renumber_on_moves() {
        let mut items =
            vec![item(1, None, 0), item(2, None, 1), item(3, Some(2), 0), item(4, Some(2), 1), item(5, None, 2)];
        assert_eq!(
            numbers(&items),
            vec![(1, "1".into()), (2, "2".into()), (3, "2.1".into()), (4, "2.2".into()), (5, "3".into())]
        );
        // Item 5 moves to the top; item 3 moves under item 1.
        let changes = moved(&items, 5, None, 0);
        apply(&mut items, &changes);
        let changes = moved(&items, 3, Some(1), 0);
        apply(&mut items, &changes);
        assert_eq!(
            numbers(&items),
            vec![(5, "1".into()), (1, "2".into()), (3, "2.1".into()), (2, "3".into()), (4, "3.1".into())]
        );
    }

    #[test]
    fn an_item_cannot_move_under_itself() {
        let items = vec![item(1, None, 0), item(2, Some(1), 0), item(3, Some(2), 0)];
        assert!(is_within(&items, 1, 3));
        assert!(is_within(&items, 2, 2));
        assert!(!is_within(&items, 3, 1));
    }
}
