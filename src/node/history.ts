// Reading chats from the stored messages view (projections/messages.ts) by page, without loading
// a chat: the chat's entries by key range, their records and their events by key. A page of 50
// is three reads whatever the size of the history.
import { eventKey } from '../events/codec.js';
import type { Journal } from '../events/journal.js';
import type { Direction, Stored } from '../events/types.js';
import {
  chatKey,
  decodeChatEntry,
  decodeSeq,
  decodeSummary,
  decodeUpdateKey,
  foldUpdates,
  messageKey,
  peerRange,
  PREFIX,
  statusOf,
  summaryKey,
  updateRange,
  type ChatEntry,
  type ChatSummary,
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
  const entries: ChatEntry[] = [];
  for await (const batch of journal.entries({ gte: range.gte, lt, reverse: true, limit })) for (const [key, value] of batch) entries.push(decodeChatEntry(key, value));
  entries.reverse();
  return resolve(journal, summaryOf(summaries, peer), peer, entries);
}

// Every message of the chat from `after` on, oldest first, a page at a time: memory stays flat
// however long the chat (exports, `history` without --limit).
export async function* streamOf(journal: Journal, summaries: Summaries, peer: number, after = 0, pageSize = 500): AsyncGenerator<ChatMessage[]> {
  const range = peerRange(PREFIX.CHAT, peer);
  const summary = summaryOf(summaries, peer);
  for await (const batch of journal.entries({ gte: after > 0 ? chatKey(peer, after + 1) : range.gte, lt: range.lt })) {
    const entries = batch.map(([key, value]) => decodeChatEntry(key, value));
    for (let i = 0; i < entries.length; i += pageSize) yield await resolve(journal, summary, peer, entries.slice(i, i + pageSize));
  }
}

// One message by its key, or undefined.
export async function messageOf(journal: Journal, summaries: Summaries, peer: number, direction: Direction, id: string): Promise<ChatMessage | undefined> {
  const [value] = await journal.getMany([messageKey(peer, direction, id)]);
  if (value === undefined) return undefined;
  const key = chatKey(peer, decodeSeq(value));
  const [entry] = await journal.getMany([key]);
  if (entry === undefined) return undefined;
  const [message] = await resolve(journal, summaryOf(summaries, peer), peer, [decodeChatEntry(key, entry)]);
  return message;
}

// Entries (in chat order) made into messages: their updates, read with one range from the first
// to the last (the chat's keys between them are these messages' own), and their texts, from the
// journal: the message's own event and its last edit.
async function resolve(journal: Journal, summary: ChatSummary | undefined, peer: number, entries: ChatEntry[]): Promise<ChatMessage[]> {
  if (entries.length === 0) return [];
  const updates = new Map<number, Array<{ kind: number; eventSeq: number; value: Buffer }>>();
  const first = entries[0].seq;
  const last = entries[entries.length - 1].seq;
  for await (const batch of journal.entries(updateRange(peer, first, last + 1))) {
    for (const [key, value] of batch) {
      const u = decodeUpdateKey(key);
      let list = updates.get(u.msgSeq);
      if (!list) {
        list = [];
        updates.set(u.msgSeq, list);
      }
      list.push({ kind: u.kind, eventSeq: u.eventSeq, value });
    }
  }
  const states = entries.map((e) => foldUpdates(updates.get(e.seq) ?? []));
  const seqs: number[] = [];
  for (let i = 0; i < entries.length; i++) {
    seqs.push(entries[i].seq);
    if (states[i].editSeq > 0) seqs.push(states[i].editSeq);
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
  for (let i = 0; i < entries.length; i++) {
    const { seq, direction, id } = entries[i];
    const state = states[i];
    const event = events.get(seq);
    if (!event || (event.type !== 'message.sent' && event.type !== 'message.received')) continue;
    const edit = state.editSeq > 0 ? events.get(state.editSeq) : undefined;
    const text = edit && edit.type === 'message.edited' ? edit.text : event.text;
    out.push({
      seq,
      id,
      peer,
      direction,
      at: event.type === 'message.received' ? event.sentAt : event.at,
      receivedAt: event.type === 'message.received' ? event.at : state.deliveredAt,
      text,
      status: statusOf(direction, seq, state, summary),
      editedAt: state.editedAt,
      replyTo: event.replyTo ?? null,
      reason: state.failed,
    });
  }
  return out;
}
