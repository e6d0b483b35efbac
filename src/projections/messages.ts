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
// Its records, and why they are laid out so: message-keys.ts; their values: message-values.ts;
// the status a message shows: message-status.ts.
//
// Reading is a watermark: "I read up to this message" sets the chat's readSeq, and unread is the
// number of incoming messages after it (their count minus the ordinal of the one read up to).
// The peer's "read up to my message X" sets peerReadSeq: every message of mine at or before it
// shows as read. Neither costs a write per message.
import { encodeMsgpack } from '../events/msgpack.js';
import type { Direction, Stored } from '../events/types.js';
import { chatKey, CHUNK, FORMER_OTHER_PREFIX, messageKey, openSeqsKey, PREFIX, seqsKey, summaryKey, updateKey, UPDATE } from './message-keys.js';
import { decodeChatEntry, decodeSeq, emptySummary, encodeChatEntry, encodeSeq, SEQS, SUMMARY } from './message-values.js';
import type { StoredView, Tx } from './projection.js';

// What a change to the view was, for subscribers (profile.subscribe).
export type MessageChange = { peer: number; direction?: Direction; id?: string; cleared?: boolean };

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
