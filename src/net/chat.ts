// TEXT payloads on a peer link (docs/PROTOCOL.md section 9): one MessagePack map each, its kind
// in `k`. What a chat needs between two clients, and nothing of how each stores it.
//
//   msg      a message of one packet: its id (chosen by the sender, unique among its messages to
//            this peer), its text, when it was sent (sender's clock), the id it replies to;
//            `again` when the sender may have written it before (it was pending after a restart
//            or a lost link)
//   long     the first packet of a longer message: the same fields, but instead of the text the
//            number of packets in all (`parts`) and the first 65,535 bytes of its UTF-8 (`data`)
//   part     packet `i` (1 .. parts - 1) of the long message `id`: the next bytes of its UTF-8,
//            65,535 in every packet but the last. The packets of one message follow each other on
//            the link with nothing between them; the receiver puts the bytes together and reads
//            them as UTF-8 only then, so a character split between packets arrives whole.
//   ack      the receiver has journaled message `id` (a delivered receipt), at its clock
//   refused  the receiver will not take message `id`: beyond the packets it granted (`need` more)
//   grant    the packets the sender of this payload has granted the other side, in all (a running
//            total: a grant delivered twice counts once)
//   read     the receiver has read the other side's messages up to and including `id`
//   edit     the sender's message `id` now reads `text` (edited at `at`)
import { Unpackr } from 'msgpackr';
import { encodeMsgpack } from '../events/msgpack.js';
import { utf8Text } from './text.js';

type MessageFields = { id: string; at: number; replyTo?: string; again?: boolean };
export type WholeMessage = MessageFields & { k: 'msg'; text: string };
export type LongHead = MessageFields & { k: 'long'; parts: number; data: Buffer };
export type LongPart = { k: 'part'; id: string; i: number; data: Buffer };

export type ChatPayload =
  | WholeMessage
  | LongHead
  | LongPart
  | { k: 'ack'; id: string; at: number }
  | { k: 'refused'; id: string; need: number }
  | { k: 'grant'; messages: number; files: number }
  | { k: 'read'; id: string; at: number }
  | { k: 'edit'; id: string; text: string; at: number };

// A message id: 1 to 64 printable ASCII characters.
const ID = /^[\x21-\x7e]{1,64}$/;
// The UTF-8 bytes of a message one packet carries (the original's two-byte size field).
export const PACKET_DATA = 65_535;
// The largest text a message carries: 1 MiB of UTF-8, in at most MAX_PARTS packets.
export const MAX_TEXT_BYTES = 1024 * 1024;
export const MAX_PARTS = Math.ceil(MAX_TEXT_BYTES / PACKET_DATA);

// An edit is at most one packet (the original: a correction, not a new message).
export const MAX_EDIT_BYTES = 65_535;

const unpackr = new Unpackr({ useRecords: false, int64AsType: 'number', mapsAsObjects: true });

export function encodeChat(payload: ChatPayload): Buffer {
  return encodeMsgpack(payload);
}

const isTime = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isCount = isTime;
const isBytes = (v: unknown, min: number, max: number): v is Uint8Array => v instanceof Uint8Array && v.length >= min && v.length <= max;

// The packets a message travels in: one `msg`, or a `long` and its `part`s.
export function messagePayloads(m: Omit<WholeMessage, 'k'>): ChatPayload[] {
  const fields: MessageFields = { id: m.id, at: m.at, ...(m.replyTo ? { replyTo: m.replyTo } : {}), ...(m.again ? { again: true } : {}) };
  const bytes = Buffer.from(m.text, 'utf8');
  if (bytes.length <= PACKET_DATA) return [{ k: 'msg', ...fields, text: m.text }];
  const parts = Math.ceil(bytes.length / PACKET_DATA);
  const out: ChatPayload[] = [{ k: 'long', ...fields, parts, data: bytes.subarray(0, PACKET_DATA) }];
  for (let i = 1; i < parts; i++) out.push({ k: 'part', id: m.id, i, data: bytes.subarray(i * PACKET_DATA, (i + 1) * PACKET_DATA) });
  return out;
}

// A long message being put together: its first packet and the bytes so far.
export type Assembly = { head: LongHead; data: Buffer[] };

// Takes one packet of a long message: the assembly to keep, and the message once it is whole.
// A packet out of its place (another message's, a gap, a short packet before the last) drops the
// assembly with an error: the sender writes the whole message again on the next link.
export function assemble(current: Assembly | null, p: LongHead | LongPart): { next: Assembly | null; whole?: WholeMessage; error?: string } {
  if (p.k === 'long') {
    const next = { head: p, data: [Buffer.from(p.data)] };
    return current ? { next, error: `long message ${current.head.id} cut short by ${p.id}` } : { next };
  }
  if (!current || current.head.id !== p.id || p.i !== current.data.length) {
    return { next: null, error: `packet ${p.i} of ${p.id} out of its place` };
  }
  const last = p.i === current.head.parts - 1;
  if (!last && p.data.length !== PACKET_DATA) return { next: null, error: `packet ${p.i} of ${p.id} is short and not the last` };
  current.data.push(Buffer.from(p.data));
  if (!last) return { next: current };
  const bytes = Buffer.concat(current.data);
  if (bytes.length > MAX_TEXT_BYTES) return { next: null, error: `long message ${p.id} is over ${MAX_TEXT_BYTES} bytes` };
  const { k: _k, parts: _parts, data: _data, ...fields } = current.head;
  return { next: null, whole: { k: 'msg', ...fields, text: utf8Text(bytes) } };
}

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
  const fields = (): MessageFields => {
    if (!isTime(v.at)) throw new Error(`a ${String(v.k)} payload without its time`);
    if (v.replyTo !== undefined && (typeof v.replyTo !== 'string' || !ID.test(v.replyTo))) throw new Error(`a ${String(v.k)} payload whose replyTo is not an id`);
    if (v.again !== undefined && typeof v.again !== 'boolean') throw new Error(`a ${String(v.k)} payload whose again is not a boolean`);
    const m: MessageFields = { id: id(), at: v.at };
    if (typeof v.replyTo === 'string') m.replyTo = v.replyTo;
    if (v.again === true) m.again = true;
    return m;
  };
  switch (v.k) {
    case 'msg':
      if (typeof v.text !== 'string' || Buffer.byteLength(v.text) > PACKET_DATA) throw new Error('a msg payload whose text is not a string of at most one packet (65,535 bytes)');
      return { k: 'msg', ...fields(), text: v.text };
    case 'long':
      if (!Number.isSafeInteger(v.parts) || (v.parts as number) < 2 || (v.parts as number) > MAX_PARTS) throw new Error(`a long payload whose parts is not 2 to ${MAX_PARTS}`);
      if (!isBytes(v.data, PACKET_DATA, PACKET_DATA)) throw new Error('a long payload whose data is not 65,535 bytes');
      return { k: 'long', ...fields(), parts: v.parts as number, data: Buffer.from(v.data) };
    case 'part':
      if (!Number.isSafeInteger(v.i) || (v.i as number) < 1 || (v.i as number) >= MAX_PARTS) throw new Error(`a part payload whose i is not 1 to ${MAX_PARTS - 1}`);
      if (!isBytes(v.data, 1, PACKET_DATA)) throw new Error('a part payload whose data is not 1 to 65,535 bytes');
      return { k: 'part', id: id(), i: v.i as number, data: Buffer.from(v.data) };
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
