// Reading a journal's store: its events in order, decoded a batch at a time, and any keys or key
// range of it (the stored views' records).

import type { ParleyError } from '../errors.js';
import { END_EVENT_KEY, eventKey, FIRST_EVENT_KEY, seqOfKey } from './codec.js';
import { journalClosed } from './errors.js';
import type { Db, Range, Store } from './level.js';
import type { EventBase, EventSchema, StoredOf } from './schema.js';
import { decodeEntry, type DecodeOptions, type Sealer } from './values.js';

export type ScanOptions = {
  since?: number; // first seq to read, inclusive
  // Called for a value that cannot be decoded; without it the scan throws JOURNAL_CORRUPT.
  onCorrupt?: (err: ParleyError, seq: number) => void;
};

const READ_BATCH = 1000;

// The reads of `store`, for journal.ts to hand out; they read whichever LevelDB the store holds
// when they start (purge.ts replaces it).
export function reader<E extends EventBase>(store: Store, sealer: Sealer<E> | null, schema: EventSchema) {
  const decodeOptions = (scan: ScanOptions): DecodeOptions<E> => ({ onCorrupt: scan.onCorrupt, sealer, schema });

  // The events from options.since on, decoded, READ_BATCH at a time: one await per batch, not
  // per event, so a replay of a million events costs a thousand turns of the loop.
  async function* batches(options: ScanOptions): AsyncGenerator<StoredOf<E>[]> {
    if (store.closed) throw journalClosed();
    const since = Math.max(1, options.since ?? 1);
    const it = store.db.iterator({ gte: eventKey(since), lt: END_EVENT_KEY });
    try {
      for (;;) {
        const entries = await it.nextv(READ_BATCH);
        if (entries.length === 0) break;
        const events: StoredOf<E>[] = [];
        let failure: unknown = null;
        for (const [key, value] of entries) {
          try {
            const event = decodeEntry(key, value, decodeOptions(options));
            if (event) events.push(event);
          } catch (err) {
            failure = err;
            break;
          }
        }
        // The events before an unreadable one are delivered before the error, as a stream would.
        if (events.length > 0) yield events;
        if (failure) throw failure;
      }
    } finally {
      await it.close();
    }
  }

  async function scan(onEvent: (event: StoredOf<E>) => void, options: ScanOptions = {}): Promise<void> {
    for await (const events of batches(options)) for (const event of events) onEvent(event);
  }

  async function* read(options: ScanOptions = {}): AsyncGenerator<StoredOf<E>> {
    for await (const events of batches(options)) yield* events;
  }

  function decode(seq: number, value: Buffer): StoredOf<E> {
    return decodeEntry(eventKey(seq), value, { sealer, schema }) as StoredOf<E>;
  }

  async function getMany(keys: Buffer[]): Promise<Array<Buffer | undefined>> {
    if (store.closed) throw journalClosed();
    if (keys.length === 0) return [];
    const values = await store.db.getMany(keys);
    return values.map((v) => v ?? undefined);
  }

  // The entries of a key range, READ_BATCH (or `limit`) at a time.
  async function* entries(range: Range): AsyncGenerator<Array<[Buffer, Buffer]>> {
    if (store.closed) throw journalClosed();
    const limit = range.limit !== undefined && range.limit > 0 ? range.limit : Infinity;
    const it = store.db.iterator({ gte: range.gte, lt: range.lt, reverse: range.reverse ?? false, limit: limit === Infinity ? -1 : limit });
    let read = 0;
    try {
      // Once `limit` entries are read, no more asking: a page is one trip to LevelDB's threads.
      while (read < limit) {
        const batch = await it.nextv(Math.min(READ_BATCH, limit - read));
        if (batch.length === 0) break;
        read += batch.length;
        yield batch as Array<[Buffer, Buffer]>;
      }
    } finally {
      // Not awaited: closing is another trip, and nothing waits on it (the store's close
      // closes what is still open first).
      it.close().catch(() => undefined);
    }
  }

  return { scan, read, decode, getMany, entries };
}

export async function findLastSeq(db: Db): Promise<number> {
  const it = db.keys({ gte: FIRST_EVENT_KEY, lt: END_EVENT_KEY, reverse: true, limit: 1 });
  try {
    const key = await it.next();
    return key ? seqOfKey(key) : 0;
  } finally {
    await it.close();
  }
}
