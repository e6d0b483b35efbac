// The UI's state, folded from what the client tells (the snapshot, then events, statuses and
// settings: attachment.ts) and from the pages and command outputs the UI asked for; pure, a
// `switch` on the action's type, no I/O. The components render it; the App sends intents.
//
//   evolve(model, { type: 'event', event: messageDelivered })  // the row's mark turns ✓✓ in place
import type { Stored } from '../../events/types.js';
import type { HistoryRow } from '../../node/export.js';
import type { StatusRow } from '../../node/status.js';
import type { TransferRow } from '../../commands/transfers.js';
import { moveOn } from '../../projections/transfer-values.js';
import type { ShownSettings, Snapshot } from '../attachment.js';

// What the chat body tells besides messages and transfers. Kept as data, not text, so that a
// change of language shows them in the new one.
export type Notice =
  | { kind: 'request'; peer: number }
  | { kind: 'accepted'; peer: number }
  | { kind: 'refused'; peer: number }
  | { kind: 'presence'; peer: number; presence: string }
  | { kind: 'route'; peer: number; from: string | null; to: string }
  | { kind: 'server'; online: boolean }
  | { kind: 'messageFailed'; peer: number; reason: string }
  | { kind: 'failed'; text: string }
  | { kind: 'notSent' }
  // The packets a long message or a file will spend, asked before it goes.
  | { kind: 'confirm'; peer: number; packets: number; file: boolean }
  // mine: what I sent was refused for the packets the peer granted me; else the peer's.
  | { kind: 'quotaRefused'; peer: number; n: number; files: boolean; mine: boolean };

// `peer` null: shown in every chat (the server, a request from someone not yet a contact).
// `seq`: where it goes among the messages, the journal's seq when it came; `id`: its own.
export type ShownNotice = { id: number; seq: number; at: number; peer: number | null; notice: Notice };

export type Chat = { peer: number; rows: HistoryRow[]; hasOlder: boolean; loading: boolean };

type Left = { messages: { left: number; granted: number }; files: { left: number; granted: number } };
// What I may still send the contact (outbound), and it me (inbound), as `parley limits` counts.
export type QuotaLeft = { outbound: Left; inbound: Left | null };

export type Model = {
  status: StatusRow;
  settings: ShownSettings;
  folders: Record<number, string>;
  current: number | null;
  chat: Chat | null;
  notices: ShownNotice[];
  transfers: Record<string, TransferRow>;
  requests: number[];
  quotas: Record<number, QuotaLeft>;
  seq: number;
  // Notices given so far: the next one's id.
  noticeCount: number;
};

export type Action =
  | { type: 'event'; event: Stored }
  | { type: 'status'; status: StatusRow; at: number }
  | { type: 'settings'; settings: ShownSettings }
  | { type: 'open'; peer: number }
  | { type: 'page'; peer: number; rows: HistoryRow[]; older: boolean; limit: number }
  | { type: 'transfers'; rows: TransferRow[] }
  | { type: 'folders'; rows: Array<{ id: number; folder: string }> }
  | { type: 'quota'; peer: number; quota: QuotaLeft }
  | { type: 'notice'; peer: number | null; notice: Notice; at: number };

// Notices kept: the chat body shows the recent ones; older ones are gone with the session.
const MAX_NOTICES = 300;

export const transferKey = (t: { peer: number; direction: string; id: string }): string => `${t.peer}/${t.direction}/${t.id}`;

export function initialModel(snapshot: Snapshot): Model {
  const m: Model = { status: snapshot.status, settings: snapshot.settings, folders: {}, current: null, chat: null, notices: [], transfers: {}, requests: [], quotas: {}, seq: snapshot.seq, noticeCount: 0 };
  return { ...onStatus(m, snapshot.status, 0), notices: [], noticeCount: 0 };
}

// The open chat's "keep history" (history keep), when the client's status tells it.
export function keepOf(m: Model, peer: number | null): boolean | null {
  const c = m.status.contacts.find((x) => x.id === peer) as { keep_history?: unknown } | undefined;
  return typeof c?.keep_history === 'boolean' ? c.keep_history : null;
}

function withNotice(m: Model, peer: number | null, notice: Notice, at: number): Model {
  return { ...m, noticeCount: m.noticeCount + 1, notices: [...m.notices, { id: m.noticeCount, seq: m.seq + 0.5, at, peer, notice }].slice(-MAX_NOTICES) };
}

function mapRows(m: Model, peer: number, f: (rows: HistoryRow[]) => HistoryRow[]): Model {
  if (!m.chat || m.chat.peer !== peer) return m;
  return { ...m, chat: { ...m.chat, rows: f(m.chat.rows) } };
}

const updateRow = (id: string, f: (r: HistoryRow) => HistoryRow) => (rows: HistoryRow[]) => rows.map((r) => (r.id === id ? f(r) : r));

