// The client's server session against the real server on 127.0.0.1 port 0, and against small
// TLS servers that misbehave (a foreign CA, the wrong role, a server that goes silent).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { serverTlsOptions, type Identity } from '../../src/net/tls.js';
import { CONTENT, FLAGS } from '../../src/net/constants.js';
import { decodeControl, encodeControl, type ControlMessage } from '../../src/net/control.js';
import { createFrameDecoder, encodeFrame } from '../../src/net/frame.js';
import { openSession, type ServerSession } from '../../src/net/session.js';
import type { RendezvousServer, ServerOptions } from '../../server/server.js';
import { freePort } from '../cert/helpers.js';
import { cleanup, journalOf, makeServerPki, serverOn, tempDir, type TestPki } from '../server/helpers.js';

let pki: TestPki;
const open: ServerSession[] = [];
const servers: RendezvousServer[] = [];
const rawServers: tls.Server[] = [];
// A paused server socket never sees the client go: destroyed after each test.
const rawSockets: Array<{ destroy: () => void }> = [];
const dirs: string[] = [];

beforeAll(async () => {
  pki = await makeServerPki(['alice', 'bob']);
});
afterAll(() => cleanup(pki?.dir));
afterEach(async () => {
  for (const s of open.splice(0)) s.socket.destroy();
  for (const s of servers.splice(0)) await s.close();
  for (const s of rawSockets.splice(0)) s.destroy();
  for (const s of rawServers.splice(0)) await new Promise((r) => s.close(r));
  for (const d of dirs.splice(0)) cleanup(d);
});

async function server(options: Partial<ServerOptions> = {}): Promise<{ port: number; srv: RendezvousServer; dataDir: string }> {
  const dataDir = tempDir('session-data');
  dirs.push(dataDir);
  const srv = await serverOn(pki, dataDir, options);
  servers.push(srv);
  return { port: srv.address().port, srv, dataDir };
}

async function session(port: number, name: string, options: Partial<Parameters<typeof openSession>[0]> = {}): Promise<ServerSession> {
  const s = await openSession({ host: '127.0.0.1', port, identity: pki.identity(name), ...options });
  open.push(s);
  return s;
}

// A TLS server with the given identity that hands each decoded control message to `onMessage`
// with a function to answer on that connection.
// `reading` false: a server that never reads (its socket paused), until resume() is called.
async function rawServer(
  identity: Identity,
  onMessage: (msg: ControlMessage, reply: (m: ControlMessage | Buffer) => void) => void = () => undefined,
  reading = true,
): Promise<{ port: number; bytes: () => number; received: () => Buffer; resume: () => void }> {
  let bytes = 0;
  const received: Buffer[] = [];
  const sockets: tls.TLSSocket[] = [];
  const srv = tls.createServer({ ...serverTlsOptions(identity), rejectUnauthorized: false }, (socket) => {
    sockets.push(socket);
    rawSockets.push(socket);
    if (!reading) socket.pause();
    const decoder = createFrameDecoder();
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      received.push(chunk);
      let frames;
      try {
        frames = decoder.push(chunk);
      } catch {
        return; // bytes that are not frames of version 1 (a version-refused reply): see received()
      }
      for (const f of frames) {
        onMessage(decodeControl(f.payload), (m) => socket.write(Buffer.isBuffer(m) ? m : encodeFrame({ contentType: CONTENT.CONTROL, flags: FLAGS.NONE, source: 0, destination: 7, contentId: 0, payload: encodeControl(m) })));
      }
    });
  });
  srv.on('tlsClientError', () => undefined);
  // The TCP connection as well: one still in its handshake holds srv.close() too.
  srv.on('connection', (tcp: { destroy: () => void }) => rawSockets.push(tcp));
  rawServers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as AddressInfo).port,
    bytes: () => bytes,
    received: () => Buffer.concat(received),
    resume: () => {
      reading = true;
      for (const s of sockets) s.resume();
    },
  };
}

