import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEvent, encodeValue } from '../../src/events/codec.js';
import type { Direction, NewEvent, Stored } from '../../src/events/types.js';
import { listKey, openKey, PREFIX, transferKey } from '../../src/projections/transfer-keys.js';
import { markChunks, missingChunks } from '../../src/projections/transfer-progress.js';
import { activeMsOf, chunkCountOf, decodeRecord, decodeRef, moveOn, type TransferRecord, type TransferState } from '../../src/projections/transfer-values.js';
import { transfers } from '../../src/projections/transfers.js';
import { foldStored, given } from '../helpers/events.js';

// The view over `events` (already stored), read back record by record.
function runStored(stored: Stored[]) {
  const { records, changes, get } = foldStored(transfers, stored);
  const record = (peer: number, direction: Direction, id: string): TransferRecord | undefined => {
    const v = get(transferKey(peer, direction, id));
    return v ? decodeRecord(v) : undefined;
  };
  const isOpen = (peer: number, direction: Direction, id: string) => get(openKey(peer, direction, id)) !== undefined;
  const count = (prefix: number) => [...records.keys()].filter((k) => k.charCodeAt(0) === prefix).length;
  return { stored, changes, record, isOpen, count, get };
}

function run(events: NewEvent[]) {
  return runStored(given(events));
}

// 11 chunks of 1 KiB, the last one byte long.
const offer = (id = 't', peer = 7, direction: Direction = 'in'): NewEvent => ({ type: 'transfer.offered', id, peer, direction, name: 'a.bin', size: 10 * 1024 + 1, chunkSize: 1024 });
const key = { id: 't', peer: 7 } as const;
const inKey = { ...key, direction: 'in' as const };
const outKey = { ...key, direction: 'out' as const };
const stored = (chunks: number[], wireBytes?: number): NewEvent => ({ type: 'transfer.chunks-stored', ...inKey, chunks, wireBytes });

// An event as Parley 0.1.0 wrote it (version 1: a transfer named by its id alone), read back
// through the codec and its upcasters, as a rebuild reads it.
function v1(seq: number, fields: Record<string, unknown>): Stored {
  return decodeEvent(seq, encodeValue({ at: 1_700_000_000_000 + seq * 1000, ...fields, v: 1 }));
}

