// Browser test of the written (silence) procedure: in the drafting room of a working group
// chaired by Botswana, Botswana's delegate (the chair) writes a clean text and circulates it in
// writing with a deadline through the chair's form; every room shows the procedure and its
// deadline, nobody edits, and every active participant's delegates are mailed the text (through
// a real SMTP sink). Namibia abstains with a reason — nothing changes for the others; India
// objects with a reason and every room shows the silence broken (mailed to all). The chair takes
// the draft back to drafting, amends it and circulates it again with a deadline a few seconds
// away; the server's scheduler (run every second) adopts it at the deadline, every room shows
// the decision's number, every editor is read only, and the register lists the decision as
// adopted by written procedure. axe-core checks every page state.
//
// Run from the repository root:  node --test tests/browser/written-procedure.test.mjs
// Needs: target/debug/plenum (cargo build), frontend/dist (npm run build in frontend/),
// frontend/node_modules (npm ci in frontend/), /usr/bin/chromium, python3 with aiosmtpd
// (tests/support/smtp_sink.py).
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
// The sink needs Debian's python3-aiosmtpd: prefer the system interpreter.
const PYTHON = process.env.PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
// The delegates' browsers run in a time zone other than UTC, so the deadline typed in the
// chair's form (local time) must reach the server as the same instant.
const TIME_ZONE = 'Africa/Gaborone';

const ADMIN = { email: 'admin@secretariat.kp.example' };
const KABO = { email: 'kabo.molefe@bw.kp.example', name: 'Kabo Molefe' };
const PRIYA = { email: 'priya.raman@in.kp.example', name: 'Priya Raman' };
const NDAPEWA = { email: 'ndapewa.shikongo@na.kp.example', name: 'Ndapewa Shikongo' };
const GROUP = { name: 'Working Group on Statistics Reporting', short: 'WGSR' };
const TITLE = 'Decision on the deadline for statistics reports';
const LINE_1 = 'The Working Group on Statistics Reporting,';
const LINE_2 = 'Decides that Participants submit their production statistics by 31 March.';
const LINE_3 = 'Requests the Secretariat to remind Participants one month before.';
const ABSTENTION = 'Namibia reports through its customs authority and takes no position.';
const OBJECTION = 'The date falls before our fiscal year closes; we need until 30 June.';

// ---------------------------------------------------------------------------
// Mail from the SMTP sink: the envelope recipient, the subject and the plain-text part.

async function waitForLine(child, pattern, timeoutMs, name) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const m = child.output.match(pattern);
    if (m) return m;
    if (child.exitCode !== null) throw new Error(`${name} exited early (${child.exitCode}):\n${child.output}`);
    await sleep(50);
  }
  throw new Error(`${name} did not print ${pattern} within ${timeoutMs} ms:\n${child.output}`);
}

function splitHeaders(raw) {
  const idx = raw.search(/\r?\n\r?\n/);
  if (idx < 0) return { headers: {}, body: '' };
  const head = raw.slice(0, idx).replace(/\r?\n[ \t]+/g, ' ');
  const body = raw.slice(idx).replace(/^\r?\n\r?\n/, '');
  const headers = {};
  for (const line of head.split(/\r?\n/)) {
    const c = line.indexOf(':');
    if (c > 0) headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
  }
  return { headers, body };
}

