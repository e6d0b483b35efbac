// Chats: the history with each contact, in journal order, with delivery status, edits and
// replies. A message is known by (peer, id): ids are made by their sender, so two peers may
// pick the same one and must not overwrite each other.
import type { Direction, Stored } from '../events/types.js';
import type { PeerMap, Projection } from './projection.js';

export type MessageStatus = 'sent' | 'delivered' | 'read' | 'received';

export type ChatMessage = {
  id: string;
  peer: number;
  direction: Direction;
  at: number; // when it was sent, on the sender's clock
  receivedAt: number | null; // when it arrived, on the receiver's clock
  text: string;
  status: MessageStatus;
  editedAt: number | null;
  replyTo: string | null;
  seq: number;
};

export type ChatsState = {
  byPeer: PeerMap<ChatMessage[]>;
  // (peer, id) -> the message; rebuilt on restore, never stored in a checkpoint.
  index: Map<string, ChatMessage>;
};

function keyOf(peer: number, id: string): string {
  return peer + ':' + id;
}

function add(state: ChatsState, message: ChatMessage): void {
  const key = keyOf(message.peer, message.id);
  // Delivery is at-least-once on the wire; the journal should hold one copy, and if it holds
  // two, the first one stands.
  if (state.index.has(key)) return;
  let list = state.byPeer[message.peer];
  if (!list) {
    list = [];
    state.byPeer[message.peer] = list;
  }
  list.push(message);
  state.index.set(key, message);
}

function rebuildIndex(byPeer: PeerMap<ChatMessage[]>): Map<string, ChatMessage> {
  const index = new Map<string, ChatMessage>();
  for (const peer in byPeer) for (const m of byPeer[peer]) index.set(keyOf(m.peer, m.id), m);
  return index;
}

export const chats: Projection<ChatsState> = {
  name: 'chats',
  version: 1,
  initial: () => ({ byPeer: {}, index: new Map() }),
  apply(state, event: Stored) {
    switch (event.type) {
      case 'message.sent':
        add(state, {
          id: event.id,
          peer: event.peer,
          direction: 'out',
          at: event.at,
          receivedAt: null,
          text: event.text,
          status: 'sent',
          editedAt: null,
          replyTo: event.replyTo ?? null,
          seq: event.seq,
        });
        return state;
      case 'message.received':
        add(state, {
          id: event.id,
          peer: event.peer,
          direction: 'in',
          at: event.sentAt,
          receivedAt: event.at,
          text: event.text,
          status: 'received',
          editedAt: null,
          replyTo: event.replyTo ?? null,
          seq: event.seq,
        });
        return state;
      case 'message.delivered': {
        const m = state.index.get(keyOf(event.peer, event.id));
        if (m && m.direction === 'out') {
          m.receivedAt = event.receivedAt;
          if (m.status === 'sent') m.status = 'delivered';
        }
        return state;
      }
      case 'message.read': {
        const m = state.index.get(keyOf(event.peer, event.id));
        if (m && (event.by === 'peer') === (m.direction === 'out')) m.status = 'read';
        return state;
      }
      case 'message.edited': {
        const m = state.index.get(keyOf(event.peer, event.id));
        if (m) {
          m.text = event.text;
          m.editedAt = event.at;
        }
        return state;
      }
      case 'chat.cleared': {
        const list = state.byPeer[event.peer];
        if (list) for (const m of list) state.index.delete(keyOf(m.peer, m.id));
        delete state.byPeer[event.peer];
        return state;
      }
      default:
        return state;
    }
  },
  snapshot: (state) => state.byPeer,
  restore(data) {
    const byPeer = (data ?? {}) as PeerMap<ChatMessage[]>;
    return { byPeer, index: rebuildIndex(byPeer) };
  },
};

export function historyOf(state: ChatsState, peer: number): ChatMessage[] {
  return state.byPeer[peer] ?? [];
}
