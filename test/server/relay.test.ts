// The blind relay: two clients, introduced, each open a second connection, ask for the relay, and
// run their own TLS 1.3 through it. The server is shown only TLS records it cannot read.
import { createHash } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clientTlsOptions, serverTlsOptions, verifyTlsPeer } from '../../src/net/tls.js';
import type { RendezvousServer } from '../../server/server.js';
import { splice, type Direction } from '../../server/relay.js';
import { cleanup, connect, journalOf, makeServerPki, serverOn, signIn, tempDir, within, type Client, type TestPki } from './helpers.js';

let pki: TestPki;
const open: Client[] = [];
const servers: RendezvousServer[] = [];

beforeAll(async () => {
  pki = await makeServerPki(['alice', 'bob', 'carol']);
});
afterAll(() => cleanup(pki?.dir));
afterEach(async () => {
  for (const c of open.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
});

type Tap = Record<Direction, Buffer[]>;

async function setup(options: Parameters<typeof serverOn>[2] = {}) {
  const tap: Tap = { 'a>b': [], 'b>a': [] };
  // When the server last forwarded bytes, either way: read by its clock (Date.now) right after
  // the splice noted the activity, so never earlier than the moment the idle timeout counts from.
  let lastForwardedAt = 0;
  const dataDir = tempDir('relay-data');
  const srv = await serverOn(pki, dataDir, {
    ...options,
    onRelayData: (_pair, direction, chunk) => {
      lastForwardedAt = Date.now();
      tap[direction].push(Buffer.from(chunk));
    },
  });
  servers.push(srv);
  const port = srv.address().port;
  const login = async (name: string): Promise<Client> => {
    const c = await signIn({ port, creds: pki.creds[name], caPem: pki.caPem });
    open.push(c);
    return c;
  };
  const a = await login('alice');
  const b = await login('bob');
  a.send({ type: 'introduce-request', target: b.id });
  const [ia, ib] = await Promise.all([a.next('introduce'), b.next('introduce')]);
  // A relay connection: TLS with the same certificate, no login, relay-request first.
  const relayEnd = async (name: string, peer: number, nonce: string): Promise<Client> => {
    const c = await connect({ port, creds: pki.creds[name], caPem: pki.caPem, stopAt: 'relay-ready' });
    open.push(c);
    c.send({ type: 'relay-request', peer, nonce });
    return c;
  };
  return { srv, port, dataDir, tap, a, b, ia, ib, relayEnd, lastForwardedAt: () => lastForwardedAt };
}

// Splits a byte stream into TLS records: [content type, version, length] headers and bodies.
function records(stream: Buffer): Array<{ type: number; version: number; length: number }> {
  const out: Array<{ type: number; version: number; length: number }> = [];
  let off = 0;
  while (off < stream.length) {
    expect(stream.length - off).toBeGreaterThanOrEqual(5);
    const type = stream[off];
    const version = stream.readUInt16BE(off + 1);
    const length = stream.readUInt16BE(off + 3);
    expect(off + 5 + length).toBeLessThanOrEqual(stream.length);
    out.push({ type, version, length });
    off += 5 + length;
  }
  return out;
}

describe('relay', () => {
  it('relay - carries a peer TLS 1.3 session whose bytes the server sees only as TLS records', async () => {
    const { srv, dataDir, tap, a, b, ia, ib, relayEnd } = await setup();
    expect(ia.role).toBe('tls-client');
    expect(ib.role).toBe('tls-server');
    const ra = await relayEnd('alice', b.id, ia.nonce);
    const rb = await relayEnd('bob', a.id, ib.nonce);
    const [readyA, readyB] = await Promise.all([ra.next('relay-ready'), rb.next('relay-ready')]);
    expect(readyA).toEqual({ type: 'relay-ready', peer: b.id, nonce: ia.nonce });
    expect(readyB).toEqual({ type: 'relay-ready', peer: a.id, nonce: ia.nonce });
    expect(srv.stats()).toMatchObject({ relays: 1, relaysWaiting: 0 });

    // Bytes after relay-ready belong to the inner stream (none here: the server sends nothing more).
    for (const r of [ra, rb]) {
      const rest = r.detach();
      if (rest.length > 0) r.socket.unshift(rest);
    }
    const alice = pki.identity('alice');
    const bob = pki.identity('bob');
    const SECRET = 'the plaintext the relay must never see';
    const REPLY = 'and the answer, just as hidden';

    // bob: the TLS server of the introduction, on a tls.Server that never listens (DESIGN.md traps).
    const inner = tls.createServer(serverTlsOptions(bob));
    const bobSide = within<tls.TLSSocket>(5_000, 'the inner TLS session on bob\'s side', (resolve, reject) => {
      inner.once('secureConnection', (s: tls.TLSSocket) => {
        const check = verifyTlsPeer(s, { identity: bob, expectRole: 'client', expectKeySha256: ib.peerKey });
        if (!check.ok) reject(new Error(check.reason));
        else resolve(s);
      });
      inner.once('tlsClientError', reject);
    });
    inner.emit('connection', rb.socket);
    rb.socket.resume();
    // alice: the TLS client, pinning bob's key from the introduction.
    const aliceSide = tls.connect({ socket: ra.socket, ...clientTlsOptions(alice, { expectRole: 'client', expectKeySha256: ia.peerKey }) });
    aliceSide.on('error', () => undefined);
    await within<void>(5_000, 'the inner TLS session on alice\'s side', (resolve, reject) => {
      aliceSide.once('secureConnect', () => resolve());
      aliceSide.once('error', reject);
    });
    const bs = await bobSide;
    expect(aliceSide.getProtocol()).toBe('TLSv1.3');

    const got = within<string>(5_000, 'the message at bob', (resolve) => {
      let text = '';
      bs.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.includes(SECRET)) resolve(text);
      });
    });
    aliceSide.write(SECRET);
    await expect(got).resolves.toBe(SECRET);
    const back = within<string>(5_000, 'the answer at alice', (resolve) => {
      let text = '';
      aliceSide.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.includes(REPLY)) resolve(text);
      });
    });
    bs.write(REPLY);
    await expect(back).resolves.toBe(REPLY);

    aliceSide.end();
    await ra.closed;
    await rb.closed;

    // What the server spliced: TLS records only, handshake (0x16), change cipher spec (0x14),
    // application data (0x17), version 0x0303 (the first ClientHello may say 0x0301, RFC 8446
    // 5.1); never the plaintext.
    for (const direction of ['a>b', 'b>a'] as const) {
      const stream = Buffer.concat(tap[direction]);
      expect(stream.length).toBeGreaterThan(0);
      const recs = records(stream);
      recs.forEach((r, i) => {
        expect([0x14, 0x16, 0x17]).toContain(r.type);
        expect(i === 0 ? [0x0301, 0x0303] : [0x0303]).toContain(r.version);
      });
      expect(recs.some((r) => r.type === 0x17)).toBe(true);
      expect(stream.includes(Buffer.from(SECRET))).toBe(false);
      expect(stream.includes(Buffer.from(REPLY))).toBe(false);
    }
    const total = tap['a>b'].concat(tap['b>a']).reduce((n, c) => n + c.length, 0);
    await within<void>(5_000, 'the relay to close', (resolve) => {
      const t = setInterval(() => {
        if (srv.stats().relays === 0) {
          clearInterval(t);
          resolve();
        }
      }, 10);
      return () => clearInterval(t);
    });
    // The sessions were never touched by the relay.
    expect(a.isClosed()).toBe(false);
    expect(b.isClosed()).toBe(false);
    await srv.close();
    servers.splice(0);
    const events = await journalOf(dataDir);
    expect(events).toContainEqual(expect.objectContaining({ type: 'relay.opened', a: expect.any(Number), b: expect.any(Number) }));
    expect(events).toContainEqual(expect.objectContaining({ type: 'relay.closed', bytes: total }));
  });

  it('relay - refused without a live introduction, when the other side never asks, and beyond the per-client cap', async () => {
    const { a, b, ia, relayEnd } = await setup({ relayPairTimeoutMs: 300, maxRelaysPerClient: 1 });
    const wrong = await relayEnd('alice', b.id, 'ab'.repeat(16));
    await expect(wrong.next('relay-refused')).resolves.toMatchObject({ peer: b.id, code: 'RELAY_NO_INTRODUCTION' });
    await wrong.closed;

    const lonely = await relayEnd('alice', b.id, ia.nonce);
    const second = await relayEnd('alice', b.id, ia.nonce);
    await expect(second.next('relay-refused')).resolves.toMatchObject({ code: 'RELAY_LIMIT' });
    await expect(lonely.next('relay-refused', 3_000)).resolves.toMatchObject({ code: 'RELAY_TIMEOUT' });
    await lonely.closed;

    // carol has no session: no relay either.
    const stranger = await relayEnd('carol', a.id, ia.nonce);
    await expect(stranger.next('relay-refused')).resolves.toMatchObject({ code: 'NOT_LOGGED_IN' });
  });

  it('relay - a waiting end that closes frees its slot at once, not at the pairing timeout', async () => {
    // maxRelaysPerClient 1: alice's next relay-request is refused with RELAY_LIMIT until the
    // slot of the end that went is freed.
    const { srv, a, b, ia, ib, relayEnd } = await setup({ relayPairTimeoutMs: 60_000, maxRelaysPerClient: 1 });
    const waiting = (n: number): Promise<void> =>
      within<void>(2_000, `${n} waiting relay end(s) (now ${srv.stats().relaysWaiting})`, (resolve) => {
        const t = setInterval(() => {
          if (srv.stats().relaysWaiting === n) {
            clearInterval(t);
            resolve();
          }
        }, 5);
        return () => clearInterval(t);
      });
    // A clean close (close_notify, then FIN) and a vanished one (the socket destroyed), each
    // with and without bytes sent after relay-request: bytes the server has not read yet must
    // not hide the close behind them.
    const leave = [(c: Client) => c.socket.end(), (c: Client) => c.socket.destroy()];
    for (const early of [null, Buffer.from('early bytes')]) {
      for (const go of leave) {
        const gone = await relayEnd('alice', b.id, ia.nonce);
        await waiting(1);
        if (early) gone.sendRaw(early);
        go(gone);
        await waiting(0);
      }
    }
    // The slot is free and the nonce unspent: the relay still opens.
    const ra = await relayEnd('alice', b.id, ia.nonce);
    await waiting(1);
    const rb = await relayEnd('bob', a.id, ib.nonce);
    await expect(Promise.all([ra.next('relay-ready'), rb.next('relay-ready')])).resolves.toHaveLength(2);
    expect(srv.stats()).toMatchObject({ relays: 1, relaysWaiting: 0 });
  });

  it('relay - a relay stays open while bytes flow, past its idle timeout, and is closed once idle that long', async () => {
    const IDLE = 500;
    const { srv, dataDir, a, b, ia, ib, relayEnd, lastForwardedAt } = await setup({ relayIdleMs: IDLE });
    const ra = await relayEnd('alice', b.id, ia.nonce);
    const rb = await relayEnd('bob', a.id, ib.nonce);
    await Promise.all([ra.next('relay-ready'), rb.next('relay-ready')]);
    const readyAt = Date.now();
    // The server sends nothing after relay-ready: the rest is the inner stream, empty so far.
    expect(ra.detach().length + rb.detach().length).toBe(0);
    let arrived = 0;
    let wake: (() => void) | null = null;
    rb.socket.on('data', (d: Buffer) => {
      arrived += d.length;
      wake?.();
    });
    void rb.closed.then(() => wake?.());
    rb.socket.resume();

    // Bytes flow one at a time, each sent when the one before has arrived, for twice the idle
    // timeout: an idle clock that counted from relay-ready, or closed at once, closes the relay
    // while they flow.
    let sent = 0;
    while (Date.now() - readyAt <= 2 * IDLE && !ra.isClosed() && !rb.isClosed()) {
      ra.sendRaw(Buffer.from('x'));
      sent += 1;
      await within<void>(5_000, `byte ${sent} at bob (${arrived} arrived)`, (resolve) => {
        const look = (): void => {
          if (arrived >= sent || rb.isClosed()) resolve();
        };
        wake = look;
        look();
        return () => {
          wake = null;
        };
      });
    }
    // Then nothing: the relay is closed, both ends.
    await within<void>(10_000, 'the idle relay to close', (resolve) => {
      void Promise.all([ra.closed, rb.closed]).then(() => resolve());
    });
    const lastByteAt = lastForwardedAt();
    expect(sent).toBeGreaterThan(0);
    await srv.close();
    servers.splice(0);
    const closed = (await journalOf(dataDir)).filter((e) => e.type === 'relay.closed');
    expect(closed).toEqual([expect.objectContaining({ reason: 'IDLE' })]);
    const { at, bytes } = closed[0] as { at: number; bytes: number };
    // Closed only after IDLE ms without a byte, whatever the load: the server decides at a time
    // `now` with now - (its last activity) > IDLE, journals at a time >= now, and noted its last
    // activity at most a millisecond before lastByteAt. A slow machine only widens the gap. This
    // is what the flow above tests: a close while bytes flowed, or at once, has a gap well under
    // IDLE. (A machine that stalls for IDLE mid-flow may see a fair close there: it passes too.)
    expect(at - lastByteAt, `ms from the last byte to the close (${sent} bytes sent, ${arrived} arrived)`).toBeGreaterThanOrEqual(IDLE);
    // Every byte the relay carried arrived; none but one still on its way when it closed.
    expect(bytes).toBe(arrived);
    expect(sent - arrived).toBeLessThanOrEqual(1);
    expect(srv.stats().relays).toBe(0);
  });

  it('relay - bytes sent right after relay-request, before the pair is complete, go through first', async () => {
    const { tap, a, b, ia, ib, relayEnd } = await setup();
    const ra = await relayEnd('alice', b.id, ia.nonce);
    ra.sendRaw(Buffer.from('early'));
    const rb = await relayEnd('bob', a.id, ib.nonce);
    await rb.next('relay-ready');
    rb.detach();
    const heard = within<string>(5_000, 'early bytes at bob', (resolve) => {
      let text = '';
      rb.socket.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.length >= 'early'.length) resolve(text);
      });
      rb.socket.resume();
    });
    // The pair completes only when bob asks, so alice's early bytes waited in the server.
    await expect(heard).resolves.toBe('early');
    expect(Buffer.concat(tap['a>b']).toString()).toBe('early');
  });
});

