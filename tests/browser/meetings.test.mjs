// Browser test of a meeting run live: the secretariat's administrator (acting for the chair)
// schedules a plenary, puts three items on its agenda (the last in closed session), reorders
// them with the keyboard buttons, convenes and opens the meeting and takes the items up one after
// the other with "Next item". An observer follows in another browser, the meeting page open all
// along and never reloaded: each change of the item on the floor reaches it live and is announced
// politely, and the closed-session item's title never appears on its page — while that item is
// on the floor it reads "Closed session in progress". "Today" shows the meeting in session with
// its item on the floor. axe-core checks every page state on the way.
//
// Run from the repository root:  node --test tests/browser/
// Needs: target/debug/plenum (cargo build), frontend/node_modules (npm ci in frontend/),
// /usr/bin/chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { PLENUM, ROOT, freePort, run, start, stop, waitForReady } from '../support/processes.mjs';
import { checkA11y } from '../support/axe.mjs';
import { CHROMIUM, launchChromium, openPage, submitSignIn, waitFor } from '../support/browser.mjs';

const SCREENS = path.join(ROOT, 'target', 'browser-screens');

const ADMIN = { email: 'admin@secretariat.kp.example' };
const OBSERVER = { email: 'rafael.adler@wdc.kp.example', org: 'World Diamond Council (WDC)' };
const MEETING = 'Gaborone Plenary (browser test)';
const ITEMS = {
  adoption: 'Adoption of the agenda',
  opening: 'Opening of the meeting',
  closed: 'Review of the confidential compliance findings',
};
const HOUR = 3_600_000;

/** A `datetime-local` value in UTC. */
const localUtc = (ms) => new Date(ms).toISOString().slice(0, 16);

/** Opens the front page, is sent to the sign-in page (no `next`) and signs in. */
async function signIn(page, base, who) {
  await page.goto(`${base}/`);
  await page.waitForURL(`${base}/login`);
  await submitSignIn(page, who);
  // Signing in lands on "Today".
  await page.waitForURL(`${base}/`);
  await page.getByRole('main').getByRole('heading', { level: 1, name: 'Today' }).waitFor();
}

/** The observer's page must not hold the closed item's title anywhere (text, attributes, title). */
async function assertNoClosedTitle(page, when) {
  const html = await page.content();
  assert.ok(!html.includes(ITEMS.closed), `the observer's page shows the closed item's title ${when}`);
  assert.ok(!(await page.title()).includes(ITEMS.closed), `the observer's document title names the closed item ${when}`);
}

