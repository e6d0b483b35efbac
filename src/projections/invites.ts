// Invites this profile issued (`parley invite`): each one-time token, by its SHA-256, with how
// long it is good for and who used it. The inviter pins the key of whoever presents a token
// first (docs/PROTOCOL.md section 14); a token used once lets nobody else in.
import type { Stored } from '../events/types.js';
import type { Projection } from './projection.js';

export type IssuedInvite = { tokenSha256: string; until: number; name: string | null; usedBy: number | null };
export type InvitesState = Record<string, IssuedInvite>;

export const invites: Projection<InvitesState> = {
  name: 'invites',
  version: 1,
  initial: () => ({}),
  apply(state, event: Stored) {
    switch (event.type) {
      case 'invite.issued':
        state[event.tokenSha256] = { tokenSha256: event.tokenSha256, until: event.until, name: event.name ?? null, usedBy: null };
        return state;
      case 'invite.used': {
        const i = state[event.tokenSha256];
        if (i) i.usedBy = event.peer;
        return state;
      }
      default:
        return state;
    }
  },
};
