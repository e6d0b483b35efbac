// Messages: the stored view of every chat. Its records live in the profile's LevelDB beside the
// journal, written in the same batch as the events they derive from (projection.ts, StoredView),
// so its cost does not grow with the history: a page of a chat is one range read and a read of
// its events, an append writes a few keys without reading any, and memory holds one small
// summary per chat.
//
// A message is known by (peer, direction, id): both sides choose their own ids, so my "1" and the
// peer's "1" are two messages. Texts are not copied here: a chat entry is the seq of the event
// that holds the text, and an edit's update the seq of the edit.
//
// Records (keys start with one byte of their own; peer is 5 bytes, seq 6, big-endian, so a
// chat's keys sort by peer, then in journal order):
//
//   'c' peer seq                 -> [dir, id, ord]   the chat in order, one per message; ord:
//                                                    incoming messages so far, this one included
//   'c' peer msgSeq kind evSeq   -> value            an update of the message at msgSeq, made by
//                                                    the event at evSeq: 't' sent on a link (at),
//                                                    'd' delivered (the peer's receivedAt), 'f'
//                                                    failed (reason), 'e' edited (at; the text is
//                                                    in event evSeq); a read receipt makes none
//                                                    (it moves the chat's watermarks)
//   'i' peer dir id              -> seq              a message found by its id (dir 'o' or 'i')
//   's' peer                     -> ChatSummary      counts and read watermarks, one per chat, all
//                                                    of them kept in memory too
//   'q' peer firstSeq            -> seqs             the seqs of the chat's events (its messages,
//                                                    their receipts, receipts for messages this
//                                                    view does not know), CHUNK to a record, in
//                                                    order: what a clear removes from the journal
//   'p' peer                     -> seqs             the chunk being filled, kept in memory too
//
// Why a list of seqs: a clear must find every event of the chat, and reading them from the
// chat's records meant reading a key per message and per receipt (about 2.5 per message, at
// ~3 µs each through LevelDB's iterator: 1.5 s for 200,000 messages). The list is a few
// thousand records, read in one go; the chat's records then go by key range, natively.
//
// Why updates are keys of their own rather than a message record rewritten: a receipt then
// writes one key and reads none (the event names the seq of its message: `msgSeq`, which the
// running client knows when it journals the receipt). An event without msgSeq (an older
// Parley's, or written by hand) finds its message by id: one read.
//
// Why an update's key starts with its message's entry key (12 bytes, the update 19): LevelDB
// keeps a message and its updates side by side, the entry first, so one range read gives a page
// of messages with everything that happened to them (a page read backwards meets a message's
// updates just before its entry), and a clear finds every event of the chat in one range. A page
// folds a message's updates into its status.
//
// Reading is a watermark: "I read up to this message" sets the chat's readSeq, and unread is the
// number of incoming messages after it (their count minus the ordinal of the one read up to).
// The peer's "read up to my message X" sets peerReadSeq: every message of mine at or before it
// shows as read. Neither costs a write per message.
import { decodeRaw as decodeMsgpack } from '../events/codec.js';
import { encodeMsgpack } from '../events/msgpack.js';
import type { Direction, Stored } from '../events/types.js';
import { peerSeqKey, refKey, seqOfPeerSeqKey } from './keys.js';
import type { Codec, StoredView, Tx } from './projection.js';

export { peerRange, prefixRange } from './keys.js';

export const PREFIX = Object.freeze({ CHAT: 0x63, MESSAGE: 0x69, SUMMARY: 0x73, SEQS: 0x71, OPEN_SEQS: 0x70 });

// Version 3 kept events that named no known message under 'x' (a rebuild to version 4 drops
// them) and updates under 'u', which the transfers view owns too (transfers.ts, LEGACY): its
// keys are not dropped here, and the few a development build of version 3 wrote stay unread.
const FORMER_OTHER_PREFIX = 0x78;

// Seqs in a chunk of the chat's list of events.
export const CHUNK = 512;

// The length of a chat entry's key; an update's key is longer (it starts with its entry's).
export const ENTRY_KEY_LENGTH = 12;

