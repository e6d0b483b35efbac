// Who this profile is: the id a server gave it (identity.created, journaled at the first login)
// and which server gave which id (server.registered).
import type { Stored } from '../events/types.js';
import type { Projection } from './projection.js';

export type IdentityState = { id: number | null; keySha256: string | null; servers: Record<string, number> };

export const identity: Projection<IdentityState> = {
  name: 'identity',
  version: 1,
  initial: () => ({ id: null, keySha256: null, servers: {} }),
  apply(state, event: Stored) {
    switch (event.type) {
      case 'identity.created':
        state.id = event.id;
        state.keySha256 = event.keySha256 ?? null;
        return state;
      case 'server.registered':
        state.servers[event.server] = event.id;
        return state;
      default:
        return state;
    }
  },
};
