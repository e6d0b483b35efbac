// Links: whether each peer is connected now, by which route, since when.
import type { Route, Stored } from '../events/types.js';
import type { PeerMap, Projection } from './projection.js';

export type Link = { peer: number; state: 'open' | 'closed'; route: Route | null; address: string | null; since: number; reason: string | null };
export type LinksState = PeerMap<Link>;

export const links: Projection<LinksState> = {
  name: 'links',
  version: 1,
  initial: () => ({}),
  apply(state, event: Stored) {
    switch (event.type) {
      case 'link.opened':
        state[event.peer] = { peer: event.peer, state: 'open', route: event.route, address: event.address ?? null, since: event.at, reason: null };
        return state;
      case 'link.closed': {
        const prev = state[event.peer];
        state[event.peer] = { peer: event.peer, state: 'closed', route: prev ? prev.route : null, address: prev ? prev.address : null, since: event.at, reason: event.reason };
        return state;
      }
      default:
        return state;
    }
  },
};
