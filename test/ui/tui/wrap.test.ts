import { describe, expect, it } from 'vitest';
import { fit, textWidth, wrap } from '../../../src/ui/tui/wrap.js';

describe('wrap', () => {
  it.each([
    ['the quick brown fox', 10, ['the quick', 'brown fox']],
    ['abcdefghij', 4, ['abcd', 'efgh', 'ij']],
    ['one\ntwo', 10, ['one', 'two']],
    ['', 5, ['']],
    ['a  b', 10, ['a  b']],
    ['日本語のテキスト', 6, ['日本語', 'のテキ', 'スト']],
  ])('wrap - %j in %d cells', (text, width, rows) => {
    expect(wrap(text, width)).toEqual(rows);
  });

  it('wrap - no row is wider than asked', () => {
    const text = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor 😀😀😀 incididunt';
    for (const w of [1, 3, 7, 20]) for (const row of wrap(text, w)) expect(textWidth(row)).toBeLessThanOrEqual(Math.max(w, 2));
  });

  it('wrap - fit cuts with an ellipsis', () => {
    expect(fit('report-2026.pdf', 9)).toBe('report-2…');
    expect(fit('short', 9)).toBe('short');
    expect(textWidth('😀a')).toBe(3);
  });
});
