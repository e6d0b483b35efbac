// The journal's batch writer.
//
// Appends are group-committed: every append made in one tick of the event loop goes into one
// LevelDB batch, written when the loop turns. A batch holding an event a person would miss
// (its schema's notDurable, schema.ts) is synced to disk before its appends resolve; so a caller that awaits
// append before acknowledging anything to a peer never acknowledges what a crash could lose.
// Sequence numbers are assigned at append, in call order, with no gap: a batch that fails is
// rejected whole, with every append queued after it, and numbering resumes after the last
// batch that was stored.

import { eventKey } from './codec.js';
import { badEvent, journalClosed, writeFailed } from './errors.js';
import { writeBatch, type Store, type WriteBatch } from './level.js';
import { isDurableIn, isKnownIn, type EventBase, type EventSchema, type NewOf, type StoredOf } from './schema.js';
import type { ParleyEvent } from './types.js';
import { encodeStored, type Sealer } from './values.js';

// A write of a stored view's record: value null deletes the key.
export type Op = { key: Buffer; value: Buffer | null };

// What the stored views make of a batch of events (src/node/views.ts): their writes, what each
// event changed (for subscribers, in the order of `events`), and `commit`, called once the batch
// is stored, so that what they keep in memory changes only with the disk.
export type Derived = { ops: Op[]; changes: unknown[]; commit: () => void };
export type Derive<E extends EventBase = ParleyEvent> = (events: StoredOf<E>[]) => Promise<Derived | null>;

// What a removal takes with it: events by seq (a clear of a long chat: hundreds of thousands), and
// other keys to delete in the same batch.
export type Picked = { removes: number[]; dels: Buffer[] };

// A subscriber: `change` is what the stored views made of the event (Derived.changes).
export type Listener<E extends EventBase> = (event: StoredOf<E>, change?: unknown) => void;

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

const MAX_BATCH_EVENTS = 8192;

// `lastSeq`: the last seq stored when the journal opened. `listeners` is the journal's set of
// subscribers, told of every event once its batch is stored.
export type WriterOptions<E extends EventBase> = {
  store: Store;
  schema: EventSchema;
  sealer: Sealer<E> | null;
  lastSeq: number;
  listeners: ReadonlySet<Listener<E>>;
};

export function batchWriter<E extends EventBase>(options: WriterOptions<E>) {
  const { store, schema, sealer, listeners } = options;
  let committed = options.lastSeq;
  let nextSeq = committed + 1;
  let writing: Promise<void> | null = null;
  let writingSync = false;
  let syncWaiters: Array<() => void> = [];
  let scheduled = false;
  let held = false;
  let queue: Group<E>[] = [];
  let derive: Derive<E> | null = null;

  // The journal takes the event object as it is and completes it (at, v, then seq) rather than
  // copying it: a copy per event cost more than the encoding (measured in bench/journal).
  // Every event of one append call (appendMany's list) gets the same time: they happened
  // together, and a reader that groups by time (or a test) must not see them split across a
  // millisecond boundary.
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
    if (store.closed) return Promise.reject(journalClosed());
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
    const values = encodeStored(events, sealer);
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
    if (writing || held || queue.length === 0) return;
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
      const batch = writeBatch(store.db);
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
    if (store.closed) return Promise.reject(journalClosed());
    const stored = stamp(event, Date.now());
    encodeStored([stored], sealer); // refuse what cannot be encoded before it takes a number
    stored.seq = nextSeq++;
    const group: Group<E> = { events: [stored], values: [], removes: [], ops: [], dels: [], durable: true, resolve: () => undefined, reject: () => undefined };
    group.prepare = async () => {
      const picked = await pick(stored.seq);
      const removes = picked.removes.filter((seq) => seq < stored.seq);
      (stored as unknown as { removed: number }).removed = removes.length;
      group.removes = removes;
      group.dels = picked.dels;
      group.values.push(encodeStored([stored], sealer)[0]);
    };
    return new Promise<StoredOf<E>>((resolve, reject) => {
      group.resolve = (events) => resolve(events[0]);
      group.reject = reject;
      queue.push(group);
      schedule();
    });
  }

  function writeOps(ops: Op[]): Promise<void> {
    if (store.closed) return Promise.reject(journalClosed());
    return new Promise<void>((resolve, reject) => {
      queue.push({ events: [], values: [], removes: [], ops, dels: [], durable: false, resolve: () => resolve(), reject });
      schedule();
    });
  }

  function setDerive(fn: Derive<E>): void {
    derive = fn;
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

  // Runs `work` while no batch is written: after every batch queued before it is stored, and
  // holding back the batches queued meanwhile until it ends (a purge rewrites the store under
  // them, purge.ts).
  async function hold(work: () => Promise<void>): Promise<void> {
    await drain();
    held = true;
    try {
      await work();
    } finally {
      held = false;
      if (queue.length > 0) schedule();
    }
  }

  return { lastSeq: () => committed, append, appendMany, appendRemoving, writeOps, setDerive, synced, drain, hold };
}

function writeOpsTo(batch: WriteBatch, ops: readonly Op[]): void {
  for (const op of ops) {
    if (op.value === null) batch.del(op.key);
    else batch.put(op.key, op.value);
  }
}
