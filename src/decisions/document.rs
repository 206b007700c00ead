//! A published document — a decision, a meeting's report — assembled once as headings,
//! paragraphs and list items, then rendered as Markdown, as a print-ready HTML page, or as a PDF
//! (`super::pdf`). Every format shows the same content, because each is rendered from the same
//! [`Document`]. Nothing a delegate wrote is ever interpreted as markup: in HTML every text is
//! escaped, in Markdown it is kept as written.

use std::fmt::Write as _;

use super::model::{Decision, DecisionLink, Procedure, RelationKind};

/// The content of a published document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// What the document is called (the HTML page's title, the PDF's title and footer).
    pub title: String,
    pub blocks: Vec<Block>,
}

/// One part of a document, in reading order.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A heading of level 1 (the document's own) to 3.
    Heading { level: u8, text: String },
    /// A paragraph; a single newline in it is a line break.
    Paragraph(String),
    /// A paragraph set apart: the circumstances of a text (when and how it was adopted).
    Note(String),
    /// A list, nested by each item's depth.
    List(Vec<ListItem>),
}

/// An item of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct ListItem {
    /// 0 for the outermost list, 1 for a list within one of its items, …
    pub depth: usize,
    /// What stands before the item (`1.2.`); a bullet when `None`.
    pub marker: Option<String>,
    /// Words set in bold before the text (`Botswana`: …).
    pub lead: Option<String>,
    pub text: String,
}

impl ListItem {
    /// A bulleted item.
    pub fn bullet(text: impl Into<String>) -> Self {
        Self { depth: 0, marker: None, lead: None, text: text.into() }
    }
}

/// A list item with the items nested under it (see [`nest`]).
#[derive(Debug, PartialEq)]
pub struct Entry<'a> {
    /// The item's position in the flat list.
    pub index: usize,
    pub item: &'a ListItem,
    pub children: Vec<Entry<'a>>,
}

/// Nests a flat list by depth: each item takes the deeper items that follow it as children. An
/// item shallower than the first is treated as the first's sibling, so no input is lost.
pub fn nest(items: &[ListItem]) -> Vec<Entry<'_>> {
    nest_from(items, 0)
}

fn nest_from(items: &[ListItem], offset: usize) -> Vec<Entry<'_>> {
    let Some(first) = items.first() else { return Vec::new() };
    let base = first.depth;
    let mut out = Vec::new();
    let mut i = 0;
    while i < items.len() {
        let depth = base.max(items[i].depth);
        let end = i + 1 + items[i + 1..].iter().take_while(|c| c.depth > depth).count();
        out.push(Entry { index: offset + i, item: &items[i], children: nest_from(&items[i + 1..end], offset + i + 1) });
        i = end;
    }
    out
}

/// The paragraphs of a text: the runs of lines between blank lines, each trimmed at its end.
pub fn paragraphs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                out.push(current.join("\n"));
                current.clear();
            }
        } else {
            current.push(line.trim_end());
        }
    }
    if !current.is_empty() {
        out.push(current.join("\n"));
    }
    out
}

impl Document {
    /// An empty document called `title`.
    pub fn new(title: impl Into<String>) -> Self {
        Self { title: title.into(), blocks: Vec::new() }
    }

    /// Adds a heading.
    pub fn heading(&mut self, level: u8, text: impl Into<String>) {
        self.blocks.push(Block::Heading { level: level.clamp(1, 3), text: text.into() });
    }

    /// Adds a paragraph.
    pub fn paragraph(&mut self, text: impl Into<String>) {
        self.blocks.push(Block::Paragraph(text.into()));
    }

    /// Adds a note.
    pub fn note(&mut self, text: impl Into<String>) {
        self.blocks.push(Block::Note(text.into()));
    }

    /// Adds each paragraph of a text (a decision's, a delegate's).
    pub fn text(&mut self, text: &str) {
        for p in paragraphs(text) {
            self.blocks.push(Block::Paragraph(p));
        }
    }

    /// Adds a list (nothing when it has no item).
    pub fn list(&mut self, items: Vec<ListItem>) {
        if !items.is_empty() {
            self.blocks.push(Block::List(items));
        }
    }

