// Shared helpers for the live-drafting (Yjs over websockets) integration tests.
//
// Run from the repository root:  node --test tests/yjs/
// Needs: target/debug/plenum (cargo build), frontend/node_modules (npm ci in frontend/),
// psql and a PostgreSQL server (PLENUM_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres).
import { createRequire } from 'node:module';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { PLENUM, ROOT, freePort, run, sleep, start, stop, waitForReady } from '../support/processes.mjs';

export { PLENUM, ROOT, freePort, run, sleep, start, stop };

// TLS off unless asked for (see pg_admin_url in tests/common/mod.rs).
const PG_BASE = process.env.PLENUM_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const PG_URL = PG_BASE.includes('sslmode=') ? PG_BASE : `${PG_BASE}${PG_BASE.includes('?') ? '&' : '?'}sslmode=disable`;
export const BACKENDS = (process.env.PLENUM_YJS_BACKENDS ?? 'sqlite,postgres').split(',').map((s) => s.trim()).filter(Boolean);
export const DEMO_PASSWORD = 'kimberley-2007';

export const ACCOUNTS = {
  kabo: { email: 'kabo.molefe@bw.kp.example', name: 'Kabo Molefe', organisation: 'Botswana' },
  priya: { email: 'priya.raman@in.kp.example', name: 'Priya Raman', organisation: 'India' },
  elena: { email: 'elena.martens@ec.kp.example', name: 'Elena Martens', organisation: 'European Community' },
  rafael: { email: 'rafael.adler@wdc.kp.example', name: 'Rafael Adler', organisation: 'World Diamond Council' },
  admin: { email: 'admin@secretariat.kp.example', name: 'Sam Okafor', organisation: 'Kimberley Process Secretariat' },
  awa: { email: 'awa.kone@ci.kp.example' },
};

// ---------------------------------------------------------------------------
// Packages, all resolved from frontend/node_modules. yjs must be loaded exactly once: y-websocket
// and y-protocols are ESM and `import 'yjs'`, which resolves (exports "import") to
// frontend/node_modules/yjs/dist/yjs.mjs, so we import that very file.

const FRONTEND = path.join(ROOT, 'frontend');
const requireFrontend = createRequire(path.join(FRONTEND, 'package.json'));
const NM = path.join(FRONTEND, 'node_modules');
const esm = (rel) => import(pathToFileURL(path.join(NM, rel)).href);

if (!existsSync(path.join(NM, 'y-websocket'))) {
  throw new Error(`${NM}/y-websocket is missing: run \`npm ci\` in frontend/ first`);
}
for (const nested of ['y-websocket/node_modules/yjs', 'y-protocols/node_modules/yjs', 'lib0/node_modules/yjs']) {
  if (existsSync(path.join(NM, nested))) throw new Error(`a second copy of yjs exists at ${nested}`);
}

export const Y = await esm('yjs/dist/yjs.mjs');
export const { WebsocketProvider } = await esm('y-websocket/src/y-websocket.js');
export const awarenessProtocol = await esm('y-protocols/awareness.js');
export const syncProtocol = await esm('y-protocols/sync.js');
export const encoding = await esm('lib0/encoding.js');
export const decoding = await esm('lib0/decoding.js');
export const WS = requireFrontend('ws');

export async function waitFor(predicate, { timeout = 10_000, interval = 20, what = 'condition', detail } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await predicate();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    await sleep(interval);
  }
  const extra = detail ? `\n${typeof detail === 'function' ? await detail() : detail}` : '';
  throw new Error(`timed out after ${timeout} ms waiting for ${what}${last instanceof Error ? ` (last error: ${last.message})` : ''}${extra}`);
}

// ---------------------------------------------------------------------------
// Databases

function psql(url, sql) {
  return run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', url, '-c', sql], { env: { PGCONNECT_TIMEOUT: '5' } });
}

