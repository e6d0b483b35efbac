// Values of the stored messages view's records (message-keys.ts): a chat entry, a message's seq,
// a chat's summary and a chunk of the chat's list of events.
import { decodeRaw as decodeMsgpack } from '../events/codec.js';
import { encodeMsgpack } from '../events/msgpack.js';
import type { Direction } from '../events/types.js';
import { seqOfChatKey } from './message-keys.js';
import type { Codec } from './projection.js';

// A chat entry as read back.
export type ChatEntry = { seq: number; direction: Direction; id: string; ord: number };

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
