// Browser test of the follow-up of recommendations, on the demo data: India's delegate reads the
// stocktaking dashboard of the body that issued one of India's open recommendations, opens "our
// recommendations" from the main navigation (overdue ones first), opens that recommendation,
// records progress with a note, a link and an uploaded attachment (after a refused link address,
// shown beside its field), sees the entry in India's timeline with the attachment downloadable,
// finds it in the tracker by addressee and status (the filters in the address and in the CSV
// link), and the dashboard then counts one more record in the new status for India and for the
// recommendation's theme. The review visits list and a visit's page are visited too. axe-core
// checks every page state; console errors fail the test.
//
// Run from the repository root:  node --test tests/browser/recommendations.test.mjs
// Needs: target/debug/plenum (cargo build), frontend/dist (npm run build in frontend/),
// frontend/node_modules (npm ci in frontend/), /usr/bin/chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { PLENUM, ROOT, freePort, run, start, stop, waitForReady } from '../support/processes.mjs';
import { checkA11y } from '../support/axe.mjs';
import { CHROMIUM, call, launchChromium, login, openPage, signIn, waitFor } from '../support/browser.mjs';

const SCREENS = path.join(ROOT, 'target', 'browser-screens');
const PRIYA = { email: 'priya.raman@in.kp.example', name: 'Priya Raman' };

/** Reads one count of a dashboard table: the row `rowLabel`, the column of `statusLabel` (absent: 0). */
async function tableCount(table, rowLabel, statusLabel) {
  return table.evaluate(
    (t, [row, status]) => {
      const heads = [...t.querySelectorAll('thead th')].map((th) => th.textContent.trim());
      const col = heads.findIndex((x) => x === status || x.startsWith(`${status} (`));
      const tr = [...t.querySelectorAll('tbody tr')].find((r) => r.querySelector('th')?.textContent.trim() === row);
      if (col < 0 || !tr) return 0;
      return Number(tr.children[col].textContent.trim());
    },
    [rowLabel, statusLabel],
  );
}

/**
 * Opens the dashboard of `bodyId` (a fresh load), opens the tables of the two distribution charts
 * and answers the counts of `statusLabel` for the participant row and the theme row.
 */
async function readDashboard(page, base, bodyId, { participant, theme, statusLabel }, where) {
  await page.goto(`${base}/stocktaking?body=${bodyId}`);
  const main = page.getByRole('main');
  await main.getByRole('heading', { level: 1, name: 'Stocktaking' }).waitFor();
  await main.getByRole('heading', { level: 2, name: 'Status by participant' }).waitFor();
  await main.getByRole('heading', { level: 2, name: 'Progress over time' }).waitFor();
  await main.locator('table caption', { hasText: /^Progress from / }).waitFor({ state: 'attached' });
  // The charts are drawn (Chart.js sizes its canvases), and none failed.
  await waitFor('the charts to be drawn', async () => {
    const sizes = await main.locator('.chart-canvas canvas').evaluateAll((cs) => cs.map((c) => c.width));
    return { ok: sizes.length >= 2 && sizes.every((w) => w > 0), sizes };
  });
  assert.equal(await main.getByText('The chart could not be drawn').count(), 0);
  for (const name of ['Status by theme', 'Status by participant']) {
    const summary = main.getByText(`${name}: the chart as a table`, { exact: true });
    if ((await summary.count()) === 0) continue;
    await summary.click();
    await main.getByRole('table', { name: `${name}, as of the chosen date` }).waitFor();
  }
  const byParticipant = main.getByRole('table', { name: 'Status by participant, as of the chosen date' });
  const byTheme = main.getByRole('table', { name: 'Status by theme, as of the chosen date' });
  const counts = {
    participant: await tableCount(byParticipant, participant, statusLabel),
    theme: theme && (await byTheme.count()) ? await tableCount(byTheme, theme, statusLabel) : null,
  };
  const csv = main.getByRole('link', { name: 'Download as CSV' });
  assert.match(await csv.getAttribute('href'), new RegExp(`^/api/stocktaking\\.csv\\?body_id=${bodyId}&as_of=\\d{4}-\\d{2}-\\d{2}$`));
  await checkA11y(page, where);
  return counts;
}

