// Connections that have not logged in yet (PROTOCOL.md section 6, steps 1-3 and Bounds): each is
// closed at the login timeout counted from the TCP accept, whatever it sent; they are capped in
// all (maxPending) and per source address (maxPendingPerAddress), so a flood from one host leaves
// the others able to sign in. On Linux every 127.0.0.x is loopback: the flood comes from 127.0.0.2.
import net from 'node:net';
import tls from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RendezvousServer } from '../../server/server.js';
import { connect, serverSuite, within, WAIT_MS } from './helpers.js';

// Long enough that a client which connects after a silent one has logged in before the silent one
// is due, even on a loaded machine; the waits for the close allow several times as much.
const LOGIN_TIMEOUT_MS = 1_000;
const FLOOD_FROM = '127.0.0.2';

const suite = serverSuite(['alice', 'bob'], 'handshake');
const { server, online } = suite;
let hello: Buffer;

beforeAll(async () => {
  hello = await clientHello();
});

type Raw = { socket: net.Socket; closed: Promise<void>; isClosed: () => boolean; received: () => number };

// A bare TCP connection, no TLS: what a flood or a stalled handshake looks like to the server.
// It resolves once connected (the kernel completes TCP before the server accepts), so a connection
// the server drops at accept resolves too, and then closes.
function raw(port: number, localAddress = '127.0.0.1'): Promise<Raw> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  suite.keep({ close: () => socket.destroy() });
  let closedFlag = false;
  let bytes = 0;
  socket.on('data', (d: Buffer) => void (bytes += d.length));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  void closed.then(() => void (closedFlag = true));
  return within(WAIT_MS, 'a TCP connection', (resolve, reject) => {
    socket.once('connect', () => resolve({ socket, closed, isClosed: () => closedFlag, received: () => bytes }));
    socket.once('close', () => reject(new Error('closed before it connected')));
  });
}

// A real TLS 1.3 ClientHello with alice's settings, caught by a listener that never answers.
async function clientHello(): Promise<Buffer> {
  const catcher = net.createServer();
  await new Promise<void>((resolve) => catcher.listen(0, '127.0.0.1', resolve));
  const port = (catcher.address() as net.AddressInfo).port;
  const client = tls.connect({ host: '127.0.0.1', port, key: suite.pki.creds.alice.key, cert: suite.pki.creds.alice.cert, ca: [suite.pki.caPem], minVersion: 'TLSv1.3', checkServerIdentity: () => undefined });
  client.on('error', () => undefined);
  try {
    return await within<Buffer>(WAIT_MS, 'a ClientHello', (resolve) => {
      catcher.once('connection', (s: net.Socket) => {
        let got = Buffer.alloc(0);
        s.on('data', (d: Buffer) => {
          got = Buffer.concat([got, d]);
          // One TLS record: 5 bytes of header, the length in bytes 3-4.
          if (got.length >= 5 && got.length >= 5 + got.readUInt16BE(3)) resolve(got.subarray(0, 5 + got.readUInt16BE(3)));
        });
      });
    });
  } finally {
    client.destroy();
    catcher.close();
  }
}

function pendingReaches(srv: RendezvousServer, n: number): Promise<void> {
  return within<void>(WAIT_MS, `${n} pending connections (stats: ${JSON.stringify(srv.stats())})`, (resolve) => {
    const t = setInterval(() => {
      if (srv.stats().pending === n) resolve();
    }, 10);
    return () => clearInterval(t);
  });
}

function closesWithin(c: { closed: Promise<void> }, ms: number, what: string): Promise<void> {
  return within<void>(ms, what, (resolve) => void c.closed.then(resolve));
}

