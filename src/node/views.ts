// The stored views of a profile (projection.ts, StoredView): how their records are read before a
// batch, written with it, kept in memory where asked, and rebuilt from the journal when they are
// missing or of another version.
//
// Each view keeps its version and the seq it reflects in the meta key 'view/NAME', written in
// every batch that carries its records. Since records and events share the batch, that seq is
// the journal's own after any crash; it lags only when the view is new or was dropped (a profile
// an older Parley wrote, a changed version, `journal rebuild`), and then the open catches it up.
import { metaKey, type Derived, type Journal, type Op } from '../events/journal.js';
import { prefixRange } from '../projections/keys.js';
import type { Stored } from '../events/types.js';
import type { Codec, StoredView, Tx } from '../projections/projection.js';

export type ViewsProgress = (view: string, seq: number, lastSeq: number) => void;

export type StoredViews = {
  // What the journal calls for every batch (journal.setDerive).
  derive: (events: Stored[]) => Promise<Derived | null>;
  // Checks versions and seqs, loads the records kept in memory, rebuilds or catches up.
  open: (onProgress?: ViewsProgress) => Promise<void>;
  // Drops every view's records and rebuilds them from the journal.
  rebuild: (onProgress?: ViewsProgress) => Promise<void>;
  // The records kept in memory under `prefix`, by key (latin1 string of the key's bytes).
  memory: (prefix: number) => ReadonlyMap<string, Buffer>;
};

type Meta = { version: number; seq: number };

// Events per batch of a rebuild: big enough that a read and a write cost little per event,
// small enough that the memory of one batch stays a few MiB.
const REBUILD_BATCH = 4096;

function metaName(view: StoredView<unknown>): string {
  return 'view/' + view.name;
}