test('a delegate records progress with an attachment, and the dashboard reflects it', { timeout: 300_000 }, async () => {
  assert.ok(existsSync(PLENUM), `${PLENUM} is missing: run \`cargo build\` first`);
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);

  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'plenum-recommendations-'));
  const databaseUrl = `sqlite://${path.join(tmp, 'plenum.db')}`;
  let server;
  let browser;
  const problems = [];
  try {
    // 1. The demo body (with its recommendations and review visits), then the server.
    await run(PLENUM, ['demo', '--database-url', databaseUrl]);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    server = start(PLENUM, [
      'serve',
      '--database-url', databaseUrl,
      '--bind', `127.0.0.1:${port}`,
      '--public-url', base,
      '--mail-dir', path.join(tmp, 'mail'),
    ]);
    server.stdin.end();
    await waitForReady(base, server);

    // 2. Through the API, what the test will do: one of India's open recommendations that India
    //    may record on (one with a theme, if any), and a status of its vocabulary it is not in.
    const token = await login(base, PRIYA.email);
    const me = await call(base, token, 'GET', '/api/me');
    const india = me.organisation;
    const indiaLabel = `${india.name} (${india.short_code})`;
    const mine = [];
    let cursor = '';
    do {
      const page = await call(base, token, 'GET', `/api/recommendations?organisation_id=${india.id}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      mine.push(...page.items);
      cursor = page.next_cursor ?? '';
    } while (cursor);
    const open = mine.filter((r) => {
      const a = r.addressees.find((x) => x.organisation?.id === india.id);
      return a && a.can_record && !a.status.final;
    });
    assert.ok(open.length > 0, 'the demo addresses open recommendations to India');
    const rec = open.find((r) => r.themes.length > 0) ?? open[0];
    const record = rec.addressees.find((x) => x.organisation?.id === india.id);
    const vocabularies = await call(base, token, 'GET', '/api/vocabularies');
    const vocabulary = vocabularies.find((v) => v.id === rec.vocabulary.id);
    assert.ok(vocabulary, 'the recommendation’s vocabulary');
    const target =
      vocabulary.statuses.find((s) => s.key !== record.status.key && !s.final && s.weight > record.status.weight) ??
      vocabulary.statuses.find((s) => s.key !== record.status.key);
    assert.ok(target, 'another status to move to');
    const theme = rec.themes[0] ?? null;
    const expectation = { participant: indiaLabel, theme, statusLabel: target.label };

    // 3. India's delegate reads the dashboard of the issuing body first.
    browser = await launchChromium();
    const priya = await openPage(browser, 'priya', problems);
    await signIn(priya, base, PRIYA, `/stocktaking?body=${rec.body.id}`);
    const before = await readDashboard(priya, base, rec.body.id, expectation, 'the stocktaking dashboard (before)');

    // 4. "Our recommendations", from the main navigation: India's, overdue ones first.
    const main = priya.getByRole('main');
    const nav = priya.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Our recommendations', exact: true }).click();
    await priya.waitForURL(`${base}/participants/${india.id}/recommendations`);
    await main.getByRole('heading', { level: 1, name: `Recommendations to ${indiaLabel}` }).waitFor();
    const ours = main.getByRole('table', { name: 'Recommendations to this participant, overdue and open first' });
    await ours.getByRole('rowheader', { name: rec.code, exact: true }).waitFor();
    assert.equal(await nav.getByRole('link', { name: 'Our recommendations', exact: true }).getAttribute('aria-current'), 'page');
    assert.equal(await ours.locator('tbody tr').count(), mine.length, 'every recommendation to India is listed');
    const overdueFlags = await ours.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.classList.contains('overdue-row')));
    assert.deepEqual(overdueFlags, [...overdueFlags].sort((a, b) => Number(b) - Number(a)), 'overdue ones come first');
    await checkA11y(priya, 'our recommendations');

    // 5. The recommendation's page: its text, addressees and India's timeline.
    await ours.getByRole('link', { name: rec.code, exact: true }).click();
    await priya.waitForURL(`${base}/recommendations/${rec.id}`);
    await main.getByRole('heading', { level: 1, name: `${rec.code} — ${rec.title}` }).waitFor();
    await main.getByRole('table', { name: `Addressees of ${rec.code} and their current status` }).waitFor();
    const timeline = main.locator(`#record-o${india.id}`);
    await timeline.waitFor();
    const entriesBefore = await timeline.locator('.timeline-entry').count();
    const form = main.getByRole('form', { name: 'Record progress' });
    await form.waitFor();
    await checkA11y(priya, 'a recommendation’s page');

    // 6. A link that is not http(s) is refused beside its field, and nothing is sent.
    const note = `Statistics for ${new Date().getFullYear()} published on the ministry's site; the customs data follow.`;
    const fileName = `evidence-${Date.now()}.txt`;
    const fileText = `Implementation evidence for ${rec.code}\nPublished statistics, first release.\n`;
    await form.getByLabel('Status').selectOption(target.key);
    await form.getByLabel('Note').fill(note);
    await form.getByLabel('Link 1: address').fill('ftp://stats.example.org/release');
    await form.getByLabel('Link 1: label').fill('Statistics release');
    await form.getByRole('button', { name: 'Record progress' }).click();
    await form.getByText('Use an address that starts with https:// or http://.').waitFor();
    assert.equal(await form.getByLabel('Link 1: address').getAttribute('aria-invalid'), 'true');
    await waitFor('the focus on the refused link', async () => {
      const focused = await priya.evaluate(() => document.activeElement?.getAttribute('name') ?? '');
      return { ok: focused.startsWith('link_url_'), focused };
    });
    await checkA11y(priya, 'the progress form with a refused link');
    assert.equal(await timeline.locator('.timeline-entry').count(), entriesBefore, 'nothing recorded');

    // 7. Corrected, with an attachment: the entry is recorded and announced.
    await form.getByLabel('Link 1: address').fill('https://stats.example.org/release');
    await form.getByLabel('Attachments').setInputFiles({ name: fileName, mimeType: 'text/plain', buffer: Buffer.from(fileText) });
    await form.getByRole('button', { name: 'Record progress' }).click();
    await priya
      .getByRole('status')
      .filter({ hasText: `Progress recorded for ${indiaLabel}: ${target.label}.` })
      .waitFor({ state: 'attached' });
    await waitFor('the new entry in India’s timeline', async () => ({
      ok: (await timeline.locator('.timeline-entry').count()) === entriesBefore + 1,
    }));
    const entry = timeline.locator('.timeline-entry').last();
    assert.match(await entry.innerText(), new RegExp(target.label));
    assert.match(await entry.innerText(), new RegExp(`Recorded by ${PRIYA.name}`));
    await entry.getByText(note).waitFor();
    const link = entry.getByRole('link', { name: 'Statistics release', exact: true });
    assert.equal(await link.getAttribute('href'), 'https://stats.example.org/release');
    const attachment = entry.getByRole('link', { name: fileName, exact: true });
    const href = await attachment.getAttribute('href');
    assert.match(href, /^\/api\/evidence\/\d+$/);
    assert.equal(await attachment.getAttribute('download'), fileName);
    const download = await priya.evaluate(async (u) => {
      const res = await fetch(u);
      return { status: res.status, disposition: res.headers.get('content-disposition'), text: await res.text() };
    }, href);
    assert.equal(download.status, 200);
    assert.match(download.disposition ?? '', /attachment/);
    assert.equal(download.text, fileText);
    // The current status follows, with the form ready for the next entry.
    await timeline.locator('.record-status').getByText(target.label, { exact: true }).waitFor();
    assert.equal(await form.getByLabel('Note').inputValue(), '');
    await fs.mkdir(SCREENS, { recursive: true });
    await priya.screenshot({ path: path.join(SCREENS, 'recommendation-recorded.png'), fullPage: true });
    await checkA11y(priya, 'the recommendation after recording progress');

    // 8. The tracker finds it by addressee and status; the filters go in the address and the CSV link.
    await main.getByRole('navigation', { name: 'Recommendations' }).getByRole('link', { name: 'All recommendations' }).click();
    await priya.waitForURL(`${base}/recommendations`);
    await main.getByRole('heading', { level: 1, name: 'Recommendations' }).waitFor();
    const search = main.getByRole('search', { name: 'Find recommendations' });
    await waitFor('the addressees to load', async () => ({ ok: (await search.getByLabel('Addressee').locator('option').count()) > 1 }));
    await search.getByLabel('Addressee').selectOption(String(india.id));
    await waitFor('the statuses to load', async () => ({ ok: (await search.getByLabel('Status').locator(`option[value="${target.key}"]`).count()) === 1 }));
    await search.getByLabel('Status').selectOption(target.key);
    await search.getByRole('button', { name: 'Search' }).click();
    await priya.waitForURL(new RegExp(`/recommendations\\?addressee=${india.id}&status=${target.key}$`));
    const tracker = main.getByRole('table', { name: 'Recommendations matching the filters' });
    await tracker.getByRole('rowheader', { name: rec.code, exact: true }).waitFor();
    const csvHref = await main.getByRole('link', { name: /Download as CSV/ }).getAttribute('href');
    assert.equal(csvHref, `/api/recommendations/export.csv?organisation_id=${india.id}&status=${target.key}`);
    await checkA11y(priya, 'the tracker, filtered');

    // 9. The dashboard counts one more record in the new status, for India and for the theme.
    const after = await readDashboard(priya, base, rec.body.id, expectation, 'the stocktaking dashboard (after)');
    assert.equal(after.participant, before.participant + 1, `${indiaLabel} in ${target.label}`);
    if (theme !== null) assert.equal(after.theme, before.theme + 1, `theme ${theme} in ${target.label}`);
    // Large type for the room's screen.
    const large = main.getByRole('button', { name: 'Large type for the room’s screen' });
    await large.click();
    assert.equal(await large.getAttribute('aria-pressed'), 'true');
    await priya.waitForURL(/[?&]large=1/);
    await priya.screenshot({ path: path.join(SCREENS, 'stocktaking-large.png'), fullPage: true });
    await checkA11y(priya, 'the stocktaking dashboard in large type');

    // 10. The review visits, and one visit's page.
    await main.getByRole('navigation', { name: 'Recommendations' }).getByRole('link', { name: 'Review visits' }).click();
    await priya.waitForURL(`${base}/review-visits`);
    await main.getByRole('heading', { level: 1, name: 'Review visits' }).waitFor();
    const visits = main.getByRole('table', { name: 'Review visits' });
    const ghana = visits.getByRole('link', { name: /^Ghana/ }).first();
    await ghana.waitFor();
    await checkA11y(priya, 'the review visits');
    await ghana.click();
    await priya.waitForURL(/\/review-visits\/\d+$/);
    await main.getByRole('heading', { level: 1, name: /^Review visit to Ghana/ }).waitFor();
    await main.getByRole('heading', { level: 2, name: 'Recommendations from the report' }).waitFor();
    await checkA11y(priya, 'a review visit');

    assert.deepEqual(problems, [], 'no console or page errors');
  } finally {
    await browser?.close();
    if (server) await stop(server, 'plenum');
    await fs.rm(tmp, { recursive: true, force: true });
  }
});