    /// The document in Markdown.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        for block in &self.blocks {
            match block {
                Block::Heading { level, text } => {
                    let _ = writeln!(out, "{} {text}\n", "#".repeat(usize::from(*level)));
                }
                Block::Paragraph(text) => {
                    let _ = writeln!(out, "{}\n", text.trim_end());
                }
                Block::Note(text) => {
                    let _ = writeln!(out, "*{}*\n", text.trim());
                }
                Block::List(items) => {
                    for item in items {
                        let marker = item.marker.as_deref().unwrap_or("-");
                        let lead = item.lead.as_ref().map(|l| format!("**{l}**: ")).unwrap_or_default();
                        let _ = writeln!(out, "{}{marker} {lead}{}", "   ".repeat(item.depth), item.text);
                    }
                    out.push('\n');
                }
            }
        }
        let len = out.trim_end().len();
        out.truncate(len);
        out.push('\n');
        out
    }

    /// The document as a complete, print-ready HTML page.
    pub fn html(&self) -> String {
        let mut body = String::new();
        for block in &self.blocks {
            match block {
                Block::Heading { level, text } => {
                    let _ = writeln!(body, "<h{level}>{}</h{level}>", escape(text));
                }
                Block::Paragraph(text) => {
                    let _ = writeln!(body, "<p>{}</p>", escape(text.trim()).replace('\n', "<br>\n"));
                }
                Block::Note(text) => {
                    let _ = writeln!(body, "<p class=\"note\">{}</p>", escape(text.trim()));
                }
                Block::List(items) => list_html(&nest(items), &mut body),
            }
        }
        page(&self.title, &body)
    }
}

fn list_html(entries: &[Entry<'_>], out: &mut String) {
    let numbered = entries.first().is_some_and(|e| e.item.marker.is_some());
    out.push_str(if numbered { "<ol class=\"numbered\">\n" } else { "<ul>\n" });
    for e in entries {
        out.push_str("<li>");
        if let Some(m) = &e.item.marker {
            let _ = write!(out, "<span class=\"marker\">{}</span> ", escape(m));
        }
        if let Some(lead) = &e.item.lead {
            let _ = write!(out, "<strong>{}</strong>: ", escape(lead));
        }
        out.push_str(&escape(&e.item.text));
        if !e.children.is_empty() {
            out.push('\n');
            list_html(&e.children, out);
        }
        out.push_str("</li>\n");
    }
    out.push_str(if numbered { "</ol>\n" } else { "</ul>\n" });
}

/// Escapes text for HTML content and double-quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// The print-ready page around `body` (already HTML): A4 margins, headings kept with what
/// follows, no orphan lines, readable on a screen too.
fn page(title: &str, body: &str) -> String {
    const CSS: &str = "body{font-family:Georgia,'DejaVu Serif',serif;max-width:46em;margin:2em auto;padding:0 1em;\
line-height:1.5;color:#111;background:#fff}\
h1,h2,h3{font-family:'DejaVu Sans',Arial,sans-serif;line-height:1.25;break-after:avoid}\
h1{font-size:1.6em}h2{font-size:1.3em;margin-top:1.6em}h3{font-size:1.1em}\
p,li{orphans:3;widows:3}.note{font-style:italic;color:#333}\
ul,ol{padding-left:1.6em}ol.numbered{list-style:none;padding-left:0}ol.numbered ol.numbered{padding-left:1.6em}\
.marker{display:inline-block;min-width:2.2em}\
@page{size:A4;margin:2cm}\
@media print{body{margin:0;padding:0;max-width:none;font-size:11pt}a{color:inherit}}";
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{}</title>\n<style>{CSS}</style></head><body>\n<main>\n{body}</main>\n</body></html>\n",
        escape(title)
    )
}

/// A file name for a download: the ASCII letters, digits, `.` and `_` of `stem`, other runs of
/// characters made one `-` (`AD 2007/03` → `AD-2007-03.pdf`); `fallback` if nothing is left.
pub fn file_name(stem: &str, fallback: &str, extension: &str) -> String {
    let mut name = String::new();
    for c in stem.chars() {
        if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
            name.push(c);
        } else if !name.is_empty() && !name.ends_with('-') {
            name.push('-');
        }
    }
    let name = name.trim_matches(|c| c == '-' || c == '.');
    let name = if name.is_empty() { fallback } else { name };
    format!("{name}.{extension}")
}

fn procedure(p: Procedure) -> &'static str {
    match p {
        Procedure::Consensus => "consensus",
        Procedure::Written => "written procedure",
    }
}

fn link(l: &DecisionLink, earlier: bool) -> ListItem {
    let verb = match (l.kind, earlier) {
        (RelationKind::Amends, true) => "Amends",
        (RelationKind::Repeals, true) => "Repeals",
        (RelationKind::Amends, false) => "Amended by",
        (RelationKind::Repeals, false) => "Repealed by",
    };
    ListItem::bullet(format!("{verb} {} — {}", l.number, l.title))
}

