// Browser test of the account flows: admin signs in, creates an organisation,
// invites a delegate; the delegate accepts the invitation from the real mail,
// signs out and signs in again.
//
// Run from the repository root:  node --test tests/browser/
// Needs: target/debug/plenum (cargo build), frontend/node_modules (npm ci in frontend/),
// /usr/bin/chromium, python3 with aiosmtpd (tests/support/smtp_sink.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { PLENUM, ROOT, freePort, run, sleep, start, stop, waitForReady } from '../support/processes.mjs';
import { checkA11y } from '../support/axe.mjs';
import { CHROMIUM, launchChromium, openPage, submitSignIn } from '../support/browser.mjs';

const SCREENS = path.join(ROOT, 'target', 'browser-screens');
// The sink needs Debian's python3-aiosmtpd: prefer the system interpreter over a
// python3 earlier on PATH (e.g. pyenv) that lacks it.
const PYTHON = process.env.PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

const ADMIN = { email: 'admin@example.org', name: 'Ada Admin', password: 'correct horse battery' };
const DELEGATE = { email: 'dana.delegate@example.org', name: 'Dana Delegate', password: 'diamonds are forever 2003' };
const ORG = { name: 'Botswana', code: 'BW', admitted: '2003-01-01', countries: 'Botswana' };

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

