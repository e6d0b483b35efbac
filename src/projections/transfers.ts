// Transfers: the stored view of every file offered in either direction and its chunk progress.
// Its records live in the profile's LevelDB beside the journal, written in the same batch as the
// events they derive from (projection.ts, StoredView), so its cost does not grow with the
// history: an event is a point read and a put, the list is read by page, and memory holds one
// empty key per transfer not finished.
//
// A transfer is known by (peer, direction, id): both sides choose their own ids, so my "t1" to a
// peer and the peer's "t1" to me are two transfers. For the receiver (in) a chunk is done when it
// was stored (written, flushed, verified); for the sender (out) when the receiver acked it.
// Resume after a restart or a link change is "send what is missing" (missingChunks), read
// straight from the record.
//
// Records (keys start with one byte of their own; peer is 5 bytes, seq 6, big-endian; dir is
// 'o' (out) or 'i' (in); id is UTF-8):
//
//   't' peer dir id   -> TransferRecord    a transfer, found by its key
//   'l' seq           -> [peer, dir, id]   every transfer by the seq of its offer: the list,
//                                          read by page, newest first
//   'a' peer dir id   -> (empty)           the transfers not finished; all of them are kept in
//                                          memory too, so the running client finds what to
//                                          resume at start without a scan
//   'u' id            -> [peer, dir]       the first transfer offered with this id. Events of
//                                          version 1 (all but transfer.offered) named a transfer
//                                          by its id alone, and upcasting cannot add what only
//                                          the offer knows (events/upcast.ts): such an event is
//                                          resolved through this record, to the transfer that
//                                          version 1 matched (the first offer of the id). It is
//                                          written at every offer (a later one keeps the first),
//                                          since nothing tells an offer of version 1 apart once
//                                          read; such an event reads it first, then the 't'
//                                          record it names (readsThrough: a second read, made
//                                          only for such events).
//
// States: offered -> active (accepted) <-> paused (the link went away; resumed) -> completed,
// failed or cancelled; an offer may also be declined, failed or cancelled. A transfer that ended
// stays as it ended: a late ack does not reopen a cancelled one. The same (peer, direction, id)
// offered twice: the first offer stands.
//
// Progress is a list of ranges of done chunks, sorted and disjoint, each [start, end), kept flat:
// [s0, e0, s1, e1, ...]. Chunks are done nearly in order, so a transfer in flight holds a few
// ranges (about one per hole in the window of chunks in flight) whatever its size, where a bitmap
// of a 100 GB file in 64 KiB chunks is 200 KB to read and write on every event. A finished
// transfer keeps its summary (counts, wire bytes, reason) and drops its ranges. The record is
// still decoded and written whole on every event, so its cost grows with the holes (measured
// here, 4 chunks an event: 0.36 ms with 800 holes, 1.2 ms with 10,000, 12 ms and a record of
// 870 KB with 100,000): the transfer engine keeps them few by taking and sending chunks only
// within a window past the first one missing.
import { decodeRaw } from '../events/codec.js';
import { encodeMsgpack } from '../events/msgpack.js';
import type { Direction, Stored, TransferOffered } from '../events/types.js';
import { refKey, type Ref } from './keys.js';
import type { StoredView, Tx } from './projection.js';

export const PREFIX = Object.freeze({ TRANSFER: 0x74, LIST: 0x6c, OPEN: 0x61, LEGACY: 0x75 });

export type TransferState = 'offered' | 'active' | 'paused' | 'completed' | 'failed' | 'cancelled' | 'declined';

// What the 't' record holds: everything but its key.
export type TransferRecord = {
  seq: number; // the transfer.offered event
  name: string;
  size: number;
  chunkSize: number;
  chunkCount: number;
  state: TransferState;
  doneCount: number; // chunks done, each counted once
  ranges: number[]; // the done chunks, [start, end) pairs flat and sorted; [] once finished
  wireBytes: number; // bytes of its chunks put on (out) or taken off (in) the wire, resends included
  path: string | null; // the file sent (from the offer), or where the received one goes (from the acceptance)
  reason: string | null; // why it is paused, failed, declined or cancelled
  offeredAt: number;
  updatedAt: number; // the last event that changed it
};

