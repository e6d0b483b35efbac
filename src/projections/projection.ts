// A projection is a view of the journal: { name, version, initial(), apply(state, event) }.
// apply is deterministic (no clock, no randomness, no I/O), so replaying the journal from empty
// gives exactly the state the running client holds. For speed apply may change the state it is
// given and return it: the state belongs to the profile that runs the projection, nobody else.
//
// snapshot/restore turn the state into what a checkpoint stores and back (a projection that
// keeps a lookup index drops it in the snapshot and rebuilds it on restore). Bump `version`
// whenever apply's meaning changes: a checkpoint of another version is thrown away and the
// projection is rebuilt from the journal (ssb-db2 and flumeview-reduce do the same).

import type { EventBase, StoredOf } from '../events/schema.js';
import type { ParleyEvent, Stored } from '../events/types.js';

// ---- in memory ----

// A client profile's by default; the server's registry is one over the server's events.
export type Projection<S, E extends EventBase = ParleyEvent> = {
  name: string;
  version: number;
  initial: () => S;
  apply: (state: S, event: StoredOf<E>) => S;
  snapshot?: (state: S) => unknown;
  restore?: (data: unknown) => S;
};

// Keys of per-peer records. Peer ids are numbers; object keys are strings either way.
export type PeerMap<T> = Record<string, T>;

// ---- stored: views whose size grows with the history ----
//
// A stored view keeps its records in the profile's LevelDB under key prefixes of its own (one
// byte each), and they are written in the SAME batch as the events they derive from: a crash
// leaves both or neither, and the view's seq (meta 'view/NAME') always equals the journal's.
// apply is pure and synchronous like a projection's: no clock, no randomness, no I/O of its own.
// It sees the stored records through a transaction: the journal reads the keys that `reads`
// names for every event of a batch (one LevelDB getMany) before apply runs, and the records
// under `memoryPrefixes` are kept in memory (loaded at open), so `tx.get` never waits. Writes go
// into the batch; if the batch fails, nothing of them is kept, in memory or on disk.
//
// Reading a stored view (a page of a chat, one message) is the profile's job: it reads the
// records by key range, after the batch that wrote them, so a reader never sees a view half-way
// through an event. A view of another version, or missing (a profile an older Parley wrote), is
// rebuilt from the journal at open.
//
// A key given to the Tx is never changed afterwards: the batch writes that very Buffer, and the
// Tx may know a key it met just before by the Buffer alone (views.ts).
export type Tx = {
  get: (key: Buffer) => Buffer | undefined;
  put: (key: Buffer, value: Buffer) => void;
  del: (key: Buffer) => void;
  // A write of a key that no event reads (an entry keyed by its own event's seq): straight into
  // the batch, without the overlay's bookkeeping.
  add: (key: Buffer, value: Buffer) => void;
  // A record read and written decoded: decoded once per batch and encoded once at its end,
  // however many events of the batch change it (a chat's summary, changed by most events).
  record: <T>(key: Buffer, codec: Codec<T>) => T | undefined;
  putRecord: <T>(key: Buffer, value: T, codec: Codec<T>) => void;
};

export type Codec<T> = { encode: (value: T) => Buffer; decode: (bytes: Buffer) => T };

export type StoredView<Change> = {
  name: string;
  version: number;
  // Every key of the view starts with one of these bytes (never 'e' or 'm', the journal's own).
  prefixes: readonly number[];
  // Records kept in memory too, for views that read them on most events (chat summaries).
  memoryPrefixes?: readonly number[];
  // The records apply will read for this event (besides those in memory). `since`, when given:
  // the first seq of the events being derived, after every one this view has stored records
  // for; a record keyed by a seq at or after it cannot be in the store (no event of that seq was
  // derived before), so it need not be read: apply finds it through the Tx if an earlier event
  // of the same batch wrote it, and knows it missing otherwise.
  reads: (event: Stored, since?: number) => Buffer[];
  // The records apply will read that are found through others (an index): called once the
  // records of `reads` are fetched, `get` returning them (and those in memory); the keys it
  // names are fetched in a second read, made only when a view names any. A record written by an
  // earlier event of the same batch is not seen by `get`, but apply sees it through the Tx.
  readsThrough?: (event: Stored, get: (key: Buffer) => Buffer | undefined) => Buffer[];
  // Returns what changed, for subscribers, or null when the event changed nothing here.
  apply: (event: Stored, tx: Tx) => Change | null;
};
