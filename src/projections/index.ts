// Every projection a client runs, and the record of their states that the rest of Parley reads.
import { chats, type ChatsState } from './chats.js';
import { contacts, type ContactsState } from './contacts.js';
import { links, type LinksState } from './links.js';
import type { Projection } from './projection.js';
import { quotas, type QuotasState } from './quotas.js';
import { settings, type SettingsState } from './settings.js';
import { transfers, type TransfersState } from './transfers.js';
import { unread, type UnreadState } from './unread.js';

export type Views = {
  chats: ChatsState;
  unread: UnreadState;
  transfers: TransfersState;
  quotas: QuotasState;
  contacts: ContactsState;
  links: LinksState;
  settings: SettingsState;
};

export type ViewName = keyof Views;

export const PROJECTIONS: { [K in ViewName]: Projection<Views[K]> } = {
  chats,
  unread,
  transfers,
  quotas,
  contacts,
  links,
  settings,
};

export const VIEW_NAMES = Object.keys(PROJECTIONS) as ViewName[];

export function initialViews(): Views {
  const views = {} as Record<ViewName, unknown>;
  for (const name of VIEW_NAMES) views[name] = PROJECTIONS[name].initial();
  return views as Views;
}

export type { Projection };