export type TransferRef = Ref;

// A transfer as readers see it (node/transfers.ts): its key and its record.
export type Transfer = TransferRef & TransferRecord;

// What a change to the view was, for subscribers (profile.subscribe): which transfer.
export type TransferChange = TransferRef;

export function chunkCountOf(size: number, chunkSize: number): number {
  return chunkSize > 0 && size > 0 ? Math.ceil(size / chunkSize) : 0;
}

export function isFinished(state: TransferState): boolean {
  return state === 'completed' || state === 'failed' || state === 'cancelled' || state === 'declined';
}

// ---- keys ----



export function transferKey(peer: number, direction: Direction, id: string): Buffer {
  return refKey(PREFIX.TRANSFER, peer, direction, id);
}

export function openKey(peer: number, direction: Direction, id: string): Buffer {
  return refKey(PREFIX.OPEN, peer, direction, id);
}

export function listKey(seq: number): Buffer {
  const key = Buffer.allocUnsafe(7);
  key[0] = PREFIX.LIST;
  key.writeUIntBE(seq, 1, 6);
  return key;
}

export function legacyKey(id: string): Buffer {
  return Buffer.concat([Buffer.from([PREFIX.LEGACY]), Buffer.from(id, 'utf8')]);
}

// The transfer an 'a' (or 't') key names. => { peer: 7, direction: 'in', id: 't1' }
export { refOfKey } from './keys.js';

export function seqOfListKey(key: Uint8Array): number {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).readUIntBE(1, 6);
}

export function isPeerId(peer: unknown): peer is number {
  return typeof peer === 'number' && Number.isSafeInteger(peer) && peer >= 0 && peer < 2 ** 40;
}

// ---- values ----
// Plain MessagePack arrays: records are read on every event and every page, and arrays are the
// smallest form. Bump the view's version when their layout changes.

export function encodeRecord(r: TransferRecord): Buffer {
  return encodeMsgpack([r.seq, r.name, r.size, r.chunkSize, r.chunkCount, r.state, r.doneCount, r.ranges, r.wireBytes, r.path, r.reason, r.offeredAt, r.updatedAt]);
}

export function decodeRecord(value: Uint8Array): TransferRecord {
  const [seq, name, size, chunkSize, chunkCount, state, doneCount, ranges, wireBytes, path, reason, offeredAt, updatedAt] = decodeRaw(value) as [
    number,
    string,
    number,
    number,
    number,
    TransferState,
    number,
    number[],
    number,
    string | null,
    string | null,
    number,
    number,
  ];
  return { seq, name, size, chunkSize, chunkCount, state, doneCount, ranges, wireBytes, path, reason, offeredAt, updatedAt };
}

export function encodeRef(ref: TransferRef): Buffer {
  return encodeMsgpack([ref.peer, ref.direction === 'out' ? 0 : 1, ref.id]);
}

export function decodeRef(value: Uint8Array): TransferRef {
  const [peer, dir, id] = decodeRaw(value) as [number, number, string];
  return { peer, direction: dir === 0 ? 'out' : 'in', id };
}

// ---- progress as ranges ----

// Marks chunk c done in `ranges` (flat [start, end) pairs, sorted, disjoint and never touching,
// so [0, 2, 2, 4] is never written: it is [0, 4]). Returns false if it was done already. A binary
// search finds the place (log of the ranges count); joining a neighbour changes a number in place,
// and only a chunk that touches no range splices a pair in, one that fills a hole splices one out.
function markChunk(ranges: number[], c: number): boolean {
  let lo = 0;
  let hi = ranges.length >> 1;
  // The first range that starts after c.
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ranges[2 * mid] <= c) lo = mid + 1;
    else hi = mid;
  }
  const before = lo - 1;
  if (before >= 0 && c < ranges[2 * before + 1]) return false;
  const joinsBefore = before >= 0 && ranges[2 * before + 1] === c;
  const joinsAfter = lo < ranges.length >> 1 && ranges[2 * lo] === c + 1;
  if (joinsBefore && joinsAfter) {
    ranges[2 * before + 1] = ranges[2 * lo + 1];
    ranges.splice(2 * lo, 2);
  } else if (joinsBefore) ranges[2 * before + 1] = c + 1;
  else if (joinsAfter) ranges[2 * lo] = c;
  else ranges.splice(2 * lo, 0, c, c + 1);
  return true;
}

