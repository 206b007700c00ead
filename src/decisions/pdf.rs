//! A [`Document`] as a PDF: A4 pages, the words of each paragraph and list item wrapped to the
//! width of the text, headings kept with what follows them, a new page whenever one is full, and
//! "Page n of N" in each footer. The text is real text in embedded, subset DejaVu fonts (so
//! every character of the demo — é, ô, ’, —, “ ” — renders, and the text can be searched and
//! copied), tagged (headings, paragraphs, lists) for screen readers, with an outline of the
//! headings. Layout ([`lay_out`]) is pure and tested with a fixed-width measure; [`render`]
//! only draws what it placed.

use std::collections::HashMap;
use std::num::NonZeroU16;

use krilla::color::rgb;
use krilla::destination::XyzDestination;
use krilla::geom::Point;
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::outline::{Outline, OutlineNode};
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::tagging::{
    Artifact, ArtifactType, ContentTag, Identifier, ListNumbering, Node, SpanTag, Tag, TagGroup, TagTree,
};
use krilla::text::{Font, TextDirection};
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

use super::document::{Block, Document, Entry, nest};
use crate::error::Error;

// DejaVu Sans and DejaVu Sans Bold 2.37 (Debian's fonts-dejavu-core), under the Bitstream Vera
// licence — free to copy, embed and redistribute; DejaVu's changes are in the public domain. The
// licence is in assets/fonts/LICENSE. Only the glyphs a document uses are embedded (subset).
static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// A4, in points.
const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
/// The text block: left and right margins, the top of the first line, the bottom of the last.
const MARGIN: f32 = 64.0;
const TOP: f32 = 64.0;
const BOTTOM: f32 = PAGE_HEIGHT - 72.0;
const FOOTER_BASELINE: f32 = PAGE_HEIGHT - 40.0;
const FOOTER_SIZE: f32 = 8.5;
/// How far each level of a list is indented, and the least room between a marker and its text.
const INDENT: f32 = 18.0;
const LABEL_GAP: f32 = 5.0;
/// Lists deeper than this are drawn at this depth, so a line always has room for words.
const MAX_DEPTH: usize = 8;
const BODY: Style = Style { face: Face::Regular, size: 10.5, leading: 14.5, before: 0.0, after: 7.0, grey: false };

/// The two faces of the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Face {
    Regular,
    Bold,
}

/// How the lines of a block are set.
#[derive(Debug, Clone, Copy)]
struct Style {
    face: Face,
    size: f32,
    /// The height of a line.
    leading: f32,
    /// Space above the block (not at the top of a page) and below it.
    before: f32,
    after: f32,
    grey: bool,
}

fn style_of(block: &Block) -> Style {
    match block {
        Block::Heading { level: 1, .. } => {
            Style { face: Face::Bold, size: 17.0, leading: 21.0, before: 0.0, after: 10.0, grey: false }
        }
        Block::Heading { level: 2, .. } => {
            Style { face: Face::Bold, size: 13.5, leading: 17.0, before: 12.0, after: 5.0, grey: false }
        }
        Block::Heading { .. } => {
            Style { face: Face::Bold, size: 11.5, leading: 15.0, before: 8.0, after: 4.0, grey: false }
        }
        Block::Note(_) => Style { grey: true, ..BODY },
        Block::Paragraph(_) | Block::List(_) => BODY,
    }
}

/// How wide a text is when set in a face and size, in points.
pub trait Measure {
    fn width(&self, text: &str, face: Face, size: f32) -> f32;
}

/// Part of a line, in one face: `dx` from the line's start.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub dx: f32,
    pub face: Face,
    pub text: String,
}

