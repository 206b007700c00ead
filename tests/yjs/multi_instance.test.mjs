// Several `plenum serve` instances on one PostgreSQL database, with stock Yjs clients typing on
// both, a tiny compaction threshold and rooms that unload: nothing a client received may be lost.
//
// Run from the repository root:  node --test tests/yjs/multi_instance.test.mjs
// PLENUM_STRESS_TRIALS (default 2) sets how many trials the stress test runs, PLENUM_STRESS_SECS
// (default 6) how long the typing of one trial lasts.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sleep, startEnv, connectClient, waitFor, serverCloses, boundary, call, psqlRows, tokensOf } from './helpers.mjs';

const TRIALS = Number(process.env.PLENUM_STRESS_TRIALS ?? 2);
const TYPING_SECS = Number(process.env.PLENUM_STRESS_SECS ?? 6);
/** Closes a well-behaved client must never get from the server. */
const SERVER_FAULTS = new Set([1002, 1003, 1009, 1011, 4000]);
/** The one value `sql` returns. */
const psqlValue = async (url, sql) => (await psqlRows(url, sql))[0];
const getText = async (base, token, id) => (await call(base, token, 'GET', `/api/drafts/${id}`)).text;

/** A watcher: a stock client that records every token it ever received. */
function watch(server, draftId, token) {
  const client = connectClient(server, draftId, token);
  client.seen = new Set();
  client.text.observe((event) => {
    for (const op of event.delta) {
      if (typeof op.insert === 'string') for (const t of tokensOf(op.insert)) client.seen.add(t);
    }
  });
  return client;
}

/** A typist: inserts its own numbered tokens at random boundaries, every `everyMs`. */
function typist(server, draftId, token, letter) {
  const client = connectClient(server, draftId, token);
  client.typed = [];
  let n = 0;
  client.typeOne = () => {
    const t = `[${letter}${client.doc.clientID % 1000}.${n++}]`;
    client.text.insert(boundary(client.text), t);
    client.typed.push(t);
  };
  return client;
}

/** Closes the server initiated: fault codes, and any close a client did not ask for (a join
 * that reached a room while it unloaded used to be closed silently). */
function faults(clients) {
  return serverCloses(clients).concat(
    clients.flatMap((c) => c.W.sockets.filter((s) => s.clientClosed && SERVER_FAULTS.has(s.closeCode)).map((s) => s.closeCode)),
  );
}

