// The registry's checkpoint: its state at some seq, tagged with a version, in the journal's meta
// beside the events (like the client's projections, src/projections/checkpoint.ts). A start
// loads it and replays only the events after; a checkpoint of another version, a damaged one, or
// one that claims a seq the journal does not have, is ignored and the registry is rebuilt from
// the whole journal.
//
// Why a checkpoint and not simply no more session.opened/closed in the journal: they feed
// lastSeen, the `at` of a presence message for an offline id ("when it came or went",
// PROTOCOL.md section 6), which a restart would otherwise forget. They stay journaled (two small
// events per session, never synced), and what grows with them is the disk, not the start.
import { Packr } from 'msgpackr';
import type { Journal } from '../src/events/journal.js';
import { apply, initial, type Registry } from './registry.js';

// Bump it when apply() changes what it makes of an event: the next start rebuilds.
export const REGISTRY_VERSION = 1;
const META = 'checkpoint/registry';

// Plain MessagePack: no record extension, so the stored value reads the same in any version.
const packr = new Packr({ useRecords: false });

type Stored = {
  version: number;
  seq: number;
  // [keySha256, id]; byId is the same pairs turned round.
  byKey: Array<[string, number]>;
  revoked: Array<[string, number]>;
  lastSeen: Array<[number, number]>;
};

export type LoadedRegistry = {
  registry: Registry;
  // The checkpoint's seq (0: none was used) and how many events were replayed after it.
  from: number;
  replayed: number;
};

function restore(data: Stored): Registry {
  const registry = initial();
  for (const [key, id] of data.byKey) {
    registry.byKey.set(key, id);
    registry.byId.set(id, key);
  }
  for (const [key, at] of data.revoked) registry.revoked.set(key, at);
  for (const [id, at] of data.lastSeen) registry.lastSeen.set(id, at);
  return registry;
}

function isStored(data: unknown, lastSeq: number): data is Stored {
  const d = data as Stored;
  return (
    typeof d === 'object' &&
    d !== null &&
    d.version === REGISTRY_VERSION &&
    Number.isSafeInteger(d.seq) &&
    d.seq >= 0 &&
    d.seq <= lastSeq &&
    Array.isArray(d.byKey) &&
    Array.isArray(d.revoked) &&
    Array.isArray(d.lastSeen)
  );
}

// The registry as the journal says it: from the checkpoint when there is a usable one.
export async function loadRegistry(journal: Journal): Promise<LoadedRegistry> {
  let start: { registry: Registry; seq: number } | null = null;
  const value = await journal.getMeta(META);
  if (value) {
    try {
      const data: unknown = packr.unpack(value);
      if (isStored(data, journal.lastSeq())) start = { registry: restore(data), seq: data.seq };
    } catch {
      start = null; // a damaged checkpoint costs a replay, nothing more
    }
  }
  const registry = start?.registry ?? initial();
  let replayed = 0;
  await journal.scan(
    (event) => {
      apply(registry, event);
      replayed += 1;
    },
    { since: (start?.seq ?? 0) + 1 },
  );
  return { registry, from: start?.seq ?? 0, replayed };
}

// Stores `registry` as the state at `seq`. The caller makes sure it is exactly that: every event
// up to seq applied and stored, none after.
export async function saveRegistry(journal: Journal, registry: Registry, seq: number): Promise<void> {
  const data: Stored = {
    version: REGISTRY_VERSION,
    seq,
    byKey: [...registry.byKey],
    revoked: [...registry.revoked],
    lastSeen: [...registry.lastSeen],
  };
  await journal.putMeta([{ name: META, value: packr.pack(data) }], true);
}
