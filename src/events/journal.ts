// The append-only journal of one profile, on LevelDB (classic-level).
//
// Appends are group-committed: every append made in one tick of the event loop goes into one
// LevelDB batch, written when the loop turns. A batch holding an event a person would miss
// (its schema's notDurable, schema.ts) is synced to disk before its appends resolve; so a caller that awaits
// append before acknowledging anything to a peer never acknowledges what a crash could lose.
// Sequence numbers are assigned at append, in call order, with no gap: a batch that fails is
// rejected whole, with every append queued after it, and numbering resumes after the last
// batch that was stored.
//
// One LevelDB holds the events (prefix 'e', codec.ts) and small metadata such as projection
// checkpoints (prefix 'm'), so one lock guards the whole profile. Which events it holds is its
// schema's (a client profile's by default, CLIENT_EVENTS; the server's, server/events.ts).

import fs from 'node:fs';
import path from 'node:path';
import { ClassicLevel } from 'classic-level';
import { decodeEvent, encodeValue, END_EVENT_KEY, eventKey, FIRST_EVENT_KEY, seqOfKey, decodeRaw } from './codec.js';
import { badEvent, journalClosed, openFailed, profileInUse, writeFailed } from './errors.js';
import { isDurableIn, isKnownIn, type EventBase, type EventSchema, type NewOf, type StoredOf } from './schema.js';
import { CLIENT_EVENTS, type ParleyEvent } from './types.js';
import type { ParleyError } from '../errors.js';
import { encodeMsgpackReplacing } from './msgpack.js';
import { recoverRewrite, rewriteStore } from './rewrite.js';

type Db = ClassicLevel<Buffer, Buffer>;

// Every LevelDB here (the store, its lock, a rewrite's copy) holds raw bytes both ways; made, not yet opened.
//
// At most 64 table files open (LevelDB's default is 1,000): LevelDB maps each open table file into
// memory, and every page a read touches then counts in the process's RSS; a profile of
// 10,000,000 messages holds over a thousand 2 MiB tables, and a client reading pages of old chats
// would map most of them. 64 keeps that bounded (~128 MiB of mappings at most, only touched pages
// resident) for a few more table opens on reads far back in the history (docs/BENCHMARKS.md).
const MAX_OPEN_FILES = 64;

export function levelAt(dir: string): Db {
  return new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer', maxOpenFiles: MAX_OPEN_FILES });
}

// A group of appends made by one call: their events and encoded values, and (history clear
// only) the seqs to delete in the same batch. Keys are made at write time from the seqs.
type Group<E extends EventBase> = {
  events: StoredOf<E>[];
  values: Buffer[];
  removes: number[];
  // Other keys written or deleted with the group (a stored view's records: rebuild, clear).
  ops: Op[];
  dels: Buffer[];
  // Work that must see every earlier group stored and nothing later (appendRemoving): it runs
  // when the group's turn comes, alone in its batch, and fills `values` and `removes`.
  prepare?: () => Promise<void>;
  durable: boolean;
  resolve: (events: StoredOf<E>[]) => void;
  reject: (err: Error) => void;
};

export type ScanOptions = {
  since?: number; // first seq to read, inclusive
  // Called for a value that cannot be decoded; without it the scan throws JOURNAL_CORRUPT.
  onCorrupt?: (err: ParleyError, seq: number) => void;
};

// A write of a stored view's record: value null deletes the key.
export type Op = { key: Buffer; value: Buffer | null };

// What the stored views make of a batch of events (src/node/views.ts): their writes, what each
// event changed (for subscribers, in the order of `events`), and `commit`, called once the batch
// is stored, so that what they keep in memory changes only with the disk.
export type Derived = { ops: Op[]; changes: unknown[]; commit: () => void };
export type Derive<E extends EventBase = ParleyEvent> = (events: StoredOf<E>[]) => Promise<Derived | null>;

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

export type JournalOptions<E extends EventBase = ParleyEvent> = {
  // For tests that watch or fail the store's writes: makes the store's LevelDB (not the lock's).
  level?: (dir: string) => ClassicLevel<Buffer, Buffer>;
  sealer?: Sealer<E>;
  // The events this journal holds; a client profile's unless given.
  schema?: EventSchema;
};

