// Contacts: name, folder, whitelist and block flags of every peer the person has dealt with.
import type { Stored } from '../events/types.js';
import type { PeerMap, Projection } from './projection.js';

export type Contact = { id: number; name: string; folder: string; whitelisted: boolean; blocked: boolean; addedAt: number };
export type ContactsState = PeerMap<Contact>;

export const DEFAULT_FOLDER = 'main';

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
  version: 1,
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
      default:
        return state;
    }
  },
};
