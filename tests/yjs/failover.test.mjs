// Failover: two `plenum serve` instances on one fresh PostgreSQL database; one is SIGKILLed while
// clients on both are live, and its clients reconnect to the survivor.
//  - Drafting: stock Yjs clients (y-websocket's WebsocketProvider) on each instance type on one
//    draft; every token any client ever saw is in every client's final text, in the survivor's
//    stored text, and in the text a restarted instance rebuilds from the database alone.
//  - A meeting's live feed: followers on both instances; the chair moves the current item through
//    both; after the kill the followers reconnect to the survivor with `?since=` their last
//    number and end up with every event exactly once, in order, with no gap.
//
// Run from the repository root:  node --test tests/yjs/failover.test.mjs
// (after `PLENUM_SKIP_FRONTEND=1 cargo build --bin plenum`). PLENUM_FAILOVER_SECS (default 2) sets
// how long the typing lasts before and after the kill.
import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { WS, sleep, startEnv, connectClient, waitFor, boundary, call, psqlRows, tokensOf } from './helpers.mjs';

const TYPING_SECS = Number(process.env.PLENUM_FAILOVER_SECS ?? 2);
/**
 * Where clients connect: each starts on its home instance; once that one is marked dead, every
 * new connection goes to a live one (as a load balancer would send it).
 */
function makeRouter(instances) {
  const dead = new Set();
  return {
    kill(instance) {
      dead.add(instance);
    },
    live(home) {
      if (!dead.has(home)) return home;
      const other = instances.find((i) => !dead.has(i));
      if (!other) throw new Error('no live instance');
      return other;
    },
  };
}

/**
 * A stock y-websocket client that reconnects to a live instance: before each reconnect the
 * provider's server URL is pointed at `router.live(home)`. `seen`: every token it ever had.
 */
function routedClient(router, home, draftId, token, letter) {
  const client = connectClient(home, draftId, token, { connect: false });
  const draftUrl = (instance) => `${instance.wsBase}/api/drafts/${draftId}`;
  client.home = home;
  client.provider.on('connection-close', () => {
    client.provider.serverUrl = draftUrl(router.live(home));
  });
  client.seen = new Set();
  client.text.observe(() => {
    for (const t of tokensOf(client.text.toString())) client.seen.add(t);
  });
  client.typed = [];
  let n = 0;
  client.typeOne = () => {
    const t = `[${letter}${client.doc.clientID % 1000}.${n++}]`;
    client.text.insert(boundary(client.text), t);
    client.typed.push(t);
  };
  client.provider.connect();
  return client;
}

/**
 * A follower of a meeting's live feed over a raw websocket: keeps every event frame, and when the
 * socket closes (not at our request) reconnects to a live instance with `?since=` its last seq.
 * `gate`: a promise a reconnect waits for (so the test can make changes while it is away).
 */
function follower(router, home, meetingId, token, name) {
  const f = { name, home, snapshots: [], events: [], last: null, sockets: 0, replayed: 0, closed: false, gate: null, errors: [] };
  const open = () => {
    const instance = router.live(home);
    const since = f.last === null ? '' : `&since=${f.last}`;
    const ws = new WS(`${instance.wsBase}/api/meetings/${meetingId}/live?token=${encodeURIComponent(token)}${since}`);
    f.ws = ws;
    f.sockets++;
    const resumed = f.last !== null;
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      if (frame.type === 'snapshot') {
        f.snapshots.push(frame.seq);
        if (f.last === null) f.last = frame.seq;
        else f.errors.push(`snapshot at ${frame.seq} after resuming from ${f.last}`);
      } else if (frame.type === 'event') {
        f.events.push(frame);
        if (resumed) f.replayed++;
        if (f.last !== null && frame.seq !== f.last + 1) f.errors.push(`seq ${frame.seq} after ${f.last}`);
        f.last = frame.seq;
      }
    });
    ws.on('error', () => undefined);
    ws.on('close', async () => {
      if (f.closed) return;
      await sleep(100);
      if (f.gate) await f.gate;
      if (!f.closed) open();
    });
  };
  f.open = open;
  f.close = () => {
    f.closed = true;
    f.ws?.terminate();
  };
  open();
  return f;
}

