// Keys of the stored views' records (messages.ts, transfers.ts). Each starts with one byte of its
// own view; peers are 5 bytes and seqs 6, big-endian, so LevelDB's byte order is a peer's keys
// together, in journal order. A reference to a message or a transfer is (peer, direction, id):
// both sides choose their own ids (docs/PROTOCOL.md, "Content ids").
import type { Direction } from '../events/types.js';

const OUT = 0x6f; // 'o'
const IN = 0x69; // 'i'

export type Ref = { peer: number; direction: Direction; id: string };

// prefix peer(5) dir id => 69 00 00 00 00 07 6f 61 for ('i', 7, 'out', 'a')
// The id is written into the key itself rather than copied from a Buffer of its own: one
// allocation a key, made for every message (messages.ts).
export function refKey(prefix: number, peer: number, direction: Direction, id: string): Buffer {
  const key = Buffer.allocUnsafe(7 + Buffer.byteLength(id, 'utf8'));
  key[0] = prefix;
  key.writeUIntBE(peer, 1, 5);
  key[6] = direction === 'out' ? OUT : IN;
  key.write(id, 7, 'utf8');
  return key;
}

// What refKey wrote. => { peer: 7, direction: 'out', id: 'a' }
export function refOfKey(key: Uint8Array): Ref {
  const b = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  return { peer: b.readUIntBE(1, 5), direction: b[6] === OUT ? 'out' : 'in', id: b.toString('utf8', 7) };
}

// prefix peer(5) seq(6)
export function peerSeqKey(prefix: number, peer: number, seq: number): Buffer {
  const key = Buffer.allocUnsafe(12);
  key[0] = prefix;
  key.writeUIntBE(peer, 1, 5);
  key.writeUIntBE(seq, 6, 6);
  return key;
}

export function seqOfPeerSeqKey(key: Uint8Array): number {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).readUIntBE(6, 6);
}

// The whole range of one peer under a prefix: [gte, lt).
export function peerRange(prefix: number, peer: number): { gte: Buffer; lt: Buffer } {
  const gte = Buffer.allocUnsafe(6);
  gte[0] = prefix;
  gte.writeUIntBE(peer, 1, 5);
  // Past every key of this peer: a seq's bytes, a direction byte ('o', 'i') and UTF-8 never
  // start with 0xff after the peer, so the peer's keys all sort below this one.
  const lt = Buffer.concat([gte, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])]);
  return { gte, lt };
}

// Every key under a prefix: [gte, lt).
export function prefixRange(prefix: number): { gte: Buffer; lt: Buffer } {
  return { gte: Buffer.from([prefix]), lt: Buffer.from([prefix + 1]) };
}
