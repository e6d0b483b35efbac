// FILE_CONTROL payloads of a peer link (docs/PROTOCOL.md section 9, "Files"): one MessagePack map
// per frame, its kind in `k`, decoded strictly (a payload this side cannot read is logged and
// dropped, the link goes on, as with TEXT). FILE_CHUNK payloads are the chunk's bytes alone: the
// content id names the chunk (frame.ts chunkContentId: the offer's tag × 2^32 + the chunk's
// index), and its SHA-256 comes just before it in a `sum` (a 1 MiB chunk fills a frame's payload,
// so there is no room for a header of its own).
//
//   sender                                      receiver
//   offer {id, tag, name, size, chunkSize, got} ▶ checked, journaled; accepted by the person
//   ◀─────────────────────────── accept {id, have, got} (the ranges it has stored: resume)
//   sum {id, c, h} then FILE_CHUNK(tag, c) ───▶ h checked, written, flushed, journaled
//   ◀──────────────────────────── got {id, n}   (chunk bytes taken off the link: at once)
//   ◀──────────────────────────── ack {id, have}   (need {id, c} for a chunk that failed h)
//   root {id, root} (every chunk acked) ──────▶ compared with its own root, renamed into place
//   ◀──────────────────────────── done {id, root}
//   ◀──────────────────────────── resume {id}   (on a new link: a transfer I still hold open)
//
//   encodeFiles({ k: 'need', id: 't1', c: 3 })  // => <Buffer 83 a1 6b a4 6e 65 65 64 ...>
import { Unpackr } from 'msgpackr';
import { encodeMsgpack } from '../events/msgpack.js';
import { LIMITS } from './constants.js';

// Ids as for messages: 1 to 64 printable ASCII characters, chosen by the sender.
const ID = /^[\x21-\x7e]{1,64}$/;
// The tag of an offer: the high 21 bits of its chunks' content ids (frame.ts).
export const MAX_TAG = 2 ** 21 - 1;
// A name is checked by the receiver (node/filename.ts) and refused with a reason; the codec only
// bounds what it reads: 4 times the 255 bytes a name may have, so a long name still gets a reason.
export const MAX_NAME_FIELD = 1020;
// Ranges in one accept or ack: [start, end) pairs, flat. A receiver holds few holes (chunks are
// taken within a window past the first missing one), so 4,096 pairs is far more than it needs.
export const MAX_RANGE_NUMBERS = 8192;
export const MAX_REASON = LIMITS.MAX_REASON_LENGTH;
// A chunk's index fits the low 32 bits of its content id.
export const MAX_CHUNKS = 2 ** 32;
export const HASH_BYTES = 32;

// got: the sender bounds its chunks by the receiver's `got` reports and asks for them; only then
// does a receiver send them (a sender that does not know the kind would log each one).
export type FileOffer = { k: 'offer'; id: string; tag: number; name: string; size: number; chunkSize: number; got?: boolean };
// got: the receiver reports the chunk bytes it takes off the link (`got`), so the sender may
// bound them (node/credit.ts); absent, the sender has only the stored window.
export type FileAccept = { k: 'accept'; id: string; have: number[]; got?: boolean };
export type FileDecline = { k: 'decline'; id: string; reason: string; need?: number };
export type FileSum = { k: 'sum'; id: string; c: number; h: Buffer };
export type FileAck = { k: 'ack'; id: string; have: number[] };
export type FileNeed = { k: 'need'; id: string; c: number };
// n: the chunk bytes of this transfer taken off this link since the accept on it, in all.
export type FileGot = { k: 'got'; id: string; n: number };
export type FileRoot = { k: 'root'; id: string; root: Buffer };
export type FileDone = { k: 'done'; id: string; root: Buffer };
// Either side may cancel or fail a transfer, and each side picks its own ids, so these say which
// side writes them: from the sender, about the receiver's transfer `id`, and the other way round.
export type Role = 'sender' | 'receiver';
export type FileCancel = { k: 'cancel'; id: string; by: Role; reason: string };
export type FileFail = { k: 'fail'; id: string; by: Role; reason: string };
export type FileResume = { k: 'resume'; id: string };

export type FilePayload = FileOffer | FileAccept | FileDecline | FileSum | FileAck | FileNeed | FileGot | FileRoot | FileDone | FileCancel | FileFail | FileResume;

// The refusals decodeFiles throws, by code; the message says what is wrong.
export const FILES_ERR = Object.freeze({ MALFORMED: 'FILES_MALFORMED', BAD_FIELD: 'FILES_BAD_FIELD', UNKNOWN_KIND: 'FILES_UNKNOWN_KIND' });

function filesError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

const unpackr = new Unpackr({ useRecords: false, int64AsType: 'number', mapsAsObjects: true });

