// Checkpoints: each projection's state at some seq, tagged with the projection's version, kept
// in the journal's LevelDB beside the events (meta key 'checkpoint/NAME'). A start loads them and
// replays only the events after; a checkpoint of another version, a damaged one, or one that
// claims a seq the journal does not have (its events were lost in a crash after it was written),
// is ignored and that projection rebuilds from the journal. One loader for every journal: a
// client profile's views (src/node/profile.ts) and the server's registry (server/registry.ts).
import { Packr, Unpackr } from 'msgpackr';
import type { Journal, ScanOptions } from '../events/journal.js';
import type { EventBase } from '../events/schema.js';
import type { Projection } from './projection.js';

// States are Parley's own data, read back only by Parley: msgpackr's records (one shape
// definition for many objects of the same keys, like chat messages) make them smaller and faster.
const packr = new Packr({ useRecords: true, mapsAsObjects: true });
const unpackr = new Unpackr({ useRecords: true, mapsAsObjects: true });

type Stored = { version: number; seq: number; state: unknown };

export type Loaded<S> = { state: S; seq: number };

// The meta name of a view's checkpoint. => 'checkpoint/contacts'
export function checkpointName(name: string): string {
  return 'checkpoint/' + name;
}

export async function loadCheckpoint<S, E extends EventBase>(journal: Journal<E>, projection: Projection<S, E>): Promise<Loaded<S> | null> {
  const value = await journal.getMeta(checkpointName(projection.name));
  if (!value) return null;
  try {
    const data = unpackr.unpack(value) as Stored;
    if (!data || data.version !== projection.version || !Number.isSafeInteger(data.seq) || data.seq < 0) return null;
    if (data.seq > journal.lastSeq()) return null;
    // restore throws on a state it cannot read: that too costs a replay.
    const state = projection.restore ? projection.restore(data.state) : (data.state as S);
    return { state, seq: data.seq };
  } catch {
    return null; // a damaged checkpoint costs a replay, nothing more
  }
}

export function encodeCheckpoint<S, E extends EventBase>(projection: Projection<S, E>, state: S, seq: number): { name: string; value: Buffer } {
  const snapshot = projection.snapshot ? projection.snapshot(state) : state;
  return { name: checkpointName(projection.name), value: packr.pack({ version: projection.version, seq, state: snapshot }) };
}

// Stores `state` as the projection's at `seq`, synced. The caller makes sure it is exactly that:
// every event up to seq applied, none after.
export async function saveCheckpoint<S, E extends EventBase>(journal: Journal<E>, projection: Projection<S, E>, state: S, seq: number): Promise<void> {
  await journal.putMeta([encodeCheckpoint(projection, state, seq)], true);
}

export type LoadedAll = {
  states: unknown[];
  // The first seq replayed (1: a replay of the whole journal), and how many events were.
  from: number;
  replayed: number;
};

// Each projection's state as the journal says it: its checkpoint when `fromCheckpoints` and it
// is usable, then one scan from the oldest of them, each event applied to the projections that
// have not seen it. States come back in the order of `projections`.
export async function loadProjections<E extends EventBase>(
  journal: Journal<E>,
  projections: ReadonlyArray<Projection<unknown, E>>,
  options: { fromCheckpoints?: boolean; onCorrupt?: ScanOptions['onCorrupt'] } = {},
): Promise<LoadedAll> {
  const states: unknown[] = [];
  const seen: number[] = [];
  let from = Infinity;
  for (const projection of projections) {
    const loaded = options.fromCheckpoints === false ? null : await loadCheckpoint(journal, projection);
    states.push(loaded ? loaded.state : projection.initial());
    seen.push(loaded ? loaded.seq : 0);
    from = Math.min(from, (loaded ? loaded.seq : 0) + 1);
  }
  if (projections.length === 0) from = journal.lastSeq() + 1;
  let replayed = 0;
  await journal.scan(
    (event) => {
      replayed++;
      for (let i = 0; i < projections.length; i++) {
        if (event.seq > seen[i]) states[i] = projections[i].apply(states[i], event);
      }
    },
    { since: from, onCorrupt: options.onCorrupt },
  );
  return { states, from, replayed };
}

// One projection's state as the journal says it (the server's registry). `from`: the seq of the
// checkpoint it started from (0: none was used).
export async function loadProjection<S, E extends EventBase>(journal: Journal<E>, projection: Projection<S, E>): Promise<{ state: S; from: number; replayed: number }> {
  const { states, from, replayed } = await loadProjections(journal, [projection as Projection<unknown, E>]);
  return { state: states[0] as S, from: from - 1, replayed };
}
