import { describe, expect, it } from 'vitest';
import { decideSpend, left, packetsFor, quotaOf, quotas, PACKET_BYTES } from '../../src/projections/quotas.js';
import { fold, given } from '../helpers/events.js';

describe('quotas', () => {
  it.each([
    [0, 1],
    [1, 1],
    [PACKET_BYTES, 1],
    [PACKET_BYTES + 1, 2],
    [10 * PACKET_BYTES, 10],
    [100 * 2 ** 30, Math.ceil((100 * 2 ** 30) / PACKET_BYTES)],
  ])('quotas - %i bytes spend %i packets', (bytes, packets) => {
    expect(packetsFor(bytes)).toBe(packets);
  });

  it('quotas - grants and spends add up per peer, direction and kind', () => {
    const s = fold(quotas, given([
      { type: 'quota.granted', peer: 7, direction: 'inbound', kind: 'messages', n: 10 },
      { type: 'quota.granted', peer: 7, direction: 'outbound', kind: 'files', n: 5 },
      { type: 'quota.spent', peer: 7, direction: 'inbound', kind: 'messages', n: 3 },
      { type: 'quota.refused', peer: 7, direction: 'inbound', kind: 'messages', n: 100 },
    ]));
    const q = quotaOf(s, 7);
    expect(q.inbound.messages).toEqual({ granted: 10, spent: 3 });
    expect(left(q.outbound.files)).toBe(5);
    expect(left(q.inbound.files)).toBe(0);
    expect(quotaOf(s, 8).inbound.messages).toEqual({ granted: 0, spent: 0 });
  });

  // given(events).when(spend).then(event)
  it.each([
    ['fits', 10, 4, 'quota.spent'],
    ['exactly fits', 10, 10, 'quota.spent'],
    ['one over', 10, 11, 'quota.refused'],
    ['nothing granted', 0, 1, 'quota.refused'],
  ])('quotas - decide: %s', (_title, granted, packets, type) => {
    const s = fold(quotas, given([{ type: 'quota.granted', peer: 7, direction: 'outbound', kind: 'messages', n: granted }]));
    expect(decideSpend(s, 7, 'outbound', 'messages', packets, 'm1')).toEqual({ type, peer: 7, direction: 'outbound', kind: 'messages', n: packets, ref: 'm1' });
  });
});
