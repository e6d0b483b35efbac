// Reading the stored transfers view through the profile: one transfer, the list by page, the
// open ones from memory, subscribers told which transfer changed, and a journal of version 1
// (transfers named by id alone) read by this Parley.
import { describe, expect, it } from 'vitest';
import { eventKey, encodeValue } from '../../src/events/codec.js';
import { openJournal } from '../../src/events/journal.js';
import type { NewEvent } from '../../src/events/types.js';
import { journalDir, openProfile, type Change } from '../../src/node/profile.js';
import { allTransfers } from '../helpers/views.js';
import { tempHome } from '../helpers/cli.js';

const BIG = 2 ** 40 - 1;
const offer = (id: string, peer: number, direction: 'in' | 'out', at: number): NewEvent => ({ type: 'transfer.offered', id, peer, direction, name: `${id}.bin`, size: 4096, chunkSize: 1024, at });

// Five transfers: two open (one paused), three finished; the same id both ways with one peer.
const EVENTS: NewEvent[] = [
  offer('a', 5, 'in', 1),
  offer('a', 5, 'out', 2),
  offer('b', BIG, 'in', 3),
  { type: 'transfer.accepted', id: 'a', peer: 5, direction: 'in', path: '/dl/a.part', at: 4 },
  { type: 'transfer.chunks-stored', id: 'a', peer: 5, direction: 'in', chunks: [0, 2], wireBytes: 2100, at: 5 },
  { type: 'transfer.declined', id: 'a', peer: 5, direction: 'out', reason: 'no', at: 6 },
  offer('c', 6, 'out', 7),
  { type: 'transfer.paused', id: 'a', peer: 5, direction: 'in', reason: 'link closed', at: 8 },
  offer('d', 6, 'in', 9),
  { type: 'transfer.cancelled', id: 'd', peer: 6, direction: 'in', by: 'peer', at: 10 },
  { type: 'transfer.failed', id: 'c', peer: 6, direction: 'out', reason: 'gone', at: 11 },
];