// The kinds of update, one byte each in the key.
export const UPDATE = Object.freeze({ SENT: 0x74, DELIVERED: 0x64, FAILED: 0x66, EDITED: 0x65 });

// Mine: pending (journaled, not yet written to a link), sent (written to a link), delivered,
// read, failed. Theirs: received, read.
export type MessageStatus = 'pending' | 'sent' | 'delivered' | 'read' | 'failed' | 'received';

// A chat entry as read back.
export type ChatEntry = { seq: number; direction: Direction; id: string; ord: number };

// A message's updates, folded.
export type MessageState = {
  sentAt: number; // out: when it was first written to a link (0: not yet)
  deliveredAt: number | null; // out: the peer's clock when it got it (the first receipt)
  editSeq: number; // the last edit's event, 0 if none
  editedAt: number | null;
  failed: string | null; // out: why it could not be delivered (the last word)
};

export type ChatSummary = {
  peer: number;
  messages: number;
  incoming: number; // incoming messages ever (the ordinal of the last one)
  readSeq: number; // I read up to here
  readOrd: number; // ... which is the incoming ordinal readOrd
  peerReadSeq: number; // the peer read my messages up to here
  lastSeq: number; // the last message of the chat
  // When I last edited one of my messages in this chat (0: never); undefined in a summary an
  // older Parley wrote. A new link resends the edits made since the last one went: with this
  // it knows without reading the chat that there are none (delivery.ts, editsSince).
  lastOutEditAt?: number;
};

// What a change to the view was, for subscribers (profile.subscribe).
export type MessageChange = { peer: number; direction?: Direction; id?: string; cleared?: boolean };

// ---- keys ----

export function chatKey(peer: number, seq: number): Buffer {
  return peerSeqKey(PREFIX.CHAT, peer, seq);
}

export function seqsKey(peer: number, firstSeq: number): Buffer {
  return peerSeqKey(PREFIX.SEQS, peer, firstSeq);
}

export function openSeqsKey(peer: number): Buffer {
  const key = Buffer.allocUnsafe(6);
  key[0] = PREFIX.OPEN_SEQS;
  key.writeUIntBE(peer, 1, 5);
  return key;
}

export function messageKey(peer: number, direction: Direction, id: string): Buffer {
  return refKey(PREFIX.MESSAGE, peer, direction, id);
}

// 'c' peer(5) msgSeq(6) kind(1) eventSeq(6): after its message's entry, before the next one.
export function updateKey(peer: number, msgSeq: number, kind: number, eventSeq: number): Buffer {
  const key = Buffer.allocUnsafe(19);
  key[0] = PREFIX.CHAT;
  key.writeUIntBE(peer, 1, 5);
  key.writeUIntBE(msgSeq, 6, 6);
  key[12] = kind;
  key.writeUIntBE(eventSeq, 13, 6);
  return key;
}

// The messages of `peer` from seq `from` up to, not including, `to`, with their updates.
export function chatRange(peer: number, from: number, to: number): { gte: Buffer; lt: Buffer } {
  return { gte: chatKey(peer, from), lt: chatKey(peer, to) };
}

export function isUpdateKey(key: Uint8Array): boolean {
  return key.length > ENTRY_KEY_LENGTH;
}

export function decodeUpdateKey(key: Uint8Array): { msgSeq: number; kind: number; eventSeq: number } {
  const b = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  return { msgSeq: b.readUIntBE(6, 6), kind: b[12], eventSeq: b.readUIntBE(13, 6) };
}

export function summaryKey(peer: number): Buffer {
  const key = Buffer.allocUnsafe(6);
  key[0] = PREFIX.SUMMARY;
  key.writeUIntBE(peer, 1, 5);
  return key;
}

export const seqOfChatKey = seqOfPeerSeqKey;

// The summary and open-chunk keys of the peers met, made once: nearly every event reads and
// writes both, and views.ts knows a key it saw last by the Buffer itself (views.ts, keyString),
// which spares a conversion to a string per use. A key given to a Tx is never changed after
// (views.ts keeps it to write it with the batch), so one Buffer per peer serves every batch.
// Forgotten whole past KEY_CACHE_PEERS peers: a profile has far fewer chats than that.
const KEY_CACHE_PEERS = 4096;
const summaryKeys = new Map<number, Buffer>();
const openSeqsKeys = new Map<number, Buffer>();

