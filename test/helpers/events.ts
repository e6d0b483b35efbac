// Builders for tests: stored events with a seq, and a fold of a projection over them.
import type { NewEvent, Stored } from '../../src/events/types.js';
import { EVENT_VERSIONS } from '../../src/events/types.js';
import type { Codec, Projection, StoredView, Tx } from '../../src/projections/projection.js';

export function given(events: NewEvent[], firstSeq = 1, firstAt = 1_700_000_000_000): Stored[] {
  return events.map((e, i) => ({ at: firstAt + i * 1000, ...e, seq: firstSeq + i, v: EVENT_VERSIONS[e.type] }) as Stored);
}

export function fold<S>(projection: Projection<S>, events: Stored[]): S {
  let state = projection.initial();
  for (const e of events) state = projection.apply(state, e);
  return state;
}

// A stored view run over events with its records in a Map (key bytes as latin1): what the
// profile writes to LevelDB, without LevelDB. Returns the records and each event's change.
export function foldStored<C>(view: StoredView<C>, events: Stored[]): { records: Map<string, Buffer>; changes: Array<C | null>; get: (key: Buffer) => Buffer | undefined } {
  const records = new Map<string, Buffer>();
  const get = (key: Buffer): Buffer | undefined => records.get(key.toString('latin1'));
  const put = (key: Buffer, value: Buffer): void => void records.set(key.toString('latin1'), value);
  const tx: Tx = {
    get,
    put,
    del: (key) => void records.delete(key.toString('latin1')),
    add: put,
    record<T>(key: Buffer, codec: Codec<T>): T | undefined {
      const value = get(key);
      return value === undefined ? undefined : codec.decode(value);
    },
    putRecord: (key, value, codec) => put(key, codec.encode(value)),
  };
  const changes = events.map((e) => view.apply(e, tx));
  return { records, changes, get: tx.get };
}
