// Checkpoints: each projection's state at some seq, tagged with the projection's version, kept
// in the profile's LevelDB beside the events (meta key 'checkpoint/NAME'). A start loads them and
// replays only the events after; a checkpoint of another version, or one that claims a seq the
// journal does not have (its events were lost in a crash after it was written), is ignored and
// that projection rebuilds from the journal.
import { Packr, Unpackr } from 'msgpackr';
import type { Journal } from '../events/journal.js';
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

export async function loadCheckpoint<S>(journal: Journal, projection: Projection<S>): Promise<Loaded<S> | null> {
  const value = await journal.getMeta(checkpointName(projection.name));
  if (!value) return null;
  let data: Stored;
  try {
    data = unpackr.unpack(value) as Stored;
  } catch {
    return null; // a damaged checkpoint costs a replay, nothing more
  }
  if (!data || data.version !== projection.version || typeof data.seq !== 'number') return null;
  if (data.seq > journal.lastSeq()) return null;
  const state = projection.restore ? projection.restore(data.state) : (data.state as S);
  return { state, seq: data.seq };
}

export function encodeCheckpoint<S>(projection: Projection<S>, state: S, seq: number): { name: string; value: Buffer } {
  const snapshot = projection.snapshot ? projection.snapshot(state) : state;
  return { name: checkpointName(projection.name), value: packr.pack({ version: projection.version, seq, state: snapshot }) };
}