// Marks `chunks` done in the record; chunks out of range, not whole numbers, or done already are
// left out. Work: the event's chunk count times the log of the ranges count (plus the splices,
// which move the slots after them and are rare while chunks come nearly in order). Returns how
// many chunks were new.
export function markChunks(r: TransferRecord, chunks: readonly unknown[]): number {
  let added = 0;
  for (const c of chunks) {
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c >= r.chunkCount) continue;
    if (markChunk(r.ranges, c)) added++;
  }
  r.doneCount += added;
  return added;
}

// The chunks still to send or receive, in order, at most `limit` of them: the holes between the
// ranges. Nothing once the transfer is finished.
export function missingChunks(r: TransferRecord, limit = Infinity): number[] {
  const out: number[] = [];
  if (isFinished(r.state)) return out;
  let next = 0;
  for (let i = 0; i <= r.ranges.length && out.length < limit; i += 2) {
    const end = i < r.ranges.length ? r.ranges[i] : r.chunkCount;
    for (let c = next; c < end && out.length < limit; c++) out.push(c);
    next = r.ranges[i + 1];
  }
  return out;
}

// ---- the view ----

// What an event names: its transfer, the bare id of a version 1 event (peer and direction
// absent), or nothing (not a transfer event, or fields that name no transfer).
function namedBy(event: Stored): TransferRef | string | null {
  switch (event.type) {
    case 'transfer.offered':
    case 'transfer.accepted':
    case 'transfer.declined':
    case 'transfer.paused':
    case 'transfer.resumed':
    case 'transfer.chunks-stored':
    case 'transfer.chunks-acked':
    case 'transfer.completed':
    case 'transfer.failed':
    case 'transfer.cancelled': {
      // Read as unknown: an event of version 1, or one an untyped writer made, may lack them.
      const { id, peer, direction } = event as { id?: unknown; peer?: unknown; direction?: unknown };
      if (typeof id !== 'string') return null;
      // Version 1 (both absent); one without the other names nothing.
      if (peer === undefined && direction === undefined && event.type !== 'transfer.offered') return id;
      if (!isPeerId(peer) || (direction !== 'in' && direction !== 'out')) return null;
      return { peer, direction, id };
    }
    default:
      return null;
  }
}

// Bytes an event says went over the wire; anything but a whole number above zero counts none.
function wireBytesOf(event: Stored): number {
  const w = (event as { wireBytes?: unknown }).wireBytes;
  return typeof w === 'number' && Number.isSafeInteger(w) && w > 0 ? w : 0;
}

function textOr(value: unknown, fallback: string | null): string | null {
  return typeof value === 'string' ? value : fallback;
}

function wholeOr0(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : 0;
}

// The record's next state after `event` (not transfer.offered), changed in place: true if it
// changed. The record is not finished. Bytes on the wire are counted whatever the event does to
// the state, while the transfer is open.
function evolve(r: TransferRecord, event: Stored): boolean {
  const wire = wireBytesOf(event);
  r.wireBytes += wire;
  let changed = wire > 0;
  const to = (state: TransferState, reason: string | null): void => {
    r.state = state;
    r.reason = reason;
    changed = true;
  };
  switch (event.type) {
    case 'transfer.accepted':
      if (r.state === 'offered') {
        to('active', null);
        // Where the received file goes; the sender's acceptance names none and keeps the file's.
        r.path = textOr(event.path, r.path);
      }
      break;
    case 'transfer.paused':
      if (r.state === 'active') to('paused', textOr(event.reason, ''));
      break;
    case 'transfer.resumed':
      if (r.state === 'paused') to('active', null);
      break;
    case 'transfer.chunks-stored':
    case 'transfer.chunks-acked':
      if (Array.isArray(event.chunks) && markChunks(r, event.chunks) > 0) changed = true;
      break;
    case 'transfer.completed':
      to('completed', null);
      // The received file's final name (a taken one gets a suffix at the end).
      r.path = textOr(event.path, r.path);
      break;
    case 'transfer.failed':
      to('failed', textOr(event.reason, ''));
      break;
    case 'transfer.cancelled':
      to('cancelled', event.by === 'me' ? 'cancelled by me' : 'cancelled by peer');
      break;
    case 'transfer.declined':
      to('declined', textOr(event.reason, null));
      break;
    default:
      break;
  }
  if (changed) r.updatedAt = event.at;
  return changed;
}

