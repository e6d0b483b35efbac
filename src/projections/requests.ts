// Requests: who asked to talk without being a whitelisted contact (the server passed their
// introduce-request on as a contact-request), and which of them the person refused. Accepting
// one makes it a whitelisted contact, which ends the request.
import type { Stored } from '../events/types.js';
import type { PeerMap, Projection } from './projection.js';

export type Request = { peer: number; at: number; state: 'pending' | 'refused' };
export type RequestsState = PeerMap<Request>;

export const requests: Projection<RequestsState> = {
  name: 'requests',
  version: 1,
  initial: () => ({}),
  apply(state, event: Stored) {
    switch (event.type) {
      case 'contact.requested':
        // Asked again after a refusal: it stays refused (the peer is on the block list anyway).
        if (state[event.peer]?.state !== 'refused') state[event.peer] = { peer: event.peer, at: event.at, state: 'pending' };
        return state;
      case 'contact.refused':
        state[event.peer] = { peer: event.peer, at: event.at, state: 'refused' };
        return state;
      case 'contact.added':
        if (event.whitelisted) delete state[event.peer];
        return state;
      case 'contact.whitelisted':
        if (event.whitelisted) delete state[event.peer];
        return state;
      default:
        return state;
    }
  },
};

// The requests waiting for an answer, oldest first.
export function pendingRequests(state: RequestsState): Request[] {
  return Object.values(state)
    .filter((r) => r.state === 'pending')
    .sort((a, b) => a.at - b.at || a.peer - b.peer);
}
