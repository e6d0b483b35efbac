// The server's registry: which key holds which id, which keys are revoked, and when each id last
// came or went. A projection of the server's journal (server/events.ts) like a client's views
// (src/projections/projection.ts): loaded at start from its checkpoint and the events after it
// by the one loader (src/projections/checkpoint.ts), then fed every event the running server
// journals (recorder.ts), so a replay gives exactly the state it held. apply may change the state
// it is given and return it: the state belongs to the one server that runs it.
//
// Why a checkpoint and not simply no more session.opened/closed in the journal: they feed
// lastSeen, the `at` of a presence message for an offline id ("when it came or went",
// PROTOCOL.md section 6), which a restart would otherwise forget. They stay journaled (two small
// events per session, never synced), and what grows with them is the disk, not the start.
import type { Projection } from '../src/projections/projection.js';
import type { ServerEvent } from './events.js';

export type Registry = {
  // keySha256 (64 lowercase hex) -> id, and back. A binding never changes once journaled.
  byKey: Map<string, number>;
  byId: Map<number, string>;
  // keySha256 -> when it was first revoked (the `at` of a revoked message).
  revoked: Map<string, number>;
  // id -> time (ms) of its last session.opened or session.closed: the `at` of a presence message.
  lastSeen: Map<number, number>;
};

// What the checkpoint stores: the maps as lists of pairs (byId is byKey turned round).
type Snapshot = { byKey: Array<[string, number]>; revoked: Array<[string, number]>; lastSeen: Array<[number, number]> };

export function initial(): Registry {
  return { byKey: new Map(), byId: new Map(), revoked: new Map(), lastSeen: new Map() };
}

// Only `type`, `at` and the type's own fields are read, so a stored event and one about to be
// stored (same fields, no seq yet) give the same state.
export function apply(state: Registry, event: ServerEvent): Registry {
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

function snapshot(state: Registry): Snapshot {
  return { byKey: [...state.byKey], revoked: [...state.revoked], lastSeen: [...state.lastSeen] };
}

// Throws on what is not a snapshot: the loader then replays the journal instead.
function restore(data: unknown): Registry {
  const d = data as Snapshot;
  if (!d || !Array.isArray(d.byKey) || !Array.isArray(d.revoked) || !Array.isArray(d.lastSeen)) throw new Error('not a registry snapshot');
  const registry = initial();
  for (const [key, id] of d.byKey) {
    registry.byKey.set(key, id);
    registry.byId.set(id, key);
  }
  for (const [key, at] of d.revoked) registry.revoked.set(key, at);
  for (const [id, at] of d.lastSeen) registry.lastSeen.set(id, at);
  return registry;
}

// Version 1 was a checkpoint format of its own (the maps at the top level); a start that finds
// it rebuilds from the journal and writes version 2. Bump it when apply() changes what it makes
// of an event.
export const REGISTRY: Projection<Registry, ServerEvent> = { name: 'registry', version: 2, initial, apply, snapshot, restore };

// A key's SHA-256 as the registry keeps it (64 lowercase hex, colons dropped), or null when the
// text is not one: the certificate code's form, which pins use too. => 'ab12…' from 'AB:12:…'
export { normalKeySha256 as keySha256Of } from '../cert/keys.js';

export function idOf(state: Registry, keySha256: string): number | undefined {
  return state.byKey.get(keySha256);
}

export function isRevoked(state: Registry, keySha256: string): boolean {
  return state.revoked.has(keySha256);
}
