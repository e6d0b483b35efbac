// LAN discovery: the announcement codec, the broadcast addresses, two discoveries on loopback, and
// two hosts on a closed LAN (network namespaces on one bridge, no default route) that find each
// other through their directed broadcast while the limited broadcast fails.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  broadcastAddresses,
  decodeAnnouncement,
  DISCOVERY,
  encodeAnnouncement,
  startDiscovery,
  type Announcement,
  type DiscoveredPeer,
} from '../../src/net/discovery.js';
import { ROOT } from '../helpers/cli.js';
import { inCi, makeClosedLan, netnsUnavailable, type ClosedLan } from '../helpers/netns.js';

const KEY_A = crypto.createHash('sha256').update('a').digest('hex');
const KEY_B = crypto.createHash('sha256').update('b').digest('hex');
const A: Announcement = { id: 0x50d858e098, keySha256: KEY_A, listenPort: 40001 };
const B: Announcement = { id: 7, keySha256: KEY_B, listenPort: 40002 };

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  return 'no error';
}

// A UDP port nobody uses right now.
async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('discovery codec', () => {
  it('discovery - an announcement is 44 bytes, PLAN, version 1, and reads back', () => {
    const bytes = encodeAnnouncement(A);
    expect(bytes.length).toBe(44);
    expect(bytes.subarray(0, 5).toString('hex')).toBe('504c414e01');
    expect(bytes.subarray(5, 10).toString('hex')).toBe('50d858e098');
    expect(bytes.readUInt16BE(42)).toBe(40001);
    expect(decodeAnnouncement(bytes)).toEqual(A);
    // A fingerprint with colons and capitals is the same key.
    expect(encodeAnnouncement({ ...A, keySha256: KEY_A.toUpperCase().match(/../g)!.join(':') })).toEqual(bytes);
  });

  it('discovery - the example of docs/PROTOCOL.md section 13', () => {
    const key = '50d858e0985ecc7f60418aaf0cc5ab587f42c2570a884095a9e8ccacd0f6545c';
    const hex = '504c414e0150d858e09850d858e0985ecc7f60418aaf0cc5ab587f42c2570a884095a9e8ccacd0f6545c9c41';
    expect(encodeAnnouncement({ id: 347227087000, keySha256: key, listenPort: 40001 }).toString('hex')).toBe(hex);
  });

  const good = encodeAnnouncement(A);
  const changed = (at: number, value: number): Buffer => {
    const b = Buffer.from(good);
    b[at] = value;
    return b;
  };
  it.each<[string, Buffer]>([
    ['empty', Buffer.alloc(0)],
    ['one byte short', good.subarray(0, 43)],
    ['one byte more', Buffer.concat([good, Buffer.from([0])])],
    ['another magic', changed(3, 0x4f)],
    ['version 2', changed(4, 2)],
    ['version 0', changed(4, 0)],
    ['id 0', Buffer.concat([good.subarray(0, 5), Buffer.alloc(5), good.subarray(10)])],
    ['listen port 0', Buffer.concat([good.subarray(0, 42), Buffer.alloc(2)])],
    ['a Parley frame header', Buffer.concat([Buffer.from([0x50, 0x4c, 1]), Buffer.alloc(41)])],
  ])('discovery - decode ignores %s (null)', (_what, datagram) => {
    expect(decodeAnnouncement(datagram)).toBeNull();
  });

  it('discovery - decode never throws, and whatever it reads encodes back to the same bytes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ minLength: 39, maxLength: 39 }).map((t) => Uint8Array.from([...good.subarray(0, 5), ...t]))), (bytes) => {
        const a = decodeAnnouncement(bytes);
        if (a !== null) expect(encodeAnnouncement(a)).toEqual(Buffer.from(bytes));
      }),
      { numRuns: 1000 },
    );
  });

  it.each<[string, Partial<Announcement>, string]>([
    ['id 0', { id: 0 }, 'DISCOVERY_BAD_ID'],
    ['id 2^40', { id: 2 ** 40 }, 'DISCOVERY_BAD_ID'],
    ['a short key', { keySha256: 'abcd' }, 'DISCOVERY_BAD_KEY'],
    ['listen port 0', { listenPort: 0 }, 'DISCOVERY_BAD_PORT'],
    ['listen port 65536', { listenPort: 65536 }, 'DISCOVERY_BAD_PORT'],
  ])('discovery - encode refuses %s', (_what, change, code) => {
    expect(codeOf(() => encodeAnnouncement({ ...A, ...change }))).toBe(code);
  });

  const nic = (address: string, netmask: string, internal = false, family: 'IPv4' | 'IPv6' = 'IPv4') =>
    ({ address, netmask, family, internal, mac: '00:00:00:00:00:00', cidr: null }) as never;
  it.each<[string, ReturnType<typeof nic>[][], string[]]>([
    ['a /24', [[nic('10.1.2.3', '255.255.255.0')]], ['10.1.2.255']],
    ['a /16 and a /22 on two interfaces', [[nic('172.16.5.4', '255.255.0.0')], [nic('192.168.5.9', '255.255.252.0')]], ['172.16.255.255', '192.168.7.255']],
    ['loopback skipped', [[nic('127.0.0.1', '255.0.0.0', true)], [nic('10.0.0.1', '255.0.0.0')]], ['10.255.255.255']],
    ['IPv6 skipped', [[nic('fe80::1', 'ffff:ffff:ffff:ffff::', false, 'IPv6'), nic('10.9.9.9', '255.255.255.0')]], ['10.9.9.255']],
    ['/31 and /32 have none', [[nic('10.0.0.1', '255.255.255.254')], [nic('10.0.0.9', '255.255.255.255')]], []],
    ['two addresses of one subnet give it once', [[nic('10.0.0.1', '255.255.255.0'), nic('10.0.0.2', '255.255.255.0')]], ['10.0.0.255']],
  ])('discovery - broadcastAddresses: %s', (_what, lists, expected) => {
    const interfaces = Object.fromEntries(lists.map((l, i) => [`eth${i}`, l]));
    expect(broadcastAddresses(interfaces)).toEqual(expected);
  });
});

