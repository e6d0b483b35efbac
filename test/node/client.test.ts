// The client on a server of several processes (issue 13), in this process against real servers
// on loopback: a list whose first process is down, a process that goes away while another comes,
// a host name of several addresses, and a relay dialled at the process an introduction names.
// Every wait is on a polled condition with a bound.
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFrameDecoder } from '../../src/net/frame.js';
import { decodeControl, encodeControl, type ControlMessage } from '../../src/net/control.js';
import { controlFrame } from '../../src/net/link.js';
import { serverTlsOptions, type Identity } from '../../src/net/tls.js';
import { startClient, type RunningClient } from '../../src/node/client.js';
import { loadHomeIdentity, selfSignedId } from '../../src/node/identity.js';
import type { LookupAll } from '../../src/node/servers.js';
import type { RendezvousServer } from '../../server/server.js';
import { freePort } from '../cert/helpers.js';
import { ok, tempHome } from '../helpers/cli.js';
import { clientInitArgs } from '../helpers/client.js';
import { cleanup, KEY_PASSWORD, makeServerPki, serverOn, tempDir, type TestPki } from '../server/helpers.js';

// The addresses of localhost on this machine: here, often 127.0.0.1 alone.
const LOCALHOST: LookupAddress[] = await dnsLookup('localhost', { all: true });

let pki: TestPki;
beforeAll(async () => {
  pki = await makeServerPki(['alice']);
});
afterAll(() => cleanup(pki?.dir));

// What each test leaves running, stopped after it whatever happens.
const stops: Array<() => Promise<void>> = [];
async function stopAll(): Promise<void> {
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
}

// A server process of its own (its own data dir), on `port` (0: any); stopped after the test.
async function serverAtPort(port = 0): Promise<{ srv: RendezvousServer; port: number; stop: () => Promise<void> }> {
  const dataDir = tempDir('cluster');
  const srv = await serverOn(pki, dataDir, { port });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await srv.close();
    cleanup(dataDir);
  };
  stops.push(stop);
  return { srv, port: srv.address().port, stop };
}

// A port of 127.0.0.1 held by a listener that closes every connection at once; release() lets
// it go, for a server to take at once.
async function holdPort(): Promise<{ port: number; release: () => Promise<void> }> {
  const holder = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const release = (): Promise<void> => new Promise((resolve) => (holder.listening ? holder.close(() => resolve()) : resolve()));
  stops.push(release);
  return { port: (holder.address() as net.AddressInfo).port, release };
}

// Alice's profile made by `parley init --server LIST`, her client started here.
async function aliceOn(list: string, options: { lookup?: LookupAll; events?: Parameters<RunningClient['profile']['appendMany']>[0] } = {}): Promise<{ client: RunningClient; log: string[] }> {
  const home = tempHome('cluster-alice');
  await ok(clientInitArgs(pki, 'alice', list), { home });
  const log: string[] = [];
  const client = await startClient({ home, identity: loadHomeIdentity(home, KEY_PASSWORD), run: async () => 3, log: (line) => log.push(line), listen: false, lookup: options.lookup });
  stops.push(() => client.close());
  if (options.events) await client.profile.appendMany(options.events);
  return { client, log };
}