function cachedKey(cache: Map<number, Buffer>, make: (peer: number) => Buffer, peer: number): Buffer {
  let key = cache.get(peer);
  if (key === undefined) {
    if (cache.size >= KEY_CACHE_PEERS) cache.clear();
    key = make(peer);
    cache.set(peer, key);
  }
  return key;
}

// ---- values ----
// Plain MessagePack arrays: an entry is read on every page, and arrays are the smallest form.

export function encodeChatEntry(direction: Direction, id: string, ord: number): Buffer {
  return encodeMsgpack([direction === 'out' ? 0 : 1, id, ord]);
}

export function decodeChatEntry(key: Uint8Array, value: Uint8Array): ChatEntry {
  const [dir, id, ord] = decodeMsgpack(value) as [number, string, number];
  return { seq: seqOfChatKey(key), direction: dir === 0 ? 'out' : 'in', id, ord };
}

// A message's seq, as the 'i' record holds it: 6 bytes, big-endian.
export function encodeSeq(seq: number): Buffer {
  const b = Buffer.allocUnsafe(6);
  b.writeUIntBE(seq, 0, 6);
  return b;
}

export function decodeSeq(value: Uint8Array): number {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).readUIntBE(0, 6);
}

export const SUMMARY: Codec<ChatSummary> = {
  encode: (s) =>
    encodeMsgpack(
      s.lastOutEditAt === undefined
        ? [s.peer, s.messages, s.incoming, s.readSeq, s.readOrd, s.peerReadSeq, s.lastSeq]
        : [s.peer, s.messages, s.incoming, s.readSeq, s.readOrd, s.peerReadSeq, s.lastSeq, s.lastOutEditAt],
    ),
  decode(value) {
    const [peer, messages, incoming, readSeq, readOrd, peerReadSeq, lastSeq, lastOutEditAt] = decodeMsgpack(value) as number[];
    const s: ChatSummary = { peer, messages, incoming, readSeq, readOrd, peerReadSeq, lastSeq };
    if (typeof lastOutEditAt === 'number') s.lastOutEditAt = lastOutEditAt;
    return s;
  },
};

export const decodeSummary = SUMMARY.decode;

// A chunk of seqs: [first, then each one's distance from the one before], MessagePack; events of
// one chat are close together, so most distances take a byte or two.
export const SEQS: Codec<number[]> = {
  encode(seqs) {
    const deltas = new Array<number>(seqs.length);
    for (let i = 0; i < seqs.length; i++) deltas[i] = i === 0 ? seqs[0] : seqs[i] - seqs[i - 1];
    return encodeMsgpack(deltas);
  },
  decode(value) {
    const seqs = decodeMsgpack(value) as number[];
    for (let i = 1; i < seqs.length; i++) seqs[i] += seqs[i - 1];
    return seqs;
  },
};

export function emptySummary(peer: number): ChatSummary {
  return { peer, messages: 0, incoming: 0, readSeq: 0, readOrd: 0, peerReadSeq: 0, lastSeq: 0, lastOutEditAt: 0 };
}

export function unreadOf(s: ChatSummary | undefined): number {
  return s ? s.incoming - s.readOrd : 0;
}

// A message's updates, in key order (by kind, then by the seq of the event that made each).
export function foldUpdates(updates: ReadonlyArray<{ kind: number; eventSeq: number; value: Uint8Array }>): MessageState {
  const state: MessageState = { sentAt: 0, deliveredAt: null, editSeq: 0, editedAt: null, failed: null };
  for (const u of updates) {
    const v = u.value.length > 0 ? decodeMsgpack(u.value) : null;
    if (u.kind === UPDATE.SENT && state.sentAt === 0) state.sentAt = v as number;
    else if (u.kind === UPDATE.DELIVERED && state.deliveredAt === null) state.deliveredAt = v as number;
    else if (u.kind === UPDATE.FAILED) state.failed = v as string;
    else if (u.kind === UPDATE.EDITED) {
      state.editSeq = u.eventSeq;
      state.editedAt = v as number;
    }
  }
  return state;
}

