import { describe, expect, it } from 'vitest';
import { hotkeyOf, readKey, readKeys } from '../../../src/ui/tui/keys.js';

describe('keys', () => {
  it.each([
    ['\r', { kind: 'enter' }],
    ['\n', { kind: 'newline' }],
    ['\x1b\r', { kind: 'newline' }],
    ['\t', { kind: 'tab' }],
    ['\x7f', { kind: 'backspace' }],
    ['\x1b[3~', { kind: 'delete' }],
    ['\x1b', { kind: 'escape' }],
    ['\x1b[A', { kind: 'nav', name: 'up', mod: false }],
    ['\x1b[1;3B', { kind: 'nav', name: 'down', mod: true }],
    ['\x1b\x1b[A', { kind: 'nav', name: 'up', mod: true }],
    ['\x1b[5~', { kind: 'nav', name: 'pageUp', mod: false }],
    ['\x1b[6~', { kind: 'nav', name: 'pageDown', mod: false }],
    ['\x1a', { kind: 'ctrl', letter: 'z' }],
    ['\x03', { kind: 'ctrl', letter: 'c' }],
    ['\x1bn', { kind: 'alt', letter: 'n' }],
    ['\x1bт', { kind: 'alt', letter: 'n' }],
    ['\x1bЙ', { kind: 'alt', letter: 'q' }],
    ['\x1b[<64;10;5M', { kind: 'wheel', direction: 'up' }],
    ['[<65;10;5M', { kind: 'wheel', direction: 'down' }],
    ['\x1b[<0;10;5M', { kind: 'ignored' }],
    ['\x1b[200~', { kind: 'ignored' }],
    ['hello', { kind: 'text', text: 'hello' }],
    ['привет', { kind: 'text', text: 'привет' }],
    ['one\rtwo\r\nthree', { kind: 'text', text: 'one\ntwo\nthree' }],
    ['a\tb', { kind: 'text', text: 'a    b' }],
  ])('keys - reads %j', (raw, key) => {
    expect(readKey(raw)).toEqual(key);
  });

  it('keys - a held Backspace in one chunk is as many Backspaces', () => {
    expect(readKeys('\x7f\x7f\x7f')).toEqual([{ kind: 'backspace' }, { kind: 'backspace' }, { kind: 'backspace' }]);
    expect(readKeys('ab')).toEqual([{ kind: 'text', text: 'ab' }]);
  });

  it('keys - a line and its Enter read in one chunk (as wine\'s console hands them over) are the text, then Enter', () => {
    expect(readKeys('привет с экрана\r')).toEqual([{ kind: 'text', text: 'привет с экрана' }, { kind: 'enter' }]);
    expect(readKeys('a\r')).toEqual([{ kind: 'text', text: 'a' }, { kind: 'enter' }]);
    expect(readKeys('\r')).toEqual([{ kind: 'enter' }]);
    // A line break inside: a paste, not sent.
    expect(readKeys('one\rtwo\r')).toEqual([{ kind: 'text', text: 'one\ntwo\n' }]);
    expect(readKeys('one\ntwo')).toEqual([{ kind: 'text', text: 'one\ntwo' }]);
    expect(readKeys('\r\r')).toEqual([{ kind: 'text', text: '\n\n' }]);
  });

  it('keys - a letter on the Russian layout is the Latin letter on the same key', () => {
    const pairs: Array<[string, string]> = [['й', 'q'], ['ц', 'w'], ['у', 'e'], ['ф', 'a'], ['ы', 's'], ['я', 'z'], ['ч', 'x'], ['н', 'y'], ['т', 'n'], ['з', 'p'], ['щ', 'o'], ['л', 'k'], ['о', 'j'], ['д', 'l'], ['ь', 'm'], ['а', 'f'], ['ш', 'i'], ['к', 'r'], ['в', 'd']];
    for (const [ru, en] of pairs) {
      expect(hotkeyOf(ru)).toBe(en);
      expect(hotkeyOf(ru.toUpperCase())).toBe(en);
    }
    expect(hotkeyOf('Q')).toBe('q');
  });
});