/// Wraps words (each in its face) into lines no wider than `width`, words separated by one
/// space; a word wider than a whole line is cut where the line ends.
pub fn wrap(words: &[(Face, &str)], width: f32, size: f32, m: &dyn Measure) -> Vec<Vec<Run>> {
    let mut lines = Vec::new();
    let mut line: Vec<Run> = Vec::new();
    let mut x = 0.0;
    for &(face, word) in words {
        for piece in cut(word, face, width, size, m) {
            let w = m.width(&piece, face, size);
            if line.is_empty() {
                line.push(Run { dx: 0.0, face, text: piece });
                x = w;
                continue;
            }
            let space = m.width(" ", face, size);
            if x + space + w > width + 0.01 {
                lines.push(std::mem::take(&mut line));
                line.push(Run { dx: 0.0, face, text: piece });
                x = w;
                continue;
            }
            match line.last_mut() {
                Some(last) if last.face == face => {
                    last.text.push(' ');
                    last.text.push_str(&piece);
                }
                _ => line.push(Run { dx: x, face, text: format!(" {piece}") }),
            }
            x += space + w;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// A word in pieces that each fit in `width` (at least one character each).
fn cut(word: &str, face: Face, width: f32, size: f32, m: &dyn Measure) -> Vec<String> {
    if m.width(word, face, size) <= width {
        return vec![word.to_string()];
    }
    let mut pieces = Vec::new();
    let mut piece = String::new();
    for c in word.chars() {
        piece.push(c);
        if piece.chars().count() > 1 && m.width(&piece, face, size) > width {
            piece.pop();
            pieces.push(std::mem::take(&mut piece));
            piece.push(c);
        }
    }
    if !piece.is_empty() {
        pieces.push(piece);
    }
    pieces
}

/// The words of a text, without control characters (a stray one would draw as a box).
fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| w.chars().filter(|c| !c.is_control()).collect::<String>())
        .filter(|w| !w.is_empty())
        .collect()
}

/// What a piece of text belongs to, for the tag tree: a block, or a list item's label or body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    Block(usize),
    Label(usize, usize),
    Body(usize, usize),
}

/// Text placed on a page: `x` and the baseline `y` from the page's top left corner, in points.
/// Without a part it is an artifact (the footer), outside the document's structure.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub x: f32,
    pub y: f32,
    pub size: f32,
    pub face: Face,
    pub grey: bool,
    pub text: String,
    pub part: Option<Part>,
}

/// A heading's place, for the outline.
#[derive(Debug, Clone, PartialEq)]
pub struct Anchor {
    pub level: u8,
    pub text: String,
    pub page: usize,
    pub y: f32,
}

/// Every page's pieces, and where the headings are.
#[derive(Debug, Default)]
pub struct Layout {
    pub pages: Vec<Vec<Piece>>,
    pub anchors: Vec<Anchor>,
}

/// Places lines down the pages.
struct Cursor {
    layout: Layout,
    /// The top of the next line.
    y: f32,
    /// Nothing placed on this page yet.
    fresh: bool,
}

impl Cursor {
    fn new() -> Self {
        Self { layout: Layout { pages: vec![Vec::new()], anchors: Vec::new() }, y: TOP, fresh: true }
    }

    fn new_page(&mut self) {
        self.layout.pages.push(Vec::new());
        self.y = TOP;
        self.fresh = true;
    }

    /// Space above a block, unless it starts a page; then a new page if `height` does not fit.
    fn start_block(&mut self, before: f32, height: f32) {
        if !self.fresh {
            self.y += before;
            if self.y + height > BOTTOM {
                self.new_page();
            }
        }
    }

    /// Places one line of runs starting at `x`; returns its baseline.
    fn line(&mut self, x: f32, runs: Vec<Run>, style: Style, part: Part) -> f32 {
        if self.y + style.leading > BOTTOM && !self.fresh {
            self.new_page();
        }
        let baseline = self.y + style.leading * 0.78;
        for run in runs {
            self.piece(Piece {
                x: x + run.dx,
                y: baseline,
                size: style.size,
                face: run.face,
                grey: style.grey,
                text: run.text,
                part: Some(part),
            });
        }
        self.y += style.leading;
        baseline
    }

    fn piece(&mut self, piece: Piece) {
        self.fresh = false;
        if let Some(page) = self.layout.pages.last_mut() {
            page.push(piece);
        }
    }

    fn page_index(&self) -> usize {
        self.layout.pages.len().saturating_sub(1)
    }
}