export function encodeFiles(payload: FilePayload): Buffer {
  return encodeMsgpack(payload);
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

// Whether `r` is a flat list of [start, end) pairs, sorted, disjoint, within 0..MAX_CHUNKS.
export function isRanges(r: unknown): r is number[] {
  if (!Array.isArray(r) || r.length % 2 !== 0 || r.length > MAX_RANGE_NUMBERS) return false;
  let last = -1;
  for (let i = 0; i < r.length; i += 2) {
    const [s, e] = [r[i], r[i + 1]];
    if (!isCount(s) || !isCount(e) || s <= last || e <= s || e > MAX_CHUNKS) return false;
    last = e;
  }
  return true;
}

// Chunks as ranges: [3, 4, 5, 9] => [3, 6, 9, 10]. Sorts a copy; duplicates count once.
export function rangesOf(chunks: readonly number[]): number[] {
  const sorted = [...chunks].sort((a, b) => a - b);
  const out: number[] = [];
  for (const c of sorted) {
    if (out.length > 0 && out[out.length - 1] >= c + 1) continue;
    if (out.length > 0 && out[out.length - 1] === c) out[out.length - 1] = c + 1;
    else out.push(c, c + 1);
  }
  return out;
}

// Ranges as chunks: [3, 6, 9, 10] => [3, 4, 5, 9].
export function chunksOf(ranges: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < ranges.length; i += 2) for (let c = ranges[i]; c < ranges[i + 1]; c++) out.push(c);
  return out;
}

// Reads a FILE_CONTROL payload; throws an Error with a code of FILES_ERR saying what is wrong.
export function decodeFiles(bytes: Buffer): FilePayload {
  let v: Record<string, unknown>;
  try {
    v = unpackr.unpack(bytes) as Record<string, unknown>;
  } catch (err) {
    throw filesError(FILES_ERR.MALFORMED, `a FILE_CONTROL payload that is not MessagePack: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) throw filesError(FILES_ERR.MALFORMED, 'a FILE_CONTROL payload that is not a map');
  const bad = (what: string): never => {
    throw filesError(FILES_ERR.BAD_FIELD, `a ${String(v.k)} payload whose ${what}`);
  };
  const id = (): string => (typeof v.id === 'string' && ID.test(v.id) ? v.id : bad('id is not 1 to 64 printable characters'));
  const reason = (): string => (typeof v.reason === 'string' && v.reason.length <= MAX_REASON ? v.reason : bad(`reason is not text of at most ${MAX_REASON} characters`));
  const chunk = (): number => (isCount(v.c) && (v.c as number) < MAX_CHUNKS ? (v.c as number) : bad('chunk is not 0 to 2^32-1'));
  const hash = (field: 'h' | 'root'): Buffer => (v[field] instanceof Uint8Array && (v[field] as Uint8Array).length === HASH_BYTES ? Buffer.from(v[field] as Uint8Array) : bad(`${field} is not 32 bytes`));
  const role = (): Role => (v.by === 'sender' || v.by === 'receiver' ? v.by : bad('by is not sender or receiver'));
  const flag = (): boolean => (typeof v.got === 'boolean' ? v.got : bad('got is not true or false'));
  const have = (): number[] => (isRanges(v.have) ? [...v.have] : bad('have is not sorted disjoint ranges of chunks'));
  switch (v.k) {
    case 'offer': {
      const tag = Number.isSafeInteger(v.tag) && (v.tag as number) >= 1 && (v.tag as number) <= MAX_TAG ? (v.tag as number) : bad('tag is not 1 to 2^21-1');
      const name = typeof v.name === 'string' && v.name.length > 0 && Buffer.byteLength(v.name) <= MAX_NAME_FIELD ? v.name : bad(`name is not 1 to ${MAX_NAME_FIELD} bytes of text`);
      const size = isCount(v.size) ? v.size : bad('size is not a whole number of bytes');
      const chunkSize = isCount(v.chunkSize) && v.chunkSize >= 1 && v.chunkSize <= LIMITS.MAX_CHUNK_PAYLOAD ? v.chunkSize : bad('chunkSize is not 1 to 1,048,576');
      if (Math.ceil(size / chunkSize) > MAX_CHUNKS) bad('size needs more than 2^32 chunks');
      const o: FileOffer = { k: 'offer', id: id(), tag, name, size, chunkSize };
      if (v.got !== undefined) o.got = flag();
      return o;
    }
    case 'accept': {
      const a: FileAccept = { k: 'accept', id: id(), have: have() };
      if (v.got !== undefined) a.got = flag();
      return a;
    }
    case 'ack':
      return { k: 'ack', id: id(), have: have() };
    case 'decline': {
      const d: FileDecline = { k: 'decline', id: id(), reason: reason() };
      if (v.need !== undefined) d.need = isCount(v.need) ? v.need : bad('need is not a count of packets');
      return d;
    }
    case 'sum':
      return { k: 'sum', id: id(), c: chunk(), h: hash('h') };
    case 'need':
      return { k: 'need', id: id(), c: chunk() };
    case 'got':
      return { k: 'got', id: id(), n: isCount(v.n) ? v.n : bad('n is not a whole number of bytes') };
    case 'root':
      return { k: 'root', id: id(), root: hash('root') };
    case 'done':
      return { k: 'done', id: id(), root: hash('root') };
    case 'cancel':
      return { k: 'cancel', id: id(), by: role(), reason: reason() };
    case 'fail':
      return { k: 'fail', id: id(), by: role(), reason: reason() };
    case 'resume':
      return { k: 'resume', id: id() };
    default:
      throw filesError(FILES_ERR.UNKNOWN_KIND, `a FILE_CONTROL payload of unknown kind ${JSON.stringify(v.k)}`);
  }
}