describe('profile - the stored transfers view', () => {
  it('transfers - one by its key, the list newest first by page, the open ones; the same after a restart', async () => {
    const home = tempHome();
    const profile = await openProfile(home);
    await profile.appendMany(structuredClone(EVENTS));
    const keyOf = (t: { id: string; peer: number; direction: string; state: string }) => `${t.direction} ${t.peer} ${t.id} ${t.state}`;
    const all = await allTransfers(profile, 2);
    expect(all.map(keyOf)).toEqual(['in 6 d cancelled', 'out 6 c failed', `in ${BIG} b offered`, 'out 5 a declined', 'in 5 a paused']);
    expect(all.map((t) => t.seq)).toEqual([9, 7, 3, 2, 1]);
    expect((await profile.transfers({ limit: 2, before: 7 })).map((t) => t.seq)).toEqual([3, 2]);
    expect(await profile.transfers({ limit: 0 })).toEqual([]);
    expect((await profile.openTransfers()).map(keyOf)).toEqual([`in ${BIG} b offered`, 'in 5 a paused']);
    expect(await profile.transfer(5, 'in', 'a')).toMatchObject({ seq: 1, name: 'a.bin', chunkCount: 4, doneCount: 2, ranges: [0, 1, 2, 3], wireBytes: 2100, path: '/dl/a.part', reason: 'link closed', offeredAt: 1, updatedAt: 8 });
    expect(await profile.transfer(5, 'out', 'a')).toMatchObject({ state: 'declined', reason: 'no' });
    expect(await profile.transfer(5, 'in', 'nope')).toBeUndefined();
    expect(await profile.transfer(-1, 'in', 'a')).toBeUndefined();
    const before = { all, open: await profile.openTransfers() };
    await profile.close();
    // The open ones come back from the keys loaded at open, without a scan of the transfers.
    const again = await openProfile(home);
    expect({ all: await allTransfers(again, 2), open: await again.openTransfers() }).toEqual(before);
    await again.close();
  });

  it('transfers - subscribers hear which transfer changed, once the view shows it', async () => {
    const profile = await openProfile(tempHome());
    const heard: Array<{ change: Change; state: string | undefined }> = [];
    const pending: Array<Promise<void>> = [];
    profile.subscribe((_event, change) => {
      pending.push(profile.transfer(5, 'in', 'a').then((t) => void heard.push({ change, state: t?.state })));
    });
    await profile.append(offer('a', 5, 'in', 1));
    await profile.append({ type: 'transfer.accepted', id: 'a', peer: 5, direction: 'in', at: 2 });
    await profile.append({ type: 'transfer.resumed', id: 'a', peer: 5, direction: 'in', at: 3 });
    await Promise.all(pending);
    expect(heard).toEqual([
      { change: { seq: 1, type: 'transfer.offered', transfer: { peer: 5, direction: 'in', id: 'a' } }, state: 'offered' },
      { change: { seq: 2, type: 'transfer.accepted', transfer: { peer: 5, direction: 'in', id: 'a' } }, state: 'active' },
      { change: { seq: 3, type: 'transfer.resumed' }, state: 'active' },
    ]);
    await profile.close();
  });

  it('transfers - a journal of version 1 (transfers named by id alone) opens, and its events find their transfer through the first offer', async () => {
    // As Parley 0.1.0 wrote it: events of version 1, no view records. Between the offers and
    // the events that name them by id, more events than one batch of a rebuild (4,096), so
    // the offers' records are on disk when those events are read: a second read finds them.
    const AT = 1_700_000_000_000;
    const raw: object[] = [
      { type: 'transfer.offered', id: 'x', peer: 5, direction: 'in', name: 'x.bin', size: 3000, chunkSize: 1000 },
      { type: 'transfer.offered', id: 'x', peer: 6, direction: 'out', name: 'other.bin', size: 3000, chunkSize: 1000 },
      { type: 'transfer.offered', id: 'y', peer: 7, direction: 'out', name: 'y.bin', size: 10, chunkSize: 1000 },
      ...Array.from({ length: 5000 }, (_, i) => ({ type: 'settings.changed', key: `k${i % 7}`, value: i })),
      { type: 'transfer.accepted', id: 'x', path: '/dl/x.part' },
      { type: 'transfer.chunks-stored', id: 'x', chunks: [2, 0] },
      { type: 'transfer.chunks-acked', id: 'unknown', chunks: [0] },
      ...Array.from({ length: 5000 }, (_, i) => ({ type: 'settings.changed', key: `k${i % 7}`, value: i })),
      { type: 'transfer.chunks-stored', id: 'x', chunks: [1] },
      { type: 'transfer.completed', id: 'x' },
    ];
    const home = tempHome();
    const journal = await openJournal(journalDir(home), home);
    await journal.writeOps(raw.map((e, i) => ({ key: eventKey(i + 1), value: encodeValue({ ...e, at: AT + i, v: 1 }) })));
    await journal.close();

    const progress: number[] = [];
    const profile = await openProfile(home, { onProgress: (_view, seq) => progress.push(seq) });
    expect(progress.length).toBeGreaterThan(2);
    expect(await profile.transfer(5, 'in', 'x')).toMatchObject({ state: 'completed', path: '/dl/x.part', doneCount: 3, ranges: [], updatedAt: AT + raw.length - 1 });
    expect(await profile.transfer(6, 'out', 'x')).toMatchObject({ state: 'offered', doneCount: 0 });
    expect((await profile.openTransfers()).map((t) => [t.peer, t.direction, t.id])).toEqual([
      [7, 'out', 'y'],
      [6, 'out', 'x'],
    ]);
    // An event appended now without peer and direction (a script on an old shape) goes the same
    // way, its offer's records read from disk by the second read.
    await profile.append({ type: 'transfer.accepted', id: 'y' } as unknown as NewEvent);
    expect(await profile.transfer(7, 'out', 'y')).toMatchObject({ state: 'active' });
    const live = await allTransfers(profile);
    await profile.rebuild();
    expect(await allTransfers(profile)).toEqual(live);
    await profile.close();
  });
});