describe('transfers', () => {
  it('transfers - offered, active (accepted), paused, active (resumed), completed; each step says which transfer changed', () => {
    const steps: NewEvent[] = [
      offer(),
      { type: 'transfer.accepted', ...inKey, path: '/dl/a.bin.part' },
      { type: 'transfer.paused', ...inKey, reason: 'link closed' },
      { type: 'transfer.resumed', ...inKey },
      { type: 'transfer.completed', ...inKey, sha256: 'ab' },
    ];
    const seen = steps.map((_, i) => {
      const r = run(steps.slice(0, i + 1)).record(7, 'in', 't');
      return [r?.state, r?.reason];
    });
    expect(seen).toEqual([
      ['offered', null],
      ['active', null],
      ['paused', 'link closed'],
      ['active', null],
      ['completed', null],
    ]);
    const r = run(steps);
    expect(r.changes).toEqual(steps.map(() => ({ peer: 7, direction: 'in', id: 't' })));
    expect(r.record(7, 'in', 't')).toMatchObject({ seq: 1, name: 'a.bin', size: 10_241, chunkSize: 1024, chunkCount: 11, path: '/dl/a.bin.part', offeredAt: r.stored[0].at, updatedAt: r.stored[4].at });
  });

  // Events at the times given (ms), from an offer at 0: the time spent active up to the last.
  const activeCases: Array<{ title: string; events: Array<[number, NewEvent]>; activeMs: number; activeSince: number | null; total: number }> = [
    { title: 'offered only: none', events: [], activeMs: 0, activeSince: null, total: 0 },
    { title: 'the wait for the acceptance does not count', events: [[5000, { type: 'transfer.accepted', ...inKey }], [7000, stored([0])]], activeMs: 0, activeSince: 5000, total: 2000 },
    {
      title: 'a pause does not count',
      events: [
        [1000, { type: 'transfer.accepted', ...inKey }],
        [2000, { type: 'transfer.paused', ...inKey, reason: 'link closed' }],
        [9000, { type: 'transfer.resumed', ...inKey }],
        [9500, stored([0])],
      ],
      activeMs: 1000,
      activeSince: 9000,
      total: 1500,
    },
    { title: 'an end closes the span', events: [[1000, { type: 'transfer.accepted', ...inKey }], [4000, { type: 'transfer.completed', ...inKey }], [9000, stored([1])]], activeMs: 3000, activeSince: null, total: 3000 },
    { title: 'a clock set back counts nothing', events: [[1000, { type: 'transfer.accepted', ...inKey }], [500, { type: 'transfer.failed', ...inKey, reason: 'x' }]], activeMs: 0, activeSince: null, total: 0 },
  ];
  for (const c of activeCases) {
    it(`transfers - time active: ${c.title}`, () => {
      const events: NewEvent[] = [{ ...offer(), at: 0 } as NewEvent, ...c.events.map(([at, e]) => ({ ...e, at }) as NewEvent)];
      const r = run(events).record(7, 'in', 't') as TransferRecord;
      expect({ activeMs: r.activeMs, activeSince: r.activeSince, total: activeMsOf(r) }).toEqual({ activeMs: c.activeMs, activeSince: c.activeSince, total: c.total });
    });
  }

  it('transfers - the sender\'s acceptance keeps the path of the file sent; a completion names the received file\'s final path', () => {
    const r = run([
      { ...offer('t', 7, 'out'), path: '/home/me/a.bin' },
      { type: 'transfer.accepted', ...outKey },
      offer('t', 7, 'in'),
      { type: 'transfer.accepted', ...inKey, path: '/dl/a.bin' },
      { type: 'transfer.completed', ...inKey, root: 'ab'.repeat(32), path: '/dl/a (1).bin' },
    ]);
    expect(r.record(7, 'out', 't')).toMatchObject({ state: 'active', path: '/home/me/a.bin' });
    expect(r.record(7, 'in', 't')).toMatchObject({ state: 'completed', path: '/dl/a (1).bin' });
  });

  it('transfers - a pause or a resume out of turn changes nothing: an offer is not paused, an active one not resumed', () => {
    const r = run([offer(), { type: 'transfer.paused', ...inKey, reason: 'x' }, { type: 'transfer.resumed', ...inKey }, { type: 'transfer.accepted', ...inKey }, { type: 'transfer.resumed', ...inKey }, { type: 'transfer.accepted', ...inKey }]);
    expect(r.record(7, 'in', 't')?.state).toBe('active');
    expect(r.changes.map((c) => c !== null)).toEqual([true, false, false, true, false, false]);
  });

  it.each([
    ['declined', { type: 'transfer.declined', ...inKey, reason: 'no room' }, 'no room'],
    ['declined', { type: 'transfer.declined', ...inKey }, null],
    ['cancelled', { type: 'transfer.cancelled', ...inKey, by: 'peer' }, 'cancelled by peer'],
    ['cancelled', { type: 'transfer.cancelled', ...inKey, by: 'me' }, 'cancelled by me'],
    ['failed', { type: 'transfer.failed', ...inKey, reason: 'disk full' }, 'disk full'],
  ] as Array<[string, NewEvent, string | null]>)('transfers - an offer %s ends it, with its reason', (state, end, reason) => {
    const r = run([offer(), end]);
    expect(r.record(7, 'in', 't')).toMatchObject({ state, reason });
    expect(r.isOpen(7, 'in', 't')).toBe(false);
  });

  it('transfers - a transfer that ended stays as it ended: late acks, resumes and ends change nothing', () => {
    const late: NewEvent[] = [stored([1], 100), { type: 'transfer.resumed', ...inKey }, { type: 'transfer.accepted', ...inKey }, { type: 'transfer.completed', ...inKey }, { type: 'transfer.failed', ...inKey, reason: 'x' }];
    const r = run([offer(), { type: 'transfer.accepted', ...inKey }, { type: 'transfer.cancelled', ...inKey, by: 'peer' }, ...late]);
    expect(r.record(7, 'in', 't')).toMatchObject({ state: 'cancelled', reason: 'cancelled by peer', doneCount: 0, wireBytes: 0 });
    expect(r.changes.slice(3)).toEqual(late.map(() => null));
  });

  it('transfers - chunks merge into ranges in any order; duplicates, chunks out of range and not whole are left out', () => {
    const events: NewEvent[] = [offer(), { type: 'transfer.accepted', ...inKey }, stored([5, 3, 3]), stored([0, 10, 11, -1, 99, 1.5, 4]), stored([9, 1, 3])];
    const r = run(events);
    const t = r.record(7, 'in', 't') as TransferRecord;
    expect(t.chunkCount).toBe(11);
    expect(t.ranges).toEqual([0, 2, 3, 6, 9, 11]);
    expect(t.doneCount).toBe(7);
    expect(missingChunks(t)).toEqual([2, 6, 7, 8]);
    expect(missingChunks(t, 2)).toEqual([2, 6]);
    // Filling the last holes joins the ranges into one.
    const full = run([...events, stored([2, 8, 7, 6])]).record(7, 'in', 't') as TransferRecord;
    expect(full.ranges).toEqual([0, 11]);
    expect(full.doneCount).toBe(11);
    expect(missingChunks(full)).toEqual([]);
  });

  it('transfers - an event that adds nothing new changes nothing (and writes nothing)', () => {
    const r = run([offer(), stored([1, 2]), stored([2, 1, 40])]);
    expect(r.changes[2]).toBeNull();
    expect(r.record(7, 'in', 't')?.updatedAt).toBe(r.stored[1].at);
  });

  it('transfers - a finished transfer drops its ranges and keeps its summary and wire bytes', () => {
    const r = run([offer(), { type: 'transfer.accepted', ...inKey }, stored([0, 1, 2], 3200), stored([2, 5], 2100), { type: 'transfer.failed', ...inKey, reason: 'hash mismatch', wireBytes: 50 }]);
    expect(r.record(7, 'in', 't')).toMatchObject({ state: 'failed', reason: 'hash mismatch', ranges: [], doneCount: 4, wireBytes: 5350, chunkCount: 11 });
    expect(missingChunks(r.record(7, 'in', 't') as TransferRecord)).toEqual([]);
    expect([r.count(PREFIX.TRANSFER), r.count(PREFIX.LIST), r.count(PREFIX.OPEN)]).toEqual([1, 1, 0]);
  });

  it('transfers - wire bytes add up across events, resends (nothing new) and a pause included', () => {
    const r = run([
      { ...offer(), direction: 'out' },
      { type: 'transfer.accepted', ...outKey },
      { type: 'transfer.chunks-acked', ...outKey, chunks: [0, 1], wireBytes: 2048 },
      { type: 'transfer.paused', ...outKey, reason: 'link closed', wireBytes: 1024 },
      { type: 'transfer.paused', ...outKey, reason: 'again', wireBytes: 10 },
      { type: 'transfer.resumed', ...outKey },
      { type: 'transfer.chunks-acked', ...outKey, chunks: [1], wireBytes: 1024 },
      { type: 'transfer.chunks-acked', ...outKey, chunks: [2], wireBytes: -5 },
    ]);
    expect(r.record(7, 'out', 't')).toMatchObject({ state: 'active', doneCount: 3, ranges: [0, 3], wireBytes: 4106 });
    // A resend that adds no chunk still counts its bytes, and so tells subscribers.
    expect(r.changes[6]).toEqual({ peer: 7, direction: 'out', id: 't' });
  });

  it('transfers - the same id both ways with one peer is two transfers; stored goes to mine in, acked to mine out', () => {
    const r = run([offer('t', 7, 'in'), offer('t', 7, 'out'), { type: 'transfer.accepted', ...inKey }, stored([0, 1]), { type: 'transfer.chunks-acked', ...outKey, chunks: [4] }, { type: 'transfer.cancelled', ...outKey, by: 'me' }]);
    expect(r.record(7, 'in', 't')).toMatchObject({ seq: 1, state: 'active', ranges: [0, 2], doneCount: 2 });
    expect(r.record(7, 'out', 't')).toMatchObject({ seq: 2, state: 'cancelled', ranges: [], doneCount: 1 });
    expect([r.isOpen(7, 'in', 't'), r.isOpen(7, 'out', 't')]).toEqual([true, false]);
    expect([r.count(PREFIX.TRANSFER), r.count(PREFIX.LIST)]).toEqual([2, 2]);
    // And the same id with another peer is a third.
    expect(run([offer('t', 7), offer('t', 8), stored([3])]).record(8, 'in', 't')?.doneCount).toBe(0);
  });

  it('transfers - the same transfer offered twice: the first offer stands and is listed once', () => {
    const r = run([offer(), stored([0]), { ...offer(), name: 'other.bin', size: 5 }]);
    expect(r.record(7, 'in', 't')).toMatchObject({ seq: 1, name: 'a.bin', chunkCount: 11, doneCount: 1 });
    expect(r.changes[2]).toBeNull();
    expect(r.count(PREFIX.LIST)).toBe(1);
    expect(decodeRef(r.get(listKey(1)) as Buffer)).toEqual({ peer: 7, direction: 'in', id: 't' });
  });

  it('transfers - events of version 1 (the id alone) are upcast and resolved through the first offer of that id', () => {
    const events = [
      v1(1, { type: 'transfer.offered', id: 't', peer: 7, direction: 'in', name: 'a.bin', size: 10_241, chunkSize: 1024 }),
      v1(2, { type: 'transfer.offered', id: 't', peer: 8, direction: 'out', name: 'b.bin', size: 2048, chunkSize: 1024 }),
      v1(3, { type: 'transfer.accepted', id: 't', path: '/dl/a.part' }),
      v1(4, { type: 'transfer.chunks-stored', id: 't', chunks: [2, 0, 1] }),
      v1(5, { type: 'transfer.chunks-acked', id: 'nobody', chunks: [0] }),
      v1(6, { type: 'transfer.cancelled', id: 't', by: 'me' }),
    ];
    expect(events.slice(2).map((e) => [e.v, (e as { peer?: number }).peer])).toEqual([
      [2, undefined],
      [2, undefined],
      [2, undefined],
      [2, undefined],
    ]);
    const r = runStored(events);
    expect(r.record(7, 'in', 't')).toMatchObject({ state: 'cancelled', reason: 'cancelled by me', path: '/dl/a.part', doneCount: 3, ranges: [] });
    expect(r.record(8, 'out', 't')).toMatchObject({ state: 'offered', doneCount: 0 });
    expect(r.changes).toEqual([{ peer: 7, direction: 'in', id: 't' }, { peer: 8, direction: 'out', id: 't' }, { peer: 7, direction: 'in', id: 't' }, { peer: 7, direction: 'in', id: 't' }, null, { peer: 7, direction: 'in', id: 't' }]);
    // What each event reads: its record by key; a version 1 event the 'u' record, then through it.
    expect(transfers.reads(events[0]).map((k) => k[0])).toEqual([PREFIX.TRANSFER, PREFIX.LEGACY]);
    expect(transfers.reads(events[3]).map((k) => k[0])).toEqual([PREFIX.LEGACY]);
    expect(transfers.readsThrough?.(events[3], r.get)).toEqual([transferKey(7, 'in', 't')]);
    expect(transfers.readsThrough?.(events[4], r.get)).toEqual([]);
  });

  it('transfers - an event that names no transfer (half a key, a bad peer, no id) is left out and reads nothing', () => {
    const bad = given([offer(), { type: 'transfer.chunks-stored', id: 't', peer: 7, chunks: [1] } as unknown as NewEvent, stored([2]), { ...stored([3]), peer: 2 ** 40 } as NewEvent, { ...stored([4]), id: 5 } as unknown as NewEvent], 1);
    const r = runStored(bad);
    expect(r.record(7, 'in', 't')?.ranges).toEqual([2, 3]);
    expect(bad.slice(1).map((e) => transfers.reads(e).length)).toEqual([0, 1, 0, 0]);
  });

  it('transfers - an empty file has no chunk to miss; a zero chunk size is no chunk either', () => {
    expect(chunkCountOf(0, 1024)).toBe(0);
    expect(chunkCountOf(10, 0)).toBe(0);
    expect(missingChunks(run([{ ...offer(), size: 0 }]).record(7, 'in', 't') as TransferRecord)).toEqual([]);
  });

  it('transfers - other events read and change nothing here', () => {
    const r = run([{ type: 'message.sent', id: 't', peer: 7, text: 'x', packets: 1 }, { type: 'link.closed', peer: 7, reason: 'x' }]);
    expect(r.changes).toEqual([null, null]);
    expect(r.stored.map((e) => transfers.reads(e))).toEqual([[], []]);
  });

  it('transfers - ranges equal the set of chunks done, for any chunks in any order (a model check)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 70 }), fc.array(fc.array(fc.integer({ min: -3, max: 75 }), { maxLength: 12 }), { maxLength: 12 }), (chunkCount, events) => {
        const r: TransferRecord = { seq: 1, name: '', size: chunkCount, chunkSize: 1, chunkCount, state: 'active', doneCount: 0, ranges: [], wireBytes: 0, path: null, reason: null, offeredAt: 0, updatedAt: 0, activeMs: 0, activeSince: null };
        const done = new Set<number>();
        for (const chunks of events) {
          const before = done.size;
          for (const c of chunks) if (c >= 0 && c < chunkCount) done.add(c);
          expect(markChunks(r, chunks)).toBe(done.size - before);
        }
        // Sorted, disjoint, never touching, never empty.
        for (let i = 0; i < r.ranges.length; i += 2) {
          expect(r.ranges[i]).toBeLessThan(r.ranges[i + 1]);
          if (i > 0) expect(r.ranges[i - 1]).toBeLessThan(r.ranges[i]);
        }
        const fromRanges: number[] = [];
        for (let i = 0; i < r.ranges.length; i += 2) for (let c = r.ranges[i]; c < r.ranges[i + 1]; c++) fromRanges.push(c);
        expect(fromRanges).toEqual([...done].sort((a, b) => a - b));
        expect(r.doneCount).toBe(done.size);
        const missing = Array.from({ length: chunkCount }, (_, c) => c).filter((c) => !done.has(c));
        expect(missingChunks(r)).toEqual(missing);
      }),
      { numRuns: 300 },
    );
  });

  it('transfers - a 100 GB file in 64 KiB chunks, stored out of order within a window, keeps a record of a few ranges', () => {
    const size = 100 * 2 ** 30;
    const events: NewEvent[] = [{ ...offer('big', 7, 'in'), size, chunkSize: 65_536 } as NewEvent, { type: 'transfer.accepted', id: 'big', peer: 7, direction: 'in' }];
    // Chunks 16 to 4,095 (256 MiB but the first 1 MiB) in events of 16, each out of order.
    for (let e = 1; e < 256; e++) {
      const chunks = Array.from({ length: 16 }, (_, i) => e * 16 + ((i * 7) % 16));
      events.push({ type: 'transfer.chunks-stored', id: 'big', peer: 7, direction: 'in', chunks: e % 2 === 0 ? chunks : chunks.reverse(), wireBytes: 16 * 65_536 });
    }
    const r = run(events);
    const t = r.record(7, 'in', 'big') as TransferRecord;
    expect(t.chunkCount).toBe(chunkCountOf(size, 65_536));
    expect(t.ranges).toEqual([16, 4096]);
    expect(t.doneCount).toBe(4080);
    expect(t.wireBytes).toBe(255 * 16 * 65_536);
    expect(missingChunks(t, 3)).toEqual([0, 1, 2]);
    expect(r.get(transferKey(7, 'in', 'big'))?.byteLength).toBeLessThan(100);
  });
});

describe('transfers - moveOn, the rule the view and the screen share', () => {
  const states: TransferState[] = ['offered', 'active', 'paused', 'completed', 'failed', 'cancelled', 'declined'];
  it.each([
    ['transfer.accepted', 'offered', 'active'],
    ['transfer.paused', 'active', 'paused'],
    ['transfer.resumed', 'paused', 'active'],
  ] as const)('%s moves %s to %s and no other state', (type, from, to) => {
    for (const state of states) expect(moveOn(state, type)).toBe(state === from ? to : null);
  });
});
