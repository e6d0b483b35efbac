// Unread: incoming messages of each contact that I have not read yet.
import type { Stored } from '../events/types.js';
import type { PeerMap, Projection } from './projection.js';

export type UnreadState = PeerMap<{ count: number; ids: Record<string, true> }>;

export const unread: Projection<UnreadState> = {
  name: 'unread',
  version: 1,
  initial: () => ({}),
  apply(state, event: Stored) {
    switch (event.type) {
      case 'message.received': {
        let u = state[event.peer];
        if (!u) {
          u = { count: 0, ids: {} };
          state[event.peer] = u;
        }
        if (!u.ids[event.id]) {
          u.ids[event.id] = true;
          u.count++;
        }
        return state;
      }
      case 'message.read': {
        const u = state[event.peer];
        if (event.by === 'me' && u && u.ids[event.id]) {
          delete u.ids[event.id];
          u.count--;
          if (u.count === 0) delete state[event.peer];
        }
        return state;
      }
      case 'chat.cleared':
        delete state[event.peer];
        return state;
      default:
        return state;
    }
  },
};

export function unreadCount(state: UnreadState, peer: number): number {
  return state[peer]?.count ?? 0;
}
