// Starting and stopping processes for the Node test suites (tests/browser, tests/yjs):
// the plenum binary, the SMTP sink, psql. One copy, imported by both.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The server binary under test (the Rust tests build it). */
export const PLENUM = process.env.PLENUM_BIN ?? path.join(ROOT, 'target', 'debug', 'plenum');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A TCP port that was free a moment ago. */
export async function freePort() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

/** Spawn a child whose output is kept for diagnostics. */
export function start(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], ...opts });
  child.output = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  const keep = (chunk) => {
    child.output += chunk;
    if (child.output.length > 400_000) child.output = child.output.slice(-200_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  child.on('error', (err) => keep(`\n[spawn error] ${err.message}\n`));
  // A child that exits before reading its stdin must not crash the test with EPIPE.
  child.stdin.on('error', () => undefined);
  return child;
}

/** Runs a command to completion; throws with its output unless it exits 0. */
export async function run(cmd, args, { input, env } = {}) {
  const child = start(cmd, args, env ? { env: { ...process.env, ...env } } : {});
  child.stdin.end(input ?? '');
  const { code, signal } = await child.exited;
  if (code !== 0) throw new Error(`${path.basename(cmd)} ${args.join(' ')} exited ${code ?? signal}:\n${child.output}`);
  return child.output;
}

/** Stops a child (SIGTERM by default), killing it if it does not stop within 10 s. */
export async function stop(child, name, signal = 'SIGTERM') {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  const done = await Promise.race([child.exited.then(() => true), sleep(10_000).then(() => false)]);
  if (!done) {
    console.error(`${name} did not stop on ${signal}; killing`);
    child.kill('SIGKILL');
    await child.exited;
  }
}

/** Waits until `plenum serve` answers /readyz with 200; fails early if it exited. */
export async function waitForReady(base, server, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (server.exitCode !== null || server.signalCode !== null) {
      throw new Error(`plenum serve exited (${server.exitCode ?? server.signalCode}):\n${server.output}`);
    }
    try {
      const res = await fetch(`${base}/readyz`);
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err.message;
    }
    await sleep(100);
  }
  throw new Error(`server not ready within ${timeoutMs} ms (${last}):\n${server.output}`);
}
