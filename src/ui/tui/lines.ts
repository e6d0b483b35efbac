// The chat body as blocks of rows, each row a piece of text with its colour and side; pure. A
// block is a message, a transfer, a notice or a day's separator; window.ts picks which rows fit
// and the ChatPane draws them. Messages, transfers and notices are put in the order of their
// seq in the journal, so a notice shows where it happened among the messages.
//
//   chatBlocks({ t, rows: [hi], ... })  // => [{ key: 'day:…', rows: [──── 1 December 2026 ────] },
//                                       //     { key: 'm:12', rows: ['hi', '09:05 ✓✓ delivered'] }]
import type { HistoryRow } from '../../node/export.js';
import type { TransferRow } from '../../commands/transfers.js';
import type { Catalogue } from '../i18n/index.js';
import { oneLine, timeOf } from '../console/format.js';
import { binaryOf, frameBytes, hexRows } from './bits.js';
import { transferStateLine, transferTitle } from './progress.js';
import type { Notice, ShownNotice } from './model.js';
import { fit, textWidth, wrap } from './wrap.js';

export type Row = { text: string; color?: string; dim?: boolean; bold?: boolean; inverse?: boolean; align: 'left' | 'right' | 'center' };
// `message`: the index of its message in `rows`, for the selection (copy).
export type Block = { key: string; rows: Row[]; message?: number };

export type ChatInput = {
  t: Catalogue;
  language: string;
  width: number;
  rows: HistoryRow[];
  notices: ShownNotice[];
  transfers: TransferRow[];
  nameOf: (peer: number) => string;
  selected: number | null;
  showBits: boolean;
  // My id, for the frames of `showBits` (0 before I have one).
  me: number;
};

const MARKS: Record<string, string> = { pending: '◷', sent: '✓', delivered: '✓✓', read: '✓✓', failed: '✗' };

// The mark after my message's time: a sign and its word. => '✓✓ read'
export function statusMark(t: Catalogue, status: string): string {
  const word = t.status[status] ?? status;
  return [MARKS[status] ?? '', word].filter((s) => s !== '').join(' ');
}

export function dayOf(at: number, language: string): string {
  return new Intl.DateTimeFormat(language, { day: 'numeric', month: 'long', year: 'numeric' }).format(new Date(at));
}

const sameDay = (a: number, b: number): boolean => new Date(a).toDateString() === new Date(b).toDateString();

export function noticeText(t: Catalogue, n: Notice, nameOf: (peer: number) => string): string {
  switch (n.kind) {
    case 'request':
      return t.uiRequested(n.peer);
    case 'accepted':
      return t.accepted(n.peer);
    case 'refused':
      return t.refused(n.peer);
    case 'presence':
      return n.presence === 'online' ? t.peerOnline(nameOf(n.peer)) : n.presence === 'refused' ? t.peerRefused(nameOf(n.peer)) : t.peerOffline(nameOf(n.peer));
    case 'route':
      return n.from === null ? t.route(nameOf(n.peer), n.to) : t.routeChanged(nameOf(n.peer), n.from, n.to);
    case 'server':
      return n.online ? t.serverOnline : t.serverOffline;
    case 'messageFailed':
      return t.uiMessageFailed(oneLine(n.reason));
    case 'failed':
      return t.failed(oneLine(n.text));
    case 'notSent':
      return t.notSent;
    case 'confirm':
      return (n.file ? t.confirmFile : t.confirmMessage)(n.packets, nameOf(n.peer)) + t.uiConfirmKeys;
    case 'quotaRefused':
      return t.uiQuotaRefused(nameOf(n.peer), n.n, n.files, n.mine);
  }
}

// The teaching view of `show-bits` (bits.ts): the message's frame in hex, its start in binary.
function bitRows(c: ChatInput, m: HistoryRow): Row[] {
  const [from, to] = m.direction === 'out' ? [c.me, m.peer] : [m.peer, c.me];
  const frame = frameBytes({ id: m.id, text: m.text, at: m.at, replyTo: m.reply_to }, from, to);
  const rows = [...wrap(c.t.uiBits(frame.length), c.width), ...hexRows(frame), binaryOf(frame)];
  return rows.map((text) => ({ text: fit(text, c.width), dim: true, align: 'left' as const }));
}