// ---- the splice alone, on plain loopback TCP ----

// A connected pair of TCP sockets: [the far end, the end the splice holds].
async function tcpPair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const far = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const near = await accepted;
  server.close();
  return [far, near];
}

describe('splice', () => {
  it('splice - a receiver that does not read stops the sender: the relay holds a bounded amount, then delivers every byte', async () => {
    const [aFar, aNear] = await tcpPair();
    const [bFar, bNear] = await tcpPair();
    const s = splice(aNear, bNear, { bytesPerSecond: 0 });
    bFar.pause();
    const data = Buffer.alloc(16 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4096) data.writeUInt32BE(i, i);
    let peak = 0;
    const sample = setInterval(() => {
      peak = Math.max(peak, aNear.readableLength + bNear.writableLength);
    }, 5);
    // The sender writes as fast as the relay lets it; the kernel's buffers fill, then the relay's.
    aFar.write(data);
    await within<void>(10_000, 'the relay to stop reading', (resolve) => {
      const t = setInterval(() => {
        if (aNear.isPaused()) {
          clearInterval(t);
          resolve();
        }
      }, 5);
      return () => clearInterval(t);
    });
    // Stopped reading, a paused socket still reads from the kernel until its own buffer reaches
    // its high-water mark, then stops too: from then on nothing the splice holds can grow (the
    // receiver reads nothing, so no 'drain' resumes it). Wait for that state, not for a time.
    await within<void>(10_000, 'the paused sender side to fill its buffer and stop', (resolve) => {
      const t = setInterval(() => {
        if (aNear.isPaused() && aNear.readableLength >= aNear.readableHighWaterMark) {
          clearInterval(t);
          resolve();
        }
      }, 5);
      return () => clearInterval(t);
    });
    clearInterval(sample);
    const held = aNear.readableLength + bNear.writableLength;
    peak = Math.max(peak, held);
    expect(aNear.isPaused()).toBe(true);
    // The splice's own buffers: the receiving socket's queue (16 KiB high-water mark) plus one
    // read of the sender; kernel buffers are not the process's memory.
    expect(peak).toBeLessThan(256 * 1024);
    const got: Buffer[] = [];
    let n = 0;
    const all = within<void>(10_000, 'every byte', (resolve) => {
      bFar.on('data', (d: Buffer) => {
        got.push(d);
        n += d.length;
        if (n >= data.length) resolve();
      });
    });
    bFar.resume();
    await all;
    expect(createHash('sha256').update(Buffer.concat(got)).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    expect(s.bytes()).toBe(data.length);
    s.stop();
    for (const x of [aFar, aNear, bFar, bNear]) x.destroy();
  });

  it('splice - bytesPerSecond caps one direction, the other is not slowed', async () => {
    const RATE = 32 * 1024;
    // The most one read of a socket returns (libuv reads 64 KiB at a time): the cap lets a first
    // read through before anything is paid, so by any time t after the start at most
    // READ + RATE * t bytes can have gone through a capped direction. Load only delays bytes, so
    // this bound cannot be broken by a slow machine; SLACK covers whole-millisecond timers.
    const READ = 64 * 1024;
    const SLACK = 4 * 1024;
    const allowed = (ms: number): number => READ + (RATE * ms) / 1000 + SLACK;
    const SLOW = 128 * 1024;
    const QUICK = 8 * 1024;
    const [aFar, aNear] = await tcpPair();
    const [bFar, bNear] = await tcpPair();
    const s = splice(aNear, bNear, { bytesPerSecond: RATE });
    const started = performance.now();
    const since = (): number => performance.now() - started;

    // a>b, capped: every arrival as [ms since the start, bytes so far].
    const slow: Array<[number, number]> = [];
    let slowBytes = 0;
    let slowWake: (() => void) | null = null;
    bFar.on('data', (d: Buffer) => {
      slowBytes += d.length;
      slow.push([since(), slowBytes]);
      slowWake?.();
    });
    const slowReached = (n: number, ms: number): Promise<void> =>
      within<void>(ms, `${n} capped bytes (${slowBytes} so far)`, (resolve) => {
        const look = (): void => {
          if (slowBytes >= n) resolve();
        };
        slowWake = look;
        look();
        return () => {
          slowWake = null;
        };
      });
    aFar.write(Buffer.alloc(SLOW, 1));
    await slowReached(32 * 1024, 10_000);

    // b>a, while a>b owes for what it carried: a>b reads again no sooner than its `owed` bytes
    // are paid for, owed / RATE after the start. Each direction has its own budget (these 8 KiB
    // cost b>a at most a quarter of a second of its own); if a>b's wait held b>a too, they would
    // arrive no sooner than owed / RATE. So the order is what is checked, with about owed / RATE
    // (a second or more) of room for a loaded machine.
    const owed = slowBytes;
    const quickMs = await within<number>(10_000, `${QUICK} bytes the other way`, (resolve) => {
      let n = 0;
      aFar.on('data', (d: Buffer) => {
        n += d.length;
        if (n >= QUICK) resolve(since());
      });
      bFar.write(Buffer.alloc(QUICK, 2));
    });
    expect(quickMs, `the other direction, while a>b owed for ${owed} bytes`).toBeLessThan((owed * 1000) / RATE - 5);

    await slowReached(SLOW, 20_000);
    for (const [ms, n] of slow) expect(n, `${n} capped bytes after ${ms.toFixed(0)} ms`).toBeLessThanOrEqual(allowed(ms));
    expect(slowBytes).toBe(SLOW);
    s.stop();
    for (const x of [aFar, aNear, bFar, bNear]) x.destroy();
  });
});
