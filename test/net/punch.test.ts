// TCP hole punching (src/net/punch.ts) through real NATs: two hosts behind two NATs in network
// namespaces (test/helpers/netns.ts, makeNatPair), an observer on the wan between them. The
// observer plays the server's part (it tells each host the address and port it sees), the test
// passes each host the other's, and both punch at the same moment. With NATs that keep a port's mapping (MASQUERADE) the two connect;
// with NATs that draw a new port per destination (MASQUERADE --random-fully, symmetric) the
// window ends without a connection, which is when the client goes to the relay.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { punch } from '../../src/net/punch.js';
import { ROOT } from '../helpers/cli.js';
import { inCi, makeNatPair, netnsUnavailable, WAN_ADDRESS, type NatPair } from '../helpers/netns.js';

const OBSERVER_PORT = 7400;

describe('punch on loopback', () => {
  it('punch - nothing listens at the peer: attempts every retry until the window ends, with the last reason', async () => {
    const started = Date.now();
    const result = await punch({ host: '127.0.0.1', port: 9, localPort: 0, at: Date.now(), windowMs: 700, retryMs: 100 });
    expect(result.socket).toBeNull();
    expect(result.attempts).toBeGreaterThanOrEqual(3);
    expect(result).toMatchObject({ reason: expect.stringMatching(/no connection within 700 ms \(last attempt: ECONNREFUSED\)/) });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('punch - stopped by its signal before it starts: no attempt', async () => {
    const stop = new AbortController();
    const pending = punch({ host: '127.0.0.1', port: 9, localPort: 0, at: Date.now() + 10_000, signal: stop.signal });
    stop.abort();
    expect(await pending).toEqual({ socket: null, attempts: 0, reason: 'stopped' });
  });
});

const UNAVAILABLE = netnsUnavailable();
if (UNAVAILABLE && !inCi) console.warn(`punch.test.ts: the NAT tests are skipped: ${UNAVAILABLE}`);

describe.runIf(UNAVAILABLE !== null && inCi)('punch through NATs in CI', () => {
  it('punch - network namespaces are available in CI', () => {
    expect(UNAVAILABLE).toBeNull();
  });
});

type Run = { child: ChildProcess; lines: () => Array<Record<string, unknown>>; stderr: () => string };

describe.skipIf(UNAVAILABLE !== null)('punch through NATs (network namespaces)', () => {
  const children: ChildProcess[] = [];
  let ns: NatPair;

  beforeAll(() => {
    ns = makeNatPair(`p${process.pid % 100000}`);
  });

  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    ns?.remove();
  });

  function runIn(namespace: string, script: string, args: string[]): Run {
    const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, path.join(ROOT, 'test', 'net', 'fixtures', script), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    const lines = (): Array<Record<string, unknown>> =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    return { child, lines, stderr: () => err };
  }

  async function until<T>(what: string, get: () => T | undefined, run: Run[], ms = 15_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = get();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms\n${run.map((r) => `${JSON.stringify(r.lines())} ${r.stderr()}`).join('\n')}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  // Both hosts learn their outside address from the observer, are given each other's, and punch.
  async function punchBoth(windowMs: number): Promise<[Record<string, unknown>, Record<string, unknown>, Array<{ host: string; port: number }>]> {
    const observer = runIn(ns.wan, 'punch-observer.mjs', [String(OBSERVER_PORT)]);
    await until('the observer listening', () => observer.lines().find((l) => l.listening), [observer]);
    const punchJs = path.join(ROOT, 'dist', 'src', 'net', 'punch.js');
    const hosts = [runIn(ns.a, 'punch-host.mjs', [punchJs, WAN_ADDRESS, String(OBSERVER_PORT), 'a']), runIn(ns.b, 'punch-host.mjs', [punchJs, WAN_ADDRESS, String(OBSERVER_PORT), 'b'])];
    const firsts = await Promise.all(hosts.map((h, i) => until(`host ${i} reaching the observer`, () => h.lines()[0], [h, observer])));
    for (const first of firsts) expect(first, JSON.stringify(firsts)).toHaveProperty('observed');
    const seen = hosts.map((h) => h.lines()[0].observed as { host: string; port: number });
    const at = Date.now() + 300;
    hosts[0].child.stdin!.write(JSON.stringify({ ...seen[1], at, windowMs }) + '\n');
    hosts[1].child.stdin!.write(JSON.stringify({ ...seen[0], at, windowMs }) + '\n');
    const ends = await Promise.all(hosts.map((h, i) => until(`host ${i} ending its punch`, () => h.lines().find((l) => l.connected || l.failed || l.error), hosts, windowMs + 10_000)));
    observer.child.kill('SIGKILL');
    return [ends[0], ends[1], seen];
  }

  it('punch - two hosts behind NATs that keep ports and drop unsolicited packets connect to each other from their session ports', async () => {
    ns.masquerade('keeps-ports');
    const [a, b, seen] = await punchBoth(5_000);
    // The observer saw each host as its NAT, from the port the host bound (the mapping kept it).
    expect(seen.map((s) => s.host)).toEqual(['203.0.113.10', '203.0.113.20']);
    expect(a).toMatchObject({ connected: { remote: `${seen[1].host}:${seen[1].port}`, got: 'hello from b' } });
    expect(b).toMatchObject({ connected: { remote: `${seen[0].host}:${seen[0].port}`, got: 'hello from a' } });
  }, 60_000);

  it('punch - behind symmetric NATs (a port drawn per destination) the window ends without a connection', async () => {
    ns.masquerade('symmetric');
    const [a, b] = await punchBoth(2_000);
    expect(a).toMatchObject({ failed: expect.stringMatching(/no connection within 2000 ms/) });
    expect(b).toMatchObject({ failed: expect.stringMatching(/no connection within 2000 ms/) });
  }, 60_000);
});
