// Small helpers for the browser tests: Chromium through playwright-core, signing in the demo's
// delegates, API calls with a bearer token, conditions waited for with a deadline, and what the
// drafting room's editor shows.
import { createRequire } from 'node:module';
import path from 'node:path';

import { checkA11y } from './axe.mjs';
import { ROOT, sleep } from './processes.mjs';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** The password of every demo account (src/demo.rs). */
export const DEMO_PASSWORD = 'kimberley-2007';

/** playwright-core, a devDependency of frontend/package.json. */
export function loadPlaywright() {
  const require = createRequire(path.join(ROOT, 'frontend', 'package.json'));
  try {
    return require('playwright-core');
  } catch (err) {
    throw new Error(`playwright-core not found: run \`npm ci\` in frontend/ first (${err.message})`);
  }
}

/** Headless Debian Chromium, without background chatter. */
export async function launchChromium() {
  const { chromium } = loadPlaywright();
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * A page in its own browser context (its own cookies: one user each), whose page errors and
 * console errors are pushed to `problems`, except console lines matching `allowed`.
 */
export async function openPage(browser, who, problems, { allowed = /status of 401/, contextOptions = {} } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...contextOptions });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (err) => problems.push(`[${who}] page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !allowed.test(msg.text())) problems.push(`[${who}] console: ${msg.text()}`);
  });
  return page;
}

/** Polls `fn` until it returns `{ ok: true, … }`; throws with the last answer after `timeoutMs`. */
export async function waitFor(what, fn, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last.ok) return last;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}

/** Opens `next` and is sent to the sign-in page (`/login?next=…`), its heading shown. */
export async function openSignIn(page, base, next) {
  await page.goto(`${base}${next}`);
  await page.waitForURL(/\/login\?next=/);
  await page.getByRole('heading', { level: 1, name: 'Sign in to Plenum' }).waitFor();
}

/** Fills in the sign-in form on the page with `account`'s email and `password`, and submits it. */
export async function submitSignIn(page, account, password = DEMO_PASSWORD) {
  await page.getByLabel('Email', { exact: true }).fill(account.email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Opens `next`, is sent to the sign-in page, signs in and lands back on `next`. */
export async function signIn(page, base, account, next, password = DEMO_PASSWORD) {
  await openSignIn(page, base, next);
  await submitSignIn(page, account, password);
  await page.waitForURL(`${base}${next}`);
}

/** As `signIn`, with axe-core run on the sign-in page (named `where`) before it is filled in. */
export async function signInCheckingA11y(page, base, account, next, where = 'the sign-in page', password = DEMO_PASSWORD) {
  await openSignIn(page, base, next);
  await checkA11y(page, where);
  await submitSignIn(page, account, password);
  await page.waitForURL(`${base}${next}`);
}

/** A JSON call to the API with a bearer token; throws unless the status is `expect`. */
export async function call(base, token, method, p, body, expect = 200) {
  const headers = { Accept: 'application/json', Origin: base };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${base}${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (res.status !== expect) throw new Error(`${method} ${p}: HTTP ${res.status} (expected ${expect}): ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** A session token for a demo account. */
export async function login(base, email, password = DEMO_PASSWORD) {
  const session = await call(base, null, 'POST', '/api/auth/login', { email, password });
  if (!session?.token) throw new Error(`no token for ${email}`);
  return session.token;
}

/** The drafting room's text as the user sees it, without the remote-cursor name labels. */
export async function editorText(page) {
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

/** The editor's contenteditable ("true" or "false"). */
export async function editable(page) {
  return page.locator('.draft-editor .cm-content').getAttribute('contenteditable');
}

/** The stage banner's heading ("Stage: Drafting"). */
export function stageHeading(page, label) {
  return page.getByRole('main').getByRole('heading', { level: 2, name: `Stage: ${label}`, exact: true });
}