/// Lays a document out on A4 pages, with the footers.
pub fn lay_out(doc: &Document, m: &dyn Measure) -> Layout {
    let width = PAGE_WIDTH - 2.0 * MARGIN;
    let mut c = Cursor::new();
    for (b, block) in doc.blocks.iter().enumerate() {
        let style = style_of(block);
        match block {
            Block::Heading { level, text } => {
                let w = words(text);
                let lines = wrap(&w.iter().map(|w| (style.face, w.as_str())).collect::<Vec<_>>(), width, style.size, m);
                // Kept with the first two lines of what follows.
                c.start_block(style.before, lines.len() as f32 * style.leading + style.after + 2.0 * BODY.leading);
                let (page, y) = (c.page_index(), c.y);
                for line in lines {
                    c.line(MARGIN, line, style, Part::Block(b));
                }
                c.layout.anchors.push(Anchor { level: *level, text: text.clone(), page, y });
                c.y += style.after;
            }
            Block::Paragraph(text) | Block::Note(text) => {
                let lines: Vec<Vec<Run>> = text
                    .lines()
                    .flat_map(|l| {
                        let w = words(l);
                        wrap(&w.iter().map(|w| (style.face, w.as_str())).collect::<Vec<_>>(), width, style.size, m)
                    })
                    .collect();
                if lines.is_empty() {
                    continue;
                }
                // No paragraph starts with its last line alone at the foot of a page.
                c.start_block(style.before, lines.len().min(2) as f32 * style.leading);
                for line in lines {
                    c.line(MARGIN, line, style, Part::Block(b));
                }
                c.y += style.after;
            }
            Block::List(items) => {
                c.start_block(style.before, style.leading);
                for (i, item) in items.iter().enumerate() {
                    let x0 = MARGIN + item.depth.min(MAX_DEPTH) as f32 * INDENT;
                    let label = item.marker.clone().unwrap_or_else(|| "•".into());
                    let text_x = x0 + (m.width(&label, style.face, style.size) + LABEL_GAP).max(14.0);
                    let lead = item.lead.as_deref().map(|l| words(&format!("{l}:"))).unwrap_or_default();
                    let text = words(&item.text);
                    let w: Vec<(Face, &str)> = lead
                        .iter()
                        .map(|w| (Face::Bold, w.as_str()))
                        .chain(text.iter().map(|w| (style.face, w.as_str())))
                        .collect();
                    let lines = wrap(&w, PAGE_WIDTH - MARGIN - text_x, style.size, m);
                    c.start_block(0.0, lines.len().clamp(1, 2) as f32 * style.leading);
                    if c.y + style.leading > BOTTOM && !c.fresh {
                        c.new_page();
                    }
                    let baseline = c.y + style.leading * 0.78;
                    c.piece(Piece {
                        x: x0,
                        y: baseline,
                        size: style.size,
                        face: style.face,
                        grey: style.grey,
                        text: label,
                        part: Some(Part::Label(b, i)),
                    });
                    if lines.is_empty() {
                        c.y += style.leading;
                    }
                    for line in lines {
                        c.line(text_x, line, style, Part::Body(b, i));
                    }
                    c.y += 2.5;
                }
                c.y += style.after;
            }
        }
    }
    footers(&mut c.layout, &doc.title, m);
    c.layout
}

/// The document's title on the left of each footer (shortened if need be), "Page n of N" on
/// the right.
fn footers(layout: &mut Layout, title: &str, m: &dyn Measure) {
    let total = layout.pages.len();
    for (n, page) in layout.pages.iter_mut().enumerate() {
        let number = format!("Page {} of {total}", n + 1);
        let number_width = m.width(&number, Face::Regular, FOOTER_SIZE);
        let room = PAGE_WIDTH - 2.0 * MARGIN - number_width - 24.0;
        let footer = |x: f32, text: String| Piece {
            x,
            y: FOOTER_BASELINE,
            size: FOOTER_SIZE,
            face: Face::Regular,
            grey: true,
            text,
            part: None,
        };
        let title = shorten(&words(title).join(" "), room, m);
        if !title.is_empty() {
            page.push(footer(MARGIN, title));
        }
        page.push(footer(PAGE_WIDTH - MARGIN - number_width, number));
    }
}

/// `text`, cut and ended with "…" if it is wider than `width`.
fn shorten(text: &str, width: f32, m: &dyn Measure) -> String {
    if m.width(text, Face::Regular, FOOTER_SIZE) <= width {
        return text.to_string();
    }
    let mut out: String = text.to_string();
    while !out.is_empty() && m.width(&format!("{out}…"), Face::Regular, FOOTER_SIZE) > width {
        out.pop();
    }
    let out = out.trim_end();
    if out.is_empty() { String::new() } else { format!("{out}…") }
}