// The status a person sees, from the message's updates and the chat's watermarks.
export function statusOf(direction: Direction, seq: number, m: MessageState, s: ChatSummary | undefined): MessageStatus {
  if (direction === 'in') return s && seq <= s.readSeq ? 'read' : 'received';
  if (s && seq <= s.peerReadSeq) return 'read';
  if (m.deliveredAt !== null) return 'delivered';
  if (m.failed !== null) return 'failed';
  return m.sentAt > 0 ? 'sent' : 'pending';
}

// ---- the view ----

type Receipt = Extract<Stored, { type: 'message.transmitted' | 'message.delivered' | 'message.failed' | 'message.edited' | 'message.read' }>;

// The direction of the message a receipt is about.
function directionOf(event: Receipt): Direction {
  if (event.type === 'message.edited') return event.direction;
  if (event.type === 'message.read') return event.by === 'me' ? 'in' : 'out';
  return 'out';
}

function isReceipt(event: Stored): event is Stored<Receipt> {
  switch (event.type) {
    case 'message.transmitted':
    case 'message.delivered':
    case 'message.failed':
    case 'message.edited':
    case 'message.read':
      return true;
    default:
      return false;
  }
}

// The seq of the message a receipt is about: named by the event, else found by its id.
function messageSeqOf(event: Stored<Receipt>, tx: Tx): number | undefined {
  if (event.msgSeq !== undefined) return event.msgSeq;
  const value = tx.get(messageKey(event.peer, directionOf(event), event.id));
  return value === undefined ? undefined : decodeSeq(value);
}

// The update a receipt makes: its kind and what it keeps (foldUpdates reads it back).
function updateOf(event: Stored<Exclude<Receipt, { type: 'message.read' }>>): [number, Buffer] {
  switch (event.type) {
    case 'message.transmitted':
      return [UPDATE.SENT, encodeMsgpack(event.at)];
    case 'message.delivered':
      return [UPDATE.DELIVERED, encodeMsgpack(event.receivedAt)];
    case 'message.failed':
      return [UPDATE.FAILED, encodeMsgpack(event.reason)];
    default:
      return [UPDATE.EDITED, encodeMsgpack(event.at)];
  }
}

// Adds `seq` to the chat's list of events; a full chunk goes to disk under its first seq.
function listEvent(tx: Tx, peer: number, seq: number): void {
  const key = cachedKey(openSeqsKeys, openSeqsKey, peer);
  const seqs = tx.record(key, SEQS);
  if (seqs === undefined) {
    tx.putRecord(key, [seq], SEQS);
    return;
  }
  seqs.push(seq);
  if (seqs.length < CHUNK) tx.putRecord(key, seqs, SEQS);
  else {
    tx.add(seqsKey(peer, seqs[0]), SEQS.encode(seqs));
    tx.del(key);
  }
}

