import { describe, expect, it } from 'vitest';
import { decideKeep, isKept, notKept, retention } from '../../src/projections/retention.js';
import { fold, given } from '../helpers/events.js';

describe('retention', () => {
  it('retention - every chat is kept until turned off; on again, it is kept', () => {
    const s = fold(retention, given([
      { type: 'chat.keep-changed', peer: 9, keep: false },
      { type: 'chat.keep-changed', peer: 5, keep: false },
      { type: 'chat.keep-changed', peer: 7, keep: false },
      { type: 'chat.keep-changed', peer: 7, keep: true },
      { type: 'message.received', id: 'r1', peer: 5, text: 'hi', sentAt: 1, at: 2 },
    ]));
    expect(notKept(s)).toEqual([5, 9]);
    expect([5, 7, 9, 11].map((p) => isKept(s, p))).toEqual([false, true, false, true]);
    expect(s[5]).toEqual({ peer: 5, since: 1_700_000_000_000 + 1000 });
  });

  it('retention - decideKeep: a change is one event, what holds already is none', () => {
    const none = retention.initial();
    expect(decideKeep(none, 5, true)).toBeNull();
    const off = decideKeep(none, 5, false);
    expect(off).toEqual({ type: 'chat.keep-changed', peer: 5, keep: false });
    const s = fold(retention, given([off!]));
    expect(decideKeep(s, 5, false)).toBeNull();
    expect(decideKeep(s, 5, true)).toEqual({ type: 'chat.keep-changed', peer: 5, keep: true });
    expect(decideKeep(s, 6, false)).toEqual({ type: 'chat.keep-changed', peer: 6, keep: false });
  });

  it('retention - "toString" or "__proto__" is no peer kept or not', () => {
    expect(isKept(retention.initial(), 'toString' as unknown as number)).toBe(true);
  });
});
