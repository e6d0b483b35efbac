// Events on disk: keys and values of the LevelDB journal.
//
// Key of event seq: the byte 0x65 ('e') then seq as an 8-byte big-endian unsigned integer, so
// LevelDB's byte order is append order. => 65 00 00 00 00 00 00 00 2a for seq 42
// Value: plain MessagePack of the event without its seq (the key holds it). No msgpackr records,
// no extension for undefined (undefined fields are left out), and integers beyond 32 bits (times
// in ms, 40-bit ids) as MessagePack uint64/int64 rather than float64, so any MessagePack reader
// gets integers back (msgpack.ts). See docs/ARCHITECTURE.md, "The journal on disk".

import { Unpackr } from 'msgpackr';
import { encodeMsgpack } from './msgpack.js';
import { corruptEvent } from './errors.js';
import { isKnownIn, upcastIn, type EventBase, type EventSchema, type StoredOf } from './schema.js';
import { CLIENT_EVENTS, type ParleyEvent } from './types.js';

export const EVENT_PREFIX = 0x65; // 'e'
export const KEY_LENGTH = 9;

const unpackr = new Unpackr({ useRecords: false, int64AsType: 'number', mapsAsObjects: true });

export function eventKey(seq: number): Buffer {
  const key = Buffer.allocUnsafe(KEY_LENGTH);
  key[0] = EVENT_PREFIX;
  key[1] = 0;
  key[2] = 0;
  key.writeUIntBE(seq, 3, 6);
  return key;
}

export function seqOfKey(key: Uint8Array): number {
  return (key[3] * 2 ** 40) + (key[4] * 2 ** 32) + ((key[5] << 24) >>> 0) + (key[6] << 16) + (key[7] << 8) + key[8];
}

// The first and the one-past-last keys of the event range, for iterators.
export const FIRST_EVENT_KEY = Buffer.from([EVENT_PREFIX, 0, 0, 0, 0, 0, 0, 0, 0]);
export const END_EVENT_KEY = Buffer.from([EVENT_PREFIX + 1]);

export function encodeValue(event: object): Buffer {
  return encodeMsgpack(event);
}

// A plain MessagePack value read back: a value that is not trusted yet (journal inspect of a
// damaged store), or a stored view's record (msgpack.ts wrote it).
export function decodeRaw(value: Uint8Array): unknown {
  return unpackr.unpack(value);
}

// Decodes one stored value into an event of the current schema, or throws JOURNAL_CORRUPT with
// the sequence number, so that one damaged value never hides which one it was. A type the schema
// does not hold (a server's event in a profile) is corrupt too.
export function decodeEvent<E extends EventBase = ParleyEvent>(seq: number, value: Uint8Array, schema: EventSchema = CLIENT_EVENTS): StoredOf<E> {
  let raw: unknown;
  try {
    raw = unpackr.unpack(value);
  } catch (err) {
    throw corruptEvent(seq, err);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw corruptEvent(seq, new Error('not a map'));
  const obj = raw as Record<string, unknown>;
  if (!isKnownIn(schema, obj.type)) throw corruptEvent(seq, new Error(`unknown type ${JSON.stringify(obj.type)} for ${schema.holder}`));
  if (typeof obj.at !== 'number') throw corruptEvent(seq, new Error('no time'));
  let event: Record<string, unknown>;
  try {
    event = upcastIn(schema, obj as Record<string, unknown> & { type: string; v: number });
  } catch (err) {
    throw corruptEvent(seq, err);
  }
  event.seq = seq;
  return event as StoredOf<E>;
}
