// TEXT payloads on a peer link (docs/PROTOCOL.md section 9): one MessagePack map each, its kind
// in `k`. What a chat needs between two clients, and nothing of how each stores it.
//
//   msg      a message: its id (chosen by the sender, unique among its messages to this peer),
//            its text, when it was sent (sender's clock), the id it replies to; `again` when the
//            sender may have written it before (it was pending after a restart or a lost link)
//   ack      the receiver has journaled message `id` (a delivered receipt), at its clock
//   refused  the receiver will not take message `id`: beyond the packets it granted (`need` more)
//   grant    the packets the sender of this payload has granted the other side, in all (a running
//            total: a grant delivered twice counts once)
//   read     the receiver has read the other side's messages up to and including `id`
//   edit     the sender's message `id` now reads `text` (edited at `at`)
import { Unpackr } from 'msgpackr';
import { encodeMsgpack } from '../events/msgpack.js';
import { LIMITS } from './constants.js';

export type ChatPayload =
  | { k: 'msg'; id: string; text: string; at: number; replyTo?: string; again?: boolean }
  | { k: 'ack'; id: string; at: number }
  | { k: 'refused'; id: string; need: number }
  | { k: 'grant'; messages: number; files: number }
  | { k: 'read'; id: string; at: number }
  | { k: 'edit'; id: string; text: string; at: number };

// A message id: 1 to 64 printable ASCII characters.
const ID = /^[\x21-\x7e]{1,64}$/;
// The largest text a message carries (PROTOCOL.md: at most 1 MiB of UTF-8, in one payload).
export const MAX_TEXT_BYTES = LIMITS.MAX_FRAME_PAYLOAD - 1024;

// An edit is at most one packet (the original: a correction, not a new message).
export const MAX_EDIT_BYTES = 65_535;

const unpackr = new Unpackr({ useRecords: false, int64AsType: 'number', mapsAsObjects: true });

export function encodeChat(payload: ChatPayload): Buffer {
  return encodeMsgpack(payload);
}

const isTime = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isCount = isTime;

// Reads a payload; throws an Error saying what is wrong (the link answers BAD_TEXT and goes on).
export function decodeChat(bytes: Buffer): ChatPayload {
  let v: Record<string, unknown>;
  try {
    v = unpackr.unpack(bytes) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`a TEXT payload that is not MessagePack: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('a TEXT payload that is not a map');
  const id = (): string => {
    if (typeof v.id !== 'string' || !ID.test(v.id)) throw new Error(`a ${String(v.k)} payload whose id is not 1 to 64 printable characters`);
    return v.id;
  };
  switch (v.k) {
    case 'msg': {
      if (typeof v.text !== 'string' || Buffer.byteLength(v.text) > MAX_TEXT_BYTES) throw new Error('a msg payload whose text is not a string of at most 1 MiB');
      if (!isTime(v.at)) throw new Error('a msg payload without its time');
      if (v.replyTo !== undefined && (typeof v.replyTo !== 'string' || !ID.test(v.replyTo))) throw new Error('a msg payload whose replyTo is not an id');
      if (v.again !== undefined && typeof v.again !== 'boolean') throw new Error('a msg payload whose again is not a boolean');
      const m: ChatPayload = { k: 'msg', id: id(), text: v.text, at: v.at };
      if (typeof v.replyTo === 'string') m.replyTo = v.replyTo;
      if (v.again === true) m.again = true;
      return m;
    }
    case 'ack':
      if (!isTime(v.at)) throw new Error('an ack payload without its time');
      return { k: 'ack', id: id(), at: v.at };
    case 'refused':
      if (!isCount(v.need)) throw new Error('a refused payload without a count');
      return { k: 'refused', id: id(), need: v.need };
    case 'grant':
      if (!isCount(v.messages) || !isCount(v.files)) throw new Error('a grant payload without its totals');
      return { k: 'grant', messages: v.messages, files: v.files };
    case 'read':
      if (!isTime(v.at)) throw new Error('a read payload without its time');
      return { k: 'read', id: id(), at: v.at };
    case 'edit':
      if (typeof v.text !== 'string' || Buffer.byteLength(v.text) > MAX_EDIT_BYTES) throw new Error('an edit payload whose text is not a string of at most one packet');
      if (!isTime(v.at)) throw new Error('an edit payload without its time');
      return { k: 'edit', id: id(), text: v.text, at: v.at };
    default:
      throw new Error(`a TEXT payload of unknown kind ${JSON.stringify(v.k)}`);
  }
}