export const messages: StoredView<MessageChange> = {
  name: 'messages',
  // 1: the chats and unread projections in memory. 2: a record per message. 3: updates as keys.
  // 4: updates beside their message's entry; the chat's events listed for its clear.
  version: 4,
  prefixes: [PREFIX.CHAT, PREFIX.MESSAGE, PREFIX.SUMMARY, PREFIX.SEQS, PREFIX.OPEN_SEQS, FORMER_OTHER_PREFIX],
  memoryPrefixes: [PREFIX.SUMMARY, PREFIX.OPEN_SEQS],
  reads(event, since) {
    // A receipt without msgSeq: which message? A read by me: that message's incoming ordinal.
    // A new message reads nothing (see apply).
    if (!isReceipt(event)) return [];
    if (event.msgSeq === undefined) return [messageKey(event.peer, directionOf(event), event.id)];
    if (event.type !== 'message.read' || event.by !== 'me') return [];
    // The message read is most often in the same batch (read as soon as it came): its entry is
    // not in the store yet, and a read of a key that is not there goes through every level of
    // LevelDB (most of the wait for reads in a batch, measured under bench/history).
    if (since !== undefined && event.msgSeq >= since) return [];
    return [chatKey(event.peer, event.msgSeq)];
  },
  readsThrough(event, get) {
    // A read by me that named its message by id alone: its chat entry, through the 'i' record.
    if (event.type !== 'message.read' || event.by !== 'me' || event.msgSeq !== undefined) return [];
    const value = get(messageKey(event.peer, 'in', event.id));
    return value === undefined ? [] : [chatKey(event.peer, decodeSeq(value))];
  },
  apply(event, tx) {
    if (event.type === 'message.sent' || event.type === 'message.received') {
      const direction: Direction = event.type === 'message.sent' ? 'out' : 'in';
      const key = messageKey(event.peer, direction, event.id);
      // No read for a second copy: delivery is at-least-once on the wire, exactly-once in the
      // journal because the client drops a copy before it journals it (a peer resends only what
      // it saw unacknowledged, so the ids of a link's recent messages, kept in memory, tell a
      // copy). Reading here instead cost a lookup per message that grew slower with the store
      // (docs/BENCHMARKS.md). A journal that holds two copies anyway shows both; the later one is
      // the one found by id.
      const sKey = cachedKey(summaryKeys, summaryKey, event.peer);
      const s = tx.record(sKey, SUMMARY) ?? emptySummary(event.peer);
      s.messages++;
      if (direction === 'in') s.incoming++;
      s.lastSeq = event.seq;
      tx.putRecord(sKey, s, SUMMARY);
      tx.put(key, encodeSeq(event.seq));
      // Through the overlay: a read by me later in this batch may read it.
      tx.put(chatKey(event.peer, event.seq), encodeChatEntry(direction, event.id, s.incoming));
      listEvent(tx, event.peer, event.seq);
      return { peer: event.peer, direction, id: event.id };
    }
    if (event.type === 'chat.cleared') {
      // The records themselves are removed by the clear (profile.clearChat: the chat's keys by
      // range, the listed events and their chunks in the clear's own batch); here the summary
      // and the chunk being filled go.
      tx.del(summaryKey(event.peer));
      tx.del(openSeqsKey(event.peer));
      return { peer: event.peer, cleared: true };
    }
    if (!isReceipt(event)) return null;
    // Every event about the chat is found again by a clear, even one about a message this view
    // does not know (a receipt for a message cleared before).
    listEvent(tx, event.peer, event.seq);
    const direction = directionOf(event);
    const msgSeq = messageSeqOf(event, tx);
    // A msgSeq after the receipt itself names no message yet (the client never writes one): left
    // out, or it would attach to whatever message later takes that seq.
    if (msgSeq === undefined || msgSeq >= event.seq) return null;
    const change = { peer: event.peer, direction, id: event.id };
    // A read receipt changes the chat's watermarks, not its message (statusOf): no update; its
    // event is in the chat's list for a clear.
    if (event.type !== 'message.read') {
      const [kind, value] = updateOf(event);
      tx.add(updateKey(event.peer, msgSeq, kind, event.seq), value);
      if (event.type === 'message.edited' && direction === 'out') {
        const sKey = cachedKey(summaryKeys, summaryKey, event.peer);
        const s = tx.record(sKey, SUMMARY);
        if (s && (s.lastOutEditAt ?? 0) < event.at) {
          s.lastOutEditAt = event.at;
          tx.putRecord(sKey, s, SUMMARY);
        }
      }
      return change;
    }
    const sKey = cachedKey(summaryKeys, summaryKey, event.peer);
    const s = tx.record(sKey, SUMMARY);
    if (!s) return null;
    // A watermark only moves forward: a late receipt for an older message changes nothing.
    if (direction === 'in') {
      const entry = tx.get(chatKey(event.peer, msgSeq));
      if (entry === undefined || msgSeq <= s.readSeq) return null;
      s.readSeq = msgSeq;
      s.readOrd = decodeChatEntry(chatKey(event.peer, msgSeq), entry).ord;
    } else {
      if (msgSeq <= s.peerReadSeq) return null;
      s.peerReadSeq = msgSeq;
    }
    tx.putRecord(sKey, s, SUMMARY);
    return change;
  },
};
