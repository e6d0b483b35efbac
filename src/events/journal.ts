// The append-only journal of one profile, on LevelDB (classic-level).
//
// One LevelDB holds the events (prefix 'e', codec.ts) and small metadata such as projection
// checkpoints (prefix 'm'), so one lock guards the whole profile. Which events it holds is its
// schema's (a client profile's by default, CLIENT_EVENTS; the server's, server/events.ts).
//
// This module opens the store under its lock, keeps the metadata and closes; the rest is in
// its parts: appends and their batches in writer.ts (group commit, syncs, numbering), reads in
// reader.ts, purge and range clears in purge.ts, stored values and their sealing in values.ts,
// the LevelDB itself in level.ts.

import fs from 'node:fs';
import path from 'node:path';
import type { ClassicLevel } from 'classic-level';
import type { ParleyError } from '../errors.js';
import { journalClosed, openFailed, profileInUse } from './errors.js';
import { flushBeforeClose, levelAt, type Db, type Range, type Store } from './level.js';
import { clearRange, compactRange, purgeStore } from './purge.js';
import { findLastSeq, reader, type ScanOptions } from './reader.js';
import { recoverRewrite } from './rewrite.js';
import type { EventBase, EventSchema, NewOf, StoredOf } from './schema.js';
import { CLIENT_EVENTS, type ParleyEvent } from './types.js';
import type { Sealer } from './values.js';
import { batchWriter, type Derive, type Listener, type Op, type Picked } from './writer.js';

// The journal's types, importable from here by the code that uses a journal.
export type { Range } from './level.js';
export type { ScanOptions } from './reader.js';
export type { Sealed, Sealer } from './values.js';
export type { Derive, Derived, Op, Picked } from './writer.js';

export type JournalOptions<E extends EventBase = ParleyEvent> = {
  // For tests that watch or fail the store's writes: makes the store's LevelDB (not the lock's).
  level?: (dir: string) => ClassicLevel<Buffer, Buffer>;
  sealer?: Sealer<E>;
  // The events this journal holds; a client profile's unless given.
  schema?: EventSchema;
};

export type Journal<E extends EventBase = ParleyEvent> = {
  dir: string;
  lastSeq: () => number;
  append: (event: NewOf<E>) => Promise<StoredOf<E>>;
  // `lazy`: the caller repairs a crash that loses these events (a message marked sent and its
  // spend: lost together, the message is sent again), so their batch need not be synced for them.
  appendMany: (events: NewOf<E>[], options?: { lazy?: boolean }) => Promise<StoredOf<E>[]>;
  appendRemoving: (event: NewOf<E> & { removed: number }, pick: (seq: number) => Promise<Picked>) => Promise<StoredOf<E>>;
  scan: (onEvent: (event: StoredOf<E>) => void, options?: ScanOptions) => Promise<void>;
  read: (options?: ScanOptions) => AsyncGenerator<StoredOf<E>>;
  // `change` is what the stored views made of the event (Derived.changes), when they are set.
  subscribe: (listener: (event: StoredOf<E>, change?: unknown) => void) => () => void;
  // The stored views: set once, before the first append; every batch from then on goes
  // through `derive` before it is written, and its writes go in the same batch.
  setDerive: (derive: Derive<E>) => void;
  // Stored values as events (their texts opened by the sealer, all at once), for readers that
  // fetch events by key: for each, the event, or the error that makes it unreadable.
  decodeMany: (seqs: ReadonlyArray<number>, values: ReadonlyArray<Buffer>) => Array<StoredOf<E> | ParleyError>;
  // Resolves once no synced batch is queued or being written (at once when none is). Work that
  // would compete with the journal's syncs for the disk waits for it: a download's writes, which
  // on ext4 a sync has to wait for (receiving.ts).
  synced: () => Promise<void>;
  // Reads of any key of the store (stored views' records), after every batch written so far.
  getMany: (keys: Buffer[]) => Promise<Array<Buffer | undefined>>;
  entries: (range: Range) => AsyncGenerator<Array<[Buffer, Buffer]>>;
  // Deletes every key of a range inside LevelDB, no key crossing into JavaScript; not atomic,
  // and not in turn with appends: for a history clear's pick (appendRemoving), while nothing
  // else is written, and a stored view dropped before its rebuild (views.ts).
  clearRange: (range: Range) => Promise<void>;
  // Compacts a range inside LevelDB (purge.ts): after a clearRange of many keys, so that a read
  // seeking into the range does not step over each deleted key (a clear's records: clearing.ts).
  compactRange: (range: Range) => Promise<void>;
  // Writes records alone (a rebuild of a stored view), in turn with appends.
  writeOps: (ops: Op[]) => Promise<void>;
  getMeta: (name: string) => Promise<Buffer | undefined>;
  putMeta: (entries: Array<{ name: string; value: Buffer }>, sync?: boolean) => Promise<void>;
  purge: () => Promise<void>;
  close: () => Promise<void>;
};

