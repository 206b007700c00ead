// Browser test of the live drafting room: two delegates type into the same draft at
// the same time and converge; each sees the other in the room; an observer follows
// the text read-only and cannot change it.
//
// Run from the repository root:  node --test tests/browser/
// Needs: target/debug/plenum (cargo build), frontend/dist (npm run build in frontend/),
// frontend/node_modules (npm ci in frontend/), /usr/bin/chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { PLENUM, ROOT, freePort, run, sleep, start, stop, waitForReady } from '../support/processes.mjs';
import { checkA11y } from '../support/axe.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENS = path.join(ROOT, 'target', 'browser-screens');

const DEMO_PASSWORD = 'kimberley-2007';
const KABO = { email: 'kabo.molefe@bw.kp.example', name: 'Kabo Molefe' };
const PRIYA = { email: 'priya.raman@in.kp.example', name: 'Priya Raman' };
const RAFAEL = { email: 'rafael.adler@wdc.kp.example', name: 'Rafael Adler' };
const DRAFT = { title: 'Administrative decision on peer review visits', meeting: 'Brussels Plenary 2007' };

// playwright-core is a devDependency of frontend/package.json.
function loadPlaywright() {
  const require = createRequire(path.join(ROOT, 'frontend', 'package.json'));
  try {
    return require('playwright-core');
  } catch (err) {
    throw new Error(`playwright-core not found: run \`npm ci\` in frontend/ first (${err.message})`);
  }
}


/** The editor's text as the user sees it, without the remote-cursor name labels. */
async function editorText(page) {
  return page.evaluate(() => {
    const lines = [...document.querySelectorAll('.draft-editor .cm-content .cm-line')];
    return lines
      .map((line) => {
        const copy = line.cloneNode(true);
        for (const el of copy.querySelectorAll('.cm-ySelectionCaret, .cm-widgetBuffer, .cm-placeholder')) el.remove();
        return copy.textContent;
      })
      .join('\n');
  });
}

async function waitFor(what, fn, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last.ok) return last;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}

