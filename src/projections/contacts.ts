// Contacts: name, folder, whitelist and block flags of every peer the person has dealt with, and
// what trust without a CA needs (docs/PROTOCOL.md section 14): the key each is pinned to, where an
// invite said it listens, and the last key refused for it.
import type { NewEvent, PinSource, Stored } from '../events/types.js';
import type { PeerMap, Projection } from './projection.js';

export type Contact = {
  id: number;
  name: string;
  folder: string;
  whitelisted: boolean;
  blocked: boolean;
  addedAt: number;
  // The fields below are absent until an event sets them.
  pin?: { keySha256: string; by: PinSource; at: number };
  // From an invite: dialled with no server; `token` presented in the hello (contact.located).
  location?: { addresses: string[]; port: number; token?: string };
  // The last link that presented another key than the pinned one; cleared by a pin by hand.
  keyWarning?: { keySha256: string; pinned: string; at: number; address?: string };
};
export type ContactsState = PeerMap<Contact>;

export const DEFAULT_FOLDER = 'main';

// The folders a person moves a contact between (`parley contacts move`): the main list, and spam,
// where a chat the person closed goes and its new messages wait without cluttering the main list
// (issue 12). Only where the chat is shown changes: its messages still arrive and are stored.
export const FOLDERS = ['main', 'spam'] as const;
export type Folder = (typeof FOLDERS)[number];

export function isFolder(text: string): text is Folder {
  return (FOLDERS as readonly string[]).includes(text);
}

// A peer named before it was added (blocked after writing to me, say) gets a plain entry.
function entry(state: ContactsState, peer: number, at: number): Contact {
  let c = state[peer];
  if (!c) {
    c = { id: peer, name: String(peer), folder: DEFAULT_FOLDER, whitelisted: false, blocked: false, addedAt: at };
    state[peer] = c;
  }
  return c;
}

export const contacts: Projection<ContactsState> = {
  name: 'contacts',
  // 2: pins, locations and key warnings.
  version: 2,
  initial: () => ({}),
  apply(state, event: Stored) {
    switch (event.type) {
      case 'contact.added': {
        const c = entry(state, event.peer, event.at);
        c.name = event.name;
        c.whitelisted = event.whitelisted;
        return state;
      }
      case 'contact.renamed':
        entry(state, event.peer, event.at).name = event.name;
        return state;
      case 'contact.moved':
        entry(state, event.peer, event.at).folder = event.folder;
        return state;
      case 'contact.whitelisted':
        entry(state, event.peer, event.at).whitelisted = event.whitelisted;
        return state;
      case 'contact.blocked':
        entry(state, event.peer, event.at).blocked = event.blocked;
        return state;
      case 'contact.pinned': {
        const c = entry(state, event.peer, event.at);
        c.pin = { keySha256: event.keySha256, by: event.by, at: event.at };
        // A person who pins by hand has looked at the key: the warning has been answered.
        if (event.by === 'hand' || c.keyWarning?.keySha256 === event.keySha256) delete c.keyWarning;
        return state;
      }
      case 'contact.located': {
        const c = entry(state, event.peer, event.at);
        c.location = { addresses: event.addresses.slice(), port: event.port, ...(event.token !== undefined ? { token: event.token } : {}) };
        return state;
      }
      case 'contact.key-refused':
        entry(state, event.peer, event.at).keyWarning = {
          keySha256: event.keySha256,
          pinned: event.pinned,
          at: event.at,
          ...(event.address !== undefined ? { address: event.address } : {}),
        };
        return state;
      case 'contact.removed': {
        // Off the list, but a blocked one stays blocked: removing someone must not let them in
        // again. It is kept as blocking a peer never added keeps it, a plain entry.
        const blocked = state[event.peer]?.blocked === true;
        delete state[event.peer];
        if (blocked) entry(state, event.peer, event.at).blocked = true;
        return state;
      }
      default:
        return state;
    }
  },
};

// decide: the event that moves contact `peer` to `folder`, or null when it is there already, so
// that moving twice journals once. The caller has checked that `peer` is a contact.
export function decideMove(state: ContactsState, peer: number, folder: Folder): NewEvent | null {
  if (state[peer]?.folder === folder) return null;
  return { type: 'contact.moved', peer, folder };
}

// Why my messages to a removed contact failed (message.failed's reason).
export const REMOVED_REASON = 'contact removed';

// decide: the events that take `peer` off the contact list, or null when it is not on it. The
// removal, then a failure for each of my messages to it that no ack has answered yet (pending,
// or sent on a link that went before the ack came): the outbox goes to contacts only, so none of
// them would go, and a person must not see them wait for ever. Added again, the contact gets
// only what is sent after.
export function decideRemove(state: ContactsState, peer: number, unacknowledged: ReadonlyArray<{ id: string; seq: number }>): NewEvent[] | null {
  if (!state[peer]) return null;
  return [{ type: 'contact.removed', peer }, ...unacknowledged.map((m) => ({ type: 'message.failed' as const, id: m.id, peer, msgSeq: m.seq, reason: REMOVED_REASON }))];
}
