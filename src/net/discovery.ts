// LAN discovery (issue 10): every client on a segment says who it is by UDP broadcast, and hears
// the others, so that two people on one network find each other with no server, no router and no
// internet. docs/PROTOCOL.md section 13 is the specification.
//
// An announcement is 44 bytes:
//
//   offset size  field
//   0      4     magic "PLAN" (50 4c 41 4e)
//   4      1     version, 1
//   5      5     id, uint40 big-endian, 1..2^40-1
//   10     32    key fingerprint: SHA-256 of the SubjectPublicKeyInfo (DER)
//   42     2     listen port for peer links, uint16 big-endian, 1..65535
//
// It is sent to each IPv4 interface's directed broadcast address (10.1.2.255 for 10.1.2.3/24),
// never only to 255.255.255.255: on a closed LAN with no default route the kernel has no route
// for the limited broadcast and the send fails with ENETUNREACH (DESIGN.md, Network), while the
// directed address goes out on its own segment's route.
//
// An announcement is a claim, not a proof: anyone on the segment can send one. What it gives is an
// address to dial; the TLS link then proves the key (PROTOCOL.md section 13, trust).
import dgram from 'node:dgram';
import os from 'node:os';
import { normalKeySha256 } from '../../cert/keys.js';
import { badInput } from '../errors.js';
import { LIMITS } from './constants.js';

export const DISCOVERY = Object.freeze({
  // The UDP port every client announces to and listens on.
  PORT: 7410,
  MAGIC: Object.freeze([0x50, 0x4c, 0x41, 0x4e]), // 'PLAN'
  VERSION: 1,
  SIZE: 44,
  OFFSET_VERSION: 4,
  OFFSET_ID: 5,
  OFFSET_KEY: 10,
  OFFSET_PORT: 42,
  // How often a client announces itself: often enough that a peer that starts is found within a
  // couple of seconds, rare enough to be nothing on any LAN (44 bytes per interface).
  EVERY_MS: 2_000,
  MIN_EVERY_MS: 50,
  MAX_EVERY_MS: 600_000,
});

export type Announcement = { id: number; keySha256: string; listenPort: number };
export type DiscoveredPeer = Announcement & { address: string };

// ---- the datagram ----

export function encodeAnnouncement(a: Announcement): Buffer {
  checkAnnouncement(a);
  const out = Buffer.alloc(DISCOVERY.SIZE);
  Buffer.from(DISCOVERY.MAGIC).copy(out, 0);
  out[DISCOVERY.OFFSET_VERSION] = DISCOVERY.VERSION;
  out.writeUIntBE(a.id, DISCOVERY.OFFSET_ID, 5);
  Buffer.from(normalKeySha256(a.keySha256) as string, 'hex').copy(out, DISCOVERY.OFFSET_KEY);
  out.writeUInt16BE(a.listenPort, DISCOVERY.OFFSET_PORT);
  return out;
}

// The announcement in a datagram, or null for anything else: another program's packet on the
// port, another version, a zero id or port. Never throws: a LAN is full of other datagrams, and
// none of them is an error of this client.
export function decodeAnnouncement(datagram: Uint8Array): Announcement | null {
  if (datagram.length !== DISCOVERY.SIZE) return null;
  for (let i = 0; i < DISCOVERY.MAGIC.length; i++) if (datagram[i] !== DISCOVERY.MAGIC[i]) return null;
  if (datagram[DISCOVERY.OFFSET_VERSION] !== DISCOVERY.VERSION) return null;
  const bytes = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.length);
  const id = bytes.readUIntBE(DISCOVERY.OFFSET_ID, 5);
  const listenPort = bytes.readUInt16BE(DISCOVERY.OFFSET_PORT);
  if (id === 0 || listenPort === 0) return null;
  return { id, keySha256: bytes.subarray(DISCOVERY.OFFSET_KEY, DISCOVERY.OFFSET_PORT).toString('hex'), listenPort };
}

function checkAnnouncement(a: Announcement): void {
  if (!Number.isSafeInteger(a.id) || a.id < 1 || a.id > LIMITS.MAX_ID) throw badInput('DISCOVERY_BAD_ID', `an announced id is a whole number from 1 to ${LIMITS.MAX_ID}, got ${String(a.id)}`);
  if (normalKeySha256(String(a.keySha256)) === null) throw badInput('DISCOVERY_BAD_KEY', 'an announced key fingerprint is 64 hex characters');
  if (!Number.isInteger(a.listenPort) || a.listenPort < 1 || a.listenPort > 65535) {
    throw badInput('DISCOVERY_BAD_PORT', `an announced listen port is from 1 to 65535, got ${String(a.listenPort)}`);
  }
}