function offer(event: Stored<TransferOffered>, ref: TransferRef, tx: Tx): TransferChange | null {
  const key = transferKey(ref.peer, ref.direction, ref.id);
  if (tx.get(key) !== undefined) return null;
  const size = wholeOr0(event.size);
  const chunkSize = wholeOr0(event.chunkSize);
  const r: TransferRecord = {
    seq: event.seq,
    name: textOr(event.name, '') as string,
    size,
    chunkSize,
    chunkCount: chunkCountOf(size, chunkSize),
    state: 'offered',
    doneCount: 0,
    ranges: [],
    wireBytes: 0,
    // The file I send (out); for a file I receive, where it goes, from the acceptance.
    path: textOr(event.path, null),
    reason: null,
    offeredAt: event.at,
    updatedAt: event.at,
  };
  tx.put(key, encodeRecord(r));
  tx.put(listKey(event.seq), encodeRef(ref));
  tx.put(openKey(ref.peer, ref.direction, ref.id), EMPTY);
  // Version 1 matched a bare id to the first transfer offered with it, whoever with.
  const legacy = legacyKey(ref.id);
  if (tx.get(legacy) === undefined) tx.put(legacy, encodeMsgpack([ref.peer, ref.direction === 'out' ? 0 : 1]));
  return ref;
}

function refOfLegacy(value: Buffer | undefined, id: string): TransferRef | null {
  if (value === undefined) return null;
  const [peer, dir] = decodeRaw(value) as [number, number];
  return { peer, direction: dir === 0 ? 'out' : 'in', id };
}

export const transfers: StoredView<TransferChange> = {
  name: 'transfers',
  // 1: the projection in memory with a bitmap per transfer (checkpointed whole). 2: this view.
  // 3: an acceptance without a path keeps the offer's (the sender's), a completion may name the
  // received file's final path.
  version: 3,
  prefixes: [PREFIX.TRANSFER, PREFIX.LIST, PREFIX.OPEN, PREFIX.LEGACY],
  memoryPrefixes: [PREFIX.OPEN],
  reads(event) {
    const named = namedBy(event);
    if (named === null) return [];
    if (typeof named === 'string') return [legacyKey(named)];
    const key = transferKey(named.peer, named.direction, named.id);
    return event.type === 'transfer.offered' ? [key, legacyKey(named.id)] : [key];
  },
  readsThrough(event, get) {
    const named = namedBy(event);
    if (typeof named !== 'string') return [];
    const ref = refOfLegacy(get(legacyKey(named)), named);
    return ref ? [transferKey(ref.peer, ref.direction, ref.id)] : [];
  },
  apply(event, tx) {
    const named = namedBy(event);
    if (named === null) return null;
    const ref = typeof named === 'string' ? refOfLegacy(tx.get(legacyKey(named)), named) : named;
    if (ref === null) return null;
    if (event.type === 'transfer.offered') return offer(event, ref, tx);
    const key = transferKey(ref.peer, ref.direction, ref.id);
    const value = tx.get(key);
    if (value === undefined) return null;
    const r = decodeRecord(value);
    if (isFinished(r.state) || !evolve(r, event)) return null;
    if (isFinished(r.state)) {
      r.ranges = [];
      tx.del(openKey(ref.peer, ref.direction, ref.id));
    }
    tx.put(key, encodeRecord(r));
    return ref;
  },
};

const EMPTY = Buffer.alloc(0);
