// The live speed meter (src/node/speeds.ts): given bytes moved at these times, this rate at that
// time. Plain arithmetic on an injected clock.
import { describe, expect, it } from 'vitest';
import { createMeter, meterOf, runningMeter, WINDOW_MS } from '../../src/node/speeds.js';

const MB = 1_000_000;

// [ms, bytes] moved by transfer 't' from peer 7, in order.
function meterAfter(moves: Array<[number, number]>): ReturnType<typeof createMeter> {
  const m = createMeter();
  for (const [at, bytes] of moves) m.moved(7, 'in', 't', bytes, at);
  return m;
}

describe('speeds', () => {
  const cases: Array<{ title: string; moves: Array<[number, number]>; at: number; rate: number | null }> = [
    { title: 'never seen', moves: [], at: 1000, rate: null },
    { title: 'one move only starts the count', moves: [[1000, MB]], at: 1500, rate: 0 },
    { title: '1 MB every 100 ms from the start: 10 MB/s', moves: [[0, MB], [100, MB], [200, MB], [300, MB], [400, MB]], at: 400, rate: 10 * MB },
    // 30 MB in the last 3 s after a slow start: the start is out of the window.
    {
      title: 'only the window counts',
      moves: [[0, MB], [5000, MB], ...Array.from({ length: 40 }, (_, i): [number, number] => [5100 + i * 100, MB])],
      at: 9000,
      rate: 10 * MB,
    },
    { title: 'nothing since the window began: 0', moves: [[0, MB], [100, MB], [200, MB]], at: 200 + WINDOW_MS + 1, rate: 0 },
    // The count keeps the bytes of moves closer than a sample apart.
    { title: 'moves closer than a sample are one', moves: [[0, 0], [10, MB], [20, MB], [30, MB], [1000, MB]], at: 1000, rate: 4 * MB },
  ];
  for (const c of cases) {
    it(`speeds - ${c.title}`, () => {
      expect(meterAfter(c.moves).rate(7, 'in', 't', c.at)).toBe(c.rate);
    });
  }

  it('speeds - transfers are counted apart by peer, direction and id; a dropped one starts again', () => {
    const m = createMeter();
    m.moved(7, 'in', 't', MB, 0);
    m.moved(7, 'in', 't', MB, 1000);
    m.moved(7, 'out', 't', 5 * MB, 0);
    m.moved(7, 'out', 't', 5 * MB, 1000);
    expect(m.rate(7, 'in', 't', 1000)).toBe(MB);
    expect(m.rate(7, 'out', 't', 1000)).toBe(5 * MB);
    expect(m.rate(8, 'in', 't', 1000)).toBeNull();
    m.drop(7, 'in', 't');
    expect(m.rate(7, 'in', 't', 1000)).toBeNull();
    expect(m.rate(7, 'out', 't', 1000)).toBe(5 * MB);
  });

  it('speeds - memory stays flat: a long transfer keeps about a window of samples', () => {
    const m = createMeter();
    for (let at = 0; at <= 600_000; at += 10) m.moved(7, 'in', 't', 1000, at);
    // 1000 bytes every 10 ms: 100,000 bytes a second, the last window alone.
    expect(m.rate(7, 'in', 't', 600_000)).toBeCloseTo(100_000, -3);
  });

  it('speeds - one meter per profile object, none until an engine made it', () => {
    const profile = {};
    expect(runningMeter(profile)).toBeUndefined();
    const m = meterOf(profile);
    expect(meterOf(profile)).toBe(m);
    expect(runningMeter(profile)).toBe(m);
    expect(runningMeter({})).toBeUndefined();
  });
});
