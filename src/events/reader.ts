// Reading a journal's store: its events in order, decoded a batch at a time, and any keys or key
// range of it (the stored views' records).

import type { ParleyError } from '../errors.js';
import { END_EVENT_KEY, eventKey, FIRST_EVENT_KEY, seqOfKey } from './codec.js';
import { journalClosed } from './errors.js';
import type { Db, Range, Store } from './level.js';
import type { EventBase, EventSchema, StoredOf } from './schema.js';
import { decodeValues, isUnreadable, type Sealer } from './values.js';

export type ScanOptions = {
  since?: number; // first seq to read, inclusive
  // Called for a value that cannot be decoded; without it the scan throws JOURNAL_CORRUPT.
  onCorrupt?: (err: ParleyError, seq: number) => void;
};

const READ_BATCH = 1000;

// The reads of `store`, for journal.ts to hand out; they read whichever LevelDB the store holds
// when they start (purge.ts replaces it).
export function reader<E extends EventBase>(store: Store, sealer: Sealer<E> | null, schema: EventSchema) {
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
        const seqs = new Array<number>(entries.length);
        const values = new Array<Buffer>(entries.length);
        for (let i = 0; i < entries.length; i++) {
          seqs[i] = seqOfKey(entries[i][0]);
          values[i] = entries[i][1];
        }
        const results = decodeValues(seqs, values, sealer, schema);
        const events: StoredOf<E>[] = [];
        let failure: unknown = null;
        for (let i = 0; i < results.length; i++) {
          const result = results[i];
          if (!isUnreadable(result)) events.push(result);
          else if (options.onCorrupt) options.onCorrupt(result, seqs[i]);
          else {
            failure = result;
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

  // Values fetched by key (getMany) as events, all at once: for each, the event or why it is
  // unreadable.
  function decodeMany(seqs: ReadonlyArray<number>, values: ReadonlyArray<Buffer>): Array<StoredOf<E> | ParleyError> {
    return decodeValues(seqs, values, sealer, schema);
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

  return { scan, read, decodeMany, getMany, entries };
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
