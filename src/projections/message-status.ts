// What a person sees of a message in the stored messages view (messages.ts): its updates folded
// into its state, and its status from that state and the chat's read watermarks.
import { decodeRaw as decodeMsgpack } from '../events/codec.js';
import type { Direction } from '../events/types.js';
import { UPDATE } from './message-keys.js';
import type { ChatSummary } from './message-values.js';

// Mine: pending (journaled, not yet written to a link), sent (written to a link), delivered,
// read, failed. Theirs: received, read.
export type MessageStatus = 'pending' | 'sent' | 'delivered' | 'read' | 'failed' | 'received';

// A message's updates, folded.
export type MessageState = {
  sentAt: number; // out: when it was first written to a link (0: not yet)
  deliveredAt: number | null; // out: the peer's clock when it got it (the first receipt)
  editSeq: number; // the last edit's event, 0 if none
  editedAt: number | null;
  failed: string | null; // out: why it could not be delivered (the last word)
};

export function unreadOf(s: ChatSummary | undefined): number {
  return s ? s.incoming - s.readOrd : 0;
}

// A message's updates, in key order (by kind, then by the seq of the event that made each).
export function foldUpdates(updates: ReadonlyArray<{ kind: number; eventSeq: number; value: Uint8Array }>): MessageState {
  const state: MessageState = { sentAt: 0, deliveredAt: null, editSeq: 0, editedAt: null, failed: null };
  for (const u of updates) {
    const v = u.value.length > 0 ? decodeMsgpack(u.value) : null;
    if (u.kind === UPDATE.SENT && state.sentAt === 0) state.sentAt = v as number;
    else if (u.kind === UPDATE.DELIVERED && state.deliveredAt === null) state.deliveredAt = v as number;
    else if (u.kind === UPDATE.FAILED) state.failed = v as string;
    else if (u.kind === UPDATE.EDITED) {
      state.editSeq = u.eventSeq;
      state.editedAt = v as number;
    }
  }
  return state;
}

// The status a person sees, from the message's updates and the chat's watermarks.
export function statusOf(direction: Direction, seq: number, m: MessageState, s: ChatSummary | undefined): MessageStatus {
  if (direction === 'in') return s && seq <= s.readSeq ? 'read' : 'received';
  if (s && seq <= s.peerReadSeq) return 'read';
  if (m.deliveredAt !== null) return 'delivered';
  if (m.failed !== null) return 'failed';
  return m.sentAt > 0 ? 'sent' : 'pending';
}
