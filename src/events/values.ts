// An event's stored value, both ways: encoded (and sealed) when its batch is made, decoded (and
// opened) when it is read back. The bytes themselves are codec.ts's.

import type { ParleyError } from '../errors.js';
import { decodeEvent, encodeValue } from './codec.js';
import { encodeMsgpackReplacing } from './msgpack.js';
import type { EventBase, EventSchema, StoredOf } from './schema.js';
import type { ParleyEvent } from './types.js';

// What a profile does to the values it stores (src/node/sealer.ts seals message texts):
// `seal` names, for each event of a group in order, the one field stored in another form (`from`
// written as `to: value`), or null for an event stored as it is; it never changes the events.
// `open` undoes it on events read back, in place, and gives for each event null, or the error
// (a ParleyError, JOURNAL_CORRUPT) that left it unopened. Both take the group whole so that
// they may do their work once for many (keyring.ts: a cipher call per chat key, not per text).
export type Sealed = { from: string; to: string; value: unknown };
export type Sealer<E extends EventBase = ParleyEvent> = {
  seal: (events: StoredOf<E>[]) => Array<Sealed | null>;
  open: (events: StoredOf<E>[]) => Array<ParleyError | null>;
};

// The events' values, each sealed as the sealer says.
export function encodeStored<E extends EventBase>(events: StoredOf<E>[], sealer: Sealer<E> | null): Buffer[] {
  const sealed = sealer ? sealer.seal(events) : null;
  return events.map((event, i) => {
    const s = sealed ? sealed[i] : null;
    return s ? encodeMsgpackReplacing(event, s.from, s.to, s.value) : encodeValue(event);
  });
}

// Stored values read back as events, all of a batch at once (their texts opened in one call of
// the sealer): for each, the event, or the error (JOURNAL_CORRUPT) that makes it unreadable.
export function decodeValues<E extends EventBase>(
  seqs: ReadonlyArray<number>,
  values: ReadonlyArray<Uint8Array>,
  sealer: Sealer<E> | null,
  schema: EventSchema,
): Array<StoredOf<E> | ParleyError> {
  const out = new Array<StoredOf<E> | ParleyError>(values.length);
  const decoded: StoredOf<E>[] = [];
  const at: number[] = [];
  for (let i = 0; i < values.length; i++) {
    try {
      const event = decodeEvent<E>(seqs[i], values[i], schema);
      out[i] = event;
      decoded.push(event);
      at.push(i);
    } catch (err) {
      out[i] = err as ParleyError;
    }
  }
  if (sealer && decoded.length > 0) {
    const errors = sealer.open(decoded);
    for (let j = 0; j < at.length; j++) if (errors[j]) out[at[j]] = errors[j] as ParleyError;
  }
  return out;
}

export function isUnreadable<E extends EventBase>(result: StoredOf<E> | ParleyError): result is ParleyError {
  return result instanceof Error;
}