describe('handshake - the login timeout, from the TCP accept', () => {
  it('handshake - a TCP connection that sends nothing is closed at the login timeout, not at once', async () => {
    const { port, srv } = await server({ loginTimeoutMs: LOGIN_TIMEOUT_MS });
    const idle = await raw(port);
    await pendingReaches(srv, 1);
    // A client that came after it signs in while the silent one is still held.
    await online(port, 'alice');
    expect(idle.isClosed()).toBe(false);
    await closesWithin(idle, 4 * LOGIN_TIMEOUT_MS + WAIT_MS, 'the silent connection to be closed');
    expect(idle.received()).toBe(0);
    await pendingReaches(srv, 0);
  });

  it('handshake - half a ClientHello is closed at the login timeout, not at once', async () => {
    const { port, srv } = await server({ loginTimeoutMs: LOGIN_TIMEOUT_MS });
    const half = await raw(port);
    half.socket.write(hello.subarray(0, Math.floor(hello.length / 2)));
    await pendingReaches(srv, 1);
    await online(port, 'alice');
    expect(half.isClosed()).toBe(false);
    await closesWithin(half, 4 * LOGIN_TIMEOUT_MS + WAIT_MS, 'the half-open handshake to be closed');
    await pendingReaches(srv, 0);
  });

  it('handshake - a ClientHello sent a byte at a time is closed at the login timeout all the same', async () => {
    const { port } = await server({ loginTimeoutMs: LOGIN_TIMEOUT_MS });
    const slow = await raw(port);
    // A byte every 50 ms, never the last one: the ClientHello would take far longer than the bound.
    expect(hello.length * 50).toBeGreaterThan(10 * LOGIN_TIMEOUT_MS);
    let sent = 0;
    const drip = setInterval(() => {
      if (sent < hello.length - 1 && !slow.isClosed()) slow.socket.write(hello.subarray(sent, ++sent));
    }, 50);
    try {
      await online(port, 'alice');
      expect(slow.isClosed()).toBe(false);
      await closesWithin(slow, 4 * LOGIN_TIMEOUT_MS + WAIT_MS, 'the dripping handshake to be closed');
      expect(sent).toBeLessThan(hello.length - 1);
    } finally {
      clearInterval(drip);
    }
  });

  it('handshake - a finished handshake without a login gets LOGIN_TIMEOUT at the login timeout, not at once', async () => {
    const { port, srv } = await server({ loginTimeoutMs: LOGIN_TIMEOUT_MS });
    const silent = await connect({ port, creds: suite.pki.creds.bob, caPem: suite.pki.caPem });
    suite.keep(silent);
    await online(port, 'alice');
    expect(silent.isClosed()).toBe(false);
    await expect(silent.next('error', 4 * LOGIN_TIMEOUT_MS + WAIT_MS)).resolves.toMatchObject({ code: 'LOGIN_TIMEOUT' });
    await closesWithin(silent, WAIT_MS, 'the connection without a login to be closed');
    await pendingReaches(srv, 0);
  });
});

describe('handshake - pending connections are capped', () => {
  it('handshake - beyond maxPending new connections are dropped at accept while the others wait', async () => {
    // Two addresses, each below its own share: only the cap in all can drop what comes next.
    const { port, srv } = await server({ maxPending: 4, maxPendingPerAddress: 3 });
    const waiting = await Promise.all(['127.0.0.2', '127.0.0.2', '127.0.0.3', '127.0.0.3'].map((from) => raw(port, from)));
    await pendingReaches(srv, 4);
    // The fifth, from an address with none pending: TCP connects (the kernel's doing), then the
    // server closes it unread.
    const dropped = await raw(port);
    await closesWithin(dropped, WAIT_MS, 'the connection beyond maxPending to be dropped');
    expect(dropped.received()).toBe(0);
    await expect(connect({ port, creds: suite.pki.creds.alice, caPem: suite.pki.caPem })).rejects.toThrow(/closed before the TLS handshake finished/);
    expect(waiting.filter((w) => w.isClosed())).toEqual([]);
    expect(srv.stats().pending).toBe(4);
    // One of them goes: its place is free again.
    waiting[0].socket.destroy();
    await pendingReaches(srv, 3);
    await online(port, 'alice');
  });

  it('handshake - a flood from one address fills only its share of maxPending: other addresses still sign in', async () => {
    // maxPendingPerAddress left at its default, a quarter of maxPending.
    const maxPending = 20;
    const { port, srv } = await server({ maxPending });
    const flood = await Promise.all(Array.from({ length: maxPending }, () => raw(port, FLOOD_FROM)));
    await pendingReaches(srv, maxPending / 4);
    const dropped = flood.length - maxPending / 4;
    await within<void>(WAIT_MS, `${dropped} flood connections to be dropped`, (resolve) => {
      let n = 0;
      for (const f of flood) void f.closed.then(() => void (++n === dropped && resolve()));
    });
    expect(flood.filter((f) => !f.isClosed())).toHaveLength(maxPending / 4);
    // From another address (127.0.0.1), clients sign in.
    await online(port, 'alice');
    await online(port, 'bob');
    // The flooding address still gets nothing more.
    const more = await raw(port, FLOOD_FROM);
    await closesWithin(more, WAIT_MS, 'one more connection from the flooding address to be dropped');
    expect(srv.stats()).toMatchObject({ sessions: 2, pending: maxPending / 4 });
  });

  it('handshake - maxPendingPerAddress is checked like the other options', async () => {
    for (const bad of [0, -1, 1.5]) {
      await expect(server({ maxPendingPerAddress: bad })).rejects.toMatchObject({ code: 'SERVER_BAD_OPTION' });
    }
  });
});
