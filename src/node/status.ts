// What a profile knows of itself and its contacts, as one record: `parley status --json` prints
// it, and a UI attached to the running client (attach.ts) gets it at once and again whenever it
// changes. The running client's state (presence, routes) is passed in; without one, every
// contact is offline and the server is offline or none.
//
//   { id: 42, name: 'Ann', server: 'online', cert_expires_at: '2027-01-01T00:00:00.000Z',
//     contacts: [{ id: 7, name: 'Bob', presence: 'online', route: 'direct', unread: 2 }] }
import fs from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { ClientState } from './client.js';
import { identityFiles, NAME_SETTING, SERVER_SETTING } from './identity.js';
import type { Profile } from './profile.js';

export type Presence = 'online' | 'offline' | 'refused';

export type StatusRow = {
  id: number | null;
  name: string | null;
  server: ClientState['server'];
  cert_expires_at: string | null;
  contacts: Array<{ id: number; name: string; presence: Presence; route: string | null; unread: number }>;
};

// `notAfter`: the certificate's end (certNotAfter), read once by a caller that asks often.
export function statusRow(profile: Profile, state: ClientState | undefined, notAfter: number | null): StatusRow {
  const settings = profile.views.settings;
  return {
    id: profile.views.identity.id,
    name: typeof settings[NAME_SETTING] === 'string' ? (settings[NAME_SETTING] as string) : null,
    server: state ? state.server : settings[SERVER_SETTING] ? 'offline' : 'none',
    cert_expires_at: notAfter === null ? null : new Date(notAfter).toISOString(),
    contacts: Object.values(profile.views.contacts)
      .sort((a, b) => a.id - b.id)
      .map((c) => ({
        id: c.id,
        name: c.name,
        presence: state?.refusedBy.has(c.id) ? 'refused' : state?.presence.get(c.id)?.online ? 'online' : 'offline',
        route: state?.routes.get(c.id) ?? null,
        unread: profile.unread(c.id),
      })),
  };
}

// The certificate's end, read from the profile's copy (no password needed), or null without one.
export function certNotAfter(home: string): number | null {
  try {
    return Date.parse(new X509Certificate(fs.readFileSync(identityFiles(home).certFile)).validTo);
  } catch {
    return null;
  }
}
