// Messages: the stored view of every chat. Its records live in the profile's LevelDB beside the
// journal, written in the same batch as the events they derive from (projection.ts, StoredView),
// so its cost does not grow with the history: a page of a chat is a range read, an update is a
// point read and a put, and memory holds one small summary per chat.
//
// A message is known by (peer, direction, id): both sides choose their own ids, so my "1" and the
// peer's "1" are two messages. Texts are not copied here: a record names the seq of the event that
// holds the text (and of its last edit), and readers fetch those events from the journal.
//
// Records (keys start with one byte of their own; peer is 5 bytes, seq 6, big-endian, so a
// chat's keys sort by peer, then in journal order):
//
//   'c' peer seq        -> [dir, id]        the chat in order: one per message
//   'i' peer dir id     -> MessageRecord    a message's state, found by its id (dir 'o' or 'i')
//   'x' peer seq        -> (empty)          every other event about the chat's messages
//                                           (receipts, edits), so a clear can find them all
//   's' peer            -> ChatSummary      counts and read watermarks; all of them are kept in
//                                           memory too (one per chat)
//
// Reading is a watermark: "I read up to this message" sets the chat's readSeq, and unread is the
// number of incoming messages after it (their count minus the ordinal of the one read up to).
// The peer's "read up to my message X" sets peerReadSeq: every message of mine at or before it
// shows as read. Neither costs a write per message.
import { decodeRaw as decodeMsgpack } from '../events/codec.js';
import { encodeMsgpack } from '../events/msgpack.js';
import type { Direction, Stored } from '../events/types.js';
import { peerSeqKey, refKey, seqOfPeerSeqKey } from './keys.js';
import type { StoredView, Tx } from './projection.js';

export { peerRange, prefixRange } from './keys.js';

export const PREFIX = Object.freeze({ CHAT: 0x63, MESSAGE: 0x69, OTHER: 0x78, SUMMARY: 0x73 });

// Mine: pending (journaled, not yet written to a link), sent (written to a link), delivered,
// read, failed. Theirs: received, read.
export type MessageStatus = 'pending' | 'sent' | 'delivered' | 'read' | 'failed' | 'received';

// What a stored message record holds: no text, only where to find it.
export type MessageRecord = {
  seq: number; // the message.sent or message.received event
  ord: number; // incoming messages in this chat up to and including this one
  sentAt: number; // out: when it was written to a link (0: not yet); in: 0
  deliveredAt: number | null; // out: the peer's clock when it got it
  editSeq: number; // the last message.edited event, 0 if none
  editedAt: number | null;
  failed: string | null; // out: why it could not be delivered
};

export type ChatSummary = {
  peer: number;
  messages: number;
  incoming: number; // incoming messages ever (the ordinal of the last one)
  readSeq: number; // I read up to here
  readOrd: number; // ... which is the incoming ordinal readOrd
  peerReadSeq: number; // the peer read my messages up to here
  lastSeq: number; // the last message of the chat
};

// What a change to the view was, for subscribers (profile.subscribe).
export type MessageChange = { peer: number; direction?: Direction; id?: string; cleared?: boolean };

// ---- keys ----

export function chatKey(peer: number, seq: number): Buffer {
  return peerSeqKey(PREFIX.CHAT, peer, seq);
}

export function otherKey(peer: number, seq: number): Buffer {
  return peerSeqKey(PREFIX.OTHER, peer, seq);
}

export function messageKey(peer: number, direction: Direction, id: string): Buffer {
  return refKey(PREFIX.MESSAGE, peer, direction, id);
}

export function summaryKey(peer: number): Buffer {
  const key = Buffer.allocUnsafe(6);
  key[0] = PREFIX.SUMMARY;
  key.writeUIntBE(peer, 1, 5);
  return key;
}

export const seqOfChatKey = seqOfPeerSeqKey;

// ---- values ----
// Plain MessagePack arrays: a record is read on every page, and arrays are the smallest form.

export function encodeRecord(r: MessageRecord): Buffer {
  return encodeMsgpack([r.seq, r.ord, r.sentAt, r.deliveredAt, r.editSeq, r.editedAt, r.failed]);
}

export function decodeRecord(value: Uint8Array): MessageRecord {
  const [seq, ord, sentAt, deliveredAt, editSeq, editedAt, failed] = decodeMsgpack(value) as [number, number, number, number | null, number, number | null, string | null];
  return { seq, ord, sentAt, deliveredAt, editSeq, editedAt, failed };
}

export function encodeChatEntry(direction: Direction, id: string): Buffer {
  return encodeMsgpack([direction === 'out' ? 0 : 1, id]);
}

export function decodeChatEntry(value: Uint8Array): { direction: Direction; id: string } {
  const [dir, id] = decodeMsgpack(value) as [number, string];
  return { direction: dir === 0 ? 'out' : 'in', id };
}

export function encodeSummary(s: ChatSummary): Buffer {
  return encodeMsgpack([s.peer, s.messages, s.incoming, s.readSeq, s.readOrd, s.peerReadSeq, s.lastSeq]);
}

export function decodeSummary(value: Uint8Array): ChatSummary {
  const [peer, messages, incoming, readSeq, readOrd, peerReadSeq, lastSeq] = decodeMsgpack(value) as number[];
  return { peer, messages, incoming, readSeq, readOrd, peerReadSeq, lastSeq };
}

