// Browser test of the way from a shared text to a decision: in the drafting room of a working
// group chaired by Botswana, Botswana's delegate (the chair) and India's delegate write a text
// with a bracketed passage; the brackets panel takes the editor to it; India removes the
// brackets and the panel says the text is clean; the chair calls for objections, India objects
// with a reason and both rooms return to drafting; India meets the objection; the chair calls
// again and declares adoption; both editors are read only, the versions show what changed, and
// the decision is in the register with its number. axe-core checks every page state.
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
import {
  CHROMIUM,
  call,
  editable,
  editorText,
  launchChromium,
  login,
  openPage,
  signIn,
  stageHeading,
  waitFor,
} from '../support/browser.mjs';

const SCREENS = path.join(ROOT, 'target', 'browser-screens');

const ADMIN = { email: 'admin@secretariat.kp.example' };
const KABO = { email: 'kabo.molefe@bw.kp.example', name: 'Kabo Molefe' };
const PRIYA = { email: 'priya.raman@in.kp.example', name: 'Priya Raman' };
const GROUP = { name: 'Working Group on Review Visits', short: 'WGRV' };
const TITLE = 'Decision on the frequency of review visits';
const LINE_1 = 'The Working Group on Review Visits,';
const BRACKETED = '[at least once every three years]';
const LINE_2 = `Decides that review visits take place ${BRACKETED}.`;
const OBJECTION = 'Three years is too short a cycle for small producers.';

