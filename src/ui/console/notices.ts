// What the console prints of what happens: a line for each event a person wants to see as it
// comes (messages, requests, transfers), and for each change of the status (the server, a
// contact's presence, a route). Delivered and read marks are not told line by line. Pure: the
// caller passes the names it knows.
import type { Stored } from '../../events/types.js';
import type { StatusRow } from '../../node/status.js';
import type { Catalogue } from '../i18n/index.js';
import { messageLine, oneLine, safe, sizeText } from './format.js';

// How a contact is shown, from its id: 'Bob (77)'.
export type NameOf = (peer: number) => string;

// Transfers are named in later events by their key alone: the console keeps the names it saw
// offered (or read from a page) to say which file a completion is about.
export type FileNames = Map<string, string>;

export const fileKey = (peer: number, direction: string, id: string): string => `${peer}/${direction}/${id}`;

export function eventLine(t: Catalogue, e: Stored, nameOf: NameOf, files: FileNames): string | null {
  switch (e.type) {
    case 'message.received':
      return messageLine(t, { direction: 'in', at: e.sentAt, text: e.text }, nameOf(e.peer));
    case 'message.sent':
      return messageLine(t, { direction: 'out', at: e.at, text: e.text }, nameOf(e.peer));
    case 'message.failed':
      return t.messageFailed(nameOf(e.peer), e.id, oneLine(e.reason));
    case 'message.edited':
      return e.direction === 'in' ? t.messageEdited(nameOf(e.peer), safe(e.text)) : null;
    case 'contact.requested':
      return t.requested(e.peer);
    case 'transfer.offered': {
      const name = oneLine(e.name);
      files.set(fileKey(e.peer, e.direction, e.id), name);
      const tid = oneLine(e.id);
      return e.direction === 'in' ? t.fileOffered(nameOf(e.peer), name, sizeText(e.size), tid) : t.fileOffering(nameOf(e.peer), name, sizeText(e.size), tid);
    }
    case 'transfer.accepted':
      return t.fileAccepted(nameOf(e.peer), fileOf(files, e), e.direction === 'in');
    case 'transfer.declined':
      return t.fileDeclined(e.direction === 'out' ? nameOf(e.peer) : t.you, fileOf(files, e), oneLine(e.reason ?? ''));
    case 'transfer.completed':
      return t.fileCompleted(fileOf(files, e), e.direction === 'in' && e.path ? oneLine(e.path) : '');
    case 'transfer.failed':
      return t.fileFailed(fileOf(files, e), oneLine(e.reason));
    case 'transfer.cancelled':
      return t.fileCancelled(fileOf(files, e), e.by === 'me');
    default:
      return null;
  }
}

// The file's name when the console saw its offer, else its transfer id.
function fileOf(files: FileNames, e: { peer: number; direction: string; id: string }): string {
  return files.get(fileKey(e.peer, e.direction, e.id)) ?? oneLine(e.id);
}

// What changed from one status to the next, a line each: the server, then each contact.
export function statusLines(t: Catalogue, before: StatusRow, after: StatusRow, nameOf: NameOf): string[] {
  const out: string[] = [];
  if (before.server !== after.server) {
    if (after.server === 'online') out.push(t.serverOnline);
    else if (before.server === 'online') out.push(t.serverOffline);
  }
  const was = new Map(before.contacts.map((c) => [c.id, c]));
  for (const c of after.contacts) {
    const b = was.get(c.id);
    if (!b) continue;
    const name = nameOf(c.id);
    if (b.presence !== c.presence) out.push(c.presence === 'online' ? t.peerOnline(name) : c.presence === 'refused' ? t.peerRefused(name) : t.peerOffline(name));
    if (c.route !== null && b.route !== c.route) out.push(b.route === null ? t.route(name, c.route) : t.routeChanged(name, b.route, c.route));
  }
  return out;
}
