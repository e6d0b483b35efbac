// Which of two links to one contact is kept (takeover.ts, takesOver and adoption): both sides must pick the
// same one, whichever came up first on each.
import { describe, expect, it } from 'vitest';
import { WIRE_CODE } from '../../src/net/constants.js';
import { adoption, takesOver } from '../../src/node/takeover.js';

describe('takeover', () => {
  it.each([
    ['direct over the relay', 'direct', 9, { route: 'relay', dialer: 5 }, true],
    ['lan over the relay', 'lan', 5, { route: 'relay', dialer: 5 }, true],
    ['never the relay over a straight link', 'relay', 1, { route: 'direct', dialer: 9 }, false],
    ['the lower dialer between two straight links', 'direct', 5, { route: 'lan', dialer: 9 }, true],
    ['not the higher dialer', 'lan', 9, { route: 'direct', dialer: 5 }, false],
    ['not a second link of the same dialer', 'direct', 5, { route: 'direct', dialer: 5 }, false],
    ['the lower dialer between two relays', 'relay', 5, { route: 'relay', dialer: 9 }, true],
  ] as const)('takeover - %s', (_what, route, dialer, current, expected) => {
    expect(takesOver(route, dialer, current)).toBe(expected);
  });

  it('takeover - two sides that each saw the links in another order keep the same one', () => {
    const x = { route: 'direct' as const, dialer: 5 };
    const y = { route: 'direct' as const, dialer: 9 };
    // Side A had x first, side B had y first.
    const keptAtA = takesOver(y.route, y.dialer, x) ? y : x;
    const keptAtB = takesOver(x.route, x.dialer, y) ? x : y;
    expect(keptAtA).toBe(keptAtB);
  });
});

describe('adoption: whether a link that finished its handshake is kept', () => {
  const now = { closing: false, contact: true };
  it('keeps the first link to a contact, and one that takes over', () => {
    expect(adoption('direct', 1, undefined, now)).toEqual({ keep: true });
    expect(adoption('direct', 2, { route: 'relay', dialer: 1 }, now)).toEqual({ keep: true });
  });
  it('closes a link that does not take over as a duplicate', () => {
    expect(adoption('relay', 1, { route: 'direct', dialer: 2 }, now)).toMatchObject({ keep: false, code: WIRE_CODE.DUPLICATE });
  });
  it('refuses a link to a peer blocked or removed while its handshake ran, even with no link up', () => {
    expect(adoption('direct', 1, undefined, { closing: false, contact: false })).toMatchObject({ keep: false, code: WIRE_CODE.PEER_REFUSED });
    expect(adoption('direct', 1, { route: 'relay', dialer: 2 }, { closing: false, contact: false })).toMatchObject({ keep: false, code: WIRE_CODE.PEER_REFUSED });
  });
  it('keeps nothing while the client closes', () => {
    expect(adoption('direct', 1, undefined, { closing: true, contact: true })).toMatchObject({ keep: false, code: WIRE_CODE.DUPLICATE });
  });
});