function decodeQuotedPrintable(text) {
  const softless = text.replace(/=\r?\n/g, '');
  const bytes = [];
  for (let i = 0; i < softless.length; i++) {
    if (softless[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(softless.slice(i + 1, i + 3))) {
      bytes.push(parseInt(softless.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(softless[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`) in a header. */
function decodeHeader(value) {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (_, _charset, enc, text) =>
      enc.toLowerCase() === 'b'
        ? Buffer.from(text, 'base64').toString('utf8')
        : decodeQuotedPrintable(text.replace(/_/g, ' ')));
}

/** The text/plain part of a message (multipart or not), decoded. */
function plainText(raw) {
  const { headers, body } = splitHeaders(raw);
  const ctype = headers['content-type'] ?? 'text/plain';
  if (/^multipart\//i.test(ctype)) {
    const boundary = ctype.match(/boundary="?([^";]+)"?/i)?.[1];
    if (!boundary) return '';
    for (const piece of body.split(`--${boundary}`).slice(1)) {
      if (piece.startsWith('--')) break;
      const text = plainText(piece.replace(/^\r?\n/, ''));
      if (text) return text;
    }
    return '';
  }
  if (!/^text\/plain/i.test(ctype)) return '';
  const cte = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const text = cte === 'quoted-printable' ? decodeQuotedPrintable(body)
    : cte === 'base64' ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
    : body;
  return text.replace(/\r\n/g, '\n');
}

/** Every message the sink saved so far: [{ to, subject, text }]. */
async function readMail(dir) {
  const names = (await fs.readdir(dir).catch(() => [])).filter((n) => n.endsWith('.eml')).sort();
  const out = [];
  for (const name of names) {
    const raw = await fs.readFile(path.join(dir, name), 'utf8');
    const { headers } = splitHeaders(raw);
    out.push({
      file: name,
      to: (headers['x-envelope-to'] ?? '').toLowerCase(),
      subject: decodeHeader(headers.subject ?? ''),
      text: plainText(raw),
    });
  }
  return out;
}

/** Waits until each of `recipients` has a message matching `match`; returns them by address. */
async function waitForMailTo(dir, recipients, match, what, timeoutMs = 30_000) {
  const found = await waitFor(what, async () => {
    const mail = (await readMail(dir)).filter(match);
    const missing = recipients.filter((r) => !mail.some((m) => m.to === r));
    return { ok: missing.length === 0, missing, mail };
  }, timeoutMs);
  return new Map(recipients.map((r) => [r, found.mail.find((m) => m.to === r)]));
}

/** The deadline as the server writes it in mail: "Friday 12 June 2026, 15:00 UTC". */
function mailDeadline(iso) {
  const d = new Date(iso);
  const day = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'][d.getUTCDay()];
  const month = new Intl.DateTimeFormat('en-GB', { month: 'long', timeZone: 'UTC' }).format(d);
  const hm = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
  return `${day} ${d.getUTCDate()} ${month} ${d.getUTCFullYear()}, ${hm} UTC`;
}

// ---------------------------------------------------------------------------

test('a text circulated in writing: silence broken, then adopted at the deadline', { timeout: 300_000 }, async () => {
  assert.ok(existsSync(PLENUM), `${PLENUM} is missing: run \`cargo build\` first`);
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);

  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'plenum-written-'));
  const mailDir = path.join(tmp, 'mail');
  const databaseUrl = `sqlite://${path.join(tmp, 'plenum.db')}`;
  let sink;
  let server;
  let browser;
  const problems = [];
  try {
    // 1. The SMTP sink, the demo body, then the server, whose scheduler runs every second.
    sink = start(PYTHON, [path.join('tests', 'support', 'smtp_sink.py'), '--dir', mailDir]);
    sink.stdin.end();
    const smtpPort = (await waitForLine(sink, /LISTENING (\d+)/, 15_000, 'smtp sink'))[1];
    await run(PLENUM, ['demo', '--database-url', databaseUrl]);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    server = start(PLENUM, [
      'serve',
      '--database-url', databaseUrl,
      '--bind', `127.0.0.1:${port}`,
      '--public-url', base,
      '--scheduler-secs', '1',
      '--mail-transport', 'smtp',
      '--smtp-host', '127.0.0.1',
      '--smtp-port', smtpPort,
      '--smtp-security', 'none',
      '--mail-from', 'plenum@example.org',
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
      mandate: 'Keeps the production statistics of the Participants.',
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
    const getDraft = () => call(base, kaboToken, 'GET', `/api/drafts/${draft.id}`);
    // Who must be mailed: every delegate of an active participant who can sign in.
    const users = await call(base, admin, 'GET', '/api/users?limit=200');
    const everyone = users.items.map((u) => u.email.toLowerCase());
    const mailed = users.items
      .filter((u) => u.organisation.kind === 'participant' && u.organisation.status === 'active' && !u.disabled && !u.pending)
      .map((u) => u.email.toLowerCase())
      .sort();
    for (const who of [KABO, PRIYA, NDAPEWA]) assert.ok(mailed.includes(who.email), `${who.email} is a participant's delegate`);
    const notMailed = everyone.filter((e) => !mailed.includes(e));
    assert.ok(notMailed.includes('rafael.adler@wdc.kp.example'), 'observers are not participants');
    assert.ok(notMailed.includes('awa.kone@ci.kp.example'), 'a suspended participant is not mailed');

    // 3. Three delegates open the room: Botswana (the chair), India and Namibia.
    browser = await launchChromium();
    const contextOptions = { timezoneId: TIME_ZONE };
    const kabo = await openPage(browser, 'kabo', problems, { contextOptions });
    const priya = await openPage(browser, 'priya', problems, { contextOptions });
    const ndapewa = await openPage(browser, 'ndapewa', problems, { contextOptions });
    const pages = [kabo, priya, ndapewa];
    await signIn(kabo, base, KABO, room);
    await signIn(priya, base, PRIYA, room);
    await signIn(ndapewa, base, NDAPEWA, room);
    for (const page of pages) {
      await page.getByRole('heading', { level: 1, name: TITLE }).waitFor();
      await page.getByRole('status').filter({ hasText: /^Connected$/ }).waitFor();
      await stageHeading(page, 'Drafting').waitFor();
      assert.equal(await editable(page), 'true', 'a participant edits while drafting');
    }
    const [kaboMain, priyaMain, ndapewaMain] = pages.map((p) => p.getByRole('main'));
    await kaboMain.getByRole('heading', { level: 2, name: 'Chair’s controls' }).waitFor();
    for (const main of [priyaMain, ndapewaMain]) {
      assert.equal(await main.getByRole('heading', { name: 'Chair’s controls' }).count(), 0, 'only Botswana chairs the group');
    }

    // 4. The chair writes a clean text.
    await kabo.locator('.draft-editor .cm-content').click();
    await kabo.keyboard.type(LINE_1, { delay: 5 });
    await kabo.keyboard.press('Enter');
    await kabo.keyboard.press('Enter');
    await kabo.keyboard.type(LINE_2, { delay: 5 });
    const firstText = `${LINE_1}\n\n${LINE_2}`;
    await waitFor('every editor to show the text', async () => {
      const texts = await Promise.all(pages.map(editorText));
      return { ok: texts.every((t) => t === firstText), texts };
    });
    await waitFor('the server to hold the clean text', async () => {
      const d = await getDraft();
      return { ok: d.text === firstText && d.brackets.clean, text: d.text, brackets: d.brackets };
    });
    for (const page of pages) {
      await page.getByRole('region', { name: 'Brackets' }).getByText('Clean text: no brackets and no bracket problems.').waitFor();
    }
    await checkA11y(kabo, 'the drafting room (chair, clean text)');
    await checkA11y(priya, 'the drafting room (delegate, clean text)');

    // 5. The chair circulates it in writing through the form: the deadline is required, in the
    //    chair's local time.
    const writtenForm = kaboMain.getByRole('form', { name: 'Circulate in writing' });
    await writtenForm.getByText(`Your local time (${TIME_ZONE}).`).waitFor();
    await writtenForm.getByRole('button', { name: 'Circulate in writing' }).click();
    await writtenForm.getByText('Enter the date and time at which silence is established.').waitFor();
    assert.equal(await writtenForm.getByLabel('Deadline').getAttribute('aria-invalid'), 'true');
    await checkA11y(kabo, 'the written procedure without a deadline');
    // Three days ahead (no reminder yet: it goes out 48 hours before), on the minute.
    const first = await kabo.evaluate(() => {
      const d = new Date(Date.now() + 3 * 86_400_000);
      d.setSeconds(0, 0);
      const p = (n) => String(n).padStart(2, '0');
      return {
        local: `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`,
        iso: d.toISOString(),
      };
    });
    await writtenForm.getByLabel('Deadline').fill(first.local);
    await writtenForm.getByRole('button', { name: 'Circulate in writing' }).click();
    await kabo.getByRole('status').filter({ hasText: 'The text is circulated in writing until the deadline.' }).waitFor({ state: 'attached' });
    const circulated = await getDraft();
    assert.equal(circulated.stage, 'written_procedure');
    assert.equal(Date.parse(circulated.deadline), Date.parse(first.iso), `the deadline typed in ${TIME_ZONE} is the same instant on the server`);

    // Every room shows the procedure, its deadline and the countdown; the text is read only.
    for (const page of pages) {
      await stageHeading(page, 'Written procedure').waitFor();
      const banner = page.locator('.stage-banner');
      await banner.getByText('Deadline of the written procedure:').waitFor();
      assert.equal(Date.parse(await banner.locator('time').getAttribute('datetime')), Date.parse(first.iso));
      assert.match(await banner.getByRole('timer').innerText(), /^[23] d \d{1,2} h$/);
      await waitFor('a read-only editor', async () => ({ ok: (await editable(page)) === 'false' }));
      await page.locator('#draft-banner').getByText('Read only — the text is frozen').waitFor();
      // Every participant's delegate (the chair's delegation too) may object or abstain.
      await page.getByRole('main').getByRole('heading', { level: 2, name: 'Object or abstain' }).waitFor();
      await page.getByText('An objection breaks the silence: the text is not adopted at the deadline.').waitFor();
    }
    for (const token of [kaboToken, await login(base, PRIYA.email), await login(base, NDAPEWA.email)]) {
      assert.equal((await call(base, token, 'GET', `/api/drafts/${draft.id}`)).can_edit, false, 'nobody writes during the procedure');
    }
    // Typing in a read-only editor changes nothing (CodeMirror would insert at once otherwise).
    await priya.locator('.draft-editor .cm-content').click();
    await priya.keyboard.type('LATE', { delay: 5 });
    assert.equal(await editorText(priya), firstText, 'the circulated text cannot be changed');
    await checkA11y(kabo, 'the chair during the written procedure');
    await checkA11y(priya, 'a delegate during the written procedure');

    // The text and the deadline were mailed to every active participant's delegates.
    const subject1 = `written procedure on "${TITLE}" until ${mailDeadline(first.iso)}`;
    const circulation = await waitForMailTo(mailDir, mailed, (m) => m.subject.includes(subject1), 'the circulation mail');
    for (const who of [PRIYA, NDAPEWA, KABO]) {
      const mail = circulation.get(who.email);
      assert.ok(mail.text.includes(`Dear ${who.name},`), mail.text);
      assert.ok(mail.text.includes(`${LINE_1}\n\n${LINE_2}`), `the mail carries the text:\n${mail.text}`);
      assert.ok(mail.text.includes(`${base}${room}`), `the mail links the room:\n${mail.text}`);
      assert.ok(mail.text.includes(`objects before ${mailDeadline(first.iso)}`), mail.text);
    }

    // 6. Namibia abstains (a reason is required): nothing changes for anyone.
    const ndapewaForm = ndapewaMain.getByRole('form', { name: 'Object or abstain' });
    await ndapewaForm.getByRole('button', { name: 'Abstain', exact: true }).click();
    await ndapewaForm.getByText('Give the reason for your abstention.').waitFor();
    assert.equal(await ndapewaForm.getByLabel('Reason').getAttribute('aria-invalid'), 'true');
    await checkA11y(ndapewa, 'an abstention without a reason');
    await ndapewaForm.getByLabel('Reason').fill(ABSTENTION);
    await ndapewaForm.getByRole('button', { name: 'Abstain', exact: true }).click();
    await ndapewa.getByRole('status').filter({ hasText: 'Your abstention is recorded. It does not block the adoption.' }).waitFor({ state: 'attached' });
    const recorded = (page) => page.getByRole('table', { name: 'Objections and abstentions recorded on this draft' });
    for (const page of [ndapewa, kabo, priya]) {
      // The others see it within a poll of the room.
      const row = recorded(page).getByRole('row').filter({ hasText: ABSTENTION });
      await row.waitFor();
      const text = await row.innerText();
      assert.match(text, /Namibia/);
      assert.match(text, /Abstention/);
      assert.match(text, /Written procedure \(silence\)/);
      await stageHeading(page, 'Written procedure').waitFor();
      await page.getByRole('main').getByRole('heading', { level: 2, name: 'Object or abstain' }).waitFor();
      assert.equal(await editable(page), 'false');
    }
    assert.equal((await getDraft()).stage, 'written_procedure', 'an abstention blocks nothing');
    await checkA11y(ndapewa, 'the written procedure after an abstention');

    // 7. India objects with a reason: the silence is broken in every room.
    const priyaForm = priyaMain.getByRole('form', { name: 'Object or abstain' });
    await priyaForm.getByLabel('Reason').fill(OBJECTION);
    await priyaForm.getByRole('button', { name: 'Object', exact: true }).click();
    await priya.getByRole('status').filter({ hasText: 'Your objection is recorded: the silence is broken.' }).waitFor({ state: 'attached' });
    for (const page of [priya, kabo, ndapewa]) {
      await stageHeading(page, 'Silence broken').waitFor();
      const banner = page.locator('.stage-banner');
      await banner.getByText('A delegation objected under the written procedure').waitFor();
      // The deadline that was set stays on show, without a countdown.
      assert.equal(Date.parse(await banner.locator('time').getAttribute('datetime')), Date.parse(first.iso));
      assert.equal(await banner.getByRole('timer').count(), 0);
      const row = recorded(page).getByRole('row').filter({ hasText: OBJECTION });
      await row.waitFor();
      assert.match(await row.innerText(), /India/);
      assert.match(await row.innerText(), /Objection/);
      assert.equal(await page.getByRole('main').getByRole('heading', { name: 'Object or abstain' }).count(), 0, 'nothing left to object to');
      assert.equal(await editable(page), 'false', 'a broken silence does not reopen the text by itself');
    }
    assert.equal((await getDraft()).stage, 'silence_broken');
    await kaboMain.getByRole('button', { name: 'Back to drafting' }).waitFor();
    await checkA11y(priya, 'the silence broken (the objecting delegate)');
    await checkA11y(kabo, 'the silence broken (chair)');
    await checkA11y(ndapewa, 'the silence broken (another delegate)');
    // Everyone was told who objected and why.
    const broken = await waitForMailTo(mailDir, mailed, (m) => m.subject.includes(`silence broken on "${TITLE}"`), 'the silence-broken mail');
    for (const who of [KABO, NDAPEWA]) {
      const mail = broken.get(who.email);
      assert.ok(mail.text.includes(`India has objected to "${TITLE}"`), mail.text);
      assert.ok(mail.text.includes(`Reason given: ${OBJECTION}`), mail.text);
    }

    // 8. The chair takes the draft back to drafting and meets the objection.
    await kaboMain.getByRole('button', { name: 'Back to drafting' }).click();
    await kabo.getByRole('status').filter({ hasText: 'The draft is back in drafting: delegations may edit it.' }).waitFor({ state: 'attached' });
    for (const page of pages) {
      await stageHeading(page, 'Drafting').waitFor();
      await waitFor('an editable editor', async () => ({ ok: (await editable(page)) === 'true' }));
      assert.equal(await page.locator('.stage-banner time').count(), 0, 'no deadline while drafting');
    }
    await kabo.locator('.draft-editor .cm-content').click();
    await kabo.keyboard.press('Control+End');
    for (let i = 0; i < '31 March.'.length; i++) await kabo.keyboard.press('Shift+ArrowLeft');
    await kabo.keyboard.type('30 June.', { delay: 5 });
    await kabo.keyboard.press('Enter');
    await kabo.keyboard.press('Enter');
    await kabo.keyboard.type(LINE_3, { delay: 5 });
    const finalText = `${LINE_1}\n\n${LINE_2.replace('31 March.', '30 June.')}\n\n${LINE_3}`;
    await waitFor('every editor to show the amended text', async () => {
      const texts = await Promise.all(pages.map(editorText));
      return { ok: texts.every((t) => t === finalText), texts };
    });
    await waitFor('the server to hold the amended text', async () => {
      const d = await getDraft();
      return { ok: d.text === finalText && d.brackets.clean, text: d.text };
    });
    await checkA11y(kabo, 'the drafting room after the broken silence');

    // 9. The chair circulates it again, with a deadline 15 seconds away. The form takes whole
    //    minutes, so the chair's own session (the browser's cookie) asks the API directly.
    const deadline = new Date(Math.ceil((Date.now() + 15_000) / 1000) * 1000).toISOString();
    const answer = await kabo.evaluate(async ({ id, deadline }) => {
      const res = await fetch(`/api/drafts/${id}/written-procedure`, {
        method: 'POST',
        headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
        body: JSON.stringify({ deadline }),
      });
      return { status: res.status, body: await res.json() };
    }, { id: draft.id, deadline });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.stage, 'written_procedure');
    assert.equal(Date.parse(answer.body.deadline), Date.parse(deadline));
    for (const page of pages) {
      await stageHeading(page, 'Written procedure').waitFor();
      assert.equal(Date.parse(await page.locator('.stage-banner time').getAttribute('datetime')), Date.parse(deadline));
      await waitFor('a read-only editor', async () => ({ ok: (await editable(page)) === 'false' }));
    }
    const subject2 = `written procedure on "${TITLE}" until ${mailDeadline(deadline)}`;
    const second = await waitForMailTo(mailDir, [PRIYA.email, NDAPEWA.email], (m) => m.subject.includes(subject2) && m.text.includes(finalText), 'the second circulation mail');
    assert.ok(second.get(PRIYA.email).text.includes('30 June'), 'the mail carries the amended text');

    // 10. Nobody objects: at the deadline the scheduler adopts the text, and every room shows it.
    const number = `AD ${new Date(deadline).getUTCFullYear()}/01`;
    const adoptedBy = Date.parse(deadline) + 30_000;
    for (const page of pages) {
      await stageHeading(page, 'Adopted').waitFor({ timeout: Math.max(5_000, adoptedBy - Date.now()) });
      await page.locator('.stage-banner').getByRole('link', { name: number, exact: true }).waitFor();
      await waitFor('a read-only editor after adoption', async () => ({ ok: (await editable(page)) === 'false' }));
      await page.locator('#draft-banner').getByText('Read only — the text was adopted and can no longer be changed.').waitFor();
      assert.equal(await editorText(page), finalText);
      assert.equal(await page.getByRole('main').getByRole('heading', { name: 'Object or abstain' }).count(), 0, 'too late to object');
    }
    assert.ok(Date.now() >= Date.parse(deadline), 'not adopted before the deadline');
    await kaboMain.getByText('Nothing more to do: the draft has reached its end.').waitFor();
    for (const token of [kaboToken, await login(base, PRIYA.email), await login(base, NDAPEWA.email)]) {
      const d = await call(base, token, 'GET', `/api/drafts/${draft.id}`);
      assert.equal(d.stage, 'adopted');
      assert.equal(d.can_edit, false);
    }
    const decisions = await call(base, kaboToken, 'GET', `/api/decisions?body_id=${group.id}`);
    assert.equal(decisions.length, 1);
    const [decision] = decisions;
    assert.equal(decision.number, number);
    assert.equal(decision.procedure, 'written');
    assert.equal(decision.draft_id, draft.id);
    assert.equal(decision.text, finalText);
    assert.equal(Date.parse(decision.adopted_at), Date.parse(deadline), 'adopted as of the deadline, not when the server noticed');
    // Typing changes nothing.
    await ndapewa.locator('.draft-editor .cm-content').click();
    await ndapewa.keyboard.type('LATE', { delay: 5 });
    assert.equal(await editorText(ndapewa), finalText, 'the adopted text cannot be changed');
    await fs.mkdir(SCREENS, { recursive: true });
    await kabo.screenshot({ path: path.join(SCREENS, 'written-procedure-adopted.png'), fullPage: true });
    await checkA11y(kabo, 'the draft adopted in writing (chair)');
    await checkA11y(priya, 'the draft adopted in writing (objecting delegate)');
    await checkA11y(ndapewa, 'the draft adopted in writing (abstaining delegate)');

    // The versions: each circulation, then the adoption.
    const versions = kaboMain.getByRole('table', { name: 'Saved versions of the draft, oldest first' });
    await versions.getByRole('row').filter({ hasText: 'as adopted' }).waitFor();
    const labels = await versions.locator('tbody th').allInnerTexts();
    assert.equal(labels.length, 3, JSON.stringify(labels));
    assert.match(labels[0], /^1\. as circulated \d{1,2} [A-Z][a-z]+ \d{4}$/);
    assert.match(labels[1], /^2\. as circulated \d{1,2} [A-Z][a-z]+ \d{4}$/);
    assert.equal(labels[2], '3. as adopted');

    // 11. The register lists the decision, adopted by written procedure.
    await kabo.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Decisions', exact: true }).click();
    await kabo.waitForURL(`${base}/decisions`);
    await kaboMain.getByRole('heading', { level: 1, name: 'Decisions' }).waitFor();
    const register = kaboMain.getByRole('table', { name: 'Decisions, newest first' });
    const row = register.getByRole('row').filter({ has: kabo.getByRole('rowheader', { name: number, exact: true }) });
    await row.waitFor();
    const rowText = await row.innerText();
    assert.match(rowText, new RegExp(TITLE));
    assert.match(rowText, new RegExp(GROUP.short));
    assert.match(rowText, /Written procedure \(silence\)/);
    await checkA11y(kabo, 'the register of decisions');
    await register.getByRole('link', { name: number, exact: true }).click();
    await kabo.waitForURL(`${base}/decisions/${decision.id}`);
    await kaboMain.getByRole('heading', { level: 1, name: `${number} — ${TITLE}` }).waitFor();
    assert.equal(await kaboMain.locator('.decision-text').innerText(), finalText);
    await kaboMain.locator('dd').filter({ hasText: /^Written procedure \(silence\)$/ }).waitFor();
    await checkA11y(kabo, 'a decision adopted in writing');

    // India's room is still read only after a fresh load.
    await priya.reload();
    await stageHeading(priya, 'Adopted').waitFor();
    await priya.getByRole('status').filter({ hasText: /^Connected$/ }).waitFor();
    assert.equal(await editable(priya), 'false');
    await checkA11y(priya, 'the adopted draft, reloaded');

    // Mail about the draft went to participants' delegates only (by now the mailer has sent
    // everything queued before the second circulation, which has arrived).
    const stray = (await readMail(mailDir)).filter((m) => m.subject.includes(TITLE) && !mailed.includes(m.to));
    assert.deepEqual(stray.map((m) => `${m.to}: ${m.subject}`), [], 'no mail about the draft to observers, the secretariat or suspended participants');

    assert.deepEqual(problems, [], `browser reported problems:\n${problems.join('\n')}`);
  } catch (err) {
    if (server) console.error(`--- plenum serve output ---\n${server.output.slice(-20_000)}`);
    if (sink) console.error(`--- smtp sink output ---\n${sink.output.slice(-5_000)}`);
    if (problems.length) console.error(`--- browser problems ---\n${problems.join('\n')}`);
    throw err;
  } finally {
    await browser?.close().catch(() => undefined);
    await stop(server, 'plenum serve');
    await stop(sink, 'smtp sink');
    await fs.rm(tmp, { recursive: true, force: true });
  }
});