describe('failover: SIGKILL one of two instances on one PostgreSQL database', { timeout: 300_000 }, () => {
  let env;
  const cleanups = [];
  afterEach(async () => {
    while (cleanups.length) cleanups.pop()();
    await env?.close();
    env = undefined;
  });

  const onFailure = async (fn) => {
    try {
      await fn();
    } catch (err) {
      const logs = [env?.serverOutput(), ...(env?.instances ?? []).map((i) => i.server.output)];
      console.error(`--- plenum serve output (tails) ---\n${logs.map((l) => (l ?? '').slice(-6000)).join('\n--- next instance ---\n')}`);
      throw err;
    }
  };

  test('drafting: the killed instance\'s Yjs clients reconnect to the survivor and nothing anyone saw is lost', () =>
    onFailure(async () => {
      env = await startEnv('postgres');
      const a = { base: env.base, wsBase: env.wsBase };
      const b = await env.startInstance();
      const router = makeRouter([a, b]);
      const kabo = await env.login('kabo');
      const elena = await env.login('elena');
      const draft = await env.createDraft('kabo', 'Failover');
      const clients = [];
      for (const [home, letter] of [[a, 'a'], [b, 'b']]) {
        clients.push(routedClient(router, home, draft.id, kabo, letter), routedClient(router, home, draft.id, elena, letter));
      }
      cleanups.push(() => clients.forEach((c) => c.destroy()));
      await waitFor(() => clients.every((c) => c.provider.synced), { what: 'every client to sync' });

      const type = async (secs) => {
        const until = Date.now() + secs * 1000;
        while (Date.now() < until) {
          for (const c of clients) if (Math.random() < 0.5) c.typeOne();
          await sleep(20);
        }
      };
      await type(TYPING_SECS);
      // The kill lands while everyone types: edits in flight to A are lost by A, not by clients.
      const typing = type(TYPING_SECS);
      await sleep(200);
      router.kill(a);
      await env.killServer('SIGKILL');
      await typing;
      const fromA = clients.filter((c) => c.home === a);
      await waitFor(() => fromA.every((c) => c.provider.synced && c.provider.serverUrl.startsWith(b.wsBase)), {
        timeout: 20_000,
        what: "the killed instance's clients to reconnect to the survivor and sync",
      });
      await type(TYPING_SECS / 2);

      const everything = new Set(clients.flatMap((c) => [...c.seen, ...c.typed]));
      const missing = (have) => [...everything].filter((t) => !have.has(t));
      await waitFor(() => clients.every((c) => missing(tokensOf(c.text.toString())).length === 0), {
        timeout: 30_000,
        what: 'every client to have every token any client saw',
        detail: () => clients.map((c, i) => `client ${i}: missing ${missing(tokensOf(c.text.toString())).slice(0, 10).join(' ')}`).join('\n'),
      });
      const texts = new Set(clients.map((c) => c.text.toString()));
      assert.equal(texts.size, 1, 'the clients converged on one text');
      const stored = tokensOf((await call(b.base, kabo, 'GET', `/api/drafts/${draft.id}`)).text);
      assert.deepEqual(missing(stored), [], 'the survivor stored every token a client saw');

      // Restart: the survivor is killed too, and a fresh instance rebuilds the text from the database.
      for (const c of clients) c.destroy();
      cleanups.length = 0;
      await b.stop('SIGKILL');
      await env.startServer();
      const rebuilt = tokensOf((await call(env.base, kabo, 'GET', `/api/drafts/${draft.id}`)).text);
      assert.deepEqual(missing(rebuilt), [], 'the text rebuilt after a restart has every token a client saw');
      const typed = clients.reduce((n, c) => n + c.typed.length, 0);
      console.log(`drafting failover: ${typed} tokens typed by ${clients.length} clients, ${everything.size} seen, 0 lost; ` +
        `${fromA.length} clients moved from the killed instance`);
    }));

  test("meeting live feed: followers of the killed instance resume on the survivor with every event once, in order", () =>
    onFailure(async () => {
      env = await startEnv('postgres');
      const a = { base: env.base, wsBase: env.wsBase };
      const b = await env.startInstance();
      const router = makeRouter([a, b]);
      const admin = await env.login('admin');
      const bodies = await call(env.base, admin, 'GET', '/api/bodies');
      const plenary = bodies.find((x) => x.short_name === 'KP').id;
      const meeting = await call(env.base, admin, 'POST', '/api/meetings', {
        body_id: plenary, kind: 'intersessional', title: 'Failover meeting', venue: 'Antwerp', time_zone: 'Europe/Brussels',
        starts_at: '2027-06-14T07:00:00Z', ends_at: '2027-06-16T16:00:00Z',
      });
      const items = [];
      for (let i = 1; i <= 4; i++) items.push((await call(env.base, admin, 'POST', `/api/meetings/${meeting.id}/agenda`, { title: `Item ${i}` })).id);
      for (const step of ['convene', 'open']) await call(env.base, admin, 'POST', `/api/meetings/${meeting.id}/${step}`, {});

      const followers = [];
      for (const [home, who] of [[a, 'kabo'], [a, 'priya'], [b, 'elena'], [b, 'priya']]) {
        followers.push(follower(router, home, meeting.id, await env.login(who), `${who}@${home === a ? 'A' : 'B'}`));
      }
      cleanups.push(() => followers.forEach((f) => f.close()));
      await waitFor(() => followers.every((f) => f.snapshots.length === 1), { what: 'every follower to get its snapshot' });
      const start = Math.min(...followers.map((f) => f.last));

      const moved = [];
      const move = async (instance, k) => {
        const item = items[k % items.length];
        await call(instance.base, admin, 'POST', `/api/meetings/${meeting.id}/current-item`, { item_id: item });
        moved.push(item);
      };
      // Moves through both instances, each seen live by every follower before the next.
      for (let k = 0; k < 6; k++) {
        await move(k % 2 === 0 ? a : b, k);
        const want = moved.length;
        await waitFor(() => followers.every((f) => f.events.filter((e) => e.kind === 'current_item').length >= want), {
          what: `every follower to see move ${k + 1}`,
        });
      }
      // Two quick moves through the one about to die, then SIGKILL: its followers reconnect only
      // after the survivor made more moves, so they must catch up from `?since=`.
      let open;
      const gate = new Promise((resolve) => (open = resolve));
      for (const f of followers) f.gate = gate;
      await move(a, 6);
      await move(a, 7);
      router.kill(a);
      await env.killServer('SIGKILL');
      for (let k = 8; k < 12; k++) await move(b, k);
      open();
      for (let k = 12; k < 14; k++) await move(b, k);

      const stored = (await psqlRows(env.db.url, `SELECT seq, kind FROM meeting_events WHERE meeting_id = ${meeting.id} AND seq > ${start} ORDER BY seq`))
        .map((l) => { const [seq, kind] = l.split(','); return { seq: Number(seq), kind }; });
      const last = stored[stored.length - 1].seq;
      await waitFor(() => followers.every((f) => f.last === last), {
        timeout: 20_000,
        what: 'every follower to reach the last event',
        detail: () => followers.map((f) => `${f.name}: last ${f.last}, errors ${f.errors.join('; ')}`).join('\n'),
      });
      for (const f of followers) {
        assert.deepEqual(f.errors, [], `${f.name}: gaps, repeats or snapshots instead of a replay`);
        const mine = f.events.filter((e) => e.seq > f.snapshots[0]);
        const expected = stored.filter((e) => e.seq > f.snapshots[0]);
        assert.deepEqual(mine.map((e) => [e.seq, e.kind]), expected.map((e) => [e.seq, e.kind]), `${f.name}: every event once, in order`);
        const currents = f.events.filter((e) => e.kind === 'current_item').map((e) => e.data.item_id);
        assert.deepEqual(currents, moved, `${f.name}: the moves in the chair's order`);
      }
      const fromA = followers.filter((f) => f.home === a);
      for (const f of fromA) {
        assert.ok(f.sockets >= 2, `${f.name} reconnected`);
        assert.ok(f.replayed >= 4, `${f.name} caught up from ?since= (${f.replayed} replayed)`);
      }
      for (const f of followers.filter((x) => x.home === b)) assert.equal(f.sockets, 1, `${f.name} kept its socket`);
      console.log(`meeting failover: ${moved.length} moves, ${stored.length} events; followers of the killed instance replayed ` +
        `${fromA.map((f) => f.replayed).join(', ')} events on reconnecting`);
    }));
});
