// The rendezvous server on loopback with real mutual TLS 1.3: registration and ids, one session
// per id, presence and vanished clients, introductions, certificate refusals with their reasons,
// revocation, and bad input closing one session only.
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openJournal } from '../../src/events/journal.js';
import { CONTENT, FLAGS, LIMITS } from '../../src/net/constants.js';
import { encodeControl, idCandidate } from '../../src/net/control.js';
import { encodeFrame } from '../../src/net/frame.js';
import { loadProjection } from '../../src/projections/checkpoint.js';
import { SERVER_EVENTS, type ServerEvent } from '../../server/events.js';
import { REGISTRY } from '../../server/registry.js';
import type { RendezvousServer } from '../../server/server.js';
import { cleanup, connect, journalOf, makeServerPki, serverOn, signIn, tempDir, WAIT_MS, type Client, type TestPki } from './helpers.js';

let pki: TestPki;
const open: Client[] = [];
const servers: RendezvousServer[] = [];

beforeAll(async () => {
  pki = await makeServerPki(['alice', 'bob', 'carol', 'dave']);
});
afterAll(() => cleanup(pki?.dir));
afterEach(async () => {
  for (const c of open.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
});

async function server(options: Parameters<typeof serverOn>[2] = {}, dataDir = tempDir('server-data')): Promise<{ port: number; srv: RendezvousServer; dataDir: string }> {
  const srv = await serverOn(pki, dataDir, options);
  servers.push(srv);
  return { port: srv.address().port, srv, dataDir };
}

async function client(port: number, name: string, heartbeatEveryMs?: number): Promise<Client> {
  const c = await connect({ port, creds: pki.creds[name], caPem: pki.caPem, heartbeatEveryMs });
  open.push(c);
  return c;
}

async function online(port: number, name: string, heartbeatEveryMs?: number): Promise<Client> {
  const c = await signIn({ port, creds: pki.creds[name], caPem: pki.caPem, heartbeatEveryMs });
  open.push(c);
  return c;
}

function expectedId(keySha256: string): number {
  const c0 = idCandidate(Buffer.from(keySha256, 'hex'), 0);
  return c0 !== 0 ? c0 : idCandidate(Buffer.from(keySha256, 'hex'), 1);
}

describe('server - registration and login', () => {
  it('server - first login assigns the id of the key, the next login and a renewed certificate get it back, also after a restart', async () => {
    const { port, srv, dataDir } = await server();
    const a = await client(port, 'alice');
    // The server runs in this process on the same clock: its time is read after the login was
    // sent and before login-ok arrived. An order, not a distance, so a slow machine cannot break it.
    const sentAt = Date.now();
    const ok = await a.login();
    const answeredAt = Date.now();
    expect(ok).toMatchObject({ type: 'login-ok', id: expectedId(pki.creds.alice.keySha256), host: '127.0.0.1', port: a.socket.localPort, heartbeatMs: 10_000 });
    if (ok.type !== 'login-ok') throw new Error('unreachable');
    expect(ok.serverTime).toBeGreaterThanOrEqual(sentAt);
    expect(ok.serverTime).toBeLessThanOrEqual(answeredAt);
    a.close();
    await a.closed;

    const again = await client(port, 'alice');
    await expect(again.login()).resolves.toMatchObject({ type: 'login-ok', id: ok.id });
    again.close();
    await again.closed;

    expect(pki.creds.renewed.cert).not.toBe(pki.creds.alice.cert);
    const renewed = await connect({ port, creds: pki.creds.renewed, caPem: pki.caPem });
    open.push(renewed);
    await expect(renewed.login()).resolves.toMatchObject({ type: 'login-ok', id: ok.id });
    renewed.close();
    await renewed.closed;

    await srv.close();
    servers.splice(servers.indexOf(srv), 1);
    const events = await journalOf(dataDir);
    const registered = events.filter((e) => e.type === 'client.registered');
    expect(registered).toEqual([expect.objectContaining({ type: 'client.registered', id: ok.id, keySha256: pki.creds.alice.keySha256 })]);
    expect(events.filter((e) => e.type === 'session.opened')).toHaveLength(3);
    expect(events.filter((e) => e.type === 'session.closed')).toHaveLength(3);

    // The registry is replayed from the journal: same key, same id, nothing new journaled.
    const restarted = await server({}, dataDir);
    const b = await client(restarted.port, 'bob');
    const bobOk = await b.login();
    const after = await client(restarted.port, 'alice');
    await expect(after.login()).resolves.toMatchObject({ type: 'login-ok', id: ok.id });
    expect(bobOk).toMatchObject({ type: 'login-ok', id: expectedId(pki.creds.bob.keySha256) });
  });

  it('server - a stop leaves a checkpoint of the registry: the next start replays nothing and still knows when a client went', async () => {
    const { port, srv, dataDir } = await server();
    const a = await online(port, 'alice');
    a.close();
    await a.closed;
    await srv.close();
    servers.splice(servers.indexOf(srv), 1);

    const j = await openJournal<ServerEvent>(path.join(dataDir, 'journal'), dataDir, { schema: SERVER_EVENTS });
    try {
      await expect(loadProjection(j, REGISTRY)).resolves.toMatchObject({ from: j.lastSeq(), replayed: 0 });
    } finally {
      await j.close();
    }
    const went = (await journalOf(dataDir)).filter((e) => e.type === 'session.closed').at(-1);
    expect(went).toMatchObject({ id: a.id });

    const restarted = await server({}, dataDir);
    const w = await online(restarted.port, 'bob');
    w.send({ type: 'presence-watch', ids: [a.id] });
    await expect(w.next('presence')).resolves.toEqual({ type: 'presence', id: a.id, online: false, at: went?.at });
  });

  it('server - a second login of the same key while the first is alive is refused with the address', async () => {
    const { port } = await server();
    const first = await online(port, 'alice');
    const second = await client(port, 'alice');
    await expect(second.login()).resolves.toEqual({ type: 'login-refused', code: 'ALREADY_SIGNED_IN', reason: 'already signed in from 127.0.0.1' });
    await second.closed;
    // The first is untouched.
    first.send({ type: 'time-request' });
    await expect(first.next('time')).resolves.toMatchObject({ type: 'time' });
  });

  it('server - heartbeat is acknowledged, time is given on request', async () => {
    const { port } = await server();
    const a = await online(port, 'alice');
    a.send({ type: 'heartbeat' });
    await a.next('heartbeat-ack');
    const before = Date.now();
    a.send({ type: 'time-request' });
    const t = await a.next('time');
    expect(t.serverTime).toBeGreaterThanOrEqual(before - 1);
    expect(t.serverTime).toBeLessThanOrEqual(Date.now() + 1);
  });

  it('server - a message before login gets NOT_LOGGED_IN, no login in time gets LOGIN_TIMEOUT', async () => {
    const { port } = await server({ loginTimeoutMs: 300 });
    const early = await client(port, 'alice');
    early.send({ type: 'time-request' });
    await expect(early.next('error')).resolves.toMatchObject({ code: 'NOT_LOGGED_IN' });
    await early.closed;

    const silent = await client(port, 'bob');
    await expect(silent.next('error', 3_000)).resolves.toMatchObject({ code: 'LOGIN_TIMEOUT' });
    await silent.closed;
  });

  it('server - beyond maxSessions a login is refused with SERVER_FULL', async () => {
    const { port } = await server({ maxSessions: 1 });
    await online(port, 'alice');
    const b = await client(port, 'bob');
    await expect(b.next('login-refused')).resolves.toMatchObject({ code: 'SERVER_FULL' });
    await b.closed;
  });
});

describe('server - presence', () => {
  it('server - watchers learn of login, bye and a vanished client (socket destroyed)', async () => {
    const { port } = await server();
    const aliceId = expectedId(pki.creds.alice.keySha256);
    const w = await online(port, 'bob');
    w.send({ type: 'presence-watch', ids: [aliceId] });
    await expect(w.next('presence')).resolves.toEqual({ type: 'presence', id: aliceId, online: false, at: 0 });

    const a = await online(port, 'alice');
    const on = await w.next('presence');
    expect(on).toMatchObject({ id: aliceId, online: true });
    a.send({ type: 'bye', code: 'QUIT', reason: 'bye' });
    await expect(w.next('presence')).resolves.toMatchObject({ id: aliceId, online: false });
    await a.closed;

    const again = await online(port, 'alice');
    await expect(w.next('presence')).resolves.toMatchObject({ id: aliceId, online: true });
    // No goodbye: the TCP connection just goes.
    again.socket.destroy();
    const gone = await w.next('presence');
    expect(gone).toMatchObject({ id: aliceId, online: false });
    expect(gone.at).toBeGreaterThanOrEqual(on.at);
  });

  it('server - a client whose heartbeats stop is dropped and announced, and can sign in again', async () => {
    const { port, dataDir, srv } = await server({ deadAfterMs: 400 });
    const aliceId = expectedId(pki.creds.alice.keySha256);
    const w = await online(port, 'bob', 100);
    w.send({ type: 'presence-watch', ids: [aliceId] });
    await w.next('presence');
    // alice says nothing after login: no heartbeat.
    const a = await online(port, 'alice');
    await expect(w.next('presence')).resolves.toMatchObject({ online: true });
    await expect(w.next('presence', 3_000)).resolves.toMatchObject({ id: aliceId, online: false });
    await expect(a.next('bye')).resolves.toMatchObject({ code: 'HEARTBEAT_TIMEOUT' });
    await a.closed;
    const back = await client(port, 'alice', 100);
    await expect(back.login()).resolves.toMatchObject({ type: 'login-ok', id: aliceId });
    // bob kept heartbeating all along and is still there.
    expect(w.isClosed()).toBe(false);
    await srv.close();
    servers.splice(servers.indexOf(srv), 1);
    const closedEvents = (await journalOf(dataDir)).filter((e) => e.type === 'session.closed');
    expect(closedEvents).toContainEqual(expect.objectContaining({ id: aliceId, reason: 'HEARTBEAT_TIMEOUT' }));
  });

  it('server - a client that does not read is dropped once its queue passes the bound', async () => {
    const { port } = await server({ maxWriteQueueBytes: 64 * 1024 });
    const w = await online(port, 'bob');
    const reader = await online(port, 'alice');
    reader.socket.pause();
    // Each watch of 1,024 ids makes the server write 1,024 presence frames to a client that
    // never reads them; the kernel buffers fill, then the server's queue, then it lets go.
    const ids = Array.from({ length: LIMITS.MAX_WATCH_IDS }, (_, i) => i + 1);
    const watchFrame = encodeFrame({ contentType: CONTENT.CONTROL, flags: FLAGS.NONE, source: reader.id, destination: 0, contentId: 0, payload: encodeControl({ type: 'presence-watch', ids }) });
    for (let i = 0; i < 400 && !reader.isClosed(); i++) {
      if (!reader.socket.write(watchFrame)) await new Promise((r) => reader.socket.once('drain', r).once('close', r));
    }
    await reader.closed;
    w.send({ type: 'time-request' });
    await expect(w.next('time')).resolves.toMatchObject({ type: 'time' });
  });
});

describe('server - introductions', () => {
  it('server - both sides get a matching introduce with each other\'s key, address, LAN and roles', async () => {
    const { port } = await server({ punchLeadMs: 1_000 });
    const a = await online(port, 'alice');
    const b = await online(port, 'bob');
    // Logins carried these (helpers.ts default lan and listenPort, overridden for bob below).
    const before = Date.now();
    a.send({ type: 'introduce-request', target: b.id });
    const [ia, ib] = await Promise.all([a.next('introduce'), b.next('introduce')]);
    expect(ia).toMatchObject({ peer: b.id, peerKey: pki.creds.bob.keySha256, host: '127.0.0.1', port: b.socket.localPort, lan: ['192.168.1.10'], listenPort: 40000, role: 'tls-client' });
    expect(ib).toMatchObject({ peer: a.id, peerKey: pki.creds.alice.keySha256, host: '127.0.0.1', port: a.socket.localPort, role: 'tls-server' });
    expect(ia.nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(ib.nonce).toBe(ia.nonce);
    expect(ib.punchAt).toBe(ia.punchAt);
    expect(ia.punchAt).toBeGreaterThanOrEqual(before + 1_000);
  });

  it('server - an introduction is refused for oneself, an unknown id, an offline peer and a peer that blocks the asker', async () => {
    const { port } = await server();
    const carolId = expectedId(pki.creds.carol.keySha256);
    const c = await online(port, 'carol');
    c.close();
    await c.closed;
    const a = await online(port, 'alice');
    const b = await online(port, 'bob');
    const ask = async (target: number): Promise<string> => {
      a.send({ type: 'introduce-request', target });
      const r = await a.next('introduce-refused');
      expect(r.target).toBe(target);
      expect(r.reason.length).toBeGreaterThan(0);
      return r.code;
    };
    expect(await ask(a.id)).toBe('PEER_SELF');
    expect(await ask(12345)).toBe('PEER_UNKNOWN');
    expect(await ask(carolId)).toBe('PEER_OFFLINE');
    b.send({ type: 'block-list', ids: [a.id] });
    // The block list takes effect in order with b's next message.
    b.send({ type: 'time-request' });
    await b.next('time');
    expect(await ask(b.id)).toBe('PEER_REFUSED');
    b.send({ type: 'block-list', ids: [] });
    b.send({ type: 'time-request' });
    await b.next('time');
    a.send({ type: 'introduce-request', target: b.id });
    await expect(a.next('introduce')).resolves.toMatchObject({ peer: b.id });
  });
});

describe('server - certificates', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['mallory', 'CERT_UNKNOWN_CA', /not signed by this CA/],
    ['forged', 'CERT_UNKNOWN_CA', /names CN=Test CA as its issuer but its signature is not that CA's key's/],
    ['asServer', 'CERT_WRONG_ROLE', /server certificate, client expected/],
    ['expired', 'CERT_EXPIRED', /expired on 2020-07-01/],
  ];
  for (const [name, code, reason] of cases) {
    it(`server - a client with a ${name} certificate is refused with ${code} and a reason it can show`, async () => {
      const { port } = await server();
      const c = await client(port, name);
      // The refusal comes without the client sending anything: the server read nothing.
      const refused = await c.next('login-refused');
      expect(refused.code).toBe(code);
      expect(refused.reason).toMatch(reason);
      await c.closed;
      expect(c.received.map((m) => m.type)).toEqual(['login-refused']);
    });
  }

  it('server - a client without a certificate is refused with CERT_MISSING', async () => {
    const { port } = await server();
    const c = await connect({ port, creds: { key: '', cert: '', keySha256: '' }, caPem: pki.caPem });
    await expect(c.next('login-refused')).resolves.toMatchObject({ code: 'CERT_MISSING', reason: 'the peer sent no certificate' });
    await c.closed;
  });

  it('server - a revoked key: its session is closed, its watchers told, its next login refused', async () => {
    const { port, srv } = await server();
    const daveId = expectedId(pki.creds.dave.keySha256);
    const w = await online(port, 'bob');
    w.send({ type: 'presence-watch', ids: [daveId] });
    await w.next('presence');
    const d = await online(port, 'dave');
    await w.next('presence');
    const result = await srv.revoke(pki.creds.dave.keySha256.toUpperCase());
    expect(result).toEqual({ keySha256: pki.creds.dave.keySha256, revoked: true, id: daveId, closed: 1 });
    await expect(d.next('bye')).resolves.toMatchObject({ code: 'REVOKED' });
    await d.closed;
    await expect(w.next('revoked')).resolves.toMatchObject({ id: daveId, key: pki.creds.dave.keySha256 });
    await expect(w.next('presence')).resolves.toMatchObject({ id: daveId, online: false });
    const again = await client(port, 'dave');
    await expect(again.next('login-refused')).resolves.toMatchObject({ code: 'CERT_REVOKED' });
    await again.closed;
    // Revoking twice changes nothing and tells the watchers nothing more, nor do two at once.
    await expect(srv.revoke(pki.creds.dave.keySha256)).resolves.toMatchObject({ revoked: false, closed: 0 });
    // The server writes what revoke tells before revoke resolves: an answer asked for after it
    // comes after any revoked message.
    w.send({ type: 'time-request' });
    await w.next('time');
    expect(w.received.filter((m) => m.type === 'revoked')).toHaveLength(1);

    const carolId = expectedId(pki.creds.carol.keySha256);
    w.send({ type: 'presence-watch', ids: [daveId, carolId] });
    await w.waitFor('presence', (m) => m.id === carolId);
    await online(port, 'carol');
    const both = await Promise.all([srv.revoke(pki.creds.carol.keySha256), srv.revoke(pki.creds.carol.keySha256)]);
    expect(both.map((r) => r.revoked).sort()).toEqual([false, true]);
    w.send({ type: 'time-request' });
    await w.next('time');
    expect(w.received.filter((m) => m.type === 'revoked' && m.id === carolId)).toHaveLength(1);
    // A new watch of a revoked id says so.
    w.send({ type: 'presence-watch', ids: [daveId] });
    await expect(w.next('revoked')).resolves.toMatchObject({ id: daveId });
  });
});

