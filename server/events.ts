// The rendezvous server's journal: its own events, apart from a client profile's
// (src/events/types.ts), so that neither accepts the other's. The registry (registry.ts) is
// their projection.
import type { EventOf, EventSchema, NewOf, StoredOf } from '../src/events/schema.js';

export type ClientRegistered = EventOf<'client.registered'> & { id: number; keySha256: string };
export type ClientRevoked = EventOf<'client.revoked'> & { keySha256: string };
export type SessionOpened = EventOf<'session.opened'> & { id: number; address: string };
export type SessionClosed = EventOf<'session.closed'> & { id: number; reason: string };
export type RelayOpened = EventOf<'relay.opened'> & { a: number; b: number };
export type RelayClosed = EventOf<'relay.closed'> & { a: number; b: number; bytes: number; reason: string };

export type ServerEvent = ClientRegistered | ClientRevoked | SessionOpened | SessionClosed | RelayOpened | RelayClosed;
export type StoredServerEvent = StoredOf<ServerEvent>;
export type NewServerEvent = NewOf<ServerEvent>;

export const SERVER_EVENTS: EventSchema = Object.freeze({
  holder: "a Parley server's data directory",
  versions: Object.freeze({
    'client.registered': 1,
    'client.revoked': 1,
    'session.opened': 1,
    'session.closed': 1,
    'relay.opened': 1,
    'relay.closed': 1,
  } satisfies Record<ServerEvent['type'], number>),
  // Sessions and relays coming and going: the next start knows they are gone anyway. A binding
  // and a revocation are synced before anyone is told of them.
  notDurable: new Set(['session.opened', 'session.closed', 'relay.opened', 'relay.closed']),
  upcasters: Object.freeze({}),
});
