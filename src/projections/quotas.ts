// Quotas: the original's per-pair packet limits, per contact, per kind and per direction.
//   inbound  - what I allow this contact to send me. I grant it; my client refuses packets
//              beyond it, so a modified client on the other side gains nothing.
//   outbound - what this contact allows me. Its grants reach me over the network; my client asks
//              me to confirm a spend and refuses to send beyond it.
// A packet carries at most 65,535 bytes of data (the original's two-byte size field), so B bytes
// spend ceil(B / 65,535) packets, at least one. Receipts spend nothing; an edit spends one.
import type { QuotaDirection, QuotaKind, Stored } from '../events/types.js';
import type { PeerMap, Projection } from './projection.js';

export const PACKET_BYTES = 65_535;

export type Balance = { granted: number; spent: number };
export type PeerQuota = Record<QuotaDirection, Record<QuotaKind, Balance>>;
export type QuotasState = PeerMap<PeerQuota>;

export function emptyQuota(): PeerQuota {
  return {
    inbound: { messages: { granted: 0, spent: 0 }, files: { granted: 0, spent: 0 } },
    outbound: { messages: { granted: 0, spent: 0 }, files: { granted: 0, spent: 0 } },
  };
}

export function packetsFor(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / PACKET_BYTES));
}

function entry(state: QuotasState, peer: number): PeerQuota {
  let q = state[peer];
  if (!q) {
    q = emptyQuota();
    state[peer] = q;
  }
  return q;
}

export const quotas: Projection<QuotasState> = {
  name: 'quotas',
  version: 1,
  initial: () => ({}),
  apply(state, event: Stored) {
    switch (event.type) {
      case 'quota.granted':
        entry(state, event.peer)[event.direction][event.kind].granted += event.n;
        return state;
      case 'quota.spent':
        entry(state, event.peer)[event.direction][event.kind].spent += event.n;
        return state;
      default:
        return state;
    }
  },
};

export function quotaOf(state: QuotasState, peer: number): PeerQuota {
  return state[peer] ?? emptyQuota();
}

export function left(b: Balance): number {
  return b.granted - b.spent;
}

// The events that grant a contact more inbound packets, one per kind with a count above zero.
export function inboundGrants(peer: number, counts: Record<QuotaKind, number>): Array<{ type: 'quota.granted'; peer: number; direction: 'inbound'; kind: QuotaKind; n: number }> {
  const kinds: QuotaKind[] = ['messages', 'files'];
  return kinds.filter((kind) => counts[kind] > 0).map((kind) => ({ type: 'quota.granted' as const, peer, direction: 'inbound' as const, kind, n: counts[kind] }));
}

// decide: may `packets` packets of `kind` go in `direction` with `peer`? Returns the one event
// that records the answer: a spend, or a refusal that leaves the balance as it was.
export function decideSpend(
  state: QuotasState,
  peer: number,
  direction: QuotaDirection,
  kind: QuotaKind,
  packets: number,
  ref?: string,
): { type: 'quota.spent' | 'quota.refused'; peer: number; direction: QuotaDirection; kind: QuotaKind; n: number; ref?: string } {
  const balance = quotaOf(state, peer)[direction][kind];
  const type = left(balance) >= packets ? 'quota.spent' : 'quota.refused';
  return ref === undefined ? { type, peer, direction, kind, n: packets } : { type, peer, direction, kind, n: packets, ref };
}
