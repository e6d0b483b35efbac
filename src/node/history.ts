// Reading chats from the stored messages view (projections/messages.ts) by page, without loading
// a chat: the chat's entries by key range, their records and their events by key. A page of 50
// is three reads whatever the size of the history.
import { eventKey } from '../events/codec.js';
import type { Journal } from '../events/journal.js';
import type { Direction, Stored } from '../events/types.js';
import {
  chatKey,
  decodeChatEntry,
  decodeRecord,
  decodeSummary,
  messageKey,
  peerRange,
  PREFIX,
  seqOfChatKey,
  statusOf,
  summaryKey,
  type ChatSummary,
  type MessageRecord,
  type MessageStatus,
} from '../projections/messages.js';

export type ChatMessage = {
  seq: number;
  id: string;
  peer: number;
  direction: Direction;
  at: number; // when it was sent, on the sender's clock
  receivedAt: number | null; // when it arrived, on the receiver's clock
  text: string;
  status: MessageStatus;
  editedAt: number | null;
  replyTo: string | null;
  reason: string | null; // why it failed
};

export type PageOptions = {
  limit?: number;
  // Only messages before this seq (the `seq` of the first message of the page already shown).
  before?: number;
};

export const DEFAULT_PAGE = 50;

export type Summaries = ReadonlyMap<string, Buffer>;

export function summaryOf(summaries: Summaries, peer: number): ChatSummary | undefined {
  const value = summaries.get(summaryKey(peer).toString('latin1'));
  return value ? decodeSummary(value) : undefined;
}

// The last `limit` messages of the chat before `before` (all of them before the end when it is
// not given), oldest first.
export async function pageOf(journal: Journal, summaries: Summaries, peer: number, options: PageOptions = {}): Promise<ChatMessage[]> {
  const limit = options.limit ?? DEFAULT_PAGE;
  if (limit <= 0) return [];
  const range = peerRange(PREFIX.CHAT, peer);
  const lt = options.before !== undefined ? chatKey(peer, Math.max(0, Math.min(options.before, 2 ** 48 - 1))) : range.lt;
  const entries: Array<[Buffer, Buffer]> = [];
  for await (const batch of journal.entries({ gte: range.gte, lt, reverse: true, limit })) entries.push(...batch);
  entries.reverse();
  return resolve(journal, summaryOf(summaries, peer), peer, entries);
}

// Every message of the chat from `after` on, oldest first, a page at a time: memory stays flat
// however long the chat (exports, `history` without --limit).
export async function* streamOf(journal: Journal, summaries: Summaries, peer: number, after = 0, pageSize = 500): AsyncGenerator<ChatMessage[]> {
  const range = peerRange(PREFIX.CHAT, peer);
  const summary = summaryOf(summaries, peer);
  for await (const batch of journal.entries({ gte: after > 0 ? chatKey(peer, after + 1) : range.gte, lt: range.lt, limit: -1 })) {
    for (let i = 0; i < batch.length; i += pageSize) yield await resolve(journal, summary, peer, batch.slice(i, i + pageSize));
  }
}

// One message by its key, or undefined.
export async function messageOf(journal: Journal, summaries: Summaries, peer: number, direction: Direction, id: string): Promise<ChatMessage | undefined> {
  const [value] = await journal.getMany([messageKey(peer, direction, id)]);
  if (value === undefined) return undefined;
  const record = decodeRecord(value);
  const [message] = await resolveRecords(journal, summaryOf(summaries, peer), peer, [{ direction, id, record }]);
  return message;
}

async function resolve(journal: Journal, summary: ChatSummary | undefined, peer: number, entries: Array<[Buffer, Buffer]>): Promise<ChatMessage[]> {
  if (entries.length === 0) return [];
  const heads = entries.map(([key, value]) => ({ seq: seqOfChatKey(key), ...decodeChatEntry(value) }));
  const values = await journal.getMany(heads.map((h) => messageKey(peer, h.direction, h.id)));
  const found: Array<{ direction: Direction; id: string; record: MessageRecord }> = [];
  for (let i = 0; i < heads.length; i++) {
    const value = values[i];
    if (value === undefined) continue;
    const record = decodeRecord(value);
    // A second copy of a message in the journal has an entry of its own; the first stands.
    if (record.seq !== heads[i].seq) continue;
    found.push({ direction: heads[i].direction, id: heads[i].id, record });
  }
  return resolveRecords(journal, summary, peer, found);
}

// The texts come from the journal: the message's own event and its last edit.
async function resolveRecords(journal: Journal, summary: ChatSummary | undefined, peer: number, found: Array<{ direction: Direction; id: string; record: MessageRecord }>): Promise<ChatMessage[]> {
  const seqs: number[] = [];
  for (const f of found) {
    seqs.push(f.record.seq);
    if (f.record.editSeq > 0) seqs.push(f.record.editSeq);
  }
  const values = await journal.getMany(seqs.map((seq) => eventKey(seq)));
  const events = new Map<number, Stored>();
  for (let i = 0; i < seqs.length; i++) {
    const value = values[i];
    if (value === undefined) continue;
    try {
      events.set(seqs[i], journal.decode(seqs[i], value));
    } catch {
      // An unreadable event: its message is left out, as a replay leaves it out.
    }
  }
  const out: ChatMessage[] = [];
  for (const { direction, id, record } of found) {
    const event = events.get(record.seq);
    if (!event || (event.type !== 'message.sent' && event.type !== 'message.received')) continue;
    const edit = record.editSeq > 0 ? events.get(record.editSeq) : undefined;
    const text = edit && edit.type === 'message.edited' ? edit.text : event.text;
    out.push({
      seq: record.seq,
      id,
      peer,
      direction,
      at: event.type === 'message.received' ? event.sentAt : event.at,
      receivedAt: event.type === 'message.received' ? event.at : record.deliveredAt,
      text,
      status: statusOf(direction, record, summary),
      editedAt: record.editedAt,
      replyTo: event.replyTo ?? null,
      reason: record.failed,
    });
  }
  return out;
}