/** The rows `sql` returns on `url`, each a line of comma-separated values. */
export async function psqlRows(url, sql) {
  const out = await run('psql', ['-X', '-q', '-t', '-A', '-F', ',', '-v', 'ON_ERROR_STOP=1', url, '-c', sql]);
  return out.split('\n').map((l) => l.trim()).filter(Boolean);
}

/** Creates an empty database for one test run. Returns {url, drop()}. */
export async function createDatabase(backend, tmp) {
  if (backend === 'sqlite') {
    return { url: `sqlite://${path.join(tmp, 'plenum.db')}`, drop: async () => {} };
  }
  if (backend !== 'postgres') throw new Error(`unknown backend ${backend}`);
  const name = `plenum_yjs_${crypto.randomBytes(6).toString('hex')}`;
  try {
    await psql(PG_URL, `CREATE DATABASE ${name}`);
  } catch (err) {
    throw new Error(
      `PostgreSQL is unreachable or refused CREATE DATABASE at ${PG_URL} (set PLENUM_TEST_PG_URL): the PostgreSQL ` +
        `variant of this test cannot run and FAILS.\n${err.message}`,
    );
  }
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    name,
    drop: async () => {
      await psql(PG_URL, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch((err) =>
        console.error(`could not drop ${name}: ${err.message}`),
      );
    },
  };
}

// ---------------------------------------------------------------------------
// A seeded server

/**
 * Creates a database (demo data seeded) and starts `plenum serve` on a free port.
 * Returns an environment with REST helpers, restart/kill and close().
 */
export async function startEnv(backend, { serverArgs = [] } = {}) {
  if (!existsSync(PLENUM)) throw new Error(`${PLENUM} is missing: run \`cargo build\` first`);
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), `plenum-yjs-${backend}-`));
  const env = { backend, tmp, server: null, serverArgs, instances: [], tokens: new Map(), users: new Map() };
  try {
    env.db = await createDatabase(backend, tmp);
    await run(PLENUM, ['demo', '--database-url', env.db.url]);
    env.port = await freePort();
    env.base = `http://127.0.0.1:${env.port}`;
    env.wsBase = `ws://127.0.0.1:${env.port}`;
    await startServer(env);
  } catch (err) {
    await closeEnv(env);
    throw err;
  }

  env.startServer = () => startServer(env);
  env.killServer = async (signal = 'SIGKILL') => {
    const child = env.server;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await child.exited;
  };
  env.startInstance = (args) => startInstance(env, args);
  env.close = () => closeEnv(env);
  env.serverOutput = () => (env.logs ?? []).concat(env.server ? [env.server.output] : []).join('\n--- restart ---\n');
  env.api = (token, method, p, body) => api(env, token, method, p, body);
  env.login = (who) => login(env, who);
  // `fields`: more of the new draft (body_id, meeting_id, agenda_item_id).
  env.createDraft = async (who, title, fields = {}) => {
    const token = await env.login(who);
    const res = await env.api(token, 'POST', '/api/drafts', { title, ...fields });
    if (res.status !== 201) throw new Error(`POST /api/drafts as ${who} gave ${res.status}: ${res.text}`);
    return res.body;
  };
  env.getDraft = async (who, id) => {
    const res = await env.api(await env.login(who), 'GET', `/api/drafts/${id}`);
    if (res.status !== 200) throw new Error(`GET /api/drafts/${id} as ${who} gave ${res.status}: ${res.text}`);
    return res.body;
  };
  return env;
}

async function startServer(env) {
  if (env.server) {
    env.logs = (env.logs ?? []).concat([env.server.output]);
  }
  env.server = start(PLENUM, [
    'serve',
    '--database-url', env.db.url,
    '--bind', `127.0.0.1:${env.port}`,
    '--public-url', env.base,
    '--mail-dir', path.join(env.tmp, 'mail'),
    ...env.serverArgs,
  ]);
  env.server.stdin.end();
  await waitForReady(env.base, env.server);
}