describe('discovery on loopback', () => {
  it('discovery - two clients on one machine hear each other, never themselves; close is clean', async () => {
    const port = await freeUdpPort();
    // Loopback's broadcast address, as if lo were a LAN: 127.255.255.255 reaches every socket on the port.
    const interfaces = () => ({ lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', internal: false, mac: '00:00:00:00:00:00', cidr: '127.0.0.1/8' }] }) as never;
    const heard: Record<string, DiscoveredPeer[]> = { a: [], b: [] };
    const errors: Error[] = [];
    const a = await startDiscovery({ port, announce: A, everyMs: 50, interfaces, onPeer: (p) => heard.a.push(p), onError: (e) => errors.push(e) });
    const b = await startDiscovery({ port, announce: B, everyMs: 50, interfaces, onPeer: (p) => heard.b.push(p), onError: (e) => errors.push(e) });
    try {
      const deadline = Date.now() + 10_000;
      while ((heard.a.length === 0 || heard.b.length === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(errors).toEqual([]);
      expect(heard.a[0]).toEqual({ ...B, address: '127.0.0.1' });
      expect(heard.b[0]).toEqual({ ...A, address: '127.0.0.1' });
      expect(heard.a.every((p) => p.id === B.id)).toBe(true);
      expect(heard.b.every((p) => p.id === A.id)).toBe(true);
    } finally {
      await a.close();
      await b.close();
    }
    await a.close();
  });

  it('discovery - bad options are refused at once', async () => {
    await expect(startDiscovery({ port: 0, announce: A, onPeer: () => undefined })).rejects.toThrow(/port/);
    await expect(startDiscovery({ port: 9, announce: A, everyMs: 1, onPeer: () => undefined })).rejects.toThrow(/everyMs/);
    await expect(startDiscovery({ port: 9, announce: { ...A, id: 0 }, onPeer: () => undefined })).rejects.toMatchObject({ code: 'DISCOVERY_BAD_ID' });
  });
});

// ---- a closed LAN in network namespaces ----

const UNAVAILABLE = netnsUnavailable();
if (UNAVAILABLE && !inCi) console.warn(`discovery.test.ts: the closed-LAN test is skipped: ${UNAVAILABLE}`);

describe.runIf(UNAVAILABLE !== null && inCi)('discovery on a closed LAN in CI', () => {
  it('discovery - network namespaces are available in CI', () => {
    expect(UNAVAILABLE).toBeNull();
  });
});

describe.skipIf(UNAVAILABLE !== null)('discovery on a closed LAN (network namespaces)', () => {
  const children: ChildProcess[] = [];
  let ns: ClosedLan;

  beforeAll(() => {
    ns = makeClosedLan(`${process.pid % 100000}`);
  });

  // Even when beforeAll or the test failed half-way: every child killed, every namespace removed
  // (which removes its veth ends and the bridge).
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    ns?.remove();
  });

  function runIn(namespace: string, a: Announcement): { lines: () => Array<Record<string, unknown>>; stderr: () => string } {
    const script = path.join(ROOT, 'test', 'net', 'fixtures', 'discover.mjs');
    const discoveryJs = path.join(ROOT, 'dist', 'src', 'net', 'discovery.js');
    const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, script, discoveryJs, String(DISCOVERY.PORT), String(a.id), a.keySha256, String(a.listenPort)], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    return {
      lines: () => out.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, unknown>),
      stderr: () => err,
    };
  }

  it('discovery - two hosts on one segment with no default route find each other by directed broadcast, while 255.255.255.255 fails', async () => {
    for (const n of [ns.a, ns.b]) expect(spawnSync('ip', ['-n', n, 'route', 'show', 'default']).stdout.toString().trim()).toBe('');
    const a = runIn(ns.a, A);
    const b = runIn(ns.b, B);
    const peerOf = (run: typeof a) => run.lines().find((l) => l.peer)?.peer as DiscoveredPeer | undefined;
    const deadline = Date.now() + 15_000;
    while ((!peerOf(a) || !peerOf(b)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const why = `a: ${JSON.stringify(a.lines())} ${a.stderr()}\nb: ${JSON.stringify(b.lines())} ${b.stderr()}`;
    expect(peerOf(a), why).toEqual({ ...B, address: '10.77.0.2' });
    expect(peerOf(b), why).toEqual({ ...A, address: '10.77.0.1' });
    // The closed LAN is real: the limited broadcast has no route there.
    expect(a.lines()[0], why).toEqual({ limited: 'ENETUNREACH' });
    // No send failed on the way, and no host heard itself.
    expect(a.lines().filter((l) => l.error), why).toEqual([]);
    expect(a.lines().filter((l) => l.peer).every((l) => (l.peer as DiscoveredPeer).id === B.id)).toBe(true);
    expect(b.lines().filter((l) => l.peer).every((l) => (l.peer as DiscoveredPeer).id === A.id)).toBe(true);
  });
});
