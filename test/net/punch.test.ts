// TCP hole punching (src/net/punch.ts) through real NATs: network namespaces joined as
//
//   host a (10.1.0.2) ── nat a (10.1.0.1 | 203.0.113.10) ──┐
//                                                           ├── wan (203.0.113.1: the observer)
//   host b (10.2.0.2) ── nat b (10.2.0.1 | 203.0.113.20) ──┘
//
// Each NAT masquerades its host and drops every packet from the wan that does not belong to a
// connection its host opened, as home routers do. The observer plays the server's part (it tells
// each host the address and port it sees), the test passes each host the other's, and both
// punch at the same moment. With NATs that keep a port's mapping (MASQUERADE) the two connect;
// with NATs that draw a new port per destination (MASQUERADE --random-fully, symmetric) the
// window ends without a connection, which is when the client goes to the relay.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { punch } from '../../src/net/punch.js';
import { ROOT } from '../helpers/cli.js';
import { inCi, inNs, ip, netnsUnavailable } from '../helpers/netns.js';

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
  // Names unique to this run, under 15 characters (interface names' limit).
  const tag = `${process.pid % 100000}`;
  const ns = { wan: `ppw${tag}`, natA: `ppna${tag}`, natB: `ppnb${tag}`, a: `ppa${tag}`, b: `ppb${tag}` };
  const children: ChildProcess[] = [];

  beforeAll(() => {
    for (const n of Object.values(ns)) spawnSync('ip', ['netns', 'del', n]);
    for (const n of Object.values(ns)) ip(['netns', 'add', n]);
    for (const n of Object.values(ns)) ip(['-n', n, 'link', 'set', 'lo', 'up']);
    // The wan: a bridge holding the observer's address and each NAT's outside end.
    ip(['-n', ns.wan, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', ns.wan, 'addr', 'add', '203.0.113.1/24', 'dev', 'br0']);
    ip(['-n', ns.wan, 'link', 'set', 'br0', 'up']);
    const sides = [
      { nat: ns.natA, host: ns.a, outside: '203.0.113.10/24', inside: '10.1.0.1/24', address: '10.1.0.2/24', gateway: '10.1.0.1', w: 'wa' },
      { nat: ns.natB, host: ns.b, outside: '203.0.113.20/24', inside: '10.2.0.1/24', address: '10.2.0.2/24', gateway: '10.2.0.1', w: 'wb' },
    ];
    for (const s of sides) {
      ip(['link', 'add', 'wan0', 'netns', s.nat, 'type', 'veth', 'peer', 'name', s.w, 'netns', ns.wan]);
      ip(['-n', ns.wan, 'link', 'set', s.w, 'master', 'br0', 'up']);
      ip(['-n', s.nat, 'addr', 'add', s.outside, 'dev', 'wan0']);
      ip(['-n', s.nat, 'link', 'set', 'wan0', 'up']);
      ip(['link', 'add', 'lan0', 'netns', s.nat, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', s.host]);
      ip(['-n', s.nat, 'addr', 'add', s.inside, 'dev', 'lan0']);
      ip(['-n', s.nat, 'link', 'set', 'lan0', 'up']);
      ip(['-n', s.host, 'addr', 'add', s.address, 'dev', 'eth0']);
      ip(['-n', s.host, 'link', 'set', 'eth0', 'up']);
      ip(['-n', s.host, 'route', 'add', 'default', 'via', s.gateway]);
      inNs(s.nat, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
      // A home router's firewall: what comes from the wan passes only for connections from inside,
      // and the rest is dropped without a word, to the host and to the router itself (a RST from
      // the router for a SYN that came early would end the peer's attempt).
      for (const chain of ['FORWARD', 'INPUT']) {
        inNs(s.nat, ['iptables', '-A', chain, '-i', 'wan0', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT']);
        inNs(s.nat, ['iptables', '-A', chain, '-i', 'wan0', '-j', 'DROP']);
      }
    }
  });

  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const n of Object.values(ns)) spawnSync('ip', ['netns', 'del', n]);
  });

  // The NATs' translation: MASQUERADE keeps a local port's mapping for every destination
  // (endpoint-independent) when it can; --random-fully draws a port per connection (symmetric).
  function masquerade(mode: 'keeps-ports' | 'symmetric'): void {
    for (const nat of [ns.natA, ns.natB]) {
      inNs(nat, ['iptables', '-t', 'nat', '-F', 'POSTROUTING']);
      inNs(nat, ['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan0', '-j', 'MASQUERADE', ...(mode === 'symmetric' ? ['--random-fully'] : [])]);
    }
  }

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
    const hosts = [runIn(ns.a, 'punch-host.mjs', [punchJs, '203.0.113.1', String(OBSERVER_PORT), 'a']), runIn(ns.b, 'punch-host.mjs', [punchJs, '203.0.113.1', String(OBSERVER_PORT), 'b'])];
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
    masquerade('keeps-ports');
    const [a, b, seen] = await punchBoth(5_000);
    // The observer saw each host as its NAT, from the port the host bound (the mapping kept it).
    expect(seen.map((s) => s.host)).toEqual(['203.0.113.10', '203.0.113.20']);
    expect(a).toMatchObject({ connected: { remote: `${seen[1].host}:${seen[1].port}`, got: 'hello from b' } });
    expect(b).toMatchObject({ connected: { remote: `${seen[0].host}:${seen[0].port}`, got: 'hello from a' } });
  }, 60_000);

  it('punch - behind symmetric NATs (a port drawn per destination) the window ends without a connection', async () => {
    masquerade('symmetric');
    const [a, b] = await punchBoth(2_000);
    expect(a).toMatchObject({ failed: expect.stringMatching(/no connection within 2000 ms/) });
    expect(b).toMatchObject({ failed: expect.stringMatching(/no connection within 2000 ms/) });
  }, 60_000);
});