const META_PREFIX = 'm';

// The key of a meta entry: 'm' + name. => 6d 76 69 65 77 2f ... for 'view/messages'
export function metaKey(name: string): Buffer {
  return Buffer.from(META_PREFIX + name, 'utf8');
}

function isLocked(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  return e?.code === 'LEVEL_LOCKED' || e?.cause?.code === 'LEVEL_LOCKED';
}

// `owner` names what holds this journal in messages: the profile directory for a client,
// the data directory for a server.
export async function openJournal<E extends EventBase = ParleyEvent>(dir: string, owner: string = dir, options: JournalOptions<E> = {}): Promise<Journal<E>> {
  const storeAt = options.level ?? levelAt;
  const sealer = options.sealer ?? null;
  const schema = options.schema ?? CLIENT_EVENTS;
  // The lock: a tiny LevelDB of its own beside the journal, held from open to close. The
  // journal's store itself is closed and reopened by purge(); this one never is, so no other
  // process can slip in while the store is rewritten. LevelDB's lock works the same on
  // Windows, macOS and Linux, which a lock file made by hand in Node would not.
  fs.mkdirSync(path.dirname(path.resolve(dir)), { recursive: true });
  const lock = levelAt(dir + '.lock');
  try {
    await lock.open();
  } catch (err) {
    if (isLocked(err)) throw profileInUse(owner, err);
    throw openFailed(dir, err);
  }
  let db: Db;
  try {
    await recoverRewrite(dir);
    db = storeAt(dir);
    await db.open();
  } catch (err) {
    await lock.close();
    if (isLocked(err)) throw profileInUse(owner, err);
    throw openFailed(dir, err);
  }

  const store: Store = { db, closed: false };
  const listeners = new Set<Listener<E>>();
  const writer = batchWriter<E>({ store, schema, sealer, lastSeq: await findLastSeq(db), listeners });
  const reads = reader<E>(store, sealer, schema);

  function subscribe(listener: Listener<E>): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  async function getMeta(name: string): Promise<Buffer | undefined> {
    const value = await store.db.get(metaKey(name));
    return value ?? undefined;
  }

  async function putMeta(entries: Array<{ name: string; value: Buffer }>, sync = false): Promise<void> {
    if (store.closed) throw journalClosed();
    await store.db.batch(
      entries.map((e) => ({ type: 'put' as const, key: metaKey(e.name), value: e.value })),
      { sync },
    );
  }

  async function close(): Promise<void> {
    if (store.closed) return;
    await writer.drain();
    store.closed = true;
    listeners.clear();
    try {
      // Best effort: a store that cannot write now still closes, and replays its log at the next open.
      await flushBeforeClose(store.db, dir).catch(() => undefined);
      await store.db.close();
    } finally {
      await lock.close();
    }
  }

  return {
    dir,
    lastSeq: writer.lastSeq,
    append: writer.append,
    appendMany: writer.appendMany,
    appendRemoving: writer.appendRemoving,
    scan: reads.scan,
    read: reads.read,
    subscribe,
    setDerive: writer.setDerive,
    decodeMany: reads.decodeMany,
    synced: writer.synced,
    getMany: reads.getMany,
    entries: reads.entries,
    clearRange: (range) => clearRange(store, range),
    compactRange: (range) => compactRange(store, range),
    writeOps: writer.writeOps,
    getMeta,
    putMeta,
    purge: () => purgeStore({ dir, store, storeAt, lock }, writer.hold),
    close,
  };
}

// For tools that look at a value without trusting it (journal inspect of a damaged store).
export { decodeRaw } from './codec.js';