describe('server - bad input', () => {
  it('server - a malformed frame closes that session only, with a reason', async () => {
    const { port } = await server();
    const healthy = await online(port, 'bob');
    const bad = await online(port, 'alice');
    bad.sendRaw(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    await expect(bad.next('error')).resolves.toMatchObject({ code: 'BAD_FRAME', reason: expect.stringMatching(/not a Parley frame/) });
    await bad.closed;

    const badControl = await online(port, 'carol');
    badControl.sendRaw(encodeFrame({ contentType: CONTENT.CONTROL, flags: FLAGS.NONE, source: 0, destination: 0, contentId: 0, payload: Buffer.from([0xc1]) }));
    await expect(badControl.next('error')).resolves.toMatchObject({ code: 'BAD_CONTROL' });
    await badControl.closed;

    const wrongType = await online(port, 'dave');
    wrongType.sendRaw(encodeFrame({ contentType: CONTENT.TEXT, flags: FLAGS.NONE, source: 0, destination: 0, contentId: 1, payload: Buffer.from('hi') }));
    await expect(wrongType.next('error')).resolves.toMatchObject({ code: 'BAD_FRAME' });

    healthy.send({ type: 'time-request' });
    await expect(healthy.next('time')).resolves.toMatchObject({ type: 'time' });
  });

  it('server - a client message the server does not take (a second login) gets UNEXPECTED', async () => {
    const { port } = await server();
    const a = await online(port, 'alice');
    a.send({ type: 'login', version: 1, lan: [], listenPort: 0 });
    await expect(a.next('error')).resolves.toMatchObject({ code: 'UNEXPECTED' });
    await a.closed;
  });

  it('server - a frame of another protocol version gets the version-refused reply; a login of another version the version-refused message', async () => {
    const { port } = await server();
    const frameV2 = await client(port, 'alice');
    const wire = encodeFrame({ contentType: CONTENT.CONTROL, flags: FLAGS.NONE, source: 0, destination: 0, contentId: 0, payload: encodeControl({ type: 'login', version: 2, lan: [], listenPort: 0 }) });
    wire[2] = 2;
    frameV2.sendRaw(wire);
    await frameV2.closed;
    expect(frameV2.versionRefused).toEqual([1]);

    const loginV2 = await client(port, 'bob');
    await expect(loginV2.login({ version: 2 })).resolves.toEqual({ type: 'version-refused', versions: [1] });
    await loginV2.closed;
  });

  it('server - a large frame header is refused before its payload is read', async () => {
    const { port } = await server();
    const a = await online(port, 'alice');
    const header = Buffer.alloc(27);
    header.set([0x50, 0x4c, 1, CONTENT.CONTROL, 0]);
    header.writeUInt32BE(LIMITS.MAX_CONTROL_PAYLOAD + 1, 23);
    a.sendRaw(header);
    await expect(a.next('error', WAIT_MS)).resolves.toMatchObject({ code: 'BAD_FRAME', reason: expect.stringMatching(/over the limit/) });
    await a.closed;
  });
});