test('from a bracketed text to a numbered decision, with an objection on the way', { timeout: 300_000 }, async () => {
  assert.ok(existsSync(PLENUM), `${PLENUM} is missing: run \`cargo build\` first`);
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);

  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'plenum-decisions-'));
  const databaseUrl = `sqlite://${path.join(tmp, 'plenum.db')}`;
  let server;
  let browser;
  const problems = [];
  try {
    // 1. The demo body, then the server.
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

    // 2. Through the API: a working group under the plenary, chaired by Botswana from today,
    //    and a draft of it opened by Botswana's delegate.
    const admin = await login(base, ADMIN.email);
    const bodies = await call(base, admin, 'GET', '/api/bodies');
    const plenary = bodies.find((b) => b.short_name === 'KP');
    assert.ok(plenary, 'the KP plenary');
    const group = await call(base, admin, 'POST', '/api/bodies', {
      name: GROUP.name,
      short_name: GROUP.short,
      kind: 'working_group',
      parent_id: plenary.id,
      mandate: 'Reviews how often participants are visited.',
    }, 201);
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: group.time_zone || 'UTC' }).format(new Date());
    const orgs = await call(base, admin, 'GET', '/api/organisations?limit=100');
    const botswana = orgs.items.find((o) => o.short_code === 'BW');
    assert.ok(botswana, 'Botswana');
    await call(base, admin, 'POST', `/api/bodies/${group.id}/terms`, { office: 'chair', organisation_id: botswana.id, starts_on: today }, 201);
    const kaboToken = await login(base, KABO.email);
    const draft = await call(base, kaboToken, 'POST', '/api/drafts', { title: TITLE, body_id: group.id }, 201);
    assert.equal(draft.stage, 'drafting');
    const room = `/drafts/${draft.id}`;

    // 3. Two delegates open the room: Botswana (the chair) and India.
    browser = await launchChromium();
    // 401: /api/me before sign-in; 409: the refused final reading (brackets), on purpose.
    const allowed = /status of (401|409)/;
    const kabo = await openPage(browser, 'kabo', problems, { allowed });
    const priya = await openPage(browser, 'priya', problems, { allowed });
    await signIn(kabo, base, KABO, room);
    await signIn(priya, base, PRIYA, room);
    for (const page of [kabo, priya]) {
      await page.getByRole('heading', { level: 1, name: TITLE }).waitFor();
      await page.getByRole('status').filter({ hasText: /^Connected$/ }).waitFor();
      await stageHeading(page, 'Drafting').waitFor();
      assert.equal(await editable(page), 'true', 'a participant edits while drafting');
    }
    const kaboMain = kabo.getByRole('main');
    const priyaMain = priya.getByRole('main');
    await kaboMain.getByRole('heading', { level: 2, name: 'Chair’s controls' }).waitFor();
    assert.equal(await priyaMain.getByRole('heading', { name: 'Chair’s controls' }).count(), 0, 'India does not chair the group');
    assert.equal(await priyaMain.getByRole('heading', { name: 'Object or abstain' }).count(), 0, 'nothing to object to while drafting');
    await kabo.locator('.presence-list').getByText(PRIYA.name).waitFor();
    await priyaMain.getByRole('region', { name: 'Brackets' }).getByText('Clean text').waitFor();
    await checkA11y(kabo, 'the drafting room (chair, empty draft)');
    await checkA11y(priya, 'the drafting room (delegate, empty draft)');

    // 4. Botswana types a text with one bracketed passage.
    await kabo.locator('.draft-editor .cm-content').click();
    await kabo.keyboard.type(LINE_1, { delay: 10 });
    await kabo.keyboard.press('Enter');
    await kabo.keyboard.press('Enter');
    await kabo.keyboard.type(LINE_2, { delay: 10 });
    const bracketedText = `${LINE_1}\n\n${LINE_2}`;
    await waitFor('both editors to show the bracketed text', async () => {
      const [a, b] = await Promise.all([editorText(kabo), editorText(priya)]);
      return { ok: a === bracketedText && b === bracketedText, a, b };
    });
    await kabo.locator('#draft-brackets').getByText('1 bracketed passage').waitFor();
    // The brackets panel (the server's reading of the text) lists it with its paragraph.
    const bracketButton = (page) =>
      page.getByRole('region', { name: 'Brackets' }).getByRole('button', { name: `Paragraph 2: ${BRACKETED}` });
    await bracketButton(kabo).waitFor();
    await bracketButton(priya).waitFor();
    await checkA11y(kabo, 'the drafting room with an open bracket');

    // The panel takes the editor to the passage and selects it.
    await bracketButton(kabo).click();
    await waitFor('the chair’s editor to select the bracket', async () => {
      const s = await kabo.evaluate(() => ({
        focused: document.activeElement?.classList.contains('cm-content') ?? false,
        // Without the word joiners of the other delegate's cursor (y-codemirror's caret widget).
        selected: (window.getSelection()?.toString() ?? '').replace(/\u2060/g, ''),
      }));
      return { ok: s.focused && s.selected === BRACKETED, ...s };
    });

    // Brackets block the final reading: the server says which, and the room shows it.
    await kaboMain.getByRole('button', { name: 'Final reading', exact: true }).click();
    const chairAlert = kabo.locator('.chair-console > .form-alert');
    await waitFor('the refusal of the final reading', async () => {
      const text = (await chairAlert.isVisible()) ? await chairAlert.innerText() : '';
      return { ok: text.includes('at least once every three years'), text };
    });
    assert.equal(await chairAlert.getAttribute('role'), 'alert');
    await stageHeading(kabo, 'Drafting').waitFor();
    await checkA11y(kabo, 'the chair’s refused final reading');

    // 5. India removes the brackets: the passage chosen in the panel, retyped without them.
    await bracketButton(priya).click();
    await waitFor('India’s editor to select the bracket', async () => {
      const selected = await priya.evaluate(() => (window.getSelection()?.toString() ?? '').replace(/\u2060/g, ''));
      return { ok: selected === BRACKETED, selected };
    });
    await priya.keyboard.type(BRACKETED.slice(1, -1), { delay: 10 });
    const cleanText = bracketedText.replace(BRACKETED, BRACKETED.slice(1, -1));
    await waitFor('both editors to show the clean text', async () => {
      const [a, b] = await Promise.all([editorText(kabo), editorText(priya)]);
      return { ok: a === cleanText && b === cleanText, a, b };
    });
    for (const page of [kabo, priya]) {
      await page.getByRole('region', { name: 'Brackets' }).getByText('Clean text: no brackets and no bracket problems.').waitFor();
      await page.locator('#draft-brackets').getByText('No bracketed passages').waitFor();
    }
    await checkA11y(priya, 'the drafting room with a clean text');

    // 6. The chair calls for objections for 30 minutes: both rooms show the stage and the
    //    countdown, and nobody edits.
    const callForm = kaboMain.getByRole('form', { name: 'Call for objections' });
    await callForm.getByLabel('Minutes to object').fill('30');
    await callForm.getByRole('button', { name: 'Call for objections' }).click();
    for (const page of [kabo, priya]) {
      await stageHeading(page, 'Call for objections').waitFor();
      const timer = page.getByRole('timer');
      await timer.waitFor();
      assert.match(await timer.innerText(), /^(29|30) min \d\d s$/);
      await waitFor('a read-only editor', async () => ({ ok: (await editable(page)) === 'false' }));
      await page.locator('#draft-banner').getByText('Read only — the text is frozen').waitFor();
    }
    await kabo.getByRole('status').filter({ hasText: 'Objections are called for, for 30 minutes.' }).waitFor({ state: 'attached' });
    await priyaMain.getByRole('heading', { level: 2, name: 'Object or abstain' }).waitFor();
    await checkA11y(kabo, 'the chair during a call for objections');
    await checkA11y(priya, 'a delegate during a call for objections');

    // 7. India objects; a reason is required.
    const objectForm = priyaMain.getByRole('form', { name: 'Object or abstain' });
    await objectForm.getByRole('button', { name: 'Object', exact: true }).click();
    await objectForm.getByText('Give the reason for your objection.').waitFor();
    assert.equal(await objectForm.getByLabel('Reason').getAttribute('aria-invalid'), 'true');
    await checkA11y(priya, 'the objection without a reason');
    await objectForm.getByLabel('Reason').fill(OBJECTION);
    await objectForm.getByRole('button', { name: 'Object', exact: true }).click();
    // Both rooms are back in drafting, and list the objection.
    for (const page of [priya, kabo]) {
      await stageHeading(page, 'Drafting').waitFor();
      const objections = page.getByRole('table', { name: 'Objections and abstentions recorded on this draft' });
      const row = objections.getByRole('row').filter({ hasText: OBJECTION });
      await row.waitFor();
      assert.match(await row.innerText(), /India/);
      assert.match(await row.innerText(), /Objection/);
      await waitFor('an editable editor', async () => ({ ok: (await editable(page)) === 'true' }));
    }
    assert.equal(await priyaMain.getByRole('heading', { name: 'Object or abstain' }).count(), 0);
    await checkA11y(priya, 'the drafting room after an objection (delegate)');
    await checkA11y(kabo, 'the drafting room after an objection (chair)');

    // 8. India meets the objection: "three" becomes "five".
    await priya.locator('.draft-editor .cm-content').click();
    await priya.keyboard.press('Control+End');
    for (let i = 0; i < ' years.'.length; i++) await priya.keyboard.press('ArrowLeft');
    for (let i = 0; i < 'three'.length; i++) await priya.keyboard.press('Shift+ArrowLeft');
    await priya.keyboard.type('five', { delay: 10 });
    const finalText = cleanText.replace('every three years', 'every five years');
    await waitFor('both editors to show the amended text', async () => {
      const [a, b] = await Promise.all([editorText(kabo), editorText(priya)]);
      return { ok: a === finalText && b === finalText, a, b };
    });
    await waitFor('the server to hold the amended text', async () => {
      const d = await call(base, kaboToken, 'GET', `/api/drafts/${draft.id}`);
      return { ok: d.text === finalText && d.brackets.clean, text: d.text };
    });

    // 9. The chair calls again, without a time limit, and declares adoption.
    await callForm.getByRole('button', { name: 'Call for objections' }).click();
    for (const page of [kabo, priya]) {
      await stageHeading(page, 'Call for objections').waitFor();
      await page.getByText('Open until the chair declares adoption.').waitFor();
    }
    await kaboMain.getByRole('button', { name: 'Declare adoption' }).click();
    const year = new Date().getUTCFullYear();
    const number = `AD ${year}/01`;
    for (const page of [kabo, priya]) {
      await stageHeading(page, 'Adopted').waitFor();
      await page.getByRole('main').getByRole('link', { name: number, exact: true }).waitFor();
      await waitFor('a read-only editor after adoption', async () => ({ ok: (await editable(page)) === 'false' }));
      await page.locator('#draft-banner').getByText('Read only — the text was adopted and can no longer be changed.').waitFor();
      assert.equal(await editorText(page), finalText);
    }
    assert.equal(await priyaMain.getByRole('heading', { name: 'Object or abstain' }).count(), 0, 'too late to object');
    await kaboMain.getByText('Nothing more to do: the draft has reached its end.').waitFor();
    // Nobody may write any more, says the server too.
    for (const token of [kaboToken, await login(base, PRIYA.email)]) {
      const d = await call(base, token, 'GET', `/api/drafts/${draft.id}`);
      assert.equal(d.stage, 'adopted');
      assert.equal(d.can_edit, false);
    }
    // Typing changes nothing.
    await priya.locator('.draft-editor .cm-content').click();
    await priya.keyboard.type('LATE', { delay: 10 });
    await sleep(800);
    assert.equal(await editorText(priya), finalText, 'the adopted text cannot be changed');
    await fs.mkdir(SCREENS, { recursive: true });
    await kabo.screenshot({ path: path.join(SCREENS, 'draft-adopted.png'), fullPage: true });
    await checkA11y(kabo, 'the adopted draft (chair)');
    await checkA11y(priya, 'the adopted draft (delegate)');

    // 10. The versions: saved at every step; what changed from the first call to the adoption.
    const versions = kaboMain.getByRole('table', { name: 'Saved versions of the draft, oldest first' });
    await versions.getByRole('row').filter({ hasText: 'as adopted' }).waitFor();
    const labels = await versions.locator('tbody th').allInnerTexts();
    assert.deepEqual(labels, ['1. as called for objections', '2. as called for objections', '3. as adopted']);
    await versions.getByRole('button', { name: 'View version 1' }).click();
    const versionView = kaboMain.getByRole('region', { name: 'Version 1: as called for objections' });
    await versionView.waitFor();
    assert.match(await versionView.locator('.version-text').innerText(), /every three years/);
    assert.equal(await kabo.evaluate(() => document.activeElement?.id), 'version-view-title', 'the version’s heading has the focus');
    await checkA11y(kabo, 'a version’s text');
    const compare = kaboMain.getByRole('form', { name: 'Compare versions' });
    await compare.getByLabel('From').selectOption('1');
    await compare.getByLabel('To').selectOption('3');
    await compare.getByRole('button', { name: 'Show the changes' }).click();
    const diff = kaboMain.getByRole('region', { name: 'Changes from version 1: as called for objections to version 3: as adopted' });
    await diff.waitFor();
    const deleted = await diff.locator('del').allInnerTexts();
    const inserted = await diff.locator('ins').allInnerTexts();
    assert.ok(deleted.some((t) => /three/.test(t)), `deleted: ${JSON.stringify(deleted)}`);
    assert.ok(inserted.some((t) => /five/.test(t)), `inserted: ${JSON.stringify(inserted)}`);
    // Screen readers hear what changed, not only sighted users.
    assert.match(await diff.locator('del').first().textContent(), /^\[deleted: /);
    assert.match(await diff.locator('ins').first().textContent(), /^\[inserted: /);
    const styles = await diff.locator('del').first().evaluate((el) => getComputedStyle(el).textDecorationLine);
    assert.match(styles, /line-through/);
    await checkA11y(kabo, 'the changes between two versions');

    // 11. The register of decisions has it, with its number.
    await kabo.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Decisions', exact: true }).click();
    await kabo.waitForURL(`${base}/decisions`);
    await kaboMain.getByRole('heading', { level: 1, name: 'Decisions' }).waitFor();
    const register = kaboMain.getByRole('table', { name: 'Decisions, newest first' });
    const row = register.getByRole('row').filter({ has: kabo.getByRole('rowheader', { name: number, exact: true }) });
    await row.waitFor();
    assert.match(await row.innerText(), new RegExp(TITLE));
    assert.match(await row.innerText(), new RegExp(GROUP.short));
    assert.match(await row.innerText(), /Consensus/);
    await checkA11y(kabo, 'the register of decisions');
    // Found by words, body and year; not by words it does not contain.
    const search = kaboMain.getByRole('search', { name: 'Find decisions' });
    await search.getByLabel('Words').fill('three years');
    await search.getByRole('button', { name: 'Search' }).click();
    await kaboMain.getByText('No decision matches the search.').waitFor();
    await search.getByLabel('Words').fill('five years');
    await search.getByLabel('Body').selectOption({ label: `${GROUP.short} — ${GROUP.name}` });
    await search.getByLabel('Year').selectOption(String(year));
    await search.getByRole('button', { name: 'Search' }).click();
    await kaboMain.getByText('1 decision found.').waitFor();
    await checkA11y(kabo, 'the register, searched');
    await register.getByRole('link', { name: number, exact: true }).click();
    await kabo.waitForURL(/\/decisions\/\d+$/);
    const decisionId = kabo.url().match(/\/decisions\/(\d+)$/)[1];
    await kaboMain.getByRole('heading', { level: 1, name: `${number} — ${TITLE}` }).waitFor();
    assert.equal(await kaboMain.locator('.decision-text').innerText(), finalText);
    const md = kaboMain.getByRole('link', { name: 'Download the text as Markdown' });
    assert.equal(await md.getAttribute('href'), `/api/decisions/${decisionId}.md`);
    const markdown = await kabo.evaluate(async (href) => (await fetch(href)).text(), await md.getAttribute('href'));
    assert.ok(markdown.startsWith(`# ${number} — ${TITLE}`), markdown);
    assert.equal(
      await kaboMain.getByRole('link', { name: /^The draft, its versions and objections/ }).getAttribute('href'),
      room,
    );
    await checkA11y(kabo, 'a decision’s page');

    // India's room is still read only after a fresh load.
    await priya.reload();
    await stageHeading(priya, 'Adopted').waitFor();
    await priya.getByRole('status').filter({ hasText: /^Connected$/ }).waitFor();
    assert.equal(await editable(priya), 'false');
    await checkA11y(priya, 'the adopted draft, reloaded');

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
