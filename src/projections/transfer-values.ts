// A transfer as the stored transfers view (transfers.ts) keeps it: its record, the reference
// to it, and their values.
import { decodeRaw } from '../events/codec.js';
import { encodeMsgpack } from '../events/msgpack.js';
import type { Ref } from './keys.js';

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
  // Time spent active (accepted, not paused), for the average speed: the spans that ended, and
  // the start of the current one (null unless active). Waiting to be accepted and pauses are
  // not counted.
  activeMs: number;
  activeSince: number | null;
};

export type TransferRef = Ref;

// A transfer as readers see it (node/transfers.ts): its key and its record.
export type Transfer = TransferRef & TransferRecord;

export function chunkCountOf(size: number, chunkSize: number): number {
  return chunkSize > 0 && size > 0 ? Math.ceil(size / chunkSize) : 0;
}

// The time a transfer spent active up to its last event: the time its average speed is over.
export function activeMsOf(r: TransferRecord): number {
  return r.activeMs + (r.activeSince === null ? 0 : Math.max(0, r.updatedAt - r.activeSince));
}

// The moves an open transfer makes on being accepted, paused or resumed, the one rule the stored
// view (transfers.ts) and the screen (ui/tui/model.ts) follow: accepted only from offered, paused
// only from active, resumed only from paused. Null: the event moves nothing (a resume journaled
// just after the transfer ended, its link changing as it did, leaves it ended).
export function moveOn(state: TransferState, type: 'transfer.accepted' | 'transfer.paused' | 'transfer.resumed'): TransferState | null {
  if (type === 'transfer.accepted') return state === 'offered' ? 'active' : null;
  if (type === 'transfer.paused') return state === 'active' ? 'paused' : null;
  return state === 'paused' ? 'active' : null;
}

export function isFinished(state: TransferState): boolean {
  return state === 'completed' || state === 'failed' || state === 'cancelled' || state === 'declined';
}

// ---- values ----
// Plain MessagePack arrays: records are read on every event and every page, and arrays are the
// smallest form. Bump the view's version when their layout changes.

export function encodeRecord(r: TransferRecord): Buffer {
  return encodeMsgpack([r.seq, r.name, r.size, r.chunkSize, r.chunkCount, r.state, r.doneCount, r.ranges, r.wireBytes, r.path, r.reason, r.offeredAt, r.updatedAt, r.activeMs, r.activeSince]);
}

export function decodeRecord(value: Uint8Array): TransferRecord {
  const [seq, name, size, chunkSize, chunkCount, state, doneCount, ranges, wireBytes, path, reason, offeredAt, updatedAt, activeMs, activeSince] = decodeRaw(value) as [
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
    number,
    number | null,
  ];
  return { seq, name, size, chunkSize, chunkCount, state, doneCount, ranges, wireBytes, path, reason, offeredAt, updatedAt, activeMs, activeSince };
}

export function encodeRef(ref: TransferRef): Buffer {
  return encodeMsgpack([ref.peer, ref.direction === 'out' ? 0 : 1, ref.id]);
}

export function decodeRef(value: Uint8Array): TransferRef {
  const [peer, dir, id] = decodeRaw(value) as [number, number, string];
  return { peer, direction: dir === 0 ? 'out' : 'in', id };
}