export function openStoredViews(journal: Journal, views: ReadonlyArray<StoredView<unknown>>): StoredViews {
  // The records kept in memory: one map per prefix, keyed by the key's bytes as latin1.
  const memories = new Map<number, Map<string, Buffer>>();
  for (const view of views) for (const p of view.memoryPrefixes ?? []) memories.set(p, new Map());

  // `since`: the first seq for which no view of `active` has stored records (StoredView.reads);
  // the batch's first event when every view is current.
  async function deriveFor(active: ReadonlyArray<StoredView<unknown>>, events: Stored[], since: number): Promise<Derived | null> {
    if (active.length === 0 || events.length === 0) return null;
    // 1. The records apply will read, fetched in one call (those in memory are not).
    const wanted = new Map<string, Buffer>();
    for (const event of events) {
      for (const view of active) {
        for (const key of view.reads(event, since)) {
          if (memories.has(key[0])) continue;
          wanted.set(key.toString('latin1'), key);
        }
      }
    }
    const keys = [...wanted.values()];
    const values = await journal.getMany(keys);
    const fetched = new Map<string, Buffer | undefined>();
    for (let i = 0; i < keys.length; i++) fetched.set(keys[i].toString('latin1'), values[i]);
    const stored = (key: Buffer): Buffer | undefined => {
      const k = key.toString('latin1');
      const memory = memories.get(key[0]);
      return memory ? memory.get(k) : fetched.get(k);
    };
    // 1b. The records found through those (an index), in a second read, only when one is named
    // (the transfers view's events of version 1, which name a transfer by its id alone).
    const through = active.flatMap((view) => (view.readsThrough ? [view.readsThrough] : []));
    if (through.length > 0) {
      const more = new Map<string, Buffer>();
      for (const event of events) {
        for (const readsThrough of through) {
          for (const key of readsThrough(event, stored)) {
            const k = key.toString('latin1');
            if (!memories.has(key[0]) && !fetched.has(k)) more.set(k, key);
          }
        }
      }
      if (more.size > 0) {
        const moreKeys = [...more.values()];
        const moreValues = await journal.getMany(moreKeys);
        for (let i = 0; i < moreKeys.length; i++) fetched.set(moreKeys[i].toString('latin1'), moreValues[i]);
      }
    }

    // 2. apply, event by event, through an overlay: a later event of the batch sees what an
    // earlier one wrote. A null value in the overlay is a deletion. Records used decoded stay
    // decoded until the end of the batch. Both keep the key's own bytes, so that the batch
    // writes them without making them again from the string.
    const overlay = new Map<string, { key: Buffer; value: Buffer | null }>();
    const records = new Map<string, { key: Buffer; value: unknown; codec: Codec<unknown> }>();
    const added: Op[] = [];
    // The key met last and its string: a view that reads a record and writes it back passes
    // the same Buffer twice in a row (messages.ts keeps one per peer for its summaries), so
    // the second use costs no conversion. A key is never changed once given (the overlay keeps
    // it to write it), so the Buffer itself tells the key.
    let lastKey: Buffer | null = null;
    let lastString = '';
    const keyString = (key: Buffer): string => {
      if (key !== lastKey) {
        lastKey = key;
        lastString = key.toString('latin1');
      }
      return lastString;
    };
    const read = (k: string, prefix: number): Buffer | undefined => {
      const r = records.get(k);
      if (r !== undefined) return r.codec.encode(r.value);
      const o = overlay.get(k);
      if (o !== undefined) return o.value ?? undefined;
      const memory = memories.get(prefix);
      return memory ? memory.get(k) : fetched.get(k);
    };
    const tx: Tx = {
      get: (key) => read(keyString(key), key[0]),
      put(key, value) {
        const k = keyString(key);
        records.delete(k);
        overlay.set(k, { key, value });
      },
      del(key) {
        const k = keyString(key);
        records.delete(k);
        overlay.set(k, { key, value: null });
      },
      add(key, value) {
        added.push({ key, value });
      },
      record<T>(key: Buffer, codec: Codec<T>): T | undefined {
        const k = keyString(key);
        const r = records.get(k);
        if (r !== undefined) return r.value as T;
        const bytes = read(k, key[0]);
        if (bytes === undefined) return undefined;
        const value = codec.decode(bytes);
        records.set(k, { key, value, codec: codec as Codec<unknown> });
        return value;
      },
      putRecord<T>(key: Buffer, value: T, codec: Codec<T>) {
        records.set(keyString(key), { key, value, codec: codec as Codec<unknown> });
      },
    };
    const changes = new Array<unknown>(events.length);
    for (let i = 0; i < events.length; i++) {
      let change: unknown = null;
      for (const view of active) {
        const c = view.apply(events[i], tx);
        if (c !== null) change = c;
      }
      changes[i] = change;
    }

    // 3. The writes, and each view's seq in the same batch.
    for (const [k, r] of records) overlay.set(k, { key: r.key, value: r.codec.encode(r.value) });
    const ops: Op[] = added;
    for (const op of overlay.values()) ops.push(op);
    const seq = events[events.length - 1].seq;
    const metas = active.map((view) => ({ name: metaName(view), value: encodeMeta({ version: view.version, seq }) }));
    for (const m of metas) ops.push({ key: metaKey(m.name), value: m.value });
    return {
      ops,
      changes,
      commit() {
        for (const [k, { value }] of overlay) {
          const memory = memories.get(k.charCodeAt(0));
          if (!memory) continue;
          if (value === null) memory.delete(k);
          else memory.set(k, value);
        }
      },
    };
  }

  async function readMeta(view: StoredView<unknown>): Promise<Meta | null> {
    const value = await journal.getMeta(metaName(view));
    if (!value) return null;
    try {
      const meta = JSON.parse(value.toString('utf8')) as Meta;
      return typeof meta?.version === 'number' && typeof meta?.seq === 'number' ? meta : null;
    } catch {
      return null; // a damaged meta costs a rebuild, nothing more
    }
  }

  // Deletes every record of `view`, on disk and in memory.
  async function drop(view: StoredView<unknown>): Promise<void> {
    for (const prefix of view.prefixes) {
      memories.get(prefix)?.clear();
      await journal.clearRange(prefixRange(prefix));
    }
    await journal.writeOps([{ key: metaKey(metaName(view)), value: encodeMeta({ version: view.version, seq: 0 }) }]);
  }

  async function loadMemory(view: StoredView<unknown>): Promise<void> {
    for (const prefix of view.memoryPrefixes ?? []) {
      const memory = memories.get(prefix) as Map<string, Buffer>;
      memory.clear();
      for await (const entries of journal.entries(prefixRange(prefix))) {
        for (const [key, value] of entries) memory.set(key.toString('latin1'), value);
      }
    }
  }

  // Feeds the events after `from` to the views that lag, REBUILD_BATCH at a time, each batch
  // written before the next is read (a later event may read what an earlier one wrote).
  async function catchUp(lagging: Array<{ view: StoredView<unknown>; seq: number }>, onProgress?: ViewsProgress): Promise<void> {
    if (lagging.length === 0) return;
    const from = Math.min(...lagging.map((l) => l.seq)) + 1;
    const last = journal.lastSeq();
    if (from > last) return;
    let pending: Stored[] = [];
    const flush = async (): Promise<void> => {
      if (pending.length === 0) return;
      const batch = pending;
      pending = [];
      // Only the views that have not seen these events yet.
      const behind = lagging.filter((l) => l.seq < batch[batch.length - 1].seq);
      const active = behind.map((l) => l.view);
      const events = batch.filter((e) => lagging.some((l) => e.seq > l.seq));
      // A view further on than another may meet events it has seen: none of its records is
      // taken for missing unless it is keyed after every active view's seq.
      const since = Math.max(...behind.map((l) => l.seq + 1));
      const derived = await deriveFor(active, events, since);
      if (derived) {
        await journal.writeOps(derived.ops);
        derived.commit();
      }
      onProgress?.(active.map((v) => v.name).join(', '), batch[batch.length - 1].seq, last);
    };
    for await (const event of journal.read({ since: from, onCorrupt: () => undefined })) {
      pending.push(event);
      if (pending.length >= REBUILD_BATCH) await flush();
    }
    await flush();
  }

  async function open(onProgress?: ViewsProgress): Promise<void> {
    const lagging: Array<{ view: StoredView<unknown>; seq: number }> = [];
    for (const view of views) {
      const meta = await readMeta(view);
      if (!meta || meta.version !== view.version || meta.seq > journal.lastSeq()) {
        await drop(view);
        lagging.push({ view, seq: 0 });
        continue;
      }
      await loadMemory(view);
      if (meta.seq < journal.lastSeq()) lagging.push({ view, seq: meta.seq });
    }
    await catchUp(lagging, onProgress);
  }

  async function rebuild(onProgress?: ViewsProgress): Promise<void> {
    for (const view of views) await drop(view);
    await catchUp(
      views.map((view) => ({ view, seq: 0 })),
      onProgress,
    );
  }

  return {
    derive: (events) => deriveFor(views, events, events.length > 0 ? events[0].seq : 0),
    open,
    rebuild,
    memory: (prefix) => memories.get(prefix) ?? new Map(),
  };
}

function encodeMeta(meta: Meta): Buffer {
  return Buffer.from(JSON.stringify(meta), 'utf8');
}