/// The embedded fonts: for krilla to draw and subset, for skrifa to measure.
struct Fonts {
    regular: (Font, FontRef<'static>),
    bold: (Font, FontRef<'static>),
}

impl Fonts {
    fn load() -> Result<Self, Error> {
        let load = |data: &'static [u8]| -> Result<(Font, FontRef<'static>), Error> {
            let font = Font::new(data.into(), 0)
                .ok_or_else(|| Error::internal(anyhow::anyhow!("an embedded font is unreadable")))?;
            let measured = FontRef::new(data)
                .map_err(|e| Error::internal(anyhow::anyhow!("an embedded font is unreadable: {e}")))?;
            Ok((font, measured))
        };
        Ok(Self { regular: load(REGULAR)?, bold: load(BOLD)? })
    }

    fn get(&self, face: Face) -> &(Font, FontRef<'static>) {
        match face {
            Face::Regular => &self.regular,
            Face::Bold => &self.bold,
        }
    }
}

impl Measure for Fonts {
    fn width(&self, text: &str, face: Face, size: f32) -> f32 {
        let font = &self.get(face).1;
        let metrics = font.glyph_metrics(Size::new(size), LocationRef::default());
        let charmap = font.charmap();
        text.chars().map(|c| metrics.advance_width(charmap.map(c).unwrap_or_default()).unwrap_or(0.0)).sum()
    }
}

/// The document as a PDF file.
pub fn render(doc: &Document) -> Result<Vec<u8>, Error> {
    let fonts = Fonts::load()?;
    let layout = lay_out(doc, &fonts);
    let mut pdf = krilla::Document::new();
    let mut ids: HashMap<Part, Vec<Identifier>> = HashMap::new();
    for pieces in &layout.pages {
        let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT)
            .ok_or_else(|| Error::internal(anyhow::anyhow!("invalid page size")))?;
        let mut page = pdf.start_page_with(settings);
        let mut surface = page.surface();
        for piece in pieces {
            let grey = if piece.grey { 0x44 } else { 0x11 };
            surface.set_fill(Some(Fill {
                paint: rgb::Color::new(grey, grey, grey).into(),
                opacity: NormalizedF32::ONE,
                rule: Default::default(),
            }));
            let tag = match piece.part {
                Some(_) => ContentTag::Span(SpanTag::empty()),
                None => ContentTag::Artifact(Artifact::with_kind(ArtifactType::PageNumber)),
            };
            let id = surface.start_tagged(tag);
            surface.draw_text(
                Point::from_xy(piece.x, piece.y),
                fonts.get(piece.face).0.clone(),
                piece.size,
                &piece.text,
                false,
                TextDirection::Auto,
            );
            surface.end_tagged();
            if let Some(part) = piece.part {
                ids.entry(part).or_default().push(id);
            }
        }
        surface.finish();
        page.finish();
    }
    pdf.set_tag_tree(tag_tree(doc, &mut ids));
    let mut outline = Outline::new();
    for node in outline_nodes(&layout.anchors) {
        outline.push_child(node);
    }
    pdf.set_outline(outline);
    pdf.set_metadata(
        Metadata::new()
            .title(doc.title.clone())
            .language("en".into())
            .creator("Plenum".into())
            .producer("Plenum".into()),
    );
    pdf.finish().map_err(|e| Error::internal(anyhow::anyhow!("the PDF could not be written: {e:?}")))
}

/// The structure of the document: each block's group with the pieces drawn for it.
fn tag_tree(doc: &Document, ids: &mut HashMap<Part, Vec<Identifier>>) -> TagTree {
    let mut tree = TagTree::new().with_lang(Some("en".into()));
    for (b, block) in doc.blocks.iter().enumerate() {
        let leaves = |ids: &mut HashMap<Part, Vec<Identifier>>, part| -> Vec<Node> {
            ids.remove(&part).unwrap_or_default().into_iter().map(Node::from).collect()
        };
        match block {
            Block::Heading { level, .. } => {
                let level = NonZeroU16::new(u16::from(*level)).unwrap_or(NonZeroU16::MIN);
                tree.push(TagGroup::with_children(Tag::Hn(level, None), leaves(ids, Part::Block(b))));
            }
            Block::Paragraph(_) | Block::Note(_) => {
                tree.push(TagGroup::with_children(Tag::P, leaves(ids, Part::Block(b))));
            }
            Block::List(items) => tree.push(list_group(b, &nest(items), ids)),
        }
    }
    tree
}

