// Browser test of the bodies and their rotating chairmanship: a secretariat administrator sets up
// a working group under the plenary, adds two member organisations, gives one of them the chair,
// and sees the term on the timeline (its picture and its table); a term that would end before it
// starts is refused by the server and the message stands beside the field. axe-core checks every
// page on the way.
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
import { CHROMIUM, launchChromium, openPage, signInCheckingA11y, waitFor } from '../support/browser.mjs';

const SCREENS = path.join(ROOT, 'target', 'browser-screens');

const ADMIN = { email: 'admin@secretariat.kp.example' };
const GROUP = { name: 'Working Group on Traceability', short: 'WGT' };
const DAY = 86_400_000;

const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);

/** How many pixels of the canvas are painted (the chart drew something). */
async function paintedPixels(canvas) {
  return canvas.evaluate((el) => {
    const ctx = el.getContext('2d');
    if (!ctx || !el.width || !el.height) return 0;
    const data = ctx.getImageData(0, 0, el.width, el.height).data;
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
    return painted;
  });
}

test('an administrator sets up a working group, its members and its chair', { timeout: 240_000 }, async () => {
  assert.ok(existsSync(PLENUM), `${PLENUM} is missing: run \`cargo build\` first`);
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);

  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'plenum-bodies-'));
  const databaseUrl = `sqlite://${path.join(tmp, 'plenum.db')}`;
  let server;
  let browser;
  const problems = [];
  try {
    // 1. The demo body (its plenary, organisations and secretariat administrator), then the server.
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
    // The refused term (422) is logged by the browser as a failed request: that one is expected.
    const page = await openPage(browser, 'admin', problems, { allowed: /status of (401|422)/ });
    const main = page.getByRole('main');

    // 3. Sign in and land on the bodies.
    await signInCheckingA11y(page, base, ADMIN, '/bodies');
    await main.getByRole('heading', { level: 1, name: 'Bodies' }).waitFor();
    const plenaryLink = main.getByRole('link', { name: /^KP — / });
    await plenaryLink.waitFor();
    // The working groups hang below the plenary.
    const plenaryNode = main.locator('li.body-node').filter({ has: page.getByRole('link', { name: /^KP — / }) }).first();
    await plenaryNode.getByRole('link', { name: /^WGM — / }).waitFor();
    await checkA11y(page, 'the bodies list');

    // 4. The plenary's own page: its chairmanship since 2003 on the timeline.
    await plenaryLink.click();
    await page.waitForURL(/\/bodies\/\d+$/);
    await main.getByRole('heading', { level: 1, name: /\(KP\)/ }).waitFor();
    await main.getByRole('img', { name: 'Chairmanship timeline of KP' }).waitFor();
    await main.getByRole('heading', { level: 2, name: 'In office' }).waitFor();
    await checkA11y(page, 'the plenary page');
    await page.goBack();
    await main.getByRole('heading', { level: 1, name: 'Bodies' }).waitFor();

    // 5. A new working group under the plenary.
    const newBody = main.getByRole('form', { name: 'New body' });
    await newBody.getByLabel('Kind', { exact: true }).selectOption('working_group');
    await newBody.getByLabel('Name', { exact: true }).fill(GROUP.name);
    await newBody.getByLabel('Short name', { exact: true }).fill(GROUP.short);
    assert.match(await newBody.getByLabel('Part of').locator('option:checked').innerText(), /^KP — /, 'a working group is part of the plenary');
    await newBody.getByLabel('Mandate').fill('Follows how rough diamonds are traced from mine to export.');
    await newBody.getByRole('button', { name: 'Create body' }).click();
    await page.waitForURL(/\/bodies\/\d+$/);
    await main.getByRole('heading', { level: 1, name: `${GROUP.name} (${GROUP.short})` }).waitFor();
    await main.getByRole('link', { name: 'KP', exact: true }).waitFor(); // the breadcrumb to its parent
    await main.getByText('No members yet.').waitFor();
    await checkA11y(page, 'the new working group');

    // 6. Two member organisations.
    const memberForm = main.getByRole('form', { name: 'Add or change a member' });
    const members = main.getByRole('table', { name: `Members of ${GROUP.short}` });
    for (const org of ['Botswana (BW)', 'India (IN)']) {
      await memberForm.getByLabel('Organisation', { exact: true }).selectOption({ label: org });
      await memberForm.getByRole('button', { name: 'Add member' }).click();
      await members.getByRole('rowheader', { name: org, exact: true }).waitFor();
      await page.getByRole('status').filter({ hasText: 'is now a member' }).waitFor({ state: 'attached' });
    }
    assert.equal(await members.getByRole('row').count(), 3, 'a header row and two members');
    await checkA11y(page, 'the working group with two members');

    // 7. Botswana chairs it, from a month ago for the next ten months.
    const now = Date.now();
    const startsOn = isoDay(now - 30 * DAY);
    const endsOn = isoDay(now + 300 * DAY);
    const addTerm = main.getByRole('form', { name: 'Add a term' });
    await addTerm.getByLabel('Office', { exact: true }).selectOption('chair');
    await addTerm.getByLabel('Organisation', { exact: true }).selectOption({ label: 'Botswana (BW)' });
    await addTerm.getByLabel('Person').selectOption({ label: 'Kabo Molefe' });
    await addTerm.getByLabel('Starts on').fill(startsOn);
    await addTerm.getByLabel('Ends on').fill(endsOn);
    await addTerm.getByRole('button', { name: 'Add term' }).click();
    await page.getByRole('status').filter({ hasText: 'Chair term of Botswana added' }).waitFor({ state: 'attached' });

    // ... and is in office.
    const inOffice = main.getByRole('region', { name: 'In office' });
    await inOffice.getByText('Botswana (BW)').first().waitFor();

    // The timeline: a picture with an accessible name and description, and the same terms as a table.
    const picture = main.getByRole('img', { name: `Chairmanship timeline of ${GROUP.short}` });
    await picture.waitFor();
    assert.equal(await picture.evaluate((el) => el.tagName), 'CANVAS');
    const description = await picture.evaluate((el) => document.getElementById(el.getAttribute('aria-describedby'))?.textContent ?? '');
    assert.match(description, /1 term of WGT/);
    assert.match(description, /in office: chair Botswana \(BW\)/);
    // The chart paints the canvas once its library chunk has loaded.
    await waitFor('the timeline to be drawn', async () => {
      const painted = await paintedPixels(picture);
      return { ok: painted > 500, painted };
    }, 10_000);
    await main.getByText('The timeline as a table').click();
    const termTable = main.getByRole('table', { name: `Chairmanship terms of ${GROUP.short}, earliest first` });
    const chairRow = termTable.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'Chair', exact: true }) });
    await chairRow.waitFor();
    assert.equal(await chairRow.count(), 1);
    const cells = await chairRow.getByRole('cell').allInnerTexts();
    assert.equal(cells[0], 'Botswana (BW)');
    assert.equal(cells[1], 'Kabo Molefe');
    assert.equal(cells[4], 'Current');
    await checkA11y(page, 'the working group with its chair on the timeline');
    await fs.mkdir(SCREENS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENS, 'body.png'), fullPage: true });

    // 8. A term that would end before it starts: the server refuses it (422) and says so beside
    //    the field.
    await addTerm.getByLabel('Office', { exact: true }).selectOption('vice_chair');
    await addTerm.getByLabel('Organisation', { exact: true }).selectOption({ label: 'India (IN)' });
    await addTerm.getByLabel('Starts on').fill(isoDay(now + 400 * DAY));
    await addTerm.getByLabel('Ends on').fill(isoDay(now + 100 * DAY));
    await addTerm.getByRole('button', { name: 'Add term' }).click();
    const endsField = addTerm.getByLabel('Ends on');
    await addTerm.locator('[name="ends_on"][aria-invalid="true"]').waitFor();
    const fieldError = await endsField.evaluate((el) => {
      const ids = (el.getAttribute('aria-describedby') ?? '').split(/\s+/);
      const error = ids.map((id) => document.getElementById(id)).find((n) => n?.classList.contains('field-error'));
      return { text: error?.textContent ?? '', hidden: error?.hidden ?? true, next: el.nextElementSibling === error };
    });
    assert.equal(fieldError.hidden, false, 'the message is shown');
    assert.ok(fieldError.next, 'the message stands right below the field');
    assert.match(fieldError.text, /^Ends on .*start/i);
    await addTerm.getByRole('alert').filter({ hasText: 'Please correct the fields marked below.' }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'ends_on', 'the focus is on the field');
    assert.equal(await termTable.getByRole('row').count(), 2, 'nothing was added');
    await checkA11y(page, 'the add-term form with a field error');

    // 9. Back on the list, the working group sits below the plenary with its chair.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Bodies', exact: true }).click();
    await main.getByRole('heading', { level: 1, name: 'Bodies' }).waitFor();
    const groupNode = plenaryNode.locator('li.body-node').filter({ has: page.getByRole('link', { name: `${GROUP.short} — ${GROUP.name}` }) });
    await groupNode.waitFor();
    assert.match(await groupNode.innerText(), /Chair\s*Botswana \(BW\)/);
    await checkA11y(page, 'the bodies list with the new working group');

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