test('a chair runs a meeting live; an observer follows without seeing the closed session', { timeout: 300_000 }, async () => {
  assert.ok(existsSync(PLENUM), `${PLENUM} is missing: run \`cargo build\` first`);
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);

  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'plenum-meetings-'));
  const databaseUrl = `sqlite://${path.join(tmp, 'plenum.db')}`;
  let server;
  let browser;
  const problems = [];
  // While the server is stopped on purpose, the browser's complaints about it are expected.
  let serverDown = false;
  try {
    await run(PLENUM, ['demo', '--database-url', databaseUrl]);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const serveArgs = [
      'serve',
      '--database-url', databaseUrl,
      '--bind', `127.0.0.1:${port}`,
      '--public-url', base,
      '--mail-dir', path.join(tmp, 'mail'),
    ];
    server = start(PLENUM, serveArgs);
    server.stdin.end();
    await waitForReady(base, server);

    browser = await launchChromium();
    // 401: /api/me before sign-in; 415: the refused upload, on purpose; and, while the server is
    // down, its connections.
    const allowed = {
      test: (text) =>
        (serverDown && /ERR_CONNECTION_REFUSED|WebSocket connection to|ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET/.test(text))
        || /status of (401|415)/.test(text),
    };
    const open = (who) => openPage(browser, who, problems, { allowed, contextOptions: { viewport: { width: 1280, height: 1000 } } });

    // --- the administrator schedules the meeting ---
    const admin = await open('admin');
    await signIn(admin, base, ADMIN);
    await checkA11y(admin, 'Today (administrator)');
    const adminMain = admin.getByRole('main');
    const nav = admin.getByRole('navigation', { name: 'Main' });
    assert.equal(await nav.getByRole('link', { name: 'Today', exact: true }).getAttribute('aria-current'), 'page');

    await nav.getByRole('link', { name: 'Meetings', exact: true }).click();
    await admin.waitForURL(`${base}/meetings`);
    await adminMain.getByRole('heading', { level: 1, name: 'Meetings' }).waitFor();
    await adminMain.getByRole('heading', { level: 2, name: 'In session' }).waitFor();
    await adminMain.getByRole('heading', { level: 2, name: 'Past' }).waitFor();
    const newMeeting = adminMain.getByRole('form', { name: 'New meeting' });
    await newMeeting.waitFor();
    await adminMain.locator('p.muted:text-is("Loading meetings…")').first().waitFor({ state: 'detached' });
    await checkA11y(admin, 'the meetings page');

    const now = Date.now();
    const bodySelect = newMeeting.getByLabel('Body', { exact: true });
    await bodySelect.selectOption({ label: (await bodySelect.locator('option', { hasText: /^KP — / }).first().innerText()).trim() });
    await newMeeting.getByLabel('Kind', { exact: true }).selectOption('plenary');
    await newMeeting.getByLabel('Title', { exact: true }).fill(MEETING);
    await newMeeting.getByLabel('Venue').fill('Gaborone International Convention Centre');
    await newMeeting.getByLabel('Time zone', { exact: true }).fill('UTC');
    await newMeeting.getByLabel('Starts', { exact: true }).fill(localUtc(now - HOUR));
    await newMeeting.getByLabel('Ends', { exact: true }).fill(localUtc(now + 30 * HOUR));
    await newMeeting.getByRole('button', { name: 'Create meeting' }).click();
    await admin.waitForURL(/\/meetings\/\d+$/);
    const meetingUrl = admin.url();
    await adminMain.getByRole('heading', { level: 1, name: MEETING }).waitFor();
    await adminMain.getByText('No items on the agenda yet.').waitFor();
    const adminConsole = adminMain.getByRole('region', { name: 'Chair’s console' });
    await adminConsole.getByRole('button', { name: 'Convene meeting' }).waitFor();
    await checkA11y(admin, 'the new meeting (draft)');

    // --- three items; the third in closed session ---
    const agenda = adminMain.getByRole('region', { name: 'Agenda' });
    const addItem = adminMain.getByRole('form', { name: 'Add an agenda item' });
    const add = async (title, { closed = false, purpose = 'for_decision', minutes = '15' } = {}) => {
      await addItem.getByLabel('Title', { exact: true }).fill(title);
      await addItem.getByLabel('Purpose').selectOption(purpose);
      await addItem.getByLabel('Presented by').fill('The Chair');
      await addItem.getByLabel('Duration in minutes').fill(minutes);
      if (closed) await addItem.getByLabel('Closed session', { exact: true }).check();
      await addItem.getByRole('button', { name: 'Add item' }).click();
      await agenda.locator('.agenda-title', { hasText: title }).waitFor();
      await admin.getByRole('status').filter({ hasText: `${title}, added` }).waitFor({ state: 'attached' });
    };
    await add(ITEMS.adoption);
    await add(ITEMS.opening, { purpose: 'for_information', minutes: '10' });
    await add(ITEMS.closed, { closed: true, purpose: 'for_discussion', minutes: '30' });
    assert.equal(await addItem.getByLabel('Closed session', { exact: true }).isChecked(), false, 'the form is reset after adding');

    const numberOf = async (title) =>
      (await agenda.locator('li.agenda-item').filter({ has: admin.locator('.agenda-title', { hasText: title }) }).first().locator('.agenda-number').first().innerText()).trim();
    assert.equal(await numberOf(ITEMS.adoption), '1');
    assert.equal(await numberOf(ITEMS.opening), '2');
    assert.equal(await numberOf(ITEMS.closed), '3');
    await checkA11y(admin, 'the agenda with three items');

    // The opening comes first: moved up with the keyboard, the focus staying with it.
    const moveUp = agenda.getByRole('button', { name: 'Move up, item 2' });
    await moveUp.focus();
    await admin.keyboard.press('Enter');
    await admin.getByRole('status').filter({ hasText: `“${ITEMS.opening}” is now item 1` }).waitFor({ state: 'attached' });
    assert.equal(await numberOf(ITEMS.opening), '1');
    assert.equal(await numberOf(ITEMS.adoption), '2');
    assert.equal(
      await admin.evaluate(() => document.activeElement?.closest('li.agenda-item')?.querySelector('.agenda-title')?.textContent),
      ITEMS.opening,
      'the focus stays on the moved item',
    );

    // By drag and drop: the adoption dropped on the upper half of item 1 goes before it; the
    // keyboard puts it back.
    const headOf = (title) => agenda.locator('.agenda-item-head').filter({ has: admin.locator('.agenda-title', { hasText: title }) });
    await headOf(ITEMS.adoption).dragTo(headOf(ITEMS.opening), { targetPosition: { x: 40, y: 3 } });
    await admin.getByRole('status').filter({ hasText: `“${ITEMS.adoption}” is now item 1` }).waitFor({ state: 'attached' });
    assert.equal(await numberOf(ITEMS.adoption), '1');
    assert.equal(await numberOf(ITEMS.opening), '2');
    await agenda.getByRole('button', { name: 'Move down, item 1' }).click();
    await admin.getByRole('status').filter({ hasText: `“${ITEMS.adoption}” is now item 2` }).waitFor({ state: 'attached' });
    assert.equal(await numberOf(ITEMS.opening), '1');
    assert.equal(await numberOf(ITEMS.closed), '3');

    // A document for item 1: a program is refused (415), beside the field; a text file is taken.
    const item1 = agenda.locator('li.agenda-item').filter({ has: admin.locator('.agenda-title', { hasText: ITEMS.opening }) });
    await item1.locator('summary', { hasText: 'Change item 1' }).click();
    const docs = item1.getByRole('form', { name: 'Documents of item 1' });
    await docs.getByLabel('File', { exact: true }).setInputFiles({ name: 'tool.exe', mimeType: 'application/octet-stream', buffer: Buffer.from('MZ\x90\x00') });
    await docs.getByRole('button', { name: 'Upload' }).click();
    await docs.locator('[name="file"][aria-invalid="true"]').waitFor();
    const fileError = await docs.getByLabel('File', { exact: true }).evaluate((el) => {
      const ids = (el.getAttribute('aria-describedby') ?? '').split(/\s+/);
      const error = ids.map((id) => document.getElementById(id)).find((n) => n?.classList.contains('field-error'));
      return { text: error?.textContent ?? '', hidden: error?.hidden ?? true, next: el.nextElementSibling === error };
    });
    assert.equal(fileError.hidden, false, 'the refusal is shown');
    assert.ok(fileError.next, 'the refusal stands right below the field');
    assert.ok(fileError.text.length > 0);
    await checkA11y(admin, 'the upload refused beside the field');
    await docs.getByLabel('File', { exact: true }).setInputFiles({ name: 'opening-statement.txt', mimeType: 'text/plain', buffer: Buffer.from('Welcome to Gaborone.\n') });
    await docs.getByRole('button', { name: 'Upload' }).click();
    await item1.getByRole('list', { name: 'Documents of item 1' }).getByRole('link', { name: 'opening-statement.txt' }).waitFor();
    assert.equal(await docs.locator('[name="file"][aria-invalid="true"]').count(), 0, 'the error is gone');
    await item1.locator('summary', { hasText: 'Change item 1' }).click();

    // --- convened, then open ---
    await adminConsole.getByRole('button', { name: 'Convene meeting' }).click();
    await adminConsole.getByRole('button', { name: 'Open meeting' }).waitFor();
    await adminConsole.getByRole('button', { name: 'Adopt agenda' }).click();
    await adminMain.getByRole('heading', { level: 2, name: 'Agenda as amended' }).waitFor();
    await adminConsole.getByRole('button', { name: 'Open meeting' }).click();
    await adminConsole.getByRole('button', { name: 'Close meeting' }).waitFor();
    await adminMain.getByRole('heading', { level: 2, name: 'On the floor' }).waitFor();
    await checkA11y(admin, 'the meeting in session, nothing on the floor');

    // The observer is invited (observers of the plenary are); if not, the chair invites its organisation.
    const invited = adminMain.getByRole('region', { name: 'Invited' });
    if ((await invited.getByText(OBSERVER.org, { exact: true }).count()) === 0) {
      const invite = adminMain.getByRole('form', { name: 'Invite a guest organisation' });
      const orgSelect = invite.getByLabel('Organisation', { exact: true });
      await orgSelect.selectOption({ label: (await orgSelect.locator('option', { hasText: OBSERVER.org }).first().innerText()).trim() });
      await invite.getByRole('button', { name: 'Invite' }).click();
      await invited.getByText(OBSERVER.org, { exact: true }).waitFor();
    }

    // --- the observer opens the meeting page (and keeps it open) ---
    const observer = await open('observer');
    await signIn(observer, base, OBSERVER);
    await observer.goto(meetingUrl);
    const obsMain = observer.getByRole('main');
    await obsMain.getByRole('heading', { level: 1, name: MEETING }).waitFor();
    await obsMain.locator('.live-indicator', { hasText: 'Live' }).waitFor();
    const obsAgenda = obsMain.getByRole('region', { name: 'Agenda' });
    await obsAgenda.locator('.agenda-title', { hasText: ITEMS.opening }).waitFor();
    await obsAgenda.locator('.agenda-title', { hasText: ITEMS.adoption }).waitFor();
    await obsAgenda.getByRole('link', { name: 'opening-statement.txt' }).waitFor();
    assert.equal(await obsAgenda.locator('li.agenda-item').count(), 2, 'the observer sees two items');
    assert.equal(await obsMain.getByRole('region', { name: 'Chair’s console' }).count(), 0, 'no console for an observer');
    assert.equal(await obsMain.getByRole('button', { name: /Make current/ }).count(), 0);
    await assertNoClosedTitle(observer, 'on opening the page');
    await checkA11y(observer, 'the meeting page (observer)');
    // Set on the page itself: gone if the page were ever reloaded.
    await observer.evaluate(() => {
      window.__sameDocument = true;
    });
    const obsFloor = obsMain.getByRole('region', { name: 'On the floor' });
    const obsFloorTitle = obsFloor.locator('.floor-title');

    // --- item 1 on the floor ---
    await agenda.getByRole('button', { name: 'Make current, item 1' }).click();
    await adminMain.getByRole('region', { name: 'On the floor' }).locator('.floor-title', { hasText: ITEMS.opening }).waitFor();
    await agenda.locator('li.agenda-item.is-current .agenda-title', { hasText: ITEMS.opening }).waitFor();
    await obsFloorTitle.filter({ hasText: ITEMS.opening }).waitFor();
    await obsAgenda.locator('li.agenda-item.is-current .agenda-title', { hasText: ITEMS.opening }).waitFor();
    await observer.getByRole('status').filter({ hasText: `Now on the floor: item 1, ${ITEMS.opening}.` }).waitFor({ state: 'attached' });
    // The time on the item ticks.
    const elapsed = obsFloor.locator('.elapsed');
    const before = await elapsed.innerText();
    await observer.waitForFunction((t) => document.querySelector('.floor .elapsed')?.textContent !== t, before, { timeout: 5_000 });
    await assertNoClosedTitle(observer, 'with item 1 on the floor');
    await checkA11y(admin, 'the chair console with item 1 on the floor');
    await checkA11y(observer, 'the observer with item 1 on the floor');

    // --- "Next item": item 2 ---
    await adminConsole.getByRole('button', { name: `Next item: 2. ${ITEMS.adoption}` }).click();
    await obsFloorTitle.filter({ hasText: ITEMS.adoption }).waitFor();
    await observer.getByRole('status').filter({ hasText: `Now on the floor: item 2, ${ITEMS.adoption}.` }).waitFor({ state: 'attached' });
    await obsAgenda.locator('li.agenda-item', { hasText: ITEMS.opening }).locator('.badge', { hasText: 'Done' }).waitFor();
    assert.equal(await observer.evaluate(() => window.__sameDocument), true, 'the observer page was not reloaded');
    await assertNoClosedTitle(observer, 'with item 2 on the floor');
    await checkA11y(observer, 'the observer with item 2 on the floor');

    // --- "Next item": the closed-session item ---
    await adminConsole.getByRole('button', { name: `Next item: 3. ${ITEMS.closed}` }).click();
    await adminMain.getByRole('region', { name: 'On the floor' }).locator('.floor-title', { hasText: ITEMS.closed }).waitFor();
    await obsFloorTitle.filter({ hasText: 'Closed session in progress' }).waitFor();
    await observer.getByRole('status').filter({ hasText: 'Closed session in progress.' }).waitFor({ state: 'attached' });
    assert.equal(await obsAgenda.locator('li.agenda-item.is-current').count(), 0, 'no visible item is current');
    assert.equal(await observer.evaluate(() => window.__sameDocument), true, 'the observer page was not reloaded');
    await assertNoClosedTitle(observer, 'with the closed item on the floor');
    await checkA11y(observer, 'the observer during the closed session');
    await checkA11y(admin, 'the chair console during the closed session');
    await fs.mkdir(SCREENS, { recursive: true });
    await admin.screenshot({ path: path.join(SCREENS, 'meeting-chair.png'), fullPage: true });
    await observer.screenshot({ path: path.join(SCREENS, 'meeting-observer.png'), fullPage: true });

    // --- "Today" shows the meeting in session with what is on the floor ---
    await observer.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Today', exact: true }).click();
    await observer.waitForURL(`${base}/`);
    const obsInSession = obsMain.getByRole('region', { name: 'In session now' });
    const obsEntry = obsInSession.getByRole('listitem').filter({ has: observer.getByRole('link', { name: MEETING }) });
    await obsEntry.waitFor();
    await obsEntry.getByText('Closed session in progress').waitFor();
    await assertNoClosedTitle(observer, 'on Today');
    await checkA11y(observer, 'Today (observer) with a meeting in session');

    await nav.getByRole('link', { name: 'Today', exact: true }).click();
    await admin.waitForURL(`${base}/`);
    const adminEntry = adminMain.getByRole('region', { name: 'In session now' }).getByRole('listitem').filter({ has: admin.getByRole('link', { name: MEETING }) });
    await adminEntry.getByText(ITEMS.closed, { exact: false }).waitFor();
    await checkA11y(admin, 'Today (administrator) with a meeting in session');

    // Live on Today too: the chair clears the floor from the meeting page (another tab).
    const chair = await admin.context().newPage();
    chair.setDefaultTimeout(15_000);
    chair.on('pageerror', (err) => problems.push(`[chair tab] page error: ${err.message}`));
    await chair.goto(meetingUrl);
    const chairMain = chair.getByRole('main');
    await chairMain.locator('.live-indicator', { hasText: 'Live' }).waitFor();
    await chair.getByRole('button', { name: 'Clear the floor (no item current)' }).click();
    await obsEntry.getByText('No item on the floor').waitFor();

    // --- the connection drops: the observer (back on the meeting page, no reload) reconnects
    //     with the last event number and gets what it missed ---
    await observer.goBack();
    await obsMain.getByRole('heading', { level: 1, name: MEETING }).waitFor();
    await obsMain.locator('.live-indicator', { hasText: 'Live' }).waitFor();
    await chairMain.locator('.live-indicator', { hasText: 'Live' }).waitFor();
    serverDown = true;
    await stop(server, 'plenum serve', 'SIGKILL'); // a crash: nothing is closed cleanly
    await obsMain.locator('.live-indicator', { hasText: 'Reconnecting…' }).waitFor();
    server = start(PLENUM, serveArgs);
    server.stdin.end();
    await waitForReady(base, server);
    // The chair acts at once, likely before the observer is back: the event is replayed to it.
    await chair.getByRole('button', { name: 'Make current, item 2' }).click();
    await chairMain.getByRole('region', { name: 'On the floor' }).locator('.floor-title', { hasText: ITEMS.adoption }).waitFor();
    await obsFloorTitle.filter({ hasText: ITEMS.adoption }).waitFor({ timeout: 30_000 });
    await obsMain.locator('.live-indicator', { hasText: 'Live' }).waitFor({ timeout: 30_000 });
    serverDown = false;
    assert.equal(await observer.evaluate(() => window.__sameDocument), true, 'the observer page was not reloaded');
    await assertNoClosedTitle(observer, 'after reconnecting');

    // --- the chair closes the meeting, after confirming ---
    const chairConsole = chairMain.getByRole('region', { name: 'Chair’s console' });
    await chairConsole.getByRole('button', { name: 'Close meeting' }).click();
    const confirm = chairConsole.getByRole('group', { name: /^Close the meeting\?/ });
    await confirm.waitFor();
    // The focus moves once the confirmation has rendered: wait for it (with a deadline).
    await waitFor('the confirmation to take the focus', async () => {
      const focused = await chair.evaluate(() => document.activeElement?.textContent);
      return { ok: focused === 'Yes, close the meeting', focused };
    }, 5_000);
    await checkA11y(chair, 'the confirmation of closing the meeting');
    await confirm.getByRole('button', { name: 'Yes, close the meeting' }).click();
    await chairMain.locator('.body-meta .badge', { hasText: 'Closed' }).waitFor();
    await obsMain.locator('.body-meta .badge', { hasText: 'Closed' }).waitFor();
    await chair.getByRole('status').filter({ hasText: 'The meeting is closed.' }).waitFor({ state: 'attached' });
    await chair.close();

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
