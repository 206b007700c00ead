// Accessibility checks for the browser tests: axe-core (a devDependency of frontend/package.json)
// run on the page as it is, against WCAG 2.0 and 2.1, levels A and AA. A test calls `checkA11y`
// on every page and view it visits, once the view shows what the test came for.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

import { ROOT } from './processes.mjs';

/** The axe-core rule tags that must pass. */
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

let axeSource = null;

/** node_modules/axe-core/axe.min.js of the front end. */
function loadAxeSource() {
  if (axeSource === null) {
    const require = createRequire(path.join(ROOT, 'frontend', 'package.json'));
    let file;
    try {
      file = require.resolve('axe-core/axe.min.js');
    } catch (err) {
      throw new Error(`axe-core not found: run \`npm ci\` in frontend/ first (${err.message})`);
    }
    axeSource = fs.readFileSync(file, 'utf8');
  }
  return axeSource;
}

/** One line per failing element: rule, impact, what to fix, and where. */
export function formatViolations(violations) {
  const lines = [];
  for (const v of violations) {
    lines.push(`- ${v.id} (${v.impact ?? 'n/a'}): ${v.help} [${v.helpUrl}]`);
    for (const node of v.nodes) {
      lines.push(`    at ${node.target.join(' ')}: ${node.html.slice(0, 200)}`);
      if (node.failureSummary) lines.push(`      ${node.failureSummary.replace(/\n/g, '\n      ')}`);
    }
  }
  return lines.join('\n');
}

/**
 * Runs axe-core on `page` and throws, listing every violation, unless there is none.
 * `where` names the view in the message (e.g. "login page").
 *
 * The script is evaluated through the DevTools protocol (page.evaluate) rather than added as a
 * <script> tag: the server's Content-Security-Policy rightly refuses inline scripts, and the
 * tests must not switch that policy off.
 */
export async function checkA11y(page, where) {
  const present = await page.evaluate(() => typeof window.axe?.run === 'function');
  if (!present) await page.evaluate(loadAxeSource());
  const violations = await page.evaluate(async (tags) => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: tags },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target.map(String), html: n.html, failureSummary: n.failureSummary })),
    }));
  }, WCAG_TAGS);
  if (violations.length > 0) {
    throw new Error(`accessibility violations (axe-core, ${WCAG_TAGS.join(', ')}) on ${where} (${page.url()}):\n${formatViolations(violations)}`);
  }
}
