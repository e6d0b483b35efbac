// Reading transfers from the stored transfers view (projections/transfers.ts) without loading
// them all: one by its key, the list by page (newest offer first) from the 'l' records, and the
// ones not finished from the keys kept in memory. A page of 50 is two reads whatever the number
// of transfers ever made.
import type { Journal } from '../events/journal.js';
import type { Direction } from '../events/types.js';
import { isPeerId, listKey, PREFIX, refOfKey, seqOfListKey, transferKey } from '../projections/transfer-keys.js';
import { decodeRecord, decodeRef, type Transfer, type TransferRef } from '../projections/transfer-values.js';

export type TransfersPageOptions = {
  limit?: number;
  // Only transfers offered before this seq (the `seq` of the last transfer of the page shown).
  before?: number;
};

export const DEFAULT_TRANSFERS_PAGE = 50;

// The records under the 'a' prefix, kept in memory (views.ts, memory): the open transfers.
export type OpenKeys = ReadonlyMap<string, Buffer>;

// One transfer by its key, or undefined.
export async function transferOf(journal: Journal, peer: number, direction: Direction, id: string): Promise<Transfer | undefined> {
  if (!isPeerId(peer) || (direction !== 'in' && direction !== 'out')) return undefined;
  const [value] = await journal.getMany([transferKey(peer, direction, id)]);
  return value === undefined ? undefined : { peer, direction, id, ...decodeRecord(value) };
}

// The `limit` transfers offered last before `before` (before the end when it is not given),
// newest first.
export async function transfersPage(journal: Journal, options: TransfersPageOptions = {}): Promise<Transfer[]> {
  const limit = options.limit ?? DEFAULT_TRANSFERS_PAGE;
  if (limit <= 0) return [];
  const gte = listKey(0);
  const lt = options.before !== undefined ? listKey(Math.max(0, Math.min(options.before, 2 ** 48 - 1))) : Buffer.from([PREFIX.LIST + 1]);
  const refs: Array<TransferRef & { seq: number }> = [];
  for await (const batch of journal.entries({ gte, lt, reverse: true, limit })) {
    for (const [key, value] of batch) refs.push({ seq: seqOfListKey(key), ...decodeRef(value) });
  }
  // An entry is written with its transfer's first offer only, so the seqs match; the check
  // keeps a damaged store from listing one transfer twice.
  return (await recordsOf(journal, refs)).filter((t, i) => t !== undefined && t.seq === refs[i].seq) as Transfer[];
}

// Every transfer not finished (offered, active, paused), newest offer first.
export async function openTransfersOf(journal: Journal, open: OpenKeys): Promise<Transfer[]> {
  const refs = [...open.keys()].map((k) => refOfKey(Buffer.from(k, 'latin1')));
  const found = (await recordsOf(journal, refs)).filter((t): t is Transfer => t !== undefined);
  return found.sort((a, b) => b.seq - a.seq);
}

async function recordsOf(journal: Journal, refs: TransferRef[]): Promise<Array<Transfer | undefined>> {
  if (refs.length === 0) return [];
  const values = await journal.getMany(refs.map((r) => transferKey(r.peer, r.direction, r.id)));
  return refs.map((r, i) => {
    const value = values[i];
    return value === undefined ? undefined : { peer: r.peer, direction: r.direction, id: r.id, ...decodeRecord(value) };
  });
}