export function emptySummary(peer: number): ChatSummary {
  return { peer, messages: 0, incoming: 0, readSeq: 0, readOrd: 0, peerReadSeq: 0, lastSeq: 0 };
}

export function unreadOf(s: ChatSummary | undefined): number {
  return s ? s.incoming - s.readOrd : 0;
}

// The status a person sees, from the record and the chat's watermarks.
export function statusOf(direction: Direction, r: MessageRecord, s: ChatSummary | undefined): MessageStatus {
  if (direction === 'in') return s && r.seq <= s.readSeq ? 'read' : 'received';
  if (s && r.seq <= s.peerReadSeq) return 'read';
  if (r.deliveredAt !== null) return 'delivered';
  if (r.failed !== null) return 'failed';
  return r.sentAt > 0 ? 'sent' : 'pending';
}

// ---- the view ----

// The events this view reads a record for, and which one.
function recordKeyOf(event: Stored): Buffer | null {
  switch (event.type) {
    case 'message.sent':
    case 'message.transmitted':
    case 'message.delivered':
    case 'message.failed':
      return messageKey(event.peer, 'out', event.id);
    case 'message.received':
      return messageKey(event.peer, 'in', event.id);
    case 'message.read':
      return messageKey(event.peer, event.by === 'me' ? 'in' : 'out', event.id);
    case 'message.edited':
      return messageKey(event.peer, event.direction, event.id);
    default:
      return null;
  }
}

// The chat summaries live in memory (`summaries`, one per chat, loaded at open) and on disk;
// apply reads and changes them through the transaction like any record, so a batch that fails
// to be written changes nothing.
export const messages: StoredView<MessageChange> = {
  name: 'messages',
  // 1: the chats and unread projections in memory (checkpointed whole). 2: this stored view.
  version: 2,
  prefixes: [PREFIX.CHAT, PREFIX.MESSAGE, PREFIX.OTHER, PREFIX.SUMMARY],
  memoryPrefixes: [PREFIX.SUMMARY],
  reads(event) {
    const key = recordKeyOf(event);
    return key ? [key] : [];
  },
  apply(event, tx) {
    switch (event.type) {
      case 'message.sent':
      case 'message.received': {
        const direction: Direction = event.type === 'message.sent' ? 'out' : 'in';
        const key = messageKey(event.peer, direction, event.id);
        // Delivery is at-least-once on the wire; if the journal holds two copies, the first
        // stands, and the second is only found again by a clear.
        if (tx.get(key) !== undefined) {
          tx.put(otherKey(event.peer, event.seq), EMPTY);
          return null;
        }
        const s = summaryOf(tx, event.peer);
        s.messages++;
        if (direction === 'in') s.incoming++;
        s.lastSeq = event.seq;
        tx.put(summaryKey(event.peer), encodeSummary(s));
        tx.put(key, encodeRecord({ seq: event.seq, ord: s.incoming, sentAt: 0, deliveredAt: null, editSeq: 0, editedAt: null, failed: null }));
        tx.put(chatKey(event.peer, event.seq), encodeChatEntry(direction, event.id));
        return { peer: event.peer, direction, id: event.id };
      }
      case 'message.transmitted':
      case 'message.delivered':
      case 'message.failed':
      case 'message.edited': {
        const direction: Direction = event.type === 'message.edited' ? event.direction : 'out';
        const key = messageKey(event.peer, direction, event.id);
        // Every event about the chat is found again by a clear, even one about a message this
        // view does not know (a receipt for a message cleared before).
        tx.put(otherKey(event.peer, event.seq), EMPTY);
        const value = tx.get(key);
        if (value === undefined) return null;
        const r = decodeRecord(value);
        if (event.type === 'message.transmitted') {
          if (r.sentAt !== 0) return null;
          r.sentAt = event.at;
        } else if (event.type === 'message.delivered') {
          if (r.deliveredAt !== null) return null;
          r.deliveredAt = event.receivedAt;
        } else if (event.type === 'message.failed') {
          r.failed = event.reason;
        } else {
          r.editSeq = event.seq;
          r.editedAt = event.at;
        }
        tx.put(key, encodeRecord(r));
        return { peer: event.peer, direction, id: event.id };
      }
      case 'message.read': {
        const direction: Direction = event.by === 'me' ? 'in' : 'out';
        tx.put(otherKey(event.peer, event.seq), EMPTY);
        const value = tx.get(messageKey(event.peer, direction, event.id));
        if (value === undefined) return null;
        const r = decodeRecord(value);
        const s = summaryOf(tx, event.peer);
        // A watermark only moves forward: a late receipt for an older message changes nothing.
        if (direction === 'in') {
          if (r.seq <= s.readSeq) return null;
          s.readSeq = r.seq;
          s.readOrd = r.ord;
        } else {
          if (r.seq <= s.peerReadSeq) return null;
          s.peerReadSeq = r.seq;
        }
        tx.put(summaryKey(event.peer), encodeSummary(s));
        return { peer: event.peer, direction, id: event.id };
      }
      case 'chat.cleared':
        // The records themselves are removed with the events, in the clear's own batch
        // (profile.clearChat); here the summary goes.
        tx.del(summaryKey(event.peer));
        return { peer: event.peer, cleared: true };
      default:
        return null;
    }
  },
};

const EMPTY = Buffer.alloc(0);

function summaryOf(tx: Tx, peer: number): ChatSummary {
  const value = tx.get(summaryKey(peer));
  return value === undefined ? emptySummary(peer) : decodeSummary(value);
}
