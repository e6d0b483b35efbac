// Keys of the stored transfers view (transfers.ts): its records and what they hold.
//
// Records (keys start with one byte of their own; peer is 5 bytes, seq 6, big-endian; dir is
// 'o' (out) or 'i' (in); id is UTF-8):
//
//   't' peer dir id   -> TransferRecord    a transfer, found by its key
//   'l' seq           -> [peer, dir, id]   every transfer by the seq of its offer: the list,
//                                          read by page, newest first
//   'a' peer dir id   -> (empty)           the transfers not finished; all of them are kept in
//                                          memory too, so the running client finds what to
//                                          resume at start without a scan
//   'u' id            -> [peer, dir]       the first transfer offered with this id. Events of
//                                          version 1 (all but transfer.offered) named a transfer
//                                          by its id alone, and upcasting cannot add what only
//                                          the offer knows (events/upcast.ts): such an event is
//                                          resolved through this record, to the transfer that
//                                          version 1 matched (the first offer of the id). It is
//                                          written at every offer (a later one keeps the first),
//                                          since nothing tells an offer of version 1 apart once
//                                          read; such an event reads it first, then the 't'
//                                          record it names (readsThrough: a second read, made
//                                          only for such events).
import type { Direction } from '../events/types.js';
import { refKey } from './keys.js';

export const PREFIX = Object.freeze({ TRANSFER: 0x74, LIST: 0x6c, OPEN: 0x61, LEGACY: 0x75 });

// ---- keys ----

export function transferKey(peer: number, direction: Direction, id: string): Buffer {
  return refKey(PREFIX.TRANSFER, peer, direction, id);
}

export function openKey(peer: number, direction: Direction, id: string): Buffer {
  return refKey(PREFIX.OPEN, peer, direction, id);
}

export function listKey(seq: number): Buffer {
  const key = Buffer.allocUnsafe(7);
  key[0] = PREFIX.LIST;
  key.writeUIntBE(seq, 1, 6);
  return key;
}

export function legacyKey(id: string): Buffer {
  return Buffer.concat([Buffer.from([PREFIX.LEGACY]), Buffer.from(id, 'utf8')]);
}

// The transfer an 'a' (or 't') key names. => { peer: 7, direction: 'in', id: 't1' }
export { refOfKey } from './keys.js';

export function seqOfListKey(key: Uint8Array): number {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).readUIntBE(1, 6);
}

export function isPeerId(peer: unknown): peer is number {
  return typeof peer === 'number' && Number.isSafeInteger(peer) && peer >= 0 && peer < 2 ** 40;
}
