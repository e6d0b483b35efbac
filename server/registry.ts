// The server's registry: which key holds which id, which keys are revoked, and when each id last
// came or went. A pure reducer over the server journal's events (initial, apply), replayed at
// start from its checkpoint (checkpoint.ts); the running server feeds it every event it journals, so replay gives exactly the state
// it held. Like the client's projections (src/projections/projection.ts), apply may change the
// state it is given and return it: the state belongs to the one server that runs it.
import type { ParleyEvent } from '../src/events/types.js';

export type Registry = {
  // keySha256 (64 lowercase hex) -> id, and back. A binding never changes once journaled.
  byKey: Map<string, number>;
  byId: Map<number, string>;
  // keySha256 -> when it was first revoked (the `at` of a revoked message).
  revoked: Map<string, number>;
  // id -> time (ms) of its last session.opened or session.closed: the `at` of a presence message.
  lastSeen: Map<number, number>;
};

export function initial(): Registry {
  return { byKey: new Map(), byId: new Map(), revoked: new Map(), lastSeen: new Map() };
}

// Only `type`, `at` and the type's own fields are read, so a stored event and one about to be
// stored (same fields, no seq yet) give the same state.
export function apply(state: Registry, event: ParleyEvent): Registry {
  switch (event.type) {
    case 'client.registered':
      // The first binding wins: a duplicate or a clashing record (which the server never writes)
      // cannot move an id from one key to another.
      if (!state.byKey.has(event.keySha256) && !state.byId.has(event.id)) {
        state.byKey.set(event.keySha256, event.id);
        state.byId.set(event.id, event.keySha256);
      }
      return state;
    case 'client.revoked':
      if (!state.revoked.has(event.keySha256)) state.revoked.set(event.keySha256, event.at);
      return state;
    case 'session.opened':
    case 'session.closed':
      state.lastSeen.set(event.id, event.at);
      return state;
    default:
      return state;
  }
}

// A key's SHA-256 as the registry keeps it (64 lowercase hex, colons dropped), or null when the
// text is not one: the certificate code's form, which pins use too. => 'ab12…' from 'AB:12:…'
export { normalKeySha256 as keySha256Of } from '../cert/keys.js';

export function idOf(state: Registry, keySha256: string): number | undefined {
  return state.byKey.get(keySha256);
}

export function isRevoked(state: Registry, keySha256: string): boolean {
  return state.revoked.has(keySha256);
}
