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
// Its records: transfer-keys.ts; their values: transfer-values.ts; its progress, as ranges of
// done chunks: transfer-progress.ts.
//
// States: offered -> active (accepted) <-> paused (the link went away; resumed) -> completed,
// failed or cancelled; an offer may also be declined, failed or cancelled. A transfer that ended
// stays as it ended: a late ack does not reopen a cancelled one. The same (peer, direction, id)
// offered twice: the first offer stands.
import { decodeRaw } from '../events/codec.js';
import { encodeMsgpack } from '../events/msgpack.js';
import type { Stored, TransferOffered } from '../events/types.js';
import type { StoredView, Tx } from './projection.js';
import { isPeerId, legacyKey, listKey, openKey, PREFIX, transferKey } from './transfer-keys.js';
import { markChunks } from './transfer-progress.js';
import { chunkCountOf, decodeRecord, encodeRecord, encodeRef, isFinished, moveOn, type TransferRecord, type TransferRef, type TransferState } from './transfer-values.js';

// What a change to the view was, for subscribers (profile.subscribe): which transfer.
export type TransferChange = TransferRef;

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
  const was = r.state;
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
      if (moveOn(r.state, event.type)) {
        to('active', null);
        // Where the received file goes; the sender's acceptance names none and keeps the file's.
        r.path = textOr(event.path, r.path);
      }
      break;
    case 'transfer.paused':
      if (moveOn(r.state, event.type)) to('paused', textOr(event.reason, ''));
      break;
    case 'transfer.resumed':
      if (moveOn(r.state, event.type)) to('active', null);
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
  if (was !== 'active' && r.state === 'active') r.activeSince = event.at;
  if (was === 'active' && r.state !== 'active') {
    // A clock set back between two events counts no time, never a negative one.
    r.activeMs += Math.max(0, event.at - (r.activeSince ?? event.at));
    r.activeSince = null;
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
    activeMs: 0,
    activeSince: null,
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
  // received file's final path. 4: the time spent active (activeMs, activeSince).
  version: 4,
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
