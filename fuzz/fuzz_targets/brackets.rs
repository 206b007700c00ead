//! The bracket parser on arbitrary UTF-8: it never panics, and what it reports is consistent
//! with the text (checked here against facts computed independently of the parser).

#![no_main]

use libfuzzer_sys::fuzz_target;
use plenum::drafting::brackets::{Bracket, parse};

/// The paragraph (1-based) of the character at `at`: one more than the runs of two or more
/// newlines before it.
fn paragraph_at(chars: &[char], at: usize) -> usize {
    let mut paragraph = 1;
    let mut i = 0;
    while i < at {
        if chars[i] == '\n' {
            let run = chars[i..at].iter().take_while(|&&c| c == '\n').count();
            if run >= 2 {
                paragraph += 1;
            }
            i += run;
        } else {
            i += 1;
        }
    }
    paragraph
}

fn contains(outer: &Bracket, inner: &Bracket) -> bool {
    outer.start < inner.start && inner.end < outer.end
}

fuzz_target!(|text: &str| {
    let b = parse(text);
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let opening = chars.iter().filter(|&&c| c == '[').count();
    let closing = chars.iter().filter(|&&c| c == ']').count();

    // Every bracket character is either in a passage (one `[` and one `]`) or a problem.
    assert_eq!(2 * b.open.len() + b.problems.len(), opening + closing, "brackets unaccounted for: {b:?}");
    assert_eq!(b.clean, opening + closing == 0);
    let unclosed: Vec<usize> =
        b.problems.iter().filter(|p| p.message.contains("never closed")).map(|p| p.offset).collect();
    let stray = b.problems.len() - unclosed.len();
    assert_eq!(b.open.len() + unclosed.len(), opening, "every [ is closed or unclosed");
    assert_eq!(b.open.len() + stray, closing, "every ] closes a passage or is stray");

    for (k, x) in b.open.iter().enumerate() {
        // Within bounds, in characters, brackets included, and the text is that span.
        assert!(x.start < x.end && x.end <= n, "{x:?} out of bounds (n = {n})");
        assert_eq!(chars[x.start], '[');
        assert_eq!(chars[x.end - 1], ']');
        assert_eq!(x.text, chars[x.start..x.end].iter().collect::<String>());
        assert_eq!(x.paragraph, paragraph_at(&chars, x.start), "paragraph of {x:?}");
        if k > 0 {
            assert!(b.open[k - 1].start < x.start, "in order of their opening bracket");
        }
        // Passages nest or are apart, never overlap; the depth counts what encloses it: the
        // passages around it, and the unclosed `[` before it.
        let around = b.open.iter().filter(|y| contains(y, x)).count();
        for y in &b.open {
            let apart = y.end <= x.start || x.end <= y.start;
            assert!(apart || contains(x, y) || contains(y, x) || std::ptr::eq(x, y), "{x:?} crosses {y:?}");
        }
        let unclosed_before = unclosed.iter().filter(|&&u| u < x.start).count();
        assert_eq!(x.depth, around + unclosed_before, "depth of {x:?}");
        // The text between the brackets of a passage is balanced.
        let inner = &chars[x.start + 1..x.end - 1];
        let mut level: i64 = 0;
        for &c in inner {
            level += i64::from(c == '[') - i64::from(c == ']');
            assert!(level >= 0, "{x:?} closes early");
        }
        assert_eq!(level, 0, "{x:?} is not balanced inside");
    }

    // Alternatives: groups of two or more passages at the same depth.
    let mut groups: std::collections::BTreeMap<usize, Vec<&Bracket>> = Default::default();
    for x in &b.open {
        if let Some(g) = x.alternatives {
            groups.entry(g).or_default().push(x);
        }
    }
    for members in groups.values() {
        assert!(members.len() >= 2, "a group of one: {members:?}");
        assert!(members.iter().all(|m| m.depth == members[0].depth), "a group across depths: {members:?}");
    }

    let mut last = 0;
    for p in &b.problems {
        assert!(p.offset < n);
        assert!(p.offset >= last, "problems in order of place");
        last = p.offset;
        let expected = if p.message.contains("never closed") { '[' } else { ']' };
        assert_eq!(chars[p.offset], expected, "{p:?}");
        assert_eq!(p.paragraph, paragraph_at(&chars, p.offset), "paragraph of {p:?}");
    }
    let _ = b.summary();
});