// Read is a watermark (events/types.ts, message.read): everything up to the row named, of the
// side it is about.
function readUpTo(rows: HistoryRow[], id: string, direction: 'in' | 'out'): HistoryRow[] {
  const mark = rows.find((r) => r.id === id && r.direction === direction);
  if (!mark) return rows;
  return rows.map((r) => (r.direction === direction && r.seq <= mark.seq && r.status !== 'failed' ? { ...r, status: 'read' } : r));
}

function withTransfer(m: Model, key: string, f: (t: TransferRow) => TransferRow): Model {
  const t = m.transfers[key];
  return t ? { ...m, transfers: { ...m.transfers, [key]: f(t) } } : m;
}

function onEvent(m0: Model, e: Stored): Model {
  const m = { ...m0, seq: Math.max(m0.seq, e.seq) };
  switch (e.type) {
    case 'message.sent':
    case 'message.received': {
      const out = e.type === 'message.sent';
      const row: HistoryRow = {
        seq: e.seq,
        id: e.id,
        peer: e.peer,
        direction: out ? 'out' : 'in',
        at: out ? e.at : e.sentAt,
        received_at: out ? null : e.at,
        text: e.text,
        status: out ? 'pending' : 'received',
        edited_at: null,
        reply_to: e.replyTo ?? null,
        reason: null,
      };
      return mapRows(m, e.peer, (rows) => (rows.some((r) => r.seq === e.seq) ? rows : [...rows, row]));
    }
    case 'message.transmitted':
      return mapRows(m, e.peer, updateRow(e.id, (r) => (r.status === 'pending' ? { ...r, status: 'sent' } : r)));
    case 'message.delivered':
      return mapRows(m, e.peer, updateRow(e.id, (r) => ({ ...r, status: r.status === 'read' ? 'read' : 'delivered', received_at: e.receivedAt })));
    case 'message.read':
      return mapRows(m, e.peer, (rows) => readUpTo(rows, e.id, e.by === 'peer' ? 'out' : 'in'));
    case 'message.failed':
      return withNotice(mapRows(m, e.peer, updateRow(e.id, (r) => ({ ...r, status: 'failed', reason: e.reason }))), e.peer, { kind: 'messageFailed', peer: e.peer, reason: e.reason }, e.at);
    case 'message.edited':
      return mapRows(m, e.peer, updateRow(e.id, (r) => ({ ...r, text: e.text, edited_at: e.at })));
    case 'chat.cleared':
      return m.chat?.peer === e.peer ? { ...m, chat: { ...m.chat, rows: [], hasOlder: false } } : m;
    case 'contact.requested':
      // Not a contact yet, so it has no chat of its own: told in every chat.
      return withNotice({ ...m, requests: [...m.requests.filter((p) => p !== e.peer), e.peer] }, null, { kind: 'request', peer: e.peer }, e.at);
    case 'contact.added':
    case 'contact.whitelisted': {
      if (!m.requests.includes(e.peer)) return m;
      return withNotice({ ...m, requests: m.requests.filter((p) => p !== e.peer) }, null, { kind: 'accepted', peer: e.peer }, e.at);
    }
    case 'contact.refused':
      if (!m.requests.includes(e.peer)) return m;
      return withNotice({ ...m, requests: m.requests.filter((p) => p !== e.peer) }, null, { kind: 'refused', peer: e.peer }, e.at);
    case 'quota.refused':
      return withNotice(m, e.peer, { kind: 'quotaRefused', peer: e.peer, n: e.n, files: e.kind === 'files', mine: e.direction === 'outbound' }, e.at);
    case 'contact.moved':
      return { ...m, folders: { ...m.folders, [e.peer]: e.folder } };
    case 'transfer.offered': {
      const row: TransferRow = { seq: e.seq, id: e.id, peer: e.peer, direction: e.direction, name: e.name, size: e.size, done: 0, wire_bytes: 0, state: 'offered', reason: null, mb_per_s: null, avg_mb_per_s: null, path: e.path ?? null };
      return { ...m, transfers: { ...m.transfers, [transferKey(e)]: row } };
    }
    // As the stored view moves (moveOn): a resume journaled just after the transfer completed
    // (its link changed as it ended) once showed a finished file as in progress.
    case 'transfer.accepted':
    case 'transfer.resumed':
      return withTransfer(m, transferKey(e), (t) => (moveOn(t.state, e.type) ? { ...t, state: 'active', mb_per_s: t.mb_per_s ?? 0 } : t));
    case 'transfer.paused':
      return withTransfer(m, transferKey(e), (t) => (moveOn(t.state, e.type) ? { ...t, state: 'paused', mb_per_s: null } : t));
    case 'transfer.declined':
      return withTransfer(m, transferKey(e), (t) => ({ ...t, state: 'declined', reason: e.reason ?? '' }));
    case 'transfer.completed':
      return withTransfer(m, transferKey(e), (t) => ({ ...t, state: 'completed', done: t.size, mb_per_s: null, path: e.path ?? t.path }));
    case 'transfer.failed':
      return withTransfer(m, transferKey(e), (t) => ({ ...t, state: 'failed', reason: e.reason, mb_per_s: null }));
    case 'transfer.cancelled':
      return withTransfer(m, transferKey(e), (t) => ({ ...t, state: 'cancelled', reason: e.by === 'me' ? '' : 'peer', mb_per_s: null }));
    case 'settings.changed':
      // The client sends the settings as they read after this (onSettings): nothing to do here.
      return m;
    default:
      return m;
  }
}

