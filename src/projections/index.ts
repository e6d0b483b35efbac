// Every projection a client runs, and the record of their states that the rest of Parley reads.
import { contacts, type ContactsState } from './contacts.js';
import { identity, type IdentityState } from './identity.js';
import { invites, type InvitesState } from './invites.js';
import { requests, type RequestsState } from './requests.js';
import { links, type LinksState } from './links.js';
import type { Projection } from './projection.js';
import { quotas, type QuotasState } from './quotas.js';
import { settings, type SettingsState } from './settings.js';
import { retention, type RetentionState } from './retention.js';
import { transfers } from './transfers.js';
import { messages } from './messages.js';
import type { StoredView } from './projection.js';

// The views kept in memory. Chats, message states and unread counts are the stored messages
// view (messages.ts), transfers the stored transfers view (transfers.ts), both read by page
// through the profile.
export type Views = {
  quotas: QuotasState;
  contacts: ContactsState;
  links: LinksState;
  settings: SettingsState;
  identity: IdentityState;
  requests: RequestsState;
  invites: InvitesState;
  retention: RetentionState;
};

export type ViewName = keyof Views;

export const PROJECTIONS: { [K in ViewName]: Projection<Views[K]> } = {
  quotas,
  contacts,
  links,
  settings,
  identity,
  requests,
  invites,
  retention,
};

export const VIEW_NAMES = Object.keys(PROJECTIONS) as ViewName[];

export function initialViews(): Views {
  const views = {} as Record<ViewName, unknown>;
  for (const name of VIEW_NAMES) views[name] = PROJECTIONS[name].initial();
  return views as Views;
}

export type { Projection };

// The views whose records live on disk beside the journal (projection.ts, StoredView).
export const STORED_VIEWS: ReadonlyArray<StoredView<unknown>> = [messages as StoredView<unknown>, transfers as StoredView<unknown>];
