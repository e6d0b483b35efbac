// The server's registry as a pure reducer: given these events, this state; replay gives the same.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ParleyEvent } from '../../src/events/types.js';
import { apply, idOf, initial, isRevoked, keySha256Of, type Registry } from '../../server/registry.js';

const K1 = '11'.repeat(32);
const K2 = '22'.repeat(32);

function given(events: ParleyEvent[]): Registry {
  return events.reduce(apply, initial());
}

describe('registry', () => {
  it('registry - a registration binds a key and an id both ways', () => {
    const r = given([{ type: 'client.registered', id: 7, keySha256: K1, at: 1 }]);
    expect(idOf(r, K1)).toBe(7);
    expect(r.byId.get(7)).toBe(K1);
    expect(idOf(r, K2)).toBeUndefined();
  });

  it('registry - the first binding wins: neither a second id for a key nor a second key for an id', () => {
    const r = given([
      { type: 'client.registered', id: 7, keySha256: K1, at: 1 },
      { type: 'client.registered', id: 8, keySha256: K1, at: 2 },
      { type: 'client.registered', id: 7, keySha256: K2, at: 3 },
    ]);
    expect([...r.byKey]).toEqual([[K1, 7]]);
    expect([...r.byId]).toEqual([[7, K1]]);
  });

  it('registry - a revocation is kept, whether or not the key ever registered', () => {
    const r = given([
      { type: 'client.registered', id: 7, keySha256: K1, at: 1 },
      { type: 'client.revoked', keySha256: K1, at: 2 },
      { type: 'client.revoked', keySha256: K2, at: 3 },
      { type: 'client.revoked', keySha256: K1, at: 4 },
    ]);
    expect(isRevoked(r, K1)).toBe(true);
    expect(isRevoked(r, K2)).toBe(true);
    expect(r.revoked.get(K1)).toBe(2);
    expect(idOf(r, K1)).toBe(7);
  });

  it('registry - lastSeen is the time of the last session opened or closed', () => {
    const r = given([
      { type: 'session.opened', id: 7, address: '10.0.0.1:5000', at: 10 },
      { type: 'session.closed', id: 7, reason: 'QUIT', at: 20 },
      { type: 'session.opened', id: 8, address: '10.0.0.2:5000', at: 15 },
      { type: 'relay.opened', a: 7, b: 8, at: 30 },
    ]);
    expect(r.lastSeen.get(7)).toBe(20);
    expect(r.lastSeen.get(8)).toBe(15);
  });

  it('registry - replaying any events from empty twice gives the same state (deterministic)', () => {
    const key = fc.constantFrom(K1, K2, '33'.repeat(32));
    const id = fc.integer({ min: 1, max: 5 });
    const event: fc.Arbitrary<ParleyEvent> = fc.oneof(
      fc.record({ type: fc.constant('client.registered' as const), id, keySha256: key, at: fc.nat() }),
      fc.record({ type: fc.constant('client.revoked' as const), keySha256: key, at: fc.nat() }),
      fc.record({ type: fc.constant('session.opened' as const), id, address: fc.constant('1.2.3.4:5'), at: fc.nat() }),
      fc.record({ type: fc.constant('session.closed' as const), id, reason: fc.constant('QUIT'), at: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), (events) => {
        const a = given(events);
        const b = given(events.map((e) => ({ ...e })));
        expect(b).toEqual(a);
        // One id per key and one key per id, always.
        for (const [k, i] of a.byKey) expect(a.byId.get(i)).toBe(k);
        expect(a.byKey.size).toBe(a.byId.size);
      }),
    );
  });

  it('registry - keySha256Of lowercases, drops colons and refuses anything but 64 hex', () => {
    const cases: Array<[string, string | null]> = [
      [K1, K1],
      ['AB'.repeat(32), 'ab'.repeat(32)],
      [Array(32).fill('AB').join(':'), 'ab'.repeat(32)],
      [` ${K1}`, null],
      [K1.slice(1), null],
      ['zz'.repeat(32), null],
    ];
    for (const [text, want] of cases) expect(keySha256Of(text)).toBe(want);
  });
});
