// A stock client that edited offline and goes on typing while it resyncs sends updates whose
// dependencies (its offline edits) reach the server after them. The server must hold them, not
// refuse them: no server-initiated close, both clients converge, every keystroke is stored.
//
// Run from the repository root:  node --test tests/yjs/offline.test.mjs
// PLENUM_OFFLINE_ROUNDS (default 20) sets how many offline/reconnect rounds run per backend.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS, startEnv, connectClient, waitSynced, waitFor, sleep, svEqual, serverCloses, boundary } from './helpers.mjs';

const ROUNDS = Number(process.env.PLENUM_OFFLINE_ROUNDS ?? 20);
/** Closes a well-behaved client must never get from the server. */
const SERVER_FAULTS = new Set([1002, 1003, 1009, 1011, 4000]);

for (const backend of BACKENDS) {
  describe(`offline edits and typing during the resync (${backend})`, { timeout: 300_000 }, () => {
    let env;
    const clients = [];
    before(async () => {
      env = await startEnv(backend);
    });
    after(async () => {
      while (clients.length) clients.pop().destroy();
      await env?.close();
    });

    test(`${ROUNDS} rounds: edit offline, reconnect, type every 2 ms while resyncing — held, never refused`, async () => {
      try {
        const draft = await env.createDraft('kabo', 'Typed on a train');
        const a = connectClient(env, draft.id, await env.login('kabo'));
        const b = connectClient(env, draft.id, await env.login('priya'));
        clients.push(a, b);
        await Promise.all([waitSynced(a, 10_000, 'Kabo'), waitSynced(b, 10_000, 'Priya')]);
        const typed = [];
        let n = 0;
        const type = (c, tag) => {
          const token = `[${tag}${n++}]`;
          c.text.insert(boundary(c.text), token);
          typed.push(token);
        };
        for (let round = 0; round < ROUNDS; round++) {
          a.provider.disconnect();
          for (let i = 0; i < 15; i++) type(a, 'off');
          type(b, 'b');
          a.provider.connect();
          // Type every 2 ms from the moment the socket opens, while the resync is under way.
          await waitFor(() => a.provider.wsconnected, { timeout: 10_000, what: `Kabo to reconnect (round ${round})` });
          const started = Date.now();
          while (Date.now() - started < 150) {
            type(a, 'on');
            await sleep(2);
          }
          await waitSynced(a, 10_000, `Kabo (round ${round})`);
        }
        await waitFor(() => svEqual(a.doc, b.doc) && a.text.toString() === b.text.toString(), {
          timeout: 30_000,
          what: 'Kabo and Priya to converge',
        });
        const text = a.text.toString();
        const missing = typed.filter((t) => !text.includes(t));
        assert.deepEqual(missing, [], 'keystrokes missing from the converged text');
        const stored = (await env.getDraft('admin', draft.id)).text;
        assert.equal(stored, text, 'the server has every keystroke');
        const faults = serverCloses([a, b]).concat(
          [a, b].flatMap((c) => c.W.sockets.map((s) => s.closeCode)).filter((code) => SERVER_FAULTS.has(code)),
        );
        assert.deepEqual(faults, [], 'the server closed a well-behaved client');
        console.log(`${backend}: ${ROUNDS} rounds, ${typed.length} tokens typed, ${a.W.sockets.length} connections of the offline client, 0 server-initiated closes`);
      } catch (err) {
        console.error(`--- plenum serve output (${backend}, tail) ---\n${env?.serverOutput().slice(-8000)}`);
        throw err;
      }
    });
  });
}