export type Range = { gte: Buffer; lt: Buffer; reverse?: boolean; limit?: number };

// What a removal takes with it: events by seq (a clear of a long chat: hundreds of thousands), and
// other keys to delete in the same batch.
export type Picked = { removes: number[]; dels: Buffer[] };

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
  // One stored value as an event (opened by the sealer): for readers that fetch events by key.
  decode: (seq: number, value: Buffer) => StoredOf<E>;
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
  // Writes records alone (a rebuild of a stored view), in turn with appends.
  writeOps: (ops: Op[]) => Promise<void>;
  getMeta: (name: string) => Promise<Buffer | undefined>;
  putMeta: (entries: Array<{ name: string; value: Buffer }>, sync?: boolean) => Promise<void>;
  purge: () => Promise<void>;
  close: () => Promise<void>;
};

const META_PREFIX = 'm';
const MAX_BATCH_EVENTS = 8192;
const READ_BATCH = 1000;

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
  // The events' values, each sealed as the sealer says.
  const encodeStored = (events: StoredOf<E>[]): Buffer[] => {
    const sealed = sealer ? sealer.seal(events) : null;
    return events.map((event, i) => {
      const s = sealed ? sealed[i] : null;
      return s ? encodeMsgpackReplacing(event, s.from, s.to, s.value) : encodeValue(event);
    });
  };
  const decodeOptions = (scan: ScanOptions): DecodeOptions<E> => ({ onCorrupt: scan.onCorrupt, sealer, schema });
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

  let committed = await findLastSeq(db);
  let nextSeq = committed + 1;
  let closed = false;
  let writing: Promise<void> | null = null;
  let writingSync = false;
  let syncWaiters: Array<() => void> = [];
  let scheduled = false;
  let rewriting = false;
  let queue: Group<E>[] = [];
  const listeners = new Set<(event: StoredOf<E>, change?: unknown) => void>();
  let derive: Derive<E> | null = null;

  // The journal takes the event object as it is and completes it (at, v, then seq) rather than
  // copying it: a copy per event cost more than the encoding (measured in bench/journal).
  // Every event of one batch gets the same time: they happened together, and a reader that
  // groups by time (or a test) must not see a batch split across a millisecond boundary.
  function stamp(input: NewOf<E>, now: number): StoredOf<E> {
    const event = input as Record<string, unknown>;
    const type = event.type;
    if (!isKnownIn(schema, type)) throw badEvent(`cannot append an event of unknown type ${JSON.stringify(type)} to ${schema.holder}`);
    if (event.seq !== undefined) throw badEvent(`event ${type} already has a seq: it was appended before`);
    if (event.at === undefined) event.at = now;
    if (!Number.isSafeInteger(event.at)) throw badEvent(`event ${type} has a time that is not a whole number of ms`);
    event.v = schema.versions[type as string];
    return event as StoredOf<E>;
  }

  function enqueue(inputs: NewOf<E>[], lazy = false): Promise<StoredOf<E>[]> {
    if (closed) return Promise.reject(journalClosed());
    // Stamp and encode before numbering: an event that cannot be encoded takes no number.
    const n = inputs.length;
    const events = new Array<StoredOf<E>>(n);
    let durable = false;
    const now = Date.now();
    for (let i = 0; i < n; i++) {
      const event = stamp(inputs[i], now);
      events[i] = event;
      if (!durable && !lazy && isDurableIn(schema, event.type)) durable = true;
    }
    const values = encodeStored(events);
    for (let i = 0; i < n; i++) events[i].seq = nextSeq++;
    return new Promise<StoredOf<E>[]>((resolve, reject) => {
      queue.push({ events, values, removes: [], ops: [], dels: [], durable, resolve, reject });
      schedule();
    });
  }

  // Whether a synced batch is queued or being written, and who waits for none to be (synced).
  function syncPending(): boolean {
    return writingSync || queue.some((g) => g.durable);
  }

  function synced(): Promise<void> {
    if (!syncPending()) return Promise.resolve();
    return new Promise<void>((resolve) => syncWaiters.push(resolve));
  }

  function wakeSyncWaiters(): void {
    if (syncWaiters.length === 0 || syncPending()) return;
    const waiters = syncWaiters;
    syncWaiters = [];
    for (const wake of waiters) wake();
  }

  function schedule(): void {
    if (scheduled || writing) return;
    scheduled = true;
    setImmediate(flush);
  }

  function flush(): void {
    scheduled = false;
    if (writing || rewriting || queue.length === 0) return;
    // Take whole groups up to the batch limit. A group with work to prepare goes alone, after
    // every group before it is stored.
    const groups: Group<E>[] = [];
    let count = 0;
    while (queue.length > 0 && (groups.length === 0 || (count + queue[0].events.length <= MAX_BATCH_EVENTS && !queue[0].prepare))) {
      const g = queue.shift() as Group<E>;
      groups.push(g);
      count += g.events.length;
      if (g.prepare) break;
    }
    const sync = groups.some((g) => g.durable);
    writingSync = sync;
    const prepare = groups[0].prepare;
    // A chained batch, not db.batch(array, options): abstract-level copies the options into
    // every operation of an array batch, and with `sync` among them a batch of 1,000 cost five
    // times as much (measured here). The chained batch goes straight to LevelDB's WriteBatch.
    let derived: Derived | null = null;
    const write = async (): Promise<void> => {
      if (derive) {
        const events = groups.length === 1 ? groups[0].events : groups.flatMap((g) => g.events);
        if (events.length > 0) derived = await derive(events);
      }
      const batch = writeBatch(db);
      for (const g of groups) {
        for (const seq of g.removes) batch.del(eventKey(seq));
        for (const key of g.dels) batch.del(key);
        writeOpsTo(batch, g.ops);
        for (let i = 0; i < g.events.length; i++) batch.put(eventKey(g.events[i].seq), g.values[i]);
      }
      if (derived) writeOpsTo(batch, (derived as Derived).ops);
      return batch.write(sync);
    };
    writing = (prepare ? prepare().then(write) : write()).then(
      () => {
        writing = null;
        writingSync = false;
        const d = derived as Derived | null;
        if (d) d.commit();
        for (const g of groups) {
          committed = g.events.length > 0 ? (g.events[g.events.length - 1].seq as number) : committed;
          g.resolve(g.events);
        }
        notify(groups, d ? d.changes : null);
        if (queue.length > 0) schedule();
        wakeSyncWaiters();
      },
      (err: unknown) => {
        writing = null;
        writingSync = false;
        // Nothing of this batch is stored. The appends queued after it hold numbers that
        // follow it, so they fail too and numbering resumes after the last stored event.
        const failure = writeFailed(err);
        const dropped = groups.concat(queue);
        queue = [];
        nextSeq = committed + 1;
        for (const g of dropped) g.reject(failure);
        wakeSyncWaiters();
      },
    );
  }

  function notify(groups: Group<E>[], changes: unknown[] | null): void {
    if (listeners.size === 0) return;
    let i = 0;
    for (const g of groups) {
      for (const event of g.events) {
        const change = changes ? changes[i] : undefined;
        i++;
        for (const listener of listeners) {
          try {
            listener(event, change);
          } catch (err) {
            process.stderr.write(`parley: a journal subscriber failed: ${(err as Error).message}\n`);
          }
        }
      }
    }
  }

  async function append(event: NewOf<E>): Promise<StoredOf<E>> {
    const [stored] = await enqueue([event]);
    return stored;
  }

  function appendMany(events: NewOf<E>[], options: { lazy?: boolean } = {}): Promise<StoredOf<E>[]> {
    if (events.length === 0) return Promise.resolve([]);
    return enqueue(events, options.lazy === true);
  }

  // Appends one event and deletes the earlier events (and other keys) that `pick` names, in one
  // atomic batch: a crash leaves either both or neither. `pick` runs when the event's turn to be
  // written comes, after every event before it is stored (and derived), while nothing else is
  // written; so an event appended while a clear is under way is either before it and removed,
  // or after it and kept, never missed. `removed` is set to the number of events removed. Used
  // by history clear, whose pick reads the chat's records in the stored view.
  function appendRemoving(event: NewOf<E> & { removed: number }, pick: (seq: number) => Promise<Picked>): Promise<StoredOf<E>> {
    if (closed) return Promise.reject(journalClosed());
    const stored = stamp(event, Date.now());
    encodeStored([stored]); // refuse what cannot be encoded before it takes a number
    stored.seq = nextSeq++;
    const group: Group<E> = { events: [stored], values: [], removes: [], ops: [], dels: [], durable: true, resolve: () => undefined, reject: () => undefined };
    group.prepare = async () => {
      const picked = await pick(stored.seq);
      const removes = picked.removes.filter((seq) => seq < stored.seq);
      (stored as unknown as { removed: number }).removed = removes.length;
      group.removes = removes;
      group.dels = picked.dels;
      group.values.push(encodeStored([stored])[0]);
    };
    return new Promise<StoredOf<E>>((resolve, reject) => {
      group.resolve = (events) => resolve(events[0]);
      group.reject = reject;
      queue.push(group);
      schedule();
    });
  }

  // The events from options.since on, decoded, READ_BATCH at a time: one await per batch, not
  // per event, so a replay of a million events costs a thousand turns of the loop.
  async function* batches(options: ScanOptions): AsyncGenerator<StoredOf<E>[]> {
    if (closed) throw journalClosed();
    const since = Math.max(1, options.since ?? 1);
    const it = db.iterator({ gte: eventKey(since), lt: END_EVENT_KEY });
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

  function subscribe(listener: (event: StoredOf<E>, change?: unknown) => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  function setDerive(fn: Derive<E>): void {
    derive = fn;
  }

  async function getMany(keys: Buffer[]): Promise<Array<Buffer | undefined>> {
    if (closed) throw journalClosed();
    if (keys.length === 0) return [];
    const values = await db.getMany(keys);
    return values.map((v) => v ?? undefined);
  }

  // The entries of a key range, READ_BATCH (or `limit`) at a time.
  async function* entries(range: Range): AsyncGenerator<Array<[Buffer, Buffer]>> {
    if (closed) throw journalClosed();
    const limit = range.limit !== undefined && range.limit > 0 ? range.limit : Infinity;
    const it = db.iterator({ gte: range.gte, lt: range.lt, reverse: range.reverse ?? false, limit: limit === Infinity ? -1 : limit });
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

  async function clearRange(range: Range): Promise<void> {
    if (closed) throw journalClosed();
    await db.clear({ gte: range.gte, lt: range.lt });
  }

  function writeOps(ops: Op[]): Promise<void> {
    if (closed) return Promise.reject(journalClosed());
    return new Promise<void>((resolve, reject) => {
      queue.push({ events: [], values: [], removes: [], ops, dels: [], durable: false, resolve: () => resolve(), reject });
      schedule();
    });
  }

  async function getMeta(name: string): Promise<Buffer | undefined> {
    const value = await db.get(metaKey(name));
    return value ?? undefined;
  }

  async function putMeta(entries: Array<{ name: string; value: Buffer }>, sync = false): Promise<void> {
    if (closed) throw journalClosed();
    await db.batch(
      entries.map((e) => ({ type: 'put' as const, key: metaKey(e.name), value: e.value })),
      { sync },
    );
  }

  // Rewrites the store into fresh files that hold only the live entries, so that deleted and
  // overwritten values are gone from the disk, not only hidden (history clear). LevelDB's own
  // compactRange is not enough: it never rewrites the deepest level that holds files, and a
  // memtable flushed there keeps every old version of a key (seen here). Appends made during
  // the rewrite wait in the queue and are written after it.
  async function purge(): Promise<void> {
    if (closed) throw journalClosed();
    await drain();
    rewriting = true;
    try {
      await db.close();
      let failure: unknown = null;
      try {
        await rewriteStore(dir);
      } catch (err) {
        // The swap is the last step: until then the original store is whole. Open it again and
        // say why the rewrite failed (a full disk, most likely); the journal goes on.
        failure = err;
        await recoverRewrite(dir);
      }
      db = storeAt(dir);
      try {
        await db.open();
      } catch (err) {
        closed = true;
        await lock.close();
        throw openFailed(dir, err);
      }
      if (failure) throw writeFailed(failure);
    } finally {
      rewriting = false;
      if (queue.length > 0) schedule();
    }
  }

  async function drain(): Promise<void> {
    while (writing || queue.length > 0 || scheduled) {
      if (writing) {
        await writing.catch(() => undefined);
      } else {
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }

  async function close(): Promise<void> {
    if (closed) return;
    await drain();
    closed = true;
    listeners.clear();
    try {
      await db.close();
    } finally {
      await lock.close();
    }
  }

  return {
    dir,
    lastSeq: () => committed,
    append,
    appendMany,
    appendRemoving,
    scan,
    read,
    subscribe,
    setDerive,
    decode: (seq, value) => decodeEntry(eventKey(seq), value, { sealer, schema }) as StoredOf<E>,
    synced,
    getMany,
    entries,
    clearRange,
    writeOps,
    getMeta,
    putMeta,
    purge,
    close,
  };
}

type DecodeOptions<E extends EventBase> = { onCorrupt?: ScanOptions['onCorrupt']; sealer: Sealer<E> | null; schema: EventSchema };

// One batch of puts and deletes of Buffers, written at once.
type WriteBatch = { put: (key: Buffer, value: Buffer) => void; del: (key: Buffer) => void; write: (sync: boolean) => Promise<void> };

// What every operation of a batch would carry through abstract-level; classic-level reads none of it.
const BUFFER_OPTIONS = Object.freeze({ keyEncoding: 'buffer', valueEncoding: 'buffer' });

// A chained batch of `db` whose operations go straight to LevelDB's WriteBatch, through
// classic-level's _put and _del (abstract-level's interface for implementations, in its README).
// abstract-level's public put checks the key and value, runs prewrite hooks, encodes both with
// the store's encodings and makes an operation object, for every put; this store holds Buffers
// both ways (the 'buffer' encoding returns a Buffer as it is), with no hook, no 'write' listener
// and no sublevel, so all that changed nothing and cost ~4% of an append's CPU, with its garbage
// (profiled under bench/history). Keys and values here are always Buffers the journal made.
// The first operation still goes through the public put or del: abstract-level counts them
// there, and writes a batch only if the count is not 0. A store with a hook or a write listener
// (never this journal's) gets the public path throughout.
function writeBatch(db: Db): WriteBatch {
  const chained = db.batch() as ReturnType<Db['batch']> & {
    _put: (key: Buffer, value: Buffer, options: object) => void;
    _del: (key: Buffer, options: object) => void;
  };
  // `noop` is how abstract-level itself tells that no prewrite hook is set (lib/hooks.js; not in
  // its types): a version without it gets the public path.
  const noHook = (db.hooks.prewrite as unknown as { noop?: boolean }).noop === true;
  const direct = noHook && db.listenerCount('write') === 0;
  let counted = false;
  return {
    put(key, value) {
      if (direct && counted) chained._put(key, value, BUFFER_OPTIONS);
      else chained.put(key, value);
      counted = true;
    },
    del(key) {
      if (direct && counted) chained._del(key, BUFFER_OPTIONS);
      else chained.del(key);
      counted = true;
    },
    write: (sync) => chained.write({ sync }),
  };
}

function writeOpsTo(batch: WriteBatch, ops: readonly Op[]): void {
  for (const op of ops) {
    if (op.value === null) batch.del(op.key);
    else batch.put(op.key, op.value);
  }
}

function decodeEntry<E extends EventBase>(key: Buffer, value: Buffer, options: DecodeOptions<E>): StoredOf<E> | null {
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

async function findLastSeq(db: Db): Promise<number> {
  const it = db.keys({ gte: FIRST_EVENT_KEY, lt: END_EVENT_KEY, reverse: true, limit: 1 });
  try {
    const key = await it.next();
    return key ? seqOfKey(key) : 0;
  } finally {
    await it.close();
  }
}

// For tools that look at a value without trusting it (journal inspect of a damaged store).
export { decodeRaw };
