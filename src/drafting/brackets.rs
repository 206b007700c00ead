//! Bracketed text: contested language sits in `[square brackets]`, alternatives as
//! `[option A] / [option B]`, brackets may nest, and the text is *clean* when none remain. This
//! reads a text once and lists its brackets with their paragraph numbers; a stray `]` or an
//! unclosed `[` is reported as a problem with its place, never a panic.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One bracketed passage.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
pub struct Bracket {
    /// The paragraph it starts in (1-based; paragraphs are separated by blank lines).
    pub paragraph: usize,
    /// Where it starts and ends in the text, in characters (`[` included, `]` excluded + 1).
    pub start: usize,
    pub end: usize,
    /// The passage, brackets included.
    pub text: String,
    /// 0 for a bracket in running text, 1 inside another bracket, and so on.
    pub depth: usize,
    /// Brackets offered as alternatives (`[A] / [B]`) share a group number.
    pub alternatives: Option<usize>,
}

/// A bracket that does not pair up.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
pub struct BracketProblem {
    pub paragraph: usize,
    /// Where, in characters.
    pub offset: usize,
    pub message: String,
}

/// What a text's brackets are.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, ToSchema)]
pub struct Brackets {
    /// In order of their opening bracket.
    pub open: Vec<Bracket>,
    pub problems: Vec<BracketProblem>,
    /// No brackets and no problems: the text may go to final reading, objections or writing.
    pub clean: bool,
}

impl Brackets {
    /// A one-line summary for an error message: "3 open brackets (¶2: [at least once …]; …)".
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = self
            .open
            .iter()
            .filter(|b| b.depth == 0)
            .map(|b| {
                let short: String = b.text.chars().take(60).collect();
                let more = if b.text.chars().count() > 60 { "…" } else { "" };
                format!("¶{}: {short}{more}", b.paragraph)
            })
            .collect();
        parts.extend(self.problems.iter().map(|p| format!("¶{}: {}", p.paragraph, p.message)));
        format!("{} open bracket(s), {} problem(s): {}", self.open.len(), self.problems.len(), parts.join("; "))
    }
}

/// Reads the brackets of `text`.
pub fn parse(text: &str) -> Brackets {
    let chars: Vec<char> = text.chars().collect();
    let mut open: Vec<Bracket> = Vec::new();
    let mut problems = Vec::new();
    // Indices into `open` of the brackets not yet closed, innermost last.
    let mut stack: Vec<(usize, usize)> = Vec::new();
    let mut paragraph = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' && chars.get(i + 1) == Some(&'\n') {
            // A blank line (or several) starts the next paragraph.
            while chars.get(i + 1) == Some(&'\n') {
                i += 1;
            }
            paragraph += 1;
        } else if c == '[' {
            stack.push((open.len(), paragraph));
            open.push(Bracket {
                paragraph,
                start: i,
                end: i,
                text: String::new(),
                depth: stack.len() - 1,
                alternatives: None,
            });
        } else if c == ']' {
            match stack.pop() {
                Some((index, _)) => {
                    let b = &mut open[index];
                    b.end = i + 1;
                    b.text = chars[b.start..=i].iter().collect();
                }
                None => problems.push(BracketProblem {
                    paragraph,
                    offset: i,
                    message: "a closing bracket ] without an opening one".into(),
                }),
            }
        }
        i += 1;
    }
    for (index, para) in stack.into_iter().rev() {
        problems.push(BracketProblem {
            paragraph: para,
            offset: open[index].start,
            message: "an opening bracket [ that is never closed".into(),
        });
    }
    // Unclosed brackets are problems, not passages.
    open.retain(|b| b.end > b.start);
    group_alternatives(&mut open, &chars);
    problems.sort_by_key(|p| p.offset);
    let clean = open.is_empty() && problems.is_empty();
    Brackets { open, problems, clean }
}

/// Marks runs of same-depth brackets joined by nothing but ` / ` as alternatives.
fn group_alternatives(open: &mut [Bracket], chars: &[char]) {
    let mut group = 0;
    for i in 1..open.len() {
        // Find the previous bracket at the same depth that ends before this one starts.
        let Some(j) = (0..i).rev().find(|&j| open[j].depth == open[i].depth && open[j].end <= open[i].start) else {
            continue;
        };
        let between: String = chars[open[j].end..open[i].start].iter().collect();
        if between.trim() == "/" {
            let g = match open[j].alternatives {
                Some(g) => g,
                None => {
                    group += 1;
                    open[j].alternatives = Some(group);
                    group
                }
            };
            open[i].alternatives = Some(g);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_is_clean() {
        let b = parse("Decides:\n\n1. Every Participant shall receive a review visit.");
        assert!(b.clean && b.open.is_empty());
    }

    #[test]
    fn brackets_nesting_and_alternatives() {
        let text = "Preamble.\n\n1. A visit [at least once every three years] / [within five years].\n\n2. Team of [up to [five] experts].";
        let b = parse(text);
        assert!(!b.clean);
        let texts: Vec<(&str, usize, usize)> = b.open.iter().map(|x| (x.text.as_str(), x.paragraph, x.depth)).collect();
        assert_eq!(
            texts,
            vec![
                ("[at least once every three years]", 2, 0),
                ("[within five years]", 2, 0),
                ("[up to [five] experts]", 3, 0),
                ("[five]", 3, 1),
            ]
        );
        assert_eq!(b.open[0].alternatives, b.open[1].alternatives);
        assert!(b.open[0].alternatives.is_some() && b.open[2].alternatives.is_none());
    }

    #[test]
    fn stray_and_unclosed_brackets_are_problems() {
        let b = parse("One ] two.\n\nThree [ four.");
        assert_eq!(b.problems.len(), 2);
        assert_eq!((b.problems[0].paragraph, b.problems[0].offset), (1, 4));
        assert!(b.problems[1].message.contains("never closed") && b.problems[1].paragraph == 2);
        assert!(!b.clean && b.open.is_empty());
        assert!(parse("]]]][[[").problems.len() == 7);
    }
}