// What changed from one status to the next, as notices: the server (in every chat), each
// contact's presence and route (in its chat).
function onStatus(m: Model, next: StatusRow, at: number): Model {
  // A client that knows folders says each contact's in its status (contacts move).
  const folders = { ...m.folders };
  for (const c of next.contacts as Array<{ id: number; folder?: unknown }>) if (typeof c.folder === 'string') folders[c.id] = c.folder;
  let out: Model = { ...m, status: next, folders };
  if (m.status.server !== next.server && (next.server === 'online' || m.status.server === 'online')) out = withNotice(out, null, { kind: 'server', online: next.server === 'online' }, at);
  const was = new Map(m.status.contacts.map((c) => [c.id, c]));
  for (const c of next.contacts) {
    const b = was.get(c.id);
    if (!b) continue;
    if (b.presence !== c.presence) out = withNotice(out, c.id, { kind: 'presence', peer: c.id, presence: c.presence }, at);
    if (c.route !== null && b.route !== c.route) out = withNotice(out, c.id, { kind: 'route', peer: c.id, from: b.route, to: c.route }, at);
  }
  return out;
}

function onPage(m: Model, a: Extract<Action, { type: 'page' }>): Model {
  if (!m.chat || m.chat.peer !== a.peer) return m;
  const hasOlder = a.rows.length >= a.limit;
  if (!a.older) {
    // Events that came while the page was read are in it or after it: keep those after it.
    const last = a.rows.length > 0 ? a.rows[a.rows.length - 1].seq : 0;
    const later = m.chat.rows.filter((r) => r.seq > last);
    return { ...m, chat: { peer: a.peer, rows: [...a.rows, ...later], hasOlder, loading: false } };
  }
  const first = m.chat.rows.length > 0 ? m.chat.rows[0].seq : Infinity;
  return { ...m, chat: { ...m.chat, rows: [...a.rows.filter((r) => r.seq < first), ...m.chat.rows], hasOlder, loading: false } };
}

export function evolve(m: Model, a: Action): Model {
  switch (a.type) {
    case 'event':
      return onEvent(m, a.event);
    case 'status':
      return onStatus(m, a.status, a.at);
    case 'settings':
      return { ...m, settings: a.settings };
    case 'open':
      return { ...m, current: a.peer, chat: { peer: a.peer, rows: [], hasOlder: true, loading: true } };
    case 'page':
      return onPage(m, a);
    case 'transfers': {
      const transfers = { ...m.transfers };
      for (const r of a.rows) transfers[transferKey(r)] = r;
      return { ...m, transfers };
    }
    case 'folders': {
      const folders = { ...m.folders };
      for (const r of a.rows) folders[r.id] = r.folder;
      return { ...m, folders };
    }
    case 'quota':
      return { ...m, quotas: { ...m.quotas, [a.peer]: a.quota } };
    case 'notice':
      return withNotice(m, a.peer, a.notice, a.at);
  }
}

// ---- questions the App asks of the model ----

export const isOn = (settings: ShownSettings, key: string): boolean => settings[key] === 'on' || settings[key] === true;

// A new message in another chat rings the bell when `notify` is on.
export function rings(m: Model, e: Stored): boolean {
  return e.type === 'message.received' && e.peer !== m.current && isOn(m.settings, 'notify');
}

export type Folder = 'main' | 'spam';

export const folderOf = (m: Model, peer: number): Folder => (m.folders[peer] === 'spam' ? 'spam' : 'main');

// The contacts of a folder matching the search (a name's part, any case, or an id's start).
export function contactList(m: Model, folder: Folder, search: string): StatusRow['contacts'] {
  const q = search.trim().toLowerCase();
  return m.status.contacts.filter((c) => folderOf(m, c.id) === folder && (q === '' || c.name.toLowerCase().includes(q) || String(c.id).startsWith(q)));
}

// The unread messages of each folder's contacts.
export function unreadByFolder(m: Model): Record<Folder, number> {
  const out: Record<Folder, number> = { main: 0, spam: 0 };
  for (const c of m.status.contacts) out[folderOf(m, c.id)] += c.unread;
  return out;
}

// Transfers of one chat, or all, oldest offer first.
export function transfersOf(m: Model, peer: number | null): TransferRow[] {
  return Object.values(m.transfers)
    .filter((t) => peer === null || t.peer === peer)
    .sort((a, b) => a.seq - b.seq);
}

// The transfer a key acts on in a chat: the newest one still open.
export function openTransfer(m: Model, peer: number, states: ReadonlyArray<TransferRow['state']>): TransferRow | null {
  const open = transfersOf(m, peer).filter((t) => states.includes(t.state));
  return open[open.length - 1] ?? null;
}

export const nameOf = (m: Model, peer: number): string => m.status.contacts.find((c) => c.id === peer)?.name ?? String(peer);