async function signIn(page, base, account, next) {
  await page.goto(`${base}${next}`);
  await page.waitForURL(/\/login\?next=/);
  await page.getByRole('heading', { level: 1, name: 'Sign in to Plenum' }).waitFor();
  await checkA11y(page, 'the sign-in page');
  await page.getByLabel('Email', { exact: true }).fill(account.email);
  await page.getByLabel('Password', { exact: true }).fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}${next}`);
}

async function apiDraft(page, id) {
  return page.evaluate(async (draftId) => {
    const res = await fetch(`/api/drafts/${draftId}`, { headers: { Accept: 'application/json' } });
    return { status: res.status, body: await res.json() };
  }, id);
}

test('two delegates draft together live; an observer follows read-only', { timeout: 240_000 }, async () => {
  assert.ok(existsSync(PLENUM), `${PLENUM} is missing: run \`cargo build\` first`);
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);
  const { chromium } = loadPlaywright();

  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'plenum-drafting-'));
  const databaseUrl = `sqlite://${path.join(tmp, 'plenum.db')}`;
  let server;
  let browser;
  const problems = [];
  try {
    // 1. Demo body, then the server.
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

    // 2. Browser
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const watch = (page, who) => {
      page.on('pageerror', (err) => problems.push(`[${who}] page error: ${err.message}`));
      page.on('console', (msg) => {
        if (msg.type() === 'error' && !/status of 401/.test(msg.text())) problems.push(`[${who}] console: ${msg.text()}`);
      });
    };
    const openAs = async (who, viewport = { width: 1280, height: 900 }) => {
      const context = await browser.newContext({ viewport });
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      watch(page, who);
      return page;
    };

    // --- Kabo creates a draft through the UI ---
    const kabo = await openAs('kabo');
    await signIn(kabo, base, KABO, '/drafts');
    await kabo.getByRole('heading', { level: 1, name: 'Drafts' }).waitFor();
    // Drafts is in the main navigation.
    await kabo.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Drafts' }).waitFor();
    await kabo.getByText('Loading drafts…').waitFor({ state: 'detached' });
    await checkA11y(kabo, 'the drafts page');
    await kabo.getByLabel('Title', { exact: true }).fill(DRAFT.title);
    // The meeting select offers the plenary's meetings (the default body); a delegate who does not
    // chair the meeting is told that its chair puts drafts on agenda items.
    await kabo.getByLabel('Meeting').locator('option', { hasText: DRAFT.meeting }).waitFor({ state: 'attached' });
    await kabo.getByLabel('Meeting').selectOption({ label: DRAFT.meeting });
    await kabo.getByText(/chair \(or the secretariat\) puts drafts on its agenda items/).waitFor();
    await checkA11y(kabo, 'the new draft form with a meeting chosen');
    await kabo.getByRole('button', { name: 'Create draft' }).click();
    await kabo.waitForURL(/\/drafts\/\d+$/);
    const draftUrl = kabo.url();
    const draftId = draftUrl.match(/\/drafts\/(\d+)$/)[1];
    await kabo.getByRole('heading', { level: 1, name: DRAFT.title }).waitFor();
    await kabo.locator('.draft-meta').getByRole('link', { name: DRAFT.meeting, exact: true }).waitFor();
    await kabo.locator('.draft-editor .cm-content').waitFor();
    await kabo.getByRole('status').filter({ hasText: /^Connected$/ }).waitFor();
    assert.equal(await kabo.locator('.draft-banner').isVisible(), false, 'a participant sees no read-only banner');
    assert.equal(await kabo.locator('.cm-content').getAttribute('contenteditable'), 'true');
    assert.match(await kabo.locator('.cm-content').getAttribute('aria-label'), /Draft text/);
    await checkA11y(kabo, 'the drafting room (participant, empty draft)');

    // --- Priya opens the same draft ---
    const priya = await openAs('priya');
    await signIn(priya, base, PRIYA, `/drafts/${draftId}`);
    await priya.getByRole('heading', { level: 1, name: DRAFT.title }).waitFor();
    await priya.getByRole('status').filter({ hasText: /^Connected$/ }).waitFor();

    // Each sees the other in the room.
    const kaboPresence = kabo.locator('.presence-list');
    const priyaPresence = priya.locator('.presence-list');
    await kaboPresence.getByText(PRIYA.name).waitFor();
    await priyaPresence.getByText(KABO.name).waitFor();

    // --- both type at the same time ---
    const kaboWords = '[Option A] Peer review visits take place every three years.';
    const priyaWords = '[Option B] Visits take place on request of the participant.';
    await kabo.locator('.cm-content').click();
    await priya.locator('.cm-content').click();
    await Promise.all([
      kabo.keyboard.type(kaboWords, { delay: 25 }),
      priya.keyboard.type(priyaWords, { delay: 25 }),
    ]);

    const converged = await waitFor('both editors to converge', async () => {
      const [a, b] = await Promise.all([editorText(kabo), editorText(priya)]);
      return { ok: a === b && a.includes(kaboWords) && a.includes(priyaWords), a, b };
    });
    const agreed = converged.a;
    await kabo.getByText('2 bracketed passages').waitFor();
    await priya.getByText('2 bracketed passages').waitFor();

    // The server holds the same text.
    await waitFor('the server text', async () => {
      const { status, body } = await apiDraft(kabo, draftId);
      return { ok: status === 200 && body.text === agreed, status, text: body.text };
    });

    await fs.mkdir(SCREENS, { recursive: true });
    await kabo.screenshot({ path: path.join(SCREENS, 'drafting-room.png'), fullPage: true });
    await checkA11y(kabo, 'the drafting room (participant, with text and another delegate)');
    await checkA11y(priya, 'the drafting room (second participant)');

    // Back to the list: the draft is there, and the room closed its connection.
    await kabo.getByRole('link', { name: '← All drafts' }).click();
    await kabo.getByRole('heading', { level: 1, name: 'Drafts' }).waitFor();
    await kabo.getByRole('rowheader', { name: DRAFT.title, exact: true }).waitFor();
    await priyaPresence.getByText(KABO.name).waitFor({ state: 'detached' });
    await checkA11y(kabo, 'the drafts page with a draft');
    await kabo.getByRole('link', { name: DRAFT.title, exact: true }).click();
    await kabo.getByRole('status').filter({ hasText: /^Connected$/ }).waitFor();
    await waitFor('Kabo’s reopened room to show the text', async () => {
      const text = await editorText(kabo);
      return { ok: text === agreed, text };
    });
    await priyaPresence.getByText(KABO.name).waitFor();

    // --- the observer follows read-only ---
    const rafael = await openAs('rafael');
    await signIn(rafael, base, RAFAEL, `/drafts/${draftId}`);
    await rafael.getByRole('heading', { level: 1, name: DRAFT.title }).waitFor();
    const banner = rafael.locator('#draft-banner').getByText('Read only — observers follow the text but cannot change it');
    await banner.waitFor();
    assert.ok(await banner.isVisible());
    await waitFor('the observer to receive the text', async () => {
      const text = await editorText(rafael);
      return { ok: text === agreed, text };
    });
    assert.equal(await rafael.locator('.cm-content').getAttribute('contenteditable'), 'false');
    await rafaelPresenceCheck(rafael, kabo);
    await checkA11y(rafael, 'the drafting room (observer, read only)');

    const observerWords = 'OBSERVER WAS HERE';
    await rafael.locator('.cm-content').click();
    await rafael.keyboard.type(observerWords, { delay: 10 });
    await rafael.keyboard.press('Enter');
    await rafael.keyboard.press('Backspace');
    await sleep(1500);
    assert.equal(await editorText(rafael), agreed, 'the observer cannot change the text locally');
    assert.equal(await editorText(kabo), agreed, 'the observer cannot change Kabo’s text');
    assert.equal(await editorText(priya), agreed, 'the observer cannot change Priya’s text');
    const after = await apiDraft(rafael, draftId);
    assert.equal(after.status, 200);
    assert.equal(after.body.can_edit, false, 'the observer may not edit');
    assert.ok(!after.body.text.includes(observerWords), 'the server text has no observer text');
    assert.equal(after.body.text, agreed);

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

/** The participants see the observer arrive; the observer sees them. */
async function rafaelPresenceCheck(rafael, kabo) {
  await rafael.locator('.presence-list').getByText(KABO.name).waitFor();
  await rafael.locator('.presence-list').getByText(PRIYA.name).waitFor();
  await kabo.locator('.presence-list').getByText(RAFAEL.name).waitFor();
}
