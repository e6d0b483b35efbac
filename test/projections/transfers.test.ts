import { describe, expect, it } from 'vitest';
import { chunkCountOf, missingChunks, transfers } from '../../src/projections/transfers.js';
import { fold, given } from '../helpers/events.js';

const offer = { type: 'transfer.offered' as const, id: 't', peer: 7, direction: 'in' as const, name: 'a.bin', size: 10 * 1024 + 1, chunkSize: 1024 };

describe('transfers', () => {
  it('transfers - missing chunks are those not stored yet, in order', () => {
    const s = fold(transfers, given([offer, { type: 'transfer.accepted', id: 't' }, { type: 'transfer.chunks-stored', id: 't', chunks: [0, 2, 2, 10, 99, -1] }]));
    const t = s.t;
    expect(t.chunkCount).toBe(11);
    expect(t.doneCount).toBe(3);
    expect(missingChunks(t)).toEqual([1, 3, 4, 5, 6, 7, 8, 9]);
    expect(missingChunks(t, 2)).toEqual([1, 3]);
  });

  it('transfers - a cancelled transfer stays cancelled whatever arrives late', () => {
    const s = fold(transfers, given([offer, { type: 'transfer.cancelled', id: 't', by: 'peer' }, { type: 'transfer.chunks-stored', id: 't', chunks: [1] }, { type: 'transfer.completed', id: 't' }]));
    expect(s.t.state).toBe('cancelled');
    expect(s.t.reason).toBe('cancelled by peer');
    expect(s.t.doneCount).toBe(0);
  });

  it('transfers - a 100 GB file in 64 KiB chunks keeps a bitmap of 200 KB', () => {
    const size = 100 * 2 ** 30;
    const s = fold(transfers, given([{ ...offer, size, chunkSize: 65_536 }]));
    expect(s.t.chunkCount).toBe(chunkCountOf(size, 65_536));
    expect(s.t.done.byteLength).toBe(204_800);
  });

  it('transfers - restore turns stored bitmaps back into Uint8Array', () => {
    const s = fold(transfers, given([offer, { type: 'transfer.chunks-stored', id: 't', chunks: [3] }]));
    const back = transfers.restore!({ t: { ...s.t, done: Buffer.from(s.t.done) } });
    expect(back.t.done).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(back.t.done)).toBe(false);
    expect(missingChunks(back.t)).toEqual(missingChunks(s.t));
  });
});