// ---- where to send ----

type Interfaces = ReturnType<typeof os.networkInterfaces>;

// The directed broadcast address of every IPv4 interface that has one: address | ~netmask, each
// once. Internal ones (loopback) are skipped, and so are /31 and /32, which have no broadcast
// address (a point-to-point link, RFC 3021).
// => ['10.1.2.255', '192.168.0.255'] for 10.1.2.3/24 and 192.168.0.23/24
export function broadcastAddresses(interfaces: Interfaces): string[] {
  const out: string[] = [];
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) {
      if (a.internal || a.family !== 'IPv4') continue;
      const address = ipv4Number(a.address);
      const mask = ipv4Number(a.netmask);
      if (address === null || mask === null || mask >>> 0 >= 0xfffffffe) continue;
      const broadcast = ipv4Text((address | ~mask) >>> 0);
      if (!out.includes(broadcast)) out.push(broadcast);
    }
  }
  return out;
}

function ipv4Number(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    const v = Number(p);
    if (!/^[0-9]{1,3}$/.test(p) || v > 255) return null;
    n = n * 256 + v;
  }
  return n;
}

function ipv4Text(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

// ---- the running part ----

export type DiscoveryOptions = {
  // The UDP port to listen on and announce to (DISCOVERY.PORT; tests pick their own).
  port?: number;
  announce: Announcement;
  // Every announcement heard from another client, each time it is heard (every everyMs per
  // interface it arrives on): the caller decides what is new. Its own are never reported.
  onPeer: (peer: DiscoveredPeer) => void;
  everyMs?: number;
  // A send that failed on one interface, a socket error, an onPeer that threw: reported, never
  // fatal to the others.
  onError?: (err: Error) => void;
  // Where the interfaces come from: os.networkInterfaces, replaced in tests.
  interfaces?: () => Interfaces;
};

export type Discovery = {
  // The port bound (the one given).
  port: number;
  // Announces at once, off the timer (after the listen port changed, say). Never throws.
  announceNow: () => void;
  close: () => Promise<void>;
};

const noop = (): void => undefined;

// Binds the UDP port (shared with other clients on this machine: SO_REUSEADDR, so that every one
// of them hears each broadcast), announces now and every everyMs, and reports what it hears.
export async function startDiscovery(options: DiscoveryOptions): Promise<Discovery> {
  const port = options.port ?? DISCOVERY.PORT;
  const everyMs = options.everyMs ?? DISCOVERY.EVERY_MS;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`port must be 1..65535, got ${String(port)}`);
  if (!Number.isInteger(everyMs) || everyMs < DISCOVERY.MIN_EVERY_MS || everyMs > DISCOVERY.MAX_EVERY_MS) {
    throw new RangeError(`everyMs must be ${DISCOVERY.MIN_EVERY_MS}..${DISCOVERY.MAX_EVERY_MS}, got ${String(everyMs)}`);
  }
  const own = options.announce;
  const datagram = encodeAnnouncement(own);
  const ownKey = normalKeySha256(own.keySha256) as string;
  const onPeer = options.onPeer;
  const onError = options.onError ?? noop;
  const interfaces = options.interfaces ?? os.networkInterfaces;

  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    // 0.0.0.0: a broadcast reaches only a socket bound to the wildcard (or to the broadcast
    // address itself), not one bound to the interface's own address.
    socket.bind({ port, address: '0.0.0.0', exclusive: false }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.setBroadcast(true);
  socket.on('error', (err) => onError(err));
  socket.on('message', (msg, rinfo) => {
    const a = decodeAnnouncement(msg);
    if (a === null || (a.id === own.id && a.keySha256 === ownKey)) return;
    try {
      onPeer({ ...a, address: rinfo.address });
    } catch (err) {
      onError(err as Error);
    }
  });

  let closed = false;
  // Never throws, safe to call from a timer: each interface's failure is its own.
  function announceNow(): void {
    if (closed) return;
    let targets: string[];
    try {
      targets = broadcastAddresses(interfaces());
    } catch (err) {
      onError(err as Error);
      return;
    }
    for (const target of targets) {
      socket.send(datagram, port, target, (err) => {
        if (err && !closed) onError(err);
      });
    }
  }
  announceNow();
  const timer = setInterval(announceNow, everyMs);
  timer.unref();

  return {
    port,
    announceNow,
    close: () =>
      new Promise<void>((resolve) => {
        if (closed) return resolve();
        closed = true;
        clearInterval(timer);
        socket.close(() => resolve());
      }),
  };
}