// Polls a condition of this process's state every 20 ms, at most `ms`.
async function until(check: () => boolean, what: string, ms: number, log: string[] = []): Promise<number> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`${what}: not within ${ms} ms; log: ${log.join(' | ')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now() - start;
}

// A server assigns the id from the key alone (server/login.ts, assignId): on a fresh server,
// candidate 0 of the key, the id a self-signed profile takes too.
const aliceId = (): number => selfSignedId(pki.creds.alice.keySha256);

const signedInAt = (client: RunningClient, port: number): boolean => client.state().server === 'online' && client.state().signedInTo === `127.0.0.1:${port}`;

describe('client on several server processes', () => {
  it('client - a list whose first process is down signs in on the second', async () => {
    try {
      const down = await freePort();
      const b = await serverAtPort();
      const { client, log } = await aliceOn(`127.0.0.1:${down},127.0.0.1:${b.port}`);
      await client.firstLogin;
      await until(() => signedInAt(client, b.port), 'alice on B', 5_000, log);
      expect(client.state().id).toBe(aliceId());
      expect(client.state().address).toBe(`127.0.0.1:${down},127.0.0.1:${b.port}`);
      expect(client.profile.views.identity.servers).toEqual({ [`127.0.0.1:${b.port}`]: aliceId() });
    } finally {
      await stopAll();
    }
  });

  it('client - signed in on B, B stops and A starts (same CA, its own data): on A within 5 s, with the same id', async () => {
    try {
      // A's port is held until A starts, by a listener that drops every connection (a process
      // that is down, as the client sees it): a port only found free could be taken meanwhile
      // by any socket of the tests running beside this one.
      const held = await holdPort();
      const aPort = held.port;
      const b = await serverAtPort();
      const { client, log } = await aliceOn(`127.0.0.1:${aPort},127.0.0.1:${b.port}`);
      await until(() => signedInAt(client, b.port), 'alice on B', 5_000, log);
      await b.stop();
      await until(() => client.state().server === 'offline', 'alice offline when B stops', 5_000, log);
      await held.release();
      const a = await serverAtPort(aPort);
      expect(a.port).toBe(aPort);
      // Today's backoff between whole rounds (first 0.5 s, doubled): a second round finds A.
      await until(() => signedInAt(client, aPort), 'alice on A', 5_000, log);
      expect(client.state().id).toBe(aliceId());
      // The id A gave is journaled just after the session is up: wait for the view to have it.
      await until(() => client.profile.views.identity.servers[`127.0.0.1:${aPort}`] !== undefined, "A's id journaled", 5_000, log);
      expect(client.profile.views.identity.servers).toEqual({ [`127.0.0.1:${b.port}`]: aliceId(), [`127.0.0.1:${aPort}`]: aliceId() });
    } finally {
      await stopAll();
    }
  });

  it('client - signed in on A while B is up too, A stops: on B within 3 s (the next process first, no long backoff)', async () => {
    try {
      const a = await serverAtPort();
      const b = await serverAtPort();
      const { client, log } = await aliceOn(`127.0.0.1:${a.port},127.0.0.1:${b.port}`);
      await until(() => signedInAt(client, a.port), 'alice on A, the first of the list', 5_000, log);
      await a.stop();
      await until(() => signedInAt(client, b.port), 'alice on B', 3_000, log);
      expect(client.state().id).toBe(aliceId());
      expect(log.some((l) => l.includes(`offline (127.0.0.1:${a.port}: `))).toBe(true);
    } finally {
      await stopAll();
    }
  });

  it('client - a host name of several addresses is tried address by address (127.0.0.2 refuses, 127.0.0.1 answers)', async () => {
    try {
      const s = await serverAtPort();
      const asked: string[] = [];
      const lookup: LookupAll = async (host) => {
        asked.push(host);
        return [{ address: '127.0.0.2', family: 4 }, { address: '127.0.0.1', family: 4 }];
      };
      const { client, log } = await aliceOn(`cluster.test:${s.port}`, { lookup });
      await client.firstLogin;
      await until(() => signedInAt(client, s.port), 'alice on the second address of the name', 5_000, log);
      expect(asked[0]).toBe('cluster.test');
      expect(client.state().address).toBe(`cluster.test:${s.port}`);
    } finally {
      await stopAll();
    }
  });

  // Only where localhost has more than one address (often 127.0.0.1 and ::1); the injected
  // lookup above covers the rest.
  it.runIf(LOCALHOST.length > 1 && LOCALHOST.some((a) => a.address === '127.0.0.1'))('client - localhost of several addresses, the server on one of them', async () => {
    try {
      const s = await serverAtPort();
      const { client, log } = await aliceOn(`localhost:${s.port}`);
      await until(() => signedInAt(client, s.port), 'alice on 127.0.0.1 through localhost', 5_000, log);
    } finally {
      await stopAll();
    }
  });
});

// A server that does the least a client needs: TLS with the server's certificate, login-ok, then
// whatever `then` sends; every control message it receives is kept.
// `as`: whose certificate it presents (the server's unless told).
async function fakeServer(then: (send: (msg: ControlMessage) => void, got: ControlMessage) => void, as: Identity = pki.server): Promise<{ port: number; received: ControlMessage[]; connections: () => number; stop: () => Promise<void> }> {
  const received: ControlMessage[] = [];
  const sockets = new Set<tls.TLSSocket>();
  let connections = 0;
  const server = tls.createServer(serverTlsOptions(as), (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const decoder = createFrameDecoder();
    const send = (msg: ControlMessage): void => void socket.write(controlFrame(0, 0, encodeControl(msg)));
    socket.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        const msg = decodeControl(frame.payload);
        received.push(msg);
        then(send, msg);
      }
    });
  });
  // TCP connections, TLS done or not.
  server.on('connection', () => (connections += 1));
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  stops.push(stop);
  return { port: (server.address() as { port: number }).port, received, connections: () => connections, stop };
}

describe('client on a process that times out', () => {
  it('client - a process that takes the TCP connection and never does TLS: the next one after the handshake bound (5 s)', async () => {
    try {
      const sockets = new Set<net.Socket>();
      const silent = net.createServer((socket) => {
        sockets.add(socket);
        socket.on('error', () => undefined);
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      stops.push(() => new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        silent.close(() => resolve());
      }));
      const b = await serverAtPort();
      const { client, log } = await aliceOn(`127.0.0.1:${(silent.address() as net.AddressInfo).port},127.0.0.1:${b.port}`);
      const took = await until(() => signedInAt(client, b.port), 'alice on B', 8_000, log);
      expect(took).toBeGreaterThanOrEqual(4_000);
      expect(sockets.size).toBe(1);
    } finally {
      await stopAll();
    }
  });

  it('client - the process signed in to goes silent: the heartbeat timeout (3 intervals) moves the client to the next', async () => {
    try {
      // login-ok with the shortest heartbeat interval (1 s), then not a word, heartbeats unanswered.
      const mute = await fakeServer((send, got) => {
        if (got.type === 'login') send({ type: 'login-ok', id: aliceId(), serverTime: Date.now(), host: '127.0.0.1', port: 1, heartbeatMs: 1_000 });
      });
      const b = await serverAtPort();
      const { client, log } = await aliceOn(`127.0.0.1:${mute.port},127.0.0.1:${b.port}`);
      await until(() => signedInAt(client, mute.port), 'alice on the process that goes silent', 5_000, log);
      await until(() => signedInAt(client, b.port), 'alice on B', 8_000, log);
      expect(log.some((l) => l.startsWith(`parley: offline (127.0.0.1:${mute.port}: `))).toBe(true);
      expect(client.state().id).toBe(aliceId());
    } finally {
      await stopAll();
    }
  });
});

// Alice signed in to a fake process that introduces bob (77) naming `relay` for the relay, its
// punchAt far enough back that the client goes to the relay at once.
async function introducedWithRelay(relay: string): Promise<{ home: Awaited<ReturnType<typeof fakeServer>>; client: RunningClient; log: string[] }> {
  const home = await fakeServer((send, got) => {
    if (got.type !== 'login') return;
    const now = Date.now();
    send({ type: 'login-ok', id: aliceId(), serverTime: now, host: '127.0.0.1', port: 1, heartbeatMs: 10_000 });
    send({ type: 'introduce', peer: BOB, peerKey: pki.creds.alice.keySha256, host: '127.0.0.1', port: 1, lan: [], listenPort: 0, role: 'tls-client', punchAt: now - 10_000, nonce: NONCE, relay });
  });
  const { client, log } = await aliceOn(`127.0.0.1:${home.port}`, { events: [{ type: 'contact.added', peer: BOB, name: 'Bob', whitelisted: true }] });
  return { home, client, log };
}

const BOB = 77;
const NONCE = '0f'.repeat(16);

describe('client relay at the named process', () => {
  it('client - introduce with relay: the relay-request goes to that process, not the one signed in to', async () => {
    try {
      // The process named by the introduction: it hears the relay-request and says nothing more.
      const relay = await fakeServer(() => undefined);
      const { home, client, log } = await introducedWithRelay(`127.0.0.1:${relay.port}`);
      await until(() => relay.received.length > 0, 'a relay-request at the named process', 5_000, log);
      expect(relay.received[0]).toEqual({ type: 'relay-request', peer: BOB, nonce: NONCE });
      expect(home.received.some((m) => m.type === 'relay-request')).toBe(false);
      expect(client.state().signedInTo).toBe(`127.0.0.1:${home.port}`);
    } finally {
      await stopAll();
    }
  });

  it('client - the named process is checked as the server is: one presenting a client\'s certificate hears nothing', async () => {
    try {
      const impostor = await fakeServer(() => undefined, pki.identity('alice'));
      const { log } = await introducedWithRelay(`127.0.0.1:${impostor.port}`);
      await until(() => log.some((l) => l.startsWith(`parley: no relay to ${BOB}: `)), 'the relay refused', 5_000, log);
      expect(log.find((l) => l.startsWith(`parley: no relay to ${BOB}: `))).toMatch(/client certificate, server expected/);
      expect(impostor.connections()).toBe(1);
      expect(impostor.received).toEqual([]);
    } finally {
      await stopAll();
    }
  });
});
