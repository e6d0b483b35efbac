// What a profile knows of itself and its contacts, as one record: `parley status --json` prints
// it, and a UI attached to the running client (attach.ts) gets it at once and again whenever it
// changes. The running client's state (presence, routes) is passed in; without one, every
// contact is offline and the server is offline or none.
//
//   { id: 42, name: 'Ann', server: 'online', cert_expires_at: '2027-01-01T00:00:00.000Z',
//     contacts: [{ id: 7, name: 'Bob', presence: 'online', route: 'direct', unread: 2, folder: 'main',
//                  keep_history: true }] }
import fs from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { ClientState } from './client.js';
import { identityFiles, NAME_SETTING, SERVER_SETTING } from './identity.js';
import type { Profile } from './profile.js';
import { listedServers } from './servers.js';
import type { Contact } from '../projections/contacts.js';
import { isKept } from '../projections/retention.js';

export type Presence = 'online' | 'offline' | 'refused';

export type StatusRow = {
  id: number | null;
  name: string | null;
  server: ClientState['server'];
  // The server's addresses as configured (HOST:PORT each; several: processes of one server), and
  // the one the running client is signed in to (null when it is not).
  servers: string[];
  server_address: string | null;
  cert_expires_at: string | null;
  // Where the running client accepts peer links (section 14 invites carry it); null when none runs.
  listen_port: number | null;
  // folder: main or spam (contacts move); keep_history: false when the chat is cleared as the
  // client closes (history keep).
  contacts: Array<{ id: number; name: string; presence: Presence; route: string | null; unread: number; folder: string; keep_history: boolean; key_warning?: KeyWarningRow }>;
};

// A link refused for presenting another key than the pinned one (contact.key-refused).
export type KeyWarningRow = { key_sha256: string; pinned: string; at: string; address: string | null };

export function keyWarningRow(w: NonNullable<Contact['keyWarning']>): KeyWarningRow {
  return { key_sha256: w.keySha256, pinned: w.pinned, at: new Date(w.at).toISOString(), address: w.address ?? null };
}

// The line `contacts` and `status` print for it: never accepted silently, and how to accept it.
export function keyWarningText(c: Contact): string {
  const w = c.keyWarning as NonNullable<Contact['keyWarning']>;
  return `warning: ${c.name} (${c.id}) presented key ${w.keySha256}${w.address ? ` from ${w.address}` : ''}, not the pinned ${w.pinned}: refused. If they really changed keys: parley contacts pin ${c.id} ${w.keySha256}`;
}

// `notAfter`: the certificate's end (certNotAfter), read once by a caller that asks often.
export function statusRow(profile: Profile, state: ClientState | undefined, notAfter: number | null): StatusRow {
  const settings = profile.views.settings;
  return {
    id: profile.views.identity.id,
    name: typeof settings[NAME_SETTING] === 'string' ? (settings[NAME_SETTING] as string) : null,
    server: state ? state.server : settings[SERVER_SETTING] ? 'offline' : 'none',
    servers: listedServers(settings[SERVER_SETTING]),
    server_address: state?.signedInTo ?? null,
    cert_expires_at: notAfter === null ? null : new Date(notAfter).toISOString(),
    listen_port: state && state.listenPort > 0 ? state.listenPort : null,
    contacts: Object.values(profile.views.contacts)
      .sort((a, b) => a.id - b.id)
      .map((c) => ({
        id: c.id,
        name: c.name,
        // A link up is presence enough: with no server, nobody else says so.
        presence: state?.refusedBy.has(c.id) ? 'refused' : state?.presence.get(c.id)?.online || state?.routes.has(c.id) ? 'online' : 'offline',
        route: state?.routes.get(c.id) ?? null,
        unread: profile.unread(c.id),
        folder: c.folder,
        keep_history: isKept(profile.views.retention, c.id),
        ...(c.keyWarning ? { key_warning: keyWarningRow(c.keyWarning) } : {}),
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