fn list_group(b: usize, entries: &[Entry<'_>], ids: &mut HashMap<Part, Vec<Identifier>>) -> TagGroup {
    let numbering = if entries.first().is_some_and(|e| e.item.marker.is_some()) {
        ListNumbering::Decimal
    } else {
        ListNumbering::Disc
    };
    let mut list = TagGroup::new(Tag::L(numbering));
    for e in entries {
        let take = |ids: &mut HashMap<Part, Vec<Identifier>>, part| -> Vec<Node> {
            ids.remove(&part).unwrap_or_default().into_iter().map(Node::from).collect()
        };
        let mut body = TagGroup::with_children(Tag::LBody, take(ids, Part::Body(b, e.index)));
        if !e.children.is_empty() {
            body.push(list_group(b, &e.children, ids));
        }
        let label = TagGroup::with_children(Tag::Lbl, take(ids, Part::Label(b, e.index)));
        list.push(TagGroup::with_children(Tag::LI, vec![label.into(), body.into()]));
    }
    list
}

/// The outline: each heading with the deeper headings after it as children.
fn outline_nodes(anchors: &[Anchor]) -> Vec<OutlineNode> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < anchors.len() {
        let a = &anchors[i];
        let end = i + 1 + anchors[i + 1..].iter().take_while(|c| c.level > a.level).count();
        let mut node =
            OutlineNode::new(a.text.clone(), XyzDestination::new(a.page, Point::from_xy(MARGIN, a.y))).with_open(true);
        for child in outline_nodes(&anchors[i + 1..end]) {
            node.push_child(child);
        }
        out.push(node);
        i = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decisions::document::ListItem;

    /// Every character 5 points wide at any size, in either face.
    struct Fixed;
    impl Measure for Fixed {
        fn width(&self, text: &str, _: Face, _: f32) -> f32 {
            text.chars().count() as f32 * 5.0
        }
    }

    fn regular(text: &str) -> Vec<(Face, &str)> {
        text.split_whitespace().map(|w| (Face::Regular, w)).collect()
    }

    fn texts(lines: &[Vec<Run>]) -> Vec<String> {
        lines.iter().map(|l| l.iter().map(|r| r.text.as_str()).collect()).collect()
    }

    #[test]
    fn words_wrap_at_the_width() {
        let lines = wrap(&regular("aaa bbb ccc dd e"), 35.0, 10.0, &Fixed);
        assert_eq!(texts(&lines), vec!["aaa bbb", "ccc dd", "e"]);
        // Exactly the width fits.
        assert_eq!(texts(&wrap(&regular("aaaa bbb"), 40.0, 10.0, &Fixed)), vec!["aaaa bbb"]);
        assert!(wrap(&[], 40.0, 10.0, &Fixed).is_empty());
    }

    #[test]
    fn a_word_longer_than_a_line_is_cut() {
        let lines = wrap(&regular("ab abcdefghij c"), 20.0, 10.0, &Fixed);
        assert_eq!(texts(&lines), vec!["ab", "abcd", "efgh", "ij c"]);
    }

    #[test]
    fn faces_make_runs_with_their_offsets() {
        let words =
            vec![(Face::Bold, "Côte"), (Face::Bold, "d’Ivoire:"), (Face::Regular, "Awa"), (Face::Regular, "Koné")];
        let lines = wrap(&words, 200.0, 10.0, &Fixed);
        assert_eq!(
            lines,
            vec![vec![
                Run { dx: 0.0, face: Face::Bold, text: "Côte d’Ivoire:".into() },
                Run { dx: 70.0, face: Face::Regular, text: " Awa Koné".into() },
            ]]
        );
    }

    #[test]
    fn no_line_is_wider_than_the_text_block() {
        let text = "Every Participant shall receive a review visit at least once every three years — on its own \
invitation, “without delay” — and https://example.org/a/very/long/address/that/cannot/break/anywhere/at/all/ever";
        let lines = wrap(&regular(text), 120.0, 10.0, &Fixed);
        for line in &lines {
            let last = line.last().expect("a run");
            assert!(last.dx + Fixed.width(&last.text, last.face, 10.0) <= 120.0, "{line:?}");
        }
        let joined: String = texts(&lines).join("");
        assert_eq!(joined.replace(' ', ""), text.replace(' ', ""), "nothing is lost");
    }

    fn long_document(paragraphs: usize) -> Document {
        let mut doc = Document::new("AD 2025/01 — A long decision");
        doc.heading(1, "AD 2025/01 — A long decision");
        doc.note("Adopted 2 June 2025 by consensus.");
        for n in 1..=paragraphs {
            doc.heading(2, format!("Part {n}"));
            doc.paragraph(format!("{n}. {}", "The Working Group on Monitoring shall follow up. ".repeat(8)));
            doc.list(vec![ListItem::bullet("One item"), ListItem { depth: 1, ..ListItem::bullet("A sub-item") }]);
        }
        doc
    }

    #[test]
    fn long_texts_flow_over_pages_with_numbered_footers() {
        let layout = lay_out(&long_document(40), &Fixed);
        let total = layout.pages.len();
        assert!(total > 3, "{total} pages");
        for (n, page) in layout.pages.iter().enumerate() {
            let footer: Vec<&str> = page.iter().filter(|p| p.part.is_none()).map(|p| p.text.as_str()).collect();
            assert!(footer.contains(&format!("Page {} of {total}", n + 1).as_str()), "{footer:?}");
            for p in page.iter().filter(|p| p.part.is_some()) {
                assert!(p.y > TOP && p.y <= BOTTOM, "{p:?} outside the text block");
                assert!(p.x + Fixed.width(&p.text, p.face, p.size) <= PAGE_WIDTH - MARGIN + 0.01, "{p:?} too wide");
            }
            // Lines go down the page.
            let ys: Vec<f32> = page.iter().filter(|p| p.part.is_some()).map(|p| p.y).collect();
            assert!(ys.windows(2).all(|w| w[0] <= w[1]), "{ys:?}");
        }
        assert_eq!(layout.anchors.len(), 41);
        assert!(layout.anchors.last().is_some_and(|a| a.page == total - 1));
    }

    #[test]
    fn a_heading_is_never_the_last_line_of_a_page() {
        let doc = long_document(60);
        let layout = lay_out(&doc, &Fixed);
        for page in &layout.pages[..layout.pages.len() - 1] {
            let last = page.iter().rev().find(|p| p.part.is_some()).expect("text on every page");
            if let Some(Part::Block(b)) = last.part {
                assert!(!matches!(doc.blocks[b], Block::Heading { .. }), "{last:?} ends a page");
            }
        }
    }

    #[test]
    fn list_items_hang_after_their_marker() {
        let mut doc = Document::new("Agenda");
        doc.list(vec![
            ListItem { depth: 0, marker: Some("1.".into()), lead: None, text: "Opening ".repeat(30) },
            ListItem { depth: 1, marker: Some("1.1.".into()), lead: None, text: "Sub".into() },
        ]);
        let layout = lay_out(&doc, &Fixed);
        let page = &layout.pages[0];
        let label = page.iter().find(|p| p.part == Some(Part::Label(0, 0))).expect("label");
        let body: Vec<&Piece> = page.iter().filter(|p| p.part == Some(Part::Body(0, 0))).collect();
        assert_eq!(label.x, MARGIN);
        assert!(body.len() > 1 && body.iter().all(|p| p.x == body[0].x && p.x > label.x + 10.0), "{body:?}");
        let sub = page.iter().find(|p| p.part == Some(Part::Label(0, 1))).expect("sub-item label");
        assert_eq!(sub.x, MARGIN + INDENT);
    }

    #[test]
    fn long_titles_are_shortened_in_the_footer() {
        let title = "Brussels Plenary 2007 — ".repeat(10);
        let short = shorten(&title, 100.0, &Fixed);
        assert!(short.ends_with('…') && Fixed.width(&short, Face::Regular, FOOTER_SIZE) <= 100.0, "{short}");
        assert_eq!(shorten("Short", 100.0, &Fixed), "Short");
    }

    #[test]
    fn the_embedded_fonts_measure_and_render_non_ascii_text() {
        let fonts = Fonts::load().expect("fonts");
        let w = fonts.width("Côte d’Ivoire — “review”", Face::Regular, 10.0);
        assert!(w > 50.0 && w < 200.0, "{w}");
        assert!(fonts.width("ab", Face::Bold, 10.0) > fonts.width("ab", Face::Regular, 10.0));
        let pdf = render(&long_document(3)).expect("pdf");
        assert!(pdf.starts_with(b"%PDF-"));
        // Subset fonts: far smaller than the two fonts themselves (1.4 MB).
        assert!(pdf.len() < 120_000, "{} bytes", pdf.len());
        let empty = render(&Document::new("")).expect("an empty document is one page");
        assert!(empty.starts_with(b"%PDF-"));
    }
}
