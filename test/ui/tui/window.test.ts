import { describe, expect, it } from 'vitest';
import { keptOffset, needsOlder, visibleWindow } from '../../../src/ui/tui/window.js';

describe('window', () => {
  it.each([
    [[2, 3, 1], 4, 0, { offset: 0, top: 2, total: 6, slices: [{ block: 1, from: 0, to: 3 }, { block: 2, from: 0, to: 1 }] }],
    [[2, 3, 1], 4, 1, { offset: 1, top: 1, total: 6, slices: [{ block: 0, from: 1, to: 2 }, { block: 1, from: 0, to: 3 }] }],
    [[2, 3, 1], 4, 99, { offset: 2, top: 0, total: 6, slices: [{ block: 0, from: 0, to: 2 }, { block: 1, from: 0, to: 2 }] }],
    [[1, 1], 5, 3, { offset: 0, top: 0, total: 2, slices: [{ block: 0, from: 0, to: 1 }, { block: 1, from: 0, to: 1 }] }],
    [[], 5, 0, { offset: 0, top: 0, total: 0, slices: [] }],
  ])('window - heights %j, height %d, offset %d', (heights, height, offset, expected) => {
    expect(visibleWindow(heights, height, offset)).toEqual(expected);
  });

  it('window - the rows shown are never more than the height, whatever the blocks', () => {
    const heights = Array.from({ length: 200 }, (_, i) => 1 + (i % 4));
    for (const offset of [0, 5, 100, 1000]) {
      const w = visibleWindow(heights, 17, offset);
      expect(w.slices.reduce((n, s) => n + s.to - s.from, 0)).toBe(17);
    }
  });

  it('window - scrolled up, blocks that come below keep the rows in view', () => {
    const blocks = [{ key: 'a', height: 2 }, { key: 'b', height: 3 }, { key: 'c', height: 1 }];
    expect(keptOffset(blocks, 'a', 4)).toBe(8);
    expect(keptOffset(blocks, 'c', 4)).toBe(4);
    expect(keptOffset(blocks, 'a', 0)).toBe(0);
    expect(keptOffset(blocks, 'gone', 4)).toBe(4);
    expect(keptOffset(blocks, null, 4)).toBe(4);
  });

  it('window - asks for older rows near the top of what is loaded, only when there are', () => {
    const w = visibleWindow([10, 10, 10], 10, 15);
    expect(needsOlder(w, 10, true)).toBe(true);
    expect(needsOlder(w, 10, false)).toBe(false);
    expect(needsOlder(visibleWindow([10, 10, 10], 10, 0), 10, true)).toBe(false);
  });
});
