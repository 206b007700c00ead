// Browser test of the authorship colours: Botswana's and India's delegates write one text each
// in the drafting room; with "Authorship colours" on, the legend lists both organisations with
// their shares and the coloured text shows each one's passage in its own colour, with a
// non-colour cue for screen readers; the colours follow the text as it changes, and a saved
// version shows its own. axe-core checks every page state.
//
// Run from the repository root:  node --test tests/browser/authorship.test.mjs
// Needs: target/debug/plenum (cargo build), frontend/dist (npm run build in frontend/),
// frontend/node_modules (npm ci in frontend/), /usr/bin/chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { PLENUM, freePort, run, start, stop, waitForReady } from '../support/processes.mjs';
import { checkA11y } from '../support/axe.mjs';
import { CHROMIUM, call, launchChromium, login, openPage, signIn, waitFor } from '../support/browser.mjs';

const KABO = { email: 'kabo.molefe@bw.kp.example' };
const PRIYA = { email: 'priya.raman@in.kp.example' };
const TITLE = 'Decision on the authorship of review reports';
// Short enough that India's caret label stays inside the editor (a label past its right edge
// makes the editor's scroller scrollable, which axe reports).
const BOTSWANA_TEXT = 'Reports are published.';
const INDIA_TEXT = ' Each names its authors.';
const INDIA_MORE = ' Promptly.';

/** The coloured text of a region: each organisation's passages joined, and their backgrounds. */
async function colouredText(region) {
  return region.locator('.authorship-text').evaluate((el) => {
    const out = {};
    for (const span of el.querySelectorAll('.author-passage')) {
      const code = span.dataset.organisation || '?';
      out[code] ??= { text: '', backgrounds: [] };
      out[code].text += span.textContent;
      const bg = getComputedStyle(span).backgroundColor;
      if (!out[code].backgrounds.includes(bg)) out[code].backgrounds.push(bg);
    }
    out.hidden = [...el.querySelectorAll('.visually-hidden')].map((s) => s.textContent);
    return out;
  });
}

/** Both organisations are in the legend and each one's text is in its own, single colour. */
async function assertColours(region, india) {
  const legend = region.getByRole('list', { name: 'Organisations and their share of the text' });
  await legend.getByText('Botswana (BW)').waitFor();
  await legend.getByText('India (IN)').waitFor();
  const c = await waitFor('the coloured passages', async () => {
    const got = await colouredText(region);
    return { ok: got.BW?.text === BOTSWANA_TEXT && got.IN?.text === india, ...got };
  });
  assert.equal(c.BW.backgrounds.length, 1, 'one colour for Botswana');
  assert.equal(c.IN.backgrounds.length, 1, 'one colour for India');
  assert.notEqual(c.BW.backgrounds[0], c.IN.backgrounds[0], 'each organisation has its own colour');
  for (const bg of [c.BW.backgrounds[0], c.IN.backgrounds[0]]) assert.notEqual(bg, 'rgba(0, 0, 0, 0)');
  assert.deepEqual(c.hidden, ['(written by Botswana) ', '(written by India) '], 'a cue for screen readers');
  const items = await legend.getByRole('listitem').allInnerTexts();
  assert.equal(items.length, 2, JSON.stringify(items));
  assert.ok(items.every((t) => /\d+%/.test(t)), `shares in %: ${JSON.stringify(items)}`);
}

test('authorship colours show who wrote what', { timeout: 180_000 }, async () => {
  assert.ok(existsSync(PLENUM), `${PLENUM} is missing: run \`cargo build\` first`);
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);

  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'plenum-authorship-'));
  const databaseUrl = `sqlite://${path.join(tmp, 'plenum.db')}`;
  let server;
  let browser;
  const problems = [];
  try {
    await run(PLENUM, ['demo', '--database-url', databaseUrl]);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    server = start(PLENUM, [
      'serve', '--database-url', databaseUrl, '--bind', `127.0.0.1:${port}`,
      '--public-url', base, '--mail-dir', path.join(tmp, 'mail'),
    ]);
    server.stdin.end();
    await waitForReady(base, server);

    const kaboToken = await login(base, KABO.email);
    const draft = await call(base, kaboToken, 'POST', '/api/drafts', { title: TITLE }, 201);
    const room = `/drafts/${draft.id}`;

    browser = await launchChromium();
    const kabo = await openPage(browser, 'kabo', problems);
    const priya = await openPage(browser, 'priya', problems);
    await signIn(kabo, base, KABO, room);
    await signIn(priya, base, PRIYA, room);
    for (const page of [kabo, priya]) {
      await page.getByRole('heading', { level: 1, name: TITLE }).waitFor();
      await page.getByRole('status').filter({ hasText: /^Connected$/ }).waitFor();
    }

    // Botswana writes the first sentence, India the second.
    await kabo.locator('.draft-editor .cm-content').click();
    await kabo.keyboard.type(BOTSWANA_TEXT, { delay: 10 });
    await waitFor('India to see Botswana’s text', async () => {
      const d = await call(base, kaboToken, 'GET', `/api/drafts/${draft.id}`);
      return { ok: d.text === BOTSWANA_TEXT, text: d.text };
    });
    await priya.locator('.draft-editor .cm-content').getByText(BOTSWANA_TEXT).waitFor();
    await priya.locator('.draft-editor .cm-content').click();
    await priya.keyboard.press('Control+End');
    await priya.keyboard.type(INDIA_TEXT, { delay: 10 });
    await waitFor('the server to hold both sentences', async () => {
      const d = await call(base, kaboToken, 'GET', `/api/drafts/${draft.id}`);
      return { ok: d.text === BOTSWANA_TEXT + INDIA_TEXT, text: d.text };
    });

    // Botswana switches the colours on.
    const main = kabo.getByRole('main');
    const toggle = main.getByRole('button', { name: 'Authorship colours' });
    assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
    const live = main.getByRole('region', { name: 'Who wrote what' });
    await live.waitFor();
    await assertColours(live, INDIA_TEXT);
    await checkA11y(kabo, 'the drafting room with authorship colours');

    // The colours follow the text: India adds a word.
    await priya.keyboard.type(INDIA_MORE, { delay: 10 });
    await waitFor('the colours to follow India’s change', async () => {
      const got = await colouredText(live);
      return { ok: got.IN?.text === INDIA_TEXT + INDIA_MORE, ...got };
    });

    // Off again: the panel goes.
    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
    await live.waitFor({ state: 'detached' });

    // A saved version shows its own colours.
    const save = main.getByRole('form', { name: 'Save a version' });
    await save.getByLabel('Label').fill('as written by two');
    await save.getByRole('button', { name: 'Save version' }).click();
    await main.getByRole('button', { name: 'View version 1' }).click();
    const versionView = main.getByRole('region', { name: 'Version 1: as written by two' });
    await versionView.waitFor();
    await versionView.getByRole('button', { name: 'Authorship colours' }).click();
    await assertColours(versionView.getByRole('region', { name: 'Who wrote what' }), INDIA_TEXT + INDIA_MORE);
    await checkA11y(kabo, 'a version with authorship colours');

    assert.deepEqual(problems, [], `browser reported problems:\n${problems.join('\n')}`);
  } catch (err) {
    if (server) console.error(`--- plenum serve output ---\n${server.output.slice(-20_000)}`);
    if (problems.length) console.error(`--- browser problems ---\n${problems.join('\n')}`);
    throw err;
  } finally {
    await browser?.close().catch(() => undefined);
    await stop(server, 'plenum serve');
    await fs.rm(tmp, { recursive: true, force: true });
  }
});