describe('session', () => {
  it('session - logs in, asks the time, and says bye QUIT on close', async () => {
    const { port, srv, dataDir } = await server();
    const before = Date.now();
    const s = await session(port, 'alice');
    const ok = await s.login({ lan: ['192.168.1.10'], listenPort: 40000 });
    expect(ok).toMatchObject({ type: 'login-ok', host: '127.0.0.1', port: s.socket.localPort, heartbeatMs: 10_000 });
    expect(s.id()).toBe(ok.type === 'login-ok' ? ok.id : -1);

    const t = await s.time();
    expect(t.serverTime).toBeGreaterThanOrEqual(before - 1);
    expect(t.serverTime).toBeLessThanOrEqual(Date.now() + 1);
    expect(t.rttMs).toBeGreaterThanOrEqual(0);
    expect(Math.abs(t.offsetMs)).toBeLessThan(1_000);

    await expect(s.close()).resolves.toMatchObject({ by: 'client', code: 'QUIT' });
    expect(s.ended()).toMatchObject({ code: 'QUIT' });
    await srv.close();
    servers.splice(servers.indexOf(srv), 1);
    const went = (await journalOf(dataDir)).filter((e) => e.type === 'session.closed');
    expect(went).toEqual([expect.objectContaining({ id: s.id(), reason: 'QUIT' })]);
  });

  it('session - keeps the local port it is given, and time() measures against its own clock', async () => {
    const { port } = await server();
    const localPort = await freePort();
    // A local clock a minute fast: the offset says so.
    const s = await session(port, 'alice', { localPort, now: () => Date.now() + 60_000 });
    await expect(s.login()).resolves.toMatchObject({ type: 'login-ok', port: localPort });
    const t = await s.time();
    expect(t.offsetMs).toBeGreaterThan(-61_000);
    expect(t.offsetMs).toBeLessThan(-59_000);
  });

  it('session - bound to a local address, its port takes a second connection while it lives (a punch connects from it)', async () => {
    const { port } = await server();
    const s = await session(port, 'alice', { localAddress: '0.0.0.0' });
    await expect(s.login()).resolves.toMatchObject({ type: 'login-ok' });
    const localPort = s.socket.localPort as number;
    const other = net.createServer((c) => c.end('hi'));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    try {
      const second = net.connect({ host: '127.0.0.1', port: (other.address() as AddressInfo).port, localPort });
      const said = await new Promise<string>((resolve, reject) => {
        second.once('error', reject);
        second.once('data', (d) => resolve(d.toString()));
      });
      expect(said).toBe('hi');
      expect(second.localPort).toBe(localPort);
      second.destroy();
      await expect(s.time()).resolves.toHaveProperty('offsetMs');
    } finally {
      await new Promise((r) => other.close(r));
    }
  });

  it('session - a refused login resolves with the refusal and closed carries its code', async () => {
    const { port } = await server();
    const first = await session(port, 'alice');
    await first.login();
    const second = await session(port, 'alice');
    await expect(second.login()).resolves.toMatchObject({ type: 'login-refused', code: 'ALREADY_SIGNED_IN' });
    await expect(second.closed).resolves.toMatchObject({ by: 'server', code: 'ALREADY_SIGNED_IN' });
    // A refusal that came before login() was called (the server checks the certificate first).
    const mallory = await session(port, 'alice', { identity: { ca: pki.caPem, key: pki.creds.mallory.key, cert: pki.creds.mallory.cert } });
    await expect(mallory.closed).resolves.toMatchObject({ by: 'server', code: 'CERT_UNKNOWN_CA' });
    await expect(mallory.login()).resolves.toMatchObject({ type: 'login-refused', code: 'CERT_UNKNOWN_CA' });
  });

  it('session - answers the server heartbeats and stays past deadAfterMs', async () => {
    const { port } = await server({ heartbeatMs: 1_000, deadAfterMs: 1_600 });
    // Its own heartbeats pushed far away: only its answers keep it alive.
    const s = await session(port, 'alice', { heartbeat: { everyMs: 60_000, deadAfterMs: 60_000 } });
    await s.login();
    await s.next('heartbeat', { ms: 4_000 });
    await s.next('heartbeat', { ms: 4_000 });
    expect(s.ended()).toBeNull();
  });

  it('session - sends its own heartbeats at the announced interval and stays past deadAfterMs', async () => {
    const { port } = await server({ heartbeatMs: 1_000, deadAfterMs: 1_600 });
    const s = await session(port, 'alice');
    await s.login();
    // heartbeat-ack only answers a heartbeat of ours.
    await s.next('heartbeat-ack', { ms: 4_000 });
    await s.next('heartbeat-ack', { ms: 4_000 });
    expect(s.ended()).toBeNull();
  });

  it('session - a server gone silent is left with bye HEARTBEAT_TIMEOUT', async () => {
    const got: ControlMessage[] = [];
    const { port } = await rawServer(pki.server, (m, reply) => {
      got.push(m);
      if (m.type === 'login') reply({ type: 'login-ok', id: 7, serverTime: Date.now(), host: '127.0.0.1', port: 1, heartbeatMs: 1_000 });
    });
    const s = await session(port, 'alice', { heartbeat: { everyMs: 1_000, deadAfterMs: 300 } });
    await s.login();
    await expect(s.closed).resolves.toMatchObject({ by: 'client', code: 'HEARTBEAT_TIMEOUT' });
    expect(got.map((m) => m.type)).toEqual(['login', 'bye']);
  });

  it('session - a frame that is not a control message gets error BAD_FRAME and the session ends', async () => {
    const got: ControlMessage[] = [];
    const { port } = await rawServer(pki.server, (m, reply) => {
      got.push(m);
      if (m.type === 'login') {
        reply({ type: 'login-ok', id: 7, serverTime: Date.now(), host: '127.0.0.1', port: 1, heartbeatMs: 1_000 });
        reply(encodeFrame({ contentType: CONTENT.TEXT, flags: FLAGS.NONE, source: 0, destination: 7, contentId: 1, payload: Buffer.from('hi') }));
      }
    });
    const s = await session(port, 'alice');
    await s.login();
    await expect(s.closed).resolves.toMatchObject({ by: 'client', code: 'BAD_FRAME', cause: { code: 'FRAME_BAD_TYPE' } });
    expect(got.map((m) => m.type)).toEqual(['login', 'error']);
  });

  it('session - a frame addressed to another client gets error BAD_FRAME (FRAME_BAD_ADDRESS) and the session ends', async () => {
    const got: ControlMessage[] = [];
    const { port } = await rawServer(pki.server, (m, reply) => {
      got.push(m);
      if (m.type === 'login') {
        reply({ type: 'login-ok', id: 7, serverTime: Date.now(), host: '127.0.0.1', port: 1, heartbeatMs: 1_000 });
        reply(encodeFrame({ contentType: CONTENT.CONTROL, flags: FLAGS.NONE, source: 0, destination: 8, contentId: 0, payload: encodeControl({ type: 'heartbeat' }) }));
      }
    });
    const s = await session(port, 'alice');
    expect(await s.login()).toMatchObject({ type: 'login-ok', id: 7 });
    await expect(s.closed).resolves.toMatchObject({ by: 'client', code: 'BAD_FRAME', cause: { code: 'FRAME_BAD_ADDRESS' } });
    expect(got.map((m) => m.type)).toEqual(['login', 'error']);
    expect(got[1]).toMatchObject({ code: 'BAD_FRAME', reason: expect.stringContaining('from 0 to 8') });
  });

  it('session - a frame from a server id other than 0 gets error BAD_FRAME', async () => {
    const { port } = await rawServer(pki.server, (m, reply) => {
      if (m.type === 'login') reply(encodeFrame({ contentType: CONTENT.CONTROL, flags: FLAGS.NONE, source: 5, destination: 0, contentId: 0, payload: encodeControl({ type: 'heartbeat' }) }));
    });
    const s = await session(port, 'alice');
    await expect(s.login()).rejects.toMatchObject({ code: 'SESSION_CLOSED', end: { by: 'client', code: 'BAD_FRAME' } });
    await expect(s.closed).resolves.toMatchObject({ cause: { code: 'FRAME_BAD_ADDRESS' } });
  });

  it('session - a frame of another version gets the version-refused reply with this side\'s versions, and the session ends', async () => {
    const v2 = encodeFrame({ contentType: CONTENT.CONTROL, flags: FLAGS.NONE, source: 0, destination: 0, contentId: 0, payload: encodeControl({ type: 'heartbeat' }) });
    v2[2] = 2;
    const raw = await rawServer(pki.server, (m, reply) => {
      if (m.type === 'login') reply(v2);
    });
    const s = await session(raw.port, 'alice');
    await expect(s.login()).rejects.toMatchObject({ code: 'SESSION_CLOSED' });
    await expect(s.closed).resolves.toMatchObject({ by: 'client', code: 'VERSION_REFUSED', cause: { code: 'FRAME_BAD_VERSION', peerVersion: 2 } });
    // What the server received after the login frame is the reply: magic, version 0, one version, 1.
    const bytes = raw.received();
    expect(bytes.subarray(bytes.length - 5)).toEqual(Buffer.from([0x50, 0x4c, 0x00, 0x01, 0x01]));
  });

  it('session - a server that stops yields closed with its code', async () => {
    const { port, srv } = await server();
    const s = await session(port, 'alice');
    await s.login();
    const waiting = expect(s.next('presence', { ms: 4_000 })).rejects.toMatchObject({ code: 'SESSION_CLOSED', end: { code: 'SHUTTING_DOWN' } });
    await srv.close();
    servers.splice(servers.indexOf(srv), 1);
    await expect(s.closed).resolves.toMatchObject({ by: 'server', code: 'SHUTTING_DOWN' });
    await waiting;
  });

  it('session - a wait with nothing to wait for fails with SESSION_TIMEOUT', async () => {
    const { port } = await server();
    const s = await session(port, 'alice');
    await s.login();
    await expect(s.next('presence', { ms: 50 })).rejects.toMatchObject({ code: 'SESSION_TIMEOUT' });
    expect(s.ended()).toBeNull();
  });

  it('session - send says when the buffer is full, and drained() waits for the server to read', async () => {
    const raw = await rawServer(pki.server, () => undefined, false);
    const s = await session(raw.port, 'alice', { maxWriteQueueBytes: 64 * 1024 * 1024 });
    const watch = { type: 'presence-watch' as const, ids: Array.from({ length: 1_024 }, (_, i) => i + 1) };
    let sent = 0;
    while (s.send(watch)) sent++;
    expect(s.socket.writableLength).toBeGreaterThan(0);
    raw.resume();
    await s.drained();
    expect(s.socket.writableLength).toBe(0);
    expect(sent).toBeGreaterThan(0);
    expect(s.ended()).toBeNull();
  });

  it('session - a server that does not read is left once the queue passes the bound', async () => {
    const raw = await rawServer(pki.server, () => undefined, false);
    const s = await session(raw.port, 'alice', { maxWriteQueueBytes: 256 * 1024 });
    const watch = { type: 'presence-watch' as const, ids: Array.from({ length: 1_024 }, (_, i) => i + 1) };
    // Written in one go: what the kernel does not take at once stays in the socket's queue.
    for (let i = 0; i < 4_000 && s.ended() === null; i++) s.send(watch);
    expect(s.ended()).toMatchObject({ code: 'WRITE_QUEUE_FULL' });
    await expect(s.closed).resolves.toMatchObject({ by: 'client', code: 'WRITE_QUEUE_FULL' });
  });

  it.each([
    ['from another CA', () => ({ ca: pki.foreign.ca.certPem, cert: pki.creds.mallory.cert, key: pki.creds.mallory.key }), 'CERT_FOREIGN_CA'],
    ['with the client role', () => ({ ca: pki.caPem, cert: pki.creds.bob.cert, key: pki.creds.bob.key }), 'CERT_WRONG_ROLE'],
  ])('session - a server certificate %s is refused before login', async (_what, who, code) => {
    const { ca, cert, key } = who();
    const { port, bytes } = await rawServer({ ...pki.server, ca, cert, key });
    await expect(openSession({ host: '127.0.0.1', port, identity: pki.identity('alice') })).rejects.toMatchObject({ code });
    expect(bytes()).toBe(0);
  });
});