/// A decision as published: its number and title, when and how it was adopted, what it amends
/// or repeals, its text, and what has amended or repealed it since.
pub fn decision(d: &Decision) -> Document {
    let mut doc = Document::new(format!("{} — {}", d.number, d.title));
    doc.heading(1, format!("{} — {}", d.number, d.title));
    doc.note(format!("Adopted {} by {}.", d.adopted_at.format("%-d %B %Y"), procedure(d.procedure)));
    if !d.relates_to.is_empty() {
        doc.heading(2, "Amends or repeals");
        doc.list(d.relates_to.iter().map(|l| link(l, true)).collect());
    }
    doc.heading(2, "Text");
    doc.text(&d.text);
    if !d.related_by.is_empty() {
        doc.heading(2, "Amended or repealed by");
        doc.list(d.related_by.iter().map(|l| link(l, false)).collect());
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(depth: usize, text: &str) -> ListItem {
        ListItem { depth, marker: Some(format!("{text}.")), lead: None, text: text.into() }
    }

    #[test]
    fn html_escapes_what_delegates_wrote() {
        let mut doc = Document::new("A <b>report</b>");
        doc.heading(1, "Report");
        doc.paragraph("A <script>alert(1)</script> & \"more\"\nsecond line");
        doc.heading(2, "Decisions");
        doc.list(vec![ListItem { lead: Some("<i>Org</i>".into()), ..ListItem::bullet("x < y") }]);
        let page = doc.html();
        assert!(page.contains("<h1>Report</h1>") && page.contains("<h2>Decisions</h2>"), "{page}");
        assert!(page.contains("&lt;script&gt;") && !page.contains("<script>"), "{page}");
        assert!(page.contains("&amp; &quot;more&quot;<br>\nsecond line"), "{page}");
        assert!(page.contains("<title>A &lt;b&gt;report&lt;/b&gt;</title>"), "{page}");
        assert!(page.contains("<li><strong>&lt;i&gt;Org&lt;/i&gt;</strong>: x &lt; y</li>"), "{page}");
        assert!(page.starts_with("<!doctype html>\n<html lang=\"en\">") && page.contains("@page{size:A4"));
    }

    #[test]
    fn lists_nest_by_depth_in_html_and_markdown() {
        let mut doc = Document::new("Agenda");
        doc.list(vec![item(0, "1"), item(1, "1.1"), item(1, "1.2"), item(0, "2")]);
        let html = doc.html();
        assert!(
            html.contains(
                "<ol class=\"numbered\">\n<li><span class=\"marker\">1.</span> 1\n<ol class=\"numbered\">\n\
<li><span class=\"marker\">1.1.</span> 1.1</li>\n<li><span class=\"marker\">1.2.</span> 1.2</li>\n</ol>\n</li>\n\
<li><span class=\"marker\">2.</span> 2</li>\n</ol>"
            ),
            "{html}"
        );
        assert_eq!(doc.markdown(), "1. 1\n   1.1. 1.1\n   1.2. 1.2\n2. 2\n");
    }

    #[test]
    fn nesting_keeps_every_item_even_when_depths_jump() {
        let items = vec![item(1, "a"), item(0, "b"), item(2, "c"), item(0, "d")];
        let nested = nest(&items);
        assert_eq!(nested.len(), 3);
        assert_eq!(nested[1].item.text, "b");
        assert_eq!(nested[1].children[0].item.text, "c");
        assert_eq!((nested[1].index, nested[1].children[0].index, nested[2].index), (1, 2, 3));
        assert!(nest(&[]).is_empty());
    }

    #[test]
    fn paragraphs_are_split_on_blank_lines() {
        let text = "The Working Group,\n\n  \nDecides:\r\n\r\n1. A visit\n   continued.  \n\n";
        assert_eq!(paragraphs(text), vec!["The Working Group,", "Decides:", "1. A visit\n   continued."]);
    }

    #[test]
    fn markdown_of_every_block() {
        let mut doc = Document::new("t");
        doc.heading(1, "KP: Brussels Plenary 2007");
        doc.note("Adopted 2 June 2025 by consensus.");
        doc.text("One.\n\nTwo.");
        doc.list(vec![ListItem { lead: Some("Botswana".into()), ..ListItem::bullet("Kabo Molefe") }]);
        doc.list(vec![]);
        assert_eq!(
            doc.markdown(),
            "# KP: Brussels Plenary 2007\n\n*Adopted 2 June 2025 by consensus.*\n\nOne.\n\nTwo.\n\n- **Botswana**: Kabo Molefe\n"
        );
    }

    #[test]
    fn file_names_are_plain_ascii() {
        assert_eq!(file_name("AD 2007/03", "decision-1", "pdf"), "AD-2007-03.pdf");
        assert_eq!(file_name("“Côte d’Ivoire” — 2007", "x", "pdf"), "C-te-d-Ivoire-2007.pdf");
        assert_eq!(file_name("——", "decision-7", "pdf"), "decision-7.pdf");
        assert_eq!(file_name("../..", "decision-7", "pdf"), "decision-7.pdf");
    }
}
