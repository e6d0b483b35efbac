// A projection is a view of the journal: { name, version, initial(), apply(state, event) }.
// apply is deterministic (no clock, no randomness, no I/O), so replaying the journal from empty
// gives exactly the state the running client holds. For speed apply may change the state it is
// given and return it: the state belongs to the profile that runs the projection, nobody else.
//
// snapshot/restore turn the state into what a checkpoint stores and back (a projection that
// keeps a lookup index drops it in the snapshot and rebuilds it on restore). Bump `version`
// whenever apply's meaning changes: a checkpoint of another version is thrown away and the
// projection is rebuilt from the journal (ssb-db2 and flumeview-reduce do the same).

import type { Stored } from '../events/types.js';

export type Projection<S> = {
  name: string;
  version: number;
  initial: () => S;
  apply: (state: S, event: Stored) => S;
  snapshot?: (state: S) => unknown;
  restore?: (data: unknown) => S;
};

// Keys of per-peer records. Peer ids are numbers; object keys are strings either way.
export type PeerMap<T> = Record<string, T>;
