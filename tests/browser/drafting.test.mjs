// Browser test of the live drafting room: two delegates type into the same draft at
// the same time and converge; each sees the other in the room; an observer follows
// the text read-only and cannot change it.
//
// Run from the repository root:  node --test tests/browser/
// Needs: target/debug/plenum (cargo build), frontend/dist (npm run build in frontend/),
// frontend/node_modules (npm ci in frontend/), /usr/bin/chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { PLENUM, ROOT, freePort, run, sleep, start, stop, waitForReady } from '../support/processes.mjs';
import { checkA11y } from '../support/axe.mjs';
import { CHROMIUM, editorText, launchChromium, openPage, signInCheckingA11y, waitFor } from '../support/browser.mjs';

const SCREENS = path.join(ROOT, 'target', 'browser-screens');

const KABO = { email: 'kabo.molefe@bw.kp.example', name: 'Kabo Molefe' };
const PRIYA = { email: 'priya.raman@in.kp.example', name: 'Priya Raman' };
const RAFAEL = { email: 'rafael.adler@wdc.kp.example', name: 'Rafael Adler' };
const DRAFT = { title: 'Administrative decision on peer review visits', meeting: 'Brussels Plenary 2007' };

async function apiDraft(page, id) {
  return page.evaluate(async (draftId) => {
    const res = await fetch(`/api/drafts/${draftId}`, { headers: { Accept: 'application/json' } });
    return { status: res.status, body: await res.json() };
  }, id);
}

test('two delegates draft together live; an observer follows read-only', { timeout: 240_000 }, async () => {
  assert.ok(existsSync(PLENUM), `${PLENUM} is missing: run \`cargo build\` first`);
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);

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
    browser = await launchChromium();

    // --- Kabo creates a draft through the UI ---
    const kabo = await openPage(browser, 'kabo', problems);
    await signInCheckingA11y(kabo, base, KABO, '/drafts');
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
    const priya = await openPage(browser, 'priya', problems);
    await signInCheckingA11y(priya, base, PRIYA, `/drafts/${draftId}`);
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
    const rafael = await openPage(browser, 'rafael', problems);
    await signInCheckingA11y(rafael, base, RAFAEL, `/drafts/${draftId}`);
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
