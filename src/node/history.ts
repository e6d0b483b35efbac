// Reading chats from the stored messages view (projections/messages.ts) by page, without loading
// a chat: the chat's entries with their updates by key range, and their events by key. A page of
// 50 is two reads whatever the size of the history.
import { eventKey } from '../events/codec.js';
import type { Journal } from '../events/journal.js';
import { isUnreadable } from '../events/values.js';
import type { Direction, Stored } from '../events/types.js';
import { chatKey, chatRange, decodeUpdate, isUpdateKey, messageKey, peerRange, PREFIX, summaryKey, type Update } from '../projections/message-keys.js';
import { foldUpdates, statusOf, type MessageStatus } from '../projections/message-status.js';
import { decodeChatEntry, decodeSeq, decodeSummary, type ChatEntry, type ChatSummary } from '../projections/message-values.js';

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

// A message's entry with its updates, as one range read gives them (message-keys.ts: an update's key
// starts with its message's entry key).
type Item = { entry: ChatEntry; updates: Update[] };

// How many keys to ask LevelDB for, for `messages` messages: a message and its updates are two or
// three keys on average (a receipt or two); a page that needs more asks again.
export function keysFor(messages: number): number {
  return messages * 3 + 16;
}

// The last `limit` messages of the chat before `before` (all of them before the end when it is
// not given), oldest first. Read backwards, a message's updates come just before its entry, so
// the page is complete when its oldest entry is: one range read, then one read of the events.
export async function pageOf(journal: Journal, summaries: Summaries, peer: number, options: PageOptions = {}): Promise<ChatMessage[]> {
  const limit = options.limit ?? DEFAULT_PAGE;
  if (limit <= 0) return [];
  const range = peerRange(PREFIX.CHAT, peer);
  let lt = options.before !== undefined ? chatKey(peer, Math.max(0, Math.min(options.before, 2 ** 48 - 1))) : range.lt;
  const items: Item[] = []; // newest first
  let updates: Update[] = []; // of the entry the next key read may be, newest first
  while (items.length < limit) {
    const want = keysFor(limit - items.length);
    let read = 0;
    let last: Buffer | null = null;
    for await (const batch of journal.entries({ gte: range.gte, lt, reverse: true, limit: want })) {
      for (const [key, value] of batch) {
        read++;
        last = key;
        if (isUpdateKey(key)) {
          updates.push(decodeUpdate(key, value));
          continue;
        }
        const entry = decodeChatEntry(key, value);
        // An update that names no message here (a receipt with a wrong msgSeq) is left out.
        items.push({ entry, updates: updates.filter((u) => u.msgSeq === entry.seq).reverse() });
        updates = [];
        if (items.length === limit) break;
      }
      if (items.length === limit) break;
    }
    if (read < want || last === null) break; // the start of the chat
    lt = last;
  }
  items.reverse();
  return resolve(journal, summaryOf(summaries, peer), peer, items);
}

// Every message of the chat from `after` on, oldest first, a page at a time: memory stays flat
// however long the chat (exports, `history` without --limit).
export async function* streamOf(journal: Journal, summaries: Summaries, peer: number, after = 0, pageSize = 500): AsyncGenerator<ChatMessage[]> {
  const range = peerRange(PREFIX.CHAT, peer);
  const summary = summaryOf(summaries, peer);
  let pending: Item[] = [];
  for await (const item of itemsForward(journal.entries({ gte: after > 0 ? chatKey(peer, after + 1) : range.gte, lt: range.lt }))) {
    pending.push(item);
    if (pending.length >= pageSize) {
      const page = pending;
      pending = [];
      yield await resolve(journal, summary, peer, page);
    }
  }
  if (pending.length > 0) yield await resolve(journal, summary, peer, pending);
}

// One message by its key, or undefined.
export async function messageOf(journal: Journal, summaries: Summaries, peer: number, direction: Direction, id: string): Promise<ChatMessage | undefined> {
  const [value] = await journal.getMany([messageKey(peer, direction, id)]);
  if (value === undefined) return undefined;
  const seq = decodeSeq(value);
  for await (const item of itemsForward(journal.entries(chatRange(peer, seq, seq + 1)))) {
    const [message] = await resolve(journal, summaryOf(summaries, peer), peer, [item]);
    return message;
  }
  return undefined;
}

// A chat's keys read forwards made into messages with their updates: an update follows its
// message's entry, so a message is complete when the next entry (or the end) is read. An update
// that names no message here (a receipt with a wrong msgSeq) is left out.
async function* itemsForward(batches: AsyncIterable<Array<[Buffer, Buffer]>>): AsyncGenerator<Item> {
  let current: Item | null = null;
  for await (const batch of batches) {
    for (const [key, value] of batch) {
      if (isUpdateKey(key)) {
        const update = decodeUpdate(key, value);
        if (current && update.msgSeq === current.entry.seq) current.updates.push(update);
        continue;
      }
      if (current) yield current;
      current = { entry: decodeChatEntry(key, value), updates: [] };
    }
  }
  if (current) yield current;
}

// The events of a page lie far apart in the journal (a chat's messages among everyone else's):
// fifty of them are about fifty LevelDB blocks, each looked up, read and decompressed apart. One
// getMany reads them one after another on one of libuv's threads; cut into slices of at least
// SLICE keys, up to READERS at once, they are read side by side (LevelDB's reads share nothing
// but a short lock). Measured on a profile of 3,000,000 messages, six new processes each way in
// turns (docs/BENCHMARKS.md, history): page p50 2.29 ms against 2.60 in one piece, p90 3.48
// against 3.84; the p99 did not move (the first pages' compilation makes it).
const READERS = 4; // libuv's threads, by default
const SLICE = 8;

async function getSpread(journal: Journal, keys: Buffer[]): Promise<Array<Buffer | undefined>> {
  const parts = Math.min(READERS, Math.floor(keys.length / SLICE));
  if (parts < 2) return journal.getMany(keys);
  const size = Math.ceil(keys.length / parts);
  const slices: Array<Promise<Array<Buffer | undefined>>> = [];
  for (let i = 0; i < keys.length; i += size) slices.push(journal.getMany(keys.slice(i, i + size)));
  return (await Promise.all(slices)).flat();
}

// Entries (in chat order) with their updates made into messages: their texts from the journal,
// the message's own event and its last edit, in one read (getSpread).
async function resolve(journal: Journal, summary: ChatSummary | undefined, peer: number, items: Item[]): Promise<ChatMessage[]> {
  if (items.length === 0) return [];
  const entries = items.map((item) => item.entry);
  const states = items.map((item) => foldUpdates(item.updates));
  const seqs: number[] = [];
  for (let i = 0; i < entries.length; i++) {
    seqs.push(entries[i].seq);
    if (states[i].editSeq > 0) seqs.push(states[i].editSeq);
  }
  const values = await getSpread(journal, seqs.map((seq) => eventKey(seq)));
  const found: number[] = [];
  const stored: Buffer[] = [];
  for (let i = 0; i < seqs.length; i++) {
    const value = values[i];
    if (value === undefined) continue;
    found.push(seqs[i]);
    stored.push(value);
  }
  // An unreadable event: its message is left out, as a replay leaves it out.
  const results = journal.decodeMany(found, stored);
  const events = new Map<number, Stored>();
  for (let i = 0; i < found.length; i++) {
    const result = results[i];
    if (!isUnreadable(result)) events.set(found[i], result);
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
