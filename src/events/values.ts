// An event's stored value, both ways: encoded (and sealed) when its batch is made, decoded (and
// opened) when it is read back. The bytes themselves are codec.ts's.

import type { ParleyError } from '../errors.js';
import { decodeEvent, encodeValue, seqOfKey } from './codec.js';
import { encodeMsgpackReplacing } from './msgpack.js';
import type { EventBase, EventSchema, StoredOf } from './schema.js';
import type { ParleyEvent } from './types.js';

// What a profile does to the values it stores (src/node/keyring.ts seals message texts):
// `seal` names, for each event of a group in order, the one field stored in another form (`from`
// written as `to: value`), or null for an event stored as it is; it never changes the events.
// It takes the group whole so that it may do its work once for many (keyring.ts: a cipher call
// per chat, not per text). `open` undoes it on an event read back, in place, and throws (a
// ParleyError, JOURNAL_CORRUPT) when it cannot.
export type Sealed = { from: string; to: string; value: unknown };
export type Sealer<E extends EventBase = ParleyEvent> = {
  seal: (events: StoredOf<E>[]) => Array<Sealed | null>;
  open: (event: StoredOf<E>) => void;
};

// The events' values, each sealed as the sealer says.
export function encodeStored<E extends EventBase>(events: StoredOf<E>[], sealer: Sealer<E> | null): Buffer[] {
  const sealed = sealer ? sealer.seal(events) : null;
  return events.map((event, i) => {
    const s = sealed ? sealed[i] : null;
    return s ? encodeMsgpackReplacing(event, s.from, s.to, s.value) : encodeValue(event);
  });
}

// `onCorrupt` as in ScanOptions (reader.ts).
export type DecodeOptions<E extends EventBase> = { onCorrupt?: (err: ParleyError, seq: number) => void; sealer: Sealer<E> | null; schema: EventSchema };

export function decodeEntry<E extends EventBase>(key: Buffer, value: Buffer, options: DecodeOptions<E>): StoredOf<E> | null {
  const seq = seqOfKey(key);
  try {
    const event = decodeEvent<E>(seq, value, options.schema);
    if (options.sealer) options.sealer.open(event);
    return event;
  } catch (err) {
    if (!options.onCorrupt) throw err;
    options.onCorrupt(err as ParleyError, seq);
    return null;
  }
}
