// Transfers: the state of every file offered in either direction, and which chunks are done.
// For the receiver a chunk is done when it was stored (written, flushed, verified); for the
// sender when the receiver acked it. Resume after a restart or a link change is "send what is
// missing", read straight from here. A bitmap keeps this small for any size: a 100 GB file in
// 64 KiB chunks needs 200 KB.
import type { Direction, Stored } from '../events/types.js';
import type { Projection } from './projection.js';

export type TransferState = 'offered' | 'accepted' | 'declined' | 'completed' | 'failed' | 'cancelled';

export type Transfer = {
  id: string;
  peer: number;
  direction: Direction;
  name: string;
  size: number;
  chunkSize: number;
  chunkCount: number;
  state: TransferState;
  done: Uint8Array; // bit i set: chunk i stored (in) or acked (out)
  doneCount: number;
  path: string | null;
  reason: string | null;
  offeredAt: number;
  updatedAt: number;
};

export type TransfersState = Record<string, Transfer>;

export function chunkCountOf(size: number, chunkSize: number): number {
  return chunkSize > 0 ? Math.ceil(size / chunkSize) : 0;
}

function markDone(t: Transfer, chunks: number[]): void {
  for (const i of chunks) {
    if (!Number.isInteger(i) || i < 0 || i >= t.chunkCount) continue;
    const byte = i >>> 3;
    const bit = 1 << (i & 7);
    if ((t.done[byte] & bit) === 0) {
      t.done[byte] |= bit;
      t.doneCount++;
    }
  }
}

// A transfer that ended stays as it ended: a late ack does not reopen a cancelled one.
function isOpen(t: Transfer): boolean {
  return t.state === 'offered' || t.state === 'accepted';
}

export const transfers: Projection<TransfersState> = {
  name: 'transfers',
  version: 1,
  initial: () => ({}),
  apply(state, event: Stored) {
    switch (event.type) {
      case 'transfer.offered': {
        if (state[event.id]) return state;
        const chunkCount = chunkCountOf(event.size, event.chunkSize);
        state[event.id] = {
          id: event.id,
          peer: event.peer,
          direction: event.direction,
          name: event.name,
          size: event.size,
          chunkSize: event.chunkSize,
          chunkCount,
          state: 'offered',
          done: new Uint8Array(Math.ceil(chunkCount / 8)),
          doneCount: 0,
          path: null,
          reason: null,
          offeredAt: event.at,
          updatedAt: event.at,
        };
        return state;
      }
      case 'transfer.accepted': {
        const t = state[event.id];
        if (t && t.state === 'offered') {
          t.state = 'accepted';
          t.path = event.path ?? null;
          t.updatedAt = event.at;
        }
        return state;
      }
      case 'transfer.chunks-stored':
      case 'transfer.chunks-acked': {
        const t = state[event.id];
        if (t && isOpen(t)) {
          markDone(t, event.chunks);
          t.updatedAt = event.at;
        }
        return state;
      }
      case 'transfer.declined':
      case 'transfer.completed':
      case 'transfer.failed':
      case 'transfer.cancelled': {
        const t = state[event.id];
        if (t && isOpen(t)) {
          t.state = event.type === 'transfer.declined' ? 'declined' : event.type === 'transfer.completed' ? 'completed' : event.type === 'transfer.failed' ? 'failed' : 'cancelled';
          if (event.type === 'transfer.failed' || event.type === 'transfer.declined') t.reason = event.reason ?? null;
          if (event.type === 'transfer.cancelled') t.reason = event.by === 'me' ? 'cancelled by me' : 'cancelled by peer';
          t.updatedAt = event.at;
        }
        return state;
      }
      default:
        return state;
    }
  },
  restore(data) {
    // MessagePack gives the bitmaps back as Buffers; keep them plain Uint8Arrays.
    const state = (data ?? {}) as TransfersState;
    for (const id in state) state[id].done = new Uint8Array(state[id].done);
    return state;
  },
};

// The chunks still to send or receive, in order, at most `limit` of them.
export function missingChunks(t: Transfer, limit = Infinity): number[] {
  const out: number[] = [];
  for (let i = 0; i < t.chunkCount && out.length < limit; i++) {
    if ((t.done[i >>> 3] & (1 << (i & 7))) === 0) out.push(i);
  }
  return out;
}
