// A small Markdown renderer that builds Preact elements, never HTML strings: whatever the text
// holds is shown as text (no raw HTML, no scripts), and links keep only http(s), mailto and
// same-site paths. It covers what recommendations and notes use: paragraphs, headings, lists,
// quotes, code, rules, emphasis, strong, inline code and links (bare URLs too).
import { h, type ComponentChildren } from 'preact';

/** An address safe to link to, or null. */
export function safeHref(raw: string): string | null {
  const url = raw.trim();
  if (/^https?:\/\/[^\s]+$/i.test(url) || /^mailto:[^\s]+$/i.test(url)) return url;
  if (url.startsWith('/') && !url.startsWith('//') && !url.startsWith('/\\')) return url;
  return null;
}

function link(href: string, children: ComponentChildren, key: number): ComponentChildren {
  const external = /^(https?:|mailto:)/i.test(href);
  return h('a', { key, href, rel: external ? 'noopener noreferrer external' : undefined }, children);
}

interface InlineRule {
  re: RegExp;
  make: (m: RegExpExecArray, key: number) => ComponentChildren;
}

const INLINE: InlineRule[] = [
  { re: /`([^`]+)`/, make: (m, key) => h('code', { key }, m[1]) },
  { re: /\\([\\`*_[\]()#+\-.!>])/, make: (m) => m[1] },
  {
    re: /\[([^\]]+)\]\(\s*([^)\s]+)(?:\s+"[^"]*")?\s*\)/,
    make: (m, key) => {
      const href = safeHref(m[2]);
      return href ? link(href, inline(m[1]), key) : inline(m[1]);
    },
  },
  { re: /<((?:https?:\/\/|mailto:)[^>\s]+)>/i, make: (m, key) => link(m[1], m[1], key) },
  { re: /\*\*(?=\S)([\s\S]*?\S)\*\*|__(?=\S)([\s\S]*?\S)__/, make: (m, key) => h('strong', { key }, inline(m[1] ?? m[2])) },
  { re: /\*(?=\S)([\s\S]*?\S)\*|(?<![\w])_(?=\S)([\s\S]*?\S)_(?![\w])/, make: (m, key) => h('em', { key }, inline(m[1] ?? m[2])) },
  {
    re: /https?:\/\/[^\s<>()]*[^\s<>().,;:!?'"]/i,
    make: (m, key) => link(m[0], m[0], key),
  },
  { re: / {2,}\n|\\\n/, make: (_m, key) => h('br', { key }) },
];

/** The inline content of a block: emphasis, code, links; line breaks are spaces. */
export function inline(text: string): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  let rest = text;
  let key = 0;
  while (rest) {
    let best: { m: RegExpExecArray; rule: InlineRule } | null = null;
    for (const rule of INLINE) {
      const m = rule.re.exec(rest);
      if (m && (!best || m.index < best.m.index)) best = { m, rule };
    }
    if (!best) {
      out.push(rest.replace(/\n/g, ' '));
      break;
    }
    if (best.m.index > 0) out.push(rest.slice(0, best.m.index).replace(/\n/g, ' '));
    out.push(best.rule.make(best.m, key++));
    rest = rest.slice(best.m.index + best.m[0].length);
  }
  return out;
}

const LIST_ITEM = /^( {0,3})([-*+]|\d{1,9}[.)])\s+(.*)$/;

/**
 * Markdown as elements. `headingBase` is the level of a `#` heading (3 by default: the text sits
 * under the page's h1 and a section's h2).
 */
export function renderMarkdown(source: string, headingBase = 3): ComponentChildren[] {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const blocks: ComponentChildren[] = [];
  let i = 0;
  let key = 0;
  const isBlank = (l: string) => l.trim() === '';
  const startsBlock = (l: string) =>
    /^\s{0,3}(#{1,6}\s|>|```|~~~)/.test(l) || LIST_ITEM.test(l) || /^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(l);
  while (i < lines.length) {
    const line = lines[i];
    if (isBlank(line)) {
      i++;
      continue;
    }
    const fence = /^\s{0,3}(```|~~~)/.exec(line);
    if (fence) {
      const body: string[] = [];
      i++;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) body.push(lines[i++]);
      i++;
      blocks.push(h('pre', { key: key++ }, h('code', null, body.join('\n'))));
      continue;
    }
    const heading = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const level = Math.min(6, headingBase + heading[1].length - 1);
      blocks.push(h(`h${level}`, { key: key++ }, inline(heading[2])));
      i++;
      continue;
    }
    if (/^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) {
      blocks.push(h('hr', { key: key++ }));
      i++;
      continue;
    }
    if (/^\s{0,3}>/.test(line)) {
      const body: string[] = [];
      while (i < lines.length && /^\s{0,3}>/.test(lines[i])) body.push(lines[i++].replace(/^\s{0,3}>\s?/, ''));
      blocks.push(h('blockquote', { key: key++ }, renderMarkdown(body.join('\n'), headingBase)));
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item) {
      const ordered = /\d/.test(item[2]);
      const start = ordered ? parseInt(item[2], 10) : 1;
      const items: string[][] = [];
      while (i < lines.length) {
        const m = LIST_ITEM.exec(lines[i]);
        if (m && /\d/.test(m[2]) === ordered) {
          items.push([m[3]]);
          i++;
        } else if (!isBlank(lines[i]) && !startsBlock(lines[i]) && items.length) {
          // A continuation line of the item (lazy or indented).
          items[items.length - 1].push(lines[i].trim());
          i++;
        } else if (isBlank(lines[i]) && i + 1 < lines.length && LIST_ITEM.test(lines[i + 1])) {
          i++;
        } else break;
      }
      const children = items.map((parts, n) => h('li', { key: n }, inline(parts.join('\n'))));
      blocks.push(ordered ? h('ol', { key: key++, start: start !== 1 ? start : undefined }, children) : h('ul', { key: key++ }, children));
      continue;
    }
    const para: string[] = [];
    while (i < lines.length && !isBlank(lines[i]) && (para.length === 0 || !startsBlock(lines[i]))) para.push(lines[i++]);
    blocks.push(h('p', { key: key++ }, inline(para.join('\n'))));
  }
  return blocks;
}

/** A Markdown text in a `div` of the given class. */
export function Markdown({ text, class: className, headingBase }: { text: string; class?: string; headingBase?: number }) {
  return h('div', { class: className ?? 'markdown' }, renderMarkdown(text, headingBase));
}
