// Builders for tests: stored events with a seq, and a fold of a projection over them.
import type { NewEvent, Stored } from '../../src/events/types.js';
import { EVENT_VERSIONS } from '../../src/events/types.js';
import type { Projection } from '../../src/projections/projection.js';

export function given(events: NewEvent[], firstSeq = 1, firstAt = 1_700_000_000_000): Stored[] {
  return events.map((e, i) => ({ at: firstAt + i * 1000, ...e, seq: firstSeq + i, v: EVENT_VERSIONS[e.type] }) as Stored);
}

export function fold<S>(projection: Projection<S>, events: Stored[]): S {
  let state = projection.initial();
  for (const e of events) state = projection.apply(state, e);
  return state;
}
