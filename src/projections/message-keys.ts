// Keys of the stored messages view (messages.ts): its records, what they hold and why they are
// laid out so.
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
import type { Direction } from '../events/types.js';
import { peerSeqKey, refKey, seqOfPeerSeqKey } from './keys.js';

export { peerRange, prefixRange } from './keys.js';

export const PREFIX = Object.freeze({ CHAT: 0x63, MESSAGE: 0x69, SUMMARY: 0x73, SEQS: 0x71, OPEN_SEQS: 0x70 });

// Version 3 kept events that named no known message under 'x' (a rebuild to version 4 drops
// them) and updates under 'u', which the transfers view owns too (transfer-keys.ts, LEGACY): its
// keys are not dropped here, and the few a development build of version 3 wrote stay unread.
export const FORMER_OTHER_PREFIX = 0x78;

// Seqs in a chunk of the chat's list of events. The chunk being filled is written again with
// every batch that touches the chat, so its size goes into every message's synced write: 263
// bytes on average at 512 (519 when full), 36 at 64, where the rest of a received message's
// batch (its event with the sealed text, its spend, entry, id and summary) is some 510 bytes.
// A clear reads the chunks: 64 makes some 11,000 records for a chat of 200,000 messages, read by
// range in a few tens of milliseconds.
export const CHUNK = 64;

// The length of a chat entry's key; an update's key is longer (it starts with its entry's).
export const ENTRY_KEY_LENGTH = 12;

// The kinds of update, one byte each in the key.
export const UPDATE = Object.freeze({ SENT: 0x74, DELIVERED: 0x64, FAILED: 0x66, EDITED: 0x65 });

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

// An update as read back: what its key says, and its value. One object, made from the key's own
// bytes (a page reads a hundred).
export type Update = { msgSeq: number; kind: number; eventSeq: number; value: Buffer };

export function decodeUpdate(key: Buffer, value: Buffer): Update {
  return { msgSeq: key.readUIntBE(6, 6), kind: key[12], eventSeq: key.readUIntBE(13, 6), value };
}

export function summaryKey(peer: number): Buffer {
  const key = Buffer.allocUnsafe(6);
  key[0] = PREFIX.SUMMARY;
  key.writeUIntBE(peer, 1, 5);
  return key;
}

export const seqOfChatKey = seqOfPeerSeqKey;