describe('several instances on one PostgreSQL database', { timeout: 600_000 }, () => {
  let env;
  const clients = [];
  const track = (c) => {
    clients.push(c);
    return c;
  };
  const closeClients = () => {
    while (clients.length) clients.pop().destroy();
  };
  const args = ['--compact-after', '10', '--room-idle-secs', '1', '--room-poll-secs', '1'];

  before(async () => {
    env = await startEnv('postgres', { serverArgs: args });
  });
  after(async () => {
    closeClients();
    await env?.close();
  });

  const onFailure = async (fn) => {
    try {
      await fn();
    } catch (err) {
      const logs = [env?.serverOutput(), ...(env?.instances ?? []).map((i) => i.server.output)];
      console.error(`--- plenum serve output (tails) ---\n${logs.map((l) => (l ?? '').slice(-6000)).join('\n--- next instance ---\n')}`);
      throw err;
    } finally {
      closeClients();
    }
  };

  test(`stress: typing on two instances with compaction every 10 updates and rooms unloading (${TRIALS} trials)`, () =>
    onFailure(async () => {
      const a = { wsBase: env.wsBase, base: env.base };
      const b = await env.startInstance(args);
      const kabo = await env.login('kabo');
      const priya = await env.login('priya');
      const elena = await env.login('elena');
      const totals = { trials: 0, seen: 0, lost: 0, typed: 0 };
      for (let trial = 1; trial <= TRIALS; trial++) {
        const draft = await env.createDraft('kabo', `Stress trial ${trial}`);
        const watcher = track(watch(a, draft.id, priya));
        await waitFor(() => watcher.provider.synced, { what: 'the watcher to sync' });
        const onA = [0, 1, 2, 3].map(() => track(typist(a, draft.id, kabo, 'a')));
        const onB = [0, 1, 2, 3].map(() => track(typist(b, draft.id, elena, 'b')));
        const typists = [...onA, ...onB];
        await waitFor(() => typists.every((c) => c.provider.synced), { what: 'the typists to sync' });

        // Type for TYPING_SECS. Every 1.5 s the typists on B all go offline for 1.3 s (their
        // instance unloads the room) and keep typing, as a delegate on a bad connection would.
        const started = Date.now();
        let offline = false;
        let lastSwitch = started;
        while (Date.now() - started < TYPING_SECS * 1000) {
          for (const c of typists) if (Math.random() < 0.5) c.typeOne();
          if (!offline && Date.now() - lastSwitch > 1500) {
            for (const c of onB) c.provider.disconnect();
            offline = true;
            lastSwitch = Date.now();
          } else if (offline && Date.now() - lastSwitch > 1300) {
            for (const c of onB) c.provider.connect();
            offline = false;
            lastSwitch = Date.now();
          }
          await sleep(15);
        }
        if (offline) for (const c of onB) c.provider.connect();

        const typed = new Set(typists.flatMap((c) => c.typed));
        await waitFor(() => [...typed].every((t) => watcher.seen.has(t)), {
          timeout: 60_000,
          what: 'the watcher to receive every token typed',
          detail: () => `missing: ${[...typed].filter((t) => !watcher.seen.has(t)).slice(0, 20).join(' ')}`,
        });
        const seen = new Set(watcher.seen);
        const finalText = watcher.text.toString();
        const lostByWatcher = [...seen].filter((t) => !finalText.includes(t));
        const onInstanceA = tokensOf(await getText(env.base, kabo, draft.id));
        const onInstanceB = tokensOf(await getText(b.base, kabo, draft.id));
        const lostOnA = [...seen].filter((t) => !onInstanceA.has(t));
        const lostOnB = [...seen].filter((t) => !onInstanceB.has(t));
        const belowSnapshot = Number(
          await psqlValue(
            env.db.url,
            `SELECT count(*) FROM draft_updates u WHERE u.draft_id = ${draft.id} AND u.seq <= ` +
              `(SELECT COALESCE(max(seq), 0) FROM draft_snapshots s WHERE s.draft_id = ${draft.id})`,
          ),
        );
        const snapshots = Number(await psqlValue(env.db.url, `SELECT count(*) FROM draft_snapshots WHERE draft_id = ${draft.id}`));
        const closes = faults(typists.concat([watcher]));
        totals.trials++;
        totals.seen += seen.size;
        totals.typed += typed.size;
        totals.lost += lostByWatcher.length + lostOnA.length + lostOnB.length;
        console.log(
          `trial ${trial}: typed ${typed.size}, watcher saw ${seen.size}, snapshots ${snapshots}, ` +
            `lost (watcher/GET A/GET B) ${lostByWatcher.length}/${lostOnA.length}/${lostOnB.length}, ` +
            `log rows at or below the snapshot ${belowSnapshot}, server-initiated faults ${closes.length}`,
        );
        assert.ok(snapshots >= 1, 'compaction ran');
        assert.deepEqual(lostByWatcher, [], 'tokens the watcher saw vanished from its text');
        assert.deepEqual(lostOnA, [], 'GET on instance A lacks tokens the watcher received');
        assert.deepEqual(lostOnB, [], 'GET on instance B lacks tokens the watcher received');
        assert.equal(belowSnapshot, 0, 'log rows at or below the newest snapshot');
        assert.deepEqual(closes, [], 'well-behaved clients were closed by the server');
        for (const c of [...typists, watcher]) c.destroy();
        clients.length = 0;
        env.trialDrafts = (env.trialDrafts ?? []).concat([{ id: draft.id, seen }]);
      }

      // Rebuilt from the database alone: a fresh instance that has nothing loaded.
      await b.stop();
      const fresh = await env.startInstance(args);
      for (const { id, seen } of env.trialDrafts) {
        const stored = tokensOf(await getText(fresh.base, kabo, id));
        const lost = [...seen].filter((t) => !stored.has(t));
        assert.deepEqual(lost, [], `draft ${id} rebuilt from the database lacks tokens the watcher received`);
      }
      await fresh.stop();
      console.log(`stress totals: ${totals.trials} trials, ${totals.typed} tokens typed, ${totals.seen} seen by the watcher, ${totals.lost} lost`);
    }));

  test('GET on an instance where the draft is not loaded, while the other compacts every 5 updates, misses nothing', () =>
    onFailure(async () => {
      const compactArgs = ['--compact-after', '5', '--room-idle-secs', '1'];
      const a = await env.startInstance(compactArgs);
      const b = await env.startInstance(compactArgs);
      const kabo = await env.login('kabo');
      const priya = await env.login('priya');
      const draft = await env.createDraft('kabo', 'Read during compaction');
      const watcher = track(watch(a, draft.id, priya));
      await waitFor(() => watcher.provider.synced, { what: 'the watcher to sync' });
      const typists = [0, 1, 2, 3].map(() => track(typist(a, draft.id, kabo, 'c')));
      await waitFor(() => typists.every((c) => c.provider.synced), { what: 'the typists to sync' });
      let typing = true;
      const typingDone = (async () => {
        while (typing) {
          for (const c of typists) c.typeOne();
          await sleep(10);
        }
      })();
      const stats = { gets: 0, misses: 0, missing: [] };
      const reader = async () => {
        while (typing) {
          const before = new Set(watcher.seen);
          const got = tokensOf(await getText(b.base, kabo, draft.id));
          stats.gets++;
          const missing = [...before].filter((t) => !got.has(t));
          if (missing.length) {
            stats.misses++;
            stats.missing.push(...missing.slice(0, 3));
          }
        }
      };
      const readers = [reader(), reader(), reader()];
      await sleep(TYPING_SECS * 1000);
      typing = false;
      await Promise.all([typingDone, ...readers]);
      const snapshots = Number(await psqlValue(env.db.url, `SELECT count(*) FROM draft_snapshots WHERE draft_id = ${draft.id}`));
      console.log(`GET during compaction: ${stats.gets} GETs, ${watcher.seen.size} tokens seen, ${stats.misses} GETs missed an edit already received`);
      assert.ok(snapshots >= 1, 'compaction ran');
      assert.ok(stats.gets > 20, `only ${stats.gets} GETs ran`);
      assert.equal(stats.misses, 0, `GETs that missed edits received before they were sent: ${stats.missing.join(' ')}`);
      closeClients();
      await a.stop();
      await b.stop();
    }));
});


