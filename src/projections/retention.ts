// Retention: the chats the person does not keep (`parley history keep --peer ID off`). The
// running client clears each of them when it closes (node/client.ts), as `parley history clear`
// does, so such a chat lasts one session. Kept is the default and holds no entry: the view
// stays as small as the list of chats turned off.
import type { NewOf } from '../events/schema.js';
import type { ChatKeepChanged, Stored } from '../events/types.js';
import type { PeerMap, Projection } from './projection.js';

// Since when the chat is not kept (the time of the event that turned it off).
export type RetentionState = PeerMap<{ peer: number; since: number }>;

export const retention: Projection<RetentionState> = {
  name: 'retention',
  version: 1,
  initial: () => ({}),
  apply(state, event: Stored) {
    if (event.type !== 'chat.keep-changed') return state;
    if (event.keep) delete state[event.peer];
    else state[event.peer] = { peer: event.peer, since: event.at };
    return state;
  },
};

export function isKept(state: RetentionState, peer: number): boolean {
  return !Object.hasOwn(state, String(peer));
}

// The peers whose chats are not kept, in id order.
export function notKept(state: RetentionState): number[] {
  return Object.values(state)
    .map((r) => r.peer)
    .sort((a, b) => a - b);
}

// decide: the event that keeps (or stops keeping) the chat with `peer`, or null when that is how
// it is already, so that saying it twice journals it once.
export function decideKeep(state: RetentionState, peer: number, keep: boolean): NewOf<ChatKeepChanged> | null {
  if (isKept(state, peer) === keep) return null;
  return { type: 'chat.keep-changed', peer, keep };
}
