import { describe, expect, it } from 'vitest';
import { layoutOf } from '../../../src/ui/tui/layout.js';

describe('layout', () => {
  it.each([
    [{ columns: 100, rows: 30 }, 3, { width: 100, height: 29, contacts: 28, chat: 72, main: 24, body: 20, inputRows: 6 }],
    [{ columns: 200, rows: 50 }, 5, { width: 200, height: 49, contacts: 32, chat: 168, main: 42, body: 38, inputRows: 6 }],
    [{ columns: 30, rows: 8 }, 3, { width: 40, height: 12, contacts: 18, chat: 22, main: 7, body: 3, inputRows: 3 }],
  ])('layout - %j with an input of %d rows', (size, input, expected) => {
    expect(layoutOf(size, input)).toEqual(expected);
  });

  it('layout - the frame is one row shorter than the terminal, and the parts add up to it', () => {
    for (const rows of [20, 24, 40]) {
      const l = layoutOf({ columns: 120, rows }, 4);
      expect(l.height).toBe(rows - 1);
      expect(1 + l.main + 4 + 1).toBe(l.height);
      expect(l.contacts + l.chat).toBe(l.width);
    }
  });
});
