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
    use std::collections::{BTreeMap, BTreeSet};

    use proptest::prelude::*;

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

    /// An agenda as its rows: `n` items with distinct ids in random order of creation, each
    /// under an earlier one or at the top level (so the tree has no cycles), with any positions
    /// (gaps and ties included), in random row order.
    fn agendas() -> impl Strategy<Value = Vec<ItemRow>> {
        (1usize..14)
            .prop_flat_map(|n| {
                let parents = proptest::collection::vec(proptest::option::weighted(0.6, 0usize..n), n);
                let positions = proptest::collection::vec(0i32..6, n);
                let ids =
                    Just((1..=i64::try_from(n).unwrap_or(1)).map(|i| i * 7 % 101).collect::<Vec<_>>()).prop_shuffle();
                (parents, positions, ids)
            })
            .prop_map(|(parents, positions, ids)| {
                let rows: Vec<ItemRow> = parents
                    .iter()
                    .enumerate()
                    .map(|(k, parent)| item(ids[k], parent.filter(|&p| p < k).map(|p| ids[p]), positions[k]))
                    .collect();
                rows
            })
            .prop_shuffle()
    }

    /// The tree as ordered lists of children, independently of `numbered`: by position, then id.
    fn model(items: &[ItemRow]) -> BTreeMap<Option<i64>, Vec<i64>> {
        let mut tree: BTreeMap<Option<i64>, Vec<&ItemRow>> = BTreeMap::new();
        for i in items {
            tree.entry(i.parent_id).or_default().push(i);
        }
        tree.into_iter()
            .map(|(parent, mut list)| {
                list.sort_by_key(|i| (i.position, i.id));
                (parent, list.into_iter().map(|i| i.id).collect())
            })
            .collect()
    }

    /// The numbers the model gives: depth-first, 1-based per level.
    fn model_numbers(tree: &BTreeMap<Option<i64>, Vec<i64>>) -> Vec<(i64, String)> {
        fn walk(
            tree: &BTreeMap<Option<i64>, Vec<i64>>,
            parent: Option<i64>,
            prefix: &str,
            out: &mut Vec<(i64, String)>,
        ) {
            for (k, id) in tree.get(&parent).into_iter().flatten().enumerate() {
                let number = if prefix.is_empty() { (k + 1).to_string() } else { format!("{prefix}.{}", k + 1) };
                out.push((*id, number.clone()));
                walk(tree, Some(*id), &number, out);
            }
        }
        let mut out = Vec::new();
        walk(tree, None, "", &mut out);
        out
    }

    fn below(items: &[ItemRow], id: i64) -> BTreeSet<i64> {
        let mut out = BTreeSet::from([id]);
        loop {
            let more: Vec<i64> = items
                .iter()
                .filter(|i| i.parent_id.is_some_and(|p| out.contains(&p)) && !out.contains(&i.id))
                .map(|i| i.id)
                .collect();
            if more.is_empty() {
                return out;
            }
            out.extend(more);
        }
    }

    /// A move the service accepts: an item, a parent that is not within it, any position.
    fn moves() -> impl Strategy<Value = (Vec<ItemRow>, i64, Option<i64>, usize)> {
        agendas().prop_flat_map(|items| {
            let n = items.len();
            (Just(items), 0..n, proptest::option::of(0..n), 0usize..16).prop_map(|(items, who, parent, position)| {
                let id = items[who].id;
                let parent = parent.map(|p| items[p].id).filter(|p| !below(&items, id).contains(p));
                (items, id, parent, position)
            })
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn numbers_are_contiguous_unique_and_depth_first(items in agendas()) {
            let numbers = numbers(&items);
            // Every item once, and the numbers are what the tree says.
            prop_assert_eq!(&numbers, &model_numbers(&model(&items)));
            let ids: BTreeSet<i64> = numbers.iter().map(|(id, _)| *id).collect();
            prop_assert_eq!(ids.len(), items.len());
            let unique: BTreeSet<&String> = numbers.iter().map(|(_, n)| n).collect();
            prop_assert_eq!(unique.len(), items.len());
            let by_id: HashMap<i64, &String> = numbers.iter().map(|(id, n)| (*id, n)).collect();
            let mut last_of: HashMap<String, u32> = HashMap::new();
            for (k, (id, number)) in numbers.iter().enumerate() {
                let row = items.iter().find(|i| i.id == *id).expect("row");
                let (prefix, last) = number.rsplit_once('.').map_or(("", number.as_str()), |(p, l)| (p, l));
                // A sub-item's number is its parent's and one more part; a top-level one has one part.
                match row.parent_id {
                    Some(p) => prop_assert_eq!(by_id[&p].as_str(), prefix),
                    None => prop_assert_eq!(prefix, ""),
                }
                // Per level, 1, 2, 3 … without gaps, in order.
                let last: u32 = last.parse().expect("a number");
                let before = last_of.insert(prefix.to_string(), last).unwrap_or(0);
                prop_assert_eq!(last, before + 1, "{} follows {}.{}", number, prefix, before);
                // Depth-first: an item's sub-items follow it at once.
                if k > 0 && row.parent_id.is_some() {
                    let previous = &numbers[k - 1].1;
                    let within = previous.as_str() == prefix || previous.starts_with(&format!("{prefix}."));
                    prop_assert!(within, "{} follows {}", number, previous);
                }
            }
        }

        #[test]
        fn numbers_depend_on_the_order_only(items in agendas(), spread in 1i32..50, shift in -20i32..20) {
            // Positions renumbered 0, 1, 2 … or spread apart keep every number.
            let tree = model(&items);
            let mut renumbered = items.clone();
            for row in &mut renumbered {
                let k = tree[&row.parent_id].iter().position(|id| *id == row.id).expect("in its list");
                row.position = i32::try_from(k).expect("small") * spread + shift;
            }
            prop_assert_eq!(numbers(&items), numbers(&renumbered));
        }

        #[test]
        fn an_item_whose_parent_is_gone_is_shown_not_lost(items in agendas(), gone in 0usize..14) {
            let gone = items[gone % items.len()].id;
            let rest: Vec<ItemRow> = items.iter().filter(|i| i.id != gone).cloned().collect();
            let numbers = numbers(&rest);
            prop_assert_eq!(numbers.len(), rest.len());
            for (id, number) in &numbers {
                if rest.iter().any(|i| i.id == *id && i.parent_id == Some(gone)) {
                    prop_assert!(!number.contains('.'), "{} is at the top level", id);
                }
            }
        }

        #[test]
        fn a_move_is_the_reordered_list_numbered((items, id, parent, position) in moves()) {
            let mut after = items.clone();
            let changes = moved(&items, id, parent, position);
            apply(&mut after, &changes);
            // The same move on the model: out of its list, into the new one at the position.
            let mut tree = model(&items);
            let old = items.iter().find(|i| i.id == id).expect("row").parent_id;
            tree.get_mut(&old).expect("its list").retain(|x| *x != id);
            let list = tree.entry(parent).or_default();
            list.insert(position.min(list.len()), id);
            prop_assert_eq!(numbers(&after), model_numbers(&tree));
            // Only places that change are written, both lists are 0, 1, 2 … and nothing else moved.
            for (cid, cparent, cpos) in &changes {
                let row = items.iter().find(|i| i.id == *cid).expect("row");
                prop_assert!(row.parent_id != *cparent || row.position != *cpos);
                prop_assert!(*cid == id || *cparent == row.parent_id, "only the moved item changes parent");
            }
            for list in [old, parent] {
                let mut positions: Vec<i32> = after.iter().filter(|i| i.parent_id == list).map(|i| i.position).collect();
                positions.sort_unstable();
                prop_assert_eq!(positions, (0..).take(tree[&list].len()).collect::<Vec<i32>>());
            }
            prop_assert!(moved(&after, id, parent, position).is_empty(), "moving again changes nothing");
        }

        #[test]
        fn moving_an_item_and_back_restores_every_number((items, id, parent, position) in moves()) {
            let before = numbers(&items);
            let row = items.iter().find(|i| i.id == id).expect("row").clone();
            let index = model(&items)[&row.parent_id].iter().position(|x| *x == id).expect("in its list");
            let mut after = items.clone();
            apply(&mut after, &moved(&items, id, parent, position));
            let back = moved(&after, id, row.parent_id, index);
            apply(&mut after, &back);
            prop_assert_eq!(numbers(&after), before);
        }

        #[test]
        fn is_within_is_the_subtree(items in agendas(), a in 0usize..14, b in 0usize..14) {
            let (a, b) = (items[a % items.len()].id, items[b % items.len()].id);
            prop_assert_eq!(is_within(&items, a, b), below(&items, a).contains(&b));
        }
    }
}