// ---------------------------------------------------------------------------
// Minimal MIME reading: enough to get the text of a message from a real SMTP sink.

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
    const ch = softless[i];
    if (ch === '=' && /^[0-9A-Fa-f]{2}$/.test(softless.slice(i + 1, i + 3))) {
      bytes.push(parseInt(softless.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(ch, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function decodeBody(headers, body) {
  const cte = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  if (cte === 'quoted-printable') return decodeQuotedPrintable(body);
  if (cte === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return body;
}

/** Returns [{type, text}] for every leaf part. */
function mimeParts(raw) {
  const { headers, body } = splitHeaders(raw);
  const ctype = headers['content-type'] ?? 'text/plain';
  const type = ctype.split(';')[0].trim().toLowerCase();
  if (type.startsWith('multipart/')) {
    const m = ctype.match(/boundary="?([^";]+)"?/i);
    if (!m) return [];
    const boundary = `--${m[1]}`;
    const pieces = body.split(boundary).slice(1);
    const out = [];
    for (const piece of pieces) {
      if (piece.startsWith('--')) break;
      out.push(...mimeParts(piece.replace(/^\r?\n/, '')));
    }
    return out;
  }
  return [{ type, headers, text: decodeBody(headers, body) }];
}

async function waitForMail(dir, recipient, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const names = (await fs.readdir(dir).catch(() => [])).filter((n) => n.endsWith('.eml')).sort();
    for (const name of names) {
      const raw = await fs.readFile(path.join(dir, name), 'utf8');
      const { headers } = splitHeaders(raw);
      const to = `${headers['x-envelope-to'] ?? ''} ${headers['to'] ?? ''}`.toLowerCase();
      if (to.includes(recipient.toLowerCase())) return raw;
    }
    await sleep(250);
  }
  throw new Error(`no mail for ${recipient} in ${dir} within ${timeoutMs} ms`);
}

function invitationLink(raw, base) {
  const parts = mimeParts(raw);
  const ordered = [...parts.filter((p) => p.type === 'text/plain'), ...parts.filter((p) => p.type !== 'text/plain')];
  const escaped = base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`${escaped}/invitation\\?token=[A-Za-z0-9_\\-.~%]+`);
  for (const part of ordered) {
    const m = part.text.match(re);
    if (m) return m[0];
  }
  throw new Error(`no invitation link for ${base} in the mail:\n${raw}`);
}

// ---------------------------------------------------------------------------

test('admin invites a delegate who accepts, signs out and signs in again', { timeout: 240_000 }, async () => {
  assert.ok(existsSync(PLENUM), `${PLENUM} is missing: run \`cargo build\` first`);
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);

  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'plenum-browser-'));
  const mailDir = path.join(tmp, 'mail');
  const databaseUrl = `sqlite://${path.join(tmp, 'plenum.db')}`;
  let sink;
  let server;
  let browser;
  const problems = [];
  try {
    // 1. SMTP sink
    sink = start(PYTHON, [path.join('tests', 'support', 'smtp_sink.py'), '--dir', mailDir]);
    sink.stdin.end();
    const smtpPort = (await waitForLine(sink, /LISTENING (\d+)/, 15_000, 'smtp sink'))[1];

    // 2. Admin account
    await run(
      PLENUM,
      ['admin', 'create', '--database-url', databaseUrl, '--email', ADMIN.email, '--name', ADMIN.name, '--organisation', 'Secretariat'],
      { input: `${ADMIN.password}\n` },
    );

    // 3. Server
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    server = start(PLENUM, [
      'serve',
      '--database-url', databaseUrl,
      '--bind', `127.0.0.1:${port}`,
      '--public-url', base,
      '--mail-transport', 'smtp',
      '--smtp-host', '127.0.0.1',
      '--smtp-port', smtpPort,
      '--smtp-security', 'none',
      '--mail-from', 'plenum@example.org',
    ]);
    server.stdin.end();
    await waitForReady(base, server);

    // 4. Browser
    browser = await launchChromium();

    // --- the admin ---
    const admin = await openPage(browser, 'admin', problems);

    await admin.goto(`${base}/`);
    await admin.waitForURL(`${base}/login`);
    await admin.getByRole('heading', { level: 1, name: 'Sign in to Plenum' }).waitFor();
    await checkA11y(admin, 'the sign-in page');
    await submitSignIn(admin, ADMIN, ADMIN.password);
    // Signing in lands on "Today"; the organisations are one click away.
    await admin.waitForURL(`${base}/`);
    await admin.getByRole('main').getByRole('heading', { level: 1, name: 'Today' }).waitFor();
    await admin.getByRole('main').getByRole('heading', { level: 2, name: 'In session now' }).waitFor();
    await checkA11y(admin, 'Today');
    await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Organisations' }).click();
    await admin.waitForURL(`${base}/admin/organisations`);
    await admin.getByRole('heading', { level: 1, name: 'Organisations' }).waitFor();
    await admin.getByRole('button', { name: 'Create organisation' }).waitFor();
    await checkA11y(admin, 'the organisations page');

    // Create a participant organisation.
    await admin.getByLabel('Kind', { exact: true }).selectOption('participant');
    await admin.getByLabel('Name', { exact: true }).fill(ORG.name);
    await admin.getByLabel('Short code', { exact: true }).fill(ORG.code);
    await admin.getByLabel('Admission date').fill(ORG.admitted);
    await admin.getByLabel('Countries').fill(ORG.countries);
    await admin.getByRole('button', { name: 'Create organisation' }).click();
    const orgRow = admin.getByRole('row').filter({ has: admin.getByRole('rowheader', { name: ORG.name, exact: true }) });
    await orgRow.waitFor();
    assert.match(await orgRow.innerText(), /BW/);
    assert.match(await orgRow.innerText(), /Participant/);
    assert.match(await orgRow.innerText(), /Active/);
    await checkA11y(admin, 'the organisations page with an organisation');

    // Changing a status updates its row in place: the keyboard focus stays on the button.
    const changeStatus = async (status, label) => {
      await admin.getByLabel(`Status of ${ORG.name}`, { exact: true }).selectOption(status);
      const button = admin.getByRole('button', { name: `Change status of ${ORG.name}` });
      await button.focus();
      await admin.keyboard.press('Enter');
      await orgRow.locator('.badge').filter({ hasText: label }).waitFor();
      await admin.getByRole('status').filter({ hasText: `${ORG.name} is now ${status}` }).waitFor({ state: 'attached' });
      assert.equal(
        await admin.evaluate(() => document.activeElement?.getAttribute('aria-label')),
        `Change status of ${ORG.name}`,
        'the focus survives the row update',
      );
    };
    await changeStatus('suspended', 'Suspended');
    await checkA11y(admin, 'the organisations page with a suspended organisation');
    await changeStatus('active', 'Active');

    // Invite a delegate from the users page, reached through the navigation.
    await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
    await admin.waitForURL(`${base}/admin/users`);
    await admin.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
    await admin.getByRole('button', { name: 'Send invitation' }).waitFor();
    await admin.getByRole('rowheader', { name: ADMIN.name, exact: true }).waitFor();
    await checkA11y(admin, 'the users page');
    await admin.getByLabel('Email', { exact: true }).fill(DELEGATE.email);
    await admin.getByLabel('Name', { exact: true }).fill(DELEGATE.name);
    await admin.getByLabel('Organisation', { exact: true }).selectOption({ label: `${ORG.name} (${ORG.code}) — Participant` });
    await admin.getByRole('button', { name: 'Send invitation' }).click();
    const delegateRow = admin.getByRole('row').filter({ has: admin.getByRole('rowheader', { name: DELEGATE.name, exact: true }) });
    await delegateRow.waitFor();
    assert.match(await delegateRow.innerText(), /Invitation pending/);
    assert.match(await delegateRow.innerText(), new RegExp(DELEGATE.email.replace(/\./g, '\\.')));
    await admin.getByRole('status').filter({ hasText: 'Invitation sent' }).waitFor({ state: 'attached' });
    await checkA11y(admin, 'the users page with a pending invitation');

    await fs.mkdir(SCREENS, { recursive: true });
    await admin.screenshot({ path: path.join(SCREENS, 'admin-users.png'), fullPage: true });

    // --- the mail ---
    const mail = await waitForMail(mailDir, DELEGATE.email, 20_000);
    const link = invitationLink(mail, base);

    // --- the delegate, in a fresh context (no admin cookie) ---
    const delegate = await openPage(browser, 'delegate', problems, { contextOptions: { viewport: { width: 900, height: 1100 } } });

    await delegate.goto(link);
    await delegate.getByRole('heading', { level: 1, name: 'Accept your invitation' }).waitFor();
    await checkA11y(delegate, 'the invitation page');
    // A too-short password is refused next to the field, before any request.
    await delegate.getByLabel('New password').fill('short');
    await delegate.getByLabel('Confirm password').fill('short');
    await delegate.getByRole('button', { name: 'Set password and sign in' }).click();
    await delegate.getByText('Use at least 12 characters.').waitFor();
    assert.equal(await delegate.getByLabel('New password').getAttribute('aria-invalid'), 'true');
    await checkA11y(delegate, 'the invitation page showing field errors');

    await delegate.getByLabel('New password').fill(DELEGATE.password);
    await delegate.getByLabel('Confirm password').fill(DELEGATE.password);
    await delegate.getByRole('button', { name: 'Set password and sign in' }).click();
    await delegate.waitForURL(`${base}/account`);
    const main = delegate.getByRole('main');
    await main.getByRole('heading', { level: 1, name: 'My account' }).waitFor();
    await main.getByText(DELEGATE.name, { exact: true }).waitFor();
    await main.getByText(`${ORG.name} (${ORG.code})`, { exact: true }).waitFor();
    await main.getByText('This session', { exact: true }).waitFor();
    await checkA11y(delegate, 'the account page');

    // The delegate is not an administrator: no admin navigation.
    const nav = delegate.getByRole('navigation', { name: 'Main' });
    assert.equal(await nav.getByRole('link', { name: 'Users' }).count(), 0);
    assert.equal(await nav.getByRole('link', { name: 'Organisations' }).count(), 0);

    // Every area of the navigation is a page of its own; those not built yet say so, with no
    // made-up content.
    // The bodies are a page of their own (tests/browser/bodies.test.mjs); a delegate sees the list
    // and, being no administrator, no form to set up a body.
    await nav.getByRole('link', { name: 'Bodies', exact: true }).click();
    await delegate.waitForURL(`${base}/bodies`);
    await main.getByRole('heading', { level: 1, name: 'Bodies' }).waitFor();
    await main.getByRole('heading', { level: 2, name: 'All bodies' }).waitFor();
    await main.locator('.body-tree, p:text-is("No bodies yet.")').first().waitFor();
    assert.equal(await nav.getByRole('link', { name: 'Bodies', exact: true }).getAttribute('aria-current'), 'page');
    assert.equal(await main.getByRole('heading', { name: 'New body' }).count(), 0, 'no form for a delegate');
    assert.equal(await delegate.evaluate(() => document.activeElement?.tagName), 'H1', 'the new page heading has the focus');
    await checkA11y(delegate, 'the Bodies page');
    // The meetings (tests/browser/meetings.test.mjs): the lists, and no form for a delegate whose
    // organisation chairs no body.
    await nav.getByRole('link', { name: 'Meetings', exact: true }).click();
    await delegate.waitForURL(`${base}/meetings`);
    await main.getByRole('heading', { level: 1, name: 'Meetings' }).waitFor();
    for (const group of ['In session', 'Upcoming', 'Past']) await main.getByRole('heading', { level: 2, name: group }).waitFor();
    await main.locator('p.muted:text-is("Loading meetings…")').first().waitFor({ state: 'detached' });
    assert.equal(await nav.getByRole('link', { name: 'Meetings', exact: true }).getAttribute('aria-current'), 'page');
    assert.equal(await main.getByRole('heading', { name: 'New meeting' }).count(), 0, 'no form for a delegate');
    assert.equal(await delegate.evaluate(() => document.activeElement?.tagName), 'H1', 'the new page heading has the focus');
    await checkA11y(delegate, 'the Meetings page');
    await nav.getByRole('link', { name: 'Decisions', exact: true }).click();
    await delegate.waitForURL(`${base}/decisions`);
    await main.getByRole('heading', { level: 1, name: 'Decisions' }).waitFor();
    await main.getByText('No decision adopted yet.').waitFor();
    assert.equal(await nav.getByRole('link', { name: 'Decisions', exact: true }).getAttribute('aria-current'), 'page');
    assert.equal(await main.getByRole('table').count(), 0, 'the register is empty');
    assert.equal(await delegate.evaluate(() => document.activeElement?.tagName), 'H1', 'the new page heading has the focus');
    await checkA11y(delegate, 'the Decisions page');
    for (const area of ['Recommendations']) {
      await nav.getByRole('link', { name: area, exact: true }).click();
      await delegate.waitForURL(`${base}/${area.toLowerCase()}`);
      await main.getByRole('heading', { level: 1, name: area }).waitFor();
      await main.getByText('No recommendation yet.').waitFor();
      assert.equal(await nav.getByRole('link', { name: area, exact: true }).getAttribute('aria-current'), 'page');
      assert.equal(await main.getByRole('table').count(), 0, `${area} shows no list yet`);
      assert.equal(await delegate.evaluate(() => document.activeElement?.tagName), 'H1', 'the new page heading has the focus');
      await checkA11y(delegate, `the ${area} page`);
    }
    await nav.getByRole('link', { name: 'Drafts', exact: true }).click();
    await main.getByRole('heading', { level: 1, name: 'Drafts' }).waitFor();
    await main.getByText('No drafts yet.').waitFor();
    await checkA11y(delegate, 'the drafts page');
    // Administration is not for delegates, even by address.
    await delegate.goto(`${base}/admin/users`);
    await main.getByRole('heading', { level: 1, name: 'Not allowed' }).waitFor();
    await checkA11y(delegate, 'the not-allowed page');
    await delegate.goto(`${base}/no/such/page`);
    await main.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
    await checkA11y(delegate, 'the not-found page');
    await nav.getByRole('link', { name: 'Account', exact: true }).click();
    await main.getByText('This session', { exact: true }).waitFor();

    // The invitation link cannot be used twice.
    // (checked through the API so the UI session is untouched)
    const token = new URL(link).searchParams.get('token');
    const reuse = await fetch(`${base}/api/invitations/accept`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: base },
      body: JSON.stringify({ token, password: 'another long password' }),
    });
    assert.equal(reuse.status, 410, `reusing an invitation should give 410, got ${reuse.status}: ${await reuse.text()}`);

    // Sign out, then sign in again with the chosen password.
    await main.getByRole('button', { name: 'Sign out', exact: true }).click();
    await delegate.waitForURL(`${base}/login`);
    await delegate.goto(`${base}/account`);
    await delegate.waitForURL(/\/login\?next=/);
    await delegate.getByRole('heading', { level: 1, name: 'Sign in to Plenum' }).waitFor();
    await checkA11y(delegate, 'the sign-in page after signing out');
    await delegate.getByRole('link', { name: 'Forgot your password?' }).click();
    await delegate.getByRole('heading', { level: 1, name: 'Reset your password' }).waitFor();
    await checkA11y(delegate, 'the password-reset page');
    await delegate.goBack();
    await delegate.waitForURL(/\/login\?next=/);
    await submitSignIn(delegate, DELEGATE, DELEGATE.password);
    await delegate.waitForURL(`${base}/account`);
    await delegate.getByRole('main').getByText(DELEGATE.name, { exact: true }).waitFor();

    // Back on the admin side the delegate is no longer pending.
    await admin.reload();
    await delegateRow.waitFor();
    await delegateRow.getByText('Active', { exact: true }).waitFor();
    await checkA11y(admin, 'the users page after the invitation was accepted');

    assert.deepEqual(problems, [], `browser reported problems:\n${problems.join('\n')}`);
  } catch (err) {
    if (server) console.error(`--- plenum serve output ---\n${server.output.slice(-20_000)}`);
    if (problems.length) console.error(`--- browser problems ---\n${problems.join('\n')}`);
    throw err;
  } finally {
    await browser?.close().catch(() => undefined);
    await stop(server, 'plenum serve');
    await stop(sink, 'smtp sink');
    await fs.rm(tmp, { recursive: true, force: true });
  }
});
