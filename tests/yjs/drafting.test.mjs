// Live drafting over websockets with stock Yjs clients (y-websocket), on SQLite and PostgreSQL.
//
// Run from the repository root:  node --test tests/yjs/
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACCOUNTS, BACKENDS, Y, awarenessProtocol, encoding, startEnv, connectClient, waitSynced, waitFor, sleep,
  svEqual, rawUpgrade, permissionDenials, hex, freePort, MSG_AWARENESS, MSG_SYNC, boundary,
} from './helpers.mjs';

const DRAFT_FIELDS = ['id', 'title', 'meeting', 'agenda_item', 'state', 'text', 'connected', 'can_edit', 'created_at', 'updated_at'];

function unknownId(id) {
  if (typeof id === 'number') return 2_000_000_000;
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return '00000000-0000-4000-8000-000000000000';
  if (/^\d+$/.test(id)) return '2000000000';
  return `${id.slice(0, -1)}${id.endsWith('0') ? '1' : '0'}`;
}

function remoteUsers(client) {
  const out = [];
  for (const [clientId, state] of client.provider.awareness.getStates()) {
    if (clientId !== client.doc.clientID) out.push({ clientId, user: state?.user });
  }
  return out;
}

for (const backend of BACKENDS) {
  describe(`live drafting over websockets (${backend})`, { timeout: 240_000 }, () => {
    let env;
    const clients = [];
    const client = (...args) => {
      const c = connectClient(env, ...args);
      clients.push(c);
      return c;
    };
    const closeClients = () => {
      while (clients.length) clients.pop().destroy();
    };

    before(async () => {
      env = await startEnv(backend);
    });
    after(async () => {
      closeClients();
      await env?.close();
    });

    const onFailure = async (fn) => {
      try {
        await fn();
      } catch (err) {
        console.error(`--- plenum serve output (${backend}, tail) ---\n${env?.serverOutput().slice(-8000)}`);
        throw err;
      } finally {
        closeClients();
      }
    };

    test('upgrade refused before any socket: 401 without/with a bad token, 404 for an unknown draft', () =>
      onFailure(async () => {
        const draft = await env.createDraft('kabo', 'Upgrade checks');
        const token = await env.login('kabo');
        const url = `${env.wsBase}/api/drafts/${draft.id}/ws`;
        const none = await rawUpgrade(url);
        assert.equal(none.status, 401, `GET ${url} without token: expected HTTP 401, got ${JSON.stringify(none)}`);
        const bad = await rawUpgrade(`${url}?token=not-a-real-token`);
        assert.equal(bad.status, 401, `GET ${url}?token=not-a-real-token: expected HTTP 401, got ${JSON.stringify(bad)}`);
        const unknown = `${env.wsBase}/api/drafts/${unknownId(draft.id)}/ws?token=${encodeURIComponent(token)}`;
        const missing = await rawUpgrade(unknown);
        assert.equal(missing.status, 404, `GET ${unknown} (valid token): expected HTTP 404, got ${JSON.stringify(missing)}`);
        // And the good one does upgrade.
        const ok = await rawUpgrade(`${url}?token=${encodeURIComponent(token)}`);
        assert.deepEqual(ok, { opened: true }, 'a participant with a valid token should get a websocket');
      }));

    test('REST: draft shape, observers cannot create drafts', () =>
      onFailure(async () => {
        const draft = await env.createDraft('kabo', 'Decision on the review mission to Venezuela');
        for (const f of DRAFT_FIELDS) assert.ok(f in draft, `POST /api/drafts response lacks "${f}": ${JSON.stringify(draft)}`);
        assert.equal(draft.title, 'Decision on the review mission to Venezuela');
        assert.equal(draft.meeting, null, 'a draft opened without a meeting belongs to none');
        assert.equal(draft.agenda_item, null);
        assert.equal(draft.state, 'drafting');
        assert.equal(draft.text, '');
        assert.equal(draft.can_edit, true);
        assert.deepEqual(draft.connected, []);
        const admin = await env.createDraft('admin', 'Secretariat draft');
        assert.equal(admin.state, 'drafting');
        const obs = await env.api(await env.login('rafael'), 'POST', '/api/drafts', { title: 'Observer draft' });
        assert.equal(obs.status, 403, `observer POST /api/drafts: expected 403, got ${obs.status} ${obs.text}`);
        const seen = await env.getDraft('rafael', draft.id);
        assert.equal(seen.can_edit, false, 'an observer must not get can_edit=true');
      }));

    test('two participants type concurrently and converge; late joiner syncs; connected list; awareness from the server', () =>
      onFailure(async () => {
        const draft = await env.createDraft('kabo', 'Decision on statistics');
        await env.login('kabo');
        await env.login('priya');
        const kaboId = env.users.get('kabo').id;
        const priyaId = env.users.get('priya').id;

        const a = client(draft.id, await env.login('kabo'), { user: { name: 'Impostor', organisation: 'Nowhere', id: 9999 } });
        const b = client(draft.id, await env.login('priya'), { user: { name: 'Impostor', readOnly: false } });
        await Promise.all([waitSynced(a, 10_000, 'Kabo'), waitSynced(b, 10_000, 'Priya')]);

        // Concurrent typing: both clients edit without waiting for each other.
        const type = async (c, tag, n) => {
          for (let i = 0; i < n; i++) {
            const len = c.text.length;
            if (i % 7 === 6 && len > 4) {
              c.text.delete(Math.floor(Math.random() * (len - 2)), 1);
            } else {
              c.text.insert(Math.floor(Math.random() * (len + 1)), `${tag}${i} `);
            }
            if (i % 5 === 0) await sleep(Math.random() * 10);
          }
        };
        await Promise.all([type(a, 'bw', 120), type(b, 'in', 120)]);
        await waitFor(() => svEqual(a.doc, b.doc) && a.text.toString() === b.text.toString(), {
          timeout: 20_000,
          what: 'Kabo and Priya to converge',
          detail: () => `Kabo: ${JSON.stringify(a.text.toString()).slice(0, 300)}\nPriya: ${JSON.stringify(b.text.toString()).slice(0, 300)}`,
        });
        const text = a.text.toString();
        assert.ok(text.length > 100, 'the converged text should not be empty');

        // The server's text is the converged text (both clients have each other's updates, which
        // the server committed before relaying them).
        const fromServer = await env.getDraft('kabo', draft.id);
        assert.equal(fromServer.text, text, 'GET /api/drafts/{id} text differs from the converged client text');
        assert.equal(fromServer.can_edit, true);

        // connected lists both users while they are connected.
        const connected = fromServer.connected;
        const byId = new Map(connected.map((c) => [c.user_id, c]));
        assert.ok(byId.has(kaboId) && byId.has(priyaId), `connected should list Kabo (${kaboId}) and Priya (${priyaId}): ${JSON.stringify(connected)}`);
        assert.equal(byId.get(kaboId).name, 'Kabo Molefe');
        assert.equal(byId.get(kaboId).organisation, 'Botswana');
        assert.equal(byId.get(kaboId).connections, 1);
        assert.equal(byId.get(priyaId).name, 'Priya Raman');
        assert.equal(byId.get(priyaId).organisation, 'India');

        // Awareness: each sees the other under the server's name, not "Impostor".
        const seenBy = async (c, otherDoc, name, userId, org) => {
          const state = await waitFor(
            () => {
              const s = c.provider.awareness.getStates().get(otherDoc.clientID);
              return s?.user?.name === name ? s : null;
            },
            { timeout: 10_000, what: `${name} in the awareness of the other client`, detail: () => JSON.stringify(remoteUsers(c)) },
          );
          assert.equal(state.user.id, userId, `awareness user.id of ${name}`);
          assert.equal(state.user.organisation, org, `awareness user.organisation of ${name}`);
          assert.equal(state.user.readOnly, false, `awareness user.readOnly of ${name}`);
          assert.equal(typeof state.user.color, 'string');
          assert.equal(typeof state.user.colorLight, 'string');
          assert.ok('kind' in state.user, 'awareness user.kind missing');
        };
        await seenBy(a, b.doc, 'Priya Raman', priyaId, 'India');
        await seenBy(b, a.doc, 'Kabo Molefe', kaboId, 'Botswana');

        // Claiming a new name later is overwritten too.
        a.provider.awareness.setLocalStateField('user', { name: 'Priya Raman', id: priyaId });
        a.provider.awareness.setLocalStateField('cursor', { anchor: 1 });
        await waitFor(() => b.provider.awareness.getStates().get(a.doc.clientID)?.cursor?.anchor === 1, {
          timeout: 10_000, what: 'Kabo\'s cursor at Priya',
        });
        assert.equal(b.provider.awareness.getStates().get(a.doc.clientID).user.name, 'Kabo Molefe', 'a renamed awareness state must be overwritten');
        assert.equal(b.provider.awareness.getStates().get(a.doc.clientID).user.id, kaboId);

        // A connection may only publish awareness for its own client id.
        const ghostDoc = new Y.Doc();
        ghostDoc.clientID = 424242;
        const ghost = new awarenessProtocol.Awareness(ghostDoc);
        ghost.setLocalState({ user: { name: 'Ghost' } });
        const spoofOther = new Map([[b.doc.clientID, { user: { name: 'Hijacked' } }]]);
        const encOther = awarenessProtocol.encodeAwarenessUpdate(
          { getStates: () => spoofOther, meta: new Map([[b.doc.clientID, { clock: 1000 }]]) }, [b.doc.clientID], spoofOther);
        for (const update of [awarenessProtocol.encodeAwarenessUpdate(ghost, [424242]), encOther]) {
          const enc = encoding.createEncoder();
          encoding.writeVarUint(enc, MSG_AWARENESS);
          encoding.writeVarUint8Array(enc, update);
          a.provider.ws.send(encoding.toUint8Array(enc));
        }
        ghost.destroy();
        ghostDoc.destroy();

        // Late joiner gets the full text.
        const c = client(draft.id, await env.login('elena'));
        await waitSynced(c, 10_000, 'Elena');
        await waitFor(() => c.text.toString() === text, { timeout: 10_000, what: 'the late joiner to have the full text' });
        assert.ok(!c.provider.awareness.getStates().has(424242), 'a spoofed awareness state for another client id reached Elena');
        assert.ok(!b.provider.awareness.getStates().has(424242), 'a spoofed awareness state for another client id reached Priya');
        assert.notEqual(c.provider.awareness.getStates().get(b.doc.clientID)?.user?.name, 'Hijacked', 'Kabo could overwrite Priya\'s awareness state');
        await waitFor(() => c.provider.awareness.getStates().get(a.doc.clientID)?.user?.name === 'Kabo Molefe', {
          timeout: 10_000, what: 'Elena to see Kabo in awareness', detail: () => JSON.stringify(remoteUsers(c)),
        });
        const three = await env.getDraft('elena', draft.id);
        assert.equal(three.text, text);
        assert.equal(three.connected.length, 3, `connected should list 3 users: ${JSON.stringify(three.connected)}`);

        // A second connection of the same user is counted.
        const a2 = client(draft.id, await env.login('kabo'));
        await waitSynced(a2, 10_000, 'Kabo (second tab)');
        const twice = await env.getDraft('kabo', draft.id);
        assert.equal(twice.connected.find((x) => x.user_id === kaboId)?.connections, 2, JSON.stringify(twice.connected));

        // When everyone leaves, connected empties.
        closeClients();
        await waitFor(async () => (await env.getDraft('kabo', draft.id)).connected.length === 0, {
          timeout: 10_000, what: 'connected to be empty after everyone disconnected',
          detail: async () => JSON.stringify((await env.getDraft('kabo', draft.id)).connected),
        });
      }));

    for (const who of ['rafael', 'admin', 'awa']) {
      const label = { rafael: 'observer (WDC)', admin: 'secretariat admin', awa: 'suspended participant (Côte d\'Ivoire)' }[who];
      test(`${label} reads the text but its edits are refused with permission-denied`, () =>
        onFailure(async () => {
          const draft = await env.createDraft('kabo', `Read-only check for ${who}`);
          const a = client(draft.id, await env.login('kabo'));
          await waitSynced(a, 10_000, 'Kabo');
          a.text.insert(0, 'Text written by Botswana.');
          await waitFor(async () => (await env.getDraft('kabo', draft.id)).text === 'Text written by Botswana.', {
            timeout: 10_000, what: 'the server to hold Kabo\'s text',
          });

          const o = client(draft.id, await env.login(who));
          await waitSynced(o, 10_000, label);
          await waitFor(() => o.text.toString() === 'Text written by Botswana.', { timeout: 10_000, what: `${label} to receive the text` });
          assert.equal((await env.getDraft(who, draft.id)).can_edit, false, `can_edit for the ${label}`);
          await waitFor(() => a.provider.awareness.getStates().get(o.doc.clientID)?.user?.readOnly === true, {
            timeout: 10_000, what: `the ${label}'s awareness to say readOnly: true`, detail: () => JSON.stringify(remoteUsers(a)),
          });

          // The refused edit.
          o.text.insert(0, 'READ-ONLY EDIT ');
          const denied = await waitFor(() => permissionDenials(o.W)[0], {
            timeout: 10_000,
            what: `an auth permission-denied message on the ${label}'s socket`,
            detail: () => `frames received by the ${label} (first bytes): ${o.W.frames.map((f) => hex(f, 8)).join(' | ')}`,
          });
          assert.equal(typeof denied.reason, 'string');

          // The connection stays open for reading.
          a.text.insert(a.text.length, ' More from Botswana.');
          await waitFor(() => o.text.toString().includes('More from Botswana.'), {
            timeout: 10_000, what: `the ${label} to keep receiving updates after the refusal`,
          });
          assert.equal(o.W.sockets.length, 1, `the ${label}'s connection should stay open (it reconnected)`);
          assert.ok(o.provider.wsconnected, `the ${label}'s socket should still be connected`);
          await sleep(300);
          assert.equal(a.text.toString(), 'Text written by Botswana. More from Botswana.', 'the participant saw the refused edit');
          const server = await env.getDraft('kabo', draft.id);
          assert.equal(server.text, 'Text written by Botswana. More from Botswana.', 'the server\'s text contains the refused edit');
          // A fresh reader does not get it either.
          const fresh = client(draft.id, await env.login('elena'));
          await waitSynced(fresh, 10_000, 'Elena');
          await waitFor(() => fresh.text.toString() === server.text, { timeout: 5000, what: 'Elena to sync' });
        }));
    }

    test('locked draft: read-only for everyone, even a participant already connected', () =>
      onFailure(async () => {
        const draft = await env.createDraft('kabo', 'Decision to be locked');
        const a = client(draft.id, await env.login('kabo'));
        await waitSynced(a, 10_000, 'Kabo');
        a.text.insert(0, 'Agreed text.');
        await waitFor(async () => (await env.getDraft('kabo', draft.id)).text === 'Agreed text.', { timeout: 10_000, what: 'the server to hold the text' });

        const denyParticipant = await env.api(await env.login('priya'), 'PATCH', `/api/drafts/${draft.id}`, { state: 'locked' });
        assert.equal(denyParticipant.status, 403, `a participant locking a draft: expected 403, got ${denyParticipant.status} ${denyParticipant.text}`);
        const lock = await env.api(await env.login('admin'), 'PATCH', `/api/drafts/${draft.id}`, { state: 'locked' });
        assert.equal(lock.status, 200, `admin PATCH {state: locked}: ${lock.status} ${lock.text}`);
        assert.equal(lock.body.state, 'locked');
        const seen = await env.getDraft('kabo', draft.id);
        assert.equal(seen.state, 'locked');
        assert.equal(seen.can_edit, false, 'can_edit on a locked draft');

        // A participant connecting after the lock.
        const b = client(draft.id, await env.login('priya'));
        await waitSynced(b, 10_000, 'Priya');
        await waitFor(() => b.text.toString() === 'Agreed text.', { timeout: 10_000, what: 'Priya to receive the locked text' });
        b.text.insert(0, 'LATE CHANGE ');
        await waitFor(() => permissionDenials(b.W)[0], {
          timeout: 10_000, what: 'permission-denied for Priya on a locked draft',
          detail: () => b.W.frames.map((f) => hex(f, 8)).join(' | '),
        });
        // The participant who was connected before the lock.
        a.text.insert(a.text.length, ' AMENDMENT');
        await waitFor(() => permissionDenials(a.W)[0], {
          timeout: 10_000, what: 'permission-denied for Kabo (connected before the lock)',
          detail: () => a.W.frames.map((f) => hex(f, 8)).join(' | '),
        });
        await sleep(300);
        assert.equal((await env.getDraft('admin', draft.id)).text, 'Agreed text.', 'a locked draft changed');
        assert.ok(!b.text.toString().includes('AMENDMENT'), 'Priya received an edit made on a locked draft');
        assert.ok(!a.text.toString().includes('LATE CHANGE'), 'Kabo received an edit made on a locked draft');
        assert.ok(b.provider.wsconnected && b.W.sockets.length === 1, 'Priya\'s connection should stay open');

        // Unlocked again, a fresh participant client can edit.
        const unlock = await env.api(await env.login('admin'), 'PATCH', `/api/drafts/${draft.id}`, { state: 'drafting' });
        assert.equal(unlock.status, 200, `admin PATCH {state: drafting}: ${unlock.status} ${unlock.text}`);
        const c = client(draft.id, await env.login('elena'));
        await waitSynced(c, 10_000, 'Elena');
        await waitFor(() => c.text.toString() === 'Agreed text.', { timeout: 10_000, what: 'Elena to sync' });
        c.text.insert(c.text.length, ' Reopened.');
        await waitFor(async () => (await env.getDraft('admin', draft.id)).text === 'Agreed text. Reopened.', {
          timeout: 10_000, what: 'an edit after unlocking to be stored',
          detail: () => `Elena frames: ${c.W.frames.map((f) => hex(f, 8)).join(' | ')}`,
        });
      }));

    test('half of an emoji deleted, then the rest: the text survives a restart (rebuilt from the log)', () =>
      onFailure(async () => {
        // Yjs counts text in UTF-16 units, so deleting half of a surrogate pair is an ordinary
        // range; both halves become U+FFFD. The server once counted bytes and could not rebuild
        // such a log (yrs panicked deleting past a wrong length).
        const draft = await env.createDraft('kabo', 'Decision with an emoji');
        const a = client(draft.id, await env.login('kabo'));
        const b = client(draft.id, await env.login('priya'));
        await Promise.all([waitSynced(a, 10_000, 'Kabo'), waitSynced(b, 10_000, 'Priya')]);
        a.text.insert(0, 'a\u{1F600}b');
        for (const at of [2, 1, 0]) {
          await waitFor(() => b.text.toString() === a.text.toString(), { timeout: 10_000, what: `Priya to have ${JSON.stringify(a.text.toString())}` });
          a.text.delete(at, 1);
        }
        await waitFor(() => b.text.toString() === 'b', { timeout: 10_000, what: 'Priya to have "b"', detail: () => JSON.stringify(b.text.toString()) });
        assert.equal((await env.getDraft('kabo', draft.id)).text, 'b');
        closeClients();
        await env.killServer('SIGKILL');
        await env.startServer();
        assert.equal((await env.getDraft('kabo', draft.id)).text, 'b', 'the text rebuilt from the stored log');
      }));

    test('server killed (SIGKILL) and restarted mid-session: clients reconnect, converge, nothing acknowledged is lost', () =>
      onFailure(async () => {
        const draft = await env.createDraft('kabo', 'Decision typed through a crash');
        const a = client(draft.id, await env.login('kabo'));
        const b = client(draft.id, await env.login('priya'));
        await Promise.all([waitSynced(a, 10_000, 'Kabo'), waitSynced(b, 10_000, 'Priya')]);
        const made = { A: [], B: [] };
        const type = async (c, tag, from, to) => {
          for (let i = from; i < to; i++) {
            const token = `[${tag}${i}]`;
            c.text.insert(boundary(c.text), token);
            made[tag].push(token);
            await sleep(3 + Math.random() * 12);
          }
        };
        const tokensOf = (s, tag) => new Set(s.match(new RegExp(`\\[${tag}\\d+\\]`, 'g')) ?? []);

        // Phase 1: both connected.
        await Promise.all([type(a, 'A', 0, 70), type(b, 'B', 0, 70)]);
        // Let some of it travel, but not necessarily all.
        await sleep(50);
        // Keep providers away from the server until we've inspected what survived.
        const dead = `ws://127.0.0.1:${await freePort()}`;
        a.W.deadUrl = dead;
        b.W.deadUrl = dead;
        await env.killServer('SIGKILL');
        await sleep(200);
        // Everything the clients received from the server (the other client's tokens), up to the kill.
        const receivedByA = tokensOf(a.text.toString(), 'B');
        const receivedByB = tokensOf(b.text.toString(), 'A');

        // Phase 2: typing while the server is down; the server restarts meanwhile.
        const restarted = env.startServer();
        await Promise.all([type(a, 'A', 70, 140), type(b, 'B', 70, 140), restarted]);
        await restarted;

        // Nothing a client had received from the server is lost.
        const afterRestart = (await env.getDraft('admin', draft.id)).text;
        const missing = [...receivedByA, ...receivedByB].filter((t) => !afterRestart.includes(t));
        assert.deepEqual(missing, [], `updates relayed to clients before the SIGKILL are missing from the server after restart (${receivedByA.size + receivedByB.size} relayed)`);

        // Let the providers reconnect on their own.
        a.W.deadUrl = undefined;
        b.W.deadUrl = undefined;
        await Promise.all([waitSynced(a, 20_000, 'Kabo (reconnect)'), waitSynced(b, 20_000, 'Priya (reconnect)')]);
        assert.ok(a.W.sockets.length > 1 && b.W.sockets.length > 1, 'the providers should have reconnected');

        // Phase 3: typing after the restart.
        await Promise.all([type(a, 'A', 140, 200), type(b, 'B', 140, 200)]);

        await waitFor(() => svEqual(a.doc, b.doc) && a.text.toString() === b.text.toString(), {
          timeout: 30_000, what: 'Kabo and Priya to converge after the restart',
          detail: () => `Kabo has ${tokensOf(a.text.toString(), 'B').size} of Priya's tokens, Priya has ${tokensOf(b.text.toString(), 'A').size} of Kabo's`,
        });
        const text = a.text.toString();
        for (const t of [...made.A, ...made.B]) assert.ok(text.includes(t), `converged text lacks ${t}`);
        assert.equal(tokensOf(text, 'A').size, 200);
        assert.equal(tokensOf(text, 'B').size, 200);
        assert.equal(text.length, made.A.concat(made.B).join('').length, 'converged text has extra characters');
        assert.equal((await env.getDraft('kabo', draft.id)).text, text, 'server text after the restart differs from the clients\'');
      }));
  });
}