/**
 * Starts another `plenum serve` on the same database (several instances behind a load balancer).
 * Returns {base, wsBase, server, stop()}; connectClient accepts it in place of the environment.
 */
async function startInstance(env, args = env.serverArgs) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = start(PLENUM, [
    'serve',
    '--database-url', env.db.url,
    '--bind', `127.0.0.1:${port}`,
    '--public-url', base,
    '--mail-dir', path.join(env.tmp, 'mail'),
    ...args,
  ]);
  server.stdin.end();
  const instance = { base, wsBase: `ws://127.0.0.1:${port}`, server, stop: (signal) => stop(server, `plenum serve :${port}`, signal) };
  env.instances.push(instance);
  await waitForReady(base, server);
  return instance;
}

async function closeEnv(env) {
  try {
    for (const instance of env.instances ?? []) await instance.stop();
    if (env.server) await stop(env.server, 'plenum serve');
  } finally {
    try {
      await env.db?.drop();
    } finally {
      await fs.rm(env.tmp, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

async function api(env, token, method, p, body) {
  const headers = { Accept: 'application/json', Origin: env.base };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${env.base}${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, body: json, text, headers: res.headers };
}

/**
 * A JSON request to one instance (`base`) as `token`; its parsed answer. Throws unless it
 * succeeds (an instance of several, where `env.api` always asks the first).
 */
export async function call(base, token, method, p, body) {
  const headers = { Accept: 'application/json', Authorization: `Bearer ${token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${base}${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${base}${p} gave ${res.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** The typing tests' tokens (`[a12.3]`: a letter per client, its round and count) in a text. */
export const tokensOf = (s) => new Set(s.match(/\[[a-z]\d+\.\d+\]/g) ?? []);

async function login(env, who) {
  if (env.tokens.has(who)) return env.tokens.get(who);
  const account = ACCOUNTS[who];
  if (!account) throw new Error(`unknown account ${who}`);
  const res = await api(env, null, 'POST', '/api/auth/login', { email: account.email, password: DEMO_PASSWORD });
  if (res.status !== 200 || !res.body?.token) throw new Error(`login as ${account.email} gave ${res.status}: ${res.text}`);
  env.tokens.set(who, res.body.token);
  env.users.set(who, res.body.user);
  return res.body.token;
}

// ---------------------------------------------------------------------------
// WebSocket polyfill wrapper: records every incoming frame, can hold back frames (gate),
// and can be "paused" so that new connections go to a dead port.

function toU8(data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data.slice(0));
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

/**
 * Returns a WebSocket class (subclass of `ws`) for one provider.
 * W.frames: every incoming frame (Uint8Array) of every socket of that class, in order.
 * W.sockets: every socket created. W.deadUrl: when set, new sockets connect there instead.
 * opts.gate(frame, socket) → true to hold the frame back (deliver it later with socket.deliver(frame)).
 */
export function makeWSClass(opts = {}) {
  const frames = [];
  const sockets = [];
  class RecordingWebSocket extends WS {
    constructor(url, protocols) {
      super(RecordingWebSocket.deadUrl ?? url, protocols);
      this._onmessage = null;
      this.received = [];
      this.closeCode = undefined;
      this.clientClosed = false;
      sockets.push(this);
      super.on('close', (code) => {
        this.closeCode = code;
      });
      super.on('message', (data) => {
        const frame = toU8(data);
        frames.push(frame);
        this.received.push(frame);
        if (opts.gate && opts.gate(frame, this)) return;
        this.deliver(frame);
      });
    }
    close(...args) {
      this.clientClosed = true;
      return super.close(...args);
    }
    terminate() {
      this.clientClosed = true;
      return super.terminate();
    }
    deliver(frame) {
      const handler = this._onmessage;
      if (handler) handler({ data: frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength), target: this });
    }
    get onmessage() {
      return this._onmessage;
    }
    set onmessage(fn) {
      this._onmessage = fn;
    }
  }
  RecordingWebSocket.frames = frames;
  RecordingWebSocket.sockets = sockets;
  RecordingWebSocket.deadUrl = undefined;
  return RecordingWebSocket;
}

export const MSG_SYNC = 0;
export const MSG_AWARENESS = 1;
export const MSG_AUTH = 2;

/** Decodes an auth frame: {kind, reason} or null if not an auth message. */
export function decodeAuth(frame) {
  if (frame[0] !== MSG_AUTH) return null;
  const d = decoding.createDecoder(frame);
  decoding.readVarUint(d);
  const kind = decoding.readVarUint(d);
  const reason = kind === 0 ? decoding.readVarString(d) : undefined;
  return { kind, reason };
}

/**
 * Sockets the server closed although the client did not ask to (any code, including a silent
 * close): for a well-behaved client on a server that keeps running, there must be none.
 */
export function serverCloses(clients) {
  const out = [];
  for (const c of clients) for (const s of c.W.sockets) if (s.closeCode !== undefined && !s.clientClosed) out.push(s.closeCode);
  return out;
}

export function permissionDenials(W) {
  return W.frames.map(decodeAuth).filter((a) => a && a.kind === 0);
}

export const hex = (u8, max = 64) =>
  Array.from(u8.slice(0, max), (b) => b.toString(16).padStart(2, '0')).join(' ') + (u8.length > max ? ` … (${u8.length} bytes)` : '');

/**
 * Connects a stock y-websocket client. Returns {doc, text, provider, W, destroy()}.
 * opts.user: awareness `user` field to claim locally (the server must overwrite it).
 */
export function connectClient(env, draftId, token, { gate, user, connect = true, clientID } = {}) {
  const W = makeWSClass({ gate });
  const doc = new Y.Doc();
  if (clientID !== undefined) doc.clientID = clientID;
  const provider = new WebsocketProvider(`${env.wsBase}/api/drafts/${draftId}`, 'ws', doc, {
    params: { token },
    WebSocketPolyfill: W,
    disableBc: true,
    connect: false,
  });
  // Like a real editor, publish some local awareness (an Awareness starts at clock 0, which stock
  // y-protocols peers ignore); the server replaces `user` with the session's identity anyway.
  provider.awareness.setLocalStateField('user', user ?? { name: 'test client' });
  if (connect) provider.connect();
  const client = {
    doc,
    text: doc.getText('content'),
    provider,
    W,
    destroy() {
      try {
        provider.destroy();
      } catch {
        /* ignore */
      }
      doc.destroy();
    },
  };
  return client;
}

export function waitSynced(client, timeout = 10_000, what = 'client') {
  return waitFor(() => client.provider.synced, {
    timeout,
    what: `${what} to sync`,
    detail: () => `frames received: ${client.W.frames.length}; first: ${client.W.frames.slice(0, 3).map((f) => hex(f)).join(' | ')}`,
  });
}

/** Random insertion point that does not split a token `[..]` (0 or just after a `]`). */
export function boundary(text) {
  const s = text.toString();
  const points = [0];
  for (let i = 0; i < s.length; i++) if (s[i] === ']') points.push(i + 1);
  return points[Math.floor(Math.random() * points.length)];
}

export function svEqual(a, b) {
  return Buffer.from(Y.encodeStateVector(a)).equals(Buffer.from(Y.encodeStateVector(b)));
}

/** Opens a raw `ws` socket and reports how the upgrade went: {status} or {opened: true}. */
export function rawUpgrade(url) {
  return new Promise((resolve, reject) => {
    const socket = new WS(url);
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`no answer to the upgrade of ${url}`));
    }, 10_000);
    socket.on('unexpected-response', (req, res) => {
      clearTimeout(timer);
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', () => resolve({ status: res.statusCode, body }));
    });
    socket.on('open', () => {
      clearTimeout(timer);
      socket.close();
      resolve({ opened: true });
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