function messageBlock(c: ChatInput, m: HistoryRow, index: number, byId: Map<string, HistoryRow>): Block {
  const out = m.direction === 'out';
  const align: Row['align'] = out ? 'right' : 'left';
  const bubble = Math.max(10, Math.floor(c.width * 0.8));
  const selected = c.selected === index;
  // A blank row above each message: the eye finds where one ends and the next begins.
  const rows: Row[] = [{ text: '', align }];
  if (m.reply_to !== null) {
    const quoted = byId.get(m.reply_to);
    const who = quoted ? (quoted.direction === 'out' ? c.t.you : c.nameOf(quoted.peer)) : '';
    const text = quoted ? `${who}: ${oneLine(quoted.text)}` : c.t.uiReplyUnknown;
    rows.push({ text: fit(`┃ ${text}`, bubble), dim: true, align });
  }
  const color = m.status === 'failed' ? 'red' : out ? 'cyan' : 'green';
  for (const line of wrap(m.text.split('\n').map(oneLine).join('\n'), bubble)) rows.push({ text: line, color, align, inverse: selected });
  const received = m.received_at === null ? null : timeOf(m.received_at);
  const meta = [c.t.uiTimes(timeOf(m.at), received)];
  if (out) meta.push(statusMark(c.t, m.status));
  if (m.status === 'failed' && m.reason) meta.push(oneLine(m.reason));
  if (m.edited_at !== null) meta.push(c.t.edited);
  rows.push({ text: fit(meta.join(' · '), c.width), dim: true, color: out && m.status === 'read' ? 'blue' : undefined, align });
  if (c.showBits) rows.push(...bitRows(c, m));
  return { key: `m:${m.seq}`, rows, message: index };
}

type Item = { seq: number; at: number; block: () => Block[] };

export function chatBlocks(c: ChatInput): Block[] {
  const byId = new Map(c.rows.map((r) => [r.id, r]));
  const items: Item[] = [];
  c.rows.forEach((m, i) => items.push({ seq: m.seq, at: m.at, block: () => [messageBlock(c, m, i, byId)] }));
  for (const r of c.transfers) {
    const color = r.state === 'failed' ? 'red' : r.state === 'completed' ? 'green' : 'yellow';
    const align: Row['align'] = r.direction === 'out' ? 'right' : 'left';
    items.push({ seq: r.seq, at: 0, block: () => [{ key: `t:${r.peer}/${r.direction}/${r.id}`, rows: [{ text: fit(transferTitle(r), c.width), bold: true, align }, ...wrap(transferStateLine(c.t, r), c.width).map((text) => ({ text, color, align }))] }] });
  }
  for (const n of c.notices) {
    items.push({ seq: n.seq, at: 0, block: () => [{ key: `n:${n.id}`, rows: wrap(`— ${noticeText(c.t, n.notice, c.nameOf)}`, c.width).map((text) => ({ text, color: 'yellow', align: 'left' as const })) }] });
  }
  items.sort((a, b) => a.seq - b.seq);
  const blocks: Block[] = [];
  let lastDay: number | null = null;
  for (const item of items) {
    // A day's separator before the first message of each day.
    if (item.at > 0 && (lastDay === null || !sameDay(lastDay, item.at))) {
      const day = ` ${dayOf(item.at, c.language)} `;
      const side = Math.max(2, Math.floor((c.width - textWidth(day)) / 2));
      blocks.push({ key: `day:${item.seq}`, rows: [{ text: fit('─'.repeat(side) + day + '─'.repeat(side), c.width), dim: true, align: 'center' }] });
      lastDay = item.at;
    }
    blocks.push(...item.block());
  }
  return blocks;
}
